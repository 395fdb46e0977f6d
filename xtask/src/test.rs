//! `cargo xtask test`: every test layer, one tally.
//!
//! ```text
//! ==> host tools            deps::ensure
//! ==> host tests            cargo test (the default members: host crates)
//! ==> docs/syscalls.md up to date   `cargo xtask syscalls --check`
//! ==> kernel build          build::kernel
//! ==> ktest boot (smp N)    ktest=all, N = 1, 2, 4 (--quick: 1, 2)
//! ==> user tests (smp 2)    /init runs user/tests from the initramfs
//!                           (skipped until the kernel has user space)
//! ==> shell tests (smp 2)   /shtest/run: one pass per user/shell case
//! ==> crate tests (smp 2)   /crates/run: the published test suites of the
//!                           crates in user/crates/, one pass per crate whose
//!                           Linux-passing tests all pass (pending.txt aside)
//! ==> interactive console   `/init`'s shell through a host pty: one pass
//!                           per check of xtask/scripts/interactive.py
//! ==> syscall fuzz (20 s, seed 1)  /sbin/fuzz, 3 workers, smp 2: no panic,
//!                           hang or leak (fuzz::KNOWN_FAILURES: pending)
//! ==> panic self-test       ktest=panic_selftest must panic and exit 35
//! ==> unsafe report         unsafe only in the platform crates
//! ==> benchmarks (--quick)  `bench --quick` on Ferrite and Linux: one pass
//!                           per row with a figure on both, never a threshold
//! N passed, M failed        always the last line of stdout
//! ```
//!
//! A step that cannot run counts one failure and the steps that need it are
//! skipped, so the final line is always printed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::ktest::{self, Event, Tally};
use crate::qemu::{self, Control, Exit, Outcome};
use crate::symbols::Symbols;
use crate::util::{self, Args, Result};
use crate::{bench, build, crates, deps, fuzz, shtest, syscalls, unsafe_report, utest};

/// Serial lines shown when a boot goes wrong.
const TAIL_LINES: usize = 30;

struct Options {
    quick: bool,
    /// The `ktest=` value.
    pattern: String,
    timeout: Duration,
}

/// Passed and failed counts, and a one-line note per failure for the summary.
#[derive(Default)]
struct Totals {
    passed: u32,
    failures: Vec<String>,
}

impl Totals {
    fn fail(&mut self, why: String) {
        println!("FAILED: {why}");
        self.failures.push(why);
    }
}

/// `cargo xtask test [--quick] [--filter PATTERN] [--timeout SECS]`.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let quick = args.flag("--quick");
    let pattern = args.value("--filter")?.unwrap_or_else(|| "all".into());
    let timeout = match args.value("--timeout")? {
        Some(s) => Duration::from_secs(util::parse_num(&s, "--timeout")?),
        None => Duration::from_secs(180),
    };
    args.finish()?;
    let opts = Options {
        quick,
        pattern,
        timeout,
    };

    let started = Instant::now();
    let mut totals = Totals::default();
    run_all(&opts, &mut totals);

    println!();
    if !totals.failures.is_empty() {
        println!("failures:");
        for f in &totals.failures {
            println!("    {f}");
        }
    }
    println!("(test run took {:.0?})", started.elapsed());
    println!("{} passed, {} failed", totals.passed, totals.failures.len());
    Ok(if totals.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_all(opts: &Options, totals: &mut Totals) {
    util::header("host tools");
    let tools_ok = match deps::ensure() {
        Ok(()) => true,
        Err(e) => {
            totals.fail(format!("host tools: {e}"));
            false
        }
    };

    util::header("host tests");
    host_tests(totals);

    util::header("docs/syscalls.md up to date");
    match syscalls::check() {
        Ok(true) => totals.passed += 1,
        Ok(false) => {
            totals.fail("docs/syscalls.md is out of date: run `cargo xtask syscalls`".into())
        }
        Err(e) => totals.fail(format!("docs/syscalls.md check: {e}")),
    }

    util::header("kernel build");
    let image = match build::kernel(build::Profile::Kernel) {
        Ok(image) => image,
        Err(e) => {
            totals.fail(format!("kernel build: {e}"));
            return unsafe_step(totals);
        }
    };
    if tools_ok {
        let mut symbols = LazySymbols::new(&image);
        let smps: &[u32] = if opts.quick { &[1, 2] } else { &[1, 2, 4] };
        for &smp in smps {
            util::header(&format!("ktest boot (smp {smp})"));
            ktest_boot(opts, &image, smp, &mut symbols, totals);
        }
        util::header(&format!("user tests (smp {})", utest::SMP));
        let user = utest::boot(utest::Guest::Ferrite, &image, opts.timeout, &[]);
        totals.passed += user.passed;
        for f in user.failures {
            totals.failures.push(f); // already printed as FAILED
        }
        util::header(&format!("shell tests (smp {})", shtest::SMP));
        let shell = shtest::boot(utest::Guest::Ferrite, &image, opts.timeout, &[]);
        totals.passed += shell.passed;
        for f in shell.failures {
            totals.failures.push(f); // already printed as FAILED
        }
        util::header(&format!("crate tests (smp {})", crates::SMP));
        let krates = crates::boot(utest::Guest::Ferrite, &image, crates::STEP_TIMEOUT, &[], false);
        totals.passed += krates.passed;
        for p in &krates.pending {
            println!("pending, not counted: {p}");
        }
        for f in krates.failures {
            totals.failures.push(f); // already printed as FAILED
        }
        util::header("interactive console");
        let (passed, failures) = crate::interactive::run(&image);
        totals.passed += passed;
        for f in failures {
            totals.fail(f);
        }
        fuzz_step(&image, totals);
        for (mode, mark) in SELFTESTS {
            util::header(&format!("{mode} (expected kernel panic)"));
            panic_selftest(opts, &image, &mut symbols, totals, mode, mark);
        }
    } else {
        println!("(boots skipped: host tools missing)");
    }
    unsafe_step(totals);
    if tools_ok {
        bench_step(&image, totals);
    }
}

/// `cargo xtask bench --quick`, last: one pass per benchmark row with a
/// valid figure on both Ferrite and Linux, one failure per other row.
fn bench_step(image: &Path, totals: &mut Totals) {
    util::header("benchmarks (--quick, Ferrite and Linux)");
    let (passed, failures) = bench::quick_for_test(image);
    totals.passed += passed;
    for f in failures {
        totals.fail(f);
    }
}

/// One counted step: the short fixed-seed fuzz run. A failure that
/// `fuzz::KNOWN_FAILURES` names is shown as pending and not counted.
fn fuzz_step(image: &Path, totals: &mut Totals) {
    let o = fuzz::test_options();
    util::header(&format!("syscall fuzz ({} s, seed {})", o.seconds, o.seed));
    match fuzz::test_step(image) {
        fuzz::StepResult::Passed => totals.passed += 1,
        fuzz::StepResult::Failed(why) => totals.fail(why),
        fuzz::StepResult::Pending(why) => println!("pending, not counted: {why}"),
    }
}

fn unsafe_step(totals: &mut Totals) {
    util::header("unsafe report");
    match unsafe_report::report(&util::root()) {
        Ok(report) => {
            print!("{}", report.table());
            for v in report.violations() {
                totals.fail(format!("unsafe report: {v}"));
            }
        }
        Err(e) => totals.fail(format!("unsafe report: {e}")),
    }
}

// ---- host tests ----------------------------------------------------------

/// Runs `cargo test` on the default members (the host-testable crates),
/// echoing its output and adding up its `test result:` lines.
fn host_tests(totals: &mut Totals) {
    let child = util::cargo()
        .args(["test", "--no-fail-fast"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return totals.fail(format!("host tests: cannot run cargo: {e}")),
    };
    let (mut passed, mut failed) = (0, 0);
    let mut names = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            println!("{line}");
            if let Some((p, f)) = parse_test_result(&line) {
                passed += p;
                failed += f;
            }
            if let Some(name) = line
                .strip_prefix("test ")
                .and_then(|l| l.strip_suffix(" ... FAILED"))
            {
                names.push(name.to_string());
            }
        }
    }
    let status = child.wait();
    totals.passed += passed;
    for i in 0..failed as usize {
        match names.get(i) {
            Some(name) => totals.fail(format!("host test {name}")),
            None => totals.fail("host test (name not seen; see `cargo test` output above)".into()),
        }
    }
    match status {
        Ok(s) if s.success() => {}
        Ok(s) if failed == 0 => totals.fail(format!(
            "host tests: `cargo test` failed ({s}) without a failing test: build error?"
        )),
        Ok(_) => {}
        Err(e) => totals.fail(format!("host tests: {e}")),
    }
}

/// `test result: ok. 3 passed; 1 failed; 0 ignored; ...` → (3, 1).
fn parse_test_result(line: &str) -> Option<(u32, u32)> {
    let rest = &line[line.find("test result: ")? + "test result: ".len()..];
    let (_verdict, counts) = rest.split_once(". ")?;
    let mut passed = None;
    let mut failed = None;
    for part in counts.split(';') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else {
            continue;
        };
        match what {
            "passed" => passed = n.parse().ok(),
            "failed" => failed = n.parse().ok(),
            _ => {}
        }
    }
    Some((passed?, failed?))
}

// ---- boots ---------------------------------------------------------------

/// Symbols are read on the first backtrace line only.
struct LazySymbols<'a> {
    image: &'a Path,
    loaded: Option<std::result::Result<Symbols, String>>,
}

impl<'a> LazySymbols<'a> {
    fn new(image: &'a Path) -> Self {
        Self {
            image,
            loaded: None,
        }
    }

    fn print(&mut self, addrs: &[u64]) {
        let image = self.image;
        let loaded = self
            .loaded
            .get_or_insert_with(|| Symbols::load(image).map_err(|e| e.to_string()));
        match loaded {
            Ok(syms) => addrs.iter().for_each(|&a| println!("{}", syms.describe(a))),
            Err(e) => println!("    (cannot symbolise: {e})"),
        }
    }
}

/// Boots once with serial lines echoed as `[tag] line` and backtraces
/// symbolised; the tally sees every line.
fn boot(
    cfg: &qemu::Config,
    tag: &str,
    timeout: Duration,
    symbols: &mut LazySymbols<'_>,
    tally: &mut Tally,
) -> Result<Outcome> {
    println!(
        "[{tag}] qemu -smp {} -m {} -append '{}'",
        cfg.smp, cfg.mem, cfg.append
    );
    qemu::run_captured(cfg, timeout, |line| {
        println!("[{tag}] {line}");
        let event = ktest::parse(line);
        if let Event::Backtrace(addrs) = &event {
            symbols.print(addrs);
        }
        tally.note(&event);
        Control::Continue
    })
}

fn ktest_boot(
    opts: &Options,
    image: &Path,
    smp: u32,
    symbols: &mut LazySymbols<'_>,
    totals: &mut Totals,
) {
    let mut cfg = qemu::Config::new(image.to_path_buf());
    cfg.smp = smp;
    cfg.mem = "512M".into();
    cfg.append = format!("ktest={} watchdog=panic", opts.pattern);
    let tag = format!("smp{smp}");
    let mut tally = Tally::default();
    let outcome = match boot(&cfg, &tag, opts.timeout, symbols, &mut tally) {
        Ok(o) => o,
        Err(e) => return totals.fail(format!("ktest boot (smp {smp}): {e}")),
    };

    totals.passed += tally.passed;
    for (name, message) in &tally.failed {
        totals.fail(format!("ktest {name} (smp {smp}): {message}"));
    }
    for note in tally.inconsistencies() {
        println!("warning: smp {smp}: {note}");
    }
    // The kernel's own count wins if it saw more failures than we did
    // (a garbled verdict line must not hide a failure).
    if let Some((_, reported)) = tally.result {
        for _ in tally.failed.len() as u32..reported {
            totals.fail(format!(
                "ktest (smp {smp}): failure reported by the kernel without a readable FAILED line"
            ));
        }
    }

    // Which test was running when things went wrong, if the kernel said.
    let during = match &tally.current {
        Some(name) => format!(" during ktest {name}"),
        None => String::new(),
    };
    let expected = if tally.failed.is_empty() {
        qemu::EXIT_SUCCESS
    } else {
        qemu::EXIT_FAILURE
    };
    let problem = match outcome.exit {
        Exit::TimedOut | Exit::Stopped => Some(format!(
            "ktest boot (smp {smp}) timed out after {} s{during}{}",
            opts.timeout.as_secs(),
            if tally.panicked {
                " (kernel panicked and did not exit)"
            } else {
                ""
            }
        )),
        Exit::Exited(code) => {
            let why = if tally.panicked {
                Some(format!("kernel panicked{during}"))
            } else if tally.result.is_none() {
                Some(format!(
                    "boot ended{during} without a `ktest: result:` line"
                ))
            } else if code != Some(expected) {
                Some(format!("expected QEMU exit {expected}"))
            } else {
                None
            };
            why.map(|why| {
                format!(
                    "ktest boot (smp {smp}): {why}; {}",
                    qemu::describe_exit(code)
                )
            })
        }
    };
    match problem {
        Some(p) => {
            print_tail(&tag, &outcome);
            totals.fail(p);
        }
        None => println!(
            "ktest boot (smp {smp}): {} passed, {} failed in {:.1?}",
            tally.passed,
            tally.failed.len(),
            outcome.elapsed
        ),
    }
}

/// Boot modes in which the kernel must die on purpose, and the text its
/// report must contain: a deliberate panic, and a kernel stack overflow
/// that must hit the guard page and be reported, not corrupt memory.
const SELFTESTS: [(&str, &str); 2] = [
    ("panic_selftest", "panic self-test requested"),
    ("stack_overflow_selftest", "kernel stack overflow"),
];

/// The kernel must panic on purpose, say so, and exit 35: a panic that hangs
/// or reports success would hide every real panic.
fn panic_selftest(
    opts: &Options,
    image: &Path,
    symbols: &mut LazySymbols<'_>,
    totals: &mut Totals,
    mode: &str,
    mark: &str,
) {
    let mut cfg = qemu::Config::new(image.to_path_buf());
    cfg.smp = 2;
    cfg.mem = "512M".into();
    cfg.append = format!("ktest={mode}");
    let mut tally = Tally::default();
    let outcome = match boot(&cfg, "panic", opts.timeout, symbols, &mut tally) {
        Ok(o) => o,
        Err(e) => return totals.fail(format!("{mode}: {e}")),
    };
    let code = outcome.code();
    let has_mark = outcome.lines.iter().any(|l| l.contains(mark));
    if code == Some(qemu::EXIT_FAILURE) && tally.panicked && has_mark {
        totals.passed += 1;
        println!("{mode}: kernel panic detected and reported (ok)");
        return;
    }
    if code == Some(qemu::EXIT_FAILURE) && tally.panicked {
        print_tail("panic", &outcome);
        return totals.fail(format!("{mode}: panicked, but the report lacks `{mark}`"));
    }
    let why = match (outcome.exit, tally.panicked) {
        (Exit::TimedOut | Exit::Stopped, true) => {
            format!(
                "kernel panicked but QEMU did not exit within {} s",
                opts.timeout.as_secs()
            )
        }
        (Exit::TimedOut | Exit::Stopped, false) => {
            format!("no panic and no exit within {} s", opts.timeout.as_secs())
        }
        (Exit::Exited(_), false) => format!(
            "no `{}` line; {}",
            ktest::PANIC_MARK,
            qemu::describe_exit(code)
        ),
        (Exit::Exited(_), true) => format!(
            "panic seen but {}; expected exit 35",
            qemu::describe_exit(code)
        ),
    };
    print_tail("panic", &outcome);
    totals.fail(format!("{mode}: {why}"));
}

fn print_tail(tag: &str, outcome: &Outcome) {
    crate::qemu::print_tail(tag, outcome, TAIL_LINES);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_test_results() {
        assert_eq!(
            parse_test_result(
                "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s"
            ),
            Some((12, 0))
        );
        assert_eq!(
            parse_test_result(
                "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out"
            ),
            Some((3, 2))
        );
        assert_eq!(parse_test_result("running 3 tests"), None);
        assert_eq!(parse_test_result("test foo ... ok"), None);
    }
}

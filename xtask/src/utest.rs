//! Guest test programs (`user/`), run by `/init` from the test initramfs.
//!
//! `/init` (user/init/init.c) prints, on the serial console:
//!
//! ```text
//! utest: running N tests
//! utest: <name> ... ok
//! utest: <name> ... FAILED: exit <status> | signal <n> | cannot run (errno N)
//! utest: result: X passed, Y failed
//! utest: <name> ... pending: <reason>; ok | FAILED: ...
//! ```
//!
//! `pending` lines come from init.c's PENDING table: tests that pass on
//! Linux but wait for a kernel feature. They are listed in the summary and
//! never counted.
//!
//! then powers off (Ferrite: QEMU exit 33; Linux: ACPI power-off, exit 0).
//! The tests' own output goes to the same console between those lines.
//!
//! Ferrite is booted only once it can run programs: the kernel prints
//! `ferrite: user space: ready` when it supports starting `/init`. A boot
//! with neither that line nor any `utest:` line is reported as skipped and
//! counts nothing, so this step stays green until user space lands.
//!
//! `cargo xtask utest [--linux | --host] [NAME...]` runs only this layer:
//! on Ferrite (default), on Debian's cloud kernel (`--linux`, downloaded
//! into `target/linux/` with `apt-get download`), or directly on this host
//! (`--host`: `target/user/rootfs/init` with `FERRITE_ROOT` set to that
//! directory, see user/tests/t.h). NAMEs select tests (passed to `/init`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use crate::ktest::{self, Event, Tally};
use crate::qemu::{self, Control, Exit, Outcome};
use crate::symbols::Symbols;
use crate::util::{self, Args, Result};
use crate::{build, deps, initramfs};

/// The kernel's line saying it can run `/init`.
pub const READY_MARK: &str = "ferrite: user space: ready";
/// The protocol marker of `/init`.
const MARK: &str = "utest: ";
/// Linux's panic line.
const LINUX_PANIC: &str = "Kernel panic - not syncing";
/// Serial lines shown when a run goes wrong.
const TAIL_LINES: usize = 30;
/// CPUs for the user-test boot.
pub const SMP: u32 = 2;

/// What one run of the user tests gave.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: u32,
    /// One line per failure, for the summary.
    pub failures: Vec<String>,
    /// The kernel cannot run programs yet: nothing was counted.
    pub skipped: bool,
    /// `<name>: <reason>; <outcome>` of every PENDING test (not counted).
    pub pending: Vec<String>,
}

/// Which kernel runs the initramfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guest {
    Ferrite,
    Linux,
}

/// `cargo xtask utest [--linux | --host] [--timeout SECS] [NAME...]`.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let linux = args.flag("--linux");
    let host = args.flag("--host");
    let timeout = match args.value("--timeout")? {
        Some(s) => Duration::from_secs(util::parse_num(&s, "--timeout")?),
        None => Duration::from_secs(180),
    };
    let mut names = Vec::new();
    while let Some(name) = args.next_positional() {
        names.push(name);
    }
    args.finish()?;
    if linux && host {
        return Err("--linux and --host exclude each other".into());
    }

    deps::ensure()?;
    let report = if host {
        util::header("user tests (host)");
        run_host(&names)?
    } else if linux {
        let kernel = linux_kernel()?;
        util::header(&format!("user tests on Linux (smp {SMP})"));
        boot(Guest::Linux, &kernel, timeout, &names)
    } else {
        util::header("kernel build");
        let image = build::kernel(build::Profile::Kernel)?;
        util::header(&format!("user tests (smp {SMP})"));
        boot(Guest::Ferrite, &image, timeout, &names)
    };
    Ok(summary(&report))
}

/// Prints the pending tests, the failures and the closing `N passed, M
/// failed` line of a guest-test command (utest, shtest, crates).
pub fn summary(report: &Report) -> ExitCode {
    println!();
    if !report.pending.is_empty() {
        println!("pending (run, not counted):");
        for p in &report.pending {
            println!("    {p}");
        }
    }
    if !report.failures.is_empty() {
        println!("failures:");
        for f in &report.failures {
            println!("    {f}");
        }
    }
    println!("{} passed, {} failed", report.passed, report.failures.len());
    if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Builds the initramfs and boots `kernel` with it once, at `-smp 2`.
/// Never fails: problems are failures in the report.
pub fn boot(guest: Guest, kernel: &Path, timeout: Duration, names: &[String]) -> Report {
    let mut report = Report::default();
    let cpio = match initramfs::build() {
        Ok(c) => c,
        Err(e) => {
            report.fail(format!("user tests: initramfs: {e}"));
            return report;
        }
    };
    let tag = match guest {
        Guest::Ferrite => "user",
        Guest::Linux => "linux",
    };
    let mut cfg = qemu::Config::new(kernel.to_path_buf());
    cfg.smp = SMP;
    cfg.mem = "1G".into();
    cfg.initrd = Some(cpio);
    let base = match guest {
        Guest::Ferrite => "rdinit=/sbin/utest watchdog=panic",
        Guest::Linux => "console=ttyS0 rdinit=/sbin/utest panic=-1",
    };
    cfg.append = if names.is_empty() {
        base.to_string()
    } else {
        // Words after `--` become /init's arguments (Linux and Ferrite).
        format!("{base} -- {}", names.join(" "))
    };
    println!(
        "[{tag}] qemu -smp {} -m {} -kernel {} -initrd {} -append '{}'",
        cfg.smp,
        cfg.mem,
        cfg.kernel.display(),
        cpio_display(&cfg),
        cfg.append
    );

    let mut run = Run::new(match guest {
        Guest::Ferrite => Kind::Ferrite,
        Guest::Linux => Kind::Linux,
    });
    let outcome = match qemu::run_captured(&cfg, timeout, |line| {
        println!("[{tag}] {line}");
        if let Some(addrs) = run.line(line) {
            symbolise(kernel, &mut run.symbols, &addrs);
        }
        Control::Continue
    }) {
        Ok(o) => o,
        Err(e) => {
            report.fail(format!("user tests ({tag}): {e}"));
            return report;
        }
    };

    if guest == Guest::Ferrite && !run.ready && !run.seen && !run.tally.panicked {
        println!("user tests: skipped (kernel has no user space yet)");
        report.skipped = true;
        return report;
    }
    run.finish(tag, &outcome, timeout, &mut report);
    report
}

fn cpio_display(cfg: &qemu::Config) -> String {
    cfg.initrd
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

impl Report {
    pub fn fail(&mut self, why: String) {
        println!("FAILED: {why}");
        self.failures.push(why);
    }
}

/// State of one run, fed line by line.
struct Run {
    kind: Kind,
    ready: bool,
    /// Any `utest:` protocol line seen.
    seen: bool,
    tally: Tally,
    /// The last test with a verdict, to say where things stopped.
    last: Option<String>,
    /// `<name>: <reason>; <outcome>` of every `pending` line.
    pending: Vec<String>,
    symbols: Option<std::result::Result<Symbols, String>>,
    /// Ferrite's `objects at power-off` census line, if it printed one.
    objects: Option<String>,
}

/// Where `/init` runs: decides the panic marker and the expected exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ferrite,
    Linux,
    /// Directly on this host: `/init` exits with its failure count.
    Host,
}

impl Run {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            ready: false,
            seen: false,
            tally: Tally::default(),
            last: None,
            pending: Vec::new(),
            symbols: None,
            objects: None,
        }
    }

    /// Notes one serial line; returns backtrace addresses to symbolise.
    fn line(&mut self, line: &str) -> Option<Vec<u64>> {
        if line.contains(READY_MARK) {
            self.ready = true;
        }
        if self.kind == Kind::Ferrite && line.contains("objects at power-off") {
            self.objects = Some(line.to_string());
        }
        if let Some(p) = pending_line(line) {
            self.seen = true;
            self.pending.push(p);
            return None;
        }
        let noted = with_event(line, |event| {
            if let Event::Passed(name) | Event::Failed { name, .. } = event {
                self.last = Some(name.to_string());
            }
            self.tally.note(event);
        });
        if noted.is_some() {
            self.seen = true;
            return None;
        }
        match self.kind {
            Kind::Ferrite => {}
            Kind::Linux => {
                self.tally.panicked |= line.contains(LINUX_PANIC);
                return None;
            }
            Kind::Host => return None,
        }
        match ktest::parse(line) {
            Event::Panic => {
                self.tally.panicked = true;
                None
            }
            Event::Backtrace(addrs) => Some(addrs),
            _ => None,
        }
    }

    /// Turns the tally and QEMU's exit into passes and failures.
    fn finish(&self, tag: &str, outcome: &Outcome, timeout: Duration, report: &mut Report) {
        let t = &self.tally;
        report.passed += t.passed;
        for p in &self.pending {
            println!("user tests ({tag}): pending, not counted: {p}");
            report.pending.push(format!("{p} ({tag})"));
        }
        for (name, message) in &t.failed {
            report.fail(format!("utest {name} ({tag}): {message}"));
        }
        for note in t.inconsistencies() {
            println!("warning: user tests ({tag}): {note}");
        }
        if let Some((_, reported)) = t.result {
            for _ in t.failed.len() as u32..reported {
                report.fail(format!(
                    "user tests ({tag}): failure reported by /init without a readable FAILED line"
                ));
            }
        }
        let place = match &self.last {
            Some(name) => format!(" after utest {name}"),
            None if self.seen => " before the first test verdict".to_string(),
            None => " before /init printed anything".to_string(),
        };
        let code = outcome.code();
        // QEMU: 33 (Ferrite's debug-exit) or 0 (ACPI power-off). Host:
        // /init's exit status is its failure count.
        let (exit_ok, exit_text) = match self.kind {
            Kind::Ferrite | Kind::Linux => (
                code.is_some_and(qemu::is_success),
                qemu::describe_exit(code),
            ),
            Kind::Host => (
                code == t.result.map(|(_, f)| f.min(125) as i32),
                format!("/init exited with {code:?}"),
            ),
        };
        let what = match self.kind {
            Kind::Host => "expected /init to exit with its failure count",
            _ => "expected QEMU exit 33 or 0 after power-off",
        };
        let problem = match outcome.exit {
            Exit::TimedOut | Exit::Stopped => Some(format!(
                "timed out after {} s{place}{}",
                timeout.as_secs(),
                if t.panicked { " (kernel panicked)" } else { "" }
            )),
            Exit::Exited(_) if t.panicked => Some(format!("kernel panicked{place}")),
            Exit::Exited(_) if t.result.is_none() => Some(format!(
                "run ended{place} without a `utest: result:` line; {exit_text}"
            )),
            Exit::Exited(_) if exit_ok => None,
            Exit::Exited(_) => Some(format!("{what}; {exit_text}")),
        };
        match problem {
            Some(p) => {
                print_tail(tag, outcome);
                report.fail(format!("user tests ({tag}): {p}"));
            }
            None => println!(
                "user tests ({tag}): {} passed, {} failed in {:.1?}",
                t.passed,
                t.failed.len(),
                outcome.elapsed
            ),
        }
        // After the last test only /init may be left: whatever the tests
        // created (processes, threads) must be gone.
        if let Some(line) = &self.objects {
            match crate::fuzz::objects_problem(std::slice::from_ref(line)) {
                None => {
                    println!("user tests ({tag}): kernel objects back to /init alone");
                    report.passed += 1;
                }
                Some(p) => report.fail(format!("user tests ({tag}): {p}")),
            }
        }
    }
}

/// `utest: <name> ... pending: <rest>` → `<name>: <rest>`.
pub fn pending_line(line: &str) -> Option<String> {
    let i = line.find(MARK)?;
    let (name, verdict) = line[i + MARK.len()..].trim_end().split_once(" ... ")?;
    let rest = verdict.strip_prefix("pending:")?;
    Some(format!("{name}: {}", rest.trim()))
}

/// Calls `f` with the event of a `utest:` protocol line (same grammar as
/// ktest's, other marker); `None` for any other line.
fn with_event<R>(line: &str, f: impl FnOnce(&Event<'_>) -> R) -> Option<R> {
    let i = line.find(MARK)?;
    let rewritten = format!("ktest: {}", &line[i + MARK.len()..]);
    match ktest::parse(&rewritten) {
        Event::Other | Event::Panic | Event::Backtrace(_) => None,
        event => Some(f(&event)),
    }
}

fn symbolise(
    image: &Path,
    cache: &mut Option<std::result::Result<Symbols, String>>,
    addrs: &[u64],
) {
    let loaded = cache.get_or_insert_with(|| Symbols::load(image).map_err(|e| e.to_string()));
    match loaded {
        Ok(syms) => addrs.iter().for_each(|&a| println!("{}", syms.describe(a))),
        Err(e) => println!("    (cannot symbolise: {e})"),
    }
}

fn print_tail(tag: &str, outcome: &Outcome) {
    crate::qemu::print_tail(tag, outcome, TAIL_LINES);
}

// ---- on this host ----------------------------------------------------------

/// Runs `target/user/rootfs/init` here with `FERRITE_ROOT` pointing at the
/// staging tree; its exit status is the number of failures.
fn run_host(names: &[String]) -> Result<Report> {
    initramfs::build()?;
    let rootfs = initramfs::rootfs_dir();
    let started = std::time::Instant::now();
    let output = Command::new("sh")
        // One stream, in order, as on a console.
        .args(["-c", "exec \"$0\" \"$@\" 2>&1"])
        .arg(rootfs.join("sbin").join("utest"))
        .args(names)
        .env_clear()
        .env("FERRITE_ROOT", &rootfs)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run /init on the host: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut run = Run::new(Kind::Host);
    let mut lines = Vec::new();
    for line in text.lines() {
        println!("[host] {line}");
        run.line(line);
        lines.push(line.to_string());
    }
    let mut report = Report::default();
    let outcome = Outcome {
        exit: Exit::Exited(output.status.code()),
        lines,
        stderr: Vec::new(),
        elapsed: started.elapsed(),
    };
    run.finish("host", &outcome, Duration::ZERO, &mut report);
    Ok(report)
}

// ---- Debian's kernel -------------------------------------------------------

/// `target/linux/boot/vmlinuz-*`, downloading and unpacking Debian's cloud
/// kernel package the first time.
pub fn linux_kernel() -> Result<PathBuf> {
    let dir = util::root().join("target").join("linux");
    if let Some(k) = find_vmlinuz(&dir) {
        return Ok(k);
    }
    util::header("Debian cloud kernel");
    // linux-image-cloud-amd64 is a metapackage; the image is its dependency.
    let out = Command::new("apt-cache")
        .args(["depends", "linux-image-cloud-amd64"])
        .output()
        .map_err(|e| format!("cannot run apt-cache: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let package = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-") && p.ends_with("-cloud-amd64"))
        .ok_or("`apt-cache depends linux-image-cloud-amd64` names no linux-image package (run `apt-get update`?)")?
        .to_string();
    let dl = dir.join("deb");
    fs::create_dir_all(&dl)?;
    println!("linux: apt-get download {package}");
    let status = Command::new("apt-get")
        .args(["download", &package])
        .current_dir(&dl)
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if !status.success() {
        return Err(format!("apt-get download {package} failed ({status})").into());
    }
    let deb = fs::read_dir(&dl)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{package}_")) && n.ends_with(".deb"))
        })
        .ok_or_else(|| format!("no {package}_*.deb in {}", dl.display()))?;
    println!("linux: dpkg-deb -x {} {}", deb.display(), dir.display());
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&dir)
        .status()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    if !status.success() {
        return Err(format!("dpkg-deb -x failed ({status})").into());
    }
    find_vmlinuz(&dir).ok_or_else(|| format!("no boot/vmlinuz-* in {}", dir.display()).into())
}

fn find_vmlinuz(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir.join("boot"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .collect();
    found.sort();
    found.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(run: &mut Run, lines: &[&str]) {
        for l in lines {
            run.line(l);
        }
    }

    fn exited(code: i32, lines: &[&str]) -> Outcome {
        Outcome {
            exit: Exit::Exited(Some(code)),
            lines: lines.iter().map(|s| s.to_string()).collect(),
            stderr: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    fn parse(line: &str) -> Option<String> {
        with_event(line, |e| format!("{e:?}"))
    }

    #[test]
    fn parses_utest_lines() {
        let show = |e: Event<'_>| Some(format!("{e:?}"));
        assert_eq!(parse("utest: hello ... ok"), show(Event::Passed("hello")));
        assert_eq!(
            parse("[ 1.0 0] utest: brk ... FAILED: exit 1"),
            show(Event::Failed {
                name: "brk",
                message: "exit 1"
            })
        );
        assert_eq!(
            parse("utest: result: 3 passed, 1 failed"),
            show(Event::Result {
                passed: 3,
                failed: 1
            })
        );
        assert_eq!(parse("utest: running 14 tests"), show(Event::Running(14)));
        assert_eq!(parse("hello: hello from user space"), None);
        assert_eq!(parse("ktest: a ... ok"), None);
        assert_eq!(parse("utest: KERNEL PANIC"), None);
    }

    const GOOD: &[&str] = &[
        "ferrite: user space: ready",
        "utest: running 2 tests",
        "hello: hello from user space",
        "utest: hello ... ok",
        "utest: mmap ... FAILED: signal 11",
        "utest: result: 1 passed, 1 failed",
    ];

    #[test]
    fn counts_a_complete_run() {
        let mut run = Run::new(Kind::Ferrite);
        feed(&mut run, GOOD);
        assert!(run.ready && run.seen);
        let mut report = Report::default();
        run.finish("t", &exited(33, GOOD), Duration::ZERO, &mut report);
        assert_eq!(report.passed, 1);
        assert_eq!(report.failures.len(), 1);
        assert!(report.failures[0].contains("mmap"));
    }

    #[test]
    fn leftover_objects_at_power_off_fail_and_a_clean_census_passes() {
        let mut lines = GOOD.to_vec();
        lines.push("ferrite: objects at power-off: tasks 5, processes 2, threads 3, files 0, heap bytes 1");
        let mut run = Run::new(Kind::Ferrite);
        feed(&mut run, &lines);
        let mut report = Report::default();
        run.finish("t", &exited(33, &lines), Duration::ZERO, &mut report);
        assert_eq!(report.passed, 1);
        assert!(report.failures.iter().any(|f| f.contains("object leak")), "{:?}", report.failures);

        lines.pop();
        lines.push("ferrite: objects at power-off: tasks 3, processes 1, threads 1, files 0, heap bytes 1");
        let mut run = Run::new(Kind::Ferrite);
        feed(&mut run, &lines);
        let mut report = Report::default();
        run.finish("t", &exited(33, &lines), Duration::ZERO, &mut report);
        assert_eq!(report.passed, 2);
        assert_eq!(report.failures.len(), 1); // the mmap failure of GOOD
    }

    #[test]
    fn missing_result_or_bad_exit_is_one_failure() {
        let lines = &GOOD[..4];
        let mut run = Run::new(Kind::Ferrite);
        feed(&mut run, lines);
        let mut report = Report::default();
        run.finish("t", &exited(33, lines), Duration::ZERO, &mut report);
        assert_eq!((report.passed, report.failures.len()), (1, 1));
        assert!(report.failures[0].contains("after utest hello"));

        let mut run = Run::new(Kind::Ferrite);
        feed(&mut run, GOOD);
        let mut report = Report::default();
        run.finish("t", &exited(35, GOOD), Duration::ZERO, &mut report);
        assert_eq!(report.failures.len(), 2);
    }

    #[test]
    fn pending_lines_are_listed_not_counted() {
        let lines = &[
            "utest: running 1 tests",
            "utest: hello ... ok",
            "utest: result: 1 passed, 0 failed",
            "utest: rstd-x ... pending: needs futex; FAILED: exit 1",
            "utest: rstd-y ... pending: needs clone; ok",
            "utest: rstd-z ... pending: needs execve; FAILED: cannot run (errno 2)",
        ];
        assert_eq!(parse(lines[3]), None);
        let mut run = Run::new(Kind::Ferrite);
        feed(&mut run, lines);
        let mut report = Report::default();
        run.finish("t", &exited(33, lines), Duration::ZERO, &mut report);
        assert_eq!((report.passed, report.failures.len()), (1, 0));
        assert_eq!(run.last.as_deref(), Some("hello"));
        assert_eq!(
            report.pending,
            [
                "rstd-x: needs futex; FAILED: exit 1 (t)",
                "rstd-y: needs clone; ok (t)",
                "rstd-z: needs execve; FAILED: cannot run (errno 2) (t)",
            ]
        );
    }

    #[test]
    fn panic_is_a_failure() {
        let lines = &["ferrite: user space: ready", "KERNEL PANIC on cpu 0: x"];
        let mut run = Run::new(Kind::Ferrite);
        feed(&mut run, lines);
        let mut report = Report::default();
        run.finish("t", &exited(35, lines), Duration::ZERO, &mut report);
        assert_eq!(report.failures.len(), 1);
        assert!(report.failures[0].contains("panicked"));

        let mut run = Run::new(Kind::Linux);
        feed(
            &mut run,
            &["[ 2.0] Kernel panic - not syncing: Attempted to kill init!"],
        );
        assert!(run.tally.panicked);
    }
}

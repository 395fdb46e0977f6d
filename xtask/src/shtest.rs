//! The shell test suite (`user/shell/`, `cargo xtask shtest`).
//!
//! ```text
//! user/shell/run            ──► /shtest/run   (busybox sh, booted as rdinit)
//! user/shell/cases/NAME.sh  ──► /shtest/cases/NAME.sh   one area per case
//! user/shell/cases/NAME.out ──► /shtest/cases/NAME.out  expected output,
//!                                  generated on Debian's Linux (--regen)
//! user/shell/pending.txt    ──► /shtest/pending.txt     `NAME: reason`
//! ```
//!
//! `/shtest/run` runs every case with stdout and stderr captured, compares
//! the capture with the `.out` file line by line (`diff -u`) and prints the
//! utest protocol (see [`crate::utest`]) with `sh-` before each case name:
//!
//! ```text
//! utest: running N tests
//! utest: sh-NAME ... ok | FAILED: <first differing lines>
//! utest: sh-NAME ... pending: <reason>; ok | FAILED: ...   (not counted)
//! utest: result: X passed, Y failed
//! ```
//!
//! then powers off with `poweroff -f`. With `regen` (a word after `--` on
//! the kernel command line) it prints each case's output instead, as
//! `shtest-out NAME|LINE` lines ended by `shtest-end NAME`, and
//! `cargo xtask shtest --regen` writes them to `user/shell/cases/NAME.out`.
//! The expected output is always Linux's: regenerating always boots Linux.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::ktest::{self, Event, Tally};
use crate::qemu::{self, Control, Exit, Outcome};
use crate::utest::{self, Guest, Report};
use crate::util::{self, Args, Result};
use crate::{build, deps, initramfs};

/// CPUs of the shell-test boot.
pub const SMP: u32 = 2;
/// The runner inside the initramfs.
const RUNNER: &str = "/shtest/run";
/// The protocol marker (shared with `/sbin/utest`).
const MARK: &str = "utest: ";
/// A line of a case's output in `regen` mode: `shtest-out NAME|LINE`.
const OUT_MARK: &str = "shtest-out ";
/// The end of a case's output in `regen` mode: `shtest-end NAME`.
const END_MARK: &str = "shtest-end ";
/// Linux's panic line.
const LINUX_PANIC: &str = "Kernel panic - not syncing";
/// Serial lines shown when a run goes wrong.
const TAIL_LINES: usize = 40;

/// `user/shell`.
pub fn shell_dir() -> PathBuf {
    util::root().join("user").join("shell")
}

/// `cargo xtask shtest [--linux] [--regen] [--timeout SECS] [NAME...]`.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let linux = args.flag("--linux");
    let regen = args.flag("--regen");
    let timeout = match args.value("--timeout")? {
        Some(s) => Duration::from_secs(util::parse_num(&s, "--timeout")?),
        None => Duration::from_secs(300),
    };
    let mut names = Vec::new();
    while let Some(name) = args.next_positional() {
        names.push(name);
    }
    args.finish()?;

    deps::ensure()?;
    if regen {
        let kernel = utest::linux_kernel()?;
        util::header(&format!(
            "shell tests: regenerate expected output on Linux (smp {SMP})"
        ));
        regenerate(&kernel, timeout, &names)?;
        // Check the new files on Linux right away: a case whose output is
        // not deterministic fails here.
        util::header(&format!("shell tests on Linux (smp {SMP})"));
        let report = boot(Guest::Linux, &kernel, timeout, &names);
        return Ok(utest::summary(&report));
    }
    let report = if linux {
        let kernel = utest::linux_kernel()?;
        util::header(&format!("shell tests on Linux (smp {SMP})"));
        boot(Guest::Linux, &kernel, timeout, &names)
    } else {
        util::header("kernel build");
        let image = build::kernel(build::Profile::Kernel)?;
        util::header(&format!("shell tests (smp {SMP})"));
        boot(Guest::Ferrite, &image, timeout, &names)
    };
    Ok(utest::summary(&report))
}

/// The QEMU configuration of one run: `rdinit=/shtest/run [-- ARGS]`.
fn config(guest: Guest, kernel: &Path, cpio: PathBuf, args: &[String]) -> qemu::Config {
    let mut cfg = qemu::Config::new(kernel.to_path_buf());
    cfg.smp = SMP;
    cfg.mem = "1G".into();
    cfg.initrd = Some(cpio);
    let base = match guest {
        Guest::Ferrite => format!("rdinit={RUNNER} watchdog=panic"),
        // quiet: kernel messages must not split the runner's lines.
        Guest::Linux => format!("console=ttyS0 rdinit={RUNNER} panic=-1 quiet loglevel=1"),
    };
    cfg.append = if args.is_empty() {
        base
    } else {
        format!("{base} -- {}", args.join(" "))
    };
    cfg
}

fn tag(guest: Guest) -> &'static str {
    match guest {
        Guest::Ferrite => "sh",
        Guest::Linux => "sh-linux",
    }
}

/// Builds the initramfs and runs the suite (or the `names` cases) once.
/// Never fails: problems are failures in the report.
pub fn boot(guest: Guest, kernel: &Path, timeout: Duration, names: &[String]) -> Report {
    let mut report = Report::default();
    let tag = tag(guest);
    let cpio = match initramfs::build() {
        Ok(c) => c,
        Err(e) => {
            report.fail(format!("shell tests: initramfs: {e}"));
            return report;
        }
    };
    let cfg = config(guest, kernel, cpio, names);
    println!(
        "[{tag}] qemu -smp {} -m {} -kernel {} -append '{}'",
        cfg.smp,
        cfg.mem,
        cfg.kernel.display(),
        cfg.append
    );
    let mut run = Run::new(guest);
    let outcome = match qemu::run_captured(&cfg, timeout, |line| {
        println!("[{tag}] {line}");
        run.line(line);
        Control::Continue
    }) {
        Ok(o) => o,
        Err(e) => {
            report.fail(format!("shell tests ({tag}): {e}"));
            return report;
        }
    };
    if guest == Guest::Ferrite && !run.ready && !run.seen && !run.tally.panicked {
        println!("shell tests: skipped (kernel has no user space yet)");
        report.skipped = true;
        return report;
    }
    run.finish(tag, &outcome, timeout, &mut report);
    report
}

/// State of one run, fed line by line.
struct Run {
    guest: Guest,
    ready: bool,
    /// Any `utest:` protocol line seen.
    seen: bool,
    tally: Tally,
    last: Option<String>,
    pending: Vec<String>,
}

impl Run {
    fn new(guest: Guest) -> Self {
        Self {
            guest,
            ready: false,
            seen: false,
            tally: Tally::default(),
            last: None,
            pending: Vec::new(),
        }
    }

    fn line(&mut self, line: &str) {
        if line.contains(utest::READY_MARK) {
            self.ready = true;
        }
        if let Some(p) = pending_line(line) {
            self.seen = true;
            self.pending.push(p);
            return;
        }
        if let Some(i) = line.find(MARK) {
            let event_line = format!("ktest: {}", &line[i + MARK.len()..]);
            let event = ktest::parse(&event_line);
            if !matches!(event, Event::Other | Event::Panic | Event::Backtrace(_)) {
                if let Event::Passed(name) | Event::Failed { name, .. } = &event {
                    self.last = Some(name.to_string());
                }
                self.tally.note(&event);
                self.seen = true;
                return;
            }
        }
        match self.guest {
            Guest::Linux => self.tally.panicked |= line.contains(LINUX_PANIC),
            Guest::Ferrite => {
                if ktest::parse(line) == Event::Panic {
                    self.tally.panicked = true;
                }
            }
        }
    }

    fn finish(&self, tag: &str, outcome: &Outcome, timeout: Duration, report: &mut Report) {
        let t = &self.tally;
        report.passed += t.passed;
        for p in &self.pending {
            println!("shell tests ({tag}): pending, not counted: {p}");
            report.pending.push(format!("{p} ({tag})"));
        }
        for (name, message) in &t.failed {
            report.fail(format!("shtest {name} ({tag}): {message}"));
        }
        for note in t.inconsistencies() {
            println!("warning: shell tests ({tag}): {note}");
        }
        if let Some((_, reported)) = t.result {
            for _ in t.failed.len() as u32..reported {
                report.fail(format!("shell tests ({tag}): failure reported without a readable FAILED line"));
            }
        }
        let place = match &self.last {
            Some(name) => format!(" after {name}"),
            None if self.seen => " before the first case verdict".to_string(),
            None => format!(" before {RUNNER} printed anything"),
        };
        let code = outcome.code();
        let problem = match outcome.exit {
            Exit::TimedOut | Exit::Stopped => Some(format!(
                "timed out after {} s{place}{}",
                timeout.as_secs(),
                if t.panicked { " (kernel panicked)" } else { "" }
            )),
            Exit::Exited(_) if t.panicked => Some(format!("kernel panicked{place}")),
            Exit::Exited(_) if t.result.is_none() => Some(format!(
                "run ended{place} without a `utest: result:` line; {}",
                qemu::describe_exit(code)
            )),
            Exit::Exited(_) if code.is_some_and(qemu::is_success) => None,
            Exit::Exited(_) => Some(format!(
                "expected QEMU exit 33 or 0 after `poweroff -f`; {}",
                qemu::describe_exit(code)
            )),
        };
        match problem {
            Some(p) => {
                print_tail(tag, outcome);
                report.fail(format!("shell tests ({tag}): {p}"));
            }
            None => println!(
                "shell tests ({tag}): {} passed, {} failed in {:.1?}",
                t.passed,
                t.failed.len(),
                outcome.elapsed
            ),
        }
    }
}

use crate::utest::pending_line;

fn print_tail(tag: &str, outcome: &Outcome) {
    crate::qemu::print_tail(tag, outcome, TAIL_LINES);
}

// ---- --regen ----------------------------------------------------------------

/// The output of each case from `regen` lines; only cases with their end
/// marker are complete.
#[derive(Debug, Default)]
struct Captured {
    lines: BTreeMap<String, Vec<String>>,
    ended: Vec<String>,
}

impl Captured {
    fn line(&mut self, line: &str) {
        if let Some(i) = line.find(OUT_MARK) {
            if let Some((name, text)) = line[i + OUT_MARK.len()..].split_once('|') {
                self.lines
                    .entry(name.to_string())
                    .or_default()
                    .push(text.to_string());
            }
        } else if let Some(i) = line.find(END_MARK) {
            let name = line[i + END_MARK.len()..].trim();
            self.lines.entry(name.to_string()).or_default();
            self.ended.push(name.to_string());
        }
    }
}

/// Boots Linux with `regen` and writes `user/shell/cases/NAME.out` for
/// every case that finished.
fn regenerate(kernel: &Path, timeout: Duration, names: &[String]) -> Result {
    let cpio = initramfs::build()?;
    let mut args = vec!["regen".to_string()];
    args.extend(names.iter().cloned());
    let cfg = config(Guest::Linux, kernel, cpio, &args);
    let tag = tag(Guest::Linux);
    println!("[{tag}] qemu -append '{}'", cfg.append);
    let mut captured = Captured::default();
    let outcome = qemu::run_captured(&cfg, timeout, |line| {
        println!("[{tag}] {line}");
        captured.line(line);
        Control::Continue
    })?;
    if matches!(outcome.exit, Exit::TimedOut | Exit::Stopped) {
        print_tail(tag, &outcome);
        return Err(format!("regen run timed out after {} s", timeout.as_secs()).into());
    }
    if captured.ended.is_empty() {
        print_tail(tag, &outcome);
        return Err("regen run printed no case output".into());
    }
    let dir = shell_dir().join("cases");
    for name in &captured.ended {
        let lines = &captured.lines[name];
        let mut text = lines.join("\n");
        text.push('\n');
        let path = dir.join(format!("{name}.out"));
        let old = fs::read_to_string(&path).ok();
        let what = match old {
            Some(o) if o == text => "unchanged",
            Some(_) => "updated",
            None => "new",
        };
        fs::write(&path, text)?;
        println!("shtest: {} ({} lines, {what})", path.display(), lines.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regen_lines_keep_spaces_and_bars() {
        let mut c = Captured::default();
        for l in [
            "shtest-out echo|hello ",
            "noise",
            "shtest-out echo|a|b",
            "shtest-out echo|",
            "shtest-end echo",
            "shtest-out cut|x",
        ] {
            c.line(l);
        }
        assert_eq!(c.ended, ["echo"]);
        assert_eq!(c.lines["echo"], ["hello ", "a|b", ""]);
        assert_eq!(c.lines["cut"], ["x"]);
    }

    #[test]
    fn counts_cases_and_lists_pending() {
        let lines = [
            "utest: running 2 tests",
            "utest: sh-echo ... ok",
            "utest: sh-ps ... pending: needs /proc; FAILED: -a +b",
            "utest: sh-awk ... FAILED: -x +y",
            "utest: result: 1 passed, 1 failed",
        ];
        let mut run = Run::new(Guest::Ferrite);
        for l in lines {
            run.line(l);
        }
        let outcome = Outcome {
            exit: Exit::Exited(Some(33)),
            lines: lines.iter().map(|s| s.to_string()).collect(),
            stderr: Vec::new(),
            elapsed: Duration::ZERO,
        };
        let mut report = Report::default();
        run.finish("t", &outcome, Duration::ZERO, &mut report);
        assert_eq!(report.passed, 1);
        assert_eq!(report.failures.len(), 1);
        assert!(report.failures[0].contains("sh-awk"));
        assert_eq!(report.pending, ["sh-ps: needs /proc; FAILED: -a +b (t)"]);
    }

    #[test]
    fn every_case_has_expected_output() {
        let dir = shell_dir().join("cases");
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "sh") {
                let out = path.with_extension("out");
                assert!(out.is_file(), "{} has no .out", path.display());
            }
        }
    }
}

//! `cargo xtask bench ...`: measurements taken through the QEMU runner.
//!
//! `bench [--quick]`: the benchmark suite. The programs of `user/bench/`
//! (under `/bench/` in the benchmark initramfs, `initramfs::build_bench`)
//! run on Ferrite and on Debian's cloud kernel, booted with the same QEMU
//! flags and the same initramfs with `rdinit=/bench/run quiet`; full mode
//! also boots Linux with `mitigations=off`. The guest prints `bench: <name>
//! <median> <unit> best <fastest>` (or `bench: <name> error <errno>`)
//! lines; the host adds the boot time (QEMU start to the runner's first
//! line, `bench: start`; the fastest of a few boots). Results: a table on the terminal,
//! `target/bench/results.json` (`results-quick.json` for `--quick`), and in
//! full mode docs/benchmarks.md and docs/benchmarks.png (see
//! [`crate::bench_report`]).
//!
//! `bench boot`: boots Ferrite like the suite (without `quiet`) a few
//! times and prints the wall time from QEMU's start to the banner and to
//! `bench: start`, and the kernel's `ferrite: boot phases` line (the time
//! of each boot phase, from the TSC).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::qemu::{self, Control, Exit};
use crate::util::{self, Args, Result};
use crate::{bench_report, build, deps, initramfs, utest};

const BANNER: &str = "ferrite: banner";
/// The kernel's line with the time of each boot phase.
const PHASES: &str = "ferrite: boot phases";
/// The guest protocol marker.
const MARK: &str = "bench: ";
/// Ferrite's and Linux's panic lines.
const PANICS: [&str; 2] = ["KERNEL PANIC", "Kernel panic - not syncing"];

/// One row of the table: a figure both kernels report.
pub struct Row {
    pub name: &'static str,
    /// What it measures, for the docs.
    pub what: &'static str,
}

/// Every row, in table order. `boot_to_init` is measured on the host.
pub const ROWS: &[Row] = &[
    Row {
        name: "boot_to_init",
        what: "QEMU start to the first line of /bench/run (host wall clock; the fastest of 3 boots, 2 with `--quick`)",
    },
    Row {
        name: "mem_used",
        what: "sysinfo(2) totalram - freeram right after boot",
    },
    Row {
        name: "null_syscall",
        what: "getppid()",
    },
    Row {
        name: "read_dev_zero",
        what: "read 1 byte from /dev/zero",
    },
    Row {
        name: "write_dev_null",
        what: "write 1 byte to /dev/null",
    },
    Row {
        name: "open_close",
        what: "open + close of a tmpfs file",
    },
    Row {
        name: "stat",
        what: "stat of a tmpfs file",
    },
    Row {
        name: "fstat",
        what: "fstat of an open tmpfs file",
    },
    Row {
        name: "pipe_latency",
        what: "1-byte round trip between two processes over two pipes",
    },
    Row {
        name: "pipe_bandwidth",
        what: "64 KiB writes through a pipe to another process",
    },
    Row {
        name: "context_switch",
        what: "pipe token between 2 processes pinned to CPU 0, per switch",
    },
    Row {
        name: "af_unix_latency",
        what: "1-byte round trip between two processes over an AF_UNIX stream socketpair",
    },
    Row {
        name: "af_unix_bandwidth",
        what: "64 KiB writes through an AF_UNIX stream socketpair to another process",
    },
    Row {
        name: "fork_exit",
        what: "fork + _exit + waitpid",
    },
    Row {
        name: "fork_exec",
        what: "fork + execve of a small static binary + waitpid",
    },
    Row {
        name: "sh_c_true",
        what: "fork + execve /bin/sh -c true (busybox) + waitpid",
    },
    Row {
        name: "page_fault",
        what: "first write to an anonymous page (per page, mmap/munmap amortised)",
    },
    Row {
        name: "mmap_munmap_1m",
        what: "mmap + munmap of 1 MiB anonymous, untouched",
    },
    Row {
        name: "tmpfs_write",
        what: "64 KiB writes to a tmpfs file (truncated every 4 MiB)",
    },
    Row {
        name: "tmpfs_read",
        what: "64 KiB reads of a 4 MiB tmpfs file",
    },
    Row {
        name: "signal_install",
        what: "sigaction(2) installing a handler",
    },
    Row {
        name: "signal_delivery",
        what: "kill(getpid()) to a caught signal: delivery, handler, rt_sigreturn",
    },
    Row {
        name: "futex_pingpong",
        what: "token round trip between two threads over one futex (2 wake-ups)",
    },
    Row {
        name: "thread_create_join",
        what: "pthread_create + pthread_join of a thread that returns at once",
    },
    Row {
        name: "select_100",
        what: "select on 100 pipe read ends (1 ready), timeout 0",
    },
    Row {
        name: "poll_100",
        what: "poll on 100 pipe read ends (1 ready), timeout 0",
    },
    Row {
        name: "epoll_100",
        what: "epoll_wait on a set of 100 pipe read ends (1 ready, level-triggered), timeout 0",
    },
];

/// Rows that cannot run yet, and what they need.
pub const NOT_YET: &[(&str, &str)] = &[];

/// One figure printed by the guest.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    Value {
        /// The median of the repetitions (`boot_to_init`: the fastest boot).
        value: f64,
        unit: String,
        /// The fastest repetition (lowest time, highest bandwidth), when
        /// the guest reported it.
        best: Option<f64>,
        /// Every sample, when the host took them (`boot_to_init`).
        samples: Vec<f64>,
    },
    /// `bench: <name> error <errno>`.
    Error(i32),
}

impl Figure {
    /// The value when it is a valid, finite, positive figure.
    pub fn valid(&self) -> Option<(f64, &str)> {
        match self {
            Figure::Value { value, unit, .. } if value.is_finite() && *value > 0.0 => {
                Some((*value, unit))
            }
            _ => None,
        }
    }
}

/// Which kernel a run boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Ferrite,
    Linux,
    LinuxMitigationsOff,
}

impl Kernel {
    /// The progress tag and JSON key.
    pub fn tag(self) -> &'static str {
        match self {
            Kernel::Ferrite => "ferrite",
            Kernel::Linux => "linux",
            Kernel::LinuxMitigationsOff => "linux-mitigations-off",
        }
    }
}

/// What one boot gave.
pub struct GuestRun {
    pub kernel: Kernel,
    pub append: String,
    pub figures: BTreeMap<String, Figure>,
    /// Every serial line.
    pub lines: Vec<String>,
    /// Problems with the run itself (timeout, panic, no `bench: done`).
    pub problems: Vec<String>,
    pub exit: String,
    pub elapsed: Duration,
}

impl GuestRun {
    /// This boot's `boot_to_init` in ms, if it got that far.
    fn boot_ms(&self) -> Option<f64> {
        self.figures.get("boot_to_init")?.valid().map(|(v, _)| v)
    }
}

/// The whole suite's results.
pub struct Results {
    pub quick: bool,
    /// File name of the Linux image (`vmlinuz-<version>`).
    pub linux_image: String,
    pub runs: Vec<GuestRun>,
}

impl Results {
    pub fn run(&self, k: Kernel) -> Option<&GuestRun> {
        self.runs.iter().find(|r| r.kernel == k)
    }

    pub fn figure(&self, k: Kernel, name: &str) -> Option<&Figure> {
        self.run(k)?.figures.get(name)
    }
}

/// The benchmark programs of `user/bench/` that `/bench/run` knows (its
/// PROGRAMS), for `cargo xtask bench PROGRAM...`.
pub const PROGRAMS: [&str; 10] = ["meminfo", "sys", "pipe", "unix", "proc", "mem", "file", "poll", "signal", "thread"];

pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let quick = args.flag("--quick");
    let mut what = Vec::new();
    while let Some(w) = args.next_positional() {
        what.push(w);
    }
    args.finish()?;
    if what.iter().any(|w| w == "boot") {
        if what.len() > 1 {
            return Err("`boot` runs alone".into());
        }
        return boot();
    }
    if let Some(bad) = what.iter().find(|w| !PROGRAMS.contains(&w.as_str())) {
        return Err(format!("unknown benchmark program `{bad}` (known: boot, {})", PROGRAMS.join(", ")).into());
    }
    suite(quick, &what)
}

/// `cargo xtask bench [--quick] [PROGRAM...]`: with programs named, only
/// those run (on every kernel) and the docs are left alone.
fn suite(quick: bool, programs: &[String]) -> Result<ExitCode> {
    deps::ensure()?;
    util::header("kernel build");
    let ferrite = build::kernel(build::Profile::Kernel)?;
    util::header("Linux kernel");
    let linux = utest::linux_kernel()?;
    println!("linux: {}", linux.display());
    let results = run_suite(quick, programs, &ferrite, &linux)?;
    println!();
    print!("{}", bench_report::table(&results));
    let json = bench_report::write_json(&results)?;
    println!("results: {}", json.display());
    if !quick && programs.is_empty() {
        let (md, png) = bench_report::write_docs(&results)?;
        println!("docs: {} and {}", md.display(), png.display());
    }
    let (ok, bad) = count_rows(&results);
    println!(
        "{ok} rows with a figure on both kernels, {} without",
        bad.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Boots per kernel for `boot_to_init` (the fastest counts): the suite's
/// boot plus boot-only ones (`/bench/run -- --boot`).
fn boot_samples(quick: bool) -> usize {
    if quick { 2 } else { 3 }
}

/// QEMU flags of every benchmark boot besides [`qemu::Config`]'s: no VGA
/// card and no NIC, which neither kernel uses here, so SeaBIOS does not
/// run their option ROMs (~35 ms of every boot under TCG).
pub const EXTRA_QEMU_FLAGS: [&str; 4] = ["-vga", "none", "-nic", "none"];

/// Builds the benchmark initramfs and boots each kernel once (Linux twice
/// in full mode), plus the extra boot-only runs for `boot_to_init`. Only a
/// missing initramfs is an error: boot problems are noted in the runs.
pub fn run_suite(quick: bool, programs: &[String], ferrite: &Path, linux: &Path) -> Result<Results> {
    util::header("initramfs");
    let cpio = initramfs::build_bench()?;
    let mut kernels = vec![Kernel::Ferrite, Kernel::Linux];
    if !quick {
        kernels.push(Kernel::LinuxMitigationsOff);
    }
    let mut runs = Vec::new();
    for k in kernels {
        let image = if k == Kernel::Ferrite { ferrite } else { linux };
        util::header(&format!("benchmarks on {}", k.tag()));
        let mut run = boot_guest(k, image, &cpio, quick, programs, false);
        let mut samples: Vec<f64> = run.boot_ms().into_iter().collect();
        // A run of a few programs is for their rows: one boot is enough.
        let boots = if programs.is_empty() { boot_samples(quick) } else { 1 };
        for _ in 1..boots {
            util::header(&format!("boot time on {}", k.tag()));
            let extra = boot_guest(k, image, &cpio, quick, &[], true);
            samples.extend(extra.boot_ms());
            run.problems
                .extend(extra.problems.iter().map(|p| format!("boot-only run: {p}")));
        }
        if let Some(min) = samples.iter().copied().reduce(f64::min) {
            run.figures.insert(
                "boot_to_init".into(),
                Figure::Value {
                    value: min,
                    unit: "ms".into(),
                    best: Some(min),
                    samples,
                },
            );
        }
        runs.push(run);
    }
    let linux_image = linux
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Results {
        quick,
        linux_image,
        runs,
    })
}

/// The kernel command line of a run; `boot_only` runs no benchmark.
fn append(k: Kernel, quick: bool, programs: &[String], boot_only: bool) -> String {
    // `quiet` on both kernels: no informational boot messages on the
    // serial console.
    let base = match k {
        Kernel::Ferrite => "rdinit=/bench/run quiet",
        Kernel::Linux => "console=ttyS0 rdinit=/bench/run panic=-1 quiet",
        Kernel::LinuxMitigationsOff => {
            "console=ttyS0 rdinit=/bench/run panic=-1 quiet mitigations=off"
        }
    };
    // Words after `--` become /bench/run's arguments on both kernels.
    let mut words: Vec<&str> = Vec::new();
    if boot_only {
        words.push("--boot");
    } else {
        if quick {
            words.push("--quick");
        }
        words.extend(programs.iter().map(String::as_str));
    }
    if words.is_empty() { base.to_string() } else { format!("{base} -- {}", words.join(" ")) }
}

fn boot_guest(k: Kernel, image: &Path, cpio: &Path, quick: bool, programs: &[String], boot_only: bool) -> GuestRun {
    let tag = k.tag();
    let mut cfg = qemu::Config::new(image.to_path_buf());
    cfg.smp = 2;
    cfg.mem = "1G".into();
    cfg.initrd = Some(cpio.to_path_buf());
    cfg.append = append(k, quick, programs, boot_only);
    cfg.extra = EXTRA_QEMU_FLAGS.iter().map(|f| f.to_string()).collect();
    println!(
        "[{tag}] qemu -machine q35 -cpu max -smp {} -m {} {} -kernel {} -initrd {} -append '{}'",
        cfg.smp,
        cfg.mem,
        EXTRA_QEMU_FLAGS.join(" "),
        image.display(),
        cpio.display(),
        cfg.append
    );
    let timeout = Duration::from_secs(if quick { 120 } else { 300 });
    let mut run = GuestRun {
        kernel: k,
        append: cfg.append.clone(),
        figures: BTreeMap::new(),
        lines: Vec::new(),
        problems: Vec::new(),
        exit: String::new(),
        elapsed: Duration::ZERO,
    };
    let mut done = false;
    let mut panicked = false;
    let start = Instant::now();
    let outcome = qemu::run_captured(&cfg, timeout, |line| {
        println!("[{tag}] {line}");
        if PANICS.iter().any(|p| line.contains(p)) {
            panicked = true;
        }
        match parse(line) {
            Some(Parsed::Start) => {
                let ms = start.elapsed().as_secs_f64() * 1e3;
                run.figures.insert(
                    "boot_to_init".into(),
                    Figure::Value {
                        value: ms,
                        unit: "ms".into(),
                        best: None,
                        samples: Vec::new(),
                    },
                );
            }
            Some(Parsed::Done) => {
                done = true;
                return Control::Stop;
            }
            Some(Parsed::Figure(name, fig)) => {
                run.figures.insert(name, fig);
            }
            None => {}
        }
        Control::Continue
    });
    match outcome {
        Ok(o) => {
            run.elapsed = o.elapsed;
            run.exit = match o.exit {
                Exit::Stopped => "stopped after `bench: done`".into(),
                Exit::TimedOut => format!("timed out after {} s", timeout.as_secs()),
                Exit::Exited(code) => qemu::describe_exit(code),
            };
            run.lines = o.lines;
            if panicked {
                run.problems.push("kernel panicked".into());
            }
            if !done {
                run.problems
                    .push(format!("no `bench: done` line ({})", run.exit));
            }
        }
        Err(e) => {
            run.exit = "not started".into();
            run.problems.push(format!("cannot run QEMU: {e}"));
        }
    }
    for p in &run.problems {
        println!("[{tag}] problem: {p}");
    }
    println!(
        "[{tag}] {} figures in {:.1?}",
        run.figures.len(),
        run.elapsed
    );
    run
}

enum Parsed {
    Start,
    Done,
    Figure(String, Figure),
}

/// A `bench:` line: `start`, `done`, `<name> <value> <unit>` (optionally
/// followed by `best <value>`) or `<name> error <errno>`.
fn parse(line: &str) -> Option<Parsed> {
    let rest = &line[line.find(MARK)? + MARK.len()..];
    let words: Vec<&str> = rest.split_whitespace().collect();
    match words.as_slice() {
        ["start"] => Some(Parsed::Start),
        ["done"] => Some(Parsed::Done),
        [name, "error", errno] => Some(Parsed::Figure(
            name.to_string(),
            Figure::Error(errno.parse().ok()?),
        )),
        [name, value, unit] => Some(Parsed::Figure(
            name.to_string(),
            Figure::Value {
                value: value.parse().ok()?,
                unit: unit.to_string(),
                best: None,
                samples: Vec::new(),
            },
        )),
        [name, value, unit, "best", best] => Some(Parsed::Figure(
            name.to_string(),
            Figure::Value {
                value: value.parse().ok()?,
                unit: unit.to_string(),
                best: Some(best.parse().ok()?),
                samples: Vec::new(),
            },
        )),
        _ => None,
    }
}

/// Rows with a valid figure on both Ferrite and (default) Linux, and a
/// note for each row without.
pub fn count_rows(results: &Results) -> (u32, Vec<String>) {
    let mut ok = 0;
    let mut bad = Vec::new();
    for row in ROWS {
        let mut missing = Vec::new();
        for k in [Kernel::Ferrite, Kernel::Linux] {
            match results.figure(k, row.name) {
                Some(f) if f.valid().is_some() => {}
                Some(Figure::Error(e)) => missing.push(format!("{}: error {e}", k.tag())),
                Some(_) => missing.push(format!("{}: invalid figure", k.tag())),
                None => missing.push(format!("{}: no figure", k.tag())),
            }
        }
        if missing.is_empty() {
            ok += 1;
        } else {
            bad.push(format!("bench {}: {}", row.name, missing.join(", ")));
        }
    }
    (ok, bad)
}

/// The `--quick` suite as a test step: one pass per row with a valid figure
/// on both kernels, one failure per other row. Figures are never compared
/// with thresholds.
pub fn quick_for_test(ferrite: &Path) -> (u32, Vec<String>) {
    let linux = match utest::linux_kernel() {
        Ok(l) => l,
        Err(e) => return (0, vec![format!("bench: Linux kernel: {e}")]),
    };
    let results = match run_suite(true, &[], ferrite, &linux) {
        Ok(r) => r,
        Err(e) => return (0, vec![format!("bench: {e}")]),
    };
    print!("{}", bench_report::table(&results));
    if let Err(e) = bench_report::write_json(&results) {
        println!("warning: bench: cannot write JSON: {e}");
    }
    count_rows(&results)
}

/// Boots of `cargo xtask bench boot`.
const BOOT_RUNS: usize = 3;

/// `cargo xtask bench boot`: boots Ferrite as the suite does (benchmark
/// initramfs, same flags) but without `quiet`, [`BOOT_RUNS`] times, and
/// prints for each boot the host time to the banner and to `bench: start`
/// and the kernel's phase times.
fn boot() -> Result<ExitCode> {
    deps::ensure()?;
    let image = build::kernel(build::Profile::Kernel)?;
    let cpio = initramfs::build_bench()?;
    let mut cfg = qemu::Config::new(image);
    cfg.smp = 2;
    cfg.mem = "1G".into();
    cfg.initrd = Some(cpio);
    cfg.append = "rdinit=/bench/run -- --boot".into();
    cfg.extra = EXTRA_QEMU_FLAGS.iter().map(|f| f.to_string()).collect();
    let mut starts = Vec::new();
    for run in 1..=BOOT_RUNS {
        let start = Instant::now();
        let mut banner: Option<(Duration, String)> = None;
        let mut init = None;
        let mut phases = None;
        let outcome = qemu::run_captured(&cfg, Duration::from_secs(120), |line| {
            if line.contains(BANNER) {
                banner = Some((start.elapsed(), line.to_string()));
            }
            if matches!(parse(line), Some(Parsed::Start)) {
                init = Some(start.elapsed());
            }
            if let Some(i) = line.find(PHASES) {
                phases = Some(line[i..].to_string());
            }
            if matches!(parse(line), Some(Parsed::Done)) {
                return Control::Stop;
            }
            Control::Continue
        })?;
        let (Some((to_banner, line)), Some(to_init)) = (banner, init) else {
            let how = match outcome.exit {
                Exit::TimedOut => "timed out".to_string(),
                Exit::Exited(code) => qemu::describe_exit(code),
                Exit::Stopped => "stopped".to_string(),
            };
            for l in outcome.lines.iter().rev().take(30).rev() {
                println!("    {l}");
            }
            return Err(format!("no `{BANNER}` and `bench: start` lines ({how})").into());
        };
        println!(
            "boot {run}: QEMU start to banner {:.1} ms, to `bench: start` {:.1} ms, kernel boot-ms={}",
            to_banner.as_secs_f64() * 1e3,
            to_init.as_secs_f64() * 1e3,
            boot_ms(&line).unwrap_or("?")
        );
        println!("boot {run}: {}", phases.as_deref().unwrap_or("(no phases line)"));
        starts.push(to_init.as_secs_f64() * 1e3);
    }
    let min = starts.iter().copied().fold(f64::INFINITY, f64::min);
    println!("boot: fastest QEMU start to `bench: start` of {BOOT_RUNS}: {min:.1} ms (without `quiet`)");
    Ok(ExitCode::SUCCESS)
}

/// The value after `boot-ms=` in `line`.
fn boot_ms(line: &str) -> Option<&str> {
    let rest = &line[line.find("boot-ms=")? + "boot-ms=".len()..];
    let v = rest.split_whitespace().next()?;
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_ms() {
        assert_eq!(
            super::boot_ms("[ 0.5 0] ferrite: banner v0.1 boot-ms=12.5 cpus=2"),
            Some("12.5")
        );
        assert_eq!(super::boot_ms("ferrite: banner"), None);
    }

    #[test]
    fn parses_bench_lines() {
        let fig = |l: &str| match parse(l) {
            Some(Parsed::Figure(n, f)) => Some((n, f)),
            _ => None,
        };
        assert_eq!(
            fig("bench: null_syscall 412.5 ns"),
            Some((
                "null_syscall".into(),
                Figure::Value {
                    value: 412.5,
                    unit: "ns".into(),
                    best: None,
                    samples: Vec::new(),
                }
            ))
        );
        assert_eq!(
            fig("bench: pipe_bandwidth 210.5 MB/s best 230.0"),
            Some((
                "pipe_bandwidth".into(),
                Figure::Value {
                    value: 210.5,
                    unit: "MB/s".into(),
                    best: Some(230.0),
                    samples: Vec::new(),
                }
            ))
        );
        assert!(fig("bench: stat 1.0 ns best x").is_none());
        assert_eq!(
            fig("[ 1.0 0] bench: poll_100 error 38"),
            Some(("poll_100".into(), Figure::Error(38)))
        );
        assert!(matches!(parse("bench: start"), Some(Parsed::Start)));
        assert!(matches!(parse("bench: done"), Some(Parsed::Done)));
        assert!(parse("bench-run: /bench/sys").is_none());
        assert!(parse("bench: x y").is_none());
    }

    #[test]
    fn counts_rows_on_both_kernels() {
        let mut f = BTreeMap::new();
        let mut l = BTreeMap::new();
        for row in ROWS {
            let v = Figure::Value {
                value: 1.0,
                unit: "ns".into(),
                best: None,
                samples: Vec::new(),
            };
            f.insert(row.name.to_string(), v.clone());
            l.insert(row.name.to_string(), v);
        }
        f.insert("stat".into(), Figure::Error(38));
        l.remove("fstat");
        let run = |kernel, figures| GuestRun {
            kernel,
            append: String::new(),
            figures,
            lines: Vec::new(),
            problems: Vec::new(),
            exit: String::new(),
            elapsed: Duration::ZERO,
        };
        let results = Results {
            quick: true,
            linux_image: String::new(),
            runs: vec![run(Kernel::Ferrite, f), run(Kernel::Linux, l)],
        };
        let (ok, bad) = count_rows(&results);
        assert_eq!(ok as usize, ROWS.len() - 2);
        assert_eq!(bad.len(), 2);
        assert!(
            bad[0].contains("stat") && bad[0].contains("error 38"),
            "{bad:?}"
        );
    }
}

//! The test suites of crates.io crates, run on Ferrite and on Linux
//! (`cargo xtask crates`).
//!
//! ```text
//! user/crates/Cargo.toml    pins CRATES (name = "=version"); `cargo fetch`
//!                           unpacks their published sources into
//!                           ~/.cargo/registry/src/
//!   ──copy──► target/crates/src/NAME-VERSION/  (+ `[workspace]`, and the
//!                           committed user/crates/locks/NAME.lock as Cargo.lock)
//!   ──cargo test --no-run --release, +crt-static, --message-format=json──►
//!             target/crates/build/   (one target dir; cargo skips what is
//!                                     up to date)
//!   ──strip──► target/crates/bin/NAME/BIN   (BIN: `lib` or the test's name)
//!   ──with target/user/rootfs, user/crates/run and /crates/list──►
//!             target/ferrite/crates.cpio
//! boot rdinit=/crates/run ──► `crates: CRATE BIN TEST ok|FAILED|ignored|timeout`
//! ```
//!
//! The verdict: every test that passes on Linux must pass on Ferrite. Linux's
//! results are recorded in `user/crates/expected/NAME.txt` (`BIN TEST
//! RESULT` per line) by `cargo xtask crates --regen`, which boots Debian's
//! kernel with the same image. A test that fails on Linux too is listed but
//! not counted; a test named in `user/crates/pending.txt` (`NAME BIN TEST:
//! reason`) is shown as pending and not counted. One pass or failure per
//! crate. No crate source is kept in the repository: a fresh clone fetches
//! them from crates.io, and a failed fetch or build is a failure of the step
//! with the reason, never a silent skip.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use crate::qemu::{self, Control, Exit};
use crate::utest::{self, Guest, Report};
use crate::util::{self, Args, Result};
use crate::{build, deps, initramfs, ktest};

/// One crate under test.
pub struct Crate {
    pub name: &'static str,
    /// Exact version; also pinned in user/crates/Cargo.toml.
    pub version: &'static str,
    /// Which test targets to build (`cargo test` selection arguments);
    /// empty: all of them.
    pub select: &'static [&'static str],
}

/// The crates, in run order. Light suites that exercise the kernel: files,
/// directories and O_TMPFILE (tempfile), signals and pipes (signal-hook),
/// futexes and threads (parking_lot, crossbeam-channel), mmap (memmap2),
/// file times (filetime), directory walks (walkdir); and an async runtime
/// over epoll, sockets, pipes, signals and child processes (tokio).
pub const CRATES: &[Crate] = &[
    Crate {
        name: "tempfile",
        version: "3.27.0",
        select: &[],
    },
    Crate {
        name: "memmap2",
        version: "0.9.12",
        select: &[],
    },
    // tests/iterator.rs needs `serial_test`, a path dependency that the
    // published package drops, so it does not build.
    Crate {
        name: "signal-hook",
        version: "0.4.6",
        select: &["--lib", "--test", "default", "--test", "shutdown"],
    },
    // The lib's own tests are long stress runs (20 s natively); the two
    // regression tests are quick.
    Crate {
        name: "parking_lot",
        version: "0.13.0",
        select: &["--test", "issue_203", "--test", "issue_392"],
    },
    // The quick files of the suite; array/list/zero/select run for
    // minutes under TCG.
    Crate {
        name: "crossbeam-channel",
        version: "0.5.17",
        select: &[
            "--test",
            "never",
            "--test",
            "same_channel",
            "--test",
            "iter",
            "--test",
            "thread_locals",
        ],
    },
    // File times: utimensat with UTIME_NOW/UTIME_OMIT, on symlinks too.
    Crate {
        name: "filetime",
        version: "0.2.29",
        select: &[],
    },
    // Directory walks: getdents, symlinks, loops, sorting.
    Crate {
        name: "walkdir",
        version: "2.5.1",
        select: &[],
    },
    // The async runtime: epoll, eventfd, sockets, pipes, signals, child
    // processes and timers, under load from worker threads.
    Crate {
        name: "tokio",
        version: "1.54.1",
        select: TOKIO_TESTS,
    },
];

/// tokio's test targets: the files of its tests/ that reach the kernel (fs,
/// the I/O driver, TCP/UDP/Unix sockets over loopback, pipes, processes,
/// signals, the runtimes and timers). Left out: the ~90 files that test
/// pure user-space code (sync_*, task_*, macros_*, io_* on in-memory
/// streams), which would double the build (~3 min more) and add minutes
/// of TCG run time for no kernel coverage; io_copy_bidirectional, which
/// needs tokio-test's mocks built against this very tokio (a `[patch]`
/// that the published package drops); the io_uring, Windows, WASI,
/// emscripten and tokio_unstable-only files. `test-util` is for
/// time_timeout's paused clock.
const TOKIO_TESTS: &[&str] = &[
    "--features", "full,test-util",
    "--test", "fs", "--test", "fs_canonicalize_dir", "--test", "fs_copy", "--test", "fs_dir",
    "--test", "fs_file", "--test", "fs_link", "--test", "fs_open_options",
    "--test", "fs_remove_dir_all", "--test", "fs_remove_file", "--test", "fs_rename",
    "--test", "fs_try_exists", "--test", "fs_write",
    "--test", "io_async_fd", "--test", "io_driver", "--test", "io_driver_drop",
    "--test", "net_unix_pipe", "--test", "buffered",
    "--test", "tcp_accept", "--test", "tcp_accept_ready", "--test", "tcp_connect",
    "--test", "tcp_echo", "--test", "tcp_into_split", "--test", "tcp_into_std",
    "--test", "tcp_peek", "--test", "tcp_shutdown", "--test", "tcp_socket", "--test", "tcp_split",
    "--test", "tcp_stream", "--test", "udp", "--test", "uds_cred", "--test", "uds_datagram",
    "--test", "uds_socket", "--test", "uds_split", "--test", "uds_stream",
    "--test", "unix_shutdown", "--test", "net_bind_resource", "--test", "net_lookup_host",
    "--test", "net_quickack",
    "--test", "process_arg0", "--test", "process_change_of_runtime",
    "--test", "process_issue_2174", "--test", "process_issue_42", "--test", "process_issue_7144",
    "--test", "process_issue_8042", "--test", "process_kill_after_wait",
    "--test", "process_kill_on_drop", "--test", "process_smoke",
    "--test", "signal_ctrl_c", "--test", "signal_drop_recv", "--test", "signal_drop_rt",
    "--test", "signal_drop_signal", "--test", "signal_multi_rt", "--test", "signal_no_rt",
    "--test", "signal_notify_both", "--test", "signal_panic", "--test", "signal_realtime",
    "--test", "signal_twice", "--test", "signal_usr1",
    "--test", "rt_common", "--test", "rt_threaded", "--test", "rt_basic",
    "--test", "rt_spawn_blocking", "--test", "rt_shutdown_err",
    "--test", "rt_blocking_thread_exhaust", "--test", "coop_budget",
    "--test", "time_sleep", "--test", "time_timeout", "--test", "time_rt",
];

/// The target and flags of every test binary (as for user/rust).
const TARGET: &str = "x86_64-unknown-linux-gnu";
const RUST_FLAGS: &str = "-Ctarget-feature=+crt-static";
/// The guest runner.
const RUNNER: &str = "/crates/run";
/// CPUs of the boot.
pub const SMP: u32 = 2;
/// Time limit of the boot in `cargo xtask test` (the run takes ~2 min,
/// most of it tokio's).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(300);
/// The protocol markers of /crates/run.
const MARK: &str = "crates: ";
const LOG_MARK: &str = "crates-log: ";
const DONE: &str = "crates: done";
/// Linux's panic line.
const LINUX_PANIC: &str = "Kernel panic - not syncing";

fn crates_dir() -> PathBuf {
    util::root().join("user").join("crates")
}

fn work_dir() -> PathBuf {
    util::root().join("target").join("crates")
}

/// `target/ferrite/crates.cpio`.
pub fn cpio_path() -> PathBuf {
    util::out_dir().join("crates.cpio")
}

/// `cargo xtask crates [--linux] [--regen] [--timeout SECS] [NAME...]`.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let linux = args.flag("--linux");
    let regen = args.flag("--regen");
    let timeout = match args.value("--timeout")? {
        Some(s) => Duration::from_secs(util::parse_num(&s, "--timeout")?),
        None => Duration::from_secs(600),
    };
    let mut names = Vec::new();
    while let Some(name) = args.next_positional() {
        if !CRATES.iter().any(|c| c.name == name) {
            return Err(format!("unknown crate `{name}` (see CRATES in xtask/src/crates.rs)").into());
        }
        names.push(name);
    }
    args.finish()?;
    deps::ensure()?;
    let (guest, kernel) = if linux || regen {
        (Guest::Linux, utest::linux_kernel()?)
    } else {
        util::header("kernel build");
        (Guest::Ferrite, build::kernel(build::Profile::Kernel)?)
    };
    let report = boot(guest, &kernel, timeout, &names, regen);
    Ok(utest::summary(&report))
}

/// Builds the image and runs the crates (`names`, or all) once; with
/// `regen` (Linux only) writes the expected files instead of comparing.
/// Never fails: problems are failures in the report.
pub fn boot(guest: Guest, kernel: &Path, timeout: Duration, names: &[String], regen: bool) -> Report {
    let mut report = Report::default();
    let cpio = match build_image() {
        Ok(c) => c,
        Err(e) => {
            report.fail(format!("crate tests: build: {e}"));
            return report;
        }
    };
    let tag = match guest {
        Guest::Ferrite => "crates",
        Guest::Linux => "crates-linux",
    };
    let mut cfg = qemu::Config::new(kernel.to_path_buf());
    cfg.smp = SMP;
    cfg.mem = "1G".into();
    cfg.initrd = Some(cpio);
    let base = match guest {
        Guest::Ferrite => format!("rdinit={RUNNER} watchdog=panic"),
        Guest::Linux => format!("console=ttyS0 rdinit={RUNNER} panic=-1 quiet loglevel=1"),
    };
    cfg.append = if names.is_empty() {
        base
    } else {
        format!("{base} -- {}", names.join(" "))
    };
    println!("[{tag}] qemu -smp {} -m {} -append '{}'", cfg.smp, cfg.mem, cfg.append);
    let mut results = Results::default();
    let mut panicked = false;
    let outcome = match qemu::run_captured(&cfg, timeout, |line| {
        println!("[{tag}] {line}");
        results.line(line);
        panicked |= match guest {
            Guest::Linux => line.contains(LINUX_PANIC),
            Guest::Ferrite => ktest::parse(line) == ktest::Event::Panic,
        };
        Control::Continue
    }) {
        Ok(o) => o,
        Err(e) => {
            report.fail(format!("crate tests ({tag}): {e}"));
            return report;
        }
    };
    let problem = match outcome.exit {
        Exit::TimedOut | Exit::Stopped => Some(format!("timed out after {} s", timeout.as_secs())),
        _ if panicked => Some("kernel panicked".to_string()),
        _ if !results.done => Some(format!(
            "run ended without `{DONE}`; {}",
            qemu::describe_exit(outcome.code())
        )),
        _ => None,
    };
    if let Some(p) = &problem {
        qemu::print_tail(tag, &outcome, 30);
        let last = results.last.as_deref().unwrap_or("before the first test");
        report.fail(format!("crate tests ({tag}): {p} (last: {last})"));
    }
    let selected: Vec<&Crate> = CRATES
        .iter()
        .filter(|c| names.is_empty() || names.iter().any(|n| n == c.name))
        .collect();
    if regen {
        if problem.is_none() {
            if let Err(e) = write_expected(&selected, &results) {
                report.fail(format!("crate tests: regen: {e}"));
            }
        }
        return report;
    }
    let pending = read_pending().unwrap_or_else(|e| {
        report.fail(format!("crate tests: {e}"));
        BTreeMap::new()
    });
    for c in selected {
        judge(c, &results, &pending, guest, tag, &mut report);
    }
    println!("crate tests ({tag}): {} passed, {} failed in {:.1?}", report.passed, report.failures.len(), outcome.elapsed);
    report
}

/// Compares one crate's results with its expected file: one count.
fn judge(
    c: &Crate,
    results: &Results,
    pending: &BTreeMap<String, String>,
    guest: Guest,
    tag: &str,
    report: &mut Report,
) {
    let expected = match read_expected(c) {
        Ok(e) => e,
        Err(e) => return report.fail(format!("crate {} ({tag}): {e}", c.name)),
    };
    let got = results.by_crate.get(c.name);
    let mut bad = Vec::new();
    let mut linux_fails = 0;
    let mut pending_count = 0;
    for (test, want) in &expected {
        let result = got.and_then(|g| g.get(test)).map_or("not run", String::as_str);
        if want != "ok" {
            linux_fails += usize::from(want == "FAILED" || want == "timeout");
            continue;
        }
        if result == "ok" {
            continue;
        }
        let key = format!("{} {test}", c.name);
        match pending.get(&key) {
            Some(reason) => {
                pending_count += 1;
                report.pending.push(format!("{key}: {reason}; {result} ({tag})"));
            }
            None => bad.push(format!("{test}: {result}")),
        }
    }
    for (test, result) in got.into_iter().flatten() {
        if !expected.contains_key(test) {
            println!("crate {}: {test} ({result}) is not in the expected file; run --regen", c.name);
        }
    }
    for key in pending.keys().filter(|k| k.starts_with(&format!("{} ", c.name))) {
        let test = &key[c.name.len() + 1..];
        if guest == Guest::Ferrite && got.and_then(|g| g.get(test)).is_some_and(|r| r == "ok") {
            println!("crate tests: pending {key} passes now; remove it from user/crates/pending.txt");
        }
    }
    let total = got.map_or(0, BTreeMap::len);
    if bad.is_empty() {
        println!(
            "crate {} ({tag}): ok ({total} tests; {pending_count} pending and {linux_fails} failing on Linux too, not counted)",
            c.name
        );
        report.passed += 1;
    } else {
        report.fail(format!(
            "crate {} ({tag}): {} of the tests that pass on Linux do not: {}",
            c.name,
            bad.len(),
            shorten(&bad)
        ));
    }
}

/// The first 20 entries, comma-separated.
fn shorten(list: &[String]) -> String {
    let mut s = list.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
    if list.len() > 20 {
        s.push_str(&format!(" and {} more", list.len() - 20));
    }
    s
}

/// Every `crates:` verdict of a run: crate → `BIN TEST` → result.
#[derive(Debug, Default)]
struct Results {
    by_crate: BTreeMap<String, BTreeMap<String, String>>,
    done: bool,
    /// The last test with a verdict.
    last: Option<String>,
}

impl Results {
    fn line(&mut self, line: &str) {
        if line.contains(LOG_MARK) {
            return;
        }
        if line.trim_end().ends_with(DONE) {
            self.done = true;
            return;
        }
        let Some(i) = line.find(MARK) else { return };
        let words: Vec<&str> = line[i + MARK.len()..].split_whitespace().collect();
        let [krate, bin, test, verdict] = words[..] else {
            // `running CRATE BIN`, or `CRATE BIN --list FAILED`.
            if let [krate, bin, "--list", "FAILED"] = words[..] {
                self.by_crate
                    .entry(krate.to_string())
                    .or_default()
                    .insert(format!("{bin} --list"), "FAILED".into());
            }
            return;
        };
        if !matches!(verdict, "ok" | "FAILED" | "ignored" | "timeout") {
            return;
        }
        self.last = Some(format!("{krate} {bin} {test}"));
        self.by_crate
            .entry(krate.to_string())
            .or_default()
            .insert(format!("{bin} {test}"), verdict.to_string());
    }
}

fn expected_path(c: &Crate) -> PathBuf {
    crates_dir().join("expected").join(format!("{}.txt", c.name))
}

/// `BIN TEST RESULT` lines; `#` starts a comment.
fn read_expected(c: &Crate) -> Result<BTreeMap<String, String>> {
    let path = expected_path(c);
    let text = fs::read_to_string(&path).map_err(|e| {
        format!("cannot read {} ({e}); record it with `cargo xtask crates --regen {}`", path.display(), c.name)
    })?;
    let mut map = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (test, result) = line
            .rsplit_once(' ')
            .ok_or_else(|| format!("{}: bad line `{line}`", path.display()))?;
        map.insert(test.to_string(), result.to_string());
    }
    Ok(map)
}

fn write_expected(selected: &[&Crate], results: &Results) -> Result {
    let dir = crates_dir().join("expected");
    fs::create_dir_all(&dir)?;
    for c in selected {
        let Some(got) = results.by_crate.get(c.name) else {
            return Err(format!("no results for {}", c.name).into());
        };
        let mut text = format!(
            "# {} {}: results on Debian's Linux (`cargo xtask crates --regen {}`).\n",
            c.name, c.version, c.name
        );
        for (test, result) in got {
            text.push_str(&format!("{test} {result}\n"));
        }
        fs::write(expected_path(c), text)?;
        println!("crates: {} ({} tests)", expected_path(c).display(), got.len());
    }
    Ok(())
}

/// `user/crates/pending.txt`: `CRATE BIN TEST: reason` → reason.
fn read_pending() -> Result<BTreeMap<String, String>> {
    let path = crates_dir().join("pending.txt");
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut map = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (key, reason) = line
            .split_once(": ")
            .ok_or_else(|| format!("{}: bad line `{line}` (want `CRATE BIN TEST: reason`)", path.display()))?;
        map.insert(key.trim().to_string(), reason.trim().to_string());
    }
    Ok(map)
}

// ---- build -------------------------------------------------------------------

/// Fetches, builds and strips every crate's tests, then packs the image:
/// the default initramfs tree plus `/crates`.
pub fn build_image() -> Result<PathBuf> {
    initramfs::build()?;
    let work = work_dir();
    fs::create_dir_all(&work)?;
    fetch()?;
    let registry = registry_src()?;
    let mut list = String::new();
    let mut bins = Vec::new();
    for (i, c) in CRATES.iter().enumerate() {
        println!("crates: [{}/{}] {} {}", i + 1, CRATES.len(), c.name, c.version);
        let src = prepare_source(c, &registry)?;
        for (bin, exe) in build_tests(c, &src)? {
            let out = work.join("bin").join(c.name).join(&bin);
            strip(&exe, &out)?;
            list.push_str(&format!("{} {bin}\n", c.name));
            bins.push((c.name, bin, out));
        }
    }
    let root = work.join("rootfs");
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    let status = Command::new("cp")
        .arg("-a")
        .arg(initramfs::rootfs_dir())
        .arg(&root)
        .status()?;
    if !status.success() {
        return Err("cannot copy target/user/rootfs".into());
    }
    let dest = root.join("crates");
    for (name, bin, out) in &bins {
        fs::create_dir_all(dest.join(name))?;
        initramfs::install(out, &dest.join(name).join(bin), 0o755)?;
    }
    initramfs::install(&crates_dir().join("run"), &dest.join("run"), 0o755)?;
    fs::write(dest.join("list"), list)?;
    initramfs::set_attrs(&dest.join("list"), 0o644)?;
    for name in CRATES.iter().map(|c| c.name) {
        initramfs::set_attrs(&dest.join(name), 0o755)?;
    }
    initramfs::set_attrs(&dest, 0o755)?;
    initramfs::set_attrs(&root, 0o755)?;
    let cpio = cpio_path();
    initramfs::pack(&root, &cpio)?;
    println!(
        "crates: {} ({} KiB, {} test binaries)",
        cpio.display(),
        fs::metadata(&cpio)?.len().div_ceil(1024),
        bins.len()
    );
    Ok(cpio)
}

/// `cargo fetch` on user/crates: the pinned sources land in the registry.
fn fetch() -> Result {
    let status = util::cargo()
        .args(["fetch", "--locked", "--manifest-path"])
        .arg(crates_dir().join("Cargo.toml"))
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`cargo fetch` of user/crates/Cargo.toml failed ({status}): the crate tests need \
             their sources from crates.io (network access, or a filled ~/.cargo/registry)"
        )
        .into());
    }
    Ok(())
}

/// `$CARGO_HOME/registry/src/index.crates.io-*`.
fn registry_src() -> Result<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let src = home.join("registry").join("src");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&src)
        .map_err(|e| format!("cannot read {}: {e}", src.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("index.crates.io-")))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .next()
        .ok_or_else(|| format!("no crates.io registry under {}", src.display()).into())
}

/// Copies the published package to target/crates/src/NAME-VERSION (once),
/// makes it a workspace of its own and gives it the committed lockfile.
fn prepare_source(c: &Crate, registry: &Path) -> Result<PathBuf> {
    let full = format!("{}-{}", c.name, c.version);
    let dest = work_dir().join("src").join(&full);
    let marker = dest.join(".ferrite-prepared");
    if !marker.is_file() {
        let from = registry.join(&full);
        if !from.join("Cargo.toml").is_file() {
            return Err(format!("{} is missing after `cargo fetch`", from.display()).into());
        }
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        fs::create_dir_all(dest.parent().ok_or("bad path")?)?;
        let status = Command::new("cp").arg("-r").arg(&from).arg(&dest).status()?;
        if !status.success() {
            return Err(format!("cannot copy {}", from.display()).into());
        }
        // Inside our target/ it would otherwise belong to our workspace.
        let manifest = dest.join("Cargo.toml");
        let mut text = fs::read_to_string(&manifest)?;
        text.push_str("\n[workspace]\n");
        fs::write(&manifest, text)?;
        fs::write(&marker, "")?;
    }
    let lock = lock_path(c);
    if lock.is_file() {
        fs::copy(&lock, dest.join("Cargo.lock"))?;
    }
    Ok(dest)
}

fn lock_path(c: &Crate) -> PathBuf {
    crates_dir().join("locks").join(format!("{}.lock", c.name))
}

/// `cargo test --no-run` in the crate's copy; returns `(BIN, executable)`
/// for every test binary (BIN: `lib` for the unit tests, else the test's
/// target name). A crate without a committed lockfile gets one recorded.
fn build_tests(c: &Crate, src: &Path) -> Result<Vec<(String, PathBuf)>> {
    let lock = lock_path(c);
    let mut cmd = util::cargo();
    cmd.current_dir(src)
        .args(["test", "--no-run", "--release", "--message-format=json-render-diagnostics"])
        .args(["--target", TARGET])
        .arg("--target-dir")
        .arg(work_dir().join("build"))
        .args(c.select)
        .env("CARGO_ENCODED_RUSTFLAGS", RUST_FLAGS)
        .env_remove("RUSTFLAGS")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if lock.is_file() {
        cmd.arg("--locked");
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run cargo for {}: {e}", c.name))?;
    if !out.status.success() {
        return Err(format!("`cargo test --no-run` of {} {} failed ({})", c.name, c.version, out.status).into());
    }
    if !lock.is_file() {
        fs::create_dir_all(lock.parent().ok_or("bad path")?)?;
        fs::copy(src.join("Cargo.lock"), &lock)?;
        println!("crates: recorded {} (commit it)", lock.display());
    }
    let mut bins = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(b) = test_executable(line) {
            if !bins.iter().any(|(n, _): &(String, PathBuf)| *n == b.0) {
                bins.push(b);
            }
        }
    }
    bins.sort();
    if bins.is_empty() {
        return Err(format!("{} built no test binaries", c.name).into());
    }
    Ok(bins)
}

/// From one `compiler-artifact` JSON message of a test target: `(BIN,
/// executable)`. A tiny scan, not a JSON parser: cargo writes these
/// fields in a fixed shape.
fn test_executable(line: &str) -> Option<(String, PathBuf)> {
    if !line.contains("\"reason\":\"compiler-artifact\"") || !line.contains("\"test\":true") {
        return None;
    }
    let exe = string_field(line, "\"executable\":\"")?;
    let target = &line[line.find("\"target\":{")?..];
    let kind = string_field(target, "\"kind\":[\"")?;
    let name = string_field(target, "\"name\":\"")?;
    let bin = if kind == "test" { name } else { kind };
    Some((bin.to_string(), PathBuf::from(exe)))
}

fn string_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let rest = &text[text.find(key)? + key.len()..];
    Some(&rest[..rest.find('"')?])
}

/// `strip -o out exe` when `out` is older than `exe`.
fn strip(exe: &Path, out: &Path) -> Result {
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if mtime(out).is_some_and(|o| mtime(exe).is_some_and(|e| o >= e)) {
        return Ok(());
    }
    fs::create_dir_all(out.parent().ok_or("bad path")?)?;
    let status = Command::new("strip")
        .arg("-o")
        .arg(out)
        .arg(exe)
        .status()
        .map_err(|e| format!("cannot run strip (binutils): {e}"))?;
    if !status.success() {
        return Err(format!("strip {} failed", exe.display()).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_executables_in_cargo_json() {
        let lib = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["lib"],"crate_types":["lib"],"name":"tempfile","src_path":"/s/lib.rs"},"profile":{"opt_level":"3","test":true},"executable":"/t/deps/tempfile-1"}"#;
        let test = r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"env"},"profile":{"test":true},"executable":"/t/deps/env-2"}"#;
        let example = r#"{"reason":"compiler-artifact","target":{"kind":["example"],"name":"cat"},"profile":{"test":false},"executable":"/t/examples/cat"}"#;
        assert_eq!(test_executable(lib), Some(("lib".into(), "/t/deps/tempfile-1".into())));
        assert_eq!(test_executable(test), Some(("env".into(), "/t/deps/env-2".into())));
        assert_eq!(test_executable(example), None);
    }

    #[test]
    fn parses_runner_lines() {
        let mut r = Results::default();
        for l in [
            "crates: running tempfile lib",
            "crates: tempfile lib spooled::test_x ok",
            "crates-log: tempfile env foo| crates: a b c ok",
            "crates: tempfile env foo FAILED",
            "crates: memmap2 lib --list FAILED",
            "crates: done",
        ] {
            r.line(l);
        }
        assert!(r.done);
        assert_eq!(r.by_crate["tempfile"]["lib spooled::test_x"], "ok");
        assert_eq!(r.by_crate["tempfile"]["env foo"], "FAILED");
        assert_eq!(r.by_crate["tempfile"].len(), 2);
        assert_eq!(r.by_crate["memmap2"]["lib --list"], "FAILED");
    }

    #[test]
    fn manifest_pins_every_crate() {
        let manifest = fs::read_to_string(crates_dir().join("Cargo.toml")).unwrap();
        for c in CRATES {
            let pin = format!("{} = \"={}\"", c.name, c.version);
            assert!(manifest.contains(&pin), "user/crates/Cargo.toml lacks `{pin}`");
        }
    }
}

//! Booting the kernel in QEMU.
//!
//! One command line ([`Config::args`]) serves both ways of running:
//!
//! - [`run_interactive`]: QEMU owns this terminal (`cargo xtask run`);
//! - [`run_captured`]: serial output is read line by line and handed to a
//!   callback, stdin is closed, and a hard time limit kills a hung guest.
//!   Test boots, guest-program runs and benchmarks all go through it.
//!
//! The guest ends a run by writing to the `isa-debug-exit` port (0xf4);
//! QEMU then exits with `(value << 1) | 1`. Ferrite writes 0x10 for success
//! (exit 33) and 0x11 for failure (exit 35).

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{self, Result};

/// QEMU's exit status when the kernel reports success.
pub const EXIT_SUCCESS: i32 = (0x10 << 1) | 1;
/// QEMU's exit status when the kernel reports failure (also after a panic).
pub const EXIT_FAILURE: i32 = (0x11 << 1) | 1;

/// One QEMU boot.
#[derive(Clone, Debug)]
pub struct Config {
    pub kernel: PathBuf,
    pub smp: u32,
    /// QEMU's `-m` value, e.g. `512M`, `1G`.
    pub mem: String,
    /// The kernel command line.
    pub append: String,
    /// Defaults to `target/ferrite/initramfs.cpio` when that file exists.
    pub initrd: Option<PathBuf>,
    /// Extra QEMU arguments, appended last (devices, `-netdev user,...`).
    pub extra: Vec<String>,
}

impl Config {
    /// Two CPUs, 1 GiB, empty command line, the default initramfs if built.
    pub fn new(kernel: PathBuf) -> Self {
        let initrd = util::out_dir().join("initramfs.cpio");
        Self {
            kernel,
            smp: 2,
            mem: "1G".into(),
            append: String::new(),
            initrd: initrd.is_file().then_some(initrd),
            extra: Vec::new(),
        }
    }

    /// QEMU's arguments, without the display/serial choice.
    fn args(&self) -> Vec<String> {
        let accel = std::env::var("FERRITE_ACCEL").unwrap_or_else(|_| "tcg".into());
        let mut pairs = vec![
            ("-machine", "q35".to_string()),
            ("-cpu", "max".into()),
            ("-accel", accel),
            ("-smp", self.smp.to_string()),
            ("-m", self.mem.clone()),
            // Guest writes to port 0xf4 end the run with a status.
            ("-device", "isa-debug-exit,iobase=0xf4,iosize=4".into()),
            ("-kernel", self.kernel.display().to_string()),
            ("-append", self.append.clone()),
        ];
        if let Some(initrd) = &self.initrd {
            pairs.push(("-initrd", initrd.display().to_string()));
        }
        let mut a = vec!["-no-reboot".to_string()];
        for (flag, value) in pairs {
            a.push(flag.to_string());
            a.push(value);
        }
        a
    }

    fn command(&self) -> Result<Command> {
        if !self.kernel.is_file() {
            return Err(format!(
                "kernel image {} does not exist (run `cargo xtask build`)",
                self.kernel.display()
            )
            .into());
        }
        if let Some(initrd) = &self.initrd
            && !initrd.is_file()
        {
            return Err(format!("initrd {} does not exist", initrd.display()).into());
        }
        let mut cmd = Command::new(binary());
        cmd.args(self.args());
        Ok(cmd)
    }
}

/// The QEMU binary: `$FERRITE_QEMU` or `qemu-system-x86_64`.
pub fn binary() -> String {
    std::env::var("FERRITE_QEMU").unwrap_or_else(|_| "qemu-system-x86_64".into())
}

/// Whether a QEMU exit status means the guest succeeded. 0 is a plain
/// QEMU exit (e.g. Ctrl-A X, or an ACPI power-off).
pub fn is_success(code: i32) -> bool {
    code == EXIT_SUCCESS || code == 0
}

/// A human phrase for a QEMU exit status (`None`: killed by a signal).
pub fn describe_exit(code: Option<i32>) -> String {
    match code {
        Some(EXIT_SUCCESS) => "kernel reported success (QEMU exit 33)".into(),
        Some(EXIT_FAILURE) => "kernel reported failure (QEMU exit 35)".into(),
        Some(0) => "QEMU exited normally (exit 0)".into(),
        Some(c) if c & 1 == 1 && c > 1 => {
            format!(
                "kernel wrote {:#x} to the debug-exit port (QEMU exit {c})",
                c >> 1
            )
        }
        Some(c) => format!("QEMU failed (exit {c})"),
        None => "QEMU was killed by a signal".into(),
    }
}

/// `-nographic` on this terminal; returns QEMU's exit code.
pub fn run_interactive(cfg: &Config) -> Result<Option<i32>> {
    let mut cmd = cfg.command()?;
    cmd.args(["-nographic"]).args(&cfg.extra);
    eprintln!("xtask: {} (quit: Ctrl-A X)", show(&cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", binary()))?;
    Ok(status.code())
}

/// The full `-nographic` command line of [`run_interactive`] (binary
/// first), for drivers that run QEMU on a terminal of their own.
pub fn interactive_argv(cfg: &Config) -> Result<Vec<String>> {
    let cmd = cfg.command()?;
    let mut argv = vec![cmd.get_program().to_string_lossy().into_owned()];
    argv.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    argv.push("-nographic".into());
    argv.extend(cfg.extra.iter().cloned());
    Ok(argv)
}

/// What the line callback tells the runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// Kill QEMU now; the outcome's exit is [`Exit::Stopped`].
    Stop,
}

/// How a captured run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// QEMU exited with this status (`None`: killed by a signal).
    Exited(Option<i32>),
    /// The time limit passed; QEMU was killed.
    TimedOut,
    /// The callback asked to stop; QEMU was killed.
    Stopped,
}

/// The result of [`run_captured`].
#[derive(Debug)]
pub struct Outcome {
    pub exit: Exit,
    /// Every serial line, `\r` and `\n` stripped.
    pub lines: Vec<String>,
    /// QEMU's own messages (stderr).
    pub stderr: Vec<String>,
    pub elapsed: Duration,
}

impl Outcome {
    /// QEMU's exit status, if it exited by itself.
    pub fn code(&self) -> Option<i32> {
        match self.exit {
            Exit::Exited(code) => code,
            _ => None,
        }
    }
}

enum Msg {
    Serial(String),
    Stderr(String),
}

/// Boots with the serial port on a pipe and stdin closed. Each serial line
/// goes to `on_line` as it arrives; QEMU's stderr lines are echoed to our
/// stderr as `qemu: ...`. After `timeout` QEMU is killed.
pub fn run_captured(
    cfg: &Config,
    timeout: Duration,
    mut on_line: impl FnMut(&str) -> Control,
) -> Result<Outcome> {
    let mut cmd = cfg.command()?;
    // A monitor socket, asked where the CPUs are if the guest hangs.
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let socket = std::env::temp_dir().join(format!("ferrite-qemu-{}-{n}.mon", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    cmd.args(["-display", "none", "-serial", "stdio", "-monitor"])
        .arg(format!("unix:{},server=on,wait=off", socket.display()))
        .args(&cfg.extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary()))?;
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let tx2 = tx.clone();
    let readers = [
        thread::spawn(move || read_lines(stdout, |l| tx.send(Msg::Serial(l)).is_ok())),
        thread::spawn(move || read_lines(stderr, |l| tx2.send(Msg::Stderr(l)).is_ok())),
    ];

    let deadline = start + timeout;
    let mut out = Outcome {
        exit: Exit::TimedOut,
        lines: Vec::new(),
        stderr: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let ended = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Msg::Serial(line)) => {
                let control = on_line(&line);
                out.lines.push(line);
                if control == Control::Stop {
                    break Exit::Stopped;
                }
            }
            Ok(Msg::Stderr(line)) => {
                eprintln!("qemu: {line}");
                out.stderr.push(line);
            }
            // Both pipes closed: QEMU is gone (or closing); reap it below.
            Err(RecvTimeoutError::Disconnected) => break Exit::Exited(None),
            Err(RecvTimeoutError::Timeout) => break Exit::TimedOut,
        }
    };
    out.exit = match ended {
        Exit::Exited(_) => Exit::Exited(wait_until(&mut child, deadline)?),
        other => {
            if other == Exit::TimedOut {
                let report = crate::qemu_monitor::where_are_the_cpus(&socket, cfg.smp);
                for line in report {
                    println!("{line}");
                    out.lines.push(line);
                }
            }
            kill(&mut child);
            other
        }
    };
    let _ = std::fs::remove_file(&socket);
    if out.exit == Exit::Exited(None) && Instant::now() >= deadline {
        out.exit = Exit::TimedOut;
    }
    out.elapsed = start.elapsed();
    drop(rx);
    for r in readers {
        let _ = r.join();
    }
    Ok(out)
}

/// Calls `sink` with each line of `from` (lossy UTF-8, line ends stripped)
/// until EOF or until `sink` returns false.
fn read_lines(from: impl Read, mut sink: impl FnMut(String) -> bool) {
    let mut reader = BufReader::new(from);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                if !sink(text.trim_end_matches(['\n', '\r']).to_string()) {
                    return;
                }
            }
        }
    }
}

/// Waits for QEMU to exit after its pipes closed; kills it at `deadline`.
fn wait_until(child: &mut Child, deadline: Instant) -> Result<Option<i32>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.code());
        }
        if Instant::now() >= deadline {
            kill(child);
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The command as a shell-like line, for the reader.
fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains([' ', '\'', '"']) {
            s.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(EXIT_SUCCESS, 33);
        assert_eq!(EXIT_FAILURE, 35);
        assert!(is_success(33) && is_success(0) && !is_success(35) && !is_success(1));
        assert!(describe_exit(Some(35)).contains("failure"));
    }

    #[test]
    fn command_line() {
        let mut cfg = Config::new(PathBuf::from("/k"));
        cfg.initrd = Some(PathBuf::from("/i.cpio"));
        cfg.append = "ktest=all".into();
        let a = cfg.args().join(" ");
        assert!(a.starts_with("-no-reboot -machine q35 -cpu max -accel "));
        assert!(a.contains(" -smp 2 -m 1G "));
        assert!(a.contains(" -device isa-debug-exit,iobase=0xf4,iosize=4 "));
        assert!(a.ends_with(" -kernel /k -append ktest=all -initrd /i.cpio"));
    }

    #[test]
    fn missing_kernel_is_a_clear_error() {
        let cfg = Config::new(PathBuf::from("/nonexistent/ferrite"));
        let err = run_captured(&cfg, Duration::from_secs(1), |_| Control::Continue).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}

/// Prints the last `lines` serial lines of a boot (and QEMU's stderr), the
/// context every test step shows when a boot goes wrong.
pub fn print_tail(tag: &str, outcome: &Outcome, lines: usize) {
    let from = outcome.lines.len().saturating_sub(lines);
    println!(
        "--- last {} serial lines ({tag}) ---",
        outcome.lines.len() - from
    );
    for line in &outcome.lines[from..] {
        println!("    {line}");
    }
    if !outcome.stderr.is_empty() {
        println!("--- QEMU stderr ---");
        for line in &outcome.stderr {
            println!("    {line}");
        }
    }
    println!("---");
}

//! `cargo xtask interactive`: the console as a person uses it. The default
//! image (`/init`: a busybox shell with the console as its controlling
//! terminal) boots under `-nographic` on a host pseudo-terminal driven by
//! `xtask/scripts/interactive.py`, which types and checks:
//!
//! ```text
//!  boot to a shell prompt          `Welcome to Ferrite`, then `/root # `
//!  echo hi                         `echo hi$((1+1))` prints `hi2`
//!  line editing (erase, kill)      `read x` gets `abc` from `junk^Uabx<DEL>c`
//!  ^C interrupts sleep 100         back at the prompt, `$?` is 130
//!  ^Z stops a job, fg resumes it   ash says `Stopped`; `fg`, then ^C
//!  poweroff -f ends QEMU
//! ```
//! One pass or failure per check (`interactive: NAME ... ok`); the script's
//! own crash, or no result line, is one more failure.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::qemu;
use crate::util::{self, Args, Result};
use crate::{build, deps, initramfs};

/// Time limit for the whole session (it takes ~20 s under TCG).
const TIMEOUT: Duration = Duration::from_secs(240);

/// `cargo xtask interactive`.
pub fn cmd(args: Args) -> Result<ExitCode> {
    args.finish()?;
    deps::ensure()?;
    let kernel = build::kernel(build::Profile::Kernel)?;
    initramfs::build()?;
    let (passed, failures) = run(&kernel);
    println!(
        "interactive console: {passed} passed, {} failed",
        failures.len()
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs the session on `kernel` with the default initramfs: (passed,
/// one message per failure). Lines are echoed as they come.
pub fn run(kernel: &Path) -> (u32, Vec<String>) {
    let mut failures = Vec::new();
    let cfg = qemu::Config::new(kernel.to_path_buf());
    let argv = match qemu::interactive_argv(&cfg) {
        Ok(a) => a,
        Err(e) => return (0, vec![format!("interactive console: {e}")]),
    };
    let script = util::root()
        .join("xtask")
        .join("scripts")
        .join("interactive.py");
    let log = util::out_dir().join("interactive.log");
    let child = Command::new("timeout")
        .arg("--kill-after=5")
        .arg(TIMEOUT.as_secs().to_string())
        .arg("python3")
        .arg(&script)
        .args(&argv)
        .env("INTERACTIVE_LOG", &log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return (
                0,
                vec![format!("interactive console: cannot run python3: {e}")],
            );
        }
    };
    let started = Instant::now();
    let (mut passed, mut result_seen) = (0, false);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            println!("{line}");
            let Some(rest) = line.strip_prefix("interactive: ") else {
                continue;
            };
            if rest.starts_with("result: ") {
                result_seen = true;
            } else if rest.ends_with(" ... ok") {
                passed += 1;
            } else if let Some((name, why)) = rest.split_once(" ... FAILED: ") {
                failures.push(format!("interactive console: {name}: {why}"));
            }
        }
    }
    let status = child.wait();
    if !result_seen {
        let how = match status {
            Ok(s) if s.code() == Some(124) => format!("timed out after {} s", TIMEOUT.as_secs()),
            Ok(s) => format!("driver ended ({s}) without a result line"),
            Err(e) => format!("driver: {e}"),
        };
        failures.push(format!("interactive console: {how}"));
    }
    println!(
        "(interactive session took {:.1?}; console log in {})",
        started.elapsed(),
        log.display()
    );
    (passed, failures)
}

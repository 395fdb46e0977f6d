//! `cargo xtask bench ...`: measurements taken through the QEMU runner.
//!
//! `bench boot`: wall time from QEMU's start to the first serial line with
//! `ferrite: banner`, and the kernel's own `boot-ms=` figure from that line.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::qemu::{self, Control, Exit};
use crate::util::{Args, Result};
use crate::{build, deps};

const BANNER: &str = "ferrite: banner";

pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let what = args.next_positional();
    args.finish()?;
    match what.as_deref() {
        Some("boot") => boot(),
        Some(other) => Err(format!("unknown benchmark `{other}` (known: boot)").into()),
        None => Err("usage: cargo xtask bench boot".into()),
    }
}

fn boot() -> Result<ExitCode> {
    deps::ensure()?;
    let image = build::kernel(build::Profile::Kernel)?;
    let mut cfg = qemu::Config::new(image);
    cfg.smp = 2;
    let start = Instant::now();
    let mut found: Option<(Duration, String)> = None;
    let outcome = qemu::run_captured(&cfg, Duration::from_secs(120), |line| {
        if line.contains(BANNER) {
            found = Some((start.elapsed(), line.to_string()));
            return Control::Stop;
        }
        Control::Continue
    })?;
    let Some((elapsed, line)) = found else {
        let how = match outcome.exit {
            Exit::TimedOut => "timed out".to_string(),
            Exit::Exited(code) => qemu::describe_exit(code),
            Exit::Stopped => "stopped".to_string(),
        };
        for l in outcome.lines.iter().rev().take(30).rev() {
            println!("    {l}");
        }
        return Err(format!("no `{BANNER}` line before QEMU ended ({how})").into());
    };
    println!(
        "boot: QEMU start to banner: {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
    match boot_ms(&line) {
        Some(ms) => println!("boot: kernel-reported boot-ms={ms}"),
        None => println!("boot: (no boot-ms= in the banner line)"),
    }
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
    #[test]
    fn boot_ms() {
        assert_eq!(
            super::boot_ms("[ 0.5 0] ferrite: banner v0.1 boot-ms=12.5 cpus=2"),
            Some("12.5")
        );
        assert_eq!(super::boot_ms("ferrite: banner"), None);
    }
}

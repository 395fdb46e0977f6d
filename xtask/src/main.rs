//! `cargo xtask`: Ferrite's build, run, test and report tool.
//!
//! A std host binary (never part of the kernel image). Every task the README
//! names goes through here, so a developer and CI run the same steps:
//!
//! ```text
//! deps ──► build ──► run                      (interactive QEMU)
//!            │
//!            └────► test: host tests, ktest boots, user tests,
//!                         panic self-test, unsafe report,
//!                         final "N passed, M failed"
//! initramfs ──► run, test, utest        (guest programs from user/)
//! ```
//!
//! QEMU is driven through one runner ([`qemu`]), which the test, bench and
//! later guest-program steps share.
#![forbid(unsafe_code)]

/// `cargo xtask bench ...`.
mod bench;
/// The bar chart PNG of the benchmark ratios.
mod bench_png;
/// Benchmark table, JSON and docs page.
mod bench_report;
/// Kernel build with bare-metal flags (`cargo xtask build`).
mod build;
/// The test suites of crates.io crates (`cargo xtask crates`).
mod crates;
/// Host tool check and install (`cargo xtask deps`).
mod deps;
/// `cargo xtask fuzz`: the syscall fuzzer in a VM, judged.
mod fuzz;
/// Guest programs and the test initramfs (`cargo xtask initramfs`).
mod initramfs;
/// `cargo xtask interactive`: the console driven through a host pty.
mod interactive;
/// The in-kernel test protocol printed on the serial line.
mod ktest;
/// QEMU command line and the captured, time-limited runner.
mod qemu;
mod qemu_monitor;
/// The busybox shell test suite (`cargo xtask shtest`).
mod shtest;
/// ELF symbol lookup for backtrace addresses.
mod symbols;
/// Every x86_64 syscall name and number (generated from linux-raw-sys).
mod syscall_names;
/// `cargo xtask syscalls`: regenerates docs/syscalls.md.
mod syscalls;
/// `cargo xtask test`: every test layer and the final tally.
mod test;
/// `cargo xtask unsafe-report`: where `unsafe` lives and how much.
mod unsafe_report;
/// Guest test programs run by `/init` (`cargo xtask utest`).
mod utest;
/// Workspace paths, process helpers and the error type.
mod util;

use std::process::ExitCode;

use util::{Args, Result};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  deps                       check host tools; install them with apt when root
  build [--debug]            build the kernel; prints target/ferrite/ferrite
  initramfs                  build user/ with musl-gcc and pack
                             target/ferrite/initramfs.cpio
  run [options] [-- qemu args]
                             build kernel and initramfs, boot in QEMU on
                             this terminal
      --smp N                CPUs (default 2)
      --mem SIZE             memory (default 1G)
      --append CMDLINE       kernel command line
      --debug                boot the dev-profile kernel
  interactive                boot the default image on a host pseudo-terminal
                             and type at its shell: echo, line editing, ^C,
                             ^Z and fg, poweroff (xtask/scripts/interactive.py)
  test [--quick] [--filter PATTERN] [--timeout SECS]
                             host tests, ktest boots (smp 1, 2, 4), user
                             tests, panic self-test, unsafe report; ends
                             with `N passed, M failed`
  utest [--linux | --host] [--timeout SECS] [NAME...]
                             only the user tests: on Ferrite, on Debian's
                             cloud kernel (--linux), or on this host (--host)
  shtest [--linux] [--regen] [--timeout SECS] [NAME...]
                             the shell test suite (user/shell/) on Ferrite or
                             on Debian's kernel (--linux); --regen rewrites the
                             expected .out files from a run on Linux
  crates [--linux] [--regen] [--timeout SECS] [NAME...]
                             the published test suites of crates.io crates
                             (user/crates/) on Ferrite or on Debian's kernel
                             (--linux); --regen records Linux's results in
                             user/crates/expected/
  unsafe-report [--root DIR] unsafe statistics per crate; fails if unsafe code
                             is found outside the platform crates
  fuzz [--minutes N | --seconds N] [--seed S] [--workers W] [--smp N] [--linux]
       [--guest-args ARGS]
                             syscall fuzzer (user/fuzz) as init: fails on a
                             kernel panic, hang, lost memory or missing
                             `fuzz: done` (defaults: 60 s, seed 1, 4 workers,
                             smp 2; --linux: on Debian's kernel; ARGS go to
                             /sbin/fuzz, e.g. '--only 39,57 --no-alarm')
  bench [--quick]            benchmarks on Ferrite and on Debian's Linux: table,
                             target/bench/results.json, docs/benchmarks.md/.png
                             (--quick: short runs, no docs; CI's variant)
  bench boot                 boot time of Ferrite, phase by phase
  sym ADDR...                symbolise kernel addresses (hex)
  syscalls [--check]         regenerate docs/syscalls.md from the syscall
                             table; --check fails if it is out of date

environment:
  FERRITE_QEMU               QEMU binary (default qemu-system-x86_64)
  FERRITE_ACCEL              QEMU accelerator (default tcg; kvm fails here)
";

fn main() -> ExitCode {
    let mut args = Args::from_env();
    let Some(command) = args.next_positional() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let outcome = match command.as_str() {
        "deps" => deps::cmd(args),
        "build" => build::cmd(args),
        "run" => cmd_run(args),
        "test" => test::cmd(args),
        "initramfs" => initramfs::cmd(args),
        "interactive" => interactive::cmd(args),
        "utest" => utest::cmd(args),
        "shtest" => shtest::cmd(args),
        "crates" => crates::cmd(args),
        "unsafe-report" => unsafe_report::cmd(args),
        "bench" => bench::cmd(args),
        "fuzz" => fuzz::cmd(args),
        "sym" => symbols::cmd(args),
        "syscalls" => syscalls::cmd(args),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}").into()),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask run`: deps, build, then QEMU owns this terminal until the
/// guest powers off (or Ctrl-A X).
fn cmd_run(mut args: Args) -> Result<ExitCode> {
    let debug = args.flag("--debug");
    let smp = args
        .value("--smp")?
        .map(|s| util::parse_num(&s, "--smp"))
        .transpose()?;
    let mem = args.value("--mem")?;
    let append = args.value("--append")?;
    let extra = args.rest_after_dashdash();
    args.finish()?;

    deps::ensure()?;
    let kernel = build::kernel(build::Profile::from_debug(debug))?;
    // Before Config::new, which picks up target/ferrite/initramfs.cpio.
    initramfs::build()?;
    let mut cfg = qemu::Config::new(kernel);
    cfg.smp = smp.unwrap_or(2);
    cfg.mem = mem.unwrap_or_else(|| "1G".into());
    cfg.append = append.unwrap_or_default();
    cfg.extra = extra;
    let code = qemu::run_interactive(&cfg)?;
    eprintln!("xtask: {}", qemu::describe_exit(code));
    Ok(match code {
        Some(c) if qemu::is_success(c) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

//! The Ferrite kernel binary: wiring only. `kbase` boots the machine and
//! calls [`main`] on the boot CPU; `main` prints the banner, then runs the
//! in-kernel tests (`ktest=`) or starts init.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod tests;

use kbase::arch::qemu::{self, ExitCode};
use kbase::{BootInfo, kprintln};

kbase::entry!(main);

fn main(info: &'static BootInfo) -> ! {
    let args = cmdline::KernelArgs::parse(info.cmdline());
    // `quiet` (or a `loglevel=` below info) silences the banner and the
    // user-space line as it silences Linux's boot messages (under TCG each
    // serial byte costs a VM exit and a host write).
    if log::log_enabled!(log::Level::Info) {
        print_banner(info);
    }
    if let Some(filter) = args.ktest {
        match filter {
            "panic_selftest" => panic!("panic self-test requested with ktest=panic_selftest"),
            "stack_overflow_selftest" => tests::overflow_the_stack(),
            _ => {}
        }
        let (_, failed) = kbase::ktest::run_all(filter);
        qemu::exit(if failed == 0 { ExitCode::Success } else { ExitCode::Failure });
    }
    start_user_space(info, &args)
}

fn print_banner(info: &BootInfo) {
    let frames = kbase::mm::frame::stats();
    let (smep, smap) = kbase::mm::paging::protection_status();
    kprintln!(
        "ferrite: banner: memory {} MiB ({} MiB free), {} CPUs online, timer {} Hz, TSC {}.{:03} MHz, SMEP {}, SMAP {}, boot-ms={}",
        info.ram_bytes() >> 20,
        (frames.free * 4096) >> 20,
        kbase::arch::percpu::cpus_online(),
        kbase::arch::apic::timer_hz(),
        kbase::time::tsc_hz() / 1_000_000,
        (kbase::time::tsc_hz() / 1000) % 1000,
        if smep { "on" } else { "off" },
        if smap { "on" } else { "off" },
        kbase::time::uptime_ns() / 1_000_000,
    );
}

/// Unpacks the initramfs and starts init as pid 1, as Linux does: `rdinit=`
/// (default `/init`) from the initramfs, else `init=`, else the usual
/// fallbacks, with the command line's words and `key=value` params as its
/// arguments and environment.
fn start_user_space(info: &'static BootInfo, args: &cmdline::KernelArgs<'_>) -> ! {
    linux::set_randomize_va(!args.norandmaps);
    kbase::time::mark_boot_phase("banner");
    linux::init(info.initrd_bytes());
    kbase::time::mark_boot_phase("linux-init");
    // As Linux does: bare words from the command line, then the words
    // after `--`, are init's argv[1..]; other `key=value` params join
    // `HOME=/ TERM=linux` in its environment.
    let init_args: alloc::vec::Vec<&str> = args.init_words.iter().chain(args.init_args.iter()).collect();
    let mut init_env: alloc::vec::Vec<alloc::string::String> = alloc::vec!["HOME=/".into(), "TERM=linux".into()];
    for p in args.init_env.iter() {
        let var = alloc::format!("{}={}", p.key, p.value.unwrap_or(""));
        match init_env.iter_mut().find(|e| e.split('=').next() == Some(p.key)) {
            Some(e) => *e = var,
            None => init_env.push(var),
        }
    }
    if args.init_env.dropped() + args.init_words.dropped() > 0 {
        log::warn!("command line: more than {} environment strings or words for init; the rest dropped", cmdline::MAX_INIT_ENV_ARGS);
    }
    let candidates = [args.rdinit.unwrap_or("/init"), args.init.unwrap_or("/sbin/init"), "/sbin/init", "/etc/init", "/bin/init", "/bin/sh"];
    for path in candidates {
        match linux::start_init(path, &init_args, &init_env) {
            Ok(()) => {
                kbase::time::mark_boot_phase("init");
                if log::log_enabled!(log::Level::Info) {
                    kprintln!("ferrite: user space: ready (init is {path})");
                    print_boot_phases();
                }
                loop {
                    kbase::task::sleep_ns(1_000_000_000);
                }
            }
            Err(e) => log::debug!("init candidate {path}: {e}"),
        }
    }
    kprintln!("ferrite: no working init found (tried /init, init=, /sbin/init, /etc/init, /bin/init, /bin/sh); powering off");
    qemu::exit(ExitCode::Failure)
}

/// One line: where boot time went, phase by phase (see
/// `kbase::time::mark_boot_phase`); `cargo xtask bench boot` reads it.
fn print_boot_phases() {
    let mut line = alloc::string::String::from("ferrite: boot phases (us):");
    kbase::time::boot_phases(|name, us| line.push_str(&alloc::format!(" {name}={us}")));
    log::info!("{line}");
}

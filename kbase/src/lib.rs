//! kbase: Ferrite's platform layer, the only crate (with `cabi/`) that may
//! contain `unsafe`.
//!
//! It turns the machine into safe concepts for the rest of the kernel:
//!
//! ```text
//!   arch      boot stub, CPU, per-CPU data, GDT/IDT/traps, APIC, SMP, TLB
//!   mm        frames (buddy + per-CPU caches), page tables, heap, kernel stacks
//!   sync      interrupt-masking spin lock, Once
//!   task      kernel threads, the scheduler, sleep/wake, wait queues, mutex
//!   time      monotonic clock from the TSC
//!   console   COM1 and the `log` backend
//!   ktest     in-kernel tests
//! ```
//! Boot order lives in [`kbase_boot_entry`].
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

pub mod arch;
pub mod boot_info;
pub mod console;
pub mod klog;
pub mod ktest;
pub mod mm;
pub mod panic;
pub mod random;
mod rt;
mod selftest;
pub mod sync;
pub mod task;
pub mod time;

pub use boot_info::BootInfo;

use sync::Once;

/// The kernel's entry function, registered by the binary crate with
/// `kbase::entry!(main)`; called on the boot CPU once the platform is up.
#[linkme::distributed_slice]
pub static KERNEL_MAIN: [fn(&'static BootInfo) -> !];

/// Registers the kernel's main function.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[$crate::ktest::linkme::distributed_slice($crate::KERNEL_MAIN)]
        #[linkme(crate = $crate::ktest::linkme)]
        static MAIN: fn(&'static $crate::BootInfo) -> ! = $main;
    };
}

static BOOT_INFO: Once<BootInfo> = Once::new();

/// Boot-time figures for the banner.
pub struct BootStats {
    pub boot_ns: u64,
}

/// The boot information (memory map, command line, initrd).
pub fn boot_info() -> &'static BootInfo {
    BOOT_INFO.get().expect("boot info parsed at entry")
}

unsafe extern "C" {
    static __kernel_phys_start: u8;
    static __kernel_end: u8;
}

/// First Rust code, on the boot CPU, on the boot stack, from `arch::boot`.
#[unsafe(no_mangle)]
extern "C" fn kbase_boot_entry(start_info: u64) -> ! {
    time::mark_boot_phase("entry");
    arch::init_bsp_early();
    console::init();
    time::calibrate();
    time::mark_boot_phase("tsc");
    time::read_rtc();
    time::mark_boot_phase("rtc");

    let mut info = BootInfo::empty();
    if let Err(e) = boot_info::parse(start_info, &mut info) {
        panic!("cannot boot: {e}");
    }
    BOOT_INFO.set(info);
    let info = boot_info();
    let args = cmdline::KernelArgs::parse(info.cmdline());
    console::set_level(match args.log_level_or(cmdline::LogLevel::Info) {
        cmdline::LogLevel::Off => log::LevelFilter::Off,
        cmdline::LogLevel::Error => log::LevelFilter::Error,
        cmdline::LogLevel::Warn => log::LevelFilter::Warn,
        cmdline::LogLevel::Info => log::LevelFilter::Info,
        cmdline::LogLevel::Debug => log::LevelFilter::Debug,
        cmdline::LogLevel::Trace => log::LevelFilter::Trace,
    });
    log::info!("Ferrite {} booting; command line: {:?}", env!("CARGO_PKG_VERSION"), info.cmdline());
    for w in args.warnings.iter() {
        log::warn!("command line: {w}; ignored");
    }
    for p in args.unknown.iter() {
        log::warn!("command line: unknown option `{}`; ignored", p.key);
    }

    let (kstart, kend) =
        (core::ptr::addr_of!(__kernel_phys_start) as u64, core::ptr::addr_of!(__kernel_end) as u64);
    let kend_phys = mm::image_phys(kend);
    let mut reserved = [(0u64, 0x10_0000u64), (kstart, kend_phys), (0, 0)];
    if let Some(m) = info.initrd {
        reserved[2] = (m.paddr, m.paddr + m.size);
    }
    time::mark_boot_phase("cmdline");
    mm::frame::init(info, &reserved);
    time::mark_boot_phase("frames");
    if let Err(e) = mm::paging::init(info) {
        panic!("cannot build kernel page tables: {e}");
    }
    time::mark_boot_phase("paging");
    task::watchdog::configure(&args);
    arch::late_init(&args);
    task::init();
    time::mark_boot_phase("tasks");

    let main = KERNEL_MAIN.first().expect("the kernel binary registers a main with kbase::entry!");
    task::run_main(*main, info)
}

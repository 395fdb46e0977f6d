//! Panics and fatal traps: print everything useful, stop every CPU, and make
//! QEMU exit with a failure status so no test run can hang on a dead kernel.
//!
//! Output shape (xtask symbolises the `bt:` lines):
//! ```text
//! KERNEL PANIC on CPU 1: <message>
//!   rip ... registers (fatal traps only)
//! backtrace:
//!   bt: 0xffffffff80123456
//! ```

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::{cpu, extable, percpu, qemu, trap::TrapFrame};
use crate::console::write_fmt_panicking as out;

static PANICKING: AtomicBool = AtomicBool::new(false);

/// True once any CPU has started to panic (other CPUs then stop quietly).
pub fn is_panicking() -> bool {
    PANICKING.load(Ordering::Relaxed)
}

#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cpu::disable_interrupts();
    if PANICKING.swap(true, Ordering::AcqRel) {
        // Another CPU is already reporting; a panic while panicking on this
        // CPU just stops here.
        halt_forever();
    }
    crate::arch::stop_other_cpus();
    out(format_args!("\nKERNEL PANIC on CPU {}: {}\n", percpu::cpu_index(), info));
    backtrace(cpu::frame_pointer(), None);
    finish()
}

/// Reports an exception the kernel cannot handle and stops.
pub(crate) fn fatal_trap(frame: &TrapFrame, name: &str, cr2: u64, stack_overflow: bool) -> ! {
    if PANICKING.swap(true, Ordering::AcqRel) {
        halt_forever();
    }
    crate::arch::stop_other_cpus();
    let what = if stack_overflow { " (kernel stack overflow: guard page hit)" } else { "" };
    out(format_args!(
        "\nKERNEL PANIC on CPU {}: unhandled {} (vector {}) in {} mode{}, error code {:#x}\n",
        percpu::cpu_index(),
        name,
        frame.vector,
        if frame.is_from_user() { "user" } else { "kernel" },
        what,
        frame.error_code
    ));
    if frame.vector == 14 {
        out(format_args!("  fault address (cr2) {cr2:#018x}\n"));
    }
    crate::arch::trap::print_registers(&mut |a| out(a), frame);
    backtrace(frame.rbp, Some(frame.rip));
    finish()
}

/// Prints a backtrace from `rbp` (and `first`, the interrupted rip) without
/// stopping anything: the watchdog's reports.
pub(crate) fn print_backtrace(rbp: u64, first: Option<u64>) {
    backtrace(rbp, first);
}

/// Walks the frame-pointer chain (kernel is built with frame pointers),
/// reading each frame through the fault-tolerant probe.
fn backtrace(mut rbp: u64, first: Option<u64>) {
    out(format_args!("backtrace:\n"));
    if let Some(rip) = first {
        out(format_args!("  bt: {rip:#018x}\n"));
    }
    for _ in 0..32 {
        if rbp == 0 {
            break;
        }
        let (Ok(next), Ok(ret)) = (extable::probe_read_u64(rbp), extable::probe_read_u64(rbp + 8)) else {
            break;
        };
        if ret == 0 {
            break;
        }
        out(format_args!("  bt: {ret:#018x}\n"));
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}

fn finish() -> ! {
    out(format_args!("ferrite: halting after panic\n"));
    qemu::exit(qemu::ExitCode::Failure)
}

/// Parks this CPU for good (used by CPUs stopped by a panic elsewhere).
pub(crate) fn halt_forever() -> ! {
    cpu::disable_interrupts();
    loop {
        cpu::halt();
    }
}

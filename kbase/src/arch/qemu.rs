//! Leaving the VM: QEMU's isa-debug-exit device and ACPI soft-off.

use super::cpu::{self, outl};

/// Exit status codes written to isa-debug-exit (QEMU exits with `code*2+1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    Success = 0x10,
    Failure = 0x11,
}

/// Stops the machine with `code`. Falls back to ACPI soft-off (q35 PM1a
/// control at 0x604) and then halts forever if neither device exists.
pub fn exit(code: ExitCode) -> ! {
    outl(0xf4, code as u32);
    power_off()
}

/// Powers the machine off (ACPI S5 on QEMU's q35/piix), or halts.
pub fn power_off() -> ! {
    super::cpu::disable_interrupts();
    // q35 (ICH9): PM1a_CNT at 0x604; SLP_TYPa=0 (S5 in QEMU's DSDT), SLP_EN.
    outw(0x604, 0x2000);
    // piix4: PM1a_CNT at 0xb004.
    outw(0xb004, 0x2000);
    loop {
        cpu::halt();
    }
}

fn outw(port: u16, v: u16) {
    // SAFETY: writes to the ACPI PM1a control register only power the VM off.
    unsafe { core::arch::asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags)) };
}

//! x86_64: the only module that knows the CPU. Boot stub, per-CPU data,
//! GDT/IDT/traps, APIC, SMP start-up, TLB shootdown, QEMU exit.

pub mod acpi;
pub mod apic;
mod boot;
pub mod cpu;
pub mod extable;
pub mod gdt;
pub mod ioapic;
pub mod percpu;
pub mod qemu;
pub mod serial;
pub mod smp;
pub mod tlb;
pub mod trap;
pub mod uaccess;
pub mod user;
pub mod redzone;

/// Brings up the boot CPU's descriptor tables and interrupt gates.
pub(crate) fn init_bsp_early() {
    // Mask the legacy 8259 PICs: their vectors (8..15 after BIOS) collide
    // with CPU exceptions. The APIC code routes real interrupts later.
    cpu::outb(0x21, 0xff);
    cpu::outb(0xa1, 0xff);
    percpu::init_this_cpu(0, 0);
    gdt::init_this_cpu(0, gdt::bsp_ist_tops());
    trap::init_idt();
    trap::load_idt();
    enable_xsave();
    user::init_this_cpu();
}

/// Enables XSAVE/AVX state for user programs (CR4.OSXSAVE, XCR0 = x87|SSE|AVX
/// as available).
pub(crate) fn enable_xsave() {
    let l1 = cpu::cpuid(1, 0);
    if l1.ecx & (1 << 26) == 0 {
        return;
    }
    // SAFETY: OSXSAVE is supported (CPUID.1:ECX.XSAVE); setting it only
    // enables the XSAVE family and XGETBV.
    unsafe { cpu::write_cr4(cpu::read_cr4() | (1 << 18)) };
    let supported = {
        let d = cpu::cpuid(0xd, 0);
        (u64::from(d.edx) << 32) | u64::from(d.eax)
    };
    let want = 0b111 & supported; // x87 | SSE | AVX
    // SAFETY: OSXSAVE is on and `want` is a subset of the supported mask
    // containing x87 and SSE (always present when XSAVE is).
    unsafe { cpu::write_xcr0(want | 0b11) };
}

/// Stops every other CPU (panic path): an NMI to each, whose handler parks
/// the CPU once a panic is in progress (works even where interrupts are off).
pub(crate) fn stop_other_cpus() {
    apic::broadcast_stop();
}

/// Platform bring-up after memory: ACPI, APICs, timer, other CPUs.
pub(crate) fn late_init(args: &cmdline::KernelArgs<'_>) {
    acpi::init(crate::boot_info().rsdp);
    crate::time::mark_boot_phase("acpi");
    apic::init_bsp();
    crate::time::mark_boot_phase("apic");
    ioapic::init();
    percpu::mark_online(0);
    smp::start_aps(args);
    crate::time::mark_boot_phase("smp");
}

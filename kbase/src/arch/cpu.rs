//! Single privileged instructions wrapped as safe functions.
//!
//! Each wrapper performs one instruction whose effect is confined to state
//! the kernel owns; the ones that could break memory safety (CR3, GDT/IDT
//! loads, MSRs that move stacks) stay private to `arch`.

use core::arch::asm;

/// Reads the time-stamp counter.
#[inline(always)]
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects (CR4.TSD is clear, we are in ring 0).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// CPUID leaf/subleaf.
pub fn cpuid(leaf: u32, sub: u32) -> core::arch::x86_64::CpuidResult {
    core::arch::x86_64::__cpuid_count(leaf, sub)
}

/// Are maskable interrupts enabled on this CPU?
#[inline(always)]
pub fn interrupts_enabled() -> bool {
    let flags: u64;
    // SAFETY: reading RFLAGS through the stack has no other effect.
    unsafe { asm!("pushfq; pop {}", out(reg) flags, options(nomem, preserves_flags)) };
    flags & (1 << 9) != 0
}

/// Masks maskable interrupts on this CPU.
#[inline(always)]
pub fn disable_interrupts() {
    // SAFETY: masking interrupts cannot break memory safety.
    unsafe { asm!("cli", options(nomem, nostack)) };
}

/// Unmasks maskable interrupts on this CPU.
#[inline(always)]
pub fn enable_interrupts() {
    // SAFETY: every IDT gate is installed before the first `sti` (arch::init
    // runs before anything can call this), so any interrupt is handled.
    unsafe { asm!("sti", options(nomem, nostack)) };
}

/// Enables interrupts and halts until the next one, atomically (no lost
/// wake-up between the two).
#[inline(always)]
pub fn enable_interrupts_and_halt() {
    // SAFETY: as for `enable_interrupts`; HLT only waits.
    unsafe { asm!("sti; hlt", options(nomem, nostack)) };
}

/// Halts until the next interrupt (with interrupts in their current state).
#[inline(always)]
pub fn halt() {
    // SAFETY: HLT only waits for an interrupt.
    unsafe { asm!("hlt", options(nomem, nostack)) };
}

/// Runs `f` with interrupts masked, restoring the previous state after.
#[inline(always)]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let was = interrupts_enabled();
    if was {
        disable_interrupts();
    }
    let r = f();
    if was {
        enable_interrupts();
    }
    r
}

/// Spin-loop hint.
#[inline(always)]
pub fn pause() {
    core::hint::spin_loop();
}

pub(crate) fn read_msr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: callers in `arch` only read architectural MSRs that exist on
    // every x86_64 CPU QEMU's `-cpu max` models (checked by CPUID where optional).
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// # Safety
/// Writing an MSR can change paging, stacks or segment bases; the caller must
/// make sure the new value keeps every invariant the kernel relies on.
pub(crate) unsafe fn write_msr(msr: u32, value: u64) {
    // SAFETY: the caller upholds this function's contract.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags))
    };
}

pub(crate) fn read_cr0() -> u64 {
    let v: u64;
    // SAFETY: reading a control register has no side effects.
    unsafe { asm!("mov {}, cr0", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

pub(crate) fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading a control register has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

pub(crate) fn read_cr3() -> u64 {
    let v: u64;
    // SAFETY: reading a control register has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

pub(crate) fn read_cr4() -> u64 {
    let v: u64;
    // SAFETY: reading a control register has no side effects.
    unsafe { asm!("mov {}, cr4", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// # Safety
/// The new CR4 must keep PAE and the features the kernel already uses.
pub(crate) unsafe fn write_cr4(v: u64) {
    // SAFETY: the caller upholds this function's contract.
    unsafe { asm!("mov cr4, {}", in(reg) v, options(nostack, preserves_flags)) };
}

/// # Safety
/// `pml4` must be the physical address of a valid top-level table that maps
/// the kernel image, the current stack and the direct map as the kernel
/// expects.
pub(crate) unsafe fn write_cr3(pml4: u64) {
    // SAFETY: the caller upholds this function's contract.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) };
}

/// Invalidates the TLB entry for one virtual address on this CPU.
pub(crate) fn invlpg(vaddr: u64) {
    // SAFETY: INVLPG only drops a cached translation.
    unsafe { asm!("invlpg [{}]", in(reg) vaddr, options(nostack, preserves_flags)) };
}

pub(crate) fn outb(port: u16, v: u8) {
    // SAFETY: callers in `arch` only touch ports of devices the kernel owns
    // (COM1, PIT, PIC, the debug-exit device); none of them can write memory.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags)) };
}

pub(crate) fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for `outb`.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags)) };
    v
}

pub(crate) fn outl(port: u16, v: u32) {
    // SAFETY: as for `outb`.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags)) };
}

/// Reads XCR0 after OSXSAVE is enabled, or sets it.
///
/// # Safety
/// CR4.OSXSAVE must be set and `v` must be a value CPUID leaf 0xD allows.
pub(crate) unsafe fn write_xcr0(v: u64) {
    // SAFETY: the caller upholds this function's contract.
    unsafe { asm!("xsetbv", in("ecx") 0u32, in("eax") v as u32, in("edx") (v >> 32) as u32, options(nomem, nostack, preserves_flags)) };
}

/// Current frame pointer (RBP), for backtraces.
#[inline(always)]
pub(crate) fn frame_pointer() -> u64 {
    let v: u64;
    // SAFETY: reading RBP has no side effects.
    unsafe { asm!("mov {}, rbp", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// XCR0 when XSAVE is enabled (CR4.OSXSAVE), else None.
pub(crate) fn xcr0() -> Option<u64> {
    if read_cr4() & (1 << 18) == 0 {
        return None;
    }
    let (lo, hi): (u32, u32);
    // SAFETY: XGETBV(0) is valid once CR4.OSXSAVE is set (checked above).
    unsafe { asm!("xgetbv", in("ecx") 0u32, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// XSAVE of the components in `mask` to `area`.
///
/// # Safety
/// `area` must be 64-byte aligned, writable, with room for CPUID.0xD.0:EBX
/// bytes.
pub(crate) unsafe fn xsave(area: *mut u8, mask: u64) {
    // SAFETY: the caller upholds the contract.
    unsafe { asm!("xsave64 [{}]", in(reg) area, in("eax") mask as u32, in("edx") (mask >> 32) as u32, options(nostack, preserves_flags)) };
}

/// A 16-byte aligned FXSAVE image (x87, MXCSR, XMM0-15).
#[repr(C, align(16))]
pub(crate) struct FxArea(pub(crate) [u8; 512]);

/// FXSAVE of the live x87/SSE state.
pub(crate) fn fxsave() -> FxArea {
    let mut a = FxArea([0; 512]);
    // SAFETY: `a` is a 512-byte, 16-byte aligned buffer we own; FXSAVE
    // only writes it (CR4.OSFXSR is set at boot).
    unsafe { asm!("fxsave64 [{}]", in(reg) a.0.as_mut_ptr(), options(nostack, preserves_flags)) };
    a
}

/// FXRSTOR of `a`, then the kernel's default MXCSR.
///
/// # Safety
/// `a` must hold a valid image (MXCSR reserved bits clear), e.g. one
/// written by `fxsave`.
pub(crate) unsafe fn fxrstor(a: &FxArea) {
    let mxcsr: u32 = 0x1f80;
    // SAFETY: the caller upholds the contract; the area is aligned.
    unsafe {
        asm!("fxrstor64 [{}]", in(reg) a.0.as_ptr(), options(nostack, readonly, preserves_flags));
        asm!("ldmxcsr [{}]", in(reg) &mxcsr, options(nostack, readonly, preserves_flags));
    }
}

/// XRSTOR of the components in `mask` from `area`, then the kernel's
/// default MXCSR (XRSTOR of AVX state also loads the user's MXCSR).
///
/// # Safety
/// As for `xsave`, and the area holds an image written by XSAVE with the
/// same mask or an all-zero header (the initial state).
pub(crate) unsafe fn xrstor(area: *const u8, mask: u64) {
    let mxcsr: u32 = 0x1f80;
    // SAFETY: the caller upholds the contract.
    unsafe {
        asm!("xrstor64 [{}]", in(reg) area, in("eax") mask as u32, in("edx") (mask >> 32) as u32, options(nostack, preserves_flags));
        asm!("ldmxcsr [{}]", in(reg) &mxcsr, options(nostack, readonly, preserves_flags));
    }
}

/// Sets the user FS base (IA32_FS_BASE).
/// Non-canonical (or kernel-half) values are ignored; callers validate
/// first and report EPERM as Linux does.
pub(crate) fn set_fs_base(base: u64) {
    if base >> 47 == 0 {
        // SAFETY: the kernel never uses FS, so its base only affects user
        // mode; the value is a canonical user address.
        unsafe { write_msr(0xC000_0100, base) };
    }
}

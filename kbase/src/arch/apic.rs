//! Local APIC (xAPIC, memory-mapped): per-CPU interrupt acceptance, the
//! periodic timer tick, and inter-processor interrupts.
//!
//! ```text
//!  IA32_APIC_BASE MSR ──▶ physical 0xfee00000 (usually) ──▶ direct map (uncached)
//!     0x0b0 EOI   0x0f0 spurious/enable   0x300/0x310 ICR (IPIs)
//!     0x320 LVT timer ──▶ VECTOR_TIMER, periodic, TICK_HZ
//!  vectors: 0x20 timer · 0x30+n ISA IRQ n (I/O APIC) · 0xf0 TLB · 0xf1 stop · 0xf2 resched · 0xff spurious
//! ```
//! xAPIC only: QEMU 7.2's TCG does not emulate x2APIC, and the MMIO window
//! works everywhere. The timer is calibrated once against the TSC on the
//! boot CPU; every CPU shares the same APIC bus clock. The panic path stops
//! other CPUs with an NMI (which ignores RFLAGS.IF), see [`broadcast_stop`].
//! Register layout: Intel SDM vol. 3A, chapter 11 (table 11-1).

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::trap::{self, TrapFrame};
use super::{cpu, percpu};
use crate::mm::PhysAddr;

pub const VECTOR_TIMER: u8 = 0x20;
/// ISA IRQ `n` routed through the I/O APIC arrives on `VECTOR_ISA_BASE + n`.
pub const VECTOR_ISA_BASE: u8 = 0x30;
pub const VECTOR_TLB: u8 = 0xf0;
pub const VECTOR_STOP: u8 = 0xf1;
pub const VECTOR_RESCHED: u8 = 0xf2;
pub const VECTOR_SPURIOUS: u8 = 0xff;

/// Timer interrupts per second on every CPU.
pub const TICK_HZ: u32 = 100;

const REG_ID: usize = 0x20;
const REG_TPR: usize = 0x80;
const REG_EOI: usize = 0xb0;
const REG_SVR: usize = 0xf0;
const REG_ESR: usize = 0x280;
const REG_ICR_LO: usize = 0x300;
const REG_ICR_HI: usize = 0x310;
const REG_LVT_TIMER: usize = 0x320;
const REG_LVT_LINT0: usize = 0x350;
const REG_LVT_LINT1: usize = 0x360;
const REG_LVT_ERROR: usize = 0x370;
const REG_TIMER_INIT: usize = 0x380;
const REG_TIMER_CUR: usize = 0x390;
const REG_TIMER_DIV: usize = 0x3e0;

const MSR_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;

const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;
const LVT_NMI: u32 = 0b100 << 8;
const SVR_ENABLE: u32 = 1 << 8;
const TIMER_DIV_16: u32 = 0b0011;

const ICR_FIXED: u32 = 0b000 << 8;
const ICR_NMI: u32 = 0b100 << 8;
const ICR_INIT: u32 = 0b101 << 8;
const ICR_STARTUP: u32 = 0b110 << 8;
const ICR_PENDING: u32 = 1 << 12;
const ICR_ASSERT: u32 = 1 << 14;
const ICR_ALL_BUT_SELF: u32 = 0b11 << 18;

static READY: AtomicBool = AtomicBool::new(false);
/// Virtual address of the local APIC window (same physical page on every CPU);
/// 0 until the boot CPU has set it up.
static BASE: AtomicU64 = AtomicU64::new(0);
/// Timer counts (divide-by-16) per tick, measured on the boot CPU.
static TIMER_COUNT: AtomicU32 = AtomicU32::new(0);

/// True once the boot CPU's local APIC is up (IPIs and EOIs work).
pub fn is_ready() -> bool {
    READY.load(Ordering::Acquire)
}

/// Timer interrupts per second (0 before the timer runs).
pub fn timer_hz() -> u32 {
    if TIMER_COUNT.load(Ordering::Relaxed) == 0 { 0 } else { TICK_HZ }
}

fn read(reg: usize) -> u32 {
    let base = BASE.load(Ordering::Relaxed);
    debug_assert!(base != 0);
    // SAFETY: `base` is the direct-map address of this CPU's local APIC
    // window (a 4 KiB MMIO page, mapped uncached since no RAM is there); `reg`
    // is one of the aligned 32-bit register offsets above, inside that page.
    unsafe { core::ptr::read_volatile((base as usize + reg) as *const u32) }
}

fn write(reg: usize, v: u32) {
    let base = BASE.load(Ordering::Relaxed);
    debug_assert!(base != 0);
    // SAFETY: as in `read`; writing APIC registers affects only interrupt
    // delivery, which this module owns.
    unsafe { core::ptr::write_volatile((base as usize + reg) as *mut u32, v) };
}

/// This CPU's local APIC id (xAPIC: bits 24..32 of the ID register).
pub fn read_id() -> u32 {
    read(REG_ID) >> 24
}

/// Signals end of interrupt to this CPU's local APIC (harmless before it is up).
pub fn eoi() {
    if BASE.load(Ordering::Relaxed) != 0 {
        write(REG_EOI, 0);
    }
}

/// Boot CPU: masks the 8259s, enables the local APIC, calibrates and starts
/// the timer, installs the IPI handlers.
pub(crate) fn init_bsp() {
    disable_pic();
    let msr = cpu::read_msr(MSR_APIC_BASE);
    if msr & APIC_BASE_X2APIC != 0 {
        // Only a firmware could have done this; xAPIC mode cannot be
        // re-entered without a reset of the APIC state. Not seen on QEMU.
        log::warn!("apic: firmware left x2APIC mode on; xAPIC MMIO may not work");
    }
    let paddr = msr & 0x000f_ffff_ffff_f000;
    BASE.store(PhysAddr(paddr).to_virt().0, Ordering::Relaxed);
    enable_this_cpu(true);
    let count = calibrate();
    TIMER_COUNT.store(count, Ordering::Relaxed);
    percpu::this_cpu().apic_id.store(read_id(), Ordering::Relaxed);

    let handlers: [(u8, trap::IrqHandler); 4] = [
        (VECTOR_TIMER, on_timer),
        (VECTOR_TLB, super::tlb::handle_ipi),
        (VECTOR_STOP, on_stop),
        (VECTOR_RESCHED, on_resched),
    ];
    for (v, h) in handlers {
        if !trap::register_irq(v, h) {
            log::warn!("apic: vector {v:#x} already taken");
        }
    }
    start_timer();
    log::info!(
        "apic: local APIC id {} at {paddr:#x}, timer {} counts/tick ({TICK_HZ} Hz)",
        read_id(),
        count
    );
    READY.store(true, Ordering::Release);
}

/// Application processor: enables its local APIC and timer (the boot CPU
/// already calibrated it and installed the handlers).
pub(crate) fn init_ap() {
    enable_this_cpu(false);
    start_timer();
}

/// Software-enables the local APIC with a spurious vector, masks what we
/// do not use, and accepts every priority.
fn enable_this_cpu(is_bsp: bool) {
    let msr = cpu::read_msr(MSR_APIC_BASE);
    if msr & APIC_BASE_ENABLE == 0 {
        // SAFETY: setting the global enable bit keeps the base address as
        // it was; it only turns on the local APIC this module drives.
        unsafe { cpu::write_msr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE) };
    }
    write(REG_SVR, SVR_ENABLE | u32::from(VECTOR_SPURIOUS));
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(VECTOR_TIMER));
    // LINT0 carried the 8259 (masked now); LINT1 is the NMI line on the boot
    // CPU (MP spec virtual-wire wiring), unused on the others.
    write(REG_LVT_LINT0, LVT_MASKED);
    write(REG_LVT_LINT1, if is_bsp { LVT_NMI } else { LVT_MASKED });
    write(REG_LVT_ERROR, LVT_MASKED);
    // The ESR is cleared by back-to-back writes (SDM 11.5.3).
    write(REG_ESR, 0);
    write(REG_ESR, 0);
    write(REG_TPR, 0);
    write(REG_EOI, 0);
}

/// Counts how far the APIC timer runs down in ~1 ms of TSC time. The
/// window's real length is the TSC difference read right around the
/// register accesses, so a late wake-up from the spin does not skew the
/// rate; one register access (~1-2 µs under TCG) of uncertainty is ~0.2%
/// of the 100 Hz tick, which only paces scheduling (clocks use the TSC).
fn calibrate() -> u32 {
    write(REG_TIMER_DIV, TIMER_DIV_16);
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(VECTOR_TIMER));
    let window_ns = 1_000_000u64;
    write(REG_TIMER_INIT, u32::MAX);
    let t0 = cpu::rdtsc();
    crate::time::spin_delay_ns(window_ns);
    let t1 = cpu::rdtsc();
    let elapsed = u32::MAX - read(REG_TIMER_CUR);
    write(REG_TIMER_INIT, 0);
    if elapsed == 0 {
        log::warn!("apic: timer did not count during calibration; guessing");
        return 1_000_000;
    }
    let tsc = u128::from(t1.saturating_sub(t0).max(1));
    let per_sec = u128::from(elapsed) * u128::from(crate::time::tsc_hz()) / tsc;
    (per_sec / u128::from(TICK_HZ)).clamp(1, u128::from(u32::MAX)) as u32
}

fn start_timer() {
    write(REG_TIMER_DIV, TIMER_DIV_16);
    write(REG_LVT_TIMER, LVT_PERIODIC | u32::from(VECTOR_TIMER));
    write(REG_TIMER_INIT, TIMER_COUNT.load(Ordering::Relaxed));
}

/// Remaps the 8259 pair to 0x20..0x2f (so a stray interrupt cannot look
/// like an exception) and masks every line.
fn disable_pic() {
    use cpu::outb;
    // ICW1: init + ICW4 needed; ICW2: vector offsets; ICW3: cascade on IRQ2;
    // ICW4: 8086 mode. Then OCW1: mask all.
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

fn on_timer(frame: &mut TrapFrame) {
    percpu::this_cpu().ticks.fetch_add(1, Ordering::Relaxed);
    crate::task::timer_tick(frame);
}

fn on_stop(_frame: &mut TrapFrame) {
    crate::panic::halt_forever();
}

fn on_resched(_frame: &mut TrapFrame) {
    crate::task::resched_ipi();
}

// ---- IPIs ----

/// Waits (bounded) for the previous IPI to leave this local APIC.
fn wait_icr_idle() -> bool {
    for _ in 0..1_000_000 {
        if read(REG_ICR_LO) & ICR_PENDING == 0 {
            return true;
        }
        cpu::pause();
    }
    false
}

/// Writes the ICR pair with interrupts masked, so a handler on this CPU
/// cannot slip its own IPI between the two halves.
fn send_raw(dest_apic_id: u32, low: u32) {
    if BASE.load(Ordering::Relaxed) == 0 {
        return;
    }
    cpu::without_interrupts(|| {
        if !wait_icr_idle() {
            log::warn!("apic: previous IPI still pending; sending anyway");
        }
        write(REG_ICR_HI, dest_apic_id << 24);
        write(REG_ICR_LO, low);
    });
}

/// Sends fixed interrupt `vector` to the online CPU with index `cpu_index`
/// (itself included). Does nothing for a CPU that is not online.
pub fn send_ipi(cpu_index: usize, vector: u8) {
    if !is_ready() || vector < 32 {
        return;
    }
    if let Some(c) = percpu::cpu(cpu_index) {
        send_raw(c.apic_id(), ICR_FIXED | ICR_ASSERT | u32::from(vector));
    }
}

/// Sends an NMI to the online CPU `cpu_index` (the hard-lockup report: it
/// gets through masked interrupts).
pub fn send_nmi(cpu_index: usize) {
    if !is_ready() {
        return;
    }
    if let Some(c) = percpu::cpu(cpu_index) {
        send_raw(c.apic_id(), ICR_NMI | ICR_ASSERT);
    }
}

/// Sends fixed interrupt `vector` to every CPU but this one.
pub fn send_ipi_all_others(vector: u8) {
    if !is_ready() || vector < 32 {
        return;
    }
    send_raw(0, ICR_ALL_BUT_SELF | ICR_FIXED | ICR_ASSERT | u32::from(vector));
}

/// Stops every other CPU (panic path). An NMI gets through even where the
/// target has interrupts masked; the trap path parks the receiver once
/// `panic::is_panicking()` is true. Never blocks for long and never locks.
pub fn broadcast_stop() {
    if !is_ready() || percpu::cpus_online() <= 1 {
        return;
    }
    // Bounded wait only: a stuck ICR must not hang the panic report.
    let base = BASE.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    cpu::disable_interrupts();
    let _ = wait_icr_idle();
    write(REG_ICR_HI, 0);
    write(REG_ICR_LO, ICR_ALL_BUT_SELF | ICR_NMI | ICR_ASSERT | u32::from(VECTOR_STOP));
    let _ = wait_icr_idle();
}

/// INIT (assert) to one CPU: resets it into wait-for-SIPI (SDM 8.4.4.1).
pub(crate) fn send_init(apic_id: u32) {
    send_raw(apic_id, ICR_INIT | ICR_ASSERT);
    let _ = cpu::without_interrupts(wait_icr_idle);
}

/// STARTUP IPI: the target starts in real mode at `page << 12`.
pub(crate) fn send_startup(apic_id: u32, page: u8) {
    send_raw(apic_id, ICR_STARTUP | ICR_ASSERT | u32::from(page));
    let _ = cpu::without_interrupts(wait_icr_idle);
}

//! I/O APIC: routes device interrupt lines (GSIs) to local APIC vectors.
//!
//! ```text
//!  device line ──ISA irq──(MADT override)──▶ GSI ──▶ I/O APIC (gsi_base..+n)
//!     redirection entry: vector, polarity, trigger, mask, destination APIC id
//! ```
//! Every entry starts masked; a driver calls [`ioapic_route`] (or
//! [`route_isa`]) then [`ioapic_mask`]`(gsi, false)`. Registers: 82093AA
//! datasheet §3.2 (IOREGSEL at +0x00, IOWIN at +0x10; entry n at 0x10 + 2n).

use super::acpi::{self, Polarity, Trigger};
use super::apic::VECTOR_ISA_BASE;
use crate::mm::PhysAddr;
use crate::sync::SpinLock;

const IOREGSEL: usize = 0x00;
const IOWIN: usize = 0x10;
const REG_VER: u32 = 0x01;
const REG_REDTBL: u32 = 0x10;

const RED_MASKED: u64 = 1 << 16;
const RED_LEVEL: u64 = 1 << 15;
const RED_ACTIVE_LOW: u64 = 1 << 13;

/// ISA IRQ of COM1.
pub const ISA_IRQ_COM1: u8 = 4;

/// The select/window pair is shared state: one lock for all I/O APICs.
static LOCK: SpinLock<()> = SpinLock::new(());

/// One I/O APIC's register window.
#[derive(Clone, Copy)]
struct Chip {
    base: u64,
    gsi_base: u32,
}

fn reg_read(base: u64, reg: u32) -> u32 {
    // SAFETY: `base` is the direct-map address of an I/O APIC window the
    // MADT reported (below 4 GiB, mapped uncached); IOREGSEL/IOWIN are
    // aligned 32-bit registers in it. The caller holds LOCK, so no other CPU
    // moves IOREGSEL between these two accesses.
    unsafe { core::ptr::write_volatile((base as usize + IOREGSEL) as *mut u32, reg) };
    // SAFETY: as above.
    unsafe { core::ptr::read_volatile((base as usize + IOWIN) as *const u32) }
}

fn reg_write(base: u64, reg: u32, v: u32) {
    // SAFETY: as in `reg_read`.
    unsafe { core::ptr::write_volatile((base as usize + IOREGSEL) as *mut u32, reg) };
    // SAFETY: as in `reg_read`; redirection entries only steer interrupts.
    unsafe { core::ptr::write_volatile((base as usize + IOWIN) as *mut u32, v) };
}

fn chip_for(gsi: u32) -> Option<(Chip, u32)> {
    acpi::ioapics().iter().find_map(|io| {
        let base = PhysAddr(io.paddr).to_virt().0;
        let _g = LOCK.lock();
        let entries = ((reg_read(base, REG_VER) >> 16) & 0xff) + 1;
        let chip = Chip { base, gsi_base: io.gsi_base };
        (gsi >= chip.gsi_base && gsi - chip.gsi_base < entries).then_some((chip, gsi - chip.gsi_base))
    })
}

fn write_entry(chip: Chip, pin: u32, v: u64) {
    let reg = REG_REDTBL + 2 * pin;
    // Masked low half first, so the pin never fires half-programmed.
    reg_write(chip.base, reg, (v as u32) | RED_MASKED as u32);
    reg_write(chip.base, reg + 1, (v >> 32) as u32);
    reg_write(chip.base, reg, v as u32);
}

fn read_entry(chip: Chip, pin: u32) -> u64 {
    let reg = REG_REDTBL + 2 * pin;
    u64::from(reg_read(chip.base, reg)) | (u64::from(reg_read(chip.base, reg + 1)) << 32)
}

/// Masks every pin of every I/O APIC, then routes COM1 (masked) to its ISA
/// vector so the serial driver only has to unmask it.
pub(crate) fn init() {
    for io in acpi::ioapics() {
        let base = PhysAddr(io.paddr).to_virt().0;
        let _g = LOCK.lock();
        let entries = ((reg_read(base, REG_VER) >> 16) & 0xff) + 1;
        let chip = Chip { base, gsi_base: io.gsi_base };
        for pin in 0..entries {
            write_entry(chip, pin, RED_MASKED);
        }
        log::info!("ioapic: id {} at {:#x}, GSIs {}..{}", io.id, io.paddr, io.gsi_base, io.gsi_base + entries);
    }
    let bsp = super::percpu::this_cpu().apic_id();
    if !route_isa(ISA_IRQ_COM1, VECTOR_ISA_BASE + ISA_IRQ_COM1, bsp) && !acpi::ioapics().is_empty() {
        log::warn!("ioapic: cannot route COM1 (ISA IRQ {ISA_IRQ_COM1})");
    }
}

/// Routes `gsi` to `vector` on the CPU with local APIC id `cpu_apic_id`,
/// leaving it masked. ISA lines (GSIs that are ISA IRQ targets, or < 16 with
/// no override) are edge / active high unless an override says otherwise;
/// other GSIs (PCI) are level / active low. Returns false if no I/O APIC
/// serves `gsi`.
pub fn ioapic_route(gsi: u32, vector: u8, cpu_apic_id: u32) -> bool {
    let sig = acpi::overrides().iter().find(|o| o.gsi == gsi).map(|o| (o.polarity, o.trigger)).unwrap_or(
        if gsi < 16 { (Polarity::ActiveHigh, Trigger::Edge) } else { (Polarity::ActiveLow, Trigger::Level) },
    );
    route_with(gsi, vector, cpu_apic_id, sig.0, sig.1)
}

/// Routes ISA IRQ `irq` (through the MADT overrides) to `vector`, masked.
pub fn route_isa(irq: u8, vector: u8, cpu_apic_id: u32) -> bool {
    let o = acpi::isa_irq(irq);
    route_with(o.gsi, vector, cpu_apic_id, o.polarity, o.trigger)
}

/// The GSI an ISA IRQ arrives on.
pub fn isa_gsi(irq: u8) -> u32 {
    acpi::isa_irq(irq).gsi
}

fn route_with(gsi: u32, vector: u8, cpu_apic_id: u32, pol: Polarity, trig: Trigger) -> bool {
    if vector < 32 {
        return false;
    }
    let Some((chip, pin)) = chip_for(gsi) else { return false };
    let mut v = u64::from(vector) | RED_MASKED | (u64::from(cpu_apic_id & 0xff) << 56);
    if pol == Polarity::ActiveLow {
        v |= RED_ACTIVE_LOW;
    }
    if trig == Trigger::Level {
        v |= RED_LEVEL;
    }
    let _g = LOCK.lock();
    write_entry(chip, pin, v);
    true
}

/// Masks (`true`) or unmasks `gsi`. Returns false if no I/O APIC serves it.
pub fn ioapic_mask(gsi: u32, masked: bool) -> bool {
    let Some((chip, pin)) = chip_for(gsi) else { return false };
    let _g = LOCK.lock();
    let mut v = read_entry(chip, pin);
    if masked {
        v |= RED_MASKED;
    } else {
        v &= !RED_MASKED;
    }
    write_entry(chip, pin, v);
    true
}

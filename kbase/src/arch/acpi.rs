//! ACPI: just enough to find the CPUs and interrupt controllers (the MADT).
//!
//! ```text
//!  PVH start_info.rsdp ──▶ RSDP ("RSD PTR ", rev ≥ 2 → XSDT, else RSDT)
//!        ──▶ XSDT/RSDT: array of table addresses ──▶ "APIC" (MADT)
//!              type 0  processor local APIC   (uid, apic id, flags)
//!              type 1  I/O APIC               (id, MMIO base, GSI base)
//!              type 2  interrupt source override (ISA irq → GSI, polarity/trigger)
//!              type 5  local APIC address override
//!              type 9  processor local x2APIC
//! ```
//! Parsed by hand (ACPI 6.5 §5.2.5 RSDP, §5.2.7/8 RSDT/XSDT, §5.2.12 MADT),
//! with every checksum and length checked. Each table is copied out of
//! firmware memory before it is read, so nothing here holds a reference into
//! memory the kernel does not own. A malformed or missing table never
//! panics: the kernel logs it and runs on the boot CPU alone.

use alloc::vec::Vec;

use super::percpu::MAX_CPUS;
use crate::mm::PhysAddr;
use crate::sync::Once;

/// One I/O APIC from the MADT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApic {
    pub id: u8,
    /// Physical address of its register window.
    pub paddr: u64,
    /// First global system interrupt it serves.
    pub gsi_base: u32,
}

/// Electrical polarity of an interrupt line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    ActiveHigh,
    ActiveLow,
}

/// Trigger mode of an interrupt line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Edge,
    Level,
}

/// An ISA IRQ wired to a different GSI or with non-ISA signalling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Override {
    pub isa_irq: u8,
    pub gsi: u32,
    pub polarity: Polarity,
    pub trigger: Trigger,
}

/// What the MADT told us.
#[derive(Debug, Default)]
pub struct Madt {
    /// Local APIC ids of the usable processors, in table order.
    pub apic_ids: Vec<u32>,
    pub ioapics: Vec<IoApic>,
    pub overrides: Vec<Override>,
    /// Local APIC physical address the table reports (the MSR is authoritative).
    pub lapic_paddr: u64,
}

static MADT: Once<Madt> = Once::new();

/// Parses the MADT once (boot CPU, from `late_init`). On any error the
/// result is empty, which the callers read as "one CPU, no I/O APIC".
pub(crate) fn init(rsdp: Option<PhysAddr>) {
    let madt = match rsdp.ok_or("no RSDP from the boot loader").and_then(|p| parse(p.0)) {
        Ok(m) => m,
        Err(why) => {
            log::warn!("acpi: {why}; running on the boot CPU only");
            Madt::default()
        }
    };
    log::info!(
        "acpi: MADT lists {} CPUs (APIC ids {:?}), {} I/O APIC(s), {} override(s)",
        madt.apic_ids.len(),
        madt.apic_ids,
        madt.ioapics.len(),
        madt.overrides.len()
    );
    MADT.set(madt);
}

fn madt() -> &'static Madt {
    static EMPTY: Madt = Madt { apic_ids: Vec::new(), ioapics: Vec::new(), overrides: Vec::new(), lapic_paddr: 0 };
    MADT.get().unwrap_or(&EMPTY)
}

/// Local APIC ids of every usable CPU the firmware lists (empty if the MADT
/// was missing or malformed).
pub fn cpus() -> &'static [u32] {
    &madt().apic_ids
}

/// The I/O APICs the firmware lists.
pub fn ioapics() -> &'static [IoApic] {
    &madt().ioapics
}

/// The interrupt source overrides the firmware lists.
pub fn overrides() -> &'static [Override] {
    &madt().overrides
}

/// The GSI and signalling of ISA IRQ `irq` (identity, edge, active high
/// unless an override says otherwise; ACPI 6.5 §5.2.12.5).
pub fn isa_irq(irq: u8) -> Override {
    overrides().iter().copied().find(|o| o.isa_irq == irq).unwrap_or(Override {
        isa_irq: irq,
        gsi: u32::from(irq),
        polarity: Polarity::ActiveHigh,
        trigger: Trigger::Edge,
    })
}

// ---- parsing ----

/// Tables are only read below this address, which the direct map always covers.
const DIRECT_MAP_FLOOR: u64 = 1 << 32;
/// Sanity limit on a single table's length.
const MAX_TABLE_LEN: u32 = 1 << 20;
const SDT_HEADER_LEN: usize = 36;

/// Copies `len` bytes of physical memory below 4 GiB into a fresh buffer.
fn copy_phys(paddr: u64, len: usize) -> Result<Vec<u8>, &'static str> {
    let end = paddr.checked_add(len as u64).ok_or("table address overflows")?;
    if paddr == 0 || end > DIRECT_MAP_FLOOR {
        return Err("table outside the low 4 GiB");
    }
    let mut buf = alloc::vec![0u8; len];
    // SAFETY: [paddr, end) lies below 4 GiB, which `mm::paging` direct-maps
    // (RAM cached, holes uncached); ACPI tables live in firmware-reserved
    // memory the frame allocator never hands out, and `buf` is a fresh heap
    // buffer of `len` bytes that cannot overlap the direct-map source.
    unsafe { core::ptr::copy_nonoverlapping(PhysAddr(paddr).to_virt().0 as *const u8, buf.as_mut_ptr(), len) };
    Ok(buf)
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

fn checksum_ok(b: &[u8]) -> bool {
    b.iter().fold(0u8, |a, &x| a.wrapping_add(x)) == 0
}

/// Reads a whole system description table at `paddr` and checks its checksum.
fn read_sdt(paddr: u64) -> Result<Vec<u8>, &'static str> {
    let head = copy_phys(paddr, SDT_HEADER_LEN)?;
    let len = u32_at(&head, 4).ok_or("short header")?;
    if (len as usize) < SDT_HEADER_LEN || len > MAX_TABLE_LEN {
        return Err("table length out of range");
    }
    let t = copy_phys(paddr, len as usize)?;
    if !checksum_ok(&t) {
        return Err("table checksum mismatch");
    }
    Ok(t)
}

/// RSDP → XSDT/RSDT → MADT.
fn parse(rsdp: u64) -> Result<Madt, &'static str> {
    let r = copy_phys(rsdp, 20)?;
    if &r[..8] != b"RSD PTR " {
        return Err("bad RSDP signature");
    }
    if !checksum_ok(&r) {
        return Err("RSDP checksum mismatch");
    }
    let revision = r[15];
    let (root, entry_len) = if revision >= 2 {
        let r2 = copy_phys(rsdp, 36)?;
        let len = u32_at(&r2, 20).ok_or("short RSDP")? as usize;
        let full = copy_phys(rsdp, len.clamp(36, 64))?;
        let xsdt = u64_at(&full, 24).ok_or("short RSDP")?;
        if checksum_ok(&full) && xsdt != 0 {
            (xsdt, 8)
        } else {
            (u64::from(u32_at(&r, 16).ok_or("short RSDP")?), 4)
        }
    } else {
        (u64::from(u32_at(&r, 16).ok_or("short RSDP")?), 4)
    };
    let root = read_sdt(root)?;
    let expect: &[u8; 4] = if entry_len == 8 { b"XSDT" } else { b"RSDT" };
    if &root[..4] != expect {
        return Err("root table has the wrong signature");
    }
    let entries = &root[SDT_HEADER_LEN..];
    for e in entries.chunks_exact(entry_len) {
        let addr = if entry_len == 8 { u64_at(e, 0) } else { u32_at(e, 0).map(u64::from) };
        let Some(addr) = addr else { continue };
        let Ok(head) = copy_phys(addr, 4) else { continue };
        if &head[..] == b"APIC" {
            return parse_madt(&read_sdt(addr)?);
        }
    }
    Err("no MADT in the root table")
}

/// Walks the MADT's interrupt controller structures.
fn parse_madt(t: &[u8]) -> Result<Madt, &'static str> {
    let mut m = Madt { lapic_paddr: u64::from(u32_at(t, 36).ok_or("short MADT")?), ..Madt::default() };
    let mut off = 44;
    while off + 2 <= t.len() {
        let (kind, len) = (t[off], t[off + 1] as usize);
        if len < 2 || off + len > t.len() {
            return Err("MADT entry overruns the table");
        }
        let e = &t[off..off + len];
        match (kind, len) {
            // Processor local APIC: enabled (bit 0). Online-capable but
            // disabled entries are hot-plug slots with no CPU behind them.
            (0, 8..) => {
                let flags = u32_at(e, 4).unwrap_or(0);
                if flags & 1 != 0 {
                    push_cpu(&mut m, u32::from(e[3]));
                }
            }
            (1, 12..) => m.ioapics.push(IoApic {
                id: e[2],
                paddr: u64::from(u32_at(e, 4).unwrap_or(0)),
                gsi_base: u32_at(e, 8).unwrap_or(0),
            }),
            (2, 10..) => {
                let flags = u16_at(e, 8).unwrap_or(0);
                // MPS INTI flags: polarity bits 0-1, trigger bits 2-3
                // (0 = conforms to the bus: ISA is active high, edge).
                let polarity = if flags & 3 == 3 { Polarity::ActiveLow } else { Polarity::ActiveHigh };
                let trigger = if (flags >> 2) & 3 == 3 { Trigger::Level } else { Trigger::Edge };
                m.overrides.push(Override { isa_irq: e[3], gsi: u32_at(e, 4).unwrap_or(0), polarity, trigger });
            }
            (5, 12..) => m.lapic_paddr = u64_at(e, 4).unwrap_or(m.lapic_paddr),
            (9, 16..) => {
                let flags = u32_at(e, 8).unwrap_or(0);
                if flags & 1 != 0 {
                    push_cpu(&mut m, u32_at(e, 4).unwrap_or(u32::MAX));
                }
            }
            (0 | 1 | 2 | 5 | 9, _) => return Err("MADT entry too short"),
            _ => {}
        }
        off += len;
    }
    m.ioapics.retain(|io| {
        let ok = io.paddr != 0 && io.paddr < DIRECT_MAP_FLOOR;
        if !ok {
            log::warn!("acpi: ignoring I/O APIC {} at {:#x}", io.id, io.paddr);
        }
        ok
    });
    Ok(m)
}

fn push_cpu(m: &mut Madt, apic_id: u32) {
    // xAPIC destinations are 8 bits; duplicates would start one CPU twice.
    if apic_id > 0xfe || m.apic_ids.contains(&apic_id) {
        log::warn!("acpi: ignoring processor with APIC id {apic_id:#x}");
    } else if m.apic_ids.len() >= MAX_CPUS {
        log::warn!("acpi: more than {MAX_CPUS} CPUs; ignoring APIC id {apic_id}");
    } else {
        m.apic_ids.push(apic_id);
    }
}

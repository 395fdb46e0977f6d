//! What the boot loader told us (PVH `hvm_start_info`), copied into kernel
//! memory at the first instruction of Rust so that the loader's pages can be
//! reused.
//!
//! Layouts from Xen's `public/arch-x86/hvm/start_info.h` (version 1).

use crate::mm::PhysAddr;

const MAGIC: u32 = 0x336e_c578;
const MAX_REGIONS: usize = 128;
const MAX_CMDLINE: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemKind {
    Ram,
    Reserved,
    AcpiReclaimable,
    AcpiNvs,
    Unusable,
}

#[derive(Clone, Copy, Debug)]
pub struct MemRegion {
    pub start: u64,
    pub size: u64,
    pub kind: MemKind,
}

impl MemRegion {
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }
}

/// A boot module (the initramfs given with `-initrd`).
#[derive(Clone, Copy, Debug)]
pub struct Module {
    pub paddr: u64,
    pub size: u64,
}

pub struct BootInfo {
    regions: [MemRegion; MAX_REGIONS],
    region_count: usize,
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
    pub initrd: Option<Module>,
    pub rsdp: Option<PhysAddr>,
}

impl BootInfo {
    pub fn memory(&self) -> impl Iterator<Item = &MemRegion> + '_ {
        self.regions[..self.region_count].iter()
    }

    /// The kernel command line (invalid UTF-8 is cut at the first bad byte).
    pub fn cmdline(&self) -> &str {
        let bytes = &self.cmdline[..self.cmdline_len];
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        }
    }

    /// Total usable RAM in bytes.
    pub fn ram_bytes(&self) -> u64 {
        self.memory().filter(|r| r.kind == MemKind::Ram).map(|r| r.size).sum()
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct ModEntry {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct MemEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

/// Reads a `T` from low physical memory through the early direct map.
///
/// # Safety
/// `paddr .. paddr + size_of::<T>()` must be below 4 GiB (mapped by the boot
/// page tables) and `T` must be valid for any bit pattern.
unsafe fn read_phys<T: Copy>(paddr: u64) -> T {
    // SAFETY: the caller guarantees the range is mapped and T is plain data;
    // unaligned reads are allowed.
    unsafe { core::ptr::read_unaligned(PhysAddr(paddr).to_virt().0 as *const T) }
}

const LOW_LIMIT: u64 = 1 << 32;

fn below_4g(paddr: u64, len: u64) -> bool {
    paddr != 0 && paddr.checked_add(len).is_some_and(|e| e <= LOW_LIMIT)
}

/// Copies everything out of `hvm_start_info` at `paddr`.
pub(crate) fn parse(paddr: u64, out: &mut BootInfo) -> Result<(), &'static str> {
    if !below_4g(paddr, core::mem::size_of::<StartInfo>() as u64) {
        return Err("hvm_start_info pointer out of range");
    }
    // SAFETY: checked to be below 4 GiB; StartInfo is plain integers.
    let si: StartInfo = unsafe { read_phys(paddr) };
    if si.magic != MAGIC {
        return Err("bad hvm_start_info magic (not booted through PVH?)");
    }
    if si.cmdline_paddr != 0 {
        let mut n = 0;
        while n < MAX_CMDLINE - 1 && below_4g(si.cmdline_paddr + n as u64, 1) {
            // SAFETY: one byte below 4 GiB.
            let b: u8 = unsafe { read_phys(si.cmdline_paddr + n as u64) };
            if b == 0 {
                break;
            }
            out.cmdline[n] = b;
            n += 1;
        }
        out.cmdline_len = n;
    }
    if si.nr_modules > 0 && below_4g(si.modlist_paddr, core::mem::size_of::<ModEntry>() as u64) {
        // SAFETY: checked range; plain integers.
        let m: ModEntry = unsafe { read_phys(si.modlist_paddr) };
        if m.size > 0 {
            out.initrd = Some(Module { paddr: m.paddr, size: m.size });
        }
    }
    out.rsdp = (si.rsdp_paddr != 0).then_some(PhysAddr(si.rsdp_paddr));
    if si.version >= 1 && si.memmap_entries > 0 {
        let n = (si.memmap_entries as usize).min(MAX_REGIONS);
        for i in 0..n {
            let at = si.memmap_paddr + (i * core::mem::size_of::<MemEntry>()) as u64;
            if !below_4g(at, core::mem::size_of::<MemEntry>() as u64) {
                break;
            }
            // SAFETY: checked range; plain integers.
            let e: MemEntry = unsafe { read_phys(at) };
            let kind = match e.kind {
                1 => MemKind::Ram,
                3 => MemKind::AcpiReclaimable,
                4 => MemKind::AcpiNvs,
                5 => MemKind::Unusable,
                _ => MemKind::Reserved,
            };
            out.regions[out.region_count] = MemRegion { start: e.addr, size: e.size, kind };
            out.region_count += 1;
        }
    }
    if out.region_count == 0 {
        return Err("no memory map in hvm_start_info (version 0 loaders are not supported)");
    }
    Ok(())
}

impl BootInfo {
    pub(crate) const fn empty() -> Self {
        Self {
            regions: [MemRegion { start: 0, size: 0, kind: MemKind::Reserved }; MAX_REGIONS],
            region_count: 0,
            cmdline: [0; MAX_CMDLINE],
            cmdline_len: 0,
            initrd: None,
            rsdp: None,
        }
    }
}

impl BootInfo {
    /// The initramfs image given with `-initrd`, read through the direct
    /// map. Its frames are reserved at boot and never handed out, so the
    /// slice stays valid for the life of the kernel.
    pub fn initrd_bytes(&self) -> Option<&'static [u8]> {
        let m = self.initrd?;
        let len = usize::try_from(m.size).ok()?;
        m.paddr.checked_add(m.size)?;
        // SAFETY: [paddr, paddr + size) is the boot module, reserved from
        // the frame allocator in `kbase_boot_entry` (never reused) and
        // covered by the direct map (which spans all RAM); nothing writes it.
        Some(unsafe { core::slice::from_raw_parts(PhysAddr(m.paddr).to_virt().0 as *const u8, len) })
    }
}

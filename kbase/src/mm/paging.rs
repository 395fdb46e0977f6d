//! 4-level page tables: the kernel's tables and user address spaces
//! (`VmSpace`), with map / unmap / protect and TLB shootdown.
//!
//! Tables are frames reached through the direct map and viewed as arrays of
//! `AtomicU64`, which is also how the MMU treats them (it sets A/D bits
//! concurrently). The kernel half (PML4 slots 256..512) is built once at boot
//! and shared by every address space; it never gains new PML4 slots later.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::frame::{self, FrameBlock};
use super::{KERNEL_VMA, KSTACK_BASE, MMIO_BASE, MmError, PAGE_SIZE, PHYS_OFFSET, PhysAddr};
use crate::arch::cpu;
use crate::boot_info::{BootInfo, MemKind};
use crate::sync::SpinLock;

const P: u64 = 1;
const W: u64 = 1 << 1;
const U: u64 = 1 << 2;
const PWT: u64 = 1 << 3;
const PCD: u64 = 1 << 4;
const PS: u64 = 1 << 7;
const G: u64 = 1 << 8;
const NX: u64 = 1 << 63;
/// Software bit (available to the OS): the leaf maps a shared frame that
/// the VmSpace does not own (its `shared` table holds a reference).
const SHARED: u64 = 1 << 9;
/// Software bit, with SHARED: a MAP_SHARED frame, whose writes every holder
/// must see. It may be writable, and `protect` never copies it.
const WRITE_SHARED: u64 = 1 << 10;

/// The shared-frame bits a leaf keeps when its rights change to `flags`:
/// a MAP_SHARED frame stays what it is; a read-only shared frame made
/// writable becomes a private copy (no bits).
fn shared_bits_after_protect(old: u64, flags: PageFlags) -> u64 {
    if old & WRITE_SHARED != 0 {
        old & (SHARED | WRITE_SHARED)
    } else if flags.writable {
        0
    } else {
        old & SHARED
    }
}
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Access rights of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFlags {
    pub writable: bool,
    pub executable: bool,
    pub user: bool,
}

impl PageFlags {
    pub const READ: Self = Self { writable: false, executable: false, user: false };
    pub const RW: Self = Self { writable: true, executable: false, user: false };
    pub const RX: Self = Self { writable: false, executable: true, user: false };

    pub const fn user(self) -> Self {
        Self { user: true, ..self }
    }

    fn bits(self) -> u64 {
        let mut b = P;
        if self.writable {
            b |= W;
        }
        if !self.executable {
            b |= NX;
        }
        if self.user {
            b |= U;
        } else {
            b |= G;
        }
        b
    }

    fn from_bits(b: u64) -> Self {
        Self { writable: b & W != 0, executable: b & NX == 0, user: b & U != 0 }
    }
}

fn table(paddr: u64) -> &'static [AtomicU64; 512] {
    // SAFETY: callers pass only physical addresses of page-table frames that
    // this module allocated and never frees while they are reachable; the
    // direct map covers all RAM; AtomicU64 has the layout of a table entry.
    unsafe { &*((paddr + PHYS_OFFSET) as *const [AtomicU64; 512]) }
}

fn index(vaddr: u64, level: u32) -> usize {
    ((vaddr >> (12 + 9 * level)) & 511) as usize
}

fn is_canonical(v: u64) -> bool {
    let top = v >> 47;
    top == 0 || top == 0x1ffff
}

/// Page-table pages made by [`walk`] and address-space roots, less those
/// freed (the boot tables are not counted): the kernel's census.
static TABLE_PAGES: AtomicUsize = AtomicUsize::new(0);

/// Page-table pages in use besides the boot tables.
pub fn table_pages() -> usize {
    TABLE_PAGES.load(Ordering::Relaxed)
}

/// The first address after `vaddr` that may have a page table, when the
/// walk for `vaddr` finds none: the end of the 2 MiB, 1 GiB or 512 GiB
/// span whose table is missing. Range loops over unmapped space then take
/// a step per missing table, not per 2 MiB: a munmap or mprotect of all of
/// user space visits only what is mapped (the long-syscall rule).
fn skip_missing(pml4: u64, vaddr: u64) -> u64 {
    let mut t = pml4;
    for level in (1..4).rev() {
        let v = table(t)[index(vaddr, level)].load(Ordering::Acquire);
        if v & P == 0 || v & PS != 0 {
            return (vaddr | ((1u64 << (12 + 9 * level)) - 1)) + 1;
        }
        t = v & ADDR_MASK;
    }
    (vaddr | 0x1f_ffff) + 1
}

/// Returns the level-0 (4 KiB) entry for `vaddr`, creating intermediate
/// tables as needed (or `None` when `create` is false and one is missing).
fn walk(pml4: u64, vaddr: u64, create: bool, user: bool) -> Result<Option<&'static AtomicU64>, MmError> {
    let mut t = pml4;
    for level in (1..4).rev() {
        let e = &table(t)[index(vaddr, level)];
        let v = e.load(Ordering::Acquire);
        if v & P == 0 {
            if !create {
                return Ok(None);
            }
            let f = FrameBlock::alloc(0)?.into_raw().0;
            TABLE_PAGES.fetch_add(1, Ordering::Relaxed);
            let mut nv = f | P | W;
            if user {
                nv |= U;
            }
            e.store(nv, Ordering::Release);
            t = f;
        } else {
            if v & PS != 0 {
                return Err(MmError::AlreadyMapped);
            }
            if user && v & U == 0 {
                e.fetch_or(U, Ordering::AcqRel);
            }
            t = v & ADDR_MASK;
        }
    }
    Ok(Some(&table(t)[index(vaddr, 0)]))
}

static KERNEL_PML4: AtomicU64 = AtomicU64::new(0);
static KERNEL_LOCK: SpinLock<()> = SpinLock::new(());

/// Physical address of the kernel's top-level table.
pub(crate) fn kernel_pml4() -> u64 {
    KERNEL_PML4.load(Ordering::Relaxed)
}

unsafe extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __kernel_end: u8;
    static boot_stack_guard: u8;
}

fn sym(s: *const u8) -> u64 {
    s as u64
}

/// Builds the final kernel tables and switches to them:
/// direct map (2 MiB pages, NX; uncached where there is no RAM), the kernel
/// image with W^X per section, the boot-stack guard page left unmapped, no
/// identity map. Turns on SMEP/SMAP when the CPU has them.
pub(crate) fn init(info: &BootInfo) -> Result<(), MmError> {
    let pml4 = FrameBlock::alloc(0)?.into_raw().0;
    // The kernel half's PML4 slots we use, created up front so that every
    // address space can share them by copying slots 256..512 once.
    for base in [PHYS_OFFSET, KSTACK_BASE, MMIO_BASE, KERNEL_VMA] {
        let f = FrameBlock::alloc(0)?.into_raw().0;
        table(pml4)[index(base, 3)].store(f | P | W, Ordering::Relaxed);
    }

    // Direct map: everything up to max(4 GiB, top of RAM).
    let ram_top = info.memory().filter(|r| r.kind == MemKind::Ram).map(|r| r.end()).max().unwrap_or(0);
    let top = ram_top.max(1 << 32).next_multiple_of(1 << 21);
    let mut pa = 0u64;
    while pa < top {
        let is_ram = info.memory().any(|r| r.kind != MemKind::Reserved && r.start < pa + (1 << 21) && r.end() > pa);
        let va = pa + PHYS_OFFSET;
        let pdpt = table(pml4)[index(va, 3)].load(Ordering::Relaxed) & ADDR_MASK;
        let pde = &table(pdpt)[index(va, 2)];
        let pd = if pde.load(Ordering::Relaxed) & P == 0 {
            let f = FrameBlock::alloc(0)?.into_raw().0;
            pde.store(f | P | W, Ordering::Relaxed);
            f
        } else {
            pde.load(Ordering::Relaxed) & ADDR_MASK
        };
        let cache = if is_ram { 0 } else { PCD | PWT };
        table(pd)[index(va, 1)].store(pa | P | W | PS | G | NX | cache, Ordering::Relaxed);
        pa += 1 << 21;
    }

    // Kernel image, 4 KiB pages.
    let (text_s, text_e, ro_s, ro_e, data_s, end, guard) = (
        sym(core::ptr::addr_of!(__text_start)),
        sym(core::ptr::addr_of!(__text_end)),
        sym(core::ptr::addr_of!(__rodata_start)),
        sym(core::ptr::addr_of!(__rodata_end)),
        sym(core::ptr::addr_of!(__data_start)),
        sym(core::ptr::addr_of!(__kernel_end)),
        sym(core::ptr::addr_of!(boot_stack_guard)),
    );
    let map_range = |s: u64, e: u64, flags: PageFlags| -> Result<(), MmError> {
        let mut va = s;
        while va < e {
            if va != guard {
                let entry = walk(pml4, va, true, false)?.ok_or(MmError::NotMapped)?;
                entry.store((va - KERNEL_VMA) | flags.bits(), Ordering::Relaxed);
            }
            va += PAGE_SIZE;
        }
        Ok(())
    };
    map_range(text_s, text_e, PageFlags::RX)?;
    map_range(ro_s, ro_e, PageFlags::READ)?;
    map_range(data_s, end.next_multiple_of(PAGE_SIZE), PageFlags::RW)?;

    KERNEL_PML4.store(pml4, Ordering::Release);
    // SAFETY: the new tables map the kernel image (with the running code and
    // this stack, which lives in .bss), the direct map and nothing else the
    // kernel still uses (the identity map is only needed by the boot stub).
    unsafe { cpu::write_cr3(pml4) };
    enable_protection();
    Ok(())
}

/// Turns on SMEP and SMAP (CPUID 7.EBX bits 7 and 20) on this CPU.
pub(crate) fn enable_protection() {
    let l7 = cpu::cpuid(7, 0);
    let mut cr4 = cpu::read_cr4();
    if l7.ebx & (1 << 7) != 0 {
        cr4 |= 1 << 20;
    }
    if l7.ebx & (1 << 20) != 0 {
        cr4 |= 1 << 21;
    }
    // SAFETY: SMEP/SMAP only forbid kernel access to user pages; all kernel
    // accesses to user memory go through `uaccess` (STAC/CLAC).
    unsafe { cpu::write_cr4(cr4) };
}

/// Whether SMEP and SMAP are on (for the banner and ktests).
pub fn protection_status() -> (bool, bool) {
    let cr4 = cpu::read_cr4();
    (cr4 & (1 << 20) != 0, cr4 & (1 << 21) != 0)
}

/// Maps one kernel page (kernel stacks, MMIO). Crate-private: mapping an
/// arbitrary frame into the kernel is not safe in general.
pub(crate) fn map_kernel(vaddr: u64, paddr: u64, flags: PageFlags, uncached: bool) -> Result<(), MmError> {
    if vaddr % PAGE_SIZE != 0 || vaddr < PHYS_OFFSET {
        return Err(MmError::BadAddress);
    }
    let _g = KERNEL_LOCK.lock();
    let e = walk(kernel_pml4(), vaddr, true, false)?.ok_or(MmError::NotMapped)?;
    if e.load(Ordering::Relaxed) & P != 0 {
        return Err(MmError::AlreadyMapped);
    }
    let cache = if uncached { PCD | PWT } else { 0 };
    e.store(paddr | flags.bits() | cache, Ordering::Release);
    Ok(())
}

/// Unmaps one kernel page and flushes it from every CPU's TLB. Returns the
/// physical address it mapped.
pub(crate) fn unmap_kernel(vaddr: u64) -> Result<u64, MmError> {
    let pa = unmap_kernel_noflush(vaddr)?;
    crate::arch::tlb::shootdown(vaddr, 1);
    Ok(pa)
}

/// Unmaps one kernel page without a TLB flush; the caller must shoot the
/// range down before reusing the returned frame.
pub(crate) fn unmap_kernel_noflush(vaddr: u64) -> Result<u64, MmError> {
    let _g = KERNEL_LOCK.lock();
    let e = walk(kernel_pml4(), vaddr, false, false)?.ok_or(MmError::NotMapped)?;
    let old = e.swap(0, Ordering::AcqRel);
    if old & P == 0 {
        return Err(MmError::NotMapped);
    }
    Ok(old & ADDR_MASK)
}

/// Calls `f(vaddr, size_bytes, flags)` for every present leaf of the kernel
/// half, with the flags the MMU applies: writable only if every level is,
/// executable only if no level sets NX (the W^X ktest).
pub(crate) fn for_each_kernel_leaf(mut f: impl FnMut(u64, u64, PageFlags)) {
    fn visit(t: u64, level: u32, base: u64, w: bool, x: bool, f: &mut dyn FnMut(u64, u64, PageFlags)) {
        for (i, e) in table(t).iter().enumerate() {
            let v = e.load(Ordering::Acquire);
            if v & P == 0 {
                continue;
            }
            let va = base | ((i as u64) << (12 + 9 * level));
            let (w, x) = (w && v & W != 0, x && v & NX == 0);
            if level == 0 || v & PS != 0 {
                f(va, 1 << (12 + 9 * level), PageFlags { writable: w, executable: x, user: v & U != 0 });
            } else {
                visit(v & ADDR_MASK, level - 1, va, w, x, f);
            }
        }
    }
    let _g = KERNEL_LOCK.lock();
    let root = table(kernel_pml4());
    for (i, e) in root.iter().enumerate().skip(256) {
        let v = e.load(Ordering::Acquire);
        if v & P != 0 {
            // Sign-extend: slot 256 starts the upper half.
            let va = 0xffff_0000_0000_0000 | ((i as u64) << 39);
            visit(v & ADDR_MASK, 2, va, v & W != 0, v & NX == 0, &mut f);
        }
    }
}

/// Looks up the mapping of a kernel or user virtual address in the current
/// address space: (physical address, flags).
pub fn translate(vaddr: u64) -> Option<(PhysAddr, PageFlags)> {
    translate_in(cpu::read_cr3() & ADDR_MASK, vaddr)
}

fn translate_in(pml4: u64, vaddr: u64) -> Option<(PhysAddr, PageFlags)> {
    if !is_canonical(vaddr) {
        return None;
    }
    let mut t = pml4;
    for level in (0..4).rev() {
        let v = table(t)[index(vaddr, level)].load(Ordering::Acquire);
        if v & P == 0 {
            return None;
        }
        if level == 0 || v & PS != 0 {
            let page_mask = (1u64 << (12 + 9 * level)) - 1;
            return Some((PhysAddr((v & ADDR_MASK & !page_mask) | (vaddr & page_mask)), PageFlags::from_bits(v)));
        }
        t = v & ADDR_MASK;
    }
    None
}

/// The top-level table of a user address space, shared between the
/// `VmSpace` that fills it and every task that has it loaded in CR3.
///
/// # Invariants
/// `pml4` is a table frame owned by this value, whose kernel half is the
/// shared kernel mapping; its user half is either managed by a live
/// `VmSpace` or empty (the `VmSpace` empties it, with a TLB shootdown,
/// before freeing anything it referenced).
pub struct SpaceRoot {
    pml4: u64,
    /// CPUs that have had this table in CR3 (bit n = CPU n): only they can
    /// cache its translations, so only they get shootdown IPIs. Bits are
    /// never cleared (a stale bit costs an IPI, never correctness).
    cpus: AtomicU64,
}

impl Drop for SpaceRoot {
    fn drop(&mut self) {
        frame::free_raw(self.pml4, 0);
        TABLE_PAGES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Loads `root` into CR3 on this CPU (the scheduler does this at switches).
pub(crate) fn load_root(root: Option<&SpaceRoot>) {
    let want = root.map_or_else(kernel_pml4, |r| r.pml4);
    if let Some(r) = root {
        let cpu = crate::arch::percpu::cpu_index();
        r.cpus.fetch_or(if cpu < 64 { 1 << cpu } else { u64::MAX }, Ordering::AcqRel);
    }
    if cpu::read_cr3() & ADDR_MASK != want {
        // SAFETY: `want` is the kernel table or a SpaceRoot kept alive by the
        // caller's reference (the running task holds an Arc to it); both map
        // the kernel half identically.
        unsafe { cpu::write_cr3(want) };
    }
}

/// A user address space: the lower half of a page table whose upper half is
/// the shared kernel. Owns the frames mapped into it and its table frames.
///
/// # Invariants
/// Every present user leaf entry below `root` maps either a frame owned by
/// this value (freed on unmap or drop) or, with the SHARED bit, a frame
/// referenced from `shared` at the same address, never writable unless the
/// leaf also has WRITE_SHARED (MAP_SHARED memory); every user-half table
/// frame is owned too.
pub struct VmSpace {
    root: alloc::sync::Arc<SpaceRoot>,
    pml4: u64,
    /// Frames mapped with `map_shared` (leaves carry the SHARED bit), kept
    /// alive here until unmapped; dropped after the tables are torn down.
    shared: alloc::collections::BTreeMap<u64, alloc::sync::Arc<FrameBlock>>,
    /// Present user leaves (the resident set, owned and shared), and the
    /// most there ever were (getrusage's ru_maxrss, VmHWM).
    resident: u64,
    peak: u64,
}

/// A mapped user page as `VmSpace::for_each_page` shows it.
pub enum PageRef<'a> {
    /// A frame this space owns: its bytes.
    Owned(&'a [u8]),
    /// A shared frame (page cache): the reference to map again.
    Shared(&'a alloc::sync::Arc<FrameBlock>),
}

/// Highest user address + 1 (Linux's TASK_SIZE for 4-level paging).
pub const USER_END: u64 = 0x0000_7fff_ffff_f000;

impl VmSpace {
    pub fn new() -> Result<Self, MmError> {
        let pml4 = FrameBlock::alloc(0)?.into_raw().0;
        TABLE_PAGES.fetch_add(1, Ordering::Relaxed);
        let k = table(kernel_pml4());
        let t = table(pml4);
        for i in 256..512 {
            t[i].store(k[i].load(Ordering::Relaxed), Ordering::Relaxed);
        }
        Ok(Self {
            root: alloc::sync::Arc::new(SpaceRoot { pml4, cpus: AtomicU64::new(0) }),
            pml4,
            shared: alloc::collections::BTreeMap::new(),
            resident: 0,
            peak: 0,
        })
    }

    /// Pages mapped now (the resident set size).
    pub fn resident_pages(&self) -> u64 {
        self.resident
    }

    /// The most pages that were ever mapped at once.
    pub fn peak_pages(&self) -> u64 {
        self.peak
    }

    fn add_resident(&mut self) {
        self.resident += 1;
        self.peak = self.peak.max(self.resident);
    }

    /// The shared top-level table, to hand to `task::set_user_space`.
    pub fn root(&self) -> alloc::sync::Arc<SpaceRoot> {
        self.root.clone()
    }

    /// Calls `f(vaddr, frame bytes, flags)` for every mapped user page, in
    /// address order (fork copies an address space this way).
    pub fn for_each_page(&self, mut f: impl FnMut(u64, PageRef<'_>, PageFlags)) {
        walk_user(self.pml4, 3, 0, &mut |va, e| {
            if e & SHARED != 0 {
                if let Some(frame) = self.shared.get(&va) {
                    f(va, PageRef::Shared(frame), PageFlags::from_bits(e));
                }
                return;
            }
            let pa = e & ADDR_MASK;
            // SAFETY: `pa` is a frame owned by this space (type invariant),
            // direct-mapped, and `&self` keeps it from being unmapped now.
            let bytes = unsafe { core::slice::from_raw_parts(PhysAddr(pa).to_virt().0 as *const u8, PAGE_SIZE as usize) };
            f(va, PageRef::Owned(bytes), PageFlags::from_bits(e));
        });
    }

    /// Maps a shared frame (a page-cache page) read-only or executable at
    /// `vaddr`; the space keeps a reference until it is unmapped. Shared
    /// pages can never be writable (`protect` gives the space its own copy).
    pub fn map_shared(&mut self, vaddr: u64, frame: alloc::sync::Arc<FrameBlock>, flags: PageFlags) -> Result<(), MmError> {
        if flags.writable {
            return Err(MmError::BadAddress);
        }
        self.map_shared_bits(vaddr, frame, flags, SHARED)
    }

    /// Maps a MAP_SHARED frame at `vaddr`, writable if `flags` says so:
    /// every space that maps it sees the same bytes, across fork too, and
    /// `protect` changes its rights without copying.
    pub fn map_shared_writable(&mut self, vaddr: u64, frame: alloc::sync::Arc<FrameBlock>, flags: PageFlags) -> Result<(), MmError> {
        self.map_shared_bits(vaddr, frame, flags, SHARED | WRITE_SHARED)
    }

    fn map_shared_bits(&mut self, vaddr: u64, frame: alloc::sync::Arc<FrameBlock>, flags: PageFlags, bits: u64) -> Result<(), MmError> {
        Self::check(vaddr)?;
        if frame.order() != 0 {
            return Err(MmError::BadAddress);
        }
        let e = walk(self.pml4, vaddr, true, true)?.ok_or(MmError::NotMapped)?;
        if e.load(Ordering::Relaxed) & P != 0 {
            return Err(MmError::AlreadyMapped);
        }
        e.store(frame.paddr().0 | flags.user().bits() | bits, Ordering::Release);
        self.shared.insert(vaddr, frame);
        self.add_resident();
        Ok(())
    }

    fn check(vaddr: u64) -> Result<(), MmError> {
        if vaddr % PAGE_SIZE != 0 || vaddr >= USER_END {
            Err(MmError::BadAddress)
        } else {
            Ok(())
        }
    }

    /// Maps `frame` (order 0) at `vaddr` with `flags` (made user-accessible).
    pub fn map(&mut self, vaddr: u64, frame: FrameBlock, flags: PageFlags) -> Result<(), MmError> {
        Self::check(vaddr)?;
        if frame.order() != 0 {
            return Err(MmError::BadAddress);
        }
        let e = walk(self.pml4, vaddr, true, true)?.ok_or(MmError::NotMapped)?;
        if e.load(Ordering::Relaxed) & P != 0 {
            return Err(MmError::AlreadyMapped);
        }
        // INVARIANT: the entry now owns the frame (it is forgotten here and
        // rebuilt as a FrameBlock by unmap/drop).
        let pa = frame.into_raw().0;
        e.store(pa | flags.user().bits(), Ordering::Release);
        self.add_resident();
        Ok(())
    }

    /// Removes the mapping at `vaddr` and returns its frame (None for a
    /// shared frame: the space only drops its reference).
    pub fn unmap(&mut self, vaddr: u64) -> Result<Option<FrameBlock>, MmError> {
        Self::check(vaddr)?;
        let e = walk(self.pml4, vaddr, false, true)?.ok_or(MmError::NotMapped)?;
        let old = e.swap(0, Ordering::AcqRel);
        if old & P == 0 {
            return Err(MmError::NotMapped);
        }
        self.resident = self.resident.saturating_sub(1);
        self.flush(vaddr);
        if old & SHARED != 0 {
            self.shared.remove(&vaddr);
            return Ok(None);
        }
        Ok(Some(frame_from_entry(old)))
    }

    /// Changes the rights of the mapping at `vaddr`.
    pub fn protect(&mut self, vaddr: u64, flags: PageFlags) -> Result<(), MmError> {
        Self::check(vaddr)?;
        let e = walk(self.pml4, vaddr, false, true)?.ok_or(MmError::NotMapped)?;
        let old = e.load(Ordering::Acquire);
        if old & P == 0 {
            return Err(MmError::NotMapped);
        }
        let pa = self.private_frame_for(vaddr, old, flags)?;
        e.store(pa | flags.user().bits() | shared_bits_after_protect(old, flags), Ordering::Release);
        self.flush(vaddr);
        Ok(())
    }

    /// The frame a leaf should map after a protection change: the same one,
    /// or for a shared frame made writable, a private copy (the shared
    /// reference is dropped after the caller's TLB flush... here, at once:
    /// the old mapping was read-only, so no CPU can have written it).
    fn private_frame_for(&mut self, vaddr: u64, old: u64, flags: PageFlags) -> Result<u64, MmError> {
        if old & SHARED == 0 || old & WRITE_SHARED != 0 || !flags.writable {
            return Ok(old & ADDR_MASK);
        }
        let src = self.shared.remove(&vaddr).ok_or(MmError::NotMapped)?;
        // The last holder of a copy-on-write frame takes it back without
        // copying (the other side wrote or went away meanwhile).
        match alloc::sync::Arc::try_unwrap(src) {
            Ok(frame) => Ok(frame.into_raw().0),
            Err(src) => match FrameBlock::alloc_copy_user(src.as_slice()) {
                Ok(copy) => Ok(copy.into_raw().0),
                Err(e) => {
                    self.shared.insert(vaddr, src);
                    Err(e)
                }
            },
        }
    }

    /// Moves every mapped page of `[from, from + len)` to the same offset
    /// from `to` (mremap). The destination must hold no mappings
    /// (`AlreadyMapped`); the ranges may not overlap. One TLB shootdown.
    /// On an error (no memory for a page table) the pages moved so far
    /// stay moved: each page is at exactly one of its two addresses.
    pub fn move_range(&mut self, from: u64, to: u64, len: u64) -> Result<(), MmError> {
        let ok = |a: u64| a % PAGE_SIZE == 0 && a.checked_add(len).is_some_and(|e| e <= USER_END);
        if !ok(from) || !ok(to) || len % PAGE_SIZE != 0 || (from < to + len && to < from + len) {
            return Err(MmError::BadAddress);
        }
        let mut result = Ok(());
        let mut va = from;
        while va < from + len {
            let src = match walk(self.pml4, va, false, true) {
                Ok(Some(e)) => e,
                _ => {
                    va = skip_missing(self.pml4, va);
                    continue;
                }
            };
            let old = src.load(Ordering::Acquire);
            if old & P != 0 {
                let dst_va = to + (va - from);
                let dst = match walk(self.pml4, dst_va, true, true) {
                    Ok(Some(d)) if d.load(Ordering::Acquire) & P == 0 => d,
                    Ok(Some(_)) => {
                        result = Err(MmError::AlreadyMapped);
                        break;
                    }
                    Ok(None) => {
                        result = Err(MmError::NotMapped);
                        break;
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                // INVARIANT: the frame (or shared reference) moves with its
                // leaf entry; the source entry is cleared.
                dst.store(old, Ordering::Release);
                src.store(0, Ordering::Release);
                if old & SHARED != 0 {
                    if let Some(f) = self.shared.remove(&va) {
                        self.shared.insert(dst_va, f);
                    }
                }
            }
            va += PAGE_SIZE;
        }
        self.flush_range(from, len / PAGE_SIZE);
        result
    }

    /// Copy-on-write fork: maps every page of this space into `child` (a
    /// new, empty space) at the same address. Pages this space owns become
    /// shared frames of both, read-only in both, so the first write on
    /// either side faults and [`protect`](Self::protect) with the writable
    /// rights gives that side its own frame. Shared frames (page cache, or
    /// shared by an earlier fork) are shared once more. One TLB shootdown.
    ///
    /// A space that owns at most `copy_up_to` pages is copied instead:
    /// for a small process, copying a page costs less than sharing it and
    /// taking the write fault that follows (measured under TCG).
    pub fn fork_into(&mut self, child: &mut VmSpace, copy_up_to: usize) -> Result<(), MmError> {
        // The page tables are walked in place (no list of leaves: a big
        // process has hundreds of thousands, more than the kernel heap
        // should be asked for at once).
        let mut owned = 0usize;
        walk_user(self.pml4, 3, 0, &mut |_, e| owned += usize::from(e & SHARED == 0));
        let mut result = Ok(());
        if owned <= copy_up_to {
            walk_user(self.pml4, 3, 0, &mut |va, e| {
                if result.is_ok() {
                    result = self.copy_leaf_into(child, va, e);
                }
            });
            return result;
        }
        let pml4 = self.pml4;
        let shared = &mut self.shared;
        let mut made_read_only = false;
        walk_user(pml4, 3, 0, &mut |va, e| {
            if result.is_err() {
                return;
            }
            let ro = PageFlags { writable: false, ..PageFlags::from_bits(e) };
            if e & WRITE_SHARED != 0 {
                // MAP_SHARED: both sides keep writing the same frame.
                if let Some(f) = shared.get(&va) {
                    result = child.map_shared_writable(va, f.clone(), PageFlags::from_bits(e));
                }
                return;
            }
            let frame = if e & SHARED != 0 {
                match shared.get(&va) {
                    Some(f) => f.clone(),
                    None => return,
                }
            } else {
                let entry = match walk(pml4, va, false, true) {
                    Ok(Some(x)) if x.load(Ordering::Acquire) == e => x,
                    Ok(_) => return,
                    Err(err) => {
                        result = Err(err);
                        return;
                    }
                };
                // INVARIANT: the frame moves from the leaf's ownership to
                // the `shared` map, and the leaf becomes a read-only shared
                // entry for the same frame.
                let f = alloc::sync::Arc::new(FrameBlock::from_owned_raw(e & ADDR_MASK));
                entry.store((e & ADDR_MASK) | ro.bits() | SHARED, Ordering::Release);
                shared.insert(va, f.clone());
                made_read_only |= e & W != 0;
                f
            };
            result = child.map_shared(va, frame, ro);
        });
        if made_read_only {
            self.flush_range(0, USER_END / PAGE_SIZE);
        }
        result
    }

    /// `fork_into` for small spaces, one leaf `e` at `va`: an owned page
    /// is copied, a shared one shared.
    fn copy_leaf_into(&self, child: &mut VmSpace, va: u64, e: u64) -> Result<(), MmError> {
        let flags = PageFlags::from_bits(e);
        if e & SHARED != 0 {
            if let Some(f) = self.shared.get(&va) {
                if e & WRITE_SHARED != 0 {
                    child.map_shared_writable(va, f.clone(), flags)?;
                } else {
                    child.map_shared(va, f.clone(), flags)?;
                }
            }
            return Ok(());
        }
        // SAFETY: `e` is a present leaf of this space, so its frame is
        // owned by this space (type invariant) and direct-mapped; `&self`
        // keeps it mapped while we copy it.
        let bytes = unsafe { core::slice::from_raw_parts(PhysAddr(e & ADDR_MASK).to_virt().0 as *const u8, PAGE_SIZE as usize) };
        child.map(va, FrameBlock::alloc_copy_user(bytes)?, flags)
    }

    /// The mapping at `vaddr`, if any.
    pub fn query(&self, vaddr: u64) -> Option<(PhysAddr, PageFlags)> {
        translate_in(self.pml4, vaddr)
    }

    pub fn is_active(&self) -> bool {
        cpu::read_cr3() & ADDR_MASK == self.pml4
    }

    /// Reads user memory of this space (active or not) through the direct
    /// map; `Err` if any page of the range is unmapped.
    pub fn read_bytes(&self, vaddr: u64, out: &mut [u8]) -> Result<(), MmError> {
        self.copy(vaddr, out.len(), |page, off, i, n| out[i..i + n].copy_from_slice(&page[off..off + n]))
    }

    /// Writes user memory of this space (active or not) through the direct
    /// map, ignoring page protections (execve builds stacks this way).
    pub fn write_bytes(&mut self, vaddr: u64, data: &[u8]) -> Result<(), MmError> {
        for_each_chunk(vaddr, data.len(), |va, i, n| {
            if self.shared.contains_key(&(va & !(PAGE_SIZE - 1))) {
                return Err(MmError::BadAddress); // never write a shared page
            }
            let (pa, _) = translate_in(self.pml4, va).ok_or(MmError::NotMapped)?;
            // SAFETY: the frame is owned by this space (type invariant) and
            // `&mut self` excludes other access through this API; user code
            // running concurrently may race on the bytes, which is its own
            // (memory-safe for the kernel) business.
            let page = unsafe { core::slice::from_raw_parts_mut(pa.to_virt().0 as *mut u8, n) };
            page.copy_from_slice(&data[i..i + n]);
            Ok(())
        })
    }

    fn copy(&self, vaddr: u64, len: usize, mut f: impl FnMut(&[u8], usize, usize, usize)) -> Result<(), MmError> {
        for_each_chunk(vaddr, len, |va, i, n| {
            let (pa, _) = translate_in(self.pml4, va).ok_or(MmError::NotMapped)?;
            let page_base = pa.0 & !(PAGE_SIZE - 1);
            // SAFETY: as in `for_each_page`.
            let page = unsafe { core::slice::from_raw_parts(PhysAddr(page_base).to_virt().0 as *const u8, PAGE_SIZE as usize) };
            f(page, (va % PAGE_SIZE) as usize, i, n);
            Ok(())
        })
    }

    fn flush(&self, vaddr: u64) {
        self.flush_range(vaddr, 1);
    }

    /// Flushes on every CPU that may cache this space's translations.
    fn flush_range(&self, vaddr: u64, pages: u64) {
        crate::arch::tlb::shootdown_cpus(vaddr, pages, self.root.cpus.load(Ordering::Acquire));
    }

    /// Changes the rights of every mapped page of `[start, end)`, with one
    /// TLB shootdown.
    pub fn protect_range(&mut self, start: u64, end: u64, flags: PageFlags) -> Result<(), MmError> {
        if start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 || end > USER_END || start > end {
            return Err(MmError::BadAddress);
        }
        let mut changed = false;
        let mut va = start;
        while va < end {
            match walk(self.pml4, va, false, true) {
                Ok(Some(e)) => {
                    let old = e.load(Ordering::Acquire);
                    if old & P != 0 {
                        let pa = self.private_frame_for(va, old, flags)?;
                        let keep_shared = shared_bits_after_protect(old, flags);
                        e.store(pa | flags.user().bits() | keep_shared, Ordering::Release);
                        changed = true;
                    }
                    va += PAGE_SIZE;
                }
                _ => va = skip_missing(self.pml4, va),
            }
        }
        if changed {
            self.flush_range(start, (end - start) / PAGE_SIZE);
        }
        Ok(())
    }

    /// Unmaps every mapped page of `[start, end)` with one TLB shootdown,
    /// then frees their frames. Returns how many pages were unmapped.
    pub fn unmap_range(&mut self, start: u64, end: u64) -> Result<usize, MmError> {
        if start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 || end > USER_END || start > end {
            return Err(MmError::BadAddress);
        }
        let mut frames = alloc::vec::Vec::new();
        let mut va = start;
        while va < end {
            match walk(self.pml4, va, false, true) {
                Ok(Some(e)) => {
                    let old = e.swap(0, Ordering::AcqRel);
                    if old & P != 0 {
                        frames.push(old);
                    }
                    va += PAGE_SIZE;
                }
                // No table here: skip past the missing table's span.
                _ => va = skip_missing(self.pml4, va),
            }
        }
        if !frames.is_empty() {
            self.flush_range(start, (end - start) / PAGE_SIZE);
        }
        let n = frames.len();
        self.resident = self.resident.saturating_sub(n as u64);
        for e in frames {
            if e & SHARED == 0 {
                drop(frame_from_entry(e));
            }
        }
        let keys: alloc::vec::Vec<u64> = self.shared.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            self.shared.remove(&k);
        }
        Ok(n)
    }
}

fn frame_from_entry(e: u64) -> FrameBlock {
    FrameBlock::from_owned_raw(e & ADDR_MASK)
}

/// Switches this CPU back to the kernel-only address space.
pub fn activate_kernel_space() {
    // SAFETY: the kernel table maps everything kernel code uses.
    unsafe { cpu::write_cr3(kernel_pml4()) };
}

impl Drop for VmSpace {
    fn drop(&mut self) {
        // Detach the whole user half first, flush every CPU (a task may
        // still have this root loaded), and only then free what it mapped.
        let mut detached = [0u64; 256];
        for (i, d) in detached.iter_mut().enumerate() {
            *d = table(self.pml4)[i].swap(0, Ordering::AcqRel);
        }
        crate::arch::tlb::shootdown(0, u64::MAX / PAGE_SIZE);
        for d in detached.iter().filter(|&&d| d & P != 0) {
            free_user_level(d & ADDR_MASK, 2);
            frame::free_raw(d & ADDR_MASK, 0);
            TABLE_PAGES.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Visits present leaf entries of the user half in address order.
fn walk_user(t: u64, level: u32, base: u64, f: &mut dyn FnMut(u64, u64)) {
    let count = if level == 3 { 256 } else { 512 };
    for i in 0..count {
        let v = table(t)[i].load(Ordering::Acquire);
        if v & P == 0 {
            continue;
        }
        let va = base | ((i as u64) << (12 + 9 * level));
        if level == 0 {
            f(va, v);
        } else {
            walk_user(v & ADDR_MASK, level - 1, va, f);
        }
    }
}

/// Splits [vaddr, vaddr+len) at page boundaries: f(page vaddr, offset into
/// the range, length in this page).
fn for_each_chunk(vaddr: u64, len: usize, mut f: impl FnMut(u64, usize, usize) -> Result<(), MmError>) -> Result<(), MmError> {
    let end = vaddr.checked_add(len as u64).ok_or(MmError::BadAddress)?;
    if end > USER_END {
        return Err(MmError::BadAddress);
    }
    let mut va = vaddr;
    while va < end {
        let n = ((PAGE_SIZE - va % PAGE_SIZE).min(end - va)) as usize;
        f(va, (va - vaddr) as usize, n)?;
        va += n as u64;
    }
    Ok(())
}

fn free_user_level(t: u64, level: u32) {
    for i in 0..512 {
        let v = table(t)[i].swap(0, Ordering::AcqRel);
        if v & P == 0 {
            continue;
        }
        if level == 0 {
            // Shared frames are released by dropping `VmSpace::shared`.
            if v & SHARED == 0 {
                drop(frame_from_entry(v));
            }
        } else {
            free_user_level(v & ADDR_MASK, level - 1);
            frame::free_raw(v & ADDR_MASK, 0);
            TABLE_PAGES.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Upper bound check used by ktests.
pub fn kernel_half_start() -> u64 {
    PHYS_OFFSET
}

//! Process address spaces: VMAs over a `kbase::mm::paging::VmSpace`, demand
//! paging, brk, mmap/munmap/mprotect, and fork's copy.
//!
//! ```text
//!  0x0000_0000_0040_0000   ELF (ET_EXEC as linked; static-PIE at PIE_BASE + random)
//!  brk_start ..brk          heap, grows up (starts up to 32 MiB above the image)
//!  .. mmap_top              mmap area, allocated top-down (MMAP_TOP - random)
//!  stack_top - 8 MiB ..     main thread stack (STACK_TOP - random)
//! ```
//! The random parts (ASLR) are chosen by exec (`elfload::Layout`); see
//! docs/reliability.md.
//! Pages are mapped on first touch. A mapping of a tmpfs or memfd file
//! (`Backing::Paged`, also exec's segments) maps the file's own frames
//! (`filemap`): MAP_SHARED ones writable, so stores are the file's bytes
//! at once; private ones read-only, a write copying the page (COW). The
//! vDSO image (`Backing::File`) comes through the page cache
//! (`pagecache`). fork shares every present page
//! copy-on-write: read-only in both processes until one writes, when the
//! write fault gives the writer its own frame (or takes the frame back
//! without a copy if the other side already let go).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use kbase::mm::frame::FrameBlock;
use kbase::task::Mutex;
use kbase::mm::paging::{PageFlags, USER_END, VmSpace};

use crate::errno::{EFAULT, EINVAL, ENOMEM, Errno, mm};

pub const PAGE: u64 = 4096;
/// Pages mapped per file-backed fault.
const FAULT_AROUND: u64 = 16;
pub use elfload::layout::MMAP_TOP;
pub const STACK_SIZE: u64 = 8 << 20;
/// Lowest address user mappings may use (vm.mmap_min_addr).
pub const MIN_ADDR: u64 = 0x10000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    pub fn from_bits(p: u32) -> Self {
        Self { read: p & 1 != 0, write: p & 2 != 0, exec: p & 4 != 0 }
    }
    fn page_flags(self) -> PageFlags {
        PageFlags { writable: self.write, executable: self.exec, user: true }
    }
}

#[derive(Clone)]
pub enum Backing {
    Anon,
    /// MAP_SHARED|MAP_ANONYMOUS memory: page `offset_pages + (addr -
    /// start) / PAGE` of `mem`, the same frame in every process that maps
    /// it (fork keeps it shared and writable).
    Shared { mem: Arc<SharedMem>, offset_pages: u64 },
    /// Bytes `[offset, offset + len)` of `data` (an image in kernel
    /// memory: the vDSO) appear at the VMA start; the rest of the VMA
    /// reads as zeros.
    File { data: Arc<alloc::vec::Vec<u8>>, offset: u64, len: u64, name: Option<Arc<FileName>> },
    /// Bytes `[offset, offset + len)` of a mappable file (tmpfs, memfd),
    /// from its own pages, appear at the VMA start (`offset` is
    /// page-aligned). mmap gives `len` u64::MAX: a page past the file's end
    /// is SIGBUS, as Linux. exec gives a segment's file size: the rest of
    /// the VMA reads as zeros (its last file page is a private copy with
    /// the tail zeroed).
    /// `writer`: a shared mapping that may write the file (opened for
    /// writing, not sealed); without it mprotect refuses PROT_WRITE.
    /// `copy_early` (exec's segments): a private writable page is copied
    /// at its first fault, read or write, with up to FAULT_AROUND
    /// neighbours: a program writes most of its data pages, and a fault
    /// per page costs more than the copies.
    Paged { file: Arc<crate::filemap::MappedFile>, offset: u64, len: u64, name: Option<Arc<FileName>>, writer: Option<Arc<crate::filemap::WriteMark>>, copy_early: bool },
}

/// Where a file mapping came from, for /proc/[pid]/maps.
pub struct FileName {
    pub path: alloc::vec::Vec<u8>,
    pub dev: u64,
    pub ino: u64,
}

#[derive(Clone)]
pub struct Vma {
    pub end: u64,
    pub prot: Prot,
    pub backing: Backing,
    /// MAP_SHARED (anonymous ones have `Backing::Shared`, file ones
    /// `Backing::Paged`).
    pub shared: bool,
    /// MAP_GROWSDOWN (and the main stack): a fault below it moves its
    /// start down (`Vm::grow_down`).
    pub grows_down: bool,
}

/// Pages kept free below a MAP_GROWSDOWN mapping (Linux's
/// stack_guard_gap, 256 pages): mmap places nothing there, and the
/// mapping does not grow to within it of the mapping below.
pub const STACK_GUARD_GAP: u64 = 256 * PAGE;
/// The main stack's mapping at exec: what the arguments take plus this
/// much (Linux's setup_arg_pages `stack_expand`); it grows from there.
const STACK_EXPAND: u64 = 128 << 10;

/// The pages of a MAP_SHARED anonymous mapping, by page index: created
/// zeroed on first touch, shared by every mapping of it, freed with the
/// last one. (memfd and SysV shared memory can use the same object.)
pub struct SharedMem {
    pages: Mutex<BTreeMap<u64, Arc<FrameBlock>>>,
}

impl SharedMem {
    pub fn new() -> Self {
        Self { pages: Mutex::new(BTreeMap::new()) }
    }

    /// Page `index`, made on first use (None: no memory for it).
    pub fn page(&self, index: u64) -> Option<Arc<FrameBlock>> {
        let mut pages = self.pages.lock();
        if let Some(f) = pages.get(&index) {
            return Some(f.clone());
        }
        let f = Arc::new(FrameBlock::alloc_user(0).ok()?);
        pages.insert(index, f.clone());
        Some(f)
    }
}

/// fork copies a process owning at most this many pages (1 MiB) and shares
/// a bigger one copy-on-write: below it, copying is cheaper than the write
/// faults sharing costs afterwards.
const FORK_COPY_PAGES: usize = 256;

/// What a page fault came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The page is mapped now (or already was): retry the access.
    Mapped,
    /// No mapping allows this access: SIGSEGV (or EFAULT in a copy).
    Bad,
    /// The access is allowed but no frame was free: the OOM killer's case.
    NoMemory,
    /// The page lies past the end of the mapped file, or the file could
    /// not get a page (ENOSPC): SIGBUS (BUS_ADRERR), as Linux.
    Bus,
}

pub struct Vm {
    space: VmSpace,
    vmas: BTreeMap<u64, Vma>,
    pub brk_start: u64,
    pub brk: u64,
    /// The mmap area (and the heap) ends below this; chosen at exec.
    pub mmap_top: u64,
    /// RLIMIT_AS: mmap, brk and mremap fail with ENOMEM past this many
    /// bytes of mappings.
    pub as_limit: u64,
    /// End of the main thread's stack VMA (`[stack]` in /proc/[pid]/maps).
    pub stack_top: u64,
}

fn page_down(a: u64) -> u64 {
    a & !(PAGE - 1)
}

fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE - 1).map(page_down)
}

impl Vm {
    pub fn new() -> Result<Self, Errno> {
        Ok(Self { space: VmSpace::new().map_err(mm)?, vmas: BTreeMap::new(), brk_start: 0, brk: 0, mmap_top: MMAP_TOP, as_limit: u64::MAX, stack_top: 0 })
    }

    /// Every VMA as (start, vma), in address order (/proc/[pid]/maps).
    pub fn vmas(&self) -> impl Iterator<Item = (u64, &Vma)> {
        self.vmas.iter().map(|(s, v)| (*s, v))
    }

    pub fn space(&self) -> &VmSpace {
        &self.space
    }

    pub fn space_mut(&mut self) -> &mut VmSpace {
        &mut self.space
    }

    /// The VMA containing `addr`, as (start, vma).
    fn find(&self, addr: u64) -> Option<(u64, &Vma)> {
        self.vmas.range(..=addr).next_back().filter(|(_, v)| addr < v.end).map(|(s, v)| (*s, v))
    }

    /// What a shared futex at `addr` is keyed by (Linux's get_futex_key):
    /// the memory object under a MAP_SHARED mapping and the byte offset in
    /// it, the same in every process that maps it. None for private memory
    /// (keyed by address space and address) or no mapping.
    pub fn shared_object_at(&self, addr: u64) -> Option<(Arc<dyn core::any::Any + Send + Sync>, u64)> {
        let (start, vma) = self.find(addr)?;
        match &vma.backing {
            Backing::Shared { mem, offset_pages } => Some((mem.clone(), offset_pages * PAGE + (addr - start))),
            Backing::File { data, offset, .. } if vma.shared => Some((data.clone(), offset + (addr - start))),
            Backing::Paged { file, offset, .. } if vma.shared => Some((file.clone(), offset + (addr - start))),
            _ => None,
        }
    }

    /// Whether a mapping covers `addr` (a bad access there is SEGV_ACCERR,
    /// elsewhere SEGV_MAPERR).
    pub fn is_mapped(&self, addr: u64) -> bool {
        self.find(addr).is_some()
    }

    /// Whether mappings cover all of `[start, end)` (no gap).
    pub fn is_range_mapped(&self, start: u64, end: u64) -> bool {
        let mut p = start;
        while p < end {
            match self.find(p) {
                Some((_, v)) => p = v.end,
                None => return false,
            }
        }
        true
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas.range(..end).next_back().is_some_and(|(_, v)| v.end > start)
    }

    /// Bytes of all mappings (what RLIMIT_AS limits).
    fn total_len(&self) -> u64 {
        self.vmas.iter().map(|(s, v)| v.end - s).sum()
    }

    /// Whether `more` bytes of new mappings stay within RLIMIT_AS.
    fn may_grow(&self, more: u64) -> bool {
        self.as_limit == u64::MAX || self.total_len().saturating_add(more) <= self.as_limit
    }

    /// Adds a VMA over a range that must be free.
    pub fn insert(&mut self, start: u64, vma: Vma) -> Result<(), Errno> {
        if start % PAGE != 0 || vma.end % PAGE != 0 || vma.end <= start || vma.end > USER_END {
            return Err(EINVAL);
        }
        if self.overlaps(start, vma.end) {
            return Err(EINVAL);
        }
        self.vmas.insert(start, vma);
        Ok(())
    }

    /// Splits the VMA containing `addr` so that a VMA starts exactly there.
    fn split_at(&mut self, addr: u64) {
        let Some((start, vma)) = self.find(addr).map(|(s, v)| (s, v.clone())) else { return };
        if start == addr {
            return;
        }
        let delta = addr - start;
        let tail_backing = match &vma.backing {
            Backing::Anon => Backing::Anon,
            Backing::Shared { mem, offset_pages } => Backing::Shared { mem: mem.clone(), offset_pages: offset_pages + delta / PAGE },
            Backing::File { data, offset, len, name } => {
                Backing::File { data: data.clone(), offset: offset + delta, len: len.saturating_sub(delta), name: name.clone() }
            }
            Backing::Paged { file, offset, len, name, writer, copy_early } => Backing::Paged {
                file: file.clone(),
                offset: offset + delta,
                len: len.saturating_sub(delta),
                name: name.clone(),
                writer: writer.clone(),
                copy_early: *copy_early,
            },
        };
        if let Some(head) = self.vmas.get_mut(&start) {
            head.end = addr;
        }
        self.vmas.insert(addr, Vma { end: vma.end, prot: vma.prot, backing: tail_backing, shared: vma.shared, grows_down: vma.grows_down });
    }

    /// Handles a fault at `addr`; true when the page is now mapped.
    pub fn handle_fault(&mut self, addr: u64, error_code: u64) -> Fault {
        let page = page_down(addr);
        let Some((start, vma)) = self.find(addr) else { return Fault::Bad };
        let (is_present, is_write, is_fetch) = (error_code & 1 != 0, error_code & 2 != 0, error_code & 16 != 0);
        let now = self.space.query(page);
        if now.is_some() && is_write && vma.prot.write {
            // A copy-on-write page (fork shares pages read-only), or one
            // another thread has already made writable meanwhile. (The
            // fault may say "not present" when the page was mapped, and
            // then shared by a fork, after it was taken.)
            if now.is_some_and(|(_, f)| f.writable) {
                return Fault::Mapped;
            }
            let flags = vma.prot.page_flags();
            return match self.space.protect(page, flags) {
                Ok(()) => Fault::Mapped,
                Err(kbase::mm::MmError::OutOfMemory) => Fault::NoMemory,
                Err(_) => Fault::Bad,
            };
        }
        if is_present || (is_write && !vma.prot.write) || (is_fetch && !vma.prot.exec) || !(vma.prot.read || vma.prot.write || vma.prot.exec) {
            return Fault::Bad;
        }
        // Another thread of this process may have mapped the page between
        // this CPU's fault and our taking the lock (both threads touched a
        // new page at once). x86 caches no not-present entries, so the
        // access succeeds when retried if the mapping allows it.
        if let Some((_, now)) = self.space.query(page) {
            let is_allowed = now.user && (!is_write || now.writable) && (!is_fetch || now.executable);
            return if is_allowed { Fault::Mapped } else { Fault::Bad };
        }
        let flags = vma.prot.page_flags();
        match &vma.backing {
            Backing::Shared { mem, offset_pages } => {
                let Some(frame) = mem.page(offset_pages + (page - start) / PAGE) else { return Fault::NoMemory };
                match self.space.map_shared_writable(page, frame, flags) {
                    Ok(()) => Fault::Mapped,
                    Err(_) => Fault::NoMemory,
                }
            }
            Backing::Anon => self.fault_anon(page, is_write || is_fetch, flags),
            Backing::Paged { file, offset, len, copy_early, .. } => {
                let (file, offset, len, end, shared) = (file.clone(), *offset, *len, vma.end, vma.shared);
                let copy_ahead = !shared && *copy_early && flags.writable;
                self.fault_paged(page, start, end, &file, offset, len, shared, copy_ahead, is_write, flags)
            }
            Backing::File { data, offset, len, .. } => {
                // Fault-around (as Linux does for file mappings): map up to
                // FAULT_AROUND pages from here on in one trap.
                let (data, offset, len, end) = (data.clone(), *offset, *len, vma.end);
                let mut ok = false;
                let mut is_short = false;
                let mut p = page;
                while p < end && p < page + FAULT_AROUND * PAGE {
                    if p != page && self.space.query(p).is_some() {
                        break;
                    }
                    let delta = p - start;
                    // Read-only pages whose file bytes start page-aligned
                    // come from the shared page cache.
                    let is_cacheable = !flags.writable && (offset + delta) % PAGE == 0 && delta + PAGE <= len;
                    if is_cacheable {
                        let Some(frame) = crate::pagecache::page(&data, (offset + delta) / PAGE) else {
                            is_short = true;
                            break;
                        };
                        if self.space.map_shared(p, frame, flags).is_err() {
                            break;
                        }
                        ok |= p == page;
                        p += PAGE;
                        continue;
                    }
                    let src: &[u8] = if delta < len {
                        let from = (offset + delta) as usize;
                        let n = ((len - delta).min(PAGE)) as usize;
                        data.get(from..from + n).unwrap_or(&[])
                    } else {
                        &[]
                    };
                    let Ok(frame) = FrameBlock::alloc_copy_user(src) else {
                        is_short = true;
                        break;
                    };
                    if self.space.map(p, frame, flags).is_err() {
                        break;
                    }
                    ok |= p == page;
                    p += PAGE;
                }
                match (ok, is_short) {
                    (true, _) => Fault::Mapped,
                    (false, true) => Fault::NoMemory,
                    (false, false) => Fault::Bad,
                }
            }
        }
    }

    /// A fault on private anonymous memory (or past the file part of an
    /// exec segment) at `page`.
    fn fault_anon(&mut self, page: u64, is_write: bool, flags: PageFlags) -> Fault {
        if !is_write && let Some(zero) = zero_frame() {
            // A read of untouched memory maps the zero page; the first
            // write copies it (`protect` above, as copy-on-write).
            return match self.space.map_shared(page, zero, PageFlags { writable: false, ..flags }) {
                Ok(()) => Fault::Mapped,
                Err(_) => Fault::NoMemory,
            };
        }
        let Ok(frame) = FrameBlock::alloc_user(0) else { return Fault::NoMemory };
        match self.space.map(page, frame, flags) {
            Ok(()) => Fault::Mapped,
            // A page table could not be had: the kernel's reserve is gone too.
            Err(_) => Fault::NoMemory,
        }
    }

    /// A fault at `page` of a `Backing::Paged` VMA `[start, end)`.
    ///
    /// Shared: the file's page, writable if the VMA is (a hole gets a
    /// page). Private: a read maps the file's page read-only (a later
    /// write copies it in `protect`), a write maps a copy of it. Up to
    /// FAULT_AROUND pages the file already has are mapped in the same
    /// trap, as Linux's fault-around, so exec'd text costs few traps and
    /// its frames are the same in every process (TCG keeps its
    /// translations). `copy_ahead` (exec's writable segments) copies
    /// instead, the bss zeroed, as [`fault_copy_ahead`](Self::fault_copy_ahead).
    #[allow(clippy::too_many_arguments, reason = "the fault and the VMA's fields, unpacked")]
    fn fault_paged(&mut self, page: u64, start: u64, end: u64, file: &crate::filemap::MappedFile, offset: u64, len: u64, shared: bool, copy_ahead: bool, is_write: bool, flags: PageFlags) -> Fault {
        if copy_ahead {
            return self.fault_copy_ahead(page, start, end, file, offset, len, flags);
        }
        let delta = page - start;
        if delta >= len {
            return self.fault_anon(page, is_write, flags);
        }
        let index = (offset + delta) / PAGE;
        if len - delta < PAGE {
            // The last file page of an exec segment: a private copy with
            // the bytes past the segment's file part zeroed.
            return self.map_file_copy(page, file, index, (len - delta) as usize, flags, true);
        }
        let frame = match file.page(index, true) {
            Ok(Some(f)) => f,
            Ok(None) | Err(crate::errno::ENOMEM) => return Fault::NoMemory,
            // Past the end of the file, or no room in the filesystem.
            Err(_) => return Fault::Bus,
        };
        let is_copy = !shared && is_write;
        let mapped = if shared {
            self.space.map_shared_writable(page, frame, flags)
        } else if is_copy {
            let Ok(frame) = FrameBlock::alloc_copy_user(frame.as_slice()) else { return Fault::NoMemory };
            self.space.map(page, frame, flags)
        } else {
            self.space.map_shared(page, frame, PageFlags { writable: false, ..flags })
        };
        if mapped.is_err() {
            return Fault::NoMemory;
        }
        if is_copy {
            // A write copies only its own page: the neighbours may never
            // be written.
            return Fault::Mapped;
        }
        // Fault-around: the following pages the file has, not yet mapped.
        let mut p = page + PAGE;
        while p < end && p < page + FAULT_AROUND * PAGE && p - start < len && len - (p - start) >= PAGE {
            if self.space.query(p).is_some() {
                break;
            }
            let Ok(Some(frame)) = file.page((offset + (p - start)) / PAGE, false) else { break };
            let ok = if shared {
                self.space.map_shared_writable(p, frame, flags)
            } else {
                self.space.map_shared(p, frame, PageFlags { writable: false, ..flags })
            };
            if ok.is_err() {
                break;
            }
            p += PAGE;
        }
        Fault::Mapped
    }

    /// A fault in a writable exec segment: private copies of the file's
    /// bytes (zeros past its file part: the bss) from `page` on, up to
    /// FAULT_AROUND pages in one trap. A program writes most of its data
    /// pages, so copying at once costs less than a read fault and a
    /// copy-on-write fault per page.
    #[allow(clippy::too_many_arguments, reason = "the fault and the VMA's fields, unpacked")]
    fn fault_copy_ahead(&mut self, page: u64, start: u64, end: u64, file: &crate::filemap::MappedFile, offset: u64, len: u64, flags: PageFlags) -> Fault {
        let mut p = page;
        while p < end && p < page + FAULT_AROUND * PAGE {
            if p != page && self.space.query(p).is_some() {
                break;
            }
            let delta = p - start;
            let n = len.saturating_sub(delta).min(PAGE) as usize;
            let f = self.map_file_copy(p, file, (offset + delta) / PAGE, n, flags, p == page);
            if f != Fault::Mapped {
                return if p == page { f } else { Fault::Mapped };
            }
            p += PAGE;
        }
        Fault::Mapped
    }

    /// Maps at `page` a private frame holding the first `n` bytes of file
    /// page `index` (zeros for a hole, and after them). Past the end of
    /// the file: SIGBUS if `is_fault` (the faulting page), else nothing.
    fn map_file_copy(&mut self, page: u64, file: &crate::filemap::MappedFile, index: u64, n: usize, flags: PageFlags, is_fault: bool) -> Fault {
        let src = if n == 0 {
            None
        } else {
            match file.page(index, false) {
                Ok(src) => src,
                Err(_) if is_fault => return Fault::Bus,
                Err(_) => return Fault::Bad,
            }
        };
        let prefix = src.as_ref().map_or(&[][..], |f| &f.as_slice()[..n.min(PAGE as usize)]);
        let Ok(frame) = FrameBlock::alloc_copy_user(prefix) else { return Fault::NoMemory };
        match self.space.map(page, frame, flags) {
            Ok(()) => Fault::Mapped,
            Err(_) => Fault::NoMemory,
        }
    }

    /// A fault at `addr` found no mapping: if the mapping above it grows
    /// down, its start moves to `addr`'s page, as Linux's expand_downwards
    /// and acct_stack_growth: not below MIN_ADDR, not within
    /// STACK_GUARD_GAP of an accessible mapping below (one that grows down
    /// itself does not count), the whole mapping at most `rlimit_stack`
    /// bytes (RLIMIT_STACK), and within RLIMIT_AS. True when it grew.
    pub fn grow_down(&mut self, addr: u64, rlimit_stack: u64) -> bool {
        let new_start = page_down(addr);
        let Some((&start, vma)) = self.vmas.range(addr..).next() else { return false };
        if !vma.grows_down || !matches!(vma.backing, Backing::Anon) || new_start < MIN_ADDR || new_start >= start {
            return false;
        }
        if vma.end - new_start > rlimit_stack || !self.may_grow(start - new_start) {
            return false;
        }
        if let Some((_, below)) = self.vmas.range(..start).next_back() {
            let is_accessible = below.prot.read || below.prot.write || below.prot.exec;
            if below.end > new_start || (!below.grows_down && is_accessible && new_start - below.end < STACK_GUARD_GAP) {
                return false;
            }
        }
        let Some(v) = self.vmas.remove(&start) else { return false };
        self.vmas.insert(new_start, v);
        true
    }

    /// After exec built the initial stack at `sp`: the stack mapping keeps
    /// only the pages from STACK_EXPAND below `sp` up; it grows on demand.
    pub fn trim_stack(&mut self, sp: u64) {
        let Some((start, vma)) = self.find(self.stack_top - 1).map(|(s, v)| (s, v.clone())) else { return };
        let new_start = page_down(sp).saturating_sub(STACK_EXPAND).max(start);
        if new_start > start {
            self.vmas.remove(&start);
            self.vmas.insert(new_start, vma);
            self.unmap_pages(start, new_start);
        }
    }

    /// Maps every page of `[start, end)` now (used for the initial stack).
    pub fn populate(&mut self, start: u64, end: u64) -> Result<(), Errno> {
        let mut p = page_down(start);
        let mut done = 0u32;
        while p < end {
            let Some((_, vma)) = self.find(p) else { return Err(ENOMEM) };
            // As Linux's populate_vma_page_range: a private writable
            // mapping gets its own pages (write faults), others the pages
            // a read finds (the file's, the zero page); PROT_NONE none.
            let prot = vma.prot;
            let code = if prot.write && !vma.shared { 2 } else { 0 };
            if (prot.read || prot.write || prot.exec)
                && self.space.query(p).is_none()
                && self.handle_fault(p, code) != Fault::Mapped
            {
                return Err(ENOMEM);
            }
            p += PAGE;
            done += 1;
            // A large range takes a while under TCG: let others run.
            if done % 512 == 0 {
                kbase::task::cond_resched();
            }
        }
        Ok(())
    }

    /// Removes mappings in `[start, end)`.
    pub fn unmap(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let starts: alloc::vec::Vec<u64> = self.vmas.range(start..end).map(|(s, _)| *s).collect();
        for s in starts {
            if let Some(v) = self.vmas.remove(&s) {
                self.unmap_pages(s, v.end);
            }
        }
    }

    fn unmap_pages(&mut self, start: u64, end: u64) {
        let _ = self.space.unmap_range(start, end);
    }

    /// mmap: returns the address used.
    #[allow(clippy::too_many_arguments, reason = "mmap(2)'s own arguments, decoded")]
    pub fn mmap(&mut self, addr: u64, len: u64, prot: Prot, fixed: bool, no_replace: bool, backing: Backing, shared: bool, grows_down: bool) -> Result<u64, Errno> {
        let len = page_up(len).filter(|&l| l > 0).ok_or(EINVAL)?;
        if !self.may_grow(len) {
            return Err(ENOMEM);
        }
        let start = if fixed {
            if addr % PAGE != 0 || addr < MIN_ADDR {
                return Err(EINVAL);
            }
            let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(ENOMEM)?;
            if self.overlaps(addr, end) {
                if no_replace {
                    return Err(crate::errno::EEXIST);
                }
                self.unmap(addr, end);
            }
            addr
        } else {
            let hint = page_down(addr);
            match hint.checked_add(len) {
                Some(end) if hint >= MIN_ADDR && end <= self.mmap_top && self.is_free(hint, end) => hint,
                _ => self.find_free(len)?,
            }
        };
        self.insert(start, Vma { end: start + len, prot, backing, shared, grows_down })?;
        Ok(start)
    }

    /// Where a mapping may be placed up to: its start, less the guard gap
    /// if it grows down (Linux's vm_start_gap).
    fn start_gap(start: u64, v: &Vma) -> u64 {
        if v.grows_down { start.saturating_sub(STACK_GUARD_GAP) } else { start }
    }

    /// Whether `[start, end)` overlaps no mapping nor a guard gap.
    fn is_free(&self, start: u64, end: u64) -> bool {
        !self.overlaps(start, end) && self.vmas.range(end..).next().is_none_or(|(s, v)| Self::start_gap(*s, v) >= end)
    }

    /// Highest free range of `len` bytes below `mmap_top` (guard gaps
    /// kept).
    fn find_free(&self, len: u64) -> Result<u64, Errno> {
        let mut top = self.mmap_top;
        if let Some((s, v)) = self.vmas.range(self.mmap_top..).next() {
            top = top.min(Self::start_gap(*s, v));
        }
        for (s, v) in self.vmas.range(..self.mmap_top).rev() {
            if v.end <= top && top - v.end >= len {
                return Ok(top - len);
            }
            top = top.min(Self::start_gap(*s, v));
        }
        if top >= len + MIN_ADDR { Ok(top - len) } else { Err(ENOMEM) }
    }

    /// mprotect(2) of `[start, start + len)`. With `grows_down`
    /// (PROT_GROWSDOWN) the range reaches down to the start of the first
    /// mapping it meets, which must be a MAP_GROWSDOWN one (EINVAL); with
    /// `grows_up` (PROT_GROWSUP) EINVAL, as no x86_64 mapping grows up
    /// (Linux's do_mprotect_pkey).
    pub fn mprotect(&mut self, start: u64, len: u64, prot: Prot, grows_down: bool, grows_up: bool) -> Result<(), Errno> {
        let end = page_up(start.checked_add(len).ok_or(ENOMEM)?).ok_or(ENOMEM)?;
        let mut start = start;
        // The first mapping that meets the range.
        let first = self.find(start).or_else(|| self.vmas.range(start..end).next().map(|(s, v)| (*s, v)));
        let (first_start, first_vma) = first.ok_or(ENOMEM)?;
        if grows_down {
            if !first_vma.grows_down {
                return Err(EINVAL);
            }
            start = first_start;
        } else if first_start > start {
            return Err(ENOMEM);
        } else if grows_up {
            return Err(EINVAL);
        }
        // Every page of the range must be mapped (ENOMEM otherwise); a
        // shared file mapping becomes writable only if it may write the
        // file (EACCES, as Linux without VM_MAYWRITE).
        let mut p = start;
        while p < end {
            let (_, v) = self.find(p).ok_or(ENOMEM)?;
            if prot.write && v.shared && matches!(v.backing, Backing::Paged { writer: None, .. }) {
                return Err(crate::errno::EACCES);
            }
            p = v.end;
        }
        self.split_at(start);
        self.split_at(end);
        let starts: alloc::vec::Vec<u64> = self.vmas.range(start..end).map(|(s, _)| *s).collect();
        for s in starts {
            let vend = match self.vmas.get_mut(&s) {
                Some(v) => {
                    v.prot = prot;
                    v.end
                }
                None => continue,
            };
            let _ = self.space.protect_range(s, vend, prot.page_flags());
        }
        Ok(())
    }

    /// brk(2): moves the program break; returns the new (or old) break.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start {
            return self.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_up(self.brk), page_up(new)) else { return self.brk };
        if new_end > old_end {
            if self.overlaps(old_end, new_end) || new_end > self.mmap_top || !self.may_grow(new_end - old_end) {
                return self.brk;
            }
            let rw = Prot { read: true, write: true, exec: false };
            // Grow the heap VMA (or start one).
            match self.vmas.range_mut(..old_end).next_back() {
                Some((_, v)) if v.end == old_end && v.prot == rw && matches!(v.backing, Backing::Anon) && old_end > self.brk_start => v.end = new_end,
                _ => {
                    if self.insert(old_end, Vma { end: new_end, prot: rw, backing: Backing::Anon, shared: false, grows_down: false }).is_err() {
                        return self.brk;
                    }
                }
            }
        } else if new_end < old_end {
            self.unmap(new_end, old_end);
        }
        self.brk = new;
        self.brk
    }

    /// A copy for fork: same VMAs; the pages (of a process owning more
    /// than FORK_COPY_PAGES of them; smaller ones are copied) are shared
    /// copy-on-write
    /// (`VmSpace::fork_into`), so fork costs page-table entries, not
    /// copies, and a page is copied only when one side writes it.
    pub fn fork_copy(&mut self) -> Result<Self, Errno> {
        let mut child = Vm::new()?;
        child.vmas = self.vmas.clone();
        child.brk_start = self.brk_start;
        child.stack_top = self.stack_top;
        child.brk = self.brk;
        child.mmap_top = self.mmap_top;
        child.as_limit = self.as_limit;
        self.space.fork_into(&mut child.space, FORK_COPY_PAGES).map_err(mm)?;
        Ok(child)
    }
}

impl Vm {
    /// Frees the pages of `[start, end)` but keeps the VMAs (MADV_DONTNEED):
    /// anonymous memory refaults as zeros, file-backed memory from the file.
    /// mremap(2): shrinks in place, grows in place when the pages after
    /// the mapping are free, or else (with `may_move`) moves the mapping,
    /// its pages with it, to a free range or to `fixed`. The old range
    /// must lie in one mapping (EFAULT).
    pub fn mremap(&mut self, old: u64, old_len: u64, new_len: u64, may_move: bool, fixed: Option<u64>) -> Result<u64, Errno> {
        let old_len = page_up(old_len).ok_or(EINVAL)?;
        let new_len = page_up(new_len).filter(|&l| l > 0).ok_or(EINVAL)?;
        let old_end = old.checked_add(old_len).filter(|&e| e <= USER_END).ok_or(EINVAL)?;
        let (start, vma) = self.find(old).ok_or(EFAULT)?;
        if old_end > vma.end || old_len == 0 {
            // old_len 0 duplicates a shared mapping on Linux: not here.
            return Err(if old_len == 0 { EINVAL } else { EFAULT });
        }
        let vma_end = vma.end;
        if let Some(dest) = fixed {
            let dest_end = dest.checked_add(new_len).filter(|&e| e <= USER_END).ok_or(EINVAL)?;
            if dest % PAGE != 0 || dest < MIN_ADDR || (dest < old_end && old < dest_end) {
                return Err(EINVAL);
            }
            self.unmap(dest, dest_end);
            return self.move_mapping(old, old_len, dest, new_len);
        }
        if new_len <= old_len {
            self.unmap(old + new_len, old_end);
            return Ok(old);
        }
        let grown_end = old.checked_add(new_len).ok_or(ENOMEM)?;
        if !self.may_grow(new_len - old_len) {
            return Err(ENOMEM);
        }
        if old_end == vma_end && grown_end <= USER_END && !self.overlaps(old_end, grown_end) {
            if let Some(v) = self.vmas.get_mut(&start) {
                v.end = grown_end;
            }
            return Ok(old);
        }
        if !may_move {
            return Err(ENOMEM);
        }
        let dest = self.find_free(new_len)?;
        self.move_mapping(old, old_len, dest, new_len)
    }

    /// Moves the mapping `[old, old + old_len)` (inside one VMA) to `dest`
    /// (free) with a new length, taking its pages along.
    fn move_mapping(&mut self, old: u64, old_len: u64, dest: u64, new_len: u64) -> Result<u64, Errno> {
        let old_end = old + old_len;
        self.split_at(old);
        self.split_at(old_end);
        let vma = self.vmas.remove(&old).ok_or(EFAULT)?;
        let moved = Vma { end: dest + new_len, ..vma.clone() };
        if let Err(e) = self.insert(dest, moved) {
            self.vmas.insert(old, vma);
            return Err(e);
        }
        let keep = old_len.min(new_len);
        if let Err(e) = self.space.move_range(old, dest, keep) {
            // Out of page tables midway: both ranges stay mapped.
            self.vmas.insert(old, vma);
            return Err(mm(e));
        }
        self.unmap_pages(old + keep, old_end);
        Ok(dest)
    }

    /// mincore(2) for at most `max_pages` pages from `start` (the caller
    /// goes on in steps, so a huge range needs no huge buffer): one byte a
    /// page, bit 0 set when resident; ENOMEM if a page is not mapped.
    pub fn mincore(&self, start: u64, len: u64, max_pages: u64) -> Result<alloc::vec::Vec<u8>, Errno> {
        let end = start.checked_add(len).and_then(page_up).filter(|&e| e <= USER_END).ok_or(ENOMEM)?;
        let end = end.min(start.saturating_add(max_pages * PAGE));
        let mut out = alloc::vec::Vec::new();
        let mut p = start;
        while p < end {
            self.find(p).ok_or(ENOMEM)?;
            out.push(u8::from(self.space.query(p).is_some()));
            p += PAGE;
        }
        Ok(out)
    }

    /// Unmaps the pages of mappings of `file` that show its pages from
    /// `first_index` on (the file shrank: `filemap::truncated`); the
    /// VMAs stay, so a touch faults and finds the end of the file.
    pub fn unmap_file_pages(&mut self, file: &Arc<crate::filemap::MappedFile>, first_index: u64) {
        let cut = first_index.saturating_mul(PAGE);
        let ranges: alloc::vec::Vec<(u64, u64)> = self
            .vmas
            .iter()
            .filter_map(|(&start, v)| match &v.backing {
                Backing::Paged { file: f, offset, len, .. } if Arc::ptr_eq(f, file) => {
                    let from = start.saturating_add(cut.saturating_sub(*offset));
                    // Not past the file part (an exec segment's bss is anonymous).
                    let to = v.end.min(start.saturating_add(page_up(*len).unwrap_or(u64::MAX)));
                    (from < to).then_some((from, to))
                }
                _ => None,
            })
            .collect();
        for (from, to) in ranges {
            self.unmap_pages(from, to);
        }
    }

    pub fn drop_pages(&mut self, start: u64, end: u64) {
        self.unmap_pages(page_down(start), page_up(end).unwrap_or(end));
    }
}

/// Linux's ZERO_PAGE: one zeroed frame, mapped read-only wherever private
/// anonymous memory is read before it is written, so memory that is only
/// read costs no frame (a 2 GiB write(2) from a fresh mapping would take
/// 2 GiB of RAM otherwise). None if the first allocation failed: reads
/// then get private frames.
fn zero_frame() -> Option<Arc<FrameBlock>> {
    static ZERO: kbase::sync::Once<Option<Arc<FrameBlock>>> = kbase::sync::Once::new();
    ZERO.get_or_init(|| FrameBlock::alloc(0).ok().map(Arc::new)).clone()
}

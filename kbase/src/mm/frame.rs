//! The physical frame allocator: a buddy allocator (`libs/buddy`, orders
//! 0..=10) behind one lock, with per-CPU caches of single frames in front so
//! the common case (one page) touches only CPU-local state.
//!
//! Metadata (about 9 bytes per frame) is carved from RAM at boot, before any
//! heap exists.

use core::sync::atomic::{AtomicU64, Ordering};

use buddy::Buddy;

use super::{MmError, PAGE_SIZE, PhysAddr};
use crate::arch::percpu::{self, MAX_CPUS};
use crate::boot_info::{BootInfo, MemKind};
use crate::sync::SpinLock;

pub use buddy::MAX_ORDER;

static BUDDY: SpinLock<Option<Buddy<'static>>> = SpinLock::new(None);
static TOTAL_FRAMES: AtomicU64 = AtomicU64::new(0);
/// Frames handed to the allocator at boot (usable RAM minus reservations).
static MANAGED_FRAMES: AtomicU64 = AtomicU64::new(0);

const CACHE_CAP: usize = 64;
const CACHE_BATCH: usize = 32;

struct Cache {
    frames: [u32; CACHE_CAP],
    len: usize,
}

static CACHES: [SpinLock<Cache>; MAX_CPUS] = [const { SpinLock::new(Cache { frames: [0; CACHE_CAP], len: 0 }) }; MAX_CPUS];

/// Sets up the allocator from the boot memory map. `reserved` ranges
/// (physical start, end) are never handed out.
pub(crate) fn init(info: &BootInfo, reserved: &[(u64, u64)]) {
    let top = info
        .memory()
        .filter(|r| r.kind == MemKind::Ram)
        .map(|r| r.end())
        .max()
        .unwrap_or(0);
    let frames = (top / PAGE_SIZE) as u32;
    let meta_bytes = (buddy::meta_words(frames) * 4) as u64;
    let meta_bytes = meta_bytes.div_ceil(PAGE_SIZE) * PAGE_SIZE;

    // Find room for the metadata: RAM above 1 MiB, below 4 GiB (the early
    // direct map), not overlapping any reservation.
    let overlaps = |s: u64, e: u64| reserved.iter().any(|&(rs, re)| s < re && rs < e);
    let mut meta_at = None;
    for r in info.memory().filter(|r| r.kind == MemKind::Ram) {
        let mut s = r.start.max(0x10_0000).next_multiple_of(PAGE_SIZE);
        while s + meta_bytes <= r.end().min(1 << 32) {
            if !overlaps(s, s + meta_bytes) {
                meta_at = Some(s);
                break;
            }
            s += 0x20_0000;
            s -= s % 0x20_0000;
        }
        if meta_at.is_some() {
            break;
        }
    }
    let meta_at = meta_at.expect("no room below 4 GiB for the frame allocator's metadata");
    let words = (meta_bytes / 4) as usize;
    // SAFETY: [meta_at, meta_at + meta_bytes) is RAM that is reserved below
    // (never handed out by the allocator), mapped by the early direct map,
    // and this is the only reference ever made to it.
    let meta: &'static mut [u32] =
        unsafe { core::slice::from_raw_parts_mut(PhysAddr(meta_at).to_virt().0 as *mut u32, words) };
    let mut b = Buddy::new(frames, meta).expect("buddy metadata sized by meta_words");

    let mut managed = 0u64;
    for r in info.memory().filter(|r| r.kind == MemKind::Ram) {
        // Walk the range, skipping every reservation (and the first MiB).
        let mut s = r.start.max(0x10_0000).next_multiple_of(PAGE_SIZE);
        let e = r.end() / PAGE_SIZE * PAGE_SIZE;
        while s < e {
            let meta_range = (meta_at, meta_at + meta_bytes);
            let cut = reserved
                .iter()
                .copied()
                .chain(core::iter::once(meta_range))
                .filter(|&(rs, re)| rs < e && re > s)
                .min_by_key(|&(rs, _)| rs);
            let (free_end, next) = match cut {
                Some((rs, re)) => ((rs / PAGE_SIZE * PAGE_SIZE).max(s), re.next_multiple_of(PAGE_SIZE)),
                None => (e, e),
            };
            if free_end > s {
                let count = ((free_end - s) / PAGE_SIZE) as u32;
                b.add_free_range((s / PAGE_SIZE) as u32, count).expect("memory map range inside the frame table");
                managed += u64::from(count);
            }
            s = next;
        }
    }
    TOTAL_FRAMES.store(u64::from(frames), Ordering::Relaxed);
    MANAGED_FRAMES.store(managed, Ordering::Relaxed);
    FREE_FRAMES.store(b.free_frames(), Ordering::Relaxed);
    *BUDDY.lock() = Some(b);
}

/// Allocates `1 << order` contiguous frames; returns the physical address.
/// When the buddy allocator runs dry, the frames parked in every CPU's cache
/// are returned to it and the request is tried once more, so "out of
/// memory" means no free frame is left anywhere.
pub fn alloc_raw(order: usize) -> Result<u64, MmError> {
    let r = alloc_once(order).or_else(|_| {
        drain_caches();
        alloc_once(order)
    });
    if r.is_ok() {
        FREE_FRAMES.fetch_sub(1 << order, Ordering::Relaxed);
    }
    r
}

/// Free frames (buddy and per-CPU caches), kept as a running count so the
/// user-memory reserve check costs one load.
static FREE_FRAMES: AtomicU64 = AtomicU64::new(0);

/// Frames user memory may not take: the kernel heap, stacks and page
/// tables still find memory when user space has used up the rest, so an
/// out-of-memory condition ends in the OOM killer, never in a kernel
/// allocation failure.
pub fn user_reserve_frames() -> u64 {
    (MANAGED_FRAMES.load(Ordering::Relaxed) / 128).max(1024)
}

/// Whether user memory may take `frames` more frames now.
pub fn user_may_take(frames: u64) -> bool {
    FREE_FRAMES.load(Ordering::Relaxed) >= user_reserve_frames() + frames
}

/// Returns every per-CPU cached frame to the buddy allocator.
fn drain_caches() {
    for cache in CACHES.iter() {
        let mut c = cache.lock();
        let mut b = BUDDY.lock();
        let Some(b) = b.as_mut() else { return };
        while c.len > 0 {
            c.len -= 1;
            let f = c.frames[c.len];
            if let Err(e) = b.free(f, 0) {
                panic!("frame allocator: cached frame {f:#x} could not be returned: {e}");
            }
        }
    }
}

fn alloc_once(order: usize) -> Result<u64, MmError> {
    if order == 0 {
        let mut c = CACHES[percpu::cpu_index()].lock();
        if c.len == 0 {
            let mut b = BUDDY.lock();
            let b = b.as_mut().ok_or(MmError::OutOfMemory)?;
            while c.len < CACHE_BATCH {
                match b.alloc(0) {
                    Some(f) => {
                        let i = c.len;
                        c.frames[i] = f;
                        c.len += 1;
                    }
                    None => break,
                }
            }
        }
        if c.len == 0 {
            return Err(MmError::OutOfMemory);
        }
        c.len -= 1;
        return Ok(u64::from(c.frames[c.len]) * PAGE_SIZE);
    }
    let mut b = BUDDY.lock();
    let b = b.as_mut().ok_or(MmError::OutOfMemory)?;
    b.alloc(order).map(|f| u64::from(f) * PAGE_SIZE).ok_or(MmError::OutOfMemory)
}

/// Returns frames from `alloc_raw`. A bad free (double, misaligned) is a
/// kernel bug and is reported loudly.
pub fn free_raw(paddr: u64, order: usize) {
    FREE_FRAMES.fetch_add(1 << order, Ordering::Relaxed);
    let frame = (paddr / PAGE_SIZE) as u32;
    if order == 0 {
        let mut c = CACHES[percpu::cpu_index()].lock();
        if c.len == CACHE_CAP {
            let mut b = BUDDY.lock();
            let b = b.as_mut().expect("frame allocator initialised");
            while c.len > CACHE_CAP - CACHE_BATCH {
                c.len -= 1;
                let f = c.frames[c.len];
                if let Err(e) = b.free(f, 0) {
                    panic!("frame allocator: bad free of frame {f:#x}: {e}");
                }
            }
        }
        let i = c.len;
        c.frames[i] = frame;
        c.len += 1;
        return;
    }
    let mut b = BUDDY.lock();
    let b = b.as_mut().expect("frame allocator initialised");
    if let Err(e) = b.free(frame, order) {
        panic!("frame allocator: bad free of {paddr:#x} (order {order}): {e}");
    }
}

/// Frame counts, for the banner, /proc/meminfo and leak checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Frames of usable RAM handed to the allocator at boot.
    pub managed: u64,
    /// Frames free right now (buddy plus per-CPU caches).
    pub free: u64,
}

pub fn stats() -> Stats {
    let cached: u64 = CACHES.iter().map(|c| c.lock().len as u64).sum();
    let free = BUDDY.lock().as_ref().map_or(0, |b| b.free_frames());
    Stats { managed: MANAGED_FRAMES.load(Ordering::Relaxed), free: free + cached }
}

/// Frame numbers the allocator covers (the highest RAM address / 4096).
pub fn total_frames() -> u64 {
    TOTAL_FRAMES.load(Ordering::Relaxed)
}

/// Checks the buddy allocator's internal invariants (ktests).
pub fn check_consistency() -> bool {
    BUDDY.lock().as_ref().is_some_and(|b| b.check_consistency().is_ok())
}

/// An owned block of `1 << order` physically contiguous, zeroed frames,
/// returned to the allocator on drop.
///
/// # Invariants
/// `paddr` heads a block of `1 << order` frames that this value alone owns.
pub struct FrameBlock {
    paddr: u64,
    order: u8,
}

impl FrameBlock {
    /// Allocates and zeroes a block.
    pub fn alloc(order: usize) -> Result<Self, MmError> {
        if order > MAX_ORDER {
            return Err(MmError::OutOfMemory);
        }
        let paddr = alloc_raw(order)?;
        // INVARIANT: `alloc_raw` handed us this block.
        let mut b = Self { paddr, order: order as u8 };
        b.as_mut_slice().fill(0);
        Ok(b)
    }

    /// `alloc` for user memory: fails while free memory is down to the
    /// kernel's reserve ([`user_reserve_frames`]).
    pub fn alloc_user(order: usize) -> Result<Self, MmError> {
        if !user_may_take(1 << order.min(MAX_ORDER)) {
            return Err(MmError::OutOfMemory);
        }
        Self::alloc(order)
    }

    /// `alloc_copy` for user memory, with the same reserve as `alloc_user`.
    pub fn alloc_copy_user(src: &[u8]) -> Result<Self, MmError> {
        if !user_may_take(1) {
            return Err(MmError::OutOfMemory);
        }
        Self::alloc_copy(src)
    }

    /// Allocates one frame holding `src` followed by zeros (no separate
    /// zeroing pass: the file-backed page-fault path).
    pub fn alloc_copy(src: &[u8]) -> Result<Self, MmError> {
        let paddr = alloc_raw(0)?;
        // INVARIANT: `alloc_raw` handed us this frame.
        let mut b = Self { paddr, order: 0 };
        let page = b.as_mut_slice();
        let n = src.len().min(page.len());
        page[..n].copy_from_slice(&src[..n]);
        page[n..].fill(0);
        Ok(b)
    }

    pub fn paddr(&self) -> PhysAddr {
        PhysAddr(self.paddr)
    }

    pub fn order(&self) -> usize {
        usize::from(self.order)
    }

    pub fn len_bytes(&self) -> usize {
        (PAGE_SIZE as usize) << self.order
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: by the invariant the block is ours, RAM, and direct-mapped.
        unsafe { core::slice::from_raw_parts(PhysAddr(self.paddr).to_virt().0 as *const u8, self.len_bytes()) }
    }

    /// Stores `v` in the `index`-th u64 of the block, through a shared
    /// reference: for a page the kernel updates while user space maps it
    /// read-only (the vDSO's vvar page), which readers load word by word.
    /// Panics if `index` is past the block.
    pub fn store_u64(&self, index: usize, v: u64) {
        assert!(index < self.len_bytes() / 8, "store_u64: index {index} past the block");
        let addr = PhysAddr(self.paddr).to_virt().0 + index as u64 * 8;
        // SAFETY: the word is inside the block we own (checked above),
        // 8-byte aligned (frames are page-aligned), direct-mapped RAM; an
        // AtomicU64 may alias memory others read, and only atomic stores
        // are made through this reference.
        let word = unsafe { &*(addr as *const core::sync::atomic::AtomicU64) };
        word.store(v, Ordering::Release);
    }

    /// Copies bytes from `offset` of the block into `dst` (as many as fit
    /// before its end), through a shared reference: for frames user space
    /// may map writable (file pages), whose bytes can change under any
    /// reader, as user memory can. Returns how many bytes were copied.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let n = self.len_bytes().saturating_sub(offset).min(dst.len());
        if n == 0 {
            return 0;
        }
        let src = PhysAddr(self.paddr).to_virt().0 as usize + offset;
        // SAFETY: `[offset, offset + n)` lies inside the block (`n` is
        // clamped to its end), which we own and which is direct-mapped
        // RAM; `dst` is a distinct kernel buffer. The frame is treated as
        // memory shared with user space: only raw copies touch it here.
        unsafe { core::ptr::copy_nonoverlapping(src as *const u8, dst.as_mut_ptr(), n) };
        n
    }

    /// Copies `src` into the block at `offset` (as much as fits), through
    /// a shared reference, as [`read_at`](Self::read_at): `write(2)` to a
    /// file page that processes map. Returns how many bytes were copied.
    pub fn write_at(&self, offset: usize, src: &[u8]) -> usize {
        let n = self.len_bytes().saturating_sub(offset).min(src.len());
        if n == 0 {
            return 0;
        }
        let dst = PhysAddr(self.paddr).to_virt().0 as usize + offset;
        // SAFETY: as in `read_at`: the range is inside our block of
        // direct-mapped RAM and `src` is a distinct buffer.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst as *mut u8, n) };
        n
    }

    /// Sets `len` bytes from `offset` to zero (clamped to the block),
    /// through a shared reference, as [`write_at`](Self::write_at).
    pub fn zero_at(&self, offset: usize, len: usize) {
        let n = self.len_bytes().saturating_sub(offset).min(len);
        if n == 0 {
            return;
        }
        let dst = PhysAddr(self.paddr).to_virt().0 as usize + offset;
        // SAFETY: as in `write_at`.
        unsafe { core::ptr::write_bytes(dst as *mut u8, 0, n) };
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes the access unique.
        unsafe { core::slice::from_raw_parts_mut(PhysAddr(self.paddr).to_virt().0 as *mut u8, self.len_bytes()) }
    }

    /// Gives up ownership without freeing (page tables, long-lived stacks).
    pub fn into_raw(self) -> PhysAddr {
        let p = self.paddr;
        core::mem::forget(self);
        PhysAddr(p)
    }
}

impl Drop for FrameBlock {
    fn drop(&mut self) {
        free_raw(self.paddr, usize::from(self.order));
    }
}

impl FrameBlock {
    /// Re-takes ownership of an order-0 frame given up with `into_raw`
    /// (page-table leaf entries store them that way).
    pub(crate) fn from_owned_raw(paddr: u64) -> Self {
        // INVARIANT: callers pass a frame they own exclusively (a leaf entry
        // they just cleared).
        Self { paddr, order: 0 }
    }
}

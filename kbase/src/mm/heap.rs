//! The kernel heap (`#[global_allocator]`): slab size classes of 16..=2048
//! bytes carved from single frames, with per-CPU magazines in front of each
//! class; larger requests go straight to the buddy allocator.
//!
//! ```text
//!  alloc(size, align) ─┬─ class = max(size, align) rounded to 2^k ≤ 2048
//!                      │     per-CPU magazine (try-locked, interrupts left on) ─▶ class free list ─▶ new slab frame
//!                      └─ otherwise: buddy block of order ⌈size/4096⌉ (aligned to its size)
//! ```
//! Free objects hold the address of the next free object in their first
//! eight bytes. A slab frame stays with its class until [`shrink`] (run by
//! drop_caches) finds all of its objects free and gives it back to the
//! frame allocator.
//!
//! Counters per class (slab frames, objects in use, live bytes) feed the
//! power-off census, so a leak check can tell bytes still allocated from
//! bytes merely parked in slabs.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::frame;
use super::{PAGE_SIZE, PhysAddr};
use crate::arch::percpu::{self, MAX_CPUS};
use crate::sync::SpinLock;

const CLASSES: [usize; 8] = [16, 32, 64, 128, 256, 512, 1024, 2048];
const MAG_CAP: usize = 32;

struct Magazine {
    objs: [u64; MAG_CAP],
    len: usize,
}

struct Class {
    /// Head of the intrusive free list (0 = empty).
    head: u64,
}

static CLASS_LISTS: [SpinLock<Class>; 8] = [const { SpinLock::new(Class { head: 0 }) }; 8];
static MAGS: [[SpinLock<Magazine>; 8]; MAX_CPUS] =
    [const { [const { SpinLock::new(Magazine { objs: [0; MAG_CAP], len: 0 }) }; 8] }; MAX_CPUS];

static BYTES_IN_USE: AtomicU64 = AtomicU64::new(0);
/// Refused requests at least this large print the caller's backtrace.
const LARGE_REPORT_BYTES: usize = 1 << 20;
/// At most this many such backtraces per boot.
const LARGE_REPORT_MAX: u32 = 16;
static LARGE_REPORTS: AtomicU32 = AtomicU32::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);
/// Slab frames each class holds (carved, not yet given back).
static SLAB_FRAMES: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
/// Objects of each class handed out and not yet freed.
static OBJECTS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
/// Frames held by large (buddy) allocations.
static LARGE_FRAMES: AtomicU64 = AtomicU64::new(0);

fn class_of(layout: &Layout) -> Option<usize> {
    let need = layout.size().max(layout.align()).max(16);
    CLASSES.iter().position(|&c| c >= need)
}

fn read_next(obj: u64) -> u64 {
    // SAFETY: `obj` is a free object of at least 16 bytes inside a slab frame
    // we own; its first word holds the free-list link.
    unsafe { core::ptr::read(obj as *const u64) }
}

fn write_next(obj: u64, next: u64) {
    // SAFETY: as in `read_next`; the object is free, so nobody else uses it.
    unsafe { core::ptr::write(obj as *mut u64, next) }
}

/// Carves a new slab frame into the class list; false when out of frames.
fn carve(class: usize, list: &mut Class) -> bool {
    let Ok(pa) = frame::alloc_raw(0) else {
        return false;
    };
    let base = PhysAddr(pa).to_virt().0;
    let size = CLASSES[class] as u64;
    let mut off = PAGE_SIZE;
    while off >= size {
        off -= size;
        write_next(base + off, list.head);
        list.head = base + off;
    }
    SLAB_FRAMES[class].fetch_add(1, Ordering::Relaxed);
    true
}

/// Refills a magazine from the class list, carving a new slab if needed.
fn refill(class: usize, mag: &mut Magazine) -> bool {
    let mut list = CLASS_LISTS[class].lock();
    if list.head == 0 && !carve(class, &mut list) {
        return false;
    }
    while mag.len < MAG_CAP / 2 && list.head != 0 {
        let obj = list.head;
        list.head = read_next(obj);
        mag.objs[mag.len] = obj;
        mag.len += 1;
    }
    mag.len > 0
}

// The magazines are taken with `try_lock_keep_irq`: no interrupt masking
// on the fast path. Whoever finds this CPU's magazine taken (an interrupt
// handler that interrupted its holder, or a task that preempted it) uses
// the class list directly.

fn alloc_small(class: usize) -> *mut u8 {
    if let Some(mut mag) = MAGS[percpu::cpu_index()][class].try_lock_keep_irq() {
        if mag.len == 0 && !refill(class, &mut mag) {
            return core::ptr::null_mut();
        }
        mag.len -= 1;
        return mag.objs[mag.len] as *mut u8;
    }
    let mut list = CLASS_LISTS[class].lock();
    if list.head == 0 && !carve(class, &mut list) {
        return core::ptr::null_mut();
    }
    let obj = list.head;
    list.head = read_next(obj);
    obj as *mut u8
}

fn free_small(class: usize, obj: u64) {
    let Some(mut mag) = MAGS[percpu::cpu_index()][class].try_lock_keep_irq() else {
        let mut list = CLASS_LISTS[class].lock();
        write_next(obj, list.head);
        list.head = obj;
        return;
    };
    if mag.len == MAG_CAP {
        let mut list = CLASS_LISTS[class].lock();
        while mag.len > MAG_CAP / 2 {
            mag.len -= 1;
            let o = mag.objs[mag.len];
            write_next(o, list.head);
            list.head = o;
        }
    }
    let i = mag.len;
    mag.objs[i] = obj;
    mag.len += 1;
}

fn large_order(layout: &Layout) -> Option<usize> {
    buddy::alloc_order_for_size(layout.size().max(layout.align()))
}

struct Heap;

// SAFETY: `alloc` returns blocks that are unused, at least `size` bytes and
// aligned to `align` (slab objects are naturally aligned to their power-of-two
// class inside page-aligned slabs; buddy blocks to their size); `dealloc`
// returns them to the list they came from, chosen from the same layout.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = match class_of(&layout) {
            Some(c) => {
                let p = alloc_small(c);
                if !p.is_null() {
                    OBJECTS[c].fetch_add(1, Ordering::Relaxed);
                }
                p
            }
            None => match large_order(&layout).map(|o| (o, frame::alloc_raw(o))) {
                Some((order, Ok(pa))) => {
                    LARGE_FRAMES.fetch_add(1 << order, Ordering::Relaxed);
                    PhysAddr(pa).to_virt().0 as *mut u8
                }
                _ => core::ptr::null_mut(),
            },
        };
        if p.is_null() {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            log::error!("kernel heap: cannot allocate {} bytes (align {})", layout.size(), layout.align());
            // A large request is almost always sized from user input (a
            // buffer or file grown to a caller's length): say who asked,
            // for the first few, so it can be capped or streamed.
            if layout.size() >= LARGE_REPORT_BYTES && LARGE_REPORTS.fetch_add(1, Ordering::Relaxed) < LARGE_REPORT_MAX {
                crate::panic::print_backtrace(crate::arch::cpu::frame_pointer(), None);
            }
        } else {
            BYTES_IN_USE.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        BYTES_IN_USE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        match class_of(&layout) {
            Some(c) => {
                OBJECTS[c].fetch_sub(1, Ordering::Relaxed);
                free_small(c, ptr as u64)
            }
            None => {
                let order = large_order(&layout).expect("layout was allocatable");
                LARGE_FRAMES.fetch_sub(1 << order, Ordering::Relaxed);
                frame::free_raw(ptr as u64 - super::PHYS_OFFSET, order);
            }
        }
    }
}

#[global_allocator]
static HEAP: Heap = Heap;

/// Heap statistics: bytes handed out and failed allocations.
pub fn stats() -> (u64, u64) {
    (BYTES_IN_USE.load(Ordering::Relaxed), FAILURES.load(Ordering::Relaxed))
}

/// Where the heap's frames are, for the census and /proc/meminfo.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Frames carved into slabs, over all classes.
    pub slab_frames: u64,
    /// Bytes of slab objects handed out (whole objects, class-rounded).
    pub slab_used_bytes: u64,
    /// Frames held by large allocations (above 2048 bytes).
    pub large_frames: u64,
    /// Slab frames per class (16, 32, ..., 2048 bytes).
    pub class_frames: [u64; 8],
    /// Objects in use per class.
    pub class_objects: [u64; 8],
}

impl Usage {
    /// Bytes in slab frames that no object uses (free lists, magazines).
    pub fn slab_free_bytes(&self) -> u64 {
        (self.slab_frames * PAGE_SIZE).saturating_sub(self.slab_used_bytes)
    }
}

pub fn usage() -> Usage {
    let mut u = Usage::default();
    for c in 0..CLASSES.len() {
        u.class_frames[c] = SLAB_FRAMES[c].load(Ordering::Relaxed);
        u.class_objects[c] = OBJECTS[c].load(Ordering::Relaxed);
        u.slab_frames += u.class_frames[c];
        u.slab_used_bytes += u.class_objects[c] * CLASSES[c] as u64;
    }
    u.large_frames = LARGE_FRAMES.load(Ordering::Relaxed);
    u
}

/// Gives every slab frame whose objects are all free back to the frame
/// allocator (drop_caches); returns how many frames went back.
///
/// First the per-CPU magazines are emptied into the class lists (a
/// magazine that is busy right now keeps its objects, whose slabs then
/// simply stay). Then, per class and with the class list locked, free
/// objects are counted per frame in a scratch block of 16-bit counters;
/// a frame whose count equals its object count holds nothing in use, so
/// its objects are unlinked from the list and the frame is freed. The
/// scratch block comes from the frame allocator, never from the heap;
/// when memory is short, smaller blocks cover the frame numbers in
/// several windows.
pub fn shrink() -> u64 {
    for mags in MAGS.iter() {
        for (c, mag) in mags.iter().enumerate() {
            let Some(mut mag) = mag.try_lock_keep_irq() else { continue };
            if mag.len == 0 {
                continue;
            }
            let mut list = CLASS_LISTS[c].lock();
            while mag.len > 0 {
                mag.len -= 1;
                let o = mag.objs[mag.len];
                write_next(o, list.head);
                list.head = o;
            }
        }
    }
    let total = frame::total_frames();
    let want = (0..=frame::MAX_ORDER).find(|&o| (PAGE_SIZE << o) / 2 >= total).unwrap_or(frame::MAX_ORDER);
    let Some(mut scratch) = (0..=want).rev().find_map(|o| frame::FrameBlock::alloc(o).ok()) else {
        return 0;
    };
    let window = scratch.len_bytes() as u64 / 2;
    let mut freed = 0;
    for (c, &size) in CLASSES.iter().enumerate() {
        let per_slab = PAGE_SIZE / size as u64;
        let mut list = CLASS_LISTS[c].lock();
        let mut first = 0;
        let mut n = 0;
        while first < total && list.head != 0 {
            n += shrink_window(&mut list, scratch.as_mut_slice(), first, window, per_slab);
            first += window;
        }
        SLAB_FRAMES[c].fetch_sub(n, Ordering::Relaxed);
        drop(list);
        freed += n;
    }
    freed
}

/// One window of [`shrink`]: frames `first..first + window`.
fn shrink_window(list: &mut Class, counts: &mut [u8], first: u64, window: u64, per_slab: u64) -> u64 {
    counts.fill(0);
    let slot = |obj: u64| -> Option<usize> {
        let f = (obj - super::PHYS_OFFSET) / PAGE_SIZE;
        (f >= first && f < first + window).then(|| 2 * (f - first) as usize)
    };
    let get = |counts: &[u8], i: usize| u64::from(u16::from_le_bytes([counts[i], counts[i + 1]]));
    let mut o = list.head;
    while o != 0 {
        if let Some(i) = slot(o) {
            let n = get(counts, i) + 1;
            counts[i..i + 2].copy_from_slice(&(n as u16).to_le_bytes());
        }
        o = read_next(o);
    }
    // Unlink the objects of the frames that are wholly free.
    let mut prev = 0u64;
    let mut o = list.head;
    while o != 0 {
        let next = read_next(o);
        if slot(o).is_some_and(|i| get(counts, i) == per_slab) {
            if prev == 0 {
                list.head = next;
            } else {
                write_next(prev, next);
            }
        } else {
            prev = o;
        }
        o = next;
    }
    let mut freed = 0;
    for i in (0..counts.len()).step_by(2) {
        if get(counts, i) == per_slab {
            frame::free_raw((first + i as u64 / 2) * PAGE_SIZE, 0);
            freed += 1;
        }
    }
    freed
}

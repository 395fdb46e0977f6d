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
//! eight bytes. Slab frames are kept by their class once carved.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicU64, Ordering};

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
static FAILURES: AtomicU64 = AtomicU64::new(0);

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
            Some(c) => alloc_small(c),
            None => match large_order(&layout).map(frame::alloc_raw) {
                Some(Ok(pa)) => PhysAddr(pa).to_virt().0 as *mut u8,
                _ => core::ptr::null_mut(),
            },
        };
        if p.is_null() {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            log::error!("kernel heap: cannot allocate {} bytes (align {})", layout.size(), layout.align());
        } else {
            BYTES_IN_USE.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        BYTES_IN_USE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        match class_of(&layout) {
            Some(c) => free_small(c, ptr as u64),
            None => {
                let order = large_order(&layout).expect("layout was allocatable");
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

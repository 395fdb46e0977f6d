//! Kernel stacks: 32 KiB each in the kernel-stack area, with an unmapped
//! 4 KiB guard page below, so an overflow faults (and is reported by the
//! trap path) instead of corrupting a neighbour.

use core::sync::atomic::{AtomicU64, Ordering};

use super::frame::FrameBlock;
use super::paging::{self, PageFlags};
use super::{KSTACK_BASE, MmError, PAGE_SIZE};
use crate::sync::SpinLock;

pub const STACK_SIZE: u64 = 32 * 1024;
const SLOT: u64 = STACK_SIZE + PAGE_SIZE;
const MAX_SLOTS: u64 = 1 << 20;

static NEXT_SLOT: AtomicU64 = AtomicU64::new(0);
static FREE_SLOTS: SpinLock<alloc::vec::Vec<u64>> = SpinLock::new(alloc::vec::Vec::new());
/// Stacks kept mapped after use (bottom addresses), so that creating and
/// ending threads needs no page-table change and no TLB shootdown.
static CACHED: SpinLock<alloc::vec::Vec<u64>> = SpinLock::new(alloc::vec::Vec::new());
/// Small enough (256 KiB) to stay inside the leak checks' slack and to
/// matter little when memory runs short; large enough for the thread churn
/// of fork/exit and thread create/join on a few CPUs.
const CACHE_MAX: usize = 8;

/// An owned kernel stack.
pub struct KernelStack {
    bottom: u64,
}

impl KernelStack {
    pub fn new() -> Result<Self, MmError> {
        if let Some(bottom) = CACHED.lock().pop() {
            return Ok(Self { bottom });
        }
        let slot = match FREE_SLOTS.lock().pop() {
            Some(s) => s,
            None => {
                let s = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
                if s >= MAX_SLOTS {
                    return Err(MmError::OutOfMemory);
                }
                s
            }
        };
        let bottom = KSTACK_BASE + slot * SLOT + PAGE_SIZE;
        let mut mapped = 0;
        while mapped < STACK_SIZE {
            let f = match FrameBlock::alloc(0) {
                Ok(f) => f,
                Err(e) => {
                    unmap_range(bottom, mapped);
                    FREE_SLOTS.lock().push(slot);
                    return Err(e);
                }
            };
            let pa = f.into_raw().0;
            if let Err(e) = paging::map_kernel(bottom + mapped, pa, PageFlags::RW, false) {
                super::frame::free_raw(pa, 0);
                unmap_range(bottom, mapped);
                FREE_SLOTS.lock().push(slot);
                return Err(e);
            }
            mapped += PAGE_SIZE;
        }
        Ok(Self { bottom })
    }

    pub fn top(&self) -> u64 {
        self.bottom + STACK_SIZE
    }

    /// Lowest usable address (the guard page is just below).
    pub fn bottom(&self) -> u64 {
        self.bottom
    }
}

fn unmap_range(bottom: u64, len: u64) {
    let mut frames = [0u64; (STACK_SIZE / PAGE_SIZE) as usize];
    let pages = (len / PAGE_SIZE) as usize;
    for (i, f) in frames.iter_mut().enumerate().take(pages) {
        *f = paging::unmap_kernel_noflush(bottom + i as u64 * PAGE_SIZE).unwrap_or(0);
    }
    // One shootdown for the whole stack, then the frames may be reused.
    crate::arch::tlb::shootdown(bottom, pages as u64);
    for &pa in frames.iter().take(pages).filter(|&&pa| pa != 0) {
        super::frame::free_raw(pa, 0);
    }
}

/// Frees every cached stack (drop_caches, memory pressure); returns how
/// many were freed.
pub fn release_cached() -> usize {
    let cached: alloc::vec::Vec<u64> = core::mem::take(&mut *CACHED.lock());
    for &bottom in &cached {
        unmap_range(bottom, STACK_SIZE);
        let slot = (bottom - PAGE_SIZE - KSTACK_BASE) / SLOT;
        FREE_SLOTS.lock().push(slot);
    }
    cached.len()
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        {
            let mut cache = CACHED.lock();
            if cache.len() < CACHE_MAX {
                cache.push(self.bottom);
                return;
            }
        }
        unmap_range(self.bottom, STACK_SIZE);
        let slot = (self.bottom - PAGE_SIZE - KSTACK_BASE) / SLOT;
        FREE_SLOTS.lock().push(slot);
    }
}

impl KernelStack {
    /// Writes `words` at `addr` inside this (not yet running) stack.
    pub(crate) fn write_words(&mut self, addr: u64, words: &[u64]) {
        let end = addr + 8 * words.len() as u64;
        assert!(addr >= self.bottom && end <= self.top() && addr % 8 == 0, "write outside the stack");
        for (i, w) in words.iter().enumerate() {
            // SAFETY: the range was checked to lie inside this stack, which
            // is mapped and owned by `self`, and `&mut self` means no task
            // runs on it yet.
            unsafe { core::ptr::write((addr + 8 * i as u64) as *mut u64, *w) };
        }
    }
}

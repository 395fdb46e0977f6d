//! File contents in pages: [`PageAlloc`] (where pages come from) and
//! [`Pages`] (one file's sparse page map).
//!
//! ```text
//!  Pages { len, map: BTreeMap<page index, Arc<A::Page>> }
//!          index:   0     1     2   (3 absent)   4
//!                 [4 KiB][4 KiB][4 KiB] (hole) [4 KiB]   len ≤ 5 pages
//! ```
//!
//! A file is a length and the pages that hold data; an absent page is a
//! hole, reads as zeros and costs no memory. Pages are reference counted
//! so that the kernel can map the very page a file holds into address
//! spaces (MAP_SHARED sees `write(2)` at once, exec text shares frames
//! across processes); the page type is the allocator's choice: the kernel's
//! allocator hands out physical frames, the host tests' [`HeapPages`] heap
//! arrays. A page cache for block filesystems can sit on the same type.
//!
//! Page contents change through `&Page` ([`PageAlloc::write`]): user space
//! may be writing the same frame through a mapping meanwhile, as on Linux,
//! so no `&mut` to its bytes can exist.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU8, Ordering};

/// Bytes per page.
pub const PAGE_SIZE: usize = 4096;
/// [`PAGE_SIZE`] as a `u64`.
pub const PAGE_SIZE_U64: u64 = 4096;

/// Where file pages come from and how their bytes are reached.
///
/// Offsets and lengths passed to the methods stay inside one page
/// (`offset + len <= PAGE_SIZE`); implementations may ignore the part of a
/// request that does not.
pub trait PageAlloc {
    /// One page of memory.
    type Page: Send + Sync;
    /// A new page holding `init` at its start and zeros after it; `None`
    /// when memory is out.
    fn alloc(init: &[u8]) -> Option<Arc<Self::Page>>;
    /// Copies bytes from `offset` of `page` into `dst`.
    fn read(page: &Self::Page, offset: usize, dst: &mut [u8]);
    /// Copies `src` into `page` at `offset`.
    fn write(page: &Self::Page, offset: usize, src: &[u8]);
    /// Sets `len` bytes from `offset` to zero.
    fn zero(page: &Self::Page, offset: usize, len: usize);
}

/// Heap pages, for host tests and tools (the kernel uses frames).
#[derive(Debug)]
pub struct HeapPages;

/// A heap page: bytes changed through a shared reference, like a frame
/// that user space maps.
pub struct HeapPage([AtomicU8; PAGE_SIZE]);

impl core::fmt::Debug for HeapPage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HeapPage")
    }
}

impl PageAlloc for HeapPages {
    type Page = HeapPage;
    fn alloc(init: &[u8]) -> Option<Arc<HeapPage>> {
        let page = Arc::new(HeapPage(core::array::from_fn(|_| AtomicU8::new(0))));
        Self::write(&page, 0, init);
        Some(page)
    }
    fn read(page: &HeapPage, offset: usize, dst: &mut [u8]) {
        for (d, s) in dst.iter_mut().zip(page.0.iter().skip(offset)) {
            *d = s.load(Ordering::Relaxed);
        }
    }
    fn write(page: &HeapPage, offset: usize, src: &[u8]) {
        for (d, s) in page.0.iter().skip(offset).zip(src) {
            d.store(*s, Ordering::Relaxed);
        }
    }
    fn zero(page: &HeapPage, offset: usize, len: usize) {
        for d in page.0.iter().skip(offset).take(len) {
            d.store(0, Ordering::Relaxed);
        }
    }
}

/// One file's contents: its length and the pages that hold data.
///
/// # Invariants
///
/// Every byte of `map`'s pages past `len` is zero, so growing the file by
/// `truncate` shows zeros there, as a hole does. Pages wholly past `len`
/// come only from `fill_holes` (fallocate with KEEP_SIZE, as Linux's
/// shmem), zeroed.
pub struct Pages<A: PageAlloc> {
    len: u64,
    map: BTreeMap<u64, Arc<A::Page>>,
}

impl<A: PageAlloc> core::fmt::Debug for Pages<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Pages {{ len: {}, pages: {} }}", self.len, self.map.len())
    }
}

impl<A: PageAlloc> Default for Pages<A> {
    fn default() -> Self {
        Self { len: 0, map: BTreeMap::new() }
    }
}

/// What a change to a file did to its page count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    /// Bytes written.
    pub(crate) bytes: usize,
    /// Pages that were added.
    pub(crate) new_pages: u64,
}

/// Splits byte `pos` into (page index, offset in the page).
fn split(pos: u64) -> (u64, usize) {
    // The remainder is below PAGE_SIZE, which fits every usize.
    (pos / PAGE_SIZE_U64, usize::try_from(pos % PAGE_SIZE_U64).unwrap_or(0))
}

impl<A: PageAlloc> Pages<A> {
    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pages that hold data (holes not counted).
    pub fn page_count(&self) -> u64 {
        u64::try_from(self.map.len()).unwrap_or(u64::MAX)
    }

    /// Page `index`, if the file has one there (None: a hole or past the
    /// end).
    pub fn page(&self, index: u64) -> Option<&Arc<A::Page>> {
        self.map.get(&index)
    }

    /// How many pages the file's `len` bytes span.
    pub fn pages_spanned(&self) -> u64 {
        self.len.div_ceil(PAGE_SIZE_U64)
    }

    /// Copies bytes from `offset` into `buf`, holes as zeros; returns how
    /// many (0 at or past the end).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        let avail = self.len.saturating_sub(offset);
        let n = usize::try_from(avail).unwrap_or(usize::MAX).min(buf.len());
        let mut done = 0;
        while done < n {
            let pos = offset.saturating_add(done as u64);
            let (index, in_page) = split(pos);
            let step = PAGE_SIZE.saturating_sub(in_page).min(n.saturating_sub(done));
            let Some(dst) = buf.get_mut(done..done.saturating_add(step)) else { break };
            match self.map.get(&index) {
                Some(page) => A::read(page, in_page, dst),
                None => dst.fill(0),
            }
            done = done.saturating_add(step);
        }
        n
    }

    /// Pages absent from `[offset, offset + len)` (what writing there
    /// would add).
    pub(crate) fn missing_pages(&self, offset: u64, len: u64) -> u64 {
        if len == 0 {
            return 0;
        }
        let first = offset / PAGE_SIZE_U64;
        let last = offset.saturating_add(len.saturating_sub(1)) / PAGE_SIZE_U64;
        let span = last.saturating_sub(first).saturating_add(1);
        let present = u64::try_from(self.map.range(first..=last).count()).unwrap_or(u64::MAX);
        span.saturating_sub(present)
    }

    /// Writes `data` at `offset`, adding pages where there are none; the
    /// length grows to cover it. If a page cannot be had, the write stops
    /// there: the bytes written before are kept and counted (0 bytes:
    /// nothing changed).
    pub(crate) fn write(&mut self, offset: u64, data: &[u8]) -> Written {
        let mut done = 0;
        let mut new_pages: u64 = 0;
        while done < data.len() {
            let pos = offset.saturating_add(done as u64);
            let (index, in_page) = split(pos);
            let step = PAGE_SIZE.saturating_sub(in_page).min(data.len().saturating_sub(done));
            let Some(src) = data.get(done..done.saturating_add(step)) else { break };
            if let Some(page) = self.map.get(&index) {
                A::write(page, in_page, src);
            } else {
                let page = if in_page == 0 {
                    A::alloc(src)
                } else {
                    A::alloc(&[]).inspect(|p| A::write(p, in_page, src))
                };
                let Some(page) = page else { break };
                // INVARIANT: `len` covers the bytes written below.
                self.map.insert(index, page);
                new_pages = new_pages.saturating_add(1);
            }
            done = done.saturating_add(step);
        }
        // INVARIANT: the bytes written lie below the new length.
        self.len = self.len.max(offset.saturating_add(done as u64));
        Written { bytes: done, new_pages }
    }

    /// Page `index` for a mapping, added (zeroed) if it is a hole; None
    /// past the end of the file or when memory is out. The bool says
    /// whether a page was added.
    pub(crate) fn page_or_add(&mut self, index: u64) -> Option<(Arc<A::Page>, bool)> {
        if index >= self.pages_spanned() {
            return None;
        }
        if let Some(page) = self.map.get(&index) {
            return Some((page.clone(), false));
        }
        let page = A::alloc(&[])?;
        // INVARIANT: a new page is all zeros.
        self.map.insert(index, page.clone());
        Some((page, true))
    }

    /// Adds zeroed pages to every hole of `[offset, offset + len)` (the
    /// length does not change). If a page cannot be had, the pages added
    /// here are dropped again and `None` is returned; else how many were
    /// added.
    pub(crate) fn fill_holes(&mut self, offset: u64, len: u64) -> Option<u64> {
        if len == 0 {
            return Some(0);
        }
        let first = offset / PAGE_SIZE_U64;
        let last = offset.saturating_add(len.saturating_sub(1)) / PAGE_SIZE_U64;
        let mut added = alloc::vec::Vec::new();
        for index in first..=last {
            if self.map.contains_key(&index) {
                continue;
            }
            let Some(page) = A::alloc(&[]) else {
                for index in added {
                    self.map.remove(&index);
                }
                return None;
            };
            // INVARIANT: a new page is all zeros.
            self.map.insert(index, page);
            added.push(index);
        }
        Some(u64::try_from(added.len()).unwrap_or(u64::MAX))
    }

    /// Sets the length: growing adds a hole; shrinking drops the pages past
    /// the end and zeroes the tail of the last page, as Linux's
    /// truncate_setsize. Returns the number of pages dropped.
    pub(crate) fn set_len(&mut self, len: u64) -> u64 {
        if len >= self.len {
            // INVARIANT: every byte past the old length is already zero.
            self.len = len;
            return 0;
        }
        let keep = len.div_ceil(PAGE_SIZE_U64);
        let dropped = self.map.split_off(&keep);
        let (index, in_page) = split(len);
        if in_page != 0
            && let Some(page) = self.map.get(&index)
        {
            A::zero(page, in_page, PAGE_SIZE.saturating_sub(in_page));
        }
        // INVARIANT: pages from `keep` on are gone and the last one's tail
        // is zero.
        self.len = len;
        u64::try_from(dropped.len()).unwrap_or(u64::MAX)
    }
}

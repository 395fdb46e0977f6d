//! File contents: `read`, `write`, `truncate`, the pages mappings use,
//! `readlink`, under [`MAX_FILE_SIZE`] and the capacity limit.
//!
//! Capacity counts pages (`used_bytes` is pages times [`PAGE_SIZE`]): a
//! write or a mapping fault that needs pages past it fails with `ENOSPC`,
//! while `truncate` only sets the length (a hole) and takes none, as
//! Linux's tmpfs.

use alloc::sync::Arc;

use crate::fs::MAX_FILE_SIZE;
use crate::node::Body;
use crate::pages::PAGE_SIZE_U64;
use crate::{Errno, Ino, PAGE_SIZE, PageAlloc, Pages, RamFs, Result};

/// `len` as a `u64`; lengths of memory never exceed it.
fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

impl<A: PageAlloc> RamFs<A> {
    /// `pread(2)`: copies bytes from `offset` into `buf`, returning how
    /// many (0 at or past the end); holes read as zeros. `EISDIR` for a
    /// directory, `EINVAL` for other non-files.
    pub fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> {
        Ok(self.pages(ino)?.read(offset, buf))
    }

    /// `pwrite(2)`: writes `data` at `offset` and returns how many bytes
    /// were written; a gap before it becomes a hole.
    ///
    /// A write that would cross [`MAX_FILE_SIZE`] is cut short there; one
    /// starting at or past it fails with `EFBIG`. `ENOSPC` if the pages it
    /// needs would pass the capacity (nothing is written then). If memory
    /// runs out midway the write is cut short (`ENOMEM` if nothing was
    /// written). `EISDIR` / `EINVAL` as [`read`](Self::read).
    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize> {
        let pages = self.pages(ino)?;
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let room = MAX_FILE_SIZE.saturating_sub(offset);
        let count = len_u64(data.len()).min(room);
        let data = data.get(..usize::try_from(count).map_err(|_| Errno::EFBIG)?).ok_or(Errno::EINVAL)?;
        let missing = pages.missing_pages(offset, count);
        self.check_room(missing)?;
        let now = self.now;
        let node = self.node_mut(ino)?;
        let Body::File(pages) = &mut node.body else { return Err(Errno::EINVAL) };
        let written = pages.write(offset, data);
        if written.bytes == 0 {
            return Err(Errno::ENOMEM);
        }
        node.mtime = now;
        node.ctime = now;
        // INVARIANT: the pages added join the total.
        self.used_bytes = self.used_bytes.saturating_add(written.new_pages.saturating_mul(PAGE_SIZE_U64));
        Ok(written.bytes)
    }

    /// `truncate(2)`: sets the file's length to `len`. Growing makes a
    /// hole (no pages); shrinking frees the pages past the end and zeroes
    /// the rest of the last one. `EFBIG` past [`MAX_FILE_SIZE`]; `EISDIR`
    /// / `EINVAL` as [`read`](Self::read). The times change only if the
    /// length does.
    pub fn truncate(&mut self, ino: Ino, len: u64) -> Result<()> {
        let old_len = self.pages(ino)?.len();
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if len == old_len {
            return Ok(());
        }
        let Body::File(pages) = &mut self.node_mut(ino)?.body else { return Err(Errno::EINVAL) };
        let dropped = pages.set_len(len);
        // INVARIANT: the dropped pages leave the total.
        self.used_bytes = self.used_bytes.saturating_sub(dropped.saturating_mul(PAGE_SIZE_U64));
        self.touch(ino);
        Ok(())
    }

    /// `fallocate(2)` modes 0 and `FALLOC_FL_KEEP_SIZE`: gives every page
    /// of `[offset, offset + len)` memory (zeroed pages in the holes), so
    /// later writes there cannot fail for room; the length grows to the
    /// end of the range unless `keep_size` (then pages past the end are
    /// held and counted, as Linux's shmem; truncate frees them). `ENOSPC` (nothing changed) if
    /// the pages would pass the capacity, `ENOMEM` (nothing changed)
    /// without memory, `EFBIG` past [`MAX_FILE_SIZE`]; `EISDIR` /
    /// `EINVAL` as [`read`](Self::read).
    pub fn allocate(&mut self, ino: Ino, offset: u64, len: u64, keep_size: bool) -> Result<()> {
        let pages = self.pages(ino)?;
        let end = offset.checked_add(len).filter(|&e| e <= MAX_FILE_SIZE).ok_or(Errno::EFBIG)?;
        self.check_room(pages.missing_pages(offset, len))?;
        let Body::File(pages) = &mut self.node_mut(ino)?.body else { return Err(Errno::EINVAL) };
        let added = pages.fill_holes(offset, len).ok_or(Errno::ENOMEM)?;
        let grows = !keep_size && end > pages.len();
        if grows {
            pages.set_len(end);
        }
        // INVARIANT: the pages added join the total.
        self.used_bytes = self.used_bytes.saturating_add(added.saturating_mul(PAGE_SIZE_U64));
        if grows {
            self.touch(ino);
        }
        Ok(())
    }

    /// A regular file's contents. `EISDIR` for a directory, `EINVAL` for
    /// other non-files.
    pub fn pages(&self, ino: Ino) -> Result<&Pages<A>> {
        match &self.node(ino)?.body {
            Body::File(pages) => Ok(pages),
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Page `index` of file `ino` for a mapping: the file's own page,
    /// added (zeroed, counted against the capacity) where the file has a
    /// hole, as Linux's shmem_fault. `ENXIO` past the end of the file (the
    /// SIGBUS case), `ENOSPC` past the capacity, `ENOMEM` without memory;
    /// `EISDIR` / `EINVAL` as [`read`](Self::read).
    pub fn page_for_map(&mut self, ino: Ino, index: u64) -> Result<Arc<A::Page>> {
        let pages = self.pages(ino)?;
        if index >= pages.pages_spanned() {
            return Err(Errno::ENXIO);
        }
        if let Some(page) = pages.page(index) {
            return Ok(page.clone());
        }
        self.check_room(1)?;
        let Body::File(pages) = &mut self.node_mut(ino)?.body else { return Err(Errno::EINVAL) };
        let (page, is_new) = pages.page_or_add(index).ok_or(Errno::ENOMEM)?;
        if is_new {
            // INVARIANT: the added page joins the total.
            self.used_bytes = self.used_bytes.saturating_add(PAGE_SIZE_U64);
        }
        Ok(page)
    }

    /// `readlink(2)`: a symlink's target. `EINVAL` for anything else.
    pub fn readlink(&self, ino: Ino) -> Result<&[u8]> {
        match &self.node(ino)?.body {
            Body::Symlink(target) => Ok(target),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `ENOSPC` unless `pages` more pages fit under the capacity.
    fn check_room(&self, pages: u64) -> Result<()> {
        let more = pages.saturating_mul(PAGE_SIZE_U64);
        let used = self.used_bytes.checked_add(more).ok_or(Errno::ENOSPC)?;
        if pages > 0 && self.capacity.is_some_and(|cap| used > cap) {
            return Err(Errno::ENOSPC);
        }
        Ok(())
    }
}

const _: () = assert!(PAGE_SIZE as u64 == PAGE_SIZE_U64);

#[cfg(test)]
impl<A: PageAlloc> RamFs<A> {
    /// The whole contents of a file, holes as zeros (tests only).
    pub(crate) fn file_bytes(&self, ino: Ino) -> Result<alloc::vec::Vec<u8>> {
        let pages = self.pages(ino)?;
        let mut buf = alloc::vec![0; usize::try_from(pages.len()).map_err(|_| Errno::EFBIG)?];
        pages.read(0, &mut buf);
        Ok(buf)
    }
}

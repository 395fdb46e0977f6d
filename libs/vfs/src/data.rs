//! File contents: `read`, `write`, `truncate`, `file_bytes`, `readlink`,
//! under [`MAX_FILE_SIZE`] and the capacity limit.

use crate::fs::MAX_FILE_SIZE;
use crate::node::Body;
use crate::{Errno, Ino, RamFs, Result};

/// `len` as a `u64`; lengths of memory never exceed it.
fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

impl RamFs {
    /// `pread(2)`: copies bytes from `offset` into `buf`, returning how
    /// many (0 at or past the end). `EISDIR` for a directory, `EINVAL` for
    /// other non-files.
    pub fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let data = self.file_bytes(ino)?;
        let Some(src) = usize::try_from(offset).ok().and_then(|o| data.get(o..)) else {
            return Ok(0);
        };
        let n = src.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }

    /// `pwrite(2)`: writes `data` at `offset`, filling any gap before it
    /// with zeros, and returns how many bytes were written.
    ///
    /// A write that would cross [`MAX_FILE_SIZE`] is cut short there; one
    /// starting at or past it fails with `EFBIG`. `ENOSPC` if the file
    /// would grow past the capacity (nothing is written then), `ENOMEM` if
    /// memory runs out. `EISDIR` / `EINVAL` as [`read`](Self::read).
    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize> {
        let old_len = len_u64(self.file_bytes(ino)?.len());
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let room = MAX_FILE_SIZE.saturating_sub(offset);
        let count = len_u64(data.len()).min(room);
        let end = offset.saturating_add(count);
        let data = data.get(..to_usize(count)?).ok_or(Errno::EINVAL)?;
        // The bytes past the old end are appended as they are (one pass,
        // not zeros then a copy: unpacking the initramfs and appending
        // writes are this case); after a gap, the file grows by zeros and
        // all of `data` is copied in.
        let (inside, past) = if offset <= old_len {
            data.split_at(to_usize(old_len - offset)?.min(data.len()))
        } else {
            (data, &[][..])
        };
        self.resize_file_with(ino, old_len.max(end), past)?;
        let now = self.now;
        let node = self.node_mut(ino)?;
        if let Body::File(contents) = &mut node.body
            && let Some(dst) =
                alloc::sync::Arc::make_mut(contents).get_mut(to_usize(offset)?..to_usize(offset)? + inside.len())
        {
            dst.copy_from_slice(inside);
        }
        node.mtime = now;
        node.ctime = now;
        Ok(data.len())
    }

    /// `truncate(2)`: sets the file's length to `len`, dropping bytes or
    /// adding zeros. `EFBIG` past [`MAX_FILE_SIZE`], `ENOSPC` past the
    /// capacity; `EISDIR` / `EINVAL` as [`read`](Self::read). The times
    /// change only if the length does.
    pub fn truncate(&mut self, ino: Ino, len: u64) -> Result<()> {
        let old_len = len_u64(self.file_bytes(ino)?.len());
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if len != old_len {
            self.resize_file(ino, len)?;
            self.touch(ino);
        }
        Ok(())
    }

    /// The whole contents of a file, for `execve` and `mmap`. `EISDIR` for
    /// a directory, `EINVAL` for other non-files.
    /// The file's bytes as a shared snapshot: later writes to the file do
    /// not change it (they copy first). No copy is made here.
    pub fn file_shared(&self, ino: Ino) -> Result<alloc::sync::Arc<alloc::vec::Vec<u8>>> {
        match &self.node(ino)?.body {
            Body::File(data) => Ok(data.clone()),
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn file_bytes(&self, ino: Ino) -> Result<&[u8]> {
        match &self.node(ino)?.body {
            Body::File(data) => Ok(data),
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `readlink(2)`: a symlink's target. `EINVAL` for anything else.
    pub fn readlink(&self, ino: Ino) -> Result<&[u8]> {
        match &self.node(ino)?.body {
            Body::Symlink(target) => Ok(target),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Sets the length of file `ino` to `len` (at most [`MAX_FILE_SIZE`]),
    /// checking the capacity and memory first so a failure changes nothing.
    fn resize_file(&mut self, ino: Ino, len: u64) -> Result<()> {
        self.resize_file_with(ino, len, &[])
    }

    /// [`resize_file`](Self::resize_file), but when the file grows its new
    /// bytes are `tail` (as much of it as fits), then zeros.
    fn resize_file_with(&mut self, ino: Ino, len: u64, tail: &[u8]) -> Result<()> {
        let new_len = to_usize(len)?;
        let old_len = len_u64(self.file_bytes(ino)?.len());
        let used = if len > old_len {
            let used = self
                .used_bytes
                .checked_add(len.saturating_sub(old_len))
                .ok_or(Errno::ENOSPC)?;
            if self.capacity.is_some_and(|cap| used > cap) {
                return Err(Errno::ENOSPC);
            }
            used
        } else {
            self.used_bytes.saturating_sub(old_len.saturating_sub(len))
        };
        let Body::File(shared) = &mut self.node_mut(ino)?.body else {
            return Err(Errno::EINVAL);
        };
        let data = alloc::sync::Arc::make_mut(shared);
        if let Some(extra) = new_len.checked_sub(data.len()) {
            data.try_reserve(extra).map_err(|_| Errno::ENOMEM)?;
            data.extend_from_slice(&tail[..tail.len().min(extra)]);
            data.resize(new_len, 0);
        } else {
            data.truncate(new_len);
            // Give memory back once most of it is unused.
            if data.capacity() / 2 > new_len {
                data.shrink_to_fit();
            }
        }
        // INVARIANT: `used` is the old total with this file's change.
        self.used_bytes = used;
        Ok(())
    }
}

/// `n` as a `usize`; `EFBIG` if it does not fit (a 32-bit host).
fn to_usize(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| Errno::EFBIG)
}

//! memfd_create(2): an anonymous regular file in memory, with file seals.
//!
//! The file is an inode of the root tmpfs (`libs/vfs`) that has no name,
//! so read, write, lseek, ftruncate, fstat and mmap take the same paths as
//! for any regular file; [`MemFd`] wraps the open file and adds the seals
//! (F_ADD_SEALS / F_GET_SEALS, fcntl(2)). mmap maps the file's own pages
//! (`filemap`): a MAP_SHARED mapping, writable too, shares them with
//! read/write and with every other process that maps the memfd (across
//! fork as well). F_SEAL_WRITE fails with EBUSY while a shared mapping
//! that may write exists; after F_SEAL_WRITE or F_SEAL_FUTURE_WRITE a new
//! writable shared mapping fails with EPERM, and a read-only one cannot be
//! made writable by mprotect (EACCES).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};

use linux_raw_sys::general::{
    F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, MFD_ALLOW_SEALING,
    MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL,
};
use vfs::Stat;

use crate::errno::{EBUSY, EINVAL, ENAMETOOLONG, EPERM, Errno, SysResult};
use crate::file::{File, OpenFlags};
use crate::fs::VfsFile;

const ALL_SEALS: u32 = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;
/// The longest name: NAME_MAX less the "memfd:" prefix.
const MAX_NAME: usize = 249;

pub struct MemFd {
    file: Arc<VfsFile>,
    /// `/memfd:NAME (deleted)`, as /proc/[pid]/fd shows it.
    name: Vec<u8>,
    seals: AtomicU32,
    _census: crate::census::Token,
}

impl MemFd {
    fn seals_now(&self) -> u32 {
        self.seals.load(Ordering::Acquire)
    }

    /// May `len` bytes be written at `off` (None: at the file position)?
    fn check_write(&self, off: Option<u64>, len: usize) -> Result<(), Errno> {
        let s = self.seals_now();
        if s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
            return Err(EPERM);
        }
        if s & F_SEAL_GROW != 0 {
            let size = self.file.stat()?.size;
            let at = match off {
                Some(o) => o,
                None if self.file.flags().is_append() => size,
                None => self.file.seek(0, 1)?,
            };
            if at.saturating_add(len as u64) > size {
                return Err(EPERM);
            }
        }
        Ok(())
    }
}

impl File for MemFd {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.file.read(buf)
    }
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.check_write(None, data.len())?;
        self.file.write(data)
    }
    fn pread(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.file.pread(off, buf)
    }
    fn pwrite(&self, off: u64, data: &[u8]) -> Result<usize, Errno> {
        self.check_write(Some(off), data.len())?;
        self.file.pwrite(off, data)
    }
    fn seek(&self, off: i64, whence: u32) -> Result<u64, Errno> {
        self.file.seek(off, whence)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.file.stat()
    }
    fn node(&self) -> Option<&crate::fs::Node> {
        self.file.node()
    }
    fn proc_name(&self) -> Vec<u8> {
        self.name.clone()
    }
    fn flags(&self) -> OpenFlags {
        self.file.flags()
    }
    fn set_status_flags(&self, flags: u32) {
        self.file.set_status_flags(flags);
    }
    fn truncate(&self, len: u64) -> Result<(), Errno> {
        let s = self.seals_now();
        let size = self.file.stat()?.size;
        if (len < size && s & F_SEAL_SHRINK != 0) || (len > size && s & F_SEAL_GROW != 0) {
            return Err(EPERM);
        }
        self.file.truncate(len)
    }
    fn seals(&self) -> Result<u32, Errno> {
        Ok(self.seals_now())
    }
    fn add_seals(&self, seals: u32) -> Result<(), Errno> {
        if !self.flags().can_write() {
            return Err(EPERM);
        }
        if seals & !ALL_SEALS != 0 {
            return Err(EINVAL);
        }
        // F_SEAL_WRITE while a shared mapping may write the file: EBUSY
        // (fcntl(2), memfd_create(2)).
        if seals & F_SEAL_WRITE != 0 && self.file.node().is_some_and(crate::filemap::is_mapped_writable) {
            return Err(EBUSY);
        }
        self.seals
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| (s & F_SEAL_SEAL == 0).then_some(s | seals))
            .map(|_| ())
            .map_err(|_| EPERM)
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// memfd_create(2). MFD_HUGETLB is not supported (EINVAL).
pub fn memfd_create(name: u64, flags: u32) -> SysResult {
    let name: Vec<u8> = crate::uaccess::read_cstr(name, MAX_NAME).map_err(|e| if e == ENAMETOOLONG { EINVAL } else { e })?;
    if name.len() > MAX_NAME {
        return Err(EINVAL);
    }
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC) != 0 || flags & MFD_HUGETLB != 0 {
        return Err(EINVAL);
    }
    if flags & MFD_EXEC != 0 && flags & MFD_NOEXEC_SEAL != 0 {
        return Err(EINVAL);
    }
    let seals = if flags & MFD_NOEXEC_SEAL != 0 {
        F_SEAL_EXEC
    } else if flags & MFD_ALLOW_SEALING != 0 {
        0
    } else {
        F_SEAL_SEAL
    };
    let mode = if flags & MFD_NOEXEC_SEAL != 0 { 0o666 } else { 0o777 };
    let file = VfsFile::unlinked(mode, OpenFlags(OpenFlags::RDWR))?;
    let mut shown = b"/memfd:".to_vec();
    shown.extend_from_slice(&name);
    shown.extend_from_slice(b" (deleted)");
    let f = Arc::new(MemFd { file, name: shown, seals: AtomicU32::new(seals), _census: crate::census::Token::new(crate::census::Kind::Memfd) });
    crate::file::install(f, flags & MFD_CLOEXEC != 0)
}


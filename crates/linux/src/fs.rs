//! The root filesystem (one `vfs::RamFs` behind a sleeping mutex) and the
//! open-file objects that refer to it.
//!
//! The whole filesystem shares one lock for now; the VFS issue (4) replaces
//! this with per-inode locking, mounts and a dentry cache.

use alloc::sync::Arc;
use alloc::vec::Vec;

use kbase::task::Mutex;
use vfs::{Ino, Kind, RamFs, Stat};

use crate::errno::{EINVAL, EISDIR, ENOTDIR, Errno};
use crate::file::{File, OpenFlags};

static ROOT: Mutex<Option<RamFs>> = Mutex::new(None);

/// Runs `f` on the root filesystem (with its clock brought up to date).
pub fn with<R>(f: impl FnOnce(&mut RamFs) -> R) -> R {
    let mut g = ROOT.lock();
    let fs = g.get_or_insert_with(RamFs::new);
    let now = kbase::time::realtime_ns();
    fs.set_now((now / 1_000_000_000) as i64, (now % 1_000_000_000) as u32);
    f(fs)
}

/// Unpacks the initramfs into the root filesystem.
pub fn unpack_initramfs(archive: &[u8]) -> Result<usize, vfs::UnpackError> {
    with(|fs| fs.unpack_cpio(archive))
}

/// An open regular file, directory or symlink (O_PATH) of the root fs.
pub struct VfsFile {
    ino: Ino,
    kind: Kind,
    flags: core::sync::atomic::AtomicU32,
    pos: Mutex<u64>,
    _census: crate::census::Token,
}

impl VfsFile {
    pub fn open(ino: Ino, flags: OpenFlags) -> Result<Arc<Self>, Errno> {
        let kind = with(|fs| {
            let st = fs.stat(ino)?;
            fs.open_ref(ino)?;
            st.kind().ok_or(crate::errno::EINVAL)
        })?;
        Ok(Arc::new(Self {
            ino,
            kind,
            flags: core::sync::atomic::AtomicU32::new(flags.0),
            pos: Mutex::new(0),
            _census: crate::census::Token::new(crate::census::Kind::File),
        }))
    }
}

impl Drop for VfsFile {
    fn drop(&mut self) {
        let _ = with(|fs| fs.close_ref(self.ino));
    }
}

impl File for VfsFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.kind == Kind::Dir {
            return Err(EISDIR);
        }
        let mut pos = self.pos.lock();
        let n = with(|fs| fs.read(self.ino, *pos, buf))?;
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock();
        let n = with(|fs| {
            remove_privs(fs, self.ino)?;
            if self.flags().is_append() {
                *pos = fs.stat(self.ino)?.size;
            }
            fs.write(self.ino, *pos, data)
        })?;
        *pos += n as u64;
        Ok(n)
    }

    fn pread(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        with(|fs| fs.read(self.ino, off, buf))
    }

    fn pwrite(&self, off: u64, data: &[u8]) -> Result<usize, Errno> {
        with(|fs| {
            remove_privs(fs, self.ino)?;
            fs.write(self.ino, off, data)
        })
    }

    fn seek(&self, off: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = self.pos.lock();
        let base = match whence {
            0 => 0i128,
            1 => i128::from(*pos),
            2 => i128::from(with(|fs| fs.stat(self.ino))?.size),
            _ => return Err(EINVAL),
        };
        let new = base + i128::from(off);
        if new < 0 || new > i128::from(i64::MAX) {
            return Err(EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        with(|fs| fs.stat(self.ino))
    }

    fn getdents(&self, max_len: usize) -> Result<Vec<u8>, Errno> {
        if self.kind != Kind::Dir {
            return Err(ENOTDIR);
        }
        // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
        let mut out = Vec::new();
        let mut pos = self.pos.lock();
        with(|fs| {
            while let Some((next, e)) = fs.read_dir(self.ino, *pos)? {
                let reclen = (19 + e.name.len() + 1).next_multiple_of(8);
                if out.len() + reclen > max_len {
                    if out.is_empty() {
                        return Err(EINVAL);
                    }
                    break;
                }
                let start = out.len();
                out.resize(start + reclen, 0);
                out[start..start + 8].copy_from_slice(&e.ino.0.to_le_bytes());
                out[start + 8..start + 16].copy_from_slice(&next.to_le_bytes());
                out[start + 16..start + 18].copy_from_slice(&(reclen as u16).to_le_bytes());
                out[start + 18] = e.kind.dirent_type();
                out[start + 19..start + 19 + e.name.len()].copy_from_slice(&e.name);
                *pos = next;
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn ino(&self) -> Option<Ino> {
        Some(self.ino)
    }

    fn flags(&self) -> OpenFlags {
        OpenFlags(self.flags.load(core::sync::atomic::Ordering::Relaxed))
    }

    fn set_status_flags(&self, flags: u32) {
        use core::sync::atomic::Ordering::Relaxed;
        let m = crate::file::SETFL_MASK;
        let old = self.flags.load(Relaxed);
        self.flags.store((old & !m) | (flags & m), Relaxed);
    }
}

/// Before a write or truncation through an open file: drops set-user-ID
/// and set-group-ID unless the caller may keep them (the credentials are
/// fetched only when the file has such a bit).
pub fn remove_privs(fs: &mut RamFs, ino: Ino) -> Result<(), Errno> {
    if fs.has_privs(ino) {
        fs.remove_privs_as(&crate::process::current().process.cred(), ino)?;
    }
    Ok(())
}

/// The absolute path of directory `ino`, found by walking `..` upwards.
pub fn path_of(fs: &RamFs, mut ino: Ino) -> Result<Vec<u8>, Errno> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for _ in 0..256 {
        let parent = fs.lookup(ino, b"..", false)?;
        if parent == ino {
            break;
        }
        let mut cookie = 0;
        let mut found = None;
        while let Some((next, e)) = fs.read_dir(parent, cookie)? {
            if e.ino == ino && e.name != b"." && e.name != b".." {
                found = Some(e.name);
                break;
            }
            cookie = next;
        }
        parts.push(found.ok_or(crate::errno::ENOENT)?);
        ino = parent;
    }
    if parts.is_empty() {
        return Ok(b"/".to_vec());
    }
    let mut out = Vec::new();
    for p in parts.iter().rev() {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// Makes sure the device nodes programs expect exist (until devtmpfs).
pub fn create_dev_nodes() {
    with(|fs| {
        let root = fs.root();
        let dev = match fs.lookup(root, b"/dev", true) {
            Ok(d) => d,
            Err(_) => match fs.create(root, b"dev", Kind::Dir, 0o755, 0, 0, 0) {
                Ok(d) => d,
                Err(_) => return,
            },
        };
        for (name, major, minor, mode) in [
            (&b"console"[..], 5, 1, 0o600),
            (b"tty", 5, 0, 0o666),
            (b"ptmx", 5, 2, 0o666),
            (b"ttyS0", 4, 64, 0o660),
            (b"null", 1, 3, 0o666),
            (b"zero", 1, 5, 0o666),
            (b"full", 1, 7, 0o666),
            (b"random", 1, 8, 0o666),
            (b"urandom", 1, 9, 0o666),
        ] {
            let _ = fs.create(dev, name, Kind::CharDev, mode, 0, 0, vfs::encode_dev(major, minor));
        }
        // Pseudo-terminal slaves appear here while their master is open.
        let _ = fs.create(dev, b"pts", Kind::Dir, 0o755, 0, 0, 0);
    });
}

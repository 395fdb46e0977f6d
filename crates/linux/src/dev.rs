//! Character devices by device number: terminals (the console, /dev/tty,
//! /dev/ptmx and /dev/pts/N; see tty.rs and pty.rs) and the memory devices
//! (/dev/null, zero, full, random, urandom).

use alloc::sync::Arc;

use vfs::{Ino, Stat};

use crate::errno::{ENODEV, ENOSPC, Errno};
use crate::file::{ANON_DEV, File, OpenFlags};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mem {
    Null,
    Zero,
    Full,
    Random,
}

struct MemDev {
    kind: Mem,
    rdev: u64,
    flags: OpenFlags,
}

/// Opens the driver behind device number `rdev`.
pub fn open(rdev: u64, flags: OpenFlags) -> Result<Arc<dyn File>, Errno> {
    let (major, minor) = vfs::decode_dev(rdev);
    let kind = match (major, minor) {
        (5, 0) | (5, 1) | (4, 64) => return crate::tty::open(major, minor, flags),
        (5, 2) => return crate::pty::open_master(flags),
        (crate::pty::SLAVE_MAJOR, n) => return crate::pty::open_slave(n, flags),
        (1, 3) => Mem::Null,
        (1, 5) => Mem::Zero,
        (1, 7) => Mem::Full,
        (1, 8) | (1, 9) => Mem::Random,
        _ => return Err(ENODEV),
    };
    Ok(Arc::new(MemDev { kind, rdev, flags }))
}

impl File for MemDev {
    fn proc_name(&self) -> alloc::vec::Vec<u8> {
        let name: &[u8] = match vfs::decode_dev(self.rdev) {
            (1, 3) => b"/dev/null",
            (1, 5) => b"/dev/zero",
            (1, 7) => b"/dev/full",
            (1, 8) => b"/dev/random",
            _ => b"/dev/urandom",
        };
        name.to_vec()
    }

    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self.kind {
            Mem::Null => Ok(0),
            Mem::Zero | Mem::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Mem::Random => {
                kbase::random::fill(buf);
                Ok(buf.len())
            }
        }
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        match self.kind {
            Mem::Full => Err(ENOSPC),
            _ => Ok(data.len()),
        }
    }

    fn discards_writes(&self) -> bool {
        matches!(self.kind, Mem::Null | Mem::Zero)
    }

    fn fills_reads(&self) -> bool {
        self.kind != Mem::Null
    }

    fn pread(&self, _off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.read(buf)
    }

    fn pwrite(&self, _off: u64, data: &[u8]) -> Result<usize, Errno> {
        self.write(data)
    }

    fn seek(&self, _off: i64, _whence: u32) -> Result<u64, Errno> {
        Ok(0)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            dev: ANON_DEV,
            ino: Ino(0),
            mode: 0o020666,
            nlink: 1,
            uid: 0,
            gid: 0,
            rdev: self.rdev,
            size: 0,
            blocks: 0,
            atime: vfs::Timespec::default(),
            mtime: vfs::Timespec::default(),
            ctime: vfs::Timespec::default(),
        })
    }

    fn flags(&self) -> OpenFlags {
        self.flags
    }
}

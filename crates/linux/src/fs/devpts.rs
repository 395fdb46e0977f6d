//! devpts (pts(4)): the filesystem of pseudo-terminal slaves, mounted on
//! `/dev/pts`. Nothing is stored: its names are generated from the pty
//! table (`pty.rs`), so `/dev/pts/N` exists exactly while pty N does.
//!
//! ```text
//!   ino 1   /          directory, mode 0755
//!   ino 2   ptmx       char 5:2, mode `ptmxmode=` (default 000)
//!   ino N+3 N          char 136:N, mode `mode=` (default 600), owned by
//!                      the opener of /dev/ptmx (group: `gid=` if given)
//! ```
//!
//! There is one instance, shared by every mount (as devtmpfs is, and as
//! devpts was before Linux 4.7 made each mount a new one); mount options
//! apply to it. Being generated, it has no dentry cache.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use kbase::task::Mutex;
use vfs::{DirEntry, Ino, Kind, Stat, Timespec};

use super::{FileSystem, StatFs, Super};
use crate::errno::{EINVAL, ENOENT, ENOTDIR, Errno};

pub const DEVPTS_SUPER_MAGIC: u64 = linux_raw_sys::general::DEVPTS_SUPER_MAGIC as u64;

const ROOT: Ino = Ino(1);
const PTMX: Ino = Ino(2);
const FIRST_SLAVE: u64 = 3;
/// No `gid=` option: slaves get their opener's group.
const NO_GID: u32 = u32::MAX;

struct DevPts {
    /// `mode=`: permissions of new slave nodes.
    mode: AtomicU32,
    /// `ptmxmode=`: permissions of `ptmx`.
    ptmx_mode: AtomicU32,
    gid: AtomicU32,
    /// When it was made (the times of `/` and `ptmx`).
    born: Timespec,
}

fn slave_of(ino: Ino) -> Option<u32> {
    ino.0.checked_sub(FIRST_SLAVE).and_then(|n| u32::try_from(n).ok())
}

impl DevPts {
    fn node(&self, ino: Ino, mode: u32, uid: u32, gid: u32, rdev: u64, time: Timespec) -> Stat {
        Stat {
            dev: 0,
            ino,
            mode,
            nlink: if mode & 0o170000 == 0o040000 { 2 } else { 1 },
            uid,
            gid,
            rdev,
            size: 0,
            blocks: 0,
            atime: time,
            mtime: time,
            ctime: time,
        }
    }
}

impl FileSystem for DevPts {
    fn root(&self) -> Ino {
        ROOT
    }

    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        match ino {
            ROOT => Ok(self.node(ROOT, 0o040755, 0, 0, 0, self.born)),
            PTMX => {
                let mode = 0o020000 | self.ptmx_mode.load(Ordering::Relaxed);
                Ok(self.node(PTMX, mode, 0, 0, vfs::encode_dev(5, 2), self.born))
            }
            _ => {
                let index = slave_of(ino).ok_or(ENOENT)?;
                let info = crate::pty::slave_info(index).ok_or(ENOENT)?;
                let gid = match self.gid.load(Ordering::Relaxed) {
                    NO_GID => info.gid,
                    g => g,
                };
                let mode = 0o020000 | self.mode.load(Ordering::Relaxed);
                let rdev = vfs::encode_dev(crate::pty::SLAVE_MAJOR, index);
                Ok(self.node(ino, mode, info.uid, gid, rdev, info.born))
            }
        }
    }

    fn lookup(&self, dir: Ino, name: &[u8]) -> Result<(Ino, Kind), Errno> {
        if dir != ROOT {
            return Err(ENOTDIR);
        }
        if name == b"ptmx" {
            return Ok((PTMX, Kind::CharDev));
        }
        // Decimal without leading zeros, as the kernel names them.
        let s = core::str::from_utf8(name).map_err(|_| ENOENT)?;
        if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ENOENT);
        }
        let index: u32 = s.parse().map_err(|_| ENOENT)?;
        crate::pty::slave_info(index).ok_or(ENOENT)?;
        Ok((Ino(FIRST_SLAVE + u64::from(index)), Kind::CharDev))
    }

    fn parent(&self, dir: Ino) -> Result<Ino, Errno> {
        if dir == ROOT { Ok(ROOT) } else { Err(ENOTDIR) }
    }

    fn read_dir(&self, dir: Ino, cookie: u64) -> Result<Option<(u64, DirEntry)>, Errno> {
        if dir != ROOT {
            return Err(ENOTDIR);
        }
        let e = |ino, kind, name: &[u8]| DirEntry { ino, kind, name: name.to_vec() };
        Ok(match cookie {
            0 => Some((1, e(ROOT, Kind::Dir, b"."))),
            1 => Some((2, e(ROOT, Kind::Dir, b".."))),
            2 => Some((FIRST_SLAVE, e(PTMX, Kind::CharDev, b"ptmx"))),
            c => {
                // Cookie FIRST_SLAVE + n: the first pty numbered n or more.
                let from = u32::try_from(c - FIRST_SLAVE).unwrap_or(u32::MAX);
                crate::pty::indexes().into_iter().find(|&i| i >= from).map(|i| {
                    let ino = Ino(FIRST_SLAVE + u64::from(i));
                    (ino.0 + 1, e(ino, Kind::CharDev, format!("{i}").as_bytes()))
                })
            }
        })
    }

    fn readlink(&self, _ino: Ino) -> Result<Vec<u8>, Errno> {
        Err(EINVAL)
    }

    fn read(&self, _ino: Ino, _off: u64, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(EINVAL)
    }

    fn statfs(&self) -> StatFs {
        StatFs { magic: DEVPTS_SUPER_MAGIC, block_size: 4096, ..StatFs::default() }
    }

    fn set_options(&self, options: &[u8]) -> Result<(), Errno> {
        let (mut mode, mut ptmx_mode, mut gid) = (None, None, None);
        for opt in options.split(|&b| b == b',').filter(|o| !o.is_empty()) {
            let (key, val) = match opt.iter().position(|&b| b == b'=') {
                Some(i) => (&opt[..i], &opt[i + 1..]),
                None => (opt, &b""[..]),
            };
            match key {
                b"mode" => mode = Some(octal(val)?),
                b"ptmxmode" => ptmx_mode = Some(octal(val)?),
                b"gid" => gid = Some(decimal(val)?),
                // Accepted: one instance serves every mount anyway.
                b"uid" | b"newinstance" | b"max" => {}
                b"rw" | b"ro" | b"relatime" | b"noatime" | b"nosuid" | b"noexec" | b"defaults" => {}
                _ => return Err(EINVAL),
            }
        }
        if let Some(m) = mode {
            self.mode.store(m, Ordering::Relaxed);
        }
        if let Some(m) = ptmx_mode {
            self.ptmx_mode.store(m, Ordering::Relaxed);
        }
        if let Some(g) = gid {
            self.gid.store(g, Ordering::Relaxed);
        }
        Ok(())
    }

    fn show_options(&self) -> String {
        let gid = match self.gid.load(Ordering::Relaxed) {
            NO_GID => String::new(),
            g => format!(",gid={g}"),
        };
        format!(
            "{gid},mode={:03o},ptmxmode={:03o}",
            self.mode.load(Ordering::Relaxed),
            self.ptmx_mode.load(Ordering::Relaxed)
        )
    }
}

fn octal(val: &[u8]) -> Result<u32, Errno> {
    let s = core::str::from_utf8(val).map_err(|_| EINVAL)?;
    u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o777).ok_or(EINVAL)
}

fn decimal(val: &[u8]) -> Result<u32, Errno> {
    core::str::from_utf8(val).ok().and_then(|s| s.parse().ok()).filter(|&g| g != NO_GID).ok_or(EINVAL)
}

static DEVPTS: Mutex<Option<Arc<Super>>> = Mutex::new(None);

/// The devpts instance for mount(2), with `options` applied.
pub fn devpts(options: &[u8]) -> Result<Arc<Super>, Errno> {
    let sb = DEVPTS
        .lock()
        .get_or_insert_with(|| {
            let now = kbase::time::realtime_ns();
            let born = Timespec { sec: (now / 1_000_000_000) as i64, nsec: (now % 1_000_000_000) as u32 };
            let fs = DevPts { mode: AtomicU32::new(0o600), ptmx_mode: AtomicU32::new(0), gid: AtomicU32::new(NO_GID), born };
            Super::new(Arc::new(fs), "devpts")
        })
        .clone();
    sb.fs.set_options(options)?;
    Ok(sb)
}

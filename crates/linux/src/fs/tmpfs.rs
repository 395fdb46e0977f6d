//! tmpfs (a `vfs::RamFs` over frames, behind a sleeping mutex: a file's
//! pages are the frames mappings of it map), and the filesystems
//! built on it: the root (`rootfs`), devtmpfs (one instance, filled with
//! the device nodes at boot, shared by every mount of it) and sysfs (a
//! read-only tree made at mount time).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use kbase::mm::frame::FrameBlock;
use kbase::task::Mutex;
use vfs::{DirEntry, Ino, Kind, Stat, Timespec};

use super::{FileSystem, StatFs, Super};
use crate::errno::{EACCES, EINVAL, ENOSPC, ENXIO, EPERM, Errno};

/// tmpfs's tree: file contents in frames ([`crate::filemap::Frames`]).
type RamFs = vfs::RamFs<crate::filemap::Frames>;

pub const TMPFS_MAGIC: u64 = linux_raw_sys::general::TMPFS_MAGIC as u64;
pub const SYSFS_MAGIC: u64 = linux_raw_sys::general::SYSFS_MAGIC as u64;

/// A tmpfs instance.
pub struct TmpFs {
    fs: Mutex<RamFs>,
    magic: u64,
    /// sysfs: contents are fixed, changes fail.
    read_only: bool,
    /// `size=` in bytes (0: the default, half of RAM).
    size: AtomicU64,
    /// `nr_inodes=`: the most inodes, the root's included (0: no limit).
    max_inodes: AtomicU64,
}

impl TmpFs {
    /// An empty tmpfs whose root directory has the current time.
    fn new(magic: u64, read_only: bool) -> Self {
        let mut fs = RamFs::empty();
        let now = kbase::time::realtime_ns();
        let now = Timespec { sec: (now / 1_000_000_000) as i64, nsec: (now % 1_000_000_000) as u32 };
        fs.set_now(now.sec, now.nsec);
        let root = fs.root();
        let _ = fs.set_times(root, Some(now), Some(now));
        Self { fs: Mutex::new(fs), magic, read_only, size: AtomicU64::new(0), max_inodes: AtomicU64::new(0) }
    }

    /// Like [`Self::change`] for a change that makes a new inode: ENOSPC
    /// when `nr_inodes=` are all taken (shmem_reserve_inode).
    fn create_with<R>(&self, f: impl FnOnce(&mut RamFs) -> Result<R, Errno>) -> Result<R, Errno> {
        let max = self.max_inodes.load(Ordering::Relaxed);
        self.change(|fs| {
            if max != 0 && fs.inode_count() as u64 >= max {
                return Err(ENOSPC);
            }
            f(fs)
        })
    }

    /// Runs `f` on the tree without changing it.
    fn with<R>(&self, f: impl FnOnce(&RamFs) -> R) -> R {
        f(&self.fs.lock())
    }

    /// Runs `f` to change the tree, with its clock brought up to date.
    fn change<R>(&self, f: impl FnOnce(&mut RamFs) -> Result<R, Errno>) -> Result<R, Errno> {
        if self.read_only {
            return Err(EPERM);
        }
        let mut fs = self.fs.lock();
        let now = kbase::time::realtime_ns();
        fs.set_now((now / 1_000_000_000) as i64, (now % 1_000_000_000) as u32);
        f(&mut fs)
    }

    fn total_bytes(&self) -> u64 {
        match self.size.load(Ordering::Relaxed) {
            0 => kbase::mm::frame::stats().managed * 4096 / 2,
            n => n,
        }
    }
}

impl FileSystem for TmpFs {
    fn root(&self) -> Ino {
        self.with(|fs| fs.root())
    }
    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        self.with(|fs| fs.stat(ino))
    }
    fn lookup(&self, dir: Ino, name: &[u8]) -> Result<(Ino, Kind), Errno> {
        self.with(|fs| fs.child(dir, name))
    }
    fn parent(&self, dir: Ino) -> Result<Ino, Errno> {
        self.with(|fs| fs.parent_of(dir))
    }
    fn read_dir(&self, dir: Ino, cookie: u64) -> Result<Option<(u64, DirEntry)>, Errno> {
        self.with(|fs| fs.read_dir(dir, cookie))
    }
    fn name_of(&self, dir: Ino, child: Ino) -> Result<Vec<u8>, Errno> {
        self.with(|fs| fs.name_of(dir, child))
    }
    fn readlink(&self, ino: Ino) -> Result<Vec<u8>, Errno> {
        self.with(|fs| fs.readlink(ino).map(<[u8]>::to_vec))
    }
    fn read(&self, ino: Ino, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.with(|fs| fs.read(ino, off, buf))
    }
    fn write(&self, ino: Ino, off: u64, data: &[u8]) -> Result<usize, Errno> {
        if self.read_only {
            return Err(EACCES);
        }
        self.change(|fs| fs.write(ino, off, data))
    }
    fn truncate(&self, ino: Ino, len: u64) -> Result<(), Errno> {
        if self.read_only {
            return Err(EACCES);
        }
        self.change(|fs| fs.truncate(ino, len))?;
        // Mappings lose the pages past the new end (SIGBUS on a touch).
        crate::filemap::truncated(self as *const Self as *const u8 as usize, ino, len);
        Ok(())
    }
    fn create(&self, dir: Ino, name: &[u8], kind: Kind, perm: u32, uid: u32, gid: u32, rdev: u64) -> Result<Ino, Errno> {
        if self.read_only && kind == Kind::File {
            return Err(EACCES);
        }
        self.create_with(|fs| fs.create(dir, name, kind, perm, uid, gid, rdev))
    }
    fn symlink(&self, dir: Ino, name: &[u8], target: &[u8], uid: u32, gid: u32) -> Result<Ino, Errno> {
        self.create_with(|fs| fs.symlink(dir, name, target, uid, gid))
    }
    fn link(&self, ino: Ino, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.change(|fs| fs.link(ino, dir, name))
    }
    fn unlink(&self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.change(|fs| fs.unlink(dir, name))
    }
    fn rmdir(&self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.change(|fs| fs.rmdir(dir, name))
    }
    fn rename(&self, od: Ino, on: &[u8], nd: Ino, nn: &[u8]) -> Result<(), Errno> {
        self.change(|fs| fs.rename(od, on, nd, nn))
    }
    fn exchange(&self, od: Ino, on: &[u8], nd: Ino, nn: &[u8]) -> Result<(), Errno> {
        self.change(|fs| fs.exchange(od, on, nd, nn))
    }
    fn chmod(&self, ino: Ino, mode: u32) -> Result<(), Errno> {
        self.change(|fs| fs.chmod(ino, mode))
    }
    fn chown(&self, ino: Ino, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        self.change(|fs| fs.chown(ino, uid, gid))
    }
    fn set_times(&self, ino: Ino, a: Option<Timespec>, m: Option<Timespec>) -> Result<(), Errno> {
        self.change(|fs| fs.set_times(ino, a, m))
    }
    fn open_ref(&self, ino: Ino) -> Result<(), Errno> {
        self.fs.lock().open_ref(ino)
    }
    fn close_ref(&self, ino: Ino) {
        let _ = self.fs.lock().close_ref(ino);
    }
    fn create_unlinked(&self, mode: u32, uid: u32, gid: u32) -> Result<Ino, Errno> {
        self.create_with(|fs| fs.create_unlinked(mode, uid, gid))
    }
    fn create_tmpfile(&self, mode: u32, uid: u32, gid: u32, linkable: bool) -> Result<Ino, Errno> {
        if self.read_only {
            return Err(EACCES);
        }
        self.create_with(|fs| fs.create_tmpfile(mode, uid, gid, linkable))
    }
    fn has_privs(&self, ino: Ino) -> bool {
        self.with(|fs| fs.has_privs(ino))
    }
    fn allocate(&self, ino: Ino, off: u64, len: u64, keep_size: bool) -> Result<(), Errno> {
        if self.read_only {
            return Err(EACCES);
        }
        self.change(|fs| fs.allocate(ino, off, len, keep_size))
    }
    fn map_page(&self, ino: Ino, index: u64, may_add: bool) -> Result<Option<Arc<FrameBlock>>, Errno> {
        if may_add {
            return self.fs.lock().page_for_map(ino, index).map(Some);
        }
        self.with(|fs| {
            let pages = fs.pages(ino)?;
            if index >= pages.pages_spanned() {
                return Err(ENXIO);
            }
            Ok(pages.page(index).cloned())
        })
    }
    fn statfs(&self) -> StatFs {
        if self.read_only {
            // sysfs: no blocks (df leaves it out).
            return StatFs { magic: self.magic, block_size: 4096, ..StatFs::default() };
        }
        let total = self.total_bytes();
        let (used, inodes) = self.with(|fs| (fs.used_bytes(), fs.inode_count() as u64));
        let (files, files_free) = match self.max_inodes.load(Ordering::Relaxed) {
            0 => (total / 4096, (total / 4096).saturating_sub(1)),
            max => (max, max.saturating_sub(inodes)),
        };
        StatFs {
            magic: self.magic,
            block_size: 4096,
            blocks: total / 4096,
            blocks_free: total.saturating_sub(used) / 4096,
            files,
            files_free,
        }
    }
    fn set_options(&self, options: &[u8]) -> Result<(), Errno> {
        let mut size = None;
        let mut mode = None;
        let mut nr_inodes = None;
        for opt in options.split(|&b| b == b',').filter(|o| !o.is_empty()) {
            let (key, val) = match opt.iter().position(|&b| b == b'=') {
                Some(i) => (&opt[..i], &opt[i + 1..]),
                None => (opt, &b""[..]),
            };
            match key {
                b"size" => size = Some(parse_size(val, self.total_ram())?),
                b"mode" => mode = Some(parse_octal(val)?),
                b"nr_inodes" => nr_inodes = Some(parse_count(val)?),
                // Accepted and not enforced.
                b"nr_blocks" | b"uid" | b"gid" | b"inode64" | b"inode32" | b"huge" | b"mpol" => {}
                // Generic options mount(8) may leave in the string.
                b"rw" | b"ro" | b"relatime" | b"noatime" | b"nosuid" | b"nodev" | b"noexec" | b"defaults" => {}
                _ => return Err(EINVAL),
            }
        }
        if let Some(max) = nr_inodes {
            // shmem_reconfigure: "Too few inodes for current use".
            if max != 0 && self.with(|fs| fs.inode_count() as u64) > max {
                return Err(EINVAL);
            }
            self.max_inodes.store(max, Ordering::Relaxed);
        }
        if let Some(size) = size {
            self.size.store(size.max(4096), Ordering::Relaxed);
            self.fs.lock().set_capacity(Some(size));
        }
        if let Some(mode) = mode {
            let mut fs = self.fs.lock();
            let root = fs.root();
            fs.chmod(root, mode)?;
        }
        Ok(())
    }
    fn inode_count(&self) -> Option<usize> {
        Some(self.with(|fs| fs.inode_count()))
    }
    fn caches_names(&self) -> bool {
        true
    }
    fn show_options(&self) -> String {
        let mut s = match self.size.load(Ordering::Relaxed) {
            0 => String::new(),
            n => format!(",size={}k", n / 1024),
        };
        if let n @ 1.. = self.max_inodes.load(Ordering::Relaxed) {
            s.push_str(&format!(",nr_inodes={n}"));
        }
        s
    }
}

impl TmpFs {
    fn total_ram(&self) -> u64 {
        kbase::mm::frame::stats().managed * 4096
    }
}

/// `size=`: bytes with an optional k/m/g suffix, or a percentage of RAM;
/// rounded up to whole pages as tmpfs does.
fn parse_size(val: &[u8], ram: u64) -> Result<u64, Errno> {
    let s = core::str::from_utf8(val).map_err(|_| EINVAL)?;
    let (num, mult) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1 << 30),
        Some(b'%') => {
            let pct: u64 = s[..s.len() - 1].parse().map_err(|_| EINVAL)?;
            return Ok((ram / 100).saturating_mul(pct).next_multiple_of(4096));
        }
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| EINVAL)?;
    n.checked_mul(mult).and_then(|b| b.checked_next_multiple_of(4096)).ok_or(EINVAL)
}

/// `nr_inodes=`: a count with an optional k/m/g suffix (memparse).
fn parse_count(val: &[u8]) -> Result<u64, Errno> {
    let s = core::str::from_utf8(val).map_err(|_| EINVAL)?;
    let (num, mult) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)).ok_or(EINVAL)
}

fn parse_octal(val: &[u8]) -> Result<u32, Errno> {
    let s = core::str::from_utf8(val).map_err(|_| EINVAL)?;
    u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o7777).ok_or(EINVAL)
}

/// The root filesystem's tmpfs, for unpacking the initramfs into it.
static ROOT_TMPFS: Mutex<Option<Arc<TmpFs>>> = Mutex::new(None);

/// Bytes of file data in the root filesystem (/proc/meminfo's Shmem).
pub fn root_used_bytes() -> u64 {
    ROOT_TMPFS.lock().as_ref().map_or(0, |fs| fs.with(RamFs::used_bytes))
}

/// The root filesystem (mount 1), empty until the initramfs is unpacked.
pub fn new_root() -> Arc<Super> {
    let fs = Arc::new(TmpFs::new(TMPFS_MAGIC, false));
    *ROOT_TMPFS.lock() = Some(fs.clone());
    Super::new(fs, "rootfs")
}

/// A fresh tmpfs for mount(2), root directory mode 1777 like Linux.
pub fn new_tmpfs(options: &[u8]) -> Result<Arc<Super>, Errno> {
    let fs = TmpFs::new(TMPFS_MAGIC, false);
    {
        let mut g = fs.fs.lock();
        let root = g.root();
        g.chmod(root, 0o1777)?;
    }
    fs.set_options(options)?;
    Ok(Super::new(Arc::new(fs), "tmpfs"))
}

/// Unpacks the initramfs into the root filesystem, then makes sure its
/// /dev holds the device nodes (for boots that do not mount devtmpfs).
pub fn unpack_root(archive: Option<&[u8]>) -> Result<usize, vfs::UnpackError> {
    super::root();
    let Some(fs) = ROOT_TMPFS.lock().clone() else { return Ok(0) };
    let mut g = fs.fs.lock();
    let n = match archive {
        Some(a) => g.unpack_cpio(a),
        None => Ok(0),
    };
    let root = g.root();
    let dev = match g.lookup(root, b"/dev", true) {
        Ok(d) => Some(d),
        Err(_) => g.create(root, b"dev", Kind::Dir, 0o755, 0, 0, 0).ok(),
    };
    if let Some(dev) = dev {
        add_dev_nodes(&mut g, dev);
    }
    n
}

/// The device nodes every /dev has (the root's /dev and devtmpfs).
const DEV_NODES: [(&[u8], u32, u32, u32); 9] = [
    (b"console", 5, 1, 0o600),
    (b"tty", 5, 0, 0o666),
    (b"ptmx", 5, 2, 0o666),
    (b"ttyS0", 4, 64, 0o660),
    (b"null", 1, 3, 0o666),
    (b"zero", 1, 5, 0o666),
    (b"full", 1, 7, 0o666),
    (b"random", 1, 8, 0o666),
    (b"urandom", 1, 9, 0o666),
];

fn add_dev_nodes(fs: &mut RamFs, dev: Ino) {
    for (name, major, minor, mode) in DEV_NODES {
        let _ = fs.create(dev, name, Kind::CharDev, mode, 0, 0, vfs::encode_dev(major, minor));
    }
    // Where devpts is mounted (pseudo-terminal slaves).
    let _ = fs.create(dev, b"pts", Kind::Dir, 0o755, 0, 0, 0);
}

/// The one devtmpfs instance (all mounts of devtmpfs show it).
static DEVTMPFS: Mutex<Option<Arc<Super>>> = Mutex::new(None);

pub fn devtmpfs() -> Arc<Super> {
    DEVTMPFS
        .lock()
        .get_or_insert_with(|| {
            let fs = Arc::new(TmpFs::new(TMPFS_MAGIC, false));
            {
                let mut g = fs.fs.lock();
                let root = g.root();
                g.chmod(root, 0o755).ok();
                add_dev_nodes(&mut g, root);
            }
            Super::new(fs, "devtmpfs")
        })
        .clone()
}

/// sysfs: a read-only tree with what programs read most.
pub fn new_sysfs() -> Arc<Super> {
    let fs = TmpFs::new(SYSFS_MAGIC, true);
    {
        let mut g = fs.fs.lock();
        let root = g.root();
        let dir = |g: &mut RamFs, parent: Ino, name: &[u8]| g.create(parent, name, Kind::Dir, 0o755, 0, 0, 0).unwrap_or(parent);
        for name in [&b"block"[..], b"bus", b"class", b"dev", b"firmware", b"fs", b"module", b"power"] {
            dir(&mut g, root, name);
        }
        let kernel = dir(&mut g, root, b"kernel");
        dir(&mut g, kernel, b"mm");
        let devices = dir(&mut g, root, b"devices");
        let system = dir(&mut g, devices, b"system");
        let cpu = dir(&mut g, system, b"cpu");
        let n = kbase::arch::percpu::cpus_online().max(1);
        let range = if n == 1 { String::from("0\n") } else { format!("0-{}\n", n - 1) };
        for name in [&b"online"[..], b"possible", b"present"] {
            if let Ok(f) = g.create(cpu, name, Kind::File, 0o444, 0, 0, 0) {
                let _ = g.write(f, 0, range.as_bytes());
            }
        }
        for i in 0..n {
            dir(&mut g, cpu, format!("cpu{i}").as_bytes());
        }
    }
    Super::new(Arc::new(fs), "sysfs")
}


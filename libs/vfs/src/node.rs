//! Inodes: the public [`Ino`], [`Kind`], [`Stat`], [`DirEntry`] and the
//! private [`Inode`] and [`Dir`] that [`RamFs`](crate::RamFs) stores.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use linux_raw_sys::general as raw;

use crate::{Errno, PageAlloc, Pages, Result};

/// Inode number; never reused within one [`RamFs`](crate::RamFs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Ino(pub u64);

/// File type (`inode(7)`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    CharDev,
    BlockDev,
    Fifo,
    Socket,
}

impl Kind {
    /// The type named by `mode & S_IFMT`, if any.
    pub fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & raw::S_IFMT {
            raw::S_IFREG => Self::File,
            raw::S_IFDIR => Self::Dir,
            raw::S_IFLNK => Self::Symlink,
            raw::S_IFCHR => Self::CharDev,
            raw::S_IFBLK => Self::BlockDev,
            raw::S_IFIFO => Self::Fifo,
            raw::S_IFSOCK => Self::Socket,
            _ => return None,
        })
    }

    /// The `S_IFMT` bits of this type.
    pub fn mode_bits(self) -> u32 {
        match self {
            Self::File => raw::S_IFREG,
            Self::Dir => raw::S_IFDIR,
            Self::Symlink => raw::S_IFLNK,
            Self::CharDev => raw::S_IFCHR,
            Self::BlockDev => raw::S_IFBLK,
            Self::Fifo => raw::S_IFIFO,
            Self::Socket => raw::S_IFSOCK,
        }
    }

    /// The `d_type` of a `linux_dirent64` (`DT_REG`...).
    pub fn dirent_type(self) -> u8 {
        let dt = match self {
            Self::File => raw::DT_REG,
            Self::Dir => raw::DT_DIR,
            Self::Symlink => raw::DT_LNK,
            Self::CharDev => raw::DT_CHR,
            Self::BlockDev => raw::DT_BLK,
            Self::Fifo => raw::DT_FIFO,
            Self::Socket => raw::DT_SOCK,
        };
        u8::try_from(dt).unwrap_or(0)
    }
}

/// A point in time, seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    /// Below 1_000_000_000.
    pub nsec: u32,
}

/// What `stat(2)` reports about an inode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Stat {
    /// `st_dev`: the filesystem's device number (0 here; the kernel's
    /// VFS fills it in per mount).
    pub dev: u64,
    pub ino: Ino,
    /// Full `st_mode`: `S_IFMT` type bits and permissions.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    /// Device number of a device node, as [`encode_dev`] makes it.
    pub rdev: u64,
    /// Bytes for files and symlinks; for directories a made-up size that
    /// grows with the entries, as tmpfs reports.
    pub size: u64,
    /// Storage used, in 512-byte units.
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Stat {
    /// The file type, from [`mode`](Self::mode).
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_mode(self.mode)
    }
}

/// One directory entry, as [`RamFs::read_dir`](crate::RamFs::read_dir)
/// returns it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DirEntry {
    pub ino: Ino,
    pub kind: Kind,
    pub name: Vec<u8>,
}

/// Encodes a device number as Linux `new_encode_dev` does for `st_rdev`
/// and `mknod(2)`: 12 bits of major, 20 of minor, the rest dropped.
pub fn encode_dev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (u64::from(major & 0xfff), u64::from(minor & 0xf_ffff));
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// Splits a device number made by [`encode_dev`] into (major, minor).
pub fn decode_dev(dev: u64) -> (u32, u32) {
    let major = (dev >> 8) & 0xfff;
    let minor = (dev & 0xff) | ((dev >> 12) & 0xf_ff00);
    (
        u32::try_from(major).unwrap_or(0),
        u32::try_from(minor).unwrap_or(0),
    )
}

/// One inode.
///
/// # Invariants
///
/// `kind` matches `body` (`Dir` ⇔ `Body::Dir`, `File` ⇔ `Body::File`,
/// `Symlink` ⇔ `Body::Symlink`, the rest ⇔ `Body::Special`). A linked
/// directory has `nlink == 2 + subdirectories`; a removed one has 0.
#[derive(Debug)]
pub(crate) struct Inode<A: PageAlloc> {
    pub(crate) kind: Kind,
    /// Permission bits only (`0o7777`).
    pub(crate) perm: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) nlink: u32,
    pub(crate) rdev: u64,
    pub(crate) atime: Timespec,
    pub(crate) mtime: Timespec,
    pub(crate) ctime: Timespec,
    /// Open files referring to the inode; it is freed when this and
    /// `nlink` are both 0.
    pub(crate) open_refs: u64,
    /// An `O_TMPFILE` file not yet given a name: `link` may name it
    /// although `nlink` is 0 (Linux's I_LINKABLE).
    pub(crate) linkable: bool,
    pub(crate) body: Body<A>,
}

impl<A: PageAlloc> Inode<A> {
    /// What permission checks look at.
    pub(crate) fn attr(&self) -> crate::Attr {
        crate::Attr {
            mode: self.kind.mode_bits() | self.perm,
            uid: self.uid,
            gid: self.gid,
        }
    }
}

/// What an inode holds, by type.
#[derive(Debug)]
pub(crate) enum Body<A: PageAlloc> {
    /// A regular file's length and pages (holes take none).
    File(Pages<A>),
    Dir(Dir),
    Symlink(Vec<u8>),
    /// Device nodes, FIFOs and sockets: nothing stored here.
    Special,
}

/// A directory's entries.
///
/// Every entry gets a sequence number, larger than any before it in this
/// directory; [`read_dir`](crate::RamFs::read_dir) cookies are these
/// numbers, so an iteration neither skips nor repeats an entry that exists
/// throughout it, whatever else is added or removed meanwhile.
///
/// # Invariants
///
/// `order` maps each entry's sequence number to its name, and nothing
/// else; every sequence number is below `next_seq`, which is at least
/// [`FIRST_SEQ`].
#[derive(Debug)]
pub(crate) struct Dir {
    /// `..`; the root's is itself.
    pub(crate) parent: Ino,
    entries: BTreeMap<Vec<u8>, Child>,
    order: BTreeMap<u64, Vec<u8>>,
    next_seq: u64,
}

#[derive(Debug, Clone, Copy)]
struct Child {
    ino: Ino,
    seq: u64,
}

/// Cookies 0 and 1 are `.` and `..`.
pub(crate) const FIRST_SEQ: u64 = 2;

impl Dir {
    pub(crate) fn new(parent: Ino) -> Self {
        Self {
            parent,
            entries: BTreeMap::new(),
            order: BTreeMap::new(),
            next_seq: FIRST_SEQ,
        }
    }

    pub(crate) fn get(&self, name: &[u8]) -> Option<Ino> {
        self.entries.get(name).map(|c| c.ino)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The name of an entry for `ino`.
    pub(crate) fn name_of(&self, ino: Ino) -> Option<&[u8]> {
        self.entries.iter().find(|(_, c)| c.ino == ino).map(|(n, _)| &n[..])
    }

    /// Inodes of all entries, in name order.
    #[cfg(test)]
    pub(crate) fn inos(&self) -> impl Iterator<Item = Ino> + '_ {
        self.entries.values().map(|c| c.ino)
    }

    /// Adds `name`, replacing any entry of that name; fails (changing
    /// nothing) only if sequence numbers ran out.
    pub(crate) fn insert(&mut self, name: &[u8], ino: Ino) -> Result<()> {
        let seq = self.next_seq;
        // INVARIANT: `next_seq` only grows, so `seq` is fresh.
        self.next_seq = seq.checked_add(1).ok_or(Errno::ENOSPC)?;
        self.remove(name);
        // INVARIANT: `order` gets exactly the new entry's number.
        self.order.insert(seq, name.to_vec());
        self.entries.insert(name.to_vec(), Child { ino, seq });
        Ok(())
    }

    /// Removes `name`, returning its inode.
    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<Ino> {
        let child = self.entries.remove(name)?;
        // INVARIANT: the removed entry's number leaves with it.
        self.order.remove(&child.seq);
        Some(child.ino)
    }

    /// The first entry whose sequence number is at least `cookie`, with
    /// that number.
    pub(crate) fn entry_from(&self, cookie: u64) -> Option<(u64, &[u8], Ino)> {
        let (&seq, name) = self.order.range(cookie..).next()?;
        let ino = self.get(name)?;
        Some((seq, name, ino))
    }
}

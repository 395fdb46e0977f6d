//! [`RamFs`]: the inode table, attributes, open references and directory
//! listing. Namespace changes live in `names.rs`, file contents in
//! `data.rs`, path walking in `path.rs`.

use alloc::collections::BTreeMap;

use linux_raw_sys::general as raw;

use crate::node::{Body, Dir, FIRST_SEQ, Inode};
use crate::pages::PAGE_SIZE_U64;
use crate::{DirEntry, Errno, HeapPages, Ino, Kind, PageAlloc, Result, Stat, Timespec};

/// Largest file, in bytes; writes and truncations past it fail with `EFBIG`.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

/// `st_size` tmpfs reports per directory entry (`BOGO_DIRENT_SIZE`).
const BOGO_DIRENT_SIZE: u64 = 20;

/// An in-memory filesystem whose files keep their bytes in pages from `A`
/// (the kernel's frames; heap pages by default, for tests and tools).
///
/// # Invariants
///
/// `root` is in `inodes`, is a directory and is its own parent. Every
/// directory entry names an inode in `inodes`. An inode is in `inodes`
/// while it has a name (`nlink > 0`) or an open reference. `used_bytes`
/// is [`PAGE_SIZE`](crate::PAGE_SIZE) times the number of pages all files
/// hold (holes take none), what Linux's tmpfs counts against `size=`. `next_ino` is above every
/// inode number ever handed out.
#[derive(Debug)]
pub struct RamFs<A: PageAlloc = HeapPages> {
    pub(crate) inodes: BTreeMap<Ino, Inode<A>>,
    pub(crate) root: Ino,
    next_ino: u64,
    pub(crate) now: Timespec,
    pub(crate) used_bytes: u64,
    pub(crate) capacity: Option<u64>,
}

impl<A: PageAlloc> Default for RamFs<A> {
    fn default() -> Self {
        Self::empty()
    }
}

impl RamFs<HeapPages> {
    /// [`empty`](Self::empty) with heap pages.
    pub fn new() -> Self {
        Self::empty()
    }
}

impl<A: PageAlloc> RamFs<A> {
    /// Inodes in memory: named or still open (the kernel's census).
    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    /// An empty filesystem: a root directory, mode 0755, owned by root.
    pub fn empty() -> Self {
        let root = Ino(1);
        let mut fs = Self {
            inodes: BTreeMap::new(),
            root,
            next_ino: 2,
            now: Timespec::default(),
            used_bytes: 0,
            capacity: None,
        };
        let mut node = fs.new_inode(Kind::Dir, 0o755, 0, 0, 0, Body::Dir(Dir::new(root)));
        node.nlink = 2;
        // INVARIANT: the root exists, is a directory and its own parent.
        fs.inodes.insert(root, node);
        fs
    }

    /// The root directory.
    pub fn root(&self) -> Ino {
        self.root
    }

    /// Sets the clock used for new timestamps.
    pub fn set_now(&mut self, sec: i64, nsec: u32) {
        self.now = Timespec { sec, nsec };
    }

    /// `stat(2)` of `ino`.
    pub fn stat(&self, ino: Ino) -> Result<Stat> {
        let node = self.node(ino)?;
        let (size, blocks) = match &node.body {
            // Like tmpfs: the pages held, in 512-byte units.
            Body::File(pages) => (pages.len(), pages.page_count().saturating_mul(PAGE_SIZE_U64 / 512)),
            Body::Symlink(target) => (u64::try_from(target.len()).unwrap_or(u64::MAX), 0),
            Body::Dir(dir) => {
                let entries = u64::try_from(dir.len()).unwrap_or(u64::MAX);
                (
                    entries.saturating_add(2).saturating_mul(BOGO_DIRENT_SIZE),
                    0,
                )
            }
            Body::Special => (0, 0),
        };
        Ok(Stat {
            dev: 0,
            ino,
            mode: node.kind.mode_bits() | node.perm,
            nlink: node.nlink,
            uid: node.uid,
            gid: node.gid,
            rdev: node.rdev,
            size,
            blocks,
            atime: node.atime,
            mtime: node.mtime,
            ctime: node.ctime,
        })
    }

    /// `chmod(2)`: sets the permission bits (`mode & 0o7777`).
    pub fn chmod(&mut self, ino: Ino, mode: u32) -> Result<()> {
        let now = self.now;
        let node = self.node_mut(ino)?;
        node.perm = mode & 0o7777;
        node.ctime = now;
        Ok(())
    }

    /// `chown(2)`: sets the owner and/or group. Like Linux, this clears
    /// set-user-ID, and set-group-ID on group-executable files, on anything
    /// but a directory.
    pub fn chown(&mut self, ino: Ino, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        let now = self.now;
        let node = self.node_mut(ino)?;
        if let Some(uid) = uid {
            node.uid = uid;
        }
        if let Some(gid) = gid {
            node.gid = gid;
        }
        if node.kind != Kind::Dir && (uid.is_some() || gid.is_some()) {
            node.perm &= !raw::S_ISUID;
            if node.perm & raw::S_IXGRP != 0 {
                node.perm &= !raw::S_ISGID;
            }
        }
        node.ctime = now;
        Ok(())
    }

    /// `utimensat(2)`: sets the given times; the change time becomes now.
    pub fn set_times(
        &mut self,
        ino: Ino,
        atime: Option<Timespec>,
        mtime: Option<Timespec>,
    ) -> Result<()> {
        let now = self.now;
        let node = self.node_mut(ino)?;
        if let Some(atime) = atime {
            node.atime = atime;
        }
        if let Some(mtime) = mtime {
            node.mtime = mtime;
        }
        node.ctime = now;
        Ok(())
    }

    /// Records one more open file referring to `ino`, which keeps it alive
    /// after its last name is removed.
    pub fn open_ref(&mut self, ino: Ino) -> Result<()> {
        let node = self.node_mut(ino)?;
        node.open_refs = node.open_refs.checked_add(1).ok_or(Errno::ENOMEM)?;
        Ok(())
    }

    /// Drops a reference taken by [`open_ref`](Self::open_ref); frees the
    /// inode if it was the last one and the inode has no name left.
    /// `EBADF` if there was no reference to drop.
    pub fn close_ref(&mut self, ino: Ino) -> Result<()> {
        let node = self.node_mut(ino)?;
        node.open_refs = node.open_refs.checked_sub(1).ok_or(Errno::EBADF)?;
        self.free_if_unused(ino);
        Ok(())
    }

    /// One entry of directory `ino`, for `getdents64(2)`: the first at or
    /// after `cookie` (0 to start), with the cookie of the next.
    ///
    /// `.` and `..` come first, then the entries in the order they were
    /// added (not name order: that is what keeps cookies valid). An entry
    /// present during the whole iteration is returned exactly once; one
    /// added or removed meanwhile may or may not be, as POSIX allows. Any
    /// cookie is accepted. `ENOENT` once the directory has been removed.
    pub fn read_dir(&self, ino: Ino, cookie: u64) -> Result<Option<(u64, DirEntry)>> {
        let node = self.node(ino)?;
        let dir = self.dir(ino)?;
        if node.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        let (next, entry) = match cookie {
            0 => (1, (ino, &b"."[..])),
            1 => (FIRST_SEQ, (dir.parent, &b".."[..])),
            _ => {
                let Some((seq, name, child)) = dir.entry_from(cookie) else {
                    return Ok(None);
                };
                // `seq < next_seq <= u64::MAX`, so this cannot fail.
                (seq.checked_add(1).ok_or(Errno::EIO)?, (child, name))
            }
        };
        let (child, name) = entry;
        let kind = self.node(child)?.kind;
        Ok(Some((
            next,
            DirEntry {
                ino: child,
                kind,
                name: name.to_vec(),
            },
        )))
    }

    /// The entry `name` of directory `dir` with its type, for walks
    /// done one component at a time (`.` and `..` are not names here).
    pub fn child(&self, dir: Ino, name: &[u8]) -> Result<(Ino, Kind)> {
        let ino = self.dir(dir)?.get(name).ok_or(Errno::ENOENT)?;
        Ok((ino, self.node(ino)?.kind))
    }

    /// `..` of directory `dir` (the root's is itself).
    pub fn parent_of(&self, dir: Ino) -> Result<Ino> {
        Ok(self.dir(dir)?.parent)
    }

    /// The name of `child` in directory `dir` (the first one, for a file
    /// with several links there): `ENOENT` if it has none there.
    pub fn name_of(&self, dir: Ino, child: Ino) -> Result<alloc::vec::Vec<u8>> {
        self.dir(dir)?.name_of(child).map(<[u8]>::to_vec).ok_or(Errno::ENOENT)
    }

    /// The file's kind.
    pub fn kind(&self, ino: Ino) -> Result<Kind> {
        Ok(self.node(ino)?.kind)
    }

    /// Bytes of file pages held (whole pages; holes take none), as
    /// [`set_capacity`](Self::set_capacity) counts them.
    pub fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    /// Limits the total bytes of file pages (`None`: no limit). A write
    /// that needs pages past it fails with `ENOSPC`; data already stored
    /// stays even if the new limit is below it.
    pub fn set_capacity(&mut self, bytes: Option<u64>) {
        self.capacity = bytes;
    }

    pub(crate) fn node(&self, ino: Ino) -> Result<&Inode<A>> {
        self.inodes.get(&ino).ok_or(Errno::ENOENT)
    }

    pub(crate) fn node_mut(&mut self, ino: Ino) -> Result<&mut Inode<A>> {
        self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    /// The directory `ino`: `ENOTDIR` if it is something else.
    pub(crate) fn dir(&self, ino: Ino) -> Result<&Dir> {
        match &self.node(ino)?.body {
            Body::Dir(dir) => Ok(dir),
            _ => Err(Errno::ENOTDIR),
        }
    }

    pub(crate) fn dir_mut(&mut self, ino: Ino) -> Result<&mut Dir> {
        match &mut self.node_mut(ino)?.body {
            Body::Dir(dir) => Ok(dir),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// A directory that new entries may go into: `ENOENT` once removed.
    pub(crate) fn live_dir(&self, ino: Ino) -> Result<&Dir> {
        let dir = self.dir(ino)?;
        if self.node(ino)?.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        Ok(dir)
    }

    /// A fresh inode number.
    pub(crate) fn alloc_ino(&mut self) -> Result<Ino> {
        let ino = self.next_ino;
        // INVARIANT: the counter only grows, so numbers are never reused.
        self.next_ino = ino.checked_add(1).ok_or(Errno::ENOSPC)?;
        Ok(Ino(ino))
    }

    /// An inode with no links, all times now.
    pub(crate) fn new_inode(
        &self,
        kind: Kind,
        perm: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
        body: Body<A>,
    ) -> Inode<A> {
        Inode {
            kind,
            perm: perm & 0o7777,
            uid,
            gid,
            nlink: 0,
            rdev,
            atime: self.now,
            mtime: self.now,
            ctime: self.now,
            open_refs: 0,
            linkable: false,
            body,
        }
    }

    /// Sets the modification and change times of `ino` to now.
    pub(crate) fn touch(&mut self, ino: Ino) {
        let now = self.now;
        if let Ok(node) = self.node_mut(ino) {
            node.mtime = now;
            node.ctime = now;
        }
    }

    /// Frees `ino` if it has neither a name nor an open reference.
    pub(crate) fn free_if_unused(&mut self, ino: Ino) {
        let unused = self
            .inodes
            .get(&ino)
            .is_some_and(|n| n.nlink == 0 && n.open_refs == 0);
        if !unused || ino == self.root {
            return;
        }
        if let Some(node) = self.inodes.remove(&ino)
            && let Body::File(pages) = node.body
        {
            // INVARIANT: the freed file's pages leave the total.
            self.used_bytes = self.used_bytes.saturating_sub(pages.page_count().saturating_mul(PAGE_SIZE_U64));
        }
    }

    /// Whether `ancestor` is `ino` or one of its ancestors.
    pub(crate) fn is_ancestor_or_self(&self, ancestor: Ino, ino: Ino) -> bool {
        let mut cur = ino;
        // Each step climbs one level, so the tree depth bounds the walk;
        // the inode count bounds it even if the tree were corrupt.
        for _ in 0..=self.inodes.len() {
            if cur == ancestor {
                return true;
            }
            match self.dir(cur) {
                Ok(dir) if dir.parent != cur => cur = dir.parent,
                _ => return false,
            }
        }
        false
    }
}

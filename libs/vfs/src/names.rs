//! Namespace changes: `create`, `symlink`, `link`, `unlink`, `rmdir`,
//! `rename`, with the error rules of the matching Linux system calls.
//!
//! Each takes a directory and a last component, as
//! [`RamFs::lookup_parent`] returns them. That name may end in `/` (the path
//! had a trailing slash: the target must be a directory) and may be `.` or
//! `..`; the path `/` is reported as `/`, which reads as `.` with a slash.

use crate::node::{Body, Dir};
use crate::{Errno, Ino, Kind, PageAlloc, RamFs, Result};

/// A last component, trailing slashes removed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Last<'a> {
    Dot,
    DotDot,
    Normal(&'a [u8]),
}

/// Splits `name` into its component and whether it had a trailing slash.
pub(crate) fn parse_name(name: &[u8]) -> Result<(Last<'_>, bool)> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    let end = name
        .iter()
        .rposition(|&b| b != b'/')
        .map_or(0, |i| i.saturating_add(1));
    let (base, slashes) = name.split_at_checked(end).ok_or(Errno::EINVAL)?;
    let has_slash = !slashes.is_empty();
    if base.contains(&b'/') || base.contains(&0) {
        return Err(Errno::EINVAL);
    }
    if base.len() > crate::NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let last = match base {
        // Only slashes: the root.
        b"" | b"." => Last::Dot,
        b".." => Last::DotDot,
        name => Last::Normal(name),
    };
    Ok((last, has_slash))
}

impl<A: PageAlloc> RamFs<A> {
    /// Creates `name` in `dir` (`open(O_CREAT|O_EXCL)`, `mkdir(2)`,
    /// `mknod(2)`), with permissions `mode & 0o7777` (the caller applied
    /// the umask) and, for device nodes, device number `rdev`
    /// ([`encode_dev`](crate::encode_dev)).
    ///
    /// `EEXIST` if the name exists (or is `.`/`..`), `ENOTDIR` if `dir` is
    /// not a directory, `ENOENT` if it was removed. With a trailing slash
    /// only a directory may be created: `EISDIR` for a file (as `open`
    /// reports), `ENOENT` for other types.
    #[allow(
        clippy::too_many_arguments,
        reason = "mirrors mknodat(2) plus the owner"
    )]
    pub fn create(
        &mut self,
        dir: Ino,
        name: &[u8],
        kind: Kind,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
    ) -> Result<Ino> {
        let body = match kind {
            Kind::File => Body::File(crate::Pages::default()),
            // The parent is set by `add_new`.
            Kind::Dir => Body::Dir(Dir::new(dir)),
            Kind::Symlink => return Err(Errno::EINVAL),
            Kind::CharDev | Kind::BlockDev | Kind::Fifo | Kind::Socket => Body::Special,
        };
        let rdev = if matches!(kind, Kind::CharDev | Kind::BlockDev) {
            rdev
        } else {
            0
        };
        let node = self.new_inode(kind, mode, uid, gid, rdev, body);
        self.add_new(dir, name, node)
    }

    /// A regular file with no name (memfd_create(2), O_TMPFILE), held
    /// by one open reference: it is freed when that reference is dropped
    /// with [`close_ref`](Self::close_ref).
    pub fn create_unlinked(&mut self, mode: u32, uid: u32, gid: u32) -> Result<Ino> {
        let body = Body::File(crate::Pages::default());
        let mut node = self.new_inode(Kind::File, mode, uid, gid, 0, body);
        node.open_refs = 1;
        let ino = self.alloc_ino()?;
        // INVARIANT: the new inode is in the table (with no name).
        self.inodes.insert(ino, node);
        Ok(ino)
    }

    /// `open(O_TMPFILE)`: as [`create_unlinked`](Self::create_unlinked),
    /// but if `linkable` (no `O_EXCL`) [`link`](Self::link) may give it
    /// a name later.
    pub fn create_tmpfile(&mut self, mode: u32, uid: u32, gid: u32, linkable: bool) -> Result<Ino> {
        let ino = self.create_unlinked(mode, uid, gid)?;
        self.node_mut(ino)?.linkable = linkable;
        Ok(ino)
    }

    /// `symlink(2)`: creates `name` in `dir` pointing at `target`.
    /// `ENOENT` for an empty target, `ENAMETOOLONG` for one of `PATH_MAX`
    /// bytes or more; otherwise as [`create`](Self::create).
    pub fn symlink(
        &mut self,
        dir: Ino,
        name: &[u8],
        target: &[u8],
        uid: u32,
        gid: u32,
    ) -> Result<Ino> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= crate::PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let body = Body::Symlink(target.to_vec());
        let node = self.new_inode(Kind::Symlink, 0o777, uid, gid, 0, body);
        self.add_new(dir, name, node)
    }

    /// `link(2)`: gives `ino` the extra name `name` in `dir`.
    ///
    /// `EPERM` for a directory, `ENOENT` if `ino` has no name left (an
    /// unlinked open file), `EMLINK` if its link count would overflow;
    /// name errors as [`create`](Self::create).
    pub fn link(&mut self, ino: Ino, dir: Ino, name: &[u8]) -> Result<()> {
        let node = self.node(ino)?;
        if node.kind == Kind::Dir {
            return Err(Errno::EPERM);
        }
        let name = self.free_name(dir, name, Some(Errno::ENOENT))?;
        let node = self.node(ino)?;
        if node.nlink == 0 && !node.linkable {
            return Err(Errno::ENOENT);
        }
        let nlink = node.nlink.checked_add(1).ok_or(Errno::EMLINK)?;
        self.dir_mut(dir)?.insert(name, ino)?;
        let now = self.now;
        let node = self.node_mut(ino)?;
        node.nlink = nlink;
        node.linkable = false;
        node.ctime = now;
        self.touch(dir);
        Ok(())
    }

    /// `unlink(2)`: removes the non-directory `name` from `dir`; the inode
    /// is freed once it has no name and no open reference.
    ///
    /// `EISDIR` for a directory (and `.`, `..`, `/`), `ENOTDIR` for a
    /// non-directory named with a trailing slash, `ENOENT` if absent.
    pub fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<()> {
        let (last, has_slash) = parse_name(name)?;
        let Last::Normal(name) = last else {
            return Err(Errno::EISDIR);
        };
        let child = self.dir(dir)?.get(name).ok_or(Errno::ENOENT)?;
        if self.node(child)?.kind == Kind::Dir {
            return Err(Errno::EISDIR);
        }
        if has_slash {
            return Err(Errno::ENOTDIR);
        }
        self.dir_mut(dir)?.remove(name);
        self.drop_link(child);
        self.touch(dir);
        Ok(())
    }

    /// `rmdir(2)`: removes the empty directory `name` from `dir`.
    ///
    /// `EINVAL` for `.` (and `/`), `ENOTEMPTY` for `..` or a directory
    /// with entries, `ENOTDIR` for anything else, `ENOENT` if absent.
    /// Linux says `EBUSY` for `/`; here `/` is `.` of the root.
    pub fn rmdir(&mut self, dir: Ino, name: &[u8]) -> Result<()> {
        let (last, _) = parse_name(name)?;
        let name = match last {
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Normal(name) => name,
        };
        let child = self.dir(dir)?.get(name).ok_or(Errno::ENOENT)?;
        if !self.dir(child)?.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.dir_mut(dir)?.remove(name);
        self.unlink_dir(dir, child);
        self.touch(dir);
        Ok(())
    }

    /// `rename(2)`: moves `old` in `old_dir` to `new` in `new_dir`,
    /// replacing what `new` names.
    ///
    /// Errors, in Linux's order: `EBUSY` if either name is `.`, `..` or
    /// `/`; `ENOENT` if `old` is absent or `new_dir` was removed; `ENOTDIR`
    /// for a non-directory `old` with a trailing slash on either name;
    /// `EINVAL` if `new_dir` is `old` or inside it; `ENOTEMPTY` if `new`
    /// is an ancestor of `old_dir` or a non-empty directory; `ENOTDIR` /
    /// `EISDIR` when a directory would replace a non-directory or the
    /// reverse. Renaming onto another name of the same inode does nothing.
    pub fn rename(&mut self, old_dir: Ino, old: &[u8], new_dir: Ino, new: &[u8]) -> Result<()> {
        let (old_last, old_slash) = parse_name(old)?;
        let (new_last, new_slash) = parse_name(new)?;
        self.dir(old_dir)?;
        self.dir(new_dir)?;
        let (Last::Normal(old), Last::Normal(new)) = (old_last, new_last) else {
            return Err(Errno::EBUSY);
        };
        let src = self.dir(old_dir)?.get(old).ok_or(Errno::ENOENT)?;
        let src_is_dir = self.node(src)?.kind == Kind::Dir;
        if !src_is_dir && (old_slash || new_slash) {
            return Err(Errno::ENOTDIR);
        }
        self.live_dir(new_dir)?;
        if src_is_dir && self.is_ancestor_or_self(src, new_dir) {
            return Err(Errno::EINVAL);
        }
        let dst = self.dir(new_dir)?.get(new);
        let mut dst_is_dir = false;
        if let Some(dst) = dst {
            if dst == src {
                return Ok(());
            }
            if self.is_ancestor_or_self(dst, old_dir) {
                return Err(Errno::ENOTEMPTY);
            }
            match &self.node(dst)?.body {
                Body::Dir(_) if !src_is_dir => return Err(Errno::EISDIR),
                Body::Dir(dir) if !dir.is_empty() => return Err(Errno::ENOTEMPTY),
                Body::Dir(_) => dst_is_dir = true,
                _ if src_is_dir => return Err(Errno::ENOTDIR),
                _ => {}
            }
        }
        // A directory moving to another parent takes a link with it (`..`);
        // a replaced directory gives its link up in `unlink_dir`.
        let moves_dir = src_is_dir && old_dir != new_dir;
        let new_dir_nlink = if moves_dir {
            self.node(new_dir)?
                .nlink
                .checked_add(1)
                .ok_or(Errno::EMLINK)?
        } else {
            self.node(new_dir)?.nlink
        };

        // Only the insertion can fail, and it changes nothing when it does.
        self.dir_mut(new_dir)?.insert(new, src)?;
        self.dir_mut(old_dir)?.remove(old);
        self.node_mut(new_dir)?.nlink = new_dir_nlink;
        if moves_dir {
            let old_parent = self.node_mut(old_dir)?;
            old_parent.nlink = old_parent.nlink.saturating_sub(1);
            self.dir_mut(src)?.parent = new_dir;
        }
        if let Some(dst) = dst {
            if dst_is_dir {
                self.unlink_dir(new_dir, dst);
            } else {
                self.drop_link(dst);
            }
        }
        let now = self.now;
        self.node_mut(src)?.ctime = now;
        self.touch(old_dir);
        self.touch(new_dir);
        Ok(())
    }

    /// `renameat2(RENAME_EXCHANGE)`: swaps the entries `old` of `old_dir`
    /// and `new` of `new_dir`, which must both exist (`ENOENT`). A
    /// directory may not end up inside itself (`EINVAL`); a trailing slash
    /// on a non-directory is `ENOTDIR`; `.`/`..` are `EBUSY`.
    pub fn exchange(&mut self, old_dir: Ino, old: &[u8], new_dir: Ino, new: &[u8]) -> Result<()> {
        let (old_last, old_slash) = parse_name(old)?;
        let (new_last, new_slash) = parse_name(new)?;
        self.live_dir(old_dir)?;
        self.live_dir(new_dir)?;
        let (Last::Normal(old), Last::Normal(new)) = (old_last, new_last) else {
            return Err(Errno::EBUSY);
        };
        let a = self.dir(old_dir)?.get(old).ok_or(Errno::ENOENT)?;
        let b = self.dir(new_dir)?.get(new).ok_or(Errno::ENOENT)?;
        let a_is_dir = self.node(a)?.kind == Kind::Dir;
        let b_is_dir = self.node(b)?.kind == Kind::Dir;
        if (!a_is_dir && old_slash) || (!b_is_dir && new_slash) {
            return Err(Errno::ENOTDIR);
        }
        if a == b {
            return Ok(());
        }
        if (a_is_dir && self.is_ancestor_or_self(a, new_dir)) || (b_is_dir && self.is_ancestor_or_self(b, old_dir)) {
            return Err(Errno::EINVAL);
        }
        self.dir_mut(new_dir)?.insert(new, a)?;
        self.dir_mut(old_dir)?.insert(old, b)?;
        if old_dir != new_dir {
            // A directory that changes parent takes its `..` link along.
            if a_is_dir != b_is_dir {
                let (to, from) = if a_is_dir { (new_dir, old_dir) } else { (old_dir, new_dir) };
                let n = self.node_mut(to)?;
                n.nlink = n.nlink.saturating_add(1);
                let n = self.node_mut(from)?;
                n.nlink = n.nlink.saturating_sub(1);
            }
            if a_is_dir {
                self.dir_mut(a)?.parent = new_dir;
            }
            if b_is_dir {
                self.dir_mut(b)?.parent = old_dir;
            }
        }
        let now = self.now;
        self.node_mut(a)?.ctime = now;
        self.node_mut(b)?.ctime = now;
        self.touch(old_dir);
        self.touch(new_dir);
        Ok(())
    }

    /// Checks that `name` can be added to `dir` and returns it without
    /// trailing slashes. A trailing slash on a free name fails with
    /// `on_slash` (`None` when making a directory).
    pub(crate) fn free_name<'n>(&self, dir: Ino, name: &'n [u8], on_slash: Option<Errno>) -> Result<&'n [u8]> {
        let (last, has_slash) = parse_name(name)?;
        let dir = self.live_dir(dir)?;
        let Last::Normal(name) = last else {
            return Err(Errno::EEXIST);
        };
        if dir.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        match on_slash {
            Some(errno) if has_slash => Err(errno),
            _ => Ok(name),
        }
    }

    /// Links the unlinked inode `node` into `dir` as `name`.
    fn add_new(&mut self, dir: Ino, name: &[u8], mut node: crate::node::Inode<A>) -> Result<Ino> {
        let is_dir = node.kind == Kind::Dir;
        // `open("new/", O_CREAT)` says EISDIR; `mknod`, `symlink` ENOENT.
        let on_slash = match node.kind {
            Kind::Dir => None,
            Kind::File => Some(Errno::EISDIR),
            _ => Some(Errno::ENOENT),
        };
        let name = self.free_name(dir, name, on_slash)?;
        let parent_nlink = self.node(dir)?.nlink;
        let parent_nlink = if is_dir {
            parent_nlink.checked_add(1).ok_or(Errno::EMLINK)?
        } else {
            parent_nlink
        };
        let ino = self.alloc_ino()?;
        self.dir_mut(dir)?.insert(name, ino)?;
        node.nlink = if is_dir { 2 } else { 1 };
        if let Body::Dir(d) = &mut node.body {
            d.parent = dir;
        }
        // INVARIANT: the new entry's inode is in the table.
        self.inodes.insert(ino, node);
        self.node_mut(dir)?.nlink = parent_nlink;
        self.touch(dir);
        Ok(ino)
    }

    /// Removes one link of the non-directory `ino`, freeing it if unused.
    fn drop_link(&mut self, ino: Ino) {
        let now = self.now;
        if let Ok(node) = self.node_mut(ino) {
            node.nlink = node.nlink.saturating_sub(1);
            node.ctime = now;
        }
        self.free_if_unused(ino);
    }

    /// Finishes removing the (empty) directory `ino` whose entry in
    /// `parent` is already gone.
    fn unlink_dir(&mut self, parent: Ino, ino: Ino) {
        let now = self.now;
        if let Ok(node) = self.node_mut(ino) {
            node.nlink = 0;
            node.ctime = now;
        }
        if let Ok(node) = self.node_mut(parent) {
            node.nlink = node.nlink.saturating_sub(1);
        }
        self.free_if_unused(ino);
    }
}

//! The checked forms of the namespace and attribute changes: each
//! `*_as` method takes the caller's [`Cred`], reports the errors Linux
//! reports before its permission check, then checks (`perm.rs`), then
//! runs the unchecked method of `names.rs` / `fs.rs`, which the kernel
//! itself uses (initramfs, `/dev`).
//!
//! ```text
//!  create_as / symlink_as / link_as   name errors, then may_create(dir)
//!  unlink_as / rmdir_as               name errors, then may_delete(dir, victim)
//!  rename_as                          EBUSY ENOENT ENOTDIR EINVAL ENOTEMPTY, then
//!                                     may_delete(old), may_create or may_delete(new),
//!                                     w on a directory that changes parent
//!  chmod_as chown_as set_times_as truncate_as remove_privs_as
//! ```

use cred::Cred;

use crate::names::{Last, parse_name};
use crate::perm::{self, Access, Attr};
use crate::{Errno, Ino, Kind, PageAlloc, RamFs, Result};

impl<A: PageAlloc> RamFs<A> {
    /// The attributes permission checks need, of `ino`.
    pub fn attr(&self, ino: Ino) -> Result<Attr> {
        Ok(self.node(ino)?.attr())
    }

    /// [`permission`](perm::permission) of `ino` for `cred`.
    pub fn check_access(&self, cred: &Cred, ino: Ino, want: Access) -> Result<()> {
        perm::permission(&self.attr(ino)?, cred, want)
    }

    /// [`create`](Self::create) by `cred`: the new inode belongs to it (or
    /// to a set-group-ID directory's group, [`perm::new_owner`]); `EACCES`
    /// without write and search permission on `dir`, after the name errors
    /// (`EEXIST` first, as Linux).
    pub fn create_as(
        &mut self,
        cred: &Cred,
        dir: Ino,
        name: &[u8],
        kind: Kind,
        mode: u32,
        rdev: u64,
    ) -> Result<Ino> {
        let on_slash = match kind {
            Kind::Dir => None,
            Kind::File => Some(Errno::EISDIR),
            _ => Some(Errno::ENOENT),
        };
        self.free_name(dir, name, on_slash)?;
        let dir_attr = self.attr(dir)?;
        perm::may_create(&dir_attr, cred)?;
        let (uid, gid, mode) = perm::new_owner(&dir_attr, cred, kind, mode);
        self.create(dir, name, kind, mode, uid, gid, rdev)
    }

    /// [`symlink`](Self::symlink) by `cred`, checked like
    /// [`create_as`](Self::create_as).
    pub fn symlink_as(&mut self, cred: &Cred, dir: Ino, name: &[u8], target: &[u8]) -> Result<Ino> {
        self.free_name(dir, name, Some(Errno::ENOENT))?;
        let dir_attr = self.attr(dir)?;
        perm::may_create(&dir_attr, cred)?;
        let (uid, gid, _) = perm::new_owner(&dir_attr, cred, Kind::Symlink, 0o777);
        self.symlink(dir, name, target, uid, gid)
    }

    /// [`link`](Self::link) by `cred`: write and search permission on `dir`.
    pub fn link_as(&mut self, cred: &Cred, ino: Ino, dir: Ino, name: &[u8]) -> Result<()> {
        self.free_name(dir, name, Some(Errno::ENOENT))?;
        perm::may_create(&self.attr(dir)?, cred)?;
        self.link(ino, dir, name)
    }

    /// [`unlink`](Self::unlink) by `cred`: `EACCES` without write and
    /// search permission on `dir`, `EPERM` in a sticky directory for a
    /// file neither it nor the directory belongs to.
    pub fn unlink_as(&mut self, cred: &Cred, dir: Ino, name: &[u8]) -> Result<()> {
        let (last, has_slash) = parse_name(name)?;
        let Last::Normal(base) = last else {
            return Err(Errno::EISDIR);
        };
        let child = self.dir(dir)?.get(base).ok_or(Errno::ENOENT)?;
        let child_attr = self.attr(child)?;
        if has_slash {
            return Err(if child_attr.kind() == Some(Kind::Dir) {
                Errno::EISDIR
            } else {
                Errno::ENOTDIR
            });
        }
        perm::may_delete(&self.attr(dir)?, &child_attr, cred)?;
        self.unlink(dir, name)
    }

    /// [`rmdir`](Self::rmdir) by `cred`, checked like
    /// [`unlink_as`](Self::unlink_as) (before `ENOTDIR` and `ENOTEMPTY`).
    pub fn rmdir_as(&mut self, cred: &Cred, dir: Ino, name: &[u8]) -> Result<()> {
        let (last, _) = parse_name(name)?;
        let base = match last {
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Normal(base) => base,
        };
        let child = self.dir(dir)?.get(base).ok_or(Errno::ENOENT)?;
        perm::may_delete(&self.attr(dir)?, &self.attr(child)?, cred)?;
        self.rmdir(dir, name)
    }

    /// [`rename`](Self::rename) by `cred`: after the name and loop errors,
    /// `old` must be deletable from `old_dir`, `new` deletable from (if it
    /// exists) or creatable in `new_dir`, and a directory that moves to
    /// another parent writable (its `..` changes).
    pub fn rename_as(
        &mut self,
        cred: &Cred,
        old_dir: Ino,
        old: &[u8],
        new_dir: Ino,
        new: &[u8],
    ) -> Result<()> {
        let (old_last, old_slash) = parse_name(old)?;
        let (new_last, new_slash) = parse_name(new)?;
        self.dir(old_dir)?;
        self.dir(new_dir)?;
        let (Last::Normal(old_base), Last::Normal(new_base)) = (old_last, new_last) else {
            return Err(Errno::EBUSY);
        };
        let src = self.dir(old_dir)?.get(old_base).ok_or(Errno::ENOENT)?;
        let src_attr = self.attr(src)?;
        let src_is_dir = src_attr.kind() == Some(Kind::Dir);
        if !src_is_dir && (old_slash || new_slash) {
            return Err(Errno::ENOTDIR);
        }
        self.live_dir(new_dir)?;
        if src_is_dir && self.is_ancestor_or_self(src, new_dir) {
            return Err(Errno::EINVAL);
        }
        let dst = self.dir(new_dir)?.get(new_base);
        if let Some(dst) = dst {
            if dst == src {
                return Ok(());
            }
            if self.is_ancestor_or_self(dst, old_dir) {
                return Err(Errno::ENOTEMPTY);
            }
        }
        perm::may_delete(&self.attr(old_dir)?, &src_attr, cred)?;
        let new_dir_attr = self.attr(new_dir)?;
        match dst {
            Some(dst) => perm::may_delete(&new_dir_attr, &self.attr(dst)?, cred)?,
            None => perm::may_create(&new_dir_attr, cred)?,
        }
        if src_is_dir && old_dir != new_dir {
            perm::permission(&src_attr, cred, Access::WRITE)?;
        }
        self.rename(old_dir, old, new_dir, new)
    }

    /// [`chmod`](Self::chmod) by `cred` ([`perm::chmod_mode`]).
    pub fn chmod_as(&mut self, cred: &Cred, ino: Ino, mode: u32) -> Result<()> {
        let mode = perm::chmod_mode(&self.attr(ino)?, cred, mode)?;
        self.chmod(ino, mode)
    }

    /// [`chown`](Self::chown) by `cred` ([`perm::may_chown`]).
    pub fn chown_as(&mut self, cred: &Cred, ino: Ino, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        perm::may_chown(&self.attr(ino)?, cred, uid, gid)?;
        self.chown(ino, uid, gid)
    }

    /// [`set_times`](Self::set_times) by `cred`; `explicit` unless both
    /// times are "now" ([`perm::may_set_times`]).
    pub fn set_times_as(
        &mut self,
        cred: &Cred,
        ino: Ino,
        atime: Option<crate::Timespec>,
        mtime: Option<crate::Timespec>,
        explicit: bool,
    ) -> Result<()> {
        perm::may_set_times(&self.attr(ino)?, cred, explicit)?;
        self.set_times(ino, atime, mtime)
    }

    /// `truncate(2)` of a path by `cred`: `EISDIR` for a directory,
    /// `EINVAL` for anything but a regular file, `EACCES` without write
    /// permission.
    pub fn truncate_as(&mut self, cred: &Cred, ino: Ino, len: u64) -> Result<()> {
        let attr = self.attr(ino)?;
        match attr.kind() {
            Some(Kind::Dir) => return Err(Errno::EISDIR),
            Some(Kind::File) => {}
            _ => return Err(Errno::EINVAL),
        }
        perm::permission(&attr, cred, Access::WRITE)?;
        self.remove_privs_as(cred, ino)?;
        self.truncate(ino, len)
    }

    /// Whether writing to or truncating `ino` may have to clear its
    /// set-user-ID or set-group-ID bit (a cheap test for the write path).
    pub fn has_privs(&self, ino: Ino) -> bool {
        self.attr(ino).is_ok_and(|a| perm::privs_to_remove(&a) != 0)
    }

    /// A write or truncation by `cred`: a regular file loses set-user-ID,
    /// and set-group-ID if it is group-executable, unless `cred` holds
    /// `CAP_FSETID` (Linux `file_remove_privs`).
    pub fn remove_privs_as(&mut self, cred: &Cred, ino: Ino) -> Result<()> {
        let attr = self.attr(ino)?;
        let kill = perm::privs_to_remove(&attr);
        if kill != 0 && !cred.capable(cred::Cap::Fsetid) {
            self.chmod(ino, attr.mode & 0o7777 & !kill)?;
        }
        Ok(())
    }
}

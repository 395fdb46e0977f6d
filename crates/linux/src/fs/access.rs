//! The permission checks of the VFS: Linux's rules (`libs/vfs` `perm`)
//! applied to any filesystem through its `stat`, before the unchecked
//! operation of the [`FileSystem`](super::FileSystem) trait runs. The
//! name errors Linux reports first (`EEXIST`, `ENOENT`) come first here
//! too.
//!
//! ```text
//!  create symlink link      EEXIST, then may_create(dir), new_owner
//!  unlink rmdir             ENOENT, then may_delete(dir, victim)
//!  rename                   may_delete(old), may_create or may_delete(new),
//!                           write on a directory that changes parent
//!  chmod chown set_times truncate remove_privs
//! ```

use alloc::sync::Arc;

use cred::{Cap, Cred};
use vfs::{Access, Attr, Ino, Kind, Timespec, perm};

use super::Node;
use crate::errno::{EEXIST, EINVAL, EISDIR, Errno};

/// The caller's credentials; root for the kernel's own work.
pub fn caller() -> Arc<Cred> {
    match kbase::task::current_ext::<crate::process::Thread>() {
        Some(t) => t.process.cred(),
        None => Arc::new(Cred::root()),
    }
}

/// What permission checks look at, of `node`.
pub fn attr(node: &Node) -> Result<Attr, Errno> {
    Ok(Attr::from(&node.fs().stat(node.ino)?))
}

/// `permission(2)`-style check of `node` for `cred`.
pub fn check(cred: &Cred, node: &Node, want: Access) -> Result<(), Errno> {
    perm::permission(&attr(node)?, cred, want)
}

/// The entry `name` of `dir` (trailing slashes ignored; none for `.`,
/// `..` and the empty name).
fn child(dir: &Node, name: &[u8]) -> Option<(Ino, Kind)> {
    let end = name.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let name = &name[..end];
    if name.is_empty() || name == b"." || name == b".." {
        return None;
    }
    dir.mnt.sb.lookup(dir.ino, name).ok()
}

/// After a change of `name` in `dir` (whether or not it succeeded: a
/// failed change leaves the cache merely a little colder).
fn changed<T>(dir: &Node, name: &[u8], r: Result<T, Errno>) -> Result<T, Errno> {
    dir.mnt.sb.name_changed(dir.ino, name);
    r
}

/// Creates `name` in `dir` for `cred`, owned as [`perm::new_owner`] says.
pub fn create(cred: &Cred, dir: &Node, name: &[u8], kind: Kind, mode: u32, rdev: u64) -> Result<Ino, Errno> {
    if child(dir, name).is_some() {
        return Err(EEXIST);
    }
    let dir_attr = attr(dir)?;
    perm::may_create(&dir_attr, cred)?;
    let (uid, gid, mode) = perm::new_owner(&dir_attr, cred, kind, mode);
    changed(dir, name, dir.fs().create(dir.ino, name, kind, mode, uid, gid, rdev))
}

/// The owner and mode of an O_TMPFILE file in `dir` for `cred`, after the
/// checks of `vfs_tmpfile` (write and search permission on `dir`).
pub fn tmpfile_owner(cred: &Cred, dir: &Node, mode: u32) -> Result<(u32, u32, u32), Errno> {
    let dir_attr = attr(dir)?;
    perm::may_create(&dir_attr, cred)?;
    Ok(perm::new_owner(&dir_attr, cred, Kind::File, mode))
}

pub fn symlink(cred: &Cred, dir: &Node, name: &[u8], target: &[u8]) -> Result<Ino, Errno> {
    if child(dir, name).is_some() {
        return Err(EEXIST);
    }
    let dir_attr = attr(dir)?;
    perm::may_create(&dir_attr, cred)?;
    let (uid, gid, _) = perm::new_owner(&dir_attr, cred, Kind::Symlink, 0o777);
    changed(dir, name, dir.fs().symlink(dir.ino, name, target, uid, gid))
}

pub fn link(cred: &Cred, node: &Node, dir: &Node, name: &[u8]) -> Result<(), Errno> {
    if child(dir, name).is_some() {
        return Err(EEXIST);
    }
    perm::may_create(&attr(dir)?, cred)?;
    changed(dir, name, dir.fs().link(node.ino, dir.ino, name))
}

pub fn unlink(cred: &Cred, dir: &Node, name: &[u8]) -> Result<(), Errno> {
    if let Some((ino, _)) = child(dir, name) {
        perm::may_delete(&attr(dir)?, &attr(&dir.at(ino))?, cred)?;
    }
    changed(dir, name, dir.fs().unlink(dir.ino, name))
}

pub fn rmdir(cred: &Cred, dir: &Node, name: &[u8]) -> Result<(), Errno> {
    let victim = child(dir, name);
    if let Some((ino, _)) = victim {
        perm::may_delete(&attr(dir)?, &attr(&dir.at(ino))?, cred)?;
    }
    changed(dir, name, dir.fs().rmdir(dir.ino, name))?;
    if let Some((ino, Kind::Dir)) = victim {
        dir.mnt.sb.dir_removed(ino);
    }
    Ok(())
}

/// rename(2) inside one filesystem (the caller checked the mounts).
pub fn rename(cred: &Cred, od: &Node, on: &[u8], nd: &Node, nn: &[u8]) -> Result<(), Errno> {
    // A directory replaced by the rename: its cached names must go.
    let mut replaced_dir = None;
    if let Some((src, kind)) = child(od, on) {
        let src_attr = attr(&od.at(src))?;
        perm::may_delete(&attr(od)?, &src_attr, cred)?;
        let nd_attr = attr(nd)?;
        match child(nd, nn) {
            Some((dst, dkind)) if dst != src => {
                perm::may_delete(&nd_attr, &attr(&nd.at(dst))?, cred)?;
                replaced_dir = (dkind == Kind::Dir).then_some(dst);
            }
            Some(_) => {}
            None => perm::may_create(&nd_attr, cred)?,
        }
        if kind == Kind::Dir && od.ino != nd.ino {
            perm::permission(&src_attr, cred, Access::WRITE)?;
        }
    }
    let r = od.fs().rename(od.ino, on, nd.ino, nn);
    od.mnt.sb.name_changed(od.ino, on);
    nd.mnt.sb.name_changed(nd.ino, nn);
    r?;
    if let Some(d) = replaced_dir {
        nd.mnt.sb.dir_removed(d);
    }
    Ok(())
}

/// renameat2(RENAME_EXCHANGE) inside one filesystem: both names must be
/// deletable by `cred`, and a directory that changes parent writable.
pub fn exchange(cred: &Cred, od: &Node, on: &[u8], nd: &Node, nn: &[u8]) -> Result<(), Errno> {
    if let (Some((a, ak)), Some((b, bk))) = (child(od, on), child(nd, nn)) {
        let (aa, ba) = (attr(&od.at(a))?, attr(&nd.at(b))?);
        perm::may_delete(&attr(od)?, &aa, cred)?;
        perm::may_delete(&attr(nd)?, &ba, cred)?;
        if od.ino != nd.ino {
            if ak == Kind::Dir {
                perm::permission(&aa, cred, Access::WRITE)?;
            }
            if bk == Kind::Dir {
                perm::permission(&ba, cred, Access::WRITE)?;
            }
        }
    }
    let r = od.fs().exchange(od.ino, on, nd.ino, nn);
    od.mnt.sb.name_changed(od.ino, on);
    nd.mnt.sb.name_changed(nd.ino, nn);
    r
}

pub fn chmod(cred: &Cred, node: &Node, mode: u32) -> Result<(), Errno> {
    let mode = perm::chmod_mode(&attr(node)?, cred, mode)?;
    node.fs().chmod(node.ino, mode)
}

pub fn chown(cred: &Cred, node: &Node, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
    perm::may_chown(&attr(node)?, cred, uid, gid)?;
    node.fs().chown(node.ino, uid, gid)
}

/// utimensat(2); `explicit` unless both times are "now".
pub fn set_times(cred: &Cred, node: &Node, a: Option<Timespec>, m: Option<Timespec>, explicit: bool) -> Result<(), Errno> {
    perm::may_set_times(&attr(node)?, cred, explicit)?;
    node.fs().set_times(node.ino, a, m)
}

/// truncate(2) of a path: `EISDIR` for a directory, `EINVAL` for
/// anything but a regular file, `EACCES` without write permission.
pub fn truncate(cred: &Cred, node: &Node, len: u64) -> Result<(), Errno> {
    let a = attr(node)?;
    match a.kind() {
        Some(Kind::Dir) => return Err(EISDIR),
        Some(Kind::File) => {}
        _ => return Err(EINVAL),
    }
    perm::permission(&a, cred, Access::WRITE)?;
    remove_privs(node)?;
    node.fs().truncate(node.ino, len)
}

/// Before a write or truncation: a regular file loses set-user-ID, and
/// set-group-ID if group-executable, unless the caller holds
/// `CAP_FSETID` (Linux `file_remove_privs`). The credentials are fetched
/// only when there is such a bit.
pub fn remove_privs(node: &Node) -> Result<(), Errno> {
    if !node.fs().has_privs(node.ino) {
        return Ok(());
    }
    let a = attr(node)?;
    let kill = perm::privs_to_remove(&a);
    if kill != 0 && !caller().capable(Cap::Fsetid) {
        node.fs().chmod(node.ino, a.mode & 0o7777 & !kill)?;
    }
    Ok(())
}

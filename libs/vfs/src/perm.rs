//! Permission checks of the Linux VFS, as pure functions of an inode's
//! [`Attr`] and the caller's [`Cred`]:
//!
//! ```text
//!  permission      generic_permission: owner / group / other bits, with
//!                  CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH      -> EACCES
//!  may_search      x on a directory walked through (path.rs)     -> EACCES
//!  may_create      w+x on the parent (names, access.rs)          -> EACCES
//!  may_delete      w+x on the parent, then the sticky bit        -> EACCES, EPERM
//!  chmod_mode      owner or CAP_FOWNER; S_ISGID kept only for a
//!                  member of the file's group or CAP_FSETID      -> EPERM
//!  may_chown       chown_ok / chgrp_ok                           -> EPERM
//!  may_set_times   utimensat: explicit times need the owner      -> EPERM, EACCES
//!  privs_to_remove write/truncate by a non-root user drops S_ISUID/S_ISGID
//!  new_owner       inode_init_owner: fsuid, fsgid or the setgid
//!                  directory's group
//! ```
//!
//! File-system checks use the filesystem ids (`fsuid`, `fsgid`) and the
//! supplementary groups, never the effective ids directly; `access(2)`
//! passes a [`Cred`] whose filesystem ids are the real ones.

use cred::{Cap, Cred};
use linux_raw_sys::general as raw;

use crate::{Errno, Kind, Result, Stat};

/// What an access needs: any combination of read, write and execute
/// (search, for a directory).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Access {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Access {
    pub const READ: Self = Self {
        read: true,
        write: false,
        exec: false,
    };
    pub const WRITE: Self = Self {
        read: false,
        write: true,
        exec: false,
    };
    pub const EXEC: Self = Self {
        read: false,
        write: false,
        exec: true,
    };
    /// Write and search: what creating or removing a name needs of the
    /// directory.
    pub const WRITE_EXEC: Self = Self {
        read: false,
        write: true,
        exec: true,
    };

    /// From the `R_OK | W_OK | X_OK` bits of `access(2)` (4, 2, 1).
    pub fn from_rwx(bits: u32) -> Self {
        Self {
            read: bits & 4 != 0,
            write: bits & 2 != 0,
            exec: bits & 1 != 0,
        }
    }
}

/// The attributes permission checks look at: type and mode bits, owner,
/// group.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Attr {
    /// Full `st_mode`: `S_IFMT` type bits and the permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Attr {
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_mode(self.mode)
    }

    fn is_dir(&self) -> bool {
        self.kind() == Some(Kind::Dir)
    }
}

impl From<&Stat> for Attr {
    fn from(st: &Stat) -> Self {
        Self {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
        }
    }
}

const S_IXUGO: u32 = raw::S_IXUSR | raw::S_IXGRP | raw::S_IXOTH;

/// Whether `cred` may access an inode with attributes `attr` as `want`
/// says (Linux `generic_permission`); `EACCES` if not.
///
/// Exactly one class of bits applies: the owner's if `fsuid` owns the
/// file, else the group's if the caller is in the file's group, else the
/// others'. `CAP_DAC_OVERRIDE` (root) may read and write anything, and
/// execute a directory or a file with at least one execute bit set;
/// `CAP_DAC_READ_SEARCH` may read anything and search any directory.
pub fn permission(attr: &Attr, cred: &Cred, want: Access) -> Result<()> {
    let mode = attr.mode;
    let bits = if cred.fsuid == attr.uid {
        mode >> 6
    } else if cred.in_group(attr.gid) {
        mode >> 3
    } else {
        mode
    };
    let granted = (!want.read || bits & raw::S_IROTH != 0)
        && (!want.write || bits & raw::S_IWOTH != 0)
        && (!want.exec || bits & raw::S_IXOTH != 0);
    if granted {
        return Ok(());
    }
    if attr.is_dir() {
        if !want.write && cred.capable(Cap::DacReadSearch) {
            return Ok(());
        }
        if cred.capable(Cap::DacOverride) {
            return Ok(());
        }
        return Err(Errno::EACCES);
    }
    if (!want.exec || mode & S_IXUGO != 0) && cred.capable(Cap::DacOverride) {
        return Ok(());
    }
    if want == Access::READ && cred.capable(Cap::DacReadSearch) {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// Search permission on a directory that a path walks through
/// (`may_lookup`).
pub fn may_search(dir: &Attr, cred: &Cred) -> Result<()> {
    permission(dir, cred, Access::EXEC)
}

/// Whether `cred` owns the inode or holds `CAP_FOWNER`
/// (`inode_owner_or_capable`).
pub fn is_owner_or_capable(attr: &Attr, cred: &Cred) -> bool {
    cred.fsuid == attr.uid || cred.capable(Cap::Fowner)
}

/// Creating a name in `dir` (`may_create`): write and search on it.
pub fn may_create(dir: &Attr, cred: &Cred) -> Result<()> {
    permission(dir, cred, Access::WRITE_EXEC)
}

/// Removing (or renaming away) `victim` from `dir` (`may_delete`): write
/// and search on the directory (`EACCES`); in a sticky directory only the
/// owner of the file or of the directory, or `CAP_FOWNER`, may (`EPERM`).
pub fn may_delete(dir: &Attr, victim: &Attr, cred: &Cred) -> Result<()> {
    may_create(dir, cred)?;
    let sticky = dir.mode & raw::S_ISVTX != 0;
    if sticky
        && cred.fsuid != victim.uid
        && cred.fsuid != dir.uid
        && !cred.capable(Cap::Fowner)
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// The permission bits `chmod(2)` stores for a request of `mode`: `EPERM`
/// unless the caller owns the file (or has `CAP_FOWNER`). Set-group-ID is
/// dropped silently unless the caller is in the file's group or holds
/// `CAP_FSETID`.
pub fn chmod_mode(attr: &Attr, cred: &Cred, mode: u32) -> Result<u32> {
    if !is_owner_or_capable(attr, cred) {
        return Err(Errno::EPERM);
    }
    let mut mode = mode & 0o7777;
    if !cred.in_group(attr.gid) && !cred.capable(Cap::Fsetid) {
        mode &= !raw::S_ISGID;
    }
    Ok(mode)
}

/// `chown(2)` (`chown_ok`, `chgrp_ok`): only `CAP_CHOWN` changes the
/// owner (the owner may "change" it to itself); the owner may set the
/// group to one it belongs to. `None` leaves that id alone.
pub fn may_chown(attr: &Attr, cred: &Cred, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    let privileged = cred.capable(Cap::Chown);
    let is_owner = cred.fsuid == attr.uid;
    if let Some(uid) = uid
        && !privileged
        && !(is_owner && uid == attr.uid)
    {
        return Err(Errno::EPERM);
    }
    if let Some(gid) = gid
        && !privileged
        && !(is_owner && (gid == attr.gid || cred.in_group(gid)))
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// `utimensat(2)`: setting explicit times needs the owner or `CAP_FOWNER`
/// (`EPERM`); setting both to now (`times == NULL`) is also allowed to
/// anyone who may write the file (`EACCES` otherwise).
pub fn may_set_times(attr: &Attr, cred: &Cred, explicit: bool) -> Result<()> {
    if is_owner_or_capable(attr, cred) {
        return Ok(());
    }
    if explicit {
        return Err(Errno::EPERM);
    }
    permission(attr, cred, Access::WRITE)
}

/// The set-user-ID and set-group-ID bits a write or truncation clears
/// (`should_remove_suid`): S_ISUID always, S_ISGID only with S_IXGRP (without
/// it the bit marks mandatory locking), on regular files only.
pub fn privs_to_remove(attr: &Attr) -> u32 {
    if attr.kind() != Some(Kind::File) {
        return 0;
    }
    let mut kill = attr.mode & raw::S_ISUID;
    if attr.mode & (raw::S_ISGID | raw::S_IXGRP) == raw::S_ISGID | raw::S_IXGRP {
        kill |= raw::S_ISGID;
    }
    kill
}

/// Owner, group and permission bits of a new inode of type `kind` made in
/// `dir` with permission bits `mode` (Linux `inode_init_owner`): the
/// filesystem ids, or the directory's group if it is set-group-ID; a new
/// directory there inherits set-group-ID, and a new group-executable file
/// loses it unless the caller is in that group or has `CAP_FSETID`.
pub fn new_owner(dir: &Attr, cred: &Cred, kind: Kind, mode: u32) -> (u32, u32, u32) {
    let mut mode = mode & 0o7777;
    if dir.mode & raw::S_ISGID == 0 {
        return (cred.fsuid, cred.fsgid, mode);
    }
    if kind == Kind::Dir {
        mode |= raw::S_ISGID;
    } else if mode & (raw::S_ISGID | raw::S_IXGRP) == raw::S_ISGID | raw::S_IXGRP
        && !cred.in_group(dir.gid)
        && !cred.capable(Cap::Fsetid)
    {
        mode &= !raw::S_ISGID;
    }
    (cred.fsuid, dir.gid, mode)
}

//! [`permission`]: the owner/group/other check of Linux
//! `generic_permission`, with root's override.

use linux_raw_sys::general as raw;

use crate::{Kind, Stat};

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
}

/// Whether the user `uid`, in group `gid` and supplementary `groups`, may
/// access a file with attributes `stat` as `want` says.
///
/// Exactly one class of bits applies: the owner's if `uid` owns the file,
/// else the group's if the file's group is `gid` or in `groups`, else
/// the others'. Root (uid 0) may read and write anything, and execute a
/// directory or a file with at least one execute bit set
/// (`CAP_DAC_OVERRIDE`).
pub fn permission(stat: &Stat, uid: u32, gid: u32, groups: &[u32], want: Access) -> bool {
    let mode = stat.mode;
    if uid == 0 {
        let any_exec = mode & (raw::S_IXUSR | raw::S_IXGRP | raw::S_IXOTH) != 0;
        return !want.exec || any_exec || stat.kind() == Some(Kind::Dir);
    }
    let bits = if uid == stat.uid {
        mode >> 6
    } else if gid == stat.gid || groups.contains(&stat.gid) {
        mode >> 3
    } else {
        mode
    };
    (!want.read || bits & raw::S_IROTH != 0)
        && (!want.write || bits & raw::S_IWOTH != 0)
        && (!want.exec || bits & raw::S_IXOTH != 0)
}

//! Process credentials: the user and group ids Linux keeps per task, the
//! rules of the `set*id(2)` calls, and the one privilege check.
//!
//! ```text
//!  Cred { ruid euid suid fsuid   real, effective, saved, filesystem user id
//!         rgid egid sgid fsgid   the same for the group
//!         groups }               supplementary groups, sorted
//!
//!         cap_effective cap_permitted cap_inheritable   capability sets
//!
//!  who may do what:  Cred::capable(Cap::X): bit X of cap_effective
//! ```
//!
//! Root starts with every capability. The sets follow the user ids as
//! Linux's `cap_emulate_setxuid` and `cap_task_fix_setuid` (no securebits):
//! when none of the real, effective and saved ids is 0 any more the
//! permitted and effective sets are cleared; an effective id leaving 0
//! clears the effective set, coming back to 0 restores it from the
//! permitted one; `setfsuid` away from (back to) 0 drops (raises) the
//! file-system capabilities (`CAP_FS_MASK`). execve gives root the full
//! sets and everyone else none (no file capabilities, no ambient set);
//! capset(2) changes them within [`Cred::capset`]'s rules.
//!
//! Every `set*` method changes `self` only when it succeeds, and fails only
//! with [`Error::Perm`] (`EPERM`) or [`Error::Inval`] (`EINVAL`), as
//! `man 2 setuid`, `setreuid`, `setresuid`, `setfsuid`, `setgroups` and
//! the kernel's `kernel/sys.c` say. `u32::MAX` is `(uid_t)-1`: "leave this
//! id unchanged" where the call allows it, an invalid id elsewhere.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

/// `(uid_t)-1` / `(gid_t)-1`: "unchanged" for `setreuid` and friends.
pub const UNCHANGED: u32 = u32::MAX;

/// Most supplementary groups (`NGROUPS_MAX`).
pub const NGROUPS_MAX: usize = 65536;

/// Why a credential change was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// `EPERM`: an unprivileged caller asked for an id it does not hold.
    Perm,
    /// `EINVAL`: the id is not a valid one (`-1` where it is not "unchanged",
    /// too many groups).
    Inval,
}

/// The Linux capabilities Ferrite checks (`capabilities(7)`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cap {
    /// Change file owners and groups freely.
    Chown,
    /// Bypass read, write and execute permission checks.
    DacOverride,
    /// Bypass read checks on files and search/read checks on directories.
    DacReadSearch,
    /// Act as the owner of any file (chmod, utimes, sticky directories).
    Fowner,
    /// Keep set-user/group-ID bits when modifying a file.
    Fsetid,
    /// Send signals to any process.
    Kill,
    /// Set any group id and supplementary groups.
    Setgid,
    /// Set any user id.
    Setuid,
    /// Create device nodes.
    Mknod,
    /// chroot(2).
    SysChroot,
    /// mount, sethostname and the other administration calls.
    SysAdmin,
    /// reboot(2).
    SysBoot,
    /// Raise resource limits above the hard limit.
    SysResource,
    /// Set the system clock.
    SysTime,
    /// Scheduling of other users' processes (affinity, priority).
    SysNice,
}

impl Cap {
    /// The capability's number (`linux/capability.h`).
    pub fn number(self) -> u32 {
        match self {
            Cap::Chown => 0,
            Cap::DacOverride => 1,
            Cap::DacReadSearch => 2,
            Cap::Fowner => 3,
            Cap::Fsetid => 4,
            Cap::Kill => 5,
            Cap::Setgid => 6,
            Cap::Setuid => 7,
            Cap::SysChroot => 18,
            Cap::SysAdmin => 21,
            Cap::SysBoot => 22,
            Cap::SysNice => 23,
            Cap::SysResource => 24,
            Cap::SysTime => 25,
            Cap::Mknod => 27,
        }
    }

    /// Whether this capability belongs to `CAP_FS_MASK`, the set that
    /// follows `fsuid` rather than `euid`.
    pub fn is_fs(self) -> bool {
        matches!(
            self,
            Cap::Chown | Cap::DacOverride | Cap::DacReadSearch | Cap::Fowner | Cap::Fsetid | Cap::Mknod
        )
    }
}

/// Every capability Linux 6.1 knows (0 ..= CAP_LAST_CAP, 40).
pub const CAP_FULL: u64 = (1 << 41) - 1;
/// CAP_SETPCAP: capset may add any bounding-set capability to the
/// inheritable set.
const CAP_SETPCAP: u64 = 1 << 8;
/// `CAP_FS_MASK`: CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID,
/// LINUX_IMMUTABLE, MKNOD, MAC_OVERRIDE.
const CAP_FS_MASK: u64 = 0x1f | 1 << 9 | 1 << 27 | 1 << 32;

/// The three capability sets of capget(2)/capset(2), as bit masks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// One task's credentials.
///
/// # Invariants
///
/// `groups` is sorted, so membership is a binary search (`in_group_p`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Cred {
    pub ruid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    groups: Vec<u32>,
    caps: CapSets,
}

impl Default for Cred {
    fn default() -> Self {
        Self::root()
    }
}

impl Cred {
    /// Root with no supplementary groups: what init starts with.
    pub const fn root() -> Self {
        Self::user(0, 0)
    }

    /// All user ids `uid`, all group ids `gid`, no supplementary groups.
    pub const fn user(uid: u32, gid: u32) -> Self {
        let all = if uid == 0 { CAP_FULL } else { 0 };
        Self {
            caps: CapSets { effective: all, permitted: all, inheritable: 0 },
            ruid: uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            rgid: gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups: Vec::new(),
        }
    }

    /// Whether the caller holds capability `cap` (see the module docs).
    pub fn capable(&self, cap: Cap) -> bool {
        self.caps.effective & (1 << cap.number()) != 0
    }

    /// The capability sets (capget(2)).
    pub fn caps(&self) -> CapSets {
        self.caps
    }

    /// capset(2), Linux's `cap_capset`: the new permitted set within the
    /// old one, the effective within the new permitted, and the
    /// inheritable within the old inheritable and permitted sets (any
    /// capability with CAP_SETPCAP). Bits past CAP_LAST_CAP are ignored.
    pub fn capset(&mut self, new: CapSets) -> Result<(), Error> {
        let new = CapSets {
            effective: new.effective & CAP_FULL,
            permitted: new.permitted & CAP_FULL,
            inheritable: new.inheritable & CAP_FULL,
        };
        let old = self.caps;
        let inheritable_ok = if old.effective & CAP_SETPCAP != 0 { CAP_FULL } else { old.inheritable | old.permitted };
        if new.inheritable & !inheritable_ok != 0
            || new.permitted & !old.permitted != 0
            || new.effective & !new.permitted != 0
        {
            return Err(Error::Perm);
        }
        self.caps = new;
        Ok(())
    }

    /// `cap_emulate_setxuid`: the sets after a change of the user ids
    /// from `old` (real, effective, saved).
    fn fix_setuid(&mut self, old: (u32, u32, u32)) {
        let had_root = old.0 == 0 || old.1 == 0 || old.2 == 0;
        if had_root && self.ruid != 0 && self.euid != 0 && self.suid != 0 {
            self.caps.permitted = 0;
            self.caps.effective = 0;
        }
        if old.1 == 0 && self.euid != 0 {
            self.caps.effective = 0;
        }
        if old.1 != 0 && self.euid == 0 {
            self.caps.effective = self.caps.permitted;
        }
    }

    fn uids(&self) -> (u32, u32, u32) {
        (self.ruid, self.euid, self.suid)
    }

    /// These credentials with the filesystem ids set to the real ones:
    /// what `access(2)` checks with (Linux `access_override_creds`).
    pub fn with_real_fs_ids(&self) -> Self {
        // access_override_creds: root's permitted set, else nothing.
        let effective = if self.ruid == 0 { self.caps.permitted } else { 0 };
        Self {
            fsuid: self.ruid,
            fsgid: self.rgid,
            caps: CapSets { effective, ..self.caps },
            ..self.clone()
        }
    }

    /// What execve(2) does to the ids of a program without set-user-ID or
    /// set-group-ID bits: the saved and filesystem ids become the
    /// effective ones (Linux `cap_bprm_creds_from_file`).
    pub fn exec(&mut self) {
        self.suid = self.euid;
        self.fsuid = self.euid;
        self.sgid = self.egid;
        self.fsgid = self.egid;
        // cap_bprm_creds_from_file without file capabilities: root gets
        // the inheritable and bounding (full) sets, effective only as
        // effective root; others keep nothing (no ambient set).
        let is_root = self.euid == 0 || self.ruid == 0;
        self.caps.permitted = if is_root { CAP_FULL } else { 0 };
        self.caps.effective = if self.euid == 0 { self.caps.permitted } else { 0 };
    }

    /// `AT_SECURE` for a program started with these credentials: its
    /// effective ids differ from the real ones.
    pub fn is_secure_exec(&self) -> bool {
        self.euid != self.ruid || self.egid != self.rgid
    }

    /// The supplementary groups, sorted.
    pub fn groups(&self) -> &[u32] {
        &self.groups
    }

    /// Whether `gid` is the filesystem group id or a supplementary group
    /// (Linux `in_group_p`, used by permission checks).
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.binary_search(&gid).is_ok()
    }

    /// Whether `gid` is the effective group id or a supplementary group
    /// (Linux `in_egroup_p`).
    pub fn in_egroup(&self, gid: u32) -> bool {
        self.egid == gid || self.groups.binary_search(&gid).is_ok()
    }

    /// setuid(2): with `CAP_SETUID` all four user ids become `uid`;
    /// otherwise only the effective (and filesystem) id, and only to the
    /// real or saved one.
    pub fn setuid(&mut self, uid: u32) -> Result<(), Error> {
        if uid == UNCHANGED {
            return Err(Error::Inval);
        }
        let old = self.uids();
        if self.capable(Cap::Setuid) {
            self.ruid = uid;
            self.suid = uid;
        } else if uid != self.ruid && uid != self.suid {
            return Err(Error::Perm);
        }
        self.euid = uid;
        self.fsuid = uid;
        self.fix_setuid(old);
        Ok(())
    }

    /// setreuid(2): `-1` leaves an id alone. Unprivileged, the real id may
    /// become the real or effective one, the effective id the real,
    /// effective or saved one. The saved id becomes the new effective id
    /// when the real id is set, or the effective id is set to something
    /// other than the old real id.
    pub fn setreuid(&mut self, ruid: u32, euid: u32) -> Result<(), Error> {
        let privileged = self.capable(Cap::Setuid);
        let old = (self.ruid, self.euid, self.suid);
        if ruid != UNCHANGED && !privileged && ruid != old.0 && ruid != old.1 {
            return Err(Error::Perm);
        }
        if euid != UNCHANGED && !privileged && euid != old.0 && euid != old.1 && euid != old.2 {
            return Err(Error::Perm);
        }
        if ruid != UNCHANGED {
            self.ruid = ruid;
        }
        if euid != UNCHANGED {
            self.euid = euid;
        }
        if ruid != UNCHANGED || (euid != UNCHANGED && euid != old.0) {
            self.suid = self.euid;
        }
        self.fsuid = self.euid;
        self.fix_setuid(old);
        Ok(())
    }

    /// setresuid(2): `-1` leaves an id alone; unprivileged, each new id
    /// must be one of the current real, effective and saved ids.
    pub fn setresuid(&mut self, ruid: u32, euid: u32, suid: u32) -> Result<(), Error> {
        let held = [self.ruid, self.euid, self.suid];
        if !self.capable(Cap::Setuid)
            && [ruid, euid, suid].iter().any(|&id| id != UNCHANGED && !held.contains(&id))
        {
            return Err(Error::Perm);
        }
        let old = self.uids();
        set_if(&mut self.ruid, ruid);
        set_if(&mut self.euid, euid);
        set_if(&mut self.suid, suid);
        self.fsuid = self.euid;
        self.fix_setuid(old);
        Ok(())
    }

    /// setfsuid(2): returns the previous filesystem user id, always. The id
    /// changes if the caller has `CAP_SETUID` or `fsuid` is its real,
    /// effective, saved or current filesystem id; `-1` changes nothing.
    pub fn setfsuid(&mut self, fsuid: u32) -> u32 {
        let old = self.fsuid;
        if fsuid != UNCHANGED
            && (self.capable(Cap::Setuid) || [self.ruid, self.euid, self.suid, self.fsuid].contains(&fsuid))
        {
            self.fsuid = fsuid;
            if old == 0 && fsuid != 0 {
                self.caps.effective &= !CAP_FS_MASK;
            } else if old != 0 && fsuid == 0 {
                self.caps.effective |= self.caps.permitted & CAP_FS_MASK;
            }
        }
        old
    }

    /// setgid(2): as [`setuid`](Self::setuid), for the group ids and
    /// `CAP_SETGID`.
    pub fn setgid(&mut self, gid: u32) -> Result<(), Error> {
        if gid == UNCHANGED {
            return Err(Error::Inval);
        }
        if self.capable(Cap::Setgid) {
            self.rgid = gid;
            self.sgid = gid;
        } else if gid != self.rgid && gid != self.sgid {
            return Err(Error::Perm);
        }
        self.egid = gid;
        self.fsgid = gid;
        Ok(())
    }

    /// setregid(2): as [`setreuid`](Self::setreuid), for the group ids.
    pub fn setregid(&mut self, rgid: u32, egid: u32) -> Result<(), Error> {
        let privileged = self.capable(Cap::Setgid);
        let old = (self.rgid, self.egid, self.sgid);
        if rgid != UNCHANGED && !privileged && rgid != old.0 && rgid != old.1 {
            return Err(Error::Perm);
        }
        if egid != UNCHANGED && !privileged && egid != old.0 && egid != old.1 && egid != old.2 {
            return Err(Error::Perm);
        }
        if rgid != UNCHANGED {
            self.rgid = rgid;
        }
        if egid != UNCHANGED {
            self.egid = egid;
        }
        if rgid != UNCHANGED || (egid != UNCHANGED && egid != old.0) {
            self.sgid = self.egid;
        }
        self.fsgid = self.egid;
        Ok(())
    }

    /// setresgid(2): as [`setresuid`](Self::setresuid), for the group ids.
    pub fn setresgid(&mut self, rgid: u32, egid: u32, sgid: u32) -> Result<(), Error> {
        let held = [self.rgid, self.egid, self.sgid];
        if !self.capable(Cap::Setgid)
            && [rgid, egid, sgid].iter().any(|&id| id != UNCHANGED && !held.contains(&id))
        {
            return Err(Error::Perm);
        }
        set_if(&mut self.rgid, rgid);
        set_if(&mut self.egid, egid);
        set_if(&mut self.sgid, sgid);
        self.fsgid = self.egid;
        Ok(())
    }

    /// setfsgid(2): as [`setfsuid`](Self::setfsuid), for the group.
    pub fn setfsgid(&mut self, fsgid: u32) -> u32 {
        let old = self.fsgid;
        if fsgid != UNCHANGED
            && (self.capable(Cap::Setgid) || [self.rgid, self.egid, self.sgid, self.fsgid].contains(&fsgid))
        {
            self.fsgid = fsgid;
        }
        old
    }

    /// setgroups(2): needs `CAP_SETGID` (`EPERM`, checked first), at most
    /// [`NGROUPS_MAX`] groups (`EINVAL`). Linux keeps them sorted (with
    /// any duplicates), and getgroups lists them in that order.
    pub fn setgroups(&mut self, groups: &[u32]) -> Result<(), Error> {
        if !self.capable(Cap::Setgid) {
            return Err(Error::Perm);
        }
        if groups.len() > NGROUPS_MAX {
            return Err(Error::Inval);
        }
        let mut g = groups.to_vec();
        g.sort_unstable();
        // INVARIANT: sorted.
        self.groups = g;
        Ok(())
    }
}

fn set_if(id: &mut u32, new: u32) {
    if new != UNCHANGED {
        *id = new;
    }
}

#[cfg(test)]
mod tests;

//! User and group id calls: get*id, set*id, setfs*id, get/setgroups,
//! capget/capset.
//! The rules live in `libs/cred`; this file moves ids between user
//! memory and the process's credentials.

use alloc::vec::Vec;

use cred::{Cap, Cred};

use crate::errno::{EINVAL, EPERM, Errno, SysResult};
use crate::process::current;
use crate::uaccess;

fn map(e: cred::Error) -> Errno {
    match e {
        cred::Error::Perm => EPERM,
        cred::Error::Inval => EINVAL,
    }
}

/// Applies `f` to the caller's credentials; 0 or its error.
fn change(f: impl FnOnce(&mut Cred) -> Result<(), cred::Error>) -> SysResult {
    current().process.update_cred(f).map_err(map)?;
    Ok(0)
}

/// getuid, geteuid, getgid, getegid: one id of the caller.
pub fn get_id(pick: fn(&Cred) -> u32) -> SysResult {
    Ok(pick(&current().process.cred()) as usize)
}

pub fn getresuid(r: u64, e: u64, s: u64) -> SysResult {
    let c = current().process.cred();
    write_three(r, e, s, [c.ruid, c.euid, c.suid])
}

pub fn getresgid(r: u64, e: u64, s: u64) -> SysResult {
    let c = current().process.cred();
    write_three(r, e, s, [c.rgid, c.egid, c.sgid])
}

fn write_three(a: u64, b: u64, c: u64, ids: [u32; 3]) -> SysResult {
    for (p, id) in [a, b, c].into_iter().zip(ids) {
        uaccess::write_u32(p, id)?;
    }
    Ok(0)
}

pub fn setuid(uid: u32) -> SysResult {
    change(|c| c.setuid(uid))
}

pub fn setgid(gid: u32) -> SysResult {
    change(|c| c.setgid(gid))
}

pub fn setreuid(ruid: u32, euid: u32) -> SysResult {
    change(|c| c.setreuid(ruid, euid))
}

pub fn setregid(rgid: u32, egid: u32) -> SysResult {
    change(|c| c.setregid(rgid, egid))
}

pub fn setresuid(ruid: u32, euid: u32, suid: u32) -> SysResult {
    change(|c| c.setresuid(ruid, euid, suid))
}

pub fn setresgid(rgid: u32, egid: u32, sgid: u32) -> SysResult {
    change(|c| c.setresgid(rgid, egid, sgid))
}

/// setfsuid(2): never fails; returns the previous filesystem uid.
pub fn setfsuid(fsuid: u32) -> SysResult {
    let old = current().process.update_cred(|c| Ok::<_, ()>(c.setfsuid(fsuid))).unwrap_or(0);
    Ok(old as usize)
}

/// setfsgid(2): never fails; returns the previous filesystem gid.
pub fn setfsgid(fsgid: u32) -> SysResult {
    let old = current().process.update_cred(|c| Ok::<_, ()>(c.setfsgid(fsgid))).unwrap_or(0);
    Ok(old as usize)
}

/// getgroups(2): with `size` 0 only the count; `EINVAL` if `size` is
/// negative or smaller than the count.
pub fn getgroups(size: i32, list: u64) -> SysResult {
    let size = usize::try_from(size).map_err(|_| EINVAL)?;
    let c = current().process.cred();
    let groups = c.groups();
    if size != 0 {
        if groups.len() > size {
            return Err(EINVAL);
        }
        let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
        uaccess::write_bytes(list, &bytes)?;
    }
    Ok(groups.len())
}

/// setgroups(2): `EPERM` without `CAP_SETGID` (checked first, as Linux),
/// `EINVAL` for a size outside 0..=NGROUPS_MAX, `EFAULT` for a bad list.
pub fn setgroups(size: i32, list: u64) -> SysResult {
    if !current().process.cred().capable(Cap::Setgid) {
        return Err(EPERM);
    }
    let size = usize::try_from(size).ok().filter(|&n| n <= cred::NGROUPS_MAX).ok_or(EINVAL)?;
    let raw = if size == 0 { Vec::new() } else { uaccess::read_bytes(list, size * 4)? };
    let groups: Vec<u32> =
        raw.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    change(|c| c.setgroups(&groups))
}

/// Whether the caller holds `cap` (the one privilege check of the Linux
/// layer; see `libs/cred`).
pub fn capable(cap: Cap) -> bool {
    current().process.cred().capable(cap)
}

const CAP_V1: u32 = 0x1998_0330;
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;

/// cap_validate_magic: the number of 32-bit words per set that `version`
/// moves (1 or 2). An unknown version gets V3 written back and EINVAL.
fn cap_words(header: u64) -> Result<usize, Errno> {
    match uaccess::read_u32(header)? {
        CAP_V1 => Ok(1),
        CAP_V2 | CAP_V3 => Ok(2),
        _ => {
            uaccess::write_u32(header, CAP_V3)?;
            Err(EINVAL)
        }
    }
}

/// capget(2): the effective, permitted and inheritable sets of thread
/// `pid` (0: the caller) as `words` `{effective, permitted, inheritable}`
/// records. A null `data` with an unknown version is how libcap asks for
/// the preferred version: 0.
pub fn capget(header: u64, data: u64) -> SysResult {
    let words = cap_words(header);
    if data == 0 {
        return match words {
            Err(e) if e != EINVAL => Err(e),
            _ => Ok(0),
        };
    }
    let words = words?;
    let pid = uaccess::read_u32(header + 4)? as i32;
    if pid < 0 {
        return Err(EINVAL);
    }
    let caps = if pid == 0 {
        current().process.cred().caps()
    } else {
        super::proc::thread_by_tid(pid as u32).ok_or(crate::errno::ESRCH)?.process.cred().caps()
    };
    let mut o = uaccess::Out::new(12 * words);
    for w in 0..words {
        let part = |set: u64| (set >> (32 * w)) as u32;
        o.u32(12 * w, part(caps.effective)).u32(12 * w + 4, part(caps.permitted)).u32(12 * w + 8, part(caps.inheritable));
    }
    o.write_to(data)?;
    Ok(0)
}

/// capset(2): only the caller's own sets (pid 0 or its tid; EPERM
/// otherwise), by the rules of `Cred::capset`. A V1 header sets the low
/// 32 capabilities and clears the others.
pub fn capset(header: u64, data: u64) -> SysResult {
    let words = cap_words(header)?;
    let pid = uaccess::read_u32(header + 4)? as i32;
    let me = current();
    if pid != 0 && pid as u32 != me.tid() {
        return Err(EPERM);
    }
    let raw = uaccess::read_bytes(data, 12 * words)?;
    let word = |o: usize| u64::from(u32::from_le_bytes([raw[o], raw[o + 1], raw[o + 2], raw[o + 3]]));
    let mut new = cred::CapSets::default();
    for w in 0..words {
        new.effective |= word(12 * w) << (32 * w);
        new.permitted |= word(12 * w + 4) << (32 * w);
        new.inheritable |= word(12 * w + 8) << (32 * w);
    }
    change(|c| c.capset(new))
}

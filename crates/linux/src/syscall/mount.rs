//! mount(2) and umount2(2).

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as raw;

use crate::errno::{EINVAL, ENODEV, EPERM, Errno, SysResult};
use crate::fs::{self, Super};
use crate::process::current;
use crate::uaccess;

const MS_MGC_MSK: u64 = 0xffff_0000;
const MS_MGC_VAL: u64 = 0xc0ed_0000;
/// Propagation-type changes, accepted and ignored (one namespace, no peers).
const PROPAGATION: u32 = raw::MS_SHARED | raw::MS_PRIVATE | raw::MS_SLAVE | raw::MS_UNBINDABLE;
/// Flags that only tune how the call behaves.
const IGNORED: u32 = raw::MS_SILENT | raw::MS_REC | raw::MS_LAZYTIME | raw::MS_SYNCHRONOUS | raw::MS_DIRSYNC | raw::MS_MANDLOCK | raw::MS_STRICTATIME | raw::MS_NODIRATIME;

fn require_sys_admin() -> Result<(), Errno> {
    if crate::process::has_sys_admin(&current().process) { Ok(()) } else { Err(EPERM) }
}

fn opt_str(p: u64, max: usize) -> Result<Vec<u8>, Errno> {
    if p == 0 { Ok(Vec::new()) } else { uaccess::read_cstr(p, max) }
}

/// A new filesystem instance of type `fstype`: `ENODEV` if unknown.
fn new_super(fstype: &[u8], options: &[u8]) -> Result<Arc<Super>, Errno> {
    match fstype {
        b"tmpfs" => fs::tmpfs::new_tmpfs(options),
        b"proc" => Ok(fs::procfs::new_procfs()),
        b"sysfs" => Ok(fs::tmpfs::new_sysfs()),
        b"devtmpfs" => Ok(fs::tmpfs::devtmpfs()),
        b"devpts" => fs::devpts::devpts(options),
        _ => Err(ENODEV),
    }
}

/// mount(2): new tmpfs, proc, sysfs, devtmpfs and devpts mounts, `MS_REMOUNT`,
/// `MS_BIND`; propagation changes are accepted.
pub fn mount(source: u64, target: u64, fstype: u64, flags: u64, data: u64) -> SysResult {
    let flags = if flags & MS_MGC_MSK == MS_MGC_VAL { flags & !MS_MGC_MSK } else { flags };
    let flags = u32::try_from(flags).map_err(|_| EINVAL)?;
    let target = uaccess::read_cstr(target, 4096)?;
    require_sys_admin()?;
    let cwd = current().process.cwd.lock().clone();
    let node = fs::resolve(&current().process.cred(), &cwd, &target, true)?;
    drop(cwd);
    // relatime unless noatime or strictatime is asked for (Linux's default).
    let flags = if flags & (raw::MS_NOATIME | raw::MS_STRICTATIME) == 0 { flags | raw::MS_RELATIME } else { flags };
    let flags = flags & !IGNORED;
    if flags & raw::MS_REMOUNT != 0 {
        let options = opt_str(data, 4096)?;
        fs::remount(&node, flags, &options)?;
        return Ok(0);
    }
    if flags & PROPAGATION != 0 {
        // Only propagation bits (and MS_REC) may come together.
        if flags & !(PROPAGATION | fs::MNT_FLAGS) != 0 {
            return Err(EINVAL);
        }
        return Ok(0);
    }
    if flags & raw::MS_MOVE != 0 {
        return Err(EINVAL);
    }
    if flags & raw::MS_BIND != 0 {
        let src = uaccess::read_cstr(source, 4096)?;
        let cwd = current().process.cwd.lock().clone();
        let from = fs::resolve(&current().process.cred(), &cwd, &src, true)?;
        fs::mount(&node, from.mnt.sb.clone(), from.ino, flags, &from.mnt.source.clone().into_bytes())?;
        return Ok(0);
    }
    if flags & !fs::MNT_FLAGS != 0 {
        return Err(EINVAL);
    }
    let fstype = uaccess::read_cstr(fstype, 256)?;
    let source = if source == 0 { b"none".to_vec() } else { uaccess::read_cstr(source, 4096)? };
    let options = opt_str(data, 4096)?;
    let sb = new_super(&fstype, &options)?;
    let root = sb.fs.root();
    fs::mount(&node, sb, root, flags, &source)?;
    Ok(0)
}

/// umount2(2): `MNT_DETACH` takes the mount out even while busy;
/// `MNT_FORCE` and `MNT_EXPIRE` act like a plain umount.
pub fn umount2(target: u64, flags: u32) -> SysResult {
    const MNT_FORCE: u32 = 1;
    const MNT_DETACH: u32 = 2;
    const MNT_EXPIRE: u32 = 4;
    const UMOUNT_NOFOLLOW: u32 = 8;
    if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0
        || (flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0)
    {
        return Err(EINVAL);
    }
    let target = uaccess::read_cstr(target, 4096)?;
    require_sys_admin()?;
    let cwd = current().process.cwd.lock().clone();
    let node = fs::resolve(&current().process.cred(), &cwd, &target, flags & UMOUNT_NOFOLLOW == 0)?;
    drop(cwd);
    fs::umount(node, flags & MNT_DETACH != 0)?;
    Ok(0)
}

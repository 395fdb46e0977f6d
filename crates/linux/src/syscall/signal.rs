//! Signal waits and queued signals: rt_sigtimedwait(2), rt_sigqueueinfo(2),
//! rt_tgsigqueueinfo(2).
//!
//! Each pending signal keeps its siginfo (`signal::SigInfo`); real-time
//! signals queue, a standard one is pending once (as on Linux).

use crate::errno::{EAGAIN, EINTR, EINVAL, EPERM, ESRCH, SysResult};
use crate::process::{self, current};
use crate::signal::{self, SigInfo};
use crate::uaccess;

/// rt_sigtimedwait(2): takes the lowest pending signal of `set` (waiting
/// for one until `timeout`, forever if NULL) and returns its number;
/// EAGAIN when the timeout passes, EINTR when another signal is handled.
/// The calling thread's own signals come first, then its process's.
pub fn rt_sigtimedwait(set: u64, info: u64, timeout: u64, size: usize) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let unblockable = (1u64 << (signal::SIGKILL - 1)) | (1u64 << (signal::SIGSTOP - 1));
    let wanted = uaccess::read_u64(set)? & !unblockable;
    let deadline = if timeout == 0 {
        u64::MAX
    } else {
        kbase::time::uptime_ns().saturating_add(super::time::read_timespec(timeout)?)
    };
    let t = current();
    let mut got = signal::dequeue(&t, wanted);
    while got.is_none() {
        let now = kbase::time::uptime_ns();
        if now >= deadline {
            return Err(EAGAIN);
        }
        // Signals of `set` are usually blocked, so `has_pending` sees only
        // the others: a handled one ends the wait with EINTR.
        if signal::has_pending(&t) {
            return Err(EINTR);
        }
        kbase::task::sleep_until_or(deadline, || signal::pending_for(&t) & wanted != 0 || signal::has_pending(&t));
        got = signal::dequeue(&t, wanted);
    }
    let got = got.unwrap_or_default();
    if info != 0 {
        uaccess::write_bytes(info, &got.to_bytes())?;
    }
    Ok(got.signo as usize)
}

/// Reads the caller's siginfo for `sig` towards `id` (the pid or tid
/// argument): as Linux's do_rt_sigqueueinfo, a thread may not pretend to
/// be the kernel or kill(2) (si_code >= 0, or SI_TKILL) towards anyone
/// but itself (EPERM, checked before the target is looked up).
fn queued_info(id: i32, sig: i32, uinfo: u64) -> Result<SigInfo, crate::errno::Errno> {
    let raw = uaccess::read_bytes(uinfo, 128)?;
    check_code(id, SigInfo::from_user(sig, &raw))
}

fn check_code(id: i32, info: SigInfo) -> Result<SigInfo, crate::errno::Errno> {
    if (info.code >= 0 || info.code == signal::SI_TKILL) && u32::try_from(id).ok() != Some(current().tid()) {
        return Err(EPERM);
    }
    Ok(info)
}

/// rt_sigqueueinfo(2): `sig` to process `tgid` with the caller's siginfo.
/// EAGAIN when the real-time queue is full.
pub fn rt_sigqueueinfo(tgid: i32, sig: i32, uinfo: u64) -> SysResult {
    let info = queued_info(tgid, sig, uinfo)?;
    if sig != 0 {
        signal::check(sig)?;
    }
    let target = u32::try_from(tgid).ok().filter(|&p| p > 0).and_then(process::lookup).filter(|p| !p.is_zombie()).ok_or(ESRCH)?;
    if !super::proc::may_signal(&current().process, &target, sig) {
        return Err(EPERM);
    }
    if sig != 0 && !signal::send_info(&target, info) && sig >= signal::SIGRTMIN {
        return Err(EAGAIN);
    }
    Ok(0)
}

/// rt_tgsigqueueinfo(2): the same towards thread `tid` of group `tgid`.
pub fn rt_tgsigqueueinfo(tgid: i32, tid: i32, sig: i32, uinfo: u64) -> SysResult {
    let raw = uaccess::read_bytes(uinfo, 128)?;
    if tgid <= 0 || tid <= 0 {
        return Err(EINVAL);
    }
    let info = check_code(tid, SigInfo::from_user(sig, &raw))?;
    if sig != 0 {
        signal::check(sig)?;
    }
    let target = process::lookup(tgid as u32).filter(|p| !p.is_zombie()).ok_or(ESRCH)?;
    let t = target.threads().into_iter().find(|t| t.tid() == tid as u32).ok_or(ESRCH)?;
    if !super::proc::may_signal(&current().process, &target, sig) {
        return Err(EPERM);
    }
    if sig != 0 && !signal::send_thread(&t, info) && sig >= signal::SIGRTMIN {
        return Err(EAGAIN);
    }
    Ok(0)
}

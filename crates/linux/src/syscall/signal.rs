//! Signal waits and queued signals: rt_sigtimedwait(2), rt_sigqueueinfo(2).
//!
//! Pending signals are one bit each per process (no queue of siginfo
//! records yet), so a dequeued signal reports `si_code` SI_USER and no
//! sender; TODO(#3): per-signal siginfo queues for real-time signals.

use core::sync::atomic::Ordering;

use crate::errno::{EAGAIN, EINTR, EINVAL, EPERM, ESRCH, SysResult};
use crate::process::{self, current};
use crate::signal;
use crate::uaccess::{self, Out};

/// rt_sigtimedwait(2): takes the lowest pending signal of `set` (waiting
/// for one until `timeout`, forever if NULL) and returns its number;
/// EAGAIN when the timeout passes, EINTR when another signal is handled.
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
    let take = || -> Option<i32> {
        loop {
            let pending = t.process.pending.load(Ordering::Acquire) & wanted;
            if pending == 0 {
                return None;
            }
            let sig = pending.trailing_zeros() as i32 + 1;
            let bit = 1u64 << (sig - 1);
            if t.process.pending.fetch_and(!bit, Ordering::AcqRel) & bit != 0 {
                return Some(sig);
            }
        }
    };
    let mut got = take();
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
        kbase::task::sleep_until_or(deadline, || t.process.pending.load(Ordering::Acquire) & wanted != 0 || signal::has_pending(&t));
        got = take();
    }
    let sig = got.unwrap_or(0);
    if info != 0 {
        let mut o = Out::new(128);
        o.u32(0, sig as u32);
        o.write_to(info)?;
    }
    Ok(sig as usize)
}

/// rt_sigqueueinfo(2): `sig` to process `tgid` with the caller's siginfo.
/// As on Linux, a process may not pretend to be the kernel or kill(2)
/// (si_code >= 0, or SI_TKILL) towards another process (EPERM).
pub fn rt_sigqueueinfo(tgid: i32, sig: i32, uinfo: u64) -> SysResult {
    const SI_TKILL: i32 = -6;
    if sig != 0 {
        signal::check(sig)?;
    }
    let info = uaccess::read_bytes(uinfo, 128)?;
    let code = i32::from_le_bytes([info[8], info[9], info[10], info[11]]);
    let me = current().process.clone();
    let target = u32::try_from(tgid).ok().filter(|&p| p > 0).and_then(process::lookup).filter(|p| !p.is_zombie()).ok_or(ESRCH)?;
    if (code >= 0 || code == SI_TKILL) && target.pid != me.pid {
        return Err(EPERM);
    }
    if !super::proc::may_signal(&me, &target, sig) {
        return Err(EPERM);
    }
    if sig != 0 {
        signal::send(&target, sig);
    }
    Ok(0)
}

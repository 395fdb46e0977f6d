//! wait4(2) and waitid(2): one search of the caller's children, two ABIs.
//!
//! A child is reported once for each event a caller asked for: its exit
//! (the zombie is reaped unless WNOWAIT), a stop (WUNTRACED / WSTOPPED) or
//! a continue (WCONTINUED). The search runs under the children lock and
//! sleeps on `child_exited`, which every exit, stop and continue wakes.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use crate::acct;
use crate::errno::{ECHILD, EINTR, EINVAL, Errno, SysResult};
use crate::process::{self, Process, current};
use crate::signal;
use crate::uaccess::{self, Out};

const WNOHANG: i32 = 1;
const WUNTRACED: i32 = 2; // WSTOPPED for waitid
const WEXITED: i32 = 4;
const WCONTINUED: i32 = 8;
const WNOWAIT: i32 = 0x0100_0000;
const WNOTHREAD: i32 = 0x2000_0000;
const WALL: i32 = 0x4000_0000;
const WCLONE: i32 = 0x8000_0000u32 as i32;

/// Which children a wait is about.
#[derive(Clone, Copy)]
enum Which {
    Any,
    Pid(u32),
    Group(u32),
}

/// One reported event: the child and its wait status (Linux encoding).
/// Holds the child (a reaped one is dropped with the event, after the
/// wait, never under the children lock).
struct Event {
    pid: u32,
    uid: u32,
    status: i32,
    child: Arc<Process>,
}

fn matches(which: Which, c: &Process) -> bool {
    match which {
        Which::Any => true,
        Which::Pid(p) => c.pid == p,
        Which::Group(g) => c.pgid.load(Ordering::Relaxed) == g,
    }
}

/// The search both calls share; `Ok(None)` is WNOHANG with nothing ready.
fn wait_event(which: Which, options: i32) -> Result<Option<Event>, Errno> {
    let t = current();
    let me = t.process.clone();
    me.child_exited.wait_until(|| {
        let mut kids = me.children.lock();
        let interrupted = signal::has_pending(&t);
        if !kids.iter().any(|c| matches(which, c)) {
            return Some(Err(ECHILD));
        }
        if options & WEXITED != 0 {
            if let Some(i) = kids.iter().position(|c| matches(which, c) && c.is_zombie()) {
                let c = &kids[i];
                let (pid, uid, status) = (c.pid, c.cred().ruid, c.exit_status.lock().unwrap_or(0));
                let child = if options & WNOWAIT == 0 {
                    let c = kids.remove(i);
                    process::forget(c.pid);
                    // Under the children lock: a concurrent
                    // getrusage(RUSAGE_CHILDREN) sees the child or its times.
                    acct::reaped(&me, &c);
                    c
                } else {
                    c.clone()
                };
                return Some(Ok(Some(Event { pid, uid, status, child })));
            }
        }
        // A stop or continue not yet reported.
        for c in kids.iter().filter(|c| matches(which, c)) {
            let report = c.wait_report.load(Ordering::Acquire);
            let wanted = (report & 0xff == 0x7f && options & WUNTRACED != 0)
                || (report == signal::WAIT_CONTINUED && options & WCONTINUED != 0);
            if wanted && (options & WNOWAIT != 0 || c.wait_report.compare_exchange(report, 0, Ordering::AcqRel, Ordering::Acquire).is_ok()) {
                return Some(Ok(Some(Event { pid: c.pid, uid: c.cred().ruid, status: report, child: c.clone() })));
            }
        }
        if options & WNOHANG != 0 {
            return Some(Ok(None));
        }
        interrupted.then_some(Err(EINTR))
    })
}

/// The rusage argument of wait4 and waitid: the reported child's own
/// usage and its children's (Linux's RUSAGE_BOTH), written only when a
/// child was reported.
fn write_child_rusage(rusage: u64, ev: Option<&Event>) -> Result<(), Errno> {
    match ev {
        Some(e) if rusage != 0 => {
            let mut u = acct::both_usage(&e.child);
            // A stopped or continued child still has its memory.
            u.maxrss_pages = u.maxrss_pages.max(acct::vm_peak_pages(&e.child));
            acct::write_rusage(rusage, &u)
        }
        _ => Ok(()),
    }
}

/// wait4(2).
pub fn wait4(pid: i32, status: u64, options: i32, rusage: u64) -> SysResult {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        return Err(EINVAL);
    }
    let which = match pid {
        -1 => Which::Any,
        0 => Which::Group(current().process.pgid.load(Ordering::Relaxed)),
        p if p > 0 => Which::Pid(p as u32),
        p => Which::Group(p.unsigned_abs()),
    };
    let ev = wait_event(which, options | WEXITED)?;
    let cpid = ev.as_ref().map_or(0, |e| e.pid);
    if let (Some(e), true) = (&ev, status != 0) {
        uaccess::write_u32(status, e.status as u32)?;
    }
    write_child_rusage(rusage, ev.as_ref())?;
    Ok(cpid as usize)
}

/// waitid(2): `idtype` P_ALL, P_PID or P_PGID; the result as a siginfo.
pub fn waitid(idtype: u32, id: u32, infop: u64, options: i32, rusage: u64) -> SysResult {
    const P_ALL: u32 = 0;
    const P_PID: u32 = 1;
    const P_PGID: u32 = 2;
    if options & !(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD) != 0
        || options & (WEXITED | WUNTRACED | WCONTINUED) == 0
    {
        return Err(EINVAL);
    }
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 && id <= i32::MAX as u32 => Which::Pid(id),
        P_PGID if id == 0 => Which::Group(current().process.pgid.load(Ordering::Relaxed)),
        P_PGID if id <= i32::MAX as u32 => Which::Group(id),
        _ => return Err(EINVAL), // P_PIDFD and bad ids
    };
    let ev = wait_event(which, options)?;
    write_child_rusage(rusage, ev.as_ref())?;
    if infop != 0 {
        // siginfo_t for SIGCHLD: si_signo, si_errno, si_code, then
        // si_pid (16), si_uid (20), si_status (24). Nothing ready under
        // WNOHANG: all zero, as Linux leaves it.
        let mut o = Out::new(128);
        if let Some(e) = &ev {
            let (code, st) = siginfo_code(e.status);
            o.u32(0, signal::SIGCHLD as u32).u32(8, code as u32).u32(16, e.pid).u32(20, e.uid).u32(24, st as u32);
        }
        o.write_to(infop)?;
    }
    Ok(0)
}

/// A wait status as (si_code, si_status) of a SIGCHLD siginfo.
fn siginfo_code(status: i32) -> (i32, i32) {
    const CLD_EXITED: i32 = 1;
    const CLD_KILLED: i32 = 2;
    const CLD_DUMPED: i32 = 3;
    const CLD_STOPPED: i32 = 5;
    const CLD_CONTINUED: i32 = 6;
    if status == signal::WAIT_CONTINUED {
        (CLD_CONTINUED, signal::SIGCONT)
    } else if status & 0xff == 0x7f {
        (CLD_STOPPED, (status >> 8) & 0xff)
    } else if status & 0x7f == 0 {
        (CLD_EXITED, (status >> 8) & 0xff)
    } else if status & 0x80 != 0 {
        (CLD_DUMPED, status & 0x7f)
    } else {
        (CLD_KILLED, status & 0x7f)
    }
}

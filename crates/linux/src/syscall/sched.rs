//! Scheduling attributes: getpriority(2)/setpriority(2) (nice values),
//! the sched_*scheduler/param/priority_*/rr_get_interval calls and
//! ioprio_get(2)/ioprio_set(2).
//!
//! Each thread keeps its own [`Sched`] (nice, policy, real-time priority),
//! as Linux keeps them per task; a new thread or process copies its
//! creator's (`ChildSetup::sched`, reset by SCHED_RESET_ON_FORK). The
//! rules are `kernel/sys.c` (set_one_prio) and `kernel/sched/core.c`
//! (__sched_setscheduler).
//!
//! partial: the scheduler itself treats every thread alike (one round-robin
//! class, 20 ms slices): nice values and SCHED_FIFO/RR are recorded and
//! reported (here and in /proc/[pid]/stat), not acted on; so are I/O
//! priorities (there is no block I/O scheduler).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use linux_raw_sys::general as g;

use crate::errno::{EACCES, EINVAL, EPERM, ESRCH, Errno, SysResult};
use crate::process::{self, Sched, Thread, current};
use crate::uaccess::{self, Out};

const PRIO_PROCESS: i32 = 0;
const PRIO_PGRP: i32 = 1;
const PRIO_USER: i32 = 2;
const MIN_NICE: i32 = -20;
const MAX_NICE: i32 = 19;

pub const SCHED_OTHER: u32 = 0;
const SCHED_FIFO: u32 = 1;
const SCHED_RR: u32 = 2;
const SCHED_BATCH: u32 = 3;
const SCHED_IDLE: u32 = 5;
const SCHED_DEADLINE: u32 = 6;
const SCHED_RESET_ON_FORK: u32 = 0x4000_0000;
/// Linux's MAX_RT_PRIO - 1.
const MAX_RT_PRIO: u32 = 99;
/// Linux's default SCHED_RR slice (RR_TIMESLICE, 100 ms).
const RR_TIMESLICE_NS: u64 = 100_000_000;
/// What a normal thread runs for before another gets the CPU (2 ticks).
const SLICE_NS: u64 = 20_000_000;

fn is_rt(policy: u32) -> bool {
    matches!(policy, SCHED_FIFO | SCHED_RR)
}

/// Linux's nice_to_rlimit: nice 19..-20 as 1..40 (RLIMIT_NICE's scale and
/// getpriority's return value).
fn nice_to_rlimit(nice: i32) -> i32 {
    MAX_NICE - nice + 1
}

/// can_nice: whether `t` may get `nice` by RLIMIT_NICE or CAP_SYS_NICE.
fn can_nice(t: &Thread, nice: i32) -> bool {
    let limit = t.process.rlimits.lock()[g::RLIMIT_NICE as usize].0;
    u64::try_from(nice_to_rlimit(nice)).is_ok_and(|n| n <= limit) || current().process.cred().capable(cred::Cap::SysNice)
}

/// check_same_owner / set_one_prio_perm: the caller's effective uid is the
/// target's real or effective uid, or the caller has CAP_SYS_NICE.
fn may_change(t: &Thread) -> bool {
    let (mine, theirs) = (current().process.cred(), t.process.cred());
    mine.euid == theirs.ruid || mine.euid == theirs.euid || mine.capable(cred::Cap::SysNice)
}

/// The threads `which`/`who` name (getpriority(2)): a thread id, a process
/// group, or a real user id; 0 names the caller's.
fn targets(which: i32, who: i32) -> Result<Vec<Arc<Thread>>, Errno> {
    let me = current();
    let live = || process::all().into_iter().filter(|p| !p.is_zombie());
    Ok(match which {
        PRIO_PROCESS if who == 0 => alloc::vec![me],
        PRIO_PROCESS => u32::try_from(who).ok().and_then(super::proc::thread_by_tid).into_iter().collect(),
        PRIO_PGRP => {
            let pgid = if who == 0 { me.process.pgid.load(Ordering::Relaxed) } else { who as u32 };
            live().filter(|p| p.pgid.load(Ordering::Relaxed) == pgid).flat_map(|p| p.threads()).collect()
        }
        PRIO_USER => {
            let uid = if who == 0 { me.process.cred().ruid } else { who as u32 };
            live().filter(|p| p.cred().ruid == uid).flat_map(|p| p.threads()).collect()
        }
        _ => return Err(EINVAL),
    })
}

/// getpriority(2), the raw call: 20 - nice of the highest-priority target
/// (1..40; libc turns it back into a nice value).
pub fn getpriority(which: i32, who: i32) -> SysResult {
    let best = targets(which, who)?.iter().map(|t| nice_to_rlimit(t.sched.lock().nice)).max().ok_or(ESRCH)?;
    Ok(best as usize)
}

/// setpriority(2): `nice` clamped to -20..19 for every target. EPERM for
/// another user's thread, EACCES for lowering a nice value beyond
/// RLIMIT_NICE without CAP_SYS_NICE; as Linux, the last failure is
/// reported but the other targets still change.
pub fn setpriority(which: i32, who: i32, nice: i32) -> SysResult {
    let nice = nice.clamp(MIN_NICE, MAX_NICE);
    let ts = targets(which, who)?;
    if ts.is_empty() {
        return Err(ESRCH);
    }
    let mut result = Ok(0);
    for t in ts {
        if !may_change(&t) {
            result = Err(EPERM);
            continue;
        }
        let old = t.sched.lock().nice;
        if nice < old && !can_nice(&t, nice) {
            result = Err(EACCES);
            continue;
        }
        t.sched.lock().nice = nice;
    }
    result
}

/// The thread `pid` names for the sched_* calls: 0 the caller; EINVAL for
/// a negative one, ESRCH for one that does not exist.
fn sched_target(pid: i32) -> Result<Arc<Thread>, Errno> {
    match pid {
        0 => Ok(current()),
        p if p < 0 => Err(EINVAL),
        p => super::proc::thread_by_tid(p as u32).ok_or(ESRCH),
    }
}

/// sched_getscheduler(2).
pub fn sched_getscheduler(pid: i32) -> SysResult {
    let s = *sched_target(pid)?.sched.lock();
    Ok((s.policy | if s.reset_on_fork { SCHED_RESET_ON_FORK } else { 0 }) as usize)
}

/// sched_getparam(2): the real-time priority (0 for the normal policies).
pub fn sched_getparam(pid: i32, param: u64) -> SysResult {
    if param == 0 || pid < 0 {
        return Err(EINVAL);
    }
    let prio = sched_target(pid)?.sched.lock().rt_priority;
    uaccess::write_u32(param, prio)?;
    Ok(0)
}

/// sched_setscheduler(2).
pub fn sched_setscheduler(pid: i32, policy: i32, param: u64) -> SysResult {
    if param == 0 || pid < 0 || policy < 0 {
        return Err(EINVAL);
    }
    let prio = uaccess::read_u32(param)?;
    set_scheduler(&*sched_target(pid)?, Some(policy as u32), prio)
}

/// sched_setparam(2): the priority within the current policy.
pub fn sched_setparam(pid: i32, param: u64) -> SysResult {
    if param == 0 || pid < 0 {
        return Err(EINVAL);
    }
    let prio = uaccess::read_u32(param)?;
    set_scheduler(&*sched_target(pid)?, None, prio)
}

/// __sched_setscheduler for the legacy calls (the nice value stays).
fn set_scheduler(t: &Thread, policy: Option<u32>, prio: u32) -> SysResult {
    let cur = *t.sched.lock();
    let (policy, reset_on_fork) = match policy {
        Some(p) => (p & !SCHED_RESET_ON_FORK, p & SCHED_RESET_ON_FORK != 0),
        None => (cur.policy, cur.reset_on_fork),
    };
    if !matches!(policy, SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE) {
        return Err(EINVAL);
    }
    // SCHED_DEADLINE needs sched_setattr's runtime, deadline and period.
    if prio > MAX_RT_PRIO || is_rt(policy) != (prio != 0) || policy == SCHED_DEADLINE {
        return Err(EINVAL);
    }
    if !current().process.cred().capable(cred::Cap::SysNice) {
        if is_rt(policy) {
            let rlim = t.process.rlimits.lock()[g::RLIMIT_RTPRIO as usize].0;
            if (policy != cur.policy && rlim == 0) || (u64::from(prio) > u64::from(cur.rt_priority) && u64::from(prio) > rlim) {
                return Err(EPERM);
            }
        }
        // SCHED_IDLE counts as nice 20: leaving it needs RLIMIT_NICE.
        if cur.policy == SCHED_IDLE && policy != SCHED_IDLE && !can_nice(t, cur.nice) {
            return Err(EPERM);
        }
        if !may_change(t) || (cur.reset_on_fork && !reset_on_fork) {
            return Err(EPERM);
        }
    }
    let mut s = t.sched.lock();
    (s.policy, s.rt_priority, s.reset_on_fork) = (policy, prio, reset_on_fork);
    Ok(0)
}

/// sched_get_priority_max(2).
pub fn sched_get_priority_max(policy: i32) -> SysResult {
    match u32::try_from(policy).map_err(|_| EINVAL)? {
        SCHED_FIFO | SCHED_RR => Ok(MAX_RT_PRIO as usize),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(EINVAL),
    }
}

/// sched_get_priority_min(2).
pub fn sched_get_priority_min(policy: i32) -> SysResult {
    match u32::try_from(policy).map_err(|_| EINVAL)? {
        SCHED_FIFO | SCHED_RR => Ok(1),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(EINVAL),
    }
}

/// sched_rr_get_interval(2): 100 ms for SCHED_RR, 0 for SCHED_FIFO, the
/// time slice of the normal policies.
pub fn sched_rr_get_interval(pid: i32, out: u64) -> SysResult {
    let policy = sched_target(pid)?.sched.lock().policy;
    let ns = match policy {
        SCHED_RR => RR_TIMESLICE_NS,
        SCHED_FIFO => 0,
        _ => SLICE_NS,
    };
    let mut o = Out::new(16);
    o.u64(0, ns / 1_000_000_000).u64(8, ns % 1_000_000_000);
    o.write_to(out)?;
    Ok(0)
}

/// What a child starts with (fork, clone): the parent's attributes, or
/// with SCHED_RESET_ON_FORK the normal policy and a nice value of at
/// least 0 (sched_fork).
pub fn for_child(parent: Sched) -> Sched {
    if !parent.reset_on_fork {
        return parent;
    }
    let policy = if is_rt(parent.policy) { SCHED_OTHER } else { parent.policy };
    Sched { nice: parent.nice.max(0), policy, rt_priority: 0, reset_on_fork: false, ioprio: parent.ioprio }
}

/// /proc/[pid]/stat's priority field: 20 + nice, or -1 - the real-time priority.
pub fn stat_priority(s: &Sched) -> i32 {
    if is_rt(s.policy) { -1 - s.rt_priority as i32 } else { 20 + s.nice }
}

const IOPRIO_CLASS_SHIFT: u32 = 13;
const IOPRIO_CLASS_NONE: u32 = 0;
const IOPRIO_CLASS_RT: u32 = 1;
const IOPRIO_CLASS_BE: u32 = 2;
const IOPRIO_CLASS_IDLE: u32 = 3;
const IOPRIO_NR_LEVELS: u32 = 8;
const IOPRIO_WHO_PROCESS: i32 = 1;
const IOPRIO_WHO_PGRP: i32 = 2;
const IOPRIO_WHO_USER: i32 = 3;

/// The threads an ioprio call names (`who` 0: the caller's).
fn io_targets(which: i32, who: i32) -> Result<Vec<Arc<Thread>>, Errno> {
    match which {
        IOPRIO_WHO_PROCESS => targets(PRIO_PROCESS, who),
        IOPRIO_WHO_PGRP => targets(PRIO_PGRP, who),
        IOPRIO_WHO_USER => targets(PRIO_USER, who),
        _ => Err(EINVAL),
    }
}

/// ioprio_get(2): the best (lowest) priority of the targets; 0
/// (IOPRIO_CLASS_NONE) for a thread that never set one, whatever its nice
/// value, as Linux 6.1 reports it.
pub fn ioprio_get(which: i32, who: i32) -> SysResult {
    let best = io_targets(which, who)?.iter().map(|t| t.sched.lock().ioprio).min().ok_or(ESRCH)?;
    Ok(best as usize)
}

/// ioprio_set(2): ioprio_check_cap, then every target (EPERM for another
/// user's thread without CAP_SYS_NICE, which stops the walk, as Linux).
pub fn ioprio_set(which: i32, who: i32, ioprio: i32) -> SysResult {
    // IOPRIO_PRIO_CLASS and IOPRIO_PRIO_DATA of the int; the value kept
    // is an unsigned short, as Linux's io_context.
    let (class, data) = ((ioprio as u32 >> IOPRIO_CLASS_SHIFT) & 7, ioprio as u32 & ((1 << IOPRIO_CLASS_SHIFT) - 1));
    let raw = ioprio as u32 & 0xffff;
    let me = current().process.cred();
    // The level is the low 3 bits of the data; the others are hints
    // (IOPRIO_PRIO_LEVEL, as the Debian 6.1 kernel checks it).
    let level = data % IOPRIO_NR_LEVELS;
    match class {
        IOPRIO_CLASS_RT if !me.capable(cred::Cap::SysAdmin) && !me.capable(cred::Cap::SysNice) => return Err(EPERM),
        IOPRIO_CLASS_NONE if level != 0 => return Err(EINVAL),
        IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE | IOPRIO_CLASS_NONE => {}
        _ => return Err(EINVAL),
    }
    let ts = io_targets(which, who)?;
    if ts.is_empty() {
        return Err(ESRCH);
    }
    for t in ts {
        let theirs = t.process.cred();
        if theirs.ruid != me.euid && theirs.ruid != me.ruid && !me.capable(cred::Cap::SysNice) {
            return Err(EPERM);
        }
        t.sched.lock().ioprio = raw;
    }
    Ok(0)
}

//! Time system calls.

use crate::errno::{EFAULT, EINVAL, Errno, SysResult};
use crate::uaccess::{self, Out};

use crate::acct;
use linux_raw_sys::general as g;

const CLOCK_REALTIME: i32 = g::CLOCK_REALTIME as i32;
const CLOCK_MONOTONIC: i32 = g::CLOCK_MONOTONIC as i32;
const CLOCK_MONOTONIC_RAW: i32 = g::CLOCK_MONOTONIC_RAW as i32;
const CLOCK_REALTIME_COARSE: i32 = g::CLOCK_REALTIME_COARSE as i32;
const CLOCK_MONOTONIC_COARSE: i32 = g::CLOCK_MONOTONIC_COARSE as i32;
const CLOCK_BOOTTIME: i32 = g::CLOCK_BOOTTIME as i32;

/// A clock's value in ns: the wall and monotonic clocks, or a CPU-time
/// clock (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and the ids of
/// clock_getcpuclockid(3), `acct.rs`). EINVAL for any other id.
fn now(clock: i32) -> Result<u64, Errno> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Ok(kbase::time::realtime_ns()),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => Ok(kbase::time::uptime_ns()),
        _ => acct::clock_ns(acct::decode_clock(clock).ok_or(EINVAL)??, true),
    }
}

fn write_timespec(addr: u64, ns: u64) -> Result<(), Errno> {
    let mut o = Out::new(16);
    o.u64(0, ns / 1_000_000_000).u64(8, ns % 1_000_000_000);
    o.write_to(addr)
}

pub(super) fn read_timespec(addr: u64) -> Result<u64, Errno> {
    let b = uaccess::read_bytes(addr, 16)?;
    let sec = i64::from_le_bytes(b[0..8].try_into().map_err(|_| EFAULT)?);
    let nsec = i64::from_le_bytes(b[8..16].try_into().map_err(|_| EFAULT)?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec as u64))
}

pub fn clock_gettime(clock: i32, ts: u64) -> SysResult {
    let ns = now(clock)?;
    write_timespec(ts, ns)?;
    Ok(0)
}

/// clock_getres(2): 1 ns, or a tick for the sampled CPU clocks
/// (CPUCLOCK_PROF, CPUCLOCK_VIRT).
pub fn clock_getres(clock: i32, ts: u64) -> SysResult {
    let res = match acct::decode_clock(clock) {
        Some(id) => {
            let id = id?;
            acct::clock_ns(id, false)?;
            acct::clock_res_ns(id)
        }
        None => now(clock).map(|_| 1)?,
    };
    if ts != 0 {
        write_timespec(ts, res)?;
    }
    Ok(0)
}

pub fn gettimeofday(tv: u64) -> SysResult {
    if tv != 0 {
        let ns = kbase::time::realtime_ns();
        let mut o = Out::new(16);
        o.u64(0, ns / 1_000_000_000).u64(8, (ns % 1_000_000_000) / 1000);
        o.write_to(tv)?;
    }
    Ok(0)
}

pub fn time(t: u64) -> SysResult {
    let s = kbase::time::realtime_ns() / 1_000_000_000;
    if t != 0 {
        uaccess::write_u64(t, s)?;
    }
    Ok(s as usize)
}

pub fn nanosleep(req: u64, rem: u64) -> SysResult {
    let ns = read_timespec(req)?;
    let deadline = kbase::time::uptime_ns().saturating_add(ns);
    let t = crate::process::current();
    if kbase::task::sleep_until_or(deadline, || crate::signal::has_pending(&t)) {
        if rem != 0 {
            write_timespec(rem, deadline.saturating_sub(kbase::time::uptime_ns()))?;
        }
        return Err(crate::errno::EINTR);
    }
    Ok(0)
}

/// clock_nanosleep(2). A CPU clock of the caller's own thread cannot be
/// slept on (EINVAL, EOPNOTSUPP for CLOCK_THREAD_CPUTIME_ID, as Linux);
/// a process CPU clock sleeps until that process has used the time.
pub fn clock_nanosleep(clock: i32, flags: i32, req: u64, rem: u64) -> SysResult {
    const TIMER_ABSTIME: i32 = 1;
    if let Some(id) = acct::decode_clock(clock) {
        return cpu_clock_nanosleep(clock, id?, flags & TIMER_ABSTIME != 0, req, rem);
    }
    let base = now(clock)?;
    let ns = read_timespec(req)?;
    if flags & TIMER_ABSTIME != 0 {
        let deadline = kbase::time::uptime_ns().saturating_add(ns.saturating_sub(base));
        let t = crate::process::current();
        if kbase::task::sleep_until_or(deadline, || crate::signal::has_pending(&t)) {
            return Err(crate::errno::EINTR);
        }
        return Ok(0);
    }
    nanosleep(req, rem)
}

/// Sleeps until the CPU clock `id` reaches `req` (absolute) or has
/// advanced by it; it is looked at every tick. EINTR on a signal, with
/// the CPU time still to go in `rem` for a relative sleep.
fn cpu_clock_nanosleep(clock: i32, id: cputime::ClockId, abs: bool, req: u64, rem: u64) -> SysResult {
    if clock == g::CLOCK_THREAD_CPUTIME_ID as i32 {
        return Err(crate::errno::EOPNOTSUPP);
    }
    let me = crate::process::current();
    if matches!(id.target, cputime::Target::Thread(t) if t == 0 || t == me.tid()) {
        return Err(EINVAL);
    }
    let ns = read_timespec(req)?;
    let start = acct::clock_ns(id, true)?;
    let target = if abs { ns } else { start.saturating_add(ns) };
    loop {
        // A clock whose thread or process went away: EINVAL, as Linux.
        let now = acct::clock_ns(id, true)?;
        if now >= target {
            return Ok(0);
        }
        let tick = kbase::time::uptime_ns().saturating_add(acct::TICK_NS);
        if kbase::task::sleep_until_or(tick, || crate::signal::has_pending(&me)) {
            if !abs && rem != 0 {
                write_timespec(rem, target - now)?;
            }
            return Err(crate::errno::EINTR);
        }
    }
}

/// clock_settime(2): only CLOCK_REALTIME can be set (`EINVAL` for the
/// others, as Linux; EPERM for a valid CPU clock id), by a caller with
/// `CAP_SYS_TIME` (`EPERM`, checked after the time itself).
pub fn clock_settime(clock: i32, ts: u64) -> SysResult {
    if clock < 0 {
        acct::clock_ns(acct::decode_clock(clock).ok_or(EINVAL)??, false)?;
        return Err(crate::errno::EPERM);
    }
    now(clock)?;
    if clock != CLOCK_REALTIME {
        return Err(EINVAL);
    }
    let ns = read_timespec(ts)?;
    set_realtime(ns)
}

/// settimeofday(2): `tv` (if given) sets CLOCK_REALTIME; the obsolete
/// timezone is accepted and ignored. Needs `CAP_SYS_TIME`.
pub fn settimeofday(tv: u64, tz: u64) -> SysResult {
    let ns = if tv != 0 {
        let b = uaccess::read_bytes(tv, 16)?;
        let sec = i64::from_le_bytes(b[0..8].try_into().map_err(|_| EFAULT)?);
        let usec = i64::from_le_bytes(b[8..16].try_into().map_err(|_| EFAULT)?);
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(EINVAL);
        }
        Some((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000))
    } else {
        None
    };
    if tz != 0 {
        uaccess::read_bytes(tz, 8)?;
    }
    match ns {
        Some(ns) => set_realtime(ns),
        None if super::cred::capable(cred::Cap::SysTime) => Ok(0),
        None => Err(crate::errno::EPERM),
    }
}

fn set_realtime(ns: u64) -> SysResult {
    if !super::cred::capable(cred::Cap::SysTime) {
        return Err(crate::errno::EPERM);
    }
    kbase::time::set_realtime_ns(ns);
    crate::vdso::clock_was_set();
    Ok(0)
}

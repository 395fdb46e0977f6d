//! Time system calls.

use crate::errno::{EFAULT, EINVAL, Errno, SysResult};
use crate::uaccess::{self, Out};

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;

fn now(clock: i32) -> Result<u64, Errno> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Ok(kbase::time::realtime_ns()),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => Ok(kbase::time::uptime_ns()),
        // CPU-time clocks: wall time since boot until per-task accounting
        // exists (never less than the real CPU time, monotonic).
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => Ok(kbase::time::uptime_ns()),
        _ => Err(EINVAL),
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

pub fn clock_getres(clock: i32, ts: u64) -> SysResult {
    now(clock)?;
    if ts != 0 {
        write_timespec(ts, 1)?;
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

pub fn clock_nanosleep(clock: i32, flags: i32, req: u64, rem: u64) -> SysResult {
    const TIMER_ABSTIME: i32 = 1;
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

/// clock_settime(2): only CLOCK_REALTIME can be set (`EINVAL` for the
/// others, as Linux), by a caller with `CAP_SYS_TIME` (`EPERM`, checked
/// after the time itself).
pub fn clock_settime(clock: i32, ts: u64) -> SysResult {
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

//! poll, ppoll, select, pselect6: readiness of descriptors.
//!
//! A wait subscribes one `Poller` to the `PollQueue` of every file it
//! watches (see `pollq`), re-checks, and sleeps until a queue says
//! something changed, the timeout passes or a signal arrives; results and
//! error cases follow poll(2) and select(2). Files without a queue are
//! always ready.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::errno::{EINVAL, Errno, SysResult};
use crate::file::{POLLERR, POLLHUP};
use crate::pollq::{PollQueue, Poller};
use crate::process::current;
use crate::uaccess::{self};

const POLLNVAL: u16 = 0x20;
const MAX_NFDS: usize = 1024;

/// Re-check interval for a file without a queue that was not ready.
const TICK_NS: u64 = 10_000_000;

/// Waits until `check()` reports ready or `timeout_ns` passes. `check`
/// adds the queues of the files it looked at to its argument when it is
/// given one (None for a file without a queue: such a file that is not
/// ready, like the console without receive interrupts, is re-checked every
/// tick). The first look collects nothing: a call that finds something
/// ready or has a zero timeout ends there, with no poller and no queue
/// references (the common case of select/poll in an event loop).
fn wait_ready<T>(
    timeout_ns: Option<u64>,
    mut check: impl FnMut(Option<&mut Vec<Option<Arc<PollQueue>>>>) -> Result<Option<T>, Errno>,
) -> Result<Option<T>, Errno> {
    let deadline = timeout_ns.map(|t| kbase::time::uptime_ns().saturating_add(t));
    let expired = || deadline.is_some_and(|d| kbase::time::uptime_ns() >= d);
    if let Some(r) = check(None)? {
        return Ok(Some(r));
    }
    if expired() {
        return Ok(None);
    }
    // Subscribe to the queues a look finds, then look again: a change
    // between that look and the subscription would otherwise be missed.
    let mut found = Vec::new();
    if let Some(r) = check(Some(&mut found))? {
        return Ok(Some(r));
    }
    let has_unqueued = found.iter().any(Option::is_none);
    let queues: Vec<Arc<PollQueue>> = found.into_iter().flatten().collect();
    let t = current();
    let poller = Poller::new();
    let observer = poller.observer();
    for q in &queues {
        q.subscribe(observer.clone());
    }
    let r = loop {
        match check(None) {
            Ok(Some(r)) => break Ok(Some(r)),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if expired() {
            break Ok(None);
        }
        let until = if has_unqueued {
            let tick = kbase::time::uptime_ns().saturating_add(TICK_NS);
            Some(deadline.map_or(tick, |d| d.min(tick)))
        } else {
            deadline
        };
        if let Err(e) = poller.wait(until, &t) {
            break Err(e);
        }
    };
    for q in &queues {
        q.unsubscribe(&observer);
    }
    r
}

fn do_poll(fds: u64, nfds: usize, timeout_ns: Option<u64>) -> SysResult {
    if nfds > MAX_NFDS {
        return Err(EINVAL);
    }
    let raw = uaccess::read_bytes(fds, nfds * 8)?;
    let mut entries: Vec<(i32, u16, u16)> = raw
        .chunks_exact(8)
        .map(|c| (i32::from_le_bytes([c[0], c[1], c[2], c[3]]), u16::from_le_bytes([c[4], c[5]]), 0))
        .collect();
    let ready = wait_ready(timeout_ns, |mut queues| {
        let t = current();
        let files = t.process.files.lock();
        let mut n = 0;
        for e in entries.iter_mut() {
            e.2 = if e.0 < 0 {
                0
            } else {
                match files.get_ref(e.0) {
                    Ok(f) => {
                        if let Some(q) = queues.as_deref_mut() {
                            q.push(f.poll_queue());
                        }
                        f.poll() & (e.1 | POLLERR | POLLHUP)
                    }
                    Err(_) => POLLNVAL,
                }
            };
            if e.2 != 0 {
                n += 1;
            }
        }
        Ok((n > 0).then_some(n))
    })?;
    let mut out = raw;
    for (i, e) in entries.iter().enumerate() {
        out[i * 8 + 6..i * 8 + 8].copy_from_slice(&e.2.to_le_bytes());
    }
    uaccess::write_bytes(fds, &out)?;
    Ok(ready.unwrap_or(0))
}

pub fn poll(fds: u64, nfds: usize, timeout_ms: i32) -> SysResult {
    let timeout = (timeout_ms >= 0).then(|| u64::from(timeout_ms.unsigned_abs()) * 1_000_000);
    do_poll(fds, nfds, timeout)
}

fn read_timeout(ts: u64) -> Result<Option<u64>, Errno> {
    if ts == 0 { Ok(None) } else { uaccess::read_timespec_ns(ts).map(Some) }
}

pub fn ppoll(fds: u64, nfds: usize, ts: u64, sigmask: u64, size: usize) -> SysResult {
    let timeout = read_timeout(ts)?;
    crate::signal::with_wait_mask(sigmask, size, || do_poll(fds, nfds, timeout))
}

/// select/pselect6 over fd_set bitmaps (1024 bits).
fn do_select(nfds: i32, rd: u64, wr: u64, ex: u64, timeout_ns: Option<u64>) -> SysResult {
    let n = usize::try_from(nfds).ok().filter(|&n| n <= MAX_NFDS).ok_or(EINVAL)?;
    let bytes = n.div_ceil(64) * 8;
    // The sets live on the stack (at most MAX_NFDS bits each).
    const SET: usize = MAX_NFDS / 8;
    let load = |p: u64| -> Result<[u8; SET], Errno> {
        let mut v = [0u8; SET];
        if p != 0 {
            uaccess::read_into(p, &mut v[..bytes])?;
        }
        Ok(v)
    };
    let (r_in, w_in, e_in) = (load(rd)?, load(wr)?, load(ex)?);
    let bit = |v: &[u8], i: usize| v[i / 8] & (1 << (i % 8)) != 0;
    let mut r_out = [0u8; SET];
    let mut w_out = [0u8; SET];
    let ready = wait_ready(timeout_ns, |mut queues| {
        let t = current();
        let files = t.process.files.lock();
        let mut count = 0;
        r_out.fill(0);
        w_out.fill(0);
        for i in 0..n {
            if !(bit(&r_in, i) || bit(&w_in, i) || bit(&e_in, i)) {
                continue;
            }
            let f = files.get_ref(i as i32)?;
            if let Some(q) = queues.as_deref_mut() {
                q.push(f.poll_queue());
            }
            let ev = f.poll();
            if bit(&r_in, i) && ev & (crate::file::POLLIN | POLLHUP | POLLERR) != 0 {
                r_out[i / 8] |= 1 << (i % 8);
                count += 1;
            }
            if bit(&w_in, i) && ev & (crate::file::POLLOUT | POLLERR) != 0 {
                w_out[i / 8] |= 1 << (i % 8);
                count += 1;
            }
        }
        Ok((count > 0).then_some(count))
    })?;
    if rd != 0 {
        uaccess::write_bytes(rd, &r_out[..bytes])?;
    }
    if wr != 0 {
        uaccess::write_bytes(wr, &w_out[..bytes])?;
    }
    if ex != 0 {
        uaccess::write_bytes(ex, &[0u8; SET][..bytes])?;
    }
    Ok(ready.unwrap_or(0))
}

pub fn select(nfds: i32, rd: u64, wr: u64, ex: u64, tv: u64) -> SysResult {
    let timeout = if tv == 0 {
        None
    } else {
        let b = uaccess::read_bytes(tv, 16)?;
        let sec = i64::from_le_bytes(b[0..8].try_into().map_err(|_| EINVAL)?);
        let usec = i64::from_le_bytes(b[8..16].try_into().map_err(|_| EINVAL)?);
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(EINVAL);
        }
        Some((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000))
    };
    do_select(nfds, rd, wr, ex, timeout)
}

pub fn pselect6(nfds: i32, rd: u64, wr: u64, ex: u64, ts: u64, sig: u64) -> SysResult {
    let timeout = read_timeout(ts)?;
    // The sixth argument points at { const sigset_t *ss; size_t ss_len; }.
    let (mask, size) = if sig == 0 {
        (0, 0)
    } else {
        let b = uaccess::read_bytes(sig, 16)?;
        let mut p = [0u8; 8];
        let mut l = [0u8; 8];
        p.copy_from_slice(&b[..8]);
        l.copy_from_slice(&b[8..]);
        (u64::from_le_bytes(p), u64::from_le_bytes(l) as usize)
    };
    crate::signal::with_wait_mask(mask, size, || do_select(nfds, rd, wr, ex, timeout))
}

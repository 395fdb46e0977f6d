//! futex(2): wait queues keyed by user addresses.
//!
//! Keys are (address space, address): private and shared futexes are the
//! same thing until memory can be shared between processes (MAP_SHARED
//! across fork comes with the page cache). The table lock is held while
//! the futex word is compared, so a waker that changes the word and then
//! calls FUTEX_WAKE can never be missed.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use kbase::task::{Mutex, Task};

use crate::errno::{EAGAIN, EINTR, EINVAL, ENOSYS, Errno, SysResult};
use crate::process::{Thread, current};
use crate::uaccess;

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const ETIMEDOUT: Errno = Errno(linux_raw_sys::errno::ETIMEDOUT as i32);

type Key = (usize, u64);

struct Waiter {
    task: Arc<Task>,
    bitset: u32,
    is_woken: AtomicBool,
    /// The queue it is on now (FUTEX_REQUEUE moves it); guarded by TABLE.
    key: kbase::sync::SpinLock<Key>,
}

static TABLE: Mutex<BTreeMap<Key, Vec<Arc<Waiter>>>> = Mutex::new(BTreeMap::new());

fn key(t: &Thread, uaddr: u64) -> Result<Key, Errno> {
    if uaddr % 4 != 0 {
        return Err(EINVAL);
    }
    // The process identifies the address space (threads share it).
    Ok((Arc::as_ptr(&t.process) as usize, uaddr))
}

/// Wakes up to `n` waiters on `k` whose bitset intersects `bitset`.
fn wake_key(table: &mut BTreeMap<Key, Vec<Arc<Waiter>>>, k: Key, n: usize, bitset: u32) -> usize {
    let Some(list) = table.get_mut(&k) else { return 0 };
    let mut woken = 0;
    list.retain(|w| {
        if woken < n && w.bitset & bitset != 0 {
            w.is_woken.store(true, Ordering::Release);
            kbase::task::wake(&w.task);
            woken += 1;
            false
        } else {
            true
        }
    });
    if list.is_empty() {
        table.remove(&k);
    }
    woken
}

/// Wakes one waiter at `uaddr` of the current process (thread exit with
/// CLONE_CHILD_CLEARTID uses this).
pub fn wake(t: &Thread, uaddr: u64, n: usize) -> usize {
    match key(t, uaddr) {
        Ok(k) => wake_key(&mut TABLE.lock(), k, n, u32::MAX),
        Err(_) => 0,
    }
}

fn timeout_deadline(ts: u64, absolute: bool, realtime: bool) -> Result<u64, Errno> {
    if ts == 0 {
        return Ok(u64::MAX);
    }
    let b = uaccess::read_bytes(ts, 16)?;
    let sec = i64::from_le_bytes(b[0..8].try_into().map_err(|_| EINVAL)?);
    let nsec = i64::from_le_bytes(b[8..16].try_into().map_err(|_| EINVAL)?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    let ns = (sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec as u64);
    let now = kbase::time::uptime_ns();
    Ok(if absolute {
        if realtime { now.saturating_add(ns.saturating_sub(kbase::time::realtime_ns())) } else { ns }
    } else {
        now.saturating_add(ns)
    })
}

fn wait(t: &Thread, uaddr: u64, expected: u32, deadline: u64, bitset: u32) -> SysResult {
    if bitset == 0 {
        return Err(EINVAL);
    }
    let k = key(t, uaddr)?;
    let task = t.task().ok_or(EINTR)?;
    let w = Arc::new(Waiter { task, bitset, is_woken: AtomicBool::new(false), key: kbase::sync::SpinLock::new(k) });
    {
        let mut table = TABLE.lock();
        if uaccess::read_u32(uaddr)? != expected {
            return Err(EAGAIN);
        }
        table.entry(k).or_default().push(w.clone());
    }
    let interrupted = kbase::task::sleep_until_or(deadline, || w.is_woken.load(Ordering::Acquire) || crate::signal::has_pending(t));
    if w.is_woken.load(Ordering::Acquire) {
        return Ok(0);
    }
    // Not woken: take ourselves off the queue (a wake may still race in).
    let mut table = TABLE.lock();
    if w.is_woken.load(Ordering::Acquire) {
        return Ok(0);
    }
    let now_on = *w.key.lock();
    if let Some(list) = table.get_mut(&now_on) {
        list.retain(|x| !Arc::ptr_eq(x, &w));
        if list.is_empty() {
            table.remove(&now_on);
        }
    }
    if interrupted { Err(EINTR) } else { Err(ETIMEDOUT) }
}

/// futex(2).
pub fn futex(uaddr: u64, op: u32, val: u32, timeout: u64, uaddr2: u64, val3: u32) -> SysResult {
    let t = current();
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    match cmd {
        FUTEX_WAIT => wait(&t, uaddr, val, timeout_deadline(timeout, false, false)?, u32::MAX),
        FUTEX_WAIT_BITSET => wait(&t, uaddr, val, timeout_deadline(timeout, true, realtime)?, val3),
        FUTEX_WAKE => Ok(wake_key(&mut TABLE.lock(), key(&t, uaddr)?, val as usize, u32::MAX)),
        FUTEX_WAKE_BITSET => {
            if val3 == 0 {
                return Err(EINVAL);
            }
            Ok(wake_key(&mut TABLE.lock(), key(&t, uaddr)?, val as usize, val3))
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            // `timeout` carries val2 (how many to requeue) for these ops.
            let requeue = usize::try_from(timeout as u32).unwrap_or(usize::MAX);
            let (k1, k2) = (key(&t, uaddr)?, key(&t, uaddr2)?);
            let mut table = TABLE.lock();
            if cmd == FUTEX_CMP_REQUEUE && uaccess::read_u32(uaddr)? != val3 {
                return Err(EAGAIN);
            }
            let woken = wake_key(&mut table, k1, val as usize, u32::MAX);
            let mut moved = Vec::new();
            if let Some(list) = table.get_mut(&k1) {
                let n = requeue.min(list.len());
                moved.extend(list.drain(..n));
                if list.is_empty() {
                    table.remove(&k1);
                }
            }
            let moved_n = moved.len();
            for w in &moved {
                *w.key.lock() = k2;
            }
            if !moved.is_empty() {
                table.entry(k2).or_default().extend(moved);
            }
            Ok(woken + moved_n)
        }
        FUTEX_WAKE_OP => Err(ENOSYS),
        _ => Err(ENOSYS),
    }
}

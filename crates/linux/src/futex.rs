//! futex(2): wait queues keyed by user addresses, FUTEX_WAKE_OP, and the
//! robust-futex clean-up of a dying thread (`exit_robust_list`).
//!
//! Keys follow Linux's get_futex_key: a FUTEX_PRIVATE_FLAG operation, or
//! one on private memory, is keyed by (process, address); a shared one on
//! a MAP_SHARED mapping by (memory object, offset in it), so processes
//! that map the same object at different addresses meet on one queue.
//! A waiter keeps its object alive (its address is the key). The table
//! lock is held while the futex word is compared, so a waker that changes
//! the word and then calls FUTEX_WAKE can never be missed.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use kbase::task::{Mutex, Task};

use crate::errno::{EAGAIN, EFAULT, EINTR, EINVAL, ENOSYS, Errno, SysResult};
use crate::process::{Thread, current};
use crate::uaccess;

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const ETIMEDOUT: Errno = Errno(linux_raw_sys::errno::ETIMEDOUT as i32);

type Key = (usize, u64);
/// The shared memory object a shared key names, held by its waiters so
/// its address is not reused for another object while they wait.
type Pin = Arc<dyn core::any::Any + Send + Sync>;

struct Waiter {
    task: Arc<Task>,
    bitset: u32,
    is_woken: AtomicBool,
    /// The queue it is on now (FUTEX_REQUEUE moves it) and what keeps that
    /// key's object alive; guarded by TABLE.
    key: kbase::sync::SpinLock<(Key, Option<Pin>)>,
}

static TABLE: Mutex<BTreeMap<Key, Vec<Arc<Waiter>>>> = Mutex::new(BTreeMap::new());

/// The key of the futex word at `uaddr` (see the module comment). A
/// shared operation needs a mapping there (EFAULT otherwise, as Linux).
fn key(t: &Thread, uaddr: u64, private: bool) -> Result<(Key, Option<Pin>), Errno> {
    if uaddr % 4 != 0 {
        return Err(EINVAL);
    }
    if !private {
        let vm = t.process.vm().ok_or(EFAULT)?;
        let vm = vm.lock();
        if !vm.is_mapped(uaddr) {
            return Err(EFAULT);
        }
        if let Some((obj, off)) = vm.shared_object_at(uaddr) {
            return Ok(((Arc::as_ptr(&obj) as *const u8 as usize, off), Some(obj)));
        }
    }
    // The process identifies the address space (threads share it).
    Ok(((Arc::as_ptr(&t.process) as usize, uaddr), None))
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

/// Wakes up to `n` waiters at `uaddr` as a shared FUTEX_WAKE (thread exit
/// with CLONE_CHILD_CLEARTID, robust-list clean-up; Linux's are shared
/// too), or by the private key once the address space is gone.
pub fn wake(t: &Thread, uaddr: u64, n: usize) -> usize {
    match key(t, uaddr, false).or_else(|_| key(t, uaddr, true)) {
        Ok((k, _)) => wake_key(&mut TABLE.lock(), k, n, u32::MAX),
        Err(_) => 0,
    }
}

fn timeout_deadline(ts: u64, absolute: bool, realtime: bool) -> Result<u64, Errno> {
    if ts == 0 {
        return Ok(u64::MAX);
    }
    let ns = uaccess::read_timespec_ns(ts)?;
    let now = kbase::time::uptime_ns();
    Ok(if absolute {
        if realtime { now.saturating_add(ns.saturating_sub(kbase::time::realtime_ns())) } else { ns }
    } else {
        now.saturating_add(ns)
    })
}

fn wait(t: &Thread, uaddr: u64, private: bool, expected: u32, deadline: u64, bitset: u32) -> SysResult {
    if bitset == 0 {
        return Err(EINVAL);
    }
    let (k, pin) = key(t, uaddr, private)?;
    let task = t.task().ok_or(EINTR)?;
    let w = Arc::new(Waiter { task, bitset, is_woken: AtomicBool::new(false), key: kbase::sync::SpinLock::new((k, pin)) });
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
    let now_on = w.key.lock().0;
    if let Some(list) = table.get_mut(&now_on) {
        list.retain(|x| !Arc::ptr_eq(x, &w));
        if list.is_empty() {
            table.remove(&now_on);
        }
    }
    if interrupted { Err(EINTR) } else { Err(ETIMEDOUT) }
}

/// futex(2). The priority-inheritance operations (LOCK_PI, UNLOCK_PI,
/// TRYLOCK_PI, the REQUEUE_PI pair, LOCK_PI2) return ENOSYS: glibc and
/// musl probe for them and then refuse PTHREAD_PRIO_INHERIT mutexes with
/// ENOTSUP; nothing else in libc or Rust's std uses them.
pub fn futex(uaddr: u64, op: u32, val: u32, timeout: u64, uaddr2: u64, val3: u32) -> SysResult {
    let t = current();
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let key = |addr| key(&t, addr, private);
    if realtime && !matches!(cmd, FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2) {
        return Err(ENOSYS);
    }
    match cmd {
        FUTEX_WAIT => wait(&t, uaddr, private, val, timeout_deadline(timeout, false, false)?, u32::MAX),
        FUTEX_WAIT_BITSET => wait(&t, uaddr, private, val, timeout_deadline(timeout, true, realtime)?, val3),
        FUTEX_WAKE => Ok(wake_key(&mut TABLE.lock(), key(uaddr)?.0, val as usize, u32::MAX)),
        FUTEX_WAKE_BITSET => {
            if val3 == 0 {
                return Err(EINVAL);
            }
            Ok(wake_key(&mut TABLE.lock(), key(uaddr)?.0, val as usize, val3))
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            // `timeout` carries val2 (how many to requeue) for these ops.
            if (val as i32) < 0 || (timeout as i32) < 0 {
                return Err(EINVAL);
            }
            let requeue = timeout as u32 as usize;
            let (k1, (k2, pin2)) = (key(uaddr)?.0, key(uaddr2)?);
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
                *w.key.lock() = (k2, pin2.clone());
            }
            if !moved.is_empty() {
                table.entry(k2).or_default().extend(moved);
            }
            Ok(woken + moved_n)
        }
        FUTEX_WAKE_OP => wake_op(key(uaddr)?.0, key(uaddr2)?.0, val, timeout as u32, uaddr2, val3),
        _ => Err(ENOSYS),
    }
}

/// FUTEX_WAKE_OP: atomically `*uaddr2 = op(*uaddr2, oparg)`, wake up to
/// `n` waiters at `uaddr` (key `k1`), and up to `n2` at `uaddr2` (`k2`) if the old value
/// passes the comparison (Linux's futex_wake_op and futex_atomic_op_inuser).
fn wake_op(k1: Key, k2: Key, n: u32, n2: u32, uaddr2: u64, encoded: u32) -> SysResult {
    let op = (encoded >> 28) & 7;
    let cmp = (encoded >> 24) & 15;
    // 12-bit signed fields.
    let mut oparg = (((encoded >> 12) & 0xfff) << 20) as i32 >> 20;
    let cmparg = ((encoded & 0xfff) << 20) as i32 >> 20;
    if encoded & (8 << 28) != 0 {
        // FUTEX_OP_OPARG_SHIFT; Linux masks a shift out of range.
        oparg = 1i32.wrapping_shl((oparg & 31) as u32);
    }
    let apply = |old: u32| -> Option<u32> {
        let a = oparg as u32;
        Some(match op {
            0 => a,                  // FUTEX_OP_SET
            1 => old.wrapping_add(a), // FUTEX_OP_ADD
            2 => old | a,             // FUTEX_OP_OR
            3 => old & !a,            // FUTEX_OP_ANDN
            4 => old ^ a,             // FUTEX_OP_XOR
            _ => return None,
        })
    };
    let mut table = TABLE.lock();
    let mut old = uaccess::read_u32(uaddr2)?;
    loop {
        let new = apply(old).ok_or(ENOSYS)?;
        let found = uaccess::cmpxchg_u32(uaddr2, old, new)?;
        if found == old {
            break;
        }
        old = found;
    }
    let old = old as i32;
    let passes = match cmp {
        0 => old == cmparg,
        1 => old != cmparg,
        2 => old < cmparg,
        3 => old <= cmparg,
        4 => old > cmparg,
        5 => old >= cmparg,
        _ => return Err(ENOSYS),
    };
    let mut woken = wake_key(&mut table, k1, n as usize, u32::MAX);
    if passes {
        woken += wake_key(&mut table, k2, n2 as usize, u32::MAX);
    }
    Ok(woken)
}

/// Robust-list entries looked at before the walk gives up (a cycle in the
/// list must not hang the exit), as Linux's ROBUST_LIST_LIMIT.
const ROBUST_LIST_LIMIT: u32 = 2048;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// A dying thread (exit, a fatal signal, execve) releases the robust
/// futexes it still holds, as Linux's exit_robust_list: each lock word
/// on its list (`set_robust_list`) that names its tid gets FUTEX_OWNER_DIED
/// and one waiter is woken; so does the `list_op_pending` entry, which
/// may be on the list or not yet. The list lives in user memory: a
/// fault ends the walk, and it stops after ROBUST_LIST_LIMIT entries.
pub fn exit_robust_list(t: &Thread) {
    let (head, _) = core::mem::take(&mut *t.robust_list.lock());
    if head == 0 {
        return;
    }
    // struct robust_list_head { next; long futex_offset; list_op_pending }
    // Pointers carry a PI flag in bit 0.
    let read_ptr = |addr: u64| uaccess::read_u64(addr).ok().map(|v| (v & !1, v & 1 != 0));
    let Some((mut entry, mut is_pi)) = read_ptr(head) else { return };
    let Ok(offset) = uaccess::read_u64(head + 8) else { return };
    let Some((pending, pending_pi)) = read_ptr(head + 16) else { return };
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        let next = read_ptr(entry);
        if entry != pending {
            futex_death(t, entry.wrapping_add(offset), is_pi, false);
        }
        let Some((n, pi)) = next else { return };
        (entry, is_pi) = (n, pi);
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        futex_death(t, pending.wrapping_add(offset), pending_pi, true);
    }
}

/// Linux's handle_futex_death for one lock word.
fn futex_death(t: &Thread, uaddr: u64, is_pi: bool, is_pending_op: bool) {
    if uaddr % 4 != 0 {
        return;
    }
    let Ok(mut val) = uaccess::read_u32(uaddr) else { return };
    loop {
        // The owner died between taking the lock (word still 0) and
        // adding it to the list: wake a waiter that may be waiting on it.
        if is_pending_op && !is_pi && val == 0 {
            wake(t, uaddr, 1);
            return;
        }
        if val & FUTEX_TID_MASK != t.tid() {
            return;
        }
        let new = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        match uaccess::cmpxchg_u32(uaddr, val, new) {
            Ok(found) if found == val => break,
            Ok(found) => val = found,
            Err(_) => return,
        }
    }
    if !is_pi && val & FUTEX_WAITERS != 0 {
        wake(t, uaddr, 1);
    }
}

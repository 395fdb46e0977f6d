//! Timed sleep: a list of (deadline, task) checked on every timer tick.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Task, block_current, current, schedule, wake};
use crate::sync::SpinLock;
use crate::time;

static SLEEPERS: SpinLock<Vec<(u64, Arc<Task>)>> = SpinLock::new(Vec::new());

/// Sleeps for at least `ns` nanoseconds (tick granularity, 10 ms).
pub fn sleep_ns(ns: u64) {
    sleep_until_ns(time::uptime_ns().saturating_add(ns));
}

/// Sleeps until the monotonic clock reaches `deadline`.
pub fn sleep_until_ns(deadline: u64) {
    sleep_until_or(deadline, || false);
}

/// Sleeps until `deadline` or until `interrupted()` holds (checked at each
/// wake-up; `task::wake` on the sleeper forces one). Returns true when
/// interrupted (signals use this for EINTR).
pub fn sleep_until_or(deadline: u64, interrupted: impl Fn() -> bool) -> bool {
    let is_timed = deadline != u64::MAX;
    let mut is_listed = false;
    let woken_early = loop {
        if interrupted() {
            break true;
        }
        if time::uptime_ns() >= deadline {
            break false;
        }
        super::watchdog::check_may_sleep();
        let me = current();
        let blocked = {
            let mut s = SLEEPERS.lock();
            let ok = block_current(&me);
            // Without a deadline only the waker's `wake` ends the sleep, so
            // the timer list is left alone.
            if ok && is_timed && !is_listed {
                s.push((deadline, me.clone()));
                is_listed = true;
            }
            ok
        };
        // An interruption that came between the check and the block found
        // us running; look again now that a wake-up would reach us.
        if blocked && interrupted() {
            if !me.cas_state(super::State::Blocked, super::State::Running) {
                schedule();
            }
            break true;
        }
        // `me` stays alive across the switch: while blocked, this task may
        // have no other strong reference (no timer entry, and wakers such
        // as signals hold it weakly).
        schedule();
        drop(me);
    };
    if is_listed {
        disarm(deadline);
    }
    woken_early
}

/// Puts the calling task on the timer list: it is woken at `deadline`
/// (for waits that block elsewhere, such as a wait queue with a timeout).
pub(super) fn arm(deadline: u64) {
    SLEEPERS.lock().push((deadline, current()));
}

/// Takes the calling task's entry for `deadline` off the timer list, if
/// the timer has not: it would otherwise stay until the deadline (for a
/// long timeout, far beyond this sleep), holding a reference to the task.
pub(super) fn disarm(deadline: u64) {
    let me = current();
    let entry = {
        let mut s = SLEEPERS.lock();
        s.iter().position(|(d, t)| *d == deadline && Arc::ptr_eq(t, &me)).map(|i| s.swap_remove(i))
    };
    drop(entry); // not the last reference: `me` holds one
}

/// Wakes every sleeper whose deadline passed (from the timer interrupt).
///
/// Removed entries are dropped only after the lock is released: dropping
/// the last reference to a task frees its kernel stack, which may need a
/// TLB shootdown, and a shootdown must never wait while holding a lock
/// another CPU can spin on with interrupts off.
pub(super) fn wake_expired() {
    const BATCH: usize = 32;
    let now = time::uptime_ns();
    let mut removed: [Option<Arc<Task>>; BATCH] = [const { None }; BATCH];
    let mut n = 0;
    {
        let Some(mut s) = SLEEPERS.try_lock() else { return };
        let mut i = 0;
        while i < s.len() && n < BATCH {
            if s[i].0 <= now {
                let (_, t) = s.swap_remove(i);
                wake(&t);
                removed[n] = Some(t);
                n += 1;
            } else if s[i].1.state() == super::State::Dead {
                // Left by an interrupted sleep of a task that has since
                // exited: dropped so the task can be freed.
                removed[n] = Some(s.swap_remove(i).1);
                n += 1;
            } else {
                i += 1;
            }
        }
    }
    drop(removed);
}

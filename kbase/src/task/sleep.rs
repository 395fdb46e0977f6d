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
    loop {
        if interrupted() {
            return true;
        }
        if time::uptime_ns() >= deadline {
            return false;
        }
        let me = current();
        let blocked = {
            let mut s = SLEEPERS.lock();
            let ok = block_current(&me);
            if ok {
                s.push((deadline, me.clone()));
            }
            ok
        };
        // An interruption that came between the check and the block found
        // us running; look again now that a wake-up would reach us.
        if blocked && interrupted() {
            if !me.cas_state(super::State::Blocked, super::State::Running) {
                schedule();
            }
            return true;
        }
        drop(me);
        schedule();
    }
}

/// Wakes every sleeper whose deadline passed (from the timer interrupt).
pub(super) fn wake_expired() {
    let now = time::uptime_ns();
    let Some(mut s) = SLEEPERS.try_lock() else { return };
    let mut i = 0;
    while i < s.len() {
        if s[i].0 <= now {
            let (_, t) = s.swap_remove(i);
            wake(&t);
        } else {
            i += 1;
        }
    }
}

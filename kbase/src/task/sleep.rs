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
    while time::uptime_ns() < deadline {
        let me = current();
        {
            let mut s = SLEEPERS.lock();
            if block_current(&me) {
                s.push((deadline, me));
            }
        }
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

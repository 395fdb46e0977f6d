//! One-shot kernel timers whose callbacks may sleep: alarm(2) and
//! setitimer(2) today, timerfd and socket timeouts later.
//!
//! ```text
//!  arm(deadline, f) ─▶ TIMERS: BTreeMap<(deadline, id), callback>
//!                         │ earlier than the worker's next deadline?
//!                         ▼ wake the worker
//!  "timers" task: sleep until the earliest deadline (or a kick), then run
//!                 every expired callback, outside the lock, in order
//! ```
//! One task serves every timer, so a timer costs a map entry, not a kernel
//! thread with a stack, however far away its deadline is; `cancel` removes
//! the entry at once.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{Task, sleep_until_or, wake};
use crate::sync::{Once, SpinLock};
use crate::time;

type Callback = Box<dyn FnOnce() + Send + 'static>;

/// Names an armed timer, for [`cancel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId(u64);

static TIMERS: SpinLock<BTreeMap<(u64, u64), Callback>> = SpinLock::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Set when a timer earlier than the worker's current sleep was armed.
static KICKED: AtomicBool = AtomicBool::new(false);
static WORKER: Once<Arc<Task>> = Once::new();

/// Runs `f` (in a kernel thread, where it may sleep) once the monotonic
/// clock reaches `deadline_ns`, unless cancelled first. Err when the worker
/// thread could not be started (no memory).
pub fn arm(deadline_ns: u64, f: impl FnOnce() + Send + 'static) -> Result<TimerId, crate::mm::MmError> {
    start_worker()?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let is_first = {
        let mut t = TIMERS.lock();
        t.insert((deadline_ns, id), Box::new(f));
        t.keys().next() == Some(&(deadline_ns, id))
    };
    if is_first {
        KICKED.store(true, Ordering::Release);
        if let Some(w) = WORKER.get() {
            wake(w);
        }
    }
    Ok(TimerId(id))
}

/// Disarms `id`; true if it had not fired yet.
pub fn cancel(id: TimerId) -> bool {
    let removed = {
        let mut t = TIMERS.lock();
        let key = t.keys().find(|k| k.1 == id.0).copied();
        key.and_then(|k| t.remove(&k))
    };
    // Dropped outside the lock: a callback may own anything.
    removed.is_some()
}

/// Number of armed timers (tests and leak checks).
pub fn armed() -> usize {
    TIMERS.lock().len()
}

fn start_worker() -> Result<(), crate::mm::MmError> {
    if WORKER.get().is_some() {
        return Ok(());
    }
    static STARTING: AtomicBool = AtomicBool::new(false);
    if STARTING.swap(true, Ordering::AcqRel) {
        // Another CPU is starting it; its first pass sees our entry.
        return Ok(());
    }
    let handle = super::spawn("timers", worker)?;
    WORKER.set(handle.task().clone());
    Ok(())
}

fn worker() {
    loop {
        let next = TIMERS.lock().keys().next().map_or(u64::MAX, |k| k.0);
        if next > time::uptime_ns() {
            sleep_until_or(next, || KICKED.swap(false, Ordering::AcqRel));
        }
        let now = time::uptime_ns();
        let due: Vec<Callback> = {
            let mut t = TIMERS.lock();
            let later = t.split_off(&(now.saturating_add(1), 0));
            core::mem::replace(&mut *t, later).into_values().collect()
        };
        for f in due {
            f();
        }
    }
}

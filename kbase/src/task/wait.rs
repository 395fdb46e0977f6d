//! Wait queues and the sleeping mutex.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

use super::{State, Task, block_current, current, schedule, wake};
use crate::sync::SpinLock;

/// Tasks waiting for a condition.
pub struct WaitQueue {
    waiters: SpinLock<VecDeque<Arc<Task>>>,
}

impl WaitQueue {
    pub const fn new() -> Self {
        Self { waiters: SpinLock::new(VecDeque::new()) }
    }

    /// Sleeps until `cond` returns `Some`. `cond` is re-checked after the
    /// task registered itself, so a wake-up between check and sleep is
    /// never lost.
    pub fn wait_until<R>(&self, mut cond: impl FnMut() -> Option<R>) -> R {
        loop {
            if let Some(r) = cond() {
                return r;
            }
            let me = current();
            let registered = {
                let mut w = self.waiters.lock();
                let ok = block_current(&me);
                if ok {
                    w.push_back(me.clone());
                }
                ok
            };
            if !registered {
                drop(me);
                schedule();
                continue;
            }
            if let Some(r) = cond() {
                self.cancel(&me);
                return r;
            }
            schedule();
            // Woken by this queue (which took our entry) or by someone else,
            // such as a signal's kick: then our entry is still queued, and
            // must go, or it would pile up and keep the task alive.
            self.waiters.lock().retain(|t| !Arc::ptr_eq(t, &me));
            drop(me);
        }
    }

    /// Like [`WaitQueue::wait_until`], but the wait counts as
    /// uninterruptible: the hung-task detector reports it when it lasts
    /// longer than the timeout. For waits that must end soon whatever
    /// happens (a sleeping lock, joining a thread), never for waits on
    /// user-controlled events.
    pub fn wait_uninterruptible<R>(&self, mut cond: impl FnMut() -> Option<R>) -> R {
        if let Some(r) = cond() {
            return r;
        }
        let me = current();
        super::watchdog::begin_uninterruptible(&me);
        let r = self.wait_until(cond);
        super::watchdog::end_uninterruptible(&me);
        r
    }

    /// Undoes a registration when the condition turned out true.
    fn cancel(&self, me: &Arc<Task>) {
        self.waiters.lock().retain(|t| !Arc::ptr_eq(t, me));
        if !me.cas_state(State::Blocked, State::Running) {
            // A waker already queued us: let the scheduler consume that.
            schedule();
        }
    }

    /// Wakes one waiter; returns whether there was one.
    pub fn wake_one(&self) -> bool {
        loop {
            let Some(t) = self.waiters.lock().pop_front() else { return false };
            if wake(&t) {
                return true;
            }
        }
    }

    /// Wakes every waiter; returns how many were woken.
    pub fn wake_all(&self) -> usize {
        let all: VecDeque<Arc<Task>> = core::mem::take(&mut *self.waiters.lock());
        all.iter().filter(|t| wake(t)).count()
    }

    pub fn len(&self) -> usize {
        self.waiters.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// A mutex that puts waiters to sleep. Not for interrupt context.
///
/// # Invariants
/// `locked` is true exactly while one `MutexGuard` exists.
pub struct Mutex<T: ?Sized> {
    locked: AtomicBool,
    waiters: WaitQueue,
    value: UnsafeCell<T>,
}

// SAFETY: one guard at a time gives access to `value`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves the value it owns.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Self { locked: AtomicBool::new(false), waiters: WaitQueue::new(), value: UnsafeCell::new(value) }
    }
}

impl<T: ?Sized> Mutex<T> {
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.waiters.wait_uninterruptible(|| {
            self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok()
        });
        // INVARIANT: we set `locked`.
        MutexGuard { mutex: self }
    }

    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| MutexGuard { mutex: self })
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists, so we hold the lock (type invariant).
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes the borrow unique.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.locked.store(false, Ordering::Release);
        self.mutex.waiters.wake_one();
    }
}

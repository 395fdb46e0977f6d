//! Wait queues and the sleeping mutex.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

use super::{State, Task, block_current, current, schedule, wake};
use crate::sync::SpinLock;

/// Tasks waiting for a condition.
///
/// `queued` mirrors the queue's length (updated under its lock) so that a
/// wake-up with nobody waiting, the common case of every `Mutex` unlock,
/// costs a fence and a load instead of a spin-lock round trip (whose `sti`
/// alone costs ~100 ns under TCG). Lost wake-ups are excluded by a SeqCst
/// fence on both sides: the waiter publishes itself, fences, then re-checks
/// the condition; the waker changes the condition, fences, then reads
/// `queued`. One of the two sees the other's write.
pub struct WaitQueue {
    waiters: SpinLock<VecDeque<Arc<Task>>>,
    queued: AtomicUsize,
}

impl WaitQueue {
    pub const fn new() -> Self {
        Self { waiters: SpinLock::new(VecDeque::new()), queued: AtomicUsize::new(0) }
    }

    /// True when no task can be queued (see the type's comment).
    fn nobody_waits(&self) -> bool {
        fence(Ordering::SeqCst);
        self.queued.load(Ordering::Relaxed) == 0
    }

    /// Removes `me` from the queue.
    fn remove(&self, me: &Arc<Task>) {
        let mut w = self.waiters.lock();
        w.retain(|t| !Arc::ptr_eq(t, me));
        self.queued.store(w.len(), Ordering::Relaxed);
    }

    /// Sleeps until `cond` returns `Some`. `cond` is re-checked after the
    /// task registered itself, so a wake-up between check and sleep is
    /// never lost.
    pub fn wait_until<R>(&self, mut cond: impl FnMut() -> Option<R>) -> R {
        loop {
            if let Some(r) = cond() {
                return r;
            }
            super::watchdog::check_may_sleep();
            let me = current();
            let registered = {
                let mut w = self.waiters.lock();
                let ok = block_current(&me);
                if ok {
                    w.push_back(me.clone());
                    self.queued.store(w.len(), Ordering::Relaxed);
                }
                ok
            };
            fence(Ordering::SeqCst);
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
            self.remove(&me);
            drop(me);
        }
    }

    /// Like [`WaitQueue::wait_until`], but gives up when the monotonic
    /// clock reaches `deadline` (ns): `None` then. The task is also on the
    /// timer list, which wakes it at the deadline (tick granularity).
    pub fn wait_until_deadline<R>(&self, deadline: u64, mut cond: impl FnMut() -> Option<R>) -> Option<R> {
        let mut is_armed = false;
        let r = self.wait_until(|| {
            if let Some(r) = cond() {
                return Some(Some(r));
            }
            if crate::time::uptime_ns() >= deadline {
                return Some(None);
            }
            // Armed before the task blocks; a timer that fires before it
            // does is seen by the next check of the clock.
            if !is_armed {
                super::sleep::arm(deadline);
                is_armed = true;
            }
            None
        });
        if is_armed {
            super::sleep::disarm(deadline);
        }
        r
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
        self.remove(me);
        if !me.cas_state(State::Blocked, State::Running) {
            // A waker already queued us: let the scheduler consume that.
            schedule();
        }
    }

    /// Wakes one waiter; returns whether there was one.
    pub fn wake_one(&self) -> bool {
        if self.nobody_waits() {
            return false;
        }
        loop {
            let t = {
                let mut w = self.waiters.lock();
                let t = w.pop_front();
                self.queued.store(w.len(), Ordering::Relaxed);
                t
            };
            let Some(t) = t else { return false };
            if wake(&t) {
                return true;
            }
        }
    }

    /// Wakes every waiter; returns how many were woken.
    pub fn wake_all(&self) -> usize {
        if self.nobody_waits() {
            return 0;
        }
        let all: VecDeque<Arc<Task>> = {
            let mut w = self.waiters.lock();
            self.queued.store(0, Ordering::Relaxed);
            core::mem::take(&mut *w)
        };
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

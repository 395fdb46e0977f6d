//! Readiness notification: how a file tells waiters that its `poll()`
//! state may have changed.
//!
//! ```text
//!  file state change (pipe write, eventfd write, console IRQ, timer, signal)
//!     └─▶ PollQueue::notify(events) ──▶ every live Observer::notify(events)
//!            ├─ Poller (poll, select, epoll_wait): set `woken`, wake its task
//!            └─ epoll item: put the item on its instance's ready list, wake
//!               the instance's waiters and notify the instance's own queue
//! ```
//! A file that can become ready returns its queue from
//! [`File::poll_queue`](crate::file::File::poll_queue); one that has none
//! is always ready (regular files) and cannot be added to an epoll set.
//! Sockets join the same way: a queue in the socket, notified where the
//! socket's state changes.
//!
//! Queues hold observers weakly, so a waiter that goes away is pruned
//! without a callback into the queue. `notify` may run in interrupt
//! context (the console): observers only take spin locks and wake tasks.
//! Nothing in this module unsubscribes from a `Drop`, since a drop can
//! happen inside `notify` while a queue lock is held.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use kbase::sync::SpinLock;

use crate::errno::{EINTR, Errno};
use crate::process::Thread;

/// Something to tell when a file's readiness may have changed.
pub trait Observer: Send + Sync {
    /// `events` are the poll bits that may now hold (a hint; 0: any).
    /// Must not sleep: it may run in interrupt context.
    fn notify(&self, events: u32);
}

/// The observers of one file (or of one source of events).
pub struct PollQueue {
    observers: SpinLock<Vec<Weak<dyn Observer>>>,
}

impl PollQueue {
    pub const fn new() -> Self {
        Self { observers: SpinLock::new(Vec::new()) }
    }

    pub fn subscribe(&self, o: Weak<dyn Observer>) {
        let mut obs = self.observers.lock();
        obs.retain(|w| w.strong_count() > 0);
        obs.push(o);
    }

    pub fn unsubscribe(&self, o: &Weak<dyn Observer>) {
        self.observers.lock().retain(|w| w.strong_count() > 0 && !Weak::ptr_eq(w, o));
    }

    /// Tells every observer; `events` as in [`Observer::notify`].
    pub fn notify(&self, events: u32) {
        let obs = self.observers.lock();
        for w in obs.iter() {
            if let Some(o) = w.upgrade() {
                o.notify(events);
            }
        }
    }
}

impl Default for PollQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// A task waiting for any of several queues (poll, select, epoll_wait).
pub struct Poller {
    task: Arc<kbase::task::Task>,
    woken: AtomicBool,
}

impl Observer for Poller {
    fn notify(&self, _events: u32) {
        self.woken.store(true, Ordering::Release);
        kbase::task::wake(&self.task);
    }
}

/// How a [`Poller::wait`] ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Woken {
    Notified,
    TimedOut,
}

impl Poller {
    /// A poller for the calling task.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { task: kbase::task::current(), woken: AtomicBool::new(false) })
    }

    /// As a weak observer, to subscribe to queues.
    pub fn observer(self: &Arc<Self>) -> Weak<dyn Observer> {
        let o: Arc<dyn Observer> = self.clone();
        Arc::downgrade(&o)
    }

    /// Sleeps until a notification since the last call, `deadline`
    /// (monotonic ns; None: none) or a signal for `t` (EINTR).
    pub fn wait(&self, deadline: Option<u64>, t: &Thread) -> Result<Woken, Errno> {
        let interrupted = kbase::task::sleep_until_or(deadline.unwrap_or(u64::MAX), || {
            self.woken.load(Ordering::Acquire) || crate::signal::has_pending(t)
        });
        if self.woken.swap(false, Ordering::AcqRel) {
            Ok(Woken::Notified)
        } else if interrupted {
            Err(EINTR)
        } else {
            Ok(Woken::TimedOut)
        }
    }
}

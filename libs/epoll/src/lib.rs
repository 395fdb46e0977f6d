//! The bookkeeping of one epoll instance: the interest list and the ready
//! list, with level-triggered, edge-triggered (`EPOLLET`) and one-shot
//! (`EPOLLONESHOT`) reporting, as Linux's `fs/eventpoll.c` does it.
//!
//! ```text
//!   add/modify ──▶ entry queued (the file is polled at the next wait)
//!   notify(key)  ──▶ Idle entry → Queued (end of the ready list)
//!                    Scanning entry → remembered (re-queued after the scan)
//!   wait: begin_scan() takes the ready list ──▶ caller polls each file
//!         without the lock ──▶ end_scan(results, max):
//!           not ready             → dropped (until the next notify)
//!           reported, level       → queued again (polled again next wait)
//!           reported, edge        → dropped unless notified meanwhile
//!           reported, one-shot    → disabled until EPOLL_CTL_MOD
//!           beyond `max`          → back at the front, for the next wait
//! ```
//! Files are polled outside the instance's lock (the caller's job), so a
//! notification that arrives while its entry is being polled is not lost.
//! `notify` never allocates: the ready list's capacity is reserved when
//! an entry is added, so it may run in interrupt context. The key type is
//! the caller's (the kernel uses (fd, open file)); `T` is whatever the
//! caller keeps with each entry.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use linux_raw_sys::general::{EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLONESHOT, EPOLLWAKEUP};

/// Bits of `events` that are flags, not events.
pub const FLAG_BITS: u32 = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;

/// Why an interest-list change failed (EEXIST, ENOENT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtlError {
    Exists,
    NotFound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Queued,
    Scanning { renotified: bool },
}

struct Entry<T> {
    /// Requested events and flags; EPOLLERR and EPOLLHUP always.
    events: u32,
    data: u64,
    payload: T,
    /// Distinguishes an entry from a later one with the same key.
    id: u64,
    state: State,
    /// A one-shot entry that reported: silent until modified.
    is_disabled: bool,
}

/// One entry taken by [`Interest::begin_scan`]: poll `payload`'s file and
/// hand the result back to [`Interest::end_scan`] with `key` and `id`.
pub struct ScanItem<K, T> {
    pub key: K,
    pub id: u64,
    pub payload: T,
}

/// An epoll instance's interest list and ready list.
pub struct Interest<K, T> {
    entries: BTreeMap<K, Entry<T>>,
    ready: VecDeque<K>,
    next_id: u64,
}

impl<K: Ord + Clone, T: Clone> Default for Interest<K, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone, T: Clone> Interest<K, T> {
    pub const fn new() -> Self {
        Self { entries: BTreeMap::new(), ready: VecDeque::new(), next_id: 1 }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// EPOLL_CTL_ADD. The entry starts queued, so the next wait polls it.
    pub fn add(&mut self, key: K, events: u32, data: u64, payload: T) -> Result<(), CtlError> {
        if self.entries.contains_key(&key) {
            return Err(CtlError::Exists);
        }
        let id = self.next_id;
        self.next_id += 1;
        let e = Entry { events: events | EPOLLERR | EPOLLHUP, data, payload, id, state: State::Idle, is_disabled: false };
        self.entries.insert(key.clone(), e);
        // `notify` must never allocate: room for every entry at once.
        self.ready.reserve(self.entries.len().saturating_sub(self.ready.len()));
        self.enqueue(&key);
        Ok(())
    }

    /// EPOLL_CTL_MOD: new events and data; re-arms a one-shot entry.
    pub fn modify(&mut self, key: &K, events: u32, data: u64) -> Result<(), CtlError> {
        let e = self.entries.get_mut(key).ok_or(CtlError::NotFound)?;
        e.events = events | EPOLLERR | EPOLLHUP;
        e.data = data;
        e.is_disabled = false;
        self.enqueue(key);
        Ok(())
    }

    /// EPOLL_CTL_DEL (also used when the file went away).
    pub fn remove(&mut self, key: &K) -> Result<T, CtlError> {
        let e = self.entries.remove(key).ok_or(CtlError::NotFound)?;
        if e.state == State::Queued {
            self.ready.retain(|k| k != key);
        }
        Ok(e.payload)
    }

    pub fn get(&self, key: &K) -> Option<&T> {
        self.entries.get(key).map(|e| &e.payload)
    }

    /// The requested events and flags of `key`.
    pub fn events(&self, key: &K) -> Option<u32> {
        self.entries.get(key).map(|e| e.events)
    }

    /// Every entry's key and payload (cycle checks, cleanup).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &T)> {
        self.entries.iter().map(|(k, e)| (k, &e.payload))
    }

    /// The file of `key` says its readiness may have changed; `events` is
    /// its hint (0: any). Returns true if the entry is interested (then
    /// it is queued, or re-queued after a scan in progress): wake the
    /// waiters and tell whoever watches the instance, even if it was
    /// queued already, since an outer epoll set may not have looked
    /// since. Never allocates.
    pub fn notify(&mut self, key: &K, events: u32) -> bool {
        let Some(e) = self.entries.get(key) else { return false };
        if e.is_disabled || (events != 0 && events & e.events & !FLAG_BITS == 0) {
            return false;
        }
        self.enqueue(key);
        true
    }

    /// Whether a wait has anything to poll.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The queued entries that can still report, with the events they
    /// want (for polling the instance itself, without consuming).
    pub fn queued(&self) -> Vec<(T, u32)> {
        self.ready
            .iter()
            .filter_map(|k| self.entries.get(k))
            .filter(|e| !e.is_disabled)
            .map(|e| (e.payload.clone(), e.events & !FLAG_BITS))
            .collect()
    }

    /// Takes the ready list for polling.
    pub fn begin_scan(&mut self) -> Vec<ScanItem<K, T>> {
        let keys: Vec<K> = self.ready.drain(..).collect();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(e) = self.entries.get_mut(&key) {
                e.state = State::Scanning { renotified: false };
                out.push(ScanItem { key, id: e.id, payload: e.payload.clone() });
            }
        }
        out
    }

    /// Takes the poll results of a scan, in scan order (`revents` 0 for a
    /// file that is gone), and returns up to `max` (events, data) pairs
    /// to report.
    pub fn end_scan(&mut self, polled: impl IntoIterator<Item = (K, u64, u32)>, max: usize) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut leftover = Vec::new();
        for (key, id, revents) in polled {
            let Some(e) = self.entries.get_mut(&key) else { continue };
            let State::Scanning { renotified } = e.state else { continue };
            if e.id != id {
                continue;
            }
            e.state = State::Idle;
            let ev = revents & e.events & !FLAG_BITS;
            if e.is_disabled || ev == 0 {
                if renotified && !e.is_disabled {
                    self.enqueue(&key);
                }
                continue;
            }
            if out.len() >= max {
                e.state = State::Queued;
                leftover.push(key);
                continue;
            }
            out.push((ev, e.data));
            if e.events & EPOLLONESHOT != 0 {
                e.is_disabled = true;
            } else if e.events & EPOLLET == 0 || renotified {
                self.enqueue(&key);
            }
        }
        // Entries that did not fit go first next time (Linux's fairness).
        for key in leftover.into_iter().rev() {
            self.ready.push_front(key);
        }
        out
    }

    fn enqueue(&mut self, key: &K) {
        if let Some(e) = self.entries.get_mut(key) {
            match e.state {
                State::Idle => {
                    e.state = State::Queued;
                    self.ready.push_back(key.clone());
                }
                State::Scanning { .. } => e.state = State::Scanning { renotified: true },
                State::Queued => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;

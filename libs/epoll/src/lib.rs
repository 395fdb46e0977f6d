//! The bookkeeping of one epoll instance: the interest list and the ready
//! list, with level-triggered, edge-triggered (`EPOLLET`) and one-shot
//! (`EPOLLONESHOT`) reporting, as Linux's `fs/eventpoll.c` does it.
//!
//! ```text
//!   add/modify ──▶ entry queued (the file is polled at the next wait)
//!   notify(handle) ──▶ Idle entry → Queued (end of the ready list)
//!                      Scanning entry → remembered (re-queued after the scan)
//!   wait: begin_scan(buf) moves the ready list into the caller's buffer
//!         ──▶ caller polls each file without the lock, filling `revents`
//!         ──▶ end_scan(buf, out):
//!           not ready             → dropped (until the next notify)
//!           reported, level       → queued again (polled again next wait)
//!           reported, edge        → dropped unless notified meanwhile
//!           reported, one-shot    → disabled until EPOLL_CTL_MOD
//!           beyond `out.len()`    → back at the front, for the next wait
//! ```
//! Files are polled outside the instance's lock (the caller's job), so a
//! notification that arrives while its entry is being polled is not lost.
//!
//! Entries live in slots; the key (the kernel uses (fd, open file)) finds a
//! slot for epoll_ctl, and a [`Handle`] (slot and a generation number)
//! names an entry everywhere else: notifications and scans reach their
//! entry without a search, and a handle of a removed entry matches nothing
//! even when its slot is reused. The ready list holds slot numbers.
//!
//! Nothing on the notify or wait path allocates: `notify` may run in
//! interrupt context (the ready list's capacity is reserved when an entry
//! is added), and a wait scans into a buffer the caller keeps from one
//! wait to the next and reports into a slice. `T` is whatever the caller
//! keeps with each entry.

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

/// Names one entry: its slot and the generation it was added in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    slot: u32,
    id: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Queued,
    Scanning { renotified: bool },
}

struct Entry<K, T> {
    key: K,
    /// Requested events and flags; EPOLLERR and EPOLLHUP always.
    events: u32,
    data: u64,
    payload: T,
    /// Distinguishes an entry from a later one in the same slot.
    id: u64,
    state: State,
    /// A one-shot entry that reported: silent until modified.
    is_disabled: bool,
}

/// One entry taken by [`Interest::begin_scan`]: poll the file `payload`
/// names, set `revents`, and hand the buffer to [`Interest::end_scan`].
pub struct ScanItem<U> {
    pub handle: Handle,
    pub payload: U,
    /// What the poll found (0 for a file that is gone).
    pub revents: u32,
}

/// An epoll instance's interest list and ready list.
pub struct Interest<K, T> {
    index: BTreeMap<K, u32>,
    slots: Vec<Option<Entry<K, T>>>,
    free: Vec<u32>,
    ready: VecDeque<u32>,
    next_id: u64,
}

impl<K: Ord + Clone, T> Default for Interest<K, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone, T> Interest<K, T> {
    pub const fn new() -> Self {
        Self { index: BTreeMap::new(), slots: Vec::new(), free: Vec::new(), ready: VecDeque::new(), next_id: 1 }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// EPOLL_CTL_ADD. `payload` is made from the new entry's handle (the
    /// caller's notifier keeps it). The entry starts queued, so the next
    /// wait polls it.
    pub fn add(
        &mut self,
        key: K,
        events: u32,
        data: u64,
        payload: impl FnOnce(Handle) -> T,
    ) -> Result<Handle, CtlError> {
        if self.index.contains_key(&key) {
            return Err(CtlError::Exists);
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let handle = Handle { slot, id: self.next_id };
        self.next_id += 1;
        let entry = Entry {
            key: key.clone(),
            events: events | EPOLLERR | EPOLLHUP,
            data,
            payload: payload(handle),
            id: handle.id,
            state: State::Idle,
            is_disabled: false,
        };
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some(entry);
        }
        self.index.insert(key, slot);
        // `notify` must never allocate: room for every entry at once.
        self.ready.reserve(self.index.len().saturating_sub(self.ready.len()));
        self.enqueue(slot);
        Ok(handle)
    }

    /// EPOLL_CTL_MOD: new events and data; re-arms a one-shot entry.
    pub fn modify(&mut self, key: &K, events: u32, data: u64) -> Result<(), CtlError> {
        let slot = *self.index.get(key).ok_or(CtlError::NotFound)?;
        let e = self.entry_mut(slot).ok_or(CtlError::NotFound)?;
        e.events = events | EPOLLERR | EPOLLHUP;
        e.data = data;
        e.is_disabled = false;
        self.enqueue(slot);
        Ok(())
    }

    /// EPOLL_CTL_DEL.
    pub fn remove(&mut self, key: &K) -> Result<T, CtlError> {
        let slot = *self.index.get(key).ok_or(CtlError::NotFound)?;
        self.remove_slot(slot).ok_or(CtlError::NotFound)
    }

    /// Removes the entry `handle` names (its file went away); None if it
    /// is gone already.
    pub fn remove_handle(&mut self, handle: Handle) -> Option<T> {
        self.entry_of(handle)?;
        self.remove_slot(handle.slot)
    }

    fn remove_slot(&mut self, slot: u32) -> Option<T> {
        let e = self.slots.get_mut(slot as usize)?.take()?;
        self.index.remove(&e.key);
        self.free.push(slot);
        if e.state == State::Queued {
            self.ready.retain(|&s| s != slot);
        }
        Some(e.payload)
    }

    pub fn get(&self, key: &K) -> Option<&T> {
        self.slot_entry(*self.index.get(key)?).map(|e| &e.payload)
    }

    /// The payload of the entry `handle` names, if it is still there.
    pub fn get_handle(&self, handle: Handle) -> Option<&T> {
        self.entry_of(handle).map(|e| &e.payload)
    }

    /// The requested events and flags of `key`.
    pub fn events(&self, key: &K) -> Option<u32> {
        self.slot_entry(*self.index.get(key)?).map(|e| e.events)
    }

    /// Every entry's key and payload (cycle checks, cleanup).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &T)> {
        self.slots.iter().flatten().map(|e| (&e.key, &e.payload))
    }

    /// The file of entry `handle` says its readiness may have changed;
    /// `events` is its hint (0: any). Returns true if the entry is
    /// interested (then it is queued, or re-queued after a scan in
    /// progress): wake the waiters and tell whoever watches the instance,
    /// even if it was queued already, since an outer epoll set may not
    /// have looked since. Never allocates.
    pub fn notify(&mut self, handle: Handle, events: u32) -> bool {
        let Some(e) = self.entry_of(handle) else { return false };
        if e.is_disabled || (events != 0 && events & e.events & !FLAG_BITS == 0) {
            return false;
        }
        self.enqueue(handle.slot);
        true
    }

    /// Whether a wait has anything to poll.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Calls `f` with each queued entry that can still report and the
    /// events it wants (for polling the instance itself, without
    /// consuming).
    pub fn for_each_queued(&self, mut f: impl FnMut(&T, u32)) {
        for &slot in &self.ready {
            if let Some(e) = self.slot_entry(slot)
                && !e.is_disabled
            {
                f(&e.payload, e.events & !FLAG_BITS);
            }
        }
    }

    /// Moves the ready list into `buf` (cleared first; its capacity is
    /// kept, so a caller that keeps the buffer does not allocate in the
    /// steady state), each entry with `project(payload)`: what the caller
    /// needs to poll its file.
    pub fn begin_scan<U>(&mut self, buf: &mut Vec<ScanItem<U>>, project: impl Fn(&T) -> U) {
        buf.clear();
        buf.reserve(self.ready.len());
        while let Some(slot) = self.ready.pop_front() {
            if let Some(Some(e)) = self.slots.get_mut(slot as usize) {
                e.state = State::Scanning { renotified: false };
                buf.push(ScanItem { handle: Handle { slot, id: e.id }, payload: project(&e.payload), revents: 0 });
            }
        }
    }

    /// Takes the poll results of a scan (`revents` filled in, scan order)
    /// and fills `out` with up to `out.len()` (events, data) pairs to
    /// report; returns how many.
    pub fn end_scan<U>(&mut self, scan: &[ScanItem<U>], out: &mut [(u32, u64)]) -> usize {
        let mut n = 0;
        // The first entry that was ready but did not fit in `out`.
        let mut first_left = None;
        for (i, item) in scan.iter().enumerate() {
            let slot = item.handle.slot;
            let Some(e) = self.scanning_entry_mut(item.handle) else { continue };
            let State::Scanning { renotified } = e.state else { continue };
            let ev = item.revents & e.events & !FLAG_BITS;
            if e.is_disabled || ev == 0 {
                e.state = State::Idle;
                if renotified && !e.is_disabled {
                    self.enqueue(slot);
                }
                continue;
            }
            let Some(o) = out.get_mut(n) else {
                // Queued, and put on the list after the loop.
                e.state = State::Queued;
                first_left.get_or_insert(i);
                continue;
            };
            *o = (ev, e.data);
            n += 1;
            e.state = State::Idle;
            if e.events & EPOLLONESHOT != 0 {
                e.is_disabled = true;
            } else if e.events & EPOLLET == 0 || renotified {
                self.enqueue(slot);
            }
        }
        // Entries that did not fit go first next time (Linux's fairness),
        // in scan order.
        if let Some(first) = first_left {
            for item in scan.iter().skip(first).rev() {
                if self.entry_of(item.handle).is_some_and(|e| {
                    e.state == State::Queued && !e.is_disabled && item.revents & e.events & !FLAG_BITS != 0
                }) {
                    self.ready.push_front(item.handle.slot);
                }
            }
        }
        n
    }

    fn slot_entry(&self, slot: u32) -> Option<&Entry<K, T>> {
        self.slots.get(slot as usize)?.as_ref()
    }

    fn entry_mut(&mut self, slot: u32) -> Option<&mut Entry<K, T>> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    fn entry_of(&self, h: Handle) -> Option<&Entry<K, T>> {
        self.slot_entry(h.slot).filter(|e| e.id == h.id)
    }

    fn scanning_entry_mut(&mut self, h: Handle) -> Option<&mut Entry<K, T>> {
        self.entry_mut(h.slot).filter(|e| e.id == h.id && matches!(e.state, State::Scanning { .. }))
    }

    fn enqueue(&mut self, slot: u32) {
        let Some(e) = self.entry_mut(slot) else { return };
        match e.state {
            State::Idle => {
                e.state = State::Queued;
                self.ready.push_back(slot);
            }
            State::Scanning { .. } => e.state = State::Scanning { renotified: true },
            State::Queued => {}
        }
    }
}

#[cfg(test)]
mod tests;

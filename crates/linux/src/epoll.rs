//! epoll(7): epoll_create1, epoll_ctl, epoll_wait / epoll_pwait / epoll_pwait2.
//!
//! ```text
//!  Epoll ── Shared { interest: SpinLock<epoll::Interest<(fd, file), Item>>, pollq }
//!  Item { file: Weak<dyn File>, queue (the file's PollQueue), observer }
//!  file state change ─▶ file's PollQueue ─▶ ItemObserver::notify
//!        ─▶ Interest::notify (ready list) ─▶ Shared::pollq: epoll_wait's Poller,
//!           or an outer epoll / poll(2) watching this instance
//!  epoll_wait ─▶ begin_scan ─▶ poll each file (no lock held) ─▶ end_scan
//!        nothing to report ─▶ Poller::wait (timeout, EINTR) and scan again
//! ```
//! The ready-list rules (level, edge, one-shot) are `libs/epoll`. Items
//! hold their file weakly, as Linux does: closing the last descriptor of a
//! file removes it from every epoll set (the entry is dropped at the next
//! scan) and lets the other end of a pipe see the hang-up.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use epoll::{CtlError, Interest};
use kbase::sync::SpinLock;
use linux_raw_sys::general::{
    EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP,
    EPOLLIN, EPOLLOUT, EPOLLRDBAND, EPOLLRDNORM, EPOLLWAKEUP, EPOLLWRBAND, EPOLLWRNORM,
};
use vfs::Stat;

use crate::errno::{EBADF, EEXIST, EFAULT, EINVAL, ELOOP, ENOENT, EPERM, Errno, SysResult};
use crate::file::{File, OpenFlags};
use crate::pollq::{Observer, PollQueue, Poller};
use crate::process::current;
use crate::uaccess;

/// (descriptor, open file) as Linux keys its items.
type Key = (i32, usize);

/// sizeof(struct epoll_event) on x86_64 (packed).
const EVENT_SIZE: usize = 12;
/// Linux's EP_MAX_EVENTS.
const MAX_EVENTS: i32 = i32::MAX / EVENT_SIZE as i32;
/// Linux's EP_MAX_NESTS: how deep epoll sets may contain each other.
const MAX_NESTS: usize = 4;
/// Bits EPOLLEXCLUSIVE may be combined with (EPOLLEXCLUSIVE_OK_BITS).
const EXCLUSIVE_OK: u32 = EPOLLIN
    | EPOLLOUT
    | EPOLLRDNORM
    | EPOLLRDBAND
    | EPOLLWRNORM
    | EPOLLWRBAND
    | EPOLLERR
    | EPOLLHUP
    | EPOLLWAKEUP
    | EPOLLET
    | EPOLLEXCLUSIVE;

#[derive(Clone)]
struct Item {
    file: Weak<dyn File>,
    queue: Arc<PollQueue>,
    observer: Arc<ItemObserver>,
}

impl Item {
    fn observer(&self) -> Weak<dyn Observer> {
        let o: Arc<dyn Observer> = self.observer.clone();
        Arc::downgrade(&o)
    }
}

struct Shared {
    interest: SpinLock<Interest<Key, Item>>,
    /// Told when an item becomes ready: epoll_wait callers and whoever
    /// polls this instance.
    pollq: Arc<PollQueue>,
}

/// Subscribed to one item's file; feeds the instance's ready list.
struct ItemObserver {
    ep: Weak<Shared>,
    key: Key,
}

impl Observer for ItemObserver {
    fn notify(&self, events: u32) {
        if let Some(ep) = self.ep.upgrade()
            && ep.interest.lock().notify(&self.key, events)
        {
            ep.pollq.notify(EPOLLIN);
        }
    }
}

/// An epoll instance, as an open file.
pub struct Epoll {
    shared: Arc<Shared>,
    _census: crate::census::Token,
}

fn file_addr(f: &Arc<dyn File>) -> usize {
    Arc::as_ptr(f).cast::<u8>() as usize
}

/// What `poll()` says of `f`, widened to epoll bits (RDNORM/WRNORM too).
fn poll_bits(f: &dyn File) -> u32 {
    let mut ev = u32::from(f.poll());
    if ev & EPOLLIN != 0 {
        ev |= EPOLLRDNORM;
    }
    if ev & EPOLLOUT != 0 {
        ev |= EPOLLWRNORM;
    }
    ev
}

impl Epoll {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            shared: Arc::new(Shared { interest: SpinLock::new(Interest::new()), pollq: Arc::new(PollQueue::new()) }),
            _census: crate::census::Token::new(crate::census::Kind::Epoll),
        })
    }

    /// The epoll instances directly in this one's interest list.
    fn nested(&self) -> Vec<Arc<dyn File>> {
        let files: Vec<Weak<dyn File>> = self.shared.interest.lock().iter().map(|(_, i)| i.file.clone()).collect();
        files.into_iter().filter_map(|w| w.upgrade()).filter(|f| as_epoll(f.as_ref()).is_some()).collect()
    }

    /// One scan of the ready list: up to `max` events to report.
    fn harvest(&self, max: usize) -> Vec<(u32, u64)> {
        let scan = self.shared.interest.lock().begin_scan();
        let mut gone = Vec::new();
        let polled: Vec<(Key, u64, u32)> = scan
            .iter()
            .map(|s| {
                let ev = match s.payload.file.upgrade() {
                    Some(f) => poll_bits(f.as_ref()),
                    None => {
                        gone.push(s.key);
                        0
                    }
                };
                (s.key, s.id, ev)
            })
            .collect();
        let out = {
            let mut i = self.shared.interest.lock();
            let out = i.end_scan(polled, max);
            gone.retain(|k| i.get(k).is_some_and(|it| it.file.strong_count() == 0));
            let removed: Vec<Item> = gone.iter().filter_map(|k| i.remove(k).ok()).collect();
            drop(i);
            for it in removed {
                it.queue.unsubscribe(&it.observer());
            }
            out
        };
        out
    }

    /// Whether a wait would report something now (poll on the epoll fd);
    /// consumes nothing.
    fn is_ready(&self) -> bool {
        let queued = self.shared.interest.lock().queued();
        queued.iter().any(|(it, want)| it.file.upgrade().is_some_and(|f| poll_bits(f.as_ref()) & want != 0))
    }
}

fn as_epoll(f: &dyn File) -> Option<&Epoll> {
    f.as_any().and_then(|a| a.downcast_ref::<Epoll>())
}

impl File for Epoll {
    fn poll(&self) -> u16 {
        if self.is_ready() { crate::file::POLLIN } else { 0 }
    }

    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        Some(self.shared.pollq.clone())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::file::anon_stat())
    }

    fn flags(&self) -> OpenFlags {
        OpenFlags(OpenFlags::RDWR)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// epoll_create(2): `size` must be positive and is otherwise ignored.
pub fn epoll_create(size: i32) -> SysResult {
    if size <= 0 {
        return Err(EINVAL);
    }
    epoll_create1(0)
}

/// epoll_create1(2): EPOLL_CLOEXEC is the only flag.
pub fn epoll_create1(flags: u32) -> SysResult {
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(EINVAL);
    }
    let ep: Arc<dyn File> = Epoll::new();
    Ok(current().process.files.lock().insert(ep, flags & EPOLL_CLOEXEC != 0, 0)? as usize)
}

/// Whether `target` (an epoll set) contains `ep`, directly or deeper, or
/// nests deeper than Linux allows: adding it to `ep` would be ELOOP.
fn would_loop(ep: &Epoll, target: &Epoll, depth: usize) -> bool {
    if depth >= MAX_NESTS || Arc::ptr_eq(&ep.shared, &target.shared) {
        return true;
    }
    target.nested().iter().any(|f| as_epoll(f.as_ref()).is_some_and(|t| would_loop(ep, t, depth + 1)))
}

/// epoll_ctl(2), with the checks in Linux's order (do_epoll_ctl).
pub fn epoll_ctl(epfd: i32, op: u32, fd: i32, event: u64) -> SysResult {
    let (mut events, data) = if op != EPOLL_CTL_DEL {
        let b = uaccess::read_bytes(event, EVENT_SIZE).map_err(|_| EFAULT)?;
        let ev = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let mut d = [0u8; 8];
        d.copy_from_slice(&b[4..12]);
        (ev, u64::from_le_bytes(d))
    } else {
        (0, 0)
    };
    let (epf, tf) = {
        let t = current();
        let files = t.process.files.lock();
        (files.get(epfd)?, files.get(fd)?)
    };
    let queue = tf.poll_queue().ok_or(EPERM)?;
    // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; without it Linux drops the bit.
    events &= !EPOLLWAKEUP;
    let same = file_addr(&epf) == file_addr(&tf);
    let ep = as_epoll(epf.as_ref()).filter(|_| !same).ok_or(EINVAL)?;
    let target_ep = as_epoll(tf.as_ref());
    if op != EPOLL_CTL_DEL && events & EPOLLEXCLUSIVE != 0 {
        if op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && (target_ep.is_some() || events & !EXCLUSIVE_OK != 0)) {
            return Err(EINVAL);
        }
    }
    let key = (fd, file_addr(&tf));
    let map = |e: CtlError| match e {
        CtlError::Exists => EEXIST,
        CtlError::NotFound => ENOENT,
    };
    match op {
        EPOLL_CTL_ADD => {
            if target_ep.is_some_and(|t| would_loop(ep, t, 0)) {
                return Err(ELOOP);
            }
            let observer = Arc::new(ItemObserver { ep: Arc::downgrade(&ep.shared), key });
            let item = Item { file: Arc::downgrade(&tf), queue: queue.clone(), observer };
            let weak = item.observer();
            ep.shared.interest.lock().add(key, events, data, item).map_err(map)?;
            queue.subscribe(weak);
        }
        EPOLL_CTL_MOD => {
            let mut i = ep.shared.interest.lock();
            if i.events(&key).ok_or(ENOENT)? & EPOLLEXCLUSIVE != 0 {
                return Err(EINVAL);
            }
            i.modify(&key, events, data).map_err(map)?;
        }
        EPOLL_CTL_DEL => {
            let item = ep.shared.interest.lock().remove(&key).map_err(map)?;
            item.queue.unsubscribe(&item.observer());
            return Ok(0);
        }
        _ => return Err(EINVAL),
    }
    // The new or re-armed item is queued: a waiter must scan again.
    ep.shared.pollq.notify(EPOLLIN);
    Ok(0)
}

/// The shared part of the epoll_wait family; `timeout_ns` None waits
/// forever.
fn wait(epfd: i32, events: u64, max: i32, timeout_ns: Option<u64>) -> SysResult {
    if max <= 0 || max > MAX_EVENTS {
        return Err(EINVAL);
    }
    let max = max as usize;
    if !uaccess::is_user_range(events, max * EVENT_SIZE) {
        return Err(EFAULT);
    }
    let t = current();
    let f = t.process.files.lock().get(epfd).map_err(|_| EBADF)?;
    let ep = as_epoll(f.as_ref()).ok_or(EINVAL)?;
    let deadline = timeout_ns.map(|ns| kbase::time::uptime_ns().saturating_add(ns));
    // The poller is made and subscribed only once a wait may sleep (a call
    // that finds events at once, or has a zero timeout, needs none); the
    // harvest after subscribing catches what became ready in between.
    let mut sleeper: Option<(Arc<Poller>, _)> = None;
    let r = loop {
        let out = ep.harvest(max);
        if !out.is_empty() {
            break write_events(events, &out);
        }
        if deadline.is_some_and(|d| kbase::time::uptime_ns() >= d) {
            break Ok(0);
        }
        match &sleeper {
            None => {
                let poller = Poller::new();
                let observer = poller.observer();
                ep.shared.pollq.subscribe(observer.clone());
                sleeper = Some((poller, observer));
            }
            Some((poller, _)) => {
                if let Err(e) = poller.wait(deadline, &t) {
                    break Err(e);
                }
            }
        }
    };
    if let Some((_, observer)) = sleeper {
        ep.shared.pollq.unsubscribe(&observer);
    }
    r
}

/// Copies `out` to the user's `struct epoll_event` array (packed on
/// x86_64: u32 events, u64 data), through the stack for a few events.
fn write_events(events: u64, out: &[(u32, u64)]) -> SysResult {
    const ON_STACK: usize = 16;
    let mut small = [0u8; ON_STACK * EVENT_SIZE];
    let mut big = Vec::new();
    let buf: &mut [u8] = if out.len() <= ON_STACK {
        &mut small[..out.len() * EVENT_SIZE]
    } else {
        big.resize(out.len() * EVENT_SIZE, 0);
        &mut big
    };
    for (chunk, (ev, data)) in buf.chunks_exact_mut(EVENT_SIZE).zip(out) {
        chunk[..4].copy_from_slice(&ev.to_le_bytes());
        chunk[4..].copy_from_slice(&data.to_le_bytes());
    }
    uaccess::write_bytes(events, buf).map(|_| out.len())
}

/// epoll_wait(2): a negative `timeout_ms` waits forever.
pub fn epoll_wait(epfd: i32, events: u64, max: i32, timeout_ms: i32) -> SysResult {
    let timeout = u64::try_from(timeout_ms).ok().map(|ms| ms * 1_000_000);
    wait(epfd, events, max, timeout)
}

/// epoll_pwait(2): epoll_wait with `sigmask` in effect while it waits.
pub fn epoll_pwait(epfd: i32, events: u64, max: i32, timeout_ms: i32, sigmask: u64, size: usize) -> SysResult {
    crate::signal::with_wait_mask(sigmask, size, || epoll_wait(epfd, events, max, timeout_ms))
}

/// epoll_pwait2(2): a `struct timespec` timeout (NULL: forever).
pub fn epoll_pwait2(epfd: i32, events: u64, max: i32, timeout: u64, sigmask: u64, size: usize) -> SysResult {
    let timeout = if timeout == 0 { None } else { Some(uaccess::read_timespec_ns(timeout)?) };
    crate::signal::with_wait_mask(sigmask, size, || wait(epfd, events, max, timeout))
}

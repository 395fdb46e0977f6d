//! epoll(7): epoll_create1, epoll_ctl, epoll_wait / epoll_pwait / epoll_pwait2.
//!
//! ```text
//!  Epoll ── Shared { inner: SpinLock<Inner { interest, scan buffer }>, pollq }
//!  interest: epoll::Interest<(fd, file), Item>
//!  Item { file: Weak<dyn File>, queue (the file's PollQueue), observer }
//!  file state change ─▶ file's PollQueue ─▶ ItemObserver::notify(handle)
//!        ─▶ Interest::notify (ready list) ─▶ Shared::pollq: epoll_wait's Poller,
//!           or an outer epoll / poll(2) watching this instance
//!  epoll_wait ─▶ begin_scan into the scan buffer ─▶ poll each file (no lock
//!        held) ─▶ end_scan into a stack array ─▶ buffer back ─▶ copy out
//!        nothing to report ─▶ Poller::wait (timeout, EINTR) and scan again
//! ```
//! A wait that reports at most [`ON_STACK`] events allocates nothing: the
//! scan buffer stays with the instance between waits (a second waiter
//! scanning at the same time uses a fresh one), and the results go
//! through the stack.
//! The ready-list rules (level, edge, one-shot) are `libs/epoll`. Items
//! hold their file weakly, as Linux does: closing the last descriptor of a
//! file removes it from every epoll set (the entry is dropped at the next
//! scan) and lets the other end of a pipe see the hang-up.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use epoll::{CtlError, Handle, Interest, ScanItem};
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
/// Events a wait reports through the stack; more need a heap buffer.
const ON_STACK: usize = 4;
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

/// What the instance's lock protects.
struct Inner {
    interest: Interest<Key, Item>,
    /// The scan buffer, kept between waits for its capacity (empty while
    /// a wait is using it).
    scan: Vec<ScanItem<Option<Arc<dyn File>>>>,
}

struct Shared {
    inner: SpinLock<Inner>,
    /// Told when an item becomes ready: epoll_wait callers and whoever
    /// polls this instance.
    pollq: Arc<PollQueue>,
}

/// Subscribed to one item's file; feeds the instance's ready list.
struct ItemObserver {
    ep: Weak<Shared>,
    handle: Handle,
}

impl Observer for ItemObserver {
    fn notify(&self, events: u32) {
        if let Some(ep) = self.ep.upgrade()
            && ep.inner.lock().interest.notify(self.handle, events)
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
            shared: Arc::new(Shared {
                inner: SpinLock::new(Inner { interest: Interest::new(), scan: Vec::new() }),
                pollq: Arc::new(PollQueue::new()),
            }),
            _census: crate::census::Token::new(crate::census::Kind::Epoll),
        })
    }

    /// The epoll instances directly in this one's interest list.
    fn nested(&self) -> Vec<Arc<dyn File>> {
        let files: Vec<Weak<dyn File>> =
            self.shared.inner.lock().interest.iter().map(|(_, i)| i.file.clone()).collect();
        files.into_iter().filter_map(|w| w.upgrade()).filter(|f| as_epoll(f.as_ref()).is_some()).collect()
    }

    /// One scan of the ready list: copies up to `max` events to report
    /// to the user's array at `events`. None if there was nothing to
    /// report.
    fn harvest(&self, events: u64, max: usize) -> Option<SysResult> {
        let mut scan = {
            let mut inner = self.shared.inner.lock();
            if !inner.interest.has_ready() {
                return None;
            }
            let mut scan = core::mem::take(&mut inner.scan);
            inner.interest.begin_scan(&mut scan, |it| it.file.upgrade());
            scan
        };
        if scan.is_empty() {
            self.shared.inner.lock().scan = scan;
            return None;
        }
        // Each file is let go right after its poll, outside the lock: the
        // last reference to a file closed meanwhile may be this one, and
        // releasing a file notifies (which takes the lock).
        let mut any_gone = false;
        for s in &mut scan {
            s.revents = match s.payload.take() {
                Some(f) => poll_bits(f.as_ref()),
                None => {
                    any_gone = true;
                    0
                }
            };
        }
        // A small array on the stack is zeroed by a few stores; a large
        // one by `rep stosq`, one emulated block per quadword under TCG.
        let mut small = [(0u32, 0u64); ON_STACK];
        let mut big = Vec::new();
        let room = max.min(scan.len());
        let out: &mut [(u32, u64)] = if room <= ON_STACK {
            &mut small[..room]
        } else {
            big.resize(room, (0, 0));
            &mut big
        };
        let mut removed = Vec::new();
        let n = {
            let mut inner = self.shared.inner.lock();
            let n = inner.interest.end_scan(&scan, out);
            if any_gone {
                // Files closed for good leave the set (the entry may have
                // been removed or replaced meanwhile: handles tell).
                for s in &scan {
                    if inner.interest.get_handle(s.handle).is_some_and(|it| it.file.strong_count() == 0) {
                        removed.extend(inner.interest.remove_handle(s.handle));
                    }
                }
            }
            scan.clear();
            if inner.scan.capacity() < scan.capacity() {
                inner.scan = scan;
            }
            n
        };
        for it in removed {
            it.queue.unsubscribe(&it.observer());
        }
        (n > 0).then(|| write_events(events, &out[..n]))
    }

    /// Whether a wait would report something now (poll on the epoll fd);
    /// consumes nothing.
    fn is_ready(&self) -> bool {
        let mut queued = Vec::new();
        self.shared.inner.lock().interest.for_each_queued(|it, want| queued.push((it.file.clone(), want)));
        queued.iter().any(|(file, want)| file.upgrade().is_some_and(|f| poll_bits(f.as_ref()) & want != 0))
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
            let file = Arc::downgrade(&tf);
            let shared = Arc::downgrade(&ep.shared);
            let make = |handle| Item {
                file,
                queue: queue.clone(),
                observer: Arc::new(ItemObserver { ep: shared, handle }),
            };
            let weak = {
                let mut inner = ep.shared.inner.lock();
                let h = inner.interest.add(key, events, data, make).map_err(map)?;
                inner.interest.get_handle(h).map(Item::observer)
            };
            if let Some(weak) = weak {
                queue.subscribe(weak);
            }
        }
        EPOLL_CTL_MOD => {
            let mut inner = ep.shared.inner.lock();
            let i = &mut inner.interest;
            if i.events(&key).ok_or(ENOENT)? & EPOLLEXCLUSIVE != 0 {
                return Err(EINVAL);
            }
            i.modify(&key, events, data).map_err(map)?;
        }
        EPOLL_CTL_DEL => {
            let item = ep.shared.inner.lock().interest.remove(&key).map_err(map)?;
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
    let f = crate::process::with_current(|t| t.process.files.lock().get(epfd)).map_err(|_| EBADF)?;
    let ep = as_epoll(f.as_ref()).ok_or(EINVAL)?;
    // A zero timeout needs no clock: one look, then return.
    let look_once = timeout_ns == Some(0);
    let deadline = timeout_ns.filter(|_| !look_once).map(|ns| kbase::time::uptime_ns().saturating_add(ns));
    // The poller is made and subscribed only once a wait may sleep (a call
    // that finds events at once, or has a zero timeout, needs none); the
    // harvest after subscribing catches what became ready in between.
    let mut sleeper: Option<(Arc<Poller>, _, Arc<crate::process::Thread>)> = None;
    let r = loop {
        if let Some(r) = ep.harvest(events, max) {
            break r;
        }
        if look_once || deadline.is_some_and(|d| kbase::time::uptime_ns() >= d) {
            break Ok(0);
        }
        match &sleeper {
            None => {
                let poller = Poller::new();
                let observer = poller.observer();
                ep.shared.pollq.subscribe(observer.clone());
                sleeper = Some((poller, observer, current()));
            }
            Some((poller, _, t)) => {
                if let Err(e) = poller.wait(deadline, &t) {
                    break Err(e);
                }
            }
        }
    };
    if let Some((_, observer, _)) = sleeper {
        ep.shared.pollq.unsubscribe(&observer);
    }
    r
}

/// Copies `out` to the user's `struct epoll_event` array (packed on
/// x86_64: u32 events, u64 data), [`ON_STACK`] events at a time through
/// the stack (a buffer for all of them would be zeroed at each call). A
/// fault after some events were copied returns their count, as Linux's
/// ep_send_events.
fn write_events(events: u64, out: &[(u32, u64)]) -> SysResult {
    let mut buf = [0u8; ON_STACK * EVENT_SIZE];
    let mut done = 0;
    for part in out.chunks(ON_STACK) {
        let bytes = &mut buf[..part.len() * EVENT_SIZE];
        for (chunk, (ev, data)) in bytes.chunks_exact_mut(EVENT_SIZE).zip(part) {
            chunk[..4].copy_from_slice(&ev.to_le_bytes());
            chunk[4..].copy_from_slice(&data.to_le_bytes());
        }
        let at = events + (done * EVENT_SIZE) as u64;
        if let Err(e) = uaccess::write_bytes(at, bytes) {
            return if done == 0 { Err(e) } else { Ok(done) };
        }
        done += part.len();
    }
    Ok(done)
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

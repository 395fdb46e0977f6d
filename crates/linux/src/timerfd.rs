//! timerfd_create(2), timerfd_settime, timerfd_gettime: timers read as
//! files (the expiration count, a u64) and watched with poll and epoll.
//!
//! ```text
//!  settime ─▶ TimerState { deadline, interval, expirations = 0 }
//!          ─▶ (deadline, id) into TIMERS; kick the timer task
//!  timer task: sleeps until the earliest deadline (or a kick), then for
//!          each due timer: count the expirations, wake readers, notify
//!          pollers, queue the next period of an interval timer
//!  read/poll/gettime also count due expirations themselves, so a result
//!  never waits for the task to run.
//! ```
//! All deadlines are on the monotonic clock; a CLOCK_REALTIME absolute
//! time is converted with the current offset (the wall clock is never set
//! on Ferrite, so the offset does not move; TFD_TIMER_CANCEL_ON_SET is
//! accepted and never fires).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kbase::sync::{Once, SpinLock};
use kbase::task::WaitQueue;
use linux_raw_sys::general::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, TFD_CLOEXEC,
    TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET,
};
use vfs::Stat;

use crate::errno::{EAGAIN, EINTR, EINVAL, ENOMEM, Errno, SysResult};
use crate::file::{AnonFlags, File, OpenFlags, POLLIN};
use crate::pollq::PollQueue;
use crate::uaccess::{self, Out};

#[derive(Default)]
struct TimerState {
    /// Next expiry, monotonic ns; None: disarmed.
    deadline: Option<u64>,
    interval_ns: u64,
    /// Expirations since the last read or settime.
    expirations: u64,
}

impl TimerState {
    /// Counts the expirations due at `now`; returns whether there were any.
    fn advance(&mut self, now: u64) -> bool {
        let Some(d) = self.deadline.filter(|&d| d <= now) else { return false };
        if self.interval_ns == 0 {
            self.expirations = self.expirations.saturating_add(1);
            self.deadline = None;
        } else {
            let n = (now - d) / self.interval_ns + 1;
            self.expirations = self.expirations.saturating_add(n);
            self.deadline = d.checked_add(n.saturating_mul(self.interval_ns));
        }
        true
    }
}

pub struct TimerFd {
    _census: crate::census::Token,
    /// Itself, for the timer table.
    me: Weak<TimerFd>,
    id: u64,
    clock: u32,
    state: SpinLock<TimerState>,
    flags: AnonFlags,
    readers: WaitQueue,
    pollq: Arc<PollQueue>,
    /// The deadline of this timer's entry in TIMERS, if it has one
    /// (changed only with TIMERS locked).
    queued: SpinLock<Option<u64>>,
}

/// Armed timers by (deadline, id). Each timer has at most one entry:
/// re-arming replaces it, and disarming or closing the timer removes it.
/// (A left-over entry would keep the closed timer's memory until its
/// deadline, which may be centuries away.)
static TIMERS: SpinLock<BTreeMap<(u64, u64), Weak<TimerFd>>> = SpinLock::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// The timer task, started with the first timerfd (None: it could not be).
static TASK: Once<Option<Arc<kbase::task::Task>>> = Once::new();
static KICKED: AtomicBool = AtomicBool::new(false);

fn timer_task() {
    loop {
        let now = kbase::time::uptime_ns();
        let (due, next) = {
            let mut t = TIMERS.lock();
            let later = t.split_off(&(now.saturating_add(1), 0));
            let due = core::mem::replace(&mut *t, later);
            (due, t.keys().next().map(|k| k.0))
        };
        for tfd in due.into_values().filter_map(|w| w.upgrade()) {
            tfd.fire(now);
        }
        if due_again() {
            continue;
        }
        KICKED.store(false, Ordering::Release);
        let next = TIMERS.lock().keys().next().map(|k| k.0).or(next);
        kbase::task::sleep_until_or(next.unwrap_or(u64::MAX), || KICKED.load(Ordering::Acquire));
    }
}

fn due_again() -> bool {
    let now = kbase::time::uptime_ns();
    TIMERS.lock().keys().next().is_some_and(|k| k.0 <= now)
}

/// Queues `tfd`'s deadline for the timer task, in place of its old one.
fn schedule(tfd: &TimerFd, deadline: u64) {
    {
        let mut t = TIMERS.lock();
        if let Some(old) = tfd.queued.lock().replace(deadline) {
            t.remove(&(old, tfd.id));
        }
        t.insert((deadline, tfd.id), tfd.me.clone());
    }
    KICKED.store(true, Ordering::Release);
    if let Some(Some(t)) = TASK.get() {
        kbase::task::wake(t);
    }
}

/// Takes `tfd`'s entry out of the timer table (disarm, close).
fn unqueue(tfd: &TimerFd) {
    let mut t = TIMERS.lock();
    if let Some(old) = tfd.queued.lock().take() {
        t.remove(&(old, tfd.id));
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        unqueue(self);
    }
}

impl TimerFd {
    fn fire(&self, now: u64) {
        let (fired, next) = {
            let mut s = self.state.lock();
            (s.advance(now), s.deadline)
        };
        if fired {
            self.readers.wake_all();
            self.pollq.notify(POLLIN.into());
        }
        if let Some(d) = next {
            schedule(self, d);
        }
    }

    /// (remaining ns until the next expiry, interval), after counting.
    fn current(&self) -> (u64, u64) {
        let now = kbase::time::uptime_ns();
        let mut s = self.state.lock();
        s.advance(now);
        (s.deadline.map_or(0, |d| d.saturating_sub(now).max(1)), s.interval_ns)
    }
}

impl File for TimerFd {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let out = buf.get_mut(..8).ok_or(EINVAL)?;
        let nonblock = self.flags.is_nonblock();
        let t = crate::process::current();
        let n = self.readers.wait_until(|| {
            let mut s = self.state.lock();
            s.advance(kbase::time::uptime_ns());
            if s.expirations > 0 {
                return Some(Ok(core::mem::take(&mut s.expirations)));
            }
            drop(s);
            if nonblock {
                return Some(Err(EAGAIN));
            }
            crate::signal::has_pending(&t).then_some(Err(EINTR))
        })?;
        out.copy_from_slice(&n.to_le_bytes());
        Ok(8)
    }

    fn poll(&self) -> u16 {
        let mut s = self.state.lock();
        s.advance(kbase::time::uptime_ns());
        if s.expirations > 0 { POLLIN } else { 0 }
    }

    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        Some(self.pollq.clone())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::file::anon_stat())
    }

    fn flags(&self) -> OpenFlags {
        self.flags.get()
    }

    fn set_status_flags(&self, flags: u32) {
        self.flags.set_status(flags);
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// timerfd_create(2): the realtime, monotonic and boot-time clocks (the
/// alarm clocks act as their plain twins: there is no suspend).
pub fn timerfd_create(clock: i32, flags: u32) -> SysResult {
    let clock = u32::try_from(clock).map_err(|_| EINVAL)?;
    let clock = match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_ALARM => CLOCK_REALTIME,
        CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => CLOCK_MONOTONIC,
        _ => return Err(EINVAL),
    };
    if flags & !(TFD_CLOEXEC | TFD_NONBLOCK) != 0 {
        return Err(EINVAL);
    }
    // The first timerfd starts the timer task (others wait meanwhile).
    TASK.get_or_init(|| kbase::task::spawn("timerfd", timer_task).ok().map(|h| h.task().clone()))
        .as_ref()
        .ok_or(ENOMEM)?;
    let f = Arc::new_cyclic(|me| TimerFd {
        _census: crate::census::Token::new(crate::census::Kind::Timerfd),
        me: me.clone(),
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        clock,
        state: SpinLock::new(TimerState::default()),
        flags: AnonFlags::new(flags & TFD_NONBLOCK != 0),
        readers: WaitQueue::new(),
        pollq: Arc::new(PollQueue::new()),
        queued: SpinLock::new(None),
    });
    crate::file::install(f, flags & TFD_CLOEXEC != 0)
}

fn timerfd(fd: i32) -> Result<Arc<dyn File>, Errno> {
    let f = crate::process::current().process.files.lock().get(fd)?;
    if f.as_any().is_some_and(|a| a.is::<TimerFd>()) { Ok(f) } else { Err(EINVAL) }
}

/// struct itimerspec { it_interval, it_value }.
pub(crate) fn write_itimerspec(addr: u64, (value, interval): (u64, u64)) -> Result<(), Errno> {
    let mut o = Out::new(32);
    o.u64(0, interval / 1_000_000_000).u64(8, interval % 1_000_000_000);
    o.u64(16, value / 1_000_000_000).u64(24, value % 1_000_000_000);
    o.write_to(addr)
}

/// Reads a `struct itimerspec` as (interval, value) in ns; EINVAL for an
/// invalid timespec in either.
pub(crate) fn read_itimerspec(addr: u64) -> Result<(u64, u64), Errno> {
    let b = uaccess::read_bytes(addr, 32)?;
    let mut w = [0i64; 4];
    for (i, c) in b.chunks_exact(8).enumerate() {
        let mut x = [0u8; 8];
        x.copy_from_slice(c);
        w[i] = i64::from_le_bytes(x);
    }
    let ns = |sec: i64, nsec: i64| {
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(EINVAL);
        }
        Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec as u64))
    };
    Ok((ns(w[0], w[1])?, ns(w[2], w[3])?))
}

/// timerfd_settime(2).
pub fn timerfd_settime(fd: i32, flags: u32, new: u64, old: u64) -> SysResult {
    let (interval, value) = read_itimerspec(new)?;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(EINVAL);
    }
    let f = timerfd(fd)?;
    let Some(tfd) = f.as_any().and_then(|a| a.downcast_ref::<TimerFd>()) else { return Err(EINVAL) };
    let previous = tfd.current();
    let now = kbase::time::uptime_ns();
    let deadline = if value == 0 {
        None
    } else if flags & TFD_TIMER_ABSTIME != 0 {
        Some(match tfd.clock {
            CLOCK_REALTIME => value.saturating_sub(kbase::time::realtime_ns().saturating_sub(now)),
            _ => value,
        })
    } else {
        Some(now.saturating_add(value))
    };
    *tfd.state.lock() = TimerState { deadline, interval_ns: interval, expirations: 0 };
    if old != 0 {
        write_itimerspec(old, previous)?;
    }
    match deadline {
        Some(d) => schedule(tfd, d),
        None => unqueue(tfd),
    }
    Ok(0)
}

/// timerfd_gettime(2): the time left and the interval.
pub fn timerfd_gettime(fd: i32, cur: u64) -> SysResult {
    let f = timerfd(fd)?;
    let Some(tfd) = f.as_any().and_then(|a| a.downcast_ref::<TimerFd>()) else { return Err(EINVAL) };
    write_itimerspec(cur, tfd.current())?;
    Ok(0)
}

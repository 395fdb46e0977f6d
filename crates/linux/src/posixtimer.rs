//! POSIX per-process timers: timer_create(2), timer_settime(2),
//! timer_gettime(2), timer_getoverrun(2), timer_delete(2).
//!
//! ```text
//!  Process::posix_timers: Table { id → Arc<Timer> }   (fork: empty; execve, exit: cleared)
//!  Timer { clock, notify, Mutex<State { deadline, interval, kernel timer, generation, overruns }> }
//!     armed: kbase::task::timer entry ─▶ fire(): signal (SI_TIMER) or, while
//!            that signal is still pending, one more overrun in its record;
//!            a periodic timer skips the periods it missed (they are overruns
//!            too) and arms the next one
//! ```
//! Deadlines are monotonic ns; an absolute CLOCK_REALTIME time is converted
//! with the current offset (as timerfd). SIGEV_NONE timers arm nothing:
//! timer_gettime computes where they are. The si_overrun of a signal is the
//! number of expirations while it was pending; timer_getoverrun reports the
//! count of the last delivered signal (Linux's `it_overrun_last`), read as
//! the current count once the timer's signal is no longer pending.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};

use kbase::task::Mutex;
use kbase::task::timer::TimerId;
use linux_raw_sys::general as g;

use crate::errno::{EAGAIN, EINVAL, EOPNOTSUPP, Errno, SysResult};
use crate::process::{Process, current};
use crate::signal::{self, SigInfo};
use crate::uaccess;

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
const SIGEV_THREAD_ID: i32 = 4;
const TIMER_ABSTIME: u32 = 1;
/// Linux's DELAYTIMER_MAX: the overrun count saturates here.
const DELAYTIMER_MAX: u32 = i32::MAX as u32;
/// Timers one process may hold (Linux's limit is RLIMIT_SIGPENDING).
const MAX_TIMERS: usize = 4096;

/// The timers of one process.
#[derive(Default)]
pub struct Table {
    next_id: i32,
    timers: BTreeMap<i32, Arc<Timer>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Clock {
    Realtime,
    Monotonic,
}

#[derive(Clone, Copy)]
enum Notify {
    None,
    /// A process-directed signal (SIGEV_SIGNAL, and SIGEV_THREAD, whose
    /// thread libc makes).
    Process { signo: i32, value: u64 },
    /// SIGEV_THREAD_ID: a signal to one thread of the process.
    Thread { signo: i32, value: u64, tid: u32 },
}

pub struct Timer {
    id: i32,
    clock: Clock,
    notify: Notify,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Monotonic ns of the next expiration (0: disarmed).
    deadline: u64,
    interval_ns: u64,
    armed: Option<TimerId>,
    /// Bumped by every settime and delete, so a callback that was already
    /// on its way acts only if it belongs to the current setting.
    generation: u64,
    /// Overruns of the signal last queued (in its record while pending).
    overrun: u32,
    /// Overruns of the signal delivered before that one.
    overrun_last: u32,
}

/// timer_create(2).
pub fn timer_create(clock: i32, sevp: u64, out_id: u64) -> SysResult {
    let clock = match clock {
        c if c == g::CLOCK_REALTIME as i32 => Clock::Realtime,
        c if c == g::CLOCK_MONOTONIC as i32 || c == g::CLOCK_BOOTTIME as i32 => Clock::Monotonic,
        // Linux's clocks without timers.
        c if c == g::CLOCK_MONOTONIC_RAW as i32
            || c == g::CLOCK_REALTIME_COARSE as i32
            || c == g::CLOCK_MONOTONIC_COARSE as i32 =>
        {
            return Err(EOPNOTSUPP);
        }
        // partial: no timers on the CPU-time clocks, CLOCK_TAI or the alarm clocks (EINVAL)
        _ => return Err(EINVAL),
    };
    let p = current().process.clone();
    // User memory is read and written outside the table's lock.
    let notify = if sevp == 0 { None } else { Some(read_sigevent(&p, sevp)?) };
    let id = {
        let mut table = p.posix_timers.lock();
        if table.timers.len() >= MAX_TIMERS {
            return Err(EAGAIN);
        }
        let id = table.next_id;
        table.next_id = id.checked_add(1).unwrap_or(0);
        // Without a sigevent: SIGALRM with the id as its value.
        let notify = notify.unwrap_or(Notify::Process { signo: signal::SIGALRM, value: id as u64 });
        table.timers.insert(id, Arc::new(Timer { id, clock, notify, state: Mutex::new(State::default()) }));
        id
    };
    // As Linux: a bad `out_id` takes the new timer away again.
    if let Err(e) = uaccess::write_u32(out_id, id as u32) {
        p.posix_timers.lock().timers.remove(&id);
        return Err(e);
    }
    Ok(0)
}

/// Reads a `struct sigevent` { sigval, signo, notify, tid, ... } and
/// checks it as Linux's good_sigevent.
fn read_sigevent(p: &Process, addr: u64) -> Result<Notify, Errno> {
    let mut b = [0u8; 20];
    uaccess::read_into(addr, &mut b)?;
    let word = |o: usize| i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let value = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let (signo, how, tid) = (word(8), word(12), word(16));
    let signo_ok = (1..=signal::NSIG as i32).contains(&signo);
    match how {
        SIGEV_NONE => Ok(Notify::None),
        SIGEV_SIGNAL | SIGEV_THREAD if signo_ok => Ok(Notify::Process { signo, value }),
        SIGEV_THREAD_ID if signo_ok => {
            let tid = u32::try_from(tid).map_err(|_| EINVAL)?;
            if !p.threads().iter().any(|t| t.tid() == tid) {
                return Err(EINVAL);
            }
            Ok(Notify::Thread { signo, value, tid })
        }
        _ => Err(EINVAL),
    }
}

fn lookup(id: i32) -> Result<(Arc<Process>, Arc<Timer>), Errno> {
    let p = current().process.clone();
    let t = p.posix_timers.lock().timers.get(&id).cloned().ok_or(EINVAL)?;
    Ok((p, t))
}

/// timer_settime(2): arms (it_value non-zero) or disarms the timer.
pub fn timer_settime(id: i32, flags: u32, new: u64, old: u64) -> SysResult {
    // As Linux: the new value is read and checked before the id.
    if new == 0 {
        return Err(EINVAL);
    }
    let (interval_ns, value_ns) = crate::timerfd::read_itimerspec(new)?;
    let (p, timer) = lookup(id)?;
    let now = kbase::time::uptime_ns();
    let mut st = timer.state.lock();
    let previous = current_setting(&timer, &st, now);
    if let Some(k) = st.armed.take() {
        kbase::task::timer::cancel(k);
    }
    st.generation += 1;
    // Linux's common_timer_set forgets the overruns.
    (st.overrun, st.overrun_last) = (0, 0);
    st.interval_ns = interval_ns;
    st.deadline = if value_ns == 0 {
        0
    } else if flags & TIMER_ABSTIME != 0 {
        let mono = match timer.clock {
            Clock::Realtime => value_ns.saturating_sub(kbase::time::realtime_ns().saturating_sub(now)),
            Clock::Monotonic => value_ns,
        };
        mono.max(1)
    } else {
        now.saturating_add(value_ns)
    };
    if st.deadline != 0 && !matches!(timer.notify, Notify::None) {
        arm(&p, &timer, &mut st);
    }
    drop(st);
    if old != 0 {
        crate::timerfd::write_itimerspec(old, previous)?;
    }
    Ok(0)
}

/// timer_gettime(2): the time to the next expiration and the interval.
pub fn timer_gettime(id: i32, out: u64) -> SysResult {
    let (_, timer) = lookup(id)?;
    let setting = current_setting(&timer, &timer.state.lock(), kbase::time::uptime_ns());
    crate::timerfd::write_itimerspec(out, setting)?;
    Ok(0)
}

/// timer_getoverrun(2): the overruns of the last delivered signal.
pub fn timer_getoverrun(id: i32) -> SysResult {
    let (p, timer) = lookup(id)?;
    let st = timer.state.lock();
    let n = if is_signal_pending(&p, &timer) { st.overrun_last } else { st.overrun };
    Ok(n as usize)
}

/// timer_delete(2). A signal it already queued stays pending, as on Linux.
pub fn timer_delete(id: i32) -> SysResult {
    let p = current().process.clone();
    let timer = p.posix_timers.lock().timers.remove(&id).ok_or(EINVAL)?;
    disarm(&timer);
    Ok(0)
}

/// Deletes every timer of `p` (execve and exit, as Linux's exit_itimers).
pub fn clear(p: &Process) {
    let timers = core::mem::take(&mut p.posix_timers.lock().timers);
    for t in timers.values() {
        disarm(t);
    }
}

fn disarm(timer: &Timer) {
    let mut st = timer.state.lock();
    st.generation += 1;
    st.deadline = 0;
    if let Some(k) = st.armed.take() {
        kbase::task::timer::cancel(k);
    }
}

/// (time left, interval) in ns. A periodic timer whose expiration is due
/// but not yet handled reports the next period, a SIGEV_NONE one is
/// computed from its first deadline; an expired one-shot timer reads 0.
fn current_setting(timer: &Timer, st: &State, now: u64) -> (u64, u64) {
    if st.deadline == 0 {
        return (0, st.interval_ns);
    }
    let next = if st.deadline <= now && st.interval_ns != 0 {
        forward(st.deadline, st.interval_ns, now).0
    } else {
        st.deadline
    };
    let left = next.saturating_sub(now);
    // Linux reports 1 ns for a timer that has expired but whose signal has
    // not been sent yet (common_timer_get).
    let left = if left == 0 && st.interval_ns == 0 && !matches!(timer.notify, Notify::None) { 1 } else { left };
    (left, st.interval_ns)
}

/// The first period boundary after `now` and the periods skipped before
/// it (beyond the one due at `deadline`).
fn forward(deadline: u64, interval_ns: u64, now: u64) -> (u64, u64) {
    let missed = (now - deadline) / interval_ns;
    let next = deadline.saturating_add(missed.saturating_add(1).saturating_mul(interval_ns));
    (next, missed)
}

fn arm(p: &Arc<Process>, timer: &Arc<Timer>, st: &mut State) {
    let (wp, wt, generation) = (Arc::downgrade(p), Arc::downgrade(timer), st.generation);
    // Without memory for the timer thread the expiration is lost: logged,
    // as with alarm(2).
    st.armed = kbase::task::timer::arm(st.deadline, move || fire(wp, wt, generation))
        .map_err(|_| log::warn!("timer_settime: no memory for the timer thread"))
        .ok();
}

/// The kernel timer's callback: the signal, or an overrun while it is
/// still pending; then the next period.
fn fire(wp: Weak<Process>, wt: Weak<Timer>, generation: u64) {
    let (Some(p), Some(timer)) = (wp.upgrade(), wt.upgrade()) else { return };
    let mut st = timer.state.lock();
    if st.generation != generation || st.deadline == 0 || p.is_zombie() {
        return;
    }
    st.armed = None;
    let now = kbase::time::uptime_ns().max(st.deadline);
    let missed = if st.interval_ns == 0 {
        st.deadline = 0;
        0
    } else {
        let (next, missed) = forward(st.deadline, st.interval_ns, now);
        st.deadline = next;
        missed
    };
    let missed = u32::try_from(missed).unwrap_or(DELAYTIMER_MAX);
    if is_signal_pending(&p, &timer) {
        st.overrun = st.overrun.saturating_add(missed).saturating_add(1).min(DELAYTIMER_MAX);
        bump_pending(&p, &timer, st.overrun);
    } else {
        st.overrun_last = st.overrun;
        st.overrun = missed.min(DELAYTIMER_MAX);
        send(&p, &timer, st.overrun);
    }
    if st.deadline != 0 {
        arm(&p, &timer, &mut st);
    }
}

fn send(p: &Process, timer: &Timer, overrun: u32) {
    match timer.notify {
        Notify::None => {}
        Notify::Process { signo, value } => {
            signal::send_info(p, SigInfo::timer(signo, timer.id, overrun, value));
        }
        Notify::Thread { signo, value, tid } => {
            // A thread that has gone gets nothing (Linux's send_sigqueue).
            if let Some(t) = p.threads().into_iter().find(|t| t.tid() == tid) {
                signal::send_thread(&t, SigInfo::timer(signo, timer.id, overrun, value));
            }
        }
    }
}

/// Whether this timer's signal is still queued (process or thread set).
fn is_signal_pending(p: &Process, timer: &Timer) -> bool {
    let Some(signo) = signo(timer) else { return false };
    p.pending.timer_overrun(signo, timer.id, None)
        || p.threads().iter().any(|t| t.pending.timer_overrun(signo, timer.id, None))
}

fn bump_pending(p: &Process, timer: &Timer, overrun: u32) {
    let Some(signo) = signo(timer) else { return };
    if !p.pending.timer_overrun(signo, timer.id, Some(overrun)) {
        for t in p.threads() {
            if t.pending.timer_overrun(signo, timer.id, Some(overrun)) {
                break;
            }
        }
    }
}

fn signo(timer: &Timer) -> Option<i32> {
    match timer.notify {
        Notify::None => None,
        Notify::Process { signo, .. } | Notify::Thread { signo, .. } => Some(signo),
    }
}

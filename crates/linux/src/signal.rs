//! Signals: dispositions, sending, delivery to user handlers with a Linux
//! x86_64 `rt_sigframe`, rt_sigreturn, default actions, EINTR and
//! SA_RESTART.
//!
//! ```text
//!  send_info(process, info) ─▶ process.pending ─▶ wake every thread (EINTR)
//!  send_thread(thread, info) ─▶ thread.pending ─▶ wake that thread
//!  return to user ─▶ deliver(): next pending unblocked signal (faults first), the
//!      thread's own set first, then the process's (`dequeue`)
//!      SIG_IGN / default-ignore → dropped;  default-fatal → exit(sig)
//!      handler → rt_sigframe on the user stack (or sigaltstack), rip = handler
//!  rt_sigreturn ─▶ registers, FPU state and mask from the frame
//! ```
//! Job control: the default action of SIGSTOP, SIGTSTP, SIGTTIN and
//! SIGTTOU stops the process (every thread sleeps in `deliver` until
//! SIGCONT or SIGKILL); the parent gets SIGCHLD (unless SA_NOCLDSTOP) and
//! wait4 reports it with WUNTRACED, and the continue with WCONTINUED.
//! SIGTSTP/SIGTTIN/SIGTTOU are discarded for an orphaned process group.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use kbase::arch::trap::TrapFrame;
use kbase::sync::SpinLock;

use crate::errno::{EFAULT, EINVAL, Errno, SysResult};
use crate::process::{Process, Thread};
use crate::uaccess::{self, Out};

pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGCHLD: i32 = 17;
pub const SIGXFSZ: i32 = linux_raw_sys::general::SIGXFSZ as i32;
pub const SIGVTALRM: i32 = linux_raw_sys::general::SIGVTALRM as i32;
pub const SIGPROF: i32 = linux_raw_sys::general::SIGPROF as i32;
pub const SIGSTOP: i32 = 19;
const SIGSYS: i32 = linux_raw_sys::general::SIGSYS as i32;
pub const SIGCONT: i32 = linux_raw_sys::general::SIGCONT as i32;
const SIGTSTP: i32 = linux_raw_sys::general::SIGTSTP as i32;
const SIGTTIN: i32 = linux_raw_sys::general::SIGTTIN as i32;
const SIGTTOU: i32 = linux_raw_sys::general::SIGTTOU as i32;
/// sa_flags bit: no SIGCHLD when a child stops or continues.
const SA_NOCLDSTOP: u64 = linux_raw_sys::general::SA_NOCLDSTOP as u64;
/// wait status of a continued child (WIFCONTINUED).
pub const WAIT_CONTINUED: i32 = 0xffff;
pub const NSIG: usize = 64;
/// The first real-time signal (glibc reserves 32 and 33 for itself).
pub const SIGRTMIN: i32 = 32;

const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTART: u64 = 0x1000_0000;
const SA_SIGINFO: u64 = 0x4;

/// struct sigaction as the kernel ABI sees it (rt_sigaction).
#[derive(Clone, Copy, Default)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

#[derive(Clone)]
pub struct SigActions(pub [SigAction; NSIG]);

impl Default for SigActions {
    fn default() -> Self {
        Self([SigAction::default(); NSIG])
    }
}

impl SigActions {
    /// execve: caught signals go back to their default action.
    pub fn reset_for_exec(&mut self) {
        for a in self.0.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
    }
}

const fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// `si_code` values (siginfo.h).
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_TKILL: i32 = -6;
pub const SI_TIMER: i32 = -2;
/// SIGCHLD codes.
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
const CLD_STOPPED: i32 = 5;
const CLD_CONTINUED: i32 = 6;

/// What a pending signal carries: the fields of `siginfo_t` that mean
/// something here.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    /// Bytes 16..48 of `siginfo_t` (the union): pid and uid (kill, tkill,
    /// sigqueue, SIGCHLD), then sigval or the child's status; or the fault
    /// address.
    pub fields: [u64; 4],
}

impl SigInfo {
    /// Sent by the kernel itself (SI_KERNEL).
    pub fn kernel(sig: i32) -> Self {
        Self { signo: sig, code: SI_KERNEL, fields: [0; 4] }
    }

    /// Sent by a process (kill: SI_USER; tkill/tgkill: SI_TKILL).
    pub fn from_process(sig: i32, code: i32, pid: u32, uid: u32) -> Self {
        Self { signo: sig, code, fields: [u64::from(pid) | (u64::from(uid) << 32), 0, 0, 0] }
    }

    /// A POSIX timer's expiry: si_timerid, si_overrun, si_value.
    pub fn timer(sig: i32, id: i32, overrun: u32, value: u64) -> Self {
        Self { signo: sig, code: SI_TIMER, fields: [u64::from(id as u32) | (u64::from(overrun) << 32), value, 0, 0] }
    }

    /// A synchronous fault at `addr`.
    pub fn fault(sig: i32, code: i32, addr: u64) -> Self {
        Self { signo: sig, code, fields: [addr, 0, 0, 0] }
    }

    /// SIGCHLD about child `pid` (code CLD_*, `status` its exit code or signal).
    pub fn child(code: i32, pid: u32, uid: u32, status: i32) -> Self {
        Self { signo: SIGCHLD, code, fields: [u64::from(pid) | (u64::from(uid) << 32), u64::from(status as u32), 0, 0] }
    }

    /// From a user `siginfo_t` (rt_sigqueueinfo): its code and union.
    pub fn from_user(sig: i32, raw: &[u8]) -> Self {
        let w = |o: usize| raw.get(o..o + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes);
        let code = raw.get(8..12).and_then(|b| b.try_into().ok()).map_or(0, i32::from_le_bytes);
        Self { signo: sig, code, fields: [w(16), w(24), w(32), w(40)] }
    }

    pub fn pid(&self) -> u32 {
        self.fields[0] as u32
    }

    pub fn uid(&self) -> u32 {
        (self.fields[0] >> 32) as u32
    }

    /// Whether the union holds a fault address (Linux's SIL_FAULT layout).
    pub fn is_fault(&self) -> bool {
        self.code > 0 && self.code != SI_KERNEL && matches!(self.signo, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP)
    }

    /// The 128-byte `siginfo_t`.
    pub fn to_bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        for (i, f) in self.fields.iter().enumerate() {
            b[16 + i * 8..24 + i * 8].copy_from_slice(&f.to_le_bytes());
        }
        b
    }
}

/// Real-time signals queued in one pending set at most (a standard signal
/// is pending once or not at all).
const MAX_QUEUED: usize = 1024;

/// A set of pending signals with their siginfo: one per thread (sent to
/// that thread: tgkill, faults) and one per process (kill). The bits are
/// read without a lock on every return to user mode; the records change
/// under the lock, with the bits.
pub struct SigPending {
    bits: AtomicU64,
    queue: SpinLock<Vec<SigInfo>>,
}

impl SigPending {
    pub const fn new() -> Self {
        Self { bits: AtomicU64::new(0), queue: SpinLock::new(Vec::new()) }
    }

    /// The pending signals (bit n-1 for signal n).
    pub fn bits(&self) -> u64 {
        self.bits.load(Ordering::Acquire)
    }

    /// Adds a signal: a standard one already pending is not added again
    /// (Linux's legacy_queue); a real-time one queues. False if dropped.
    pub fn post(&self, info: SigInfo) -> bool {
        let b = bit(info.signo);
        let mut q = self.queue.lock();
        let is_rt = info.signo >= SIGRTMIN;
        if self.bits.load(Ordering::Relaxed) & b != 0 && (!is_rt || q.len() >= MAX_QUEUED) {
            return false;
        }
        q.push(info);
        self.bits.fetch_or(b, Ordering::AcqRel);
        true
    }

    /// `post` from an interrupt handler: gives up (false) rather than
    /// wait when another CPU holds the records.
    pub fn try_post(&self, info: SigInfo) -> bool {
        let b = bit(info.signo);
        let Some(mut q) = self.queue.try_lock() else { return false };
        if self.bits.load(Ordering::Relaxed) & b != 0 && (info.signo < SIGRTMIN || q.len() >= MAX_QUEUED) {
            return false;
        }
        q.push(info);
        self.bits.fetch_or(b, Ordering::AcqRel);
        true
    }

    /// Takes the next pending signal of `mask` (the oldest record of it):
    /// the lowest synchronous one (`SYNCHRONOUS`) if any, else the lowest.
    pub fn take(&self, mask: u64) -> Option<SigInfo> {
        if self.bits() & mask == 0 {
            return None;
        }
        let mut q = self.queue.lock();
        let pending = self.bits.load(Ordering::Relaxed) & mask;
        if pending == 0 {
            return None;
        }
        let sig = next_signal(pending);
        let i = q.iter().position(|r| r.signo == sig)?;
        let info = q.remove(i);
        if !q.iter().any(|r| r.signo == sig) {
            self.bits.fetch_and(!bit(sig), Ordering::AcqRel);
        }
        if q.is_empty() {
            // Give the memory back: most sets are empty most of the time.
            *q = Vec::new();
        }
        Some(info)
    }

    /// Whether timer `id`'s `sig` (SI_TIMER) is queued here; with `overrun`,
    /// sets that record's si_overrun (`posixtimer.rs`).
    pub fn timer_overrun(&self, sig: i32, id: i32, overrun: Option<u32>) -> bool {
        if self.bits() & bit(sig) == 0 {
            return false;
        }
        let mut q = self.queue.lock();
        let Some(r) = q.iter_mut().find(|r| r.signo == sig && r.code == SI_TIMER && r.fields[0] as u32 == id as u32) else {
            return false;
        };
        if let Some(n) = overrun {
            r.fields[0] = u64::from(id as u32) | (u64::from(n) << 32);
        }
        true
    }

    /// Drops every pending signal of `mask`.
    pub fn discard(&self, mask: u64) {
        if self.bits() & mask == 0 {
            return;
        }
        let mut q = self.queue.lock();
        q.retain(|r| bit(r.signo) & mask == 0);
        self.bits.fetch_and(!mask, Ordering::AcqRel);
    }
}

/// The fault signals, which Linux's next_signal delivers before any other
/// pending signal (its SYNCHRONOUS_MASK): a fault is handled before, say,
/// a SIGINT that was already pending.
const SYNCHRONOUS: u64 = bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(SIGSYS);

/// Which of the (nonzero) `pending` set goes first: the lowest
/// synchronous signal if one is there, else the lowest.
fn next_signal(pending: u64) -> i32 {
    let sync = pending & SYNCHRONOUS;
    let set = if sync != 0 { sync } else { pending };
    set.trailing_zeros() as i32 + 1
}

/// Signals that can be neither caught, blocked nor ignored.
const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// Validates a signal number (1..=64).
pub fn check(sig: i32) -> Result<usize, Errno> {
    if (1..=NSIG as i32).contains(&sig) { Ok(sig as usize - 1) } else { Err(EINVAL) }
}

#[derive(PartialEq, Eq)]
enum Default_ {
    Terminate,
    Ignore,
    Stop,
    Continue,
}

fn default_action(sig: i32) -> Default_ {
    match sig {
        SIGCHLD | 23 /* URG */ | 28 /* WINCH */ => Default_::Ignore,
        SIGCONT => Default_::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Default_::Stop,
        _ => Default_::Terminate,
    }
}

const STOP_MASK: u64 = (1 << (SIGSTOP - 1)) | (1 << (SIGTSTP - 1)) | (1 << (SIGTTIN - 1)) | (1 << (SIGTTOU - 1));

/// Whether `sig` is ignored (SIG_IGN) or blocked by thread `t`: the tty
/// then does not send SIGTTIN/SIGTTOU (jobctl).
pub fn is_ignored_or_blocked(t: &Thread, sig: i32) -> bool {
    let Ok(i) = check(sig) else { return true };
    t.process.sigactions.lock().0[i].handler == SIG_IGN || t.sigmask.load(Ordering::Relaxed) & bit(sig) != 0
}

/// SIGCONT: a stopped process runs again (whatever SIGCONT's action) and
/// pending stop signals are dropped.
fn continue_process(p: &Process) {
    discard_everywhere(p, STOP_MASK);
    if p.stopped.swap(false, Ordering::AcqRel) {
        p.wait_report.store(WAIT_CONTINUED, Ordering::Release);
        notify_parent(p, CLD_CONTINUED, SIGCONT);
        for t in p.threads() {
            t.kick();
        }
    }
}

/// After sigaction(2) set `handler` for `sig`: an action that ignores
/// (SIG_IGN, or SIG_DFL of a signal whose default is to ignore) drops
/// the pending instances of `sig` everywhere in the process, blocked or
/// not (POSIX; Linux's do_sigaction).
pub fn action_changed(p: &Process, sig: i32, handler: u64) {
    let ignores = handler == SIG_IGN
        || (handler == SIG_DFL && matches!(default_action(sig), Default_::Ignore | Default_::Continue));
    if ignores {
        discard_everywhere(p, bit(sig));
    }
}

/// Drops the signals of `mask` from the process's and every thread's set.
fn discard_everywhere(p: &Process, mask: u64) {
    p.pending.discard(mask);
    for t in p.threads() {
        t.pending.discard(mask);
    }
}

/// Tells the parent a child stopped or continued.
fn notify_parent(p: &Process, code: i32, sig: i32) {
    if let Some(parent) = crate::process::lookup(p.ppid.load(Ordering::Relaxed)) {
        let flags = parent.sigactions.lock().0[SIGCHLD as usize - 1].flags;
        if flags & SA_NOCLDSTOP == 0 {
            send_info(&parent, SigInfo::child(code, p.pid, p.cred().ruid, sig));
        }
        parent.child_exited.wake_all();
    }
}

/// The default action of a stop signal: the process stops; this thread
/// sleeps until SIGCONT (or SIGKILL, or an exit of the group).
fn stop(t: &Thread, sig: i32) {
    let p = &t.process;
    if !p.stopped.swap(true, Ordering::AcqRel) {
        p.wait_report.store(0x7f | (sig << 8), Ordering::Release);
        for other in p.threads() {
            if other.tid() != t.tid() {
                other.kick();
            }
        }
        notify_parent(p, CLD_STOPPED, sig);
    }
    wait_while_stopped(t);
}

fn wait_while_stopped(t: &Thread) {
    let p = &t.process;
    kbase::task::sleep_until_or(u64::MAX, || {
        !p.stopped.load(Ordering::Acquire)
            || (p.pending.bits() | t.pending.bits()) & bit(SIGKILL) != 0
            || p.group_exit.load(Ordering::Acquire) != crate::process::NO_GROUP_EXIT
    });
}

/// Whether the default action of `sig` ends the process.
pub fn default_is_fatal(sig: i32) -> bool {
    matches!(default_action(sig), Default_::Terminate)
}

/// Posts `sig` to `p` from the kernel (SI_KERNEL).
pub fn send(p: &Process, sig: i32) {
    send_info(p, SigInfo::kernel(sig));
}

/// Whether posting `sig` would be pointless: ignored and not blocked by
/// `blocked` (a blocked signal is never ignored: its action may change
/// before it is unblocked, or signalfd may read it, as in Linux's
/// sig_ignored()); init gets only the signals it has handlers for
/// (SIGNAL_UNKILLABLE).
fn is_dropped(p: &Process, sig: i32, is_blocked: bool) -> bool {
    if sig == SIGCONT {
        continue_process(p);
    } else if bit(sig) & STOP_MASK != 0 {
        discard_everywhere(p, bit(SIGCONT));
    }
    let act = p.sigactions.lock().0[sig as usize - 1];
    let default = default_action(sig);
    let is_ignored =
        act.handler == SIG_IGN || (act.handler == SIG_DFL && matches!(default, Default_::Ignore | Default_::Continue));
    (sig != SIGKILL && is_ignored && !is_blocked) || (p.pid == 1 && act.handler == SIG_DFL && !is_blocked)
}

/// Posts a process-directed signal (kill(2), after permission checks) to
/// the shared set: any thread that does not block it takes it, so all
/// are woken and the first to return to user mode wins.
pub fn send_info(p: &Process, info: SigInfo) -> bool {
    let sig = info.signo;
    let threads = p.threads();
    let is_blocked = threads.iter().any(|t| t.sigmask.load(Ordering::Relaxed) & bit(sig) != 0);
    if is_dropped(p, sig, is_blocked) {
        return true;
    }
    let queued = p.pending.post(info);
    p.signal_pollq.notify(0);
    for t in threads {
        t.kick();
    }
    queued
}

/// Posts a thread-directed signal (tgkill, tkill, rt_tgsigqueueinfo):
/// only `t` takes it. A fatal one still ends the whole process.
pub fn send_thread(t: &Thread, info: SigInfo) -> bool {
    let sig = info.signo;
    if is_dropped(&t.process, sig, t.sigmask.load(Ordering::Relaxed) & bit(sig) != 0) {
        return true;
    }
    let queued = t.pending.post(info);
    t.process.signal_pollq.notify(0);
    t.kick();
    queued
}

/// `send` for the timer interrupt (ITIMER_VIRTUAL, ITIMER_PROF), which may
/// take no sleeping lock: only the pending bit is set. The interrupted
/// thread is running and acts on it on its way back to user mode (an
/// ignored signal is dropped there), so no thread is woken; signalfd
/// readers are not told. init takes it only with a handler, read without
/// waiting for the actions' lock (busy: not posted).
pub fn post_from_irq(p: &Process, sig: i32) {
    if p.pid == 1 && !p.sigactions.try_lock().is_some_and(|a| !matches!(a.0[sig as usize - 1].handler, SIG_DFL | SIG_IGN)) {
        return;
    }
    p.pending.try_post(SigInfo::kernel(sig));
}

/// Runs a wait (epoll_pwait, ppoll, pselect6) with the signal mask read
/// from `sigmask` in effect (`sigmask` 0: the current one). After EINTR the
/// old mask comes back only when the handler returns, so the signal that
/// interrupted is delivered under the temporary mask, as on Linux.
pub fn with_wait_mask(sigmask: u64, size: usize, f: impl FnOnce() -> SysResult) -> SysResult {
    if sigmask == 0 {
        return f();
    }
    if size != 8 {
        return Err(EINVAL);
    }
    let m = uaccess::read_u64(sigmask)?;
    let t = crate::process::current();
    let old = t.sigmask.swap(m & !UNBLOCKABLE, Ordering::AcqRel);
    let r = f();
    if r == Err(crate::errno::EINTR) {
        t.saved_mask.set(old);
    } else {
        t.sigmask.store(old, Ordering::Release);
    }
    r
}

/// Takes the first signal of `mask` pending for `t`: its own set first,
/// then its process's (Linux's dequeue_signal; signalfd, sigtimedwait).
pub fn dequeue(t: &Thread, mask: u64) -> Option<SigInfo> {
    t.pending.take(mask).or_else(|| t.process.pending.take(mask))
}

/// The signals pending for `t`, its own and its process's.
pub fn pending_for(t: &Thread) -> u64 {
    t.pending.bits() | t.process.pending.bits()
}

/// Raises a synchronous fault signal in the current thread: blocked or
/// ignored, it still ends the process (Linux's force_sig_fault).
pub fn force_fault(t: &Thread, sig: i32, code: i32, addr: u64) {
    {
        let mut acts = t.process.sigactions.lock();
        let a = &mut acts.0[sig as usize - 1];
        if a.handler == SIG_IGN || t.sigmask.load(Ordering::Relaxed) & bit(sig) != 0 {
            a.handler = SIG_DFL;
        }
    }
    t.sigmask.fetch_and(!bit(sig), Ordering::AcqRel);
    t.fault_addr.store(addr, Ordering::Relaxed);
    t.pending.post(SigInfo::fault(sig, code, addr));
}

/// Whether `sig` is pending for the process.
pub fn is_pending(p: &Process, sig: i32) -> bool {
    p.pending.bits() & bit(sig) != 0
}

/// A signal is waiting that the current thread does not block: blocking
/// system calls return EINTR.
pub fn has_pending(t: &Thread) -> bool {
    pending_for(t) & !(t.sigmask.load(Ordering::Relaxed) & !UNBLOCKABLE) != 0
        || t.process.group_exit.load(Ordering::Acquire) != crate::process::NO_GROUP_EXIT
        || crate::process::must_exit_for_exec(t)
}

/// Linux's fatal_signal_pending: the thread is going to die when it next
/// returns to user mode (SIGKILL pending, an exit_group or a fatal signal
/// under way, or another thread's execve), so a long system call may stop.
pub fn fatal_pending(t: &Thread) -> bool {
    pending_for(t) & bit(SIGKILL) != 0
        || t.process.group_exit.load(Ordering::Acquire) != crate::process::NO_GROUP_EXIT
        || crate::process::must_exit_for_exec(t)
}

/// The long-syscall rule: called between the chunks of every system call
/// that loops over a user-sized range (read/write and their p/v forms,
/// sendfile, copy_file_range, file growth, large memory ranges). Gives the
/// scheduler a voluntary switch point and the soft-lockup detector a sign
/// of progress (`kbase::task::cond_resched`), and says `EINTR` when a
/// fatal signal is pending: the caller stops and returns what it has done,
/// or the error if nothing (as Linux's loops do with
/// `fatal_signal_pending`; the process never sees either, it dies).
pub fn between_chunks() -> Result<(), Errno> {
    kbase::task::cond_resched();
    if kbase::task::with_current_ext::<Thread, bool>(fatal_pending).unwrap_or(false) {
        return Err(crate::errno::EINTR);
    }
    Ok(())
}

/// What [`deliver`] decided for the thread about to return to user mode.
#[must_use]
pub enum Delivery {
    /// Go on to user mode (perhaps into a handler).
    Continue,
    /// End the whole process with this wait status.
    ExitGroup(i32),
    /// End only this thread (another thread is running execve).
    ExitThread(i32),
}

impl Delivery {
    /// Carries the decision out. The exits never return, so nothing on the
    /// caller's stack is ever dropped: the caller must hold no reference
    /// (an `Arc<Thread>` left there would keep the thread and its process
    /// in memory forever).
    pub fn finish(self) {
        match self {
            Delivery::Continue => {}
            Delivery::ExitGroup(status) => crate::process::exit_group(status),
            Delivery::ExitThread(status) => crate::process::exit_thread_with(status),
        }
    }
}

/// Called before returning to user mode: acts on one pending signal.
pub fn deliver(t: &Thread, frame: &mut TrapFrame) -> Delivery {
    if is_quiet(t) {
        return Delivery::Continue;
    }
    // Another thread called exit_group (or a fatal signal hit the group).
    let group = t.process.group_exit.load(Ordering::Acquire);
    if group != crate::process::NO_GROUP_EXIT {
        return Delivery::ExitGroup(group);
    }
    if crate::process::must_exit_for_exec(t) {
        return Delivery::ExitThread(0);
    }
    if t.process.stopped.load(Ordering::Acquire) {
        // Another thread stopped the process.
        wait_while_stopped(t);
    }
    // Only this thread writes restart_nr: a plain load (and a store when
    // set) instead of an atomic swap on every return.
    let restart_nr = t.restart_nr.load(Ordering::Relaxed);
    if restart_nr != u64::MAX {
        t.restart_nr.store(u64::MAX, Ordering::Relaxed);
    }
    let d = deliver_one(t, frame, restart_nr);
    // A temporary wait mask (rt_sigsuspend, epoll_pwait) that no handler
    // frame took over ends here.
    if let Some(old) = t.saved_mask.take() {
        t.sigmask.store(old, Ordering::Relaxed);
    }
    d
}

/// The common return to user mode: no group exit, exec or stop under way,
/// no restart, no temporary mask, no signal that could be delivered. The
/// words are OR-ed together and tested once: under TCG each branch ends a
/// translated block, and this runs on every return (a chain of `||` is
/// compiled to one branch per test).
#[inline]
fn is_quiet(t: &Thread) -> bool {
    let p = &t.process;
    let deliverable = (t.pending.bits() | p.pending.bits()) & !(t.sigmask.load(Ordering::Relaxed) & !UNBLOCKABLE);
    let group = (p.group_exit.load(Ordering::Acquire) ^ crate::process::NO_GROUP_EXIT) as u32;
    let busy = deliverable
        | u64::from(group)
        | u64::from(p.exec_tid.load(Ordering::Acquire))
        | u64::from(p.stopped.load(Ordering::Acquire))
        | (t.restart_nr.load(Ordering::Relaxed) ^ u64::MAX)
        | u64::from(t.saved_mask.is_set());
    busy == 0
}

fn deliver_one(t: &Thread, frame: &mut TrapFrame, restart_nr: u64) -> Delivery {
    let mask = t.sigmask.load(Ordering::Relaxed) & !UNBLOCKABLE;
    let Some(info) = (if pending_for(t) & !mask == 0 { None } else { dequeue(t, !mask) }) else {
        if restart_nr != u64::MAX {
            restart(frame, restart_nr);
        }
        return Delivery::Continue;
    };
    let sig = info.signo;
    let act = t.process.sigactions.lock().0[sig as usize - 1];
    if sig == SIGKILL || act.handler == SIG_DFL {
        if default_is_fatal(sig) {
            return Delivery::ExitGroup(sig);
        }
        if sig != SIGKILL && default_action(sig) == Default_::Stop {
            // A terminal stop of an orphaned group would never end: dropped.
            let orphaned = sig != SIGSTOP && crate::tty::is_orphaned(t.process.pgid.load(Ordering::Relaxed));
            if !orphaned {
                stop(t, sig);
            }
        }
        if restart_nr != u64::MAX {
            restart(frame, restart_nr);
        }
        return Delivery::Continue;
    }
    if act.handler == SIG_IGN {
        if restart_nr != u64::MAX {
            restart(frame, restart_nr);
        }
        return Delivery::Continue;
    }
    if restart_nr != u64::MAX && act.flags & SA_RESTART != 0 {
        restart(frame, restart_nr);
    }
    if setup_frame(t, frame, &info, &act).is_err() {
        // No room for the frame: the process dies with SIGSEGV, as on Linux.
        return Delivery::ExitGroup(SIGSEGV);
    }
    if act.flags & SA_RESETHAND != 0 {
        t.process.sigactions.lock().0[sig as usize - 1] = SigAction::default();
    }
    Delivery::Continue
}

/// Re-executes the interrupted `syscall` instruction.
fn restart(frame: &mut TrapFrame, nr: u64) {
    frame.rax = nr;
    frame.rip -= 2;
}

/// Layout (Linux x86_64): rt_sigframe { pretcode; ucontext uc; siginfo info }
/// with ucontext { flags, link, stack_t(24), sigcontext(256), sigmask }.
const UC: u64 = 8;
const UC_STACK: u64 = UC + 16;
const UC_MCONTEXT: u64 = UC + 40;
const UC_SIGMASK: u64 = UC + 296;
const INFO: u64 = UC + 304;
const FRAME_SIZE: u64 = INFO + 128;

fn setup_frame(t: &Thread, frame: &mut TrapFrame, info: &SigInfo, act: &SigAction) -> Result<(), Errno> {
    let sig = info.signo;
    let (ss_sp, ss_size, ss_flags) = *t.altstack.lock();
    let on_alt = ss_size != 0 && frame.rsp > ss_sp && frame.rsp <= ss_sp + ss_size;
    let mut sp = if act.flags & SA_ONSTACK != 0 && ss_size != 0 && !on_alt { ss_sp + ss_size } else { frame.rsp - 128 };
    // FXSAVE image, 64-byte aligned, then the frame so that rsp + 8 is
    // 16-byte aligned at handler entry (as after a call).
    sp = (sp - 512) & !63;
    let fpstate = sp;
    sp = ((sp - FRAME_SIZE) & !15) - 8;
    // After rt_sigsuspend the frame must restore the caller's own mask.
    let old_mask = t.saved_mask.take().unwrap_or_else(|| t.sigmask.load(Ordering::Relaxed));

    let mut o = Out::new(FRAME_SIZE as usize);
    o.u64(0, act.restorer);
    // uc_stack: the alternate stack in effect.
    o.u64(UC_STACK as usize, ss_sp).u32(UC_STACK as usize + 8, if on_alt { 1 } else { ss_flags }).u64(UC_STACK as usize + 16, ss_size);
    let m = UC_MCONTEXT as usize;
    let regs = [
        frame.r8, frame.r9, frame.r10, frame.r11, frame.r12, frame.r13, frame.r14, frame.r15, frame.rdi, frame.rsi,
        frame.rbp, frame.rbx, frame.rdx, frame.rax, frame.rcx, frame.rsp, frame.rip, frame.rflags,
    ];
    for (i, r) in regs.iter().enumerate() {
        o.u64(m + i * 8, *r);
    }
    o.u16(m + 144, frame.cs as u16).u16(m + 150, frame.ss as u16);
    o.u64(m + 152, frame.error_code).u64(m + 160, frame.vector).u64(m + 168, old_mask);
    o.u64(m + 176, t.fault_addr.load(Ordering::Relaxed)).u64(m + 184, fpstate);
    o.u64(UC_SIGMASK as usize, old_mask);
    // siginfo: signo, errno, code, then the union (fault address or pid).
    let i = INFO as usize;
    o.u32(i, sig as u32).u32(i + 8, info.code as u32);
    for (k, f) in info.fields.iter().enumerate() {
        o.u64(i + 16 + k * 8, *f);
    }
    uaccess::write_bytes(fpstate, &frame.fx_state()).map_err(|_| EFAULT)?;
    o.write_to(sp)?;

    let mut new_mask = old_mask | act.mask;
    if act.flags & SA_NODEFER == 0 {
        new_mask |= bit(sig);
    }
    t.sigmask.store(new_mask & !UNBLOCKABLE, Ordering::Relaxed);
    frame.rsp = sp;
    frame.rip = act.handler;
    frame.rdi = sig as u64;
    frame.rsi = if act.flags & SA_SIGINFO != 0 { sp + INFO } else { 0 };
    frame.rdx = if act.flags & SA_SIGINFO != 0 { sp + UC } else { 0 };
    frame.rax = 0;
    // A handler starts with DF clear and no single-stepping.
    frame.rflags &= !(0x400 | 0x100);
    Ok(())
}

/// rt_sigreturn(2): back from a handler to the interrupted context.
pub fn sigreturn(t: &Thread, frame: &mut TrapFrame) -> SysResult {
    let base = frame.rsp - 8; // the handler's `ret` popped pretcode
    let uc = uaccess::read_bytes(base, FRAME_SIZE as usize)?;
    let w = |off: u64| u64::from_le_bytes(uc[off as usize..off as usize + 8].try_into().unwrap_or([0; 8]));
    let m = UC_MCONTEXT;
    frame.r8 = w(m);
    frame.r9 = w(m + 8);
    frame.r10 = w(m + 16);
    frame.r11 = w(m + 24);
    frame.r12 = w(m + 32);
    frame.r13 = w(m + 40);
    frame.r14 = w(m + 48);
    frame.r15 = w(m + 56);
    frame.rdi = w(m + 64);
    frame.rsi = w(m + 72);
    frame.rbp = w(m + 80);
    frame.rbx = w(m + 88);
    frame.rdx = w(m + 96);
    frame.rax = w(m + 104);
    frame.rcx = w(m + 112);
    frame.rsp = w(m + 120);
    frame.rip = w(m + 128);
    // Only user-modifiable flags come back (no IOPL, no VM, IF stays on).
    frame.rflags = (frame.rflags & !0x0dd5) | (w(m + 136) & 0x0dd5) | 0x200;
    let fpstate = w(m + 184);
    if fpstate != 0 {
        let mut fx = [0u8; 512];
        uaccess::read_into(fpstate, &mut fx)?;
        frame.set_fx_state(&fx);
    }
    t.sigmask.store(w(UC_SIGMASK) & !UNBLOCKABLE, Ordering::Relaxed);
    // sigreturn must not be restarted and returns the restored rax, with
    // every register (rcx and r11 included) as they were.
    t.restart_nr.store(u64::MAX, Ordering::Relaxed);
    kbase::arch::user::return_with_iret(frame);
    Ok(frame.rax as usize)
}

pub fn sigaltstack(t: &Thread, ss: u64, old: u64) -> SysResult {
    const SS_DISABLE: u32 = 2;
    const MINSIGSTKSZ: u64 = 2048;
    let cur = *t.altstack.lock();
    if old != 0 {
        let mut o = Out::new(24);
        o.u64(0, cur.0).u32(8, if cur.1 == 0 { SS_DISABLE } else { cur.2 }).u64(16, cur.1);
        o.write_to(old)?;
    }
    if ss != 0 {
        let b = uaccess::read_bytes(ss, 24)?;
        let sp = u64::from_le_bytes(b[0..8].try_into().map_err(|_| EFAULT)?);
        let flags = u32::from_le_bytes(b[8..12].try_into().map_err(|_| EFAULT)?);
        let size = u64::from_le_bytes(b[16..24].try_into().map_err(|_| EFAULT)?);
        if flags & !(SS_DISABLE | 0x8000_0000) != 0 {
            return Err(EINVAL);
        }
        if flags & SS_DISABLE != 0 {
            *t.altstack.lock() = (0, 0, 0);
        } else {
            if size < MINSIGSTKSZ {
                return Err(crate::errno::ENOMEM);
            }
            *t.altstack.lock() = (sp, size, flags);
        }
    }
    Ok(0)
}

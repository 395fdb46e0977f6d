//! CPU time and resource usage of threads and processes: times(2),
//! getrusage(2), wait4's rusage, the CPU-time clocks, /proc, and the
//! CPU-time interval timers (ITIMER_VIRTUAL, ITIMER_PROF).
//!
//! ```text
//!  kbase task: runtime (exact), user/sys ticks, switch counts ── Thread
//!  process = Σ live threads + `dead` (threads that exited, folded in as
//!            they leave the thread list, under its lock: never twice)
//!  parent.children += child (self + its own children) when wait reaps it
//!  utime/stime = cputime::adjust(runtime, ticks, prev)   (as Linux)
//! ```
//! As on Linux, a child never waited for adds nothing to its parent, and
//! neither do WNOWAIT and stop/continue reports.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use cputime::{ClockId, Prev, Target, Which};
use kbase::task::CpuTimes;

use crate::errno::{EINVAL, Errno};
use crate::process::{self, Process, Thread};
use crate::uaccess::Out;

/// Nanoseconds per timer tick (what one tick sample stands for).
pub const TICK_NS: u64 = 1_000_000_000 / kbase::arch::apic::TICK_HZ as u64;
/// `USER_HZ`: the unit of times(2) and of /proc's clock-tick fields.
pub const USER_HZ: u64 = 100;

/// What getrusage(2) reports (times in ns).
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub utime_ns: u64,
    pub stime_ns: u64,
    pub min_flt: u64,
    pub maj_flt: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
    /// Largest resident set in pages (a maximum, not a sum).
    pub maxrss_pages: u64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.maxrss_pages = self.maxrss_pages.max(o.maxrss_pages);
        self.utime_ns = self.utime_ns.saturating_add(o.utime_ns);
        self.stime_ns = self.stime_ns.saturating_add(o.stime_ns);
        self.min_flt = self.min_flt.saturating_add(o.min_flt);
        self.maj_flt = self.maj_flt.saturating_add(o.maj_flt);
        self.nvcsw = self.nvcsw.saturating_add(o.nvcsw);
        self.nivcsw = self.nivcsw.saturating_add(o.nivcsw);
    }
}

/// Per-process accounting (`Process::acct`).
#[derive(Default)]
pub struct ProcAcct {
    /// Threads that exited.
    dead: CpuTimes,
    dead_min_flt: u64,
    /// Reaped children, with what they had reaped (RUSAGE_CHILDREN).
    children: Usage,
    /// The split last reported for the whole process.
    prev: Prev,
    /// Peak resident pages of the address spaces it left (execve, exit).
    maxrss_pages: u64,
}

/// A CPU-time interval timer (`Process::cpu_itimers`): ns left before it
/// fires (0: disarmed) and the reload value.
#[derive(Clone, Copy, Default)]
pub struct CpuItimer {
    pub value_ns: u64,
    pub interval_ns: u64,
}

/// Raw totals of a process (live threads and dead ones) and its minor faults.
fn process_raw(p: &Process) -> (CpuTimes, u64) {
    // The references taken under the list's spin lock are dropped after
    // it: the last reference to a task may free its stack (decisions.md).
    let mut held = alloc::vec::Vec::new();
    let r = p.with_thread_list(|list| {
        let mut total = CpuTimes::default();
        let mut flt = 0u64;
        for t in list.iter().filter_map(alloc::sync::Weak::upgrade) {
            let task = t.task();
            if let Some(task) = &task {
                total.add(&task.cpu_times());
            }
            flt = flt.saturating_add(t.min_flt.load(Ordering::Relaxed));
            held.push((t, task));
        }
        let a = p.acct.lock();
        total.add(&a.dead);
        (total, flt.saturating_add(a.dead_min_flt))
    });
    drop(held);
    r
}

fn split(raw: &CpuTimes, prev: &mut Prev) -> (u64, u64) {
    cputime::adjust(raw.runtime_ns, raw.user_ticks, raw.sys_ticks, prev)
}

/// RUSAGE_SELF without the current address space's peak (which
/// `getrusage` adds: it needs the address-space lock).
pub fn process_usage(p: &Process) -> Usage {
    let (raw, min_flt) = process_raw(p);
    let (utime_ns, stime_ns, maxrss_pages) = {
        let mut a = p.acct.lock();
        let (u, s) = split(&raw, &mut a.prev);
        (u, s, a.maxrss_pages)
    };
    Usage { utime_ns, stime_ns, min_flt, maj_flt: 0, nvcsw: raw.nvcsw, nivcsw: raw.nivcsw, maxrss_pages }
}

/// `p` leaves an address space (execve, exit) whose resident set peaked
/// at `pages` (Linux's `setmax_mm_hiwater_rss` into `signal->maxrss`).
pub fn left_vm(p: &Process, pages: u64) {
    let mut a = p.acct.lock();
    a.maxrss_pages = a.maxrss_pages.max(pages);
}

/// The peak resident set of `p`'s current address space (0 after exit).
/// Takes the address-space lock: never call it under a spin lock.
pub fn vm_peak_pages(p: &Process) -> u64 {
    p.vm().map_or(0, |vm| vm.lock().space().peak_pages())
}

/// RUSAGE_THREAD: one thread (without ru_maxrss, which `getrusage` takes
/// from the address space, as Linux does).
pub fn thread_usage(t: &Thread) -> Usage {
    let raw = t.task().map(|task| task.cpu_times()).unwrap_or_default();
    let (utime_ns, stime_ns) = split(&raw, &mut t.cpu_prev.lock());
    let min_flt = t.min_flt.load(Ordering::Relaxed);
    Usage { utime_ns, stime_ns, min_flt, maj_flt: 0, nvcsw: raw.nvcsw, nivcsw: raw.nivcsw, maxrss_pages: 0 }
}

/// RUSAGE_CHILDREN: reaped children and their reaped children.
pub fn children_usage(p: &Process) -> Usage {
    p.acct.lock().children
}

/// RUSAGE_BOTH (what wait4 reports for a child): itself and its children.
/// For a zombie (its address space gone) this takes no sleeping lock.
pub fn both_usage(p: &Process) -> Usage {
    let mut u = process_usage(p);
    u.add(&children_usage(p));
    u
}

/// wait reaped `child`: its times and its children's go to `parent`.
pub fn reaped(parent: &Process, child: &Process) {
    let u = both_usage(child);
    parent.acct.lock().children.add(&u);
}

/// The calling thread leaves `p`'s thread list: under the list's lock its
/// CPU time moves to `dead`. Returns what was moved, so that the last
/// thread can add the rest of its teardown (`add_teardown`).
pub fn retire_current(p: &Process, me: &Thread) -> CpuTimes {
    p.with_thread_list(|list| {
        list.retain(|w| w.upgrade().is_some_and(|t| t.tid() != me.tid()));
        let now = kbase::task::current_cpu_times();
        let mut a = p.acct.lock();
        a.dead.add(&now);
        a.dead_min_flt = a.dead_min_flt.saturating_add(me.min_flt.load(Ordering::Relaxed));
        now
    })
}

/// The last thread's CPU time since `retire_current` (tearing the process
/// down), added before the parent can see the zombie.
pub fn add_teardown(p: &Process, at_retire: &CpuTimes) {
    let now = kbase::task::current_cpu_times();
    let d = CpuTimes {
        runtime_ns: now.runtime_ns.saturating_sub(at_retire.runtime_ns),
        user_ticks: now.user_ticks.saturating_sub(at_retire.user_ticks),
        sys_ticks: now.sys_ticks.saturating_sub(at_retire.sys_ticks),
        nvcsw: now.nvcsw.saturating_sub(at_retire.nvcsw),
        nivcsw: now.nivcsw.saturating_sub(at_retire.nivcsw),
    };
    p.acct.lock().dead.add(&d);
}

/// Clock ticks (USER_HZ) in `ns`.
pub fn to_clock_ticks(ns: u64) -> u64 {
    ns / (1_000_000_000 / USER_HZ)
}

/// Writes a `struct rusage` (`linux_raw_sys::general::rusage`).
pub fn write_rusage(addr: u64, u: &Usage) -> Result<(), Errno> {
    use core::mem::{offset_of, size_of};
    use linux_raw_sys::general::rusage;
    let tv = |o: &mut Out, off: usize, ns: u64| {
        o.u64(off, ns / 1_000_000_000).u64(off + 8, (ns % 1_000_000_000) / 1000);
    };
    let mut o = Out::new(size_of::<rusage>());
    tv(&mut o, offset_of!(rusage, ru_utime), u.utime_ns);
    tv(&mut o, offset_of!(rusage, ru_stime), u.stime_ns);
    o.u64(offset_of!(rusage, ru_minflt), u.min_flt)
        .u64(offset_of!(rusage, ru_majflt), u.maj_flt)
        .u64(offset_of!(rusage, ru_maxrss), u.maxrss_pages * 4)
        .u64(offset_of!(rusage, ru_nvcsw), u.nvcsw)
        .u64(offset_of!(rusage, ru_nivcsw), u.nivcsw);
    o.write_to(addr)
}

/// Whose CPU time a clock id names, or EINVAL (Linux's `pid_for_clock`):
/// a thread clock must name a thread of the caller's process; a process
/// clock names a process, or (for reading) the caller's own thread id.
enum Subject {
    Thread(Arc<Thread>),
    Process(Arc<Process>),
}

fn subject(target: Target, reading: bool) -> Result<Subject, Errno> {
    let me = process::current();
    match target {
        Target::Thread(0) => Ok(Subject::Thread(me)),
        Target::Thread(tid) => {
            me.process.threads().into_iter().find(|t| t.tid() == tid).map(Subject::Thread).ok_or(EINVAL)
        }
        Target::Process(0) => Ok(Subject::Process(me.process.clone())),
        Target::Process(pid) if reading && pid == me.tid() => Ok(Subject::Process(me.process.clone())),
        Target::Process(pid) => process::lookup(pid).map(Subject::Process).ok_or(EINVAL),
    }
}

/// A CPU clock's id decoded: CLOCK_PROCESS_CPUTIME_ID,
/// CLOCK_THREAD_CPUTIME_ID, or a negative id from clock_getcpuclockid(3);
/// None for the other clocks.
pub fn decode_clock(clock: i32) -> Option<Result<ClockId, Errno>> {
    use linux_raw_sys::general::{CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    match clock {
        c if c == CLOCK_PROCESS_CPUTIME_ID as i32 => Some(Ok(ClockId { target: Target::Process(0), which: Which::Sched })),
        c if c == CLOCK_THREAD_CPUTIME_ID as i32 => Some(Ok(ClockId { target: Target::Thread(0), which: Which::Sched })),
        c if c < 0 => Some(ClockId::decode(c).ok_or(EINVAL)),
        _ => None,
    }
}

/// The value of a CPU clock in ns (`reading`: clock_gettime, which also
/// takes the caller's own tid as a process; clock_getres does not).
pub fn clock_ns(id: ClockId, reading: bool) -> Result<u64, Errno> {
    let raw = match subject(id.target, reading)? {
        Subject::Thread(t) => t.task().map(|task| task.cpu_times()).unwrap_or_default(),
        Subject::Process(p) => process_raw(&p).0,
    };
    Ok(match id.which {
        Which::Sched => raw.runtime_ns,
        Which::Virt => raw.user_ticks.saturating_mul(TICK_NS),
        Which::Prof => raw.user_ticks.saturating_add(raw.sys_ticks).saturating_mul(TICK_NS),
    })
}

/// clock_getres of a CPU clock: 1 ns for the exact run time, a tick for
/// the sampled ones (Linux: `NSEC_PER_SEC / HZ`).
pub fn clock_res_ns(id: ClockId) -> u64 {
    if id.which == Which::Sched { 1 } else { TICK_NS }
}

/// ITIMER_VIRTUAL (0) and ITIMER_PROF (1) in `Process::cpu_itimers`.
pub const VIRT: usize = 0;
pub const PROF: usize = 1;

/// setitimer of a CPU-time timer: returns the previous (value, interval).
/// A new value gets one tick more, as Linux's `set_cpu_itimer` does: the
/// first tick may count a tick of time the timer did not yet see. While
/// either timer is armed every thread of the process has its ticks
/// watched (`on_tick`); new threads check `itimers_armed`.
pub fn arm_itimer(p: &Process, which: usize, value_ns: u64, interval_ns: u64) -> CpuItimer {
    let value_ns = if value_ns == 0 { 0 } else { value_ns.saturating_add(TICK_NS) };
    let (old, armed) = {
        let mut ts = p.cpu_itimers.lock();
        let old = ts[which];
        // The interval is kept even when the value disarms it, as Linux
        // does (getitimer reports it).
        ts[which] = CpuItimer { value_ns, interval_ns };
        (old, ts.iter().any(|t| t.value_ns != 0))
    };
    for t in p.threads() {
        if let Some(task) = t.task() {
            task.set_tick_watch(armed);
        }
    }
    old
}

/// getitimer of a CPU-time timer.
pub fn itimer(p: &Process, which: usize) -> CpuItimer {
    p.cpu_itimers.lock()[which]
}

/// Whether a new thread of `p` must have its ticks watched.
pub fn itimers_armed(p: &Process) -> bool {
    p.cpu_itimers.lock().iter().any(|t| t.value_ns != 0)
}

/// The tick hook (timer interrupt, interrupts off, a watched task): one
/// tick of CPU time off ITIMER_PROF, and off ITIMER_VIRTUAL when it found
/// user mode; an expiry posts SIGPROF / SIGVTALRM, which the running
/// thread takes on its way back to user mode.
pub fn on_tick(user: bool) {
    kbase::task::with_current_ext(|t: &Thread| {
        let p = &t.process;
        let mut fired = [false; 2];
        {
            // Interrupts are off here, and every holder of this spin lock
            // has them off too: the interrupted code cannot be holding it.
            let mut ts = p.cpu_itimers.lock();
            for (i, timer) in ts.iter_mut().enumerate() {
                if timer.value_ns == 0 || (i == VIRT && !user) {
                    continue;
                }
                if timer.value_ns > TICK_NS {
                    timer.value_ns -= TICK_NS;
                } else {
                    timer.value_ns = timer.interval_ns;
                    fired[i] = true;
                }
            }
        }
        if fired[VIRT] {
            crate::signal::post_from_irq(p, crate::signal::SIGVTALRM);
        }
        if fired[PROF] {
            crate::signal::post_from_irq(p, crate::signal::SIGPROF);
        }
    });
}

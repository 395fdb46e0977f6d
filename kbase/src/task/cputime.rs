//! CPU-time accounting per task and per CPU.
//!
//! ```text
//!  schedule(), prev → next, interrupts off, once per switch:
//!      now = uptime_ns(); prev.runtime += now - prev.run_start; next.run_start = now
//!      prev blocked of its own accord: prev.nvcsw += 1, else prev.nivcsw += 1
//!  timer tick (100 Hz) on each CPU, the task it interrupted:
//!      from user mode → user_ticks += 1, kernel mode → sys_ticks += 1,
//!      idle task → the CPU's idle ticks
//! ```
//! Nothing is added to the system-call path: the exact run time comes from
//! the switches, and how it divides between user and kernel mode from the
//! tick samples (the Linux layer splits it with `cputime::adjust`, as
//! Linux without `VIRT_CPU_ACCOUNTING` does). Only the CPU running a task
//! writes its counters; a reader elsewhere takes a consistent snapshot of
//! (runtime, run_start) through a sequence count.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use crate::arch::percpu::MAX_CPUS;

/// A task's counters (part of `Task`).
pub(super) struct Acct {
    /// Odd while the owning CPU updates `runtime_ns`/`run_start`.
    seq: AtomicU32,
    /// Nanoseconds on a CPU in runs that ended.
    runtime_ns: AtomicU64,
    /// `uptime_ns` when the current run began; 0 while switched out.
    run_start: AtomicU64,
    user_ticks: AtomicU64,
    sys_ticks: AtomicU64,
    nvcsw: AtomicU64,
    nivcsw: AtomicU64,
}

/// A snapshot of a task's CPU time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Exact time on a CPU, the current run included.
    pub runtime_ns: u64,
    /// Timer ticks that found the task in user mode.
    pub user_ticks: u64,
    /// Timer ticks that found it in kernel mode.
    pub sys_ticks: u64,
    /// Voluntary context switches (it blocked).
    pub nvcsw: u64,
    /// Involuntary ones (preempted, or it yielded while runnable).
    pub nivcsw: u64,
}

impl CpuTimes {
    /// Adds `o` field by field (a process's dead threads, reaped children).
    pub fn add(&mut self, o: &CpuTimes) {
        self.runtime_ns = self.runtime_ns.saturating_add(o.runtime_ns);
        self.user_ticks = self.user_ticks.saturating_add(o.user_ticks);
        self.sys_ticks = self.sys_ticks.saturating_add(o.sys_ticks);
        self.nvcsw = self.nvcsw.saturating_add(o.nvcsw);
        self.nivcsw = self.nivcsw.saturating_add(o.nivcsw);
    }
}

/// Adds one to a counter only its owning CPU writes: a load and a store,
/// not a locked read-modify-write (each of those is a helper call under TCG).
fn bump(c: &AtomicU64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

impl Acct {
    pub(super) const fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            runtime_ns: AtomicU64::new(0),
            run_start: AtomicU64::new(0),
            user_ticks: AtomicU64::new(0),
            sys_ticks: AtomicU64::new(0),
            nvcsw: AtomicU64::new(0),
            nivcsw: AtomicU64::new(0),
        }
    }

    /// Runs `f` on `runtime_ns`/`run_start` inside the sequence count.
    /// Only the CPU that owns the task (it is or was just on that CPU,
    /// interrupts off) calls this, so writers never race each other.
    fn write(&self, f: impl FnOnce(&Self)) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        f(self);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// The task starts running at `now`.
    pub(super) fn switch_in(&self, now: u64) {
        // max(1): 0 means "not running".
        self.write(|a| a.run_start.store(now.max(1), Ordering::Relaxed));
    }

    /// The task stops running at `now`; `voluntary`: it blocked.
    pub(super) fn switch_out(&self, now: u64, voluntary: bool) {
        self.write(|a| {
            let start = a.run_start.load(Ordering::Relaxed);
            if start != 0 {
                let rt = a.runtime_ns.load(Ordering::Relaxed);
                a.runtime_ns.store(rt.saturating_add(now.saturating_sub(start)), Ordering::Relaxed);
            }
            a.run_start.store(0, Ordering::Relaxed);
        });
        bump(if voluntary { &self.nvcsw } else { &self.nivcsw });
    }

    /// A timer tick found the task running (`user`: in user mode).
    pub(super) fn tick(&self, user: bool) {
        bump(if user { &self.user_ticks } else { &self.sys_ticks });
    }

    pub(super) fn snapshot(&self) -> CpuTimes {
        let (runtime, start) = loop {
            let s = self.seq.load(Ordering::Acquire);
            if s & 1 != 0 {
                core::hint::spin_loop();
                continue;
            }
            let rt = self.runtime_ns.load(Ordering::Relaxed);
            let start = self.run_start.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s {
                break (rt, start);
            }
        };
        let running = if start == 0 { 0 } else { crate::time::uptime_ns().saturating_sub(start) };
        CpuTimes {
            runtime_ns: runtime.saturating_add(running),
            user_ticks: self.user_ticks.load(Ordering::Relaxed),
            sys_ticks: self.sys_ticks.load(Ordering::Relaxed),
            nvcsw: self.nvcsw.load(Ordering::Relaxed),
            nivcsw: self.nivcsw.load(Ordering::Relaxed),
        }
    }
}

/// Per CPU: ticks that found user mode, kernel mode (not idle), the idle task.
static CPU_USER: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static CPU_SYSTEM: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static CPU_IDLE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// How CPU `cpu`'s timer ticks fell so far (/proc/stat).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuStat {
    pub user_ticks: u64,
    pub system_ticks: u64,
    pub idle_ticks: u64,
}

/// Called by the tick on `cpu` for the task it interrupted.
pub(super) fn cpu_tick(cpu: usize, idle: bool, user: bool) {
    let c = if idle {
        &CPU_IDLE[cpu]
    } else if user {
        &CPU_USER[cpu]
    } else {
        &CPU_SYSTEM[cpu]
    };
    bump(c);
}

/// The tick counts of CPU `cpu` (zeros for a CPU that does not exist).
pub fn cpu_stat(cpu: usize) -> CpuStat {
    if cpu >= MAX_CPUS {
        return CpuStat::default();
    }
    CpuStat {
        user_ticks: CPU_USER[cpu].load(Ordering::Relaxed),
        system_ticks: CPU_SYSTEM[cpu].load(Ordering::Relaxed),
        idle_ticks: CPU_IDLE[cpu].load(Ordering::Relaxed),
    }
}

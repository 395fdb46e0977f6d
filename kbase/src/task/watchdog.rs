//! Lockup detectors: soft lockups, hard lockups and hung tasks.
//!
//! ```text
//!  timer tick on CPU n ──▶ current task in kernel mode?  kticks += 1, else 0
//!                          kticks = SOFT_SECS·HZ  ──▶ "watchdog: soft lockup on CPU n"
//!                          (voluntary schedule() resets kticks)
//!                      ──▶ every other CPU: ticks counter still the same
//!                          after HARD_SECS? ──▶ "watchdog: hard lockup on CPU m",
//!                          NMI to m, which prints where it is
//!  a task about to sleep with interrupts masked ──▶ "watchdog: sleeping
//!                          with interrupts masked" (a SpinLock held
//!                          across a blocking call, Linux's might_sleep)
//!  "hungtaskd" thread, every 5 s ──▶ tasks Blocked in an uninterruptible wait
//!                          (Mutex::lock, JoinHandle::join) for longer than the
//!                          timeout ──▶ "hung task: <name> blocked for N s"
//! ```
//! A soft lockup is a task that ran `SOFT_SECS` of CPU time in the kernel
//! without blocking or yielding: the kernel is preemptible, so a kernel loop
//! with interrupts on is still switched out when others wait, and a
//! per-CPU "last switch" stamp would miss it; the task's own count of
//! kernel-mode ticks does not. A tick that finds user mode resets the
//! count (a user program spinning is fine). A hard lockup is a CPU whose
//! timer stopped (a spin with interrupts masked: every `SpinLock` masks
//! them). Only waits marked uninterruptible count as hung: a process in
//! pause(2), a read on an empty pipe or an idle kernel worker waits
//! interruptibly, forever if it likes. `watchdog=panic` (test boots) turns
//! every report into a panic so the run fails; `watchdog=off` disables all.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

use super::Task;
use crate::arch::percpu::{self, MAX_CPUS};
use crate::arch::trap::TrapFrame;
use crate::arch::{apic, cpu, extable};
use crate::console::write_fmt_panicking as out;

/// Kernel-mode CPU seconds without scheduling that make a soft lockup.
pub const SOFT_SECS: u32 = 10;
static SOFT_THRESHOLD_SECS: AtomicU32 = AtomicU32::new(SOFT_SECS);
static SOFT_REPORTS: AtomicU32 = AtomicU32::new(0);
static HARD_REPORTS: AtomicU32 = AtomicU32::new(0);
static HUNG_REPORTS: AtomicU32 = AtomicU32::new(0);
static MASKED_SLEEP_REPORTS: AtomicU32 = AtomicU32::new(0);
/// Reports of sleeps with interrupts masked printed in log mode (more
/// are counted, not printed).
const MASKED_SLEEP_PRINTED: u32 = 4;
/// Seconds without a timer tick that make a hard lockup.
pub const HARD_SECS: u64 = 10;
static HARD_THRESHOLD_SECS: AtomicU64 = AtomicU64::new(HARD_SECS);
/// Default hung-task timeout (Linux's `hung_task_timeout_secs`).
pub const HUNG_SECS: u32 = 120;
/// How often the hung-task thread looks.
const HUNG_CHECK_NS: u64 = 5_000_000_000;

const MODE_OFF: u8 = 0;
const MODE_LOG: u8 = 1;
const MODE_PANIC: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(MODE_LOG);
static HUNG_TIMEOUT_SECS: AtomicU32 = AtomicU32::new(HUNG_SECS);

/// Per watched CPU: its tick count when last seen changing, and when.
static SEEN_TICKS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static SEEN_AT_NS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static HARD_REPORTED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// Set by the CPU that detected a hard lockup; the NMI handler of the
/// stuck CPU prints its frame and clears it.
static NMI_BACKTRACE: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// Applies `watchdog=` and `hung_task_timeout_secs=` from the command line.
pub(crate) fn configure(args: &cmdline::KernelArgs<'_>) {
    let mode = match args.watchdog {
        Some(cmdline::WatchdogMode::Off) => MODE_OFF,
        Some(cmdline::WatchdogMode::Panic) => MODE_PANIC,
        Some(cmdline::WatchdogMode::Log) | None => MODE_LOG,
    };
    MODE.store(mode, Ordering::Relaxed);
    if let Some(s) = args.hung_task_timeout_secs {
        HUNG_TIMEOUT_SECS.store(s, Ordering::Relaxed);
    }
}

fn is_on() -> bool {
    MODE.load(Ordering::Relaxed) != MODE_OFF
}

/// Whether the detectors run (not `watchdog=off`).
pub fn is_enabled() -> bool {
    is_on()
}

/// Whether reports panic (`watchdog=panic`).
pub fn is_panic_mode() -> bool {
    MODE.load(Ordering::Relaxed) == MODE_PANIC
}

/// Current hung-task timeout in seconds (0: off).
pub fn hung_task_timeout_secs() -> u32 {
    HUNG_TIMEOUT_SECS.load(Ordering::Relaxed)
}

/// Sets the hung-task timeout (0 turns the check off); for tests.
pub fn set_hung_task_timeout_secs(secs: u32) {
    HUNG_TIMEOUT_SECS.store(secs, Ordering::Relaxed);
}

/// Sleeps with interrupts masked reported so far.
pub fn masked_sleep_reports() -> u32 {
    MASKED_SLEEP_REPORTS.load(Ordering::Relaxed)
}

/// Reports so far: (soft lockups, hard lockups, hung tasks).
pub fn reports() -> (u32, u32, u32) {
    (SOFT_REPORTS.load(Ordering::Relaxed), HARD_REPORTS.load(Ordering::Relaxed), HUNG_REPORTS.load(Ordering::Relaxed))
}

/// For ktests that provoke a report: log instead of panicking (`false`)
/// or back to panicking; returns whether panic mode was on. Leaves
/// `watchdog=off` alone.
pub fn set_panic_mode(on: bool) -> bool {
    let old = MODE.load(Ordering::Relaxed);
    if old != MODE_OFF {
        MODE.store(if on { MODE_PANIC } else { MODE_LOG }, Ordering::Relaxed);
    }
    old == MODE_PANIC
}

/// Sets the soft-lockup threshold in seconds (ktests); returns the old one.
pub fn set_soft_lockup_secs(secs: u32) -> u32 {
    SOFT_THRESHOLD_SECS.swap(secs.max(1), Ordering::Relaxed)
}

/// Sets the hard-lockup threshold in seconds (ktests); returns the old one.
pub fn set_hard_lockup_secs(secs: u64) -> u64 {
    HARD_THRESHOLD_SECS.swap(secs.max(1), Ordering::Relaxed)
}

/// Timer tick on this CPU (interrupts off): soft-lockup accounting of the
/// interrupted task, then the hard-lockup check of the other CPUs.
pub(super) fn on_tick(frame: &TrapFrame, current: Option<&Arc<Task>>) {
    if !is_on() || crate::panic::is_panicking() {
        return;
    }
    let me = percpu::cpu_index();
    if let Some(t) = current.filter(|t| !t.is_idle) {
        if frame.is_from_user() {
            t.kticks.store(0, Ordering::Relaxed);
        } else {
            let n = t.kticks.fetch_add(1, Ordering::Relaxed) + 1;
            let secs = SOFT_THRESHOLD_SECS.load(Ordering::Relaxed);
            if n == secs * apic::TICK_HZ {
                SOFT_REPORTS.fetch_add(1, Ordering::Relaxed);
                out(format_args!(
                    "watchdog: soft lockup on CPU {me}: {} stuck for {secs} s\n  interrupted at rip {:#018x} rsp {:#018x}\n",
                    t.name, frame.rip, frame.rsp
                ));
                crate::panic::print_backtrace(frame.rbp, Some(frame.rip));
                if is_panic_mode() {
                    panic!("watchdog: soft lockup on CPU {me}: {}", t.name);
                }
            }
        }
    }
    check_other_cpus(me);
}

/// Called before the current task blocks (a contended `Mutex`, a wait
/// queue, a sleep): blocking with interrupts masked means a `SpinLock` is
/// held (or this is an interrupt handler), which deadlocks as soon as the
/// waker needs that lock or this CPU's timer. Linux's `might_sleep`. The
/// wait goes on (in log mode) after the report.
pub fn check_may_sleep() {
    if cpu::interrupts_enabled() || !is_on() || crate::panic::is_panicking() {
        return;
    }
    let n = MASKED_SLEEP_REPORTS.fetch_add(1, Ordering::Relaxed);
    if n >= MASKED_SLEEP_PRINTED && !is_panic_mode() {
        return;
    }
    let task = super::current();
    let name = task.name();
    out(format_args!("watchdog: sleeping with interrupts masked (a spin lock held?) in {name}\n"));
    crate::panic::print_backtrace(cpu::frame_pointer(), None);
    if is_panic_mode() {
        panic!("watchdog: sleeping with interrupts masked in {name}");
    }
}

/// Called when the current task gives up the CPU of its own accord, and
/// on each entry from user mode.
pub(super) fn reset_kernel_ticks(t: &Task) {
    t.kticks.store(0, Ordering::Relaxed);
}

fn check_other_cpus(me: usize) {
    let now = crate::time::uptime_ns();
    for c in (0..MAX_CPUS).filter(|&c| c != me) {
        let Some(pc) = percpu::cpu(c) else { continue };
        let ticks = pc.ticks();
        if ticks == 0 {
            continue; // timer not started there yet
        }
        if SEEN_TICKS[c].swap(ticks, Ordering::Relaxed) != ticks {
            SEEN_AT_NS[c].store(now, Ordering::Relaxed);
            HARD_REPORTED[c].store(false, Ordering::Relaxed);
            continue;
        }
        let since = SEEN_AT_NS[c].load(Ordering::Relaxed);
        if since == 0 || now.saturating_sub(since) < HARD_THRESHOLD_SECS.load(Ordering::Relaxed) * 1_000_000_000 {
            continue;
        }
        if HARD_REPORTED[c].swap(true, Ordering::AcqRel) {
            continue;
        }
        out(format_args!(
            "watchdog: hard lockup on CPU {c}: no timer tick for {} s (noticed by CPU {me})\n",
            now.saturating_sub(since) / 1_000_000_000
        ));
        // Ask the stuck CPU where it is: an NMI gets through masked interrupts.
        NMI_BACKTRACE[c].store(true, Ordering::Release);
        apic::send_nmi(c);
        let deadline = now + 200_000_000;
        while NMI_BACKTRACE[c].load(Ordering::Acquire) && crate::time::uptime_ns() < deadline {
            cpu::pause();
        }
        // Counted once the stuck CPU has printed (a ktest waits for this).
        HARD_REPORTS.fetch_add(1, Ordering::Relaxed);
        if is_panic_mode() {
            panic!("watchdog: hard lockup on CPU {c}");
        }
    }
}

/// NMI on this CPU: true if it was a backtrace request (handled here).
pub(crate) fn on_nmi(frame: &TrapFrame) -> bool {
    let me = percpu::cpu_index();
    if !NMI_BACKTRACE[me].load(Ordering::Acquire) {
        return false;
    }
    out(format_args!(
        "watchdog: CPU {me} was at rip {:#018x} rsp {:#018x} ({} mode, interrupts {})\n",
        frame.rip,
        frame.rsp,
        if frame.is_from_user() { "user" } else { "kernel" },
        if frame.rflags & 0x200 != 0 { "on" } else { "off" }
    ));
    if !frame.is_from_user() {
        crate::panic::print_backtrace(frame.rbp, Some(frame.rip));
    }
    NMI_BACKTRACE[me].store(false, Ordering::Release);
    true
}

// ---- hung tasks ----

/// Starts the hung-task thread (once, after the scheduler is up).
pub(super) fn start() {
    if !is_on() {
        return;
    }
    if let Err(e) = super::spawn("hungtaskd", hung_task_loop) {
        log::warn!("watchdog: cannot start the hung-task thread: {e}");
    }
}

fn hung_task_loop() {
    loop {
        super::sleep_ns(HUNG_CHECK_NS);
        check_hung_tasks();
    }
}

/// Names of the tasks now blocked in an uninterruptible wait that began at
/// least `min_secs` ago (ktests; reports nothing).
pub fn blocked_uninterruptibly(min_secs: u32) -> Vec<alloc::string::String> {
    let mut names = Vec::new();
    scan(min_secs, |t, _| names.push(t.name.clone()));
    names
}

/// Calls `f(task, seconds)` for each task blocked uninterruptibly for at
/// least `min_secs`.
fn scan(min_secs: u32, mut f: impl FnMut(&Arc<Task>, u64)) {
    let now = crate::time::uptime_ns();
    let tasks: Vec<Arc<Task>> = super::ALL.lock().iter().filter_map(alloc::sync::Weak::upgrade).collect();
    for t in &tasks {
        let since = t.blocked_since.load(Ordering::Acquire);
        if since == 0 || t.state() != super::State::Blocked {
            continue;
        }
        let secs = now.saturating_sub(since) / 1_000_000_000;
        if secs >= u64::from(min_secs) {
            f(t, secs);
        }
    }
    // Dropped here, in a thread: freeing a task may need a TLB shootdown.
    drop(tasks);
}

/// One pass of the hung-task check: reports (once per wait) every task
/// blocked uninterruptibly for longer than the timeout; returns how many.
pub fn check_hung_tasks() -> usize {
    let limit_s = hung_task_timeout_secs();
    if limit_s == 0 || !is_on() {
        return 0;
    }
    let mut found = 0;
    scan(limit_s, |t, secs| {
        let since = t.blocked_since.load(Ordering::Acquire);
        if since == 0 || t.hung_reported.swap(since, Ordering::AcqRel) == since {
            return;
        }
        found += 1;
        HUNG_REPORTS.fetch_add(1, Ordering::Relaxed);
        out(format_args!("hung task: {} blocked for {secs} s\n", t.name));
        // The switch saved [r15 r14 r13 r12 rbx rbp ret] at the task's rsp.
        let rsp = t.rsp.load(Ordering::Acquire);
        if let (Ok(rbp), Ok(ret)) = (extable::probe_read_u64(rsp + 40), extable::probe_read_u64(rsp + 48)) {
            crate::panic::print_backtrace(rbp, Some(ret));
        }
        if is_panic_mode() {
            panic!("hung task: {} blocked for {secs} s", t.name);
        }
    });
    found
}

/// Marks the current task as in an uninterruptible wait from now on.
pub(super) fn begin_uninterruptible(t: &Task) {
    t.blocked_since.store(crate::time::uptime_ns().max(1), Ordering::Release);
}

/// Ends the current task's uninterruptible wait.
pub(super) fn end_uninterruptible(t: &Task) {
    t.blocked_since.store(0, Ordering::Release);
}

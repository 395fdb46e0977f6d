//! Kernel threads and the preemptive scheduler.
//!
//! ```text
//!   per CPU:  RunQueue { current, FIFO of runnable tasks, idle task, slice }
//!   spawn ──▶ least-loaded CPU's queue ──(RESCHED IPI)──▶ that CPU
//!   timer tick (100 Hz): slice used up and others waiting → need_resched;
//!                        the interrupted task's user/system sample (cputime.rs)
//!   return from interrupt: need_resched → schedule()
//!   idle CPU: steal from the longest queue, else HLT
//!   block: state Blocked + on a WaitQueue ── wake: CAS Blocked→Runnable, enqueue
//! ```
//! Each task has a CPU mask (`set_affinity`): placement, wake-ups and
//! stealing only put it on a CPU of its mask, and a task found running on
//! a CPU outside it (its mask just changed) is moved at the next schedule.
//!
//! A task is "on CPU" from the moment a CPU picks it until its context is
//! saved by the switch; a CPU that picks a task still on another CPU (just
//! woken, not yet switched out) waits for that flag to clear.

mod cputime;
mod fpu;
mod sleep;
mod switch;
pub mod timer;
mod wait;
pub mod watchdog;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::BootInfo;
use crate::arch::percpu::{self, MAX_CPUS};
use crate::arch::trap::TrapFrame;
use crate::arch::{apic, cpu};
use crate::mm::MmError;
use crate::mm::paging::SpaceRoot;
use crate::mm::stack::KernelStack;
use crate::sync::SpinLock;

pub use cputime::{CpuStat, CpuTimes, cpu_stat};
pub use sleep::{sleep_ns, sleep_until_ns, sleep_until_or};
pub use wait::{Mutex, MutexGuard, WaitQueue};

/// Timer ticks a task may run before yielding to a waiting task.
const SLICE_TICKS: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Running = 0,
    Runnable = 1,
    Blocked = 2,
    Dead = 3,
}

/// A kernel thread.
pub struct Task {
    id: u64,
    name: String,
    state: AtomicU8,
    /// Saved stack pointer while switched out.
    rsp: AtomicU64,
    on_cpu: AtomicBool,
    is_idle: bool,
    last_cpu: AtomicUsize,
    /// CPUs this task may run on (bit n: CPU n; MAX_CPUS is 64).
    allowed: AtomicU64,
    /// Owned only to be freed with the task (the idle tasks run on boot stacks).
    #[allow(dead_code, reason = "held for its Drop: the stack lives as long as the task")]
    stack: Option<KernelStack>,
    /// (stack bottom, stack top) for the per-CPU entry fields.
    stack_range: (u64, u64),
    exited: WaitQueue,
    /// User-mode state, for tasks that entered user mode.
    user: SpinLock<UserState>,
    has_user: AtomicBool,
    /// Data the Linux layer attaches (its thread object).
    /// The Linux layer's object and its concrete type, recorded once at
    /// `set_ext` so the hot path checks the type without a virtual call.
    ext: crate::sync::Once<(core::any::TypeId, Arc<dyn Any + Send + Sync>)>,
    /// Consecutive timer ticks that found this task in kernel mode since it
    /// last blocked, yielded or ran in user mode (soft-lockup watchdog).
    kticks: AtomicU32,
    /// Uptime when the current uninterruptible wait began, 0 if none
    /// (hung-task detector).
    blocked_since: AtomicU64,
    /// `blocked_since` of the wait last reported as hung (reported once).
    hung_reported: AtomicU64,
    /// Run time, tick samples and switch counts (`cputime.rs`).
    acct: cputime::Acct,
    /// The Linux layer wants this task's ticks (`set_tick_watch`: its
    /// process has ITIMER_VIRTUAL or ITIMER_PROF armed).
    tick_watch: AtomicBool,
}

/// What a user thread needs restored when it runs again.
#[derive(Default)]
struct UserState {
    space: Option<Arc<SpaceRoot>>,
    fs_base: u64,
    /// XSAVE area for AVX-and-above state (x87/SSE live in trap frames).
    xsave: Option<fpu::XsaveArea>,
}

impl Drop for Task {
    fn drop(&mut self) {
        if !self.is_idle {
            TASK_OBJECTS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Task {
    pub fn id(&self) -> u64 {
        self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            0 => State::Running,
            1 => State::Runnable,
            2 => State::Blocked,
            _ => State::Dead,
        }
    }
    fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::Release);
    }
    fn cas_state(&self, from: State, to: State) -> bool {
        self.state.compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }
    /// CPU the task last ran on.
    pub fn last_cpu(&self) -> usize {
        self.last_cpu.load(Ordering::Relaxed)
    }

    /// The CPUs this task may run on (bit n: CPU n).
    pub fn affinity(&self) -> u64 {
        self.allowed.load(Ordering::Acquire)
    }

    fn may_run_on(&self, cpu: usize) -> bool {
        self.allowed.load(Ordering::Acquire) & (1 << cpu) != 0
    }

    /// Attaches the Linux layer's object to this task (once).
    pub fn set_ext(&self, ext: Arc<dyn Any + Send + Sync>) -> bool {
        self.ext.set(((*ext).type_id(), ext))
    }

    /// CPU time used so far (a consistent snapshot, the current run
    /// included, from any CPU).
    pub fn cpu_times(&self) -> CpuTimes {
        self.acct.snapshot()
    }

    /// Whether each timer tick that finds this task running calls the
    /// tick hook (`set_tick_hook`).
    pub fn set_tick_watch(&self, on: bool) {
        self.tick_watch.store(on, Ordering::Relaxed);
    }

    /// The attached object, if it is a `T`.
    pub fn ext<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.ext.get().and_then(|(_, a)| a.clone().downcast::<T>().ok())
    }
}

/// Runs `f` on the running task, found without taking any lock or touching
/// its reference count (the system-call fast path).
fn with_current_task<R>(f: impl FnOnce(&Task) -> R) -> Option<R> {
    let addr = percpu::current_task_addr();
    if addr == 0 {
        return None;
    }
    // SAFETY: the slot holds the address of the task running this code,
    // stored by the scheduler before switching to it; that task is kept
    // alive by its CPU's run queue (`current`) for as long as it runs, and
    // we are it, so the borrow (which `f` cannot keep) cannot outlive it.
    let task: &Task = unsafe { &*(addr as *const Task) };
    Some(f(task))
}

/// The object the Linux layer attached to the running task.
pub fn current_ext<T: Any + Send + Sync>() -> Option<Arc<T>> {
    with_current_task(|task| task.ext::<T>()).flatten()
}

/// Runs `f` with the object the Linux layer attached to the running task,
/// borrowed: no reference count is touched (an atomic costs tens of ns
/// under TCG), the cheapest way to reach it on the system-call path. None
/// when the task has no such object.
pub fn with_current_ext<T: Any + Send + Sync, R>(f: impl FnOnce(&T) -> R) -> Option<R> {
    with_current_task(|task| {
        // The attached object never changes once set (`Once`).
        let (type_id, ext) = task.ext.get()?;
        if *type_id != core::any::TypeId::of::<T>() {
            return None;
        }
        // SAFETY: `type_id` was read from this very object when it was
        // attached (`set_ext`) and equals `T`'s, so the object is a `T`
        // (the check `downcast_ref` makes, without its virtual call); the
        // `Arc` in the `Once` keeps it alive while the task is borrowed.
        let t: &T = unsafe { &*(Arc::as_ptr(ext) as *const T) };
        Some(f(t))
    })
    .flatten()
}

/// CPU time of the running task (no reference count touched).
pub fn current_cpu_times() -> CpuTimes {
    with_current_task(Task::cpu_times).unwrap_or_default()
}

/// Called from the timer interrupt (interrupts off, no lock held) for a
/// task with `set_tick_watch(true)`; `user`: the tick found user mode.
static TICK_HOOK: crate::sync::Once<fn(user: bool)> = crate::sync::Once::new();

/// Installs the tick hook (once, at boot): ITIMER_VIRTUAL and ITIMER_PROF.
pub fn set_tick_hook(hook: fn(user: bool)) -> bool {
    TICK_HOOK.set(hook)
}

/// A system call or exception just entered the kernel from user mode:
/// the running task made progress in user mode since its last entry, so
/// its soft-lockup count starts again (one store, no lock).
pub(crate) fn note_entry_from_user() {
    with_current_task(watchdog::reset_kernel_ticks);
}

/// Makes `space` the address space of the current task (None: kernel only)
/// and loads it now.
pub fn set_user_space(space: Option<Arc<SpaceRoot>>) {
    let me = current();
    let old = {
        let mut u = me.user.lock();
        crate::mm::paging::load_root(space.as_deref());
        core::mem::replace(&mut u.space, space)
    };
    drop(old);
}

/// Sets the current task's user FS base (TLS pointer, `arch_prctl`).
pub fn set_user_fs_base(base: u64) {
    let me = current();
    let mut u = me.user.lock();
    u.fs_base = base;
    crate::arch::cpu::set_fs_base(base);
}

/// The current task's user FS base.
pub fn user_fs_base() -> u64 {
    current().user.lock().fs_base
}

/// Called by `arch::user::enter_user`: from now on the scheduler saves and
/// restores this task's extended FPU state, FS base and address space.
pub(crate) fn mark_current_user() {
    let me = current();
    if !me.has_user.swap(true, Ordering::AcqRel) {
        let mut u = me.user.lock();
        if u.xsave.is_none() {
            u.xsave = fpu::XsaveArea::new();
        }
    }
}

/// Switch-out half: saves extended state of a user task.
fn save_user(t: &Task) {
    if t.has_user.load(Ordering::Acquire) {
        if let Some(x) = t.user.lock().xsave.as_mut() {
            x.save();
        }
    }
}

/// Switch-in half: address space, FS base and extended state.
fn restore_user(t: &Task) {
    let u = t.user.lock();
    crate::mm::paging::load_root(u.space.as_deref());
    // Always: a thread preempted after set_user_fs_base but before its
    // first entry to user mode must not keep the previous task's FS base.
    crate::arch::cpu::set_fs_base(u.fs_base);
    if t.has_user.load(Ordering::Acquire) {
        if let Some(x) = u.xsave.as_ref() {
            x.restore();
        }
    }
}

struct RunQueue {
    current: Option<Arc<Task>>,
    queue: VecDeque<Arc<Task>>,
    idle: Option<Arc<Task>>,
    need_resched: bool,
    slice: u32,
    /// The task switched away from, dropped by whoever runs next (a dead
    /// task's stack cannot be freed while it is still in use).
    last_prev: Option<Arc<Task>>,
    switches: u64,
}

static RQS: [SpinLock<RunQueue>; MAX_CPUS] = [const {
    SpinLock::new(RunQueue {
        current: None,
        queue: VecDeque::new(),
        idle: None,
        need_resched: false,
        slice: SLICE_TICKS,
        last_prev: None,
        switches: 0,
    })
}; MAX_CPUS];
/// Queue lengths, readable without the locks (placement and stealing).
static QLEN: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static LIVE_TASKS: AtomicUsize = AtomicUsize::new(0);
/// `Task` objects not yet freed (a dead task counts until its last
/// reference goes): the leak checks compare it with what should be alive.
static TASK_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static SCHED_READY: AtomicBool = AtomicBool::new(false);
/// Set once any task's mask leaves out an online CPU: until then no
/// schedule needs to look for tasks to hand on (the common case costs
/// one load).
static ANY_PINNED: AtomicBool = AtomicBool::new(false);

fn new_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The task running on this CPU.
pub fn current() -> Arc<Task> {
    // Interrupts off from before the CPU index is read until the run queue
    // is locked: a task preempted in between could be migrated, and would
    // then read the other CPU's current task (and, say, attach its Linux
    // thread or address space to that task).
    cpu::without_interrupts(|| {
        let rq = RQS[percpu::cpu_index()].lock();
        rq.current.clone().expect("scheduler running on this CPU")
    })
}

/// Every task not yet freed (weakly; pruned as tasks are spawned), for
/// reports of what is left and, later, the hung-task detector.
static ALL: SpinLock<alloc::vec::Vec<alloc::sync::Weak<Task>>> = SpinLock::new(alloc::vec::Vec::new());

/// Calls `f(name, state, strong references)` for each task in memory.
pub fn for_each_task(mut f: impl FnMut(&str, State, usize)) {
    let tasks: alloc::vec::Vec<Arc<Task>> = ALL.lock().iter().filter_map(alloc::sync::Weak::upgrade).collect();
    for t in &tasks {
        // Minus the one `tasks` holds.
        f(&t.name, t.state(), Arc::strong_count(t) - 1);
    }
}

/// Drops the entries of freed tasks from the list of all tasks: each one
/// still pins its task's allocation (drop_caches; spawning prunes too,
/// once the list is twice the live count).
pub fn prune_dead() {
    let mut all = ALL.lock();
    all.retain(|w| w.strong_count() > 0);
    all.shrink_to_fit();
}

/// Number of `Task` objects in memory, dead ones not yet freed included.
pub fn task_objects() -> usize {
    TASK_OBJECTS.load(Ordering::Relaxed)
}

/// Number of kernel threads alive (not yet reaped).
pub fn live_tasks() -> usize {
    LIVE_TASKS.load(Ordering::Relaxed)
}

/// Context switches performed by CPU `cpu` so far.
pub fn switches(cpu: usize) -> u64 {
    RQS.get(cpu).map_or(0, |r| r.lock().switches)
}

/// Makes the code now running on this CPU its idle task.
fn adopt_boot_context(cpu: usize, bottom: u64, top: u64) {
    let idle = Arc::new(Task {
        id: new_id(),
        name: alloc::format!("idle/{cpu}"),
        state: AtomicU8::new(State::Running as u8),
        rsp: AtomicU64::new(0),
        on_cpu: AtomicBool::new(true),
        is_idle: true,
        last_cpu: AtomicUsize::new(cpu),
        allowed: AtomicU64::new(1 << cpu),
        stack: None,
        stack_range: (bottom, top),
        exited: WaitQueue::new(),
        user: SpinLock::new(UserState::default()),
        has_user: AtomicBool::new(false),
        ext: crate::sync::Once::new(),
        kticks: AtomicU32::new(0),
        blocked_since: AtomicU64::new(0),
        hung_reported: AtomicU64::new(0),
        acct: cputime::Acct::new(),
        tick_watch: AtomicBool::new(false),
    });
    idle.acct.switch_in(crate::time::uptime_ns());
    let mut rq = RQS[cpu].lock();
    rq.idle = Some(idle.clone());
    percpu::this_cpu().current_task.store(Arc::as_ptr(&idle) as usize, Ordering::Relaxed);
    rq.current = Some(idle);
    set_cpu_stack(bottom, top);
}

fn set_cpu_stack(bottom: u64, top: u64) {
    let pc = percpu::this_cpu();
    pc.kstack_top.store(top, Ordering::Relaxed);
    pc.stack_limit.store(bottom, Ordering::Relaxed);
}

unsafe extern "C" {
    static boot_stack_bottom: u8;
    static boot_stack_top: u8;
}

pub(crate) fn init() {
    let (b, t) = (core::ptr::addr_of!(boot_stack_bottom) as u64, core::ptr::addr_of!(boot_stack_top) as u64);
    adopt_boot_context(0, b, t);
    SCHED_READY.store(true, Ordering::Release);
}

/// Starts the kernel's main function as a thread; the boot context becomes
/// the boot CPU's idle loop.
pub(crate) fn run_main(main: fn(&'static BootInfo) -> !, info: &'static BootInfo) -> ! {
    cpu::enable_interrupts();
    if let Err(e) = spawn("kmain", move || main(info)) {
        panic!("cannot start the kernel main thread: {e}");
    }
    watchdog::start();
    idle_loop()
}

/// Entry of an application processor once its platform state is set up.
pub(crate) fn ap_entry(stack_bottom: u64, stack_top: u64) -> ! {
    let cpu = percpu::cpu_index();
    adopt_boot_context(cpu, stack_bottom, stack_top);
    cpu::enable_interrupts();
    idle_loop()
}

fn idle_loop() -> ! {
    let me = percpu::cpu_index();
    loop {
        if QLEN[me].load(Ordering::Acquire) == 0 {
            steal_into(me);
        }
        cpu::disable_interrupts();
        if QLEN[me].load(Ordering::Acquire) > 0 {
            cpu::enable_interrupts();
            schedule();
        } else {
            // STI;HLT is atomic: a wake-up IPI arriving now ends the HLT.
            cpu::enable_interrupts_and_halt();
        }
    }
}

/// The bit mask of the CPUs online now.
fn online_mask() -> u64 {
    (0..MAX_CPUS).filter(|&c| percpu::cpu(c).is_some()).fold(0, |m, c| m | (1 << c))
}

/// The least-loaded online CPU of `mask` (CPU 0 if none: callers keep
/// masks non-empty).
fn pick_cpu(mask: u64) -> usize {
    (0..MAX_CPUS)
        .filter(|&c| mask & (1 << c) != 0 && percpu::cpu(c).is_some())
        .min_by_key(|&c| QLEN[c].load(Ordering::Relaxed))
        .unwrap_or(0)
}

/// Restricts `task` to the CPUs of `mask` (sched_setaffinity). Fails (and
/// changes nothing) when `mask` names no online CPU. The calling task
/// moves at once if it left its CPU's mask; another task moves when its
/// CPU next schedules, which a RESCHED IPI asks for now.
pub fn set_affinity(task: &Arc<Task>, mask: u64) -> Result<(), ()> {
    let mask = mask & online_mask();
    if mask == 0 {
        return Err(());
    }
    if mask != online_mask() {
        ANY_PINNED.store(true, Ordering::Release);
    }
    task.allowed.store(mask, Ordering::Release);
    let here = percpu::cpu_index();
    let is_current = with_current_task(|t| core::ptr::eq(t, Arc::as_ptr(task))).unwrap_or(false);
    if is_current {
        if !task.may_run_on(here) {
            schedule();
        }
    } else if task.on_cpu.load(Ordering::Acquire) {
        let cpu = task.last_cpu();
        if !task.may_run_on(cpu) && cpu != here && apic::is_ready() {
            apic::send_ipi(cpu, apic::VECTOR_RESCHED);
        }
    }
    Ok(())
}

/// Moves one runnable task from the longest other queue to `me`'s.
fn steal_into(me: usize) {
    let victim = (0..MAX_CPUS)
        .filter(|&c| c != me)
        .max_by_key(|&c| QLEN[c].load(Ordering::Relaxed))
        .filter(|&c| QLEN[c].load(Ordering::Relaxed) > 0);
    let Some(victim) = victim else { return };
    let stolen = {
        let Some(mut vq) = RQS[victim].try_lock() else { return };
        // The newest task that may run here.
        let t = vq.queue.iter().rposition(|t| t.may_run_on(me)).and_then(|i| vq.queue.remove(i));
        QLEN[victim].store(vq.queue.len(), Ordering::Release);
        t
    };
    if let Some(t) = stolen {
        let mut rq = RQS[me].lock();
        rq.queue.push_back(t);
        QLEN[me].store(rq.queue.len(), Ordering::Release);
    }
}

/// Owned closure passed to a new task through its first context.
/// What a new task runs: a kernel thread's body returns `None`; a user
/// thread's set-up returns the frame to enter user mode with. The entry
/// returns before user mode starts, so the closure and its box are freed
/// (user mode never returns to unwind them).
type Entry = Box<dyn FnOnce() -> Option<TrapFrame> + Send + 'static>;

/// Waits for a spawned task to finish.
pub struct JoinHandle {
    task: Arc<Task>,
}

impl JoinHandle {
    pub fn task(&self) -> &Arc<Task> {
        &self.task
    }

    /// Blocks until the task has exited.
    pub fn join(self) {
        let t = self.task.clone();
        self.task.exited.wait_uninterruptible(|| (t.state() == State::Dead).then_some(()));
    }
}

/// Starts a kernel thread running `f` on the least-loaded CPU.
pub fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle, MmError> {
    spawn_entry(
        name,
        Box::new(move || {
            f();
            None
        }),
        u64::MAX,
    )
}

/// Starts a thread that runs `setup` in the kernel, then enters user mode
/// with the frame it returns (see `arch::user::enter_user`). It may run on
/// the CPUs its creator may (fork and clone keep the affinity mask).
pub fn spawn_user(name: &str, setup: impl FnOnce() -> TrapFrame + Send + 'static) -> Result<JoinHandle, MmError> {
    let mask = with_current_task(|t| if t.is_idle { u64::MAX } else { t.affinity() }).unwrap_or(u64::MAX);
    spawn_entry(name, Box::new(move || Some(setup())), mask)
}

fn spawn_entry(name: &str, entry: Entry, mask: u64) -> Result<JoinHandle, MmError> {
    let mut stack = KernelStack::new()?;
    let entry: Box<Entry> = Box::new(entry);
    let arg = Box::into_raw(entry) as u64;
    let rsp = switch::initial_stack(&mut stack, arg);
    let range = (stack.bottom(), stack.top());
    TASK_OBJECTS.fetch_add(1, Ordering::Relaxed);
    let task = Arc::new(Task {
        id: new_id(),
        name: String::from(name),
        state: AtomicU8::new(State::Runnable as u8),
        rsp: AtomicU64::new(rsp),
        on_cpu: AtomicBool::new(false),
        is_idle: false,
        last_cpu: AtomicUsize::new(0),
        allowed: AtomicU64::new(mask),
        stack: Some(stack),
        stack_range: range,
        exited: WaitQueue::new(),
        user: SpinLock::new(UserState::default()),
        has_user: AtomicBool::new(false),
        ext: crate::sync::Once::new(),
        kticks: AtomicU32::new(0),
        blocked_since: AtomicU64::new(0),
        hung_reported: AtomicU64::new(0),
        acct: cputime::Acct::new(),
        tick_watch: AtomicBool::new(false),
    });
    LIVE_TASKS.fetch_add(1, Ordering::Relaxed);
    {
        let mut all = ALL.lock();
        if all.len() >= 2 * LIVE_TASKS.load(Ordering::Relaxed) + 16 {
            all.retain(|w| w.strong_count() > 0);
        }
        all.push(Arc::downgrade(&task));
    }
    let target = pick_cpu(mask);
    task.last_cpu.store(target, Ordering::Relaxed);
    enqueue(target, task.clone());
    Ok(JoinHandle { task })
}

fn enqueue(target: usize, task: Arc<Task>) {
    {
        let mut rq = RQS[target].lock();
        rq.queue.push_back(task);
        QLEN[target].store(rq.queue.len(), Ordering::Release);
        rq.need_resched |= rq.current.as_ref().is_some_and(|c| c.is_idle);
    }
    if target != percpu::cpu_index() && apic::is_ready() {
        apic::send_ipi(target, apic::VECTOR_RESCHED);
    }
}

/// Makes a blocked task runnable again. Returns false if it was not blocked.
pub fn wake(task: &Arc<Task>) -> bool {
    if !task.cas_state(State::Blocked, State::Runnable) {
        return false;
    }
    // Always its last CPU, even one its mask no longer allows: it may
    // still be switching out there, and a task queued elsewhere meanwhile
    // could make two CPUs wait for each other. That CPU's next schedule
    // hands it on (or an idle CPU of its mask steals it).
    let target = task.last_cpu();
    let target = if percpu::cpu(target).is_some() { target } else { 0 };
    enqueue(target, task.clone());
    true
}

/// Gives the CPU to another runnable task, if any.
pub fn yield_now() {
    schedule();
}

/// A voluntary scheduling point inside a long kernel operation (Linux's
/// `cond_resched`), called between the chunks of a system call that loops
/// over a user-sized range. The kernel is preemptible, so others get the
/// CPU anyway; what this adds is that the task counts as having scheduled:
/// the soft-lockup detector, which counts a task's kernel-mode ticks
/// since it last scheduled voluntarily, sees progress rather than a
/// lockup. Switches only when a switch is already due.
pub fn cond_resched() {
    if !SCHED_READY.load(Ordering::Acquire) {
        return;
    }
    let need = cpu::without_interrupts(|| {
        let rq = RQS[percpu::cpu_index()].lock();
        if let Some(c) = rq.current.as_ref() {
            watchdog::reset_kernel_ticks(c);
        }
        rq.need_resched
    });
    if need {
        schedule();
    }
}

/// Picks the next task on this CPU and switches to it.
pub fn schedule() {
    schedule_inner(false);
}

/// Marks the current task blocked; on success the caller makes it findable
/// by a waker (a wait queue, the sleep list) and then calls `schedule()`.
/// Fails when a wake-up is already pending (a stale waker from an earlier
/// wait made the task Runnable and queued it): the caller then calls
/// `schedule()` to consume that wake-up and re-checks its condition.
fn block_current(me: &Task) -> bool {
    me.cas_state(State::Running, State::Blocked)
}

/// `preempted`: called from an interrupt, not by the task itself. A task
/// preempted after marking itself Blocked but before calling `schedule`
/// stays runnable (as Linux does), since its waker may already have come
/// and gone; it re-checks its condition when it runs again.
fn schedule_inner(preempted: bool) {
    if !SCHED_READY.load(Ordering::Acquire) {
        return;
    }
    let irq_was_on = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    let me = percpu::cpu_index();
    // The early returns below leave the block first, so the run-queue
    // guard is gone before interrupts come back on (an interrupt taking the
    // same lock on this CPU would deadlock).
    // Runnable tasks no longer allowed on this CPU (their mask changed),
    // queued on a CPU of their mask once this CPU's lock is dropped. This
    // CPU has picked its next task by then, so two CPUs handing tasks to
    // each other cannot both wait for the other's switch.
    let mut migrants: [Option<Arc<Task>>; 4] = Default::default();
    let picked = 'pick: {
        let mut guard = RQS[me].lock();
        let rq = &mut *guard;
        let Some(prev) = rq.current.take() else {
            break 'pick None;
        };
        if !preempted {
            watchdog::reset_kernel_ticks(&prev);
        }
        let requeue = !prev.is_idle
            && (prev.cas_state(State::Running, State::Runnable)
                || (preempted && prev.cas_state(State::Blocked, State::Runnable)));
        let mut n = 0;
        if requeue && prev.may_run_on(me) {
            rq.queue.push_back(prev.clone());
        } else if requeue {
            // It runs elsewhere once our switch clears its on_cpu flag.
            migrants[0] = Some(prev.clone());
            n = 1;
        }
        let next = if ANY_PINNED.load(Ordering::Acquire) {
            while n < migrants.len() {
                let Some(i) = rq.queue.iter().position(|t| !t.may_run_on(me)) else { break };
                migrants[n] = rq.queue.remove(i);
                n += 1;
            }
            rq.queue.iter().position(|t| t.may_run_on(me)).and_then(|i| rq.queue.remove(i))
        } else {
            rq.queue.pop_front()
        };
        let next = next.unwrap_or_else(|| rq.idle.clone().expect("idle task"));
        QLEN[me].store(rq.queue.len(), Ordering::Release);
        rq.need_resched = false;
        rq.slice = SLICE_TICKS;
        if Arc::ptr_eq(&prev, &next) {
            prev.set_state(State::Running);
            rq.current = Some(prev);
            break 'pick None;
        }
        next.last_cpu.store(me, Ordering::Relaxed);
        rq.switches += 1;
        // Linux's rule: a switch is voluntary when the task blocked (not
        // preempted, not runnable); a yield or a preemption is not.
        let now = crate::time::uptime_ns();
        prev.acct.switch_out(now, !preempted && !requeue);
        let next_task = next.clone();
        percpu::this_cpu().current_task.store(Arc::as_ptr(&next) as usize, Ordering::Relaxed);
        rq.current = Some(next);
        // Keep `prev` alive across the switch; the next task drops it.
        let ptrs = (&prev.rsp as *const AtomicU64, &prev.on_cpu as *const AtomicBool);
        save_user(&prev);
        let stale = rq.last_prev.replace(prev);
        Some((ptrs.0, next_task, ptrs.1, stale, now))
    };
    for m in migrants.iter_mut().filter_map(Option::take) {
        let target = pick_cpu(m.affinity());
        enqueue(target, m);
    }
    let Some((prev_rsp, next, prev_on_cpu, stale, next_start)) = picked else {
        if irq_was_on {
            cpu::enable_interrupts();
        }
        return;
    };
    // Normally None (each switch's successor takes it); dropped outside the
    // lock because freeing a stack may need a TLB shootdown.
    drop(stale);
    // Outside the run-queue lock (a task finishing its switch-out elsewhere
    // may need that lock to wake someone): wait until a just-woken `next`
    // has been saved by the CPU it last ran on, and only then claim it.
    while next.on_cpu.load(Ordering::Acquire) {
        cpu::pause();
    }
    next.on_cpu.store(true, Ordering::Release);
    // Only now: until its old CPU cleared `on_cpu`, that CPU may still
    // have been ending the task's previous run.
    next.acct.switch_in(next_start);
    if next.is_idle {
        next.set_state(State::Running);
    } else if !next.cas_state(State::Runnable, State::Running) {
        // Only runnable tasks are queued; anything else is a bug.
        panic!("scheduler: task {} queued in state {:?}", next.name, next.state());
    }
    let next_rsp = next.rsp.load(Ordering::Acquire);
    let range = next.stack_range;
    drop(next);
    set_cpu_stack(range.0, range.1);
    // SAFETY: interrupts are off; `prev` is kept alive in `last_prev` (so
    // its `rsp`/`on_cpu` fields stay valid) until the next schedule on this
    // CPU drops it, which happens after the switch completed; `next_rsp` was
    // saved by a switch or built by `initial_stack` on the stack `next` owns.
    unsafe { switch::switch(&*prev_rsp, next_rsp, &*prev_on_cpu) };
    // Back in `prev`: this task's own user state.
    let me = RQS[percpu::cpu_index()].lock().current.clone();
    if let Some(me) = me {
        restore_user(&me);
    }
    finish_switch();
    if irq_was_on {
        cpu::enable_interrupts();
    }
}

/// Runs in the new task right after a switch: drops the previous task's
/// reference (freeing a dead task's stack once it is off-CPU).
fn finish_switch() {
    let prev = RQS[percpu::cpu_index()].lock().last_prev.take();
    drop(prev);
}

#[unsafe(no_mangle)]
extern "C" fn kbase_task_entry(arg: u64) -> ! {
    // Our own address space before the previous task (maybe the last
    // holder of the one still in CR3) is dropped.
    let me = RQS[percpu::cpu_index()].lock().current.clone();
    if let Some(me) = me {
        restore_user(&me);
    }
    finish_switch();
    // SAFETY: `arg` is the pointer `spawn` made with `Box::into_raw` for
    // this task, handed over exactly once through its first context.
    let entry: Entry = *unsafe { Box::from_raw(arg as *mut Entry) };
    cpu::enable_interrupts();
    if let Some(frame) = entry() {
        crate::arch::user::enter_user(&frame);
    }
    exit_current()
}

/// Ends the current kernel thread.
pub fn exit_current() -> ! {
    // No preemption between "dead" and the final switch: a task preempted
    // here would never run again to wake its joiners.
    cpu::disable_interrupts();
    let me = current();
    // A pending stale wake-up (state Runnable, queued somewhere) must be
    // consumed first, or a dead task would sit in a run queue.
    while !me.cas_state(State::Running, State::Dead) {
        schedule();
    }
    LIVE_TASKS.fetch_sub(1, Ordering::Relaxed);
    me.exited.wake_all();
    drop(me);
    schedule();
    unreachable!("a dead task was scheduled again");
}

/// Timer interrupt: account the slice and the CPU-time sample, wake
/// sleepers, run the tick hook for a watched task, feed the watchdog.
pub(crate) fn timer_tick(frame: &mut TrapFrame) {
    if !SCHED_READY.load(Ordering::Acquire) {
        return;
    }
    sleep::wake_expired();
    let me = percpu::cpu_index();
    let current = {
        let mut rq = RQS[me].lock();
        rq.slice = rq.slice.saturating_sub(1);
        if rq.slice == 0 && !rq.queue.is_empty() {
            rq.need_resched = true;
        }
        if rq.current.as_ref().is_some_and(|c| c.is_idle) && !rq.queue.is_empty() {
            rq.need_resched = true;
        }
        if rq.current.as_ref().is_some_and(|c| !c.may_run_on(me)) {
            rq.need_resched = true;
        }
        if let Some(c) = rq.current.as_ref() {
            let user = frame.is_from_user();
            cputime::cpu_tick(me, c.is_idle, user);
            if !c.is_idle {
                c.acct.tick(user);
            }
        }
        rq.current.clone()
    };
    if current.as_ref().is_some_and(|c| c.tick_watch.load(Ordering::Relaxed)) {
        if let Some(hook) = TICK_HOOK.get() {
            hook(frame.is_from_user());
        }
    }
    // Outside the run-queue lock (a report prints and may wait for an NMI
    // reply); `current` is not the last reference: the run queue holds it.
    watchdog::on_tick(frame, current.as_ref());
}

/// The RESCHED IPI: something was queued here.
pub(crate) fn resched_ipi() {
    let me = percpu::cpu_index();
    let mut rq = RQS[me].lock();
    // Something was queued, or the running task's mask left this CPU.
    if !rq.queue.is_empty() || rq.current.as_ref().is_some_and(|c| !c.may_run_on(me)) {
        rq.need_resched = true;
    }
}

/// Called at the end of every hardware interrupt: preempt if asked to.
pub(crate) fn preempt_point_from_irq(_frame: &mut TrapFrame) {
    if !SCHED_READY.load(Ordering::Acquire) {
        return;
    }
    let me = percpu::cpu_index();
    let need = RQS[me].try_lock().is_some_and(|rq| rq.need_resched && rq.current.is_some());
    if need && percpu::this_cpu().irq_depth.load(Ordering::Relaxed) == 0 {
        schedule_inner(true);
    }
}

//! Processes and threads.
//!
//! A `Thread` is attached to the kbase task that runs it (`Task::ext`); it
//! points at its `Process`, which owns the address space, the descriptor
//! table and the family links. A process that exits becomes a zombie
//! (its wait status kept) until its parent reaps it with wait4.
//!
//! Credentials (`cred::Cred`) belong to the process here, not to each
//! thread as on Linux: musl and glibc apply every set*id call to all
//! threads anyway (a signal sent to each thread with tkill), so the
//! result is the same for programs that use libc (docs/decisions.md).
//! Pending signals and the signal mask are per thread, plus the process's
//! shared pending set (`signal::SigPending`).
//! Readers take a snapshot (`Process::cred`, one reference count);
//! writers replace it whole (`Process::update_cred`).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use kbase::arch::trap::TrapFrame;
use kbase::sync::SpinLock;
use kbase::task::{Mutex, WaitQueue};
use cred::Cred;

use crate::fs::Node;

use crate::errno::{EAGAIN, Errno};
use crate::file::FdTable;
use crate::mm::Vm;
use crate::signal::SigActions;

/// A process's program, as execve left it.
#[derive(Default, Clone)]
pub struct ExecInfo {
    /// At most 15 bytes: the executable's file name (`TASK_COMM_LEN`).
    pub comm: Vec<u8>,
    /// Arguments, each followed by a NUL.
    pub cmdline: Vec<u8>,
    /// Environment strings, each followed by a NUL.
    pub environ: Vec<u8>,
    /// Absolute path of the executable.
    pub exe: Vec<u8>,
}

impl ExecInfo {
    /// What execve of `path` leaves: the name is the last component of
    /// `path` as given (a script's own name, not its interpreter's).
    pub fn new(img: &crate::exec::Image, path: &[u8]) -> Self {
        let join = |v: &[Vec<u8>]| {
            let mut out = Vec::new();
            for a in v {
                out.extend_from_slice(a);
                out.push(0);
            }
            out
        };
        let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        Self {
            comm: base[..base.len().min(15)].to_vec(),
            cmdline: join(&img.argv),
            environ: join(&img.envp),
            exe: img.exe.clone(),
        }
    }
}

pub struct Process {
    pub pid: u32,
    pub ppid: AtomicU32,
    /// The address space; shared with a vfork child until it execs or exits.
    /// None once the process has exited.
    vm: SpinLock<Option<Arc<VmCell>>>,
    /// Set when a vfork child has exec'd or exited (its parent waits).
    pub vfork_done: core::sync::atomic::AtomicBool,
    pub vfork_wait: WaitQueue,
    pub files: Mutex<FdTable>,
    pub cwd: Mutex<Node>,
    /// The root directory set by chroot(2); None: the namespace's `/`.
    pub root: SpinLock<Option<Node>>,
    /// What execve set up: name, arguments, environment, executable
    /// (/proc/[pid]/comm, cmdline, environ, exe); fork copies it.
    pub exec_info: SpinLock<Arc<ExecInfo>>,
    /// `uptime_ns` when the process was created (/proc/[pid]/stat).
    pub start_ns: u64,
    pub umask: AtomicU32,
    /// personality(2) value (`ADDR_NO_RANDOMIZE` is the only flag acted on).
    pub personality: AtomicU32,
    pub sigactions: Mutex<SigActions>,
    /// Children not yet reaped.
    /// A spin lock: wait4 looks at it inside its wait condition, which may
    /// not sleep (and must not give up on a busy lock, or it could sleep
    /// through the event it waits for).
    pub children: SpinLock<Vec<Arc<Process>>>,
    /// Wait status once exited (a zombie until reaped).
    pub exit_status: SpinLock<Option<i32>>,
    /// This process's waiters in wait4: woken when a child exits.
    pub child_exited: WaitQueue,
    /// Process-directed pending signals (kill(2)), taken by any thread
    /// that does not block them.
    pub pending: crate::signal::SigPending,
    /// Told when a signal becomes pending (signalfd readiness).
    pub signal_pollq: Arc<crate::pollq::PollQueue>,
    /// The threads running this process.
    threads: SpinLock<Vec<Weak<Thread>>>,
    pub pgid: AtomicU32,
    pub sid: AtomicU32,
    /// Monotonic deadline of the pending alarm(2) (0: none).
    pub alarm_deadline: AtomicU64,
    /// ITIMER_REAL reload interval in ns (0: one-shot).
    pub alarm_interval: AtomicU64,
    /// The armed ITIMER_REAL timer; also the lock that orders arming,
    /// firing and cancelling.
    pub alarm_timer: Mutex<Option<kbase::task::timer::TimerId>>,
    /// Threads not yet exited.
    pub live_threads: AtomicU32,
    /// Wait status of an exit_group in progress (NO_GROUP_EXIT: none).
    pub group_exit: core::sync::atomic::AtomicI32,
    /// The thread running execve while it ends the others (0: none).
    pub exec_tid: AtomicU32,
    /// Stopped by a stop signal (job control) until SIGCONT.
    pub stopped: core::sync::atomic::AtomicBool,
    /// A stop or continue not yet reported to the parent's wait4
    /// (WUNTRACED / WCONTINUED status; 0: none).
    pub wait_report: core::sync::atomic::AtomicI32,
    _census: crate::census::Token,
    /// User and group ids; replaced whole, never changed in place.
    cred: SpinLock<Arc<Cred>>,
    /// Resource limits (soft, hard) by `RLIMIT_*` number.
    pub rlimits: SpinLock<[(u64, u64); RLIM_NLIMITS]>,
    /// CPU time of exited threads and reaped children (`acct.rs`).
    pub acct: SpinLock<crate::acct::ProcAcct>,
    /// ITIMER_VIRTUAL and ITIMER_PROF (`acct::VIRT`, `acct::PROF`).
    pub cpu_itimers: SpinLock<[crate::acct::CpuItimer; 2]>,
    /// POSIX timers (timer_create(2)); a fork child starts with none.
    pub posix_timers: Mutex<crate::posixtimer::Table>,
}

/// Number of resource limits (`RLIM_NLIMITS`).
pub const RLIM_NLIMITS: usize = linux_raw_sys::general::RLIM_NLIMITS as usize;

/// The limits init starts with, as Linux's `INIT_RLIMITS` (the ones
/// Ferrite reports differently say why).
fn initial_rlimits() -> [(u64, u64); RLIM_NLIMITS] {
    use linux_raw_sys::general as g;
    let inf = u64::MAX;
    let mut r = [(inf, inf); RLIM_NLIMITS];
    r[g::RLIMIT_STACK as usize] = (8 << 20, inf);
    r[g::RLIMIT_CORE as usize] = (0, inf);
    // The descriptor table holds MAX_FDS entries.
    r[g::RLIMIT_NOFILE as usize] = (crate::file::MAX_FDS as u64, 4096);
    r[g::RLIMIT_MEMLOCK as usize] = (8 << 20, 8 << 20);
    r[g::RLIMIT_MSGQUEUE as usize] = (819_200, 819_200);
    // Only CAP_SYS_NICE raises priorities at first (setpriority, sched_setscheduler).
    r[g::RLIMIT_NICE as usize] = (0, 0);
    r[g::RLIMIT_RTPRIO as usize] = (0, 0);
    r
}

/// An address space and its lock (a sleeping mutex: page faults and mmap
/// may block on memory).
pub type VmCell = Mutex<Vm>;

/// A signal mask to restore on the way back to user mode (rt_sigsuspend,
/// epoll_pwait, ppoll), unless a handler frame takes it over. Only its own
/// thread uses it, and the return path checks it with one plain load (no
/// lock: a lock that masks interrupts costs a slow `sti` under TCG).
pub struct SavedMask {
    is_set: core::sync::atomic::AtomicBool,
    mask: AtomicU64,
}

impl SavedMask {
    pub const fn new() -> Self {
        Self { is_set: core::sync::atomic::AtomicBool::new(false), mask: AtomicU64::new(0) }
    }

    pub fn set(&self, mask: u64) {
        self.mask.store(mask, Ordering::Relaxed);
        self.is_set.store(true, Ordering::Release);
    }

    pub fn is_set(&self) -> bool {
        self.is_set.load(Ordering::Acquire)
    }

    pub fn take(&self) -> Option<u64> {
        if !self.is_set.load(Ordering::Acquire) {
            return None;
        }
        self.is_set.store(false, Ordering::Relaxed);
        Some(self.mask.load(Ordering::Relaxed))
    }
}

pub struct Thread {
    /// The thread id; the pid once a thread that is not the leader execs
    /// (Linux's de_thread). Read it with [`Thread::tid`].
    tid: AtomicU32,
    pub process: Arc<Process>,
    /// The kbase task running this thread (to wake it for signals). Weak:
    /// the task owns this Thread through `Task::ext`, so a strong reference
    /// back would keep both alive forever. Unset between clone, which
    /// lists the thread, and the task's start (`attach`): a signal or exit
    /// posted then needs no wake-up, since the task acts on it before its
    /// first user instruction (`arch::user::enter_user` runs the
    /// return-to-user hook).
    task: kbase::sync::Once<Weak<kbase::task::Task>>,
    pub clear_child_tid: AtomicU64,
    pub sigmask: AtomicU64,
    /// Signals sent to this thread (tgkill, faults); a new thread starts
    /// with none.
    pub pending: crate::signal::SigPending,
    /// sigaltstack: (sp, size, flags); size 0 = none.
    pub altstack: SpinLock<(u64, u64, u32)>,
    /// Address of the last fault, for siginfo and sigcontext.
    pub fault_addr: AtomicU64,
    /// The system call that returned EINTR, for SA_RESTART (u64::MAX: none).
    pub restart_nr: AtomicU64,
    /// rt_sigsuspend's caller mask, restored after the handler frame is set.
    pub saved_mask: SavedMask,
    /// set_robust_list: (head, len), reported back by get_robust_list.
    pub robust_list: SpinLock<(u64, u64)>,
    /// Page faults handled for this thread (ru_minflt); only it writes.
    pub min_flt: AtomicU64,
    /// The page address of this thread's last fault that was SIGBUS's
    /// (past the end of a mapped file), plus one; 0 for none. The
    /// exception path reads it to send SIGBUS instead of SIGSEGV.
    pub bus_fault: AtomicU64,
    /// The user/system split last reported for this thread alone.
    pub cpu_prev: SpinLock<cputime::Prev>,
    /// `uptime_ns` when the thread was created (/proc/[pid]/task/[tid]/stat).
    pub start_ns: u64,
    /// Nice value and scheduling policy (`syscall/sched.rs`).
    pub sched: SpinLock<Sched>,
    _census: crate::census::Token,
}

/// A thread's scheduling attributes, as set by setpriority(2) and
/// sched_setscheduler(2).
#[derive(Clone, Copy, Default, Debug)]
pub struct Sched {
    /// -20..19.
    pub nice: i32,
    /// SCHED_OTHER, SCHED_FIFO, ...
    pub policy: u32,
    /// 1..99 for SCHED_FIFO and SCHED_RR, else 0.
    pub rt_priority: u32,
    /// SCHED_RESET_ON_FORK.
    pub reset_on_fork: bool,
    /// ioprio_set(2)'s value (class << 13 | data); 0: none, derived from nice.
    pub ioprio: u32,
}

impl Thread {
    /// Wakes the thread if it sleeps (for signals and exits); false if it
    /// was not asleep or is gone.
    pub fn kick(&self) -> bool {
        self.task().is_some_and(|t| kbase::task::wake(&t))
    }

    /// The thread id.
    pub fn tid(&self) -> u32 {
        self.tid.load(Ordering::Relaxed)
    }

    /// The task running this thread, while it exists.
    pub fn task(&self) -> Option<Arc<kbase::task::Task>> {
        self.task.get().and_then(Weak::upgrade)
    }

    /// A new thread of `process`, listed in it at once: it exists (tgkill
    /// finds it, exit_group and kill count it) from the moment fork or
    /// clone returns its tid, before its task first runs, as on Linux.
    fn new(tid: u32, process: Arc<Process>, clear_child_tid: u64, sigmask: u64, sched: Sched) -> Arc<Self> {
        let t = Arc::new(Self {
            tid: AtomicU32::new(tid),
            process,
            task: kbase::sync::Once::new(),
            clear_child_tid: AtomicU64::new(clear_child_tid),
            sigmask: AtomicU64::new(sigmask),
            pending: crate::signal::SigPending::new(),
            altstack: SpinLock::new((0, 0, 0)),
            fault_addr: AtomicU64::new(0),
            restart_nr: AtomicU64::new(u64::MAX),
            saved_mask: SavedMask::new(),
            robust_list: SpinLock::new((0, 0)),
            min_flt: AtomicU64::new(0),
            bus_fault: AtomicU64::new(0),
            cpu_prev: SpinLock::new(cputime::Prev::default()),
            start_ns: kbase::time::uptime_ns(),
            sched: SpinLock::new(sched),
            _census: crate::census::Token::new(crate::census::Kind::Thread),
        });
        t.process.threads.lock().push(Arc::downgrade(&t));
        t
    }

    /// Binds the thread to the task that runs it; called by that task
    /// first thing, or by its creator once spawned (whichever comes first).
    fn bind(&self, task: &Arc<kbase::task::Task>) {
        self.task.set(Arc::downgrade(task));
    }

    /// In the new task, before it enters user mode: this task runs `self`.
    fn attach(self: Arc<Self>) {
        let me = kbase::task::current();
        self.bind(&me);
        if crate::acct::itimers_armed(&self.process) {
            me.set_tick_watch(true);
        }
        me.set_ext(self);
    }
}

static NEXT_PID: AtomicU32 = AtomicU32::new(1);
static TABLE: SpinLock<BTreeMap<u32, Weak<Process>>> = SpinLock::new(BTreeMap::new());
/// Process count limit (RLIMIT_NPROC-like, system wide for now).
const MAX_PROCESSES: usize = 4096;

impl Process {
    pub fn new(parent: u32, vm: Arc<VmCell>, files: FdTable, cwd: Node, sigactions: SigActions) -> Result<Arc<Self>, Errno> {
        let mut table = TABLE.lock();
        if table.len() >= MAX_PROCESSES {
            return Err(EAGAIN);
        }
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        let p = Arc::new(Self {
            pid,
            ppid: AtomicU32::new(parent),
            vm: SpinLock::new(Some(vm)),
            vfork_done: core::sync::atomic::AtomicBool::new(false),
            vfork_wait: WaitQueue::new(),
            files: Mutex::new(files),
            cwd: Mutex::new(cwd),
            root: SpinLock::new(None),
            exec_info: SpinLock::new(Arc::new(ExecInfo::default())),
            start_ns: kbase::time::uptime_ns(),
            umask: AtomicU32::new(0o022),
            personality: AtomicU32::new(0),
            sigactions: Mutex::new(sigactions),
            children: SpinLock::new(Vec::new()),
            exit_status: SpinLock::new(None),
            child_exited: WaitQueue::new(),
            pending: crate::signal::SigPending::new(),
            signal_pollq: Arc::new(crate::pollq::PollQueue::new()),
            threads: SpinLock::new(Vec::new()),
            pgid: AtomicU32::new(pid),
            sid: AtomicU32::new(pid),
            alarm_deadline: AtomicU64::new(0),
            alarm_timer: Mutex::new(None),
            alarm_interval: AtomicU64::new(0),
            live_threads: AtomicU32::new(1),
            group_exit: core::sync::atomic::AtomicI32::new(NO_GROUP_EXIT),
            exec_tid: AtomicU32::new(0),
            stopped: core::sync::atomic::AtomicBool::new(false),
            wait_report: core::sync::atomic::AtomicI32::new(0),
            _census: crate::census::Token::new(crate::census::Kind::Process),
            cred: SpinLock::new(Arc::new(Cred::root())),
            rlimits: SpinLock::new(initial_rlimits()),
            acct: SpinLock::new(crate::acct::ProcAcct::default()),
            cpu_itimers: SpinLock::new([crate::acct::CpuItimer::default(); 2]),
            posix_timers: Mutex::new(crate::posixtimer::Table::default()),
        });
        table.insert(pid, Arc::downgrade(&p));
        Ok(p)
    }

    /// A snapshot of the credentials.
    pub fn cred(&self) -> Arc<Cred> {
        self.cred.lock().clone()
    }

    /// Changes the credentials through `f` on a copy, installed only if
    /// `f` succeeds.
    pub fn update_cred<R, E>(&self, f: impl FnOnce(&mut Cred) -> Result<R, E>) -> Result<R, E> {
        let mut g = self.cred.lock();
        let mut new = Cred::clone(&g);
        let r = f(&mut new)?;
        *g = Arc::new(new);
        Ok(r)
    }

    /// Gives a new child the credentials and limits of `parent` (fork).
    pub fn inherit_from(&self, parent: &Process) {
        *self.cred.lock() = parent.cred();
        *self.rlimits.lock() = *parent.rlimits.lock();
    }

    /// The current address space (None after exit).
    pub fn vm(&self) -> Option<Arc<VmCell>> {
        self.vm.lock().clone()
    }

    /// Replaces the address space, returning the old one (execve, exit);
    /// its peak resident set goes into the process's ru_maxrss.
    pub fn set_vm(&self, vm: Option<Arc<VmCell>>) -> Option<Arc<VmCell>> {
        let old = core::mem::replace(&mut *self.vm.lock(), vm);
        if let Some(o) = &old {
            crate::acct::left_vm(self, o.lock().space().peak_pages());
        }
        old
    }

    /// Ends a vfork parent's wait (the child exec'd or exited).
    pub fn release_vfork_parent(&self) {
        if !self.vfork_done.swap(true, Ordering::AcqRel) {
            self.vfork_wait.wake_all();
        }
    }

    pub fn is_zombie(&self) -> bool {
        self.exit_status.lock().is_some()
    }

    /// Runs `f` on the thread list, locked (accounting: a thread leaves it
    /// and hands its CPU time to the process in one step).
    pub fn with_thread_list<R>(&self, f: impl FnOnce(&mut Vec<Weak<Thread>>) -> R) -> R {
        f(&mut self.threads.lock())
    }

    /// The live threads of this process.
    pub fn threads(&self) -> Vec<Arc<Thread>> {
        let mut ts = self.threads.lock();
        ts.retain(|w| w.strong_count() > 0);
        ts.iter().filter_map(Weak::upgrade).collect()
    }
}

/// Whether `p` may do what needs `CAP_SYS_ADMIN` (mount, umount): its
/// effective capabilities (root's, until it gives them up).
pub fn has_sys_admin(p: &Process) -> bool {
    p.cred().capable(cred::Cap::SysAdmin)
}

/// Looks a live (or zombie, not reaped) process up by pid.
pub fn lookup(pid: u32) -> Option<Arc<Process>> {
    TABLE.lock().get(&pid).and_then(Weak::upgrade)
}

/// Every process (kill(-1), /proc later).
pub fn all() -> Vec<Arc<Process>> {
    TABLE.lock().values().filter_map(Weak::upgrade).collect()
}

pub fn forget(pid: u32) {
    TABLE.lock().remove(&pid);
}

/// The calling thread. Panics only if a kernel thread without a process
/// reaches a system call, which cannot happen (only `spawn_user` threads
/// enter user mode).
pub fn current() -> Arc<Thread> {
    kbase::task::current_ext::<Thread>().expect("system call from a thread without a process")
}

/// Runs `f` with the calling thread, borrowed: cheaper than `current()`
/// (no reference-count traffic), for the hot system calls. Same panic.
pub fn with_current<R>(f: impl FnOnce(&Thread) -> R) -> R {
    kbase::task::with_current_ext::<Thread, R>(f).expect("system call from a thread without a process")
}

/// What clone(2) asks a new thread to do before it first runs user code.
#[derive(Default, Clone, Copy)]
pub struct ChildSetup {
    /// The signal mask the new thread starts with (the parent's).
    pub sigmask: u64,
    /// CLONE_CHILD_SETTID: store the tid here (in the child's memory).
    pub set_child_tid: Option<u64>,
    /// CLONE_CHILD_CLEARTID: zero this word when the thread exits.
    pub clear_child_tid: Option<u64>,
    /// CLONE_SETTLS: the new FS base.
    pub tls: Option<u64>,
    /// CLONE_VM with CLONE_VFORK: share the parent's memory (vfork).
    pub share_vm: bool,
    /// The scheduling attributes the new thread starts with.
    pub sched: Sched,
}

/// Starts a new kernel task that runs `process` in user mode from `frame`.
pub fn spawn_user(process: Arc<Process>, frame: TrapFrame, fs_base: u64, setup: ChildSetup) -> Result<(), Errno> {
    let Some(root) = process.vm().map(|v| v.lock().space().root()) else { return Err(EAGAIN) };
    let name = alloc::format!("pid{}", process.pid);
    let tid = process.pid; // the first thread's tid is the pid
    let t = Thread::new(tid, process, setup.clear_child_tid.unwrap_or(0), setup.sigmask, setup.sched);
    let t2 = t.clone();
    let h = kbase::task::spawn_user(&name, move || {
        t2.attach();
        kbase::task::set_user_space(Some(root));
        kbase::task::set_user_fs_base(fs_base);
        if let Some(addr) = setup.set_child_tid {
            // A bad address is the child's problem, as on Linux.
            let _ = crate::uaccess::write_u32(addr, tid);
        }
        frame
    })
    .map_err(crate::errno::mm)?;
    t.bind(h.task());
    Ok(())
}

/// Allocates a thread id (shares the pid space, as on Linux).
pub fn new_tid() -> u32 {
    NEXT_PID.fetch_add(1, Ordering::Relaxed)
}

/// Ends the whole process (exit_group, fatal signal) with `status`, a
/// wait status: the other threads are told to exit, then this one exits;
/// whichever thread is last tears the process down.
pub fn exit_group(status: i32) -> ! {
    let me = current();
    let p = me.process.clone();
    if p.group_exit.compare_exchange(NO_GROUP_EXIT, status, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        for t in p.threads() {
            if t.tid() != me.tid() {
                t.kick();
            }
        }
    }
    drop((me, p));
    exit_thread(status)
}

/// Sentinel of `Process::group_exit` while no exit_group is in progress.
pub const NO_GROUP_EXIT: i32 = i32::MIN;

/// Ends the calling thread (exit(2)); if it is the last one, the process
/// ends with `status` (unless an exit_group already chose one).
pub fn exit_thread_with(status: i32) -> ! {
    exit_thread(status)
}

fn exit_thread(own_status: i32) -> ! {
    let me = current();
    let p = me.process.clone();
    // Robust futexes first, then the tid word, as Linux's mm_release.
    crate::futex::exit_robust_list(&me);
    let clear = me.clear_child_tid.swap(0, Ordering::Relaxed);
    if clear != 0 {
        // CLONE_CHILD_CLEARTID / set_tid_address: zero the word and wake
        // one futex waiter there (pthread_join waits on it).
        if crate::uaccess::write_u32(clear, 0).is_ok() {
            crate::futex::wake(&me, clear, 1);
        }
    }
    let at_retire = crate::acct::retire_current(&p, &me);
    let is_last = p.live_threads.fetch_sub(1, Ordering::AcqRel) == 1;
    drop(me);
    if !is_last {
        kbase::task::set_user_space(None);
        drop(p);
        kbase::task::exit_current();
    }
    let status = match p.group_exit.load(Ordering::Acquire) {
        NO_GROUP_EXIT => own_status,
        s => s,
    };
    exit_process(p, status, &at_retire)
}

/// Tears a process down once its last thread is gone (which retired with
/// `at_retire` of CPU time; the teardown is added at the end).
fn exit_process(p: Arc<Process>, status: i32, at_retire: &kbase::task::CpuTimes) -> ! {
    // Descriptors first (pipe ends wake their peers), then the memory.
    let files = core::mem::take(&mut *p.files.lock());
    drop(files);
    crate::locks::process_exit(p.pid);
    // A zombie keeps no mount busy: its cwd becomes the root, as Linux
    // drops the exiting task's fs_struct.
    let cwd = core::mem::replace(&mut *p.cwd.lock(), crate::fs::root());
    drop(cwd);
    let root = p.root.lock().take();
    drop(root);
    kbase::task::set_user_space(None);
    // Drops this process's reference; memory shared with a vfork parent
    // stays with the parent.
    let vm = p.set_vm(None);
    drop(vm);
    p.release_vfork_parent();
    crate::tty::session_leader_exited(&p);
    // Orphans go to init, which reaps them. In a block: this function
    // never returns, so a local still alive at its end is never dropped
    // (the emptied list's buffer leaked with every process that had
    // children).
    {
        let orphans = core::mem::take(&mut *p.children.lock());
        if !orphans.is_empty() {
            if let Some(init) = lookup(1).filter(|i| i.pid != p.pid) {
                for c in &orphans {
                    c.ppid.store(1, Ordering::Relaxed);
                }
                init.children.lock().extend(orphans);
                init.child_exited.wake_all();
            }
        }
    }
    if let Some(id) = p.alarm_timer.lock().take() {
        kbase::task::timer::cancel(id);
    }
    crate::posixtimer::clear(&p);
    crate::acct::add_teardown(&p, at_retire);
    *p.exit_status.lock() = Some(status);
    if p.pid == 1 {
        kbase::kprintln!("ferrite: init exited with status {status:#x}; powering off");
        kbase::arch::qemu::exit(kbase::arch::qemu::ExitCode::Failure);
    }
    if let Some(parent) = lookup(p.ppid.load(Ordering::Relaxed)) {
        // siginfo as Linux's do_notify_parent: exit code or signal number.
        let (code, what) = if status & 0x7f == 0 {
            (crate::signal::CLD_EXITED, (status >> 8) & 0xff)
        } else {
            (crate::signal::CLD_KILLED, status & 0x7f)
        };
        crate::signal::send_info(&parent, crate::signal::SigInfo::child(code, p.pid, p.cred().ruid, what));
        parent.child_exited.wake_all();
    }
    drop(p);
    kbase::task::exit_current()
}

/// execve in a multi-threaded process: every other thread exits first
/// (Linux's de_thread); returns once the caller is the only thread.
pub fn end_other_threads() {
    let me = current();
    let p = me.process.clone();
    if p.live_threads.load(Ordering::Acquire) <= 1 {
        return;
    }
    p.exec_tid.store(me.tid(), Ordering::Release);
    for t in p.threads() {
        if t.tid() != me.tid() {
            t.kick();
        }
    }
    while p.live_threads.load(Ordering::Acquire) > 1 {
        kbase::task::sleep_ns(1_000_000);
    }
    // The caller becomes the leader: the only thread listed, with the
    // pid as its tid (the old leader is gone, its tid with it).
    p.exec_tid.store(0, Ordering::Release);
    p.threads.lock().retain(|w| core::ptr::eq(w.as_ptr(), Arc::as_ptr(&me)));
    me.tid.store(p.pid, Ordering::Relaxed);
}

/// Whether this thread must exit because another one is in execve.
pub fn must_exit_for_exec(t: &Thread) -> bool {
    let e = t.process.exec_tid.load(Ordering::Acquire);
    e != 0 && e != t.tid()
}

/// RLIMIT_NPROC (`fork`/`clone` ERRORS: EAGAIN): the threads of every
/// process of the caller's real user must stay below the soft limit,
/// unless the caller has CAP_SYS_RESOURCE or CAP_SYS_ADMIN (Linux's
/// copy_process rule; root is exempt).
pub fn check_nproc(p: &Process) -> Result<(), Errno> {
    let limit = p.rlimits.lock()[linux_raw_sys::general::RLIMIT_NPROC as usize].0;
    if limit == u64::MAX {
        return Ok(());
    }
    let cred = p.cred();
    if cred.capable(cred::Cap::SysResource) || cred.capable(cred::Cap::SysAdmin) {
        return Ok(());
    }
    let uid = cred.ruid;
    let threads: u64 = all()
        .iter()
        .filter(|q| !q.is_zombie() && q.cred().ruid == uid)
        .map(|q| u64::from(q.live_threads.load(Ordering::Acquire)))
        .sum();
    if threads >= limit { Err(EAGAIN) } else { Ok(()) }
}

/// Starts another thread of the current process (clone with CLONE_THREAD).
/// `parent_settid` (CLONE_PARENT_SETTID) receives the new tid before the
/// thread can run, as on Linux: musl's pthread_exit reads its own tid from
/// that word to take the thread-list lock.
pub fn spawn_thread(frame: TrapFrame, fs_base: u64, setup: ChildSetup, parent_settid: Option<u64>) -> Result<u32, Errno> {
    let me = current();
    let process = me.process.clone();
    check_nproc(&process)?;
    let root = process.vm().map(|v| v.lock().space().root()).ok_or(EAGAIN)?;
    let tid = new_tid();
    if let Some(addr) = parent_settid {
        // Linux ignores a fault here (kernel_clone's put_user).
        let _ = crate::uaccess::write_u32(addr, tid);
    }
    process.live_threads.fetch_add(1, Ordering::AcqRel);
    let name = alloc::format!("tid{tid}");
    let t = Thread::new(tid, process.clone(), setup.clear_child_tid.unwrap_or(0), setup.sigmask, setup.sched);
    let t2 = t.clone();
    let r = kbase::task::spawn_user(&name, move || {
        t2.attach();
        kbase::task::set_user_space(Some(root));
        kbase::task::set_user_fs_base(fs_base);
        if let Some(addr) = setup.set_child_tid {
            let _ = crate::uaccess::write_u32(addr, tid);
        }
        frame
    });
    match r {
        Ok(h) => t.bind(h.task()),
        Err(e) => {
            // Dropping `t` (the closure's copy is gone) unlists it.
            process.live_threads.fetch_sub(1, Ordering::AcqRel);
            return Err(crate::errno::mm(e));
        }
    }
    Ok(tid)
}

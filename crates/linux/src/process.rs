//! Processes and threads.
//!
//! A `Thread` is attached to the kbase task that runs it (`Task::ext`); it
//! points at its `Process`, which owns the address space, the descriptor
//! table and the family links. A process that exits becomes a zombie
//! (its wait status kept) until its parent reaps it with wait4.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use kbase::arch::trap::TrapFrame;
use kbase::sync::SpinLock;
use kbase::task::{Mutex, WaitQueue};
use vfs::Ino;

use crate::errno::{EAGAIN, Errno};
use crate::file::FdTable;
use crate::mm::Vm;
use crate::signal::SigActions;

pub struct Process {
    pub pid: u32,
    pub ppid: AtomicU32,
    /// None once the process has exited.
    pub vm: Mutex<Option<Vm>>,
    pub files: Mutex<FdTable>,
    pub cwd: Mutex<Ino>,
    pub umask: AtomicU32,
    pub sigactions: Mutex<SigActions>,
    /// Children not yet reaped.
    pub children: Mutex<Vec<Arc<Process>>>,
    /// Wait status once exited (a zombie until reaped).
    pub exit_status: SpinLock<Option<i32>>,
    /// This process's waiters in wait4: woken when a child exits.
    pub child_exited: WaitQueue,
    /// A fatal signal sent by kill(2), acted on before returning to user.
    pub pending_kill: AtomicI32,
    pub pgid: AtomicU32,
    pub sid: AtomicU32,
}

pub struct Thread {
    pub tid: u32,
    pub process: Arc<Process>,
    pub clear_child_tid: AtomicU64,
    pub sigmask: AtomicU64,
}

static NEXT_PID: AtomicU32 = AtomicU32::new(1);
static TABLE: SpinLock<BTreeMap<u32, Weak<Process>>> = SpinLock::new(BTreeMap::new());
/// Process count limit (RLIMIT_NPROC-like, system wide for now).
const MAX_PROCESSES: usize = 4096;

impl Process {
    pub fn new(parent: u32, vm: Vm, files: FdTable, cwd: Ino, sigactions: SigActions) -> Result<Arc<Self>, Errno> {
        let mut table = TABLE.lock();
        if table.len() >= MAX_PROCESSES {
            return Err(EAGAIN);
        }
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        let p = Arc::new(Self {
            pid,
            ppid: AtomicU32::new(parent),
            vm: Mutex::new(Some(vm)),
            files: Mutex::new(files),
            cwd: Mutex::new(cwd),
            umask: AtomicU32::new(0o022),
            sigactions: Mutex::new(sigactions),
            children: Mutex::new(Vec::new()),
            exit_status: SpinLock::new(None),
            child_exited: WaitQueue::new(),
            pending_kill: AtomicI32::new(0),
            pgid: AtomicU32::new(pid),
            sid: AtomicU32::new(pid),
        });
        table.insert(pid, Arc::downgrade(&p));
        Ok(p)
    }

    pub fn is_zombie(&self) -> bool {
        self.exit_status.lock().is_some()
    }
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
    kbase::task::current().ext::<Thread>().expect("system call from a thread without a process")
}

/// What clone(2) asks a new thread to do before it first runs user code.
#[derive(Default, Clone, Copy)]
pub struct ChildSetup {
    /// CLONE_CHILD_SETTID: store the tid here (in the child's memory).
    pub set_child_tid: Option<u64>,
    /// CLONE_CHILD_CLEARTID: zero this word when the thread exits.
    pub clear_child_tid: Option<u64>,
    /// CLONE_SETTLS: the new FS base.
    pub tls: Option<u64>,
}

/// Starts a new kernel task that runs `process` in user mode from `frame`.
pub fn spawn_user(process: Arc<Process>, frame: TrapFrame, fs_base: u64, setup: ChildSetup) -> Result<(), Errno> {
    let root = process.vm.try_lock().and_then(|v| v.as_ref().map(|v| v.space().root()));
    let Some(root) = root else { return Err(EAGAIN) };
    let name = alloc::format!("pid{}", process.pid);
    kbase::task::spawn(&name, move || {
        let tid = process.pid;
        let clear = setup.clear_child_tid.unwrap_or(0);
        let t = Arc::new(Thread { tid, process, clear_child_tid: AtomicU64::new(clear), sigmask: AtomicU64::new(0) });
        kbase::task::current().set_ext(t);
        kbase::task::set_user_space(Some(root));
        kbase::task::set_user_fs_base(fs_base);
        if let Some(addr) = setup.set_child_tid {
            // A bad address is the child's problem, as on Linux.
            let _ = crate::uaccess::write_u32(addr, tid);
        }
        kbase::arch::user::enter_user(&frame)
    })
    .map_err(crate::errno::mm)?;
    Ok(())
}

/// Ends the calling process with `status` (a wait status), never returns.
pub fn exit_current(status: i32) -> ! {
    let me = current();
    let p = me.process.clone();
    let clear = me.clear_child_tid.load(Ordering::Relaxed);
    if clear != 0 {
        // set_tid_address / CLONE_CHILD_CLEARTID: the word reads 0 after
        // exit (futex wake-up comes with futex support).
        let _ = crate::uaccess::write_u32(clear, 0);
    }
    drop(me);
    // Descriptors first (pipe ends wake their peers), then the memory.
    let files = core::mem::take(&mut *p.files.lock());
    drop(files);
    kbase::task::set_user_space(None);
    let vm = p.vm.lock().take();
    drop(vm);
    // Orphans go to init, which reaps them.
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
    *p.exit_status.lock() = Some(status);
    if p.pid == 1 {
        kbase::kprintln!("ferrite: init exited with status {status:#x}; powering off");
        kbase::arch::qemu::exit(kbase::arch::qemu::ExitCode::Failure);
    }
    if let Some(parent) = lookup(p.ppid.load(Ordering::Relaxed)) {
        parent.child_exited.wake_all();
    }
    drop(p);
    kbase::task::exit_current()
}

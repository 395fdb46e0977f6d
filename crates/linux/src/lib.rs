//! The Linux personality: everything that makes Ferrite run unmodified
//! Linux x86_64 programs, in safe Rust on top of `kbase`.
//!
//! ```text
//!   syscall/   the table (numbers from linux-raw-sys) and handlers by domain
//!   process    processes, threads, exit and reaping
//!   exec       execve: ELF images (libs/elfload) and #! scripts
//!   mm         VMAs, demand paging, brk/mmap, fork's copy
//!   oom        the out-of-memory killer
//!   fs/        VFS: FileSystem trait, mounts, tmpfs, procfs, sysfs, devtmpfs
//!   file       open files, descriptors, pipes
//!   dev        character devices (terminals, /dev/null, ...)
//!   tty, pty   terminals on libs/tty's line discipline: the serial console,
//!              pseudo-terminals, controlling terminals and job control
//!   net/       sockets: the Socket file, the Proto trait, AF_UNIX
//!   pollq      readiness notification: PollQueue, Observer, Poller
//!   epoll      epoll instances (ready-list rules in libs/epoll)
//!   eventfd, timerfd, signalfd, memfd   the event files and anonymous memory files
//!   signal     dispositions and fatal signals
//!   posixtimer timer_create(2) timers (signals with SI_TIMER, overruns)
//!   uaccess    user-memory helpers (EFAULT on bad pointers)
//!   census     counts of processes, threads and open files (leak checks)
//!   vdso       the vDSO image and its vvar page (clock_gettime without a syscall)
//! ```
//! `kbase::arch::user` calls in through the hooks installed by [`init`].
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod acct;
mod census;
mod dev;
mod epoll;
pub mod errno;
mod eventfd;
mod exec;
mod fifo;
mod filemap;
mod file;
mod fs;
mod futex;
mod locks;
mod memfd;
mod mm;
mod net;
mod oom;
mod pagecache;
mod pollq;
mod posixtimer;
mod process;
mod pty;
mod signal;
mod signalfd;
mod syscall;
mod timerfd;
mod tty;
mod uaccess;
mod vdso;

use alloc::vec::Vec;

use kbase::arch::trap::TrapFrame;
use kbase::arch::user::{self, UserHooks};

/// Installs the user-mode hooks and unpacks the initramfs.
/// `norandmaps`: turns address-space layout randomisation off (on by default).
pub fn set_randomize_va(on: bool) {
    exec::set_randomize(on);
}

pub fn init(initramfs: Option<&[u8]>) {
    user::set_hooks::<Linux>();
    kbase::task::set_tick_hook(acct::on_tick);
    let r = fs::unpack_initramfs(initramfs);
    kbase::time::mark_boot_phase("unpack");
    match r {
        Ok(n) => log::info!("initramfs: {n} entries unpacked ({} KiB)", initramfs.map_or(0, |a| a.len()) / 1024),
        Err(e) => log::error!("initramfs: unpacking stopped: {e:?}"),
    }
    tty::init();
    if let Err(e) = vdso::init() {
        log::warn!("vdso: not mapped into processes ({e:?}); time calls use the syscall");
    }
}

/// Starts `path` as pid 1 with `args` (argv[0] is `path`) and environment `env`.
pub fn start_init(path: &str, args: &[&str], env: &[alloc::string::String]) -> Result<(), errno::Errno> {
    let root = fs::root();
    let mut argv: Vec<Vec<u8>> = alloc::vec![path.as_bytes().to_vec()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let envp = env.iter().map(|e| e.as_bytes().to_vec()).collect();
    let img = exec::load(&cred::Cred::root(), &root, path.as_bytes(), argv, envp, 0, mm::STACK_SIZE)?;
    kbase::time::mark_boot_phase("exec");
    let info = process::ExecInfo::new(&img, path.as_bytes());
    let frame = exec::initial_frame(&img);
    let mut files = file::FdTable::default();
    for fd in 0..3 {
        files.insert_at(fd, tty::console_file(), false)?;
    }
    let vm = alloc::sync::Arc::new(kbase::task::Mutex::new(img.vm));
    let init = process::Process::new(0, vm, files, root, signal::SigActions::default())?;
    *init.exec_info.lock() = alloc::sync::Arc::new(info);
    process::spawn_user(init, frame, 0, process::ChildSetup::default())
}

/// The Linux personality's answers to user-mode events.
struct Linux;

impl UserHooks for Linux {
    fn syscall(frame: &mut TrapFrame) {
        syscall::dispatch(frame);
    }
    fn page_fault(addr: u64, error_code: u64) -> bool {
        page_fault(addr, error_code)
    }
    fn exception(frame: &mut TrapFrame, cr2: u64) {
        exception(frame, cr2);
    }
    fn return_to_user(frame: &mut TrapFrame) {
        return_to_user(frame);
    }
}

fn page_fault(addr: u64, error_code: u64) -> bool {
    let Some(t) = kbase::task::current_ext::<process::Thread>() else { return false };
    let Some(vm) = t.process.vm() else { return false };
    let rlimit_stack = t.process.rlimits.lock()[linux_raw_sys::general::RLIMIT_STACK as usize].0;
    let fault = {
        let mut g = vm.lock();
        match g.handle_fault(addr, error_code) {
            // Below a mapping that grows down (a stack): grow it and retry.
            mm::Fault::Bad if g.grow_down(addr, rlimit_stack) => g.handle_fault(addr, error_code),
            f => f,
        }
    };
    log::trace!("page fault {addr:#x} error {error_code:#x}: {fault:?}");
    match fault {
        mm::Fault::Mapped => {
            // Only this thread writes its count: no locked add needed.
            t.min_flt.store(t.min_flt.load(core::sync::atomic::Ordering::Relaxed) + 1, core::sync::atomic::Ordering::Relaxed);
            true
        }
        mm::Fault::Bad => false,
        mm::Fault::Bus => {
            // Not mapped: a user access becomes SIGBUS in `exception`, a
            // kernel copy fails with EFAULT (as Linux's copy_to_user).
            t.bus_fault.store((addr & !0xfff) + 1, core::sync::atomic::Ordering::Relaxed);
            false
        }
        mm::Fault::NoMemory => {
            drop((vm, t));
            oom::out_of_memory()
        }
    }
}

/// An exception in user mode: the matching fatal signal (handlers are the
/// next step of the signal work).
fn exception(frame: &mut TrapFrame, cr2: u64) {
    // si_code as Linux's traps.c and fault.c: FPE_INTDIV, TRAP_BRKPT,
    // ILL_ILLOPN, BUS_ADRALN, SEGV_ACCERR (a mapping is there but does
    // not allow the access) or SEGV_MAPERR; int3 and #GP report SI_KERNEL
    // and no address.
    let t = process::current();
    let is_mapped = frame.vector == 14 && t.process.vm().is_some_and(|vm| vm.lock().is_mapped(cr2));
    let bus = t.bus_fault.swap(0, core::sync::atomic::Ordering::Relaxed);
    let is_bus = frame.vector == 14 && bus == (cr2 & !0xfff) + 1;
    let (sig, code, addr) = match frame.vector {
        0 => (signal::SIGFPE, 1, frame.rip),
        16 | 19 => (signal::SIGFPE, 0, frame.rip),
        1 => (signal::SIGTRAP, 1, frame.rip),
        3 => (signal::SIGTRAP, signal::SI_KERNEL, 0),
        6 => (signal::SIGILL, 2, frame.rip),
        17 => (signal::SIGBUS, 1, cr2),
        // BUS_ADRERR: past the end of a mapped file.
        14 if is_bus => (signal::SIGBUS, 2, cr2),
        14 => (signal::SIGSEGV, if is_mapped { 2 } else { 1 }, cr2),
        _ => (signal::SIGSEGV, signal::SI_KERNEL, 0),
    };
    log::debug!(
        "pid {}: {} at rip {:#x} (fault address {cr2:#x}, error {:#x})",
        t.process.pid,
        signal_name(sig),
        frame.rip,
        frame.error_code
    );
    signal::force_fault(&t, sig, code, addr);
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        signal::SIGSEGV => "SIGSEGV",
        signal::SIGBUS => "SIGBUS",
        signal::SIGILL => "SIGILL",
        signal::SIGFPE => "SIGFPE",
        signal::SIGTRAP => "SIGTRAP",
        _ => "signal",
    }
}

fn return_to_user(frame: &mut TrapFrame) {
    // The borrow ends before `finish`, which may never return.
    let Some(decision) = kbase::task::with_current_ext(|t: &process::Thread| signal::deliver(t, frame)) else {
        return;
    };
    decision.finish();
}

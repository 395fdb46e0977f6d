//! The x86_64 system-call table and dispatcher.
//!
//! Arguments arrive in rdi, rsi, rdx, r10, r8, r9 and the number in rax;
//! the result (or `-errno`) goes back in rax. Numbers come from
//! `linux-raw-sys`. A number without a handler returns ENOSYS and is logged
//! once.

mod cred;
mod fs;
mod mlock;
mod mm;
mod mount;
mod net;
mod poll;
pub mod proc;
mod sched;
mod signal;
mod syslog;
mod time;
mod wait;

use core::sync::atomic::{AtomicBool, Ordering};

use kbase::arch::trap::TrapFrame;
use linux_raw_sys::general as nr;

use crate::errno::{ENOSYS, SysResult};

pub use sched::stat_priority;

/// The six argument registers, as raw values.
#[derive(Clone, Copy)]
pub struct Args(pub [u64; 6]);

impl Args {
    fn fd(&self, i: usize) -> i32 {
        self.0[i] as i32
    }
    fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
    fn i32(&self, i: usize) -> i32 {
        self.0[i] as i32
    }
    fn ptr(&self, i: usize) -> u64 {
        self.0[i]
    }
    fn usize(&self, i: usize) -> usize {
        self.0[i] as usize
    }
}

const NR_MAX: usize = 512;
static WARNED: [AtomicBool; NR_MAX] = [const { AtomicBool::new(false) }; NR_MAX];

/// Entry from kbase for every SYSCALL.
pub fn dispatch(frame: &mut TrapFrame) {
    let a = Args([frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9]);
    let n = frame.rax;
    let r = call(n, a, frame);
    log::trace!("syscall {n}({:#x}, {:#x}, {:#x}) = {:?}", a.0[0], a.0[1], a.0[2], r);
    if r == Err(crate::errno::EINTR) {
        // SA_RESTART may re-run this call once the signal is handled.
        crate::process::with_current(|t| t.restart_nr.store(n, Ordering::Relaxed));
    }
    frame.rax = match r {
        Ok(v) => v as u64,
        Err(e) => (-(e.0 as i64)) as u64,
    };
}

fn call(n: u64, a: Args, frame: &mut TrapFrame) -> SysResult {
    let Ok(n32) = u32::try_from(n) else { return Err(ENOSYS) };
    match n32 {
        nr::__NR_read => fs::read(a.fd(0), a.ptr(1), a.usize(2)),
        nr::__NR_write => fs::write(a.fd(0), a.ptr(1), a.usize(2)),
        nr::__NR_open => fs::openat(fs::AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2)),
        nr::__NR_close => fs::close(a.fd(0)),
        nr::__NR_close_range => fs::close_range(a.u32(0), a.u32(1), a.u32(2)),
        nr::__NR_creat => fs::creat(a.ptr(0), a.u32(1)),
        nr::__NR_stat => fs::fstatat(fs::AT_FDCWD, a.ptr(0), a.ptr(1), 0),
        nr::__NR_fstat => fs::fstat(a.fd(0), a.ptr(1)),
        nr::__NR_lstat => fs::fstatat(fs::AT_FDCWD, a.ptr(0), a.ptr(1), fs::AT_SYMLINK_NOFOLLOW),
        nr::__NR_lseek => fs::lseek(a.fd(0), a.0[1] as i64, a.u32(2)),
        nr::__NR_mmap => mm::mmap(a.ptr(0), a.0[1], a.u32(2), a.u32(3), a.fd(4), a.0[5]),
        nr::__NR_mprotect => mm::mprotect(a.ptr(0), a.0[1], a.u32(2)),
        nr::__NR_munmap => mm::munmap(a.ptr(0), a.0[1]),
        nr::__NR_mremap => mm::mremap(a.ptr(0), a.0[1], a.0[2], a.u32(3), a.ptr(4)),
        nr::__NR_mincore => mm::mincore(a.ptr(0), a.0[1], a.ptr(2)),
        nr::__NR_brk => mm::brk(a.ptr(0)),
        nr::__NR_rt_sigaction => proc::rt_sigaction(a.i32(0), a.ptr(1), a.ptr(2), a.usize(3)),
        nr::__NR_rt_sigprocmask => proc::rt_sigprocmask(a.i32(0), a.ptr(1), a.ptr(2), a.usize(3)),
        nr::__NR_rt_sigreturn => crate::signal::sigreturn(&crate::process::current(), frame),
        nr::__NR_sigaltstack => crate::signal::sigaltstack(&crate::process::current(), a.ptr(0), a.ptr(1)),
        nr::__NR_rt_sigpending => proc::rt_sigpending(a.ptr(0), a.usize(1)),
        nr::__NR_rt_sigsuspend => proc::rt_sigsuspend(a.ptr(0), a.usize(1)),
        nr::__NR_pause => proc::pause(),
        nr::__NR_alarm => proc::alarm(a.u32(0)),
        nr::__NR_setitimer => proc::setitimer(a.i32(0), a.ptr(1), a.ptr(2)),
        nr::__NR_getitimer => proc::getitimer(a.i32(0), a.ptr(1)),
        nr::__NR_ioctl => fs::ioctl(a.fd(0), a.u32(1), a.ptr(2)),
        nr::__NR_pread64 => fs::pread(a.fd(0), a.ptr(1), a.usize(2), a.0[3] as i64),
        nr::__NR_pwrite64 => fs::pwrite(a.fd(0), a.ptr(1), a.usize(2), a.0[3] as i64),
        nr::__NR_readv => fs::readv(a.fd(0), a.ptr(1), a.usize(2)),
        nr::__NR_writev => fs::writev(a.fd(0), a.ptr(1), a.usize(2)),
        nr::__NR_preadv => fs::preadv2(a.fd(0), a.ptr(1), a.usize(2), a.0[3] as i64, 0, false),
        nr::__NR_pwritev => fs::pwritev2(a.fd(0), a.ptr(1), a.usize(2), a.0[3] as i64, 0, false),
        nr::__NR_preadv2 => fs::preadv2(a.fd(0), a.ptr(1), a.usize(2), a.0[3] as i64, a.u32(5), true),
        nr::__NR_pwritev2 => fs::pwritev2(a.fd(0), a.ptr(1), a.usize(2), a.0[3] as i64, a.u32(5), true),
        nr::__NR_access => fs::faccessat(fs::AT_FDCWD, a.ptr(0), a.u32(1), 0),
        nr::__NR_pipe => fs::pipe2(a.ptr(0), 0),
        nr::__NR_sched_yield => proc::sched_yield(),
        nr::__NR_poll => poll::poll(a.ptr(0), a.usize(1), a.i32(2)),
        nr::__NR_ppoll => poll::ppoll(a.ptr(0), a.usize(1), a.ptr(2), a.ptr(3), a.usize(4)),
        nr::__NR_select => poll::select(a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), a.ptr(4)),
        nr::__NR_pselect6 => poll::pselect6(a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), a.ptr(4), a.ptr(5)),
        nr::__NR_sendfile => fs::sendfile(a.fd(0), a.fd(1), a.ptr(2), a.usize(3)),
        nr::__NR_madvise => mm::madvise(a.ptr(0), a.0[1], a.u32(2)),
        nr::__NR_msync => mm::msync(a.ptr(0), a.0[1], a.u32(2)), // nothing to write back: tmpfs/memfd mappings are the file's pages
        nr::__NR_dup => fs::dup(a.fd(0)),
        nr::__NR_dup2 => fs::dup2(a.fd(0), a.fd(1)),
        nr::__NR_nanosleep => time::nanosleep(a.ptr(0), a.ptr(1)),
        nr::__NR_getpid => proc::getpid(),
        nr::__NR_clone => proc::clone(a.0[0], a.ptr(1), a.ptr(2), a.ptr(3), a.0[4], frame),
        nr::__NR_fork => proc::fork(frame),
        nr::__NR_vfork => proc::clone(0x4000 | 0x100 | 17, 0, 0, 0, 0, frame),
        nr::__NR_execve => proc::execve(a.ptr(0), a.ptr(1), a.ptr(2), frame),
        nr::__NR_execveat => proc::execveat(a.fd(0), a.ptr(1), a.ptr(2), a.ptr(3), a.u32(4), frame),
        nr::__NR_exit => proc::exit(a.i32(0)),
        nr::__NR_exit_group => proc::exit_group(a.i32(0)),
        nr::__NR_futex => crate::futex::futex(a.ptr(0), a.u32(1), a.u32(2), a.0[3], a.ptr(4), a.u32(5)),
        nr::__NR_wait4 => wait::wait4(a.i32(0), a.ptr(1), a.i32(2), a.ptr(3)),
        nr::__NR_waitid => wait::waitid(a.u32(0), a.u32(1), a.ptr(2), a.i32(3), a.ptr(4)),
        nr::__NR_clone3 => proc::clone3(a.ptr(0), a.usize(1), frame),
        nr::__NR_rt_sigtimedwait => signal::rt_sigtimedwait(a.ptr(0), a.ptr(1), a.ptr(2), a.usize(3)),
        nr::__NR_rt_sigqueueinfo => signal::rt_sigqueueinfo(a.i32(0), a.i32(1), a.ptr(2)),
        nr::__NR_rt_tgsigqueueinfo => signal::rt_tgsigqueueinfo(a.i32(0), a.i32(1), a.i32(2), a.ptr(3)),
        nr::__NR_kill => proc::kill(a.i32(0), a.i32(1)),
        nr::__NR_uname => proc::uname(a.ptr(0)),
        nr::__NR_flock => fs::flock(a.fd(0), a.u32(1)),
        nr::__NR_fcntl => fs::fcntl(a.fd(0), a.u32(1), a.0[2]),
        nr::__NR_getcwd => fs::getcwd(a.ptr(0), a.usize(1)),
        nr::__NR_chdir => fs::chdir(a.ptr(0)),
        nr::__NR_fchdir => fs::fchdir(a.fd(0)),
        nr::__NR_chroot => fs::chroot(a.ptr(0)),
        nr::__NR_mkdir => fs::mkdirat(fs::AT_FDCWD, a.ptr(0), a.u32(1)),
        nr::__NR_unlink => fs::unlinkat(fs::AT_FDCWD, a.ptr(0), 0),
        nr::__NR_readlink => fs::readlinkat(fs::AT_FDCWD, a.ptr(0), a.ptr(1), a.usize(2)),
        nr::__NR_mknod => fs::mknodat(fs::AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2)),
        nr::__NR_umask => proc::umask(a.u32(0)),
        nr::__NR_personality => proc::personality(a.u32(0)),
        nr::__NR_gettimeofday => time::gettimeofday(a.ptr(0)),
        nr::__NR_getuid => cred::get_id(|c| c.ruid),
        nr::__NR_getgid => cred::get_id(|c| c.rgid),
        nr::__NR_setuid => cred::setuid(a.u32(0)),
        nr::__NR_setgid => cred::setgid(a.u32(0)),
        nr::__NR_geteuid => cred::get_id(|c| c.euid),
        nr::__NR_getegid => cred::get_id(|c| c.egid),
        nr::__NR_setpgid => proc::setpgid(a.i32(0), a.i32(1)),
        nr::__NR_getppid => proc::getppid(),
        nr::__NR_getpgrp => proc::getpgid(0),
        nr::__NR_setsid => proc::setsid(),
        nr::__NR_getpgid => proc::getpgid(a.i32(0)),
        nr::__NR_getsid => proc::getsid(a.i32(0)),
        nr::__NR_arch_prctl => proc::arch_prctl(a.i32(0), a.ptr(1)),
        nr::__NR_settimeofday => time::settimeofday(a.ptr(0), a.ptr(1)),
        nr::__NR_sethostname => proc::set_uts_name(a.ptr(0), a.i32(1), false),
        nr::__NR_setdomainname => proc::set_uts_name(a.ptr(0), a.i32(1), true),
        nr::__NR_gettid => proc::gettid(),
        nr::__NR_time => time::time(a.ptr(0)),
        nr::__NR_getdents => fs::getdents(a.fd(0), a.ptr(1), a.usize(2)),
        nr::__NR_readahead => fs::readahead(a.fd(0)),
        nr::__NR_fadvise64 => fs::fadvise64(a.fd(0), a.0[1] as i64, a.0[2] as i64, a.i32(3)),
        nr::__NR_mlock => mlock::mlock2(a.ptr(0), a.0[1], 0), // partial: VmLck stays 0; RLIMIT_MEMLOCK checked per call
        nr::__NR_mlock2 => mlock::mlock2(a.ptr(0), a.0[1], a.u32(2)), // partial: VmLck stays 0; RLIMIT_MEMLOCK checked per call
        nr::__NR_munlock => mlock::munlock(a.ptr(0), a.0[1]),
        nr::__NR_mlockall => mlock::mlockall(a.u32(0)),
        nr::__NR_munlockall => mlock::munlockall(),
        nr::__NR_sync_file_range => fs::sync_file_range(a.fd(0), a.0[1] as i64, a.0[2] as i64, a.u32(3)),
        nr::__NR_getdents64 => fs::getdents64(a.fd(0), a.ptr(1), a.usize(2)),
        nr::__NR_set_tid_address => proc::set_tid_address(a.ptr(0)),
        nr::__NR_clock_settime => time::clock_settime(a.i32(0), a.ptr(1)),
        nr::__NR_clock_gettime => time::clock_gettime(a.i32(0), a.ptr(1)),
        nr::__NR_clock_getres => time::clock_getres(a.i32(0), a.ptr(1)),
        nr::__NR_clock_nanosleep => time::clock_nanosleep(a.i32(0), a.i32(1), a.ptr(2), a.ptr(3)),
        nr::__NR_openat => fs::openat(a.fd(0), a.ptr(1), a.u32(2), a.u32(3)),
        nr::__NR_mkdirat => fs::mkdirat(a.fd(0), a.ptr(1), a.u32(2)),
        nr::__NR_mknodat => fs::mknodat(a.fd(0), a.ptr(1), a.u32(2), a.u32(3)),
        nr::__NR_newfstatat => fs::fstatat(a.fd(0), a.ptr(1), a.ptr(2), a.u32(3)),
        nr::__NR_statx => fs::statx(a.fd(0), a.ptr(1), a.u32(2), a.u32(3), a.ptr(4)),
        nr::__NR_unlinkat => fs::unlinkat(a.fd(0), a.ptr(1), a.u32(2)),
        nr::__NR_readlinkat => fs::readlinkat(a.fd(0), a.ptr(1), a.ptr(2), a.usize(3)),
        nr::__NR_faccessat => fs::faccessat(a.fd(0), a.ptr(1), a.u32(2), 0),
        nr::__NR_faccessat2 => fs::faccessat(a.fd(0), a.ptr(1), a.u32(2), a.u32(3)),
        nr::__NR_set_robust_list => proc::set_robust_list(a.ptr(0), a.usize(1)),
        nr::__NR_get_robust_list => proc::get_robust_list(a.i32(0), a.ptr(1), a.ptr(2)),
        nr::__NR_dup3 => fs::dup3(a.fd(0), a.fd(1), a.u32(2)),
        nr::__NR_pipe2 => fs::pipe2(a.ptr(0), a.u32(1)),
        nr::__NR_prlimit64 => proc::prlimit64(a.i32(0), a.u32(1), a.ptr(2), a.ptr(3)),
        nr::__NR_getrandom => proc::getrandom(a.ptr(0), a.usize(1), a.u32(2)),
        nr::__NR_reboot => proc::reboot(a.0[0] as u32, a.0[1] as u32, a.0[2] as u32),
        nr::__NR_rename => fs::renameat2(fs::AT_FDCWD, a.ptr(0), fs::AT_FDCWD, a.ptr(1), 0),
        nr::__NR_renameat => fs::renameat2(a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), 0),
        nr::__NR_renameat2 => fs::renameat2(a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), a.u32(4)),
        nr::__NR_rmdir => fs::unlinkat(fs::AT_FDCWD, a.ptr(0), 0x200),
        nr::__NR_link => fs::linkat(fs::AT_FDCWD, a.ptr(0), fs::AT_FDCWD, a.ptr(1), 0),
        nr::__NR_linkat => fs::linkat(a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), a.u32(4)),
        nr::__NR_symlink => fs::symlinkat(a.ptr(0), fs::AT_FDCWD, a.ptr(1)),
        nr::__NR_symlinkat => fs::symlinkat(a.ptr(0), a.fd(1), a.ptr(2)),
        nr::__NR_chmod => fs::fchmodat(fs::AT_FDCWD, a.ptr(0), a.u32(1)),
        nr::__NR_fchmod => fs::fchmod(a.fd(0), a.u32(1)),
        nr::__NR_fchmodat => fs::fchmodat(a.fd(0), a.ptr(1), a.u32(2)),
        nr::__NR_chown => fs::fchownat(fs::AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2), 0),
        nr::__NR_lchown => fs::fchownat(fs::AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2), fs::AT_SYMLINK_NOFOLLOW),
        nr::__NR_fchown => fs::fchown(a.fd(0), a.u32(1), a.u32(2)),
        nr::__NR_fchownat => fs::fchownat(a.fd(0), a.ptr(1), a.u32(2), a.u32(3), a.u32(4)),
        nr::__NR_truncate => fs::truncate(a.ptr(0), a.0[1] as i64),
        nr::__NR_ftruncate => fs::ftruncate(a.fd(0), a.0[1] as i64),
        nr::__NR_utime => fs::utime(a.ptr(0), a.ptr(1)),
        nr::__NR_utimes => fs::futimesat(fs::AT_FDCWD, a.ptr(0), a.ptr(1)),
        nr::__NR_futimesat => fs::futimesat(a.fd(0), a.ptr(1), a.ptr(2)),
        nr::__NR_utimensat => fs::utimensat(a.fd(0), a.ptr(1), a.ptr(2), a.u32(3)),
        nr::__NR_statfs => fs::statfs(a.ptr(0), a.ptr(1)),
        nr::__NR_mount => mount::mount(a.ptr(0), a.ptr(1), a.ptr(2), a.0[3], a.ptr(4)),
        nr::__NR_umount2 => mount::umount2(a.ptr(0), a.u32(1)),
        nr::__NR_fstatfs => fs::fstatfs(a.fd(0), a.ptr(1)),
        nr::__NR_fallocate => fs::fallocate(a.fd(0), a.u32(1), a.0[2] as i64, a.0[3] as i64),
        nr::__NR_copy_file_range => fs::copy_file_range(a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), a.usize(4), a.u32(5)),
        nr::__NR_fsync | nr::__NR_fdatasync | nr::__NR_syncfs => fs::fsync(a.fd(0)),
        nr::__NR_sync => Ok(0),
        nr::__NR_sysinfo => proc::sysinfo(a.ptr(0)),
        nr::__NR_syslog => syslog::syslog(a.i32(0), a.ptr(1), a.i32(2)),
        nr::__NR_times => proc::times(a.ptr(0)),
        nr::__NR_getrusage => proc::getrusage(a.i32(0), a.ptr(1)), // partial: ru_inblock/ru_oublock and the IPC counts are 0
        nr::__NR_setreuid => cred::setreuid(a.u32(0), a.u32(1)),
        nr::__NR_setregid => cred::setregid(a.u32(0), a.u32(1)),
        nr::__NR_getgroups => cred::getgroups(a.i32(0), a.ptr(1)),
        nr::__NR_setgroups => cred::setgroups(a.i32(0), a.ptr(1)),
        nr::__NR_setresuid => cred::setresuid(a.u32(0), a.u32(1), a.u32(2)),
        nr::__NR_getresuid => cred::getresuid(a.ptr(0), a.ptr(1), a.ptr(2)),
        nr::__NR_setresgid => cred::setresgid(a.u32(0), a.u32(1), a.u32(2)),
        nr::__NR_getresgid => cred::getresgid(a.ptr(0), a.ptr(1), a.ptr(2)),
        nr::__NR_setfsuid => cred::setfsuid(a.u32(0)),
        nr::__NR_setfsgid => cred::setfsgid(a.u32(0)),
        nr::__NR_capget => cred::capget(a.ptr(0), a.ptr(1)),
        nr::__NR_capset => cred::capset(a.ptr(0), a.ptr(1)), // partial: no bounding or ambient sets, no securebits
        nr::__NR_tgkill => proc::tgkill(a.i32(0), a.i32(1), a.i32(2)),
        nr::__NR_tkill => proc::tkill(a.i32(0), a.i32(1)),
        nr::__NR_prctl => proc::prctl(a.i32(0), a.ptr(1)),
        nr::__NR_sched_getaffinity => proc::sched_getaffinity(a.i32(0), a.usize(1), a.ptr(2)),
        nr::__NR_sched_setaffinity => proc::sched_setaffinity(a.i32(0), a.usize(1), a.ptr(2)),
        nr::__NR_getpriority => sched::getpriority(a.i32(0), a.i32(1)), // partial: recorded, not acted on by the scheduler
        nr::__NR_setpriority => sched::setpriority(a.i32(0), a.i32(1), a.i32(2)), // partial: recorded, not acted on by the scheduler
        nr::__NR_sched_getscheduler => sched::sched_getscheduler(a.i32(0)),
        nr::__NR_sched_setscheduler => sched::sched_setscheduler(a.i32(0), a.i32(1), a.ptr(2)), // partial: FIFO/RR recorded, scheduled as normal threads
        nr::__NR_sched_getparam => sched::sched_getparam(a.i32(0), a.ptr(1)),
        nr::__NR_sched_setparam => sched::sched_setparam(a.i32(0), a.ptr(1)), // partial: FIFO/RR recorded, scheduled as normal threads
        nr::__NR_sched_get_priority_max => sched::sched_get_priority_max(a.i32(0)),
        nr::__NR_sched_get_priority_min => sched::sched_get_priority_min(a.i32(0)),
        nr::__NR_sched_rr_get_interval => sched::sched_rr_get_interval(a.i32(0), a.ptr(1)),
        nr::__NR_ioprio_get => sched::ioprio_get(a.i32(0), a.i32(1)),
        nr::__NR_ioprio_set => sched::ioprio_set(a.i32(0), a.i32(1), a.i32(2)), // partial: recorded; no I/O scheduler
        nr::__NR_getcpu => proc::getcpu(a.ptr(0), a.ptr(1)),
        nr::__NR_getrlimit => proc::prlimit64(0, a.u32(0), 0, a.ptr(1)),
        nr::__NR_setrlimit => proc::prlimit64(0, a.u32(0), a.ptr(1), 0),
        nr::__NR_epoll_create => crate::epoll::epoll_create(a.i32(0)),
        nr::__NR_epoll_create1 => crate::epoll::epoll_create1(a.u32(0)),
        nr::__NR_epoll_ctl => crate::epoll::epoll_ctl(a.fd(0), a.u32(1), a.fd(2), a.ptr(3)),
        nr::__NR_epoll_wait => crate::epoll::epoll_wait(a.fd(0), a.ptr(1), a.i32(2), a.i32(3)),
        nr::__NR_epoll_pwait => crate::epoll::epoll_pwait(a.fd(0), a.ptr(1), a.i32(2), a.i32(3), a.ptr(4), a.usize(5)),
        nr::__NR_epoll_pwait2 => crate::epoll::epoll_pwait2(a.fd(0), a.ptr(1), a.i32(2), a.ptr(3), a.ptr(4), a.usize(5)),
        nr::__NR_eventfd => crate::eventfd::eventfd(a.u32(0)),
        nr::__NR_eventfd2 => crate::eventfd::eventfd2(a.u32(0), a.u32(1)),
        nr::__NR_timer_create => crate::posixtimer::timer_create(a.i32(0), a.ptr(1), a.ptr(2)), // partial: no CPU-time, TAI or alarm clocks
        nr::__NR_timer_settime => crate::posixtimer::timer_settime(a.i32(0), a.u32(1), a.ptr(2), a.ptr(3)),
        nr::__NR_timer_gettime => crate::posixtimer::timer_gettime(a.i32(0), a.ptr(1)),
        nr::__NR_timer_getoverrun => crate::posixtimer::timer_getoverrun(a.i32(0)),
        nr::__NR_timer_delete => crate::posixtimer::timer_delete(a.i32(0)),
        nr::__NR_timerfd_create => crate::timerfd::timerfd_create(a.i32(0), a.u32(1)),
        nr::__NR_timerfd_settime => crate::timerfd::timerfd_settime(a.fd(0), a.u32(1), a.ptr(2), a.ptr(3)),
        nr::__NR_timerfd_gettime => crate::timerfd::timerfd_gettime(a.fd(0), a.ptr(1)),
        nr::__NR_signalfd => crate::signalfd::signalfd(a.fd(0), a.ptr(1), a.usize(2)),
        nr::__NR_signalfd4 => crate::signalfd::signalfd4(a.fd(0), a.ptr(1), a.usize(2), a.u32(3)),
        nr::__NR_socket => net::socket(a.i32(0), a.i32(1), a.i32(2)),
        nr::__NR_socketpair => net::socketpair(a.i32(0), a.i32(1), a.i32(2), a.ptr(3)),
        nr::__NR_bind => net::bind(a.fd(0), a.ptr(1), a.i32(2)),
        nr::__NR_connect => net::connect(a.fd(0), a.ptr(1), a.i32(2)),
        nr::__NR_listen => net::listen(a.fd(0), a.i32(1)),
        nr::__NR_accept => net::accept4(a.fd(0), a.ptr(1), a.ptr(2), 0),
        nr::__NR_accept4 => net::accept4(a.fd(0), a.ptr(1), a.ptr(2), a.u32(3)),
        nr::__NR_getsockname => net::getsockname(a.fd(0), a.ptr(1), a.ptr(2)),
        nr::__NR_getpeername => net::getpeername(a.fd(0), a.ptr(1), a.ptr(2)),
        nr::__NR_sendto => net::sendto(a.fd(0), a.ptr(1), a.usize(2), a.u32(3), a.ptr(4), a.i32(5)),
        nr::__NR_recvfrom => net::recvfrom(a.fd(0), a.ptr(1), a.usize(2), a.u32(3), a.ptr(4), a.ptr(5)),
        nr::__NR_sendmsg => net::sendmsg(a.fd(0), a.ptr(1), a.u32(2)),
        nr::__NR_recvmsg => net::recvmsg(a.fd(0), a.ptr(1), a.u32(2)),
        nr::__NR_sendmmsg => net::sendmmsg(a.fd(0), a.ptr(1), a.u32(2), a.u32(3)),
        nr::__NR_recvmmsg => net::recvmmsg(a.fd(0), a.ptr(1), a.u32(2), a.u32(3), a.ptr(4)),
        nr::__NR_shutdown => net::shutdown(a.fd(0), a.i32(1)),
        nr::__NR_setsockopt => net::setsockopt(a.fd(0), a.i32(1), a.i32(2), a.ptr(3), a.i32(4)), // partial: SOL_SOCKET options only (AF_UNIX is the one family)
        nr::__NR_getsockopt => net::getsockopt(a.fd(0), a.i32(1), a.i32(2), a.ptr(3), a.ptr(4)),
        nr::__NR_memfd_create => crate::memfd::memfd_create(a.ptr(0), a.u32(1)), // partial: no MFD_HUGETLB
        _ => {
            if let Some(w) = WARNED.get(n32 as usize) {
                if !w.swap(true, Ordering::Relaxed) {
                    log::info!("syscall {n32} is not implemented: ENOSYS");
                }
            }
            Err(ENOSYS)
        }
    }
}

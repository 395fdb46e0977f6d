//! Process system calls: fork/clone, execve, exit, wait4, ids, signals
//! (dispositions), arch_prctl, uname, limits, randomness, reboot.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use kbase::arch::trap::TrapFrame;

use crate::acct;
use crate::errno::{EFAULT, EINVAL, ENOSYS, EPERM, ESRCH, Errno, SysResult};
use crate::process::{self, Process, current};
use crate::signal::{self, SigAction};
use crate::uaccess::{self, Out};

pub fn getpid() -> SysResult {
    Ok(process::with_current(|t| t.process.pid) as usize)
}

pub fn gettid() -> SysResult {
    Ok(process::with_current(|t| t.tid()) as usize)
}

pub fn getppid() -> SysResult {
    Ok(process::with_current(|t| t.process.ppid.load(Ordering::Relaxed)) as usize)
}

pub fn sched_yield() -> SysResult {
    kbase::task::yield_now();
    Ok(0)
}

pub fn umask(mask: u32) -> SysResult {
    Ok(current().process.umask.swap(mask & 0o777, Ordering::Relaxed) as usize)
}

/// personality(2): sets the execution domain and flags, returns the old
/// value; 0xffffffff only queries. Linux accepts any value.
pub fn personality(persona: u32) -> SysResult {
    let p = &current().process.personality;
    let old = if persona == 0xffff_ffff { p.load(Ordering::Relaxed) } else { p.swap(persona, Ordering::Relaxed) };
    Ok(old as usize)
}

pub fn fork(frame: &TrapFrame) -> SysResult {
    fork_with(frame, process::ChildSetup::default())
}

fn fork_with(frame: &TrapFrame, setup: process::ChildSetup) -> SysResult {
    let t = current();
    let parent = &t.process;
    process::check_nproc(parent)?;
    let vm = if setup.share_vm {
        parent.vm().ok_or(ESRCH)?
    } else {
        let cell = parent.vm().ok_or(ESRCH)?;
        let copy = cell.lock().fork_copy()?;
        alloc::sync::Arc::new(kbase::task::Mutex::new(copy))
    };
    let files = parent.files.lock().clone();
    let cwd = parent.cwd.lock().clone();
    let sig = parent.sigactions.lock().clone();
    let child = Process::new(parent.pid, vm, files, cwd, sig)?;
    child.inherit_from(parent);
    *child.root.lock() = parent.root.lock().clone();
    *child.exec_info.lock() = parent.exec_info.lock().clone();
    child.pgid.store(parent.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
    child.umask.store(parent.umask.load(Ordering::Relaxed), Ordering::Relaxed);
    child.personality.store(parent.personality.load(Ordering::Relaxed), Ordering::Relaxed);
    child.sid.store(parent.sid.load(Ordering::Relaxed), Ordering::Relaxed);
    let mut f = frame.clone();
    f.rax = 0;
    let pid = child.pid;
    let vfork_child = setup.share_vm.then(|| child.clone());
    parent.children.lock().push(child.clone());
    let fs_base = setup.tls.unwrap_or_else(kbase::task::user_fs_base);
    let sched = super::sched::for_child(*t.sched.lock());
    let setup = process::ChildSetup { sigmask: t.sigmask.load(Ordering::Relaxed), sched, ..setup };
    if let Err(e) = process::spawn_user(child, f, fs_base, setup) {
        parent.children.lock().retain(|c| c.pid != pid);
        process::forget(pid);
        return Err(e);
    }
    if let Some(c) = vfork_child {
        // vfork: the parent sleeps until the child has exec'd or exited,
        // since both run on the same memory (and maybe the same stack).
        c.vfork_wait.wait_until(|| c.vfork_done.load(Ordering::Acquire).then_some(()));
    }
    Ok(pid as usize)
}

/// clone3(2): `struct clone_args` (at least CLONE_ARGS_SIZE_VER0, 64
/// bytes) mapped onto clone(2). CLONE_PIDFD, CLONE_INTO_CGROUP and
/// set_tid are not supported (EINVAL); bytes past the known struct must be
/// zero (E2BIG).
pub fn clone3(args: u64, size: usize, frame: &TrapFrame) -> SysResult {
    const VER0: usize = 64;
    const KNOWN: usize = 88; // up to `cgroup` (VER2)
    const CLONE_PIDFD: u64 = 0x1000;
    const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    if size < VER0 {
        return Err(EINVAL);
    }
    if size > 4096 {
        return Err(crate::errno::E2BIG);
    }
    let raw = uaccess::read_bytes(args, size)?;
    if raw[KNOWN.min(size)..].iter().any(|&b| b != 0) {
        return Err(crate::errno::E2BIG);
    }
    let field = |i: usize| -> u64 {
        raw.get(i * 8..i * 8 + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    let (flags, pidfd, child_tid, parent_tid, exit_signal) = (field(0), field(1), field(2), field(3), field(4));
    let (stack, stack_size, tls, set_tid, set_tid_size, cgroup) = (field(5), field(6), field(7), field(8), field(9), field(10));
    // `pidfd` and `cgroup` only count with their flags (glibc fills pidfd
    // in anyway); set_tid needs a pid namespace.
    let _ = (pidfd, cgroup);
    if flags & (CLONE_PIDFD | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0 || set_tid != 0 || set_tid_size != 0 {
        return Err(EINVAL);
    }
    // The low byte of clone's flags is the exit signal; clone3 has a field.
    if flags & 0xff != 0 || exit_signal > 64 || (stack == 0) != (stack_size == 0) {
        return Err(EINVAL);
    }
    let top = if stack == 0 { 0 } else { stack.checked_add(stack_size).ok_or(EINVAL)? };
    clone(flags | exit_signal, top, parent_tid, child_tid, tls, frame)
}

/// clone(2): the fork-like subset (no CLONE_VM threads yet). Arguments
/// on x86_64: flags, stack, parent_tid, child_tid, tls.
pub fn clone(flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64, frame: &TrapFrame) -> SysResult {
    const CLONE_VM: u64 = 0x100;
    const CLONE_VFORK: u64 = 0x4000;
    const CLONE_THREAD: u64 = 0x10000;
    const CLONE_SETTLS: u64 = 0x80000;
    const CLONE_PARENT_SETTID: u64 = 0x100000;
    const CLONE_CHILD_CLEARTID: u64 = 0x200000;
    const CLONE_CHILD_SETTID: u64 = 0x1000000;
    const CLONE_FS: u64 = 0x200;
    const CLONE_FILES: u64 = 0x400;
    const CLONE_SIGHAND: u64 = 0x800;
    const CLONE_SYSVSEM: u64 = 0x40000;
    const CLONE_DETACHED: u64 = 0x400000; // ignored, as on Linux
    let exit_signal = flags & 0xff;
    let known = 0xff | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK | CLONE_THREAD | CLONE_SYSVSEM
        | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED;
    if flags & !known != 0 {
        return Err(EINVAL);
    }
    // clone(2) ERRORS: THREAD needs SIGHAND, SIGHAND needs VM.
    if (flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0) || (flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0) {
        return Err(EINVAL);
    }
    if flags & CLONE_SETTLS != 0 && tls >= kbase::mm::paging::USER_END {
        return Err(EPERM);
    }
    let setup = process::ChildSetup {
        set_child_tid: (flags & CLONE_CHILD_SETTID != 0).then_some(child_tid),
        clear_child_tid: (flags & CLONE_CHILD_CLEARTID != 0).then_some(child_tid),
        tls: (flags & CLONE_SETTLS != 0).then_some(tls),
        sigmask: 0,
        share_vm: false,
        sched: process::Sched::default(),
    };
    let mut f = frame.clone();
    if stack != 0 {
        f.rsp = stack;
    }
    if flags & CLONE_THREAD != 0 {
        if flags & (CLONE_FS | CLONE_FILES) != CLONE_FS | CLONE_FILES {
            return Err(EINVAL); // threads with private fs/files: not yet
        }
        f.rax = 0;
        let t = current();
        let sched = super::sched::for_child(*t.sched.lock());
        let setup = process::ChildSetup { sigmask: t.sigmask.load(Ordering::Relaxed), sched, ..setup };
        let fs_base = setup.tls.unwrap_or_else(kbase::task::user_fs_base);
        let settid = (flags & CLONE_PARENT_SETTID != 0).then_some(parent_tid);
        let tid = process::spawn_thread(f, fs_base, setup, settid)?;
        return Ok(tid as usize);
    }
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        return Err(ENOSYS); // a separate process sharing memory: not yet
    }
    let setup = process::ChildSetup { share_vm: flags & CLONE_VM != 0, ..setup };
    if exit_signal != 0 && exit_signal != signal::SIGCHLD as u64 {
        return Err(EINVAL);
    }
    let pid = fork_with(&f, setup)?;
    if flags & CLONE_PARENT_SETTID != 0 {
        // The parent's copy only (the child's memory was copied already);
        // Linux ignores a fault here.
        let _ = uaccess::write_u32(parent_tid, pid as u32);
    }
    Ok(pid)
}

pub fn execve(path: u64, argv: u64, envp: u64, frame: &mut TrapFrame) -> SysResult {
    let path = uaccess::read_cstr(path, 4096)?;
    let cwd = current().process.cwd.lock().clone();
    exec_program(cwd, crate::exec::Program::Path { path: &path, follow: true }, argv, envp, frame)
}

/// execveat(2): `path` from `dirfd`; with AT_EMPTY_PATH and an empty path
/// the open file `dirfd` itself (fexecve); AT_SYMLINK_NOFOLLOW gives ELOOP
/// for a symlink.
pub fn execveat(dirfd: i32, path: u64, argv: u64, envp: u64, flags: u32, frame: &mut TrapFrame) -> SysResult {
    const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
    const AT_EMPTY_PATH: u32 = 0x1000;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let path = uaccess::read_cstr(path, 4096)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        let node = super::fs::fd_node(dirfd)?;
        let cwd = current().process.cwd.lock().clone();
        let name = alloc::format!("/dev/fd/{dirfd}").into_bytes();
        return exec_program(cwd, crate::exec::Program::Open { node, name }, argv, envp, frame);
    }
    let dir = if path.first() == Some(&b'/') { current().process.cwd.lock().clone() } else { super::fs::dir_node(dirfd)? };
    exec_program(dir, crate::exec::Program::Path { path: &path, follow: flags & AT_SYMLINK_NOFOLLOW == 0 }, argv, envp, frame)
}

/// The common part of execve and execveat: load `program`, then replace
/// the calling process's image with it.
fn exec_program(cwd: crate::fs::Node, program: crate::exec::Program<'_>, argv: u64, envp: u64, frame: &mut TrapFrame) -> SysResult {
    let argv = uaccess::read_str_array(argv, 2 << 20)?;
    let envp = uaccess::read_str_array(envp, 2 << 20)?;
    let t = current();
    // Set-user-ID and set-group-ID bits of the file are ignored: the
    // credentials stay as they are across execve.
    let cred = t.process.cred();
    let persona = t.process.personality.load(Ordering::Relaxed);
    let limits = *t.process.rlimits.lock();
    let (stack, addr_space) = (limits[linux_raw_sys::general::RLIMIT_STACK as usize].0, limits[linux_raw_sys::general::RLIMIT_AS as usize].0);
    let path = match &program {
        crate::exec::Program::Path { path, .. } => path.to_vec(),
        crate::exec::Program::Open { name, .. } => name.clone(),
    };
    let mut img = crate::exec::load_program(&cred, &cwd, program, argv, envp, persona, stack)?;
    img.vm.as_limit = addr_space;
    drop(cwd);
    let info = process::ExecInfo::new(&img, &path);
    *t.process.exec_info.lock() = alloc::sync::Arc::new(info);
    // Point of no return: the other threads go, then the image is replaced.
    process::end_other_threads();
    // The old image's robust futexes are released (Linux's
    // futex_exec_release) while its memory is still there.
    crate::futex::exit_robust_list(&t);
    *frame = crate::exec::initial_frame(&img);
    kbase::task::set_user_space(Some(img.vm.space().root()));
    let old = t.process.set_vm(Some(alloc::sync::Arc::new(kbase::task::Mutex::new(img.vm))));
    drop(old);
    t.process.release_vfork_parent();
    kbase::task::set_user_fs_base(0);
    t.process.update_cred(|c| {
        c.exec();
        Ok::<_, ()>(())
    }).ok();
    let closed = t.process.files.lock().close_on_exec();
    for f in &closed {
        crate::locks::close_posix(&**f, t.process.pid);
    }
    crate::net::drop_closed(closed);
    t.process.sigactions.lock().reset_for_exec();
    crate::posixtimer::clear(&t.process);
    Ok(0)
}

pub fn exit(code: i32) -> SysResult {
    process::exit_thread_with((code & 0xff) << 8)
}

pub fn exit_group(code: i32) -> SysResult {
    process::exit_group((code & 0xff) << 8)
}

pub fn kill(pid: i32, sig: i32) -> SysResult {
    if sig != 0 {
        signal::check(sig)?;
    }
    let me = current().process.clone();
    let targets: Vec<_> = match pid {
        // A non-main thread's tid names its thread group, as on Linux.
        p if p > 0 => process::lookup(p as u32).or_else(|| group_of_thread(p as u32)).into_iter().collect(),
        0 => process::all().into_iter().filter(|p| p.pgid.load(Ordering::Relaxed) == me.pgid.load(Ordering::Relaxed)).collect(),
        -1 => process::all().into_iter().filter(|p| p.pid != 1 && p.pid != me.pid).collect(),
        p => process::all().into_iter().filter(|q| q.pgid.load(Ordering::Relaxed) == p.unsigned_abs()).collect(),
    };
    if targets.is_empty() {
        return Err(ESRCH);
    }
    // Each target is checked on its own; a group kill succeeds if any
    // signal went out, kill(-1) also when every target refused (EPERM),
    // as Linux's __kill_pgrp_info and kill_something_info. A zombie is
    // still a target until it is reaped (its pid stays hashed until
    // release_task): the permission check applies and the call succeeds,
    // but the signal has nobody left to act on it and is dropped.
    let mut sent = false;
    let info = signal::SigInfo::from_process(sig, signal::SI_USER, me.pid, me.cred().ruid);
    for p in &targets {
        if may_signal(&me, p, sig) {
            sent = true;
            if sig != 0 && !p.is_zombie() {
                signal::send_info(p, info);
            }
        }
    }
    // A signal to ourselves takes effect before we return to user mode.
    if sent || pid == -1 { Ok(0) } else { Err(EPERM) }
}

/// Whether `sender` may send `sig` to `target` (`check_kill_permission`):
/// the same process; or the sender's real or effective uid is the
/// target's real or saved uid; or `CAP_KILL`; or SIGCONT within one
/// session.
pub(super) fn may_signal(sender: &Process, target: &Process, sig: i32) -> bool {
    if sender.pid == target.pid {
        return true;
    }
    let (s, t) = (sender.cred(), target.cred());
    if [s.ruid, s.euid].iter().any(|u| *u == t.ruid || *u == t.suid) || s.capable(cred::Cap::Kill) {
        return true;
    }
    sig == signal::SIGCONT && sender.sid.load(Ordering::Relaxed) == target.sid.load(Ordering::Relaxed)
}

pub fn rt_sigaction(sig: i32, act: u64, old: u64, size: usize) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let i = signal::check(sig)?;
    let new = if act != 0 {
        let mut b = [0u8; 32];
        uaccess::read_into(act, &mut b)?;
        let w = |k: usize| u64::from_le_bytes(b[k * 8..k * 8 + 8].try_into().unwrap_or([0; 8]));
        if sig == signal::SIGKILL || sig == signal::SIGSTOP {
            return Err(EINVAL);
        }
        Some(SigAction { handler: w(0), flags: w(1), restorer: w(2), mask: w(3) })
    } else {
        None
    };
    let prev = process::with_current(|t| {
        let prev = {
            let mut acts = t.process.sigactions.lock();
            let prev = acts.0[i];
            if let Some(n) = new {
                acts.0[i] = n;
            }
            prev
        };
        if let Some(n) = new {
            signal::action_changed(&t.process, sig, n.handler);
        }
        prev
    });
    if old != 0 {
        let mut o = Out::new(32);
        o.u64(0, prev.handler).u64(8, prev.flags).u64(16, prev.restorer).u64(24, prev.mask);
        o.write_to(old)?;
    }
    Ok(0)
}

pub fn rt_sigprocmask(how: i32, set: u64, old: u64, size: usize) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let t = current();
    let cur = t.sigmask.load(Ordering::Relaxed);
    if set != 0 {
        let s = uaccess::read_u64(set)? & !((1 << (signal::SIGKILL - 1)) | (1 << (signal::SIGSTOP - 1)));
        let new = match how {
            0 => cur | s,
            1 => cur & !s,
            2 => s,
            _ => return Err(EINVAL),
        };
        t.sigmask.store(new, Ordering::Relaxed);
    }
    if old != 0 {
        uaccess::write_u64(old, cur)?;
    }
    Ok(0)
}

pub fn arch_prctl(code: i32, addr: u64) -> SysResult {
    const ARCH_SET_GS: i32 = 0x1001;
    const ARCH_SET_FS: i32 = 0x1002;
    const ARCH_GET_FS: i32 = 0x1003;
    const ARCH_GET_GS: i32 = 0x1004;
    match code {
        ARCH_SET_FS => {
            if addr >= kbase::mm::paging::USER_END {
                return Err(EPERM);
            }
            kbase::task::set_user_fs_base(addr);
            Ok(0)
        }
        ARCH_GET_FS => uaccess::write_u64(addr, kbase::task::user_fs_base()).map(|_| 0),
        ARCH_GET_GS => uaccess::write_u64(addr, 0).map(|_| 0),
        ARCH_SET_GS => Err(ENOSYS),
        _ => Err(EINVAL),
    }
}

pub fn set_tid_address(addr: u64) -> SysResult {
    let t = current();
    t.clear_child_tid.store(addr, Ordering::Relaxed);
    Ok(t.tid() as usize)
}

/// The node and NIS domain names (`sethostname`, `setdomainname`).
static UTS_NAMES: kbase::sync::SpinLock<Option<(Vec<u8>, Vec<u8>)>> = kbase::sync::SpinLock::new(None);

/// `__NEW_UTS_LEN`: longest host or domain name.
const UTS_LEN: usize = 64;

fn uts_names() -> (Vec<u8>, Vec<u8>) {
    UTS_NAMES.lock().get_or_insert_with(|| (b"ferrite".to_vec(), b"(none)".to_vec())).clone()
}

/// The host name (uname's nodename, /proc/sys/kernel/hostname).
pub fn hostname() -> Vec<u8> {
    uts_names().0
}

/// Sets the host name for /proc/sys/kernel/hostname (whose writers
/// passed the file's permission check): `EINVAL` over 64 bytes.
pub fn set_hostname(name: &[u8]) -> Result<(), Errno> {
    if name.len() > UTS_LEN {
        return Err(EINVAL);
    }
    let mut names = UTS_NAMES.lock();
    names.get_or_insert_with(|| (b"ferrite".to_vec(), b"(none)".to_vec())).0 = name.to_vec();
    Ok(())
}

pub fn uname(buf: u64) -> SysResult {
    // struct new_utsname: six 65-byte fields.
    let (host, domain) = uts_names();
    let fields: [&[u8]; 6] = [b"Linux", &host, b"6.1.0-ferrite", b"#1 SMP Ferrite", b"x86_64", &domain];
    let mut o = Out::new(65 * 6);
    for (i, f) in fields.iter().enumerate() {
        o.bytes(i * 65, f);
    }
    o.write_to(buf)?;
    Ok(0)
}

/// sethostname(2) (`domain` false) and setdomainname(2): `EPERM` without
/// `CAP_SYS_ADMIN`, then `EINVAL` for a length outside 0..=64.
pub fn set_uts_name(name: u64, len: i32, domain: bool) -> SysResult {
    if !cred_ok(cred::Cap::SysAdmin) {
        return Err(EPERM);
    }
    let len = usize::try_from(len).ok().filter(|&l| l <= UTS_LEN).ok_or(EINVAL)?;
    let bytes = uaccess::read_bytes(name, len)?;
    let mut names = UTS_NAMES.lock();
    let names = names.get_or_insert_with(|| (b"ferrite".to_vec(), b"(none)".to_vec()));
    if domain {
        names.1 = bytes;
    } else {
        names.0 = bytes;
    }
    Ok(0)
}

pub fn setpgid(pid: i32, pgid: i32) -> SysResult {
    if pgid < 0 {
        return Err(EINVAL);
    }
    let me = current().process.clone();
    let target = if pid == 0 { me.clone() } else { process::lookup(pid as u32).ok_or(ESRCH)? };
    if target.pid != me.pid && target.ppid.load(Ordering::Relaxed) != me.pid {
        return Err(ESRCH);
    }
    let g = if pgid == 0 { target.pid } else { pgid as u32 };
    target.pgid.store(g, Ordering::Relaxed);
    Ok(0)
}

pub fn getpgid(pid: i32) -> SysResult {
    let p = if pid == 0 { current().process.clone() } else { process::lookup(pid as u32).ok_or(ESRCH)? };
    Ok(p.pgid.load(Ordering::Relaxed) as usize)
}

pub fn getsid(pid: i32) -> SysResult {
    let p = if pid == 0 { current().process.clone() } else { process::lookup(pid as u32).ok_or(ESRCH)? };
    Ok(p.sid.load(Ordering::Relaxed) as usize)
}

pub fn setsid() -> SysResult {
    let p = current().process.clone();
    if p.pgid.load(Ordering::Relaxed) == p.pid {
        return Err(EPERM);
    }
    p.sid.store(p.pid, Ordering::Relaxed);
    p.pgid.store(p.pid, Ordering::Relaxed);
    Ok(p.pid as usize)
}

/// prlimit64(2) (and getrlimit/setrlimit): limits are kept per process
/// and inherited; where each is enforced, docs/architecture.md says
/// ("Credentials and permissions"). Raising a hard limit needs
/// `CAP_SYS_RESOURCE`; another process's limits need the same ids as its
/// real, effective and saved ones.
pub fn prlimit64(pid: i32, resource: u32, new: u64, old: u64) -> SysResult {
    /// `sysctl fs.nr_open`: the highest RLIMIT_NOFILE Linux accepts.
    const NR_OPEN: u64 = 1 << 20;
    let me = current().process.clone();
    let target = match pid {
        0 => me.clone(),
        p => u32::try_from(p).ok().and_then(process::lookup).ok_or(ESRCH)?,
    };
    let r = usize::try_from(resource).ok().filter(|&r| r < process::RLIM_NLIMITS).ok_or(EINVAL)?;
    let new = if new != 0 {
        let b = uaccess::read_bytes(new, 16)?;
        let cur = u64::from_le_bytes(b[0..8].try_into().map_err(|_| EFAULT)?);
        let max = u64::from_le_bytes(b[8..16].try_into().map_err(|_| EFAULT)?);
        if cur > max {
            return Err(EINVAL);
        }
        if r == linux_raw_sys::general::RLIMIT_NOFILE as usize && max > NR_OPEN {
            return Err(EPERM);
        }
        Some((cur, max))
    } else {
        None
    };
    let cred = me.cred();
    if target.pid != me.pid && !cred.capable(cred::Cap::SysResource) {
        let t = target.cred();
        let same_uids = [t.ruid, t.euid, t.suid].iter().all(|&u| u == cred.ruid);
        let same_gids = [t.rgid, t.egid, t.sgid].iter().all(|&g| g == cred.rgid);
        if !same_uids || !same_gids {
            return Err(EPERM);
        }
    }
    let prev = {
        let mut limits = target.rlimits.lock();
        let prev = limits[r];
        if let Some((cur, max)) = new {
            if max > prev.1 && !cred.capable(cred::Cap::SysResource) {
                return Err(EPERM);
            }
            limits[r] = (cur, max);
        }
        prev
    };
    // The copies kept elsewhere, set after the spin lock is dropped: the
    // address-space lock sleeps, and waiting for it with `rlimits` held
    // (interrupts masked) hung the whole guest (reliability finding 12).
    // The value is read again so racing calls leave the last one's.
    if new.is_some() {
        let cur = target.rlimits.lock()[r].0;
        if r == linux_raw_sys::general::RLIMIT_AS as usize {
            if let Some(vm) = target.vm() {
                vm.lock().as_limit = cur;
            }
        }
        if r == linux_raw_sys::general::RLIMIT_NOFILE as usize {
            target.files.lock().set_limit(usize::try_from(cur.min(NR_OPEN)).unwrap_or(usize::MAX));
        }
    }
    if old != 0 {
        let mut o = Out::new(16);
        o.u64(0, prev.0).u64(8, prev.1);
        o.write_to(old)?;
    }
    Ok(0)
}

pub fn getrandom(buf: u64, len: usize, flags: u32) -> SysResult {
    if flags & !7 != 0 {
        return Err(EINVAL);
    }
    let n = len.min(1 << 20);
    let mut v = alloc::vec![0u8; n];
    kbase::random::fill(&mut v);
    uaccess::write_bytes(buf, &v).map_err(|_| EFAULT)?;
    Ok(n)
}

pub fn reboot(magic1: u32, magic2: u32, cmd: u32) -> SysResult {
    const POWER_OFF: u32 = 0x4321_fedc;
    const RESTART: u32 = 0x0123_4567;
    const HALT: u32 = 0xcdef_0123;
    if !cred_ok(cred::Cap::SysBoot) {
        return Err(EPERM);
    }
    if magic1 != 0xfee1_dead || !matches!(magic2, 672_274_793 | 85_072_278 | 369_367_448 | 537_993_216) {
        return Err(EINVAL);
    }
    match cmd {
        POWER_OFF | HALT | RESTART => {
            kbase::kprintln!("ferrite: reboot({cmd:#x}) from pid {}: powering off", current().process.pid);
            report_leftovers();
            kbase::arch::qemu::exit(kbase::arch::qemu::ExitCode::Success)
        }
        0 | 0x89ab_cdef => Ok(0), // CAD off / on
        _ => Err(EINVAL),
    }
}

/// Power-off report for the leak checks: the object census and, if more
/// than the caller is left, which tasks and processes.
fn report_leftovers() {
    // A process just reaped may still be finishing its exit on another CPU.
    kbase::task::sleep_ns(20_000_000);
    kbase::kprintln!("ferrite: objects at power-off: {}", crate::census::summary());
    if crate::census::count(crate::census::Kind::Process) <= 1 {
        return;
    }
    let me = current().process.pid;
    kbase::task::for_each_task(|name, state, refs| {
        if (name.starts_with("pid") || name.starts_with("tid")) && name != alloc::format!("pid{me}") {
            kbase::kprintln!("ferrite: task at power-off: {name} {state:?} ({refs} references)");
        }
    });
    for p in process::all().iter().filter(|p| p.pid != me) {
        let state = if p.is_zombie() { "zombie" } else { "running" };
        kbase::kprintln!("ferrite: process at power-off: pid {} (ppid {}, {state})", p.pid, p.ppid.load(Ordering::Relaxed));
    }
}

fn cred_ok(cap: cred::Cap) -> bool {
    super::cred::capable(cap)
}

pub fn sysinfo(buf: u64) -> SysResult {
    let st = kbase::mm::frame::stats();
    let procs = process::all().len() as u16;
    let mut o = Out::new(112);
    o.u64(0, kbase::time::uptime_ns() / 1_000_000_000)
        .u64(32, st.managed * 4096) // totalram
        .u64(40, st.free * 4096) // freeram
        .u16(80, procs)
        .u32(104, 1); // mem_unit
    o.write_to(buf)?;
    Ok(0)
}

/// times(2): the caller's and its reaped children's CPU time in clock
/// ticks (`struct tms`: four `clock_t`, not in linux-raw-sys); returns the
/// ticks since boot.
pub fn times(buf: u64) -> SysResult {
    let ticks = acct::to_clock_ticks(kbase::time::uptime_ns());
    if buf != 0 {
        let p = current().process.clone();
        let (me, kids) = (acct::process_usage(&p), acct::children_usage(&p));
        let mut o = Out::new(32);
        o.u64(0, acct::to_clock_ticks(me.utime_ns))
            .u64(8, acct::to_clock_ticks(me.stime_ns))
            .u64(16, acct::to_clock_ticks(kids.utime_ns))
            .u64(24, acct::to_clock_ticks(kids.stime_ns));
        o.write_to(buf)?;
    }
    Ok(ticks as usize)
}

/// getrusage(2): RUSAGE_SELF, RUSAGE_CHILDREN or RUSAGE_THREAD; EINVAL
/// for anything else (RUSAGE_BOTH is kernel-internal). The block and IPC
/// counts stay 0, and ru_majflt too (every fault is served from memory).
pub fn getrusage(who: i32, buf: u64) -> SysResult {
    use linux_raw_sys::general::{RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};
    let t = current();
    let u = match who {
        w if w == RUSAGE_SELF as i32 => {
            let mut u = acct::process_usage(&t.process);
            u.maxrss_pages = u.maxrss_pages.max(acct::vm_peak_pages(&t.process));
            u
        }
        RUSAGE_CHILDREN => acct::children_usage(&t.process),
        w if w == RUSAGE_THREAD as i32 => {
            let mut u = acct::thread_usage(&t);
            u.maxrss_pages = acct::vm_peak_pages(&t.process);
            u
        }
        _ => return Err(EINVAL),
    };
    acct::write_rusage(buf, &u)?;
    Ok(0)
}

/// tgkill(2): `sig` to thread `tid` of thread group `tgid` (its own
/// pending set: only that thread takes it). ESRCH unless `tid` is a live
/// thread of that group.
pub fn tgkill(tgid: i32, tid: i32, sig: i32) -> SysResult {
    if tgid <= 0 || tid <= 0 {
        return Err(EINVAL);
    }
    let p = process::lookup(tgid as u32).filter(|p| !p.is_zombie()).ok_or(ESRCH)?;
    let t = p.threads().into_iter().find(|t| t.tid() == tid as u32).ok_or(ESRCH)?;
    signal_thread(&t, sig)
}

/// tkill(2): like tgkill without the group check.
pub fn tkill(tid: i32, sig: i32) -> SysResult {
    if tid <= 0 {
        return Err(EINVAL);
    }
    let me = current();
    let t = if me.tid() == tid as u32 { me } else { thread_by_tid(tid as u32).ok_or(ESRCH)? };
    signal_thread(&t, sig)
}

/// The live process that has a thread `tid`.
fn group_of_thread(tid: u32) -> Option<alloc::sync::Arc<Process>> {
    thread_by_tid(tid).map(|t| t.process.clone())
}

/// The live thread `tid` of any process.
pub(super) fn thread_by_tid(tid: u32) -> Option<alloc::sync::Arc<process::Thread>> {
    if let Some(t) = process::lookup(tid).filter(|p| !p.is_zombie()).and_then(|p| p.threads().into_iter().find(|t| t.tid() == tid)) {
        return Some(t);
    }
    process::all().into_iter().filter(|p| !p.is_zombie()).find_map(|p| p.threads().into_iter().find(|t| t.tid() == tid))
}

fn signal_thread(t: &process::Thread, sig: i32) -> SysResult {
    if sig != 0 {
        signal::check(sig)?;
    }
    let me = current().process.clone();
    if !may_signal(&me, &t.process, sig) {
        return Err(EPERM);
    }
    if sig != 0 {
        signal::send_thread(t, signal::SigInfo::from_process(sig, signal::SI_TKILL, me.pid, me.cred().ruid));
    }
    Ok(0)
}

/// The thread `pid` names for the sched_*affinity and robust-list calls
/// (0: the caller), if the caller may act on it (EPERM otherwise).
fn target_thread(pid: i32) -> Result<alloc::sync::Arc<process::Thread>, Errno> {
    let me = current();
    if pid == 0 || pid as u32 == me.tid() {
        return Ok(me);
    }
    let t = u32::try_from(pid).ok().and_then(thread_by_tid).ok_or(ESRCH)?;
    let (mine, theirs) = (me.process.cred(), t.process.cred());
    if !mine.capable(cred::Cap::SysNice) && mine.euid != theirs.ruid && mine.euid != theirs.euid {
        return Err(EPERM);
    }
    Ok(t)
}

pub fn sched_getaffinity(pid: i32, size: usize, mask: u64) -> SysResult {
    let t = target_thread(pid)?;
    let cpus = kbase::arch::percpu::cpus_online();
    let bytes = cpus.div_ceil(64) * 8;
    if size < bytes || size % 8 != 0 {
        return Err(EINVAL);
    }
    let allowed = t.task().map_or(u64::MAX, |k| k.affinity());
    let mut v = alloc::vec![0u8; bytes];
    for c in (0..cpus).filter(|&c| c >= 64 || allowed & (1 << c) != 0) {
        v[c / 8] |= 1 << (c % 8);
    }
    uaccess::write_bytes(mask, &v)?;
    Ok(bytes)
}

/// sched_setaffinity(2): thread `pid` (0: the caller) runs only on the
/// CPUs of `mask` from now on; the mask must name an online CPU (EINVAL).
/// A mask shorter than the kernel's is zero-extended, a longer one cut,
/// as Linux's get_user_cpu_mask.
pub fn sched_setaffinity(pid: i32, size: usize, mask: u64) -> SysResult {
    let t = target_thread(pid)?;
    let n = size.min(8);
    let bytes = uaccess::read_bytes(mask, n)?;
    let mut m = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        m |= u64::from(*b) << (8 * i);
    }
    let task = t.task().ok_or(ESRCH)?;
    drop(t);
    kbase::task::set_affinity(&task, m).map_err(|()| EINVAL)?;
    Ok(0)
}

/// set_robust_list(2): records the list that `futex::exit_robust_list`
/// walks when the thread dies or execs.
pub fn set_robust_list(head: u64, len: usize) -> SysResult {
    const ROBUST_LIST_HEAD_SIZE: usize = 24;
    if len != ROBUST_LIST_HEAD_SIZE {
        return Err(EINVAL);
    }
    *current().robust_list.lock() = (head, len as u64);
    Ok(0)
}

pub fn get_robust_list(pid: i32, head_ptr: u64, len_ptr: u64) -> SysResult {
    let t = target_thread(pid)?;
    let (head, len) = *t.robust_list.lock();
    uaccess::write_bytes(head_ptr, &head.to_le_bytes())?;
    uaccess::write_bytes(len_ptr, &len.to_le_bytes())?;
    Ok(0)
}

pub fn getcpu(cpu: u64, node: u64) -> SysResult {
    if cpu != 0 {
        uaccess::write_u32(cpu, kbase::arch::percpu::cpu_index() as u32)?;
    }
    if node != 0 {
        uaccess::write_u32(node, 0)?;
    }
    Ok(0)
}

pub fn rt_sigpending(set: u64, size: usize) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let t = current();
    // The union of the thread's and the process's sets, as Linux's
    // do_sigpending, limited to the blocked ones.
    let p = signal::pending_for(&t) & t.sigmask.load(Ordering::Relaxed);
    uaccess::write_u64(set, p)?;
    Ok(0)
}

/// Sleeps until a signal is pending (interruptible), then EINTR.
fn wait_for_signal(t: &process::Thread) -> SysResult {
    kbase::task::sleep_until_or(u64::MAX, || signal::has_pending(t));
    Err(crate::errno::EINTR)
}

pub fn pause() -> SysResult {
    wait_for_signal(&current())
}

pub fn rt_sigsuspend(mask: u64, size: usize) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let m = uaccess::read_u64(mask)?;
    let t = current();
    // The temporary mask stays in effect while the handler runs; the frame
    // records the old one (restored by sigreturn).
    let old = t.sigmask.swap(m, Ordering::AcqRel);
    let r = wait_for_signal(&t);
    t.saved_mask.set(old);
    r
}

pub fn alarm(secs: u32) -> SysResult {
    let old = arm_real_timer(u64::from(secs) * 1_000_000_000, 0);
    Ok(old.0.div_ceil(1_000_000_000) as usize)
}

/// Arms ITIMER_REAL (`value_ns` 0 disarms); returns the previous
/// (remaining, interval). The kernel timer service (`kbase::task::timer`)
/// sends SIGALRM at the deadline and re-arms periodic timers; a newer
/// arming cancels the older one.
fn arm_real_timer(value_ns: u64, interval_ns: u64) -> (u64, u64) {
    let p = current().process.clone();
    let now = kbase::time::uptime_ns();
    let deadline = if value_ns == 0 { 0 } else { now.saturating_add(value_ns) };
    let mut slot = p.alarm_timer.lock();
    if let Some(id) = slot.take() {
        kbase::task::timer::cancel(id);
    }
    let old = p.alarm_deadline.swap(deadline, Ordering::AcqRel);
    let old_interval = p.alarm_interval.swap(interval_ns, Ordering::AcqRel);
    let remaining = if old > now { old - now } else { 0 };
    if deadline != 0 {
        *slot = schedule_alarm(alloc::sync::Arc::downgrade(&p), deadline);
    }
    (remaining, old_interval)
}

fn schedule_alarm(weak: alloc::sync::Weak<process::Process>, due: u64) -> Option<kbase::task::timer::TimerId> {
    // Without memory for the timer thread the alarm is lost: logged, as a
    // kernel thread cannot be had then anyway.
    kbase::task::timer::arm(due, move || fire_alarm(weak, due))
        .map_err(|_| log::warn!("itimer: no memory for the timer thread"))
        .ok()
}

/// The timer callback: SIGALRM, then the next period if there is one.
fn fire_alarm(weak: alloc::sync::Weak<process::Process>, due: u64) {
    let Some(p) = weak.upgrade() else { return };
    let mut slot = p.alarm_timer.lock();
    if p.is_zombie() || p.alarm_deadline.load(Ordering::Acquire) != due {
        return; // disarmed or re-armed meanwhile
    }
    *slot = None;
    signal::send(&p, signal::SIGALRM);
    let every = p.alarm_interval.load(Ordering::Acquire);
    // A period shorter than a tick would only queue up missed expirations.
    let next = if every == 0 { 0 } else { due.saturating_add(every).max(kbase::time::uptime_ns()) };
    p.alarm_deadline.store(next, Ordering::Release);
    if next != 0 {
        *slot = schedule_alarm(weak, next);
    }
}

fn read_timeval(addr: u64) -> Result<u64, Errno> {
    let b = uaccess::read_bytes(addr, 16)?;
    let sec = i64::from_le_bytes(b[0..8].try_into().map_err(|_| EFAULT)?);
    let usec = i64::from_le_bytes(b[8..16].try_into().map_err(|_| EFAULT)?);
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(EINVAL);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000))
}

fn write_itimerval(addr: u64, value_ns: u64, interval_ns: u64) -> Result<(), Errno> {
    let mut o = Out::new(32);
    o.u64(0, interval_ns / 1_000_000_000)
        .u64(8, (interval_ns % 1_000_000_000) / 1000)
        .u64(16, value_ns / 1_000_000_000)
        .u64(24, (value_ns % 1_000_000_000).div_ceil(1000));
    o.write_to(addr)
}

/// setitimer(2): ITIMER_REAL counts wall time (a kernel timer),
/// ITIMER_VIRTUAL user CPU time and ITIMER_PROF user and system CPU time
/// (timer ticks, `acct::on_tick`).
pub fn setitimer(which: i32, new: u64, old: u64) -> SysResult {
    let (interval, value) = match which {
        0..=2 if new != 0 => (read_timeval(new)?, read_timeval(new + 16)?),
        0..=2 => (0, 0),
        _ => return Err(EINVAL),
    };
    let (rem, ival) = match cpu_itimer(which) {
        None => arm_real_timer(value, interval),
        Some(w) => {
            let old = acct::arm_itimer(&current().process, w, value, interval);
            (old.value_ns, old.interval_ns)
        }
    };
    if old != 0 {
        write_itimerval(old, rem, ival)?;
    }
    Ok(0)
}

/// ITIMER_VIRTUAL / ITIMER_PROF as an `acct` timer index; None for ITIMER_REAL.
fn cpu_itimer(which: i32) -> Option<usize> {
    use linux_raw_sys::general::{ITIMER_PROF, ITIMER_VIRTUAL};
    match which {
        w if w == ITIMER_VIRTUAL as i32 => Some(acct::VIRT),
        w if w == ITIMER_PROF as i32 => Some(acct::PROF),
        _ => None,
    }
}

pub fn getitimer(which: i32, out: u64) -> SysResult {
    let p = current().process.clone();
    match which {
        0 => {
            let now = kbase::time::uptime_ns();
            let d = p.alarm_deadline.load(Ordering::Acquire);
            write_itimerval(out, d.saturating_sub(now), p.alarm_interval.load(Ordering::Acquire))?;
            Ok(0)
        }
        1 | 2 => {
            let t = acct::itimer(&p, cpu_itimer(which).ok_or(EINVAL)?);
            write_itimerval(out, t.value_ns, t.interval_ns).map(|_| 0)
        }
        _ => Err(EINVAL),
    }
}

/// prctl(2): PR_SET_NAME and PR_GET_NAME (the name /proc/[pid]/comm and
/// stat show; per process here, per thread on Linux); other options are
/// EINVAL.
pub fn prctl(option: i32, arg2: u64) -> SysResult {
    const PR_SET_NAME: i32 = 15;
    const PR_GET_NAME: i32 = 16;
    let t = current();
    match option {
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            // 16 bytes, or a shorter string that ends before unmapped memory.
            let raw = match uaccess::read_into(arg2, &mut name) {
                Ok(()) => name.to_vec(),
                Err(_) => uaccess::read_cstr(arg2, 16)?,
            };
            let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len()).min(15);
            let mut info = (**t.process.exec_info.lock()).clone();
            info.comm = raw[..len].to_vec();
            *t.process.exec_info.lock() = alloc::sync::Arc::new(info);
            Ok(0)
        }
        PR_GET_NAME => {
            let mut name = [0u8; 16];
            let comm = t.process.exec_info.lock().comm.clone();
            name[..comm.len().min(15)].copy_from_slice(&comm[..comm.len().min(15)]);
            uaccess::write_bytes(arg2, &name)?;
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}


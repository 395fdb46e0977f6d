//! procfs (`proc(5)`): files generated from kernel state when read.
//!
//! ```text
//!  inode numbers   1                    the root
//!                  2..=STATIC_END       fixed entries (TOP, then /sys/...)
//!                  pid << 16 | PidEntry per-process entries
//!                  pid << 16 | FD_BASE+n  /proc/[pid]/fd/n
//!      TASK_BIT | tid << 16 | TaskEntry /proc/[pid]/task/[tid]/... (the
//!                                     process is found from the thread)
//! ```
//!
//! A regular file is generated in full when a read starts at offset 0
//! ([`ProcFile`] keeps that snapshot for the reads that follow), so `cat`
//! sees one consistent text and a program that seeks back to 0 (top) sees
//! fresh numbers. Formats follow Linux's `fs/proc/*.c`.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};

use kbase::task::Mutex;
use vfs::{DirEntry, Ino, Kind, Stat, Timespec};

use super::{FileSystem, Node, StatFs, Super};
use crate::errno::{EACCES, EINVAL, EISDIR, ENOENT, ENOTDIR, Errno};
use crate::file::{File, OpenFlags};
use crate::process::{self, Process, Thread};

pub const PROC_SUPER_MAGIC: u64 = linux_raw_sys::general::PROC_SUPER_MAGIC as u64;

const ROOT: u64 = 1;
const PID_SHIFT: u32 = 16;
const FD_BASE: u64 = 0x100;

/// Fixed entries: (inode, parent, name, type).
const STATIC: &[(u64, u64, &str, Kind)] = &[
    (2, ROOT, "self", Kind::Symlink),
    (3, ROOT, "meminfo", Kind::File),
    (4, ROOT, "cpuinfo", Kind::File),
    (5, ROOT, "uptime", Kind::File),
    (6, ROOT, "loadavg", Kind::File),
    (7, ROOT, "mounts", Kind::Symlink),
    (8, ROOT, "filesystems", Kind::File),
    (9, ROOT, "stat", Kind::File),
    (10, ROOT, "sys", Kind::Dir),
    (17, ROOT, "version", Kind::File),
    (11, 10, "kernel", Kind::Dir),
    (12, 11, "hostname", Kind::File),
    (13, 11, "ostype", Kind::File),
    (14, 11, "osrelease", Kind::File),
    (15, 10, "vm", Kind::Dir),
    (16, 15, "drop_caches", Kind::File),
    (18, 10, "fs", Kind::Dir),
    (19, 18, "dentry-state", Kind::File),
    (20, ROOT, "thread-self", Kind::Symlink),
];

/// Entries of /proc/[pid]/: (sub-inode, name, type).
const PID_ENTRIES: &[(u64, &str, Kind)] = &[
    (2, "stat", Kind::File),
    (3, "status", Kind::File),
    (4, "cmdline", Kind::File),
    (5, "exe", Kind::Symlink),
    (6, "cwd", Kind::Symlink),
    (7, "fd", Kind::Dir),
    (8, "maps", Kind::File),
    (9, "environ", Kind::File),
    (10, "comm", Kind::File),
    (11, "mounts", Kind::File),
    (12, "statm", Kind::File),
    (13, "root", Kind::Symlink),
    (14, "mountinfo", Kind::File),
    (15, "task", Kind::Dir),
    (16, "limits", Kind::File),
];
const PID_DIR: u64 = 1;
const PID_FD_DIR: u64 = 7;
const PID_TASK_DIR: u64 = 15;

/// Entries of /proc/[pid]/task/[tid]/: (sub-inode, name, type); their
/// contents are those of the /proc/[pid] entry of the same name, for the
/// one thread.
const TASK_ENTRIES: &[(u64, &str, Kind)] = &[(2, "stat", Kind::File), (3, "status", Kind::File), (10, "comm", Kind::File)];
/// Inode bit of the per-thread entries (pids and tids fit in 31 bits).
const TASK_BIT: u64 = 1 << 62;

/// Where an inode number points.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Root,
    Static(usize),
    PidDir(u32),
    Pid(u32, usize),
    Fd(u32, i32),
    /// /proc/[pid]/task/[tid]
    TidDir(u32),
    /// /proc/[pid]/task/[tid]/TASK_ENTRIES[n]
    Tid(u32, usize),
}

fn decode(ino: Ino) -> Option<Entry> {
    let n = ino.0;
    if n == ROOT {
        return Some(Entry::Root);
    }
    if n & TASK_BIT != 0 {
        let tid = u32::try_from((n & !TASK_BIT) >> PID_SHIFT).ok()?;
        return match n & ((1 << PID_SHIFT) - 1) {
            PID_DIR => Some(Entry::TidDir(tid)),
            s => TASK_ENTRIES.iter().position(|e| e.0 == s).map(|i| Entry::Tid(tid, i)),
        };
    }
    let pid = u32::try_from(n >> PID_SHIFT).ok()?;
    if pid == 0 {
        return STATIC.iter().position(|e| e.0 == n).map(Entry::Static);
    }
    let sub = n & ((1 << PID_SHIFT) - 1);
    match sub {
        PID_DIR => Some(Entry::PidDir(pid)),
        s if s >= FD_BASE => Some(Entry::Fd(pid, i32::try_from(s - FD_BASE).ok()?)),
        s => PID_ENTRIES.iter().position(|e| e.0 == s).map(|i| Entry::Pid(pid, i)),
    }
}

fn pid_ino(pid: u32, sub: u64) -> Ino {
    Ino((u64::from(pid) << PID_SHIFT) | sub)
}

fn tid_ino(tid: u32, sub: u64) -> Ino {
    Ino(TASK_BIT | (u64::from(tid) << PID_SHIFT) | sub)
}

fn proc_of(pid: u32) -> Result<Arc<Process>, Errno> {
    process::lookup(pid).ok_or(ENOENT)
}

/// A live thread and its process, by tid.
fn thread_of(tid: u32) -> Result<(Arc<Process>, Arc<Thread>), Errno> {
    let find = |p: Arc<Process>| p.threads().into_iter().find(|t| t.tid() == tid).map(|t| (p, t));
    // The main thread's tid is its pid: one lookup, no scan.
    process::lookup(tid)
        .and_then(find)
        .or_else(|| process::all().into_iter().find_map(find))
        .ok_or(ENOENT)
}

/// The procfs instance (one per mount, all showing the same processes).
pub struct ProcFs;

pub fn new_procfs() -> Arc<Super> {
    Super::new(Arc::new(ProcFs), "proc")
}

fn now() -> Timespec {
    let ns = kbase::time::realtime_ns();
    Timespec { sec: (ns / 1_000_000_000) as i64, nsec: (ns % 1_000_000_000) as u32 }
}

impl ProcFs {
    fn kind(&self, e: Entry) -> Kind {
        match e {
            Entry::Root | Entry::PidDir(_) | Entry::TidDir(_) => Kind::Dir,
            Entry::Static(i) => STATIC[i].3,
            Entry::Pid(_, i) => PID_ENTRIES[i].2,
            Entry::Fd(..) => Kind::Symlink,
            Entry::Tid(_, i) => TASK_ENTRIES[i].2,
        }
    }

    /// Checks that the entry still exists (its process, its descriptor).
    fn check(&self, e: Entry) -> Result<(), Errno> {
        match e {
            Entry::PidDir(pid) | Entry::Pid(pid, _) => proc_of(pid).map(|_| ()),
            Entry::Fd(pid, fd) => proc_of(pid)?.files.lock().get(fd).map(|_| ()).map_err(|_| ENOENT),
            Entry::TidDir(tid) | Entry::Tid(tid, _) => thread_of(tid).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// The contents of a regular file.
    fn generate(&self, e: Entry) -> Result<Vec<u8>, Errno> {
        let s = match e {
            Entry::Static(i) => match STATIC[i].2 {
                "meminfo" => meminfo(),
                "cpuinfo" => cpuinfo(),
                "uptime" => {
                    let up = kbase::time::uptime_ns() / 10_000_000;
                    // Idle ticks of every CPU (TICK_HZ is USER_HZ, 100).
                    let idle: u64 = (0..cpus()).map(|c| kbase::task::cpu_stat(c).idle_ticks).sum();
                    format!("{}.{:02} {}.{:02}\n", up / 100, up % 100, idle / 100, idle % 100)
                }
                "loadavg" => {
                    let all = process::all();
                    let last = all.iter().map(|p| p.pid).max().unwrap_or(1);
                    format!("0.00 0.00 0.00 1/{} {}\n", all.len(), last)
                }
                "filesystems" => String::from("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\n"),
                "stat" => stat(),
                "version" => String::from("Linux version 6.1.0-ferrite (ferrite) #1 SMP Ferrite\n"),
                "hostname" => {
                    let mut h = crate::syscall::proc::hostname();
                    h.push(b'\n');
                    return Ok(h);
                }
                "ostype" => String::from("Linux\n"),
                "osrelease" => String::from("6.1.0-ferrite\n"),
                "drop_caches" => String::from("0\n"),
                "dentry-state" => {
                    // nr_dentry nr_unused age_limit want_pages nr_negative dummy
                    let (all, negative) = super::dentry_counts();
                    format!("{all}\t{all}\t45\t0\t{negative}\t0\n")
                }
                _ => return Err(EINVAL),
            },
            Entry::Pid(pid, i) => {
                let p = proc_of(pid)?;
                match PID_ENTRIES[i].1 {
                    "stat" => pid_stat(&p, None),
                    "status" => pid_status(&p, None),
                    "statm" => {
                        let (vsz, rss, _) = mem_pages(&p);
                        format!("{vsz} {rss} 0 0 0 0 0\n")
                    }
                    "cmdline" => return Ok(p.exec_info.lock().cmdline.clone()),
                    "environ" => return Ok(p.exec_info.lock().environ.clone()),
                    "comm" => {
                        let mut c = p.exec_info.lock().comm.clone();
                        c.push(b'\n');
                        return Ok(c);
                    }
                    "maps" => maps(&p),
                    "limits" => limits(&p),
                    "mounts" => mounts(),
                    "mountinfo" => mountinfo(),
                    _ => return Err(EINVAL),
                }
            }
            Entry::Tid(tid, i) => {
                let (p, t) = thread_of(tid)?;
                match TASK_ENTRIES[i].1 {
                    "stat" => pid_stat(&p, Some(&t)),
                    "status" => pid_status(&p, Some(&t)),
                    "comm" => {
                        let mut c = p.exec_info.lock().comm.clone();
                        c.push(b'\n');
                        return Ok(c);
                    }
                    _ => return Err(EINVAL),
                }
            }
            _ => return Err(EISDIR),
        };
        Ok(s.into_bytes())
    }
}

impl FileSystem for ProcFs {
    fn root(&self) -> Ino {
        Ino(ROOT)
    }

    fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let e = decode(ino).ok_or(ENOENT)?;
        self.check(e)?;
        let kind = self.kind(e);
        let perm = match (e, kind) {
            (_, Kind::Dir) => 0o555,
            // A descriptor's link says how it is open: r-x read, -wx write.
            (Entry::Fd(pid, fd), _) => {
                let f = proc_of(pid)?.files.lock().get(fd).map_err(|_| ENOENT)?.flags();
                (if f.can_read() { 0o500 } else { 0 }) | (if f.can_write() { 0o300 } else { 0 })
            }
            (_, Kind::Symlink) => 0o777,
            (Entry::Static(i), _) if matches!(STATIC[i].2, "hostname") => 0o644,
            (Entry::Static(i), _) if STATIC[i].2 == "drop_caches" => 0o200,
            (Entry::Pid(_, i), _) if PID_ENTRIES[i].1 == "environ" => 0o400,
            (Entry::Pid(_, i), _) if PID_ENTRIES[i].1 == "comm" => 0o644,
            (Entry::Tid(_, i), _) if TASK_ENTRIES[i].1 == "comm" => 0o644,
            _ => 0o444,
        };
        let (mut uid, mut gid) = (0, 0);
        let t = match e {
            Entry::PidDir(_) | Entry::Pid(..) | Entry::Fd(..) | Entry::TidDir(_) | Entry::Tid(..) => {
                let p = match e {
                    Entry::TidDir(tid) | Entry::Tid(tid, _) => thread_of(tid)?.0,
                    Entry::PidDir(pid) | Entry::Pid(pid, _) | Entry::Fd(pid, _) => proc_of(pid)?,
                    _ => return Err(ENOENT),
                };
                let c = p.cred();
                (uid, gid) = (c.euid, c.egid);
                let boot = kbase::time::realtime_ns().saturating_sub(kbase::time::uptime_ns());
                let ns = boot + p.start_ns;
                Timespec { sec: (ns / 1_000_000_000) as i64, nsec: (ns % 1_000_000_000) as u32 }
            }
            _ => now(),
        };
        Ok(Stat {
            dev: 0,
            ino,
            mode: kind.mode_bits() | perm,
            nlink: if kind == Kind::Dir { 2 } else { 1 },
            uid,
            gid,
            rdev: 0,
            size: if matches!(e, Entry::Fd(..)) { 64 } else { 0 },
            blocks: 0,
            atime: t,
            mtime: t,
            ctime: t,
        })
    }

    fn lookup(&self, dir: Ino, name: &[u8]) -> Result<(Ino, Kind), Errno> {
        let d = decode(dir).ok_or(ENOENT)?;
        self.check(d)?;
        let found = match d {
            Entry::Root => {
                if let Some(e) = STATIC.iter().find(|e| e.1 == ROOT && e.2.as_bytes() == name) {
                    (Ino(e.0), e.3)
                } else {
                    let pid: u32 = core::str::from_utf8(name).ok().and_then(|s| s.parse().ok()).ok_or(ENOENT)?;
                    if pid == 0 || pid >= 1 << (63 - PID_SHIFT).min(31) {
                        return Err(ENOENT);
                    }
                    match proc_of(pid) {
                        Ok(_) => (pid_ino(pid, PID_DIR), Kind::Dir),
                        // A thread that is not its process's leader: found
                        // by its tid, as on Linux, though not listed.
                        Err(_) => {
                            thread_of(pid)?;
                            (tid_ino(pid, PID_DIR), Kind::Dir)
                        }
                    }
                }
            }
            Entry::Static(i) if STATIC[i].3 == Kind::Dir => {
                let me = STATIC[i].0;
                let e = STATIC.iter().find(|e| e.1 == me && e.2.as_bytes() == name).ok_or(ENOENT)?;
                (Ino(e.0), e.3)
            }
            Entry::PidDir(pid) => {
                let e = PID_ENTRIES.iter().find(|e| e.1.as_bytes() == name).ok_or(ENOENT)?;
                (pid_ino(pid, e.0), e.2)
            }
            Entry::Pid(pid, i) if PID_ENTRIES[i].0 == PID_TASK_DIR => {
                let tid: u32 = core::str::from_utf8(name).ok().and_then(|s| s.parse().ok()).ok_or(ENOENT)?;
                if name.first() == Some(&b'+') || thread_of(tid)?.0.pid != pid {
                    return Err(ENOENT);
                }
                (tid_ino(tid, PID_DIR), Kind::Dir)
            }
            Entry::TidDir(tid) => {
                let e = TASK_ENTRIES.iter().find(|e| e.1.as_bytes() == name).ok_or(ENOENT)?;
                (tid_ino(tid, e.0), e.2)
            }
            Entry::Pid(pid, i) if PID_ENTRIES[i].0 == PID_FD_DIR => {
                let fd: i32 = core::str::from_utf8(name).ok().and_then(|s| s.parse().ok()).ok_or(ENOENT)?;
                if !(0..crate::file::MAX_FDS as i32).contains(&fd) || name.first() == Some(&b'+') {
                    return Err(ENOENT);
                }
                let e = Entry::Fd(pid, fd);
                self.check(e)?;
                (pid_ino(pid, FD_BASE + fd as u64), Kind::Symlink)
            }
            _ => return Err(ENOTDIR),
        };
        Ok(found)
    }

    fn parent(&self, dir: Ino) -> Result<Ino, Errno> {
        match decode(dir).ok_or(ENOENT)? {
            Entry::Root | Entry::PidDir(_) => Ok(Ino(ROOT)),
            Entry::Static(i) if STATIC[i].3 == Kind::Dir => Ok(Ino(STATIC[i].1)),
            Entry::Pid(pid, i) if PID_ENTRIES[i].2 == Kind::Dir => Ok(pid_ino(pid, PID_DIR)),
            Entry::TidDir(tid) => Ok(pid_ino(thread_of(tid)?.0.pid, PID_TASK_DIR)),
            _ => Err(ENOTDIR),
        }
    }

    fn read_dir(&self, dir: Ino, cookie: u64) -> Result<Option<(u64, DirEntry)>, Errno> {
        let d = decode(dir).ok_or(ENOENT)?;
        self.check(d)?;
        if self.kind(d) != Kind::Dir {
            return Err(ENOTDIR);
        }
        let entry = |ino: Ino, kind, name: &[u8]| DirEntry { ino, kind, name: name.to_vec() };
        match cookie {
            0 => return Ok(Some((1, entry(dir, Kind::Dir, b".")))),
            1 => return Ok(Some((2, entry(self.parent(dir)?, Kind::Dir, b"..")))),
            _ => {}
        }
        let i = usize::try_from(cookie - 2).unwrap_or(usize::MAX);
        match d {
            Entry::Root => {
                let tops: Vec<_> = STATIC.iter().filter(|e| e.1 == ROOT).collect();
                if let Some(e) = tops.get(i) {
                    return Ok(Some((cookie + 1, entry(Ino(e.0), e.3, e.2.as_bytes()))));
                }
                // Then the processes, by pid: cookie = base + pid.
                let base = 2 + tops.len() as u64;
                let from = u32::try_from(cookie - base).unwrap_or(u32::MAX);
                let mut pids: Vec<u32> = process::all().iter().map(|p| p.pid).filter(|&p| p >= from).collect();
                pids.sort_unstable();
                Ok(pids
                    .first()
                    .map(|&pid| (base + u64::from(pid) + 1, entry(pid_ino(pid, PID_DIR), Kind::Dir, format!("{pid}").as_bytes()))))
            }
            Entry::Static(s) => {
                let me = STATIC[s].0;
                let kids: Vec<_> = STATIC.iter().filter(|e| e.1 == me).collect();
                Ok(kids.get(i).map(|e| (cookie + 1, entry(Ino(e.0), e.3, e.2.as_bytes()))))
            }
            Entry::PidDir(pid) => {
                Ok(PID_ENTRIES.get(i).map(|e| (cookie + 1, entry(pid_ino(pid, e.0), e.2, e.1.as_bytes()))))
            }
            Entry::Pid(pid, e) if PID_ENTRIES[e].0 == PID_TASK_DIR => {
                // task/: cookie = 2 + tid.
                let from = u32::try_from(i).unwrap_or(u32::MAX);
                let next = proc_of(pid)?.threads().iter().map(|t| t.tid()).filter(|&t| t >= from).min();
                Ok(next.map(|tid| (2 + u64::from(tid) + 1, entry(tid_ino(tid, PID_DIR), Kind::Dir, format!("{tid}").as_bytes()))))
            }
            Entry::TidDir(tid) => {
                Ok(TASK_ENTRIES.get(i).map(|e| (cookie + 1, entry(tid_ino(tid, e.0), e.2, e.1.as_bytes()))))
            }
            Entry::Pid(pid, _) => {
                // fd/: cookie = 2 + fd.
                let p = proc_of(pid)?;
                let files = p.files.lock();
                let from = i32::try_from(i).unwrap_or(i32::MAX);
                let next = (from..crate::file::MAX_FDS as i32).find(|&fd| files.get(fd).is_ok());
                Ok(next.map(|fd| {
                    (2 + fd as u64 + 1, entry(pid_ino(pid, FD_BASE + fd as u64), Kind::Symlink, format!("{fd}").as_bytes()))
                }))
            }
            Entry::Fd(..) | Entry::Tid(..) => Err(ENOTDIR),
        }
    }

    fn readlink(&self, ino: Ino) -> Result<Vec<u8>, Errno> {
        let e = decode(ino).ok_or(ENOENT)?;
        self.check(e)?;
        match e {
            Entry::Static(i) => match STATIC[i].2 {
                "self" => Ok(format!("{}", process::current().process.pid).into_bytes()),
                "thread-self" => {
                    let t = process::current();
                    Ok(format!("{}/task/{}", t.process.pid, t.tid()).into_bytes())
                }
                "mounts" => Ok(b"self/mounts".to_vec()),
                _ => Err(EINVAL),
            },
            Entry::Pid(pid, i) => {
                let p = proc_of(pid)?;
                match PID_ENTRIES[i].1 {
                    "exe" => {
                        let exe = p.exec_info.lock().exe.clone();
                        if exe.is_empty() { Err(ENOENT) } else { Ok(exe) }
                    }
                    "cwd" => {
                        let cwd = p.cwd.lock().clone();
                        super::path_of(&cwd)
                    }
                    "root" => {
                        let root = p.root.lock().clone();
                        match root {
                            Some(r) => super::path_of(&r),
                            None => Ok(b"/".to_vec()),
                        }
                    }
                    _ => Err(EINVAL),
                }
            }
            Entry::Fd(pid, fd) => {
                let f = proc_of(pid)?.files.lock().get(fd).map_err(|_| ENOENT)?;
                Ok(describe(&*f))
            }
            _ => Err(EINVAL),
        }
    }

    fn read(&self, ino: Ino, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let data = self.generate(decode(ino).ok_or(ENOENT)?)?;
        Ok(copy_from(&data, off, buf))
    }

    fn write(&self, ino: Ino, _off: u64, data: &[u8]) -> Result<usize, Errno> {
        match decode(ino).ok_or(ENOENT)? {
            Entry::Static(i) if STATIC[i].2 == "drop_caches" => {
                // 1: page cache, 2: reclaimable kernel objects (here the
                // kernel-stack cache and the dentry caches), 3: both.
                let what = match data.strip_suffix(b"\n").unwrap_or(data) {
                    b"1" => 1,
                    b"2" => 2,
                    b"3" => 3,
                    _ => return Err(EINVAL),
                };
                if what & 1 != 0 {
                    crate::pagecache::drop_unused();
                }
                if what & 2 != 0 {
                    kbase::mm::stack::release_cached();
                    super::drop_dentries();
                    kbase::task::prune_dead();
                    crate::locks::prune();
                    kbase::mm::heap::shrink();
                }
                // For the leak checks (`cargo xtask fuzz`): what is left
                // once the caches are gone.
                kbase::kprintln!("ferrite: objects after drop_caches: {}", crate::census::summary());
                Ok(data.len())
            }
            Entry::Pid(pid, i) if PID_ENTRIES[i].1 == "comm" => write_comm(&*proc_of(pid)?, data),
            Entry::Tid(tid, i) if TASK_ENTRIES[i].1 == "comm" => write_comm(&*thread_of(tid)?.0, data),
            Entry::Static(i) if STATIC[i].2 == "hostname" => {
                // Like sysctl: one write sets the whole name, a newline ends it.
                let name = data.strip_suffix(b"\n").unwrap_or(data);
                crate::syscall::proc::set_hostname(name)?;
                Ok(data.len())
            }
            _ => Err(EACCES),
        }
    }

    /// Names procfs does not have fail their lookup with `ENOENT`, so
    /// creating one does too (Linux never gets to a create operation).
    fn create(&self, _dir: Ino, _name: &[u8], _kind: Kind, _perm: u32, _uid: u32, _gid: u32, _rdev: u64) -> Result<Ino, Errno> {
        Err(ENOENT)
    }

    fn symlink(&self, _dir: Ino, _name: &[u8], _target: &[u8], _uid: u32, _gid: u32) -> Result<Ino, Errno> {
        Err(ENOENT)
    }

    fn truncate(&self, _ino: Ino, _len: u64) -> Result<(), Errno> {
        // O_TRUNC on a writable proc file is ignored, as on Linux.
        Ok(())
    }

    fn open(&self, node: &Node, flags: OpenFlags) -> Option<Result<Arc<dyn File>, Errno>> {
        let e = decode(node.ino)?;
        if self.kind(e) != Kind::File || flags.0 & OpenFlags::PATH != 0 {
            return None;
        }
        if let Err(err) = self.check(e) {
            return Some(Err(err));
        }
        let st = self.stat(node.ino).ok()?;
        if flags.can_write() && st.mode & 0o222 == 0 {
            return Some(Err(EACCES));
        }
        if flags.can_read() && st.mode & 0o444 == 0 {
            return Some(Err(EACCES));
        }
        Some(Ok(Arc::new(ProcFile {
            node: node.clone(),
            entry: e,
            snapshot: Mutex::new(None),
            pos: Mutex::new(0),
            flags: AtomicU32::new(flags.0),
            _census: crate::census::Token::new(crate::census::Kind::File),
        })))
    }

    fn statfs(&self) -> StatFs {
        StatFs { magic: PROC_SUPER_MAGIC, block_size: 4096, ..StatFs::default() }
    }
}

/// A write to /proc/[pid]/comm (or a thread's: the name is the
/// process's here): the new name, cut to 15 bytes (a newline ends it).
fn write_comm(p: &Process, data: &[u8]) -> Result<usize, Errno> {
    let name = data.strip_suffix(b"\n").unwrap_or(data);
    let mut info = (**p.exec_info.lock()).clone();
    info.comm = name[..name.len().min(15)].to_vec();
    *p.exec_info.lock() = Arc::new(info);
    Ok(data.len())
}

fn copy_from(data: &[u8], off: u64, buf: &mut [u8]) -> usize {
    let start = usize::try_from(off).unwrap_or(usize::MAX).min(data.len());
    let n = buf.len().min(data.len() - start);
    buf[..n].copy_from_slice(&data[start..start + n]);
    n
}

/// An open procfs file: the text generated when reading starts at 0.
struct ProcFile {
    node: Node,
    entry: Entry,
    snapshot: Mutex<Option<Vec<u8>>>,
    pos: Mutex<u64>,
    flags: AtomicU32,
    _census: crate::census::Token,
}

impl ProcFile {
    fn fs(&self) -> &ProcFs {
        &ProcFs
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut snap = self.snapshot.lock();
        if off == 0 || snap.is_none() {
            *snap = Some(self.fs().generate(self.entry)?);
        }
        Ok(copy_from(snap.as_deref().unwrap_or_default(), off, buf))
    }
}

impl File for ProcFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock();
        let n = self.read_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }
    fn pread(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.read_at(off, buf)
    }
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.fs().write(self.node.ino, 0, data)
    }
    fn pwrite(&self, off: u64, data: &[u8]) -> Result<usize, Errno> {
        self.fs().write(self.node.ino, off, data)
    }
    fn seek(&self, off: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = self.pos.lock();
        let new = match whence {
            0 => off,
            1 => (*pos as i64).checked_add(off).ok_or(EINVAL)?,
            _ => return Err(EINVAL),
        };
        if new < 0 {
            return Err(EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.node.stat()
    }
    fn node(&self) -> Option<&Node> {
        Some(&self.node)
    }
    fn proc_name(&self) -> Vec<u8> {
        super::path_of(&self.node).unwrap_or_default()
    }
    fn flags(&self) -> OpenFlags {
        OpenFlags(self.flags.load(Ordering::Relaxed))
    }
    fn set_status_flags(&self, flags: u32) {
        let m = crate::file::SETFL_MASK;
        let old = self.flags.load(Ordering::Relaxed);
        self.flags.store((old & !m) | (flags & m), Ordering::Relaxed);
    }
}

/// The target of /proc/[pid]/fd/N.
fn describe(f: &dyn File) -> Vec<u8> {
    f.proc_name()
}

fn kb(frames: u64) -> u64 {
    frames * 4
}

fn meminfo() -> String {
    let st = kbase::mm::frame::stats();
    let (total, free) = (kb(st.managed), kb(st.free));
    // tmpfs data is shared memory in the page cache, as Linux counts it.
    let shmem = super::tmpfs::root_used_bytes() / 1024;
    let mut s = String::new();
    let mut line = |name: &str, v: u64| {
        let _ = writeln!(s, "{:<16}{:>8} kB", format!("{name}:"), v);
    };
    line("MemTotal", total);
    line("MemFree", free);
    line("MemAvailable", free.saturating_sub(shmem));
    line("Buffers", 0);
    line("Cached", shmem);
    line("SwapCached", 0);
    line("Active", 0);
    line("Inactive", 0);
    line("SwapTotal", 0);
    line("SwapFree", 0);
    line("Dirty", 0);
    line("Writeback", 0);
    line("AnonPages", 0);
    line("Mapped", 0);
    line("Shmem", shmem);
    // Slab: frames carved into the heap's size classes; the part no object
    // uses is reclaimable (drop_caches gives wholly free slabs back).
    let heap = kbase::mm::heap::usage();
    line("Slab", kb(heap.slab_frames));
    line("SReclaimable", heap.slab_free_bytes() / 1024);
    line("SUnreclaim", heap.slab_used_bytes / 1024);
    line("PageTables", 0);
    line("CommitLimit", total / 2);
    line("Committed_AS", total.saturating_sub(free));
    line("VmallocTotal", 34359738367);
    line("VmallocUsed", 0);
    s
}

fn cpuinfo() -> String {
    let n = kbase::arch::percpu::cpus_online().max(1);
    let mhz = kbase::time::tsc_hz() / 1_000_000;
    let mut s = String::new();
    for i in 0..n {
        let _ = write!(
            s,
            "processor\t: {i}\nvendor_id\t: Ferrite\ncpu family\t: 6\nmodel\t\t: 0\nmodel name\t: Ferrite virtual CPU\n\
             stepping\t: 0\ncpu MHz\t\t: {mhz}.000\ncache size\t: 512 KB\nphysical id\t: 0\nsiblings\t: {n}\n\
             core id\t\t: {i}\ncpu cores\t: {n}\napicid\t\t: {i}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\n\
             wp\t\t: yes\nflags\t\t: fpu tsc msr pae cx8 apic sep pge cmov pat clflush mmx fxsr sse sse2 syscall nx lm\n\
             bogomips\t: {}.00\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 40 bits physical, 48 bits virtual\n\
             power management:\n\n",
            mhz * 2
        );
    }
    s
}

/// A CPU mask as Linux's `%*pbl`: ranges, e.g. `0-1` or `0,2-3`.
fn cpu_list(mask: u64) -> String {
    let mut out = String::new();
    let mut c = 0;
    while c < 64 {
        if mask & (1 << c) == 0 {
            c += 1;
            continue;
        }
        let first = c;
        while c + 1 < 64 && mask & (1 << (c + 1)) != 0 {
            c += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if first == c {
            let _ = write!(out, "{first}");
        } else {
            let _ = write!(out, "{first}-{c}");
        }
        c += 1;
    }
    out
}

fn cpus() -> usize {
    kbase::arch::percpu::cpus_online().max(1)
}

/// /proc/stat: per-CPU user, system and idle time from the timer-tick
/// samples (TICK_HZ is USER_HZ, so ticks are the unit); nice, iowait, irq,
/// softirq, steal and guest stay 0.
fn stat() -> String {
    let per: Vec<kbase::task::CpuStat> = (0..cpus()).map(kbase::task::cpu_stat).collect();
    let line = |name: &str, c: &kbase::task::CpuStat| {
        format!("{name} {} 0 {} {} 0 0 0 0 0 0\n", c.user_ticks, c.system_ticks, c.idle_ticks)
    };
    let mut all = kbase::task::CpuStat::default();
    for c in &per {
        all.user_ticks += c.user_ticks;
        all.system_ticks += c.system_ticks;
        all.idle_ticks += c.idle_ticks;
    }
    let mut s = line("cpu ", &all);
    for (i, c) in per.iter().enumerate() {
        s.push_str(&line(&format!("cpu{i}"), c));
    }
    let ctxt: u64 = (0..cpus()).map(kbase::task::switches).sum();
    let boot = (kbase::time::realtime_ns().saturating_sub(kbase::time::uptime_ns())) / 1_000_000_000;
    let all = process::all();
    let last = all.iter().map(|p| p.pid).max().unwrap_or(1);
    let _ = write!(
        s,
        "intr 0\nctxt {ctxt}\nbtime {boot}\nprocesses {last}\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
    );
    s
}

/// /proc/[pid]/limits: the resource limits, in fs/proc/base.c's layout
/// (units as Linux shows them: bytes, seconds, or counts).
fn limits(p: &Process) -> String {
    const ROWS: [(&str, &str); 16] = [
        ("Max cpu time", "seconds"),
        ("Max file size", "bytes"),
        ("Max data size", "bytes"),
        ("Max stack size", "bytes"),
        ("Max core file size", "bytes"),
        ("Max resident set", "bytes"),
        ("Max processes", "processes"),
        ("Max open files", "files"),
        ("Max locked memory", "bytes"),
        ("Max address space", "bytes"),
        ("Max file locks", "locks"),
        ("Max pending signals", "signals"),
        ("Max msgqueue size", "bytes"),
        ("Max nice priority", ""),
        ("Max realtime priority", ""),
        ("Max realtime timeout", "us"),
    ];
    let limits = *p.rlimits.lock();
    let show = |v: u64| if v == u64::MAX { String::from("unlimited") } else { format!("{v}") };
    let mut s = format!("{:<25} {:<20} {:<20} {:<10}\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (i, (name, unit)) in ROWS.iter().enumerate() {
        let (cur, max) = limits.get(i).copied().unwrap_or((u64::MAX, u64::MAX));
        let _ = write!(s, "{name:<25} {:<20} {:<20} ", show(cur), show(max));
        let _ = if unit.is_empty() { writeln!(s) } else { writeln!(s, "{unit:<10}") };
    }
    s
}

/// `R` for the caller's process (or thread), `Z` for a zombie, `T` while
/// a stop signal holds it (job control, until SIGCONT), `S` otherwise.
fn state(p: &Process, t: Option<&Thread>) -> (char, &'static str) {
    let me = process::current();
    let running = match t {
        Some(t) => t.tid() == me.tid(),
        None => p.pid == me.process.pid,
    };
    if p.is_zombie() {
        ('Z', "Z (zombie)")
    } else if p.stopped.load(Ordering::Acquire) {
        ('T', "T (stopped)")
    } else if running {
        ('R', "R (running)")
    } else {
        ('S', "S (sleeping)")
    }
}

/// (virtual size, resident, peak resident) in pages; zeros while the
/// address space is busy (a reader never waits for another process).
fn mem_pages(p: &Process) -> (u64, u64, u64) {
    let Some(vm) = p.vm() else { return (0, 0, 0) };
    let Some(g) = vm.try_lock() else { return (0, 0, 0) };
    let pages: u64 = g.vmas().map(|(s, v)| (v.end - s) / 4096).sum();
    (pages, g.space().resident_pages(), g.space().peak_pages())
}

/// /proc/[pid]/stat, or /proc/[pid]/task/[tid]/stat with `t`: that
/// thread's id, state, faults and CPU time (the children's and the
/// thread count stay the process's, as on Linux).
fn pid_stat(p: &Process, t: Option<&Thread>) -> String {
    use crate::acct::to_clock_ticks as ticks;
    let comm = String::from_utf8_lossy(&p.exec_info.lock().comm).into_owned();
    let (st, _) = state(p, t);
    let ppid = p.ppid.load(Ordering::Relaxed);
    let pgid = p.pgid.load(Ordering::Relaxed);
    let sid = p.sid.load(Ordering::Relaxed);
    let threads = p.threads().len().max(1);
    let (id, u, start_ns) = match t {
        Some(t) => (t.tid(), crate::acct::thread_usage(t), t.start_ns),
        None => (p.pid, crate::acct::process_usage(p), p.start_ns),
    };
    let kids = crate::acct::children_usage(p);
    let start = start_ns / 10_000_000;
    let (vsz, rss, _) = mem_pages(p);
    // The thread's scheduling attributes; the leader's for the process.
    let sched = t.map(|t| *t.sched.lock()).or_else(|| {
        let all = p.threads();
        all.iter().find(|x| x.tid() == p.pid).or(all.first()).map(|x| *x.sched.lock())
    });
    let sched = sched.unwrap_or_default();
    // No controlling terminals yet (tty_nr 0, tpgid -1).
    let tty = 0;
    // Fields 1-52 of proc(5) /proc/[pid]/stat.
    format!(
        "{} ({}) {} {} {} {} {} -1 4194304 {} {} {} {} {} {} {} {} {} {} {} 0 {} {} {} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 {} {} 0 0 0 0 0 0 0 0 0 0 0 0\n",
        id,
        comm,
        st,
        ppid,
        pgid,
        sid,
        tty,
        u.min_flt,
        kids.min_flt,
        u.maj_flt,
        kids.maj_flt,
        ticks(u.utime_ns),
        ticks(u.stime_ns),
        ticks(kids.utime_ns),
        ticks(kids.stime_ns),
        crate::syscall::stat_priority(&sched),
        sched.nice,
        threads,
        start,
        vsz * 4096,
        rss,
        sched.rt_priority,
        sched.policy
    )
}

/// /proc/[pid]/status, or a thread's with `t` (its Pid, state, mask and
/// context switches). The process's switch counts are its main thread's,
/// as Linux shows the group leader's.
fn pid_status(p: &Process, t: Option<&Thread>) -> String {
    let c = p.cred();
    let comm = String::from_utf8_lossy(&p.exec_info.lock().comm).into_owned();
    let (_, st) = state(p, t);
    let ppid = p.ppid.load(Ordering::Relaxed);
    let umask = p.umask.load(Ordering::Relaxed);
    let all = p.threads();
    let threads = all.len().max(1);
    let (vsz, rss, hwm) = mem_pages(p);
    let pending = p.pending.bits();
    let main = all.iter().find(|x| x.tid() == p.pid);
    let shown = t.or(main.map(|m| &**m)).or(all.first().map(|x| &**x));
    let blocked = shown.map_or(0, |x| x.sigmask.load(Ordering::Relaxed));
    let thread_pending = shown.map_or(0, |x| x.pending.bits());
    let (ignored, caught) = {
        let acts = p.sigactions.lock();
        acts.0.iter().enumerate().fold((0u64, 0u64), |(ign, cgt), (i, a)| match a.handler {
            crate::signal::SIG_IGN => (ign | 1 << i, cgt),
            crate::signal::SIG_DFL => (ign, cgt),
            _ => (ign, cgt | 1 << i),
        })
    };
    let switches = shown.and_then(|x| x.task()).map(|task| task.cpu_times()).unwrap_or_default();
    let id = t.map_or(p.pid, |t| t.tid());
    let online = if cpus() >= 64 { u64::MAX } else { (1u64 << cpus()) - 1 };
    let allowed = shown.and_then(|x| x.task()).map_or(online, |task| task.affinity()) & online;
    format!(
        "Name:\t{comm}\nUmask:\t{umask:04o}\nState:\t{st}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{id}\nPPid:\t{ppid}\nTracerPid:\t0\n\
         Uid:\t{ruid}\t{euid}\t{suid}\t{fsuid}\nGid:\t{rgid}\t{egid}\t{sgid}\t{fsgid}\nFDSize:\t64\nGroups:\t{groups}\nNStgid:\t{pid}\nNSpid:\t{id}\nNSpgid:\t{pgid}\nNSsid:\t{sid}\n\
         VmPeak:\t{vm:>8} kB\nVmSize:\t{vm:>8} kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t{hwm:>8} kB\nVmRSS:\t{rs:>8} kB\n\
         RssAnon:\t{rs:>8} kB\nRssFile:\t       0 kB\nRssShmem:\t       0 kB\nVmData:\t{vm:>8} kB\nVmStk:\t     132 kB\n\
         VmExe:\t       0 kB\nVmLib:\t       0 kB\nVmPTE:\t       0 kB\nVmSwap:\t       0 kB\nThreads:\t{threads}\n\
         SigQ:\t0/7823\nSigPnd:\t{thread_pending:016x}\nShdPnd:\t{pending:016x}\nSigBlk:\t{blocked:016x}\nSigIgn:\t{ignored:016x}\n\
         SigCgt:\t{caught:016x}\nCapInh:\t{cap_inh:016x}\nCapPrm:\t{cap_prm:016x}\nCapEff:\t{cap_eff:016x}\n\
         CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nCpus_allowed:\t{allowed:x}\nCpus_allowed_list:\t{allowed_list}\n\
         voluntary_ctxt_switches:\t{nvcsw}\nnonvoluntary_ctxt_switches:\t{nivcsw}\n",
        pid = p.pid,
        cap_inh = c.caps().inheritable,
        cap_prm = c.caps().permitted,
        cap_eff = c.caps().effective,
        ruid = c.ruid,
        euid = c.euid,
        suid = c.suid,
        fsuid = c.fsuid,
        rgid = c.rgid,
        egid = c.egid,
        sgid = c.sgid,
        fsgid = c.fsgid,
        groups = c.groups().iter().map(|g| format!("{g} ")).collect::<String>(),
        pgid = p.pgid.load(Ordering::Relaxed),
        sid = p.sid.load(Ordering::Relaxed),
        vm = vsz * 4,
        rs = rss * 4,
        hwm = hwm * 4,
        allowed_list = cpu_list(allowed),
        nvcsw = switches.nvcsw,
        nivcsw = switches.nivcsw,
    )
}

fn maps(p: &Process) -> String {
    let mut s = String::new();
    let Some(vm) = p.vm() else { return s };
    let g = vm.lock();
    for (start, v) in g.vmas() {
        let perm = |b: bool, c: char| if b { c } else { '-' };
        let mut line = format!(
            "{:08x}-{:08x} {}{}{}{} ",
            start,
            v.end,
            perm(v.prot.read, 'r'),
            perm(v.prot.write, 'w'),
            perm(v.prot.exec, 'x'),
            if v.shared { 's' } else { 'p' }
        );
        let name = match &v.backing {
            crate::mm::Backing::File { offset, name: Some(n), .. } | crate::mm::Backing::Paged { offset, name: Some(n), .. } => {
                let (maj, min) = vfs::decode_dev(n.dev);
                let _ = write!(line, "{:08x} {:02x}:{:02x} {} ", offset, maj, min, n.ino);
                Some(String::from_utf8_lossy(&n.path).into_owned())
            }
            _ => {
                line.push_str("00000000 00:00 0 ");
                if v.end == g.stack_top && g.stack_top != 0 {
                    Some(String::from("[stack]"))
                } else if start == crate::vdso::VVAR_ADDR {
                    Some(String::from("[vvar]"))
                } else if start == g.brk_start && g.brk_start != 0 {
                    Some(String::from("[heap]"))
                } else {
                    None
                }
            }
        };
        if let Some(name) = name {
            while line.len() < 73 {
                line.push(' ');
            }
            line.push_str(&name);
        }
        line.push('\n');
        s.push_str(&line);
    }
    s
}

/// /proc/mounts and /proc/[pid]/mounts (`fstab(5)` format).
pub fn mounts() -> String {
    let mut s = String::new();
    for m in super::mounts() {
        let mut opts = mount_options(m.flags);
        opts.push_str(&m.options);
        let _ = writeln!(s, "{} {} {} {} 0 0", escape(m.source.as_bytes()), escape(&m.target), m.fstype, opts);
    }
    s
}

/// `rw`/`ro` and the other per-mount flags, as /proc/mounts shows them.
fn mount_options(flags: u32) -> String {
    let mut opts = String::from(if flags & super::MS_RDONLY != 0 { "ro" } else { "rw" });
    for (bit, name) in [(super::MS_NOSUID, "nosuid"), (super::MS_NODEV, "nodev"), (super::MS_NOEXEC, "noexec")] {
        if flags & bit != 0 {
            opts.push(',');
            opts.push_str(name);
        }
    }
    if flags & super::MS_NOATIME != 0 {
        opts.push_str(",noatime");
    } else if flags & super::MS_RELATIME != 0 {
        opts.push_str(",relatime");
    }
    opts
}

/// /proc/[pid]/mountinfo (`proc(5)`): id, parent id, major:minor, root,
/// mount point, per-mount options, no optional fields, `-`, type, source,
/// super-block options.
fn mountinfo() -> String {
    let mut s = String::new();
    for m in super::mounts() {
        let (maj, min) = vfs::decode_dev(m.dev);
        let _ = writeln!(
            s,
            "{} {} {}:{} {} {} {} - {} {} {}{}",
            m.id.0,
            m.parent.0,
            maj,
            min,
            escape(&m.root),
            escape(&m.target),
            mount_options(m.flags),
            m.fstype,
            escape(m.source.as_bytes()),
            if m.flags & super::MS_RDONLY != 0 { "ro" } else { "rw" },
            m.options
        );
    }
    s
}

/// Spaces, tabs, newlines and backslashes as octal escapes, as Linux's
/// `mangle` does for /proc/mounts.
fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b' ' | b'\t' | b'\n' | b'\\' => {
                let _ = write!(s, "\\{c:03o}");
            }
            _ => s.push(char::from(c)),
        }
    }
    s
}

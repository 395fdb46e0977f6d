//! Advisory locks: flock(2) and fcntl record locks (POSIX and OFD).
//!
//! The range logic is `vfs::locks` (host-tested); this module keeps one
//! table pair per inode, keyed by (st_dev, ino), and the waiting:
//!
//! ```text
//!   LOCKS: (dev, ino) -> { record: Locks (POSIX owner = pid,
//!                                        OFD owner = open file | 1<<63),
//!                          flock: Locks (owner = open file | 1<<63) }
//!   a blocked F_SETLKW / flock sleeps on QUEUE until GEN moves
//!   (every change bumps it) or a signal comes (EINTR)
//! ```
//!
//! POSIX locks go when their process closes any descriptor of the file
//! ([`close_posix`]: close, close_range, dup2 over it, close-on-exec)
//! or exits ([`process_exit`]); OFD and flock locks when their open file
//! is freed ([`file_freed`], from the drop of regular files and FIFOs).
//! Other files (pipes, eventfds, procfs and device files ...) have no
//! such hook, and a file outside any filesystem is keyed by its address.
//! So each entry also holds every open file that owns an OFD or flock lock
//! in it, weakly: that keeps the address (the owner id) from being reused
//! by a new file, and [`prune`] drops the locks of files that are gone (at
//! every lock request and process exit, and at drop_caches).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kbase::sync::SpinLock;
use kbase::task::WaitQueue;
use linux_raw_sys::general as g;
use vfs::locks::{LockKind, Locks, Owner, TO_EOF};

use crate::errno::{EAGAIN, EBADF, EDEADLK, EINTR, EINVAL, Errno, SysResult};
use crate::file::File;
use crate::uaccess;

type Key = (u64, u64);

#[derive(Default)]
struct InodeLocks {
    record: Locks,
    flock: Locks,
    /// The open files whose OFD or flock locks are here.
    files: Vec<Weak<dyn File>>,
}

impl InodeLocks {
    /// Drops the locks of open files that are gone; whether any lock is left.
    fn prune(&mut self) -> bool {
        let (record, flock) = (&mut self.record, &mut self.flock);
        self.files.retain(|w| {
            if w.strong_count() > 0 {
                return true;
            }
            let owner = w.as_ptr() as *const u8 as usize as u64 | OFD_BIT;
            record.remove_owner(owner);
            flock.remove_owner(owner);
            false
        });
        !(self.record.is_empty() && self.flock.is_empty())
    }
}

static LOCKS: SpinLock<BTreeMap<Key, InodeLocks>> = SpinLock::new(BTreeMap::new());
/// POSIX lock owner -> the owner it waits for (deadlock detection).
static WAITS: SpinLock<BTreeMap<Owner, Owner>> = SpinLock::new(BTreeMap::new());
static GEN: AtomicU64 = AtomicU64::new(0);
static QUEUE: WaitQueue = WaitQueue::new();
/// Whether any lock was ever set: close and exit skip the table until then.
static USED: AtomicBool = AtomicBool::new(false);

const OFD_BIT: u64 = 1 << 63;

/// The lock key of an open file: its inode, or for files outside any
/// filesystem (pipes) the open file itself.
fn key_of(f: &dyn File) -> Key {
    match f.node() {
        Some(n) => (n.mnt.sb.dev, n.ino.0),
        None => (0, file_id(f) as u64),
    }
}

fn file_id(f: &dyn File) -> usize {
    f as *const dyn File as *const u8 as usize
}

fn ofd_owner(f: &dyn File) -> Owner {
    file_id(f) as u64 | OFD_BIT
}

fn changed() {
    GEN.fetch_add(1, Ordering::AcqRel);
    QUEUE.wake_all();
}

/// Whether `owner` waiting for `blocker` closes a cycle of waiters.
fn would_deadlock(owner: Owner, mut blocker: Owner) -> bool {
    let w = WAITS.lock();
    for _ in 0..64 {
        if blocker == owner {
            return true;
        }
        match w.get(&blocker) {
            Some(&next) => blocker = next,
            None => return false,
        }
    }
    false
}

/// Sets `kind` (None: unlocks) over `start..=end` for `owner` in the
/// record table (`is_flock`: the flock table), waiting while another
/// owner conflicts if `wait`.
#[allow(clippy::too_many_arguments, reason = "one lock request, spelled out")]
fn acquire(f: &Arc<dyn File>, is_flock: bool, owner: Owner, kind: Option<LockKind>, start: u64, end: u64, pid: i32, wait: bool) -> Result<(), Errno> {
    USED.store(true, Ordering::Relaxed);
    let key = key_of(&**f);
    prune();
    let detect = !is_flock && owner & OFD_BIT == 0;
    let t = crate::process::current();
    loop {
        let seen = GEN.load(Ordering::Acquire);
        let blocker = {
            let mut m = LOCKS.lock();
            let e = m.entry(key).or_default();
            let table = if is_flock { &mut e.flock } else { &mut e.record };
            match kind.and_then(|k| table.conflict(owner, k, start, end)).map(|l| l.owner) {
                Some(b) => b,
                None => {
                    table.set(owner, kind, start, end, pid);
                    if owner & OFD_BIT != 0 && kind.is_some() && !e.files.iter().any(|w| w.as_ptr() as *const u8 == Arc::as_ptr(f) as *const u8) {
                        e.files.push(Arc::downgrade(f));
                    }
                    if e.record.is_empty() && e.flock.is_empty() {
                        m.remove(&key);
                    }
                    drop(m);
                    WAITS.lock().remove(&owner);
                    changed();
                    return Ok(());
                }
            }
        };
        if !wait {
            return Err(EAGAIN);
        }
        if detect {
            if would_deadlock(owner, blocker) {
                WAITS.lock().remove(&owner);
                return Err(EDEADLK);
            }
            WAITS.lock().insert(owner, blocker);
        }
        let r = QUEUE.wait_until(|| {
            if GEN.load(Ordering::Acquire) != seen {
                Some(Ok(()))
            } else if crate::signal::has_pending(&t) {
                Some(Err(EINTR))
            } else {
                None
            }
        });
        if let Err(e) = r {
            WAITS.lock().remove(&owner);
            return Err(e);
        }
    }
}

/// flock(2).
pub fn flock(f: &Arc<dyn File>, op: u32) -> SysResult {
    if f.flags().0 & crate::file::OpenFlags::PATH != 0 {
        return Err(EBADF);
    }
    let nb = op & g::LOCK_NB != 0;
    let kind = match op & !g::LOCK_NB {
        g::LOCK_SH => Some(LockKind::Read),
        g::LOCK_EX => Some(LockKind::Write),
        g::LOCK_UN => None,
        _ => return Err(EINVAL),
    };
    let key = key_of(&**f);
    let owner = ofd_owner(&**f);
    // A conversion first drops the old lock (not atomic, as on Linux).
    {
        let mut m = LOCKS.lock();
        if let Some(e) = m.get_mut(&key) {
            let held = e.flock.iter().find(|l| l.owner == owner).map(|l| l.kind);
            if held.is_some() && held == kind {
                return Ok(0);
            }
            if held.is_some() {
                e.flock.remove_owner(owner);
                drop(m);
                changed();
            }
        }
    }
    if kind.is_none() {
        return Ok(0);
    }
    acquire(f, true, owner, kind, 0, TO_EOF, 0, !nb)?;
    Ok(0)
}

/// fcntl F_GETLK/F_SETLK/F_SETLKW and the F_OFD_ forms, with `arg`
/// pointing at a `struct flock` (x86_64: l_type, l_whence as i16, then
/// l_start, l_len as i64 at 8 and 16, l_pid as i32 at 24).
pub fn fcntl(f: &Arc<dyn File>, cmd: u32, arg: u64) -> SysResult {
    if f.flags().0 & crate::file::OpenFlags::PATH != 0 {
        return Err(EBADF);
    }
    let raw = uaccess::read_bytes(arg, 32)?;
    let i16_at = |o: usize| i16::from_le_bytes([raw[o], raw[o + 1]]);
    let i64_at = |o: usize| i64::from_le_bytes(raw[o..o + 8].try_into().unwrap_or([0; 8]));
    let (l_type, l_whence, l_start, l_len) = (i16_at(0), i16_at(2), i64_at(8), i64_at(16));
    let l_pid = i32::from_le_bytes(raw[24..28].try_into().unwrap_or([0; 4]));
    let is_ofd = matches!(cmd, g::F_OFD_GETLK | g::F_OFD_SETLK | g::F_OFD_SETLKW);
    if is_ofd && l_pid != 0 {
        return Err(EINVAL);
    }
    let kind = match l_type as u32 {
        g::F_RDLCK => Some(LockKind::Read),
        g::F_WRLCK => Some(LockKind::Write),
        g::F_UNLCK => None,
        _ => return Err(EINVAL),
    };
    let base = match l_whence as u32 {
        0 => 0,
        1 => f.seek(0, 1).map_err(|_| EINVAL)? as i64,
        2 => f.stat()?.size as i64,
        _ => return Err(EINVAL),
    };
    let (start, end) = vfs::locks::range(base, l_start, l_len)?;
    let pid = crate::process::current().process.pid as i32;
    let owner = if is_ofd { ofd_owner(&**f) } else { u64::from(pid as u32) };
    let key = key_of(&**f);
    if matches!(cmd, g::F_GETLK | g::F_OFD_GETLK) {
        let kind = kind.ok_or(EINVAL)?;
        let found = LOCKS.lock().get(&key).and_then(|e| e.record.conflict(owner, kind, start, end).copied());
        let mut out = raw.clone();
        match found {
            Some(l) => {
                let t = match l.kind {
                    LockKind::Read => g::F_RDLCK,
                    LockKind::Write => g::F_WRLCK,
                };
                let len = if l.end == TO_EOF { 0 } else { (l.end - l.start + 1) as i64 };
                out[0..2].copy_from_slice(&(t as i16).to_le_bytes());
                out[2..4].copy_from_slice(&0i16.to_le_bytes());
                out[8..16].copy_from_slice(&(l.start as i64).to_le_bytes());
                out[16..24].copy_from_slice(&len.to_le_bytes());
                out[24..28].copy_from_slice(&l.pid.to_le_bytes());
            }
            None => out[0..2].copy_from_slice(&(g::F_UNLCK as i16).to_le_bytes()),
        }
        uaccess::write_bytes(arg, &out)?;
        return Ok(0);
    }
    let fl = f.flags();
    match kind {
        Some(LockKind::Read) if !fl.can_read() => return Err(EBADF),
        Some(LockKind::Write) if !fl.can_write() => return Err(EBADF),
        _ => {}
    }
    let wait = matches!(cmd, g::F_SETLKW | g::F_OFD_SETLKW);
    acquire(f, false, owner, kind, start, end, if is_ofd { -1 } else { pid }, wait)?;
    Ok(0)
}

/// A process closed a descriptor of `f`: its POSIX locks on that file go.
pub fn close_posix(f: &dyn File, pid: u32) {
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let key = key_of(f);
    let mut m = LOCKS.lock();
    let Some(e) = m.get_mut(&key) else { return };
    let had = e.record.remove_owner(u64::from(pid));
    if e.record.is_empty() && e.flock.is_empty() {
        m.remove(&key);
    }
    drop(m);
    if had {
        changed();
    }
}

/// A process exited: all its POSIX locks go.
pub fn process_exit(pid: u32) {
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let mut m = LOCKS.lock();
    let mut had = false;
    for e in m.values_mut() {
        had |= e.record.remove_owner(u64::from(pid));
    }
    m.retain(|_, e| e.prune());
    drop(m);
    WAITS.lock().remove(&u64::from(pid));
    if had {
        changed();
    }
}

/// Drops the OFD and flock locks of open files that are gone, and every
/// entry left empty.
pub fn prune() {
    LOCKS.lock().retain(|_, e| e.prune());
}

/// Entries in the lock table, for the census.
pub fn entries() -> usize {
    LOCKS.lock().len()
}

/// An open file description is freed: its OFD and flock locks go.
/// `id` is its address (what `ofd_owner` used), `key` its inode's.
pub fn file_freed(key: Key, id: usize) {
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let owner = id as u64 | OFD_BIT;
    let mut m = LOCKS.lock();
    let Some(e) = m.get_mut(&key) else { return };
    let had = e.record.remove_owner(owner) | e.flock.remove_owner(owner);
    if e.record.is_empty() && e.flock.is_empty() {
        m.remove(&key);
    }
    drop(m);
    if had {
        changed();
    }
}

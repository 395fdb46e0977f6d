//! Pseudo-terminals (pty(7), pts(4)): `/dev/ptmx` opens a new master, and
//! `/dev/pts/N` its slave, a [`Tty`] with the same line discipline as the
//! console.
//!
//! ```text
//!  master write ─▶ slave Tty::input (line discipline) ─▶ slave read
//!  slave write ─▶ OPOST ─▶ ToMaster buffer ─▶ master read
//!                           (echo goes the same way)
//! ```
//! A new pty starts locked (TIOCSPTLCK, musl's `unlockpt`); `grantpt` is a
//! no-op and `ptsname` asks TIOCGPTN. Once every slave descriptor is
//! closed, master reads fail with EIO (Linux); once the master closes, the
//! slave is hung up (reads see end of file, writes EIO, SIGHUP to the
//! session leader) and its node disappears. The nodes are devpts's
//! (`fs/devpts.rs`), generated from this table: [`slave_info`] and
//! [`indexes`].

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use kbase::sync::SpinLock;
use kbase::task::WaitQueue;
use linux_raw_sys::ioctl as io;
use vfs::{Ino, Stat};

use crate::errno::{EAGAIN, EINTR, EIO, ENOSPC, Errno};
use crate::file::{File, OpenFlags, POLLERR, POLLHUP, POLLIN, POLLOUT, SETFL_MASK};
use crate::tty::{Device, Tty, TtyFile};

/// Major device number of pty slaves (UNIX98_PTY_SLAVE_MAJOR).
pub const SLAVE_MAJOR: u32 = 136;
/// Most ptys at once (Linux's default kernel.pty.max is 4096).
const MAX_PTYS: u32 = 256;
/// Bytes of slave output the master has not read yet.
const TO_MASTER_MAX: usize = 8192;

/// Slave output waiting for the master.
struct ToMaster {
    buf: SpinLock<VecDeque<u8>>,
    master_open: AtomicBool,
    readable: WaitQueue,
    /// Shared with the slave terminal: poll and epoll on either end.
    pollq: Arc<crate::pollq::PollQueue>,
}

struct MasterSide(Arc<ToMaster>);

impl Device for MasterSide {
    fn output(&self, bytes: &[u8]) -> usize {
        let n = {
            let mut b = self.0.buf.lock();
            let n = bytes.len().min(TO_MASTER_MAX - b.len());
            b.extend(&bytes[..n]);
            n
        };
        self.0.readable.wake_all();
        self.0.pollq.notify(0);
        n
    }

    fn flush_output(&self) {
        self.0.buf.lock().clear();
    }

    fn pending_output(&self) -> usize {
        self.0.buf.lock().len()
    }

    fn is_hung_up(&self) -> bool {
        !self.0.master_open.load(Ordering::Acquire)
    }
}

/// One master/slave pair.
struct Pty {
    index: u32,
    slave: Arc<Tty>,
    out: Arc<ToMaster>,
    locked: AtomicBool,
    /// Open slave descriptions, and whether there ever was one.
    slave_opens: AtomicU32,
    slave_was_opened: AtomicBool,
    /// The slave node's owner: the opener of /dev/ptmx (fsuid, fsgid),
    /// and when (its times).
    uid: u32,
    gid: u32,
    born: vfs::Timespec,
}

/// What devpts shows of pty `index`'s slave node.
pub struct SlaveInfo {
    pub uid: u32,
    pub gid: u32,
    pub born: vfs::Timespec,
}

/// The slave node of pty `index`, while the pty exists (its master is open).
pub fn slave_info(index: u32) -> Option<SlaveInfo> {
    let pty = PTYS.lock().get(&index).and_then(Weak::upgrade)?;
    Some(SlaveInfo { uid: pty.uid, gid: pty.gid, born: pty.born })
}

/// The numbers of the ptys that exist, in order.
pub fn indexes() -> alloc::vec::Vec<u32> {
    PTYS.lock().iter().filter(|(_, w)| w.strong_count() > 0).map(|(i, _)| *i).collect()
}

static PTYS: SpinLock<BTreeMap<u32, Weak<Pty>>> = SpinLock::new(BTreeMap::new());

/// Opens /dev/ptmx: a new pair, whose slave devpts shows as /dev/pts/N.
pub fn open_master(flags: OpenFlags) -> Result<Arc<dyn File>, Errno> {
    let out = Arc::new(ToMaster {
        buf: SpinLock::new(VecDeque::new()),
        master_open: AtomicBool::new(true),
        readable: WaitQueue::new(),
        pollq: Arc::new(crate::pollq::PollQueue::new()),
    });
    let cred = crate::fs::access::caller();
    let now = kbase::time::realtime_ns();
    let born = vfs::Timespec { sec: (now / 1_000_000_000) as i64, nsec: (now % 1_000_000_000) as u32 };
    let pty = {
        let mut table = PTYS.lock();
        table.retain(|_, w| w.strong_count() > 0);
        let index = (0..MAX_PTYS).find(|i| !table.contains_key(i)).ok_or(ENOSPC)?;
        let slave = Tty::with_pollq(Box::new(MasterSide(out.clone())), vfs::encode_dev(SLAVE_MAJOR, index), out.pollq.clone());
        let pty = Arc::new(Pty {
            index,
            slave,
            out,
            locked: AtomicBool::new(true),
            slave_opens: AtomicU32::new(0),
            slave_was_opened: AtomicBool::new(false),
            uid: cred.fsuid,
            gid: cred.fsgid,
            born,
        });
        table.insert(index, Arc::downgrade(&pty));
        pty
    };
    Ok(Arc::new(Master { pty, flags: AtomicU32::new(flags.0 & !OpenFlags::CLOEXEC), _census: crate::census::Token::new(crate::census::Kind::Pty) }))
}

/// Opens /dev/pts/N: EIO while the pty is locked or after its master closed.
pub fn open_slave(index: u32, flags: OpenFlags) -> Result<Arc<dyn File>, Errno> {
    let pty = PTYS.lock().get(&index).and_then(Weak::upgrade).ok_or(EIO)?;
    if pty.locked.load(Ordering::Acquire) || !pty.out.master_open.load(Ordering::Acquire) {
        return Err(EIO);
    }
    pty.slave_opens.fetch_add(1, Ordering::AcqRel);
    pty.slave_was_opened.store(true, Ordering::Release);
    pty.slave.open_acquire(flags);
    let tty = pty.slave.clone();
    Ok(TtyFile::new(tty, flags, Some(Box::new(SlaveOpen(pty)))))
}

/// Held by an open slave: the last close makes master reads fail with EIO.
struct SlaveOpen(Arc<Pty>);

impl Drop for SlaveOpen {
    fn drop(&mut self) {
        self.0.slave_opens.fetch_sub(1, Ordering::AcqRel);
        self.0.out.readable.wake_all();
        self.0.out.pollq.notify(0);
    }
}

/// An open /dev/ptmx.
struct Master {
    pty: Arc<Pty>,
    flags: AtomicU32,
    _census: crate::census::Token,
}

impl Master {
    fn slave_gone(&self) -> bool {
        self.pty.slave_was_opened.load(Ordering::Acquire) && self.pty.slave_opens.load(Ordering::Acquire) == 0
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        self.pty.out.master_open.store(false, Ordering::Release);
        self.pty.slave.hangup();
        PTYS.lock().remove(&self.pty.index);
    }
}

impl File for Master {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblock = self.flags().0 & OpenFlags::NONBLOCK != 0;
        let t = crate::process::current();
        let out = &self.pty.out;
        let n = out.readable.wait_until(|| {
            let mut b = out.buf.lock();
            if !b.is_empty() {
                let n = buf.len().min(b.len());
                for (d, s) in buf.iter_mut().zip(b.drain(..n)) {
                    *d = s;
                }
                return Some(Ok(n));
            }
            drop(b);
            if self.slave_gone() {
                return Some(Err(EIO));
            }
            if crate::signal::has_pending(&t) {
                return Some(Err(EINTR));
            }
            nonblock.then_some(Err(EAGAIN))
        })?;
        self.pty.slave.output_wait.wake_all();
        self.pty.out.pollq.notify(0);
        Ok(n)
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let nonblock = self.flags().0 & OpenFlags::NONBLOCK != 0;
        let t = crate::process::current();
        let slave = &self.pty.slave;
        let mut done = 0;
        while done < data.len() {
            let room = slave.input_room();
            if room == 0 {
                if done > 0 {
                    break;
                }
                if nonblock {
                    return Err(EAGAIN);
                }
                slave.output_wait.wait_until(|| {
                    if crate::signal::has_pending(&t) {
                        return Some(Err(EINTR));
                    }
                    (slave.input_room() > 0).then_some(Ok(()))
                })?;
                continue;
            }
            let n = room.min(data.len() - done);
            if let Some(sig) = slave.input(&data[done..done + n]) {
                slave.signal_foreground(sig);
            }
            done += n;
        }
        Ok(done)
    }

    fn poll_queue(&self) -> Option<Arc<crate::pollq::PollQueue>> {
        Some(self.pty.out.pollq.clone())
    }

    fn poll(&self) -> u16 {
        let mut ev = 0;
        if !self.pty.out.buf.lock().is_empty() {
            ev |= POLLIN;
        }
        if self.pty.slave.input_room() > 0 {
            ev |= POLLOUT;
        }
        if self.slave_gone() {
            ev |= POLLHUP | POLLERR;
        }
        ev
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            dev: crate::file::ANON_DEV,
            ino: Ino(0),
            mode: 0o020666,
            nlink: 1,
            uid: 0,
            gid: 5,
            rdev: vfs::encode_dev(5, 2),
            size: 0,
            blocks: 0,
            atime: vfs::Timespec::default(),
            mtime: vfs::Timespec::default(),
            ctime: vfs::Timespec::default(),
        })
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<usize, Errno> {
        match cmd {
            io::TIOCGPTN => {
                crate::uaccess::write_u32(arg, self.pty.index)?;
                Ok(0)
            }
            io::TIOCGPTPEER => {
                // Linux 4.13: the slave opened from the master, no path lookup.
                const O_NOCTTY: u32 = 0o400;
                let keep = OpenFlags::ACCMODE | OpenFlags::NONBLOCK | OpenFlags::CLOEXEC | O_NOCTTY;
                let flags = OpenFlags(arg as u32 & keep);
                let f = open_slave(self.pty.index, flags)?;
                let cloexec = flags.0 & OpenFlags::CLOEXEC != 0;
                let fd = crate::process::current().process.files.lock().insert(f, cloexec, 0)?;
                Ok(fd as usize)
            }
            io::TIOCSPTLCK => {
                let lock = crate::uaccess::read_u32(arg)? != 0;
                self.pty.locked.store(lock, Ordering::Release);
                Ok(0)
            }
            _ => self.pty.slave.ioctl(cmd, arg, true),
        }
    }

    fn flags(&self) -> OpenFlags {
        OpenFlags(self.flags.load(Ordering::Relaxed))
    }

    fn set_status_flags(&self, flags: u32) {
        let old = self.flags.load(Ordering::Relaxed);
        self.flags.store((old & !SETFL_MASK) | (flags & SETFL_MASK), Ordering::Relaxed);
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.pty.out.buf.lock().len())
    }
}

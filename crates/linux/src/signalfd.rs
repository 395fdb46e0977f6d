//! signalfd(2) and signalfd4: pending signals read as
//! `struct signalfd_siginfo` records (128 bytes each).
//!
//! ```text
//!  signal::send ─▶ thread or process pending set ─▶ process.signal_pollq.notify
//!  read(signalfd) ─▶ signal::dequeue(mask): takes the next pending signal
//!                    of the mask, so it is not delivered as well
//! ```
//! As on Linux, a signalfd reads the signals of the thread that reads it
//! (its own, then its process's; not its creator's), with their sender
//! details; a standard signal sent twice before a read is read once,
//! real-time signals queue.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

use vfs::Stat;

use crate::errno::{EAGAIN, EINVAL, Errno, SysResult};
use crate::file::{AnonFlags, File, OpenFlags, POLLIN};
use crate::pollq::{PollQueue, Poller};
use crate::signal::{SIGKILL, SIGSTOP};

/// sizeof(struct signalfd_siginfo).
const SIGINFO_SIZE: usize = 128;
/// SFD_CLOEXEC and SFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.
const SFD_CLOEXEC: u32 = OpenFlags::CLOEXEC;
const SFD_NONBLOCK: u32 = OpenFlags::NONBLOCK;

pub struct SignalFd {
    mask: AtomicU64,
    flags: AnonFlags,
    _census: crate::census::Token,
}

impl SignalFd {
    fn mask(&self) -> u64 {
        self.mask.load(Ordering::Acquire)
    }
}

impl File for SignalFd {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let room = buf.len() / SIGINFO_SIZE;
        if room == 0 {
            return Err(EINVAL);
        }
        let t = crate::process::current();
        let poller = Poller::new();
        let observer = poller.observer();
        t.process.signal_pollq.subscribe(observer.clone());
        let mut got: Vec<crate::signal::SigInfo> = Vec::new();
        let r = loop {
            while got.len() < room {
                match crate::signal::dequeue(&t, self.mask()) {
                    Some(info) => got.push(info),
                    None => break,
                }
            }
            if !got.is_empty() {
                break Ok(());
            }
            if self.flags.is_nonblock() {
                break Err(EAGAIN);
            }
            match poller.wait(None, &t) {
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        t.process.signal_pollq.unsubscribe(&observer);
        r?;
        for (i, info) in got.iter().enumerate() {
            buf[i * SIGINFO_SIZE..(i + 1) * SIGINFO_SIZE].copy_from_slice(&record(info));
        }
        Ok(got.len() * SIGINFO_SIZE)
    }

    fn poll(&self) -> u16 {
        let t = crate::process::current();
        if crate::signal::pending_for(&t) & self.mask() != 0 { POLLIN } else { 0 }
    }

    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        Some(crate::process::current().process.signal_pollq.clone())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::file::anon_stat())
    }

    fn flags(&self) -> OpenFlags {
        self.flags.get()
    }

    fn set_status_flags(&self, flags: u32) {
        self.flags.set_status(flags);
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// `struct signalfd_siginfo` for `info`, as Linux's signalfd_copyinfo
/// lays out each kind of siginfo.
fn record(info: &crate::signal::SigInfo) -> [u8; SIGINFO_SIZE] {
    let mut r = [0u8; SIGINFO_SIZE];
    let mut put = |off: usize, b: &[u8]| r[off..off + b.len()].copy_from_slice(b);
    put(0, &info.signo.to_le_bytes());
    put(8, &info.code.to_le_bytes());
    if info.is_fault() {
        put(72, &info.fields[0].to_le_bytes()); // ssi_addr
    } else {
        put(12, &info.pid().to_le_bytes());
        put(16, &info.uid().to_le_bytes());
        if info.signo == crate::signal::SIGCHLD && info.code > 0 {
            put(40, &(info.fields[1] as u32).to_le_bytes()); // ssi_status
        } else {
            put(44, &(info.fields[1] as u32).to_le_bytes()); // ssi_int
            put(48, &info.fields[1].to_le_bytes()); // ssi_ptr
        }
    }
    r
}

/// signalfd4(2): `fd` -1 makes a new signalfd, otherwise replaces the mask
/// of the signalfd `fd`. SIGKILL and SIGSTOP are silently left out.
pub fn signalfd4(fd: i32, mask: u64, size: usize, flags: u32) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let m = crate::uaccess::read_u64(mask)? & !((1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1)));
    if flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 {
        return Err(EINVAL);
    }
    if fd == -1 {
        let f = Arc::new(SignalFd {
            mask: AtomicU64::new(m),
            flags: AnonFlags::new(flags & SFD_NONBLOCK != 0),
            _census: crate::census::Token::new(crate::census::Kind::Signalfd),
        });
        return crate::file::install(f, flags & SFD_CLOEXEC != 0);
    }
    let f = crate::process::current().process.files.lock().get(fd)?;
    let sfd = f.as_any().and_then(|a| a.downcast_ref::<SignalFd>()).ok_or(EINVAL)?;
    sfd.mask.store(m, Ordering::Release);
    // Newly selected signals may already be pending.
    crate::process::current().process.signal_pollq.notify(0);
    Ok(fd as usize)
}

/// signalfd(2): signalfd4 without flags.
pub fn signalfd(fd: i32, mask: u64, size: usize) -> SysResult {
    signalfd4(fd, mask, size, 0)
}

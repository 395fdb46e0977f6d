//! signalfd(2) and signalfd4: pending signals read as
//! `struct signalfd_siginfo` records (128 bytes each).
//!
//! ```text
//!  signal::send ─▶ process.pending |= bit ─▶ process.signal_pollq.notify
//!  read(signalfd) ─▶ signal::dequeue(mask): takes the lowest pending signal
//!                    of the mask, so it is not delivered as well
//! ```
//! As on Linux, a signalfd reads the signals of the process that reads it
//! (not of its creator). Ferrite keeps one pending bit per signal and no
//! sender details, so `ssi_pid`, `ssi_uid` and `ssi_code` are 0 (SI_USER)
//! and a signal sent twice before a read is read once (as for standard
//! signals on Linux; real-time signals would queue there).

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
        let mut got: Vec<i32> = Vec::new();
        let r = loop {
            while got.len() < room {
                match crate::signal::dequeue(&t, self.mask()) {
                    Some(sig) => got.push(sig),
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
        for (i, &sig) in got.iter().enumerate() {
            // ssi_signo, ssi_errno, ssi_code; the rest (sender, fault
            // details) is zero here.
            let rec = &mut buf[i * SIGINFO_SIZE..(i + 1) * SIGINFO_SIZE];
            rec.fill(0);
            rec[0..4].copy_from_slice(&(sig as u32).to_le_bytes());
        }
        Ok(got.len() * SIGINFO_SIZE)
    }

    fn poll(&self) -> u16 {
        let t = crate::process::current();
        if t.process.pending.load(Ordering::Acquire) & self.mask() != 0 { POLLIN } else { 0 }
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
        let f = Arc::new(SignalFd { mask: AtomicU64::new(m), flags: AnonFlags::new(flags & SFD_NONBLOCK != 0) });
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

//! eventfd(2): a 64-bit counter as a file, for wake-ups between threads
//! and processes (and with epoll).
//!
//! ```text
//!  write(v) ─▶ counter += v (blocks while it would pass u64::MAX - 1)
//!  read     ─▶ counter (EFD_SEMAPHORE: 1), counter -= that (blocks at 0)
//!  poll     ─▶ POLLIN if counter > 0, POLLOUT if a write of 1 would fit
//! ```

use alloc::sync::Arc;
use core::any::Any;

use kbase::sync::SpinLock;
use kbase::task::WaitQueue;
use linux_raw_sys::general::{EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE};
use vfs::Stat;

use crate::errno::{EAGAIN, EINTR, EINVAL, Errno, SysResult};
use crate::file::{AnonFlags, File, OpenFlags, POLLERR, POLLIN, POLLOUT};
use crate::pollq::PollQueue;

/// The largest value the counter may hold.
const MAX: u64 = u64::MAX - 1;

pub struct EventFd {
    count: SpinLock<u64>,
    is_semaphore: bool,
    flags: AnonFlags,
    /// Blocked readers and writers.
    changed: WaitQueue,
    pollq: Arc<PollQueue>,
    _census: crate::census::Token,
}

impl EventFd {
    /// Waits until `step(count)` gives a result; `step` may change the
    /// counter. EAGAIN instead of waiting for O_NONBLOCK, EINTR on signals.
    fn wait_for(&self, mut step: impl FnMut(&mut u64) -> Option<u64>) -> Result<u64, Errno> {
        let nonblock = self.flags.is_nonblock();
        let t = crate::process::current();
        let r = self.changed.wait_until(|| {
            if let Some(v) = step(&mut *self.count.lock()) {
                return Some(Ok(v));
            }
            if nonblock {
                return Some(Err(EAGAIN));
            }
            crate::signal::has_pending(&t).then_some(Err(EINTR))
        })?;
        self.changed.wake_all();
        Ok(r)
    }
}

impl File for EventFd {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let out = buf.get_mut(..8).ok_or(EINVAL)?;
        let v = self.wait_for(|c| {
            (*c > 0).then(|| {
                let v = if self.is_semaphore { 1 } else { *c };
                *c -= v;
                v
            })
        })?;
        self.pollq.notify(POLLOUT.into());
        out.copy_from_slice(&v.to_le_bytes());
        Ok(8)
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let b: [u8; 8] = data.get(..8).and_then(|b| b.try_into().ok()).ok_or(EINVAL)?;
        let v = u64::from_le_bytes(b);
        if v == u64::MAX {
            return Err(EINVAL);
        }
        self.wait_for(|c| {
            (MAX - *c >= v).then(|| {
                *c += v;
                v
            })
        })?;
        self.pollq.notify(POLLIN.into());
        Ok(8)
    }

    fn poll(&self) -> u16 {
        let c = *self.count.lock();
        let mut ev = 0;
        if c > 0 {
            ev |= POLLIN;
        }
        if c < MAX {
            ev |= POLLOUT;
        }
        if c == u64::MAX {
            ev |= POLLERR;
        }
        ev
    }

    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        Some(self.pollq.clone())
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

/// eventfd2(2): EFD_CLOEXEC, EFD_NONBLOCK and EFD_SEMAPHORE.
pub fn eventfd2(initval: u32, flags: u32) -> SysResult {
    if flags & !(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(EINVAL);
    }
    let f = Arc::new(EventFd {
        count: SpinLock::new(u64::from(initval)),
        is_semaphore: flags & EFD_SEMAPHORE != 0,
        flags: AnonFlags::new(flags & EFD_NONBLOCK != 0),
        changed: WaitQueue::new(),
        pollq: Arc::new(PollQueue::new()),
        _census: crate::census::Token::new(crate::census::Kind::Eventfd),
    });
    crate::file::install(f, flags & EFD_CLOEXEC != 0)
}

/// eventfd(2): no flags.
pub fn eventfd(initval: u32) -> SysResult {
    eventfd2(initval, 0)
}

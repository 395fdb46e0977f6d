//! The pure parts of AF_UNIX sockets (unix(7)), kept apart from the kernel
//! so that they are tested on the host.
//!
//! ```text
//!   addr     sockaddr_un  ──parse──▶ UnixAddr { Unnamed | Path | Abstract }
//!                         ◀─encode──   (the bytes getsockname returns)
//!   queue    StreamQueue: bytes in segments, each with a sender key and
//!                         optional ancillary data (SCM_RIGHTS files)
//!            MsgQueue:    whole messages (SOCK_DGRAM, SOCK_SEQPACKET),
//!                         truncated to the reader's buffer
//!   backlog  Backlog:     pending connections of a listening socket,
//!                         listen(2)'s clamp and "full" rule
//!   bufsize  SO_SNDBUF / SO_RCVBUF arithmetic
//!   Timeout  SO_RCVTIMEO / SO_SNDTIMEO's struct timeval rules
//!   gc       Graph:       sockets in flight and the queues that hold
//!                         them; finds the ones only in-flight messages
//!                         reach (SCM_RIGHTS cycles), as unix_gc does
//! ```
//! The ancillary data and the pending-connection type are the caller's
//! (the kernel stores open files and sockets there), so nothing here
//! knows about descriptors or locks.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod addr;
pub mod backlog;
pub mod gc;
pub mod queue;

pub use addr::{AddrError, UnixAddr};
pub use backlog::Backlog;
pub use queue::{MsgQueue, StreamQueue, StreamRead};


/// net.core.somaxconn's default (Linux 5.4 and later): the largest backlog.
pub const SOMAXCONN: u32 = 4096;
/// net.core.wmem_max / rmem_max and wmem_default / rmem_default (Linux's
/// defaults): the largest SO_SNDBUF/SO_RCVBUF argument and the initial size.
pub const BUF_MAX: u32 = 212_992;
/// Linux's SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF on x86_64.
pub const MIN_SNDBUF: u32 = 4608;
pub const MIN_RCVBUF: u32 = 2304;
/// net.unix.max_dgram_qlen's default: a datagram receiver whose queue holds
/// more than this many messages is full (for senders it is not connected to).
pub const MAX_DGRAM_QLEN: usize = 10;
/// SCM_MAX_FD: the most descriptors one SCM_RIGHTS message may carry.
pub const SCM_MAX_FD: usize = 253;

/// The buffer size that `setsockopt(SO_SNDBUF/SO_RCVBUF, val)` stores and
/// getsockopt reports: `val` (as unsigned) capped at [`BUF_MAX`], doubled
/// for the kernel's bookkeeping, and at least `min` (sock_setsockopt).
pub fn buf_size(val: i32, min: u32) -> u32 {
    let v = (val as u32).min(BUF_MAX);
    (v * 2).max(min)
}

/// How long a blocking call waits (SO_RCVTIMEO / SO_SNDTIMEO).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Timeout {
    /// The default, and what a zero timeval sets.
    #[default]
    Forever,
    /// Microseconds; 0 (a negative tv_sec) fails at once, as a
    /// non-blocking call does.
    Usec(u64),
}

/// Why a timeval was refused: EINVAL (too short) or EDOM (tv_usec
/// outside 0..1000000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutError {
    Inval,
    Dom,
}

impl Timeout {
    /// sock_set_timeout: a 16-byte `struct timeval` (both the old and the
    /// y2038 option names take it on x86_64).
    pub fn parse(val: &[u8]) -> Result<Self, TimeoutError> {
        let b: &[u8; 16] = val.get(..16).and_then(|b| b.try_into().ok()).ok_or(TimeoutError::Inval)?;
        let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        let usec = i64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
        if !(0..1_000_000).contains(&usec) {
            return Err(TimeoutError::Dom);
        }
        if sec < 0 {
            return Ok(Self::Usec(0));
        }
        if sec == 0 && usec == 0 {
            return Ok(Self::Forever);
        }
        Ok(Self::Usec((sec as u64).saturating_mul(1_000_000).saturating_add(usec as u64)))
    }

    /// The timeval getsockopt gives back (zero for Forever).
    pub fn encode(self) -> [u8; 16] {
        let us = match self {
            Self::Forever => 0,
            Self::Usec(us) => us,
        };
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&(us / 1_000_000).to_le_bytes());
        out[8..].copy_from_slice(&(us % 1_000_000).to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tv(sec: i64, usec: i64) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&sec.to_le_bytes());
        b[8..].copy_from_slice(&usec.to_le_bytes());
        b
    }

    #[test]
    fn timeouts_follow_sock_set_timeout() {
        assert_eq!(Timeout::parse(&tv(0, 0)), Ok(Timeout::Forever));
        assert_eq!(Timeout::parse(&tv(1, 500_000)), Ok(Timeout::Usec(1_500_000)));
        assert_eq!(Timeout::parse(&tv(-5, 0)), Ok(Timeout::Usec(0)));
        assert_eq!(Timeout::parse(&tv(0, 1_000_000)), Err(TimeoutError::Dom));
        assert_eq!(Timeout::parse(&tv(0, -1)), Err(TimeoutError::Dom));
        assert_eq!(Timeout::parse(&tv(1, 0)[..15]), Err(TimeoutError::Inval));
        assert_eq!(Timeout::Usec(1_500_000).encode(), tv(1, 500_000));
        assert_eq!(Timeout::Forever.encode(), tv(0, 0));
    }

    #[test]
    fn buf_size_doubles_caps_and_floors() {
        assert_eq!(buf_size(10_000, MIN_SNDBUF), 20_000);
        assert_eq!(buf_size(1, MIN_SNDBUF), MIN_SNDBUF);
        assert_eq!(buf_size(0, MIN_RCVBUF), MIN_RCVBUF);
        assert_eq!(buf_size(i32::MAX, MIN_SNDBUF), 2 * BUF_MAX);
        // A negative value is a huge unsigned one: capped, not floored.
        assert_eq!(buf_size(-1, MIN_SNDBUF), 2 * BUF_MAX);
    }
}

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
//! ```
//! The ancillary data and the pending-connection type are the caller's
//! (the kernel stores open files and sockets there), so nothing here
//! knows about descriptors or locks.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod addr;
pub mod backlog;
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

#[cfg(test)]
mod tests {
    use super::*;

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

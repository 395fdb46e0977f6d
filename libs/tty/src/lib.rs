//! Terminals without hardware: the Linux N_TTY line discipline as a pure
//! state machine, plus the job-control rules a tty applies to its readers
//! and writers.
//!
//! ```text
//!  device input ─▶ LineDiscipline::receive(byte) ─▶ Some(Signal) for ISIG chars
//!                        │   input flags (ISTRIP, IGNCR, ICRNL, INLCR, IXON)
//!                        │   canonical editing (ERASE, KILL, WERASE, EOF, LNEXT)
//!                        ├─▶ echo bytes  ──take_echo()──▶ device output
//!                        └─▶ read queue  ──read(buf, timed_out)──▶ Read::{Done, Block, BlockFor}
//!  write(data) ─▶ LineDiscipline::process_output (OPOST, ONLCR, OCRNL, XTABS) ─▶ device output
//! ```
//! [`termios`] encodes the kernel's `struct termios` (36 bytes) and gives
//! Linux's default settings; [`jobctl`] decides SIGTTIN/SIGTTOU/EIO for
//! background access. Every buffer is bounded ([`ldisc::BUF_SIZE`]) and no
//! input panics. The kernel wraps one [`LineDiscipline`] per terminal
//! (the serial console, each pseudo-terminal slave) in a lock.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

/// Background-process rules for read, write and tty-changing ioctls.
pub mod jobctl;
/// The line discipline state machine.
pub mod ldisc;
/// `struct termios` encoding and Linux's default settings.
pub mod termios;

pub use ldisc::{LineDiscipline, Read, Signal};
pub use termios::Termios;

#[cfg(test)]
mod tests;

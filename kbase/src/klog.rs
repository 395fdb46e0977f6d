//! The kernel log ring: what `dmesg` reads through syslog(2).
//!
//! ```text
//!  log records (info!, warn!, ...) and kprintln! lines
//!     ──▶ "<level>[    s.micros] text\n" appended to RING (64 KiB)
//!         the oldest bytes are overwritten when it is full
//!  syslog(2) READ_ALL: the newest whole lines that fit   (not consumed)
//!            READ:     from the reader's cursor on       (consumed)
//!            CLEAR:    READ_ALL starts after what is there now
//! ```
//! The ring is a fixed static array, so logging works before the heap
//! and from interrupt handlers (the lock masks interrupts).

use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::sync::SpinLock;
use crate::time;

/// Bytes the ring holds (syslog's SIZE_BUFFER).
pub const SIZE: usize = 1 << 16;

struct Ring {
    buf: [u8; SIZE],
    /// Bytes ever written: byte `i` of the log is at `buf[i % SIZE]`
    /// while `i >= written - SIZE`.
    written: u64,
    /// Where READ_ALL starts (CLEAR moves it to `written`).
    clear_at: u64,
    /// Where the next READ starts.
    read_at: u64,
}

static RING: SpinLock<Ring> = SpinLock::new(Ring { buf: [0; SIZE], written: 0, clear_at: 0, read_at: 0 });

impl Ring {
    fn oldest(&self) -> u64 {
        self.written.saturating_sub(SIZE as u64)
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let i = (self.written % SIZE as u64) as usize;
            let n = bytes.len().min(SIZE - i);
            if let Some(dst) = self.buf.get_mut(i..i + n) {
                dst.copy_from_slice(&bytes[..n]);
            }
            bytes = &bytes[n..];
            self.written += n as u64;
        }
    }

    /// Bytes `[from, to)` of the log (both within the ring): at most two
    /// runs of the array.
    fn copy(&self, from: u64, to: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(to.saturating_sub(from) as usize);
        let mut at = from;
        while at < to {
            let i = (at % SIZE as u64) as usize;
            let n = ((to - at) as usize).min(SIZE - i);
            out.extend_from_slice(self.buf.get(i..i + n).unwrap_or_default());
            at += n as u64;
        }
        out
    }
}

impl Write for Ring {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Appends one line: `<level>[    s.micros] ` then `args` and a newline.
/// `level` is syslog's (3 error, 4 warning, 6 info, 7 debug).
pub fn record(level: u8, args: fmt::Arguments<'_>) {
    let ns = time::uptime_ns();
    let mut r = RING.lock();
    let _ = write!(r, "<{level}>[{:5}.{:06}] {args}\n", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000);
}

/// The newest whole lines since the last clear that fit in `max` bytes
/// (syslog READ_ALL); `clear` also clears (READ_CLEAR).
pub fn read_all(max: usize, clear: bool) -> Vec<u8> {
    let mut r = RING.lock();
    let from = r.clear_at.max(r.oldest());
    let mut start = r.written.saturating_sub(max as u64).max(from);
    // Start at a line boundary: the start of the log and the clear point
    // are; a point inside the ring (overwritten or cut by `max`) may not be.
    if start != 0 && start != r.clear_at {
        let oldest = r.oldest();
        // The byte before `start` must be a newline still in the ring.
        while start < r.written {
            let prev = start - 1;
            if prev >= oldest && r.buf.get((prev % SIZE as u64) as usize) == Some(&b'\n') {
                break;
            }
            start += 1;
        }
    }
    let out = r.copy(start, r.written);
    if clear {
        r.clear_at = r.written;
    }
    out
}

/// SYSLOG_ACTION_CLEAR.
pub fn clear() {
    let mut r = RING.lock();
    r.clear_at = r.written;
}

/// Bytes a READ would return now (SIZE_UNREAD).
pub fn unread() -> usize {
    let r = RING.lock();
    (r.written - r.read_at.max(r.oldest())) as usize
}

/// Takes up to `max` unread bytes (syslog READ, without the wait).
pub fn read(max: usize) -> Vec<u8> {
    let mut r = RING.lock();
    let from = r.read_at.max(r.oldest());
    let to = r.written.min(from + max as u64);
    let out = r.copy(from, to);
    r.read_at = to;
    out
}

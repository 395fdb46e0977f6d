//! The console terminal (first part): interrupt-driven input from COM1, the
//! foreground process group, and ^C / ^\ as SIGINT / SIGQUIT to it.
//!
//! ```text
//!  COM1 IRQ ─▶ rx_hook (interrupt context): bytes → INPUT, wake readers;
//!              ^C / ^\ → flag, wake the signaller task
//!  signaller (kernel task) ─▶ SIGINT/SIGQUIT to the foreground group
//!  read(console) ─▶ waits on INPUT (interruptible), CR → NL
//! ```
//! The line discipline proper (canonical mode, echo, erase/kill, VMIN/VTIME,
//! job-control stops) is the tty work of issue 4; until then the console
//! behaves like a raw terminal, which suits programs that edit lines
//! themselves (busybox sh).

use alloc::collections::VecDeque;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use kbase::sync::SpinLock;
use kbase::task::WaitQueue;

use crate::errno::{EINTR, Errno};

const INPUT_MAX: usize = 4096;

static INPUT: SpinLock<VecDeque<u8>> = SpinLock::new(VecDeque::new());
static READERS: WaitQueue = WaitQueue::new();
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static SIGNALLER: WaitQueue = WaitQueue::new();
static IRQ_MODE: AtomicBool = AtomicBool::new(false);
/// Foreground process group of the console (0: none set yet).
static FG_PGID: AtomicU32 = AtomicU32::new(0);

/// Turns on interrupt-driven input and starts the signaller task.
pub fn init() {
    if kbase::arch::serial::enable_rx_interrupts(rx_hook) {
        IRQ_MODE.store(true, Ordering::Release);
        let _ = kbase::task::spawn("tty-signal", signaller);
    } else {
        log::warn!("tty: no COM1 receive interrupt; console input is polled");
    }
}

/// Interrupt context: must not sleep.
fn rx_hook(bytes: &[u8]) {
    let mut raised = 0;
    {
        let mut input = INPUT.lock();
        for &b in bytes {
            match b {
                0x03 => raised = crate::signal::SIGINT,
                0x1c => raised = crate::signal::SIGQUIT,
                _ if input.len() < INPUT_MAX => input.push_back(b),
                _ => {}
            }
        }
    }
    READERS.wake_all();
    if raised != 0 {
        SIGNAL.store(raised, Ordering::Release);
        SIGNALLER.wake_all();
    }
}

fn signaller() {
    loop {
        let sig = SIGNALLER.wait_until(|| match SIGNAL.swap(0, Ordering::AcqRel) {
            0 => None,
            s => Some(s),
        });
        let fg = FG_PGID.load(Ordering::Acquire);
        for p in crate::process::all() {
            let pg = p.pgid.load(Ordering::Relaxed);
            // With no foreground group set, everything but init gets it.
            if (fg != 0 && pg == fg) || (fg == 0 && p.pid != 1) {
                crate::signal::send(&p, sig);
            }
        }
    }
}

/// Reads console input into `buf` (at least one byte, CR as NL).
pub fn read(buf: &mut [u8]) -> Result<usize, Errno> {
    if !IRQ_MODE.load(Ordering::Acquire) {
        return read_polled(buf);
    }
    let t = crate::process::current();
    READERS.wait_until(|| {
        let mut input = INPUT.lock();
        if !input.is_empty() {
            let n = buf.len().min(input.len());
            for (i, b) in input.drain(..n).enumerate() {
                buf[i] = if b == b'\r' { b'\n' } else { b };
            }
            return Some(Ok(n));
        }
        drop(input);
        crate::signal::has_pending(&t).then_some(Err(EINTR))
    })
}

fn read_polled(buf: &mut [u8]) -> Result<usize, Errno> {
    let t = crate::process::current();
    loop {
        let mut n = 0;
        while n < buf.len() {
            match kbase::arch::serial::try_read() {
                Some(b) => {
                    buf[n] = if b == b'\r' { b'\n' } else { b };
                    n += 1;
                }
                None => break,
            }
        }
        if n > 0 {
            return Ok(n);
        }
        let deadline = kbase::time::uptime_ns() + 10_000_000;
        if kbase::task::sleep_until_or(deadline, || crate::signal::has_pending(&t)) {
            return Err(EINTR);
        }
    }
}

/// Whether a read would return data now.
pub fn has_input() -> bool {
    if IRQ_MODE.load(Ordering::Acquire) { !INPUT.lock().is_empty() } else { kbase::arch::serial::has_input() }
}

pub fn foreground_pgid() -> u32 {
    FG_PGID.load(Ordering::Acquire)
}

pub fn set_foreground_pgid(pgid: u32) {
    FG_PGID.store(pgid, Ordering::Release);
}

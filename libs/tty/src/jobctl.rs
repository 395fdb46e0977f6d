//! What a terminal does when a process that is not in its foreground
//! process group touches it (Linux `tty_check_change` and `__tty_check_change`,
//! n_tty_read's `job_control`; credentials.7, "Job control"):
//!
//! ```text
//!  read  from background  ─▶ SIGTTIN ignored/blocked or orphaned group: EIO
//!                            else SIGTTIN to the group, restart after the stop
//!  write from background, TOSTOP set ─▶ SIGTTOU ignored/blocked: write goes through
//!                            orphaned group: EIO; else SIGTTOU to the group
//!  tcsetattr/TIOCSPGRP/... from background: as a TOSTOP write, whatever TOSTOP says
//! ```
//! Only callers for which this tty is the controlling terminal are checked.

/// The caller's relation to the terminal.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    /// The terminal is the caller's controlling terminal.
    pub is_ctty: bool,
    /// The caller's process group is the terminal's foreground group (or the
    /// terminal has none).
    pub in_foreground: bool,
    /// The signal that would be sent (SIGTTIN/SIGTTOU) is ignored or blocked.
    pub signal_ignored: bool,
    /// The caller's process group is orphaned (no parent in the session
    /// outside the group): a stop would never be undone.
    pub orphaned: bool,
}

/// The verdict for one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allow,
    /// Send the signal (SIGTTIN or SIGTTOU) to the caller's process group and
    /// restart the call once it is continued (EINTR, then restart).
    Signal,
    /// Fail with EIO.
    Eio,
}

/// A read(2) of the terminal.
pub fn read(c: Caller) -> Verdict {
    if !c.is_ctty || c.in_foreground {
        Verdict::Allow
    } else if c.signal_ignored || c.orphaned {
        Verdict::Eio
    } else {
        Verdict::Signal
    }
}

/// A write(2) (`tostop`: TOSTOP is set) or, with `tostop` true, an ioctl that
/// changes the terminal (TCSETS*, TIOCSPGRP, TCFLSH, TIOCSWINSZ, ...).
pub fn write_or_change(c: Caller, tostop: bool) -> Verdict {
    if !tostop || !c.is_ctty || c.in_foreground || c.signal_ignored {
        Verdict::Allow
    } else if c.orphaned {
        Verdict::Eio
    } else {
        Verdict::Signal
    }
}

//! Signals (first part): dispositions are stored and reported, fatal
//! signals from faults and kill(2) end the process with the right wait
//! status. Handler delivery (signal frames, sigreturn) is the next step.

use crate::errno::{EINVAL, Errno};

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGSTOP: i32 = 19;
pub const NSIG: usize = 64;

/// struct sigaction as the kernel ABI sees it (rt_sigaction).
#[derive(Clone, Copy, Default)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

#[derive(Clone)]
pub struct SigActions(pub [SigAction; NSIG]);

impl Default for SigActions {
    fn default() -> Self {
        Self([SigAction::default(); NSIG])
    }
}

impl SigActions {
    /// execve: caught signals go back to their default action.
    pub fn reset_for_exec(&mut self) {
        for a in self.0.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
    }
}

/// Validates a signal number (1..=64).
pub fn check(sig: i32) -> Result<usize, Errno> {
    if (1..=NSIG as i32).contains(&sig) { Ok(sig as usize - 1) } else { Err(EINVAL) }
}

/// Whether the default action of `sig` ends the process.
pub fn default_is_fatal(sig: i32) -> bool {
    !matches!(sig, SIGCHLD | 18 | SIGSTOP | 20 | 21 | 22 | 23 | 28)
}

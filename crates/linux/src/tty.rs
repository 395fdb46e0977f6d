//! Terminals: a [`Tty`] is one `libs/tty` line discipline plus the
//! session, foreground process group and window size of a terminal, in
//! front of a [`Device`] (the COM1 serial console, or a pseudo-terminal's
//! master side, see `pty.rs`).
//!
//! ```text
//!  COM1 IRQ ─▶ rx_hook (interrupt context, no sleeping): bytes → line discipline
//!              under its spin lock; echo → serial; ISIG char → SIGNALLER task
//!  pty master write ─▶ Tty::input (task context): same, signals sent directly
//!  read(tty)  ─▶ job control (SIGTTIN / EIO) ─▶ LineDiscipline::read: Done | Block | BlockFor
//!  write(tty) ─▶ job control (TOSTOP: SIGTTOU) ─▶ OPOST processing ─▶ Device::output
//! ```
//! Controlling terminals follow Linux: a session leader without one that
//! opens a terminal without `O_NOCTTY` acquires it (never `/dev/console`
//! or `/dev/tty`), or takes it with TIOCSCTTY; `setsid` leaves it behind;
//! the session leader's exit or TIOCNOTTY releases it (SIGHUP and SIGCONT
//! to the foreground group). The session table maps a session id to its
//! terminal, so every process of a session shares one controlling tty.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use kbase::sync::{Once, SpinLock};
use kbase::task::WaitQueue;
use linux_raw_sys::general as g;
use linux_raw_sys::ioctl as io;
use ::tty::jobctl::{self, Caller, Verdict};
use ::tty::termios::{self, WinSize};
use ::tty::{LineDiscipline, Read};
use vfs::{Ino, Stat};

use crate::errno::{EAGAIN, EINTR, EINVAL, EIO, ENOTTY, ENXIO, EPERM, ESRCH, Errno};
use crate::file::{File, OpenFlags, POLLHUP, POLLIN, POLLOUT, SETFL_MASK};
use crate::process::{self, Process, Thread};
use crate::uaccess;

/// Where a terminal's output goes.
pub trait Device: Send + Sync {
    /// Takes output-processed bytes; returns how many fit (a pty master's
    /// buffer may be full; the serial port always takes everything).
    fn output(&self, bytes: &[u8]) -> usize;
    /// Discards output not yet delivered (signal characters, TCOFLUSH).
    fn flush_output(&self) {}
    /// Bytes written but not yet delivered (TIOCOUTQ).
    fn pending_output(&self) -> usize {
        0
    }
    /// The other side is gone (pty master closed): reads see end of file,
    /// writes fail with EIO.
    fn is_hung_up(&self) -> bool {
        false
    }
}

/// One terminal.
pub struct Tty {
    ld: SpinLock<LineDiscipline>,
    winsize: SpinLock<WinSize>,
    /// Foreground process group (0: none).
    fg_pgid: AtomicU32,
    /// The session this is the controlling terminal of (0: none).
    session: AtomicU32,
    /// Readers: input arrived, or a hangup.
    pub input_wait: WaitQueue,
    /// Writers: output room, or output restarted (VSTART).
    pub output_wait: WaitQueue,
    /// poll and epoll: told at every wake-up of the two queues above (and
    /// when a pty master may read).
    pub pollq: Arc<crate::pollq::PollQueue>,
    device: Box<dyn Device>,
    /// Device number, for stat.
    rdev: u64,
}

/// Controlling terminal of each session (by session id).
static SESSIONS: SpinLock<BTreeMap<u32, Weak<Tty>>> = SpinLock::new(BTreeMap::new());

impl Tty {
    pub fn new(device: Box<dyn Device>, rdev: u64) -> Arc<Self> {
        Self::with_pollq(device, rdev, Arc::new(crate::pollq::PollQueue::new()))
    }

    /// A terminal whose poll queue is `pollq` (a pty shares one queue
    /// between its slave and its master).
    pub fn with_pollq(device: Box<dyn Device>, rdev: u64, pollq: Arc<crate::pollq::PollQueue>) -> Arc<Self> {
        Arc::new(Self {
            ld: SpinLock::new(LineDiscipline::default()),
            winsize: SpinLock::new(WinSize { rows: 24, cols: 80, xpixel: 0, ypixel: 0 }),
            fg_pgid: AtomicU32::new(0),
            session: AtomicU32::new(0),
            input_wait: WaitQueue::new(),
            output_wait: WaitQueue::new(),
            pollq,
            device,
            rdev,
        })
    }

    /// Device input (any context; must not sleep): runs the line
    /// discipline, sends the echo, wakes readers. Returns the signal a
    /// signal character asks for; the caller sends it ([`Tty::signal_foreground`]).
    pub fn input(&self, bytes: &[u8]) -> Option<u32> {
        let mut raised = None;
        let echo = {
            let mut ld = self.ld.lock();
            for &b in bytes {
                if let Some(s) = ld.receive(b) {
                    if s.flush {
                        self.device.flush_output();
                    }
                    raised = Some(s.sig);
                }
            }
            ld.take_echo()
        };
        if !echo.is_empty() {
            self.device.output(&echo);
        }
        self.input_wait.wake_all();
        self.pollq.notify(0);
        self.output_wait.wake_all();
        self.pollq.notify(0);
        raised
    }

    /// Room in the input buffer (pty master writes wait for it).
    pub fn input_room(&self) -> usize {
        self.ld.lock().input_room()
    }

    /// Sends `sig` to every process of the foreground group.
    pub fn signal_foreground(&self, sig: u32) {
        let fg = self.fg_pgid.load(Ordering::Acquire);
        if fg != 0 {
            signal_group(fg, sig);
        }
    }

    /// The other side hung up: wake everyone and signal the session leader.
    pub fn hangup(&self) {
        let sid = self.session.swap(0, Ordering::AcqRel);
        if sid != 0 {
            SESSIONS.lock().remove(&sid);
            if let Some(leader) = process::lookup(sid) {
                crate::signal::send(&leader, g::SIGHUP as i32);
                crate::signal::send(&leader, g::SIGCONT as i32);
            }
        }
        self.fg_pgid.store(0, Ordering::Release);
        self.input_wait.wake_all();
        self.pollq.notify(0);
        self.output_wait.wake_all();
        self.pollq.notify(0);
    }

    fn caller(&self, t: &Thread, sig: u32) -> Caller {
        let p = &t.process;
        let sid = p.sid.load(Ordering::Relaxed);
        let fg = self.fg_pgid.load(Ordering::Acquire);
        let pgid = p.pgid.load(Ordering::Relaxed);
        let is_ctty = sid != 0 && self.session.load(Ordering::Acquire) == sid;
        Caller {
            is_ctty,
            in_foreground: fg == 0 || fg == pgid,
            signal_ignored: crate::signal::is_ignored_or_blocked(t, sig as i32),
            orphaned: is_ctty && fg != pgid && is_orphaned(pgid),
        }
    }

    /// Applies a job-control verdict: Ok to go on, or the error to return.
    fn job_control(&self, t: &Thread, verdict: Verdict, sig: u32) -> Result<(), Errno> {
        match verdict {
            Verdict::Allow => Ok(()),
            Verdict::Eio => Err(EIO),
            Verdict::Signal => {
                signal_group(t.process.pgid.load(Ordering::Relaxed), sig);
                Err(EINTR) // restarted after the stop (see signal::deliver)
            }
        }
    }

    /// Checks a terminal-changing ioctl or a TOSTOP write from the background.
    fn check_change(&self, t: &Thread) -> Result<(), Errno> {
        let c = self.caller(t, g::SIGTTOU);
        self.job_control(t, jobctl::write_or_change(c, true), g::SIGTTOU)
    }

    pub fn read(&self, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        let t = process::current();
        let c = self.caller(&t, g::SIGTTIN);
        self.job_control(&t, jobctl::read(c), g::SIGTTIN)?;
        let mut timed_out = false;
        // (bytes received when the VTIME timer was started, its deadline)
        let mut timer: Option<(u64, u64)> = None;
        loop {
            let (step, seen) = {
                let mut ld = self.ld.lock();
                (ld.read(buf, timed_out), ld.received())
            };
            match step {
                Read::Done(n) => {
                    self.output_wait.wake_all(); // a pty master may write again
                    self.pollq.notify(0);
                    return Ok(n);
                }
                Read::Block => {
                    if self.device.is_hung_up() {
                        return Ok(0);
                    }
                    if nonblock {
                        return Err(EAGAIN);
                    }
                    if !IRQ_MODE.load(Ordering::Acquire) && core::ptr::eq(self, &**console()) {
                        // No receive interrupt: look at the UART every tick.
                        let tick = kbase::time::uptime_ns() + 10_000_000;
                        if kbase::task::sleep_until_or(tick, || crate::signal::has_pending(&t)) {
                            return Err(EINTR);
                        }
                        poll_serial();
                        continue;
                    }
                    self.input_wait.wait_until(|| {
                        if crate::signal::has_pending(&t) {
                            return Some(Err(EINTR));
                        }
                        let changed = self.ld.try_lock().is_none_or(|ld| ld.received() != seen);
                        (changed || self.device.is_hung_up()).then_some(Ok(()))
                    })?;
                }
                Read::BlockFor { deciseconds } => {
                    if nonblock {
                        return Err(EAGAIN);
                    }
                    let now = kbase::time::uptime_ns();
                    let deadline = match timer {
                        Some((at, d)) if at == seen => d,
                        _ => now + u64::from(deciseconds) * 100_000_000,
                    };
                    timer = Some((seen, deadline));
                    if now >= deadline {
                        timed_out = true;
                        continue;
                    }
                    let step_end = deadline.min(now + 10_000_000);
                    let interrupted = kbase::task::sleep_until_or(step_end, || {
                        crate::signal::has_pending(&t)
                    });
                    if interrupted {
                        return Err(EINTR);
                    }
                }
            }
        }
    }

    pub fn write(&self, data: &[u8], nonblock: bool) -> Result<usize, Errno> {
        let t = process::current();
        let tostop = self.ld.lock().termios().c_lflag & g::TOSTOP != 0;
        let c = self.caller(&t, g::SIGTTOU);
        self.job_control(&t, jobctl::write_or_change(c, tostop), g::SIGTTOU)?;
        let mut done = 0;
        while done < data.len() {
            if self.device.is_hung_up() {
                return if done == 0 { Err(EIO) } else { Ok(done) };
            }
            // Output stopped (VSTOP) or the device full: wait.
            let stopped = self.ld.lock().is_output_stopped();
            if !stopped {
                let n = (data.len() - done).min(512);
                let mut out = Vec::with_capacity(n + n / 4);
                let mut ld = self.ld.lock();
                let room = self.device_room();
                // One input byte can become up to 8 (XTABS): stay below the room.
                let take = n.min(room / 8).max(usize::from(room >= 8));
                if take > 0 {
                    ld.process_output(&data[done..done + take], &mut out);
                    drop(ld);
                    self.device.output(&out);
                    done += take;
                    continue;
                }
            }
            if nonblock {
                return if done == 0 { Err(EAGAIN) } else { Ok(done) };
            }
            let r = self.output_wait.wait_until(|| {
                if crate::signal::has_pending(&t) {
                    return Some(Err(EINTR));
                }
                let ready = self.ld.try_lock().is_some_and(|ld| !ld.is_output_stopped()) && self.device_room() >= 8;
                (ready || self.device.is_hung_up()).then_some(Ok(()))
            });
            if let Err(e) = r {
                return if done == 0 { Err(e) } else { Ok(done) };
            }
        }
        Ok(done)
    }

    fn device_room(&self) -> usize {
        OUTPUT_ROOM.saturating_sub(self.device.pending_output())
    }

    pub fn poll(&self) -> u16 {
        let ld = self.ld.lock();
        let mut ev = 0;
        if ld.is_readable() {
            ev |= POLLIN;
        }
        if !ld.is_output_stopped() && self.device_room() >= 8 {
            ev |= POLLOUT;
        }
        drop(ld);
        if self.device.is_hung_up() {
            ev |= POLLHUP | POLLIN;
        }
        ev
    }

    pub fn readable_bytes(&self) -> usize {
        self.ld.lock().readable_bytes()
    }

    /// Makes this the controlling terminal of the caller's session (the
    /// caller must be a session leader without one; the terminal must be free).
    fn set_ctty(self: &Arc<Self>, p: &Process, steal: bool) -> Result<(), Errno> {
        let sid = p.sid.load(Ordering::Relaxed);
        if sid != p.pid {
            return Err(EPERM);
        }
        let cur = self.session.load(Ordering::Acquire);
        if cur == sid {
            return Ok(());
        }
        if ctty_of(p).is_some() {
            return Err(EPERM);
        }
        if cur != 0 {
            // Only root may steal it, and only when asked to (arg 1).
            if !steal {
                return Err(EPERM);
            }
            SESSIONS.lock().remove(&cur);
        }
        self.session.store(sid, Ordering::Release);
        self.fg_pgid.store(p.pgid.load(Ordering::Relaxed), Ordering::Release);
        SESSIONS.lock().insert(sid, Arc::downgrade(self));
        Ok(())
    }

    /// Called on open without O_NOCTTY: a session leader without a
    /// controlling terminal acquires this free one.
    pub fn open_acquire(self: &Arc<Self>, flags: OpenFlags) {
        const O_NOCTTY: u32 = 0o400;
        if flags.0 & O_NOCTTY != 0 || self.session.load(Ordering::Acquire) != 0 {
            return;
        }
        let p = process::current().process.clone();
        if p.sid.load(Ordering::Relaxed) == p.pid && ctty_of(&p).is_none() {
            let _ = self.set_ctty(&p, false);
        }
    }

    /// Releases the terminal from its session (session leader exit,
    /// TIOCNOTTY): SIGHUP and SIGCONT to the foreground group.
    fn disassociate(&self) {
        let sid = self.session.swap(0, Ordering::AcqRel);
        if sid != 0 {
            SESSIONS.lock().remove(&sid);
        }
        let fg = self.fg_pgid.swap(0, Ordering::AcqRel);
        if fg != 0 {
            signal_group(fg, g::SIGHUP);
            signal_group(fg, g::SIGCONT);
        }
    }

    /// The terminal ioctls (tty_ioctl(4), ioctl_tty(2)). `is_master`: the
    /// call came through a pty master, which may always query and set the
    /// slave's state (no controlling-terminal checks).
    pub fn ioctl(self: &Arc<Self>, cmd: u32, arg: u64, is_master: bool) -> Result<usize, Errno> {
        let t = process::current();
        let p = &t.process;
        let is_ctty = self.session.load(Ordering::Acquire) == p.sid.load(Ordering::Relaxed)
            && self.session.load(Ordering::Acquire) != 0;
        match cmd {
            io::TCGETS => {
                let b = termios::to_bytes(&self.ld.lock().termios());
                uaccess::write_bytes(arg, &b)?;
                Ok(0)
            }
            io::TCSETS | io::TCSETSW | io::TCSETSF => {
                let mut b = [0u8; termios::SIZE];
                uaccess::read_into(arg, &mut b)?;
                if !is_master {
                    self.check_change(&t)?;
                }
                let mut ld = self.ld.lock();
                if cmd == io::TCSETSF {
                    ld.flush_input();
                }
                ld.set_termios(termios::from_bytes(&b));
                drop(ld);
                self.input_wait.wake_all();
                self.pollq.notify(0);
                self.output_wait.wake_all();
                self.pollq.notify(0);
                Ok(0)
            }
            io::TIOCGWINSZ => {
                uaccess::write_bytes(arg, &self.winsize.lock().to_bytes())?;
                Ok(0)
            }
            io::TIOCSWINSZ => {
                let mut b = [0u8; WinSize::SIZE];
                uaccess::read_into(arg, &mut b)?;
                let new = WinSize::from_bytes(&b);
                let changed = core::mem::replace(&mut *self.winsize.lock(), new) != new;
                if changed {
                    self.signal_foreground(g::SIGWINCH);
                }
                Ok(0)
            }
            io::TIOCGPGRP => {
                if !is_master && !is_ctty {
                    return Err(ENOTTY);
                }
                uaccess::write_u32(arg, self.fg_pgid.load(Ordering::Acquire))?;
                Ok(0)
            }
            io::TIOCSPGRP => {
                if !is_ctty {
                    return Err(ENOTTY);
                }
                self.check_change(&t)?;
                let pgid = uaccess::read_u32(arg)?;
                let pgid = i32::try_from(pgid).map_err(|_| EINVAL)?;
                if pgid < 0 {
                    return Err(EINVAL);
                }
                let sid = p.sid.load(Ordering::Relaxed);
                let members: Vec<_> = process::all()
                    .into_iter()
                    .filter(|q| q.pgid.load(Ordering::Relaxed) == pgid as u32 && !q.is_zombie())
                    .collect();
                if members.is_empty() {
                    return Err(ESRCH);
                }
                if members.iter().any(|q| q.sid.load(Ordering::Relaxed) != sid) {
                    return Err(EPERM);
                }
                self.fg_pgid.store(pgid as u32, Ordering::Release);
                Ok(0)
            }
            io::TIOCGSID => {
                let sid = self.session.load(Ordering::Acquire);
                if (!is_master && !is_ctty) || sid == 0 {
                    return Err(ENOTTY);
                }
                uaccess::write_u32(arg, sid)?;
                Ok(0)
            }
            io::TIOCSCTTY => {
                if is_master {
                    return Err(EINVAL);
                }
                self.set_ctty(p, arg == 1).map(|_| 0)
            }
            io::TIOCNOTTY => {
                if !is_ctty {
                    return Err(ENOTTY);
                }
                // A session leader gives the terminal up for the whole
                // session; another member keeps sharing its session's one.
                if p.sid.load(Ordering::Relaxed) == p.pid {
                    self.disassociate();
                }
                Ok(0)
            }
            io::TIOCOUTQ => {
                uaccess::write_u32(arg, self.device.pending_output() as u32)?;
                Ok(0)
            }
            io::TCFLSH => {
                if !is_master {
                    self.check_change(&t)?;
                }
                match arg as u32 {
                    g::TCIFLUSH => self.ld.lock().flush_input(),
                    g::TCOFLUSH => self.device.flush_output(),
                    g::TCIOFLUSH => {
                        self.ld.lock().flush_input();
                        self.device.flush_output();
                    }
                    _ => return Err(EINVAL),
                }
                self.output_wait.wake_all();
                self.pollq.notify(0);
                Ok(0)
            }
            io::TCXONC => {
                if !is_master {
                    self.check_change(&t)?;
                }
                match arg as u32 {
                    g::TCOOFF => self.ld.lock().set_output_stopped(true),
                    g::TCOON => self.ld.lock().set_output_stopped(false),
                    g::TCIOFF | g::TCION => {}
                    _ => return Err(EINVAL),
                }
                self.output_wait.wake_all();
                self.pollq.notify(0);
                Ok(0)
            }
            // tcdrain / tcsendbreak: output is never queued in the kernel.
            io::TCSBRK | io::TCSBRKP => Ok(0),
            io::TIOCEXCL | io::TIOCNXCL => Ok(0),
            // TIOCGETD: the line discipline is always N_TTY (0).
            io::TIOCGETD => {
                uaccess::write_u32(arg, 0)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}

/// Output a writer may queue in a device before it waits.
const OUTPUT_ROOM: usize = 8192;

/// The controlling terminal of `p`'s session.
pub fn ctty_of(p: &Process) -> Option<Arc<Tty>> {
    let sid = p.sid.load(Ordering::Relaxed);
    let tty = SESSIONS.lock().get(&sid).and_then(Weak::upgrade)?;
    (tty.session.load(Ordering::Acquire) == sid).then_some(tty)
}

/// A session leader exited: its terminal is released.
pub fn session_leader_exited(p: &Process) {
    if p.sid.load(Ordering::Relaxed) == p.pid {
        if let Some(tty) = ctty_of(p) {
            tty.disassociate();
        }
    }
}

fn signal_group(pgid: u32, sig: u32) {
    for p in process::all() {
        if p.pgid.load(Ordering::Relaxed) == pgid && !p.is_zombie() {
            crate::signal::send(&p, sig as i32);
        }
    }
}

/// A process group is orphaned when no member has a parent in another
/// group of the same session (POSIX; Linux will_become_orphaned_pgrp).
pub fn is_orphaned(pgid: u32) -> bool {
    let all = process::all();
    !all.iter().filter(|q| q.pgid.load(Ordering::Relaxed) == pgid && !q.is_zombie()).any(|q| {
        process::lookup(q.ppid.load(Ordering::Relaxed)).is_some_and(|parent| {
            parent.pgid.load(Ordering::Relaxed) != pgid && parent.sid.load(Ordering::Relaxed) == q.sid.load(Ordering::Relaxed)
        })
    })
}

// ---- open files ---------------------------------------------------------

/// An open terminal: /dev/console, /dev/ttyS0, /dev/tty, /dev/pts/N.
pub struct TtyFile {
    tty: Arc<Tty>,
    flags: AtomicU32,
    /// Kept until the file closes (a pty slave counts its openers).
    _open: Option<Box<dyn Send + Sync>>,
}

impl TtyFile {
    pub fn new(tty: Arc<Tty>, flags: OpenFlags, open: Option<Box<dyn Send + Sync>>) -> Arc<Self> {
        Arc::new(Self { tty, flags: AtomicU32::new(flags.0 & !OpenFlags::CLOEXEC), _open: open })
    }

    fn nonblock(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & OpenFlags::NONBLOCK != 0
    }
}

impl File for TtyFile {
    /// /proc/[pid]/fd's name: the terminal's device node.
    fn proc_name(&self) -> alloc::vec::Vec<u8> {
        match vfs::decode_dev(self.tty.rdev) {
            (5, 1) => b"/dev/console".to_vec(),
            (5, 0) => b"/dev/tty".to_vec(),
            (4, m) => alloc::format!("/dev/ttyS{}", m.saturating_sub(64)).into_bytes(),
            (_, m) => alloc::format!("/dev/pts/{m}").into_bytes(),
        }
    }

    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if !IRQ_MODE.load(Ordering::Acquire) && Arc::ptr_eq(&self.tty, console()) {
            poll_serial();
        }
        self.tty.read(buf, self.nonblock())
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.tty.write(data, self.nonblock())
    }

    fn poll(&self) -> u16 {
        if !IRQ_MODE.load(Ordering::Acquire) && Arc::ptr_eq(&self.tty, console()) {
            poll_serial();
        }
        self.tty.poll()
    }

    fn poll_queue(&self) -> Option<Arc<crate::pollq::PollQueue>> {
        // A console without receive interrupts is polled: waiters re-check
        // it by the tick.
        if !IRQ_MODE.load(Ordering::Acquire) && Arc::ptr_eq(&self.tty, console()) {
            return None;
        }
        Some(self.tty.pollq.clone())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            dev: crate::file::ANON_DEV,
            ino: Ino(0),
            mode: 0o020620,
            nlink: 1,
            uid: 0,
            gid: 5,
            rdev: self.tty.rdev,
            size: 0,
            blocks: 0,
            atime: vfs::Timespec::default(),
            mtime: vfs::Timespec::default(),
            ctime: vfs::Timespec::default(),
        })
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<usize, Errno> {
        self.tty.ioctl(cmd, arg, false)
    }

    fn flags(&self) -> OpenFlags {
        OpenFlags(self.flags.load(Ordering::Relaxed))
    }

    fn set_status_flags(&self, flags: u32) {
        let old = self.flags.load(Ordering::Relaxed);
        self.flags.store((old & !SETFL_MASK) | (flags & SETFL_MASK), Ordering::Relaxed);
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.tty.readable_bytes())
    }
}

// ---- the serial console ------------------------------------------------

struct Serial;

impl Device for Serial {
    fn output(&self, bytes: &[u8]) -> usize {
        kbase::console::write_raw(bytes);
        bytes.len()
    }
}

static CONSOLE: Once<Arc<Tty>> = Once::new();
static IRQ_MODE: AtomicBool = AtomicBool::new(false);
/// A signal character typed on the console, for the signaller task.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static SIGNALLER: WaitQueue = WaitQueue::new();

/// The serial console's terminal (COM1: /dev/console, /dev/ttyS0).
pub fn console() -> &'static Arc<Tty> {
    CONSOLE.get_or_init(|| Tty::new(Box::new(Serial), vfs::encode_dev(4, 64)))
}

/// Opens a terminal device node: the console, or /dev/tty (the caller's
/// controlling terminal, ENXIO without one).
pub fn open(major: u32, minor: u32, flags: OpenFlags) -> Result<Arc<dyn File>, Errno> {
    let tty = match (major, minor) {
        (5, 0) => return Ok(TtyFile::new(ctty_of(&process::current().process).ok_or(ENXIO)?, flags, None)),
        (5, 1) => console().clone(), // never becomes a controlling tty by open
        (4, 64) => {
            let tty = console().clone();
            tty.open_acquire(flags);
            tty
        }
        _ => return Err(crate::errno::ENODEV),
    };
    Ok(TtyFile::new(tty, flags, None))
}

/// Init's standard descriptors: the console, not a controlling terminal.
pub fn console_file() -> Arc<dyn File> {
    TtyFile::new(console().clone(), OpenFlags(OpenFlags::RDWR), None)
}

/// Turns on interrupt-driven console input and starts the signaller task.
pub fn init() {
    let _ = console();
    if kbase::arch::serial::enable_rx_interrupts(rx_hook) {
        IRQ_MODE.store(true, Ordering::Release);
        let _ = kbase::task::spawn("tty-signal", signaller);
    } else {
        log::warn!("tty: no COM1 receive interrupt; console input is polled");
    }
}

/// Interrupt context: must not sleep, so signals go to the signaller task.
fn rx_hook(bytes: &[u8]) {
    if let Some(sig) = console().input(bytes) {
        SIGNAL.store(sig as i32, Ordering::Release);
        SIGNALLER.wake_all();
    }
}

fn signaller() {
    loop {
        let sig = SIGNALLER.wait_until(|| match SIGNAL.swap(0, Ordering::AcqRel) {
            0 => None,
            s => Some(s),
        });
        console().signal_foreground(sig as u32);
    }
}

/// Without the receive interrupt: move waiting bytes into the line
/// discipline (readers poll every tick through their BlockFor/Block loop).
fn poll_serial() {
    let mut buf = [0u8; 64];
    let mut n = 0;
    while n < buf.len() {
        match kbase::arch::serial::try_read() {
            Some(b) => {
                buf[n] = b;
                n += 1;
            }
            None => break,
        }
    }
    if n > 0 {
        if let Some(sig) = console().input(&buf[..n]) {
            console().signal_foreground(sig);
        }
    }
}

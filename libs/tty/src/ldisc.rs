//! N_TTY, the default line discipline (Linux drivers/tty/n_tty.c, termios(3)).
//!
//! ```text
//!  receive(c) ──ISTRIP, LNEXT, IXON, ISIG, IGNCR/ICRNL/INLCR──┐
//!        ICANON: `line` (being edited) ──NL/EOL/EOF──▶ queue │ echo ─▶ `echo`
//!        raw:                              c ─────────▶ queue │
//!  read(buf, timed_out) ◀── queue: one line (canonical) or VMIN/VTIME rules
//! ```
//! # Invariants
//! `queue.len() + line.len() <= BUF_SIZE`, `echo.len() <= BUF_SIZE`, and
//! `lines` counts the entries of `queue` that end a line (`LINE_END` or
//! `EOF_MARK`).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use linux_raw_sys::general as g;

use crate::termios::{Termios, default_termios};

/// Bytes of input a terminal buffers (Linux's N_TTY_BUF_SIZE); echo output
/// not yet taken by the device is bounded by the same size.
pub const BUF_SIZE: usize = 4096;

/// A queue entry that is an end-of-file (VEOF): it ends a line and carries
/// no data byte.
const EOF_MARK: u16 = 0x100;
/// A queue entry whose byte ends a canonical line (NL, VEOL, VEOL2).
const LINE_END: u16 = 0x200;

/// A signal character was typed: send `sig` to the foreground process
/// group. `flush` says input and output were discarded (no NOFLSH), so the
/// device should drop its pending output too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal {
    pub sig: u32,
    pub flush: bool,
}

/// What a read(2) should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Return this many bytes (0: end of file, or a VMIN=0 read with no data).
    Done(usize),
    /// Sleep until more input arrives (or a signal).
    Block,
    /// Sleep until more input arrives or this much time passes since the
    /// read began or the last byte arrived, whichever is later; then call
    /// `read` again with `timed_out` set if the time passed.
    BlockFor { deciseconds: u8 },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kill {
    Erase,
    Word,
    Line,
}

/// One terminal's line discipline state.
pub struct LineDiscipline {
    t: Termios,
    /// Input readers may take; low byte data, plus `LINE_END`/`EOF_MARK`.
    queue: VecDeque<u16>,
    /// Entries of `queue` that end a line.
    lines: usize,
    /// The canonical line being edited.
    line: Vec<u8>,
    /// Output column where `line`'s echo began (to erase tabs).
    line_col: usize,
    /// Echo bytes for the device, output-processed.
    echo: Vec<u8>,
    /// Output column, for tabs and erase.
    column: usize,
    /// The last byte was VLNEXT: take the next one literally.
    lnext: bool,
    /// Output stopped by VSTOP (IXON).
    stopped: bool,
    /// Bytes received so far (arrivals restart VTIME's timer).
    received: u64,
}

impl Default for LineDiscipline {
    fn default() -> Self {
        Self::new(default_termios())
    }
}

fn is_cntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

impl LineDiscipline {
    pub fn new(t: Termios) -> Self {
        Self {
            t,
            queue: VecDeque::new(),
            lines: 0,
            line: Vec::new(),
            line_col: 0,
            echo: Vec::new(),
            column: 0,
            lnext: false,
            stopped: false,
            received: 0,
        }
    }

    pub fn termios(&self) -> Termios {
        self.t
    }

    /// TCSETS: new settings. Leaving canonical mode makes the edited line
    /// readable; entering it with unread input makes that input one line
    /// (n_tty_set_termios).
    pub fn set_termios(&mut self, t: Termios) {
        let was_canon = self.canon();
        self.t = t;
        if self.t.c_iflag & g::IXON == 0 {
            self.stopped = false;
        }
        if was_canon && !self.canon() {
            self.queue.extend(self.line.drain(..).map(u16::from));
        } else if !was_canon
            && self.canon()
            && let Some(last) = self.queue.back_mut().filter(|e| **e & (LINE_END | EOF_MARK) == 0)
        {
            *last |= LINE_END;
            self.lines += 1;
        }
    }

    fn canon(&self) -> bool {
        self.t.c_lflag & g::ICANON != 0
    }

    fn lflag(&self, f: u32) -> bool {
        self.t.c_lflag & f != 0
    }

    fn iflag(&self, f: u32) -> bool {
        self.t.c_iflag & f != 0
    }

    /// Whether `c` is the (enabled) control character at index `i`.
    fn is(&self, c: u8, i: u32) -> bool {
        let v = self.t.c_cc[i as usize];
        v != 0 && v == c
    }

    /// Output stopped by VSTOP: writers should wait.
    pub fn is_output_stopped(&self) -> bool {
        self.stopped
    }

    /// TCXONC TCOOFF / TCOON: stops or restarts output as VSTOP / VSTART do.
    pub fn set_output_stopped(&mut self, stopped: bool) {
        self.stopped = stopped;
    }

    /// Bytes received since creation (a change restarts an interbyte timer).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Room for more input before bytes are dropped (device flow control).
    pub fn input_room(&self) -> usize {
        BUF_SIZE - self.queue.len() - self.line.len()
    }

    /// Takes the echo output produced so far.
    pub fn take_echo(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.echo)
    }

    /// Discards unread input (TCFLSH TCIFLUSH, signal characters).
    pub fn flush_input(&mut self) {
        self.queue.clear();
        self.line.clear();
        self.lines = 0;
        self.lnext = false;
    }

    /// One input byte from the device. Returns the signal to raise if it was
    /// a signal character (ISIG).
    pub fn receive(&mut self, c: u8) -> Option<Signal> {
        self.received = self.received.wrapping_add(1);
        let mut c = c;
        if self.iflag(g::ISTRIP) {
            c &= 0x7f;
        }
        if self.lnext {
            self.lnext = false;
            if self.lflag(g::ECHO) && self.lflag(g::ECHOCTL) {
                self.put_echo(b"\x08");
            }
            self.ordinary(c);
            return None;
        }
        if self.iflag(g::IXON) {
            if self.is(c, g::VSTART) {
                self.stopped = false;
                return None;
            }
            if self.is(c, g::VSTOP) {
                self.stopped = true;
                return None;
            }
            if self.iflag(g::IXANY) {
                self.stopped = false;
            }
        }
        if self.lflag(g::ISIG) {
            for (i, sig) in [(g::VINTR, g::SIGINT), (g::VQUIT, g::SIGQUIT), (g::VSUSP, g::SIGTSTP)] {
                if self.is(c, i) {
                    return Some(self.signal_char(c, sig));
                }
            }
        }
        if c == b'\r' {
            if self.iflag(g::IGNCR) {
                return None;
            }
            if self.iflag(g::ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && self.iflag(g::INLCR) {
            c = b'\r';
        }
        if !self.canon() {
            self.ordinary(c);
            return None;
        }
        let iexten = self.lflag(g::IEXTEN);
        if self.is(c, g::VERASE) {
            self.erase(Kill::Erase);
        } else if self.is(c, g::VKILL) {
            self.erase(Kill::Line);
        } else if iexten && self.is(c, g::VWERASE) {
            self.erase(Kill::Word);
        } else if iexten && self.is(c, g::VLNEXT) {
            self.lnext = true;
            if self.lflag(g::ECHO) && self.lflag(g::ECHOCTL) {
                self.put_echo(b"^");
            }
        } else if iexten && self.is(c, g::VREPRINT) {
            if self.lflag(g::ECHO) {
                self.echo_char(c);
                self.put_echo(b"\n");
                let line = core::mem::take(&mut self.line);
                self.line_col = self.column;
                for &b in &line {
                    self.echo_char(b);
                }
                self.line = line;
            }
        } else if c == b'\n' {
            if self.lflag(g::ECHO) || self.lflag(g::ECHONL) {
                self.put_echo(b"\n");
            }
            self.end_line(Some(c));
        } else if self.is(c, g::VEOF) {
            self.end_line(None);
        } else if self.is(c, g::VEOL) || (iexten && self.is(c, g::VEOL2)) {
            if self.lflag(g::ECHO) {
                self.echo_char(c);
            }
            self.end_line(Some(c));
        } else {
            self.ordinary(c);
        }
        None
    }

    fn signal_char(&mut self, c: u8, sig: u32) -> Signal {
        let flush = !self.lflag(g::NOFLSH);
        if flush {
            self.flush_input();
            self.echo.clear();
        }
        self.stopped = false;
        if self.lflag(g::ECHO) {
            self.echo_char(c);
        }
        Signal { sig, flush }
    }

    /// A data byte: into the edited line (canonical) or the queue (raw).
    fn ordinary(&mut self, c: u8) {
        let used = self.queue.len() + self.line.len();
        // Canonical mode keeps the last slot for the line's end.
        if used + usize::from(self.canon()) >= BUF_SIZE {
            return;
        }
        if self.lflag(g::ECHO) {
            if self.canon() && self.line.is_empty() {
                self.line_col = self.column;
            }
            self.echo_char(c);
        }
        if self.canon() {
            self.line.push(c);
        } else {
            self.queue.push_back(u16::from(c));
        }
    }

    /// Ends the edited line with `c` (None: VEOF) and makes it readable.
    fn end_line(&mut self, c: Option<u8>) {
        if self.queue.len() + self.line.len() >= BUF_SIZE {
            return;
        }
        self.queue.extend(self.line.drain(..).map(u16::from));
        self.queue.push_back(c.map_or(EOF_MARK, |c| u16::from(c) | LINE_END));
        self.lines += 1;
    }

    fn erase(&mut self, kind: Kill) {
        if self.line.is_empty() {
            return;
        }
        let echo = self.lflag(g::ECHO);
        if kind == Kill::Line {
            if !echo {
                self.line.clear();
                return;
            }
            if !self.lflag(g::ECHOK) || !self.lflag(g::ECHOKE) || !self.lflag(g::ECHOE) {
                self.line.clear();
                self.echo_char(self.t.c_cc[g::VKILL as usize]);
                if self.lflag(g::ECHOK) {
                    self.put_echo(b"\n");
                }
                return;
            }
        }
        let mut seen_alnum = false;
        while let Some(&c) = self.line.last() {
            if kind == Kill::Word {
                if c.is_ascii_alphanumeric() || c == b'_' {
                    seen_alnum = true;
                } else if seen_alnum {
                    break;
                }
            }
            self.line.pop();
            if echo {
                if kind == Kill::Erase && !self.lflag(g::ECHOE) {
                    self.echo_char(self.t.c_cc[g::VERASE as usize]);
                } else if c == b'\t' {
                    let col = self.line_width();
                    for _ in col..self.column {
                        self.put_echo(b"\x08");
                    }
                } else {
                    let ctl = is_cntrl(c);
                    if ctl && self.lflag(g::ECHOCTL) {
                        self.put_echo(b"\x08 \x08");
                    }
                    if !ctl || self.lflag(g::ECHOCTL) {
                        self.put_echo(b"\x08 \x08");
                    }
                }
            }
            if kind == Kill::Erase {
                break;
            }
        }
    }

    /// The output column after echoing the edited line.
    fn line_width(&self) -> usize {
        let mut col = self.line_col;
        for &b in &self.line {
            if b == b'\t' {
                col = (col | 7) + 1;
            } else if !is_cntrl(b) {
                col += 1;
            } else if self.lflag(g::ECHOCTL) {
                col += 2;
            }
        }
        col
    }

    /// Echoes one byte, control characters as `^X` under ECHOCTL.
    fn echo_char(&mut self, c: u8) {
        if self.lflag(g::ECHOCTL) && is_cntrl(c) && c != b'\t' && c != b'\n' {
            self.put_echo(&[b'^', c ^ 0o100]);
        } else {
            self.put_echo(&[c]);
        }
    }

    fn put_echo(&mut self, bytes: &[u8]) {
        let mut out = core::mem::take(&mut self.echo);
        self.process_output(bytes, &mut out);
        out.truncate(BUF_SIZE);
        self.echo = out;
    }

    /// Output processing (OPOST: ONLCR, OCRNL, ONOCR, ONLRET, XTABS) of
    /// `data` onto `out`; tracks the column for tabs and erase.
    pub fn process_output(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let o = self.t.c_oflag;
        if o & g::OPOST == 0 {
            out.extend_from_slice(data);
            return;
        }
        for &c in data {
            match c {
                b'\n' => {
                    if o & g::ONLRET != 0 {
                        self.column = 0;
                    }
                    if o & g::ONLCR != 0 {
                        out.extend_from_slice(b"\r\n");
                        self.column = 0;
                    } else {
                        out.push(b'\n');
                    }
                }
                b'\r' => {
                    if o & g::ONOCR != 0 && self.column == 0 {
                        continue;
                    }
                    if o & g::OCRNL != 0 {
                        out.push(b'\n');
                        if o & g::ONLRET != 0 {
                            self.column = 0;
                        }
                    } else {
                        out.push(b'\r');
                        self.column = 0;
                    }
                }
                b'\t' => {
                    let next = (self.column | 7) + 1;
                    if o & g::TABDLY == g::XTABS {
                        out.resize(out.len() + (next - self.column), b' ');
                    } else {
                        out.push(b'\t');
                    }
                    self.column = next;
                }
                0x08 => {
                    self.column = self.column.saturating_sub(1);
                    out.push(c);
                }
                _ => {
                    // UTF-8 continuation bytes take no column.
                    if !is_cntrl(c) && c & 0xc0 != 0x80 {
                        self.column += 1;
                    }
                    out.push(c);
                }
            }
        }
    }

    /// Bytes a read would see now (FIONREAD): complete lines in canonical
    /// mode, everything in raw mode; end-of-file marks are not counted.
    pub fn readable_bytes(&self) -> usize {
        let data = |e: &&u16| **e & EOF_MARK == 0;
        if !self.canon() {
            return self.queue.iter().filter(data).count();
        }
        let end = self.queue.iter().rposition(|e| e & (LINE_END | EOF_MARK) != 0).map_or(0, |i| i + 1);
        self.queue.iter().take(end).filter(data).count()
    }

    /// poll(2) readiness for reading (n_tty's input_available_p).
    pub fn is_readable(&self) -> bool {
        if self.canon() {
            return self.lines > 0;
        }
        let (min, time) = (self.t.c_cc[g::VMIN as usize], self.t.c_cc[g::VTIME as usize]);
        let amt = if time == 0 && min > 0 { usize::from(min) } else { 1 };
        self.queue.len() >= amt
    }

    /// A read of up to `buf.len()` bytes: copies what the mode allows and
    /// says whether to return or wait. `timed_out`: the VTIME wait the last
    /// `BlockFor` asked for has passed without new input.
    pub fn read(&mut self, buf: &mut [u8], timed_out: bool) -> Read {
        if buf.is_empty() {
            return Read::Done(0);
        }
        if self.canon() {
            return if self.lines == 0 { Read::Block } else { Read::Done(self.copy_line(buf)) };
        }
        let min = usize::from(self.t.c_cc[g::VMIN as usize]);
        let time = self.t.c_cc[g::VTIME as usize];
        let avail = self.queue.len();
        let want = min.min(buf.len());
        match (min, time) {
            (0, 0) => Read::Done(self.copy_raw(buf)),
            (_, 0) if avail >= want => Read::Done(self.copy_raw(buf)),
            (_, 0) => Read::Block,
            (0, t) if avail > 0 || timed_out => {
                let _ = t;
                Read::Done(self.copy_raw(buf))
            }
            (0, t) => Read::BlockFor { deciseconds: t },
            (_, _) if avail >= want => Read::Done(self.copy_raw(buf)),
            (_, _) if avail == 0 => Read::Block,
            (_, _) if timed_out => Read::Done(self.copy_raw(buf)),
            (_, t) => Read::BlockFor { deciseconds: t },
        }
    }

    /// One canonical line (or as much of it as fits); a VEOF mark is
    /// consumed with it.
    fn copy_line(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let Some(e) = self.queue.pop_front() else { break };
            if e & EOF_MARK != 0 {
                self.lines -= 1;
                break;
            }
            buf[n] = e as u8;
            n += 1;
            if e & LINE_END != 0 {
                self.lines -= 1;
                break;
            }
        }
        n
    }

    fn copy_raw(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let Some(e) = self.queue.pop_front() else { break };
            if e & (LINE_END | EOF_MARK) != 0 {
                self.lines -= 1;
            }
            if e & EOF_MARK == 0 {
                buf[n] = e as u8;
                n += 1;
            }
        }
        n
    }

    /// Checks the invariants (tests and debug assertions).
    pub fn check_invariants(&self) -> bool {
        let ends = self.queue.iter().filter(|e| **e & (LINE_END | EOF_MARK) != 0).count();
        self.queue.len() + self.line.len() <= BUF_SIZE && self.echo.len() <= BUF_SIZE && ends == self.lines
    }
}

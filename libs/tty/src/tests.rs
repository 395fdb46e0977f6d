use linux_raw_sys::general as g;
use proptest::prelude::*;

use crate::jobctl::{self, Caller, Verdict};
use crate::ldisc::BUF_SIZE;
use crate::termios::{self, WinSize, default_termios};
use crate::{LineDiscipline, Read, Signal};

fn feed(ld: &mut LineDiscipline, s: &[u8]) -> Vec<Signal> {
    s.iter().filter_map(|&b| ld.receive(b)).collect()
}

fn read_all(ld: &mut LineDiscipline) -> Read {
    let mut buf = [0u8; 256];
    ld.read(&mut buf, false)
}

fn read_str(ld: &mut LineDiscipline, len: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; len];
    match ld.read(&mut buf, false) {
        Read::Done(n) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

fn raw(min: u8, time: u8) -> LineDiscipline {
    let mut t = default_termios();
    t.c_lflag &= !(g::ICANON | g::ECHO);
    t.c_cc[g::VMIN as usize] = min;
    t.c_cc[g::VTIME as usize] = time;
    LineDiscipline::new(t)
}

#[test]
fn termios_round_trips_and_defaults_match_linux() {
    let t = default_termios();
    let b = termios::to_bytes(&t);
    assert_eq!(b.len(), 36);
    // What TCGETS returns for a fresh Linux pty: iflag 0o2400, oflag 0o5,
    // lflag 0o105073, VINTR..VEOF = 3, 28, 127, 21, 4.
    assert_eq!(&b[0..4], &0o2400u32.to_le_bytes());
    assert_eq!(&b[4..8], &0o5u32.to_le_bytes());
    assert_eq!(&b[12..16], &0o105073u32.to_le_bytes());
    assert_eq!(&b[17..22], &[3, 28, 127, 21, 4]);
    let back = termios::from_bytes(&b);
    assert_eq!(termios::to_bytes(&back), b);
    let ws = WinSize { rows: 24, cols: 80, xpixel: 1, ypixel: 2 };
    assert_eq!(WinSize::from_bytes(&ws.to_bytes()), ws);
}

#[test]
fn canonical_line_waits_for_newline() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"hello");
    assert_eq!(read_all(&mut ld), Read::Block);
    assert!(!ld.is_readable());
    assert_eq!(ld.readable_bytes(), 0);
    feed(&mut ld, b"\nworld\n");
    assert!(ld.is_readable());
    assert_eq!(ld.readable_bytes(), 12);
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"hello\n");
    assert_eq!(read_str(&mut ld, 3).unwrap(), b"wor");
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"ld\n");
    assert_eq!(read_all(&mut ld), Read::Block);
    assert_eq!(ld.take_echo(), b"hello\r\nworld\r\n");
}

#[test]
fn icrnl_inlcr_igncr_istrip() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"a\r");
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"a\n");
    let mut t = default_termios();
    t.c_iflag = g::IGNCR | g::ISTRIP;
    ld.set_termios(t);
    feed(&mut ld, b"b\r\xe3\n"); // 0xe3 & 0x7f = 'c'
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"bc\n");
    t.c_iflag = g::INLCR;
    t.c_lflag &= !g::ICANON;
    ld.set_termios(t);
    feed(&mut ld, b"\n");
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"\r");
}

#[test]
fn erase_kill_and_word_erase() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"helxy\x7f\x7flo\n");
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"hello\n");
    assert_eq!(ld.take_echo(), b"helxy\x08 \x08\x08 \x08lo\r\n");
    feed(&mut ld, b"garbage\x15ok\n");
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"ok\n");
    // ECHOKE: the killed line is erased on screen.
    let echo = ld.take_echo();
    assert!(echo.starts_with(b"garbage\x08 \x08"));
    assert_eq!(echo.iter().filter(|&&b| b == 8).count(), 14);
    feed(&mut ld, b"one two  \x17three\n");
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"one three\n");
    // Erase on an empty line does nothing.
    ld.take_echo();
    feed(&mut ld, b"\x7f\x15\x17");
    assert!(ld.take_echo().is_empty());
}

#[test]
fn kill_without_echoke_echoes_the_kill_char() {
    let mut t = default_termios();
    t.c_lflag &= !g::ECHOKE;
    let mut ld = LineDiscipline::new(t);
    feed(&mut ld, b"ab\x15");
    assert_eq!(ld.take_echo(), b"ab^U\r\n");
    // ECHOE off: erase echoes the erase character itself.
    t.c_lflag &= !g::ECHOE;
    ld.set_termios(t);
    feed(&mut ld, b"x\x7f\n");
    assert_eq!(ld.take_echo(), b"x^?\r\n");
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"\n");
}

#[test]
fn erasing_control_chars_and_tabs() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"\x01\x7f");
    assert_eq!(ld.take_echo(), b"^A\x08 \x08\x08 \x08");
    let mut out = Vec::new();
    ld.process_output(b"$ ", &mut out); // a prompt: column 2
    feed(&mut ld, b"a\t\x7f");
    // The tab went from column 3 to 8; erasing it backs up 5 columns.
    assert_eq!(ld.take_echo(), b"a\t\x08\x08\x08\x08\x08");
}

#[test]
fn eof_ends_line_and_reads_zero_on_empty_line() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"abc\x04");
    assert_eq!(ld.readable_bytes(), 3);
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"abc");
    feed(&mut ld, b"\x04");
    assert!(ld.is_readable());
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"");
    assert_eq!(read_all(&mut ld), Read::Block);
    // ^D is not echoed.
    assert_eq!(ld.take_echo(), b"abc");
}

#[test]
fn veol_ends_a_line_and_nul_is_never_special() {
    let mut t = default_termios();
    t.c_cc[g::VEOL as usize] = b';';
    let mut ld = LineDiscipline::new(t);
    feed(&mut ld, b"a;\0b\n");
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"a;");
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"\0b\n");
}

#[test]
fn echo_flags() {
    let mut t = default_termios();
    t.c_lflag &= !g::ECHO;
    t.c_lflag |= g::ECHONL;
    let mut ld = LineDiscipline::new(t);
    feed(&mut ld, b"secret\n");
    assert_eq!(ld.take_echo(), b"\r\n");
    t.c_lflag |= g::ECHO;
    t.c_lflag &= !g::ECHOCTL;
    ld.set_termios(t);
    feed(&mut ld, b"\x01");
    assert_eq!(ld.take_echo(), b"\x01");
    t.c_oflag &= !g::OPOST;
    ld.set_termios(t);
    feed(&mut ld, b"\n");
    assert_eq!(ld.take_echo(), b"\n");
}

#[test]
fn lnext_takes_the_next_char_literally() {
    let mut ld = LineDiscipline::default();
    assert!(feed(&mut ld, b"\x16\x03\x16\x7f\n").is_empty());
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"\x03\x7f\n");
    assert_eq!(ld.take_echo(), b"^\x08^C^\x08^?\r\n");
}

#[test]
fn signal_chars_flush_and_echo() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"done\npartial");
    let s = feed(&mut ld, b"\x03");
    assert_eq!(s, vec![Signal { sig: g::SIGINT, flush: true }]);
    assert_eq!(ld.take_echo(), b"^C");
    assert_eq!(read_all(&mut ld), Read::Block);
    assert_eq!(feed(&mut ld, b"\x1c")[0].sig, g::SIGQUIT);
    assert_eq!(feed(&mut ld, b"\x1a")[0].sig, g::SIGTSTP);
    let mut t = default_termios();
    t.c_lflag |= g::NOFLSH;
    ld.set_termios(t);
    feed(&mut ld, b"kept\n");
    assert_eq!(feed(&mut ld, b"\x03"), vec![Signal { sig: g::SIGINT, flush: false }]);
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"kept\n");
    // Without ISIG, ^C is data.
    t.c_lflag &= !g::ISIG;
    ld.set_termios(t);
    assert!(feed(&mut ld, b"\x03\n").is_empty());
    assert_eq!(read_str(&mut ld, 100).unwrap(), b"\x03\n");
    // A disabled VINTR (0) never matches a NUL byte.
    t.c_lflag |= g::ISIG;
    t.c_cc[g::VINTR as usize] = 0;
    ld.set_termios(t);
    assert!(feed(&mut ld, b"\0\x03").is_empty());
}

#[test]
fn ixon_stops_and_starts_output() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"\x13");
    assert!(ld.is_output_stopped());
    feed(&mut ld, b"x");
    assert!(ld.is_output_stopped());
    feed(&mut ld, b"\x11");
    assert!(!ld.is_output_stopped());
    // ^S and ^Q are not input.
    feed(&mut ld, b"\n");
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"x\n");
    let mut t = default_termios();
    t.c_iflag |= g::IXANY;
    ld.set_termios(t);
    feed(&mut ld, b"\x13a");
    assert!(!ld.is_output_stopped());
}

#[test]
fn raw_mode_vmin_vtime() {
    // MIN=0, TIME=0: polling read.
    let mut ld = raw(0, 0);
    assert_eq!(read_all(&mut ld), Read::Done(0));
    feed(&mut ld, b"ab");
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"ab");
    // MIN=3, TIME=0: wait for three bytes.
    let mut ld = raw(3, 0);
    feed(&mut ld, b"ab");
    assert!(!ld.is_readable());
    assert_eq!(read_all(&mut ld), Read::Block);
    assert_eq!(read_str(&mut ld, 2).unwrap(), b"ab"); // a short buffer is enough
    feed(&mut ld, b"cde");
    assert!(ld.is_readable());
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"cde");
    // MIN=0, TIME=5: one byte or the timeout.
    let mut ld = raw(0, 5);
    assert_eq!(read_all(&mut ld), Read::BlockFor { deciseconds: 5 });
    let mut buf = [0u8; 4];
    assert_eq!(ld.read(&mut buf, true), Read::Done(0));
    feed(&mut ld, b"z");
    assert_eq!(ld.read(&mut buf, false), Read::Done(1));
    // MIN=2, TIME=1: interbyte timer, started by the first byte.
    let mut ld = raw(2, 1);
    assert_eq!(read_all(&mut ld), Read::Block);
    feed(&mut ld, b"q");
    assert_eq!(ld.read(&mut buf, false), Read::BlockFor { deciseconds: 1 });
    assert_eq!(ld.read(&mut buf, true), Read::Done(1));
    feed(&mut ld, b"rs");
    assert_eq!(ld.read(&mut buf, false), Read::Done(2));
}

#[test]
fn raw_mode_echo_and_no_editing() {
    let mut t = default_termios();
    t.c_lflag &= !g::ICANON;
    let mut ld = LineDiscipline::new(t);
    feed(&mut ld, b"a\x7f\x01");
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"a\x7f\x01");
    assert_eq!(ld.take_echo(), b"a^?^A");
}

#[test]
fn mode_switches_keep_input() {
    let mut ld = LineDiscipline::default();
    feed(&mut ld, b"half");
    let mut t = default_termios();
    t.c_lflag &= !g::ICANON;
    ld.set_termios(t);
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"half");
    feed(&mut ld, b"raw");
    ld.set_termios(default_termios());
    // Unread raw input becomes one readable line.
    assert!(ld.is_readable());
    assert_eq!(read_str(&mut ld, 10).unwrap(), b"raw");
    assert!(ld.check_invariants());
}

#[test]
fn output_processing() {
    let mut ld = LineDiscipline::default();
    let mut out = Vec::new();
    ld.process_output(b"a\nb", &mut out);
    assert_eq!(out, b"a\r\nb");
    let mut t = default_termios();
    t.c_oflag = g::OPOST | g::OCRNL | g::XTABS;
    let mut ld = LineDiscipline::new(t);
    out.clear();
    ld.process_output(b"\rx\ty\n", &mut out);
    assert_eq!(out, b"\nx       y\n");
    t.c_oflag = g::OPOST | g::ONOCR;
    let mut ld = LineDiscipline::new(t);
    out.clear();
    ld.process_output(b"\r\r", &mut out); // column 0: dropped
    assert_eq!(out, b"");
    t.c_oflag = g::ONLCR; // no OPOST: untouched
    ld.set_termios(t);
    out.clear();
    ld.process_output(b"a\n", &mut out);
    assert_eq!(out, b"a\n");
}

#[test]
fn buffers_are_bounded() {
    let mut ld = LineDiscipline::default();
    let long = vec![b'x'; BUF_SIZE * 2];
    feed(&mut ld, &long);
    feed(&mut ld, b"\n");
    // The line keeps BUF_SIZE - 1 bytes and the newline still fits.
    assert_eq!(ld.readable_bytes(), BUF_SIZE);
    assert!(ld.check_invariants());
    let mut raw = raw(1, 0);
    feed(&mut raw, &long);
    assert_eq!(raw.readable_bytes(), BUF_SIZE);
    assert_eq!(raw.input_room(), 0);
}

#[test]
fn job_control_rules() {
    let bg = Caller { is_ctty: true, in_foreground: false, signal_ignored: false, orphaned: false };
    assert_eq!(jobctl::read(bg), Verdict::Signal);
    assert_eq!(jobctl::read(Caller { signal_ignored: true, ..bg }), Verdict::Eio);
    assert_eq!(jobctl::read(Caller { orphaned: true, ..bg }), Verdict::Eio);
    assert_eq!(jobctl::read(Caller { in_foreground: true, ..bg }), Verdict::Allow);
    assert_eq!(jobctl::read(Caller { is_ctty: false, ..bg }), Verdict::Allow);
    assert_eq!(jobctl::write_or_change(bg, false), Verdict::Allow);
    assert_eq!(jobctl::write_or_change(bg, true), Verdict::Signal);
    assert_eq!(jobctl::write_or_change(Caller { signal_ignored: true, ..bg }, true), Verdict::Allow);
    assert_eq!(jobctl::write_or_change(Caller { orphaned: true, ..bg }, true), Verdict::Eio);
}

proptest! {
    #[test]
    fn random_input_never_panics_and_stays_bounded(
        ops in proptest::collection::vec((any::<u8>(), any::<u8>(), 0usize..300, any::<bool>()), 0..400),
        flags in any::<(u32, u32, u32)>(),
        cc in any::<[u8; 19]>(),
    ) {
        let mut t = default_termios();
        t.c_iflag = flags.0;
        t.c_oflag = flags.1;
        t.c_lflag = flags.2;
        t.c_cc = cc;
        let mut ld = LineDiscipline::new(t);
        let mut buf = [0u8; 300];
        for (i, (op, byte, len, timed_out)) in ops.into_iter().enumerate() {
            match op % 8 {
                0..=4 => { let _ = ld.receive(byte); }
                5 => { let _ = ld.read(&mut buf[..len], timed_out); }
                6 => { let _ = ld.take_echo(); }
                _ => {
                    let mut t2 = t;
                    t2.c_lflag ^= u32::from(byte);
                    t2.c_cc[i % 19] = byte;
                    ld.set_termios(t2);
                    let mut out = Vec::new();
                    ld.process_output(&buf[..len], &mut out);
                    prop_assert!(out.len() <= len * 8);
                }
            }
            prop_assert!(ld.check_invariants());
            prop_assert!(ld.readable_bytes() <= BUF_SIZE);
        }
    }
}

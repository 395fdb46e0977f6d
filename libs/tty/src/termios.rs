//! The kernel ABI `struct termios` (TCGETS/TCSETS): four flag words, the
//! line number and 19 control characters, 36 bytes on x86_64. The flag
//! and index constants are `linux_raw_sys::general`'s.

use linux_raw_sys::general as g;

/// `struct termios` exactly as the ioctls pass it.
pub type Termios = g::termios;

/// Size of the kernel's `struct termios` in bytes.
pub const SIZE: usize = 36;
/// Number of control characters (`NCCS`).
pub const NCCS: usize = g::NCCS as usize;

/// Linux's `tty_std_termios`: a cooked, echoing terminal (drivers/tty/tty_io.c).
pub fn default_termios() -> Termios {
    let mut cc = [0u8; NCCS];
    let set = |cc: &mut [u8; NCCS], i: u32, v: u8| cc[i as usize] = v;
    set(&mut cc, g::VINTR, 0x03); // ^C
    set(&mut cc, g::VQUIT, 0x1c); // ^\
    set(&mut cc, g::VERASE, 0x7f); // DEL
    set(&mut cc, g::VKILL, 0x15); // ^U
    set(&mut cc, g::VEOF, 0x04); // ^D
    set(&mut cc, g::VTIME, 0);
    set(&mut cc, g::VMIN, 1);
    set(&mut cc, g::VSTART, 0x11); // ^Q
    set(&mut cc, g::VSTOP, 0x13); // ^S
    set(&mut cc, g::VSUSP, 0x1a); // ^Z
    set(&mut cc, g::VREPRINT, 0x12); // ^R
    set(&mut cc, g::VDISCARD, 0x0f); // ^O
    set(&mut cc, g::VWERASE, 0x17); // ^W
    set(&mut cc, g::VLNEXT, 0x16); // ^V
    Termios {
        c_iflag: g::ICRNL | g::IXON,
        c_oflag: g::OPOST | g::ONLCR,
        c_cflag: g::B38400 | g::CS8 | g::CREAD | g::HUPCL,
        c_lflag: g::ISIG | g::ICANON | g::ECHO | g::ECHOE | g::ECHOK | g::ECHOCTL | g::ECHOKE | g::IEXTEN,
        c_line: 0,
        c_cc: cc,
    }
}

/// The 36-byte little-endian image of `t`.
pub fn to_bytes(t: &Termios) -> [u8; SIZE] {
    let mut b = [0u8; SIZE];
    b[0..4].copy_from_slice(&t.c_iflag.to_le_bytes());
    b[4..8].copy_from_slice(&t.c_oflag.to_le_bytes());
    b[8..12].copy_from_slice(&t.c_cflag.to_le_bytes());
    b[12..16].copy_from_slice(&t.c_lflag.to_le_bytes());
    b[16] = t.c_line;
    b[17..].copy_from_slice(&t.c_cc);
    b
}

/// Decodes a 36-byte image (any bit pattern is a valid termios).
pub fn from_bytes(b: &[u8; SIZE]) -> Termios {
    let w = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut cc = [0u8; NCCS];
    cc.copy_from_slice(&b[17..]);
    Termios { c_iflag: w(0), c_oflag: w(4), c_cflag: w(8), c_lflag: w(12), c_line: b[16], c_cc: cc }
}

/// The `struct winsize` of TIOCGWINSZ/TIOCSWINSZ (rows, cols, xpixel, ypixel).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WinSize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

impl WinSize {
    pub const SIZE: usize = 8;

    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        for (i, v) in [self.rows, self.cols, self.xpixel, self.ypixel].into_iter().enumerate() {
            b[i * 2..i * 2 + 2].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8; 8]) -> Self {
        let h = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Self { rows: h(0), cols: h(2), xpixel: h(4), ypixel: h(6) }
    }
}

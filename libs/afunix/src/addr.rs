//! `struct sockaddr_un` (unix(7)): parsing what bind, connect and sendto
//! are given, and encoding what getsockname, getpeername, accept and
//! recvfrom give back.
//!
//! ```text
//!   sun_family (2 bytes, AF_UNIX) | sun_path (108 bytes)
//!   addrlen == 2                       unnamed (bind: autobind)
//!   sun_path[0] != 0                   pathname: up to the first NUL
//!   sun_path[0] == 0                   abstract: all addrlen - 2 bytes
//! ```

use alloc::vec::Vec;

/// AF_UNIX, as `sun_family` holds it.
pub const AF_UNIX: u16 = 1;
/// offsetof(struct sockaddr_un, sun_path).
pub const PATH_OFFSET: usize = 2;
/// sizeof(struct sockaddr_un).
pub const SOCKADDR_UN_LEN: usize = PATH_OFFSET + 108;

/// The name of an AF_UNIX socket.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnixAddr {
    /// No name: an unbound socket, or a socketpair end.
    Unnamed,
    /// A filesystem path (without its terminating NUL).
    Path(Vec<u8>),
    /// An abstract name: the bytes after the leading NUL.
    Abstract(Vec<u8>),
}

/// Why an address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrError {
    /// Too short or too long, or not AF_UNIX (EINVAL, unix_validate_addr).
    Invalid,
}

impl UnixAddr {
    /// Parses the `addr` bytes a caller passed (its addrlen is `addr.len()`).
    /// `allow_unnamed`: a bare family (addrlen 2) means "no name", as bind
    /// (autobind) accepts; elsewhere it is EINVAL.
    pub fn parse(addr: &[u8], allow_unnamed: bool) -> Result<Self, AddrError> {
        let family = match addr {
            [a, b, ..] => u16::from_le_bytes([*a, *b]),
            _ => return Err(AddrError::Invalid),
        };
        if family != AF_UNIX || addr.len() > SOCKADDR_UN_LEN {
            return Err(AddrError::Invalid);
        }
        let path = &addr[PATH_OFFSET..];
        match path.first() {
            None if allow_unnamed => Ok(Self::Unnamed),
            None => Err(AddrError::Invalid),
            Some(0) => Ok(Self::Abstract(path[1..].to_vec())),
            Some(_) => {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                Ok(Self::Path(path[..end].to_vec()))
            }
        }
    }

    /// The `sockaddr_un` bytes for this name; their count is the addrlen
    /// Linux reports (a path counts its NUL, an unnamed socket is the
    /// family alone).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(SOCKADDR_UN_LEN);
        v.extend_from_slice(&AF_UNIX.to_le_bytes());
        match self {
            Self::Unnamed => {}
            Self::Path(p) => {
                v.extend_from_slice(p);
                v.push(0);
            }
            Self::Abstract(n) => {
                v.push(0);
                v.extend_from_slice(n);
            }
        }
        v
    }

    /// The abstract name autobind gives for `n` (unix_autobind: five hex
    /// digits after the NUL).
    pub fn autobind(n: u32) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n = n & 0xf_ffff;
        Self::Abstract((0..5).rev().map(|i| HEX[(n >> (4 * i)) as usize & 0xf]).collect())
    }

    pub fn is_unnamed(&self) -> bool {
        matches!(self, Self::Unnamed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(path: &[u8]) -> Vec<u8> {
        let mut v = AF_UNIX.to_le_bytes().to_vec();
        v.extend_from_slice(path);
        v
    }

    #[test]
    fn pathname_stops_at_the_first_nul() {
        assert_eq!(UnixAddr::parse(&sa(b"/tmp/s\0junk"), false), Ok(UnixAddr::Path(b"/tmp/s".to_vec())));
        // No NUL inside addrlen: the whole sun_path is the name.
        assert_eq!(UnixAddr::parse(&sa(b"/tmp/s"), false), Ok(UnixAddr::Path(b"/tmp/s".to_vec())));
    }

    #[test]
    fn abstract_keeps_every_byte() {
        assert_eq!(UnixAddr::parse(&sa(b"\0ab\0"), false), Ok(UnixAddr::Abstract(b"ab\0".to_vec())));
        assert_eq!(UnixAddr::parse(&sa(b"\0"), false), Ok(UnixAddr::Abstract(Vec::new())));
    }

    #[test]
    fn bad_lengths_and_families() {
        assert_eq!(UnixAddr::parse(&[], true), Err(AddrError::Invalid));
        assert_eq!(UnixAddr::parse(&[1], true), Err(AddrError::Invalid));
        assert_eq!(UnixAddr::parse(&sa(b""), false), Err(AddrError::Invalid));
        assert_eq!(UnixAddr::parse(&sa(b""), true), Ok(UnixAddr::Unnamed));
        assert_eq!(UnixAddr::parse(&[2, 0, b'/', b'x'], false), Err(AddrError::Invalid));
        let long = sa(&[b'a'; 109]);
        assert_eq!(UnixAddr::parse(&long, false), Err(AddrError::Invalid));
        let full = sa(&[b'a'; 108]);
        assert_eq!(UnixAddr::parse(&full, false), Ok(UnixAddr::Path(alloc::vec![b'a'; 108])));
    }

    #[test]
    fn encode_round_trips_and_counts_the_nul() {
        let p = UnixAddr::Path(b"/s".to_vec());
        assert_eq!(p.encode(), sa(b"/s\0"));
        assert_eq!(UnixAddr::parse(&p.encode(), false), Ok(p));
        let a = UnixAddr::Abstract(b"x\0y".to_vec());
        assert_eq!(a.encode(), sa(b"\0x\0y"));
        assert_eq!(UnixAddr::parse(&a.encode(), false), Ok(a));
        assert_eq!(UnixAddr::Unnamed.encode(), sa(b""));
    }

    #[test]
    fn autobind_is_five_hex_digits() {
        assert_eq!(UnixAddr::autobind(0x1abcd), UnixAddr::Abstract(b"1abcd".to_vec()));
        assert_eq!(UnixAddr::autobind(0x123456).encode().len(), 8);
    }
}

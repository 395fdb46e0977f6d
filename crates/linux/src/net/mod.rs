//! Sockets: one file type for every protocol family.
//!
//! ```text
//!   socket(2) ─▶ create(family, type, protocol) ─▶ Box<dyn Proto>
//!                  AF_UNIX ─▶ unix::create        (this module's only family)
//!                  others  ─▶ EAFNOSUPPORT        (AF_INET/INET6: smoltcp, later)
//!   fd ─▶ Socket (File) ── read/write/poll/fstat/ioctl ─┐
//!   syscall/net.rs ─ bind, connect, sendmsg, ... ───────┴─▶ dyn Proto
//! ```
//! [`Socket`] is the open file: it owns the family-blind parts (O_NONBLOCK,
//! the inode number that fstat and /proc/self/fd show, SIGPIPE on EPIPE,
//! the SOL_SOCKET options every family answers the same way) and hands
//! everything else to its [`Proto`]. A new family is one `Proto`
//! implementation and one arm in [`create`]; the system calls in
//! `syscall/net.rs` copy user memory and never look at the family.

pub mod unix;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::net as n;
use vfs::{Ino, Stat};

use crate::errno::{EAFNOSUPPORT, EINVAL, ENOPROTOOPT, EOPNOTSUPP, EPIPE, Errno};
use crate::file::{AnonFlags, File, OpenFlags};
use crate::pollq::PollQueue;

/// Files passed with SCM_RIGHTS.
pub type Rights = Vec<Arc<dyn File>>;

/// The sender of a message as SCM_CREDENTIALS and SO_PEERCRED give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ucred {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Ucred {
    /// The caller's: its process id, and real (`effective`: effective)
    /// user and group ids (scm_send uses the real ones, SO_PEERCRED the
    /// effective ones).
    pub fn current(effective: bool) -> Self {
        let t = crate::process::current();
        let c = t.process.cred();
        if effective {
            Self { pid: t.process.pid, uid: c.euid, gid: c.egid }
        } else {
            Self { pid: t.process.pid, uid: c.ruid, gid: c.rgid }
        }
    }
}

/// One send: a chunk of a stream, or a whole message.
pub struct SendArgs<'a> {
    pub data: &'a [u8],
    /// The destination's address bytes (sendto, msg_name), if given.
    pub to: Option<&'a [u8]>,
    pub rights: Option<Rights>,
    /// SCM_CREDENTIALS given by the caller (already checked).
    pub creds: Option<Ucred>,
    /// MSG_* flags.
    pub flags: u32,
    pub nonblock: bool,
}

/// What one receive gave.
#[derive(Default)]
pub struct Received {
    /// Bytes copied into the buffer.
    pub n: usize,
    /// The message's full length (datagrams; `n` for streams).
    pub full: usize,
    /// The sender's address bytes; empty when it has no name.
    pub from: Vec<u8>,
    pub rights: Option<Rights>,
    /// Present when the receiver asked for credentials (SO_PASSCRED).
    pub creds: Option<Ucred>,
}

/// A protocol family's socket. Addresses are the caller's raw
/// `sockaddr` bytes (their length is the addrlen); the family parses them.
pub trait Proto: Send + Sync {
    fn family(&self) -> u32;
    fn sock_type(&self) -> u32;
    fn protocol(&self) -> u32 {
        0
    }
    fn bind(&self, addr: &[u8]) -> Result<(), Errno>;
    fn connect(&self, addr: &[u8], nonblock: bool) -> Result<(), Errno>;
    fn listen(&self, backlog: i32) -> Result<(), Errno>;
    /// A pending connection, as a new socket, and its peer's address.
    fn accept(&self, nonblock: bool) -> Result<(Box<dyn Proto>, Vec<u8>), Errno>;
    /// Bytes sent (all of them for a message).
    fn send(&self, a: SendArgs<'_>) -> Result<usize, Errno>;
    fn recv(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> Result<Received, Errno>;
    fn shutdown(&self, how: u32) -> Result<(), Errno>;
    fn local_addr(&self) -> Vec<u8>;
    fn peer_addr(&self) -> Result<Vec<u8>, Errno>;
    /// A SOL_SOCKET option other than the generic ones (see
    /// [`Socket::getsockopt`]); the value's bytes.
    fn getsockopt(&self, level: u32, name: u32) -> Result<Vec<u8>, Errno>;
    fn setsockopt(&self, level: u32, name: u32, val: &[u8]) -> Result<(), Errno>;
    fn poll(&self) -> u16;
    fn poll_queue(&self) -> Arc<PollQueue>;
    /// FIONREAD / SIOCINQ.
    fn readable_bytes(&self) -> usize;
    /// The last descriptor closed.
    fn release(&self);
    /// The family's own type (the AF_UNIX collector finds its sockets
    /// among in-flight files through it).
    fn as_any(&self) -> &dyn Any;
}

/// socket(2)'s family switch: one line per family.
pub fn create(family: u32, ty: u32, protocol: u32) -> Result<Box<dyn Proto>, Errno> {
    match family {
        n::AF_UNIX => unix::create(ty, protocol),
        _ => Err(EAFNOSUPPORT),
    }
}

/// socketpair(2): only AF_UNIX has pairs (others: EAFNOSUPPORT, or
/// EOPNOTSUPP once a family without pairs exists).
pub fn pair(family: u32, ty: u32, protocol: u32) -> Result<(Box<dyn Proto>, Box<dyn Proto>), Errno> {
    match family {
        n::AF_UNIX => unix::pair(ty, protocol),
        _ => Err(EAFNOSUPPORT),
    }
}

/// Socket inode numbers (fstat's st_ino, /proc/self/fd's `socket:[N]`).
static NEXT_INO: AtomicU64 = AtomicU64::new(1000);

/// An open socket.
pub struct Socket {
    proto: Box<dyn Proto>,
    flags: AnonFlags,
    ino: u64,
    _census: crate::census::Token,
}

impl Socket {
    pub fn new(proto: Box<dyn Proto>, nonblock: bool) -> Arc<Self> {
        Arc::new(Self {
            proto,
            flags: AnonFlags::new(nonblock),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            _census: crate::census::Token::new(crate::census::Kind::Socket),
        })
    }

    pub fn proto(&self) -> &dyn Proto {
        &*self.proto
    }

    pub fn is_nonblock(&self, msg_flags: u32) -> bool {
        self.flags.is_nonblock() || msg_flags & n::MSG_DONTWAIT != 0
    }

    pub fn is_stream(&self) -> bool {
        self.proto.sock_type() == n::SOCK_STREAM
    }

    /// send with SIGPIPE: a send that fails with EPIPE raises it unless
    /// MSG_NOSIGNAL (unix_stream_sendmsg).
    pub fn send(&self, a: SendArgs<'_>) -> Result<usize, Errno> {
        let no_signal = a.flags & n::MSG_NOSIGNAL != 0;
        let r = self.proto.send(a);
        if r == Err(EPIPE) && !no_signal {
            crate::signal::send(&crate::process::current().process, crate::signal::SIGPIPE);
        }
        r
    }

    /// getsockopt(2): the options every family answers alike, then the
    /// family's own.
    pub fn getsockopt(&self, level: u32, name: u32) -> Result<Vec<u8>, Errno> {
        let int = |v: u32| Ok(v.to_le_bytes().to_vec());
        if level != n::SOL_SOCKET {
            return self.proto.getsockopt(level, name);
        }
        match name {
            n::SO_TYPE => int(self.proto.sock_type()),
            n::SO_DOMAIN => int(self.proto.family()),
            n::SO_PROTOCOL => int(self.proto.protocol()),
            _ => self.proto.getsockopt(level, name),
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.proto.release();
    }
}

impl File for Socket {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(self.proto.recv(buf, 0, self.flags.is_nonblock())?.n)
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.send(SendArgs { data, to: None, rights: None, creds: None, flags: 0, nonblock: self.flags.is_nonblock() })
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { mode: linux_raw_sys::general::S_IFSOCK | 0o777, ino: Ino(self.ino), ..crate::file::anon_stat() })
    }

    fn proc_name(&self) -> Vec<u8> {
        alloc::format!("socket:[{}]", self.ino).into_bytes()
    }

    fn poll(&self) -> u16 {
        self.proto.poll()
    }

    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        Some(self.proto.poll_queue())
    }

    fn flags(&self) -> OpenFlags {
        self.flags.get()
    }

    fn set_status_flags(&self, flags: u32) {
        self.flags.set_status(flags);
    }

    fn readable_bytes(&self) -> Option<usize> {
        Some(self.proto.readable_bytes())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

pub fn is_socket(f: &dyn File) -> bool {
    f.as_any().is_some_and(|a| a.is::<Socket>())
}

/// Drops files whose descriptors were closed (close, dup2 over them,
/// close_range, exec, exit). A socket's last user reference may go while
/// copies of it are in flight (an SCM_RIGHTS cycle), so then the AF_UNIX
/// collector runs if anything is in flight.
pub fn drop_closed(files: impl IntoIterator<Item = Arc<dyn File>>) {
    let mut had_socket = false;
    for f in files {
        had_socket |= is_socket(&*f);
        drop(f);
    }
    if had_socket {
        unix::gc::maybe_collect();
    }
}

/// The value of an `int` option (setsockopt): EINVAL if shorter.
pub fn int_opt(val: &[u8]) -> Result<i32, Errno> {
    let b: [u8; 4] = val.get(..4).and_then(|b| b.try_into().ok()).ok_or(EINVAL)?;
    Ok(i32::from_le_bytes(b))
}

/// What a family answers for a level it has no options at.
pub fn no_such_level(level: u32) -> Errno {
    if level == n::SOL_SOCKET { ENOPROTOOPT } else { EOPNOTSUPP }
}

//! AF_UNIX sockets (unix(7)): stream, datagram and seqpacket, with
//! filesystem, abstract and autobound names, SCM_RIGHTS and
//! SCM_CREDENTIALS. The queues, address format and backlog rules are
//! `libs/afunix` (host-tested); this file is the locking and waiting.
//!
//! ```text
//!   Unix (Proto) ─▶ Arc<Core> { st: SpinLock<St>, wq, pollq }
//!   St.conn:  Idle | Listening(Backlog<Arc<Core>>) | Connected(peer)
//!
//!   connect(stream):   client C              listener L
//!     new embryo S { conn: Connected(C) } ──push──▶ L.backlog
//!     C.conn = Connected(S)                 accept pops S ─▶ new Socket
//!   send: data goes into the *peer's* receive queue; a writer waits on the
//!         peer's `wq` for room, a reader on its own `wq` for data, and each
//!         side wakes the other's `wq` and notifies its `pollq`.
//!   names: a path is an S_IFSOCK node plus BOUND[(st_dev, ino)]; an
//!          abstract name is ABSTRACT[(type, name)]; both hold Weak<Core>.
//! ```
//! Lock order: at most one `St` lock at a time; a peer's `Arc` is cloned
//! out before its lock is taken. `release` (last close) takes what the
//! socket holds out of its lock and drops it afterwards. Sockets that
//! only in-flight messages reach (SCM_RIGHTS cycles) are collected by
//! [`gc`].

pub mod gc;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};

use afunix::{Backlog, MsgQueue, StreamQueue, Timeout, TimeoutError, UnixAddr};
use kbase::sync::SpinLock;
use kbase::task::{Mutex, WaitQueue};
use linux_raw_sys::net as n;
use vfs::{Access, Kind};

use gc::InFlight;
use super::{Proto, Received, Rights, SendArgs, Ucred, int_opt, no_such_level};
use crate::errno::*;
use crate::file::{POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::pollq::PollQueue;

const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;
const SHUTDOWN_MASK: u8 = 3;
const POLLRDHUP: u16 = 0x2000;
/// The largest datagram: Linux refuses more than sk_sndbuf - 32.
const DGRAM_OVERHEAD: usize = 32;

/// What a message carries besides its bytes.
#[derive(Clone)]
struct Meta {
    from: UnixAddr,
    cred: Ucred,
    rights: Option<InFlight>,
}

enum Conn {
    Idle,
    Listening(Backlog<Arc<Core>>),
    Connected(Arc<Core>),
}

struct St {
    addr: UnixAddr,
    conn: Conn,
    stream: StreamQueue<Ucred, InFlight>,
    msgs: MsgQueue<Meta>,
    /// RCV_SHUTDOWN / SEND_SHUTDOWN of this socket.
    shut: u8,
    /// SO_ERROR (ECONNRESET when the peer closed with data unread).
    err: Option<Errno>,
    passcred: bool,
    reuseaddr: bool,
    sndbuf: u32,
    rcvbuf: u32,
    /// SO_PEERCRED: the peer's at connect (or socketpair); for a
    /// listener, its own from listen(2), which connecting clients copy.
    peercred: Option<Ucred>,
    /// SO_RCVTIMEO (recv, accept) and SO_SNDTIMEO (send, connect).
    rcvtimeo: Timeout,
    sndtimeo: Timeout,
    closed: bool,
}

/// One AF_UNIX socket's shared state.
pub struct Core {
    ty: u32,
    st: SpinLock<St>,
    /// Readers waiting for data here, writers waiting for room here,
    /// connectors waiting for backlog room, acceptors waiting for one.
    wq: WaitQueue,
    pollq: Arc<PollQueue>,
}

impl Core {
    fn new(ty: u32) -> Arc<Self> {
        Arc::new(Self {
            ty,
            st: SpinLock::new(St {
                addr: UnixAddr::Unnamed,
                conn: Conn::Idle,
                stream: StreamQueue::new(),
                msgs: MsgQueue::new(),
                shut: 0,
                err: None,
                passcred: false,
                reuseaddr: false,
                sndbuf: afunix::BUF_MAX,
                rcvbuf: afunix::BUF_MAX,
                peercred: None,
                rcvtimeo: Timeout::Forever,
                sndtimeo: Timeout::Forever,
                closed: false,
            }),
            wq: WaitQueue::new(),
            pollq: Arc::new(PollQueue::new()),
        })
    }

    fn is_connection(&self) -> bool {
        self.ty != n::SOCK_DGRAM
    }

    fn peer(&self) -> Option<Arc<Core>> {
        match &self.st.lock().conn {
            Conn::Connected(p) => Some(p.clone()),
            _ => None,
        }
    }

    /// Empties the receive queue (the socket closes, or the collector
    /// found it garbage): the files that were in flight in it, or None
    /// when nothing was queued at all.
    fn take_queues(&self, s: &mut St) -> Option<Vec<Rights>> {
        if s.stream.is_empty() && s.msgs.is_empty() {
            return None;
        }
        let anc = s.stream.clear().into_iter().chain(s.msgs.clear().into_iter().filter_map(|m| m.rights));
        Some(anc.map(|f| gc::unqueue(self, f)).collect())
    }

    /// unix_gc's purge of a garbage socket's queue.
    fn purge(&self) -> Vec<Rights> {
        let freed = {
            let mut s = self.st.lock();
            self.take_queues(&mut s).unwrap_or_default()
        };
        self.kick(0);
        freed
    }

    /// Wakes this socket's waiters and pollers.
    fn kick(&self, events: u16) {
        self.wq.wake_all();
        self.pollq.notify(events.into());
    }
}

/// The AF_UNIX `Proto`.
pub struct Unix {
    core: Arc<Core>,
}

/// Bound path sockets by (st_dev, ino) of their node.
static BOUND: Mutex<BTreeMap<(u64, u64), Weak<Core>>> = Mutex::new(BTreeMap::new());
/// Abstract names by (type, name): Linux hashes the type in, so the same
/// name may be bound once per type.
static ABSTRACT: Mutex<BTreeMap<(u32, Vec<u8>), Weak<Core>>> = Mutex::new(BTreeMap::new());
/// The next autobind name to try.
static AUTOBIND: AtomicU32 = AtomicU32::new(0);

fn check_type(ty: u32, protocol: u32) -> Result<u32, Errno> {
    if protocol != 0 && protocol != n::AF_UNIX {
        return Err(EPROTONOSUPPORT);
    }
    match ty {
        n::SOCK_STREAM | n::SOCK_DGRAM | n::SOCK_SEQPACKET => Ok(ty),
        // unix_create: SOCK_RAW is taken as SOCK_DGRAM.
        n::SOCK_RAW => Ok(n::SOCK_DGRAM),
        _ => Err(ESOCKTNOSUPPORT),
    }
}

pub fn create(ty: u32, protocol: u32) -> Result<Box<dyn Proto>, Errno> {
    let ty = check_type(ty, protocol)?;
    Ok(Box::new(Unix { core: Core::new(ty) }))
}

/// socketpair(2): two sockets connected to each other, each with the
/// other's credentials.
pub fn pair(ty: u32, protocol: u32) -> Result<(Box<dyn Proto>, Box<dyn Proto>), Errno> {
    let ty = check_type(ty, protocol)?;
    let (a, b) = (Core::new(ty), Core::new(ty));
    let me = Ucred::current(true);
    for (x, y) in [(&a, &b), (&b, &a)] {
        let mut s = x.st.lock();
        s.conn = Conn::Connected(y.clone());
        s.peercred = Some(me);
    }
    Ok((Box::new(Unix { core: a }), Box::new(Unix { core: b })))
}

fn parse(addr: &[u8], allow_unnamed: bool) -> Result<UnixAddr, Errno> {
    UnixAddr::parse(addr, allow_unnamed).map_err(|_| EINVAL)
}

/// The socket named `addr`, for connect and sendto.
fn lookup(addr: &UnixAddr, ty: u32) -> Result<Arc<Core>, Errno> {
    let target = match addr {
        UnixAddr::Unnamed => return Err(EINVAL),
        UnixAddr::Path(p) => {
            let t = crate::process::current();
            let cred = t.process.cred();
            let cwd = t.process.cwd.lock().clone();
            let node = crate::fs::resolve(&cred, &cwd, p, true)?;
            // unix_find_bsd: write permission on the socket node.
            crate::fs::access::check(&cred, &node, Access::WRITE)?;
            let st = node.stat()?;
            if st.kind() != Some(Kind::Socket) {
                return Err(ECONNREFUSED);
            }
            let core = BOUND.lock().get(&(st.dev, st.ino.0)).and_then(Weak::upgrade).ok_or(ECONNREFUSED)?;
            if core.ty != ty {
                return Err(EPROTOTYPE);
            }
            core
        }
        UnixAddr::Abstract(name) => ABSTRACT.lock().get(&(ty, name.clone())).and_then(Weak::upgrade).ok_or(ECONNREFUSED)?,
    };
    if target.st.lock().closed {
        return Err(ECONNREFUSED);
    }
    Ok(target)
}

impl Unix {
    fn st(&self) -> kbase::sync::SpinLockGuard<'_, St> {
        self.core.st.lock()
    }

    /// Gives an unnamed socket an abstract name of five hex digits.
    fn autobind(&self) -> Result<(), Errno> {
        let mut table = ABSTRACT.lock();
        for _ in 0..=0xf_ffff {
            let name = UnixAddr::autobind(AUTOBIND.fetch_add(1, Ordering::Relaxed));
            let UnixAddr::Abstract(bytes) = &name else { continue };
            let key = (self.core.ty, bytes.clone());
            if table.get(&key).is_some_and(|w| w.strong_count() > 0) {
                continue;
            }
            let mut s = self.st();
            if !s.addr.is_unnamed() {
                return Ok(());
            }
            s.addr = name;
            drop(s);
            table.retain(|_, w| w.strong_count() > 0);
            table.insert(key, Arc::downgrade(&self.core));
            return Ok(());
        }
        Err(ENOSPC)
    }

    fn autobind_if_passcred(&self) -> Result<(), Errno> {
        let s = self.st();
        if s.passcred && s.addr.is_unnamed() {
            drop(s);
            self.autobind()?;
        }
        Ok(())
    }

    fn bind_path(&self, path: &[u8]) -> Result<(), Errno> {
        let t = crate::process::current();
        let cred = t.process.cred();
        let cwd = t.process.cwd.lock().clone();
        let umask = t.process.umask.load(Ordering::Relaxed);
        let (dir, name) = crate::fs::resolve_parent(&cred, &cwd, path)?;
        dir.mnt.check_writable()?;
        let ino = crate::fs::access::create(&cred, &dir, &name, Kind::Socket, 0o777 & !umask, 0)
            .map_err(|e| if e == EEXIST { EADDRINUSE } else { e })?;
        let st = dir.at(ino).stat()?;
        let mut bound = BOUND.lock();
        bound.retain(|_, w| w.strong_count() > 0);
        bound.insert((st.dev, st.ino.0), Arc::downgrade(&self.core));
        Ok(())
    }

    /// Stream and seqpacket connect: queue an embryo on the listener.
    fn connect_stream(&self, target: Arc<Core>, nonblock: bool) -> Result<(), Errno> {
        match self.st().conn {
            Conn::Connected(_) => return Err(EISCONN),
            Conn::Listening(_) => return Err(EINVAL),
            Conn::Idle => {}
        }
        self.autobind_if_passcred()?;
        let embryo = Core::new(self.core.ty);
        // The accepted socket has the listener's name (unix_stream_connect).
        let listener_addr = target.st.lock().addr.clone();
        {
            let mut e = embryo.st.lock();
            e.addr = listener_addr;
            e.conn = Conn::Connected(self.core.clone());
            e.peercred = Some(Ucred::current(true));
        }
        let mut pending = Some(embryo.clone());
        let timeo = self.st().sndtimeo;
        let listener_cred = Self::wait_on(&target, nonblock, timeo, || {
            let mut l = target.st.lock();
            let cred = l.peercred;
            if l.closed {
                return Some(Err(ECONNREFUSED));
            }
            let Conn::Listening(b) = &mut l.conn else { return Some(Err(ECONNREFUSED)) };
            if b.is_full() {
                return None;
            }
            let e = pending.take()?;
            gc::set_parent(&e, Some(&target));
            let _ = b.push(e);
            Some(Ok(cred))
        })?;
        {
            let mut s = self.st();
            s.conn = Conn::Connected(embryo);
            s.peercred = listener_cred;
        }
        target.kick(POLLIN);
        self.core.kick(POLLOUT);
        Ok(())
    }

    /// A send that carries files: the user it charges them to, once the
    /// in-flight limit allows more (unix_attach_fds).
    fn rights_sender(rights: &Option<Rights>) -> Result<u32, Errno> {
        if rights.is_some() {
            gc::check_limit()?;
        }
        Ok(crate::process::current().process.cred().ruid)
    }

    /// Waits until `step` returns a result, on `core`'s queue: EAGAIN
    /// at once when `nonblock`, or when `timeo` (SO_RCVTIMEO/SNDTIMEO)
    /// passes; EINTR for a signal.
    fn wait_on<R>(
        core: &Core,
        nonblock: bool,
        timeo: Timeout,
        mut step: impl FnMut() -> Option<Result<R, Errno>>,
    ) -> Result<R, Errno> {
        let t = crate::process::current();
        let nonblock = nonblock || timeo == Timeout::Usec(0);
        let mut cond = || {
            if let Some(r) = step() {
                return Some(r);
            }
            if nonblock {
                return Some(Err(EAGAIN));
            }
            crate::signal::has_pending(&t).then_some(Err(EINTR))
        };
        match timeo {
            Timeout::Usec(us) if !nonblock => {
                let deadline = kbase::time::uptime_ns().saturating_add(us.saturating_mul(1000));
                core.wq.wait_until_deadline(deadline, cond).unwrap_or(Err(EAGAIN))
            }
            _ => core.wq.wait_until(&mut cond),
        }
    }

    fn send_stream(&self, a: &mut SendArgs<'_>, cred: Ucred) -> Result<usize, Errno> {
        let (peer, sndbuf, timeo) = {
            let s = self.st();
            if s.shut & SEND_SHUTDOWN != 0 {
                return Err(EPIPE);
            }
            match &s.conn {
                Conn::Connected(p) => (p.clone(), s.sndbuf as usize, s.sndtimeo),
                _ => return Err(ENOTCONN),
            }
        };
        let mut done = 0;
        let mut rights = a.rights.take();
        let uid = Self::rights_sender(&rights)?;
        loop {
            let r = Self::wait_on(&peer, a.nonblock, timeo, || {
                let mut p = peer.st.lock();
                if p.closed || p.shut & RCV_SHUTDOWN != 0 {
                    return Some(Err(EPIPE));
                }
                let room = sndbuf.saturating_sub(p.stream.len());
                if room == 0 {
                    return None;
                }
                let k = room.min(a.data.len() - done);
                let anc = rights.take().map(|r| gc::queue(&peer, r, uid));
                p.stream.push(a.data[done..done + k].to_vec(), cred, anc);
                Some(Ok(k))
            });
            match r {
                Ok(k) => {
                    done += k;
                    peer.kick(POLLIN);
                    if done == a.data.len() {
                        return Ok(done);
                    }
                }
                Err(e) if done == 0 => return Err(e),
                Err(_) => return Ok(done),
            }
        }
    }

    fn send_msg(&self, a: &mut SendArgs<'_>, cred: Ucred) -> Result<usize, Errno> {
        let to = match a.to {
            Some(addr) if self.core.ty == n::SOCK_DGRAM => Some(parse(addr, false)?),
            _ => None,
        };
        let (from, sndbuf, own_peer, timeo) = {
            let s = self.st();
            if s.shut & SEND_SHUTDOWN != 0 {
                return Err(EPIPE);
            }
            let peer = match &s.conn {
                Conn::Connected(p) => Some(p.clone()),
                _ => None,
            };
            (s.addr.clone(), s.sndbuf as usize, peer, s.sndtimeo)
        };
        if a.data.len() > sndbuf.saturating_sub(DGRAM_OVERHEAD) {
            return Err(EMSGSIZE);
        }
        let target = match to {
            Some(addr) => lookup(&addr, self.core.ty)?,
            None => own_peer.ok_or(ENOTCONN)?,
        };
        let is_stream_like = self.core.is_connection();
        let me = &self.core;
        let mut rights = a.rights.take();
        let uid = Self::rights_sender(&rights)?;
        let len = a.data.len();
        Self::wait_on(&target, a.nonblock, timeo, || {
            let mut p = target.st.lock();
            if p.closed {
                return Some(Err(if is_stream_like { EPIPE } else { ECONNREFUSED }));
            }
            if is_stream_like && p.shut & RCV_SHUTDOWN != 0 {
                return Some(Err(EPIPE));
            }
            let connected_to_me = matches!(&p.conn, Conn::Connected(x) if Arc::ptr_eq(x, me));
            if !is_stream_like && matches!(p.conn, Conn::Connected(_)) && !connected_to_me {
                // unix_may_send: a connected datagram socket hears only its peer.
                return Some(Err(EPERM));
            }
            let full = (!connected_to_me && p.msgs.len() > afunix::MAX_DGRAM_QLEN)
                || (!p.msgs.is_empty() && p.msgs.bytes() + len > sndbuf);
            if full {
                return None;
            }
            let rights = rights.take().map(|r| gc::queue(&target, r, uid));
            p.msgs.push(a.data.to_vec(), Meta { from: from.clone(), cred, rights });
            Some(Ok(len))
        })
        .inspect(|_| target.kick(POLLIN))
    }

    fn recv_stream(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> Result<Received, Errno> {
        let peek = flags & n::MSG_PEEK != 0;
        let mut peer = None;
        let timeo = self.st().rcvtimeo;
        let r = Self::wait_on(&self.core, nonblock, timeo, || {
            let mut s = self.core.st.lock();
            let Conn::Connected(p) = &s.conn else { return Some(Err(EINVAL)) };
            peer = Some(p.clone());
            let split = s.passcred;
            if buf.is_empty() {
                return Some(Ok((afunix::StreamRead { n: 0, key: None, anc: None }, false)));
            }
            if !s.stream.is_empty() {
                let r = s.stream.read(buf, peek, split);
                let anc = r.anc.map(|f| if peek { f.into_peeked() } else { gc::unqueue(&self.core, f) });
                return Some(Ok((afunix::StreamRead { n: r.n, key: r.key, anc }, split)));
            }
            if let Some(e) = s.err.take() {
                return Some(Err(e));
            }
            if s.shut & RCV_SHUTDOWN != 0 {
                return Some(Ok((afunix::StreamRead { n: 0, key: None, anc: None }, false)));
            }
            None
        });
        let (r, passcred) = r?;
        if !peek {
            self.core.wq.wake_all();
        }
        let peer = peer.ok_or(EINVAL)?;
        if !peek {
            peer.pollq.notify(POLLOUT.into());
        }
        let from = peer.st.lock().addr.clone();
        Ok(Received {
            n: r.n,
            full: r.n,
            from: if from.is_unnamed() { Vec::new() } else { from.encode() },
            rights: r.anc,
            creds: if passcred { r.key } else { None },
        })
    }

    fn recv_msg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> Result<Received, Errno> {
        let peek = flags & n::MSG_PEEK != 0;
        let ty = self.core.ty;
        let timeo = self.st().rcvtimeo;
        let r = Self::wait_on(&self.core, nonblock, timeo, || {
            let mut s = self.core.st.lock();
            if ty == n::SOCK_SEQPACKET && !matches!(s.conn, Conn::Connected(_)) {
                return Some(Err(ENOTCONN));
            }
            let passcred = s.passcred;
            if let Some((k, full, meta)) = s.msgs.recv(buf, peek) {
                let rights = meta.rights.map(|f| if peek { f.into_peeked() } else { gc::unqueue(&self.core, f) });
                return Some(Ok(Some((k, full, meta.from, meta.cred, rights, passcred))));
            }
            if let Some(e) = s.err.take() {
                return Some(Err(e));
            }
            (s.shut & RCV_SHUTDOWN != 0).then_some(Ok(None))
        })?;
        let Some((k, full, from, cred, rights, passcred)) = r else { return Ok(Received::default()) };
        if !peek {
            self.core.wq.wake_all();
            if let Some(p) = self.core.peer() {
                p.pollq.notify(POLLOUT.into());
            }
        }
        Ok(Received {
            n: k,
            full,
            from: if from.is_unnamed() { Vec::new() } else { from.encode() },
            rights,
            creds: passcred.then_some(cred),
        })
    }
}

impl Proto for Unix {
    fn family(&self) -> u32 {
        n::AF_UNIX
    }

    fn sock_type(&self) -> u32 {
        self.core.ty
    }

    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let addr = parse(addr, true)?;
        if !self.st().addr.is_unnamed() {
            // unix_bind_bsd makes the node before it looks at the socket:
            // a path that exists is EADDRINUSE even for a bound socket.
            if let UnixAddr::Path(p) = &addr {
                let t = crate::process::current();
                let cwd = t.process.cwd.lock().clone();
                if crate::fs::resolve(&t.process.cred(), &cwd, p, false).is_ok() {
                    return Err(EADDRINUSE);
                }
            }
            return Err(EINVAL);
        }
        match &addr {
            UnixAddr::Unnamed => return self.autobind(),
            UnixAddr::Path(p) => self.bind_path(p)?,
            UnixAddr::Abstract(name) => {
                let mut table = ABSTRACT.lock();
                let key = (self.core.ty, name.clone());
                if table.get(&key).and_then(Weak::upgrade).is_some_and(|c| !c.st.lock().closed) {
                    return Err(EADDRINUSE);
                }
                table.retain(|_, w| w.strong_count() > 0);
                table.insert(key, Arc::downgrade(&self.core));
            }
        }
        let mut s = self.st();
        if !s.addr.is_unnamed() {
            return Err(EINVAL);
        }
        s.addr = addr;
        Ok(())
    }

    fn connect(&self, addr: &[u8], nonblock: bool) -> Result<(), Errno> {
        if self.core.ty == n::SOCK_DGRAM {
            // unix_dgram_connect: AF_UNSPEC dissolves the association.
            if addr.len() >= 2 && u16::from_le_bytes([addr[0], addr[1]]) == n::AF_UNSPEC as u16 {
                self.st().conn = Conn::Idle;
                return Ok(());
            }
            let target = lookup(&parse(addr, false)?, self.core.ty)?;
            self.autobind_if_passcred()?;
            {
                let t = target.st.lock();
                let ok = match &t.conn {
                    Conn::Connected(x) => Arc::ptr_eq(x, &self.core),
                    _ => true,
                };
                if !ok {
                    return Err(EPERM);
                }
            }
            self.st().conn = Conn::Connected(target);
            self.core.kick(POLLOUT);
            return Ok(());
        }
        let target = lookup(&parse(addr, false)?, self.core.ty)?;
        self.connect_stream(target, nonblock)
    }

    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        if self.core.ty == n::SOCK_DGRAM {
            return Err(EOPNOTSUPP);
        }
        let me = Ucred::current(true);
        let mut s = self.st();
        if s.addr.is_unnamed() {
            return Err(EINVAL);
        }
        match &mut s.conn {
            Conn::Listening(b) => b.set_limit(backlog, afunix::SOMAXCONN),
            Conn::Connected(_) => return Err(EINVAL),
            Conn::Idle => {
                s.conn = Conn::Listening(Backlog::new(backlog, afunix::SOMAXCONN));
                s.peercred = Some(me);
            }
        }
        drop(s);
        // Connectors blocked on a full backlog may fit now.
        self.core.kick(0);
        Ok(())
    }

    fn accept(&self, nonblock: bool) -> Result<(Box<dyn Proto>, Vec<u8>), Errno> {
        if self.core.ty == n::SOCK_DGRAM {
            return Err(EOPNOTSUPP);
        }
        let timeo = self.st().rcvtimeo;
        let s = Self::wait_on(&self.core, nonblock, timeo, || {
            let mut s = self.core.st.lock();
            let Conn::Listening(b) = &mut s.conn else { return Some(Err(EINVAL)) };
            b.pop().map(Ok)
        })?;
        gc::set_parent(&s, None);
        self.core.kick(0);
        let peer_addr = s.peer().map(|p| p.st.lock().addr.clone()).unwrap_or(UnixAddr::Unnamed);
        Ok((Box::new(Unix { core: s }), peer_addr.encode()))
    }

    fn send(&self, mut a: SendArgs<'_>) -> Result<usize, Errno> {
        if a.flags & n::MSG_OOB != 0 {
            return Err(EOPNOTSUPP);
        }
        if self.core.ty == n::SOCK_STREAM && a.to.is_some() {
            return Err(if self.core.peer().is_some() { EISCONN } else { EOPNOTSUPP });
        }
        if self.core.ty == n::SOCK_DGRAM && a.to.is_none() {
            self.autobind_if_passcred()?;
        }
        let cred = a.creds.unwrap_or_else(|| Ucred::current(false));
        if self.core.ty == n::SOCK_STREAM { self.send_stream(&mut a, cred) } else { self.send_msg(&mut a, cred) }
    }

    fn recv(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> Result<Received, Errno> {
        if flags & n::MSG_OOB != 0 {
            return Err(EOPNOTSUPP);
        }
        let nonblock = nonblock || flags & n::MSG_DONTWAIT != 0;
        if self.core.ty == n::SOCK_STREAM { self.recv_stream(buf, flags, nonblock) } else { self.recv_msg(buf, flags, nonblock) }
    }

    fn shutdown(&self, how: u32) -> Result<(), Errno> {
        if how > n::SHUT_RDWR {
            return Err(EINVAL);
        }
        // unix_shutdown: SHUT_RD..SHUT_RDWR become RCV, SEND or both.
        let mode = (how as u8 + 1) & SHUTDOWN_MASK;
        let peer = {
            let mut s = self.st();
            s.shut |= mode;
            match &s.conn {
                Conn::Connected(p) => Some(p.clone()),
                _ => None,
            }
        };
        self.core.kick(0);
        if let Some(p) = peer.filter(|_| self.core.is_connection()) {
            let mut peer_mode = 0;
            if mode & RCV_SHUTDOWN != 0 {
                peer_mode |= SEND_SHUTDOWN;
            }
            if mode & SEND_SHUTDOWN != 0 {
                peer_mode |= RCV_SHUTDOWN;
            }
            p.st.lock().shut |= peer_mode;
            p.kick(0);
        }
        Ok(())
    }

    fn local_addr(&self) -> Vec<u8> {
        self.st().addr.encode()
    }

    fn peer_addr(&self) -> Result<Vec<u8>, Errno> {
        let p = self.core.peer().ok_or(ENOTCONN)?;
        let a = p.st.lock().addr.encode();
        Ok(a)
    }

    fn getsockopt(&self, level: u32, name: u32) -> Result<Vec<u8>, Errno> {
        let int = |v: u32| Ok(v.to_le_bytes().to_vec());
        if level != n::SOL_SOCKET {
            return Err(no_such_level(level));
        }
        let mut s = self.st();
        match name {
            n::SO_ERROR => int(s.err.take().map_or(0, |e| e.0 as u32)),
            n::SO_ACCEPTCONN => int(matches!(s.conn, Conn::Listening(_)).into()),
            n::SO_SNDBUF => int(s.sndbuf),
            n::SO_RCVBUF => int(s.rcvbuf),
            n::SO_PASSCRED => int(s.passcred.into()),
            n::SO_REUSEADDR => int(s.reuseaddr.into()),
            n::SO_RCVTIMEO_OLD | n::SO_RCVTIMEO_NEW => Ok(s.rcvtimeo.encode().to_vec()),
            n::SO_SNDTIMEO_OLD | n::SO_SNDTIMEO_NEW => Ok(s.sndtimeo.encode().to_vec()),
            n::SO_PEERCRED => {
                // No peer: pid 0 and the overflow ids, as Linux.
                let c = s.peercred.unwrap_or(Ucred { pid: 0, uid: 65534, gid: 65534 });
                let mut v = Vec::with_capacity(12);
                for x in [c.pid, c.uid, c.gid] {
                    v.extend_from_slice(&x.to_le_bytes());
                }
                Ok(v)
            }
            _ => Err(ENOPROTOOPT),
        }
    }

    fn setsockopt(&self, level: u32, name: u32, val: &[u8]) -> Result<(), Errno> {
        if level != n::SOL_SOCKET {
            return Err(no_such_level(level));
        }
        if let n::SO_RCVTIMEO_OLD | n::SO_RCVTIMEO_NEW | n::SO_SNDTIMEO_OLD | n::SO_SNDTIMEO_NEW = name {
            let t = Timeout::parse(val).map_err(|e| if e == TimeoutError::Dom { EDOM } else { EINVAL })?;
            let mut s = self.st();
            if matches!(name, n::SO_RCVTIMEO_OLD | n::SO_RCVTIMEO_NEW) { s.rcvtimeo = t } else { s.sndtimeo = t }
            return Ok(());
        }
        let v = int_opt(val)?;
        let mut s = self.st();
        match name {
            n::SO_SNDBUF => s.sndbuf = afunix::buf_size(v, afunix::MIN_SNDBUF),
            n::SO_RCVBUF => s.rcvbuf = afunix::buf_size(v, afunix::MIN_RCVBUF),
            n::SO_PASSCRED => s.passcred = v != 0,
            n::SO_REUSEADDR => s.reuseaddr = v != 0,
            // Accepted, meaningless for AF_UNIX (as on Linux).
            n::SO_KEEPALIVE | n::SO_BROADCAST | n::SO_DONTROUTE | n::SO_OOBINLINE | n::SO_PRIORITY => {}
            _ => return Err(ENOPROTOOPT),
        }
        Ok(())
    }

    fn poll(&self) -> u16 {
        let mut m = 0;
        let peer = {
            let s = self.st();
            if s.err.is_some() {
                m |= POLLERR;
            }
            if s.shut == SHUTDOWN_MASK {
                m |= POLLHUP;
            }
            if s.shut & RCV_SHUTDOWN != 0 {
                m |= POLLIN | POLLRDHUP;
            }
            if !s.stream.is_empty() || !s.msgs.is_empty() {
                m |= POLLIN;
            }
            match &s.conn {
                Conn::Listening(b) => {
                    if !b.is_empty() {
                        m |= POLLIN;
                    }
                    return m;
                }
                Conn::Idle => {
                    if self.core.is_connection() {
                        m |= POLLHUP;
                    }
                    None
                }
                Conn::Connected(p) => Some((p.clone(), s.sndbuf as usize)),
            }
        };
        // Writable: the peer has room (or there is no peer to be full).
        let writable = match peer {
            None => true,
            Some((p, sndbuf)) => {
                let p = p.st.lock();
                if self.core.ty == n::SOCK_STREAM {
                    p.closed || p.stream.len() < sndbuf
                } else {
                    p.closed || p.msgs.bytes() < sndbuf && p.msgs.len() <= afunix::MAX_DGRAM_QLEN
                }
            }
        };
        if writable {
            m |= POLLOUT;
        }
        m
    }

    fn poll_queue(&self) -> Arc<PollQueue> {
        self.core.pollq.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn readable_bytes(&self) -> usize {
        let s = self.st();
        if self.core.ty == n::SOCK_STREAM { s.stream.len() } else { s.msgs.front_len().unwrap_or(0) }
    }

    fn release(&self) {
        let (conn, unread, addr) = {
            let mut s = self.st();
            s.closed = true;
            s.shut = SHUTDOWN_MASK;
            let conn = core::mem::replace(&mut s.conn, Conn::Idle);
            (conn, self.core.take_queues(&mut s), s.addr.clone())
        };
        self.unbind(&addr);
        let had_unread = unread.is_some();
        self.core.kick(0);
        match conn {
            Conn::Listening(mut b) => {
                let embryos: Vec<Arc<Core>> = b.drain().collect();
                for e in embryos {
                    Unix { core: e }.release_embryo();
                }
            }
            Conn::Connected(p) if self.core.is_connection() => {
                {
                    let mut s = p.st.lock();
                    s.shut = SHUTDOWN_MASK;
                    if had_unread {
                        s.err = Some(ECONNRESET);
                    }
                }
                p.kick(0);
            }
            _ => {}
        }
        drop(unread);
        gc::set_parent(&self.core, None);
        gc::maybe_collect();
    }
}

impl Unix {
    /// A closed socket's name goes from the tables at once: their `Weak`
    /// would otherwise keep the socket's memory until the next bind prunes.
    fn unbind(&self, addr: &UnixAddr) {
        let me = Arc::as_ptr(&self.core);
        match addr {
            UnixAddr::Unnamed => {}
            UnixAddr::Abstract(name) => {
                let mut t = ABSTRACT.lock();
                let key = (self.core.ty, name.clone());
                if t.get(&key).is_some_and(|w| Weak::as_ptr(w) == me) {
                    t.remove(&key);
                }
            }
            UnixAddr::Path(_) => BOUND.lock().retain(|_, w| Weak::as_ptr(w) != me),
        }
    }

    /// A connection that was never accepted: its client sees ECONNRESET.
    fn release_embryo(self) {
        if let Some(p) = self.core.peer() {
            p.st.lock().err = Some(ECONNRESET);
        }
        self.release();
    }
}

//! Socket system calls: socket(2), bind(2), sendmsg(2) and the rest.
//!
//! These translate between user memory and [`crate::net`]: they copy
//! addresses, iovecs and control messages (SCM_RIGHTS, SCM_CREDENTIALS)
//! in and out, and leave every decision to the socket's family.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

use cred::Cap;
use linux_raw_sys::net::{self as n, cmsghdr, msghdr};

use crate::errno::{EBADF, EFAULT, EINVAL, EMSGSIZE, ENOBUFS, ENOTSOCK, EPERM, Errno, SysResult};
use crate::file::{File, OpenFlags};
use crate::net::{Rights, SendArgs, Socket, Ucred};
use crate::process::current;
use crate::uaccess;

/// SOCK_NONBLOCK and SOCK_CLOEXEC: O_NONBLOCK and O_CLOEXEC's bits.
const SOCK_FLAGS: u32 = OpenFlags::NONBLOCK | OpenFlags::CLOEXEC;
/// SOCK_MAX: socket types are below it (EINVAL otherwise).
const SOCK_MAX: u32 = 11;
/// sizeof(struct sockaddr_storage): the longest address a call takes.
const ADDR_MAX: i32 = 128;
/// UIO_MAXIOV.
const IOV_MAX: usize = 1024;
/// One step of a stream transfer.
const CHUNK: usize = 64 * 1024;
/// The largest datagram any family takes (twice the largest SO_SNDBUF).
const MSG_MAX: usize = 2 * afunix::BUF_MAX as usize;
/// net.core.optmem_max's default: the most control bytes a sendmsg takes.
const CONTROL_MAX: usize = 20480;
const CMSG_HDR: usize = size_of::<cmsghdr>();

fn cmsg_align(len: usize) -> usize {
    (len + 7) & !7
}

/// The socket behind `fd`: EBADF for no file, ENOTSOCK for another kind.
fn socket_file(fd: i32) -> Result<Arc<dyn File>, Errno> {
    let f = current().process.files.lock().get(fd)?;
    f.as_any().and_then(|a| a.downcast_ref::<Socket>()).ok_or(ENOTSOCK)?;
    Ok(f)
}

fn as_socket(f: &Arc<dyn File>) -> Result<&Socket, Errno> {
    f.as_any().and_then(|a| a.downcast_ref::<Socket>()).ok_or(ENOTSOCK)
}

/// Splits socket(2)'s `type` into the type and its SOCK_* flags.
fn split_type(ty: i32) -> Result<(u32, bool, bool), Errno> {
    let ty = ty as u32;
    let flags = ty & !0xf;
    if flags & !SOCK_FLAGS != 0 {
        return Err(EINVAL);
    }
    let base = ty & 0xf;
    if base >= SOCK_MAX {
        return Err(EINVAL);
    }
    Ok((base, flags & OpenFlags::NONBLOCK != 0, flags & OpenFlags::CLOEXEC != 0))
}

/// A caller's sockaddr: EINVAL for a length outside 0..=128.
fn read_addr(addr: u64, len: i32) -> Result<Vec<u8>, Errno> {
    if !(0..=ADDR_MAX).contains(&len) {
        return Err(EINVAL);
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    uaccess::read_bytes(addr, len as usize)
}

/// move_addr_to_user for calls whose address is optional (accept,
/// recvfrom): nothing when `addr` is NULL.
fn write_addr(addr: u64, len_ptr: u64, bytes: &[u8]) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    copy_addr_out(addr, len_ptr, bytes)
}

/// move_addr_to_user: copies what fits of `bytes` to `addr` and stores
/// their full length at `len_ptr`.
fn copy_addr_out(addr: u64, len_ptr: u64, bytes: &[u8]) -> Result<(), Errno> {
    let len = uaccess::read_u32(len_ptr)? as i32;
    if len < 0 {
        return Err(EINVAL);
    }
    let k = bytes.len().min(len as usize);
    if k > 0 {
        uaccess::write_bytes(addr, &bytes[..k])?;
    }
    uaccess::write_u32(len_ptr, bytes.len() as u32)
}

/// socket(2).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> SysResult {
    let (base, nonblock, cloexec) = split_type(ty)?;
    let proto = crate::net::create(domain as u32, base, protocol as u32)?;
    crate::file::install(Socket::new(proto, nonblock), cloexec)
}

/// socketpair(2).
pub fn socketpair(domain: i32, ty: i32, protocol: i32, sv: u64) -> SysResult {
    let (base, nonblock, cloexec) = split_type(ty)?;
    let (a, b) = crate::net::pair(domain as u32, base, protocol as u32)?;
    let (a, b) = (Socket::new(a, nonblock), Socket::new(b, nonblock));
    let t = current();
    let (fa, fb) = {
        let mut files = t.process.files.lock();
        let fa = files.insert(a, cloexec, 0)?;
        match files.insert(b, cloexec, 0) {
            Ok(fb) => (fa, fb),
            Err(e) => {
                let _ = files.remove(fa);
                return Err(e);
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&fa.to_le_bytes());
    out[4..].copy_from_slice(&fb.to_le_bytes());
    if let Err(e) = uaccess::write_bytes(sv, &out) {
        let mut files = t.process.files.lock();
        let closed = (files.remove(fa), files.remove(fb));
        drop(files);
        drop(closed);
        return Err(e);
    }
    Ok(0)
}

pub fn bind(fd: i32, addr: u64, len: i32) -> SysResult {
    let f = socket_file(fd)?;
    let a = read_addr(addr, len)?;
    as_socket(&f)?.proto().bind(&a)?;
    Ok(0)
}

pub fn connect(fd: i32, addr: u64, len: i32) -> SysResult {
    let f = socket_file(fd)?;
    let a = read_addr(addr, len)?;
    let s = as_socket(&f)?;
    s.proto().connect(&a, s.is_nonblock(0))?;
    Ok(0)
}

pub fn listen(fd: i32, backlog: i32) -> SysResult {
    as_socket(&socket_file(fd)?)?.proto().listen(backlog)?;
    Ok(0)
}

/// accept(2) and accept4(2).
pub fn accept4(fd: i32, addr: u64, len_ptr: u64, flags: u32) -> SysResult {
    let f = socket_file(fd)?;
    if flags & !SOCK_FLAGS != 0 {
        return Err(EINVAL);
    }
    let s = as_socket(&f)?;
    let (proto, peer) = s.proto().accept(s.is_nonblock(0))?;
    let new = Socket::new(proto, flags & OpenFlags::NONBLOCK != 0);
    write_addr(addr, len_ptr, &peer)?;
    crate::file::install(new, flags & OpenFlags::CLOEXEC != 0)
}

pub fn getsockname(fd: i32, addr: u64, len_ptr: u64) -> SysResult {
    let f = socket_file(fd)?;
    let a = as_socket(&f)?.proto().local_addr();
    copy_addr_out(addr, len_ptr, &a)?;
    Ok(0)
}

pub fn getpeername(fd: i32, addr: u64, len_ptr: u64) -> SysResult {
    let f = socket_file(fd)?;
    let a = as_socket(&f)?.proto().peer_addr()?;
    copy_addr_out(addr, len_ptr, &a)?;
    Ok(0)
}

pub fn shutdown(fd: i32, how: i32) -> SysResult {
    let how = u32::try_from(how).map_err(|_| EINVAL)?;
    as_socket(&socket_file(fd)?)?.proto().shutdown(how)?;
    Ok(0)
}

pub fn setsockopt(fd: i32, level: i32, name: i32, val: u64, len: i32) -> SysResult {
    let f = socket_file(fd)?;
    let len = usize::try_from(len).map_err(|_| EINVAL)?;
    let v = uaccess::read_bytes(val, len.min(4096))?;
    as_socket(&f)?.proto().setsockopt(level as u32, name as u32, &v)?;
    Ok(0)
}

pub fn getsockopt(fd: i32, level: i32, name: i32, val: u64, len_ptr: u64) -> SysResult {
    let f = socket_file(fd)?;
    let len = uaccess::read_u32(len_ptr)? as i32;
    if len < 0 {
        return Err(EINVAL);
    }
    let v = as_socket(&f)?.getsockopt(level as u32, name as u32)?;
    let k = v.len().min(len as usize);
    uaccess::write_bytes(val, &v[..k])?;
    uaccess::write_u32(len_ptr, k as u32)?;
    Ok(0)
}

pub fn sendto(fd: i32, buf: u64, len: usize, flags: u32, addr: u64, addr_len: i32) -> SysResult {
    let f = socket_file(fd)?;
    let to = if addr != 0 { read_addr(addr, addr_len)? } else { Vec::new() };
    send(as_socket(&f)?, &[(buf, len)], &to, None, None, flags)
}

pub fn recvfrom(fd: i32, buf: u64, len: usize, flags: u32, addr: u64, len_ptr: u64) -> SysResult {
    let f = socket_file(fd)?;
    let r = recv(as_socket(&f)?, &[(buf, len)], flags)?;
    write_addr(addr, len_ptr, &r.from)?;
    // Files that came with the bytes have nowhere to go: they close.
    Ok(r.ret)
}

/// The fields of a user `struct msghdr`.
struct MsgHdr {
    name: u64,
    namelen: i32,
    iov: Vec<(u64, usize)>,
    control: u64,
    controllen: usize,
}

fn read_msghdr(msg: u64) -> Result<MsgHdr, Errno> {
    let mut b = [0u8; size_of::<msghdr>()];
    uaccess::read_into(msg, &mut b)?;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let namelen = u32::from_le_bytes(b[offset_of!(msghdr, msg_namelen)..][..4].try_into().unwrap_or([0; 4])) as i32;
    let iovlen = u64_at(offset_of!(msghdr, msg_iovlen)) as usize;
    if iovlen > IOV_MAX {
        return Err(EMSGSIZE);
    }
    Ok(MsgHdr {
        name: u64_at(offset_of!(msghdr, msg_name)),
        namelen,
        iov: if iovlen == 0 { Vec::new() } else { super::fs::iovecs(u64_at(offset_of!(msghdr, msg_iov)), iovlen)? },
        control: u64_at(offset_of!(msghdr, msg_control)),
        controllen: u64_at(offset_of!(msghdr, msg_controllen)) as usize,
    })
}

pub fn sendmsg(fd: i32, msg: u64, flags: u32) -> SysResult {
    let f = socket_file(fd)?;
    send_msghdr(as_socket(&f)?, msg, flags)
}

pub fn recvmsg(fd: i32, msg: u64, flags: u32) -> SysResult {
    let f = socket_file(fd)?;
    recv_msghdr(as_socket(&f)?, msg, flags)
}

/// recvmmsg's MSG_WAITFORONE (include/linux/socket.h; linux-raw-sys
/// lacks it).
const MSG_WAITFORONE: u32 = 0x10000;
/// sizeof(struct mmsghdr): a msghdr and the `msg_len` the call fills in.
const MMSGHDR: u64 = size_of::<msghdr>() as u64 + 8;

/// sendmmsg(2): sendmsg for each of up to UIO_MAXIOV messages; stops at
/// the first error, which is returned only if nothing was sent.
pub fn sendmmsg(fd: i32, vec: u64, vlen: u32, flags: u32) -> SysResult {
    let f = socket_file(fd)?;
    let s = as_socket(&f)?;
    let mut sent = 0;
    for i in 0..(vlen as usize).min(IOV_MAX) {
        let m = vec.checked_add(i as u64 * MMSGHDR).ok_or(EFAULT)?;
        let r = send_msghdr(s, m, flags)
            .and_then(|k| uaccess::write_u32(m + size_of::<msghdr>() as u64, k as u32).map(|()| k));
        match r {
            Ok(_) => sent += 1,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(sent)
}

/// recvmmsg(2): recvmsg for each of up to UIO_MAXIOV messages. The
/// timeout (a timespec, its remainder written back on success) is looked
/// at only between messages, as on Linux; MSG_WAITFORONE makes every
/// receive after the first non-blocking. An error after the first
/// message ends the batch and is not reported.
pub fn recvmmsg(fd: i32, vec: u64, vlen: u32, flags: u32, timeout: u64) -> SysResult {
    let deadline = if timeout == 0 {
        None
    } else {
        Some(kbase::time::uptime_ns().saturating_add(uaccess::read_timespec_ns(timeout)?))
    };
    let f = socket_file(fd)?;
    let s = as_socket(&f)?;
    let mut flags = flags;
    let mut got = 0;
    for i in 0..(vlen as usize).min(IOV_MAX) {
        let m = vec.checked_add(i as u64 * MMSGHDR).ok_or(EFAULT)?;
        let r = recv_msghdr(s, m, flags & !MSG_WAITFORONE)
            .and_then(|k| uaccess::write_u32(m + size_of::<msghdr>() as u64, k as u32));
        match r {
            Ok(()) => got += 1,
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
        if flags & MSG_WAITFORONE != 0 {
            flags |= n::MSG_DONTWAIT;
        }
        if deadline.is_some_and(|d| kbase::time::uptime_ns() >= d) {
            break;
        }
    }
    if let Some(d) = deadline {
        let left = d.saturating_sub(kbase::time::uptime_ns());
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&(left / 1_000_000_000).to_le_bytes());
        out[8..].copy_from_slice(&(left % 1_000_000_000).to_le_bytes());
        uaccess::write_bytes(timeout, &out)?;
    }
    Ok(got)
}

/// sendmsg on `s` with the user msghdr at `msg`.
fn send_msghdr(s: &Socket, msg: u64, flags: u32) -> SysResult {
    let m = read_msghdr(msg)?;
    let to = if m.name != 0 { read_addr(m.name, m.namelen)? } else { Vec::new() };
    let (rights, creds) = read_control(m.control, m.controllen)?;
    send(s, &m.iov, &to, rights, creds, flags)
}

/// recvmsg on `s` into the user msghdr at `msg`.
fn recv_msghdr(s: &Socket, msg: u64, flags: u32) -> SysResult {
    let m = read_msghdr(msg)?;
    let r = recv(s, &m.iov, flags)?;
    let mut out_flags = r.flags;
    if m.name != 0 {
        let k = r.from.len().min(m.namelen.max(0) as usize);
        uaccess::write_bytes(m.name, &r.from[..k])?;
    }
    let namelen = if m.name != 0 { r.from.len() as u32 } else { 0 };
    let (used, ctrunc) = write_control(m.control, m.controllen, r.creds, r.rights, flags & n::MSG_CMSG_CLOEXEC != 0)?;
    if ctrunc {
        out_flags |= n::MSG_CTRUNC;
    }
    uaccess::write_u32(msg + offset_of!(msghdr, msg_namelen) as u64, namelen)?;
    uaccess::write_u64(msg + offset_of!(msghdr, msg_controllen) as u64, used as u64)?;
    uaccess::write_u32(msg + offset_of!(msghdr, msg_flags) as u64, out_flags)?;
    Ok(r.ret)
}

/// Copies `len` bytes of the iovecs, starting `skip` bytes in.
fn gather(iov: &[(u64, usize)], mut skip: usize, len: usize) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| crate::errno::ENOMEM)?;
    for &(base, l) in iov {
        if v.len() == len {
            break;
        }
        if skip >= l {
            skip -= l;
            continue;
        }
        let k = (l - skip).min(len - v.len());
        let at = v.len();
        v.resize(at + k, 0);
        uaccess::read_into(base.checked_add(skip as u64).ok_or(EFAULT)?, &mut v[at..])?;
        skip = 0;
    }
    Ok(v)
}

/// Copies `data` into the iovecs, starting `skip` bytes in.
fn scatter(iov: &[(u64, usize)], mut skip: usize, mut data: &[u8]) -> Result<(), Errno> {
    for &(base, l) in iov {
        if data.is_empty() {
            break;
        }
        if skip >= l {
            skip -= l;
            continue;
        }
        let k = (l - skip).min(data.len());
        uaccess::write_bytes(base.checked_add(skip as u64).ok_or(EFAULT)?, &data[..k])?;
        data = &data[k..];
        skip = 0;
    }
    Ok(())
}

fn send(s: &Socket, iov: &[(u64, usize)], to: &[u8], rights: Option<Rights>, creds: Option<Ucred>, flags: u32) -> SysResult {
    let total = iov.iter().fold(0usize, |a, v| a.saturating_add(v.1)).min(0x7fff_f000);
    let nonblock = s.is_nonblock(flags);
    let to = (!to.is_empty()).then_some(to);
    if !s.is_stream() {
        if total > MSG_MAX {
            return Err(EMSGSIZE);
        }
        let data = gather(iov, 0, total)?;
        return s.send(SendArgs { data: &data, to, rights, creds, flags, nonblock });
    }
    let mut done = 0;
    let mut rights = rights;
    loop {
        let want = (total - done).min(CHUNK);
        let data = gather(iov, done, want)?;
        match s.send(SendArgs { data: &data, to, rights: rights.take(), creds, flags, nonblock }) {
            Ok(k) => {
                done += k;
                if k < want || done == total {
                    return Ok(done);
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => return Ok(done),
        }
    }
}

/// What recv gives back to recvfrom and recvmsg.
struct Got {
    ret: usize,
    flags: u32,
    from: Vec<u8>,
    rights: Option<Rights>,
    creds: Option<Ucred>,
}

fn recv(s: &Socket, iov: &[(u64, usize)], flags: u32) -> Result<Got, Errno> {
    let want = iov.iter().fold(0usize, |a, v| a.saturating_add(v.1)).min(0x7fff_f000);
    let nonblock = s.is_nonblock(flags);
    let proto = s.proto();
    if !s.is_stream() {
        let mut buf = alloc::vec![0u8; want.min(MSG_MAX)];
        let r = proto.recv(&mut buf, flags, nonblock)?;
        scatter(iov, 0, &buf[..r.n])?;
        let truncated = r.n < r.full;
        return Ok(Got {
            ret: if flags & n::MSG_TRUNC != 0 { r.full } else { r.n },
            flags: if truncated { n::MSG_TRUNC } else { 0 },
            from: r.from,
            rights: r.rights,
            creds: r.creds,
        });
    }
    let waitall = flags & n::MSG_WAITALL != 0 && flags & n::MSG_PEEK == 0;
    let mut buf = alloc::vec![0u8; want.min(CHUNK)];
    let mut got = Got { ret: 0, flags: 0, from: Vec::new(), rights: None, creds: None };
    loop {
        let k = (want - got.ret).min(CHUNK);
        let r = match proto.recv(&mut buf[..k], flags, nonblock && got.ret == 0 || flags & n::MSG_DONTWAIT != 0) {
            Ok(r) => r,
            Err(e) if got.ret == 0 => return Err(e),
            Err(_) => break,
        };
        scatter(iov, got.ret, &buf[..r.n])?;
        got.ret += r.n;
        if got.from.is_empty() {
            got.from = r.from;
        }
        got.creds = got.creds.or(r.creds);
        let has_rights = r.rights.is_some();
        if has_rights {
            got.rights = r.rights;
        }
        if !waitall || r.n == 0 || got.ret == want || has_rights {
            break;
        }
    }
    Ok(got)
}

/// Parses sendmsg's control messages: the files of SCM_RIGHTS and the
/// checked credentials of SCM_CREDENTIALS (__scm_send).
fn read_control(ctl: u64, len: usize) -> Result<(Option<Rights>, Option<Ucred>), Errno> {
    if len == 0 {
        return Ok((None, None));
    }
    if len > CONTROL_MAX {
        return Err(ENOBUFS);
    }
    let b = uaccess::read_bytes(ctl, len)?;
    let mut rights: Option<Rights> = None;
    let mut creds = None;
    let mut off = 0;
    while off + CMSG_HDR <= len {
        let h = &b[off..];
        let clen = u64::from_le_bytes(h[..8].try_into().unwrap_or([0; 8])) as usize;
        let level = u32::from_le_bytes(h[8..12].try_into().unwrap_or([0; 4]));
        let ty = u32::from_le_bytes(h[12..16].try_into().unwrap_or([0; 4]));
        if clen < CMSG_HDR || clen > len - off {
            return Err(EINVAL);
        }
        let data = &h[CMSG_HDR..clen];
        if level == n::SOL_SOCKET {
            match ty {
                n::SCM_RIGHTS => {
                    let fds = data.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap_or([0xff; 4])));
                    let r = rights.get_or_insert_with(Vec::new);
                    let t = current();
                    let files = t.process.files.lock();
                    for fd in fds {
                        if r.len() == afunix::SCM_MAX_FD {
                            return Err(EINVAL);
                        }
                        r.push(files.get(fd).map_err(|_| EBADF)?);
                    }
                }
                n::SCM_CREDENTIALS => {
                    if data.len() != size_of::<n::ucred>() {
                        return Err(EINVAL);
                    }
                    let w = |i: usize| u32::from_le_bytes(data[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4]));
                    let c = Ucred { pid: w(0), uid: w(1), gid: w(2) };
                    check_creds(&c)?;
                    creds = Some(c);
                }
                _ => return Err(EINVAL),
            }
        }
        off += cmsg_align(clen);
    }
    Ok((rights.filter(|r| !r.is_empty()), creds))
}

/// scm_check_creds: a process may claim only its own pid and ids unless
/// privileged.
fn check_creds(c: &Ucred) -> Result<(), Errno> {
    let t = current();
    let cr = t.process.cred();
    let pid_ok = c.pid == t.process.pid || cr.capable(Cap::SysAdmin);
    let uid_ok = [cr.ruid, cr.euid, cr.suid].contains(&c.uid) || cr.capable(Cap::Setuid);
    let gid_ok = [cr.rgid, cr.egid, cr.sgid].contains(&c.gid) || cr.capable(Cap::Setgid);
    if pid_ok && uid_ok && gid_ok { Ok(()) } else { Err(EPERM) }
}

/// Writes recvmsg's control messages (scm_recv): the credentials, then
/// as many of the files as fit, installed as new descriptors. Returns the
/// bytes used and whether something did not fit (MSG_CTRUNC); files that
/// do not fit are closed.
fn write_control(ctl: u64, len: usize, creds: Option<Ucred>, rights: Option<Rights>, cloexec: bool) -> Result<(usize, bool), Errno> {
    let mut out = Vec::new();
    let mut ctrunc = false;
    let room = |out: &Vec<u8>| len.saturating_sub(out.len());
    let header = |out: &mut Vec<u8>, data_len: usize, ty: u32| {
        out.extend_from_slice(&((CMSG_HDR + data_len) as u64).to_le_bytes());
        out.extend_from_slice(&n::SOL_SOCKET.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
    };
    if let Some(c) = creds {
        if ctl != 0 && room(&out) >= CMSG_HDR + 12 {
            header(&mut out, 12, n::SCM_CREDENTIALS);
            for v in [c.pid, c.uid, c.gid] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            let end = cmsg_align(out.len()).min(len);
            out.resize(end, 0);
        } else {
            ctrunc = true;
        }
    }
    if let Some(files) = rights {
        let fit = if ctl == 0 { 0 } else { room(&out).saturating_sub(CMSG_HDR) / 4 };
        let mut fds = Vec::new();
        {
            let t = current();
            let mut table = t.process.files.lock();
            for f in files.iter().take(fit) {
                match table.insert(f.clone(), cloexec, 0) {
                    Ok(fd) => fds.push(fd),
                    Err(_) => break,
                }
            }
        }
        if fds.len() < files.len() {
            ctrunc = true;
        }
        if !fds.is_empty() {
            header(&mut out, fds.len() * 4, n::SCM_RIGHTS);
            for fd in &fds {
                out.extend_from_slice(&fd.to_le_bytes());
            }
            let end = cmsg_align(out.len()).min(len);
            out.resize(end, 0);
        }
        drop(files);
    }
    if !out.is_empty() {
        uaccess::write_bytes(ctl, &out)?;
    }
    Ok((out.len(), ctrunc))
}

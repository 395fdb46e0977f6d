//! File system calls: open/read/write family, descriptors, stat, paths.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use vfs::{Kind, Stat};

use alloc::sync::Arc as Shared;
use cred::{Cap, Cred};
use vfs::Access;

use crate::errno::{EACCES, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EISDIR, ENOENT, ENOTDIR, EPERM, ERANGE, EXDEV, Errno, SysResult};
use crate::fs::access;
use crate::file::{File, OpenFlags};
use crate::fs::{Node, VfsFile};
use crate::process::current;
use crate::uaccess::{self, Out};

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_REMOVEDIR: u32 = 0x200;
const AT_EMPTY_PATH: u32 = 0x1000;
/// Largest single transfer, as Linux's MAX_RW_COUNT.
const MAX_RW: usize = 0x7fff_f000;
/// Bounce-buffer size for one step of a read or write.
const CHUNK: usize = 64 * 1024;
/// Transfers up to this size bounce through the stack, not the heap (a
/// heap allocation and free cost two lock round trips, each with an `sti`
/// that costs ~100 ns under TCG).
const SMALL: usize = 256;

/// Runs `f` on a zeroed buffer of `len` bytes.
fn with_buf<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if len <= SMALL {
        let mut b = [0u8; SMALL];
        f(&mut b[..len])
    } else {
        f(&mut alloc::vec![0u8; len])
    }
}

/// Runs `f` on a copy of `len` bytes of user memory at `addr`.
fn with_user_bytes<R>(addr: u64, len: usize, f: impl FnOnce(&[u8]) -> R) -> Result<R, Errno> {
    if len <= SMALL {
        let mut b = [0u8; SMALL];
        uaccess::read_into(addr, &mut b[..len])?;
        Ok(f(&b[..len]))
    } else {
        Ok(f(&uaccess::read_bytes(addr, len)?))
    }
}

fn file(fd: i32) -> Result<Arc<dyn File>, Errno> {
    crate::process::with_current(|t| t.process.files.lock().get(fd))
}

/// The directory a `*at` call starts from.
pub(super) fn dir_node(dirfd: i32) -> Result<Node, Errno> {
    if dirfd == AT_FDCWD {
        return Ok(current().process.cwd.lock().clone());
    }
    file(dirfd)?.node().cloned().ok_or(ENOTDIR)
}

/// The node an `f*` call acts on.
pub(super) fn fd_node(fd: i32) -> Result<Node, Errno> {
    file(fd)?.node().cloned().ok_or(EINVAL)
}

/// The caller's credentials, for permission checks.
fn cred() -> Shared<Cred> {
    current().process.cred()
}

/// Resolves `path` from `dirfd` for `cred`.
fn lookup_as(cred: &Cred, dirfd: i32, path: &[u8], follow: bool) -> Result<Node, Errno> {
    crate::fs::resolve(cred, &dir_node(dirfd)?, path, follow)
}

/// Resolves `path` from `dirfd` for the caller.
fn lookup(dirfd: i32, path: &[u8], follow: bool) -> Result<Node, Errno> {
    lookup_as(&cred(), dirfd, path, follow)
}

/// The parent directory of `path` from `dirfd`, and the last name, on a
/// mount that may be changed (`EROFS` otherwise).
fn lookup_parent_rw(cred: &Cred, dirfd: i32, path: &[u8]) -> Result<(Node, Vec<u8>), Errno> {
    let (dir, name) = crate::fs::resolve_parent(cred, &dir_node(dirfd)?, path)?;
    dir.mnt.check_writable()?;
    Ok((dir, name))
}

/// The entry `name` of `dir` (trailing slashes ignored), if any.
fn child_of(dir: &Node, name: &[u8]) -> Option<Node> {
    let end = name.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let name = &name[..end];
    if name.is_empty() || name == b"." || name == b".." {
        return None;
    }
    let (ino, _) = dir.mnt.sb.lookup(dir.ino, name).ok()?;
    Some(dir.at(ino))
}

fn path_arg(p: u64) -> Result<Vec<u8>, Errno> {
    uaccess::read_cstr(p, 4096)
}

pub fn read(fd: i32, buf: u64, count: usize) -> SysResult {
    let f = file(fd)?;
    if !f.flags().can_read() {
        return Err(EBADF);
    }
    if !uaccess::is_user_range(buf, count) {
        return Err(EFAULT);
    }
    let count = count.min(MAX_RW);
    let mut done = 0;
    loop {
        if done > 0 && crate::signal::between_chunks().is_err() {
            break;
        }
        let want = (count - done).min(CHUNK);
        let n = with_buf(want, |tmp| {
            let n = f.read(tmp)?;
            if let Err(e) = uaccess::write_bytes(buf + done as u64, &tmp[..n]) {
                // A bad buffer consumes nothing, as on Linux (seekable files).
                let _ = f.seek(-(n as i64), 1);
                return Err(e);
            }
            Ok(n)
        });
        let n = match n {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += n;
        // A regular file gives all that was asked up to its end, as on
        // Linux, and so do /dev/zero and /dev/urandom; pipes, terminals and
        // other devices may return less (and the next chunk could block),
        // so they stop after one.
        if n < want || done == count || !(f.fills_reads() || matches!(f.stat().map(|st| st.kind()), Ok(Some(Kind::File)))) {
            break;
        }
    }
    Ok(done)
}

pub fn write(fd: i32, buf: u64, count: usize) -> SysResult {
    let f = file(fd)?;
    if !f.flags().can_write() {
        return Err(EBADF);
    }
    if !uaccess::is_user_range(buf, count) {
        return Err(EFAULT);
    }
    let count = count.min(MAX_RW);
    if f.discards_writes() {
        // Linux's write_null: the buffer is never read.
        return Ok(count);
    }
    let mut done = 0;
    while done < count {
        if done > 0 && crate::signal::between_chunks().is_err() {
            break;
        }
        let n = (count - done).min(CHUNK);
        // A fault after some bytes were written ends the write short.
        let w = match with_user_bytes(buf + done as u64, n, |data| f.write(data)) {
            Ok(Ok(w)) => w,
            Ok(Err(e)) | Err(e) if done == 0 => return Err(e),
            _ => break,
        };
        done += w;
        if w < n {
            break;
        }
    }
    Ok(done)
}

pub fn pread(fd: i32, buf: u64, count: usize, off: i64) -> SysResult {
    let f = file(fd)?;
    if off < 0 {
        return Err(EINVAL);
    }
    if !f.flags().can_read() {
        return Err(EBADF);
    }
    if !uaccess::is_user_range(buf, count) {
        return Err(EFAULT);
    }
    // pread is for seekable files: it reads on up to `count` or the end.
    let count = count.min(MAX_RW);
    let mut done = 0;
    while done < count {
        if done > 0 && crate::signal::between_chunks().is_err() {
            break;
        }
        let want = (count - done).min(CHUNK);
        let n = with_buf(want, |tmp| {
            let n = f.pread(off as u64 + done as u64, tmp)?;
            uaccess::write_bytes(buf + done as u64, &tmp[..n])?;
            Ok(n)
        });
        match n {
            Ok(n) => {
                done += n;
                if n < want {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

pub fn pwrite(fd: i32, buf: u64, count: usize, off: i64) -> SysResult {
    let f = file(fd)?;
    if off < 0 {
        return Err(EINVAL);
    }
    if !f.flags().can_write() {
        return Err(EBADF);
    }
    if !uaccess::is_user_range(buf, count) {
        return Err(EFAULT);
    }
    pwrite_from_user(&*f, buf, count.min(MAX_RW), off as u64)
}

/// Writes `count` bytes of user memory at `buf` to `f` at `off`, a chunk
/// at a time, so a regular file takes all of it (callers cap `count` at
/// MAX_RW), not only the first chunk, and no kernel buffer is sized by
/// the caller. A fault or an error after some bytes ends the write short,
/// and so does a fatal signal (the long-syscall rule,
/// `signal::between_chunks`).
fn pwrite_from_user(f: &dyn File, buf: u64, count: usize, off: u64) -> SysResult {
    if f.discards_writes() {
        return Ok(count);
    }
    let mut done = 0;
    loop {
        if done > 0 && crate::signal::between_chunks().is_err() {
            break;
        }
        let n = (count - done).min(CHUNK);
        let w = match with_user_bytes(buf + done as u64, n, |data| f.pwrite(off + done as u64, data)) {
            Ok(Ok(w)) => w,
            Ok(Err(e)) | Err(e) if done == 0 => return Err(e),
            _ => break,
        };
        done += w;
        if w < n || done == count {
            break;
        }
    }
    Ok(done)
}

pub(super) fn iovecs(iov: u64, cnt: usize) -> Result<Vec<(u64, usize)>, Errno> {
    if cnt > 1024 {
        return Err(EINVAL);
    }
    let raw = uaccess::read_bytes(iov, cnt * 16)?;
    let v: Vec<(u64, usize)> = raw
        .chunks_exact(16)
        .map(|c| {
            let b = u64::from_le_bytes(c[0..8].try_into().unwrap_or([0; 8]));
            let l = u64::from_le_bytes(c[8..16].try_into().unwrap_or([0; 8]));
            (b, l as usize)
        })
        .collect();
    if v.iter().any(|&(_, l)| l > isize::MAX as usize) {
        return Err(EINVAL);
    }
    Ok(v)
}

pub fn readv(fd: i32, iov: u64, cnt: usize) -> SysResult {
    per_iovec(iovecs(iov, cnt)?, |b, l| read(fd, b, l))
}

/// readv/writev one buffer at a time with `op`: at most MAX_RW in all
/// (as Linux), ending at the first short transfer; an error after some
/// bytes ends the call with those.
fn per_iovec(vecs: Vec<(u64, usize)>, mut op: impl FnMut(u64, usize) -> SysResult) -> SysResult {
    let mut total = 0;
    for (b, l) in vecs {
        let l = l.min(MAX_RW - total);
        if l == 0 {
            continue;
        }
        let n = match op(b, l) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if n < l {
            break;
        }
    }
    Ok(total)
}

pub fn writev(fd: i32, iov: u64, cnt: usize) -> SysResult {
    let vecs = iovecs(iov, cnt)?;
    // Gather into one buffer so the write is a single unit (console lines,
    // pipe atomicity for small writes).
    let total_len = vecs.iter().fold(0usize, |a, v| a.saturating_add(v.1));
    if total_len <= CHUNK {
        let f = file(fd)?;
        if !f.flags().can_write() {
            return Err(EBADF);
        }
        if f.discards_writes() {
            return Ok(total_len);
        }
        let mut data = Vec::with_capacity(total_len);
        for (b, l) in &vecs {
            data.extend_from_slice(&uaccess::read_bytes(*b, *l)?);
        }
        return if data.is_empty() { Ok(0) } else { f.write(&data) };
    }
    per_iovec(vecs, |b, l| write(fd, b, l))
}

/// The `RWF_*` flags of preadv2/pwritev2 that are accepted: HIPRI is a
/// hint, DSYNC and SYNC hold trivially (everything is in memory), APPEND
/// writes at the end. Others (NOWAIT, ATOMIC, ...) give EOPNOTSUPP.
fn rwf_check(flags: u32, writing: bool) -> Result<bool, Errno> {
    use linux_raw_sys::general::{RWF_APPEND, RWF_DSYNC, RWF_HIPRI, RWF_SYNC};
    let ok = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | if writing { RWF_APPEND } else { 0 };
    if flags & !ok != 0 {
        return Err(crate::errno::EOPNOTSUPP);
    }
    Ok(flags & RWF_APPEND != 0)
}

/// preadv2(2) (and preadv with `flags` 0): readv at `off`, or at the file
/// position when `off` is -1 (preadv2 only; `allow_cur`).
pub fn preadv2(fd: i32, iov: u64, cnt: usize, off: i64, flags: u32, allow_cur: bool) -> SysResult {
    rwf_check(flags, false)?;
    if off == -1 && allow_cur {
        return readv(fd, iov, cnt);
    }
    let f = file(fd)?;
    if off < 0 {
        return Err(EINVAL);
    }
    if !f.flags().can_read() {
        return Err(EBADF);
    }
    let vecs = iovecs(iov, cnt)?;
    let mut pos = off as u64;
    let mut total = 0usize;
    for (b, l) in vecs {
        let mut left = l.min(MAX_RW - total);
        let mut at = b;
        while left > 0 {
            if total > 0 && crate::signal::between_chunks().is_err() {
                return Ok(total);
            }
            let step = left.min(CHUNK);
            let r = with_buf(step, |tmp| -> Result<usize, Errno> {
                let n = f.pread(pos, tmp)?;
                uaccess::write_bytes(at, &tmp[..n])?;
                Ok(n)
            });
            let n = match r {
                Ok(n) => n,
                Err(e) if total == 0 => return Err(e),
                Err(_) => return Ok(total),
            };
            total += n;
            pos += n as u64;
            at += n as u64;
            left -= n;
            if n < step {
                return Ok(total);
            }
        }
    }
    Ok(total)
}

/// pwritev2(2) (and pwritev with `flags` 0): writev at `off`, or at the
/// file position when `off` is -1 (pwritev2 only), or at the end with
/// RWF_APPEND.
pub fn pwritev2(fd: i32, iov: u64, cnt: usize, off: i64, flags: u32, allow_cur: bool) -> SysResult {
    let append = rwf_check(flags, true)?;
    if off == -1 && allow_cur && !append {
        return writev(fd, iov, cnt);
    }
    let f = file(fd)?;
    if off < 0 && !(off == -1 && allow_cur) {
        return Err(EINVAL);
    }
    if !f.flags().can_write() {
        return Err(EBADF);
    }
    let vecs = iovecs(iov, cnt)?;
    // At the end with RWF_APPEND, whatever `off` says; the file position
    // then moves only when `off` is -1 (as a write to an O_APPEND file
    // would).
    let start = if append { f.stat()?.size } else { off as u64 };
    let total_len = vecs.iter().fold(0usize, |a, v| a.saturating_add(v.1)).min(MAX_RW);
    let n = if total_len <= CHUNK {
        // Small: gathered into one buffer, written as one unit.
        let mut data = Vec::with_capacity(total_len);
        for (b, l) in &vecs {
            data.extend_from_slice(&uaccess::read_bytes(*b, *l)?);
        }
        if data.is_empty() {
            return Ok(0);
        }
        f.pwrite(start, &data)?
    } else {
        // Large: each buffer streamed a chunk at a time.
        let mut total = 0;
        for (b, l) in vecs {
            let l = l.min(MAX_RW - total);
            let n = match pwrite_from_user(&*f, b, l, start + total as u64) {
                Ok(n) => n,
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            };
            total += n;
            if n < l || total == MAX_RW {
                break;
            }
        }
        total
    };
    if append && off == -1 {
        f.seek((start + n as u64) as i64, 0)?;
    }
    Ok(n)
}

/// Opens a node as a file object: device nodes map to their drivers.
/// `st` is the node's stat, which the caller has at hand.
fn open_node(node: Node, dir: Option<Node>, st: &Stat, flags: OpenFlags) -> Result<Arc<dyn File>, Errno> {
    let kind = st.kind().ok_or(EINVAL)?;
    if kind == Kind::CharDev && flags.0 & OpenFlags::PATH == 0 {
        if node.mnt.flags.load(Ordering::Relaxed) & crate::fs::MS_NODEV != 0 {
            return Err(EACCES);
        }
        return crate::dev::open(st.rdev, flags);
    }
    if kind == Kind::Socket && flags.0 & OpenFlags::PATH == 0 {
        // open(2) ERRORS: a UNIX domain socket cannot be opened.
        return Err(crate::errno::ENXIO);
    }
    if kind == Kind::Fifo && flags.0 & OpenFlags::PATH == 0 {
        return crate::fifo::open(node, dir, flags);
    }
    VfsFile::open(node, dir, kind, flags)
}

pub fn openat(dirfd: i32, path: u64, flags: u32, mode: u32) -> SysResult {
    let path = path_arg(path)?;
    let start = dir_node(dirfd)?;
    let flags = OpenFlags(flags);
    let umask = current().process.umask.load(Ordering::Relaxed);
    let follow = flags.0 & OpenFlags::NOFOLLOW == 0;
    let creat = flags.0 & OpenFlags::CREAT != 0;
    let excl = creat && flags.0 & OpenFlags::EXCL != 0;
    let cred = cred();
    if flags.0 & linux_raw_sys::general::__O_TMPFILE != 0 {
        return open_tmpfile(&cred, &start, &path, flags, mode & 0o7777 & !umask);
    }
    let (node, dir, st) = match crate::fs::resolve_in(&cred, &start, &path, follow) {
        Ok((node, dir)) => {
            if excl {
                return Err(EEXIST);
            }
            let mut st = node.stat()?;
            let kind = st.kind().ok_or(EINVAL)?;
            if kind == Kind::Symlink && !follow && flags.0 & OpenFlags::PATH == 0 {
                return Err(crate::errno::ELOOP);
            }
            if flags.0 & OpenFlags::DIRECTORY != 0 && kind != Kind::Dir {
                return Err(ENOTDIR);
            }
            // O_PATH ignores the access mode, O_TRUNC and O_NOATIME.
            let is_path = flags.0 & OpenFlags::PATH != 0;
            let truncating = flags.0 & OpenFlags::TRUNC != 0 && !is_path;
            let writing = flags.can_write() && !is_path;
            if kind == Kind::Dir && (writing || truncating || creat) {
                return Err(EISDIR);
            }
            if !is_path {
                // may_open: the access mode, and write for O_TRUNC.
                let acc = flags.0 & 3;
                let want = Access { read: acc != 1, write: acc != 0 || truncating, exec: false };
                vfs::perm::permission(&vfs::Attr::from(&st), &cred, want)?;
                if flags.0 & OpenFlags::NOATIME != 0 && !vfs::perm::is_owner_or_capable(&(&st).into(), &cred) {
                    return Err(EPERM);
                }
            }
            if kind == Kind::File && (writing || truncating) {
                node.mnt.check_writable()?;
            }
            // Linux truncates even with O_RDONLY (write permission was checked).
            if truncating && kind == Kind::File {
                access::remove_privs(&node)?;
                node.fs().truncate(node.ino, 0)?;
                st.size = 0;
            }
            (node, dir, st)
        }
        Err(e) if e == ENOENT && creat => {
            let (dir, name) = crate::fs::resolve_parent(&cred, &start, &path)?;
            dir.mnt.check_writable()?;
            let (node, dir) = match access::create(&cred, &dir, &name, Kind::File, mode & 0o7777 & !umask, 0) {
                Ok(ino) => (dir.at(ino), Some(dir)),
                // Created meanwhile by someone else: open that one.
                Err(e) if e == EEXIST && !excl => crate::fs::resolve_in(&cred, &start, &path, follow)?,
                Err(e) => return Err(e),
            };
            let st = node.stat()?;
            (node, dir, st)
        }
        Err(e) => return Err(e),
    };
    drop(start);
    let f = open_node(node, dir, &st, OpenFlags(flags.0 & !(OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::TRUNC | OpenFlags::CLOEXEC)))?;
    let fd = current().process.files.lock().insert(f, flags.0 & OpenFlags::CLOEXEC != 0, 0)?;
    Ok(fd as usize)
}

/// creat(2): open with O_CREAT|O_WRONLY|O_TRUNC.
pub fn creat(path: u64, mode: u32) -> SysResult {
    openat(AT_FDCWD, path, OpenFlags::CREAT | OpenFlags::WRONLY | OpenFlags::TRUNC, mode)
}

/// close_range(2): closes (or with CLOSE_RANGE_CLOEXEC marks
/// close-on-exec) every descriptor in `first..=last`. The table is
/// already the process's own, so CLOSE_RANGE_UNSHARE changes nothing.
pub fn close_range(first: u32, last: u32, flags: u32) -> SysResult {
    // include/uapi/linux/close_range.h; linux-raw-sys 0.12 lacks them.
    const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    if flags & !(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE) != 0 || first > last {
        return Err(EINVAL);
    }
    let t = current();
    let closed = t.process.files.lock().close_range(first as usize, last as usize, flags & CLOSE_RANGE_CLOEXEC != 0);
    for f in &closed {
        crate::locks::close_posix(&**f, t.process.pid);
    }
    crate::net::drop_closed(closed);
    Ok(0)
}

/// open(2) with O_TMPFILE: `path` names the directory (write and search
/// permission needed) whose filesystem gets a new unnamed file, which
/// linkat(AT_EMPTY_PATH) may name unless O_EXCL was given. EINVAL
/// without O_DIRECTORY, with O_CREAT or O_PATH, or without write access
/// (`build_open_flags`); ENOTDIR if `path` is no directory.
fn open_tmpfile(cred: &Cred, start: &Node, path: &[u8], flags: OpenFlags, mode: u32) -> SysResult {
    use linux_raw_sys::general::{O_TMPFILE, __O_TMPFILE};
    let mask = __O_TMPFILE | OpenFlags::DIRECTORY | OpenFlags::CREAT;
    if flags.0 & mask != O_TMPFILE || !flags.can_write() || flags.0 & OpenFlags::PATH != 0 {
        return Err(EINVAL);
    }
    let dir = crate::fs::resolve(cred, start, path, true)?;
    if dir.kind()? != Kind::Dir {
        return Err(ENOTDIR);
    }
    dir.mnt.check_writable()?;
    let keep = OpenFlags::ACCMODE | OpenFlags::APPEND | OpenFlags::NONBLOCK | OpenFlags::NOATIME;
    let f = VfsFile::tmpfile(cred, &dir, mode, OpenFlags(flags.0 & keep), flags.0 & OpenFlags::EXCL == 0)?;
    let fd = current().process.files.lock().insert(f, flags.0 & OpenFlags::CLOEXEC != 0, 0)?;
    Ok(fd as usize)
}

pub fn close(fd: i32) -> SysResult {
    let t = current();
    let f = t.process.files.lock().remove(fd)?;
    crate::locks::close_posix(&*f, t.process.pid);
    crate::net::drop_closed([f]);
    Ok(0)
}

/// flock(2).
pub fn flock(fd: i32, op: u32) -> SysResult {
    crate::locks::flock(&file(fd)?, op)
}

/// Encodes `struct stat` (x86_64, 144 bytes; offsets per arch/x86 uapi stat.h).
fn write_stat(addr: u64, st: &Stat) -> Result<(), Errno> {
    let mut o = Out::new(144);
    o.u64(0, st.dev)
        .u64(8, st.ino.0)
        .u64(16, u64::from(st.nlink))
        .u32(24, st.mode)
        .u32(28, st.uid)
        .u32(32, st.gid)
        .u64(40, st.rdev)
        .u64(48, st.size)
        .u64(56, 4096)
        .u64(64, st.blocks)
        .u64(72, st.atime.sec as u64)
        .u64(80, u64::from(st.atime.nsec))
        .u64(88, st.mtime.sec as u64)
        .u64(96, u64::from(st.mtime.nsec))
        .u64(104, st.ctime.sec as u64)
        .u64(112, u64::from(st.ctime.nsec));
    o.write_to(addr)
}

pub fn fstat(fd: i32, out: u64) -> SysResult {
    let st = file(fd)?.stat()?;
    write_stat(out, &st)?;
    Ok(0)
}

pub fn fstatat(dirfd: i32, path: u64, out: u64, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800) != 0 {
        return Err(EINVAL);
    }
    let p = path_arg(path)?;
    if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return fstat(dirfd, out);
    }
    let st = lookup(dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?.stat()?;
    write_stat(out, &st)?;
    Ok(0)
}

/// statx(2): `struct statx` (256 bytes) from the same stat data.
pub fn statx(dirfd: i32, path: u64, flags: u32, mask: u32, out: u64) -> SysResult {
    const AT_STATX_SYNC_TYPE: u32 = 0x6000;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 | AT_STATX_SYNC_TYPE) != 0 || mask & 0x8000_0000 != 0 {
        return Err(EINVAL);
    }
    let p = path_arg(path)?;
    let st = if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        file(dirfd)?.stat()?
    } else {
        lookup(dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?.stat()?
    };
    let (rmaj, rmin) = vfs::decode_dev(st.rdev);
    let mut o = Out::new(256);
    o.u32(0, 0x7ff) // stx_mask: STATX_BASIC_STATS
        .u32(4, 4096) // stx_blksize
        .u64(8, 0) // stx_attributes
        .u32(16, st.nlink)
        .u32(20, st.uid)
        .u32(24, st.gid)
        .u16(28, st.mode as u16)
        .u64(32, st.ino.0)
        .u64(40, st.size)
        .u64(48, st.blocks);
    let ts = |o: &mut Out, off: usize, t: vfs::Timespec| {
        o.u64(off, t.sec as u64).u32(off + 8, t.nsec);
    };
    ts(&mut o, 64, st.atime);
    ts(&mut o, 96, st.ctime);
    ts(&mut o, 112, st.mtime);
    let (dmaj, dmin) = vfs::decode_dev(st.dev);
    o.u32(128, rmaj).u32(132, rmin).u32(136, dmaj).u32(140, dmin);
    o.write_to(out)?;
    Ok(0)
}

/// faccessat2(2) (and access, faccessat with `flags` 0): checks with the
/// real user and group ids, or the effective ones with `AT_EACCESS`.
pub fn faccessat(dirfd: i32, path: u64, mode: u32, flags: u32) -> SysResult {
    const AT_EACCESS: u32 = 0x200;
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let p = path_arg(path)?;
    let cred = cred();
    let cred = if flags & AT_EACCESS != 0 { Cred::clone(&cred) } else { cred.with_real_fs_ids() };
    let node = if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        fd_node(dirfd)?
    } else {
        lookup_as(&cred, dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    if mode != 0 {
        access::check(&cred, &node, Access::from_rwx(mode))?;
    }
    if mode & 2 != 0 && matches!(node.kind()?, Kind::File | Kind::Dir | Kind::Symlink) {
        node.mnt.check_writable()?;
    }
    Ok(0)
}

pub fn lseek(fd: i32, off: i64, whence: u32) -> SysResult {
    Ok(file(fd)?.seek(off, whence)? as usize)
}

pub fn ioctl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    let f = file(fd)?;
    match cmd {
        // FIOCLEX / FIONCLEX
        0x5451 => current().process.files.lock().set_cloexec(fd, true).map(|_| 0),
        0x5450 => current().process.files.lock().set_cloexec(fd, false).map(|_| 0),
        // FIONBIO
        0x5421 => {
            let on = uaccess::read_u32(arg)? != 0;
            let fl = f.flags().0;
            f.set_status_flags(if on { fl | OpenFlags::NONBLOCK } else { fl & !OpenFlags::NONBLOCK });
            Ok(0)
        }
        // FIONREAD on pipes and files: bytes readable now.
        0x541b => {
            let n = f.readable_bytes().ok_or(crate::errno::ENOTTY)?;
            uaccess::write_u32(arg, n as u32)?;
            Ok(0)
        }
        _ => f.ioctl(cmd, arg),
    }
}

pub fn pipe2(fds: u64, flags: u32) -> SysResult {
    if flags & !(OpenFlags::CLOEXEC | OpenFlags::NONBLOCK | 0o40000) != 0 {
        return Err(EINVAL);
    }
    let (r, w) = crate::file::pipe(flags);
    let cloexec = flags & OpenFlags::CLOEXEC != 0;
    let (rfd, wfd) = {
        let t = current();
        let mut files = t.process.files.lock();
        let rfd = files.insert(r, cloexec, 0)?;
        match files.insert(w, cloexec, 0) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let _ = files.remove(rfd);
                return Err(e);
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&rfd.to_le_bytes());
    out[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = uaccess::write_bytes(fds, &out) {
        let t = current();
        let mut files = t.process.files.lock();
        let _ = files.remove(rfd);
        let _ = files.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

pub fn dup(fd: i32) -> SysResult {
    let t = current();
    let mut files = t.process.files.lock();
    let f = files.get(fd)?;
    Ok(files.insert(f, false, 0)? as usize)
}

pub fn dup2(old: i32, new: i32) -> SysResult {
    if old == new {
        file(old)?;
        return Ok(new as usize);
    }
    dup3(old, new, 0)
}

pub fn dup3(old: i32, new: i32, flags: u32) -> SysResult {
    if flags & !OpenFlags::CLOEXEC != 0 || old == new {
        return Err(EINVAL);
    }
    let t = current();
    let mut files = t.process.files.lock();
    let f = files.get(old)?;
    let replaced = files.get(new).ok();
    files.insert_at(new, f, flags & OpenFlags::CLOEXEC != 0)?;
    drop(files);
    // Closing `new` drops the process's POSIX locks on its file.
    if let Some(r) = replaced {
        crate::locks::close_posix(&*r, t.process.pid);
        crate::net::drop_closed([r]);
    }
    Ok(new as usize)
}

pub fn fcntl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    const F_DUPFD: u32 = 0;
    const F_GETFD: u32 = 1;
    const F_SETFD: u32 = 2;
    const F_GETFL: u32 = 3;
    const F_SETFL: u32 = 4;
    const F_DUPFD_CLOEXEC: u32 = 1030;
    use linux_raw_sys::general as g;
    let t = current();
    let mut files = t.process.files.lock();
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let f = files.get(fd)?;
            let min = usize::try_from(arg).ok().filter(|&m| m < files.limit()).ok_or(EINVAL)?;
            Ok(files.insert(f, cmd == F_DUPFD_CLOEXEC, min)? as usize)
        }
        F_GETFD => Ok(usize::from(files.cloexec(fd)?)),
        F_SETFD => files.set_cloexec(fd, arg & 1 != 0).map(|_| 0),
        F_GETFL => Ok(files.get(fd)?.flags().0 as usize),
        F_SETFL => {
            files.get(fd)?.set_status_flags(arg as u32);
            Ok(0)
        }
        g::F_GETLK | g::F_SETLK | g::F_SETLKW | g::F_OFD_GETLK | g::F_OFD_SETLK | g::F_OFD_SETLKW => {
            let f = files.get(fd)?;
            drop(files);
            drop(t);
            crate::locks::fcntl(&f, cmd, arg)
        }
        linux_raw_sys::general::F_GETPIPE_SZ => {
            let f = files.get(fd)?;
            Ok(pipe_end(&*f)?.capacity())
        }
        linux_raw_sys::general::F_SETPIPE_SZ => {
            let f = files.get(fd)?;
            drop(files);
            let pipe = pipe_end(&*f)?;
            // round_pipe_size: at least a page, else a power of two.
            let size = usize::try_from(arg as u32).map_err(|_| EINVAL)?;
            if size > 1 << 31 {
                return Err(EINVAL);
            }
            let size = size.max(4096).next_power_of_two();
            if size > pipe.capacity() && size > crate::file::PIPE_MAX_SIZE && !cred().capable(Cap::SysResource) {
                return Err(EPERM);
            }
            pipe.set_capacity(size)?;
            Ok(size)
        }
        linux_raw_sys::general::F_GET_SEALS => Ok(files.get(fd)?.seals()? as usize),
        linux_raw_sys::general::F_ADD_SEALS => files.get(fd)?.add_seals(arg as u32).map(|_| 0),
        _ => Err(EINVAL),
    }
}

/// The pipe end behind a descriptor, for F_GETPIPE_SZ/F_SETPIPE_SZ.
fn pipe_end(f: &dyn File) -> Result<&crate::file::PipeEnd, Errno> {
    let any = f.as_any().ok_or(EBADF)?;
    if let Some(fifo) = any.downcast_ref::<crate::fifo::FifoFile>() {
        return Ok(&fifo.end);
    }
    any.downcast_ref::<crate::file::PipeEnd>().ok_or(EBADF)
}

/// getdents(2): the old `struct linux_dirent` (d_ino, d_off, d_reclen,
/// d_name, and d_type in the record's last byte). Its records are as
/// long as `linux_dirent64`'s, so each is rewritten in place.
pub fn getdents(fd: i32, buf: u64, len: usize) -> SysResult {
    let f = file(fd)?;
    let start = f.seek(0, 1).ok();
    let mut data = f.getdents(len.min(CHUNK))?;
    let mut at = 0;
    while at + 19 <= data.len() {
        let reclen = usize::from(u16::from_le_bytes([data[at + 16], data[at + 17]]));
        if reclen < 20 || at + reclen > data.len() {
            break;
        }
        let rec = &mut data[at..at + reclen];
        let kind = rec[18];
        rec.copy_within(19..reclen, 18);
        rec[reclen - 1] = kind;
        at += reclen;
    }
    if let Err(e) = uaccess::write_bytes(buf, &data) {
        // A bad buffer consumes no entries, as on Linux.
        if let Some(p) = start {
            let _ = f.seek(p as i64, 0);
        }
        return Err(e);
    }
    Ok(data.len())
}

/// readahead(2): nothing to read ahead in memory; EBADF unless open for
/// reading, EINVAL for anything but a regular file.
pub fn readahead(fd: i32) -> SysResult {
    let f = file(fd)?;
    if !f.flags().can_read() {
        return Err(EBADF);
    }
    if f.node().is_none() || f.stat()?.kind() != Some(Kind::File) {
        return Err(EINVAL);
    }
    Ok(0)
}

/// fadvise64(2) (posix_fadvise): the advice is accepted and ignored, as
/// Linux does for files without a backing device (tmpfs): ESPIPE for a
/// pipe or FIFO, EINVAL for a negative length or unknown advice.
pub fn fadvise64(fd: i32, _off: i64, len: i64, advice: i32) -> SysResult {
    const POSIX_FADV_NOREUSE: i32 = 5;
    let f = file(fd)?;
    if f.stat()?.kind() == Some(Kind::Fifo) {
        return Err(crate::errno::ESPIPE);
    }
    if len < 0 || !(0..=POSIX_FADV_NOREUSE).contains(&advice) {
        return Err(EINVAL);
    }
    Ok(0)
}

/// sync_file_range(2): the argument checks; nothing to write back.
pub fn sync_file_range(fd: i32, off: i64, nbytes: i64, flags: u32) -> SysResult {
    let f = file(fd)?;
    if flags & !7 != 0 || off < 0 || nbytes < 0 || off.checked_add(nbytes).is_none() {
        return Err(EINVAL);
    }
    match f.stat()?.kind() {
        Some(Kind::File | Kind::BlockDev | Kind::Dir | Kind::Symlink) => Ok(0),
        _ => Err(crate::errno::ESPIPE),
    }
}

pub fn getdents64(fd: i32, buf: u64, len: usize) -> SysResult {
    let f = file(fd)?;
    let start = f.seek(0, 1).ok();
    let data = f.getdents(len.min(CHUNK))?;
    if let Err(e) = uaccess::write_bytes(buf, &data) {
        // A bad buffer consumes no entries, as on Linux.
        if let Some(p) = start {
            let _ = f.seek(p as i64, 0);
        }
        return Err(e);
    }
    Ok(data.len())
}

pub fn getcwd(buf: u64, size: usize) -> SysResult {
    let cwd = current().process.cwd.lock().clone();
    let path = crate::fs::path_of(&cwd)?;
    if path.len() + 1 > size {
        return Err(ERANGE);
    }
    let mut v = path;
    v.push(0);
    uaccess::write_bytes(buf, &v)?;
    Ok(v.len())
}

pub fn chdir(path: u64) -> SysResult {
    let p = path_arg(path)?;
    let t = current();
    let start = t.process.cwd.lock().clone();
    let cred = cred();
    let node = crate::fs::resolve(&cred, &start, &p, true)?;
    if node.kind()? != Kind::Dir {
        return Err(ENOTDIR);
    }
    access::check(&cred, &node, Access::EXEC)?;
    drop(start);
    let old = core::mem::replace(&mut *t.process.cwd.lock(), node);
    drop(old);
    Ok(0)
}

/// fchdir(2): the directory open at `fd` (O_PATH too) becomes the cwd.
pub fn fchdir(fd: i32) -> SysResult {
    let node = file(fd)?.node().cloned().ok_or(ENOTDIR)?;
    if node.kind()? != Kind::Dir {
        return Err(ENOTDIR);
    }
    access::check(&cred(), &node, Access::EXEC)?;
    let old = core::mem::replace(&mut *current().process.cwd.lock(), node);
    drop(old);
    Ok(0)
}

/// chroot(2): `path` (a directory the caller may search) becomes the
/// process's root; the cwd stays. EPERM without CAP_SYS_CHROOT.
pub fn chroot(path: u64) -> SysResult {
    let p = path_arg(path)?;
    let cred = cred();
    let node = lookup_as(&cred, AT_FDCWD, &p, true)?;
    if node.kind()? != Kind::Dir {
        return Err(ENOTDIR);
    }
    access::check(&cred, &node, Access::EXEC)?;
    if !cred.capable(Cap::SysChroot) {
        return Err(EPERM);
    }
    let old = current().process.root.lock().replace(node);
    drop(old);
    Ok(0)
}

pub fn mkdirat(dirfd: i32, path: u64, mode: u32) -> SysResult {
    let p = path_arg(path)?;
    let umask = current().process.umask.load(Ordering::Relaxed);
    let cred = cred();
    let (dir, name) = crate::fs::resolve_parent(&cred, &dir_node(dirfd)?, &p)?;
    if child_of(&dir, &name).is_some() {
        return Err(EEXIST);
    }
    dir.mnt.check_writable()?;
    access::create(&cred, &dir, &name, Kind::Dir, mode & 0o7777 & !umask, 0)?;
    Ok(0)
}

pub fn unlinkat(dirfd: i32, path: u64, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(EINVAL);
    }
    let p = path_arg(path)?;
    let cred = cred();
    let (dir, name) = lookup_parent_rw(&cred, dirfd, &p)?;
    if flags & AT_REMOVEDIR != 0 {
        if child_of(&dir, &name).is_some_and(|c| crate::fs::is_mount_point(&c)) {
            return Err(EBUSY);
        }
        access::rmdir(&cred, &dir, &name)?;
    } else {
        access::unlink(&cred, &dir, &name)?;
    }
    Ok(0)
}

pub fn readlinkat(dirfd: i32, path: u64, buf: u64, size: usize) -> SysResult {
    if size == 0 || size > i32::MAX as usize {
        return Err(EINVAL);
    }
    let p = path_arg(path)?;
    let node = lookup(dirfd, &p, false)?;
    let target = node.fs().readlink(node.ino)?;
    let n = target.len().min(size);
    uaccess::write_bytes(buf, &target[..n]).map_err(|_| EFAULT)?;
    Ok(n)
}

/// sendfile(2): copies between descriptors through a kernel buffer.
/// sendfile(2). As on Linux the input must be a file that can feed a
/// splice: a regular file or a character device (EINVAL for pipes, event
/// files, sockets); `count` is capped at MAX_RW_COUNT, and a pending
/// signal ends the copy early (the bytes so far, or EINTR if none), so
/// one call cannot keep the CPU for long.
pub fn sendfile(out_fd: i32, in_fd: i32, offset: u64, count: usize) -> SysResult {
    /// Linux's MAX_RW_COUNT: INT_MAX rounded down to a page.
    const MAX_RW_COUNT: usize = 0x7fff_f000;
    let (inf, outf) = (file(in_fd)?, file(out_fd)?);
    if !inf.flags().can_read() || !outf.flags().can_write() {
        return Err(EBADF);
    }
    if !matches!(inf.stat()?.kind(), Some(Kind::File | Kind::CharDev)) {
        return Err(EINVAL);
    }
    let count = count.min(MAX_RW_COUNT);
    let mut pos = if offset != 0 { Some(uaccess::read_u64(offset)?) } else { None };
    let mut buf = alloc::vec![0u8; count.min(CHUNK)];
    let mut done = 0;
    while done < count {
        if done > 0 {
            // Any signal ends it (not only a fatal one, which `has_pending`
            // includes): a switch point, then the check.
            kbase::task::cond_resched();
            if crate::process::with_current(|t| crate::signal::has_pending(t)) {
                break;
            }
        }
        let want = (count - done).min(buf.len());
        let read = match pos {
            Some(p) => inf.pread(p, &mut buf[..want]),
            None => inf.read(&mut buf[..want]),
        };
        let n = match read {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        let w = match outf.write(&buf[..n]) {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += w;
        if let Some(p) = pos.as_mut() {
            *p += w as u64;
        }
        if w < n {
            break;
        }
    }
    if let Some(p) = pos {
        uaccess::write_u64(offset, p)?;
    }
    Ok(done)
}

pub fn renameat2(olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> SysResult {
    use linux_raw_sys::general::{RENAME_EXCHANGE, RENAME_NOREPLACE};
    // RENAME_WHITEOUT (overlayfs) is not supported: EINVAL, as tmpfs
    // without it would say.
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0 || flags == RENAME_NOREPLACE | RENAME_EXCHANGE {
        return Err(EINVAL);
    }
    let (o, n) = (path_arg(old)?, path_arg(new)?);
    let cred = cred();
    let (od, oname) = lookup_parent_rw(&cred, olddir, &o)?;
    let (nd, nname) = lookup_parent_rw(&cred, newdir, &n)?;
    if od.mnt.id != nd.mnt.id {
        return Err(EXDEV);
    }
    if child_of(&od, &oname).is_some_and(|c| crate::fs::is_mount_point(&c))
        || child_of(&nd, &nname).is_some_and(|c| crate::fs::is_mount_point(&c))
    {
        return Err(EBUSY);
    }
    if flags & RENAME_NOREPLACE != 0 && lookup_as(&cred, newdir, &n, false).is_ok() {
        return Err(EEXIST);
    }
    if flags & RENAME_EXCHANGE != 0 {
        access::exchange(&cred, &od, &oname, &nd, &nname)?;
        return Ok(0);
    }
    access::rename(&cred, &od, &oname, &nd, &nname)?;
    Ok(0)
}

pub fn linkat(olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> SysResult {
    const AT_SYMLINK_FOLLOW: u32 = 0x400;
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let (o, n) = (path_arg(old)?, path_arg(new)?);
    let cred = cred();
    let node = if o.is_empty() && flags & AT_EMPTY_PATH != 0 {
        // Linux 6.1: naming an open file needs CAP_DAC_READ_SEARCH.
        if !cred.capable(Cap::DacReadSearch) {
            return Err(ENOENT);
        }
        let node = fd_node(olddir).map_err(|e| if e == EINVAL { ENOENT } else { e })?;
        if node.kind()? == Kind::Dir {
            return Err(EPERM);
        }
        node
    } else {
        lookup_as(&cred, olddir, &o, flags & AT_SYMLINK_FOLLOW != 0)?
    };
    let (nd, nname) = lookup_parent_rw(&cred, newdir, &n)?;
    if node.mnt.id != nd.mnt.id {
        return Err(EXDEV);
    }
    access::link(&cred, &node, &nd, &nname)?;
    Ok(0)
}

pub fn symlinkat(target: u64, newdir: i32, linkpath: u64) -> SysResult {
    let (t, l) = (path_arg(target)?, path_arg(linkpath)?);
    if t.is_empty() {
        return Err(ENOENT);
    }
    let cred = cred();
    let (d, name) = lookup_parent_rw(&cred, newdir, &l)?;
    access::symlink(&cred, &d, &name, &t)?;
    Ok(0)
}

pub fn fchmodat(dirfd: i32, path: u64, mode: u32) -> SysResult {
    let p = path_arg(path)?;
    let cred = cred();
    let node = lookup_as(&cred, dirfd, &p, true)?;
    node.mnt.check_writable()?;
    access::chmod(&cred, &node, mode & 0o7777)?;
    Ok(0)
}

pub fn fchmod(fd: i32, mode: u32) -> SysResult {
    let node = fd_node(fd)?;
    node.mnt.check_writable()?;
    access::chmod(&cred(), &node, mode & 0o7777)?;
    Ok(0)
}

pub fn fchownat(dirfd: i32, path: u64, uid: u32, gid: u32, flags: u32) -> SysResult {
    let p = path_arg(path)?;
    if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return fchown(dirfd, uid, gid);
    }
    let opt = |v: u32| (v != u32::MAX).then_some(v);
    let cred = cred();
    let node = lookup_as(&cred, dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    node.mnt.check_writable()?;
    access::chown(&cred, &node, opt(uid), opt(gid))?;
    Ok(0)
}

pub fn fchown(fd: i32, uid: u32, gid: u32) -> SysResult {
    let node = fd_node(fd)?;
    let opt = |v: u32| (v != u32::MAX).then_some(v);
    node.mnt.check_writable()?;
    access::chown(&cred(), &node, opt(uid), opt(gid))?;
    Ok(0)
}

pub fn truncate(path: u64, len: i64) -> SysResult {
    if len < 0 {
        return Err(EINVAL);
    }
    let p = path_arg(path)?;
    let cred = cred();
    let node = lookup_as(&cred, AT_FDCWD, &p, true)?;
    if node.kind()? == Kind::Dir {
        return Err(EISDIR);
    }
    node.mnt.check_writable()?;
    crate::fs::fsize_check_grow(node.stat()?.size, len as u64)?;
    access::truncate(&cred, &node, len as u64)?;
    Ok(0)
}

pub fn ftruncate(fd: i32, len: i64) -> SysResult {
    if len < 0 {
        return Err(EINVAL);
    }
    let f = file(fd)?;
    if !f.flags().can_write() {
        return Err(EINVAL);
    }
    if f.node().is_some_and(|n| n.kind() == Ok(Kind::File)) {
        crate::fs::fsize_check_grow(f.stat()?.size, len as u64)?;
    }
    f.truncate(len as u64)?;
    Ok(0)
}

/// utimensat(2). Both times `UTIME_OMIT`: nothing to do, not even the
/// path is looked at. Both "now" (or `times` NULL): the owner, or anyone
/// who may write the file. Explicit times: the owner or `CAP_FOWNER`.
pub fn utimensat(dirfd: i32, path: u64, times: u64, flags: u32) -> SysResult {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    let now = kbase::time::realtime_ns();
    let now_ts = vfs::Timespec { sec: (now / 1_000_000_000) as i64, nsec: (now % 1_000_000_000) as u32 };
    let (a, m, explicit) = if times == 0 {
        (Some(now_ts), Some(now_ts), false)
    } else {
        let b = uaccess::read_bytes(times, 32)?;
        let get = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        if get(8) == UTIME_OMIT && get(24) == UTIME_OMIT {
            return Ok(0);
        }
        let one = |sec: i64, nsec: i64| -> Result<Option<vfs::Timespec>, Errno> {
            match nsec {
                UTIME_NOW => Ok(Some(now_ts)),
                UTIME_OMIT => Ok(None),
                0..=999_999_999 => Ok(Some(vfs::Timespec { sec, nsec: nsec as u32 })),
                _ => Err(EINVAL),
            }
        };
        let both_now = get(8) == UTIME_NOW && get(24) == UTIME_NOW;
        (one(get(0), get(8))?, one(get(16), get(24))?, !both_now)
    };
    apply_times(dirfd, path, flags, a, m, explicit)
}

/// Sets the times of `path` from `dirfd` (or of `dirfd` itself when
/// `path` is NULL) for utimensat and its older forms.
fn apply_times(dirfd: i32, path: u64, flags: u32, a: Option<vfs::Timespec>, m: Option<vfs::Timespec>, explicit: bool) -> SysResult {
    let cred = cred();
    let node = if path == 0 {
        // do_utimes: a NULL path names `dirfd` itself, unless that is
        // AT_FDCWD (then it is a bad path).
        if dirfd == AT_FDCWD {
            return Err(EFAULT);
        }
        fd_node(dirfd)?
    } else {
        let p = path_arg(path)?;
        lookup_as(&cred, dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    node.mnt.check_writable()?;
    access::set_times(&cred, &node, a, m, explicit)?;
    Ok(0)
}

fn now_timespec() -> vfs::Timespec {
    let now = kbase::time::realtime_ns();
    vfs::Timespec { sec: (now / 1_000_000_000) as i64, nsec: (now % 1_000_000_000) as u32 }
}

/// futimesat(2) (and utimes with AT_FDCWD): `struct timeval[2]`, or
/// NULL for now; microseconds outside 0..1000000 are EINVAL.
pub fn futimesat(dirfd: i32, path: u64, times: u64) -> SysResult {
    if times == 0 {
        let now = now_timespec();
        return apply_times(dirfd, path, 0, Some(now), Some(now), false);
    }
    let b = uaccess::read_bytes(times, 32)?;
    let get = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let one = |sec: i64, usec: i64| -> Result<vfs::Timespec, Errno> {
        if !(0..1_000_000).contains(&usec) {
            return Err(EINVAL);
        }
        Ok(vfs::Timespec { sec, nsec: (usec * 1000) as u32 })
    };
    let (a, m) = (one(get(0), get(8))?, one(get(16), get(24))?);
    apply_times(dirfd, path, 0, Some(a), Some(m), true)
}

/// utime(2): `struct utimbuf { actime, modtime }` in whole seconds, or
/// NULL for now.
pub fn utime(path: u64, times: u64) -> SysResult {
    if times == 0 {
        let now = now_timespec();
        return apply_times(AT_FDCWD, path, 0, Some(now), Some(now), false);
    }
    let b = uaccess::read_bytes(times, 16)?;
    let get = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let ts = |sec: i64| vfs::Timespec { sec, nsec: 0 };
    apply_times(AT_FDCWD, path, 0, Some(ts(get(0))), Some(ts(get(8))), true)
}

/// mknodat(2): regular files, FIFOs, sockets and (with `CAP_MKNOD`)
/// device nodes; `EPERM` for a directory, `EINVAL` for an unknown type.
pub fn mknodat(dirfd: i32, path: u64, mode: u32, dev: u32) -> SysResult {
    use linux_raw_sys::general as g;
    let kind = match mode & g::S_IFMT {
        0 | g::S_IFREG => Kind::File,
        g::S_IFCHR => Kind::CharDev,
        g::S_IFBLK => Kind::BlockDev,
        g::S_IFIFO => Kind::Fifo,
        g::S_IFSOCK => Kind::Socket,
        g::S_IFDIR => return Err(EPERM),
        _ => return Err(EINVAL),
    };
    let p = path_arg(path)?;
    let umask = current().process.umask.load(Ordering::Relaxed);
    let cred = cred();
    let (dir, name) = crate::fs::resolve_parent(&cred, &dir_node(dirfd)?, &p)?;
    let is_device = matches!(kind, Kind::CharDev | Kind::BlockDev);
    if is_device && !cred.capable(Cap::Mknod) {
        // vfs_mknod: the name and directory checks come first.
        if child_of(&dir, &name).is_some() {
            return Err(EEXIST);
        }
        access::check(&cred, &dir, Access::WRITE_EXEC)?;
        return Err(EPERM);
    }
    dir.mnt.check_writable()?;
    access::create(&cred, &dir, &name, kind, mode & 0o7777 & !umask, u64::from(dev))?;
    Ok(0)
}

/// Encodes `struct statfs` (x86_64, 120 bytes) for the filesystem of
/// `node`, with its mount's flags.
fn write_statfs(node: &Node, buf: u64) -> SysResult {
    let st = node.fs().statfs();
    let mflags = node.mnt.flags.load(Ordering::Relaxed);
    // ST_* values of statvfs(3): the MS_* bits the mount keeps, except
    // that ST_RELATIME is 0x1000 (and ST_VALID 0x20 says f_flags is set).
    let mut f_flags = 0x20u64 | u64::from(mflags & (crate::fs::MS_RDONLY | crate::fs::MS_NOSUID | crate::fs::MS_NODEV | crate::fs::MS_NOEXEC));
    if mflags & crate::fs::MS_NOATIME != 0 {
        f_flags |= 0x400;
    }
    if mflags & crate::fs::MS_RELATIME != 0 {
        f_flags |= 0x1000;
    }
    let (maj, min) = vfs::decode_dev(node.mnt.sb.dev);
    let mut o = Out::new(120);
    o.u64(0, st.magic)
        .u64(8, st.block_size)
        .u64(16, st.blocks)
        .u64(24, st.blocks_free)
        .u64(32, st.blocks_free)
        .u64(40, st.files)
        .u64(48, st.files_free)
        .u32(56, min | (maj << 8))
        .u64(64, 255)
        .u64(72, st.block_size)
        .u64(80, f_flags);
    o.write_to(buf)?;
    Ok(0)
}

pub fn statfs(path: u64, buf: u64) -> SysResult {
    let p = path_arg(path)?;
    let node = lookup(AT_FDCWD, &p, true)?;
    write_statfs(&node, buf)
}

pub fn fstatfs(fd: i32, buf: u64) -> SysResult {
    let f = file(fd)?;
    match f.node() {
        Some(node) => write_statfs(node, buf),
        // Pipes, the console: report the root's, as before a pipefs.
        None => write_statfs(&crate::fs::root(), buf),
    }
}

/// fallocate(2) on tmpfs: mode 0 and FALLOC_FL_KEEP_SIZE give the
/// range's holes pages (all or none: ENOSPC past the `size=` limit),
/// mode 0 also grows the size; FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE
/// zeroes the range (the pages stay: a mapping may hold them); other
/// modes are EOPNOTSUPP, as shmem's.
pub fn fallocate(fd: i32, mode: u32, off: i64, len: i64) -> SysResult {
    use linux_raw_sys::general::{FALLOC_FL_KEEP_SIZE as KEEP, FALLOC_FL_PUNCH_HOLE as PUNCH};
    let f = file(fd)?;
    if off < 0 || len <= 0 {
        return Err(EINVAL);
    }
    if mode & !(KEEP | PUNCH) != 0 || (mode & PUNCH != 0 && mode & KEEP == 0) {
        return Err(crate::errno::EOPNOTSUPP);
    }
    if !f.flags().can_write() {
        return Err(EBADF);
    }
    match f.stat()?.kind() {
        Some(Kind::Fifo) => return Err(crate::errno::ESPIPE),
        Some(Kind::Dir) => return Err(EISDIR),
        Some(Kind::File) => {}
        _ => return Err(crate::errno::ENODEV),
    }
    let end = off.checked_add(len).filter(|&e| e as u64 <= vfs::MAX_FILE_SIZE).ok_or(crate::errno::EFBIG)? as u64;
    let node = f.node().ok_or(crate::errno::EOPNOTSUPP)?;
    if node.fs().statfs().magic != u64::from(linux_raw_sys::general::TMPFS_MAGIC) {
        return Err(crate::errno::EOPNOTSUPP);
    }
    node.mnt.check_writable()?;
    let size = node.fs().stat(node.ino)?.size;
    if mode & KEEP == 0 {
        crate::fs::fsize_check_grow(size, end)?;
    }
    if mode & PUNCH != 0 {
        let stop = end.min(size);
        let zeros = alloc::vec![0u8; CHUNK];
        let mut at = off as u64;
        while at < stop {
            if at > off as u64 {
                crate::signal::between_chunks()?;
            }
            let n = ((stop - at) as usize).min(CHUNK);
            node.fs().write(node.ino, at, &zeros[..n])?;
            at += n as u64;
        }
    } else {
        if mode & KEEP == 0 && end > size {
            access::remove_privs(node)?;
        }
        node.fs().allocate(node.ino, off as u64, len as u64, mode & KEEP != 0)?;
    }
    Ok(0)
}

/// copy_file_range(2) between regular files (any filesystems, as Linux
/// 5.19+), at the given offsets or the file positions; EINVAL for
/// overlapping ranges of one file.
pub fn copy_file_range(fd_in: i32, off_in: u64, fd_out: i32, off_out: u64, len: usize, flags: u32) -> SysResult {
    if flags != 0 {
        return Err(EINVAL);
    }
    let (fi, fo) = (file(fd_in)?, file(fd_out)?);
    if !fi.flags().can_read() || !fo.flags().can_write() || fo.flags().is_append() {
        return Err(EBADF);
    }
    let (si, so) = (fi.stat()?, fo.stat()?);
    if si.kind() == Some(Kind::Dir) || so.kind() == Some(Kind::Dir) {
        return Err(EISDIR);
    }
    if si.kind() != Some(Kind::File) || so.kind() != Some(Kind::File) {
        return Err(EINVAL);
    }
    let read_off = |p: u64| -> Result<Option<u64>, Errno> {
        if p == 0 {
            return Ok(None);
        }
        let v = uaccess::read_u64(p)? as i64;
        if v < 0 {
            // generic_copy_file_checks: pos + count wraps (as u64).
            return Err(crate::errno::EOVERFLOW);
        }
        Ok(Some(v as u64))
    };
    let (oi, oo) = (read_off(off_in)?, read_off(off_out)?);
    let mut pi = match oi {
        Some(v) => v,
        None => fi.seek(0, 1)?,
    };
    let mut po = match oo {
        Some(v) => v,
        None => fo.seek(0, 1)?,
    };
    // Shortened to the end of the input, then checked for overlap.
    let count = (len.min(MAX_RW) as u64).min(si.size.saturating_sub(pi));
    if si.dev == so.dev && si.ino == so.ino && po < pi + count && pi < po + count {
        return Err(EINVAL);
    }
    let mut buf = alloc::vec![0u8; (count as usize).min(CHUNK)];
    let mut done = 0u64;
    while done < count {
        if done > 0 && crate::signal::between_chunks().is_err() {
            break;
        }
        let want = ((count - done) as usize).min(buf.len());
        let n = fi.pread(pi, &mut buf[..want])?;
        if n == 0 {
            break;
        }
        let w = match fo.pwrite(po, &buf[..n]) {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += w as u64;
        pi += w as u64;
        po += w as u64;
        if w < n {
            break;
        }
    }
    match oi {
        Some(_) => uaccess::write_u64(off_in, pi)?,
        None => {
            fi.seek(pi as i64, 0)?;
        }
    }
    match oo {
        Some(_) => uaccess::write_u64(off_out, po)?,
        None => {
            fo.seek(po as i64, 0)?;
        }
    }
    Ok(done as usize)
}

/// fsync/fdatasync/syncfs: everything lives in memory, nothing to flush.
pub fn fsync(fd: i32) -> SysResult {
    file(fd)?;
    Ok(0)
}

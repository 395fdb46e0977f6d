//! Open files and the per-process descriptor table.
//!
//! Everything a descriptor can name (a file of the root fs, a terminal, a
//! pipe end, devices, sockets) implements [`File`]. Descriptors
//! hold `Arc<dyn File>`, so `dup` and `fork` share the open file (and its
//! offset), as on Linux.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::any::Any;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use kbase::task::{Mutex, WaitQueue};
use vfs::{Ino, Stat};

use crate::pollq::PollQueue;
use crate::errno::{EAGAIN, EBADF, EINVAL, EMFILE, ENOTDIR, ENOTTY, EPIPE, ESPIPE, Errno};

/// The `O_*` status flags kept with an open file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    pub const ACCMODE: u32 = 3;
    pub const RDONLY: u32 = 0;
    pub const WRONLY: u32 = 1;
    pub const RDWR: u32 = 2;
    pub const CREAT: u32 = 0o100;
    pub const EXCL: u32 = 0o200;
    pub const TRUNC: u32 = 0o1000;
    pub const APPEND: u32 = 0o2000;
    pub const NONBLOCK: u32 = 0o4000;
    /// O_DIRECT; on a pipe (pipe2), packet mode.
    pub const DIRECT: u32 = 0o40000;
    pub const DIRECTORY: u32 = 0o200000;
    pub const NOFOLLOW: u32 = 0o400000;
    pub const NOATIME: u32 = 0o1000000;
    pub const CLOEXEC: u32 = 0o2000000;
    pub const PATH: u32 = 0o10000000;

    pub fn is_append(self) -> bool {
        self.0 & Self::APPEND != 0
    }
    pub fn can_read(self) -> bool {
        self.0 & Self::PATH == 0 && matches!(self.0 & Self::ACCMODE, Self::RDONLY | Self::RDWR)
    }
    pub fn can_write(self) -> bool {
        self.0 & Self::PATH == 0 && matches!(self.0 & Self::ACCMODE, Self::WRONLY | Self::RDWR)
    }
}

/// An open file description.
pub trait File: Send + Sync {
    fn read(&self, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(EINVAL)
    }
    fn write(&self, _data: &[u8]) -> Result<usize, Errno> {
        Err(EINVAL)
    }
    fn pread(&self, _off: u64, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(ESPIPE)
    }
    fn pwrite(&self, _off: u64, _data: &[u8]) -> Result<usize, Errno> {
        Err(ESPIPE)
    }
    fn seek(&self, _off: i64, _whence: u32) -> Result<u64, Errno> {
        Err(ESPIPE)
    }
    fn stat(&self) -> Result<Stat, Errno>;
    /// Linux's write_null: a write takes the whole count without reading
    /// the buffer (/dev/null, /dev/zero), so write(2) need not copy it.
    fn discards_writes(&self) -> bool {
        false
    }
    /// A read goes on chunk after chunk up to the count, as for a regular
    /// file (/dev/zero, /dev/urandom), instead of returning what the first
    /// chunk gave (pipes, terminals: the next chunk could block).
    fn fills_reads(&self) -> bool {
        false
    }
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Result<usize, Errno> {
        Err(ENOTTY)
    }
    /// Encoded `linux_dirent64` records, at most `max_len` bytes.
    fn getdents(&self, _max_len: usize) -> Result<Vec<u8>, Errno> {
        Err(ENOTDIR)
    }
    /// The place in the namespace, for files that live in a filesystem.
    fn node(&self) -> Option<&crate::fs::Node> {
        None
    }
    /// What /proc/[pid]/fd/N shows for a file outside any filesystem.
    fn proc_name(&self) -> Vec<u8> {
        b"anon_inode:[unknown]".to_vec()
    }
    /// Readiness for poll(2): the subset of POLLIN/POLLOUT/POLLHUP/POLLERR
    /// that holds now. Regular files are always ready.
    fn poll(&self) -> u16 {
        POLLIN | POLLOUT
    }
    fn flags(&self) -> OpenFlags;
    /// F_SETFL / FIONBIO: change O_APPEND and O_NONBLOCK (the only status
    /// flags that may change after open). Files without such state ignore it.
    fn set_status_flags(&self, _flags: u32) {}
    /// FIONREAD: bytes that a read would return now, if meaningful.
    fn readable_bytes(&self) -> Option<usize> {
        None
    }
    /// The queue notified when `poll()` may change (see `pollq`). None:
    /// the file is always ready (or, like the console without receive
    /// interrupts, must be re-polled), and epoll refuses it (EPERM).
    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        None
    }
    /// ftruncate(2). Files outside any filesystem cannot be truncated.
    fn truncate(&self, len: u64) -> Result<(), Errno> {
        let node = self.node().ok_or(EINVAL)?;
        node.mnt.check_writable()?;
        crate::fs::access::remove_privs(node)?;
        node.fs().truncate(node.ino, len)
    }
    /// F_GET_SEALS; EINVAL for files that cannot be sealed.
    fn seals(&self) -> Result<u32, Errno> {
        Err(EINVAL)
    }
    /// F_ADD_SEALS: EPERM unless open for writing, then EINVAL for
    /// files that cannot be sealed (Linux's memfd_add_seals order).
    fn add_seals(&self, _seals: u32) -> Result<(), Errno> {
        Err(if self.flags().can_write() { EINVAL } else { crate::errno::EPERM })
    }
    /// The concrete type, for calls that act on one kind of file
    /// (epoll_ctl, timerfd_settime, signalfd).
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
}

/// `st_dev` of kernel-internal files (console, pipes, device drivers);
/// filesystems get theirs from `fs::Super::new`, which starts above it.
pub const ANON_DEV: u64 = 1;

/// The changeable part of a file's status flags.
pub const SETFL_MASK: u32 = OpenFlags::APPEND | OpenFlags::NONBLOCK;

pub const POLLIN: u16 = 0x1;
pub const POLLOUT: u16 = 0x4;
pub const POLLERR: u16 = 0x8;
pub const POLLHUP: u16 = 0x10;

/// RLIMIT_NOFILE's default soft limit.
pub const MAX_FDS: usize = 1024;

#[derive(Clone)]
struct Slot {
    file: Arc<dyn File>,
    cloexec: bool,
}

/// A process's descriptor table.
#[derive(Clone)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    /// RLIMIT_NOFILE's soft limit: descriptors are below it.
    limit: usize,
}

impl Default for FdTable {
    fn default() -> Self {
        Self { slots: Vec::new(), limit: MAX_FDS }
    }
}

impl FdTable {
    /// The RLIMIT_NOFILE soft limit in force (fds must be below it).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// setrlimit(RLIMIT_NOFILE): descriptors already open above the new
    /// limit stay open, as on Linux; new ones must be below it.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    pub fn get(&self, fd: i32) -> Result<Arc<dyn File>, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|s| s.file.clone())
            .ok_or(EBADF)
    }

    /// The file at `fd`, borrowed for as long as the table is: no
    /// reference-count traffic (poll and select look at every descriptor).
    pub fn get_ref(&self, fd: i32) -> Result<&dyn File, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|s| &*s.file)
            .ok_or(EBADF)
    }

    /// Installs `file` at the lowest free descriptor `>= min`.
    pub fn insert(&mut self, file: Arc<dyn File>, cloexec: bool, min: usize) -> Result<i32, Errno> {
        let i = (min..self.limit).find(|&i| self.slots.get(i).is_none_or(|s| s.is_none())).ok_or(EMFILE)?;
        self.put(i, file, cloexec);
        Ok(i as i32)
    }

    /// Installs `file` at exactly `fd`, closing what was there.
    pub fn insert_at(&mut self, fd: i32, file: Arc<dyn File>, cloexec: bool) -> Result<(), Errno> {
        let i = usize::try_from(fd).ok().filter(|&i| i < self.limit).ok_or(EBADF)?;
        self.put(i, file, cloexec);
        Ok(())
    }

    fn put(&mut self, i: usize, file: Arc<dyn File>, cloexec: bool) {
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(Slot { file, cloexec });
    }

    pub fn remove(&mut self, fd: i32) -> Result<Arc<dyn File>, Errno> {
        let slot = usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)).ok_or(EBADF)?;
        slot.take().map(|s| s.file).ok_or(EBADF)
    }

    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|s| s.cloexec)
            .ok_or(EBADF)
    }

    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> Result<(), Errno> {
        let s = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.as_mut())
            .ok_or(EBADF)?;
        s.cloexec = on;
        Ok(())
    }

    /// close_range(2): removes the descriptors in `first..=last` (returned,
    /// so the caller drops them outside the table's lock), or with
    /// `cloexec_only` marks them close-on-exec instead.
    pub fn close_range(&mut self, first: usize, last: usize, cloexec_only: bool) -> Vec<Arc<dyn File>> {
        let end = last.saturating_add(1).min(self.slots.len());
        let mut closed = Vec::new();
        for s in self.slots.iter_mut().take(end).skip(first) {
            if cloexec_only {
                if let Some(s) = s.as_mut() {
                    s.cloexec = true;
                }
            } else if let Some(s) = s.take() {
                closed.push(s.file);
            }
        }
        closed
    }

    /// Closes every close-on-exec descriptor (execve); returns them, to
    /// be dropped outside the table's lock.
    pub fn close_on_exec(&mut self) -> Vec<Arc<dyn File>> {
        let mut closed = Vec::new();
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|s| s.cloexec) {
                if let Some(s) = s.take() {
                    closed.push(s.file);
                }
            }
        }
        closed
    }
}

impl Drop for FdTable {
    /// A process's last table goes (exit, or exec unsharing it): sockets
    /// among its files may now be reachable only from in-flight messages.
    fn drop(&mut self) {
        crate::net::drop_closed(self.slots.drain(..).flatten().map(|s| s.file));
    }
}

/// The shared buffer of a pipe.
struct PipeBuf {
    /// A spin lock, not a sleeping one: the read and write conditions take
    /// it inside `WaitQueue::wait_until`, where they may not sleep, and a
    /// `try_lock` there would be wrong: a reader that lost the race to a
    /// writer finding the pipe full went to sleep with nobody left to wake
    /// it (both ends asleep; seen as a hang of the pipe benchmark).
    data: kbase::sync::SpinLock<VecDeque<u8>>,
    /// `data.len()`, kept beside it so that poll and FIONREAD never take
    /// the lock.
    len: AtomicUsize,
    /// Bytes the pipe holds at most (F_SETPIPE_SZ).
    capacity: AtomicUsize,
    /// Packet mode (pipe2 O_DIRECT): the lengths of the packets in
    /// `data`, oldest first; taken only while `data` is locked. None: a
    /// byte stream.
    packets: Option<kbase::sync::SpinLock<VecDeque<usize>>>,
    readers: AtomicUsize,
    writers: AtomicUsize,
    /// Opens of a read end and of a write end so far: a FIFO open that
    /// waits for the other side wakes when these move, even if that side
    /// has closed again meanwhile (Linux's r_counter/w_counter).
    read_opens: AtomicUsize,
    write_opens: AtomicUsize,
    /// Woken when data arrives, space frees up, or an end closes.
    changed: WaitQueue,
    /// The same events for poll and epoll.
    pollq: Arc<PollQueue>,
}

/// PIPE_BUF: the largest packet of a packet-mode pipe.
const PIPE_BUF: usize = 4096;
/// A new pipe's capacity (16 pages, as Linux).
const PIPE_CAPACITY: usize = 65536;
/// /proc/sys/fs/pipe-max-size: the largest F_SETPIPE_SZ without
/// CAP_SYS_RESOURCE.
pub const PIPE_MAX_SIZE: usize = 1 << 20;

/// One end of a pipe, or both (a FIFO opened O_RDWR).
pub struct PipeEnd {
    buf: Arc<PipeBuf>,
    reads: bool,
    writes: bool,
    /// `write_opens` when this end was opened (Linux's f_version): a
    /// reader is hung up only after a writer it could have seen has come
    /// and gone, so a FIFO reader opened with no writer is not POLLHUP.
    write_opens_seen: usize,
    flags: core::sync::atomic::AtomicU32,
    _census: crate::census::Token,
}

fn new_pipe_buf(is_packet: bool) -> Arc<PipeBuf> {
    Arc::new(PipeBuf {
        data: kbase::sync::SpinLock::new(VecDeque::new()),
        len: AtomicUsize::new(0),
        capacity: AtomicUsize::new(PIPE_CAPACITY),
        packets: is_packet.then(|| kbase::sync::SpinLock::new(VecDeque::new())),
        readers: AtomicUsize::new(0),
        writers: AtomicUsize::new(0),
        read_opens: AtomicUsize::new(0),
        write_opens: AtomicUsize::new(0),
        changed: WaitQueue::new(),
        pollq: Arc::new(PollQueue::new()),
    })
}

impl PipeEnd {
    /// A new end of `buf`, counted as a reader and/or writer.
    fn new(buf: Arc<PipeBuf>, flags: u32) -> Self {
        let acc = flags & OpenFlags::ACCMODE;
        let (reads, writes) = (acc != OpenFlags::WRONLY, acc != OpenFlags::RDONLY);
        if reads {
            buf.readers.fetch_add(1, Ordering::AcqRel);
            buf.read_opens.fetch_add(1, Ordering::AcqRel);
        }
        if writes {
            buf.writers.fetch_add(1, Ordering::AcqRel);
            buf.write_opens.fetch_add(1, Ordering::AcqRel);
        }
        buf.changed.wake_all();
        buf.pollq.notify(0);
        let write_opens_seen = buf.write_opens.load(Ordering::Acquire);
        Self {
            buf,
            reads,
            writes,
            write_opens_seen,
            flags: core::sync::atomic::AtomicU32::new(flags & (OpenFlags::ACCMODE | OpenFlags::NONBLOCK | OpenFlags::DIRECT)),
            _census: crate::census::Token::new(crate::census::Kind::File),
        }
    }
}

/// Makes a connected (read end, write end) pair.
pub fn pipe(flags: u32) -> (Arc<PipeEnd>, Arc<PipeEnd>) {
    let buf = new_pipe_buf(flags & OpenFlags::DIRECT != 0);
    let nb = flags & OpenFlags::NONBLOCK;
    // Only the write end shows O_DIRECT, as on Linux.
    let direct = flags & OpenFlags::DIRECT;
    (Arc::new(PipeEnd::new(buf.clone(), OpenFlags::RDONLY | nb)), Arc::new(PipeEnd::new(buf, OpenFlags::WRONLY | nb | direct)))
}

/// The pipes behind FIFO inodes that someone has open, by (st_dev, ino):
/// every open of the same FIFO joins the same buffer, which goes away
/// with its last end (its data with it, as on Linux).
static FIFOS: Mutex<alloc::collections::BTreeMap<(u64, u64), alloc::sync::Weak<PipeBuf>>> =
    Mutex::new(alloc::collections::BTreeMap::new());

/// Opens the FIFO `key` (fifo(7)): O_RDONLY waits for a writer unless
/// O_NONBLOCK, O_WRONLY waits for a reader (O_NONBLOCK: ENXIO without
/// one), O_RDWR never waits. A signal ends the wait with EINTR.
pub fn fifo_open(key: (u64, u64), flags: u32) -> Result<PipeEnd, Errno> {
    let acc = flags & OpenFlags::ACCMODE;
    let nonblock = flags & OpenFlags::NONBLOCK != 0;
    let buf = {
        let mut m = FIFOS.lock();
        m.retain(|_, w| w.strong_count() > 0);
        match m.get(&key).and_then(|w| w.upgrade()) {
            Some(b) => b,
            None => {
                let b = new_pipe_buf(false);
                m.insert(key, Arc::downgrade(&b));
                b
            }
        }
    };
    if acc == OpenFlags::WRONLY && nonblock && buf.readers.load(Ordering::Acquire) == 0 {
        return Err(crate::errno::ENXIO);
    }
    // Whether the partner is there is decided before this end exists: once
    // it does, a waiting partner may wake, do its work and close before
    // this open looks again. Linux decides under the pipe's mutex; here
    // the partner's opens are read first, then its count: a partner
    // counted then means no wait, and one that comes later changes the
    // opens (wait_for_partner).
    let (seen, present) = match acc {
        OpenFlags::RDONLY => (buf.write_opens.load(Ordering::Acquire), buf.writers.load(Ordering::Acquire) > 0),
        _ => (buf.read_opens.load(Ordering::Acquire), buf.readers.load(Ordering::Acquire) > 0),
    };
    let end = PipeEnd::new(buf, flags);
    let t = crate::process::current();
    let (count, opens) = match acc {
        _ if present => return Ok(end),
        OpenFlags::RDONLY if !nonblock => (&end.buf.writers, &end.buf.write_opens),
        OpenFlags::WRONLY => (&end.buf.readers, &end.buf.read_opens),
        _ => return Ok(end),
    };
    end.buf.changed.wait_until(|| {
        if count.load(Ordering::Acquire) > 0 || opens.load(Ordering::Acquire) != seen {
            Some(Ok(()))
        } else if crate::signal::has_pending(&t) {
            Some(Err(crate::errno::EINTR))
        } else {
            None
        }
    })?;
    Ok(end)
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        if self.writes {
            self.buf.writers.fetch_sub(1, Ordering::AcqRel);
        }
        if self.reads {
            self.buf.readers.fetch_sub(1, Ordering::AcqRel);
        }
        self.buf.changed.wake_all();
        self.buf.pollq.notify(0);
    }
}

impl PipeEnd {
    /// F_GETPIPE_SZ.
    pub fn capacity(&self) -> usize {
        self.buf.capacity.load(Ordering::Relaxed)
    }

    /// F_SETPIPE_SZ with `size` already rounded (see `fs::fcntl`): EBUSY
    /// if the pipe holds more than that.
    pub fn set_capacity(&self, size: usize) -> Result<(), Errno> {
        let d = self.buf.data.lock();
        if d.len() > size {
            return Err(crate::errno::EBUSY);
        }
        self.buf.capacity.store(size, Ordering::Relaxed);
        drop(d);
        self.buf.changed.wake_all();
        self.buf.pollq.notify(POLLOUT.into());
        Ok(())
    }
}

impl File for PipeEnd {
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }

    fn proc_name(&self) -> Vec<u8> {
        alloc::format!("pipe:[{}]", (Arc::as_ptr(&self.buf) as usize >> 4) & 0xffff_ffff).into_bytes()
    }

    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if !self.reads {
            return Err(EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblock = self.flags().0 & OpenFlags::NONBLOCK != 0;
        let t = crate::process::current();
        let n = self.buf.changed.wait_until(|| {
            let mut d = self.buf.data.lock();
            if d.is_empty() {
                if self.buf.writers.load(Ordering::Acquire) == 0 {
                    return Some(Ok(0));
                }
                if crate::signal::has_pending(&t) {
                    return Some(Err(crate::errno::EINTR));
                }
                return nonblock.then_some(Err(EAGAIN));
            }
            // Packet mode: one packet per read, the rest of it dropped.
            let packet = self.buf.packets.as_ref().and_then(|p| p.lock().pop_front());
            let take = packet.unwrap_or(d.len()).min(d.len());
            // Two slice copies (memcpy), not a byte-by-byte drain.
            let n = buf.len().min(take);
            let (front, back) = d.as_slices();
            let k = n.min(front.len());
            buf[..k].copy_from_slice(&front[..k]);
            buf[k..n].copy_from_slice(&back[..n - k]);
            // A byte stream gives up what was read, a packet all of itself.
            d.drain(..if packet.is_some() { take } else { n });
            self.buf.len.store(d.len(), Ordering::Release);
            Some(Ok(n))
        })?;
        self.buf.changed.wake_all();
        self.buf.pollq.notify(POLLOUT.into());
        Ok(n)
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        if !self.writes {
            return Err(EBADF);
        }
        let nonblock = self.flags().0 & OpenFlags::NONBLOCK != 0;
        let t = crate::process::current();
        let mut done = 0;
        while done < data.len() {
            let n = self.buf.changed.wait_until(|| {
                if self.buf.readers.load(Ordering::Acquire) == 0 {
                    return Some(Err(EPIPE));
                }
                let mut d = self.buf.data.lock();
                let room = self.buf.capacity.load(Ordering::Relaxed).saturating_sub(d.len());
                if room == 0 {
                    if crate::signal::has_pending(&t) {
                        return Some(Err(crate::errno::EINTR));
                    }
                    return nonblock.then_some(Err(EAGAIN));
                }
                let mut n = room.min(data.len() - done);
                if let Some(p) = &self.buf.packets {
                    // Writes are split into packets of at most PIPE_BUF.
                    n = n.min(PIPE_BUF);
                    p.lock().push_back(n);
                }
                d.extend(&data[done..done + n]);
                self.buf.len.store(d.len(), Ordering::Release);
                Some(Ok(n))
            });
            match n {
                Ok(n) => done += n,
                Err(e) => {
                    if e == EPIPE {
                        // Writing to a pipe nobody reads raises SIGPIPE in
                        // the writing thread (Linux's send_sig: SI_USER,
                        // from the writer itself).
                        let info = crate::signal::SigInfo::from_process(crate::signal::SIGPIPE, crate::signal::SI_USER, t.process.pid, t.process.cred().ruid);
                        crate::signal::send_thread(&t, info);
                    }
                    if done == 0 {
                        return Err(e);
                    }
                    break;
                }
            }
            self.buf.changed.wake_all();
            self.buf.pollq.notify(POLLIN.into());
        }
        Ok(done)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        // A FIFO-typed anonymous inode, as pipefs gives.
        Ok(Stat { mode: 0o010600, ..anon_stat() })
    }

    fn flags(&self) -> OpenFlags {
        OpenFlags(self.flags.load(Ordering::Relaxed))
    }

    fn readable_bytes(&self) -> Option<usize> {
        self.reads.then(|| self.buf.len.load(Ordering::Acquire))
    }

    fn set_status_flags(&self, flags: u32) {
        let old = self.flags.load(Ordering::Relaxed);
        self.flags.store((old & !SETFL_MASK) | (flags & SETFL_MASK), Ordering::Relaxed);
    }

    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        Some(self.buf.pollq.clone())
    }

    fn poll(&self) -> u16 {
        // No lock (see `len`): a try_lock here could make a reader sleep
        // with nobody to wake it, and a spurious "not ready" would drop a
        // level-triggered epoll item whose data is still there.
        let len = self.buf.len.load(Ordering::Acquire);
        let mut m = 0;
        if self.writes {
            // pipe_poll: room is POLLOUT and no reader POLLERR, both
            // together when the readers are gone.
            if len < self.buf.capacity.load(Ordering::Relaxed) {
                m |= POLLOUT;
            }
            if self.buf.readers.load(Ordering::Acquire) == 0 {
                m |= POLLERR;
            }
        }
        if self.reads {
            if len > 0 {
                m |= POLLIN;
            }
            // Hung up once the last writer is gone, even with data left
            // (pipe_poll): an edge-triggered reader that has taken the
            // data but not yet met EOF learns of the close from this
            // event, since the close brings no later edge (tokio clears
            // its readiness after a short read and waits for HUP). Not
            // before any writer came after this end opened (a FIFO).
            if self.buf.writers.load(Ordering::Acquire) == 0
                && self.buf.write_opens.load(Ordering::Acquire) != self.write_opens_seen
            {
                m |= POLLHUP;
            }
        }
        m
    }
}

/// What fstat says of an anonymous-inode file (epoll, eventfd, timerfd,
/// signalfd): Linux's anon_inode, mode 0600 with no file type.
pub fn anon_stat() -> Stat {
    Stat {
        dev: ANON_DEV,
        ino: Ino(0),
        mode: 0o600,
        nlink: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        size: 0,
        blocks: 0,
        atime: vfs::Timespec::default(),
        mtime: vfs::Timespec::default(),
        ctime: vfs::Timespec::default(),
    }
}

/// The O_NONBLOCK-and-access-mode word of an anonymous file, changeable
/// by F_SETFL and FIONBIO.
pub struct AnonFlags(core::sync::atomic::AtomicU32);

impl AnonFlags {
    /// O_RDWR plus O_NONBLOCK if `nonblock`.
    pub fn new(nonblock: bool) -> Self {
        Self(core::sync::atomic::AtomicU32::new(OpenFlags::RDWR | if nonblock { OpenFlags::NONBLOCK } else { 0 }))
    }
    pub fn get(&self) -> OpenFlags {
        OpenFlags(self.0.load(Ordering::Relaxed))
    }
    pub fn is_nonblock(&self) -> bool {
        self.get().0 & OpenFlags::NONBLOCK != 0
    }
    pub fn set_status(&self, flags: u32) {
        let old = self.0.load(Ordering::Relaxed);
        self.0.store((old & !SETFL_MASK) | (flags & SETFL_MASK), Ordering::Relaxed);
    }
}

/// Installs `file` at the caller's lowest free descriptor.
pub fn install(file: Arc<dyn File>, cloexec: bool) -> Result<usize, Errno> {
    Ok(crate::process::current().process.files.lock().insert(file, cloexec, 0)? as usize)
}

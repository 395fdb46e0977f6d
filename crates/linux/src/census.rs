//! Counts of kernel objects that user space creates and ends: processes,
//! threads and open file descriptions. The leak checks (the fuzzer's
//! verdict, `noleak`) compare them with what should still be alive; the
//! kernel prints them when it powers off.
//!
//! Each counted type holds a [`Token`]: made with the object, dropped with
//! it, so a count can never drift from the objects in memory.

use core::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Copy)]
pub enum Kind {
    Process,
    Thread,
    /// Open file descriptions with a node, pipes, procfs files, sockets.
    File,
    /// Sockets (also counted as `File`).
    Socket,
    // Kinds of anonymous files, counted on their own (a memfd's file
    // also counts as a `File`).
    Epoll,
    Eventfd,
    Timerfd,
    Signalfd,
    Memfd,
    /// Pseudo-terminal pairs (their master files).
    Pty,
}

const KINDS: usize = Kind::Pty as usize + 1;
static COUNTS: [AtomicUsize; KINDS] = [const { AtomicUsize::new(0) }; KINDS];

/// One live object of `Kind`, counted from creation to drop.
pub struct Token(Kind);

impl Token {
    pub fn new(kind: Kind) -> Self {
        COUNTS[kind as usize].fetch_add(1, Ordering::Relaxed);
        if let Kind::Socket = kind {
            COUNTS[Kind::File as usize].fetch_add(1, Ordering::Relaxed);
        }
        Self(kind)
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        COUNTS[self.0 as usize].fetch_sub(1, Ordering::Relaxed);
        if let Kind::Socket = self.0 {
            COUNTS[Kind::File as usize].fetch_sub(1, Ordering::Relaxed);
        }
    }
}

pub fn count(kind: Kind) -> usize {
    COUNTS[kind as usize].load(Ordering::Relaxed)
}

/// The line the kernel prints at power-off and after drop_caches (parsed
/// by `cargo xtask fuzz`: `name value` pairs split by `, `; the first five
/// keep their places).
///
/// - `heap bytes`: bytes allocated and not freed (as requested);
/// - `free frames`: the frame allocator's free count;
/// - `slab frames` / `slab free KiB`: frames carved into the heap's size
///   classes and the part of them no object uses;
/// - `large frames`: frames of heap allocations above 2048 bytes;
/// - `page cache pages`: frames of the shared file-page cache;
/// - `lock entries`: files with advisory locks (flock, fcntl);
/// - `epoll files` ... `socket files`: open files of each anonymous kind
///   (pty: pairs), `tmpfs inodes`, `dentries` (cached names), `mounts`,
///   `page-table pages` (besides the boot tables);
/// - `heap objects by class`: live objects per size class, 16..2048 bytes
///   (last: the verdict reads it to the end of the line).
pub fn summary() -> alloc::string::String {
    use core::fmt::Write;
    let heap = kbase::mm::heap::usage();
    let (_, cached_pages) = crate::pagecache::stats();
    let (mounts, dentries, inodes) = crate::fs::census();
    let mut s = alloc::format!(
        "tasks {}, processes {}, threads {}, files {}, heap bytes {}, free frames {}, slab frames {}, \
         slab free KiB {}, large frames {}, page cache pages {}, lock entries {}, epoll files {}, \
         eventfd files {}, timerfd files {}, signalfd files {}, memfd files {}, pty files {}, socket files {}, \
         tmpfs inodes {}, dentries {}, mounts {}, page-table pages {}, heap objects by class",
        kbase::task::task_objects(),
        count(Kind::Process),
        count(Kind::Thread),
        count(Kind::File),
        kbase::mm::heap::stats().0,
        kbase::mm::frame::stats().free,
        heap.slab_frames,
        heap.slab_free_bytes() / 1024,
        heap.large_frames,
        cached_pages,
        crate::locks::entries(),
        count(Kind::Epoll),
        count(Kind::Eventfd),
        count(Kind::Timerfd),
        count(Kind::Signalfd),
        count(Kind::Memfd),
        count(Kind::Pty),
        count(Kind::Socket),
        inodes,
        dentries,
        mounts,
        kbase::mm::paging::table_pages(),
    );
    for (i, n) in heap.class_objects.iter().enumerate() {
        let _ = write!(s, "{}{n}", if i == 0 { " " } else { "/" });
    }
    s
}

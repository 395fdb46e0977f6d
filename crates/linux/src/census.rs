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
    File,
}

static COUNTS: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

/// One live object of `Kind`, counted from creation to drop.
pub struct Token(Kind);

impl Token {
    pub fn new(kind: Kind) -> Self {
        COUNTS[kind as usize].fetch_add(1, Ordering::Relaxed);
        Self(kind)
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        COUNTS[self.0 as usize].fetch_sub(1, Ordering::Relaxed);
    }
}

pub fn count(kind: Kind) -> usize {
    COUNTS[kind as usize].load(Ordering::Relaxed)
}

/// The line the kernel prints at power-off (parsed by `cargo xtask fuzz`).
pub fn summary() -> alloc::string::String {
    alloc::format!(
        "tasks {}, processes {}, threads {}, files {}, heap bytes {}",
        kbase::task::task_objects(),
        count(Kind::Process),
        count(Kind::Thread),
        count(Kind::File),
        kbase::mm::heap::stats().0
    )
}

//! The out-of-memory killer.
//!
//! User memory may not take the last frames (`kbase::mm::frame`'s user
//! reserve), so when a page fault finds none, the kernel itself still has
//! memory to work with. The fault then lands here: the process with the
//! most resident pages (init excepted) gets SIGKILL, as Linux's OOM killer
//! does, and the faulting thread retries once that process is gone.
//!
//! ```text
//!  page fault ─▶ Fault::NoMemory ─▶ out_of_memory()   (one at a time)
//!                                    ├ memory came back meanwhile → retry
//!                                    ├ victim = max resident, not pid 1
//!                                    ├ SIGKILL; wait (≤ 2 s) until it exited
//!                                    └ retry the access
//! ```

use alloc::sync::Arc;

use kbase::mm::paging::PageRef;
use kbase::task::Mutex;

use crate::process::{self, Process};
use crate::signal;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Frames a retry should find free before it is worth trying again.
const ENOUGH_FRAMES: u64 = 64;

/// Called by a page fault that found no free frame, holding no locks.
/// Returns true when the access should be retried; false means the
/// faulting process gets SIGSEGV instead (only when it is init, which
/// cannot be killed).
pub fn out_of_memory() -> bool {
    let _one = ONE_AT_A_TIME.lock();
    if kbase::mm::frame::user_may_take(ENOUGH_FRAMES) {
        return true; // another fault's kill already made room
    }
    let me = process::current();
    if signal::is_pending(&me.process, signal::SIGKILL) {
        return true; // already chosen: dies on the way out
    }
    let Some((victim, kib)) = pick_victim() else {
        return me.process.pid != 1;
    };
    log::warn!(
        "oom: out of memory (pid {} faulting): killed process {} with {kib} KiB resident",
        me.process.pid,
        victim.pid
    );
    signal::send(&victim, signal::SIGKILL);
    if victim.pid == me.process.pid {
        return true; // the retry ends in the SIGKILL on the way out
    }
    drop(me);
    // Its memory comes back when its last thread has torn it down.
    for _ in 0..200 {
        if victim.vm().is_none() || kbase::mm::frame::user_may_take(ENOUGH_FRAMES) {
            break;
        }
        kbase::task::sleep_ns(10_000_000);
    }
    true
}

/// The live process (not init, not exiting) with the most resident pages.
fn pick_victim() -> Option<(Arc<Process>, u64)> {
    let mut best: Option<(Arc<Process>, u64)> = None;
    for p in process::all() {
        if p.pid == 1 || p.is_zombie() || signal::is_pending(&p, signal::SIGKILL) {
            continue;
        }
        let Some(vm) = p.vm() else { continue };
        let mut pages = 0u64;
        vm.lock().space().for_each_page(|_, page, _| {
            if let PageRef::Owned(_) = page {
                pages += 1;
            }
        });
        if best.as_ref().is_none_or(|(_, b)| pages * 4 > *b) {
            best = Some((p, pages * 4));
        }
    }
    best
}

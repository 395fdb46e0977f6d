//! In-flight accounting and garbage collection of AF_UNIX sockets passed
//! with SCM_RIGHTS (Linux's net/unix/garbage.c; the graph logic is
//! `afunix::gc`, host-tested).
//!
//! ```text
//!   sendmsg ─▶ queue(owner, files)  under owner's St lock ─▶ InFlight
//!   recvmsg ─▶ unqueue(owner, f)    under owner's St lock ─▶ files
//!   peek    ─▶ InFlight::clone      holds GC while the references grow
//!   release, close(2), exit ─▶ maybe_collect ─▶ collect:
//!       GC lock: garbage = graph.garbage(file reference counts)
//!       then, without it: purge each garbage queue, drop what it held
//! ```
//! Lock order: a socket's `St` lock, then `GC` (never the other way:
//! the collector upgrades its `Weak`s under `GC` and takes `St` locks
//! only after letting `GC` go). Every change of an in-flight count and
//! every growth of a socket file's reference count that starts from a
//! queue (receive, peek) happens under `GC`, so the collector sees one
//! consistent picture; other references only come from something a user
//! already holds, which keeps the socket alive anyway. A garbage set stays
//! garbage (nothing outside can reach it), so purging after the lock is
//! released is safe.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use afunix::gc::{Graph, Id};
use cred::Cap;
use kbase::sync::SpinLock;

use super::Core;
use crate::errno::{ETOOMANYREFS, Errno};
use crate::file::File;
use crate::net::{Rights, Socket};

/// UNIX_INFLIGHT_TRIGGER_GC: a send with this many sockets in flight
/// collects first.
const TRIGGER: usize = 16_000;

struct State {
    graph: Graph,
    /// The queue owners and in-flight sockets the graph mentions.
    cores: BTreeMap<Id, Weak<Core>>,
    /// The files of in-flight sockets (their reference counts).
    files: BTreeMap<Id, Weak<dyn File>>,
    /// Files in flight per sending user (user_struct.unix_inflight).
    per_user: BTreeMap<u32, usize>,
}

static GC: SpinLock<State> =
    SpinLock::new(State { graph: Graph::new(), cores: BTreeMap::new(), files: BTreeMap::new(), per_user: BTreeMap::new() });
/// graph.total(), readable without the lock (the triggers' fast path).
static TOTAL: AtomicUsize = AtomicUsize::new(0);
static COLLECTING: AtomicBool = AtomicBool::new(false);
static AGAIN: AtomicBool = AtomicBool::new(false);

/// SCM_RIGHTS files while they sit in a receive queue. Made only by
/// [`queue`], turned back into files only by [`unqueue`].
pub(super) struct InFlight {
    files: Rights,
    /// The sender's real uid, charged for the files.
    uid: u32,
}

impl Clone for InFlight {
    /// A peek: the files gain references that came out of a queue, which
    /// the collector must not see half-done.
    fn clone(&self) -> Self {
        let _g = GC.lock();
        Self { files: self.files.clone(), uid: self.uid }
    }
}

impl InFlight {
    /// The files themselves, for a peek's copy (not in flight).
    pub(super) fn into_peeked(self) -> Rights {
        self.files
    }
}

pub(super) fn id(core: &Core) -> Id {
    core as *const Core as usize
}

/// The AF_UNIX state behind a file, if it is an AF_UNIX socket.
fn unix_core(f: &Arc<dyn File>) -> Option<Arc<Core>> {
    let s = f.as_any()?.downcast_ref::<Socket>()?;
    s.proto().as_any().downcast_ref::<super::Unix>().map(|u| u.core.clone())
}

/// too_many_unix_fds: a user may have at most RLIMIT_NOFILE files in
/// flight (checked before a send adds more) unless privileged.
pub(super) fn check_limit() -> Result<(), Errno> {
    let t = crate::process::current();
    let cred = t.process.cred();
    let limit = t.process.files.lock().limit();
    let n = GC.lock().per_user.get(&cred.ruid).copied().unwrap_or(0);
    if n > limit && !cred.capable(Cap::SysResource) && !cred.capable(Cap::SysAdmin) {
        return Err(ETOOMANYREFS);
    }
    if TOTAL.load(Ordering::Relaxed) > TRIGGER {
        collect();
    }
    Ok(())
}

/// `files` enter `owner`'s receive queue (call under owner's `St` lock).
pub(super) fn queue(owner: &Arc<Core>, files: Rights, uid: u32) -> InFlight {
    let socks: Vec<(Arc<Core>, Weak<dyn File>)> =
        files.iter().filter_map(|f| unix_core(f).map(|c| (c, Arc::downgrade(f)))).collect();
    let mut g = GC.lock();
    *g.per_user.entry(uid).or_insert(0) += files.len();
    if !socks.is_empty() {
        let o = id(owner);
        g.cores.entry(o).or_insert_with(|| Arc::downgrade(owner));
        for (c, f) in &socks {
            let v = id(c);
            g.graph.add(o, v);
            g.cores.entry(v).or_insert_with(|| Arc::downgrade(c));
            g.files.entry(v).or_insert_with(|| f.clone());
        }
        TOTAL.store(g.graph.total(), Ordering::Relaxed);
    }
    drop(g);
    drop(socks);
    InFlight { files, uid }
}

/// `f` leaves `owner`'s queue (received, or purged): its files are the
/// caller's. Call under owner's `St` lock.
pub(super) fn unqueue(owner: &Core, f: InFlight) -> Rights {
    let socks: Vec<Id> = f.files.iter().filter_map(|x| unix_core(x).map(|c| id(&c))).collect();
    let mut g = GC.lock();
    if let Some(n) = g.per_user.get_mut(&f.uid) {
        *n = n.saturating_sub(f.files.len());
        if *n == 0 {
            g.per_user.remove(&f.uid);
        }
    }
    let o = id(owner);
    for v in socks {
        g.graph.remove(o, v);
        g.forget(v);
    }
    g.forget(o);
    TOTAL.store(g.graph.total(), Ordering::Relaxed);
    f.files
}

/// `embryo` waits in `listener`'s backlog (Some), or left it (None).
pub(super) fn set_parent(embryo: &Arc<Core>, listener: Option<&Arc<Core>>) {
    let mut g = GC.lock();
    let e = id(embryo);
    g.graph.set_parent(e, listener.map(|l| id(l)));
    // The embryo's own entry comes with what is queued on it.
    if listener.is_none() {
        g.forget(e);
    }
}

impl State {
    /// Drops the `Weak`s of an id the graph no longer mentions: a `Weak`
    /// keeps its allocation (and so the id, an address) from being
    /// reused, so entries go exactly when the graph lets go of the id.
    fn forget(&mut self, id: Id) {
        if !self.graph.contains(id) {
            self.cores.remove(&id);
            self.files.remove(&id);
        }
    }
}

/// Collects when anything is in flight (unix_release_sock's rule; also
/// after a descriptor of a socket closes, when its last user reference
/// may have gone).
pub fn maybe_collect() {
    if TOTAL.load(Ordering::Relaxed) != 0 {
        collect();
    }
}

/// unix_gc: purges the queues of sockets that only in-flight messages
/// reach. One collector at a time; a trigger during a collection makes
/// it run once more (a purge itself closes sockets, which trigger).
pub fn collect() {
    AGAIN.store(true, Ordering::SeqCst);
    while AGAIN.load(Ordering::SeqCst) {
        if COLLECTING.swap(true, Ordering::SeqCst) {
            return; // the running collector sees AGAIN
        }
        while AGAIN.swap(false, Ordering::SeqCst) {
            collect_once();
        }
        COLLECTING.store(false, Ordering::SeqCst);
    }
}

fn collect_once() {
    let garbage: Vec<Arc<Core>> = {
        let g = GC.lock();
        let State { graph, cores, files, .. } = &*g;
        let dead = graph.garbage(|v| files.get(&v).map_or(usize::MAX, Weak::strong_count));
        dead.iter().filter_map(|v| cores.get(v).and_then(Weak::upgrade)).collect()
    };
    // Each purge returns files only; dropping them (outside every lock)
    // releases the garbage sockets.
    let freed: Vec<Rights> = garbage.iter().flat_map(|c| c.purge()).collect();
    drop(garbage);
    drop(freed);
}

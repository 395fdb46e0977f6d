//! Garbage collection of sockets that only in-flight messages reach
//! (Linux's unix_gc, net/unix/garbage.c).
//!
//! ```text
//!   close(a) after sendmsg(b, SCM_RIGHTS [a])     a's queue ─holds─▶ a
//!      a: 1 reference, and it is the one in a's own queue: nothing a
//!      user holds can ever read it out, so a would live forever.
//!
//!   vertices: sockets in flight (inflight[v] copies sit in queues)
//!   edges:    owner ──▶ v   (a copy of v sits in owner's receive queue)
//!   parent:   embryo ──▶ listener (an unaccepted connection's queue is
//!             reached only through its listener's backlog)
//! ```
//! [`Graph::garbage`] takes each socket's total reference count (the
//! file's count: descriptors, in-flight copies, transient holds). A
//! socket whose references are all in-flight copies is a candidate; every
//! socket reachable from a non-candidate (something a user holds, through
//! queues and backlogs) is alive; the candidates left are garbage, and
//! their queues (and those of their unaccepted embryos) are purged.
//! The caller keeps the graph under one lock together with the queues'
//! accounting, so counts and edges are one consistent picture.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

/// A socket's identity (the kernel uses its state's address).
pub type Id = usize;

#[derive(Default)]
pub struct Graph {
    /// Copies of each socket that sit in receive queues.
    inflight: BTreeMap<Id, usize>,
    /// For each queue owner, the sockets in flight in its queue (with count).
    edges: BTreeMap<Id, BTreeMap<Id, usize>>,
    /// Embryo → its listener.
    parent: BTreeMap<Id, Id>,
    total: usize,
}

impl Graph {
    pub const fn new() -> Self {
        Self { inflight: BTreeMap::new(), edges: BTreeMap::new(), parent: BTreeMap::new(), total: 0 }
    }

    /// One copy of socket `sock` was queued on `owner`'s receive queue.
    pub fn add(&mut self, owner: Id, sock: Id) {
        *self.inflight.entry(sock).or_insert(0) += 1;
        *self.edges.entry(owner).or_default().entry(sock).or_insert(0) += 1;
        self.total += 1;
    }

    /// One copy of `sock` left `owner`'s queue (received or purged).
    /// Unknown pairs are ignored (the caller's bug must not corrupt counts).
    pub fn remove(&mut self, owner: Id, sock: Id) {
        let Some(out) = self.edges.get_mut(&owner) else { return };
        let Some(c) = out.get_mut(&sock) else { return };
        *c -= 1;
        if *c == 0 {
            out.remove(&sock);
            if out.is_empty() {
                self.edges.remove(&owner);
            }
        }
        if let Some(i) = self.inflight.get_mut(&sock) {
            *i -= 1;
            if *i == 0 {
                self.inflight.remove(&sock);
            }
        }
        self.total -= 1;
    }

    /// Copies of `sock` in flight.
    pub fn inflight(&self, sock: Id) -> usize {
        self.inflight.get(&sock).copied().unwrap_or(0)
    }

    /// Socket copies in flight in all queues (unix_tot_inflight).
    pub fn total(&self) -> usize {
        self.total
    }

    /// `embryo` waits in `listener`'s backlog (Some) or was accepted or
    /// dropped (None).
    pub fn set_parent(&mut self, embryo: Id, listener: Option<Id>) {
        match listener {
            Some(l) => self.parent.insert(embryo, l),
            None => self.parent.remove(&embryo),
        };
    }

    /// Every id the graph still mentions (the caller prunes its own maps).
    pub fn contains(&self, id: Id) -> bool {
        self.inflight.contains_key(&id) || self.edges.contains_key(&id) || self.parent.contains_key(&id)
    }

    /// The queue owners to purge: garbage sockets and the embryos waiting
    /// on garbage listeners. `refs(v)` is socket `v`'s total reference
    /// count; a socket whose count exceeds its in-flight copies is held
    /// from outside the queues, and so is every owner that is not in
    /// flight at all (held by a descriptor, or already closing).
    pub fn garbage(&self, mut refs: impl FnMut(Id) -> usize) -> Vec<Id> {
        let candidates: BTreeSet<Id> =
            self.inflight.iter().filter(|&(&v, &n)| refs(v) <= n).map(|(&v, _)| v).collect();
        if candidates.is_empty() {
            return Vec::new();
        }
        let mut embryos: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
        for (&e, &l) in &self.parent {
            embryos.entry(l).or_default().push(e);
        }
        // Roots: owners and sockets that something outside the queues holds.
        let is_root = |id: Id| match self.parent.get(&id) {
            Some(_) => false,
            None => !candidates.contains(&id),
        };
        let mut alive: BTreeSet<Id> = BTreeSet::new();
        let mut todo: Vec<Id> =
            self.edges.keys().chain(self.inflight.keys()).chain(self.parent.values()).copied().filter(|&id| is_root(id)).collect();
        while let Some(id) = todo.pop() {
            if !alive.insert(id) {
                continue;
            }
            if let Some(out) = self.edges.get(&id) {
                todo.extend(out.keys().filter(|v| !alive.contains(v)));
            }
            if let Some(es) = embryos.get(&id) {
                todo.extend(es.iter().filter(|v| !alive.contains(v)));
            }
        }
        let mut dead: Vec<Id> = candidates.iter().copied().filter(|v| !alive.contains(v)).collect();
        for v in dead.clone() {
            if let Some(es) = embryos.get(&v) {
                dead.extend(es.iter().copied().filter(|e| self.edges.contains_key(e)));
            }
        }
        dead
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// refs from a table: (id, count).
    fn refs(t: &[(Id, usize)]) -> impl FnMut(Id) -> usize + '_ {
        move |id| t.iter().find(|e| e.0 == id).map_or(1, |e| e.1)
    }

    fn sorted(mut v: Vec<Id>) -> Vec<Id> {
        v.sort_unstable();
        v
    }

    #[test]
    fn socket_in_its_own_queue_is_garbage_once_closed() {
        let mut g = Graph::new();
        g.add(1, 1);
        // Still open by the user: 1 descriptor + 1 in flight.
        assert!(g.garbage(refs(&[(1, 2)])).is_empty());
        // Closed: its only reference is the in-flight copy.
        assert_eq!(g.garbage(refs(&[(1, 1)])), [1]);
    }

    #[test]
    fn two_socket_cycle_and_a_live_one_beside_it() {
        let mut g = Graph::new();
        // a (1) in b's queue, b (2) in a's queue: a cycle; c (3) in d's
        // queue with d (4) held by a descriptor.
        g.add(2, 1);
        g.add(1, 2);
        g.add(4, 3);
        assert_eq!(g.total(), 3);
        assert_eq!(sorted(g.garbage(refs(&[(1, 1), (2, 1), (3, 1)]))), [1, 2]);
        // One descriptor on a keeps both alive (b is reached through a).
        assert!(g.garbage(refs(&[(1, 2), (2, 1), (3, 1)])).is_empty());
    }

    #[test]
    fn reachable_from_a_live_queue_is_alive() {
        let mut g = Graph::new();
        // x (10) is in flight in live socket 20's queue, and x's own
        // queue holds y (11), whose only reference is that copy.
        g.add(20, 10);
        g.add(10, 11);
        assert!(g.garbage(refs(&[(10, 1), (11, 1)])).is_empty());
        // Received: x leaves 20's queue and is now a descriptor.
        g.remove(20, 10);
        assert_eq!(g.inflight(10), 0);
        assert!(g.garbage(refs(&[(10, 1), (11, 1)])).is_empty());
    }

    #[test]
    fn transient_reference_keeps_a_cycle() {
        let mut g = Graph::new();
        g.add(1, 1);
        g.add(1, 1);
        // Two copies in flight and one more reference (a peek, a syscall
        // in progress): not garbage.
        assert!(g.garbage(refs(&[(1, 3)])).is_empty());
        assert_eq!(g.garbage(refs(&[(1, 2)])), [1]);
    }

    #[test]
    fn embryo_is_reached_through_its_listener() {
        let mut g = Graph::new();
        // Listener 5's embryo 6 holds the listener itself in its queue.
        g.add(6, 5);
        g.set_parent(6, Some(5));
        assert!(g.garbage(refs(&[(5, 2)])).is_empty());
        // The listener closed: it and its embryo's queue go.
        assert_eq!(sorted(g.garbage(refs(&[(5, 1)]))), [5, 6]);
        // Accepted: the new socket holds the listener through its queue
        // and is itself held by a descriptor.
        g.set_parent(6, None);
        assert!(g.garbage(refs(&[(5, 1)])).is_empty());
    }

    #[test]
    fn embryo_of_a_listener_outside_the_graph_is_alive() {
        let mut g = Graph::new();
        // Listener 7 is neither in flight nor holds anything; its embryo 8
        // holds socket 9, which has no other reference.
        g.add(8, 9);
        g.set_parent(8, Some(7));
        assert!(g.garbage(refs(&[(9, 1)])).is_empty());
    }

    #[test]
    fn remove_undoes_add_and_ignores_strangers() {
        let mut g = Graph::new();
        g.add(1, 2);
        g.remove(3, 2);
        g.remove(1, 9);
        assert_eq!((g.total(), g.inflight(2)), (1, 1));
        g.remove(1, 2);
        assert_eq!(g.total(), 0);
        assert!(!g.contains(1) && !g.contains(2));
        assert!(g.garbage(refs(&[])).is_empty());
    }
}

//! The dentry cache: what one filesystem's directories map names to,
//! remembered so that a path walk need not ask the filesystem again.
//!
//! ```text
//!   Dcache
//!     dirs:  dir Ino -> name -> Slot { entry: Positive(ino, kind) | Negative, seq, referenced }
//!     clock: (dir, name, seq) in insertion order     (second-chance eviction)
//!     generation: bumped by every invalidation            (stale-insert guard)
//! ```
//!
//! One cache belongs to one filesystem instance (the kernel's super
//! block), so it knows nothing of mounts: a walk asks the mount table
//! about mount points after each step, cached or not, as Linux checks
//! `d_mountpoint` after `lookup_fast`. That is why mount and umount need
//! no invalidation, and why `..` (asked of the filesystem, then of the
//! mount table at a mount root) is not cached here.
//!
//! The cache is a hint the filesystem's own answers always win over, and
//! it is kept true by three rules:
//!
//! 1. Every change of a name (create, link, symlink, unlink, rmdir,
//!    rename, exchange) calls [`Dcache::invalidate`] for each name it
//!    touched, *after* the filesystem made the change.
//! 2. A miss is filled in two steps: [`Dcache::generation`] before asking
//!    the filesystem, [`Dcache::insert`] with that number after. An
//!    invalidation in between bumps the generation and the insert is
//!    dropped, so an answer that a concurrent change made stale is never
//!    cached (the walk itself may still use it: it raced with the change).
//! 3. A removed directory (rmdir, or a rename over an empty one) gets
//!    [`Dcache::forget_dir`]: its entries go, so a filesystem that reuses
//!    inode numbers (ext2) never sees another directory's names.
//!
//! Size is bounded: at most `capacity` entries (negative ones included);
//! an insert beyond it evicts with the clock (second chance) algorithm,
//! so a hostile walk over millions of missing names costs a bounded
//! amount of memory. Stale clock records (of entries invalidated since)
//! are dropped when the clock grows past twice the capacity.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::{Ino, Kind};

/// What a directory holds under a name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dentry {
    /// The name is there, naming this inode of this type.
    Positive(Ino, Kind),
    /// The name is not there (the filesystem said `ENOENT`).
    Negative,
}

#[derive(Debug)]
struct Slot {
    entry: Dentry,
    /// Which clock record is this slot's (older records are stale).
    seq: u64,
    /// Used since the clock hand last passed it.
    referenced: bool,
}

/// Hit and miss counters, for tests and /proc.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct DcacheStats {
    pub entries: usize,
    /// Of which negative.
    pub negative: usize,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// The default number of entries a cache holds.
pub const DEFAULT_CAPACITY: usize = 4096;

/// A bounded name cache of one filesystem (see the module docs).
///
/// # Invariants
///
/// `len` is the number of slots in `dirs`, never above `capacity`,
/// `negative` the number of them holding [`Dentry::Negative`], and no
/// inner map is empty. Every slot has exactly one clock record with its
/// `seq`; other records in `clock` are stale.
#[derive(Debug)]
pub struct Dcache {
    dirs: BTreeMap<Ino, BTreeMap<Vec<u8>, Slot>>,
    clock: VecDeque<(Ino, Vec<u8>, u64)>,
    len: usize,
    /// Negative slots among the `len`.
    negative: usize,
    capacity: usize,
    next_seq: u64,
    generation: u64,
    stats: DcacheStats,
}

impl Default for Dcache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Dcache {
    /// An empty cache holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            dirs: BTreeMap::new(),
            clock: VecDeque::new(),
            len: 0,
            negative: 0,
            capacity: capacity.max(1),
            next_seq: 0,
            generation: 0,
            stats: DcacheStats::default(),
        }
    }

    /// What `dir` holds under `name`, if cached.
    pub fn get(&mut self, dir: Ino, name: &[u8]) -> Option<Dentry> {
        match self.dirs.get_mut(&dir).and_then(|d| d.get_mut(name)) {
            Some(slot) => {
                slot.referenced = true;
                self.stats.hits = self.stats.hits.wrapping_add(1);
                Some(slot.entry)
            }
            None => {
                self.stats.misses = self.stats.misses.wrapping_add(1);
                None
            }
        }
    }

    /// The number to pass to [`insert`](Self::insert) after asking the
    /// filesystem about a miss.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Caches what the filesystem answered for (`dir`, `name`), unless an
    /// invalidation happened since [`generation`](Self::generation)
    /// returned `seen`. Returns whether it was cached.
    pub fn insert(&mut self, dir: Ino, name: &[u8], entry: Dentry, seen: u64) -> bool {
        if seen != self.generation || name.is_empty() || name.len() > crate::NAME_MAX {
            return false;
        }
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if let Some(slot) = self.dirs.get_mut(&dir).and_then(|d| d.get_mut(name)) {
            // Same answer (two walks missed at once): refresh in place.
            if slot.entry == Dentry::Negative {
                self.negative = self.negative.saturating_sub(1);
            }
            if entry == Dentry::Negative {
                self.negative = self.negative.saturating_add(1);
            }
            slot.entry = entry;
            slot.seq = seq;
            slot.referenced = false;
        } else {
            while self.len >= self.capacity {
                if !self.evict_one() {
                    return false;
                }
            }
            self.dirs.entry(dir).or_default().insert(name.to_vec(), Slot { entry, seq, referenced: false });
            // INVARIANT: one more slot, and below capacity (evicted above).
            self.len = self.len.saturating_add(1);
            if entry == Dentry::Negative {
                self.negative = self.negative.saturating_add(1);
            }
        }
        self.clock.push_back((dir, name.to_vec(), seq));
        if self.clock.len() > self.capacity.saturating_mul(2) {
            self.compact();
        }
        true
    }

    /// A name of `dir` changed (appeared, went, or names something else):
    /// forgets it, and makes misses in flight not cache what they found.
    /// `name` may end in slashes, as the last component of a path does.
    pub fn invalidate(&mut self, dir: Ino, name: &[u8]) {
        self.generation = self.generation.wrapping_add(1);
        let end = name.iter().rposition(|&b| b != b'/').map_or(0, |i| i.saturating_add(1));
        let name = name.get(..end).unwrap_or_default();
        self.remove(dir, name);
    }

    /// Directory `dir` was removed: forgets every name in it.
    pub fn forget_dir(&mut self, dir: Ino) {
        self.generation = self.generation.wrapping_add(1);
        if let Some(names) = self.dirs.remove(&dir) {
            // INVARIANT: those slots are gone; their records are stale now.
            self.len = self.len.saturating_sub(names.len());
            let negative = names.values().filter(|s| s.entry == Dentry::Negative).count();
            self.negative = self.negative.saturating_sub(negative);
        }
    }

    /// Forgets everything (drop_caches), the clock queue's buffer included
    /// (`clear` would keep its capacity: up to the cache's size in entries).
    pub fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.dirs.clear();
        self.clock = VecDeque::new();
        self.len = 0;
        self.negative = 0;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn stats(&self) -> DcacheStats {
        DcacheStats { entries: self.len, negative: self.negative, ..self.stats }
    }

    fn remove(&mut self, dir: Ino, name: &[u8]) -> Option<Slot> {
        let names = self.dirs.get_mut(&dir)?;
        let slot = names.remove(name)?;
        if names.is_empty() {
            self.dirs.remove(&dir);
        }
        // INVARIANT: one slot fewer; its record is stale now.
        self.len = self.len.saturating_sub(1);
        if slot.entry == Dentry::Negative {
            self.negative = self.negative.saturating_sub(1);
        }
        Some(slot)
    }

    /// Evicts one entry by the clock: a referenced entry gets a second
    /// chance (its bit cleared, its record moved to the back). Returns
    /// false only if there was nothing to evict.
    fn evict_one(&mut self) -> bool {
        // Each live record is passed at most twice (once to clear its bit),
        // and stale ones once, so this bound is never reached.
        let bound = self.clock.len().saturating_mul(2).saturating_add(1);
        for _ in 0..bound {
            let Some((dir, name, seq)) = self.clock.pop_front() else { return false };
            let Some(slot) = self.dirs.get_mut(&dir).and_then(|d| d.get_mut(name.as_slice())) else { continue };
            if slot.seq != seq {
                continue;
            }
            if slot.referenced {
                slot.referenced = false;
                self.clock.push_back((dir, name, seq));
                continue;
            }
            self.remove(dir, &name);
            self.stats.evictions = self.stats.evictions.wrapping_add(1);
            return true;
        }
        false
    }

    /// Drops stale clock records.
    fn compact(&mut self) {
        let dirs = &self.dirs;
        self.clock
            .retain(|(dir, name, seq)| dirs.get(dir).and_then(|d| d.get(name.as_slice())).is_some_and(|s| s.seq == *seq));
    }
}

//! Advisory file locks of one inode, as byte ranges held by owners.
//!
//! POSIX record locks (`fcntl(F_SETLK)`) are owned by a process, OFD locks
//! (`F_OFD_SETLK`) and `flock(2)` locks by an open file description; the
//! caller picks the [`Owner`] numbers. A `flock(2)` lock is a whole-file
//! range in a table of its own. Setting a range for an owner replaces
//! whatever that owner held there (splitting its ranges around it) and
//! merges it with the owner's touching ranges of the same kind, so an
//! owner never holds two overlapping or adjacent ranges of one kind.
//!
//! ```text
//!   owner 7:  [0 ─── W ─── 99]            set(7, Read, 40..=59)
//!   becomes:  [0 W 39][40 R 59][60 W 99]
//! ```

use alloc::vec::Vec;

use crate::Errno;

/// Who holds a lock: a process id, or an open file's identity.
pub type Owner = u64;

/// The last byte of a range that runs to the end of the file and beyond
/// (Linux's `OFFSET_MAX`).
pub const TO_EOF: u64 = i64::MAX as u64;

/// Shared (`F_RDLCK`, `LOCK_SH`) or exclusive (`F_WRLCK`, `LOCK_EX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    Read,
    Write,
}

/// One held range, `start..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    pub owner: Owner,
    pub kind: LockKind,
    pub start: u64,
    pub end: u64,
    /// The process that set it (what `F_GETLK` reports).
    pub pid: i32,
}

impl Lock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start <= end && start <= self.end
    }
}

/// The byte range `struct flock` describes (`flock_to_posix_lock`):
/// `base` is 0, the file position or the size for `l_whence`
/// SEEK_SET/CUR/END; `len` 0 runs to [`TO_EOF`], a negative `len` ends
/// just before `start`. EINVAL for a start before 0, EOVERFLOW past
/// `OFFSET_MAX`.
pub fn range(base: i64, start: i64, len: i64) -> Result<(u64, u64), Errno> {
    let s = base.checked_add(start).ok_or(Errno::EOVERFLOW)?;
    if s < 0 {
        return Err(Errno::EINVAL);
    }
    let (s, e) = match len {
        0 => (s, i64::MAX),
        l if l > 0 => (s, s.checked_add(l.saturating_sub(1)).ok_or(Errno::EOVERFLOW)?),
        l => {
            let ns = s.checked_add(l).ok_or(Errno::EINVAL)?;
            if ns < 0 {
                return Err(Errno::EINVAL);
            }
            (ns, s.saturating_sub(1))
        }
    };
    // Both are in 0..=i64::MAX here.
    Ok((s.unsigned_abs(), e.unsigned_abs()))
}

/// The locks of one inode (of one flavour: record or flock).
#[derive(Clone, Debug, Default)]
pub struct Locks {
    held: Vec<Lock>,
}

impl Locks {
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Lock> {
        self.held.iter()
    }

    /// The first lock of another owner that keeps `owner` from taking
    /// `kind` over `start..=end` (a write lock conflicts with anything,
    /// a read lock only with write locks).
    pub fn conflict(&self, owner: Owner, kind: LockKind, start: u64, end: u64) -> Option<&Lock> {
        self.held.iter().find(|l| {
            l.owner != owner && l.overlaps(start, end) && (kind == LockKind::Write || l.kind == LockKind::Write)
        })
    }

    /// Sets `kind` (or with `None` unlocks) `start..=end` for `owner`,
    /// without looking at other owners (check [`conflict`](Self::conflict)
    /// first).
    pub fn set(&mut self, owner: Owner, kind: Option<LockKind>, start: u64, end: u64, pid: i32) {
        let mut out = Vec::with_capacity(self.held.len().saturating_add(2));
        let (mut start, mut end) = (start, end);
        for l in self.held.drain(..) {
            if l.owner != owner {
                out.push(l);
                continue;
            }
            let touches = l.start <= end.saturating_add(1) && start <= l.end.saturating_add(1);
            if kind == Some(l.kind) && touches {
                // Same kind, overlapping or adjacent: grow the new range.
                start = start.min(l.start);
                end = end.max(l.end);
                continue;
            }
            if !l.overlaps(start, end) {
                out.push(l);
                continue;
            }
            // Keep the parts outside the new range.
            if l.start < start {
                out.push(Lock { end: start.saturating_sub(1), ..l });
            }
            if l.end > end {
                out.push(Lock { start: end.saturating_add(1), ..l });
            }
        }
        if let Some(kind) = kind {
            out.push(Lock { owner, kind, start, end, pid });
        }
        out.sort_by_key(|l| (l.start, l.owner));
        self.held = out;
    }

    /// Drops every lock of `owner`; whether it had any.
    pub fn remove_owner(&mut self, owner: Owner) -> bool {
        let n = self.held.len();
        self.held.retain(|l| l.owner != owner);
        self.held.len() != n
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn ranges(l: &Locks, owner: Owner) -> Vec<(LockKind, u64, u64)> {
        l.iter().filter(|x| x.owner == owner).map(|x| (x.kind, x.start, x.end)).collect()
    }

    #[test]
    fn range_from_flock() {
        assert_eq!(range(0, 10, 5), Ok((10, 14)));
        assert_eq!(range(100, -10, 0), Ok((90, TO_EOF)));
        assert_eq!(range(0, 10, -5), Ok((5, 9)));
        assert_eq!(range(0, -1, 1), Err(Errno::EINVAL));
        assert_eq!(range(0, 3, -5), Err(Errno::EINVAL));
        assert_eq!(range(i64::MAX, 1, 1), Err(Errno::EOVERFLOW));
        assert_eq!(range(0, i64::MAX, 2), Err(Errno::EOVERFLOW));
        assert_eq!(range(0, i64::MAX, 1), Ok((TO_EOF, TO_EOF)));
    }

    #[test]
    fn split_and_merge() {
        let mut l = Locks::default();
        l.set(1, Some(LockKind::Write), 0, 99, 1);
        l.set(1, Some(LockKind::Read), 40, 59, 1);
        assert_eq!(ranges(&l, 1), [(LockKind::Write, 0, 39), (LockKind::Read, 40, 59), (LockKind::Write, 60, 99)]);
        l.set(1, Some(LockKind::Write), 40, 59, 1);
        assert_eq!(ranges(&l, 1), [(LockKind::Write, 0, 99)]);
        // Adjacent ranges of one kind merge.
        l.set(1, Some(LockKind::Write), 100, 109, 1);
        assert_eq!(ranges(&l, 1), [(LockKind::Write, 0, 109)]);
        // Unlock a hole, then the rest.
        l.set(1, None, 10, 19, 1);
        assert_eq!(ranges(&l, 1), [(LockKind::Write, 0, 9), (LockKind::Write, 20, 109)]);
        l.set(1, None, 0, TO_EOF, 1);
        assert!(l.is_empty());
    }

    #[test]
    fn conflicts_between_owners() {
        let mut l = Locks::default();
        l.set(1, Some(LockKind::Read), 0, 9, 1);
        assert!(l.conflict(2, LockKind::Read, 0, 9).is_none());
        assert_eq!(l.conflict(2, LockKind::Write, 9, 20).map(|x| x.owner), Some(1));
        assert!(l.conflict(2, LockKind::Write, 10, 20).is_none());
        assert!(l.conflict(1, LockKind::Write, 0, 9).is_none());
        l.set(2, Some(LockKind::Read), 5, TO_EOF, 2);
        l.set(1, None, 0, 9, 1);
        assert_eq!(ranges(&l, 2), [(LockKind::Read, 5, TO_EOF)]);
        assert!(l.remove_owner(2));
        assert!(!l.remove_owner(2));
        assert!(l.is_empty());
    }

    #[test]
    fn others_untouched() {
        let mut l = Locks::default();
        l.set(1, Some(LockKind::Read), 0, 9, 1);
        l.set(2, Some(LockKind::Read), 0, 9, 2);
        l.set(1, Some(LockKind::Read), 10, 19, 1);
        assert_eq!(ranges(&l, 1), [(LockKind::Read, 0, 19)]);
        assert_eq!(ranges(&l, 2), [(LockKind::Read, 0, 9)]);
    }
}

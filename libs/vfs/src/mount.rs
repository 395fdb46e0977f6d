//! The mount tree and path resolution across it.
//!
//! ```text
//!   MountTable<F>
//!     mounts: MountId -> Mount { parent: Some((MountId, Ino)) | None, root: Ino, fs: F }
//!     on:     (MountId, Ino) of a mount point -> the MountId mounted there
//!
//!   /            mount 1 (root)          walking "/proc/self/.." :
//!   /proc        mount 2, on (1, ino of /proc)   1:root -> 1:proc -> 2:root (down)
//!   /proc/self   a name in mount 2                -> 2:self -> 2:root (up? no: plain `..`)
//!   /proc/..     2:root is a mount root           -> up to 1:proc, then `..` -> 1:root
//! ```
//!
//! A place in the namespace is a [`Loc`]: a mount and an inode of that
//! mount's filesystem. [`MountTable::resolve`] walks a path over any
//! filesystems through the [`Lookup`] trait (one call per component,
//! never holding anything across calls), crossing into a mount when a
//! component is its mount point and out of it when `..` is taken at its
//! root, as `path_resolution(7)` describes. `F` is whatever the caller
//! keeps per mount (the kernel: its filesystem object and flags); the
//! table itself is plain data without locks.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::{Errno, Ino, Kind, MAX_SYMLINKS, Result};

/// A mount's number: unique while the table lives, never reused (the
/// mount ID of `/proc/[pid]/mountinfo`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct MountId(pub u32);

/// A place in the namespace: an inode of one mount's filesystem.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Loc {
    pub mnt: MountId,
    pub ino: Ino,
}

/// One mounted filesystem.
#[derive(Clone, Debug)]
pub struct Mount<F> {
    /// Where it is mounted; `None` for the root mount.
    pub parent: Option<Loc>,
    /// The directory of its filesystem that appears at the mount point.
    pub root: Ino,
    pub fs: F,
}

/// What path resolution needs from the filesystems, one call per step.
/// Implementations look only inside the filesystem of `at.mnt`; the
/// table handles mount points.
pub trait Lookup {
    /// The entry `name` (never `.` or `..`) of directory `at`, with its
    /// type: `ENOTDIR` if `at` is not a directory, `ENOENT` if missing.
    fn child(&self, at: Loc, name: &[u8]) -> Result<(Ino, Kind)>;
    /// `..` of directory `at` inside its filesystem (the fs root's is
    /// itself): `ENOTDIR` if `at` is not a directory.
    fn parent(&self, at: Loc) -> Result<Ino>;
    /// The type of `at`.
    fn kind(&self, at: Loc) -> Result<Kind>;
    /// The target of symlink `at`.
    fn readlink(&self, at: Loc) -> Result<Vec<u8>>;
    /// The name under which directory `dir` holds `child`.
    fn name_of(&self, dir: Loc, child: Ino) -> Result<Vec<u8>>;
    /// Whether the caller may search directory `at` (`may_lookup`):
    /// `ENOTDIR` for a non-directory, `EACCES` without search permission.
    /// Called before every name is looked up in `at`; the default allows
    /// everything (the kernel's own walks).
    fn may_search(&self, _at: Loc) -> Result<()> {
        Ok(())
    }
}

/// The mount tree.
///
/// # Invariants
///
/// `root` is in `mounts` and has no parent; every other mount has a
/// parent that is in `mounts`. `on` maps exactly the `parent` of every
/// non-root mount to that mount, so no two mounts share a mount point.
/// `next` is above every id handed out.
#[derive(Clone, Debug)]
pub struct MountTable<F> {
    mounts: BTreeMap<MountId, Mount<F>>,
    on: BTreeMap<Loc, MountId>,
    root: MountId,
    next: u32,
}

impl<F> MountTable<F> {
    /// A table holding only the root mount: `fs` with root directory
    /// `root`, as mount 1 (`MountId(1)`).
    pub fn new(fs: F, root: Ino) -> Self {
        let id = MountId(1);
        let mut mounts = BTreeMap::new();
        mounts.insert(id, Mount { parent: None, root, fs });
        Self { mounts, on: BTreeMap::new(), root: id, next: 2 }
    }

    /// The root of the namespace (`/`).
    pub fn root(&self) -> Loc {
        // The root mount is always present (invariant), so the fallback
        // is never taken.
        let ino = self.mounts.get(&self.root).map_or(Ino(1), |m| m.root);
        Loc { mnt: self.root, ino }
    }

    /// The root mount's id.
    pub fn root_id(&self) -> MountId {
        self.root
    }

    pub fn get(&self, id: MountId) -> Option<&Mount<F>> {
        self.mounts.get(&id)
    }

    pub fn get_mut(&mut self, id: MountId) -> Option<&mut Mount<F>> {
        self.mounts.get_mut(&id)
    }

    /// Every mount in the order they were mounted (as `/proc/mounts`
    /// lists them).
    pub fn iter(&self) -> impl Iterator<Item = (MountId, &Mount<F>)> {
        self.mounts.iter().map(|(id, m)| (*id, m))
    }

    /// The mount whose mount point is exactly `at`.
    pub fn mounted_on(&self, at: Loc) -> Option<MountId> {
        self.on.get(&at).copied()
    }

    /// Whether `at` is the root directory of its mount.
    pub fn is_mount_root(&self, at: Loc) -> bool {
        self.mounts.get(&at.mnt).is_some_and(|m| m.root == at.ino)
    }

    /// Whether any mount sits on a place inside mount `id`.
    pub fn has_submounts(&self, id: MountId) -> bool {
        self.on.keys().any(|l| l.mnt == id)
    }

    /// The id the next [`add`](Self::add) will return.
    pub fn next_id(&self) -> MountId {
        MountId(self.next)
    }

    /// Mounts `fs` (root directory `root`) on `at`, which the caller has
    /// resolved (so it is the topmost thing there). `ENOENT` if `at`'s
    /// mount is gone, `EBUSY` if something is mounted on `at` already,
    /// `ENOSPC` if ids ran out.
    pub fn add(&mut self, at: Loc, fs: F, root: Ino) -> Result<MountId> {
        if !self.mounts.contains_key(&at.mnt) {
            return Err(Errno::ENOENT);
        }
        if self.on.contains_key(&at) {
            return Err(Errno::EBUSY);
        }
        let id = MountId(self.next);
        // INVARIANT: ids only grow.
        self.next = self.next.checked_add(1).ok_or(Errno::ENOSPC)?;
        // INVARIANT: the parent exists and `on` gets the new mount point.
        self.mounts.insert(id, Mount { parent: Some(at), root, fs });
        self.on.insert(at, id);
        Ok(id)
    }

    /// Unmounts `id`: `EINVAL` for the root mount or an unknown id,
    /// `EBUSY` if other mounts sit inside it.
    pub fn remove(&mut self, id: MountId) -> Result<Mount<F>> {
        if id == self.root || !self.mounts.contains_key(&id) {
            return Err(Errno::EINVAL);
        }
        if self.has_submounts(id) {
            return Err(Errno::EBUSY);
        }
        let m = self.mounts.remove(&id).ok_or(Errno::EINVAL)?;
        if let Some(at) = m.parent {
            // INVARIANT: the mount point leaves with its mount.
            self.on.remove(&at);
        }
        Ok(m)
    }

    /// Unmounts `id` and every mount inside it (`MNT_DETACH`), innermost
    /// first; returns them. `EINVAL` as [`remove`](Self::remove).
    pub fn remove_tree(&mut self, id: MountId) -> Result<Vec<Mount<F>>> {
        if id == self.root || !self.mounts.contains_key(&id) {
            return Err(Errno::EINVAL);
        }
        let mut order = vec![id];
        let mut i = 0;
        while let Some(&m) = order.get(i) {
            order.extend(self.on.iter().filter(|(l, _)| l.mnt == m).map(|(_, c)| *c));
            i = i.saturating_add(1);
        }
        let mut out = Vec::new();
        for m in order.into_iter().rev() {
            out.push(self.remove(m)?);
        }
        Ok(out)
    }

    /// Follows mounts stacked on `at` to the topmost one's root.
    pub fn down(&self, mut at: Loc) -> Loc {
        // Each step enters a different mount, so the count bounds it.
        for _ in 0..=self.mounts.len() {
            let Some(id) = self.on.get(&at) else { break };
            let Some(m) = self.mounts.get(id) else { break };
            at = Loc { mnt: *id, ino: m.root };
        }
        at
    }

    /// From the root of a mount, climbs to where it is mounted (repeatedly,
    /// for stacked mounts); anything else is returned as is.
    pub fn up(&self, mut at: Loc) -> Loc {
        for _ in 0..=self.mounts.len() {
            match self.mounts.get(&at.mnt) {
                Some(m) if m.root == at.ino => match m.parent {
                    Some(p) => at = p,
                    None => break,
                },
                _ => break,
            }
        }
        at
    }

    /// `..` of directory `at` across mounts; the namespace root's is
    /// itself.
    pub fn dotdot(&self, fs: &impl Lookup, at: Loc) -> Result<Loc> {
        self.dotdot_at(fs, self.root(), at)
    }

    /// [`dotdot`](Self::dotdot) for a process whose root (chroot(2)) is
    /// `root`: `..` there stays there too.
    pub fn dotdot_at(&self, fs: &impl Lookup, root: Loc, at: Loc) -> Result<Loc> {
        if at == self.root() || at == root {
            // Checks that it is a directory, as any `..` does.
            fs.parent(at)?;
            return Ok(at);
        }
        let at = self.up(at);
        let ino = fs.parent(at)?;
        Ok(self.down(Loc { mnt: at.mnt, ino }))
    }

    /// Resolves `path`, absolute or relative to the directory `cwd`, across
    /// mounts. The rules are [`RamFs::lookup`](crate::RamFs::lookup)'s:
    /// `.`, `..`, repeated slashes, symlinks (at most [`MAX_SYMLINKS`];
    /// a final one only if `follow_last` or a slash follows), a trailing
    /// slash requires a directory, and the same errors.
    pub fn resolve(&self, fs: &impl Lookup, cwd: Loc, path: &[u8], follow_last: bool) -> Result<Loc> {
        self.resolve_in(fs, cwd, path, follow_last).map(|(loc, _)| loc)
    }

    /// [`resolve`](Self::resolve), also returning the directory in which
    /// the last name was found (`None` if the walk ended on `.`, `..` or
    /// the root): what names a file that has no `..` of its own.
    pub fn resolve_in(&self, fs: &impl Lookup, cwd: Loc, path: &[u8], follow_last: bool) -> Result<(Loc, Option<Loc>)> {
        self.resolve_in_at(fs, self.root(), cwd, path, follow_last)
    }

    /// [`resolve_in`](Self::resolve_in) for a process whose root is
    /// `root` (chroot(2)): absolute paths and absolute symlinks start
    /// there, and `..` does not climb above it.
    pub fn resolve_in_at(&self, fs: &impl Lookup, root: Loc, cwd: Loc, path: &[u8], follow_last: bool) -> Result<(Loc, Option<Loc>)> {
        check_path(path)?;
        let mut found_in = None;
        let mut cur = if path.first() == Some(&b'/') {
            found_in = None;
            root
        } else {
            cwd
        };
        let mut pending: Vec<(Cow<'_, [u8]>, usize)> = vec![(Cow::Borrowed(path), 0)];
        let mut links = 0u32;
        let mut need_dir = false;
        while let Some((buf, pos)) = pending.last_mut() {
            let rest = trim_slashes(buf.get(*pos..).unwrap_or_default());
            if rest.is_empty() {
                pending.pop();
                continue;
            }
            let start = buf.len().saturating_sub(rest.len());
            let split = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
            let end = start.saturating_add(split);
            *pos = end;
            if split > crate::NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let is_last = pending
                .iter()
                .all(|(b, p)| b.get(*p..).unwrap_or_default().iter().all(|&c| c == b'/'));
            let has_slash = is_last && pending.iter().any(|(b, p)| b.len() > *p);

            fs.may_search(cur)?;
            // The name borrows the top string only until the lookup is done.
            let name = pending.last().and_then(|(b, _)| b.get(start..end)).unwrap_or_default();
            let is_dots = name == b"." || name == b"..";
            let (next, kind) = match name {
                b"." => {
                    // `.` of a non-directory is ENOTDIR, like any lookup in it.
                    if fs.kind(cur)? != Kind::Dir {
                        return Err(Errno::ENOTDIR);
                    }
                    (cur, Kind::Dir)
                }
                b".." => (self.dotdot_at(fs, root, cur)?, Kind::Dir),
                name => {
                    let (ino, kind) = fs.child(cur, name)?;
                    (Loc { mnt: cur.mnt, ino }, kind)
                }
            };
            if kind == Kind::Symlink && (!is_last || follow_last || has_slash) {
                links = links.saturating_add(1);
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = fs.readlink(next)?;
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                if target.first() == Some(&b'/') {
                    cur = root;
                }
                pending.push((Cow::Owned(target), 0));
                continue;
            }
            if is_dots {
                found_in = None;
                cur = next;
            } else {
                found_in = Some(cur);
                cur = self.down(next);
            }
            need_dir = has_slash;
        }
        if need_dir && fs.kind(cur)? != Kind::Dir {
            return Err(Errno::ENOTDIR);
        }
        Ok((cur, found_in))
    }

    /// Resolves all but the last component of `path`, as
    /// [`RamFs::lookup_parent`](crate::RamFs::lookup_parent) does, across
    /// mounts: the directory and the last component (trailing slashes
    /// included; `/` alone comes back as the root and `/`).
    pub fn resolve_parent<'p>(&self, fs: &impl Lookup, cwd: Loc, path: &'p [u8]) -> Result<(Loc, &'p [u8])> {
        self.resolve_parent_at(fs, self.root(), cwd, path)
    }

    /// [`resolve_parent`](Self::resolve_parent) with the process root
    /// `root` (see [`resolve_in_at`](Self::resolve_in_at)).
    pub fn resolve_parent_at<'p>(&self, fs: &impl Lookup, root: Loc, cwd: Loc, path: &'p [u8]) -> Result<(Loc, &'p [u8])> {
        check_path(path)?;
        let Some(end) = path.iter().rposition(|&b| b != b'/') else {
            return Ok((root, path));
        };
        let (dir_part, last) = match path.get(..end).and_then(|p| p.iter().rposition(|&b| b == b'/')) {
            Some(slash) => {
                let (d, l) = path.split_at_checked(slash.saturating_add(1)).ok_or(Errno::EINVAL)?;
                (Some(d), l)
            }
            None => (None, path),
        };
        let name_len = last.iter().take_while(|&&b| b != b'/').count();
        if name_len > crate::NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let dir = match dir_part {
            Some(d) => self.resolve_in_at(fs, root, cwd, d, true)?.0,
            None => cwd,
        };
        if fs.kind(dir)? != Kind::Dir {
            return Err(Errno::ENOTDIR);
        }
        // The last name will be looked up in `dir`.
        fs.may_search(dir)?;
        Ok((dir, last))
    }

    /// The absolute path of `at`, found by climbing `..` across mounts.
    /// `ENOENT` if a directory on the way has no name any more.
    pub fn path_of(&self, fs: &impl Lookup, at: Loc) -> Result<Vec<u8>> {
        self.path_of_at(fs, self.root(), at)
    }

    /// [`path_of`](Self::path_of) as seen by a process whose root is
    /// `root`: relative to it, or prefixed `(unreachable)` for a place
    /// outside it (as Linux's getcwd).
    pub fn path_of_at(&self, fs: &impl Lookup, root: Loc, mut at: Loc) -> Result<Vec<u8>> {
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut reached = root == self.root();
        // Bounded like the walks above: a path has fewer than PATH_MAX
        // components, and each step takes one (or crosses a mount).
        for _ in 0..crate::PATH_MAX {
            if at == root {
                reached = true;
                break;
            }
            let top = self.up(at);
            if top == root {
                reached = true;
                break;
            }
            // After `up`, a mount root is the namespace root or the root
            // of a detached mount: as far as the path goes.
            if self.is_mount_root(top) {
                break;
            }
            let parent = fs.parent(top)?;
            if parent == top.ino {
                break;
            }
            let dir = Loc { mnt: top.mnt, ino: parent };
            parts.push(fs.name_of(dir, top.ino)?);
            at = dir;
        }
        let mut out = Vec::new();
        if !reached {
            out.extend_from_slice(b"(unreachable)");
        }
        if parts.is_empty() {
            out.push(b'/');
            return Ok(out);
        }
        for p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        Ok(out)
    }
}

/// `ENOENT` for an empty path, `ENAMETOOLONG` for one that would not fit
/// in `PATH_MAX` with its NUL.
fn check_path(path: &[u8]) -> Result<()> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= crate::PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

fn trim_slashes(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b'/').unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// A [`Lookup`] over [`RamFs`](crate::RamFs) instances, one per mount:
/// for tests, and a model of what the kernel does.
impl<A: crate::PageAlloc> Lookup for MountTable<crate::RamFs<A>> {
    fn child(&self, at: Loc, name: &[u8]) -> Result<(Ino, Kind)> {
        let fs = &self.get(at.mnt).ok_or(Errno::ENOENT)?.fs;
        fs.child(at.ino, name)
    }
    fn parent(&self, at: Loc) -> Result<Ino> {
        self.get(at.mnt).ok_or(Errno::ENOENT)?.fs.parent_of(at.ino)
    }
    fn kind(&self, at: Loc) -> Result<Kind> {
        let st = self.get(at.mnt).ok_or(Errno::ENOENT)?.fs.stat(at.ino)?;
        st.kind().ok_or(Errno::EIO)
    }
    fn readlink(&self, at: Loc) -> Result<Vec<u8>> {
        Ok(self.get(at.mnt).ok_or(Errno::ENOENT)?.fs.readlink(at.ino)?.to_vec())
    }
    fn name_of(&self, dir: Loc, child: Ino) -> Result<Vec<u8>> {
        self.get(dir.mnt).ok_or(Errno::ENOENT)?.fs.name_of(dir.ino, child)
    }
}

//! Path resolution (`path_resolution(7)`): [`RamFs::lookup`] and
//! [`RamFs::lookup_parent`].
//!
//! Components are consumed from a stack of byte strings: the path first,
//! then the target of each symlink followed, pushed on top of what is left
//! of the string that named it.
//!
//! ```text
//!  lookup("a/l/c"), l -> "../b":   ["l/c"]  ->  ["/c", "../b"]  ->  ...
//! ```
//!
//! The `_as` forms check search (execute) permission, for the caller's
//! credentials, on every directory a name is looked up in, as Linux's
//! `may_lookup` does (`EACCES`); the plain forms are the kernel's own
//! unchecked walks.

use alloc::vec;

use crate::node::Body;
use cred::Cred;

use crate::{Errno, Ino, PageAlloc, RamFs, Result};

/// Most symlinks followed in one resolution (Linux `MAXSYMLINKS`).
pub const MAX_SYMLINKS: u32 = 40;

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

/// `bytes` without its leading slashes.
fn trim_slashes(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b'/').unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

impl<A: PageAlloc> RamFs<A> {
    /// Resolves `path`, absolute or relative to the directory `cwd`.
    ///
    /// Handles `.`, `..` (the root's is the root), repeated slashes and
    /// symlinks, relative ones from the directory holding them; at most
    /// [`MAX_SYMLINKS`] are followed (`ELOOP`). A final symlink is followed
    /// only if `follow_last` is set or a slash comes after it. A trailing
    /// slash requires a directory (`ENOTDIR`).
    ///
    /// `ENOENT` for an empty path or a missing component, `ENOTDIR` for a
    /// non-directory used as one, `ENAMETOOLONG` for a component over
    /// `NAME_MAX` bytes or a path of `PATH_MAX` bytes or more.
    pub fn lookup(&self, cwd: Ino, path: &[u8], follow_last: bool) -> Result<Ino> {
        self.walk(None, cwd, path, follow_last)
    }

    /// [`lookup`](Self::lookup) for a caller with credentials `cred`:
    /// `EACCES` if a directory on the way may not be searched.
    pub fn lookup_as(&self, cred: &Cred, cwd: Ino, path: &[u8], follow_last: bool) -> Result<Ino> {
        self.walk(Some(cred), cwd, path, follow_last)
    }

    fn walk(&self, cred: Option<&Cred>, cwd: Ino, path: &[u8], follow_last: bool) -> Result<Ino> {
        check_path(path)?;
        let mut cur = if path.first() == Some(&b'/') {
            self.root
        } else {
            cwd
        };
        self.node(cur)?;
        let mut pending = vec![path];
        let mut links = 0u32;
        let mut need_dir = false;
        while let Some(top) = pending.last_mut() {
            let rest = trim_slashes(top);
            if rest.is_empty() {
                pending.pop();
                continue;
            }
            let split = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
            let (name, after) = rest.split_at_checked(split).ok_or(Errno::EINVAL)?;
            *top = after;
            if name.len() > crate::NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let is_last = pending.iter().all(|p| p.iter().all(|&b| b == b'/'));
            let has_slash = is_last && pending.iter().any(|p| !p.is_empty());

            let node = self.node(cur)?;
            let Body::Dir(dir) = &node.body else {
                return Err(Errno::ENOTDIR);
            };
            if let Some(cred) = cred {
                crate::perm::may_search(&node.attr(), cred)?;
            }
            let next = match name {
                b"." => cur,
                b".." => dir.parent,
                name => dir.get(name).ok_or(Errno::ENOENT)?,
            };
            if let Body::Symlink(target) = &self.node(next)?.body
                && (!is_last || follow_last || has_slash)
            {
                links = links.saturating_add(1);
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                if target.first() == Some(&b'/') {
                    cur = self.root;
                }
                pending.push(target);
                continue;
            }
            cur = next;
            need_dir = has_slash;
        }
        if need_dir {
            self.dir(cur)?;
        }
        Ok(cur)
    }

    /// Resolves all but the last component of `path`, for the calls that
    /// create or remove names: returns that directory and the last
    /// component, trailing slashes included.
    ///
    /// The component is checked only for length (`ENAMETOOLONG`); `.`,
    /// `..` and trailing slashes are left to [`create`](Self::create) and
    /// the others, which give each call's Linux error. The path `/` comes
    /// back as the root and `/`, which those calls read as `.` (so
    /// `mkdir("/")` is `EEXIST`, `unlink("/")` `EISDIR`, `rename("/", ..)`
    /// `EBUSY`). The directory part follows symlinks; the last component
    /// is not looked up.
    pub fn lookup_parent<'p>(&self, cwd: Ino, path: &'p [u8]) -> Result<(Ino, &'p [u8])> {
        self.walk_parent(None, cwd, path)
    }

    /// [`lookup_parent`](Self::lookup_parent) for a caller with
    /// credentials `cred`: every directory walked, and the one returned
    /// (its last component will be looked up in it), must be searchable
    /// (`EACCES`). The path `/` checks nothing, as on Linux.
    pub fn lookup_parent_as<'p>(
        &self,
        cred: &Cred,
        cwd: Ino,
        path: &'p [u8],
    ) -> Result<(Ino, &'p [u8])> {
        self.walk_parent(Some(cred), cwd, path)
    }

    fn walk_parent<'p>(
        &self,
        cred: Option<&Cred>,
        cwd: Ino,
        path: &'p [u8],
    ) -> Result<(Ino, &'p [u8])> {
        check_path(path)?;
        let end = path.iter().rposition(|&b| b != b'/');
        let Some(end) = end else {
            // Only slashes.
            return Ok((self.root, path));
        };
        let (dir_part, last) = match path
            .get(..end)
            .and_then(|p| p.iter().rposition(|&b| b == b'/'))
        {
            Some(slash) => {
                let (dir_part, last) = path
                    .split_at_checked(slash.saturating_add(1))
                    .ok_or(Errno::EINVAL)?;
                (Some(dir_part), last)
            }
            None => (None, path),
        };
        let name_len = last.iter().take_while(|&&b| b != b'/').count();
        if name_len > crate::NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let dir = match dir_part {
            Some(dir_part) => self.walk(cred, cwd, dir_part, true)?,
            None => {
                self.dir(cwd)?;
                cwd
            }
        };
        if let Some(cred) = cred {
            self.dir(dir)?;
            crate::perm::may_search(&self.attr(dir)?, cred)?;
        }
        Ok((dir, last))
    }
}

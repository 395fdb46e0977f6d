//! Ferrite's first filesystem: an in-memory tree of inodes (tmpfs), path
//! resolution over it, unpacking the initramfs into it, and the mount
//! tree ([`MountTable`]) with path resolution across mounts.
//!
//! ```text
//!  RamFs ── inodes: BTreeMap<Ino, Inode>
//!              Inode { kind, perm, uid, gid, nlink, times, open_refs,
//!                      body: File(Pages) | Dir { parent, entries } |
//!                            Symlink(target) | Special }
//!  Pages ── len + BTreeMap<page index, Arc<A::Page>>   (absent: a hole)
//! ```
//!
//! `RamFs<A: PageAlloc>` takes its page type from `A`: the kernel's
//! physical frames (so a mapping maps the file's own pages) or, by
//! default, [`HeapPages`] for host tests and tools.
//!
//! [`RamFs`] is plain data with `&self` / `&mut self` methods: the kernel
//! wraps its one instance in a lock, so there are none here. Its methods
//! mirror the system calls: [`RamFs::lookup`] and
//! [`RamFs::lookup_parent`] turn paths into inodes; `create`, `link`,
//! `unlink`, `rmdir` and `rename` change names; `read`, `write` and
//! `truncate` change contents; [`RamFs::unpack_cpio`] fills the tree from
//! an archive. Inputs come from user space: nothing here panics or
//! overflows, and every failure is an [`Errno`] with the number Linux
//! would return. The `*_as` methods ([`RamFs::lookup_as`],
//! [`RamFs::create_as`], ...) take the caller's [`Cred`] and check
//! permissions as Linux does (`perm.rs`, `access.rs`); the plain ones are
//! the kernel's own, unchecked.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "input comes from user space; every failure must be an `Errno`"
)]
// Test builds: the test modules build trusted input and should fail
// loudly (clippy of the library itself keeps the lints).
#![cfg_attr(
    test,
    allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "tests build trusted input and should fail loudly"
    )
)]

extern crate alloc;

/// The permission-checked `*_as` forms of the namespace and attribute changes.
mod access;
/// File contents: read, write, truncate.
mod data;
/// [`Dcache`]: a bounded cache of one filesystem's names (dentries).
mod dcache;
/// [`Errno`] and [`Result`].
mod errno;
/// Advisory lock ranges (fcntl record locks, OFD locks, flock).
pub mod locks;
/// [`RamFs`]: the inode table, attributes, open references, listing.
mod fs;
/// [`MountTable`]: the mount tree and path resolution across mounts.
mod mount;
/// Namespace changes: create, link, unlink, rmdir, rename.
mod names;
/// [`Ino`], [`Kind`], [`Stat`], [`DirEntry`] and the stored inodes.
mod node;
/// File contents in pages: [`PageAlloc`], [`Pages`].
pub mod pages;
/// Path resolution.
mod path;
/// Permission checks: [`permission`], [`Access`], [`Attr`] and the rules of
/// each call.
pub mod perm;
/// [`RamFs::unpack_cpio`] and [`UnpackError`].
mod unpack;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod dcache_tests;
#[cfg(test)]
mod pages_tests;

pub use dcache::{DEFAULT_CAPACITY as DCACHE_CAPACITY, Dcache, DcacheStats, Dentry};
pub use errno::{Errno, Result};
pub use fs::{MAX_FILE_SIZE, RamFs};
pub use mount::{Loc, Lookup, Mount, MountId, MountTable};
pub use node::{DirEntry, Ino, Kind, Stat, Timespec, decode_dev, encode_dev};
pub use pages::{HeapPage, HeapPages, PAGE_SIZE, PageAlloc, Pages};
pub use path::MAX_SYMLINKS;
pub use cred::Cred;
pub use perm::{Access, Attr, permission};
pub use unpack::UnpackError;

/// Longest file name component, in bytes.
pub const NAME_MAX: usize = linux_raw_sys::general::NAME_MAX as usize;
/// Size of the path buffer, NUL included: paths have fewer bytes.
pub const PATH_MAX: usize = linux_raw_sys::general::PATH_MAX as usize;

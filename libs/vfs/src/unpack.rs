//! [`RamFs::unpack_cpio`]: unpacking an initramfs, as Linux
//! `init/initramfs.c` does, a little more leniently.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::{Errno, Ino, Kind, PageAlloc, RamFs, Result, Timespec, encode_dev};

/// Why [`RamFs::unpack_cpio`] stopped. Entries before `offset` stay
/// unpacked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnpackError {
    /// The archive is malformed at `offset` (where the bad entry or
    /// padding starts).
    Archive { offset: usize, error: cpio::Error },
    /// The entry at `offset` (or the padding just before it) could not be
    /// created.
    Fs { offset: usize, errno: Errno },
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Archive { offset, error } => {
                write!(f, "bad cpio archive at offset {offset}: {error}")
            }
            Self::Fs { offset, errno } => {
                write!(f, "cannot unpack the entry at offset {offset}: {errno}")
            }
        }
    }
}

impl core::error::Error for UnpackError {}

/// Hard-link table key: `(dev_major, dev_minor, ino)` of the archive.
type LinkKey = (u32, u32, u32);

/// State kept across the entries of one call.
#[derive(Default)]
struct Unpacker {
    /// Regular files with several links, by key; cleared per archive.
    links: BTreeMap<LinkKey, Ino>,
    archive_index: usize,
    /// Directory times, set at the end since adding entries changes them.
    dir_mtimes: Vec<(Ino, Timespec)>,
}

impl<A: PageAlloc> RamFs<A> {
    /// Unpacks a newc cpio archive (or several, concatenated) into this
    /// filesystem, returning how many entries were unpacked.
    ///
    /// Directories, files, symlinks, device nodes, FIFOs and sockets get
    /// the archive's mode, owner and mtime; entries of unknown type are
    /// skipped, as Linux does. Missing parent directories are created
    /// (mode 0755, owned by root) where Linux would fail. An existing
    /// directory is kept (its attributes updated) when the entry is a
    /// directory; anything else already there is replaced (`ENOTEMPTY` for
    /// a non-empty directory). Hard links follow
    /// [`cpio::Entry::is_hardlink_candidate`].
    pub fn unpack_cpio(&mut self, archive: &[u8]) -> Result<usize, UnpackError> {
        let mut entries = cpio::Archive::new(archive).entries();
        let mut state = Unpacker::default();
        let mut count = 0usize;
        let result = loop {
            let offset = entries.offset();
            match entries.next() {
                None => break Ok(count),
                Some(Err(error)) => {
                    let offset = entries.offset();
                    break Err(UnpackError::Archive { offset, error });
                }
                Some(Ok(entry)) => match self.unpack_entry(&entry, &mut state) {
                    Ok(true) => count = count.saturating_add(1),
                    Ok(false) => {}
                    Err(errno) => break Err(UnpackError::Fs { offset, errno }),
                },
            }
        };
        for (ino, mtime) in state.dir_mtimes {
            // A directory replaced later in the archive is gone: skip it.
            let _ = self.set_times(ino, Some(mtime), Some(mtime));
        }
        result
    }

    /// Unpacks one entry; `false` if it was skipped.
    fn unpack_entry(&mut self, e: &cpio::Entry<'_>, state: &mut Unpacker) -> Result<bool> {
        let kind = match e.kind() {
            cpio::Kind::File => Kind::File,
            cpio::Kind::Dir => Kind::Dir,
            cpio::Kind::Symlink => Kind::Symlink,
            cpio::Kind::CharDev => Kind::CharDev,
            cpio::Kind::BlockDev => Kind::BlockDev,
            cpio::Kind::Fifo => Kind::Fifo,
            cpio::Kind::Socket => Kind::Socket,
            cpio::Kind::Unknown(_) => return Ok(false),
        };
        if e.archive_index != state.archive_index {
            state.links.clear();
            state.archive_index = e.archive_index;
        }
        let mtime = Timespec {
            sec: e.mtime.into(),
            nsec: 0,
        };
        let (parent, name) = self.make_parents(e.name.as_bytes())?;
        let existing = match name {
            Some(name) => self.dir(parent)?.get(name),
            None => Some(self.root),
        };
        let existing_is_dir = match existing {
            Some(ino) => self.node(ino)?.kind == Kind::Dir,
            None => false,
        };
        let Some(name) = name else {
            // The root itself ("."): only a directory can describe it.
            if kind != Kind::Dir {
                return Err(Errno::EEXIST);
            }
            self.set_attrs(self.root, e)?;
            state.dir_mtimes.push((self.root, mtime));
            return Ok(true);
        };
        match existing {
            Some(ino) if kind == Kind::Dir && existing_is_dir => {
                self.set_attrs(ino, e)?;
                state.dir_mtimes.push((ino, mtime));
                return Ok(true);
            }
            Some(_) if existing_is_dir => self.rmdir(parent, name)?,
            Some(_) => self.unlink(parent, name)?,
            None => {}
        }
        let (uid, gid, perm) = (e.uid, e.gid, e.permissions());
        let ino = match kind {
            Kind::Dir => {
                let ino = self.create(parent, name, kind, perm, uid, gid, 0)?;
                state.dir_mtimes.push((ino, mtime));
                ino
            }
            Kind::Symlink => self.symlink(parent, name, e.data, uid, gid)?,
            Kind::File => {
                let key = (e.dev_major, e.dev_minor, e.ino);
                let linked = match state.links.get(&key) {
                    Some(&ino) if e.is_hardlink_candidate() => {
                        self.link(ino, parent, name).ok().map(|()| ino)
                    }
                    _ => None,
                };
                let ino = match linked {
                    Some(ino) => ino,
                    None => {
                        let ino = self.create(parent, name, kind, perm, uid, gid, 0)?;
                        if e.is_hardlink_candidate() {
                            state.links.insert(key, ino);
                        }
                        ino
                    }
                };
                self.write(ino, 0, e.data)?;
                ino
            }
            _ => {
                let rdev = encode_dev(e.rdev_major, e.rdev_minor);
                self.create(parent, name, kind, perm, uid, gid, rdev)?
            }
        };
        self.set_attrs(ino, e)?;
        self.set_times(ino, Some(mtime), Some(mtime))?;
        Ok(true)
    }

    /// Applies an entry's owner and, except to symlinks, permissions.
    fn set_attrs(&mut self, ino: Ino, e: &cpio::Entry<'_>) -> Result<()> {
        if self.node(ino)?.kind != Kind::Symlink {
            self.chmod(ino, e.permissions())?;
        }
        let node = self.node_mut(ino)?;
        node.uid = e.uid;
        node.gid = e.gid;
        Ok(())
    }

    /// Walks to the directory that holds archive path `path`, creating
    /// missing directories; returns it and the last component (`None` for
    /// the root itself). Empty and `.` components are skipped; the cpio
    /// reader already refused `..`.
    fn make_parents<'p>(&mut self, path: &'p [u8]) -> Result<(Ino, Option<&'p [u8]>)> {
        let mut parts = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty() && *c != b".");
        let Some(mut last) = parts.next() else {
            return Ok((self.root, None));
        };
        let mut dir = self.root;
        for next in parts {
            dir = match self.dir(dir)?.get(last) {
                Some(_) => self.lookup(dir, last, true)?,
                None => self.create(dir, last, Kind::Dir, 0o755, 0, 0, 0)?,
            };
            self.dir(dir)?;
            last = next;
        }
        Ok((dir, Some(last)))
    }
}

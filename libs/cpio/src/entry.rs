//! [`Entry`]: one file of an archive, borrowed from the input, and its
//! [`Kind`].

/// One archive member other than the trailer, borrowed from the input.
///
/// Numeric fields are exactly as stored in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry<'a> {
    /// The path, relative to the root of the unpacked tree: leading `/` and
    /// `./` are stripped, and a name that is nothing else (`.`, `./`, `/`)
    /// becomes `"."`, the root itself. It is never empty, holds no NUL and
    /// no `..` component; it may still hold empty or `.` components
    /// (`a//b`, `a/./b`), which path lookup resolves harmlessly.
    pub name: &'a str,
    /// Inode number in the archive; see [`Entry::is_hardlink_candidate`].
    pub ino: u32,
    /// Full `st_mode`: the `S_IFMT` type bits and the permissions.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Device holding the original file (part of the hard-link key).
    pub dev_major: u32,
    pub dev_minor: u32,
    /// Device number of a character or block device node.
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// File contents, or a symlink's target; empty for most other kinds.
    pub data: &'a [u8],
    /// Which of the concatenated archives in the input this entry comes
    /// from, counting from 0 (each `TRAILER!!!` starts a new one).
    pub archive_index: usize,
}

/// File type, from the `S_IFMT` bits of [`Entry::mode`] (`inode(7)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    CharDev,
    BlockDev,
    Fifo,
    Socket,
    /// Type bits (`mode & S_IFMT`) that name no Linux file type.
    Unknown(u32),
}

/// Mask of the file-type bits in a mode.
const S_IFMT: u32 = 0o170_000;

impl Kind {
    /// The type encoded in `mode`'s `S_IFMT` bits.
    pub fn from_mode(mode: u32) -> Self {
        match mode & S_IFMT {
            0o100_000 => Self::File,
            0o040_000 => Self::Dir,
            0o120_000 => Self::Symlink,
            0o020_000 => Self::CharDev,
            0o060_000 => Self::BlockDev,
            0o010_000 => Self::Fifo,
            0o140_000 => Self::Socket,
            other => Self::Unknown(other),
        }
    }
}

impl<'a> Entry<'a> {
    /// The file type.
    pub fn kind(&self) -> Kind {
        Kind::from_mode(self.mode)
    }

    /// Permission bits, setuid/setgid/sticky included (`mode & 0o7777`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }

    /// For a symlink, its target, if that is UTF-8 without NUL bytes.
    pub fn symlink_target(&self) -> Option<&'a str> {
        if self.kind() != Kind::Symlink || self.data.contains(&0) {
            return None;
        }
        core::str::from_utf8(self.data).ok()
    }

    /// Whether this entry may be one name of a hard-linked regular file.
    ///
    /// `cpio -H newc` writes every name of a file with `nlink > 1` as its
    /// own entry, all with the same `(dev_major, dev_minor, ino)`, and puts
    /// the data only on the last of them; the others have empty `data`.
    /// The kernel should handle them as Linux `init/initramfs.c` does:
    ///
    /// - keep a table from `(dev_major, dev_minor, ino, kind)` to the inode
    ///   created for it, and clear it whenever
    ///   [`archive_index`](Self::archive_index) changes (inode numbers are
    ///   per archive);
    /// - for a candidate whose key is in the table, link the new name to
    ///   that inode instead of creating a file, then write `data`, if any,
    ///   into it from offset 0 without truncating;
    /// - otherwise create the file as usual and, for a candidate, record it.
    pub fn is_hardlink_candidate(&self) -> bool {
        self.kind() == Kind::File && self.nlink > 1
    }
}

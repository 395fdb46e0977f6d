//! [`Error`]: why an archive could not be read, with where it went wrong.

use core::fmt;

/// Why reading an archive stopped.
///
/// Offsets are byte offsets into the whole input given to
/// [`Archive::new`](crate::Archive::new). Errors without an offset are about
/// the entry whose header starts at [`Entries::offset`](crate::Entries::offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The input ends inside the entry whose header starts at `offset`, or
    /// at `offset` before the archive's `TRAILER!!!` entry.
    Truncated { offset: usize },
    /// No `070701` / `070702` magic at `offset`.
    BadMagic { offset: usize },
    /// A header field holds something other than 8 hex digits; `offset` is
    /// where the field starts, `field` its name in `cpio(5)` (`c_mode`...).
    BadHex { offset: usize, field: &'static str },
    /// After a trailer, zero padding ends at `offset`, which is not a
    /// multiple of 4, so no archive can start there.
    BadPadding { offset: usize },
    /// `c_namesize` exceeds [`MAX_NAME_SIZE`](crate::MAX_NAME_SIZE).
    NameTooLong,
    /// The name is empty (`c_namesize` is 0 or 1).
    EmptyName,
    /// The name's last byte (counted by `c_namesize`) is not NUL.
    NameNotTerminated,
    /// The name holds a NUL before its declared end.
    NameHasNul,
    /// The name is not UTF-8.
    NameNotUtf8,
    /// The name has a `..` component, so it could escape the root.
    UnsafePath,
    /// A `070702` regular file's data does not add up to `c_check`.
    BadChecksum,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { offset } => {
                write!(f, "archive truncated in the entry at offset {offset}")
            }
            Self::BadMagic { offset } => write!(f, "no newc cpio magic at offset {offset}"),
            Self::BadHex { offset, field } => {
                write!(f, "{field} at offset {offset} is not 8 hex digits")
            }
            Self::BadPadding { offset } => {
                write!(
                    f,
                    "padding between archives ends at unaligned offset {offset}"
                )
            }
            Self::NameTooLong => write!(f, "name longer than {} bytes", crate::MAX_NAME_SIZE),
            Self::EmptyName => f.write_str("empty name"),
            Self::NameNotTerminated => f.write_str("name not NUL-terminated"),
            Self::NameHasNul => f.write_str("name contains a NUL byte"),
            Self::NameNotUtf8 => f.write_str("name is not UTF-8"),
            Self::UnsafePath => f.write_str("name has a `..` component"),
            Self::BadChecksum => f.write_str("file data does not match its checksum"),
        }
    }
}

impl core::error::Error for Error {}

//! Zero-copy reader for "newc" cpio archives, the format of the Linux
//! initramfs (`cpio(5)`, Linux `Documentation/driver-api/early-userspace/
//! buffer-format.rst`).
//!
//! ```text
//!  input: | archive 0 ............ TRAILER!!! | 0 0 0 0 | archive 1 ... TRAILER!!! | 0 0 |
//!  entry: | header (110 B) | name \0 | pad to 4 | data | pad to 4 |
//! ```
//!
//! [`Archive::entries`] walks the input and yields each [`Entry`], with its
//! name and data borrowed from the input, or the first [`Error`], after
//! which it stops. Both magics are read: `070701`, and `070702` whose
//! regular files carry a checksum that is verified. Like Linux, it reads
//! concatenated archives: after a trailer it skips zero bytes and, if input
//! remains, expects another archive at a 4-aligned offset. The input is
//! untrusted: nothing here panics, indexes out of bounds or overflows, and
//! names that could escape the unpack root are refused.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "input is untrusted; every failure must be an `Error`"
)]

/// [`Entry`] and [`Kind`]: one archive member.
mod entry;
/// [`Error`] and its `Display`.
mod error;
/// The 110-byte header and the name field.
mod header;

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    reason = "tests build trusted input and should fail loudly"
)]
mod tests;

use core::iter::FusedIterator;

pub use entry::{Entry, Kind};
pub use error::Error;
use header::{HEADER_LEN, Header, Name};

/// Largest accepted `c_namesize`, terminating NUL included (Linux
/// `PATH_MAX`).
pub const MAX_NAME_SIZE: usize = 4096;

/// An archive, or several concatenated, in memory.
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a> {
    bytes: &'a [u8],
}

impl<'a> Archive<'a> {
    /// Wraps `bytes`; nothing is checked until [`entries`](Self::entries)
    /// reads them.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Iterates over the entries of every archive in the input, trailers
    /// left out.
    ///
    /// Leading zero bytes, and zero bytes after each `TRAILER!!!` entry,
    /// are skipped, as Linux does between an early microcode archive and
    /// the main initramfs. The input may end there; otherwise the next
    /// archive must start at a multiple of 4 ([`Error::BadPadding`]) with
    /// the newc magic ([`Error::BadMagic`]). An input that is empty or all
    /// zeros holds no entries; one that ends before a trailer yields
    /// [`Error::Truncated`]. After the first error the iterator ends.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            input: self.bytes,
            pos: 0,
            archive_index: 0,
            state: State::BetweenArchives,
        }
    }
}

/// Iterator over [`Entry`]s; see [`Archive::entries`].
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    input: &'a [u8],
    /// Where the next header (or inter-archive padding) starts.
    pos: usize,
    /// How many trailers were passed.
    archive_index: usize,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start or after a trailer: zero padding may follow.
    BetweenArchives,
    /// Inside an archive: a header must follow.
    InArchive,
    /// Past the end or an error.
    Done,
}

impl<'a> Entries<'a> {
    /// Offset in the input where the next entry is expected; after an
    /// error, where the failing entry (or the bad padding) starts.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Skips zero padding; `None` at the end of the input.
    fn skip_padding(&mut self) -> Option<Result<(), Error>> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let zeros = rest.iter().take_while(|&&b| b == 0).count();
        self.pos = self.pos.saturating_add(zeros);
        if self.pos >= self.input.len() {
            return None;
        }
        if !self.pos.is_multiple_of(4) {
            return Some(Err(Error::BadPadding { offset: self.pos }));
        }
        Some(Ok(()))
    }

    /// Reads the record at `self.pos`, returning it and where the next one
    /// starts.
    fn read_record(&self) -> Result<(Record<'a>, usize), Error> {
        let offset = self.pos;
        let truncated = Error::Truncated { offset };
        let header = Header::parse(self.input, offset)?;

        let name_len = usize::try_from(header.namesize).map_err(|_| Error::NameTooLong)?;
        if name_len > MAX_NAME_SIZE {
            return Err(Error::NameTooLong);
        }
        let name_start = offset.checked_add(HEADER_LEN).ok_or(truncated)?;
        let name_end = name_start.checked_add(name_len).ok_or(truncated)?;
        let raw_name = self.input.get(name_start..name_end).ok_or(truncated)?;
        let name = header::parse_name(raw_name)?;

        // Padding may be cut off at the very end (a trailer without its
        // last pad bytes): clamping is harmless, as any data would then be
        // missing too.
        let data_start = align4(name_end).ok_or(truncated)?.min(self.input.len());
        let data_len = usize::try_from(header.filesize).map_err(|_| truncated)?;
        let data_end = data_start.checked_add(data_len).ok_or(truncated)?;
        let data = self.input.get(data_start..data_end).ok_or(truncated)?;
        let next = align4(data_end).ok_or(truncated)?.min(self.input.len());

        let Name::Path(name) = name else {
            return Ok((Record::Trailer, next));
        };
        let entry = Entry {
            name,
            ino: header.ino,
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            nlink: header.nlink,
            mtime: header.mtime,
            dev_major: header.dev_major,
            dev_minor: header.dev_minor,
            rdev_major: header.rdev_major,
            rdev_minor: header.rdev_minor,
            data,
            archive_index: self.archive_index,
        };
        // Like Linux and GNU cpio, only regular files carry a checksum.
        if header.has_crc && entry.kind() == Kind::File && checksum(data) != header.check {
            return Err(Error::BadChecksum);
        }
        Ok((Record::Entry(entry), next))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.state {
                State::Done => return None,
                State::BetweenArchives => match self.skip_padding() {
                    None => {
                        self.state = State::Done;
                        return None;
                    }
                    Some(Err(e)) => {
                        self.state = State::Done;
                        return Some(Err(e));
                    }
                    Some(Ok(())) => self.state = State::InArchive,
                },
                State::InArchive => match self.read_record() {
                    Err(e) => {
                        self.state = State::Done;
                        return Some(Err(e));
                    }
                    Ok((record, next)) => {
                        // Every record is at least a header long, so this
                        // always moves forward and iteration ends.
                        self.pos = next;
                        match record {
                            Record::Entry(entry) => return Some(Ok(entry)),
                            Record::Trailer => {
                                self.archive_index = self.archive_index.saturating_add(1);
                                self.state = State::BetweenArchives;
                            }
                        }
                    }
                },
            }
        }
    }
}

impl FusedIterator for Entries<'_> {}

/// One parsed record: a member, or the end of an archive.
enum Record<'a> {
    Entry(Entry<'a>),
    Trailer,
}

/// `n` rounded up to a multiple of 4, if that fits.
fn align4(n: usize) -> Option<usize> {
    Some(n.checked_add(3)? & !3)
}

/// The `070702` checksum: the sum of the data bytes, modulo 2^32.
fn checksum(data: &[u8]) -> u32 {
    data.iter()
        .fold(0u32, |sum, &byte| sum.wrapping_add(u32::from(byte)))
}

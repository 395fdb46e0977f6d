//! The fixed 110-byte newc header and the name that follows it, as laid out
//! in `cpio(5)` ("New ASCII Format") and read by Linux `init/initramfs.c`.
//!
//! ```text
//!  offset 0     6        14       22  ...  94          102      110
//!         |magic|c_ino   |c_mode  |   ...  |c_namesize |c_check |name\0 pad|data pad|
//!          6 B   8 hex digits each, 13 fields              to 4      to 4
//! ```

use crate::Error;

/// Bytes in a header before the name.
pub(crate) const HEADER_LEN: usize = 110;
/// Plain newc: `c_check` is ignored.
const MAGIC_NEWC: &[u8] = b"070701";
/// newc with a checksum of each regular file's data in `c_check`.
const MAGIC_CRC: &[u8] = b"070702";
/// Name of the entry that ends an archive.
pub(crate) const TRAILER: &[u8] = b"TRAILER!!!";

/// Field names in header order, for [`Error::BadHex`].
const FIELDS: [&str; 13] = [
    "c_ino",
    "c_mode",
    "c_uid",
    "c_gid",
    "c_nlink",
    "c_mtime",
    "c_filesize",
    "c_devmajor",
    "c_devminor",
    "c_rdevmajor",
    "c_rdevminor",
    "c_namesize",
    "c_check",
];

/// A decoded header; values are exactly as stored, not yet validated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub has_crc: bool,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub filesize: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub namesize: u32,
    pub check: u32,
}

impl Header {
    /// Decodes the header starting at `offset` in `input`.
    pub(crate) fn parse(input: &[u8], offset: usize) -> Result<Self, Error> {
        let rest = input.get(offset..).unwrap_or_default();
        // Report garbage as garbage even when it is shorter than a header.
        let magic = rest.get(..MAGIC_NEWC.len()).unwrap_or(rest);
        let has_crc = if MAGIC_NEWC.starts_with(magic) {
            false
        } else if MAGIC_CRC.starts_with(magic) {
            true
        } else {
            return Err(Error::BadMagic { offset });
        };
        let raw = rest.get(..HEADER_LEN).ok_or(Error::Truncated { offset })?;
        let fields = raw.get(MAGIC_NEWC.len()..).unwrap_or_default();

        let mut values = [0u32; 13];
        let field_starts = (MAGIC_NEWC.len()..HEADER_LEN).step_by(8);
        for (((value, digits), field), start) in values
            .iter_mut()
            .zip(fields.chunks_exact(8))
            .zip(FIELDS)
            .zip(field_starts)
        {
            *value = parse_hex(digits).ok_or(Error::BadHex {
                offset: offset.saturating_add(start),
                field,
            })?;
        }
        let [
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            filesize,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            namesize,
            check,
        ] = values;
        Ok(Self {
            has_crc,
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            filesize,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            namesize,
            check,
        })
    }
}

/// What the name field of an entry says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Name<'a> {
    /// `TRAILER!!!`: the archive ends here.
    Trailer,
    /// A validated, normalised path (see [`crate::Entry::name`]).
    Path(&'a str),
}

/// Validates the `c_namesize` bytes of a name field, terminating NUL
/// included; the caller has already checked its length against
/// [`MAX_NAME_SIZE`](crate::MAX_NAME_SIZE).
pub(crate) fn parse_name(raw: &[u8]) -> Result<Name<'_>, Error> {
    let (&last, name) = raw.split_last().ok_or(Error::EmptyName)?;
    if last != 0 {
        return Err(Error::NameNotTerminated);
    }
    if name.contains(&0) {
        return Err(Error::NameHasNul);
    }
    if name == TRAILER {
        return Ok(Name::Trailer);
    }
    if name.is_empty() {
        return Err(Error::EmptyName);
    }
    let name = core::str::from_utf8(name).map_err(|_| Error::NameNotUtf8)?;
    let mut path = name;
    while let Some(rest) = path.strip_prefix('/').or_else(|| path.strip_prefix("./")) {
        path = rest;
    }
    if path.is_empty() {
        // "/", "./", ".//" ...: the root of the unpacked tree.
        path = ".";
    }
    if path.split('/').any(|component| component == "..") {
        return Err(Error::UnsafePath);
    }
    Ok(Name::Path(path))
}

/// Decodes 8 ASCII hex digits, either case, into a `u32`.
fn parse_hex(digits: &[u8]) -> Option<u32> {
    if digits.len() != 8 {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &digit| {
        let nibble = char::from(digit).to_digit(16)?;
        // At most 8 nibbles, so nothing is shifted out.
        Some((acc << 4) | nibble)
    })
}

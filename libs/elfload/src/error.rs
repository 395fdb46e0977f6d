//! [`Error`]: every way an ELF file, an argument list or a `#!` line is refused.
//!
//! Each variant says exactly what was wrong (and which program header, by
//! its index in the table, when one is to blame). [`Error::errno`] gives the
//! errno execve(2) returns for it, so the kernel maps errors in one place.

use core::fmt;

use linux_raw_sys::errno::{E2BIG, EINVAL, ENOEXEC};

/// Why [`plan`](crate::plan), [`build_stack`](crate::build_stack) or
/// [`parse_shebang`](crate::parse_shebang) refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The file is shorter than the 64-byte ELF header.
    TooShort { len: usize },
    /// The file does not start with `\x7fELF`.
    BadMagic,
    /// `EI_CLASS` is not `ELFCLASS64`.
    NotElf64 { class: u8 },
    /// `EI_DATA` is not `ELFDATA2LSB`.
    NotLittleEndian { data: u8 },
    /// `EI_VERSION` or `e_version` is not `EV_CURRENT`.
    BadVersion { version: u32 },
    /// `e_machine` is not `EM_X86_64`.
    WrongMachine { machine: u16 },
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN` (an object file, a core dump...).
    WrongType { e_type: u16 },
    /// `e_phentsize` is not 56, the size of an `Elf64_Phdr`.
    BadPhentsize { phentsize: u16 },
    /// `e_phnum` is zero.
    NoProgramHeaders,
    /// `e_phnum` is above [`MAX_PHNUM`](crate::MAX_PHNUM).
    TooManyProgramHeaders { phnum: u16 },
    /// The program header table reaches past the end of the file.
    PhdrsOutsideFile { phoff: u64, phnum: u16 },
    /// A segment's `p_filesz` exceeds its `p_memsz`.
    FileszExceedsMemsz { index: usize },
    /// A segment's file bytes (`p_offset + p_filesz`) reach past the end of the file.
    SegmentOutsideFile { index: usize },
    /// `p_offset` and `p_vaddr` differ modulo the page size, so the file
    /// pages cannot be mapped at the segment's address.
    MisalignedSegment { index: usize },
    /// `p_vaddr + p_memsz` (plus the load bias) overflows.
    AddressOverflow { index: usize },
    /// A segment ends above [`USER_LIMIT`](crate::USER_LIMIT).
    AboveUserLimit { index: usize },
    /// Two `PT_LOAD` segments cover the same addresses.
    OverlappingSegments { first: usize, second: usize },
    /// Two `PT_LOAD` segments touch the same page after page rounding
    /// (only hand-made or `ld -N` images do this); refused so each page
    /// has one owner and one protection.
    SharedPage { first: usize, second: usize },
    /// No `PT_LOAD` segment occupies any memory.
    NoLoadSegment,
    /// `e_entry` (plus the load bias) is not inside an executable `PT_LOAD`.
    EntryNotExecutable { entry: u64 },
    /// The load bias for an `ET_DYN` file is not a multiple of the page size.
    UnalignedBias { bias: u64 },
    /// `PT_INTERP` is empty, too long, outside the file or not NUL-terminated.
    BadInterp { index: usize },
    /// `PT_TLS` has `p_filesz > p_memsz`, an alignment that is not a power
    /// of two, or an address range that overflows.
    BadTls { index: usize },
    /// More than one `PT_TLS` segment.
    DuplicateTls { index: usize },
    /// One argument or environment string is longer than
    /// [`MAX_ARG_STRLEN`](crate::MAX_ARG_STRLEN).
    ArgTooLong { len: usize },
    /// The arguments and environment together exceed
    /// [`MAX_ARG_BYTES`](crate::MAX_ARG_BYTES).
    ArgsTooLong { total: usize },
    /// A string handed to `build_stack` contains a NUL byte.
    InteriorNul,
    /// The caller's auxv holds a type `build_stack` writes itself
    /// (`AT_NULL`, `AT_RANDOM`, `AT_EXECFN`, `AT_PLATFORM`).
    ReservedAuxType { key: u64 },
    /// `stack_top` is not 16-byte aligned.
    UnalignedStackTop { stack_top: u64 },
    /// The stack image would extend below address 0.
    StackUnderflow,
    /// The `#!` line has no newline and its interpreter path may be cut off.
    ShebangTruncated,
    /// The `#!` line names no interpreter.
    ShebangNoInterpreter,
}

impl Error {
    /// The errno execve(2) reports for this error: `E2BIG` for oversized
    /// argument lists, `EINVAL` for caller mistakes, `ENOEXEC` otherwise.
    pub fn errno(&self) -> u32 {
        match self {
            Self::ArgTooLong { .. } | Self::ArgsTooLong { .. } => E2BIG,
            Self::UnalignedBias { .. }
            | Self::InteriorNul
            | Self::ReservedAuxType { .. }
            | Self::UnalignedStackTop { .. }
            | Self::StackUnderflow => EINVAL,
            _ => ENOEXEC,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { len } => {
                write!(f, "file of {len} bytes is shorter than an ELF64 header")
            }
            Self::BadMagic => f.write_str("not an ELF file (bad magic)"),
            Self::NotElf64 { class } => write!(f, "ELF class {class} is not ELFCLASS64"),
            Self::NotLittleEndian { data } => {
                write!(f, "ELF data encoding {data} is not little-endian")
            }
            Self::BadVersion { version } => write!(f, "ELF version {version} is not EV_CURRENT"),
            Self::WrongMachine { machine } => write!(f, "e_machine {machine} is not EM_X86_64"),
            Self::WrongType { e_type } => {
                write!(f, "e_type {e_type} is neither ET_EXEC nor ET_DYN")
            }
            Self::BadPhentsize { phentsize } => {
                write!(f, "e_phentsize {phentsize} is not the Elf64_Phdr size 56")
            }
            Self::NoProgramHeaders => f.write_str("no program headers"),
            Self::TooManyProgramHeaders { phnum } => {
                write!(
                    f,
                    "{phnum} program headers exceed the limit of {}",
                    crate::MAX_PHNUM
                )
            }
            Self::PhdrsOutsideFile { phoff, phnum } => {
                write!(
                    f,
                    "{phnum} program headers at offset {phoff:#x} reach past the end of the file"
                )
            }
            Self::FileszExceedsMemsz { index } => {
                write!(f, "program header {index}: p_filesz exceeds p_memsz")
            }
            Self::SegmentOutsideFile { index } => {
                write!(
                    f,
                    "program header {index}: file bytes reach past the end of the file"
                )
            }
            Self::MisalignedSegment { index } => {
                write!(
                    f,
                    "program header {index}: p_offset and p_vaddr differ modulo the page size"
                )
            }
            Self::AddressOverflow { index } => {
                write!(f, "program header {index}: address range overflows")
            }
            Self::AboveUserLimit { index } => {
                write!(
                    f,
                    "program header {index}: segment ends above the user address limit"
                )
            }
            Self::OverlappingSegments { first, second } => {
                write!(
                    f,
                    "program headers {first} and {second}: PT_LOAD segments overlap"
                )
            }
            Self::SharedPage { first, second } => {
                write!(
                    f,
                    "program headers {first} and {second}: PT_LOAD segments share a page"
                )
            }
            Self::NoLoadSegment => f.write_str("no PT_LOAD segment with memory"),
            Self::EntryNotExecutable { entry } => {
                write!(
                    f,
                    "entry point {entry:#x} is not inside an executable segment"
                )
            }
            Self::UnalignedBias { bias } => write!(f, "load bias {bias:#x} is not page-aligned"),
            Self::BadInterp { index } => {
                write!(f, "program header {index}: malformed PT_INTERP path")
            }
            Self::BadTls { index } => write!(f, "program header {index}: malformed PT_TLS segment"),
            Self::DuplicateTls { index } => {
                write!(f, "program header {index}: second PT_TLS segment")
            }
            Self::ArgTooLong { len } => write!(
                f,
                "argument or environment string of {len} bytes exceeds {} bytes",
                crate::MAX_ARG_STRLEN
            ),
            Self::ArgsTooLong { total } => write!(
                f,
                "arguments and environment take {total} bytes, more than {}",
                crate::MAX_ARG_BYTES
            ),
            Self::InteriorNul => {
                f.write_str("argument, environment or name string contains a NUL byte")
            }
            Self::ReservedAuxType { key } => {
                write!(
                    f,
                    "auxv type {key} is written by build_stack, not by the caller"
                )
            }
            Self::UnalignedStackTop { stack_top } => {
                write!(f, "stack top {stack_top:#x} is not 16-byte aligned")
            }
            Self::StackUnderflow => f.write_str("initial stack image does not fit below stack top"),
            Self::ShebangTruncated => {
                f.write_str("#! line longer than 255 bytes cuts off the interpreter path")
            }
            Self::ShebangNoInterpreter => f.write_str("#! line names no interpreter"),
        }
    }
}

impl core::error::Error for Error {}

//! ELF64 header and program-header decoding with bounds-checked reads.
//!
//! ```text
//!  file: [ Elf64_Ehdr (64 bytes) | ... | phdr 0 | phdr 1 | ... | phdr n-1 | ... ]
//!                                       ^ e_phoff, e_phnum entries of 56 bytes
//! ```
//!
//! Every field is read through [`le_u16`]/[`le_u32`]/[`le_u64`], which
//! return `None` instead of indexing out of range; [`Ehdr::parse`] checks
//! the identification bytes and that the whole table lies inside the file,
//! after which [`Ehdr::phdrs`] cannot fail.

use linux_raw_sys::elf_uapi::{
    EI_CLASS, EI_DATA, EI_VERSION, ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_DYN, ET_EXEC, EV_CURRENT,
};

use crate::{Error, MAX_PHNUM};

/// Size of `Elf64_Ehdr`.
const EHDR_SIZE: usize = 64;
/// Size of `Elf64_Phdr`; `e_phentsize` must equal it.
pub(crate) const PHDR_SIZE: usize = 56;

/// The validated fields of `Elf64_Ehdr` the loader uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ehdr {
    pub is_dyn: bool,
    pub entry: u64,
    pub phoff: u64,
    pub phnum: u16,
}

/// One `Elf64_Phdr`, as stored (no validation yet).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Phdr {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

impl Ehdr {
    /// Checks the identification and header fields (ELF spec, "ELF
    /// Header"; the checks Linux's `elf_check_arch` and `load_elf_binary`
    /// make) and that the program header table lies inside `file`.
    pub fn parse(file: &[u8]) -> Result<Self, Error> {
        if file.len() < EHDR_SIZE {
            return Err(Error::TooShort { len: file.len() });
        }
        if file.get(..4) != Some(b"\x7fELF".as_slice()) {
            return Err(Error::BadMagic);
        }
        let ident = |i: u32| file.get(i as usize).copied().unwrap_or(0);
        let class = ident(EI_CLASS);
        if u32::from(class) != ELFCLASS64 {
            return Err(Error::NotElf64 { class });
        }
        let data = ident(EI_DATA);
        if u32::from(data) != ELFDATA2LSB {
            return Err(Error::NotLittleEndian { data });
        }
        let version = u32::from(ident(EI_VERSION));
        if version != EV_CURRENT {
            return Err(Error::BadVersion { version });
        }
        let field16 = |off| le_u16(file, off).ok_or(Error::TooShort { len: file.len() });
        let field32 = |off| le_u32(file, off).ok_or(Error::TooShort { len: file.len() });
        let field64 = |off| le_u64(file, off).ok_or(Error::TooShort { len: file.len() });

        let e_type = field16(16)?;
        let machine = field16(18)?;
        if u32::from(machine) != EM_X86_64 {
            return Err(Error::WrongMachine { machine });
        }
        let version = field32(20)?;
        if version != EV_CURRENT {
            return Err(Error::BadVersion { version });
        }
        let is_dyn = match u32::from(e_type) {
            ET_EXEC => false,
            ET_DYN => true,
            _ => return Err(Error::WrongType { e_type }),
        };
        let entry = field64(24)?;
        let phoff = field64(32)?;
        let phentsize = field16(54)?;
        let phnum = field16(56)?;
        if usize::from(phentsize) != PHDR_SIZE {
            return Err(Error::BadPhentsize { phentsize });
        }
        if phnum == 0 {
            return Err(Error::NoProgramHeaders);
        }
        if usize::from(phnum) > MAX_PHNUM {
            return Err(Error::TooManyProgramHeaders { phnum });
        }
        let table_end = usize::try_from(phoff)
            .ok()
            .and_then(|start| start.checked_add(usize::from(phnum) * PHDR_SIZE));
        if table_end.is_none_or(|end| end > file.len()) {
            return Err(Error::PhdrsOutsideFile { phoff, phnum });
        }
        Ok(Self {
            is_dyn,
            entry,
            phoff,
            phnum,
        })
    }

    /// The program headers, in table order.
    ///
    /// `file` must be the slice [`Ehdr::parse`] accepted; then every read is
    /// in range. A read that is not (a different slice) yields a zeroed
    /// `PT_NULL` header, never a panic.
    pub fn phdrs<'a>(&self, file: &'a [u8]) -> impl Iterator<Item = Phdr> + 'a {
        let base = usize::try_from(self.phoff).unwrap_or(usize::MAX);
        (0..usize::from(self.phnum)).map(move |i| {
            let at = base.saturating_add(i * PHDR_SIZE);
            Phdr::parse(file, at).unwrap_or(Phdr::NULL)
        })
    }
}

impl Phdr {
    const NULL: Self = Self {
        p_type: 0,
        flags: 0,
        offset: 0,
        vaddr: 0,
        filesz: 0,
        memsz: 0,
        align: 0,
    };

    fn parse(file: &[u8], at: usize) -> Option<Self> {
        let off = |delta: usize| at.checked_add(delta);
        Some(Self {
            p_type: le_u32(file, off(0)?)?,
            flags: le_u32(file, off(4)?)?,
            offset: le_u64(file, off(8)?)?,
            vaddr: le_u64(file, off(16)?)?,
            // p_paddr at 24 is unused on Linux.
            filesz: le_u64(file, off(32)?)?,
            memsz: le_u64(file, off(40)?)?,
            align: le_u64(file, off(48)?)?,
        })
    }
}

/// `N` bytes at `off`, or `None` when they are not all inside `bytes`.
fn array<const N: usize>(bytes: &[u8], off: usize) -> Option<[u8; N]> {
    bytes.get(off..off.checked_add(N)?)?.try_into().ok()
}

pub(crate) fn le_u16(bytes: &[u8], off: usize) -> Option<u16> {
    array(bytes, off).map(u16::from_le_bytes)
}

pub(crate) fn le_u32(bytes: &[u8], off: usize) -> Option<u32> {
    array(bytes, off).map(u32::from_le_bytes)
}

pub(crate) fn le_u64(bytes: &[u8], off: usize) -> Option<u64> {
    array(bytes, off).map(u64::from_le_bytes)
}

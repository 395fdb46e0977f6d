//! [`plan`]: from untrusted ELF bytes to a validated [`LoadPlan`].
//!
//! Follows Linux's `load_elf_binary` (fs/binfmt_elf.c) for what it accepts
//! and how it rounds, and adds the checks a loader that copies pages itself
//! wants up front (segments disjoint, entry executable, nothing above the
//! user limit). One `PT_LOAD` becomes one [`Segment`]:
//!
//! ```text
//!  vaddr       p_vaddr            zero_start     anon_start            end()
//!    |<-delta->|<----- p_filesz ----->|<-zero tail->|<-anonymous pages->|
//!    |<------------ file_len -------->|             |                   |
//!    |<------------------------- mem_len ------------------------------>|
//!  file_offset = p_offset - delta (page-aligned)
//! ```
//!
//! The kernel maps (or copies) `file_len` bytes of the file at `vaddr`,
//! zeroes `[zero_start, anon_start)` (the rest of the last file page), and
//! maps fresh zero pages over `[anon_start, end)`.

use alloc::vec::Vec;

use linux_raw_sys::elf_uapi::{
    PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS,
};
use linux_raw_sys::general::PATH_MAX;

use crate::header::{Ehdr, PHDR_SIZE, Phdr};
use crate::{Error, PAGE_SIZE, USER_LIMIT};

/// Everything the kernel needs to map a static executable and start it.
///
/// All addresses include the load bias. `segments` is sorted by address and
/// no two segments share a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadPlan {
    /// Where execution starts (`e_entry` plus bias); inside an executable segment.
    pub entry: u64,
    /// `AT_PHDR`: where the program header table lies in memory. Taken,
    /// like Linux, from the `PT_LOAD` whose file bytes hold the table;
    /// failing that from `PT_PHDR`; failing both it is the bias alone (as
    /// on Linux), and the program must not read `AT_PHDR`.
    pub phdr_vaddr: u64,
    /// `AT_PHENT`: size of one program header (56).
    pub phent: u16,
    /// `AT_PHNUM`: number of program headers.
    pub phnum: u16,
    /// The `PT_LOAD` segments that occupy memory, by ascending address.
    pub segments: Vec<Segment>,
    /// The `PT_TLS` template, if any (the C library sets TLS up from it).
    pub tls: Option<Tls>,
    /// Whether the stack should be executable: `PF_X` of the last
    /// `PT_GNU_STACK`. Without one, x86_64 Linux (since 5.8, see
    /// `elf_read_implies_exec` in arch/x86/include/asm/elf.h) gives a
    /// non-executable stack, and so does this.
    pub is_stack_executable: bool,
    /// The `PT_INTERP` path (bytes before its NUL), if any. Paths are bytes
    /// on Linux, so this is not a `String`.
    pub interp: Option<Vec<u8>>,
    /// Page-aligned end of the highest segment: where the heap starts.
    pub brk_start: u64,
    /// `ET_DYN` (position independent, bias applied) rather than `ET_EXEC`.
    pub is_pie: bool,
    /// Page-aligned start of the lowest segment.
    pub min_vaddr: u64,
    /// Page-aligned end of the highest segment (exclusive).
    pub max_vaddr: u64,
    /// Largest power-of-two `p_align` of the `PT_LOAD`s, at least
    /// [`PAGE_SIZE`]: an `ET_DYN` bias should be a multiple of it.
    pub max_align: u64,
}

/// One page-aligned piece of the address space; see the module diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Page-aligned start address.
    pub vaddr: u64,
    /// Length in bytes, a multiple of [`PAGE_SIZE`], covering `p_memsz`.
    pub mem_len: u64,
    /// Page-aligned file offset of the byte that belongs at `vaddr`.
    pub file_offset: u64,
    /// Bytes of the file, from `file_offset`, that belong at `vaddr`:
    /// `p_filesz` plus the in-page offset of `p_vaddr`, or 0 when the
    /// segment has no file bytes (then all of it is anonymous zero memory,
    /// as in Linux's `elf_load`). Always inside the file.
    pub file_len: u64,
    /// Access rights from `p_flags`.
    pub prot: Prot,
}

impl Segment {
    /// End of the segment (exclusive), page-aligned.
    pub fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.mem_len)
    }

    /// First address after the file bytes; everything from here to
    /// [`end`](Self::end) must read as zero.
    pub fn zero_start(&self) -> u64 {
        self.vaddr.saturating_add(self.file_len)
    }

    /// First address of the pages that hold no file byte at all:
    /// `[zero_start, anon_start)` is the tail of the last file page (zero it
    /// by hand), `[anon_start, end)` is fresh zero pages.
    pub fn anon_start(&self) -> u64 {
        page_up(self.zero_start())
            .unwrap_or(u64::MAX)
            .min(self.end())
    }
}

/// Segment access rights (`PF_R`, `PF_W`, `PF_X`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// The `PT_TLS` segment: the initial image of each thread's static TLS block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tls {
    /// Address of the initialisation image (bias applied).
    pub vaddr: u64,
    /// Bytes of initialised data at `vaddr`.
    pub filesz: u64,
    /// Size of the whole block; the bytes past `filesz` start as zero.
    pub memsz: u64,
    /// Required alignment of the block (0 or a power of two).
    pub align: u64,
}

/// Validates `file` as a static x86_64 executable and lays it out.
///
/// `load_bias` is added to every address of an `ET_DYN` (static-PIE) file
/// and must be page-aligned; it is ignored for `ET_EXEC`, which loads where
/// it was linked. To choose a bias, plan once with bias 0 and read
/// `min_vaddr`, `max_vaddr` and `max_align`. Whether an address is too low
/// to map (`vm.mmap_min_addr`) is left to the address-space code, as in
/// Linux.
pub fn plan(file: &[u8], load_bias: u64) -> Result<LoadPlan, Error> {
    plan_head(file, file.len() as u64, load_bias)
}

/// [`plan`] from the start of a file of `file_len` bytes: `head` must
/// hold the ELF header and the program headers (else
/// [`Error::PhdrsOutsideFile`]: read more and try again), and the
/// `PT_INTERP` path if there is one; segments are checked against
/// `file_len`. The kernel reads only this much of an executable.
pub fn plan_head(head: &[u8], file_len: u64, load_bias: u64) -> Result<LoadPlan, Error> {
    let file = head;
    let ehdr = Ehdr::parse(file)?;
    let bias = if ehdr.is_dyn { load_bias } else { 0 };
    if !bias.is_multiple_of(PAGE_SIZE) {
        return Err(Error::UnalignedBias { bias });
    }

    let mut loads = Vec::new();
    let mut tls = None;
    let mut interp = None;
    let mut pt_phdr = None;
    let mut is_stack_executable = false;
    let mut max_align = PAGE_SIZE;
    for (index, ph) in ehdr.phdrs(file).enumerate() {
        match ph.p_type {
            PT_LOAD => {
                if ph.align.is_power_of_two() {
                    max_align = max_align.max(ph.align);
                }
                loads.extend(load(file_len, index, &ph, bias)?);
            }
            PT_TLS if tls.is_some() => return Err(Error::DuplicateTls { index }),
            PT_TLS => tls = Some(tls_template(index, &ph, bias)?),
            // Linux uses the first PT_INTERP and ignores any later one.
            PT_INTERP if interp.is_none() => interp = Some(interp_path(file, index, &ph)?),
            PT_PHDR if pt_phdr.is_none() => pt_phdr = Some(ph.vaddr),
            // Linux lets the last PT_GNU_STACK win.
            PT_GNU_STACK => is_stack_executable = ph.flags & PF_X != 0,
            _ => {}
        }
    }

    loads.sort_unstable_by_key(|l| l.start);
    for pair in loads.windows(2) {
        let [a, b] = pair else { continue };
        if b.start < a.end {
            return Err(Error::OverlappingSegments {
                first: a.index,
                second: b.index,
            });
        }
        if b.segment.vaddr < a.segment.end() {
            return Err(Error::SharedPage {
                first: a.index,
                second: b.index,
            });
        }
    }
    let (Some(first), Some(last)) = (loads.first(), loads.last()) else {
        return Err(Error::NoLoadSegment);
    };
    let (min_vaddr, max_vaddr) = (first.segment.vaddr, last.segment.end());

    let entry = ehdr
        .entry
        .checked_add(bias)
        .filter(|e| {
            loads
                .iter()
                .any(|l| l.segment.prot.exec && (l.start..l.end).contains(e))
        })
        .ok_or(Error::EntryNotExecutable {
            entry: ehdr.entry.wrapping_add(bias),
        })?;

    Ok(LoadPlan {
        entry,
        phdr_vaddr: phdr_vaddr(&ehdr, &loads, pt_phdr, bias),
        phent: PHDR_SIZE as u16,
        phnum: ehdr.phnum,
        segments: loads.iter().map(|l| l.segment).collect(),
        tls,
        is_stack_executable,
        interp,
        brk_start: max_vaddr,
        is_pie: ehdr.is_dyn,
        min_vaddr,
        max_vaddr,
        max_align,
    })
}

/// A validated `PT_LOAD` with the raw (unrounded, biased) bounds the
/// overlap and entry checks need.
struct Load {
    index: usize,
    start: u64,
    end: u64,
    offset: u64,
    filesz: u64,
    segment: Segment,
}

/// Checks one `PT_LOAD`; `None` for a segment with no memory (`p_memsz == 0`),
/// which Linux maps as nothing.
fn load(file_len: u64, index: usize, ph: &Phdr, bias: u64) -> Result<Option<Load>, Error> {
    if ph.filesz > ph.memsz {
        return Err(Error::FileszExceedsMemsz { index });
    }
    if ph.memsz == 0 {
        return Ok(None);
    }
    let file_end = ph.offset.checked_add(ph.filesz);
    if ph.filesz > 0 && file_end.is_none_or(|end| end > file_len) {
        return Err(Error::SegmentOutsideFile { index });
    }
    // mmap(2) needs the file offset page-aligned where the address is, so
    // Linux fails on this too (elf_map passes p_offset - delta to vm_mmap).
    let delta = ph.vaddr % PAGE_SIZE;
    if ph.offset % PAGE_SIZE != delta {
        return Err(Error::MisalignedSegment { index });
    }
    let overflow = Error::AddressOverflow { index };
    let start = ph.vaddr.checked_add(bias).ok_or(overflow)?;
    let end = start.checked_add(ph.memsz).ok_or(overflow)?;
    let page_end = page_up(end).ok_or(overflow)?;
    if page_end > USER_LIMIT {
        return Err(Error::AboveUserLimit { index });
    }
    let vaddr = start - delta;
    let segment = Segment {
        vaddr,
        mem_len: page_end - vaddr,
        // `offset % PAGE_SIZE == delta`, so this does not underflow.
        file_offset: ph.offset - delta,
        // `filesz <= memsz` and `start + memsz` did not overflow.
        file_len: if ph.filesz == 0 { 0 } else { ph.filesz + delta },
        prot: Prot {
            read: ph.flags & PF_R != 0,
            write: ph.flags & PF_W != 0,
            exec: ph.flags & PF_X != 0,
        },
    };
    Ok(Some(Load {
        index,
        start,
        end,
        offset: ph.offset,
        filesz: ph.filesz,
        segment,
    }))
}

fn tls_template(index: usize, ph: &Phdr, bias: u64) -> Result<Tls, Error> {
    let bad = Error::BadTls { index };
    if ph.filesz > ph.memsz || (ph.align > 1 && !ph.align.is_power_of_two()) {
        return Err(bad);
    }
    let vaddr = ph.vaddr.checked_add(bias).ok_or(bad)?;
    vaddr.checked_add(ph.memsz).ok_or(bad)?;
    Ok(Tls {
        vaddr,
        filesz: ph.filesz,
        memsz: ph.memsz,
        align: ph.align,
    })
}

/// The interpreter path, with Linux's checks: 2..=PATH_MAX bytes inside the
/// file, the last one NUL.
fn interp_path(file: &[u8], index: usize, ph: &Phdr) -> Result<Vec<u8>, Error> {
    let bad = Error::BadInterp { index };
    if !(2..=u64::from(PATH_MAX)).contains(&ph.filesz) {
        return Err(bad);
    }
    let start = usize::try_from(ph.offset).map_err(|_| bad)?;
    let end = start.checked_add(ph.filesz as usize).ok_or(bad)?;
    let bytes = file.get(start..end).ok_or(bad)?;
    let Some((0, path)) = bytes.split_last() else {
        return Err(bad);
    };
    let path = path.split(|&b| b == 0).next().unwrap_or_default();
    if path.is_empty() {
        return Err(bad);
    }
    Ok(path.to_vec())
}

/// `AT_PHDR`; see [`LoadPlan::phdr_vaddr`].
fn phdr_vaddr(ehdr: &Ehdr, loads: &[Load], pt_phdr: Option<u64>, bias: u64) -> u64 {
    // `Ehdr::parse` checked that the table fits in the file: no overflow.
    let table_end = ehdr.phoff + u64::from(ehdr.phnum) * PHDR_SIZE as u64;
    let covering = loads
        .iter()
        .find(|l| l.offset <= ehdr.phoff && table_end <= l.offset + l.filesz)
        // `l.start` is `p_vaddr + bias`, and the table lies in the segment.
        .map(|l| l.start + (ehdr.phoff - l.offset));
    covering.unwrap_or_else(|| pt_phdr.unwrap_or(0).wrapping_add(bias))
}

/// `addr` rounded up to a page boundary, `None` on overflow.
fn page_up(addr: u64) -> Option<u64> {
    Some(addr.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1))
}

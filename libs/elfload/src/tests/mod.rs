//! Host tests: real static binaries built at test time, a synthetic ELF
//! whose fields the corruption tests bend one at a time, the stack read
//! back as a program would, and the `#!` rules.

mod corrupt;
mod layout;
mod real;
mod shebang;
mod stack;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::{LoadPlan, PAGE_SIZE};

/// Offsets of fields in the ELF header and in a program header.
pub(super) const E_TYPE: usize = 16;
pub(super) const E_MACHINE: usize = 18;
pub(super) const E_ENTRY: usize = 24;
pub(super) const E_PHOFF: usize = 32;
pub(super) const E_PHENTSIZE: usize = 54;
pub(super) const E_PHNUM: usize = 56;
pub(super) const P_TYPE: usize = 0;
pub(super) const P_FLAGS: usize = 4;
pub(super) const P_OFFSET: usize = 8;
pub(super) const P_VADDR: usize = 16;
pub(super) const P_FILESZ: usize = 32;
pub(super) const P_MEMSZ: usize = 40;
pub(super) const P_ALIGN: usize = 48;

/// A program header as the tests write and read it, independent of the
/// crate's own decoder.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawPh {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

pub(super) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
pub(super) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
pub(super) fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
pub(super) fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
pub(super) fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
pub(super) fn get64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// File offset of program header `i`.
pub(super) fn ph_at(file: &[u8], i: usize) -> usize {
    get64(file, E_PHOFF) as usize + i * 56
}

pub(super) fn raw_phdrs(file: &[u8]) -> Vec<RawPh> {
    (0..usize::from(get16(file, E_PHNUM)))
        .map(|i| {
            let at = ph_at(file, i);
            RawPh {
                p_type: get32(file, at + P_TYPE),
                flags: get32(file, at + P_FLAGS),
                offset: get64(file, at + P_OFFSET),
                vaddr: get64(file, at + P_VADDR),
                filesz: get64(file, at + P_FILESZ),
                memsz: get64(file, at + P_MEMSZ),
                align: get64(file, at + P_ALIGN),
            }
        })
        .collect()
}

/// An ELF64 x86_64 file with the given type, entry and program headers
/// (table right after the header), `len` bytes long, filled with a pattern.
pub(super) fn build_elf(e_type: u16, entry: u64, phdrs: &[RawPh], len: usize) -> Vec<u8> {
    let mut b: Vec<u8> = (0..len).map(|i| (i % 251) as u8 | 1).collect();
    b[..16].copy_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    put16(&mut b, E_TYPE, e_type);
    put16(&mut b, E_MACHINE, 62);
    put32(&mut b, 20, 1);
    put64(&mut b, E_ENTRY, entry);
    put64(&mut b, E_PHOFF, 64);
    put64(&mut b, 40, 0); // e_shoff
    put32(&mut b, 48, 0); // e_flags
    put16(&mut b, 52, 64); // e_ehsize
    put16(&mut b, E_PHENTSIZE, 56);
    put16(&mut b, E_PHNUM, phdrs.len() as u16);
    for (i, ph) in phdrs.iter().enumerate() {
        let at = 64 + i * 56;
        put32(&mut b, at + P_TYPE, ph.p_type);
        put32(&mut b, at + P_FLAGS, ph.flags);
        put64(&mut b, at + P_OFFSET, ph.offset);
        put64(&mut b, at + P_VADDR, ph.vaddr);
        put64(&mut b, at + 24, ph.vaddr);
        put64(&mut b, at + P_FILESZ, ph.filesz);
        put64(&mut b, at + P_MEMSZ, ph.memsz);
        put64(&mut b, at + P_ALIGN, ph.align);
    }
    b
}

pub(super) const PT_LOAD: u32 = 1;
pub(super) const PT_INTERP: u32 = 3;
pub(super) const PT_PHDR: u32 = 6;
pub(super) const PT_TLS: u32 = 7;
pub(super) const PT_GNU_STACK: u32 = 0x6474_e551;
pub(super) const R: u32 = 4;
pub(super) const W: u32 = 2;
pub(super) const X: u32 = 1;

pub(super) fn ph(
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
) -> RawPh {
    RawPh {
        p_type,
        flags,
        offset,
        vaddr,
        filesz,
        memsz,
        align: PAGE_SIZE,
    }
}

/// A small valid `ET_EXEC` laid out like a `-z separate-code` link:
/// headers (R), text (RX), data + bss spanning pages (RW), TLS, GNU_STACK.
pub(super) fn synthetic_exec() -> Vec<u8> {
    let phdrs = [
        ph(PT_LOAD, R, 0, 0x40_0000, 0x200, 0x200),
        ph(PT_LOAD, R | X, 0x1000, 0x40_1000, 0x180, 0x180),
        ph(PT_LOAD, R | W, 0x2010, 0x40_3010, 0x40, 0x2100),
        RawPh {
            align: 8,
            ..ph(PT_TLS, R, 0x2010, 0x40_3010, 0x8, 0x20)
        },
        RawPh {
            align: 16,
            ..ph(PT_GNU_STACK, R | W, 0, 0, 0, 0)
        },
    ];
    build_elf(2, 0x40_1040, &phdrs, 0x2050)
}

/// Where the test binaries are compiled.
fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elfload-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A C program with a `__thread` variable, so musl emits `PT_TLS`.
const HELLO_C: &str = r#"#include <stdio.h>
__thread int counter = 41;
int main(int argc, char **argv) {
    counter += argc;
    printf("hello %d %s\n", counter, argv[0]);
    return 0;
}
"#;

/// Compiles [`HELLO_C`] with `compiler flags...`, or `None` (with a note)
/// when the compiler is missing or fails.
fn compile(name: &str, compiler: &str, flags: &[&str]) -> Option<Vec<u8>> {
    let dir = scratch_dir();
    let src = dir.join("hello.c");
    std::fs::write(&src, HELLO_C).unwrap();
    let out = dir.join(name);
    let status = Command::new(compiler)
        .args(flags)
        .arg("-O1")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => Some(std::fs::read(&out).unwrap()),
        Ok(s) => {
            println!(
                "note: `{compiler} {}` failed ({s}); skipping {name}",
                flags.join(" ")
            );
            None
        }
        Err(e) => {
            println!("note: {compiler} not available ({e}); skipping {name}");
            None
        }
    }
}

/// `musl-gcc -static` hello world (`ET_EXEC` with `PT_TLS`).
pub(super) fn musl_static() -> Option<&'static [u8]> {
    static BIN: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    BIN.get_or_init(|| compile("hello-musl", "musl-gcc", &["-static"]))
        .as_deref()
}

/// `gcc -static-pie` hello world (glibc static-PIE `ET_DYN`).
pub(super) fn glibc_static_pie() -> Option<&'static [u8]> {
    static BIN: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    BIN.get_or_init(|| compile("hello-static-pie", "gcc", &["-static-pie"]))
        .as_deref()
}

/// Debian's busybox-static (`ET_EXEC`), when installed.
pub(super) fn busybox() -> Option<&'static [u8]> {
    static BIN: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    BIN.get_or_init(|| match std::fs::read("/bin/busybox") {
        Ok(b) if b.starts_with(b"\x7fELF") => Some(b),
        _ => {
            println!("note: no static /bin/busybox; skipping");
            None
        }
    })
    .as_deref()
}

/// Loads `file` the way the kernel would from `plan` (copy the file bytes,
/// zero the rest) and checks, against the raw program headers, that every
/// `PT_LOAD` byte lands at `p_vaddr + bias` and its bss reads as zero; also
/// checks the plan's structural promises.
pub(super) fn check_plan_loads(file: &[u8], plan: &LoadPlan, bias: u64) {
    let mut prev_end = 0;
    for seg in &plan.segments {
        assert_eq!(seg.vaddr % PAGE_SIZE, 0);
        assert_eq!(seg.mem_len % PAGE_SIZE, 0);
        assert_eq!(seg.file_offset % PAGE_SIZE, 0);
        assert!(seg.file_len <= seg.mem_len);
        assert!(seg.file_offset + seg.file_len <= file.len() as u64);
        assert!(seg.vaddr >= prev_end, "segments sorted and page-disjoint");
        assert!(seg.zero_start() <= seg.anon_start() && seg.anon_start() <= seg.end());
        assert_eq!(seg.anon_start() % PAGE_SIZE, 0);
        prev_end = seg.end();
    }
    assert_eq!(plan.brk_start, prev_end);
    assert_eq!(plan.max_vaddr, prev_end);
    assert_eq!(plan.min_vaddr, plan.segments[0].vaddr);
    assert!(
        plan.segments
            .iter()
            .any(|s| s.prot.exec && (s.vaddr..s.end()).contains(&plan.entry))
    );

    let image = |seg: &crate::Segment| segment_image(file, seg);
    for ph in raw_phdrs(file)
        .iter()
        .filter(|p| p.p_type == PT_LOAD && p.memsz > 0)
    {
        let start = ph.vaddr + bias;
        let seg = plan
            .segments
            .iter()
            .find(|s| (s.vaddr..s.end()).contains(&start))
            .unwrap();
        assert!(start + ph.memsz <= seg.end());
        assert_eq!(seg.prot.write, ph.flags & W != 0);
        assert_eq!(seg.prot.exec, ph.flags & X != 0);
        let mem = image(seg);
        let at = (start - seg.vaddr) as usize;
        let (filesz, memsz) = (ph.filesz as usize, ph.memsz as usize);
        assert_eq!(mem[at..at + filesz], file[ph.offset as usize..][..filesz]);
        assert!(
            mem[at + filesz..at + memsz].iter().all(|&b| b == 0),
            "bss is zero"
        );
        assert!(
            mem[seg.zero_start().saturating_sub(seg.vaddr) as usize..]
                .iter()
                .all(|&b| b == 0)
        );
    }
}

/// `AT_PHDR` points at a loaded copy of the program header table.
pub(super) fn check_phdrs_loaded(file: &[u8], plan: &LoadPlan) {
    let image = |seg: &crate::Segment| segment_image(file, seg);
    let seg = plan
        .segments
        .iter()
        .find(|s| (s.vaddr..s.zero_start()).contains(&plan.phdr_vaddr))
        .expect("program headers are loaded");
    let at = (plan.phdr_vaddr - seg.vaddr) as usize;
    let table = usize::from(plan.phnum) * usize::from(plan.phent);
    let phoff = get64(file, E_PHOFF) as usize;
    assert_eq!(image(seg)[at..at + table], file[phoff..phoff + table]);
}

/// The memory of `seg` after the kernel copied its file bytes into zeroed pages.
fn segment_image(file: &[u8], seg: &crate::Segment) -> Vec<u8> {
    let mut mem = vec![0u8; seg.mem_len as usize];
    let (off, len) = (seg.file_offset as usize, seg.file_len as usize);
    mem[..len].copy_from_slice(&file[off..off + len]);
    mem
}

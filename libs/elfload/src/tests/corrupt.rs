//! One corrupted field at a time, then random corruption.

use proptest::prelude::*;

use super::*;
use crate::{Error, plan};

/// The synthetic file with program header `i`'s field at `field` set to `v`.
fn with_ph64(i: usize, field: usize, v: u64) -> Vec<u8> {
    let mut f = synthetic_exec();
    let at = ph_at(&f, i) + field;
    put64(&mut f, at, v);
    f
}

#[test]
fn synthetic_is_valid() {
    let f = synthetic_exec();
    let p = plan(&f, 0).unwrap();
    check_plan_loads(&f, &p, 0);
    check_phdrs_loaded(&f, &p);
    assert_eq!(p.segments.len(), 3);
    let data = p.segments[2];
    assert_eq!(
        (data.vaddr, data.file_offset, data.file_len),
        (0x40_3000, 0x2000, 0x50)
    );
    assert_eq!(
        (data.zero_start(), data.anon_start(), data.end()),
        (0x40_3050, 0x40_4000, 0x40_6000)
    );
    assert!(data.prot.read && data.prot.write && !data.prot.exec);
    assert_eq!(
        p.tls,
        Some(crate::Tls {
            vaddr: 0x40_3010,
            filesz: 8,
            memsz: 0x20,
            align: 8
        })
    );
    assert_eq!(p.phdr_vaddr, 0x40_0040);
    assert_eq!(p.brk_start, 0x40_6000);
    assert!(!p.is_stack_executable && !p.is_pie && p.interp.is_none());
}

#[test]
fn header_fields() {
    let f = synthetic_exec();
    let patched = |at: usize, bytes: &[u8]| {
        let mut g = f.clone();
        g[at..at + bytes.len()].copy_from_slice(bytes);
        plan(&g, 0)
    };
    assert_eq!(plan(&f[..63], 0), Err(Error::TooShort { len: 63 }));
    assert_eq!(patched(0, b"\x7fELG"), Err(Error::BadMagic));
    assert_eq!(patched(4, &[1]), Err(Error::NotElf64 { class: 1 }));
    assert_eq!(patched(5, &[2]), Err(Error::NotLittleEndian { data: 2 }));
    assert_eq!(patched(6, &[0]), Err(Error::BadVersion { version: 0 }));
    assert_eq!(
        patched(20, &[2, 0, 0, 0]),
        Err(Error::BadVersion { version: 2 })
    );
    assert_eq!(
        patched(E_MACHINE, &3u16.to_le_bytes()),
        Err(Error::WrongMachine { machine: 3 })
    );
    assert_eq!(
        patched(E_TYPE, &1u16.to_le_bytes()),
        Err(Error::WrongType { e_type: 1 })
    );
    assert_eq!(
        patched(E_TYPE, &4u16.to_le_bytes()),
        Err(Error::WrongType { e_type: 4 })
    );
    assert_eq!(
        patched(E_PHENTSIZE, &64u16.to_le_bytes()),
        Err(Error::BadPhentsize { phentsize: 64 })
    );
    assert_eq!(
        patched(E_PHNUM, &0u16.to_le_bytes()),
        Err(Error::NoProgramHeaders)
    );
    assert_eq!(
        patched(E_PHNUM, &0xffffu16.to_le_bytes()),
        Err(Error::TooManyProgramHeaders { phnum: 0xffff })
    );
    assert_eq!(
        patched(E_PHNUM, &200u16.to_le_bytes()),
        Err(Error::PhdrsOutsideFile {
            phoff: 64,
            phnum: 200
        })
    );
    let far = u64::MAX - 8;
    assert_eq!(
        patched(E_PHOFF, &far.to_le_bytes()),
        Err(Error::PhdrsOutsideFile {
            phoff: far,
            phnum: 5
        })
    );
    assert_eq!(
        patched(E_ENTRY, &0x40_0010u64.to_le_bytes()),
        Err(Error::EntryNotExecutable { entry: 0x40_0010 }),
        "entry in the non-executable header segment"
    );
    assert_eq!(
        patched(E_ENTRY, &0x40_1180u64.to_le_bytes()),
        Err(Error::EntryNotExecutable { entry: 0x40_1180 }),
        "entry one past the text"
    );
}

#[test]
fn segment_fields() {
    let err = |f: Vec<u8>| plan(&f, 0).unwrap_err();
    assert_eq!(
        err(with_ph64(2, P_FILESZ, 0x3000)),
        Error::FileszExceedsMemsz { index: 2 }
    );
    assert_eq!(
        err(with_ph64(2, P_FILESZ, 0x41)),
        Error::SegmentOutsideFile { index: 2 }
    );
    assert_eq!(
        err(with_ph64(1, P_OFFSET, 0x10_0000)),
        Error::SegmentOutsideFile { index: 1 }
    );
    assert_eq!(
        err(with_ph64(1, P_OFFSET, u64::MAX - 0x7f)),
        Error::SegmentOutsideFile { index: 1 }
    );
    assert_eq!(
        err(with_ph64(2, P_OFFSET, 0x2008)),
        Error::MisalignedSegment { index: 2 }
    );
    assert_eq!(
        err(with_ph64(2, P_MEMSZ, u64::MAX - 0x40_0000)),
        Error::AddressOverflow { index: 2 }
    );
    assert_eq!(
        err(with_ph64(2, P_MEMSZ, u64::MAX - 0x40_3010)),
        Error::AddressOverflow { index: 2 }
    );
    assert_eq!(
        err(with_ph64(2, P_VADDR, 0x7fff_ffff_f010)),
        Error::AboveUserLimit { index: 2 }
    );
    assert_eq!(
        err(with_ph64(2, P_VADDR, 0xffff_8000_0000_0010)),
        Error::AboveUserLimit { index: 2 }
    );
    // Data moved onto the text's addresses, then onto its last page only.
    assert_eq!(
        err(with_ph64(2, P_VADDR, 0x40_1010)),
        Error::OverlappingSegments {
            first: 1,
            second: 2
        }
    );
    let mut f = with_ph64(2, P_VADDR, 0x40_2010);
    let at = ph_at(&f, 1) + P_MEMSZ;
    put64(&mut f, at, 0x1008);
    assert_eq!(
        err(f),
        Error::SharedPage {
            first: 1,
            second: 2
        }
    );
    // Same overlap with the headers listed after the text.
    assert_eq!(
        err(with_ph64(0, P_VADDR, 0x40_1000)),
        Error::OverlappingSegments {
            first: 0,
            second: 1
        }
    );
    // A PT_LOAD alignment that is not a power of two is ignored, as on Linux.
    assert_eq!(
        plan(&with_ph64(2, P_ALIGN, 3), 0).unwrap().max_align,
        PAGE_SIZE
    );
}

#[test]
fn phdr_types() {
    // No PT_LOAD with memory at all.
    let f = build_elf(
        2,
        0x40_1000,
        &[ph(PT_LOAD, R | X, 0, 0x40_1000, 0, 0)],
        0x200,
    );
    assert_eq!(plan(&f, 0), Err(Error::NoLoadSegment));

    let text = ph(PT_LOAD, R | X, 0, 0x40_0000, 0x400, 0x400);
    let ok = |extra: &[RawPh]| {
        let mut phdrs = vec![text];
        phdrs.extend_from_slice(extra);
        plan(&build_elf(2, 0x40_0100, &phdrs, 0x400), 0)
    };
    assert!(ok(&[]).unwrap().segments.len() == 1);
    // Executable stack only when PT_GNU_STACK asks; the last one wins.
    assert!(!ok(&[]).unwrap().is_stack_executable);
    assert!(
        ok(&[ph(PT_GNU_STACK, R | W | X, 0, 0, 0, 0)])
            .unwrap()
            .is_stack_executable
    );
    let stacks = [
        ph(PT_GNU_STACK, R | W | X, 0, 0, 0, 0),
        ph(PT_GNU_STACK, R | W, 0, 0, 0, 0),
    ];
    assert!(!ok(&stacks).unwrap().is_stack_executable);

    // TLS.
    assert_eq!(
        ok(&[ph(PT_TLS, R, 0x300, 0x40_0300, 0x20, 0x10)]),
        Err(Error::BadTls { index: 1 })
    );
    let odd = RawPh {
        align: 24,
        ..ph(PT_TLS, R, 0x300, 0x40_0300, 0x10, 0x10)
    };
    assert_eq!(ok(&[odd]), Err(Error::BadTls { index: 1 }));
    let tls = ph(PT_TLS, R, 0x300, 0x40_0300, 0x10, 0x10);
    assert_eq!(ok(&[tls, tls]), Err(Error::DuplicateTls { index: 2 }));

    // PT_PHDR is used only when no PT_LOAD holds the table.
    let phdr = ph(PT_PHDR, R, 64, 0x40_0040, 112, 112);
    assert_eq!(ok(&[phdr]).unwrap().phdr_vaddr, 0x40_0040);
    let f = build_elf(
        2,
        0x40_1100,
        &[ph(PT_LOAD, R | X, 0x1000, 0x40_1000, 0x200, 0x200)],
        0x1200,
    );
    assert_eq!(
        plan(&f, 0).unwrap().phdr_vaddr,
        0,
        "table not loaded: 0, as on Linux"
    );
    let phdrs = [
        ph(PT_LOAD, R | X, 0x1000, 0x40_1000, 0x200, 0x200),
        ph(PT_PHDR, R, 64, 0x40_1040, 112, 112),
    ];
    assert_eq!(
        plan(&build_elf(2, 0x40_1100, &phdrs, 0x1200), 0)
            .unwrap()
            .phdr_vaddr,
        0x40_1040
    );

    // PT_INTERP: reported, first one wins, Linux's sanity checks.
    let mut f = build_elf(
        2,
        0x40_0100,
        &[text, ph(PT_INTERP, R, 0x300, 0x40_0300, 0x1c, 0x1c)],
        0x400,
    );
    f[0x300..0x31c].copy_from_slice(b"/lib64/ld-linux-x86-64.so.2\0");
    assert_eq!(
        plan(&f, 0).unwrap().interp.as_deref(),
        Some(b"/lib64/ld-linux-x86-64.so.2".as_slice())
    );
    f[0x31b] = b'x';
    assert_eq!(
        plan(&f, 0),
        Err(Error::BadInterp { index: 1 }),
        "not NUL-terminated"
    );
    for (offset, size) in [(0x300, 1), (0x300, 0x2000), (0x3f0, 0x20), (u64::MAX, 8)] {
        let f = build_elf(
            2,
            0x40_0100,
            &[text, ph(PT_INTERP, R, offset, 0, size, size)],
            0x400,
        );
        assert_eq!(
            plan(&f, 0),
            Err(Error::BadInterp { index: 1 }),
            "{offset:#x}+{size:#x}"
        );
    }
    // Empty and zero-length PT_LOADs are skipped, not mapped.
    assert_eq!(
        ok(&[ph(PT_LOAD, R, 0, 0x50_0000, 0, 0)])
            .unwrap()
            .segments
            .len(),
        1
    );
    // A bss-only segment maps no file bytes.
    let bss = ok(&[ph(PT_LOAD, R | W, 0x123, 0x50_0123, 0, 0x2000)]).unwrap();
    let s = bss.segments[1];
    assert_eq!(
        (s.vaddr, s.file_len, s.anon_start(), s.end()),
        (0x50_0000, 0, 0x50_0000, 0x50_3000)
    );
}

#[test]
fn every_error_has_a_message_and_errno() {
    let errors = [
        Error::BadMagic,
        Error::SharedPage {
            first: 1,
            second: 2,
        },
        Error::ArgsTooLong { total: 5 },
        Error::ShebangTruncated,
        Error::UnalignedStackTop { stack_top: 8 },
    ];
    for e in errors {
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(Error::BadMagic.errno(), linux_raw_sys::errno::ENOEXEC);
    assert_eq!(
        Error::ArgsTooLong { total: 5 }.errno(),
        linux_raw_sys::errno::E2BIG
    );
    assert_eq!(
        Error::SharedPage {
            first: 1,
            second: 2
        }
        .to_string(),
        "program headers 1 and 2: PT_LOAD segments share a page"
    );
}

/// A valid binary to mutate: the musl build when available, else the synthetic one.
fn seed() -> Vec<u8> {
    musl_static().map_or_else(synthetic_exec, <[u8]>::to_vec)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random bytes in the first 4 KiB (headers, program headers, start
    /// of text): any result but a panic; an accepted plan still keeps its
    /// promises.
    #[test]
    fn mutated_headers_never_panic(
        edits in prop::collection::vec((0usize..4096, any::<u8>()), 1..24),
        bias_pages in any::<u32>(),
    ) {
        let mut f = seed();
        let len = f.len();
        for (at, byte) in edits {
            f[at % len] = byte;
        }
        let bias = u64::from(bias_pages) * PAGE_SIZE;
        if let Ok(p) = plan(&f, bias) {
            let bias = if p.is_pie { bias } else { 0 };
            // Copying a huge bss into a test buffer would exhaust memory.
            if p.segments.iter().all(|s| s.mem_len <= 1 << 26) {
                check_plan_loads(&f, &p, bias);
            }
        }
    }

    /// Targeted: random 64-bit values in program header fields.
    #[test]
    fn mutated_phdr_fields_never_panic(i in 0usize..5, field in 0usize..7, v in any::<u64>()) {
        let mut f = synthetic_exec();
        let at = ph_at(&f, i) + field * 8;
        put64(&mut f, at, v);
        let _ = plan(&f, 0);
    }
}

/// `plan_head`: the kernel plans from the first bytes of a file and its
/// length; the result is `plan`'s, and segments are checked against the
/// length, not the head.
#[test]
fn plan_from_the_head_of_a_file() {
    let f = synthetic_exec();
    let whole = plan(&f, 0).unwrap();
    let head = &f[..0x200];
    assert_eq!(crate::plan_head(head, f.len() as u64, 0), Ok(whole));
    // A file shorter than its segments say.
    assert!(matches!(
        crate::plan_head(head, 0x1000, 0),
        Err(Error::SegmentOutsideFile { .. })
    ));
    // A head without the program headers asks for more.
    assert!(matches!(
        crate::plan_head(&f[..0x60], f.len() as u64, 0),
        Err(Error::PhdrsOutsideFile { .. })
    ));
}

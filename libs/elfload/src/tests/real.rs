//! Real static executables: busybox-static, musl `-static`, glibc `-static-pie`.

use super::*;
use crate::{Error, plan};

/// Checks shared by every real binary; returns the unbiased plan.
fn check_real(name: &str, file: &[u8], is_pie: bool) -> LoadPlan {
    let p = plan(file, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(p.is_pie, is_pie, "{name}");
    assert_eq!(p.entry, get64(file, E_ENTRY), "{name}");
    assert_eq!(p.phent, 56);
    assert_eq!(p.phnum, get16(file, E_PHNUM));
    assert!(!p.is_stack_executable, "{name}: PT_GNU_STACK is RW");
    assert_eq!(p.interp, None, "{name}");
    let loads = raw_phdrs(file)
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .count();
    assert_eq!(p.segments.len(), loads, "{name}");
    check_plan_loads(file, &p, 0);
    check_phdrs_loaded(file, &p);
    p
}

#[test]
fn busybox_static_exec() {
    let Some(file) = busybox() else { return };
    let p = check_real("busybox", file, false);
    assert!(
        p.min_vaddr >= 0x10000,
        "linked at a fixed, non-null address"
    );
    // ET_EXEC ignores the bias.
    assert_eq!(plan(file, 0x5555_5555_4000).unwrap(), p);
    assert_eq!(
        plan(file, 0x123).unwrap(),
        p,
        "bias alignment is irrelevant for ET_EXEC"
    );
}

#[test]
fn musl_static_exec_with_tls() {
    let Some(file) = musl_static() else { return };
    let p = check_real("musl-gcc -static", file, false);
    let tls = p.tls.expect("musl emits PT_TLS for a __thread variable");
    assert!(tls.memsz >= 4 && tls.filesz <= tls.memsz && tls.align >= 4);
    assert!(
        p.segments
            .iter()
            .any(|s| (s.vaddr..s.end()).contains(&tls.vaddr))
    );
    // musl's static ET_EXEC has no PT_PHDR: AT_PHDR comes from the first PT_LOAD.
    assert_eq!(p.phdr_vaddr, p.segments[0].vaddr + get64(file, E_PHOFF));
}

#[test]
fn glibc_static_pie_bias() {
    let Some(file) = glibc_static_pie() else {
        return;
    };
    let p0 = check_real("gcc -static-pie", file, true);
    assert_eq!(p0.min_vaddr, 0, "static-PIE is linked at 0");
    assert!(p0.tls.is_some());
    assert!(p0.max_align.is_power_of_two() && p0.max_align >= PAGE_SIZE);

    let bias = 0x5555_5555_4000;
    let p = plan(file, bias).unwrap();
    check_plan_loads(file, &p, bias);
    check_phdrs_loaded(file, &p);
    assert_eq!(p.entry, p0.entry + bias);
    assert_eq!(p.phdr_vaddr, p0.phdr_vaddr + bias);
    assert_eq!(p.brk_start, p0.brk_start + bias);
    assert_eq!(p.tls.unwrap().vaddr, p0.tls.unwrap().vaddr + bias);
    for (a, b) in p.segments.iter().zip(&p0.segments) {
        assert_eq!(a.vaddr, b.vaddr + bias);
        assert_eq!(
            (a.mem_len, a.file_offset, a.file_len, a.prot),
            (b.mem_len, b.file_offset, b.file_len, b.prot)
        );
    }
    assert_eq!(
        plan(file, bias + 0x10),
        Err(Error::UnalignedBias { bias: bias + 0x10 })
    );
    let top = crate::USER_LIMIT - p0.max_vaddr;
    assert!(plan(file, top & !(PAGE_SIZE - 1)).is_ok());
    assert!(matches!(
        plan(file, top + PAGE_SIZE),
        Err(Error::AboveUserLimit { .. })
    ));
    assert!(matches!(
        plan(file, !(PAGE_SIZE - 1)),
        Err(Error::AddressOverflow { .. })
    ));
}

/// Every prefix shorter than the last loaded byte fails cleanly; longer
/// prefixes plan exactly like the whole file.
fn check_prefixes(file: &[u8], lens: impl Iterator<Item = usize>) {
    let full = plan(file, 0x1000_0000).unwrap();
    let needed = raw_phdrs(file)
        .iter()
        .filter(|p| p.p_type == PT_LOAD || p.p_type == PT_INTERP)
        .map(|p| (p.offset + p.filesz) as usize)
        .max()
        .unwrap();
    for len in lens {
        match plan(&file[..len], 0x1000_0000) {
            Ok(p) => {
                assert!(len >= needed, "prefix of {len} bytes accepted");
                assert_eq!(p, full);
            }
            Err(_) => assert!(len < needed, "prefix of {len} bytes refused"),
        }
    }
}

#[test]
fn every_prefix_of_musl_binary() {
    let Some(file) = musl_static() else { return };
    check_prefixes(file, 0..=file.len());
}

#[test]
fn every_prefix_of_synthetic_binary() {
    let file = synthetic_exec();
    check_prefixes(&file, 0..=file.len());
}

#[test]
fn prefixes_of_large_binaries() {
    for file in [busybox(), glibc_static_pie()].into_iter().flatten() {
        // Every header length, a stride through the body, and both sides
        // of every segment's end.
        let ends = raw_phdrs(file).into_iter().flat_map(|p| {
            let end = (p.offset + p.filesz) as usize;
            [end.saturating_sub(1), end, end + 1]
        });
        let lens = (0..4096)
            .chain((4096..file.len()).step_by(4093))
            .chain(ends)
            .filter(|&l| l <= file.len());
        check_prefixes(file, lens.collect::<Vec<_>>().into_iter());
    }
}

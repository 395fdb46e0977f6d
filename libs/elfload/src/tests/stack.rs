//! The initial stack, read back the way a C runtime's `_start` reads it.

use proptest::prelude::*;

use super::get64;
use crate::*;

const TOP: u64 = 0x7fff_ffff_e000;

/// What a program finds on its stack.
struct Parsed {
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    auxv: Vec<(u64, u64)>,
}

/// Reads memory of `img` at user address `addr`.
fn at(img: &StackImage, addr: u64) -> &[u8] {
    assert!(addr >= img.sp && addr < TOP, "{addr:#x} outside the image");
    &img.bytes[(addr - img.sp) as usize..]
}

fn c_str(img: &StackImage, addr: u64) -> Vec<u8> {
    let s = at(img, addr);
    s[..s.iter().position(|&b| b == 0).unwrap()].to_vec()
}

fn parse(img: &StackImage) -> Parsed {
    assert_eq!(img.bytes.len() as u64, TOP - img.sp);
    assert_eq!(img.sp % 16, 0, "SysV ABI: rsp 16-byte aligned at entry");
    let word = |i: u64| get64(at(img, img.sp + 8 * i), 0);
    let argc = word(0);
    let argv: Vec<_> = (0..argc).map(|i| c_str(img, word(1 + i))).collect();
    assert_eq!(word(1 + argc), 0, "argv is NULL-terminated");
    let mut i = argc + 2;
    let mut envp = Vec::new();
    while word(i) != 0 {
        envp.push(c_str(img, word(i)));
        i += 1;
    }
    i += 1;
    assert_eq!(img.sp + 8 * i, img.auxv_addr);
    let mut auxv = Vec::new();
    loop {
        let (key, value) = (word(i), word(i + 1));
        auxv.push((key, value));
        i += 2;
        if key == AT_NULL {
            break;
        }
    }
    assert_eq!(auxv, img.auxv);
    Parsed { argv, envp, auxv }
}

fn value(p: &Parsed, key: u64) -> Option<u64> {
    p.auxv.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn caller_auxv() -> Vec<(u64, u64)> {
    vec![
        (AT_SYSINFO_EHDR, 0x7fff_f7ff_0000),
        (AT_MINSIGSTKSZ, 3632),
        (AT_HWCAP, 0x178b_fbff),
        (AT_PAGESZ, 4096),
        (AT_CLKTCK, 100),
        (AT_PHDR, 0x40_0040),
        (AT_PHENT, 56),
        (AT_PHNUM, 10),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, 0x40_ebf0),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_HWCAP2, 2),
    ]
}

const RANDOM: [u8; 16] = *b"0123456789abcdef";

#[test]
fn stack_reads_back() {
    let args: [&[u8]; 3] = [b"/bin/busybox", b"sh", b"-c"];
    let env: [&[u8]; 2] = [b"HOME=/", b"PATH=/bin:/usr/bin"];
    let img = build_stack(
        TOP,
        &args,
        &env,
        &caller_auxv(),
        b"/bin/sh",
        RANDOM,
        b"x86_64",
    )
    .unwrap();
    let p = parse(&img);
    assert_eq!(p.argv, args.map(<[u8]>::to_vec));
    assert_eq!(p.envp, env.map(<[u8]>::to_vec));
    // The caller's entries come first and in order, then ours, then AT_NULL.
    assert_eq!(p.auxv[..caller_auxv().len()], caller_auxv());
    let random = value(&p, AT_RANDOM).unwrap();
    assert_eq!(random, img.random_addr);
    assert_eq!(at(&img, random)[..16], RANDOM);
    assert_eq!(c_str(&img, value(&p, AT_EXECFN).unwrap()), b"/bin/sh");
    assert_eq!(c_str(&img, value(&p, AT_PLATFORM).unwrap()), b"x86_64");
    assert_eq!(p.auxv.last(), Some(&(AT_NULL, 0)));

    // Linux's order, top down: end marker, execfn, env strings, arg strings.
    assert_eq!(at(&img, TOP - 8)[..8], [0; 8]);
    assert_eq!(img.execfn_addr, TOP - 8 - 8);
    assert_eq!(img.env_end, img.execfn_addr);
    assert_eq!(img.env_start, img.env_end - (7 + 19));
    assert_eq!(img.arg_end, img.env_start);
    assert_eq!(img.arg_start, img.arg_end - (13 + 3 + 3));
    let platform = img.platform_addr.unwrap();
    assert_eq!(platform, (img.arg_start & !15) - 7);
    assert_eq!(random, platform - 16);
    // The strings are one block, as /proc/<pid>/cmdline reads them.
    assert_eq!(
        at(&img, img.arg_start)[..(img.arg_end - img.arg_start) as usize],
        *b"/bin/busybox\0sh\0-c\0"
    );
}

#[test]
fn empty_argv_gets_empty_argv0_and_no_platform() {
    let img = build_stack(TOP, &[], &[], &[], b"/init", [7; 16], b"").unwrap();
    let p = parse(&img);
    assert_eq!(p.argv, [Vec::<u8>::new()]);
    assert!(p.envp.is_empty());
    assert_eq!(img.platform_addr, None);
    assert_eq!(value(&p, AT_PLATFORM), None);
    assert_eq!(
        p.auxv,
        [
            (AT_RANDOM, img.random_addr),
            (AT_EXECFN, img.execfn_addr),
            (AT_NULL, 0)
        ]
    );
    assert_eq!(img.random_addr, (img.arg_start & !15) - 16);
}

#[test]
fn stack_errors() {
    let ok: [&[u8]; 1] = [b"a"];
    let build = |args: &[&[u8]], env: &[&[u8]], auxv: &[(u64, u64)], top: u64| {
        build_stack(top, args, env, auxv, b"/x", [0; 16], b"x86_64")
    };
    assert_eq!(
        build(&ok, &[], &[], TOP + 8),
        Err(Error::UnalignedStackTop { stack_top: TOP + 8 })
    );
    assert_eq!(build(&ok, &[], &[], 64), Err(Error::StackUnderflow));
    assert_eq!(build(&ok, &[], &[], 0), Err(Error::StackUnderflow));
    assert_eq!(build(&[b"a\0b"], &[], &[], TOP), Err(Error::InteriorNul));
    for key in [AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM] {
        assert_eq!(
            build(&ok, &[], &[(key, 1)], TOP),
            Err(Error::ReservedAuxType { key })
        );
    }
    let long = vec![b'x'; MAX_ARG_STRLEN];
    assert_eq!(
        build(&[&long], &[], &[], TOP),
        Err(Error::ArgTooLong {
            len: MAX_ARG_STRLEN
        })
    );
    let fits = vec![b'x'; MAX_ARG_STRLEN - 1];
    assert!(build(&[&fits], &[&fits], &[], TOP).is_ok());
    // 17 strings of 128 KiB pass 2 MiB.
    let many = vec![fits.as_slice(); 17];
    assert!(matches!(
        build(&many, &[], &[], TOP),
        Err(Error::ArgsTooLong { .. })
    ));
    assert_eq!(
        Error::ArgsTooLong { total: 1 }.errno(),
        linux_raw_sys::errno::E2BIG
    );
    // Many empty strings: the pointers count too.
    let empties = vec![b"".as_slice(); MAX_ARG_BYTES / 9 + 1];
    assert!(matches!(
        build(&[], &empties, &[], TOP),
        Err(Error::ArgsTooLong { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_strings_read_back(
        args in prop::collection::vec(prop::collection::vec(1u8..=255, 0..40), 0..12),
        env in prop::collection::vec(prop::collection::vec(1u8..=255, 0..40), 0..12),
        execfn in prop::collection::vec(1u8..=255, 0..40),
        platform in prop::collection::vec(1u8..=255, 0..10),
        extra in prop::collection::vec((32u64..50, any::<u64>()), 0..6),
    ) {
        let a: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let e: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
        let extra: Vec<_> = extra.into_iter().filter(|(k, _)| *k != AT_EXECFN).collect();
        let img = build_stack(TOP, &a, &e, &extra, &execfn, RANDOM, &platform).unwrap();
        let p = parse(&img);
        let expect_args = if args.is_empty() { vec![Vec::new()] } else { args };
        prop_assert_eq!(p.argv, expect_args);
        prop_assert_eq!(p.envp, env);
        prop_assert_eq!(c_str(&img, img.execfn_addr), execfn);
        prop_assert_eq!(&at(&img, img.random_addr)[..16], &RANDOM);
        prop_assert_eq!(img.platform_addr.is_some(), !platform.is_empty());
    }
}

//! Host tests: archives built by hand with [`Writer`] and by the real
//! `cpio` tool, every error path, and property tests on hostile input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::vec::Vec;
use std::{format, fs, io::Write as _, string::String};

use proptest::prelude::*;

use crate::{Archive, Entry, Error, Kind, MAX_NAME_SIZE};

const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// One member to write; [`member`] fills in sensible defaults.
#[derive(Clone)]
struct Member<'a> {
    name: &'a [u8],
    mode: u32,
    data: &'a [u8],
    ino: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    mtime: u32,
    dev: (u32, u32),
    rdev: (u32, u32),
    /// Overrides the computed `c_namesize` (name bytes + NUL).
    namesize: Option<u32>,
    /// Overrides the computed `c_check` (only written for `070702`).
    check: Option<u32>,
}

fn member<'a>(name: &'a str, mode: u32, data: &'a [u8]) -> Member<'a> {
    Member {
        name: name.as_bytes(),
        mode,
        data,
        ino: 1,
        uid: 0,
        gid: 0,
        nlink: 1,
        mtime: 0x6000_0000,
        dev: (8, 1),
        rdev: (0, 0),
        namesize: None,
        check: None,
    }
}

/// Minimal newc writer, following `cpio(5)`.
struct Writer {
    buf: Vec<u8>,
    crc: bool,
}

impl Writer {
    fn new() -> Self {
        Self {
            buf: Vec::new(),
            crc: false,
        }
    }

    fn crc() -> Self {
        Self {
            buf: Vec::new(),
            crc: true,
        }
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn add(mut self, m: &Member<'_>) -> Self {
        let namesize = m.namesize.unwrap_or(m.name.len() as u32 + 1);
        let sum = m.data.iter().map(|&b| u32::from(b)).sum::<u32>();
        let check = if self.crc { m.check.unwrap_or(sum) } else { 0 };
        let magic = if self.crc { "070702" } else { "070701" };
        let fields = [
            m.ino,
            m.mode,
            m.uid,
            m.gid,
            m.nlink,
            m.mtime,
            m.data.len() as u32,
            m.dev.0,
            m.dev.1,
            m.rdev.0,
            m.rdev.1,
            namesize,
            check,
        ];
        self.buf.extend_from_slice(magic.as_bytes());
        for field in fields {
            self.buf
                .extend_from_slice(format!("{field:08X}").as_bytes());
        }
        self.buf.extend_from_slice(m.name);
        self.buf.push(0);
        self.pad();
        self.buf.extend_from_slice(m.data);
        self.pad();
        self
    }

    fn trailer(self) -> Self {
        let mut t = member("TRAILER!!!", 0, b"");
        t.ino = 0;
        t.nlink = 1;
        t.dev = (0, 0);
        t.mtime = 0;
        self.add(&t)
    }

    fn finish(self) -> Vec<u8> {
        self.buf
    }
}

fn collect(bytes: &[u8]) -> Result<Vec<Entry<'_>>, Error> {
    Archive::new(bytes).entries().collect()
}

fn names<'a>(entries: &[Entry<'a>]) -> Vec<&'a str> {
    entries.iter().map(|e| e.name).collect()
}

/// The first error of a one-bad-member archive.
fn only_error(m: &Member<'_>) -> Error {
    let bytes = Writer::new().add(m).trailer().finish();
    collect(&bytes).unwrap_err()
}

/// A small archive covering every kind the tests care about.
fn sample(crc: bool) -> Vec<u8> {
    let w = if crc { Writer::crc() } else { Writer::new() };
    let mut dev = member("dev/console", S_IFCHR | 0o600, b"");
    dev.rdev = (5, 1);
    dev.ino = 4;
    w.add(&member(".", S_IFDIR | 0o755, b""))
        .add(&member("./dev", S_IFDIR | 0o755, b""))
        .add(&dev)
        .add(&member("/init", S_IFREG | 0o4755, b"#!/bin/sh\necho hi\n"))
        .add(&member("empty", S_IFREG | 0o644, b""))
        .add(&member("bin/sh", S_IFLNK | 0o777, b"busybox"))
        .trailer()
        .finish()
}

#[test]
fn reads_hand_built_archive() {
    for crc in [false, true] {
        let bytes = sample(crc);
        let entries = collect(&bytes).unwrap();
        assert_eq!(
            names(&entries),
            [".", "dev", "dev/console", "init", "empty", "bin/sh"]
        );
        let kinds: Vec<Kind> = entries.iter().map(Entry::kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Dir,
                Kind::Dir,
                Kind::CharDev,
                Kind::File,
                Kind::File,
                Kind::Symlink
            ]
        );

        let console = &entries[2];
        assert_eq!((console.rdev_major, console.rdev_minor), (5, 1));
        assert_eq!(console.permissions(), 0o600);
        assert_eq!(console.mode, S_IFCHR | 0o600);
        assert_eq!(
            (console.ino, console.nlink, console.mtime),
            (4, 1, 0x6000_0000)
        );
        assert_eq!((console.dev_major, console.dev_minor), (8, 1));
        assert!(console.data.is_empty());

        let init = &entries[3];
        assert_eq!(init.data, b"#!/bin/sh\necho hi\n");
        assert_eq!(init.permissions(), 0o4755);
        assert_eq!(init.symlink_target(), None);
        assert!(!init.is_hardlink_candidate());

        assert!(entries[4].data.is_empty());
        assert_eq!(entries[5].symlink_target(), Some("busybox"));
        assert!(entries.iter().all(|e| e.archive_index == 0));
    }
}

#[test]
fn lower_case_hex_and_ids() {
    let mut m = member("etc/passwd", S_IFREG | 0o640, b"root:x:0:0\n");
    m.uid = 0xabcd;
    m.gid = 0xffff_fffe;
    let mut bytes = Writer::new().add(&m).finish().to_ascii_lowercase();
    bytes = Writer {
        buf: bytes,
        crc: false,
    }
    .trailer()
    .finish();
    let entries = collect(&bytes).unwrap();
    assert_eq!(entries[0].name, "etc/passwd");
    assert_eq!((entries[0].uid, entries[0].gid), (0xabcd, 0xffff_fffe));
}

#[test]
fn kinds_from_mode() {
    assert_eq!(Kind::from_mode(0o060_660), Kind::BlockDev);
    assert_eq!(Kind::from_mode(0o010_644), Kind::Fifo);
    assert_eq!(Kind::from_mode(0o140_755), Kind::Socket);
    assert_eq!(Kind::from_mode(0o070_000), Kind::Unknown(0o070_000));
    assert_eq!(Kind::from_mode(0o644), Kind::Unknown(0));
}

#[test]
fn names_are_normalised() {
    for (raw, expected) in [
        ("/", "."),
        ("./", "."),
        (".", "."),
        ("././a", "a"),
        ("//a/b", "a/b"),
        ("a/./b", "a/./b"),
        ("...", "..."),
        ("a/..b", "a/..b"),
    ] {
        let bytes = Writer::new()
            .add(&member(raw, S_IFDIR, b""))
            .trailer()
            .finish();
        assert_eq!(collect(&bytes).unwrap()[0].name, expected, "{raw:?}");
    }
}

#[test]
fn hardlink_candidates() {
    let mut first = member("a", S_IFREG | 0o644, b"");
    first.nlink = 2;
    first.ino = 9;
    let mut last = member("b", S_IFREG | 0o644, b"shared");
    last.nlink = 2;
    last.ino = 9;
    let mut dir = member("d", S_IFDIR | 0o755, b"");
    dir.nlink = 2;
    let bytes = Writer::new()
        .add(&first)
        .add(&last)
        .add(&dir)
        .trailer()
        .finish();
    let entries = collect(&bytes).unwrap();
    assert!(entries[0].is_hardlink_candidate() && entries[1].is_hardlink_candidate());
    assert!(!entries[2].is_hardlink_candidate());
    assert_eq!(entries[1].data, b"shared");
}

#[test]
fn concatenated_archives_with_zero_padding() {
    let first = Writer::new()
        .add(&member(
            "kernel/x86/microcode/GenuineIntel.bin",
            S_IFREG,
            b"ucode",
        ))
        .trailer()
        .finish();
    let second = sample(true);
    let mut bytes = vec![0; 8];
    bytes.extend_from_slice(&first);
    bytes.extend_from_slice(&[0; 512]);
    bytes.extend_from_slice(&second);
    bytes.extend_from_slice(&[0; 3]);
    let entries = collect(&bytes).unwrap();
    assert_eq!(entries.len(), 7);
    assert_eq!(entries[0].archive_index, 0);
    assert_eq!(entries[0].data, b"ucode");
    assert!(entries[1..].iter().all(|e| e.archive_index == 1));
    assert_eq!(entries[4].name, "init");

    // Back to back, no padding at all.
    let mut bytes = first.clone();
    bytes.extend_from_slice(&first);
    assert_eq!(collect(&bytes).unwrap().len(), 2);

    // Padding that leaves the next archive unaligned.
    let mut bytes = first.clone();
    bytes.extend_from_slice(&[0; 5]);
    bytes.extend_from_slice(&second);
    let at = first.len() + 5;
    assert_eq!(collect(&bytes), Err(Error::BadPadding { offset: at }));

    // Something other than an archive after a trailer (say, gzip).
    let mut bytes = first.clone();
    bytes.extend_from_slice(&[0, 0, 0, 0, 0x1f, 0x8b, 0x08, 0]);
    let at = first.len() + 4;
    let mut it = Archive::new(&bytes).entries();
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.next(), Some(Err(Error::BadMagic { offset: at })));
    assert_eq!(it.offset(), at);
    assert_eq!(it.next(), None);
}

#[test]
fn empty_and_zero_inputs_hold_nothing() {
    assert_eq!(collect(b""), Ok(Vec::new()));
    assert_eq!(collect(&[0; 37]), Ok(Vec::new()));
}

#[test]
fn missing_trailer_is_truncation() {
    let bytes = Writer::new().add(&member("a", S_IFREG, b"x")).finish();
    let mut it = Archive::new(&bytes).entries();
    assert_eq!(it.next().unwrap().unwrap().name, "a");
    assert_eq!(
        it.next(),
        Some(Err(Error::Truncated {
            offset: bytes.len()
        }))
    );
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
}

#[test]
fn every_prefix_is_an_error_or_a_shorter_listing() {
    for crc in [false, true] {
        let bytes = sample(crc);
        let full = collect(&bytes).unwrap();
        for len in 0..bytes.len() {
            let mut seen = Vec::new();
            let mut failed = false;
            for item in Archive::new(&bytes[..len]).entries() {
                assert!(!failed, "item after an error at prefix {len}");
                match item {
                    Ok(entry) => seen.push(entry),
                    Err(Error::Truncated { .. }) => failed = true,
                    Err(e) => panic!("prefix {len}: unexpected {e:?}"),
                }
            }
            assert_eq!(seen[..], full[..seen.len()], "prefix {len}");
            // Empty input holds nothing; otherwise only the trailer's own
            // tail padding may be missing.
            let complete = len == 0 || len > bytes.len() - 4;
            assert!(failed || complete, "prefix {len} read as complete");
        }
    }
}

#[test]
fn bad_magic() {
    assert_eq!(collect(b"070707"), Err(Error::BadMagic { offset: 0 }));
    assert_eq!(collect(b"x"), Err(Error::BadMagic { offset: 0 }));
    assert_eq!(collect(b"0707"), Err(Error::Truncated { offset: 0 }));
    let mut bytes = sample(false);
    bytes[3] = b'8';
    assert_eq!(collect(&bytes), Err(Error::BadMagic { offset: 0 }));
    // The second entry's magic.
    let second = sample(false)
        .windows(6)
        .skip(1)
        .position(|w| w == b"070701")
        .unwrap()
        + 1;
    let mut bytes = sample(false);
    bytes[second + 5] = b'3';
    let mut it = Archive::new(&bytes).entries();
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.next(), Some(Err(Error::BadMagic { offset: second })));
}

#[test]
fn bad_hex() {
    let fields = [
        "c_ino",
        "c_mode",
        "c_uid",
        "c_gid",
        "c_nlink",
        "c_mtime",
        "c_filesize",
    ];
    for (i, field) in fields.into_iter().enumerate() {
        for bad in [b'g', b' ', b'-', b'+', 0] {
            let mut bytes = sample(false);
            let at = 6 + i * 8 + 3;
            bytes[at] = bad;
            assert_eq!(
                collect(&bytes),
                Err(Error::BadHex {
                    offset: 6 + i * 8,
                    field
                }),
                "{field} {bad}"
            );
        }
    }
    let mut bytes = sample(true);
    bytes[6 + 12 * 8] = b'G';
    assert_eq!(
        collect(&bytes),
        Err(Error::BadHex {
            offset: 102,
            field: "c_check"
        })
    );
}

#[test]
fn unsafe_paths() {
    for name in [
        "..",
        "../etc/passwd",
        "a/../../b",
        "/../x",
        "./..",
        "a/..",
        "a//../b",
    ] {
        assert_eq!(
            only_error(&member(name, S_IFREG, b"")),
            Error::UnsafePath,
            "{name}"
        );
    }
}

#[test]
fn bad_names() {
    assert_eq!(only_error(&member("", S_IFREG, b"")), Error::EmptyName);
    let mut m = member("", S_IFREG, b"");
    m.namesize = Some(0);
    assert_eq!(only_error(&m), Error::EmptyName);

    let mut m = member("a\0b", S_IFREG, b"");
    assert_eq!(only_error(&m), Error::NameHasNul);
    m.name = b"ab";
    m.namesize = Some(2); // The NUL falls outside the name field.
    assert_eq!(only_error(&m), Error::NameNotTerminated);

    let mut m = member("", S_IFREG, b"");
    m.name = b"caf\xe9";
    assert_eq!(only_error(&m), Error::NameNotUtf8);

    let long = "x".repeat(MAX_NAME_SIZE);
    assert_eq!(only_error(&member(&long, S_IFREG, b"")), Error::NameTooLong);
    let longest = "x".repeat(MAX_NAME_SIZE - 1);
    let bytes = Writer::new()
        .add(&member(&longest, S_IFREG, b""))
        .trailer()
        .finish();
    assert_eq!(collect(&bytes).unwrap()[0].name, longest);

    let mut m = member("a", S_IFREG, b"");
    m.namesize = Some(u32::MAX);
    assert_eq!(only_error(&m), Error::NameTooLong);
}

#[test]
fn huge_file_size_is_truncation() {
    let bytes = sample(false);
    let mut patched = bytes.clone();
    // First entry is ".", a header at 0 with c_filesize at 54.
    patched[54..62].copy_from_slice(b"FFFFFFFF");
    assert_eq!(collect(&patched), Err(Error::Truncated { offset: 0 }));
}

#[test]
fn checksums() {
    let mut m = member("init", S_IFREG | 0o755, b"\xff\xff\x01");
    let bytes = Writer::crc().add(&m).trailer().finish();
    assert_eq!(collect(&bytes).unwrap()[0].data, b"\xff\xff\x01");

    m.check = Some(0x200);
    let bytes = Writer::crc().add(&m).trailer().finish();
    let mut it = Archive::new(&bytes).entries();
    assert_eq!(it.next(), Some(Err(Error::BadChecksum)));
    assert_eq!(it.offset(), 0);
    assert_eq!(it.next(), None);

    // 070701 ignores c_check; 070702 checks regular files only, as GNU
    // cpio writes 0 for symlinks.
    let mut bytes = Writer::new().add(&m).trailer().finish();
    bytes[102..110].copy_from_slice(b"00000200");
    assert!(collect(&bytes).is_ok());
    let mut link = member("l", S_IFLNK | 0o777, b"target");
    link.check = Some(0);
    assert!(collect(&Writer::crc().add(&link).trailer().finish()).is_ok());
}

#[test]
fn errors_display() {
    let errors = [
        Error::Truncated { offset: 1 },
        Error::BadMagic { offset: 2 },
        Error::BadHex {
            offset: 3,
            field: "c_mode",
        },
        Error::BadPadding { offset: 4 },
        Error::NameTooLong,
        Error::EmptyName,
        Error::NameNotTerminated,
        Error::NameHasNul,
        Error::NameNotUtf8,
        Error::UnsafePath,
        Error::BadChecksum,
    ];
    let texts: Vec<String> = errors.iter().map(|e| format!("{e}")).collect();
    assert!(texts.iter().all(|t| !t.is_empty()));
    assert_eq!(texts[2], "c_mode at offset 3 is not 8 hex digits");
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "ferrite-cpio-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `cpio -o -H <format>` in `dir` on `names`; `None` without `cpio`.
fn run_cpio(dir: &Path, format: &str, names: &[&str]) -> Option<Vec<u8>> {
    let mut child = match Command::new("cpio")
        .args(["-o", "--quiet", "-H", format])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            std::println!("note: skipping, cannot run `cpio`: {e}");
            return None;
        }
    };
    let list: String = names.iter().map(|n| format!("{n}\n")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "cpio failed");
    Some(out.stdout)
}

#[test]
fn reads_gnu_cpio_output() {
    let tmp = TempDir::new("gnu");
    let root = &tmp.0;
    fs::create_dir_all(root.join("etc/init.d")).unwrap();
    fs::write(root.join("init"), b"#!/bin/sh\nexec /bin/sh\n").unwrap();
    fs::write(root.join("etc/empty"), b"").unwrap();
    fs::write(root.join("etc/big"), vec![0xa5u8; 5000]).unwrap();
    fs::hard_link(root.join("etc/big"), root.join("etc/big.link")).unwrap();
    std::os::unix::fs::symlink("../init", root.join("etc/init.d/rcS")).unwrap();
    let listed = [
        ".",
        "./init",
        "./etc",
        "./etc/init.d",
        "./etc/init.d/rcS",
        "./etc/empty",
        "./etc/big",
        "./etc/big.link",
    ];
    for format in ["newc", "crc"] {
        let Some(bytes) = run_cpio(root, format, &listed) else {
            return;
        };
        assert_eq!(bytes.len() % 512, 0, "cpio pads to whole blocks");
        let entries = collect(&bytes).unwrap();
        let mut got = names(&entries);
        got.sort_unstable();
        assert_eq!(
            got,
            [
                ".",
                "etc",
                "etc/big",
                "etc/big.link",
                "etc/empty",
                "etc/init.d",
                "etc/init.d/rcS",
                "init"
            ]
        );
        let find = |name: &str| entries.iter().find(|e| e.name == name).unwrap();
        assert_eq!(find(".").kind(), Kind::Dir);
        assert_eq!(find("etc/init.d").kind(), Kind::Dir);
        assert_eq!(find("init").data, b"#!/bin/sh\nexec /bin/sh\n");
        assert_eq!(find("init").kind(), Kind::File);
        assert!(find("etc/empty").data.is_empty());
        assert_eq!(find("etc/init.d/rcS").symlink_target(), Some("../init"));

        // GNU cpio puts the data on the last name of a hard-linked file.
        let (big, link) = (find("etc/big"), find("etc/big.link"));
        assert!(big.is_hardlink_candidate() && link.is_hardlink_candidate());
        assert_eq!((big.ino, big.nlink), (link.ino, 2));
        let with_data: Vec<_> = [big, link]
            .into_iter()
            .filter(|e| !e.data.is_empty())
            .collect();
        assert_eq!(with_data.len(), 1);
        assert_eq!(with_data[0].data, &[0xa5; 5000][..]);

        // Two tool-made archives back to back, as the kernel may get them.
        let mut twice = bytes.clone();
        twice.extend_from_slice(&bytes);
        let both = collect(&twice).unwrap();
        assert_eq!(both.len(), 2 * entries.len());
        assert_eq!(both.last().unwrap().archive_index, 1);
    }
}

/// Walks `bytes` to the end, checking the iterator's contract.
fn walk(bytes: &[u8]) {
    let mut it = Archive::new(bytes).entries();
    let mut count = 0usize;
    while let Some(item) = it.next() {
        count += 1;
        // Each item consumes at least one header.
        assert!(count <= bytes.len() / 110 + 1, "iteration does not end");
        if let Ok(entry) = item {
            assert!(!entry.name.is_empty() && !entry.name.contains('\0'));
            assert!(!entry.name.split('/').any(|c| c == ".."));
            assert!(!entry.name.starts_with('/'));
        } else {
            assert_eq!(it.next(), None, "error not final");
            break;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        walk(&bytes);
    }

    #[test]
    fn random_headers_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        crc in any::<bool>(),
    ) {
        // Mostly bytes that matter in headers and names, behind a real
        // magic, so that parsing gets past the first checks.
        const ALPHABET: &[u8] = b"0000000070F1/..\0";
        for b in &mut bytes {
            if *b < 224 {
                *b = ALPHABET[usize::from(*b) % ALPHABET.len()];
            }
        }
        let magic: &[u8] = if crc { b"070702" } else { b"070701" };
        let n = bytes.len().min(6);
        bytes[..n].copy_from_slice(&magic[..n]);
        walk(&bytes);
    }

    #[test]
    fn mutated_archives_never_panic(
        crc in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut bytes = sample(crc);
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&sample(!crc));
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if do_cut {
            let len = cut.index(bytes.len());
            bytes.truncate(len);
        }
        walk(&bytes);
    }
}

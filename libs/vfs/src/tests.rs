//! Host tests: every call's success and error paths, a real archive made
//! by the `cpio` tool, and a property test of random namespace changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::vec::Vec;
use std::{format, fs, io::Write as _};

use linux_raw_sys::general as raw;
use proptest::prelude::*;

use crate::node::Body;
use crate::*;

fn root_fs() -> RamFs {
    RamFs::new()
}

/// Creates `path` (from the root) with `kind`, mode 0644/0755.
fn mk(fs: &mut RamFs, path: &str, kind: Kind) -> Result<Ino> {
    let (dir, name) = fs.lookup_parent(fs.root(), path.as_bytes())?;
    let mode = if kind == Kind::Dir { 0o755 } else { 0o644 };
    fs.create(dir, name, kind, mode, 0, 0, 0)
}

fn ln_s(fs: &mut RamFs, target: &str, path: &str) -> Result<Ino> {
    let (dir, name) = fs.lookup_parent(fs.root(), path.as_bytes())?;
    fs.symlink(dir, name, target.as_bytes(), 0, 0)
}

fn lk(fs: &RamFs, path: &str) -> Result<Ino> {
    fs.lookup(fs.root(), path.as_bytes(), true)
}

fn unlink(fs: &mut RamFs, path: &str) -> Result<()> {
    let (dir, name) = fs.lookup_parent(fs.root(), path.as_bytes())?;
    fs.unlink(dir, name)
}

fn rmdir(fs: &mut RamFs, path: &str) -> Result<()> {
    let (dir, name) = fs.lookup_parent(fs.root(), path.as_bytes())?;
    fs.rmdir(dir, name)
}

fn rename(fs: &mut RamFs, old: &str, new: &str) -> Result<()> {
    let (od, on) = fs.lookup_parent(fs.root(), old.as_bytes())?;
    let (nd, nn) = fs.lookup_parent(fs.root(), new.as_bytes())?;
    fs.rename(od, on, nd, nn)
}

fn nlink(fs: &RamFs, ino: Ino) -> u32 {
    fs.stat(ino).unwrap().nlink
}

#[test]
fn errno_values_and_names() {
    assert_eq!(Errno::ENOENT.0, 2);
    assert_eq!(Errno::ELOOP.0, 40);
    assert_eq!(format!("{}", Errno::ENOTEMPTY), "ENOTEMPTY");
    assert_eq!(format!("{:?}", Errno(9999)), "errno 9999");
}

#[test]
fn dev_numbers_round_trip() {
    assert_eq!(encode_dev(8, 1), 0x801);
    assert_eq!(encode_dev(1, 3), 0x103);
    assert_eq!(decode_dev(encode_dev(259, 0x12345)), (259, 0x12345));
}

#[test]
fn root_and_dotdot() {
    let fs = root_fs();
    let root = fs.root();
    let st = fs.stat(root).unwrap();
    assert_eq!(st.mode, raw::S_IFDIR | 0o755);
    assert_eq!((st.nlink, st.uid), (2, 0));
    for p in ["/", "/..", "/../..", ".", "..", "//.//..//", "/./"] {
        assert_eq!(lk(&fs, p), Ok(root), "{p}");
    }
    assert_eq!(lk(&fs, ""), Err(Errno::ENOENT));
    assert_eq!(fs.stat(Ino(999)), Err(Errno::ENOENT));
}

#[test]
fn create_and_lookup_errors() {
    let mut fs = root_fs();
    let d = mk(&mut fs, "/d", Kind::Dir).unwrap();
    let f = mk(&mut fs, "/d/f", Kind::File).unwrap();
    assert_eq!(lk(&fs, "//d///f"), Ok(f));
    assert_eq!(lk(&fs, "d/./f"), Ok(f));
    assert_eq!(lk(&fs, "d/../d/f"), Ok(f));
    assert_eq!(fs.lookup(d, b"f", true), Ok(f));
    assert_eq!(fs.lookup(d, b"..", true), Ok(fs.root()));
    assert_eq!(lk(&fs, "/d/"), Ok(d));
    assert_eq!(lk(&fs, "/d/f/"), Err(Errno::ENOTDIR));
    assert_eq!(lk(&fs, "/d/f/."), Err(Errno::ENOTDIR));
    assert_eq!(lk(&fs, "/d/f/x"), Err(Errno::ENOTDIR));
    assert_eq!(lk(&fs, "/d/x/y"), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(f, b"x", true), Err(Errno::ENOTDIR));
    assert_eq!(mk(&mut fs, "/d/f", Kind::File), Err(Errno::EEXIST));
    assert_eq!(mk(&mut fs, "/d/f", Kind::Dir), Err(Errno::EEXIST));
    assert_eq!(
        fs.create(f, b"x", Kind::File, 0, 0, 0, 0),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(mk(&mut fs, "/d/f/x", Kind::File), Err(Errno::ENOTDIR));
    assert_eq!(
        fs.create(d, b"a/b", Kind::File, 0, 0, 0, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        fs.create(d, b"", Kind::File, 0, 0, 0, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fs.create(d, b"l", Kind::Symlink, 0, 0, 0, 0),
        Err(Errno::EINVAL)
    );

    // Name and path length limits.
    let long = "n".repeat(NAME_MAX);
    mk(&mut fs, &format!("/{long}"), Kind::File).unwrap();
    assert!(lk(&fs, &format!("/{long}")).is_ok());
    let too_long = "n".repeat(NAME_MAX + 1);
    assert_eq!(
        mk(&mut fs, &format!("/{too_long}"), Kind::File),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(lk(&fs, &format!("/{too_long}")), Err(Errno::ENAMETOOLONG));
    assert_eq!(
        fs.create(d, too_long.as_bytes(), Kind::File, 0, 0, 0, 0),
        Err(Errno::ENAMETOOLONG)
    );
    let path = "/".repeat(PATH_MAX - 1);
    assert_eq!(lk(&fs, &path), Ok(fs.root()));
    assert_eq!(lk(&fs, &"/".repeat(PATH_MAX)), Err(Errno::ENAMETOOLONG));
    let deep = "./".repeat(2000) + "d";
    assert_eq!(lk(&fs, &deep), Ok(d));

    // Directory link counts: 2 + subdirectories.
    assert_eq!(nlink(&fs, fs.root()), 3);
    mk(&mut fs, "/d/sub", Kind::Dir).unwrap();
    assert_eq!(nlink(&fs, d), 3);
    assert_eq!(nlink(&fs, f), 1);
}

#[test]
fn node_types_and_stat() {
    let mut fs = root_fs();
    fs.set_now(100, 5);
    let root = fs.root();
    let c = fs
        .create(root, b"null", Kind::CharDev, 0o666, 1, 2, encode_dev(1, 3))
        .unwrap();
    let st = fs.stat(c).unwrap();
    assert_eq!(st.mode, raw::S_IFCHR | 0o666);
    assert_eq!((st.uid, st.gid, st.rdev), (1, 2, 0x103));
    assert_eq!(st.mtime, Timespec { sec: 100, nsec: 5 });
    let p = fs.create(root, b"p", Kind::Fifo, 0o600, 0, 0, 7).unwrap();
    assert_eq!(fs.stat(p).unwrap().rdev, 0);
    assert_eq!(fs.stat(p).unwrap().kind(), Some(Kind::Fifo));
    assert_eq!(fs.read(p, 0, &mut [0; 4]), Err(Errno::EINVAL));
    assert_eq!(fs.stat(root).unwrap().mtime.sec, 100);
    let s = fs
        .create(root, b"s", Kind::Socket, 0o7777 | raw::S_IFREG, 0, 0, 0)
        .unwrap();
    assert_eq!(fs.stat(s).unwrap().mode, raw::S_IFSOCK | 0o7777);
}

#[test]
fn attributes() {
    let mut fs = root_fs();
    let f = mk(&mut fs, "/f", Kind::File).unwrap();
    fs.set_now(50, 0);
    fs.chmod(f, 0o104_755).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!(st.mode, raw::S_IFREG | 0o4755);
    assert_eq!(st.ctime.sec, 50);
    fs.chmod(f, 0o6755).unwrap();
    fs.chown(f, Some(1000), None).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.uid, st.gid, st.mode & 0o7777), (1000, 0, 0o755));
    fs.chown(f, None, Some(7)).unwrap();
    assert_eq!(fs.stat(f).unwrap().gid, 7);
    let t = Timespec { sec: 1, nsec: 2 };
    fs.set_times(f, Some(t), None).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.atime, st.mtime.sec, st.ctime.sec), (t, 0, 50));
    assert_eq!(fs.chmod(Ino(77), 0), Err(Errno::ENOENT));
}

#[test]
fn symlinks() {
    let mut fs = root_fs();
    let a = mk(&mut fs, "/a", Kind::Dir).unwrap();
    let b = mk(&mut fs, "/a/b", Kind::Dir).unwrap();
    let c = mk(&mut fs, "/a/c", Kind::File).unwrap();
    let rel = ln_s(&mut fs, "../c", "/a/b/l").unwrap();
    assert_eq!(lk(&fs, "/a/b/l"), Ok(c));
    assert_eq!(fs.lookup(fs.root(), b"/a/b/l", false), Ok(rel));
    assert_eq!(fs.readlink(rel), Ok(&b"../c"[..]));
    assert_eq!(fs.stat(rel).unwrap().mode, raw::S_IFLNK | 0o777);
    assert_eq!(fs.stat(rel).unwrap().size, 4);
    assert_eq!(fs.readlink(c), Err(Errno::EINVAL));
    // A symlink to a file, used as a directory or with a trailing slash.
    assert_eq!(lk(&fs, "/a/b/l/"), Err(Errno::ENOTDIR));
    assert_eq!(fs.lookup(fs.root(), b"/a/b/l/", false), Err(Errno::ENOTDIR));
    // Absolute, to a directory, in the middle of a path.
    ln_s(&mut fs, "/a", "/abs").unwrap();
    assert_eq!(lk(&fs, "/abs/b/l"), Ok(c));
    assert_eq!(lk(&fs, "abs/"), Ok(a));
    let abs = fs.lookup(fs.root(), b"abs", false).unwrap();
    assert_eq!(fs.readlink(abs), Ok(&b"/a"[..]));
    assert_eq!(fs.lookup(fs.root(), b"abs/", false), Ok(a));
    // `..` after a symlink is the target's parent, not the link's.
    ln_s(&mut fs, "a/b", "/ab").unwrap();
    assert_eq!(lk(&fs, "/ab/.."), Ok(a));
    // Relative symlink target ending in a slash.
    ln_s(&mut fs, "c/", "/a/cs").unwrap();
    assert_eq!(lk(&fs, "/a/cs"), Err(Errno::ENOTDIR));
    ln_s(&mut fs, "b/", "/a/bs").unwrap();
    assert_eq!(lk(&fs, "/a/bs"), Ok(b));
    // Dangling, empty, cycles.
    ln_s(&mut fs, "nowhere", "/dangling").unwrap();
    assert_eq!(lk(&fs, "/dangling"), Err(Errno::ENOENT));
    assert!(fs.lookup(fs.root(), b"/dangling", false).is_ok());
    assert_eq!(ln_s(&mut fs, "", "/empty"), Err(Errno::ENOENT));
    assert_eq!(ln_s(&mut fs, "x", "/a/c"), Err(Errno::EEXIST));
    ln_s(&mut fs, "loop2", "/loop1").unwrap();
    ln_s(&mut fs, "loop1", "/loop2").unwrap();
    assert_eq!(lk(&fs, "/loop1"), Err(Errno::ELOOP));
    assert_eq!(lk(&fs, "/loop1/x"), Err(Errno::ELOOP));
    ln_s(&mut fs, ".", "/self").unwrap();
    assert_eq!(lk(&fs, "/self/self/self/a"), Ok(a));
    assert!(fs.lookup(fs.root(), b"/loop1", false).is_ok());
    // A chain of exactly MAX_SYMLINKS works, one more does not.
    ln_s(&mut fs, "/a/c", "/s0").unwrap();
    for i in 1..=MAX_SYMLINKS {
        ln_s(&mut fs, &format!("s{}", i - 1), &format!("/s{i}")).unwrap();
    }
    assert_eq!(lk(&fs, &format!("/s{}", MAX_SYMLINKS - 1)), Ok(c));
    assert_eq!(lk(&fs, &format!("/s{MAX_SYMLINKS}")), Err(Errno::ELOOP));
    assert_eq!(
        ln_s(&mut fs, &"x".repeat(PATH_MAX), "/big"),
        Err(Errno::ENAMETOOLONG)
    );
}

#[test]
fn lookup_parent_and_special_names() {
    let mut fs = root_fs();
    let root = fs.root();
    let d = mk(&mut fs, "/d", Kind::Dir).unwrap();
    mk(&mut fs, "/d/f", Kind::File).unwrap();
    assert_eq!(fs.lookup_parent(root, b"/"), Ok((root, &b"/"[..])));
    assert_eq!(fs.lookup_parent(root, b"///"), Ok((root, &b"///"[..])));
    assert_eq!(fs.lookup_parent(root, b"/d/x"), Ok((d, &b"x"[..])));
    assert_eq!(fs.lookup_parent(root, b"d//x//"), Ok((d, &b"x//"[..])));
    assert_eq!(fs.lookup_parent(d, b"x"), Ok((d, &b"x"[..])));
    assert_eq!(fs.lookup_parent(d, b"../d/.."), Ok((d, &b".."[..])));
    assert_eq!(fs.lookup_parent(root, b"/d/f/x"), Err(Errno::ENOTDIR));
    assert_eq!(fs.lookup_parent(root, b"/no/x"), Err(Errno::ENOENT));
    assert_eq!(fs.lookup_parent(root, b""), Err(Errno::ENOENT));
    let long = format!("/d/{}", "n".repeat(NAME_MAX + 1));
    assert_eq!(
        fs.lookup_parent(root, long.as_bytes()),
        Err(Errno::ENAMETOOLONG)
    );

    assert_eq!(mk(&mut fs, "/", Kind::Dir), Err(Errno::EEXIST));
    assert_eq!(mk(&mut fs, "/d/.", Kind::Dir), Err(Errno::EEXIST));
    assert_eq!(mk(&mut fs, "/d/..", Kind::Dir), Err(Errno::EEXIST));
    assert_eq!(unlink(&mut fs, "/"), Err(Errno::EISDIR));
    assert_eq!(unlink(&mut fs, "/d/."), Err(Errno::EISDIR));
    assert_eq!(rmdir(&mut fs, "/d/."), Err(Errno::EINVAL));
    assert_eq!(rmdir(&mut fs, "/"), Err(Errno::EINVAL));
    assert_eq!(rmdir(&mut fs, "/d/.."), Err(Errno::ENOTEMPTY));
    assert_eq!(rename(&mut fs, "/", "/x"), Err(Errno::EBUSY));
    assert_eq!(rename(&mut fs, "/d/f", "/d/."), Err(Errno::EBUSY));
    // Trailing slashes.
    let sub = mk(&mut fs, "/d/sub/", Kind::Dir).unwrap();
    assert_eq!(lk(&fs, "/d/sub"), Ok(sub));
    assert_eq!(mk(&mut fs, "/d/new/", Kind::File), Err(Errno::EISDIR));
    assert_eq!(mk(&mut fs, "/d/new/", Kind::Fifo), Err(Errno::ENOENT));
    assert_eq!(mk(&mut fs, "/d/f/", Kind::File), Err(Errno::EEXIST));
    assert_eq!(ln_s(&mut fs, "t", "/d/sl/"), Err(Errno::ENOENT));
    assert_eq!(unlink(&mut fs, "/d/f/"), Err(Errno::ENOTDIR));
    assert_eq!(unlink(&mut fs, "/d/sub/"), Err(Errno::EISDIR));
    rmdir(&mut fs, "/d/sub/").unwrap();
    assert_eq!(lk(&fs, "/d/sub"), Err(Errno::ENOENT));
}

#[test]
fn link_and_unlink() {
    let mut fs = root_fs();
    let root = fs.root();
    let d = mk(&mut fs, "/d", Kind::Dir).unwrap();
    let f = mk(&mut fs, "/f", Kind::File).unwrap();
    fs.link(f, d, b"g").unwrap();
    assert_eq!(lk(&fs, "/d/g"), Ok(f));
    assert_eq!(nlink(&fs, f), 2);
    assert_eq!(fs.link(f, d, b"g"), Err(Errno::EEXIST));
    assert_eq!(fs.link(f, d, b"."), Err(Errno::EEXIST));
    assert_eq!(fs.link(f, d, b"h/"), Err(Errno::ENOENT));
    assert_eq!(fs.link(d, root, b"d2"), Err(Errno::EPERM));
    assert_eq!(fs.link(f, f, b"x"), Err(Errno::ENOTDIR));
    assert_eq!(fs.link(Ino(1234), d, b"x"), Err(Errno::ENOENT));
    assert_eq!(unlink(&mut fs, "/d"), Err(Errno::EISDIR));
    assert_eq!(unlink(&mut fs, "/nope"), Err(Errno::ENOENT));
    assert_eq!(fs.unlink(f, b"x"), Err(Errno::ENOTDIR));
    unlink(&mut fs, "/f").unwrap();
    assert_eq!(nlink(&fs, f), 1);
    assert_eq!(lk(&fs, "/f"), Err(Errno::ENOENT));
    unlink(&mut fs, "/d/g").unwrap();
    assert_eq!(fs.stat(f), Err(Errno::ENOENT));
    assert_eq!(fs.inodes.len(), 2);
    // Symlinks are unlinked, not followed.
    let s = ln_s(&mut fs, "d", "/s").unwrap();
    unlink(&mut fs, "/s").unwrap();
    assert_eq!(fs.stat(s), Err(Errno::ENOENT));
    assert!(lk(&fs, "/d").is_ok());
}

#[test]
fn unlink_while_open() {
    let mut fs = root_fs();
    let f = mk(&mut fs, "/f", Kind::File).unwrap();
    fs.write(f, 0, b"hello").unwrap();
    fs.open_ref(f).unwrap();
    fs.open_ref(f).unwrap();
    unlink(&mut fs, "/f").unwrap();
    assert_eq!(lk(&fs, "/f"), Err(Errno::ENOENT));
    assert_eq!(nlink(&fs, f), 0);
    let mut buf = [0; 8];
    assert_eq!(fs.read(f, 0, &mut buf), Ok(5));
    assert_eq!(fs.write(f, 5, b"!"), Ok(1));
    assert_eq!(fs.link(f, fs.root(), b"back"), Err(Errno::ENOENT));
    assert_eq!(fs.used_bytes(), 4096);
    fs.close_ref(f).unwrap();
    assert!(fs.stat(f).is_ok());
    fs.close_ref(f).unwrap();
    assert_eq!(fs.stat(f), Err(Errno::ENOENT));
    assert_eq!(fs.used_bytes(), 0);
    assert_eq!(fs.close_ref(f), Err(Errno::ENOENT));
    // Closing without a reference.
    let g = mk(&mut fs, "/g", Kind::File).unwrap();
    assert_eq!(fs.close_ref(g), Err(Errno::EBADF));
    // An open reference alone does not free a linked file.
    fs.open_ref(g).unwrap();
    fs.close_ref(g).unwrap();
    assert!(fs.stat(g).is_ok());
}

#[test]
fn rmdir_rules() {
    let mut fs = root_fs();
    let root = fs.root();
    let d = mk(&mut fs, "/d", Kind::Dir).unwrap();
    let e = mk(&mut fs, "/d/e", Kind::Dir).unwrap();
    mk(&mut fs, "/f", Kind::File).unwrap();
    assert_eq!(nlink(&fs, root), 3);
    assert_eq!(rmdir(&mut fs, "/d"), Err(Errno::ENOTEMPTY));
    assert_eq!(rmdir(&mut fs, "/f"), Err(Errno::ENOTDIR));
    assert_eq!(rmdir(&mut fs, "/x"), Err(Errno::ENOENT));
    // A removed directory still open (a cwd): no new entries, no listing.
    fs.open_ref(e).unwrap();
    rmdir(&mut fs, "/d/e").unwrap();
    assert_eq!(nlink(&fs, d), 2);
    assert_eq!(nlink(&fs, e), 0);
    assert_eq!(
        fs.create(e, b"x", Kind::File, 0, 0, 0, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(fs.read_dir(e, 0), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(e, b"x", true), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(e, b"..", true), Ok(d));
    fs.close_ref(e).unwrap();
    assert_eq!(fs.stat(e), Err(Errno::ENOENT));
    rmdir(&mut fs, "/d").unwrap();
    assert_eq!(nlink(&fs, root), 2);
    assert_eq!(fs.inodes.len(), 2);
}

#[test]
fn rename_rules() {
    let mut fs = root_fs();
    let root = fs.root();
    let a = mk(&mut fs, "/a", Kind::Dir).unwrap();
    let b = mk(&mut fs, "/a/b", Kind::Dir).unwrap();
    let c = mk(&mut fs, "/a/b/c", Kind::Dir).unwrap();
    let f = mk(&mut fs, "/f", Kind::File).unwrap();
    let g = mk(&mut fs, "/g", Kind::File).unwrap();
    let empty = mk(&mut fs, "/empty", Kind::Dir).unwrap();

    assert_eq!(rename(&mut fs, "/nope", "/x"), Err(Errno::ENOENT));
    assert_eq!(rename(&mut fs, "/a", "/a/b/c/x"), Err(Errno::EINVAL));
    assert_eq!(rename(&mut fs, "/a", "/a/x"), Err(Errno::EINVAL));
    assert_eq!(rename(&mut fs, "/a/b/c", "/a"), Err(Errno::ENOTEMPTY));
    assert_eq!(rename(&mut fs, "/a", "/f"), Err(Errno::ENOTDIR));
    assert_eq!(rename(&mut fs, "/f", "/a"), Err(Errno::EISDIR));
    assert_eq!(rename(&mut fs, "/empty", "/a"), Err(Errno::ENOTEMPTY));
    assert_eq!(rename(&mut fs, "/f/", "/h"), Err(Errno::ENOTDIR));
    assert_eq!(rename(&mut fs, "/f", "/h/"), Err(Errno::ENOTDIR));
    assert_eq!(fs.rename(f, b"x", root, b"y"), Err(Errno::ENOTDIR));

    // Onto itself and onto another name of the same inode: nothing happens.
    rename(&mut fs, "/a", "/a").unwrap();
    fs.link(f, root, b"f2").unwrap();
    rename(&mut fs, "/f", "/f2").unwrap();
    assert_eq!((lk(&fs, "/f"), lk(&fs, "/f2")), (Ok(f), Ok(f)));
    unlink(&mut fs, "/f2").unwrap();

    // A file replacing a file frees the old one.
    fs.write(g, 0, b"gg").unwrap();
    rename(&mut fs, "/f", "/g").unwrap();
    assert_eq!(lk(&fs, "/g"), Ok(f));
    assert_eq!(lk(&fs, "/f"), Err(Errno::ENOENT));
    assert_eq!(fs.stat(g), Err(Errno::ENOENT));
    assert_eq!(fs.used_bytes(), 0);

    // A directory moving between parents carries its `..` link.
    rename(&mut fs, "/a/b/c", "/c2").unwrap();
    assert_eq!(fs.lookup(c, b"..", true), Ok(root));
    assert_eq!((nlink(&fs, b), nlink(&fs, root)), (2, 5));
    // A directory replacing an empty directory elsewhere.
    rename(&mut fs, "/c2", "/a/b/").unwrap();
    assert_eq!(lk(&fs, "/a/b"), Ok(c));
    assert_eq!(fs.stat(b), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(c, b"..", true), Ok(a));
    assert_eq!((nlink(&fs, a), nlink(&fs, root)), (3, 4));
    // ... and within the same directory.
    rename(&mut fs, "/a", "/empty").unwrap();
    assert_eq!(fs.stat(empty), Err(Errno::ENOENT));
    assert_eq!(nlink(&fs, root), 3);
    assert_eq!(lk(&fs, "/empty/b"), Ok(c));
    // Renaming within one directory keeps its link count.
    rename(&mut fs, "/empty/b", "/empty/bb").unwrap();
    assert_eq!(nlink(&fs, a), 3);
    // A symlink is renamed, not followed.
    let s = ln_s(&mut fs, "empty", "/s").unwrap();
    rename(&mut fs, "/s", "/s2").unwrap();
    assert_eq!(fs.lookup(root, b"/s2", false), Ok(s));
    // Into a removed directory.
    let gone = mk(&mut fs, "/gone", Kind::Dir).unwrap();
    fs.open_ref(gone).unwrap();
    rmdir(&mut fs, "/gone").unwrap();
    assert_eq!(fs.rename(root, b"g", gone, b"g"), Err(Errno::ENOENT));
}

#[test]
fn file_data() {
    let mut fs = root_fs();
    let f = mk(&mut fs, "/f", Kind::File).unwrap();
    let d = mk(&mut fs, "/d", Kind::Dir).unwrap();
    let s = ln_s(&mut fs, "f", "/s").unwrap();
    fs.set_now(9, 0);
    assert_eq!(fs.write(f, 10, b"hello"), Ok(5));
    let st = fs.stat(f).unwrap();
    // Like Linux tmpfs: whole 4 KiB pages, counted in 512-byte blocks.
    assert_eq!((st.size, st.blocks, st.mtime.sec), (15, 8, 9));
    let mut buf = [0xff; 32];
    assert_eq!(fs.read(f, 0, &mut buf), Ok(15));
    assert_eq!(&buf[..15], b"\0\0\0\0\0\0\0\0\0\0hello");
    assert_eq!(fs.read(f, 12, &mut buf[..2]), Ok(2));
    assert_eq!(&buf[..2], b"ll");
    assert_eq!(fs.read(f, 15, &mut buf), Ok(0));
    assert_eq!(fs.read(f, u64::MAX, &mut buf), Ok(0));
    assert_eq!(fs.write(f, 0, b""), Ok(0));
    assert_eq!(fs.write(f, u64::MAX, b""), Ok(0));
    assert_eq!(fs.write(f, 0, b"HE"), Ok(2));
    assert_eq!(fs.file_bytes(f).unwrap(), b"HE\0\0\0\0\0\0\0\0hello");
    // Across the end: the old bytes are overwritten, the rest appended.
    assert_eq!(fs.write(f, 13, b"LOWORLD"), Ok(7));
    assert_eq!(fs.file_bytes(f).unwrap(), b"HE\0\0\0\0\0\0\0\0helLOWORLD");
    assert_eq!(fs.write(f, 20, b"!"), Ok(1));
    assert_eq!(fs.file_bytes(f).unwrap(), b"HE\0\0\0\0\0\0\0\0helLOWORLD!");
    fs.truncate(f, 15).unwrap();
    // Wrong types.
    assert_eq!(fs.read(d, 0, &mut buf), Err(Errno::EISDIR));
    assert_eq!(fs.write(d, 0, b"x"), Err(Errno::EISDIR));
    assert_eq!(fs.truncate(d, 0), Err(Errno::EISDIR));
    assert_eq!(fs.write(s, 0, b"x"), Err(Errno::EINVAL));
    assert_eq!(fs.file_bytes(s), Err(Errno::EINVAL));
    assert_eq!(fs.read(Ino(999), 0, &mut buf), Err(Errno::ENOENT));
    // Size limit.
    assert_eq!(fs.write(f, MAX_FILE_SIZE, b"x"), Err(Errno::EFBIG));
    assert_eq!(fs.write(f, u64::MAX, b"x"), Err(Errno::EFBIG));
    assert_eq!(fs.truncate(f, MAX_FILE_SIZE + 1), Err(Errno::EFBIG));
    // Truncation.
    fs.truncate(f, 3).unwrap();
    assert_eq!(fs.file_bytes(f).unwrap(), b"HE\0");
    fs.truncate(f, 6).unwrap();
    assert_eq!(fs.file_bytes(f).unwrap(), b"HE\0\0\0\0");
    assert_eq!(fs.used_bytes(), 4096);
    fs.truncate(f, 0).unwrap();
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn capacity_limit() {
    let mut fs = root_fs();
    let f = mk(&mut fs, "/f", Kind::File).unwrap();
    let g = mk(&mut fs, "/g", Kind::File).unwrap();
    // Capacity counts whole pages, as tmpfs's size=.
    fs.set_capacity(Some(2 * 4096));
    assert_eq!(fs.write(f, 0, &[1; 5000]), Ok(5000));
    assert_eq!(fs.used_bytes(), 2 * 4096);
    assert_eq!(fs.write(g, 0, &[2; 30]), Err(Errno::ENOSPC));
    // A write needing one more page fails whole, even if it starts in a
    // page the file has.
    assert_eq!(fs.write(f, 8000, &[3; 400]), Err(Errno::ENOSPC));
    // Growing by truncate makes a hole: no page, no ENOSPC.
    assert_eq!(fs.truncate(f, 1 << 20), Ok(()));
    assert_eq!(fs.stat(f).unwrap().blocks, 16);
    assert_eq!(fs.write(f, 100_000, b"x"), Err(Errno::ENOSPC));
    assert_eq!(fs.page_for_map(f, 100).err(), Some(Errno::ENOSPC));
    fs.truncate(f, 5000).unwrap();
    assert_eq!(fs.file_bytes(f).unwrap(), &[1; 5000][..]);
    assert_eq!(fs.file_bytes(g).unwrap(), b"");
    assert_eq!(fs.write(f, 5000, &[3; 3192]), Ok(3192));
    assert_eq!(fs.used_bytes(), 2 * 4096);
    // Lowering the limit keeps the data; shrinking still works.
    fs.set_capacity(Some(10));
    assert_eq!(fs.file_bytes(f).unwrap().len(), 8192);
    fs.truncate(f, 50).unwrap();
    assert_eq!(fs.used_bytes(), 4096);
    assert_eq!(fs.write(g, 0, b"x"), Err(Errno::ENOSPC));
    unlink(&mut fs, "/f").unwrap();
    assert_eq!(fs.used_bytes(), 0);
    fs.set_capacity(Some(4096));
    assert_eq!(fs.write(g, 0, b"x"), Ok(1));
    fs.set_capacity(None);
    assert_eq!(fs.write(g, 0, &[0; 10000]), Ok(10000));
    assert_eq!(fs.used_bytes(), 3 * 4096);
}

/// All entries of `dir`, by reading with cookies.
fn list(fs: &RamFs, dir: Ino) -> Vec<DirEntry> {
    let mut out = Vec::new();
    let mut cookie = 0;
    while let Some((next, entry)) = fs.read_dir(dir, cookie).unwrap() {
        assert!(next > cookie);
        out.push(entry);
        cookie = next;
    }
    out
}

#[test]
fn read_dir_basics() {
    let mut fs = root_fs();
    let root = fs.root();
    let d = mk(&mut fs, "/d", Kind::Dir).unwrap();
    let f = mk(&mut fs, "/d/f", Kind::File).unwrap();
    ln_s(&mut fs, "f", "/d/l").unwrap();
    let entries = list(&fs, d);
    let names: Vec<&[u8]> = entries.iter().map(|e| &e.name[..]).collect();
    assert_eq!(names, [&b"."[..], b"..", b"f", b"l"]);
    assert_eq!(entries[0].ino, d);
    assert_eq!(entries[1].ino, root);
    assert_eq!((entries[2].ino, entries[2].kind), (f, Kind::File));
    assert_eq!(entries[3].kind, Kind::Symlink);
    assert_eq!(list(&fs, root)[1].ino, root);
    assert_eq!(fs.read_dir(d, u64::MAX), Ok(None));
    assert_eq!(fs.read_dir(d, 12345), Ok(None));
    assert_eq!(fs.read_dir(f, 0), Err(Errno::ENOTDIR));
    assert_eq!(fs.stat(d).unwrap().size, 80);
    assert_eq!(Kind::Dir.dirent_type(), 4);
}

#[test]
fn read_dir_cookies_survive_changes() {
    let mut fs = root_fs();
    let root = fs.root();
    for i in 0..20 {
        mk(&mut fs, &format!("/n{i:02}"), Kind::File).unwrap();
    }
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut cookie = 0;
    let mut step = 0;
    while let Some((next, entry)) = fs.read_dir(root, cookie).unwrap() {
        seen.push(entry.name);
        cookie = next;
        step += 1;
        // Meanwhile: remove seen and unseen entries, add new ones, and
        // replace an unseen one by rename.
        if step == 6 {
            unlink(&mut fs, "/n01").unwrap();
            unlink(&mut fs, "/n15").unwrap();
            mk(&mut fs, "/a-new", Kind::File).unwrap();
            mk(&mut fs, "/z-new", Kind::File).unwrap();
            rename(&mut fs, "/n16", "/n17").unwrap();
        }
    }
    let count = |name: &str| seen.iter().filter(|n| n[..] == *name.as_bytes()).count();
    for i in 0..20 {
        let name = format!("n{i:02}");
        match i {
            1 => assert_eq!(count(&name), 1, "{name}: seen before its removal"),
            15 | 16 => assert_eq!(count(&name), 0, "{name}"),
            _ => assert!(count(&name) <= 1, "{name} seen twice"),
        }
    }
    for i in (0..20).filter(|i| ![1, 15, 16, 17].contains(i)) {
        assert_eq!(count(&format!("n{i:02}")), 1);
    }
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
}

/// A caller with uid `uid`, gid `gid` and supplementary `groups`.
fn who(uid: u32, gid: u32, groups: &[u32]) -> Cred {
    let mut c = Cred::root();
    c.setgroups(groups).unwrap();
    c.setresgid(gid, gid, gid).unwrap();
    c.setresuid(uid, uid, uid).unwrap();
    c
}

#[test]
fn permissions() {
    let st = |mode, uid, gid| Attr { mode, uid, gid };
    let ok = |a: &Attr, uid, gid, groups: &[u32], want| permission(a, &who(uid, gid, groups), want).is_ok();
    let rw = Access {
        read: true,
        write: true,
        exec: false,
    };
    let file = st(raw::S_IFREG | 0o640, 1000, 100);
    assert!(ok(&file, 1000, 1, &[], rw));
    assert!(!ok(&file, 1000, 1, &[], Access::EXEC));
    assert!(ok(&file, 1001, 100, &[], Access::READ));
    assert!(!ok(&file, 1001, 100, &[], Access::WRITE));
    assert!(ok(&file, 1001, 5, &[7, 100], Access::READ));
    assert!(!ok(&file, 1001, 5, &[7], Access::READ));
    assert!(ok(&file, 1001, 5, &[], Access::default()));
    assert_eq!(permission(&file, &who(1001, 5, &[]), Access::READ), Err(Errno::EACCES));
    // The owner class applies even when it grants less than the others.
    let odd = st(raw::S_IFREG | 0o047, 1000, 100);
    assert!(!ok(&odd, 1000, 100, &[], Access::READ));
    assert!(ok(&odd, 1001, 100, &[], Access::READ));
    assert!(ok(&odd, 1001, 1, &[], rw));
    // Root: read/write always, execute only with some x bit or on a dir.
    assert!(ok(&st(raw::S_IFREG, 5, 5), 0, 0, &[], rw));
    assert!(!ok(&st(raw::S_IFREG | 0o666, 5, 5), 0, 0, &[], Access::EXEC));
    assert!(ok(&st(raw::S_IFREG | 0o001, 5, 5), 0, 0, &[], Access::EXEC));
    assert!(ok(&st(raw::S_IFDIR, 5, 5), 0, 0, &[], Access::EXEC));
    assert!(ok(&st(raw::S_IFDIR, 5, 5), 0, 0, &[], Access::WRITE_EXEC));
    // Root with another fsuid has no override.
    let mut fs_user = Cred::root();
    fs_user.setfsuid(7);
    assert!(permission(&st(raw::S_IFREG | 0o600, 5, 5), &fs_user, Access::READ).is_err());
}

#[test]
fn chmod_chown_times_rules() {
    let f = Attr { mode: raw::S_IFREG | 0o644, uid: 1000, gid: 1000 };
    let owner = who(1000, 1000, &[50]);
    let other = who(1001, 1000, &[]);
    assert_eq!(perm::chmod_mode(&f, &other, 0o777), Err(Errno::EPERM));
    assert_eq!(perm::chmod_mode(&f, &owner, 0o2755), Ok(0o2755));
    // Not in the file's group: S_ISGID is dropped silently.
    let g = Attr { gid: 77, ..f };
    assert_eq!(perm::chmod_mode(&g, &owner, 0o2755), Ok(0o755));
    assert_eq!(perm::chmod_mode(&g, &Cred::root(), 0o2755), Ok(0o2755));
    // chown: owner only to itself, group only to its own groups.
    assert_eq!(perm::may_chown(&f, &owner, Some(0), None), Err(Errno::EPERM));
    assert_eq!(perm::may_chown(&f, &owner, Some(1000), None), Ok(()));
    assert_eq!(perm::may_chown(&f, &owner, None, Some(50)), Ok(()));
    assert_eq!(perm::may_chown(&f, &owner, None, Some(51)), Err(Errno::EPERM));
    assert_eq!(perm::may_chown(&f, &other, None, Some(1000)), Err(Errno::EPERM));
    assert_eq!(perm::may_chown(&f, &other, None, None), Ok(()));
    assert_eq!(perm::may_chown(&f, &Cred::root(), Some(3), Some(4)), Ok(()));
    // utimensat: explicit times need the owner; "now" also write access.
    let w = Attr { mode: raw::S_IFREG | 0o666, ..f };
    assert_eq!(perm::may_set_times(&w, &other, true), Err(Errno::EPERM));
    assert_eq!(perm::may_set_times(&w, &other, false), Ok(()));
    assert_eq!(perm::may_set_times(&f, &other, false), Err(Errno::EACCES));
    assert_eq!(perm::may_set_times(&f, &owner, true), Ok(()));
}

#[test]
fn new_files_belong_to_the_caller_or_the_setgid_dir() {
    let c = who(1000, 1000, &[]);
    let plain = Attr { mode: raw::S_IFDIR | 0o777, uid: 0, gid: 0 };
    assert_eq!(perm::new_owner(&plain, &c, Kind::File, 0o644), (1000, 1000, 0o644));
    let sgid = Attr { mode: raw::S_IFDIR | 0o2777, uid: 0, gid: 40 };
    assert_eq!(perm::new_owner(&sgid, &c, Kind::Dir, 0o755), (1000, 40, 0o2755));
    assert_eq!(perm::new_owner(&sgid, &c, Kind::File, 0o2755), (1000, 40, 0o755));
    assert_eq!(perm::new_owner(&sgid, &Cred::root(), Kind::File, 0o2755), (0, 40, 0o2755));
}

#[test]
fn checked_namespace_operations() {
    let mut fs = RamFs::new();
    let root = fs.root();
    let user = who(1000, 1000, &[]);
    let other = who(1001, 1001, &[]);
    let r = Cred::root();
    // /secret 0700 root, /open 0755 root, /tmp 1777 root
    let secret = fs.create_as(&r, root, b"secret", Kind::Dir, 0o700, 0).unwrap();
    fs.create_as(&r, secret, b"f", Kind::File, 0o644, 0).unwrap();
    let open = fs.create_as(&r, root, b"open", Kind::Dir, 0o755, 0).unwrap();
    let tmp = fs.create_as(&r, root, b"tmp", Kind::Dir, 0o1777, 0).unwrap();
    fs.create_as(&r, tmp, b"rootfile", Kind::File, 0o644, 0).unwrap();

    // Search permission on every directory walked.
    assert_eq!(fs.lookup_as(&user, root, b"/secret/f", true), Err(Errno::EACCES));
    assert_eq!(fs.lookup_as(&user, root, b"/secret/missing", true), Err(Errno::EACCES));
    assert_eq!(fs.lookup_as(&user, root, b"/secret", true), Ok(secret));
    assert!(fs.lookup_as(&r, root, b"/secret/f", true).is_ok());
    assert_eq!(fs.lookup_as(&user, secret, b"f", true), Err(Errno::EACCES));
    assert_eq!(fs.lookup_as(&user, secret, b"..", true), Err(Errno::EACCES));
    assert_eq!(fs.lookup_parent_as(&user, root, b"/secret/new").map(|p| p.0), Err(Errno::EACCES));
    assert_eq!(fs.lookup_parent_as(&user, secret, b"new").map(|p| p.0), Err(Errno::EACCES));
    assert_eq!(fs.lookup_parent_as(&user, root, b"/").map(|p| p.0), Ok(root));

    // Creating needs w+x on the parent; EEXIST comes first.
    assert_eq!(fs.create_as(&user, open, b"x", Kind::File, 0o644, 0), Err(Errno::EACCES));
    assert_eq!(fs.create_as(&user, root, b"open", Kind::Dir, 0o755, 0), Err(Errno::EEXIST));
    let mine = fs.create_as(&user, tmp, b"mine", Kind::File, 0o644, 0).unwrap();
    let st = fs.stat(mine).unwrap();
    assert_eq!((st.uid, st.gid), (1000, 1000));
    assert_eq!(fs.symlink_as(&user, open, b"l", b"x"), Err(Errno::EACCES));
    assert_eq!(fs.link_as(&user, mine, open, b"h"), Err(Errno::EACCES));

    // Sticky /tmp: only the file's owner (or the dir's, or root) removes it.
    assert_eq!(fs.unlink_as(&user, tmp, b"rootfile"), Err(Errno::EPERM));
    assert_eq!(fs.rename_as(&user, tmp, b"rootfile", tmp, b"z"), Err(Errno::EPERM));
    assert_eq!(fs.unlink_as(&other, tmp, b"mine"), Err(Errno::EPERM));
    assert_eq!(fs.rename_as(&user, tmp, b"mine", tmp, b"rootfile"), Err(Errno::EPERM));
    fs.rename_as(&user, tmp, b"mine", tmp, b"mine2").unwrap();
    fs.unlink_as(&user, tmp, b"mine2").unwrap();
    assert_eq!(fs.unlink_as(&user, tmp, b"mine2"), Err(Errno::ENOENT));
    assert_eq!(fs.unlink_as(&user, open, b"nothing"), Err(Errno::ENOENT));
    // Non-sticky but not writable: EACCES, also for rmdir and rename.
    let sub = fs.create_as(&r, open, b"sub", Kind::Dir, 0o777, 0).unwrap();
    assert_eq!(fs.rmdir_as(&user, open, b"sub"), Err(Errno::EACCES));
    assert_eq!(fs.rename_as(&user, open, b"sub", tmp, b"sub"), Err(Errno::EACCES));
    fs.unlink_as(&r, tmp, b"rootfile").unwrap();
    // Moving a directory to another parent needs write on it.
    let d = fs.create_as(&r, tmp, b"ro", Kind::Dir, 0o555, 0).unwrap();
    fs.chown(d, Some(1000), None).unwrap();
    assert_eq!(fs.rename_as(&user, tmp, b"ro", sub, b"ro"), Err(Errno::EACCES));
    fs.chmod_as(&user, d, 0o755).unwrap();
    fs.rename_as(&user, tmp, b"ro", sub, b"ro").unwrap();
    assert_eq!(fs.chmod_as(&user, sub, 0o777), Err(Errno::EPERM));
    assert_eq!(fs.chown_as(&user, d, Some(0), None), Err(Errno::EPERM));
    // truncate needs write permission.
    let f = fs.lookup(root, b"/secret/f", true).unwrap();
    assert_eq!(fs.truncate_as(&user, f, 0), Err(Errno::EACCES));
    assert_eq!(fs.truncate_as(&r, secret, 0), Err(Errno::EISDIR));
    fs.truncate_as(&r, f, 0).unwrap();
    // Writing (here: truncating) as a non-root user drops set-user-ID.
    fs.chmod(f, 0o6777).unwrap();
    assert!(fs.has_privs(f));
    fs.truncate_as(&r, f, 0).unwrap();
    assert_eq!(fs.attr(f).unwrap().mode & 0o7777, 0o6777);
    fs.remove_privs_as(&user, f).unwrap();
    assert_eq!(fs.attr(f).unwrap().mode & 0o7777, 0o777);
    assert!(!fs.has_privs(f));
    fs.chmod(f, 0o2666).unwrap(); // S_ISGID without group x: kept
    assert!(!fs.has_privs(f));
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("vfs-test-{tag}-{}", std::process::id()));
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

/// Archives the tree under `dir` with `find . | cpio -o -H newc`, or
/// `None` if there is no `cpio`.
fn cpio_archive(dir: &std::path::Path) -> Option<Vec<u8>> {
    let names = Command::new("find")
        .arg(".")
        .current_dir(dir)
        .output()
        .ok()?;
    let mut child = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(&names.stdout).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(out.status.success());
    Some(out.stdout)
}

#[test]
fn unpack_real_archive() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let tmp = TempDir::new("unpack");
    let t = &tmp.0;
    fs::create_dir_all(t.join("bin")).unwrap();
    fs::create_dir_all(t.join("etc/init.d")).unwrap();
    fs::write(t.join("bin/busybox"), b"\x7fELF fake").unwrap();
    fs::set_permissions(t.join("bin/busybox"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::hard_link(t.join("bin/busybox"), t.join("bin/sh")).unwrap();
    fs::hard_link(t.join("bin/busybox"), t.join("etc/init.d/rcS")).unwrap();
    fs::write(t.join("etc/hostname"), b"ferrite\n").unwrap();
    fs::write(t.join("etc/empty"), b"").unwrap();
    symlink("busybox", t.join("bin/ls")).unwrap();
    symlink("/bin/busybox", t.join("init")).unwrap();
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    fs::File::open(t.join("etc"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let Some(archive) = cpio_archive(t) else {
        std::eprintln!("note: `cpio` not found; unpack_real_archive skipped");
        return;
    };

    let mut vfs = RamFs::new();
    vfs.set_now(2_000_000_000, 0);
    let count = vfs.unpack_cpio(&archive).unwrap();
    assert_eq!(count, 11); // ".", 3 dirs, 5 files/links, 2 symlinks
    let bb = lk(&vfs, "/bin/busybox").unwrap();
    assert_eq!(vfs.file_bytes(bb).unwrap(), b"\x7fELF fake");
    assert_eq!(lk(&vfs, "/bin/sh"), Ok(bb));
    assert_eq!(lk(&vfs, "/etc/init.d/rcS"), Ok(bb));
    assert_eq!(lk(&vfs, "/init"), Ok(bb));
    assert_eq!(lk(&vfs, "/bin/ls"), Ok(bb));
    let st = vfs.stat(bb).unwrap();
    assert_eq!((st.nlink, st.mode), (3, raw::S_IFREG | 0o755));
    let host = fs::metadata(t.join("bin/busybox")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((st.uid, st.gid), (host.uid(), host.gid()));
    assert_eq!(st.mtime.sec, host.mtime());
    let hostname = lk(&vfs, "/etc/hostname").unwrap();
    assert_eq!(vfs.file_bytes(hostname).unwrap(), b"ferrite\n");
    assert_eq!(
        vfs.file_bytes(lk(&vfs, "/etc/empty").unwrap()).unwrap(),
        b""
    );
    let init = vfs.lookup(vfs.root(), b"/init", false).unwrap();
    assert_eq!(vfs.readlink(init).unwrap(), b"/bin/busybox");
    // Directory mtimes are set after their entries were added.
    assert_eq!(
        vfs.stat(lk(&vfs, "/etc").unwrap()).unwrap().mtime.sec,
        1_600_000_000
    );
    assert_eq!(nlink(&vfs, vfs.root()), 4);
    assert_eq!(vfs.used_bytes(), 2 * 4096);

    // Unpacking again replaces files, keeps directories.
    let etc = lk(&vfs, "/etc").unwrap();
    vfs.unpack_cpio(&archive).unwrap();
    assert_eq!(lk(&vfs, "/etc"), Ok(etc));
    assert_ne!(lk(&vfs, "/etc/hostname"), Ok(hostname));
    assert_eq!(vfs.stat(lk(&vfs, "/bin/sh").unwrap()).unwrap().nlink, 3);
    assert_eq!(vfs.used_bytes(), 2 * 4096);

    // A truncated archive: the entries before the cut stay.
    let mut vfs = RamFs::new();
    let cut = archive.len() / 2;
    match vfs.unpack_cpio(&archive[..cut]) {
        Err(UnpackError::Archive {
            offset,
            error: cpio::Error::Truncated { .. },
        }) => {
            assert!(offset < cut);
        }
        other => panic!("{other:?}"),
    }
    assert!(vfs.inodes.len() > 1);
    let err = vfs.unpack_cpio(b"garbage!").unwrap_err();
    assert!(
        matches!(err, UnpackError::Archive { offset: 0, .. }),
        "{err}"
    );
    assert_eq!(RamFs::new().unpack_cpio(&[]), Ok(0));
}

/// Minimal newc writer for hand-made entries.
fn newc(entries: &[(&str, u32, &[u8], u32, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |name: &str, mode: u32, data: &[u8], ino: u32, nlink: u32| {
        let fields = [
            ino,
            mode,
            0,
            0,
            nlink,
            7,
            data.len() as u32,
            0,
            0,
            1,
            2,
            name.len() as u32 + 1,
            0,
        ];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for &(name, mode, data, ino, nlink) in entries {
        put(name, mode, data, ino, nlink);
    }
    put("TRAILER!!!", 0, b"", 0, 1);
    out
}

#[test]
fn unpack_hand_made() {
    let mut fs = RamFs::new();
    let archive = newc(&[
        ("a/b/file", raw::S_IFREG | 0o600, b"x", 1, 1),
        ("dev/console", raw::S_IFCHR | 0o600, b"", 2, 1),
        ("fifo", raw::S_IFIFO | 0o644, b"", 3, 1),
        ("weird", 0o170_000 | 0o644, b"", 4, 1),
        ("a/b", raw::S_IFDIR | 0o700, b"", 5, 2),
        ("h1", raw::S_IFREG | 0o644, b"", 6, 2),
        ("h2", raw::S_IFREG | 0o644, b"data", 6, 2),
        ("fifo", raw::S_IFDIR | 0o755, b"", 7, 2),
    ]);
    assert_eq!(fs.unpack_cpio(&archive), Ok(7));
    assert_eq!(lk(&fs, "/weird"), Err(Errno::ENOENT));
    let ab = lk(&fs, "/a/b").unwrap();
    assert_eq!(fs.stat(ab).unwrap().mode, raw::S_IFDIR | 0o700);
    assert_eq!(
        fs.stat(lk(&fs, "/a").unwrap()).unwrap().mode,
        raw::S_IFDIR | 0o755
    );
    assert_eq!(fs.file_bytes(lk(&fs, "/a/b/file").unwrap()).unwrap(), b"x");
    let console = fs.stat(lk(&fs, "/dev/console").unwrap()).unwrap();
    assert_eq!(console.mode, raw::S_IFCHR | 0o600);
    assert_eq!(console.rdev, encode_dev(1, 2));
    assert_eq!(
        fs.stat(lk(&fs, "/fifo").unwrap()).unwrap().kind(),
        Some(Kind::Dir)
    );
    let h1 = lk(&fs, "/h1").unwrap();
    assert_eq!(lk(&fs, "/h2"), Ok(h1));
    assert_eq!(fs.file_bytes(h1).unwrap(), b"data");

    // A file over a non-empty directory fails there; earlier entries stay.
    let archive = newc(&[
        ("new", raw::S_IFREG | 0o644, b"", 1, 1),
        ("a", raw::S_IFREG | 0o644, b"", 2, 1),
    ]);
    let err = fs.unpack_cpio(&archive).unwrap_err();
    assert_eq!(
        err,
        UnpackError::Fs {
            offset: 116,
            errno: Errno::ENOTEMPTY
        }
    );
    assert!(lk(&fs, "/new").is_ok());
    // A file path through a file.
    let archive = newc(&[("new/x", raw::S_IFREG | 0o644, b"", 1, 1)]);
    let err = fs.unpack_cpio(&archive).unwrap_err();
    assert!(
        matches!(
            err,
            UnpackError::Fs {
                offset: 0,
                errno: Errno::ENOTDIR
            }
        ),
        "{err}"
    );
    // The root's own entry.
    let archive = newc(&[(".", raw::S_IFDIR | 0o700, b"", 1, 2)]);
    assert_eq!(fs.unpack_cpio(&archive), Ok(1));
    assert_eq!(fs.stat(fs.root()).unwrap().mode, raw::S_IFDIR | 0o700);
    let archive = newc(&[(".", raw::S_IFREG | 0o700, b"", 1, 1)]);
    assert!(fs.unpack_cpio(&archive).is_err());
    // Capacity exhausted while unpacking.
    let mut small = RamFs::new();
    small.set_capacity(Some(4095));
    let archive = newc(&[("big", raw::S_IFREG | 0o644, b"abc", 1, 1)]);
    assert!(matches!(
        small.unpack_cpio(&archive),
        Err(UnpackError::Fs {
            errno: Errno::ENOSPC,
            ..
        })
    ));
}

/// Checks the tree's invariants: `..` of every directory is its parent,
/// directory link counts are 2 + subdirectories, file link counts match
/// their names, every listed entry looks up to itself, `used_bytes` adds
/// up, and (no references being open) no inode is unreachable.
fn check_invariants(fs: &RamFs) {
    let mut names_of: BTreeMap<Ino, u32> = BTreeMap::new();
    let mut stack = std::vec![fs.root()];
    let mut visited = BTreeSet::new();
    while let Some(dir) = stack.pop() {
        assert!(visited.insert(dir), "directory {dir:?} reached twice");
        let entries = list(fs, dir);
        assert_eq!(&entries[0].name[..], b".");
        assert_eq!(entries[0].ino, dir);
        assert_eq!(&entries[1].name[..], b"..");
        let parent = entries[1].ino;
        if dir == fs.root() {
            assert_eq!(parent, dir);
        } else {
            assert!(fs.children(parent).contains(&dir));
        }
        let mut subdirs = 0;
        for e in &entries[2..] {
            assert_eq!(fs.lookup(dir, &e.name, false), Ok(e.ino));
            assert_eq!(fs.stat(e.ino).unwrap().kind(), Some(e.kind));
            if e.kind == Kind::Dir {
                subdirs += 1;
                stack.push(e.ino);
            } else {
                *names_of.entry(e.ino).or_default() += 1;
            }
        }
        assert_eq!(nlink(fs, dir), 2 + subdirs, "nlink of {dir:?}");
    }
    for (&ino, &n) in &names_of {
        assert_eq!(nlink(fs, ino), n);
    }
    assert_eq!(
        fs.inodes.len(),
        visited.len() + names_of.len(),
        "leaked inodes"
    );
    let used: u64 = fs
        .inodes
        .values()
        .map(|n| {
            if let Body::File(d) = &n.body {
                d.page_count() * 4096
            } else {
                0
            }
        })
        .sum();
    assert_eq!(fs.used_bytes(), used);
}

impl RamFs {
    fn children(&self, ino: Ino) -> Vec<Ino> {
        self.dir(ino)
            .map(|d| d.inos().collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create(usize),
    Mkdir(usize),
    Symlink(usize, usize),
    Link(usize, usize),
    Unlink(usize),
    Rmdir(usize),
    Rename(usize, usize),
    Write(usize, u8),
}

const PATHS: &[&str] = &[
    "a", "b", "c", "a/a", "a/b", "b/a", "b/c", "a/a/b", "a/b/c", "b/a/a", "c/", "a/b/", "l", "a/l",
    "l/a", "a/..", "b/.", "/",
];

fn op() -> impl Strategy<Value = Op> {
    let p = || 0..PATHS.len();
    prop_oneof![
        p().prop_map(Op::Create),
        p().prop_map(Op::Mkdir),
        (p(), p()).prop_map(|(a, b)| Op::Symlink(a, b)),
        (p(), p()).prop_map(|(a, b)| Op::Link(a, b)),
        p().prop_map(Op::Unlink),
        p().prop_map(Op::Rmdir),
        (p(), p()).prop_map(|(a, b)| Op::Rename(a, b)),
        (p(), any::<u8>()).prop_map(|(a, n)| Op::Write(a, n)),
    ]
}

fn apply(fs: &mut RamFs, op: &Op) -> Result<()> {
    let root = fs.root();
    let path = |i: usize| PATHS[i].as_bytes();
    match *op {
        Op::Create(p) => mk(fs, PATHS[p], Kind::File).map(drop),
        Op::Mkdir(p) => mk(fs, PATHS[p], Kind::Dir).map(drop),
        Op::Symlink(t, p) => ln_s(fs, PATHS[t], PATHS[p]).map(drop),
        Op::Link(a, b) => {
            let ino = fs.lookup(root, path(a), false)?;
            let (dir, name) = fs.lookup_parent(root, path(b))?;
            fs.link(ino, dir, name)
        }
        Op::Unlink(p) => unlink(fs, PATHS[p]),
        Op::Rmdir(p) => rmdir(fs, PATHS[p]),
        Op::Rename(a, b) => rename(fs, PATHS[a], PATHS[b]),
        Op::Write(p, n) => {
            let ino = fs.lookup(root, path(p), true)?;
            fs.write(ino, u64::from(n) * 1500, &[n; 3]).map(drop)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_namespace_changes_keep_invariants(ops in prop::collection::vec(op(), 1..60)) {
        let mut fs = RamFs::new();
        fs.set_capacity(Some(5 * 4096));
        for op in &ops {
            let _ = apply(&mut fs, op);
            check_invariants(&fs);
        }
    }

    #[test]
    fn arbitrary_paths_never_panic(path in prop::collection::vec(
        prop_oneof![Just(b'/'), Just(b'.'), Just(b'a'), Just(b'b'), Just(b'l'), any::<u8>()], 0..64,
    ), follow in any::<bool>()) {
        let mut fs = RamFs::new();
        mk(&mut fs, "/a", Kind::Dir).unwrap();
        mk(&mut fs, "/a/b", Kind::File).unwrap();
        ln_s(&mut fs, "a/../l", "/l").unwrap();
        ln_s(&mut fs, "/a", "/a/l").unwrap();
        let root = fs.root();
        let _ = fs.lookup(root, &path, follow);
        if let Ok((dir, name)) = fs.lookup_parent(root, &path) {
            let _ = fs.create(dir, name, Kind::File, 0o644, 0, 0, 0);
            let _ = fs.rename(dir, name, root, b"z");
            let _ = fs.unlink(dir, name);
            let _ = fs.rmdir(dir, name);
        }
        let _ = fs.unpack_cpio(&path);
        check_invariants(&fs);
    }

    /// With one mount, walking across mounts gives what RamFs's own walk
    /// gives, errors included, from the root and from a subdirectory.
    #[test]
    fn mount_walk_matches_ramfs_walk(path in prop::collection::vec(
        prop_oneof![Just(b'/'), Just(b'.'), Just(b'a'), Just(b'b'), Just(b'l'), Just(b'm')], 0..40,
    ), follow in any::<bool>()) {
        let mut fs = RamFs::new();
        mk(&mut fs, "/a", Kind::Dir).unwrap();
        mk(&mut fs, "/a/b", Kind::File).unwrap();
        mk(&mut fs, "/a/a", Kind::Dir).unwrap();
        ln_s(&mut fs, "a/../l", "/l").unwrap();
        ln_s(&mut fs, "/a", "/a/l").unwrap();
        ln_s(&mut fs, "b", "/a/m").unwrap();
        ln_s(&mut fs, "nowhere", "/m").unwrap();
        let root = fs.root();
        let sub = lk(&fs, "/a").unwrap();
        let t = MountTable::new(fs, root);
        let id = t.root_id();
        let fs = &t.get(id).unwrap().fs;
        for start in [root, sub] {
            let loc = Loc { mnt: id, ino: start };
            let want = fs.lookup(start, &path, follow);
            let got = t.resolve(&t, loc, &path, follow).map(|l| l.ino);
            prop_assert_eq!(got, want);
            let want = fs.lookup_parent(start, &path);
            let got = t.resolve_parent(&t, loc, &path).map(|(l, n)| (l.ino, n));
            prop_assert_eq!(got, want);
        }
    }
}

mod mounts {
    use super::*;

    /// `/` a RamFs with /mnt, /mnt/x, /a -> /mnt (symlink); returns the table.
    fn table() -> MountTable<RamFs> {
        let mut root = RamFs::new();
        mk(&mut root, "/mnt", Kind::Dir).unwrap();
        mk(&mut root, "/mnt/x", Kind::File).unwrap();
        mk(&mut root, "/b", Kind::Dir).unwrap();
        ln_s(&mut root, "/mnt", "/a").unwrap();
        let r = root.root();
        MountTable::new(root, r)
    }

    fn sub() -> RamFs {
        let mut fs = RamFs::new();
        mk(&mut fs, "/d", Kind::Dir).unwrap();
        mk(&mut fs, "/d/f", Kind::File).unwrap();
        fs
    }

    fn res(t: &MountTable<RamFs>, p: &str) -> Result<Loc> {
        t.resolve(t, t.root(), p.as_bytes(), true)
    }

    #[test]
    fn crossing_down_and_up() {
        let mut t = table();
        let mnt = res(&t, "/mnt").unwrap();
        let s = sub();
        let sroot = s.root();
        let id = t.add(mnt, s, sroot).unwrap();
        assert_eq!(res(&t, "/mnt").unwrap(), Loc { mnt: id, ino: sroot });
        // The covered file is hidden, the new one visible.
        assert_eq!(res(&t, "/mnt/x"), Err(Errno::ENOENT));
        let f = res(&t, "/mnt/d/f").unwrap();
        assert_eq!(f.mnt, id);
        // `..` at the mount root climbs into the parent mount.
        assert_eq!(res(&t, "/mnt/..").unwrap(), t.root());
        assert_eq!(res(&t, "/mnt/d/../../b").unwrap(), res(&t, "/b").unwrap());
        assert_eq!(res(&t, "/mnt/../mnt/d").unwrap().mnt, id);
        // Through a symlink in the parent mount.
        assert_eq!(res(&t, "/a/d/f").unwrap(), f);
        // Relative to a directory inside the mount.
        let d = res(&t, "/mnt/d").unwrap();
        assert_eq!(t.resolve(&t, d, b"../..", true).unwrap(), t.root());
        assert_eq!(t.path_of(&t, d).unwrap(), b"/mnt/d");
        // The directory the last name was found in.
        assert_eq!(t.resolve_in(&t, t.root(), b"/mnt/d/f", true).unwrap(), (f, Some(d)));
        assert_eq!(t.resolve_in(&t, t.root(), b"/mnt/d/..", true).unwrap().1, None);
        assert_eq!(t.resolve_in(&t, t.root(), b"/mnt", true).unwrap().1, Some(t.root()));
        assert_eq!(t.path_of(&t, t.root()).unwrap(), b"/");
        assert_eq!(t.path_of(&t, res(&t, "/mnt").unwrap()).unwrap(), b"/mnt");
        // Errors as in one filesystem.
        assert_eq!(res(&t, "/mnt/d/f/"), Err(Errno::ENOTDIR));
        assert_eq!(res(&t, "/mnt/d/f/.."), Err(Errno::ENOTDIR));
        assert_eq!(res(&t, ""), Err(Errno::ENOENT));
        let (dir, last) = t.resolve_parent(&t, t.root(), b"/mnt/d/new").unwrap();
        assert_eq!((dir, last), (d, &b"new"[..]));
        assert_eq!(t.resolve_parent(&t, t.root(), b"/mnt/d/f/new"), Err(Errno::ENOTDIR));
    }

    #[test]
    fn stacked_mounts_and_removal() {
        let mut t = table();
        let mnt = res(&t, "/mnt").unwrap();
        let s1 = sub();
        let r1 = s1.root();
        let id1 = t.add(mnt, s1, r1).unwrap();
        // Mounting on the same path again stacks on the first mount's root.
        let top = res(&t, "/mnt").unwrap();
        let s2 = RamFs::new();
        let r2 = s2.root();
        let id2 = t.add(top, s2, r2).unwrap();
        assert_eq!(res(&t, "/mnt").unwrap().mnt, id2);
        assert_eq!(res(&t, "/mnt/d"), Err(Errno::ENOENT));
        assert_eq!(res(&t, "/mnt/..").unwrap(), t.root());
        assert_eq!(t.add(top, RamFs::new(), Ino(1)), Err(Errno::EBUSY));
        // The lower mount is busy while the upper one sits on it.
        assert!(t.has_submounts(id1));
        assert!(matches!(t.remove(id1), Err(Errno::EBUSY)));
        assert!(matches!(t.remove(t.root_id()), Err(Errno::EINVAL)));
        t.remove(id2).unwrap();
        assert_eq!(res(&t, "/mnt/d").unwrap().mnt, id1);
        t.remove(id1).unwrap();
        assert_eq!(res(&t, "/mnt/x").unwrap().mnt, t.root_id());
        assert!(matches!(t.remove(id1), Err(Errno::EINVAL)));
    }

    #[test]
    fn detach_removes_the_subtree() {
        let mut t = table();
        let mnt = res(&t, "/mnt").unwrap();
        let s1 = sub();
        let r1 = s1.root();
        let id1 = t.add(mnt, s1, r1).unwrap();
        let d = res(&t, "/mnt/d").unwrap();
        let id2 = t.add(d, RamFs::new(), Ino(1)).unwrap();
        let gone = t.remove_tree(id1).unwrap();
        assert_eq!(gone.len(), 2);
        assert!(t.get(id2).is_none() && t.get(id1).is_none());
        assert_eq!(t.iter().count(), 1);
        assert_eq!(res(&t, "/mnt/x").unwrap().mnt, t.root_id());
    }

    #[test]
    fn symlink_loops_and_dot_at_root() {
        let mut t = table();
        {
            let root = &mut t.get_mut(MountId(1)).unwrap().fs;
            ln_s(root, "l2", "/l1").unwrap();
            ln_s(root, "l1", "/l2").unwrap();
        }
        assert_eq!(res(&t, "/l1"), Err(Errno::ELOOP));
        assert_eq!(res(&t, "/../..").unwrap(), t.root());
        assert_eq!(res(&t, "/./mnt/.").unwrap(), res(&t, "/mnt").unwrap());
        // A final symlink is the link itself unless followed.
        let link = t.get(MountId(1)).unwrap().fs.lookup(Ino(1), b"/a", false).unwrap();
        assert_eq!(t.resolve(&t, t.root(), b"a", false).unwrap().ino, link);
    }

    #[test]
    fn chroot_root_bounds_walks() {
        let t = table();
        let mnt = res(&t, "/mnt").unwrap();
        let x = res(&t, "/mnt/x").unwrap();
        let walk = |p: &str| t.resolve_in_at(&t, mnt, mnt, p.as_bytes(), true).map(|(l, _)| l);
        assert_eq!(walk("/x"), Ok(x));
        assert_eq!(walk("/.."), Ok(mnt));
        assert_eq!(walk("../../x"), Ok(x));
        assert_eq!(walk("/mnt"), Err(Errno::ENOENT));
        // An absolute symlink starts at the process root: /a -> /mnt is outside.
        assert_eq!(t.resolve_in_at(&t, t.root(), t.root(), b"/a/x", true).map(|(l, _)| l), Ok(x));
        assert_eq!(t.resolve_parent_at(&t, mnt, mnt, b"/x").map(|(l, n)| (l, n.to_vec())), Ok((mnt, b"x".to_vec())));
        assert_eq!(t.path_of_at(&t, mnt, mnt).unwrap(), b"/");
        assert_eq!(t.path_of_at(&t, mnt, res(&t, "/b").unwrap()).unwrap(), b"(unreachable)/b");
    }
}

#[test]
fn unlinked_file_lives_while_referenced() {
    let mut fs = root_fs();
    let ino = fs.create_unlinked(0o777, 0, 0).unwrap();
    let st = fs.stat(ino).unwrap();
    assert_eq!(st.kind(), Some(Kind::File));
    assert_eq!(st.nlink, 0);
    assert_eq!(fs.write(ino, 0, b"abc").unwrap(), 3);
    let mut b = [0u8; 3];
    assert_eq!(fs.read(ino, 0, &mut b).unwrap(), 3);
    assert_eq!(&b, b"abc");
    // A second reference (dup) keeps it after the first goes away.
    fs.open_ref(ino).unwrap();
    fs.close_ref(ino).unwrap();
    assert!(fs.stat(ino).is_ok());
    fs.close_ref(ino).unwrap();
    assert_eq!(fs.stat(ino).unwrap_err(), Errno::ENOENT);
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn tmpfile_can_be_linked_once_memfd_never() {
    let mut fs = RamFs::new();
    let root = fs.root();
    let t = fs.create_tmpfile(0o600, 0, 0, true).unwrap();
    assert_eq!(fs.stat(t).unwrap().nlink, 0);
    fs.link(t, root, b"named").unwrap();
    assert_eq!(fs.stat(t).unwrap().nlink, 1);
    fs.unlink(root, b"named").unwrap();
    assert_eq!(fs.link(t, root, b"again"), Err(Errno::ENOENT));
    let x = fs.create_tmpfile(0o600, 0, 0, false).unwrap();
    assert_eq!(fs.link(x, root, b"x"), Err(Errno::ENOENT));
    let m = fs.create_unlinked(0o600, 0, 0).unwrap();
    assert_eq!(fs.link(m, root, b"m"), Err(Errno::ENOENT));
}

#[test]
fn exchange_swaps_names() {
    let mut fs = RamFs::new();
    let root = fs.root();
    let d = fs.create(root, b"d", Kind::Dir, 0o755, 0, 0, 0).unwrap();
    let e = fs.create(d, b"e", Kind::Dir, 0o755, 0, 0, 0).unwrap();
    let f = fs.create(root, b"f", Kind::File, 0o644, 0, 0, 0).unwrap();
    let root_links = fs.stat(root).unwrap().nlink;
    let d_links = fs.stat(d).unwrap().nlink;
    // A file and a directory in different parents.
    fs.exchange(root, b"f", d, b"e").unwrap();
    assert_eq!(lk(&fs, "/f").unwrap(), e);
    assert_eq!(lk(&fs, "/d/e").unwrap(), f);
    assert_eq!(lk(&fs, "/f/..").unwrap(), root);
    assert_eq!(fs.stat(root).unwrap().nlink, root_links + 1);
    assert_eq!(fs.stat(d).unwrap().nlink, d_links - 1);
    // Back again, and the errors.
    fs.exchange(d, b"e", root, b"f").unwrap();
    assert_eq!(lk(&fs, "/d/e/..").unwrap(), d);
    assert_eq!(fs.stat(root).unwrap().nlink, root_links);
    assert_eq!(fs.exchange(root, b"f", root, b"nope"), Err(Errno::ENOENT));
    assert_eq!(fs.exchange(root, b"d", d, b"e"), Err(Errno::EINVAL));
    assert_eq!(fs.exchange(root, b"f/", root, b"d"), Err(Errno::ENOTDIR));
    assert_eq!(fs.exchange(root, b"f", root, b"f"), Ok(()));
}

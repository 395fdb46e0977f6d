//! rstd-fs: std::fs on the root filesystem (/tmp): directories, files,
//! metadata, read_dir, rename, seek and the NotFound / AlreadyExists error
//! kinds.
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};

use rstd_tests::{check, ok, p};

fn main() {
    let base = p(&format!("/tmp/rstd-fs-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let deep = base.join("a").join("b");
    ok!(fs::create_dir_all(&deep));
    check!(ok!(fs::metadata(&deep)).is_dir());
    println!("rstd-fs: created {}", deep.display());

    // write / read_to_string / metadata
    let file = deep.join("hello.txt");
    ok!(fs::write(&file, "hello, ferrite\n"));
    let text = ok!(fs::read_to_string(&file));
    check!(text == "hello, ferrite\n", "read back {text:?}");
    let meta = ok!(fs::metadata(&file));
    check!(meta.is_file() && meta.len() == 15, "metadata {meta:?}");
    check!(ok!(fs::symlink_metadata(&file)).file_type().is_file());
    println!("rstd-fs: write/read/metadata ok");

    // File::seek, append, set_len
    {
        let mut f = ok!(OpenOptions::new().read(true).write(true).open(&file));
        check!(ok!(f.seek(SeekFrom::Start(7))) == 7);
        let mut word = [0u8; 7];
        ok!(f.read_exact(&mut word));
        check!(&word == b"ferrite", "read {word:?}");
        check!(ok!(f.seek(SeekFrom::End(-1))) == 14);
        check!(ok!(f.seek(SeekFrom::Current(1))) == 15);
        ok!(f.write_all(b"more\n"));
        check!(ok!(f.stream_position()) == 20);
        ok!(f.set_len(10));
        check!(ok!(f.metadata()).len() == 10);
    }
    {
        let mut f = ok!(OpenOptions::new().append(true).open(&file));
        ok!(f.write_all(b"!\n"));
    }
    let text = ok!(fs::read_to_string(&file));
    check!(text == "hello, fer!\n", "after seek/set_len/append: {text:?}");
    println!("rstd-fs: seek/set_len/append ok");

    // read_dir
    ok!(fs::write(deep.join("second"), b"2"));
    let mut names: Vec<String> = ok!(fs::read_dir(&deep))
        .map(|e| ok!(e).file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    check!(names == ["hello.txt", "second"], "read_dir {names:?}");
    println!("rstd-fs: read_dir {names:?}");

    // rename, remove_file
    let moved = base.join("a").join("moved.txt");
    ok!(fs::rename(&file, &moved));
    check!(!file.exists() && moved.exists());
    ok!(fs::remove_file(&moved));
    check!(!moved.exists());
    println!("rstd-fs: rename/remove_file ok");

    // error kinds
    let missing = base.join("does-not-exist");
    let e = fs::read_to_string(&missing).unwrap_err();
    check!(e.kind() == ErrorKind::NotFound, "read missing: {e:?}");
    let e = fs::remove_file(&missing).unwrap_err();
    check!(e.kind() == ErrorKind::NotFound, "remove missing: {e:?}");
    let e = fs::create_dir(&deep).unwrap_err();
    check!(e.kind() == ErrorKind::AlreadyExists, "mkdir existing: {e:?}");
    let e = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(deep.join("second"))
        .unwrap_err();
    check!(e.kind() == ErrorKind::AlreadyExists, "create_new existing: {e:?}");
    let e = File::open(&missing).unwrap_err();
    check!(e.kind() == ErrorKind::NotFound && e.raw_os_error() == Some(2), "{e:?}");
    println!("rstd-fs: NotFound/AlreadyExists ok");

    // remove_dir_all
    ok!(fs::remove_dir_all(&base));
    check!(!base.exists());
    println!("rstd-fs: remove_dir_all ok");
    println!("rstd-fs: ok");
}

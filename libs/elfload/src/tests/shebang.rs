//! `#!` lines, checked against fs/binfmt_script.c's behaviour.

use proptest::prelude::*;

use crate::{Error, Shebang, parse_shebang};

fn ok(file: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let s = parse_shebang(file).unwrap().unwrap();
    (s.interpreter.to_vec(), s.arg.map(<[u8]>::to_vec))
}

fn v(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[test]
fn not_a_script() {
    assert_eq!(parse_shebang(b""), None);
    assert_eq!(parse_shebang(b"#"), None);
    assert_eq!(parse_shebang(b"\x7fELF\x02\x01"), None);
    assert_eq!(parse_shebang(b" #!/bin/sh\n"), None);
}

#[test]
fn interpreter_and_argument() {
    assert_eq!(ok(b"#!/bin/sh\necho hi\n"), (v("/bin/sh"), None));
    assert_eq!(ok(b"#! /bin/sh \t\n"), (v("/bin/sh"), None));
    assert_eq!(
        ok(b"#!/usr/bin/env python3 -u \n"),
        (v("/usr/bin/env"), Some(v("python3 -u")))
    );
    assert_eq!(ok(b"#!\t/bin/awk\t-f\t\n"), (v("/bin/awk"), Some(v("-f"))));
    assert_eq!(
        ok(b"#!/bin/sh -x\r\n"),
        (v("/bin/sh"), Some(v("-x\r"))),
        "CR is not a blank"
    );
    // No newline in a short file: NUL padding ends the line.
    assert_eq!(ok(b"#!/bin/sh"), (v("/bin/sh"), None));
    assert_eq!(ok(b"#!/bin/sh -e"), (v("/bin/sh"), Some(v("-e"))));
    // A NUL ends the line like a C string; a later newline is not seen.
    assert_eq!(ok(b"#!/bin/sh -e\0junk\n"), (v("/bin/sh"), Some(v("-e"))));
    // Blanks before an embedded NUL stay in the argument, as in Linux.
    assert_eq!(
        ok(b"#!/bin/sh -e \0 junk \n"),
        (v("/bin/sh"), Some(v("-e ")))
    );
    // The slices borrow the file.
    let file = b"#!/bin/sh -e\n";
    let s = parse_shebang(file).unwrap().unwrap();
    assert_eq!(
        s,
        Shebang {
            interpreter: &file[2..9],
            arg: Some(&file[10..12])
        }
    );
}

#[test]
fn long_lines() {
    // A newline anywhere in the first 256 bytes makes the line complete.
    let mut f = b"#!/bin/sh ".to_vec();
    f.resize(255, b'a');
    f.push(b'\n');
    let (path, arg) = ok(&f);
    assert_eq!((path, arg.unwrap().len()), (v("/bin/sh"), 245));
    // Without one, the path must visibly end within bytes 2..255; the
    // argument may be cut at byte 255.
    let mut f = b"#!/bin/sh ".to_vec();
    f.resize(400, b'a');
    let (path, arg) = ok(&f);
    assert_eq!((path, arg.unwrap().len()), (v("/bin/sh"), 245));
    let mut f = b"#!/".to_vec();
    f.resize(400, b'a');
    assert_eq!(parse_shebang(&f), Some(Err(Error::ShebangTruncated)));
    // The path ends exactly at byte 255: its end is not visible.
    let mut f = b"#!/".to_vec();
    f.resize(255, b'a');
    f.extend_from_slice(b" arg\n");
    assert_eq!(parse_shebang(&f), Some(Err(Error::ShebangTruncated)));
    // Leading blanks fill the buffer.
    let mut f = b"#!".to_vec();
    f.resize(300, b' ');
    assert_eq!(parse_shebang(&f), Some(Err(Error::ShebangNoInterpreter)));
}

#[test]
fn no_interpreter() {
    for f in [&b"#!"[..], b"#!\n", b"#!   \t\n", b"#!  ", b"#!\0/bin/sh\n"] {
        assert_eq!(
            parse_shebang(f),
            Some(Err(Error::ShebangNoInterpreter)),
            "{f:?}"
        );
    }
}

proptest! {
    #[test]
    fn any_script_never_panics(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut f = b"#!".to_vec();
        f.extend_from_slice(&body);
        if let Some(Ok(s)) = parse_shebang(&f) {
            prop_assert!(!s.interpreter.is_empty());
            prop_assert!(!s.interpreter.iter().any(|b| matches!(b, b' ' | b'\t' | 0 | b'\n')));
            prop_assert!(s.arg.is_none_or(|a| !a.is_empty() && !a.contains(&0) && !a.contains(&b'\n')));
        }
    }
}

//! rstd-process: std::process::Command (fork/exec or posix_spawn via
//! clone(CLONE_VM|CLONE_VFORK) in glibc), piped and captured stdout, exit
//! statuses, and the error for a program that does not exist.
//!
//! stdin is inherited explicitly: `output()` would open /dev/null for it,
//! and Linux booted with our initramfs has no /dev (no devtmpfs mount).
use std::io::ErrorKind;
use std::process::{Command, Stdio};

use rstd_tests::{check, ok, p};

fn main() {
    let busybox = p("/bin/busybox");
    let out = ok!(Command::new(&busybox)
        .args(["echo", "hi"])
        .stdin(Stdio::inherit())
        .output());
    println!("rstd-process: busybox echo hi -> {:?}, {}", String::from_utf8_lossy(&out.stdout), out.status);
    check!(out.status.success(), "status {}", out.status);
    check!(out.status.code() == Some(0));
    check!(out.stdout == b"hi\n", "stdout {:?}", out.stdout);

    let status = ok!(Command::new(&busybox).args(["sh", "-c", "exit 3"]).status());
    check!(status.code() == Some(3), "sh -c 'exit 3': {status}");
    let status = ok!(Command::new(&busybox).arg("false").status());
    check!(status.code() == Some(1), "false: {status}");
    println!("rstd-process: exit statuses ok");

    // stdin piped in, stdout piped out.
    let mut child = ok!(Command::new(&busybox)
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn());
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        ok!(stdin.write_all(b"through a pipe\n"));
    }
    let out = ok!(child.wait_with_output());
    check!(out.status.success() && out.stdout == b"through a pipe\n", "cat: {out:?}");
    println!("rstd-process: stdin/stdout pipes ok");

    let err = Command::new("/nonexistent")
        .stdin(Stdio::inherit())
        .output()
        .unwrap_err();
    println!("rstd-process: /nonexistent -> {err}");
    check!(err.kind() == ErrorKind::NotFound, "{err:?}");
    println!("rstd-process: ok");
}

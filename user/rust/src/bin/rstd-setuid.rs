//! glibc's setuid with threads running: glibc sends SIGSETXID (signal 33)
//! to every other thread with tgkill, and each one's handler makes the
//! same call, but only for a signal whose siginfo says SI_TKILL from its
//! own process; setuid waits until every thread has done it. A kernel that
//! loses those details (or delivers to the wrong thread) hangs it here.

use std::sync::mpsc;
use std::thread;

unsafe extern "C" {
    fn setuid(uid: u32) -> i32;
    fn setgid(gid: u32) -> i32;
    fn getuid() -> u32;
    fn geteuid() -> u32;
    fn syscall(nr: i64, ...) -> i64;
}

const SYS_GETUID: i64 = 102;

fn main() {
    // SAFETY: plain libc calls without pointers.
    if unsafe { getuid() } != 0 {
        println!("rstd-setuid: skipped: not root");
        return;
    }
    let (tx, rx) = mpsc::channel::<()>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let mut handles = Vec::new();
    for _ in 0..3 {
        let rx = rx.clone();
        // Each thread blocks (futex wait) until main says go, then checks
        // its own real uid with a raw system call.
        handles.push(thread::spawn(move || {
            rx.lock().unwrap().recv().unwrap();
            // SAFETY: getuid takes no arguments.
            unsafe { syscall(SYS_GETUID) }
        }));
    }
    thread::sleep(std::time::Duration::from_millis(20));
    // SAFETY: plain libc calls without pointers.
    unsafe {
        assert_eq!(setgid(100), 0);
        assert_eq!(setuid(1000), 0);
        assert_eq!((getuid(), geteuid()), (1000, 1000));
    }
    println!("rstd-setuid: setgid and setuid returned with 3 threads running");
    for _ in 0..3 {
        tx.send(()).unwrap();
    }
    for h in handles {
        assert_eq!(h.join().unwrap(), 1000);
    }
    println!("rstd-setuid: every thread has uid 1000");
}

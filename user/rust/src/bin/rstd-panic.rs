//! rstd-panic: a panic in a spawned thread is caught by `join`; a panic in
//! main unwinds, runs destructors and ends the process with exit status
//! 101 (what /init expects for this program), as Rust std does on Linux.
use std::thread;

struct SaysGoodbye;

impl Drop for SaysGoodbye {
    fn drop(&mut self) {
        println!("rstd-panic: destructor ran while unwinding");
    }
}

fn main() {
    let r = thread::spawn(|| panic!("rstd-panic: planned panic in a thread")).join();
    assert!(r.is_err(), "join must report the thread's panic");
    println!("rstd-panic: thread panic caught by join");
    let _guard = SaysGoodbye;
    panic!("rstd-panic: planned panic in main (exit status 101 expected)");
}

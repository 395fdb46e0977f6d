//! rstd-threads (pending: needs clone(CLONE_VM|CLONE_THREAD...) and futex):
//! std::thread spawn/join, Arc<Mutex<_>>, Condvar and mpsc channels.
//! Not in /init's test list yet; see user/README.md.
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use rstd_tests::{check, ok};

fn main() {
    let counter = Arc::new(Mutex::new(0u64));
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let counter = Arc::clone(&counter);
            let tx = tx.clone();
            thread::spawn(move || {
                for _ in 0..1000 {
                    *counter.lock().unwrap() += 1;
                }
                tx.send(t).unwrap();
                t * 10
            })
        })
        .collect();
    drop(tx);
    let mut results: Vec<u64> = handles.into_iter().map(|h| ok!(h.join())).collect();
    results.sort();
    check!(results == [0, 10, 20, 30], "join results {results:?}");
    check!(*counter.lock().unwrap() == 4000);
    let mut got: Vec<u64> = rx.iter().collect();
    got.sort();
    check!(got == [0, 1, 2, 3], "channel {got:?}");
    println!("rstd-threads: spawn/join, Mutex, mpsc ok");

    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    let h = thread::spawn(move || {
        let (lock, cv) = &*pair2;
        *lock.lock().unwrap() = true;
        cv.notify_one();
    });
    let (lock, cv) = &*pair;
    let mut ready = lock.lock().unwrap();
    while !*ready {
        ready = cv.wait(ready).unwrap();
    }
    drop(ready);
    ok!(h.join());
    println!("rstd-threads: Condvar ok");
    println!("rstd-threads: ok");
}

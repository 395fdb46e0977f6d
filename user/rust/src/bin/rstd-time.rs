//! rstd-time: Instant (CLOCK_MONOTONIC), thread::sleep (nanosleep or
//! clock_nanosleep) and SystemTime (CLOCK_REALTIME).
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rstd_tests::{check, ok};

fn main() {
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let slept = start.elapsed();
    println!("rstd-time: sleep(20ms) took {slept:?}");
    check!(slept >= Duration::from_millis(20), "slept only {slept:?}");
    check!(slept < Duration::from_secs(5), "slept {slept:?}");

    let a = Instant::now();
    let b = Instant::now();
    check!(b >= a);

    let now = ok!(SystemTime::now().duration_since(UNIX_EPOCH));
    println!("rstd-time: SystemTime is {} s after the epoch", now.as_secs());
    // 2020-01-01T00:00:00Z
    check!(now.as_secs() > 1_577_836_800, "SystemTime {now:?} is before 2020");
    println!("rstd-time: ok");
}

//! In-kernel tests: `#[ktest]`-style registration through a `linkme`
//! distributed slice, run at boot when the command line has `ktest=FILTER`.
//!
//! Serial protocol (read by `cargo xtask test`):
//! ```text
//! ktest: running N tests
//! ktest: <name> ... ok
//! ktest: <name> ... FAILED: <message>
//! ktest: result: X passed, Y failed
//! ```

use alloc::string::String;

pub use linkme;

/// What a ktest returns: `Err` carries the failure message.
pub type KResult = Result<(), String>;

/// One registered test.
pub struct KTest {
    pub name: &'static str,
    pub run: fn() -> KResult,
}

#[linkme::distributed_slice]
pub static KTESTS: [KTest];

/// Registers a kernel test: `ktest!(name, || -> KResult { ... });`
#[macro_export]
macro_rules! ktest {
    ($name:ident, $body:expr) => {
        const _: () = {
            #[$crate::ktest::linkme::distributed_slice($crate::ktest::KTESTS)]
            #[linkme(crate = $crate::ktest::linkme)]
            static T: $crate::ktest::KTest = $crate::ktest::KTest {
                name: concat!(module_path!(), "::", stringify!($name)),
                run: $body,
            };
        };
    };
}

/// Fails the surrounding ktest with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! kassert {
    ($cond:expr) => {
        if !$cond {
            return Err(alloc::format!("assertion failed: {} ({}:{})", stringify!($cond), file!(), line!()));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(alloc::format!("{} ({}:{})", format_args!($($arg)+), file!(), line!()));
        }
    };
}

/// Runs every test whose name matches `filter`; returns (passed, failed).
pub fn run_all(filter: &str) -> (usize, usize) {
    let selected = || KTESTS.iter().filter(|t| cmdline::ktest_filter_matches(filter, t.name));
    crate::kprintln!("ktest: running {} tests", selected().count());
    let (mut passed, mut failed) = (0, 0);
    for t in selected() {
        crate::kprintln!("ktest: {} ... start", t.name);
        let start = crate::time::uptime_ns();
        match (t.run)() {
            Ok(()) => {
                passed += 1;
                let ms = (crate::time::uptime_ns() - start) / 1_000_000;
                crate::kprintln!("ktest: {} ... ok ({} ms)", t.name, ms);
            }
            Err(msg) => {
                failed += 1;
                crate::kprintln!("ktest: {} ... FAILED: {}", t.name, msg);
            }
        }
    }
    crate::kprintln!("ktest: result: {} passed, {} failed", passed, failed);
    (passed, failed)
}

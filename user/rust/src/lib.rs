//! The shared harness of the Rust std guest tests (`src/bin/rstd-*.rs`),
//! the Rust twin of `user/tests/t.h`.
//!
//! Each program prints `<name>: <what>` progress lines and exits 0 when
//! every check passed. [`check!`] prints `<file>:<line>: CHECK failed: ...`
//! on stderr and exits 1 at the first failure. [`p`] prefixes
//! `$FERRITE_ROOT` to a guest path, so the same binaries run on a
//! development host against `target/user/rootfs` (`cargo xtask utest --host`).

use std::path::PathBuf;

/// Fails the test (exit 1) unless `cond` holds; optional format arguments
/// add detail.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            $crate::fail(file!(), line!(), stringify!($cond), String::new());
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::fail(file!(), line!(), stringify!($cond), format!($($arg)+));
        }
    };
}

/// Unwraps a `Result`, failing the test with the error otherwise.
#[macro_export]
macro_rules! ok {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => $crate::fail(
                file!(),
                line!(),
                stringify!($e),
                format!("error: {err:?}"),
            ),
        }
    };
}

/// Prints the failure and exits 1.
pub fn fail(file: &str, line: u32, what: &str, detail: String) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    if detail.is_empty() {
        eprintln!("{file}:{line}: CHECK failed: {what}");
    } else {
        eprintln!("{file}:{line}: CHECK failed: {what} ({detail})");
    }
    std::process::exit(1);
}

/// The host path of a guest path: `$FERRITE_ROOT` + `path`.
pub fn p(path: &str) -> PathBuf {
    match std::env::var("FERRITE_ROOT") {
        Ok(root) if !root.is_empty() => PathBuf::from(format!("{root}{path}")),
        _ => PathBuf::from(path),
    }
}

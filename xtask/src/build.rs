//! Building the kernel image.
//!
//! The kernel is an ordinary `--target x86_64-unknown-linux-gnu` binary built
//! with bare-metal code-generation and link flags (DESIGN.md §1). Because the
//! target is named explicitly, `CARGO_ENCODED_RUSTFLAGS` reaches only target
//! crates, never build scripts or proc-macros. A separate target directory
//! keeps these flags from invalidating the host build in `target/`.
//!
//! The result is copied to the stable path `target/ferrite/ferrite`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use crate::util::{self, Args, Result};

/// The kernel's package name.
const PACKAGE: &str = "ferrite-kernel";
/// The host target; its precompiled `core`/`alloc` are what we link.
const TARGET: &str = "x86_64-unknown-linux-gnu";

/// Which cargo profile the kernel is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `[profile.kernel]`: release, panic=abort, line tables.
    Kernel,
    /// `dev` with panic=abort forced on the command line.
    Dev,
}

impl Profile {
    pub fn from_debug(debug: bool) -> Self {
        if debug { Profile::Dev } else { Profile::Kernel }
    }

    fn name(self) -> &'static str {
        match self {
            Profile::Kernel => "kernel",
            Profile::Dev => "dev",
        }
    }
}

/// `cargo xtask build [--debug]`.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let profile = Profile::from_debug(args.flag("--debug"));
    args.finish()?;
    let image = kernel(profile)?;
    // Last line of stdout, for scripts: `img=$(cargo xtask build | tail -1)`.
    println!("{}", image.display());
    Ok(ExitCode::SUCCESS)
}

/// The stable path of the kernel image.
pub fn image_path() -> PathBuf {
    util::out_dir().join("ferrite")
}

/// Builds the kernel and returns the absolute path of `target/ferrite/ferrite`.
pub fn kernel(profile: Profile) -> Result<PathBuf> {
    let root = util::root();
    let linker_script = root.join("kernel").join("linker.ld");
    let mut cmd = util::cargo();
    cmd.args(["build", "--package", PACKAGE, "--profile", profile.name()])
        .args(["--target", TARGET])
        .arg("--target-dir")
        .arg(root.join("target").join("kernel-build"))
        // Diagnostics stay human-readable on stderr; stdout carries JSON
        // messages, from which we take the executable's path.
        .arg("--message-format=json-render-diagnostics")
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            rustflags(&linker_script).join("\x1f"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if profile == Profile::Dev {
        cmd.args(["--config", "profile.dev.panic=\"abort\""]);
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            if let Some(path) = artifact_executable(&line?) {
                executable = Some(path);
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("kernel build failed ({status})").into());
    }
    let built = executable
        .ok_or("cargo reported no executable for the kernel (is `kernel/` a binary crate?)")?;
    let image = image_path();
    std::fs::create_dir_all(util::out_dir())?;
    copy_if_changed(&built, &image)?;
    Ok(image)
}

/// The flags that turn a host-target binary into a kernel (DESIGN.md §1).
fn rustflags(linker_script: &Path) -> Vec<String> {
    [
        "-Crelocation-model=static",
        "-Ccode-model=kernel",
        "-Cno-redzone=yes",
        "-Cforce-frame-pointers=yes",
        "-Clink-arg=-nostartfiles",
        "-Clink-arg=-static",
        "-Clink-arg=-no-pie",
        "-Clink-arg=-Wl,--no-dynamic-linker",
        "-Clink-arg=-Wl,-n",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("-Clink-arg=-T{}", linker_script.display()),
        "-Clink-arg=-Wl,--build-id=none".to_string(),
    ])
    .collect()
}

/// From one JSON message line of `cargo build --message-format=json`, the
/// `executable` of a `compiler-artifact`, if it names one. A substring scan
/// suffices: cargo writes paths as plain JSON strings.
fn artifact_executable(line: &str) -> Option<PathBuf> {
    if !line.contains("\"reason\":\"compiler-artifact\"") {
        return None;
    }
    let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
    let rest = &line[start..];
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(PathBuf::from(out)),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Copies unless `to` already has the same bytes, so its mtime only moves
/// when the image really changed.
fn copy_if_changed(from: &Path, to: &Path) -> Result {
    let new = std::fs::read(from)?;
    if std::fs::read(to).ok().as_deref() == Some(&new[..]) {
        return Ok(());
    }
    // Write-then-rename: a QEMU that still has the old image open keeps it.
    let tmp = to.with_extension("tmp");
    std::fs::write(&tmp, &new)?;
    let perms = std::fs::metadata(from)?.permissions();
    std::fs::set_permissions(&tmp, perms)?;
    std::fs::rename(&tmp, to)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_executable_in_json() {
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/kernel#ferrite-kernel@0.1.0","executable":"/w/target/kernel-build/x86_64-unknown-linux-gnu/kernel/ferrite","fresh":true}"#;
        assert_eq!(
            artifact_executable(line),
            Some(PathBuf::from(
                "/w/target/kernel-build/x86_64-unknown-linux-gnu/kernel/ferrite"
            ))
        );
        let lib = r#"{"reason":"compiler-artifact","executable":null,"fresh":true}"#;
        assert_eq!(artifact_executable(lib), None);
        assert_eq!(
            artifact_executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
    }

    #[test]
    fn flags_end_with_linker_script_and_build_id() {
        let f = rustflags(Path::new("/w/kernel/linker.ld"));
        assert_eq!(f.len(), 11);
        assert_eq!(f[9], "-Clink-arg=-T/w/kernel/linker.ld");
        assert!(f.iter().all(|s| !s.contains('\x1f')));
    }
}

//! Host tools the build and tests need, and the Debian packages that bring
//! them. Missing tools are installed with apt when we run as root (CI and
//! the project's machines); otherwise the exact command is printed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::util::{Args, Result};

/// What we look for, and the Debian package that provides it.
struct Tool {
    /// A program name searched in `PATH` (plus the sbin directories), or an
    /// absolute path that must exist.
    name: &'static str,
    package: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "qemu-system-x86_64",
        package: "qemu-system-x86",
    },
    Tool {
        name: "cpio",
        package: "cpio",
    },
    Tool {
        name: "mkfs.ext2",
        package: "e2fsprogs",
    },
    Tool {
        name: "musl-gcc",
        package: "musl-tools",
    },
    // The static busybox is copied into guest images, so it must be the
    // static build that Debian's busybox-static installs here.
    Tool {
        name: "/bin/busybox",
        package: "busybox-static",
    },
    // `cargo xtask interactive` drives the console through a host pty with
    // xtask/scripts/interactive.py (standard library only).
    Tool {
        name: "python3",
        package: "python3",
    },
];

/// `cargo xtask deps`.
pub fn cmd(args: Args) -> Result<ExitCode> {
    args.finish()?;
    ensure()?;
    Ok(ExitCode::SUCCESS)
}

/// Makes sure every tool is present, installing the missing ones if we can.
pub fn ensure() -> Result {
    let missing = missing_packages();
    if missing.is_empty() {
        println!("deps: all host tools present");
        return Ok(());
    }
    let list = missing.join(" ");
    println!("deps: missing host tools from: {list}");
    if !is_root() {
        return Err(format!(
            "missing host tools; install them with:\n    sudo apt-get install -y {list}"
        )
        .into());
    }
    run_apt(&["update"])?;
    let mut install = vec!["install", "-y"];
    install.extend(missing.iter().copied());
    run_apt(&install)?;
    let still = missing_packages();
    if !still.is_empty() {
        return Err(format!("still missing after apt-get: {}", still.join(" ")).into());
    }
    println!("deps: installed {list}");
    Ok(())
}

/// Debian packages whose tool is absent, in [`TOOLS`] order, no duplicates.
fn missing_packages() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for tool in TOOLS {
        if find(tool.name).is_none() && !out.contains(&tool.package) {
            out.push(tool.package);
        }
    }
    out
}

/// Where `name` is: itself if absolute, else the first hit in `PATH` or in
/// the sbin directories (a non-root `PATH` often lacks them; mkfs lives there).
pub fn find(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    let from_env = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&from_env)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Root check without libc: ask `id -u`.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run_apt(args: &[&str]) -> Result {
    println!(
        "deps: running: DEBIAN_FRONTEND=noninteractive apt-get {}",
        args.join(" ")
    );
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        // apt's output is progress for the reader, not data for us; keep it
        // off stdout so callers' stdout stays parseable.
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if !status.success() {
        return Err(format!("apt-get {} failed ({status})", args.join(" ")).into());
    }
    Ok(())
}

//! The test initramfs (`cargo xtask initramfs`).
//!
//! ```text
//! user/init/init.c     ──musl-gcc──►  target/user/init
//! user/tests/<name>.c  ──musl-gcc──►  target/user/tests/<name>
//! user/bench/<name>.c  ──musl-gcc──►  target/user/bench/<name>
//! user/fuzz/fuzz.c     ──musl-gcc──►  target/user/fuzz (/sbin/fuzz)
//!                                          │ staged in target/user/rootfs/:
//!                                          │   /init, /tests/<name>,
//!                                          │   /bench/<name> (run: /bench/run),
//!                                          │   /tests/rstd-* (Rust, below),
//!                                          │   /etc/ferrite-test.txt,
//!                                          │   /shtest/ (user/shell: run, cases),
//!                                          │   /bin/busybox (host's static one)
//!                                          ▼
//!          find . | sort | cpio -o -H newc ──► target/ferrite/initramfs.cpio
//! ```
//!
//! `cargo xtask bench` boots a smaller image built here too, the benchmark
//! initramfs (`target/ferrite/bench.cpio`, see [`build_bench`]).
//!
//! A program is recompiled only when its output is older than its source,
//! a header next to it, or this file (which holds the compiler flags). The
//! staging tree is rebuilt on every call with fixed owners, modes and
//! mtimes, and packed in sorted order, so the same inputs give the same
//! archive bytes.
//!
//! The Rust std test programs (`user/rust/src/bin/rstd-*.rs`, a Cargo
//! project outside the workspace) are built by cargo, which skips what is
//! up to date, as static-PIE glibc binaries (`-C target-feature=+crt-static`)
//! in `target/user-rust/`, and staged as `/tests/rstd-*`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime};

use crate::deps;
use crate::util::{self, Args, Result};

/// Content of `/etc/ferrite-test.txt`; `user/tests/file_read.c` checks it.
pub const FERRITE_TEST_TXT: &str = "ferrite test file\nline 2: 0123456789\n";

/// Flags for every test program.
const TEST_CFLAGS: &[&str] = &["-static", "-O2", "-g", "-Wall", "-Wextra", "-Werror"];
/// `/init` is freestanding: no libc, its own `_start` (see init.c).
const INIT_CFLAGS: &[&str] = &[
    "-static",
    "-O2",
    "-g",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-nostdlib",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-stack-protector",
    "-fno-pie",
    "-no-pie",
];

/// The Rust std test programs (`user/rust/src/bin/<name>.rs`), all copied
/// to `/tests/<name>`. `/init` runs those in its tables (user/init/init.c).
pub const RUST_PROGRAMS: &[&str] = &[
    "rstd-hello",
    "rstd-fs",
    "rstd-process",
    "rstd-time",
    "rstd-collections",
    "rstd-panic",
    "rstd-unix",
    "rstd-threads",
    "rstd-setuid",
];
/// The target of the Rust programs: glibc, linked static-pie by
/// [`RUST_FLAGS`] (what issue 3 calls unmodified Rust std programs).
const RUST_TARGET: &str = "x86_64-unknown-linux-gnu";
/// `RUSTFLAGS` of the Rust programs.
const RUST_FLAGS: &str = "-Ctarget-feature=+crt-static";

/// `cargo xtask initramfs`.
pub fn cmd(args: Args) -> Result<ExitCode> {
    args.finish()?;
    deps::ensure()?;
    let cpio = build()?;
    println!("{}", cpio.display());
    Ok(ExitCode::SUCCESS)
}

/// `target/user`: compiled guest programs and the staging tree.
pub fn user_dir() -> PathBuf {
    util::root().join("target").join("user")
}

/// `target/user/rootfs`: the tree that is packed (and that `utest --host`
/// runs against).
pub fn rootfs_dir() -> PathBuf {
    user_dir().join("rootfs")
}

/// `target/ferrite/initramfs.cpio`, which `qemu::Config::new` picks up.
pub fn cpio_path() -> PathBuf {
    util::out_dir().join("initramfs.cpio")
}

/// One guest program: a C source and where its binary goes.
struct Program {
    source: PathBuf,
    output: PathBuf,
    /// Path inside the initramfs.
    guest: String,
    cflags: &'static [&'static str],
    /// Files whose change forces a rebuild, besides the source.
    deps: Vec<PathBuf>,
}

/// Every guest program: `/init`, `user/tests/*.c` sorted by name, then
/// `user/bench/*.c` sorted by name.
fn programs() -> Result<Vec<Program>> {
    let root = util::root();
    let this_file = root.join("xtask").join("src").join("initramfs.rs");
    let out = user_dir();
    let mut list = vec![Program {
        source: root.join("user").join("init").join("init.c"),
        output: out.join("init"),
        guest: "sbin/utest".into(),
        cflags: INIT_CFLAGS,
        deps: vec![this_file.clone()],
    }];
    // The syscall fuzzer (`cargo xtask fuzz`), booted as rdinit=/sbin/fuzz.
    list.push(Program {
        source: root.join("user").join("fuzz").join("fuzz.c"),
        output: out.join("fuzz"),
        guest: "sbin/fuzz".into(),
        cflags: TEST_CFLAGS,
        deps: vec![this_file.clone()],
    });
    for dir in PROGRAM_DIRS {
        add_dir(
            &mut list,
            &root.join("user").join(dir),
            &out,
            dir,
            &this_file,
        )?;
    }
    Ok(list)
}

/// Folders of `user/` whose `<name>.c` files become `/<folder>/<name>`.
const PROGRAM_DIRS: [&str; 2] = ["tests", "bench"];

/// Adds one program per `*.c` in `dir` (sorted), built into `out/<guest_dir>`
/// and installed as `/<guest_dir>/<name>`; the `*.h` beside them are deps.
fn add_dir(
    list: &mut Vec<Program>,
    dir: &Path,
    out: &Path,
    guest_dir: &str,
    this_file: &Path,
) -> Result {
    let mut sources = Vec::new();
    let mut headers = vec![this_file.to_path_buf()];
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? {
        let path = entry?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("c") => sources.push(path),
            Some("h") => headers.push(path),
            _ => {}
        }
    }
    sources.sort();
    for source in sources {
        let name = source
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("bad program file name {}", source.display()))?
            .to_string();
        list.push(Program {
            output: out.join(guest_dir).join(&name),
            guest: format!("{guest_dir}/{name}"),
            source,
            cflags: TEST_CFLAGS,
            deps: headers.clone(),
        });
    }
    Ok(())
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `p.output` is missing or older than anything it is built from.
fn stale(p: &Program) -> bool {
    let Some(built) = mtime(&p.output) else {
        return true;
    };
    std::iter::once(&p.source)
        .chain(&p.deps)
        .any(|input| mtime(input).is_none_or(|t| t > built))
}

/// Compiles the stale programs (in parallel), then stages and packs the
/// initramfs. Returns the path of the archive.
pub fn build() -> Result<PathBuf> {
    let programs = programs()?;
    compile(&programs)?;
    let rust = build_rust()?;
    let rootfs = rootfs_dir();
    stage(&programs, &rust, &rootfs)?;
    let cpio = cpio_path();
    pack(&rootfs, &cpio)?;
    let size = fs::metadata(&cpio)?.len();
    println!(
        "initramfs: {} ({} KiB, {} programs + busybox)",
        rel(&cpio),
        size.div_ceil(1024),
        programs.len() + rust.len()
    );
    Ok(cpio)
}

/// The benchmark initramfs, `target/ferrite/bench.cpio`, which both kernels
/// boot in `cargo xtask bench`: only what `/bench/run` and its programs
/// use, so that boot time measures the kernels rather than unpacking the
/// ~20 MiB test image:
///
/// ```text
/// /bench/<name>   every user/bench/*.c (the runner is /bench/run)
/// /bin/busybox    for `sh -c true`; /bin/sh links to it
/// /dev, /tmp      mount point and scratch directory
/// ```
pub fn build_bench() -> Result<PathBuf> {
    let programs: Vec<Program> = programs()?
        .into_iter()
        .filter(|p| p.guest.starts_with("bench/"))
        .collect();
    compile(&programs)?;
    let rootfs = user_dir().join("bench-rootfs");
    if rootfs.exists() {
        fs::remove_dir_all(&rootfs)?;
    }
    for dir in ["", "bin", "bench", "dev", "tmp"] {
        fs::create_dir_all(rootfs.join(dir))?;
    }
    for p in &programs {
        install(&p.output, &rootfs.join(&p.guest), 0o755)?;
    }
    install(&busybox()?, &rootfs.join("bin").join("busybox"), 0o755)?;
    std::os::unix::fs::symlink("/bin/busybox", rootfs.join("bin").join("sh"))?;
    for dir in ["bin", "bench", "dev", ""] {
        set_attrs(&rootfs.join(dir), 0o755)?;
    }
    set_attrs(&rootfs.join("tmp"), 0o1777)?;
    let cpio = util::out_dir().join("bench.cpio");
    pack(&rootfs, &cpio)?;
    println!(
        "initramfs: {} ({} KiB, {} benchmark programs + busybox)",
        rel(&cpio),
        fs::metadata(&cpio)?.len().div_ceil(1024),
        programs.len()
    );
    Ok(cpio)
}

/// The host's static busybox, copied into both images.
fn busybox() -> Result<PathBuf> {
    let busybox = Path::new("/bin/busybox");
    if !busybox.is_file() {
        return Err(
            "/bin/busybox is missing (Debian package busybox-static; see `cargo xtask deps`)"
                .into(),
        );
    }
    Ok(busybox.to_path_buf())
}

fn compile(programs: &[Program]) -> Result {
    for dir in PROGRAM_DIRS {
        fs::create_dir_all(user_dir().join(dir))?;
    }
    let todo: Vec<&Program> = programs.iter().filter(|p| stale(p)).collect();
    if todo.is_empty() {
        println!("initramfs: {} programs up to date", programs.len());
        return Ok(());
    }
    let mut running: Vec<(&Program, Child)> = Vec::new();
    for p in &todo {
        println!("initramfs: cc {} -> {}", rel(&p.source), rel(&p.output));
        // Remove first: a failed compile must not leave an old binary that
        // looks up to date.
        let _ = fs::remove_file(&p.output);
        let child = Command::new("musl-gcc")
            .args(p.cflags)
            .arg("-o")
            .arg(&p.output)
            .arg(&p.source)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run musl-gcc (package musl-tools): {e}"))?;
        running.push((p, child));
    }
    let mut failed = Vec::new();
    for (p, mut child) in running {
        if !child.wait()?.success() {
            failed.push(rel(&p.source));
        }
    }
    if !failed.is_empty() {
        return Err(format!("musl-gcc failed for {}", failed.join(", ")).into());
    }
    println!(
        "initramfs: compiled {} of {} programs",
        todo.len(),
        programs.len()
    );
    Ok(())
}

/// Builds `user/rust` (cargo skips what is up to date) in its own target
/// directory, `target/user-rust`, so its flags never touch other builds.
/// Returns `(binary, guest path)` for every entry of [`RUST_PROGRAMS`].
fn build_rust() -> Result<Vec<(PathBuf, String)>> {
    let root = util::root();
    let target_dir = root.join("target").join("user-rust");
    println!("initramfs: cargo build user/rust ({RUST_TARGET}, {RUST_FLAGS})");
    let status = util::cargo()
        .args(["build", "--quiet", "--release", "--manifest-path"])
        .arg(root.join("user").join("rust").join("Cargo.toml"))
        .args(["--target", RUST_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // Wins over any RUSTFLAGS of the caller; with an explicit --target
        // it reaches only the target crates.
        .env("CARGO_ENCODED_RUSTFLAGS", RUST_FLAGS)
        .env_remove("RUSTFLAGS")
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo for user/rust: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of user/rust failed ({status})").into());
    }
    let bin_dir = target_dir.join(RUST_TARGET).join("release");
    RUST_PROGRAMS
        .iter()
        .map(|name| {
            let bin = bin_dir.join(name);
            if bin.is_file() {
                Ok((bin, format!("tests/{name}")))
            } else {
                Err(format!("user/rust built no {}", bin.display()).into())
            }
        })
        .collect()
}

/// The mtime given to every staged file: `$SOURCE_DATE_EPOCH` or 0.
fn fixed_mtime() -> SystemTime {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Rebuilds the staging tree from scratch.
fn stage(programs: &[Program], rust: &[(PathBuf, String)], rootfs: &Path) -> Result {
    if rootfs.exists() {
        fs::remove_dir_all(rootfs)?;
    }
    for dir in ["", "bin", "sbin", "etc", "tests", "bench", "root", "tmp"] {
        fs::create_dir_all(rootfs.join(dir))?;
    }
    for p in programs {
        install(&p.output, &rootfs.join(&p.guest), 0o755)?;
    }
    for (bin, guest) in rust {
        install(bin, &rootfs.join(guest), 0o755)?;
    }
    let busybox = busybox()?;
    install(&busybox, &rootfs.join("bin").join("busybox"), 0o755)?;
    busybox_links(&busybox, rootfs)?;
    let init = rootfs.join("init");
    fs::write(&init, INIT_SCRIPT)?;
    set_attrs(&init, 0o755)?;
    let txt = rootfs.join("etc").join("ferrite-test.txt");
    fs::write(&txt, FERRITE_TEST_TXT)?;
    set_attrs(&txt, 0o644)?;
    stage_shell_tests(rootfs)?;
    // Directories last: filling them moved their mtimes.
    for dir in ["bin", "sbin", "etc", "tests", "bench", "root", ""] {
        set_attrs(&rootfs.join(dir), 0o755)?;
    }
    set_attrs(&rootfs.join("tmp"), 0o1777)?;
    Ok(())
}

/// The shell test suite (`user/shell/`, see `shtest.rs`): `run` as
/// `/shtest/run`, `pending.txt`, and every `cases/*.sh` and `cases/*.out`
/// in `/shtest/cases/`.
fn stage_shell_tests(rootfs: &Path) -> Result {
    let src = util::root().join("user").join("shell");
    let dest = rootfs.join("shtest");
    fs::create_dir_all(dest.join("cases"))?;
    install(&src.join("run"), &dest.join("run"), 0o755)?;
    install(&src.join("pending.txt"), &dest.join("pending.txt"), 0o644)?;
    let cases = src.join("cases");
    let mut files: Vec<PathBuf> = fs::read_dir(&cases)
        .map_err(|e| format!("cannot read {}: {e}", cases.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sh" || e == "out"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().ok_or("bad case file name")?;
        install(&f, &dest.join("cases").join(name), 0o644)?;
    }
    for dir in ["shtest/cases", "shtest"] {
        set_attrs(&rootfs.join(dir), 0o755)?;
    }
    Ok(())
}

/// `/init` of the image: what `cargo xtask run` boots into. The guest test
/// runner is `/sbin/utest` (booted with `rdinit=/sbin/utest`).
const INIT_SCRIPT: &str = "#!/bin/sh\n\
# Ferrite's default /init: a busybox shell on the console.\n\
export PATH=/sbin:/bin HOME=/root TERM=vt100\n\
mkdir -p /proc /sys /dev\n\
mount -t proc proc /proc\n\
mount -t sysfs sysfs /sys\n\
mount -t devtmpfs devtmpfs /dev\n\
mkdir -p /dev/pts\n\
mount -t devpts devpts /dev/pts\n\
cd /root\n\
echo\n\
echo 'Welcome to Ferrite. This is busybox sh; `exit`, `poweroff -f` or Ctrl-A X ends the VM.'\n\
echo\n\
# A session of its own with the console as controlling terminal, so that\n\
# ^C, ^Z and job control work (the console opened for init is not one).\n\
setsid -c /bin/sh -l\n\
poweroff -f\n";

/// A symlink to busybox for every applet it has (as `busybox --install -s`
/// would make), in /bin, or /sbin for the system applets.
fn busybox_links(busybox: &Path, rootfs: &Path) -> Result {
    let out = Command::new(busybox).arg("--list-full").output()?;
    if !out.status.success() {
        return Err("`busybox --list-full` failed".into());
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let rel = line.trim().trim_start_matches('/');
        let name = Path::new(rel)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if name.is_empty() || name == "busybox" || name == "init" || name == "linuxrc" {
            continue;
        }
        let dir = if rel.contains("sbin/") { "sbin" } else { "bin" };
        let link = rootfs.join(dir).join(name);
        if !link.exists() {
            std::os::unix::fs::symlink("/bin/busybox", &link)?;
        }
    }
    Ok(())
}

pub fn install(from: &Path, to: &Path, mode: u32) -> Result {
    fs::copy(from, to)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
    set_attrs(to, mode)
}

pub fn set_attrs(path: &Path, mode: u32) -> Result {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    fs::File::open(path)?.set_modified(fixed_mtime())?;
    Ok(())
}

/// `find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0` inside `rootfs`,
/// written to a temporary file and renamed over `out`.
pub fn pack(rootfs: &Path, out: &Path) -> Result {
    fs::create_dir_all(out.parent().ok_or("bad initramfs path")?)?;
    let tmp = out.with_extension("cpio.tmp");
    let file = fs::File::create(&tmp)?;
    let status = Command::new("sh")
        .args([
            "-c",
            "find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --reproducible --quiet",
        ])
        .current_dir(rootfs)
        .stdin(Stdio::null())
        .stdout(file)
        .status()
        .map_err(|e| format!("cannot run sh/cpio: {e}"))?;
    if !status.success() {
        let _ = fs::remove_file(&tmp);
        return Err(format!("cpio failed ({status})").into());
    }
    fs::rename(&tmp, out)?;
    Ok(())
}

/// `path` relative to the workspace root, for progress lines.
fn rel(path: &Path) -> String {
    let root = util::root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_init_first_then_sorted_tests() {
        let list = programs().unwrap();
        assert_eq!(list[0].guest, "sbin/utest");
        let names: Vec<&str> = list[1..]
            .iter()
            .map(|p| p.guest.as_str())
            .filter(|g| g.starts_with("tests/"))
            .collect();
        assert!(names.contains(&"tests/hello"), "{names:?}");
        assert!(list.iter().any(|p| p.guest == "bench/run"));
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn rust_programs_have_sources_and_init_knows_them() {
        let init = fs::read_to_string(util::root().join("user/init/init.c")).unwrap();
        for name in RUST_PROGRAMS {
            let src = util::root().join(format!("user/rust/src/bin/{name}.rs"));
            assert!(src.is_file(), "{}", src.display());
            // Every program is in TESTS or PENDING.
            let listed = init.contains(&format!("\"{name}\""));
            assert!(listed, "{name} is not in init.c");
        }
    }

    #[test]
    fn test_file_matches_file_read_c() {
        let src = fs::read_to_string(util::root().join("user/tests/file_read.c")).unwrap();
        let escaped = FERRITE_TEST_TXT.replace('\n', "\\n");
        assert!(src.contains(&format!("\"{escaped}\"")));
    }
}

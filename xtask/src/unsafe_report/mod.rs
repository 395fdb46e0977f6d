//! `cargo xtask unsafe-report`: how much `unsafe` each crate holds.
//!
//! Only the platform crates (`kbase`, `cabi`) may contain `unsafe`; every
//! other crate should say `#![forbid(unsafe_code)]` at its root. The report
//! counts, per crate:
//!
//! - code lines: lines that hold something besides comments and blanks;
//! - unsafe blocks (`unsafe {`), and the code lines they span;
//! - unsafe fns (`unsafe fn`, `unsafe extern "C" fn` and `unsafe extern`
//!   blocks), unsafe impls and traits, and other uses (`#[unsafe(...)]`,
//!   `global_asm!`, which rustc's `unsafe_code` lint also rejects);
//!
//! and the share of all kernel code lines that sit inside unsafe blocks.
//! The word `unsafe` in comments and literals is ignored ([`strip`]).
//!
//! Scanned: `kernel/`, `kbase/`, `cabi/**`, `libs/*`, `crates/**` (kernel
//! code) and `xtask/` (a host tool, listed but outside the kernel totals).
//! Guest programs under `user/` are not kernel code and are not scanned.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::util::{self, Args, Result};

/// Counting code lines and `unsafe` in one file.
mod scan;

use scan::{scan, strip};

/// `cargo xtask unsafe-report`.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    // `--root DIR`: report on another checkout.
    let root = args
        .value("--root")?
        .map(PathBuf::from)
        .unwrap_or_else(util::root);
    args.finish()?;
    let report = report(&root)?;
    print!("{}", report.table());
    let violations = report.violations();
    for v in &violations {
        println!("ERROR: {v}");
    }
    Ok(if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Counts for one file or a sum of files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub code_lines: u32,
    pub blocks: u32,
    pub fns: u32,
    pub impls: u32,
    pub other: u32,
    pub unsafe_lines: u32,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.code_lines += o.code_lines;
        self.blocks += o.blocks;
        self.fns += o.fns;
        self.impls += o.impls;
        self.other += o.other;
        self.unsafe_lines += o.unsafe_lines;
    }

    fn has_unsafe(&self) -> bool {
        self.blocks + self.fns + self.impls + self.other > 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `kbase`, `cabi`: may hold `unsafe`.
    Platform,
    /// Everything else in the kernel: must not.
    Safe,
    /// xtask: not kernel code, but held to the same rule.
    HostTool,
}

struct Crate {
    name: String,
    dir: PathBuf,
    role: Role,
    stats: Stats,
    has_forbid: bool,
}

pub struct Report {
    crates: Vec<Crate>,
}

/// Scans the workspace at `root`.
pub fn report(root: &Path) -> Result<Report> {
    let mut dirs = Vec::new();
    for single in ["kernel", "kbase"] {
        dirs.push(root.join(single));
    }
    for tree in ["cabi", "libs", "crates"] {
        find_crates(&root.join(tree), &mut dirs);
    }
    dirs.push(root.join("xtask"));
    let mut crates = Vec::new();
    for dir in dirs {
        if !dir.join("Cargo.toml").is_file() || crates.iter().any(|c: &Crate| c.dir == dir) {
            continue;
        }
        let rel = dir.strip_prefix(root).unwrap_or(&dir).to_path_buf();
        let role = if rel.starts_with("kbase") || rel.starts_with("cabi") {
            Role::Platform
        } else if rel.starts_with("xtask") {
            Role::HostTool
        } else {
            Role::Safe
        };
        let mut stats = Stats::default();
        for file in rust_files(&dir) {
            let src =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            stats.add(&scan(&src));
        }
        crates.push(Crate {
            name: package_name(&dir).unwrap_or_else(|| rel.display().to_string()),
            has_forbid: has_forbid(&dir),
            dir: rel,
            role,
            stats,
        });
    }
    Ok(Report { crates })
}

impl Report {
    fn kernel_total(&self) -> Stats {
        let mut t = Stats::default();
        for c in self.crates.iter().filter(|c| c.role != Role::HostTool) {
            t.add(&c.stats);
        }
        t
    }

    /// The printed table.
    pub fn table(&self) -> String {
        let total = self.kernel_total();
        let share = |lines: u32| {
            if total.code_lines == 0 {
                "0.00%".to_string()
            } else {
                format!("{:.2}%", 100.0 * lines as f64 / total.code_lines as f64)
            }
        };
        let mut out = String::new();
        let row = |out: &mut String, name: &str, s: &Stats, share: &str, note: &str| {
            let _ = writeln!(
                out,
                "{name:<24} {:>7} {:>7} {:>6} {:>7} {:>6} {:>8} {share:>7}  {note}",
                s.code_lines, s.blocks, s.fns, s.impls, s.other, s.unsafe_lines
            );
        };
        let _ = writeln!(
            out,
            "{:<24} {:>7} {:>7} {:>6} {:>7} {:>6} {:>8} {:>7}",
            "crate", "code", "blocks", "fns", "impls", "other", "unsafe", "share"
        );
        let _ = writeln!(
            out,
            "{:<24} {:>7} {:>7} {:>6} {:>7} {:>6} {:>8} {:>7}",
            "", "lines", "", "", "traits", "", "lines", ""
        );
        for c in &self.crates {
            let mut note = match c.role {
                Role::Platform => "platform (unsafe allowed)".to_string(),
                Role::Safe | Role::HostTool if c.has_forbid => "forbid(unsafe_code)".to_string(),
                Role::Safe | Role::HostTool => "MISSING forbid(unsafe_code)".to_string(),
            };
            if c.role == Role::HostTool {
                note.push_str("; host tool, not in totals");
            }
            if c.role != Role::Platform && c.stats.has_unsafe() {
                note.push_str("; UNSAFE CODE OUTSIDE PLATFORM CRATES");
            }
            let sh = if c.role == Role::HostTool {
                "-".to_string()
            } else {
                share(c.stats.unsafe_lines)
            };
            row(&mut out, &c.name, &c.stats, &sh, &note);
        }
        row(
            &mut out,
            "total (kernel code)",
            &total,
            &share(total.unsafe_lines),
            "",
        );
        let _ = writeln!(
            out,
            "unsafe share of kernel code: {} of {} code lines are inside unsafe blocks ({})",
            total.unsafe_lines,
            total.code_lines,
            share(total.unsafe_lines)
        );
        out
    }

    /// Non-platform crates that contain unsafe code.
    pub fn violations(&self) -> Vec<String> {
        self.crates
            .iter()
            .filter(|c| c.role != Role::Platform && c.stats.has_unsafe())
            .map(|c| {
                let s = &c.stats;
                format!(
                    "crate `{}` ({}) contains unsafe code ({} blocks, {} fns, {} impls/traits, {} other); only kbase and cabi may",
                    c.name,
                    c.dir.display(),
                    s.blocks,
                    s.fns,
                    s.impls,
                    s.other
                )
            })
            .collect()
    }
}

/// Every directory with a Cargo.toml at or below `dir`.
fn find_crates(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("Cargo.toml").is_file() {
        out.push(dir.to_path_buf());
    }
    for sub in subdirs(dir) {
        find_crates(&sub, out);
    }
}

/// Subdirectories worth scanning, sorted; skips build output and hidden dirs.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && name != "target"
        })
        .collect();
    out.sort();
    out
}

/// The crate's `.rs` files, not descending into nested crates.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.filter_map(|e| e.ok()) {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "rs") && p.is_file() {
                    out.push(p);
                }
            }
        }
        stack.extend(
            subdirs(&d)
                .into_iter()
                .filter(|s| !s.join("Cargo.toml").exists()),
        );
    }
    out.sort();
    out
}

/// `name` from the `[package]` table.
fn package_name(dir: &Path) -> Option<String> {
    let toml = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let mut in_package = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(rest) = line.strip_prefix("name") {
            let value = rest.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_string());
        }
    }
    None
}

/// Whether every crate root present (`src/lib.rs`, `src/main.rs`) says
/// `#![forbid(unsafe_code)]`.
fn has_forbid(dir: &Path) -> bool {
    let roots: Vec<PathBuf> = ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|r| dir.join(r))
        .filter(|p| p.is_file())
        .collect();
    !roots.is_empty()
        && roots.iter().all(|r| {
            let src = std::fs::read_to_string(r).unwrap_or_default();
            let code: String = strip(&src).chars().filter(|c| !c.is_whitespace()).collect();
            code.match_indices("#![forbid(").any(|(i, m)| {
                let args = &code[i + m.len()..];
                let args = &args[..args.find(')').unwrap_or(args.len())];
                args.split(',').any(|a| a == "unsafe_code")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_report_runs() {
        let r = report(&util::root()).unwrap();
        let xtask = r.crates.iter().find(|c| c.name == "xtask").unwrap();
        assert!(xtask.has_forbid);
        assert!(!xtask.stats.has_unsafe(), "xtask itself must stay safe");
        assert!(r.table().contains("total (kernel code)"));
    }
}

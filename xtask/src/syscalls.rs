//! `cargo xtask syscalls [--check]`: regenerates `docs/syscalls.md`.
//!
//! ```text
//! xtask/src/syscall_names.rs      every x86_64 syscall (from linux-raw-sys)
//! crates/linux/src/syscall/mod.rs the dispatcher's `match` on `nr::__NR_*`
//!                 │
//!                 ▼
//! docs/syscalls.md  | nr | name | status | notes |, sorted by number
//! ```
//!
//! Status of a syscall, read from the arms of the first `match` in the
//! dispatcher whose arms name `nr::__NR_*` constants:
//!
//! - **partial**: the arm carries a `// partial: <what>` comment (on one of
//!   its lines, or on comment lines right above it), or its handler is just
//!   `Ok(0)` (a stub that does nothing). The note column shows `<what>`.
//! - **implemented**: any other arm naming the constant.
//! - **missing**: no arm; the call returns ENOSYS.
//!
//! `--check` renders the page in memory and fails if the file differs;
//! `cargo xtask test` runs it as one counted test.
//! `--names-from FILE` rewrites `xtask/src/syscall_names.rs` from
//! linux-raw-sys's `src/x86_64/general.rs` (after a crate upgrade).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::syscall_names;
use crate::util::{self, Args, Result};

/// The annotation kernel engineers put on an arm that is incomplete.
const PARTIAL_TAG: &str = "partial:";

/// `crates/linux/src/syscall/mod.rs`.
pub fn table_path() -> PathBuf {
    util::root().join("crates/linux/src/syscall/mod.rs")
}

/// `docs/syscalls.md`.
pub fn doc_path() -> PathBuf {
    util::root().join("docs").join("syscalls.md")
}

/// `cargo xtask syscalls [--check] [--names-from FILE]`.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let check_only = args.flag("--check");
    let names_from = args.value("--names-from")?;
    args.finish()?;
    if let Some(file) = names_from {
        let text = fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
        let entries = parse_raw_sys(&text);
        if entries.is_empty() {
            return Err(format!("no `pub const __NR_*: u32` constants in {file}").into());
        }
        let label = raw_sys_label(&file);
        let out = util::root().join("xtask/src/syscall_names.rs");
        fs::write(&out, render_names(&label, &entries))?;
        println!("{}: {} syscalls from {label}", out.display(), entries.len());
        if check_only {
            return Ok(ExitCode::SUCCESS);
        }
    }
    if check_only {
        return Ok(if check()? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let (page, counts) = generate()?;
    fs::write(doc_path(), page)?;
    println!(
        "docs/syscalls.md: {} implemented, {} partial, {} missing",
        counts.implemented, counts.partial, counts.missing
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether `docs/syscalls.md` matches what `cargo xtask syscalls` would
/// write; prints why not.
pub fn check() -> Result<bool> {
    let (page, _) = generate()?;
    let current = fs::read_to_string(doc_path()).unwrap_or_default();
    if current == page {
        println!("docs/syscalls.md is up to date");
        return Ok(true);
    }
    let diff = current
        .lines()
        .zip(page.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| current.lines().count().min(page.lines().count()));
    println!(
        "docs/syscalls.md is out of date (first difference at line {}); run `cargo xtask syscalls`",
        diff + 1
    );
    Ok(false)
}

/// The page from the current dispatcher source.
fn generate() -> Result<(String, Counts)> {
    let path = table_path();
    let src =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let arms = parse_dispatcher(&src);
    if arms.is_empty() {
        return Err(format!("no `nr::__NR_*` match arms found in {}", path.display()).into());
    }
    for name in arms.keys() {
        if !syscall_names::SYSCALLS.iter().any(|(_, n)| n == name) {
            eprintln!("warning: __NR_{name} in the dispatcher is not an x86_64 syscall name");
        }
    }
    Ok(render(syscall_names::SYSCALLS, &arms))
}

// ---- parsing ---------------------------------------------------------------

/// What the dispatcher says about one syscall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arm {
    /// `Some(note)` when partial; the note may be empty.
    pub partial: Option<String>,
}

/// Splits a source line into code and its `//` comment (not inside a
/// string literal).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut in_str = false;
    let mut prev = '\0';
    for (i, c) in line.char_indices() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '/' if !in_str && prev == '/' => return (&line[..i - 1], Some(line[i + 1..].trim())),
            _ => {}
        }
        prev = c;
    }
    (line, None)
}

/// The `partial:` note of a comment, if it is one.
fn partial_note(comment: &str) -> Option<String> {
    let c = comment.trim_start_matches('/').trim();
    let rest = c
        .strip_prefix(PARTIAL_TAG)
        .or_else(|| (c == PARTIAL_TAG.trim_end_matches(':')).then_some(""))?;
    Some(rest.trim().to_string())
}

/// Every `__NR_<name>` named in `code`.
fn nr_names(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("__NR_") {
        let tail = &rest[i + "__NR_".len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if end > 0 {
            out.push(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    out
}

fn brace_delta(code: &str) -> i32 {
    let mut in_str = false;
    let mut prev = '\0';
    let mut d = 0;
    for c in code.chars() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '{' if !in_str => d += 1,
            '}' if !in_str => d -= 1,
            _ => {}
        }
        prev = c;
    }
    d
}

/// Reads the arms of the first `match` whose arms name `nr::__NR_*`
/// constants: syscall name (without `__NR_`) → what its arm says.
pub fn parse_dispatcher(src: &str) -> BTreeMap<String, Arm> {
    let lines: Vec<&str> = src.lines().collect();
    let mut start = 0;
    while start < lines.len() {
        let Some(i) = lines[start..]
            .iter()
            .position(|l| {
                let code = split_comment(l).0.trim_end();
                code.contains("match ") && code.ends_with('{')
            })
            .map(|i| i + start)
        else {
            break;
        };
        let arms = parse_match(&lines[i + 1..]);
        if !arms.is_empty() {
            return arms;
        }
        start = i + 1;
    }
    BTreeMap::new()
}

/// Arms of one `match` body (the lines after its `{`).
fn parse_match(lines: &[&str]) -> BTreeMap<String, Arm> {
    let mut arms = BTreeMap::new();
    let mut depth = 1;
    // The arm being read: names in its pattern and its partial note.
    let mut names: Vec<String> = Vec::new();
    let mut note: Option<String> = None;
    // Comment lines above an arm that said `partial:`.
    let mut note_above: Option<String> = None;
    // The pattern ended with `=>` at the end of a line: the handler follows.
    let mut handler_next = false;
    let mut finish = |names: &mut Vec<String>, note: Option<String>, handler: &str| {
        let handler = handler.trim().trim_end_matches(',').trim();
        let partial = note.or_else(|| (handler == "Ok(0)").then(|| "stub: returns 0".to_string()));
        for name in names.drain(..) {
            arms.insert(
                name,
                Arm {
                    partial: partial.clone(),
                },
            );
        }
    };
    for line in lines {
        let (code, comment) = split_comment(line);
        let line_note = comment.and_then(partial_note);
        if depth == 1 {
            if handler_next {
                handler_next = false;
                let n = note.take().or(line_note.clone());
                finish(&mut names, n, code);
            } else if code.trim().is_empty() {
                // A comment-only line: may annotate the next arm.
                if line_note.is_some() {
                    note_above = line_note.clone();
                }
            } else if let Some((pattern, handler)) = code.split_once("=>") {
                names.extend(nr_names(pattern));
                let n = note.take().or(line_note.clone()).or(note_above.take());
                if names.is_empty() {
                    // `_ =>` or an arm without syscall constants.
                } else if handler.trim().is_empty() {
                    note = n;
                    handler_next = true;
                } else {
                    finish(&mut names, n, handler);
                }
            } else {
                // A pattern continued on the next line.
                names.extend(nr_names(code));
                if line_note.is_some() {
                    note = line_note.clone();
                }
            }
        }
        depth += brace_delta(code);
        if depth <= 0 {
            break;
        }
    }
    arms
}

/// `pub const __NR_<name>: u32 = <n>;` lines of linux-raw-sys, by number.
pub fn parse_raw_sys(src: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = src
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("pub const __NR_")?;
            let (name, value) = rest.split_once(": u32 = ")?;
            let n = value.trim().strip_suffix(';')?.trim().parse().ok()?;
            Some((n, name.to_string()))
        })
        .collect();
    out.sort();
    out
}

/// `linux-raw-sys 0.12.1` from a path inside `linux-raw-sys-0.12.1/`.
fn raw_sys_label(path: &str) -> String {
    path.split('/')
        .find_map(|c| c.strip_prefix("linux-raw-sys-"))
        .map(|v| format!("linux-raw-sys {v}"))
        .unwrap_or_else(|| "linux-raw-sys".to_string())
}

/// The text of `xtask/src/syscall_names.rs`.
pub fn render_names(label: &str, entries: &[(u32, String)]) -> String {
    let mut s = String::new();
    s.push_str("//! Every x86_64 Linux system call: `(number, name)`, sorted by number.\n");
    s.push_str("//!\n");
    s.push_str(&format!(
        "//! Generated from the `__NR_*` constants of {label}\n"
    ));
    s.push_str("//! (`src/x86_64/general.rs`), the crate the kernel takes its numbers from,\n");
    s.push_str("//! so `cargo xtask syscalls` works offline. Regenerate after a\n");
    s.push_str("//! linux-raw-sys upgrade with\n");
    s.push_str("//! `cargo xtask syscalls --names-from ~/.cargo/registry/src/*/linux-raw-sys-<version>/src/x86_64/general.rs`.\n");
    s.push('\n');
    s.push_str("/// The linux-raw-sys version this table was generated from.\n");
    s.push_str(&format!("pub const SOURCE: &str = \"{label}\";\n"));
    s.push('\n');
    s.push_str("/// `(number, name)` without the `__NR_` prefix, by number.\n");
    s.push_str("pub const SYSCALLS: &[(u32, &str)] = &[\n");
    for (n, name) in entries {
        s.push_str(&format!("    ({n}, \"{name}\"),\n"));
    }
    s.push_str("];\n");
    s
}

// ---- the page --------------------------------------------------------------

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub implemented: u32,
    pub partial: u32,
    pub missing: u32,
}

/// Markdown table cells must not contain `|` or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The whole page.
pub fn render(all: &[(u32, &str)], arms: &BTreeMap<String, Arm>) -> (String, Counts) {
    let mut sorted: Vec<(u32, &str)> = all.to_vec();
    sorted.sort();
    let mut counts = Counts::default();
    let mut rows = String::new();
    for (n, name) in &sorted {
        let (status, note) = match arms.get(*name) {
            Some(Arm { partial: Some(p) }) => {
                counts.partial += 1;
                ("partial", p.as_str())
            }
            Some(Arm { partial: None }) => {
                counts.implemented += 1;
                ("implemented", "")
            }
            None => {
                counts.missing += 1;
                ("missing", "")
            }
        };
        rows.push_str(&format!("| {n} | {name} | {status} | {} |\n", cell(note)));
    }
    let mut page = String::new();
    page.push_str("# System calls\n\n");
    page.push_str(
        "<!-- Generated by `cargo xtask syscalls`; do not edit by hand. -->\n\n\
         Every x86_64 Linux system call, by number, and what Ferrite does with it.\n\
         The page is generated by `cargo xtask syscalls` from the dispatcher's\n\
         `match` in `crates/linux/src/syscall/mod.rs`, and the names and numbers\n",
    );
    page.push_str(&format!(
        "come from {} (`xtask/src/syscall_names.rs`). `cargo xtask test` fails\n",
        syscall_names::SOURCE
    ));
    page.push_str(
        "while this page is out of date (`cargo xtask syscalls --check`).\n\n\
         - **implemented**: the dispatcher has an arm for the number.\n\
         - **partial**: the arm is a stub that returns 0, or it carries a\n  \
           `// partial: <what is missing>` comment (on the arm's line or on the\n  \
           comment lines right above it); the note column repeats that comment.\n\
         - **missing**: no arm. The call returns `-ENOSYS`, and the kernel logs\n  \
           `syscall N is not implemented: ENOSYS` the first time.\n\n",
    );
    page.push_str("| status | count |\n| --- | ---: |\n");
    page.push_str(&format!("| implemented | {} |\n", counts.implemented));
    page.push_str(&format!("| partial | {} |\n", counts.partial));
    page.push_str(&format!("| missing | {} |\n", counts.missing));
    page.push_str(&format!("| total | {} |\n\n", sorted.len()));
    page.push_str("| nr | name | status | notes |\n| ---: | --- | --- | --- |\n");
    page.push_str(&rows);
    (page, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: &str = r#"
fn helper() {
    match x {
        1 => {}
        _ => {}
    }
}

fn call(n: u64, a: Args) -> SysResult {
    let Ok(n32) = u32::try_from(n) else { return Err(ENOSYS) };
    match n32 {
        nr::__NR_read => fs::read(a.fd(0)), // reads "a // b"
        nr::__NR_write => fs::write(a.fd(0)), // partial: no O_APPEND
        nr::__NR_getuid | nr::__NR_getgid => Ok(0),
        nr::__NR_setuid | nr::__NR_setgid
        | nr::__NR_setresuid => proc::set_ids(),
        // partial: FUTEX_WAIT only
        nr::__NR_futex => proc::futex(a),
        nr::__NR_brk => {
            let x = nr::__NR_mmap;
            mm::brk(x)
        }
        nr::__NR_long_one =>
            some::very_long_handler_name(a.0[0], a.0[1], a.0[2]),
        _ => {
            log::info!("syscall {n32} is not implemented");
            Err(ENOSYS)
        }
    }
}

fn later() {
    match n { nr::__NR_close => 1, _ => 0 }
}
"#;

    fn arm(partial: Option<&str>) -> Arm {
        Arm {
            partial: partial.map(str::to_string),
        }
    }

    #[test]
    fn parses_arms_of_the_dispatcher() {
        let arms = parse_dispatcher(FAKE);
        let names: Vec<&str> = arms.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "brk",
                "futex",
                "getgid",
                "getuid",
                "long_one",
                "read",
                "setgid",
                "setresuid",
                "setuid",
                "write"
            ]
        );
        assert_eq!(arms["read"], arm(None));
        assert_eq!(arms["write"], arm(Some("no O_APPEND")));
        assert_eq!(arms["getuid"], arm(Some("stub: returns 0")));
        assert_eq!(arms["getgid"], arm(Some("stub: returns 0")));
        assert_eq!(arms["setresuid"], arm(None));
        assert_eq!(arms["futex"], arm(Some("FUTEX_WAIT only")));
        assert_eq!(arms["brk"], arm(None));
        assert_eq!(arms["long_one"], arm(None));
        // Inside a handler body, not an arm; and a later match is ignored.
        assert!(!arms.contains_key("mmap"));
        assert!(!arms.contains_key("close"));
    }

    #[test]
    fn renders_counts_and_sorted_rows() {
        let arms = parse_dispatcher(FAKE);
        let all = [(60, "exit"), (1, "write"), (0, "read"), (202, "futex")];
        let (page, counts) = render(&all, &arms);
        assert_eq!(
            counts,
            Counts {
                implemented: 1,
                partial: 2,
                missing: 1
            }
        );
        let rows: Vec<&str> = page
            .lines()
            .filter(|l| l.starts_with("| ") && l.ends_with(" |"))
            .collect();
        let table: Vec<&str> = rows
            .iter()
            .copied()
            .skip_while(|l| !l.starts_with("| nr "))
            .collect();
        assert_eq!(
            table[2..],
            [
                "| 0 | read | implemented |  |",
                "| 1 | write | partial | no O_APPEND |",
                "| 60 | exit | missing |  |",
                "| 202 | futex | partial | FUTEX_WAIT only |",
            ]
        );
        assert!(page.contains("| implemented | 1 |"));
        assert!(page.contains("| missing | 1 |"));
        assert!(page.contains("| total | 4 |"));
    }

    #[test]
    fn parses_linux_raw_sys_constants() {
        let src = "pub const __NR_write: u32 = 1;\npub const __NR_read: u32 = 0;\n\
                   pub const O_RDONLY: u32 = 0;\npub const __NR_x: u64 = 3;\n";
        assert_eq!(
            parse_raw_sys(src),
            [(0, "read".to_string()), (1, "write".to_string())]
        );
        assert_eq!(
            raw_sys_label("/r/linux-raw-sys-0.12.1/src/x86_64/general.rs"),
            "linux-raw-sys 0.12.1"
        );
    }

    #[test]
    fn committed_names_table_is_sorted_and_rendered_by_this_module() {
        let entries: Vec<(u32, String)> = syscall_names::SYSCALLS
            .iter()
            .map(|(n, s)| (*n, s.to_string()))
            .collect();
        assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(entries.len() > 350);
        let file = fs::read_to_string(util::root().join("xtask/src/syscall_names.rs")).unwrap();
        assert_eq!(file, render_names(syscall_names::SOURCE, &entries));
    }

    #[test]
    fn real_dispatcher_has_arms() {
        let src = fs::read_to_string(table_path()).unwrap();
        let arms = parse_dispatcher(&src);
        assert!(arms.contains_key("read") && arms.contains_key("execve"));
    }
}

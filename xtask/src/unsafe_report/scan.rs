//! The lexer and counter behind the report: comments and literals are
//! blanked ([`strip`]), the rest is cut into tokens, and each `unsafe`
//! token is classified by the token after it.

use std::collections::BTreeSet;

use super::Stats;

/// Counts one file's code lines and unsafe uses.
pub fn scan(src: &str) -> Stats {
    let code = strip(src);
    let line_has_code: Vec<bool> = code.lines().map(|l| !l.trim().is_empty()).collect();
    let tokens = tokenize(&code);
    let mut stats = Stats {
        code_lines: line_has_code.iter().filter(|&&b| b).count() as u32,
        ..Stats::default()
    };
    let mut unsafe_lines = BTreeSet::new();
    for (k, (tok, line)) in tokens.iter().enumerate() {
        // rustc's `unsafe_code` lint fires on `global_asm!` too.
        if *tok == "global_asm" && tokens.get(k + 1).is_some_and(|t| t.0 == "!") {
            stats.other += 1;
        }
        if *tok != "unsafe" {
            continue;
        }
        let next = |j: usize| tokens.get(k + j).map(|t| t.0);
        match next(1) {
            Some("{") => {
                stats.blocks += 1;
                let end = matching_brace(&tokens, k + 1).unwrap_or(tokens.len() - 1);
                unsafe_lines.extend(*line..=tokens[end].1);
            }
            Some("fn") => stats.fns += 1,
            // `unsafe extern "C" fn` / `unsafe extern "C" { ... }` (the
            // string became two `"` tokens).
            Some("extern") => stats.fns += 1,
            Some("impl") | Some("trait") | Some("auto") => stats.impls += 1,
            _ => stats.other += 1,
        }
    }
    stats.unsafe_lines = unsafe_lines
        .into_iter()
        .filter(|&l| line_has_code.get(l).copied().unwrap_or(false))
        .count() as u32;
    stats
}

/// Index of the `}` closing the `{` at `open`.
fn matching_brace(tokens: &[(&str, usize)], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, (t, _)) in tokens.iter().enumerate().skip(open) {
        match *t {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Identifiers/numbers as words, any other non-space char as itself; each
/// with its 0-based line.
fn tokenize(code: &str) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    for (line_no, line) in code.lines().enumerate() {
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if is_ident(c) {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if !is_ident(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                out.push((&line[i..end], line_no));
            } else if !c.is_whitespace() {
                out.push((&line[i..i + c.len_utf8()], line_no));
            }
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `src` with comments removed and the contents of string, char and byte
/// literals blanked; line breaks are kept so line numbers still match.
pub fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if ch == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if ch == '\'' {
            // 'x', '\n', '\u{1F600}', '\'' are literals; 'a / 'static are not.
            if at(i + 1) == '\\' {
                let mut j = i + 3;
                while j < c.len() && c[j] != '\'' && c[j] != '\n' {
                    j += 1;
                }
                out.push_str("' '");
                i = j + 1;
            } else if at(i + 2) == '\'' && at(i + 1) != '\n' {
                out.push_str("' '");
                i += 3;
            } else {
                out.push('\'');
                i += 1;
            }
        } else if is_ident(ch) && (i == 0 || !is_ident(c[i - 1])) {
            let start = i;
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // Raw strings: r"..", r#".."#, br"..", cr"..".
            if matches!(word.as_str(), "r" | "br" | "cr") {
                let mut hashes = 0;
                while at(i + hashes) == '#' {
                    hashes += 1;
                }
                if at(i + hashes) == '"' {
                    i += hashes + 1;
                    out.push('"');
                    loop {
                        if i >= c.len() {
                            break;
                        }
                        if c[i] == '"' && (0..hashes).all(|h| at(i + 1 + h) == '#') {
                            i += 1 + hashes;
                            break;
                        }
                        if c[i] == '\n' {
                            out.push('\n');
                        }
                        i += 1;
                    }
                    out.push('"');
                    continue;
                }
            }
            // `b"..."`, `c"..."`, `b'x'`: the literal follows as usual.
            out.push_str(&word);
        } else {
            out.push(ch);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_comments_and_literals() {
        let src = "let a = \"unsafe { }\"; // unsafe {\n/* unsafe /* nested */ fn */ let b = 'x';\nlet c = r#\"unsafe\"#; let d: &'static str = b\"unsafe\"; let e = '\\'';";
        let s = strip(src);
        assert!(!s.contains("unsafe"), "{s}");
        assert_eq!(s.lines().count(), 3);
        assert!(s.contains("&'static str"), "{s}");
    }

    #[test]
    fn counts_unsafe() {
        let src = r#"
#![forbid(unsafe_code)]
// unsafe { this is a comment }
/// Docs: unsafe fn
pub unsafe fn f(p: *const u8) -> u8 {
    // SAFETY: caller's promise.
    unsafe { *p }
}

unsafe impl Send for X {}
unsafe extern "C" {
    fn g();
}

fn h() {
    let x = unsafe {
        let y = 1;

        y + 1
    };
    let s = "unsafe {";
}
#[unsafe(no_mangle)]
extern "C" fn k() {}
core::arch::global_asm!("nop");
"#;
        let s = scan(src);
        assert_eq!(s.blocks, 2);
        assert_eq!(s.fns, 2);
        assert_eq!(s.impls, 1);
        assert_eq!(s.other, 2);
        // `unsafe { *p }` (1 line) + the 5-line block with a blank line (4).
        assert_eq!(s.unsafe_lines, 5);
        assert_eq!(s.code_lines, 18);
    }
}

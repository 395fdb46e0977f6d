//! [`parse_shebang`]: the `#!interpreter [argument]` line of a script.
//!
//! A faithful copy of Linux's `load_script` (fs/binfmt_script.c). It sees
//! only the first [`BINPRM_BUF_SIZE`] bytes, NUL-padded when the file is
//! shorter; of those, a line without a newline is used only when the
//! interpreter path visibly ends inside it (a later space, tab or NUL),
//! since a cut-off path must not be run. The argument may be cut off: the
//! interpreter rereads the script anyway.
//!
//! ```text
//!  #!  /usr/bin/env   python3 -u  \n
//!      \__________/   \_________/
//!      interpreter    one argument (inner blanks kept, ends trimmed)
//! ```

use crate::Error;

/// Bytes of the file Linux looks at (`BINPRM_BUF_SIZE`, include/linux/binfmts.h).
pub const BINPRM_BUF_SIZE: usize = 256;

/// The interpreter line of a `#!` script; both slices borrow the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shebang<'a> {
    /// Interpreter path: not empty, no space, tab or NUL.
    pub interpreter: &'a [u8],
    /// Everything after the path up to the end of the line, blanks around
    /// it trimmed; `None` when that is empty. No NUL.
    pub arg: Option<&'a [u8]>,
}

/// `None` unless `file` starts with `#!`; otherwise the parsed line, or why
/// the kernel must refuse it (`ENOEXEC`).
///
/// Linux then runs `interpreter [arg] <script path> argv[1..]`.
pub fn parse_shebang(file: &[u8]) -> Option<Result<Shebang<'_>, Error>> {
    if !file.starts_with(b"#!") {
        return None;
    }
    Some(parse_line(file))
}

/// Follows `load_script` step by step on the same NUL-padded buffer, then
/// maps the positions found back into `file`.
fn parse_line(file: &[u8]) -> Result<Shebang<'_>, Error> {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let mut buf = [0u8; BINPRM_BUF_SIZE];
    let copied = file.len().min(BINPRM_BUF_SIZE);
    buf[..copied].copy_from_slice(&file[..copied]);

    // strnchr(buf, BINPRM_BUF_SIZE, '\n'): stops at the first NUL.
    let newline = buf
        .iter()
        .take_while(|&&b| b != 0)
        .position(|&b| b == b'\n');
    let line_end = match newline {
        Some(at) => at,
        None => {
            // The last byte is kept for the terminating NUL.
            let body = &buf[2..BINPRM_BUF_SIZE - 1];
            let Some(path_start) = body.iter().position(|b| !is_blank(b)) else {
                return Err(Error::ShebangNoInterpreter);
            };
            if !body[path_start..].iter().any(|b| is_blank(b) || *b == 0) {
                return Err(Error::ShebangTruncated);
            }
            BINPRM_BUF_SIZE - 1
        }
    };
    // Trailing blanks go first; then the line is a C string.
    let line = trim_end(&buf[..line_end], is_blank);
    let line_end = line.iter().position(|&b| b == 0).unwrap_or(line.len());

    let path_start = skip(&buf, 2, line_end, is_blank);
    let path_end = skip(&buf, path_start, line_end, |b| !is_blank(b));
    if path_start == path_end {
        return Err(Error::ShebangNoInterpreter);
    }
    let arg_start = skip(&buf, path_end, line_end, is_blank);
    // Every byte in these ranges is non-NUL, so it came from `file`.
    let interpreter = file.get(path_start..path_end).unwrap_or_default();
    let arg = file.get(arg_start..line_end).filter(|a| !a.is_empty());
    Ok(Shebang { interpreter, arg })
}

/// First index in `from..to` whose byte does not match `pred`, else `to`.
fn skip(buf: &[u8], from: usize, to: usize, pred: impl Fn(&u8) -> bool) -> usize {
    buf.get(from..to)
        .and_then(|s| s.iter().position(|b| !pred(b)))
        .map_or(to, |i| from + i)
}

fn trim_end(s: &[u8], is_blank: impl Fn(&u8) -> bool) -> &[u8] {
    let end = s.iter().rposition(|b| !is_blank(b)).map_or(0, |i| i + 1);
    &s[..end]
}

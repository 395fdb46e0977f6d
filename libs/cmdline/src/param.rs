//! Tokenizer: splits a command line into `key[=value]` params, as Linux's
//! `next_arg()` (lib/cmdline.c) does, stopping at a bare `--`.

use core::fmt;

/// One `key` or `key=value` token, quotes already removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    pub key: &'a str,
    pub value: Option<&'a str>,
}

/// A problem found while parsing; parsing always continues past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning<'a> {
    /// A `"` opened and never closed; the token ran to the end of the line
    /// and was dropped.
    UnterminatedQuote { token: &'a str },
    /// A token with nothing before `=` (`=x`, `""`).
    EmptyKey { token: &'a str },
    /// A known key that needs a value was given none (`init`, `maxcpus=`).
    MissingValue { key: &'a str },
    /// A known key's value did not parse.
    BadValue {
        key: &'a str,
        value: &'a str,
        expected: &'static str,
    },
    /// A known flag was given a value (`quiet=1`); the param was ignored.
    UnexpectedValue { key: &'a str, value: &'a str },
}

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnterminatedQuote { token } => write!(f, "unterminated quote in `{token}`"),
            Warning::EmptyKey { token } => write!(f, "empty parameter name in `{token}`"),
            Warning::MissingValue { key } => write!(f, "`{key}` needs a value"),
            Warning::BadValue {
                key,
                value,
                expected,
            } => {
                write!(f, "`{key}={value}`: expected {expected}")
            }
            Warning::UnexpectedValue { key, value } => {
                write!(f, "`{key}` takes no value, ignoring `{key}={value}`")
            }
        }
    }
}

/// Iterator over the params before `--`; see [`params`].
#[derive(Debug, Clone)]
pub struct Params<'a> {
    rest: &'a str,
    init_args: Option<&'a str>,
}

/// Params of `cmdline` in order. Malformed tokens come out as `Err` and are
/// skipped; a bare `--` ends the iteration, and what follows it is then
/// available from [`Params::init_args`].
pub fn params(cmdline: &str) -> Params<'_> {
    Params {
        rest: cmdline,
        init_args: None,
    }
}

impl<'a> Params<'a> {
    /// Everything after a bare `--`, once the iterator has reached it.
    pub fn init_args(&self) -> InitArgs<'a> {
        InitArgs(self.init_args.unwrap_or(""))
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, Warning<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let token = next_token(&mut self.rest)?;
        if token.text == "--" {
            self.init_args = Some(trim_space(core::mem::take(&mut self.rest)));
            return None;
        }
        if token.is_unterminated {
            return Some(Err(Warning::UnterminatedQuote { token: token.text }));
        }
        // A fully quoted token (`"key=a b"`) loses its outer quotes first.
        let body = match token.text.strip_prefix('"') {
            Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
            None => token.text,
        };
        let (key, value) = match body.split_once('=') {
            Some((key, value)) => (key, Some(strip_quotes(value))),
            None => (body, None),
        };
        if key.is_empty() {
            return Some(Err(Warning::EmptyKey { token: token.text }));
        }
        Some(Ok(Param { key, value }))
    }
}

/// The arguments after `--`, for init's argv.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InitArgs<'a>(&'a str);

impl<'a> InitArgs<'a> {
    /// The words, split like params; a word in double quotes loses the quotes
    /// (inner quotes are kept, since there is no buffer to rewrite them in).
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let mut rest = self.0;
        core::iter::from_fn(move || next_token(&mut rest).map(|t| strip_quotes(t.text)))
    }

    /// The raw text after `--`, leading and trailing whitespace removed.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

struct Token<'a> {
    text: &'a str,
    is_unterminated: bool,
}

/// Takes the next whitespace-separated token off `rest`; whitespace inside
/// double quotes does not split.
fn next_token<'a>(rest: &mut &'a str) -> Option<Token<'a>> {
    let s = trim_space(rest);
    if s.is_empty() {
        *rest = s;
        return None;
    }
    let mut is_quoted = false;
    let mut end = s.len();
    for (i, byte) in s.bytes().enumerate() {
        if is_space(byte) && !is_quoted {
            end = i;
            break;
        }
        if byte == b'"' {
            is_quoted = !is_quoted;
        }
    }
    // `end` sits on an ASCII byte (or the end), so both halves are valid UTF-8.
    let (text, tail) = s.split_at(end);
    *rest = tail;
    Some(Token {
        text,
        is_unterminated: is_quoted,
    })
}

fn strip_quotes(value: &str) -> &str {
    match value.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
        None => value,
    }
}

/// Linux `isspace()`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_space(c as u8))
}

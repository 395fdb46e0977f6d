//! Small shared pieces: the error type, workspace paths, a tiny argument
//! parser and process helpers. No dependency beyond std.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every fallible xtask step returns this; the message is shown as is.
pub type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

/// The workspace root: xtask lives in `<root>/xtask`.
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `<root>/target/ferrite`: stable place for the kernel image and disk images.
pub fn out_dir() -> PathBuf {
    root().join("target").join("ferrite")
}

/// The `cargo` that started us (so `cargo +toolchain xtask` stays consistent).
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root());
    cmd
}

/// Parses a decimal number for option `what`.
pub fn parse_num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse()
        .map_err(|_| format!("{what}: `{s}` is not a number").into())
}

/// Prints a step header such as `==> host tests`.
pub fn header(what: &str) {
    println!("==> {what}");
}

/// A minimal command-line parser: flags, `--key value` / `--key=value`
/// options, positionals and everything after `--`.
///
/// Options are taken out as they are asked for; [`Args::finish`] rejects
/// whatever no one asked for, so typos fail loudly.
pub struct Args {
    items: Vec<String>,
    after_dashdash: Vec<String>,
}

impl Args {
    pub fn from_env() -> Self {
        Self::from_vec(std::env::args().skip(1).collect())
    }

    pub fn from_vec(all: Vec<String>) -> Self {
        let mut items = all;
        let after_dashdash = match items.iter().position(|a| a == "--") {
            Some(i) => {
                let rest = items.split_off(i);
                rest[1..].to_vec()
            }
            None => Vec::new(),
        };
        Self {
            items,
            after_dashdash,
        }
    }

    /// Takes the first argument that is not an option.
    pub fn next_positional(&mut self) -> Option<String> {
        let i = self.items.iter().position(|a| !a.starts_with('-'))?;
        Some(self.items.remove(i))
    }

    /// Takes `name` if present.
    pub fn flag(&mut self, name: &str) -> bool {
        match self.items.iter().position(|a| a == name) {
            Some(i) => {
                self.items.remove(i);
                true
            }
            None => false,
        }
    }

    /// Takes `name VALUE` or `name=VALUE`.
    pub fn value(&mut self, name: &str) -> Result<Option<String>> {
        let prefix = format!("{name}=");
        for i in 0..self.items.len() {
            if self.items[i] == name {
                if i + 1 >= self.items.len() {
                    return Err(format!("{name} needs a value").into());
                }
                let v = self.items.remove(i + 1);
                self.items.remove(i);
                return Ok(Some(v));
            }
            if let Some(v) = self.items[i].strip_prefix(&prefix) {
                let v = v.to_string();
                self.items.remove(i);
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// Everything after `--`, untouched.
    pub fn rest_after_dashdash(&mut self) -> Vec<String> {
        std::mem::take(&mut self.after_dashdash)
    }

    /// Fails on any argument no one asked for.
    pub fn finish(self) -> Result {
        if let Some(extra) = self.items.first() {
            return Err(format!("unexpected argument `{extra}` (see `cargo xtask help`)").into());
        }
        if !self.after_dashdash.is_empty() {
            return Err("this command takes no arguments after `--`".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Args {
        Args::from_vec(s.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn parses_options_and_dashdash() {
        let mut a = args(&[
            "run",
            "--smp",
            "4",
            "--append=ktest=all x",
            "--",
            "-s",
            "-S",
        ]);
        assert_eq!(a.next_positional().as_deref(), Some("run"));
        assert_eq!(a.value("--smp").unwrap().as_deref(), Some("4"));
        assert_eq!(a.value("--append").unwrap().as_deref(), Some("ktest=all x"));
        assert_eq!(a.value("--mem").unwrap(), None);
        assert_eq!(a.rest_after_dashdash(), vec!["-s", "-S"]);
        a.finish().unwrap();
    }

    #[test]
    fn rejects_leftovers() {
        let mut a = args(&["test", "--quik"]);
        a.next_positional();
        assert!(!a.flag("--quick"));
        assert!(a.finish().is_err());
        assert!(args(&["--smp"]).value("--smp").is_err());
    }
}

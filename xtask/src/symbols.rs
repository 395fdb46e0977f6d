//! Address → symbol lookup in the kernel image, for backtraces.
//!
//! The kernel prints raw return addresses (`bt: 0xffffffff80012345`); the
//! host reads the ELF symbol table of `target/ferrite/ferrite` and prints
//! `0xffffffff80012345 kbase::panic::handler+0x1a`.

use std::path::Path;
use std::process::ExitCode;

use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

use crate::util::{Args, Result};

/// Function symbols of one image, sorted by address.
pub struct Symbols {
    /// (start, size, demangled name)
    funcs: Vec<(u64, u64, String)>,
}

impl Symbols {
    pub fn load(image: &Path) -> Result<Self> {
        let data = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
        let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", image.display()))?;
        let mut funcs: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.address() != 0 && is_code(&file, s))
            .filter_map(|s| {
                let name = s.name().ok()?;
                Some((
                    s.address(),
                    s.size(),
                    format!("{:#}", rustc_demangle::demangle(name)),
                ))
            })
            .collect();
        funcs.sort_by_key(|f| f.0);
        Ok(Self { funcs })
    }

    /// The function containing `addr` and the offset into it. A symbol of
    /// size 0 (hand-written assembly) covers up to the next symbol.
    pub fn lookup(&self, addr: u64) -> Option<(&str, u64)> {
        let i = self.funcs.partition_point(|f| f.0 <= addr).checked_sub(1)?;
        // Prefer a sized symbol among those starting at the same address.
        let start = self.funcs[i].0;
        let same = self.funcs[..=i].iter().rev().take_while(|f| f.0 == start);
        let best = same.max_by_key(|f| f.1)?;
        let (start, size, name) = best;
        if *size != 0 && addr >= start + size {
            return None;
        }
        Some((name, addr - start))
    }

    /// The line printed for one backtrace address.
    ///
    /// A return address after a call to a `-> !` function can be the first
    /// byte past its caller; if `addr` falls outside every function, the
    /// byte before it is looked up instead (the offset still counts from
    /// `addr`).
    pub fn describe(&self, addr: u64) -> String {
        let hit = self.lookup(addr).or_else(|| {
            let (name, off) = self.lookup(addr.checked_sub(1)?)?;
            Some((name, off + 1))
        });
        match hit {
            Some((name, off)) => format!("    {addr:#018x} {name}+{off:#x}"),
            None => format!("    {addr:#018x} ??"),
        }
    }
}

/// Functions, and untyped labels in code sections (assembly without
/// `.type`, such as entry stubs).
fn is_code<'d>(file: &object::File<'d>, sym: &object::Symbol<'d, '_>) -> bool {
    match sym.kind() {
        SymbolKind::Text => true,
        SymbolKind::Unknown | SymbolKind::Label => sym
            .section_index()
            .and_then(|i| file.section_by_index(i).ok())
            .is_some_and(|sec| sec.kind() == SectionKind::Text),
        _ => false,
    }
}

/// `cargo xtask sym ADDR...`: symbolise addresses copied from a console.
pub fn cmd(mut args: Args) -> Result<ExitCode> {
    let mut addrs = Vec::new();
    while let Some(a) = args.next_positional() {
        let hex = a.trim_start_matches("0x");
        addrs
            .push(u64::from_str_radix(hex, 16).map_err(|_| format!("`{a}` is not a hex address"))?);
    }
    args.finish()?;
    let syms = Symbols::load(&crate::build::image_path())?;
    for addr in addrs {
        println!("{}", syms.describe(addr));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ranges() {
        let s = Symbols {
            funcs: vec![
                (0x1000, 0x10, "a".into()),
                (0x2000, 0, "asm_stub".into()),
                (0x3000, 0x20, "b".into()),
                (0x3000, 0, "b_alias".into()),
            ],
        };
        assert_eq!(s.lookup(0x1004), Some(("a", 4)));
        assert_eq!(s.lookup(0x1010), None);
        assert_eq!(s.lookup(0x2fff), Some(("asm_stub", 0xfff)));
        assert_eq!(s.lookup(0x3001), Some(("b", 1)));
        assert_eq!(s.lookup(0x10), None);
        assert_eq!(s.describe(0x1004), "    0x0000000000001004 a+0x4");
        // Return address just past the end of `a` (a call to a `-> !` fn).
        assert_eq!(s.describe(0x1010), "    0x0000000000001010 a+0x10");
        assert_eq!(s.describe(0x10), "    0x0000000000000010 ??");
    }

    #[test]
    fn reads_own_binary() {
        // The test binary itself is an ELF file with symbols.
        let me = std::env::current_exe().unwrap();
        let s = Symbols::load(&me).unwrap();
        let addr = s.funcs.iter().find(|f| f.1 > 4).unwrap().0 + 2;
        assert_eq!(s.lookup(addr).unwrap().1, 2);
    }
}

//! [`build_stack`]: the initial user stack, laid out as Linux lays it out.
//!
//! Linux builds it in two steps: `do_execveat_common` copies the strings
//! below the stack top, then `create_elf_tables` (fs/binfmt_elf.c) puts the
//! platform string, the random bytes and the pointer tables below them.
//! The result, with addresses growing upwards:
//!
//! ```text
//!  sp ->  argc                                   16-byte aligned
//!         argv[0] .. argv[argc-1], NULL
//!         envp[0] .. envp[envc-1], NULL
//!         auxv pairs (caller's, AT_RANDOM, AT_EXECFN, AT_PLATFORM), AT_NULL
//!         zero padding
//!         16 random bytes                        <- AT_RANDOM
//!         platform string, NUL                   <- AT_PLATFORM
//!         zero padding to a 16-byte boundary
//!         argv strings, each NUL-terminated      <- arg_start
//!         envp strings, each NUL-terminated      <- arg_end = env_start
//!         execfn string, NUL                     <- env_end, AT_EXECFN
//!         8 zero bytes                           (Linux's end marker)
//!  stack_top
//! ```
//!
//! Linux also lowers the table by a random amount below 8 KiB
//! (`arch_align_stack`); a caller that wants that randomises `stack_top`.

use alloc::vec::Vec;

use crate::{AT_EXECFN, AT_NULL, AT_PLATFORM, AT_RANDOM, Error, MAX_ARG_BYTES, MAX_ARG_STRLEN};

/// The initial stack: copy `bytes` to `sp..stack_top` and start the
/// program with `rsp = sp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackImage {
    /// Initial `rsp`, 16-byte aligned, pointing at `argc` (SysV x86_64 ABI,
    /// "Process Initialization").
    pub sp: u64,
    /// The memory from `sp` up to `stack_top`.
    pub bytes: Vec<u8>,
    /// Address of the first argument string (`mm->arg_start`).
    pub arg_start: u64,
    /// End of the argument strings (`mm->arg_end`).
    pub arg_end: u64,
    /// Address of the first environment string (`mm->env_start`).
    pub env_start: u64,
    /// End of the environment strings (`mm->env_end`).
    pub env_end: u64,
    /// Address of the first auxv pair.
    pub auxv_addr: u64,
    /// The complete auxv, `AT_NULL` pair included (`mm->saved_auxv`, what
    /// `/proc/<pid>/auxv` shows).
    pub auxv: Vec<(u64, u64)>,
    /// Address of the 16 random bytes (`AT_RANDOM`).
    pub random_addr: u64,
    /// Address of the execfn string (`AT_EXECFN`).
    pub execfn_addr: u64,
    /// Address of the platform string (`AT_PLATFORM`), if one was given.
    pub platform_addr: Option<u64>,
}

const WORD: u64 = 8;

/// Builds the initial stack ending at `stack_top` (16-byte aligned).
///
/// `args`, `env`, `execfn` and `platform` are given without their NUL
/// terminators. `auxv` holds the caller's entries (`AT_PHDR`, `AT_PAGESZ`,
/// `AT_ENTRY`, ...); this function appends `AT_RANDOM`, `AT_EXECFN`,
/// `AT_PLATFORM` (when `platform` is not empty) and `AT_NULL`. An empty
/// `args` becomes `[""]`, as Linux does since 5.18 so that `argv[0]` is
/// never NULL.
///
/// Like Linux with the default 8 MiB stack limit, the strings (execfn
/// included, with NULs) plus one pointer per argument and environment
/// string may take at most [`MAX_ARG_BYTES`], and each string at most
/// [`MAX_ARG_STRLEN`] with its NUL (both `E2BIG`).
pub fn build_stack(
    stack_top: u64,
    args: &[&[u8]],
    env: &[&[u8]],
    auxv: &[(u64, u64)],
    execfn: &[u8],
    random16: [u8; 16],
    platform: &[u8],
) -> Result<StackImage, Error> {
    if !stack_top.is_multiple_of(16) {
        return Err(Error::UnalignedStackTop { stack_top });
    }
    let args: &[&[u8]] = if args.is_empty() { &[b""] } else { args };
    check_strings(args, env, execfn, platform)?;
    if let Some(&(key, _)) = auxv
        .iter()
        .find(|(key, _)| [AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM].contains(key))
    {
        return Err(Error::ReservedAuxType { key });
    }

    // Addresses, from the top down. `check_strings` bounded every string
    // length, so only the subtractions from `stack_top` can fail.
    let under = Error::StackUnderflow;
    let c_len = |s: &[u8]| s.len() as u64 + 1;
    let top_marker = stack_top.checked_sub(WORD).ok_or(under)?;
    let execfn_addr = top_marker.checked_sub(c_len(execfn)).ok_or(under)?;
    let env_bytes: u64 = env.iter().map(|s| c_len(s)).sum();
    let arg_bytes: u64 = args.iter().map(|s| c_len(s)).sum();
    let env_start = execfn_addr.checked_sub(env_bytes).ok_or(under)?;
    let arg_start = env_start.checked_sub(arg_bytes).ok_or(under)?;

    let mut below = arg_start & !15;
    let platform_addr = if platform.is_empty() {
        None
    } else {
        below = below.checked_sub(c_len(platform)).ok_or(under)?;
        Some(below)
    };
    let random_addr = below.checked_sub(16).ok_or(under)?;

    let mut full_auxv = Vec::with_capacity(auxv.len() + 4);
    full_auxv.extend_from_slice(auxv);
    full_auxv.push((AT_RANDOM, random_addr));
    full_auxv.push((AT_EXECFN, execfn_addr));
    if let Some(addr) = platform_addr {
        full_auxv.push((AT_PLATFORM, addr));
    }
    full_auxv.push((AT_NULL, 0));

    // argc, argv + NULL, envp + NULL, then two words per auxv pair.
    let table_words = (args.len() as u64 + 1)
        .checked_add(env.len() as u64 + 1)
        .and_then(|w| w.checked_add(1))
        .and_then(|w| w.checked_add((full_auxv.len() as u64).checked_mul(2)?))
        .ok_or(under)?;
    let table_bytes = table_words.checked_mul(WORD).ok_or(under)?;
    let sp = random_addr.checked_sub(table_bytes).ok_or(under)? & !15;
    let auxv_addr = sp + (args.len() + env.len() + 3) as u64 * WORD;

    // Write upwards from `sp`; every address above was derived from
    // `stack_top`, so the image ends exactly there.
    let mut w = Writer {
        base: sp,
        bytes: Vec::new(),
    };
    w.word(args.len() as u64);
    let mut at = arg_start;
    for s in args {
        w.word(at);
        at += c_len(s);
    }
    w.word(0);
    let mut at = env_start;
    for s in env {
        w.word(at);
        at += c_len(s);
    }
    w.word(0);
    for &(key, value) in &full_auxv {
        w.word(key);
        w.word(value);
    }
    w.pad_to(random_addr);
    w.bytes.extend_from_slice(&random16);
    if platform_addr.is_some() {
        w.c_str(platform);
    }
    w.pad_to(arg_start);
    for s in args.iter().chain(env) {
        w.c_str(s);
    }
    w.c_str(execfn);
    w.word(0);
    debug_assert_eq!(w.bytes.len() as u64, stack_top - sp);

    Ok(StackImage {
        sp,
        bytes: w.bytes,
        arg_start,
        arg_end: env_start,
        env_start,
        env_end: execfn_addr,
        auxv_addr,
        auxv: full_auxv,
        random_addr,
        execfn_addr,
        platform_addr,
    })
}

/// NULs and Linux's size limits (`copy_strings` and `bprm_stack_limits`
/// in fs/exec.c). The platform string is the kernel's own, so it is held to
/// the per-string limit only.
fn check_strings(
    args: &[&[u8]],
    env: &[&[u8]],
    execfn: &[u8],
    platform: &[u8],
) -> Result<(), Error> {
    let counted = || args.iter().chain(env).chain([&execfn]);
    for s in counted().chain([&platform]) {
        if s.len() >= MAX_ARG_STRLEN {
            return Err(Error::ArgTooLong { len: s.len() });
        }
        if s.contains(&0) {
            return Err(Error::InteriorNul);
        }
    }
    let pointers = args
        .len()
        .saturating_add(env.len())
        .saturating_mul(WORD as usize);
    let total = counted().fold(pointers, |sum, s| sum.saturating_add(s.len() + 1));
    if total > MAX_ARG_BYTES {
        return Err(Error::ArgsTooLong { total });
    }
    Ok(())
}

/// Appends little-endian data to a stack image based at `base`.
struct Writer {
    base: u64,
    bytes: Vec<u8>,
}

impl Writer {
    fn word(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    fn c_str(&mut self, s: &[u8]) {
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
    }

    /// Zero-fills up to address `addr` (no-op if already there).
    fn pad_to(&mut self, addr: u64) {
        let len = usize::try_from(addr.saturating_sub(self.base)).unwrap_or(0);
        if len > self.bytes.len() {
            self.bytes.resize(len, 0);
        }
    }
}

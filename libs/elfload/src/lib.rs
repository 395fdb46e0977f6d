//! What execve(2) decides before it touches memory: is this file a static
//! x86_64 executable or a `#!` script, where do its pieces go, and what does
//! the new program find on its stack.
//!
//! ```text
//!  file bytes --parse_shebang--> Shebang { interpreter, arg }   (#! scripts)
//!      |
//!      +------------plan-------> LoadPlan { segments, entry, phdr_vaddr, tls, brk_start, .. }
//!                                    |  the kernel maps the segments
//!  args, env, auxv --build_stack--> StackImage { sp, bytes }   copied to sp..stack_top
//! ```
//!
//! [`plan`] accepts `ET_EXEC` (musl `-static`, busybox-static) and static-PIE
//! `ET_DYN` (glibc `-static-pie`, Rust `+crt-static`) files. Every field of
//! the untrusted file is read through bounds-checked helpers and every sum
//! is checked, so a malformed file yields an [`Error`] (errno `ENOEXEC`,
//! see [`Error::errno`]), never a panic. [`build_stack`] lays out argc,
//! argv, envp, auxv and the strings exactly as Linux's `create_elf_tables`.
//!
//! The ELF decoding is written here rather than taken from `object`: the
//! loader needs two headers and seven fields, and owning those ~100 lines
//! keeps every bounds check in view (and auditable next to the
//! Linux-specific checks) without a large dependency in the kernel. ABI
//! numbers (`AT_*`, `PT_*`, `PF_*`, `EM_X86_64`, errno) come from
//! `linux-raw-sys`.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

/// [`Error`] and its errno.
mod error;
/// Bounds-checked decoding of the ELF header and program headers.
mod header;
/// [`Layout`]: fixed or randomised (ASLR) bases of a new address space.
pub mod layout;
/// [`plan`]: validation and page layout of the `PT_LOAD` segments.
mod plan;
/// [`parse_shebang`]: Linux's `#!` line rules.
mod shebang;
/// [`build_stack`]: the initial argc/argv/envp/auxv stack.
mod stack;

#[cfg(test)]
mod tests;

pub use error::Error;
pub use layout::Layout;
pub use plan::{LoadPlan, Prot, Segment, Tls, plan, plan_head};
pub use shebang::{BINPRM_BUF_SIZE, Shebang, parse_shebang};
pub use stack::{StackImage, build_stack};

/// Page size of x86_64 (`ELF_EXEC_PAGESIZE`); segments are rounded to it.
pub const PAGE_SIZE: u64 = 4096;

/// First address user space cannot use (x86_64 `TASK_SIZE_MAX` with 4-level
/// paging: one guard page below the canonical-address hole). Every segment
/// ends at or below it.
pub const USER_LIMIT: u64 = 0x0000_7fff_ffff_f000;

/// Most program headers accepted: Linux refuses a table larger than 64 KiB
/// (`elf_load_phdrs` in fs/binfmt_elf.c), which is this many entries.
pub const MAX_PHNUM: usize = 65536 / 56;

/// Longest argument or environment string, NUL included (`MAX_ARG_STRLEN`,
/// 32 pages, include/uapi/linux/binfmts.h).
pub const MAX_ARG_STRLEN: usize = 32 * PAGE_SIZE as usize;

/// Most bytes the strings and their pointers may take: a quarter of the
/// default 8 MiB stack limit, as Linux's `bprm_stack_limits` computes.
pub const MAX_ARG_BYTES: usize = 2 * 1024 * 1024;

/// Auxiliary-vector types, from `linux-raw-sys` widened to auxv words.
macro_rules! auxv_types {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` (include/uapi/linux/auxvec.h).")]
        pub const $name: u64 = linux_raw_sys::auxvec::$name as u64;
    )*};
}

auxv_types!(
    AT_NULL,
    AT_IGNORE,
    AT_PHDR,
    AT_PHENT,
    AT_PHNUM,
    AT_PAGESZ,
    AT_BASE,
    AT_FLAGS,
    AT_ENTRY,
    AT_NOTELF,
    AT_UID,
    AT_EUID,
    AT_GID,
    AT_EGID,
    AT_PLATFORM,
    AT_HWCAP,
    AT_CLKTCK,
    AT_SECURE,
    AT_BASE_PLATFORM,
    AT_RANDOM,
    AT_HWCAP2,
    AT_EXECFN,
    AT_SYSINFO_EHDR,
    AT_MINSIGSTKSZ,
);

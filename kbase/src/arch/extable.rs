//! The exception table: instructions allowed to fault in kernel mode, each
//! with the address where execution resumes (user copies and probes).
//!
//! Entries are pairs of 64-bit addresses in the `.ex_table` section, emitted
//! next to the instruction by the assembly that owns it.

use core::arch::global_asm;

unsafe extern "C" {
    static __ex_table_start: [u64; 0];
    static __ex_table_end: [u64; 0];
}

fn table() -> &'static [[u64; 2]] {
    // SAFETY: the linker script places every `.ex_table` input section (all
    // made of `.quad insn, fixup` pairs) between these two symbols; the
    // section is read-only after load.
    unsafe {
        let start = core::ptr::addr_of!(__ex_table_start) as *const [u64; 2];
        let end = core::ptr::addr_of!(__ex_table_end) as *const [u64; 2];
        let len = (end as usize - start as usize) / 16;
        core::slice::from_raw_parts(start, len)
    }
}

/// The fixup address for a faulting kernel instruction, if it has one.
pub(crate) fn fixup_for(rip: u64) -> Option<u64> {
    table().iter().find(|e| e[0] == rip).map(|e| e[1])
}

global_asm!(
    r#"
    .section .text
    /* u64 kbase_probe_read_u64(addr: rdi, out: rsi) -> rax (0 ok, 1 fault) */
    .global kbase_probe_read_u64
kbase_probe_read_u64:
1:  mov rax, [rdi]
    mov [rsi], rax
    xor eax, eax
    ret
2:  mov eax, 1
    ret
    .pushsection .ex_table, "a"
    .quad 1b, 2b
    .popsection

    /* u64 kbase_probe_write_u8(addr: rdi, val: sil) -> rax (0 ok, 1 fault) */
    .global kbase_probe_write_u8
kbase_probe_write_u8:
1:  mov [rdi], sil
    xor eax, eax
    ret
2:  mov eax, 1
    ret
    .pushsection .ex_table, "a"
    .quad 1b, 2b
    .popsection
"#
);

unsafe extern "C" {
    fn kbase_probe_read_u64(addr: u64, out: *mut u64) -> u64;
    fn kbase_probe_write_u8(addr: u64, val: u8) -> u64;
}

/// A kernel-mode access faulted (the page is unmapped or protected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault;

/// Reads 8 bytes at a kernel virtual address, reporting a page fault as
/// `Err(Fault)` instead of crashing. Used by backtraces and ktests.
pub fn probe_read_u64(addr: u64) -> Result<u64, Fault> {
    if addr % 8 != 0 || addr < 0xffff_8000_0000_0000 {
        return Err(Fault);
    }
    let mut out = 0u64;
    // SAFETY: the read instruction is covered by the exception table, so a
    // fault resumes at the fixup; `out` is a valid local.
    let r = unsafe { kbase_probe_read_u64(addr, &mut out) };
    if r == 0 { Ok(out) } else { Err(Fault) }
}

/// Probes whether a kernel address is writable by writing `val` to it.
/// Only for ktests: the caller must own the byte (or expect a fault).
pub(crate) fn probe_write_u8(addr: u64, val: u8) -> Result<(), Fault> {
    if addr < 0xffff_8000_0000_0000 {
        return Err(Fault);
    }
    // SAFETY: the store is covered by the exception table; kernel callers
    // pass either memory they own or addresses expected to fault (test only).
    let r = unsafe { kbase_probe_write_u8(addr, val) };
    if r == 0 { Ok(()) } else { Err(Fault) }
}

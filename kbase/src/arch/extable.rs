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

    /* u64 kbase_probe_exec(target: rdi) -> rax (0 returned, 1 fault).
       The fetch fault happens at `target`, not here, so it has no table
       entry: `exec_probe_fixup` recognises our return address on the
       stack instead. */
    .global kbase_probe_exec
kbase_probe_exec:
    xor eax, eax
    call rdi
    .global kbase_probe_exec_return
kbase_probe_exec_return:
    ret
    .global kbase_probe_exec_fault
kbase_probe_exec_fault:
    mov eax, 1
    ret

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
    fn kbase_probe_exec(target: u64) -> u64;
    static kbase_probe_exec_return: u8;
    static kbase_probe_exec_fault: u8;
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

/// Reads 8 bytes at any address, user half included, *without* lifting
/// SMAP: the SMAP ktest expects a fault on a present user page. Only for
/// ktests.
pub(crate) fn probe_read_u64_no_stac(addr: u64) -> Result<u64, Fault> {
    if addr % 8 != 0 {
        return Err(Fault);
    }
    let mut out = 0u64;
    // SAFETY: as in `probe_read_u64`; a read has no side effect on memory,
    // and a fault (unmapped, or a user page under SMAP) resumes at the fixup.
    let r = unsafe { kbase_probe_read_u64(addr, &mut out) };
    if r == 0 { Ok(out) } else { Err(Fault) }
}

/// Calls `target` in kernel mode and reports an instruction-fetch page
/// fault there (NX, SMEP) as `Err(Fault)`. Only for ktests, and only on
/// bytes the caller filled with `ret` (0xc3): if the protection under test
/// is missing, the call simply returns.
///
/// # Safety
/// `target` must hold a `ret` instruction or be expected to fault on fetch.
pub(crate) unsafe fn probe_exec(target: u64) -> Result<(), Fault> {
    // SAFETY: the caller guarantees `target` is a `ret` or faults on fetch;
    // `exec_probe_fixup` turns that fault into a return from this stub.
    let r = unsafe { kbase_probe_exec(target) };
    if r == 0 { Ok(()) } else { Err(Fault) }
}

/// From the page-fault path (kernel mode, instruction fetch): if the fault
/// is a `probe_exec` call, the (rip, rsp) to resume at.
pub(crate) fn exec_probe_fixup(rip: u64, rsp: u64) -> Option<(u64, u64)> {
    let ret = core::ptr::addr_of!(kbase_probe_exec_return) as u64;
    // The faulting fetch is the first instruction of the callee, so the
    // stack top is the return address `call` pushed.
    if rip == ret || probe_read_u64(rsp) != Ok(ret) {
        return None;
    }
    Some((core::ptr::addr_of!(kbase_probe_exec_fault) as u64, rsp + 8))
}

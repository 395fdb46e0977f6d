//! Copies between kernel memory and user memory.
//!
//! User pointers are plain addresses below `USER_END`; the copy runs with
//! SMAP lifted (STAC … CLAC) by a `rep movsb` listed in the exception table,
//! so an unmapped or protected user page ends the copy with `Err(Fault)`
//! instead of a kernel crash. The length check keeps every access inside the
//! user half.

use core::arch::global_asm;

use super::extable::Fault;
use crate::mm::paging::USER_END;

global_asm!(
    r#"
    .section .text
    /* u64 kbase_copy_user(dst: rdi, src: rsi, len: rdx) -> rax = bytes NOT copied */
    .global kbase_copy_user
kbase_copy_user:
    /* Quadwords first, then the tail bytes (8x fewer `rep` steps under
       TCG, see rt.rs memcpy). */
    mov rcx, rdx
    shr rcx, 3
    and edx, 7
    stac
1:  rep movsq
    mov ecx, edx
3:  rep movsb
    clac
    xor eax, eax
    ret
2:  /* Fault in the quadword part: rcx quadwords and the tail are left. */
    clac
    lea rax, [rdx + rcx * 8]
    ret
4:  clac
    mov rax, rcx
    ret
    .pushsection .ex_table, "a"
    .quad 1b, 2b
    .quad 3b, 4b
    .popsection
"#
);

unsafe extern "C" {
    fn kbase_copy_user(dst: *mut u8, src: *const u8, len: usize) -> usize;
}

fn check_user_range(addr: u64, len: usize) -> Result<(), Fault> {
    let end = addr.checked_add(len as u64).ok_or(Fault)?;
    if end > USER_END { Err(Fault) } else { Ok(()) }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), Fault> {
    check_user_range(src, dst.len())?;
    // SAFETY: `dst` is a valid kernel buffer; the source range lies in the
    // user half (checked), and a fault there resumes at the fixup.
    let left = unsafe { kbase_copy_user(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if left == 0 { Ok(()) } else { Err(Fault) }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), Fault> {
    check_user_range(dst, src.len())?;
    // SAFETY: `src` is a valid kernel buffer; the destination lies in the
    // user half (checked), which holds no kernel objects; a fault there
    // resumes at the fixup.
    let left = unsafe { kbase_copy_user(dst as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 { Ok(()) } else { Err(Fault) }
}

global_asm!(
    r#"
    .section .text
    /* u64 kbase_cmpxchg_user_u32(addr: rdi, old: esi, new: edx, found: rcx)
       -> rax = 0 (done, *found = the value that was there) or 1 (fault) */
    .global kbase_cmpxchg_user_u32
kbase_cmpxchg_user_u32:
    mov eax, esi
    stac
1:  lock cmpxchg [rdi], edx
    clac
    mov [rcx], eax
    xor eax, eax
    ret
2:  clac
    mov eax, 1
    ret
    .pushsection .ex_table, "a"
    .quad 1b, 2b
    .popsection
"#
);

unsafe extern "C" {
    fn kbase_cmpxchg_user_u32(addr: *mut u32, old: u32, new: u32, found: *mut u32) -> u64;
}

/// Atomically replaces the user word at `addr` by `new` if it holds `old`
/// (futexes: robust-list clean-up, FUTEX_WAKE_OP). Returns the value that
/// was there (equal to `old` when the store happened). `addr` must be
/// 4-byte aligned.
pub fn cmpxchg_user_u32(addr: u64, old: u32, new: u32) -> Result<u32, Fault> {
    if addr % 4 != 0 {
        return Err(Fault);
    }
    check_user_range(addr, 4)?;
    let mut found = 0u32;
    // SAFETY: the aligned word lies in the user half (checked), which holds
    // no kernel objects; a fault there resumes at the fixup; `found` is a
    // valid kernel location.
    let r = unsafe { kbase_cmpxchg_user_u32(addr as *mut u32, old, new, &mut found) };
    if r == 0 { Ok(found) } else { Err(Fault) }
}

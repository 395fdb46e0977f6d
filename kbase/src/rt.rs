//! What the precompiled `core`/`alloc` expect from the environment:
//! `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`, and an unwinding
//! personality that is never called (panic = abort).

use core::arch::asm;

/// # Safety
/// Standard C `memcpy` contract: valid, non-overlapping ranges.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // Eight bytes per step, then the tail: QEMU's TCG runs each iteration
    // of a `rep` string instruction as one pass through its block, so
    // `movsq` moves data ~8 times faster there than `movsb`. A forward
    // copy stays correct for memmove with dst below src (each quadword is
    // read before anything at or above it is written).
    // SAFETY: the caller guarantees both ranges are valid for `n` bytes.
    unsafe {
        asm!(
            "mov rcx, rdx",
            "shr rcx, 3",
            "rep movsq",
            "mov ecx, edx",
            "and ecx, 7",
            "rep movsb",
            in("rdx") n,
            out("rcx") _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
    dst
}

/// # Safety
/// Standard C `memmove` contract: valid ranges, which may overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) || (dst as usize) >= (src as usize).wrapping_add(n) {
        // SAFETY: forward copy is correct when dst is below src or disjoint.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: copy backwards (DF set, then cleared) for an overlapping dst > src.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.add(n - 1) => _,
            inout("rsi") src.add(n - 1) => _,
            options(nostack)
        );
    }
    dst
}

/// # Safety
/// Standard C `memset` contract: `dst` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // The byte in all eight lanes, stored a quadword per step (see memcpy).
    let v = u64::from(c as u8) * 0x0101_0101_0101_0101;
    // SAFETY: the caller guarantees the range is valid.
    unsafe {
        asm!(
            "mov rcx, rdx",
            "shr rcx, 3",
            "rep stosq",
            "mov ecx, edx",
            "and ecx, 7",
            "rep stosb",
            in("rdx") n,
            out("rcx") _,
            inout("rdi") dst => _,
            in("rax") v,
            options(nostack, preserves_flags)
        );
    }
    dst
}

/// # Safety
/// Standard C `memcmp` contract: both ranges valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        return 0;
    }
    let (pa, pb): (*const u8, *const u8);
    let equal: u8;
    // SAFETY: the caller guarantees both ranges; REPE CMPSB reads at most
    // `n` bytes of each. (Written in assembly so the compiler cannot turn a
    // byte loop back into a call to `memcmp`.)
    unsafe {
        asm!(
            "repe cmpsb",
            "sete {eq}",
            eq = out(reg_byte) equal,
            inout("rcx") n => _,
            inout("rsi") a => pa,
            inout("rdi") b => pb,
            options(nostack, readonly)
        );
    }
    if equal != 0 {
        return 0;
    }
    // SAFETY: on a mismatch both pointers are one past the differing bytes,
    // which lie inside the caller's ranges.
    let (x, y) = unsafe { (*pa.sub(1), *pb.sub(1)) };
    i32::from(x) - i32::from(y)
}

/// # Safety
/// As `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// Never called: the kernel is built with panic = abort.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// Referenced by cleanup pads in the precompiled `alloc`; with panic = abort
/// no unwinding ever starts, so reaching this is a bug.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    panic!("_Unwind_Resume called: unwinding is not supported in the kernel");
}

//! The red-zone self-check (DESIGN.md §1): fills the 128 bytes below RSP
//! with a pattern, waits with interrupts on until this CPU has taken timer
//! interrupts, and verifies the pattern. Written in assembly so no compiler
//! code touches the red zone in between.

use core::arch::global_asm;

use super::percpu;

global_asm!(
    r#"
    .section .text
    /* u64 kbase_redzone_check(ticks: rdi = *const u64, wait: rsi) -> rax = corrupted qwords */
    .global kbase_redzone_check
kbase_redzone_check:
    mov rcx, 16
    mov rax, 0x5a5a5a5a00000000
1:  mov [rsp + rcx*8 - 136], rax
    inc rax
    dec rcx
    jnz 1b
    mov rdx, [rdi]
    add rdx, rsi
    sti
2:  pause
    cmp [rdi], rdx
    jb 2b
    xor r8d, r8d
    mov rcx, 16
    mov rax, 0x5a5a5a5a00000000
3:  cmp [rsp + rcx*8 - 136], rax
    je 4f
    inc r8
4:  inc rax
    dec rcx
    jnz 3b
    mov rax, r8
    ret
"#
);

unsafe extern "C" {
    fn kbase_redzone_check(ticks: *const u64, wait: u64) -> u64;
}

/// Returns how many of the 16 red-zone words below RSP were overwritten
/// while `wait_ticks` timer interrupts hit this CPU (0 = intact). Enables
/// interrupts. The caller must not be migrated meanwhile (the tick counter
/// read is this CPU's; a migration only makes the wait end on another CPU's
/// ticks, which is still a valid check).
pub fn check(wait_ticks: u64) -> u64 {
    let ticks = percpu::this_cpu().ticks.as_ptr() as *const u64;
    // SAFETY: `ticks` points at a static per-CPU counter; the routine only
    // writes the red zone below its own stack pointer, which the ABI reserves
    // for the current function (it calls nothing).
    unsafe { kbase_redzone_check(ticks, wait_ticks) }
}

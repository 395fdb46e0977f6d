//! The context switch: callee-saved registers on the old stack, stack
//! pointers exchanged, and the old task marked "off CPU" only once its
//! state is fully saved (so another CPU may pick it up from then on).

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, AtomicU64};

global_asm!(
    r#"
    .section .text
    .global kbase_switch_context
kbase_switch_context:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov byte ptr [rdx], 0
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

    .global kbase_task_start
kbase_task_start:
    mov rdi, r12
    xor ebp, ebp
    call kbase_task_entry
    ud2
"#
);

unsafe extern "C" {
    fn kbase_switch_context(prev_rsp: *mut u64, next_rsp: u64, prev_on_cpu: *const AtomicBool);
    static kbase_task_start: u8;
}

/// Saves the running context into `prev_rsp`, clears `prev_on_cpu`, and
/// resumes the context saved in `next_rsp`. Returns when something switches
/// back to `prev`.
///
/// # Safety
/// Interrupts must be off; `next_rsp` must hold a context saved by this
/// function or built by `initial_stack` on a stack that stays alive while the
/// context runs; `prev_rsp` and `prev_on_cpu` must stay valid until the
/// previous task is resumed or dropped after it was switched away from.
pub(super) unsafe fn switch(prev_rsp: &AtomicU64, next_rsp: u64, prev_on_cpu: &AtomicBool) {
    // SAFETY: the caller upholds the contract; `AtomicU64` has the layout of
    // the `u64` the assembly stores into.
    unsafe { kbase_switch_context(prev_rsp.as_ptr(), next_rsp, prev_on_cpu) };
}

/// Builds the first context of a new task at the top of its stack: the
/// switch "returns" into `kbase_task_start` with `arg` in r12.
pub(super) fn initial_stack(stack: &mut crate::mm::stack::KernelStack, arg: u64) -> u64 {
    // The top TRAP_FRAME_SIZE bytes stay free for the user-mode TrapFrame
    // (syscall and trap entry from user mode build it there).
    let top = stack.top() - crate::arch::trap::TRAP_FRAME_SIZE as u64;
    let rsp = top - 72;
    let start = core::ptr::addr_of!(kbase_task_start) as u64;
    // [r15, r14, r13, r12, rbx, rbp, return address]
    let frame = [0, 0, 0, arg, 0, 0, start];
    stack.write_words(rsp, &frame);
    rsp
}

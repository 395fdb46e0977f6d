//! User mode: the SYSCALL entry, entering user mode for the first time, and
//! the hooks through which the Linux layer (a safe crate) handles what user
//! code does.
//!
//! ```text
//!  user ──SYSCALL──▶ syscall_entry: SWAPGS, kernel stack = gs:8, build a
//!        TrapFrame (vector 0x100) like the trap path does, but save only
//!        MXCSR + XMM0-15 (FXSAVE costs ~0.7 µs under TCG)
//!        ──▶ [SYSCALL_HANDLER] = syscall_dispatch::<H> (H: UserHooks, set
//!            once): H::syscall(frame), H::return_to_user(frame), direct calls
//!        ◀── SYSRET when RIP is canonical user and CS is the 64-bit user
//!            selector, else IRETQ (trap_iret)
//!  user ──exception──▶ trap path ──▶ hooks.page_fault / hooks.exception
//!  kernel thread ──enter_user(frame)──▶ copy frame to the stack top ──▶ trap_return
//! ```
//! Every thread's TrapFrame sits at the top of its kernel stack; tasks keep
//! that area free (see `task::switch::initial_stack`).

use core::arch::global_asm;
use core::sync::atomic::{AtomicPtr, Ordering};

use super::gdt::{KERNEL_CS, USER32_CS};
use super::percpu::{OFF_KSTACK_TOP, OFF_USER_RSP};
use super::trap::{TRAP_FRAME_SIZE, TrapFrame};
use super::cpu;
use crate::sync::Once;

/// `TrapFrame::vector` of a frame built by the SYSCALL entry.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// Makes the system call that built `frame` return with IRETQ, restoring
/// every register (rt_sigreturn: SYSRET would overwrite rcx and r11).
pub fn return_with_iret(frame: &mut TrapFrame) {
    if frame.vector == SYSCALL_VECTOR {
        frame.error_code = 1;
    }
}

global_asm!(
    r#"
    .section .text
    .p2align 4
    .global syscall_entry
syscall_entry:
    swapgs
    mov gs:[{user_rsp}], rsp
    mov rsp, gs:[{kstack_top}]
    push {user_ds}
    push qword ptr gs:[{user_rsp}]
    push r11
    push {user_cs}
    push rcx
    push 0
    push {vector}
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    /* Only MXCSR and XMM0-15 (the registers kernel code clobbers) go to
       the FXSAVE-layout area; x87 stays live (TrapFrame invariants).
       The moves are chosen for QEMU 7.2's TCG, where they cost what
       plain moves do: MOVUPS stores (MOVDQA's alignment check costs ~2x)
       and MOVLPS+MOVHPS loads of the two halves (a 128-bit MOVUPS/MOVDQA
       load costs ~3-4x). Both are bit-exact data moves, not FP operations. */
    sub rsp, 512
    mov byte ptr [rsp + {fx_full}], 0
    stmxcsr [rsp + 24]
    movups [rsp + 160], xmm0
    movups [rsp + 176], xmm1
    movups [rsp + 192], xmm2
    movups [rsp + 208], xmm3
    movups [rsp + 224], xmm4
    movups [rsp + 240], xmm5
    movups [rsp + 256], xmm6
    movups [rsp + 272], xmm7
    movups [rsp + 288], xmm8
    movups [rsp + 304], xmm9
    movups [rsp + 320], xmm10
    movups [rsp + 336], xmm11
    movups [rsp + 352], xmm12
    movups [rsp + 368], xmm13
    movups [rsp + 384], xmm14
    movups [rsp + 400], xmm15
    ldmxcsr [rip + kbase_kernel_mxcsr]
    cld
    mov rdi, rsp
    /* syscall_dispatch::<H> once hooks are set (one indirect call; the
       hooks themselves are direct calls inside it). */
    call qword ptr [rip + {handler}]
    cli
    /* A complete image (sigreturn, execve) is restored with FXRSTOR. */
    cmp byte ptr [rsp + {fx_full}], 0
    jne 6f
    ldmxcsr [rsp + 24]
    movlps xmm0, [rsp + 160]
    movhps xmm0, [rsp + 168]
    movlps xmm1, [rsp + 176]
    movhps xmm1, [rsp + 184]
    movlps xmm2, [rsp + 192]
    movhps xmm2, [rsp + 200]
    movlps xmm3, [rsp + 208]
    movhps xmm3, [rsp + 216]
    movlps xmm4, [rsp + 224]
    movhps xmm4, [rsp + 232]
    movlps xmm5, [rsp + 240]
    movhps xmm5, [rsp + 248]
    movlps xmm6, [rsp + 256]
    movhps xmm6, [rsp + 264]
    movlps xmm7, [rsp + 272]
    movhps xmm7, [rsp + 280]
    movlps xmm8, [rsp + 288]
    movhps xmm8, [rsp + 296]
    movlps xmm9, [rsp + 304]
    movhps xmm9, [rsp + 312]
    movlps xmm10, [rsp + 320]
    movhps xmm10, [rsp + 328]
    movlps xmm11, [rsp + 336]
    movhps xmm11, [rsp + 344]
    movlps xmm12, [rsp + 352]
    movhps xmm12, [rsp + 360]
    movlps xmm13, [rsp + 368]
    movhps xmm13, [rsp + 376]
    movlps xmm14, [rsp + 384]
    movhps xmm14, [rsp + 392]
    movlps xmm15, [rsp + 400]
    movhps xmm15, [rsp + 408]
    jmp 7f
6:
    fxrstor64 [rsp]
7:
    add rsp, 512
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    /* A non-zero error-code slot asks for IRETQ (every register restored,
       e.g. after rt_sigreturn): SYSRET would clobber rcx and r11. */
    cmp qword ptr [rsp + 8], 0
    jne 5f
    add rsp, 16
    /* [rsp]=rip [8]=cs [16]=rflags [24]=rsp [32]=ss. SYSRET only to a
       canonical user RIP with the 64-bit user selectors; else IRETQ. */
    cmp qword ptr [rsp + 8], {user_cs}
    jne trap_iret
    cmp qword ptr [rsp + 32], {user_ds}
    jne trap_iret
    mov rcx, [rsp]
    mov r11, rcx
    shr r11, 47
    jnz trap_iret
    mov r11, [rsp + 16]
    mov rsp, [rsp + 24]
    swapgs
    sysretq
5:
    add rsp, 16
    jmp trap_iret

    /* enter_user_asm(frame: rdi) -> ! : copies the frame to the stack top. */
    .global kbase_enter_user
kbase_enter_user:
    cli
    mov rsi, rdi
    mov rdi, gs:[{kstack_top}]
    sub rdi, {frame_size}
    mov rcx, {frame_size}
    mov rsp, rdi
    rep movsb
    jmp trap_return

    .pushsection .rodata
    .p2align 2
kbase_kernel_mxcsr:
    .long 0x1f80
    .popsection
"#,
    user_rsp = const OFF_USER_RSP,
    kstack_top = const OFF_KSTACK_TOP,
    user_ds = const super::gdt::USER_DS as u64,
    user_cs = const super::gdt::USER_CS as u64,
    vector = const SYSCALL_VECTOR,
    frame_size = const TRAP_FRAME_SIZE,
    fx_full = const super::trap::FX_FULL,
    handler = sym SYSCALL_HANDLER,
);

unsafe extern "C" {
    static syscall_entry: u8;
    fn kbase_enter_user(frame: *const TrapFrame) -> !;
}

/// What the Linux layer does with user-mode events. All run on the
/// thread's kernel stack with interrupts enabled.
///
/// A trait rather than function pointers so that the SYSCALL path is one
/// monomorphised function (`syscall_dispatch::<H>`) calling `syscall` and
/// `return_to_user` directly: under QEMU's TCG every indirect call costs a
/// translation-block lookup.
pub trait UserHooks: 'static {
    /// A SYSCALL: read arguments from and write the result into the frame.
    fn syscall(frame: &mut TrapFrame);
    /// A page fault at a user address (`error_code` as the CPU reports it).
    /// Returns true when the page is now mapped and the access can retry.
    fn page_fault(addr: u64, error_code: u64) -> bool;
    /// Any other exception from user mode, or an unresolved user page fault
    /// (`cr2` is the fault address for #PF). Usually queues a signal.
    fn exception(frame: &mut TrapFrame, cr2: u64);
    /// Just before every return to user mode: pending signals, exits.
    fn return_to_user(frame: &mut TrapFrame);
}

/// The trap paths' view of the hooks (they are not hot enough to need
/// their own monomorphised copies).
struct Hooks {
    page_fault: fn(addr: u64, error_code: u64) -> bool,
    exception: fn(&mut TrapFrame, cr2: u64),
    return_to_user: fn(&mut TrapFrame),
}

static HOOKS: Once<Hooks> = Once::new();

/// What `syscall_entry` calls: `syscall_dispatch_unhooked` until
/// [`set_hooks`] stores `syscall_dispatch::<H>`.
static SYSCALL_HANDLER: AtomicPtr<()> = AtomicPtr::new(syscall_dispatch_unhooked as *mut ());

/// Installs the user-mode hooks (once, at boot).
pub fn set_hooks<H: UserHooks>() -> bool {
    let hooks = Hooks { page_fault: H::page_fault, exception: H::exception, return_to_user: H::return_to_user };
    if !HOOKS.set(hooks) {
        return false;
    }
    let handler: extern "C" fn(*mut TrapFrame) = syscall_dispatch::<H>;
    SYSCALL_HANDLER.store(handler as *mut (), Ordering::Release);
    true
}

/// Enables SYSCALL/SYSRET on this CPU.
pub(crate) fn init_this_cpu() {
    let entry = core::ptr::addr_of!(syscall_entry) as u64;
    // STAR: SYSCALL loads CS = KERNEL_CS, SS = KERNEL_CS + 8; SYSRET loads
    // CS = USER32_CS + 16 (0x33), SS = USER32_CS + 8 (0x2b), as on Linux.
    let star = (u64::from(USER32_CS) << 48) | (u64::from(KERNEL_CS) << 32);
    // SFMASK: clear TF, DF, IF, IOPL, AC, NT on entry.
    let fmask = 0x47700;
    // SAFETY: the entry point is `syscall_entry` above, which switches to
    // this thread's kernel stack before touching memory; the selectors match
    // the GDT; EFER.SCE only enables the instruction.
    unsafe {
        cpu::write_msr(0xC000_0081, star);
        cpu::write_msr(0xC000_0082, entry);
        cpu::write_msr(0xC000_0084, fmask);
        cpu::write_msr(0xC000_0080, cpu::read_msr(0xC000_0080) | 1);
    }
}

/// The SYSCALL path once hooks are set (`SYSCALL_HANDLER`).
extern "C" fn syscall_dispatch<H: UserHooks>(frame: *mut TrapFrame) {
    // SAFETY: `syscall_entry` passes the frame it just built on this
    // thread's kernel stack; nothing else refers to it while we run.
    let frame = unsafe { &mut *frame };
    crate::task::note_entry_from_user();
    cpu::enable_interrupts();
    H::syscall(frame);
    H::return_to_user(frame);
    cpu::disable_interrupts();
}

/// The SYSCALL path before hooks are set: ENOSYS.
extern "C" fn syscall_dispatch_unhooked(frame: *mut TrapFrame) {
    // SAFETY: as in `syscall_dispatch`.
    let frame = unsafe { &mut *frame };
    frame.rax = (-38i64) as u64; // ENOSYS
}

/// Starts user mode on the current kernel thread with `frame` (which must
/// describe a user context: CS/SS user selectors, interrupts enabled).
///
/// The `return_to_user` hook runs first, as on every other way into user
/// mode: a signal or an exit posted before the thread first ran (it was
/// visible from the moment clone returned) acts before any user code.
pub fn enter_user(frame: &TrapFrame) -> ! {
    let mut f = frame.clone();
    crate::task::mark_current_user();
    if let Some(h) = HOOKS.get() {
        cpu::enable_interrupts();
        (h.return_to_user)(&mut f);
    }
    f.cs = u64::from(super::gdt::USER_CS);
    f.ss = u64::from(super::gdt::USER_DS);
    // Only the status flags, DF and IF=1 may come from user state.
    f.rflags = (f.rflags & 0xcd5) | 0x202;
    // SAFETY: the frame has user selectors and sanitised flags, so IRETQ
    // can only land in user mode; the copy goes to this thread's stack top,
    // which tasks keep free of live frames; `f` is read before being
    // overwritten (it lives lower on the stack than the destination).
    unsafe { kbase_enter_user(&f) }
}

/// From the trap path: a page fault at a user address. Runs the hook with
/// interrupts as they were at the fault.
pub(crate) fn resolve_page_fault(frame: &TrapFrame, addr: u64) -> bool {
    let Some(h) = HOOKS.get() else { return false };
    let irq_on = frame.rflags & 0x200 != 0;
    if irq_on {
        cpu::enable_interrupts();
    }
    let ok = (h.page_fault)(addr, frame.error_code);
    cpu::disable_interrupts();
    ok
}

/// From the trap path: an exception in user mode not resolved above.
pub(crate) fn user_exception(frame: &mut TrapFrame, cr2: u64) -> bool {
    let Some(h) = HOOKS.get() else { return false };
    cpu::enable_interrupts();
    (h.exception)(frame, cr2);
    (h.return_to_user)(frame);
    cpu::disable_interrupts();
    true
}

/// From the trap path: an interrupt arrived in user mode.
pub(crate) fn before_return_to_user(frame: &mut TrapFrame) {
    if let Some(h) = HOOKS.get() {
        cpu::enable_interrupts();
        (h.return_to_user)(frame);
        cpu::disable_interrupts();
    }
}

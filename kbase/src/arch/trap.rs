//! Interrupt and exception entry, safe with the precompiled (red-zone, SSE)
//! `core` (DESIGN.md §1).
//!
//! ```text
//!  every IDT gate ──▶ IST1 (IST2: #DF, IST3: NMI/#MC)
//!    stub: push error code (0 if none) and vector, jump to trap_common
//!    trap_common:
//!      from user   → SWAPGS, new stack = per-CPU kernel stack top
//!      from kernel → new stack = (interrupted RSP − 128) & ~15
//!                    (the 128-byte red zone below RSP stays untouched)
//!      NMI/#DF/#MC, or a kernel stack about to overflow → stay on the IST
//!      copy the hardware frame there, switch, save GPRs + FXSAVE (XMM0–15,
//!      MXCSR), call `trap_dispatch(&mut TrapFrame)`, restore, IRETQ
//! ```
//! Moving the frame off IST1 at once frees the IST slot, so a nested
//! exception in a handler gets a clean IST1 again.

use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::percpu::{OFF_KSTACK_TOP, OFF_STACK_LIMIT};
use super::{cpu, gdt};

/// Offset in the FXSAVE image of the byte that says the image is complete
/// (x87 part included) and must be restored with FXRSTOR when a system
/// call returns. Bytes 464-511 are left to software: FXSAVE never writes
/// them.
pub(crate) const FX_FULL: usize = 464;

/// Register state saved at every trap, in stack order (lowest address first).
///
/// # Invariants
/// A frame built by an interrupt or exception holds the full FXSAVE image.
/// A frame built by the SYSCALL entry (`vector == SYSCALL_VECTOR`) holds
/// only MXCSR and XMM0-15 while `fx[FX_FULL] == 0`: its x87 registers are
/// still live in the CPU (the kernel never uses x87/MMX, and a thread switch
/// saves them, `task::fpu`), so they are merged in when the whole image is
/// needed (`fx_state`, `clone`).
#[repr(C, align(16))]
pub struct TrapFrame {
    fx: [u8; 512],
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    pub fn is_from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// A fresh user-mode frame: all registers zero, interrupts on, x87/SSE
    /// in their reset state (FCW 0x37f, MXCSR 0x1f80).
    pub fn new_user(rip: u64, rsp: u64) -> Self {
        let mut fx = [0u8; 512];
        fx[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
        fx[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        // Complete: a system call that execs returns with this frame and
        // must load the initial x87 state too.
        fx[FX_FULL] = 1;
        Self {
            fx,
            r15: 0, r14: 0, r13: 0, r12: 0, r11: 0, r10: 0, r9: 0, r8: 0,
            rbp: 0, rdi: 0, rsi: 0, rdx: 0, rcx: 0, rbx: 0, rax: 0,
            vector: 0, error_code: 0,
            rip,
            cs: u64::from(super::gdt::USER_CS),
            rflags: 0x202,
            rsp,
            ss: u64::from(super::gdt::USER_DS),
        }
    }

    /// The FXSAVE image (x87, MXCSR, XMM0-15), e.g. for signal frames.
    /// Bytes 416..512 are reserved: FXSAVE never writes them, so in the
    /// frame they hold whatever the kernel stack held before (kernel
    /// pointers included) or the `FX_FULL` marker. The copy has them zeroed,
    /// so it may go to user space (a zero `sw_reserved` also tells user
    /// space "no XSAVE data"). Call it on the thread that owns the frame (a
    /// system-call frame takes x87 from the CPU).
    pub fn fx_state(&self) -> [u8; 512] {
        let mut fx = self.full_fx();
        fx[FX_RESERVED_START..].fill(0);
        fx
    }

    /// Replaces the FXSAVE image (sigreturn); MXCSR reserved bits are
    /// cleared so the restore cannot fault.
    pub fn set_fx_state(&mut self, fx: &[u8; 512]) {
        self.fx = *fx;
        let mxcsr = u32::from_le_bytes([fx[24], fx[25], fx[26], fx[27]]) & 0xffff;
        self.fx[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        self.fx[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
        self.fx[FX_FULL..].fill(0);
        self.fx[FX_FULL] = 1;
    }

    /// The image with the x87 part filled in from the CPU when this is a
    /// system-call frame that does not hold it.
    fn full_fx(&self) -> [u8; 512] {
        let mut fx = self.fx;
        if self.vector == super::user::SYSCALL_VECTOR && fx[FX_FULL] == 0 {
            let live = cpu::fxsave();
            // FCW, FSW, FTW, FOP, FIP, FDP (0..24); MXCSR stays the
            // frame's; MXCSR_MASK (28..32); ST0-7 (32..160).
            fx[0..24].copy_from_slice(&live.0[0..24]);
            fx[28..160].copy_from_slice(&live.0[28..160]);
            fx[FX_FULL] = 1;
        }
        fx
    }
}

/// A copy is complete (x87 included, `TrapFrame` invariants), so it can be
/// restored on another thread (fork, clone). Clone a system-call frame
/// only on the thread that owns it.
impl Clone for TrapFrame {
    fn clone(&self) -> Self {
        Self {
            fx: self.full_fx(),
            r15: self.r15,
            r14: self.r14,
            r13: self.r13,
            r12: self.r12,
            r11: self.r11,
            r10: self.r10,
            r9: self.r9,
            r8: self.r8,
            rbp: self.rbp,
            rdi: self.rdi,
            rsi: self.rsi,
            rdx: self.rdx,
            rcx: self.rcx,
            rbx: self.rbx,
            rax: self.rax,
            vector: self.vector,
            error_code: self.error_code,
            rip: self.rip,
            cs: self.cs,
            rflags: self.rflags,
            rsp: self.rsp,
            ss: self.ss,
        }
    }
}

/// First byte of the FXSAVE image the instruction does not write (Intel
/// SDM vol. 1, table 10-2: 416..464 reserved, 464..512 for software).
const FX_RESERVED_START: usize = 416;

/// Size of a `TrapFrame` on the stack.
pub const TRAP_FRAME_SIZE: usize = core::mem::size_of::<TrapFrame>();

global_asm!(
    r#"
    .section .text
    .p2align 4
    .global trap_common
trap_common:
    push rax
    push rcx
    /* [rsp]=rcx [8]=rax [16]=vector [24]=err [32]=rip [40]=cs [48]=rflags [56]=rsp [64]=ss */
    test byte ptr [rsp + 40], 3
    jz 1f
    swapgs
    mov rax, gs:[{kstack_top}]
    jmp 3f
1:
    mov rcx, [rsp + 16]
    cmp rcx, 2
    je 2f
    cmp rcx, 8
    je 2f
    cmp rcx, 18
    je 2f
    mov rax, [rsp + 56]
    sub rax, 128
    and rax, -16
    mov rcx, gs:[{stack_limit}]
    add rcx, 2048
    cmp rax, rcx
    jb 2f
    jmp 3f
2:
    lea rax, [rsp + 72]
3:
    sub rax, 72
    mov rcx, [rsp + 64]
    mov [rax + 64], rcx
    mov rcx, [rsp + 56]
    mov [rax + 56], rcx
    mov rcx, [rsp + 48]
    mov [rax + 48], rcx
    mov rcx, [rsp + 40]
    mov [rax + 40], rcx
    mov rcx, [rsp + 32]
    mov [rax + 32], rcx
    mov rcx, [rsp + 24]
    mov [rax + 24], rcx
    mov rcx, [rsp + 16]
    mov [rax + 16], rcx
    mov rcx, [rsp + 8]
    mov [rax + 8], rcx
    mov rcx, [rsp]
    mov [rax], rcx
    mov rsp, rax
    pop rcx
    pop rax
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
    sub rsp, 512
    fxsave64 [rsp]
    cld
    mov rdi, rsp
    call trap_dispatch
    cli
    .global trap_return
trap_return:
    fxrstor64 [rsp]
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
    add rsp, 16
    .global trap_iret
trap_iret:
    test byte ptr [rsp + 8], 3
    jz 4f
    swapgs
4:
    iretq

    /* One stub per vector. Vectors 8, 10-14, 17, 21, 29, 30 push an error code. */
    .p2align 4
    .global trap_stubs
trap_stubs:
    .set v, 0
    .rept 256
    .p2align 4
    .if (v == 8) || ((v >= 10) && (v <= 14)) || (v == 17) || (v == 21) || (v == 29) || (v == 30)
    push v
    .else
    push 0
    push v
    .endif
    jmp trap_common
    .set v, v + 1
    .endr
    "#,
    kstack_top = const OFF_KSTACK_TOP,
    stack_limit = const OFF_STACK_LIMIT,
);

unsafe extern "C" {
    static trap_stubs: u8;
}

/// Distance between two stubs (each is aligned to 16 bytes).
const STUB_STRIDE: u64 = 16;

#[repr(C, align(16))]
struct Idt([u128; 256]);
static mut IDT: Idt = Idt([0; 256]);

/// Fills the shared IDT. Called once on the boot CPU.
pub(crate) fn init_idt() {
    let base = core::ptr::addr_of!(trap_stubs) as u64;
    for v in 0..256u64 {
        let handler = base + v * STUB_STRIDE;
        let ist: u128 = match v {
            8 => 2,
            2 | 18 => 3,
            _ => 1,
        };
        // 0x8e: present, DPL0, 64-bit interrupt gate. Vector 3 (int3) is
        // DPL3 so user `int3` raises SIGTRAP rather than #GP.
        let type_attr: u128 = if v == 3 { 0xee } else { 0x8e };
        let entry = (u128::from(handler) & 0xffff)
            | (u128::from(gdt::KERNEL_CS) << 16)
            | (ist << 32)
            | (type_attr << 40)
            | (((u128::from(handler) >> 16) & 0xffff) << 48)
            | ((u128::from(handler) >> 32) << 64);
        // SAFETY: only the boot CPU writes the IDT, before any CPU loads it.
        unsafe { (*core::ptr::addr_of_mut!(IDT)).0[v as usize] = entry };
    }
}

/// Loads the shared IDT on this CPU.
pub(crate) fn load_idt() {
    #[repr(C, packed)]
    struct Ptr {
        limit: u16,
        base: u64,
    }
    let ptr = Ptr { limit: (256 * 16 - 1) as u16, base: core::ptr::addr_of!(IDT) as u64 };
    // SAFETY: the IDT is static, fully initialised by `init_idt`, and every
    // gate points at a stub above.
    unsafe { core::arch::asm!("lidt [{}]", in(reg) &ptr, options(readonly, nostack, preserves_flags)) };
}

/// Handler for a hardware interrupt vector (32..=255).
pub type IrqHandler = fn(&mut TrapFrame);

static IRQ_HANDLERS: [AtomicUsize; 256] = [const { AtomicUsize::new(0) }; 256];
static IRQ_FNS: crate::sync::SpinLock<[Option<IrqHandler>; 256]> = crate::sync::SpinLock::new([None; 256]);

/// Installs `handler` for `vector`. Returns false if the vector is taken.
pub fn register_irq(vector: u8, handler: IrqHandler) -> bool {
    let mut fns = IRQ_FNS.lock();
    if vector < 32 || fns[vector as usize].is_some() {
        return false;
    }
    fns[vector as usize] = Some(handler);
    IRQ_HANDLERS[vector as usize].store(1, Ordering::Release);
    true
}


#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: *mut TrapFrame) {
    // SAFETY: `trap_common` passes a pointer to the frame it just built on
    // this stack; nothing else refers to it while the handler runs.
    let frame = unsafe { &mut *frame };
    let vector = frame.vector as u8;
    match vector {
        0..=31 => exception(frame),
        0xff => {} // spurious: no EOI
        _ => {
            let pc = super::percpu::this_cpu();
            pc.irq_depth.fetch_add(1, Ordering::Relaxed);
            let handler = if IRQ_HANDLERS[vector as usize].load(Ordering::Acquire) != 0 {
                IRQ_FNS.lock()[vector as usize]
            } else {
                None
            };
            super::apic::eoi();
            match handler {
                Some(h) => h(frame),
                // The masked 8259s can still raise their spurious IRQ 7/15.
                None if vector == 0x27 || vector == 0x2f => {}
                None => crate::panic::fatal_trap(frame, "unexpected interrupt (no handler)", 0, false),
            }
            pc.irq_depth.fetch_sub(1, Ordering::Relaxed);
            crate::task::preempt_point_from_irq(frame);
            if frame.is_from_user() {
                super::user::before_return_to_user(frame);
            }
        }
    }
}

const EXCEPTION_NAMES: [&str; 32] = [
    "divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)", "overflow (#OF)",
    "bound range (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
    "double fault (#DF)", "coprocessor segment overrun", "invalid TSS (#TS)",
    "segment not present (#NP)", "stack fault (#SS)", "general protection (#GP)",
    "page fault (#PF)", "reserved 15", "x87 FP error (#MF)", "alignment check (#AC)",
    "machine check (#MC)", "SIMD FP error (#XM)", "virtualization (#VE)",
    "control protection (#CP)", "reserved 22", "reserved 23", "reserved 24", "reserved 25",
    "reserved 26", "reserved 27", "hypervisor injection (#HV)", "VMM communication (#VC)",
    "security (#SX)", "reserved 31",
];

fn exception(frame: &mut TrapFrame) {
    let vector = frame.vector as usize;
    if vector == 2 && crate::panic::is_panicking() {
        crate::panic::halt_forever(); // another CPU panicked: `apic::broadcast_stop`
    }
    if vector == 2 && crate::task::watchdog::on_nmi(frame) {
        return; // a hard-lockup report asked where this CPU is
    }
    let cr2 = if vector == 14 { cpu::read_cr2() } else { 0 };
    if frame.is_from_user() {
        crate::task::note_entry_from_user(); // a user page-fault storm is progress
    }
    // Error code bit 4: the fault was an instruction fetch (NX, SMEP).
    if vector == 14 && !frame.is_from_user() && frame.error_code & (1 << 4) != 0 {
        if let Some((rip, rsp)) = super::extable::exec_probe_fixup(frame.rip, frame.rsp) {
            (frame.rip, frame.rsp) = (rip, rsp);
            return;
        }
    }
    if vector == 14 && cr2 < crate::mm::paging::USER_END {
        // Demand paging, for user code and for kernel copies from user
        // memory alike: the Linux layer maps the page and the access retries.
        if super::user::resolve_page_fault(frame, cr2) {
            if frame.is_from_user() {
                // Signals first, as on every return to user mode: the fault
                // may have ended in a SIGKILL (the OOM killer's).
                super::user::before_return_to_user(frame);
            }
            return;
        }
    }
    if frame.is_from_user() {
        if super::user::user_exception(frame, cr2) {
            return;
        }
    } else if vector == 14 || vector == 13 {
        // A fault at an instruction listed in the exception table (user
        // copies, probes) resumes at its fixup and reports an error there.
        if let Some(fixup) = super::extable::fixup_for(frame.rip) {
            frame.rip = fixup;
            return;
        }
    }
    let limit = super::percpu::this_cpu().stack_limit.load(Ordering::Relaxed);
    let overflow = !frame.is_from_user() && limit != 0 && frame.rsp < limit + 2048 && frame.rsp + 65536 > limit;
    crate::panic::fatal_trap(frame, EXCEPTION_NAMES[vector], cr2, overflow);
}

/// Prints the registers of `frame` (used by the fatal trap path).
pub(crate) fn print_registers(out: &mut dyn FnMut(core::fmt::Arguments<'_>), f: &TrapFrame) {
    out(format_args!(
        "  rip {:#018x}  cs {:#x}  rflags {:#x}  rsp {:#018x}  ss {:#x}\n",
        f.rip, f.cs, f.rflags, f.rsp, f.ss
    ));
    out(format_args!("  rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}\n", f.rax, f.rbx, f.rcx, f.rdx));
    out(format_args!("  rsi {:#018x} rdi {:#018x} rbp {:#018x} r8  {:#018x}\n", f.rsi, f.rdi, f.rbp, f.r8));
    out(format_args!("  r9  {:#018x} r10 {:#018x} r11 {:#018x} r12 {:#018x}\n", f.r9, f.r10, f.r11, f.r12));
    out(format_args!("  r13 {:#018x} r14 {:#018x} r15 {:#018x}\n", f.r13, f.r14, f.r15));
    out(format_args!(
        "  cr0 {:#x} cr3 {:#x} cr4 {:#x}\n",
        cpu::read_cr0(),
        cpu::read_cr3(),
        cpu::read_cr4()
    ));
}

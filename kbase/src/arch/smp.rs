//! Application-processor start-up: INIT-SIPI-SIPI and a real-mode trampoline.
//!
//! ```text
//!  BSP: copy trampoline ──▶ phys 0x8000;  temp PML4 at 0x9000:
//!         [0] identity 0..2 MiB (0xa000 PDPT → 0xb000 PD, one 2 MiB page)
//!         [256..512] = kernel PML4's kernel half
//!       per AP: kernel stack + 3 IST stacks, fill trampoline slots,
//!               INIT, 10 ms, SIPI(0x08), 200 µs, SIPI, wait ≤ 2 s for "online"
//!  AP:  0x8000 real mode ──lgdt, CR0.PE──▶ 32-bit ──PAE/PGE/SSE, temp CR3,
//!       EFER.LME|NXE, CR0.PG|WP──▶ 64-bit (identity) ──lgdt (direct map),
//!       RSP = its stack──▶ ap_high64 (kernel .text): CR3 = kernel PML4
//!       ──▶ ap_rust_entry(index): per-CPU, GDT/TSS, IDT, XSAVE, SMEP/SMAP,
//!           local APIC + timer, mark online ──▶ task::ap_entry (never returns)
//! ```
//! The low pages 0x8000..0xc000 are below 1 MiB, which the frame allocator
//! never hands out. APs start one at a time, so one set of trampoline slots
//! suffices; an AP that misses its deadline is sent INIT again (parked in
//! wait-for-SIPI) so it can never run on a later AP's slots.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::percpu::{self, MAX_CPUS};
use super::{acpi, apic, cpu, gdt, trap};
use crate::mm::frame::FrameBlock;
use crate::mm::stack::KernelStack;
use crate::mm::{PHYS_OFFSET, PhysAddr};

#[path = "smp_tests.rs"]
mod smp_tests;

/// Physical page of the trampoline; the SIPI vector is its page number.
const TRAMP_PHYS: u64 = 0x8000;
const TEMP_PML4: u64 = 0x9000;
const TEMP_PDPT: u64 = 0xa000;
const TEMP_PD: u64 = 0xb000;
/// How long one AP may take to come online (TCG is slow).
const AP_TIMEOUT_NS: u64 = 2_000_000_000;

global_asm!(
    r#"
    .pushsection .rodata.ap_trampoline, "a", @progbits
    .p2align 12
    .global ap_tramp_start
ap_tramp_start:
    .code16
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (ap_tramp_gdt_ptr - ap_tramp_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x18, ${tramp} + (ap_tramp32 - ap_tramp_start)

    .code32
ap_tramp32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    /* CR4: PAE | PGE | OSFXSR | OSXMMEXCPT, as on the boot CPU (boot.rs) */
    movl %cr4, %eax
    orl ${cr4}, %eax
    movl %eax, %cr4
    movl ${temp_pml4}, %eax
    movl %eax, %cr3
    /* EFER: LME | NXE */
    movl $0xC0000080, %ecx
    rdmsr
    orl ${efer}, %eax
    wrmsr
    /* CR0: PG | WP | NE | MP | PE, clear EM and TS */
    movl %cr0, %eax
    andl ${cr0_clear}, %eax
    orl ${cr0_set}, %eax
    movl %eax, %cr0
    ljmpl $0x08, ${tramp} + (ap_tramp64 - ap_tramp_start)

    .code64
ap_tramp64:
    /* GDT through the direct map: the identity map goes away with CR3. */
    lgdt ap_tramp_gdt_ptr64(%rip)
    xorl %eax, %eax
    movw %ax, %fs
    movw %ax, %gs
    movq ap_tramp_stack(%rip), %rsp
    movq ap_tramp_arg(%rip), %rdi
    movq ap_tramp_kcr3(%rip), %rax
    movabsq $ap_high64, %rcx
    jmpq *%rcx

    .p2align 3
ap_tramp_gdt:
    .quad 0
    .quad 0x00af9a000000ffff         /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff         /* 0x10: data */
    .quad 0x00cf9a000000ffff         /* 0x18: 32-bit code */
ap_tramp_gdt_end:
ap_tramp_gdt_ptr:
    .word ap_tramp_gdt_end - ap_tramp_gdt - 1
    .long {tramp} + (ap_tramp_gdt - ap_tramp_start)
    .p2align 3
    .word 0, 0, 0
ap_tramp_gdt_ptr64:
    .word ap_tramp_gdt_end - ap_tramp_gdt - 1
    .quad {phys_offset} + {tramp} + (ap_tramp_gdt - ap_tramp_start)

    /* Slots the boot CPU fills before each SIPI. */
    .p2align 3
    .global ap_tramp_stack
ap_tramp_stack:
    .quad 0
    .global ap_tramp_arg
ap_tramp_arg:
    .quad 0
    .global ap_tramp_kcr3
ap_tramp_kcr3:
    .quad 0
    .global ap_tramp_end
ap_tramp_end:
    .popsection

    .pushsection .text, "ax", @progbits
    .code64
    /* Higher half, temp page tables, RAX = kernel PML4, RDI = cpu index. */
ap_high64:
    movq %rax, %cr3
    xorl %ebp, %ebp
    call ap_rust_entry
    ud2
    .popsection
"#,
    tramp = const TRAMP_PHYS,
    temp_pml4 = const TEMP_PML4,
    phys_offset = const PHYS_OFFSET,
    cr4 = const super::boot::EARLY_CR4,
    efer = const super::boot::EARLY_EFER,
    cr0_set = const super::boot::EARLY_CR0_SET,
    cr0_clear = const !super::boot::EARLY_CR0_CLEAR,
    options(att_syntax)
);

unsafe extern "C" {
    static ap_tramp_start: u8;
    static ap_tramp_end: u8;
    static ap_tramp_stack: u8;
    static ap_tramp_arg: u8;
    static ap_tramp_kcr3: u8;
}

/// What each AP needs from the boot CPU, by CPU index.
static STACK_BOTTOM: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static STACK_TOP: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static IST_TOPS: [[AtomicU64; 3]; MAX_CPUS] = [const { [const { AtomicU64::new(0) }; 3] }; MAX_CPUS];
static APIC_IDS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// How many CPUs (boot CPU included) start-up aimed for.
static TARGET: AtomicUsize = AtomicUsize::new(1);

/// Number of CPUs the kernel tried to bring online: the MADT's count, cut
/// by `nosmp` / `maxcpus=` (1 before `start_aps`).
pub fn target_cpus() -> usize {
    TARGET.load(Ordering::Relaxed)
}

/// Starts every AP the MADT lists, honouring `nosmp` and `maxcpus=`.
pub(crate) fn start_aps(args: &cmdline::KernelArgs<'_>) {
    let bsp_id = percpu::this_cpu().apic_id();
    let others: alloc::vec::Vec<u32> = acpi::cpus().iter().copied().filter(|&id| id != bsp_id).collect();
    if !acpi::cpus().is_empty() && !acpi::cpus().contains(&bsp_id) {
        log::warn!("smp: boot CPU (APIC id {bsp_id}) is not in the MADT");
    }
    let mut limit = MAX_CPUS;
    if args.nosmp {
        limit = 1;
    }
    if let Some(n) = args.maxcpus {
        limit = limit.min((n as usize).max(1));
    }
    let wanted = (others.len() + 1).min(limit);
    TARGET.store(wanted, Ordering::Relaxed);
    if wanted > 1 {
        if let Err(why) = install_trampoline() {
            log::warn!("smp: {why}; running on the boot CPU only");
            TARGET.store(1, Ordering::Relaxed);
        } else {
            let mut next = 1;
            for &apic_id in others.iter().take(wanted - 1) {
                match start_one(next, apic_id) {
                    Ok(()) => next += 1,
                    Err(why) => log::warn!("smp: CPU with APIC id {apic_id} did not start: {why}"),
                }
            }
        }
    }
    log::info!("smp: {} CPUs online", percpu::cpus_online());
}

/// Copies the trampoline to low memory and builds the temporary PML4.
fn install_trampoline() -> Result<(), &'static str> {
    let start = core::ptr::addr_of!(ap_tramp_start) as u64;
    let end = core::ptr::addr_of!(ap_tramp_end) as u64;
    let len = (end - start) as usize;
    if len > 4096 {
        return Err("trampoline larger than a page");
    }
    // SAFETY: `start..end` is the trampoline in the kernel's .rodata,
    // mapped and immutable for the kernel's lifetime.
    let code = unsafe { core::slice::from_raw_parts(start as *const u8, len) };
    low_write(TRAMP_PHYS, code);

    let mut pml4 = [0u64; 512];
    let kernel = crate::mm::paging::kernel_pml4();
    for (i, e) in pml4.iter_mut().enumerate().skip(256) {
        *e = read_kernel_pml4(kernel, i);
    }
    const P_W: u64 = 0b11;
    const PS: u64 = 1 << 7;
    pml4[0] = TEMP_PDPT | P_W;
    let mut pdpt = [0u64; 512];
    pdpt[0] = TEMP_PD | P_W;
    let mut pd = [0u64; 512];
    pd[0] = PS | P_W; // physical 0..2 MiB, identity
    low_write(TEMP_PML4, as_bytes(&pml4));
    low_write(TEMP_PDPT, as_bytes(&pdpt));
    low_write(TEMP_PD, as_bytes(&pd));
    Ok(())
}

fn as_bytes(t: &[u64; 512]) -> &[u8] {
    // SAFETY: a [u64; 512] is 4096 initialised bytes with no padding, and u8
    // has alignment 1; the returned slice borrows `t`.
    unsafe { core::slice::from_raw_parts(t.as_ptr() as *const u8, 4096) }
}

/// Writes `bytes` into the reserved low pages used for AP start-up.
fn low_write(paddr: u64, bytes: &[u8]) {
    assert!(paddr >= TRAMP_PHYS && paddr + bytes.len() as u64 <= TEMP_PD + 4096, "outside the AP start-up pages");
    // SAFETY: checked to lie in 0x8000..0xc000, RAM below 1 MiB that the
    // frame allocator never hands out and nothing but AP start-up uses; the
    // direct map covers it (RW). No AP is executing from it now (APs start
    // one at a time and each has left it before the next write).
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), PhysAddr(paddr).to_virt().0 as *mut u8, bytes.len()) };
}

fn read_kernel_pml4(pml4: u64, index: usize) -> u64 {
    // SAFETY: `pml4` is the kernel's live top-level table (a frame reached
    // through the direct map) and `index` < 512; entries are only read.
    unsafe { core::ptr::read_volatile((PhysAddr(pml4).to_virt().0 as *const u64).add(index)) }
}

/// Stores one 64-bit trampoline slot (`slot` is a symbol inside it).
fn set_slot(slot: *const u8, value: u64) {
    let off = slot as u64 - core::ptr::addr_of!(ap_tramp_start) as u64;
    low_write(TRAMP_PHYS + off, &value.to_le_bytes());
}

/// Gives CPU `index` its stacks, sends INIT-SIPI-SIPI, and waits for it.
fn start_one(index: usize, apic_id: u32) -> Result<(), &'static str> {
    if index >= MAX_CPUS {
        return Err("no per-CPU slot left");
    }
    let stack = KernelStack::new().map_err(|_| "no memory for a kernel stack")?;
    let (bottom, top) = (stack.bottom(), stack.top());
    let mut ists = [0u64; 3];
    for t in ists.iter_mut() {
        // IST stacks: 16 KiB (order 2), reached through the direct map.
        let f = FrameBlock::alloc(2).map_err(|_| "no memory for IST stacks")?;
        *t = f.into_raw().to_virt().0 + gdt::IST_STACK_SIZE as u64;
    }
    // The AP runs on this stack forever; it is never freed. (IST frames
    // above were leaked by `into_raw` for the same reason.)
    core::mem::forget(stack);
    STACK_BOTTOM[index].store(bottom, Ordering::Relaxed);
    STACK_TOP[index].store(top, Ordering::Relaxed);
    for (slot, t) in IST_TOPS[index].iter().zip(ists) {
        slot.store(t, Ordering::Relaxed);
    }
    APIC_IDS[index].store(u64::from(apic_id), Ordering::Relaxed);

    set_slot(core::ptr::addr_of!(ap_tramp_stack), top);
    set_slot(core::ptr::addr_of!(ap_tramp_arg), index as u64);
    set_slot(core::ptr::addr_of!(ap_tramp_kcr3), crate::mm::paging::kernel_pml4());
    core::sync::atomic::fence(Ordering::SeqCst);

    // Intel SDM vol. 3A §8.4.4.1 (universal start-up algorithm): INIT,
    // 10 ms, SIPI, 200 µs, a second SIPI if the CPU has not started. A
    // virtual CPU needs no settling time after INIT, so under a hypervisor
    // (CPUID.1:ECX[31]) the wait is skipped, as Linux does
    // (`smp_quirk_init_udelay` in arch/x86/kernel/smpboot.c), and each
    // SIPI wait ends as soon as the CPU is up.
    let sipi_page = (TRAMP_PHYS >> 12) as u8;
    let init_wait_ns = if under_hypervisor() { 0 } else { 10_000_000 };
    apic::send_init(apic_id);
    crate::time::spin_delay_ns(init_wait_ns);
    apic::send_startup(apic_id, sipi_page);
    if !wait_online(index, 200_000) {
        apic::send_startup(apic_id, sipi_page);
    }
    if !wait_online(index, AP_TIMEOUT_NS) {
        // Park it so it cannot wake up later on another CPU's slots.
        apic::send_init(apic_id);
        return Err("timed out");
    }
    Ok(())
}

/// Whether CPUID says we run under a hypervisor (leaf 1, ECX bit 31).
fn under_hypervisor() -> bool {
    cpu::cpuid(1, 0).ecx & (1 << 31) != 0
}

/// Waits up to `ns` for CPU `index` to come online; whether it did.
fn wait_online(index: usize, ns: u64) -> bool {
    let deadline = crate::time::uptime_ns() + ns;
    while percpu::cpu(index).is_none() {
        if crate::time::uptime_ns() > deadline {
            return false;
        }
        cpu::pause();
    }
    true
}

/// First Rust code on an AP: on its own kernel stack, kernel page tables,
/// trampoline GDT, no IDT, interrupts off.
#[unsafe(no_mangle)]
extern "C" fn ap_rust_entry(index: u64) -> ! {
    let index = index as usize;
    percpu::init_this_cpu(index, APIC_IDS[index].load(Ordering::Relaxed) as u32);
    let (bottom, top) = (STACK_BOTTOM[index].load(Ordering::Relaxed), STACK_TOP[index].load(Ordering::Relaxed));
    let pc = percpu::this_cpu();
    pc.kstack_top.store(top, Ordering::Relaxed);
    pc.stack_limit.store(bottom, Ordering::Relaxed);
    let ists = IST_TOPS[index].each_ref().map(|t| t.load(Ordering::Relaxed));
    gdt::init_this_cpu(index, ists);
    trap::load_idt();
    super::enable_xsave();
    super::user::init_this_cpu();
    crate::mm::paging::enable_protection();
    apic::init_ap();
    if apic::read_id() != pc.apic_id() {
        log::warn!("smp: CPU {index} has APIC id {} (MADT said {})", apic::read_id(), pc.apic_id());
        pc.apic_id.store(apic::read_id(), Ordering::Relaxed);
    }
    percpu::mark_online(index);
    crate::task::ap_entry(bottom, top)
}

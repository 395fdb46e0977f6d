//! PVH entry: from 32-bit protected mode to Rust in the higher half.
//!
//! ```text
//!  QEMU/Firecracker ──(PVH note)──▶ pvh_start32   32-bit, paging off, EBX = hvm_start_info
//!        enable PAE, SSE, long mode, NX, WP; load boot_pml4 (identity 4 GiB,
//!        direct map 4 GiB at PHYS_OFFSET, kernel at -2 GiB) and boot_gdt
//!  ──▶ boot_start64   64-bit, still identity-mapped
//!  ──▶ boot_high64    higher half: clear .bss, boot stack, call `kbase_boot_entry`
//! ```
//!
//! The early tables are static data in `.boot.data`; `mm::paging` replaces
//! them with the final ones (W^X, no identity map) before anything else runs.

use core::arch::global_asm;

/// CR4 bits every CPU sets before long mode: PAE, PGE, OSFXSR, OSXMMEXCPT
/// (SSE usable at once, DESIGN.md §1).
pub(crate) const EARLY_CR4: u32 = (1 << 5) | (1 << 7) | (1 << 9) | (1 << 10);
/// EFER bits: LME (long mode) and NXE (no-execute pages).
pub(crate) const EARLY_EFER: u32 = (1 << 8) | (1 << 11);
/// CR0 bits to set: PG, WP, NE, MP, PE.
pub(crate) const EARLY_CR0_SET: u32 = (1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1;
/// CR0 bits to clear: EM and TS (x87/SSE instructions must not trap).
pub(crate) const EARLY_CR0_CLEAR: u32 = (1 << 2) | (1 << 3);

global_asm!(
    r#"

    /* ---- XEN_ELFNOTE_PHYS32_ENTRY (type 18), name "Xen" ---- */
    .pushsection .note.Xen, "a", @note
    .p2align 2
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .p2align 2
    .long pvh_start32
    .p2align 2
    .popsection

    .pushsection .boot.text, "ax", @progbits
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    movl %ebx, %esi              /* hvm_start_info physical address */

    /* CR4: PAE | PGE | OSFXSR | OSXMMEXCPT */
    movl %cr4, %eax
    orl ${cr4}, %eax
    movl %eax, %cr4

    movl $boot_pml4, %eax
    movl %eax, %cr3

    /* EFER: LME | NXE */
    movl $0xC0000080, %ecx
    rdmsr
    orl ${efer}, %eax
    wrmsr

    /* CR0: PG | WP | NE | MP | PE, clear EM and TS (SSE usable at once) */
    movl %cr0, %eax
    andl ${cr0_clear}, %eax
    orl ${cr0_set}, %eax
    movl %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $boot_start64

    .code64
boot_start64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_high64, %rax
    jmp *%rax

    /* ---- early data: page tables and GDT ---- */
    .pushsection .boot.data, "aw", @progbits
    .p2align 12
    .global boot_pml4
boot_pml4:
    .quad boot_pdpt_low + 3          /* 0x0000000000000000: identity, 4 GiB */
    .fill 255, 8, 0
    .quad boot_pdpt_low + 3          /* 0xffff800000000000: direct map, 4 GiB */
    .fill 254, 8, 0
    .quad boot_pdpt_high + 3         /* 0xffffff8000000000: kernel image */
boot_pdpt_low:
    .quad boot_pd + 0x0000 + 3
    .quad boot_pd + 0x1000 + 3
    .quad boot_pd + 0x2000 + 3
    .quad boot_pd + 0x3000 + 3
    .fill 508, 8, 0
boot_pdpt_high:
    .fill 510, 8, 0
    .quad boot_pd + 0x0000 + 3       /* 0xffffffff80000000 -> physical 0 */
    .quad boot_pd + 0x1000 + 3
boot_pd:
    .set i, 0
    .rept 2048
    .quad (i << 21) | 0x83           /* present, writable, 2 MiB page */
    .set i, i + 1
    .endr
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff         /* 0x08: 64-bit kernel code */
    .quad 0x00cf92000000ffff         /* 0x10: kernel data */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .popsection
    .popsection

    /* ---- higher half ---- */
    .pushsection .text.entry, "ax", @progbits
    .code64
boot_high64:
    movq %rsi, %r12                  /* keep hvm_start_info */
    leaq __bss_start(%rip), %rdi
    leaq __bss_end(%rip), %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    movq %r12, %rdi
    call kbase_boot_entry
1:  cli
    hlt
    jmp 1b
    .popsection

    /* ---- boot stack, with an unmapped guard page below it ---- */
    .pushsection .bss.stack, "aw", @nobits
    .p2align 12
    .global boot_stack_guard
boot_stack_guard:
    .skip 4096
    .global boot_stack_bottom
boot_stack_bottom:
    .skip 65536
    .global boot_stack_top
boot_stack_top:
    .popsection
"#,
    cr4 = const EARLY_CR4,
    efer = const EARLY_EFER,
    cr0_set = const EARLY_CR0_SET,
    cr0_clear = const !EARLY_CR0_CLEAR,
    options(att_syntax)
);

//! GDT and TSS, one pair per CPU, laid out like Linux's so user-visible
//! selectors match (`__USER_CS` = 0x33, `__USER_DS` = 0x2b).
//!
//! ```text
//!  0x00 null   0x08 kernel32 CS (unused)   0x10 kernel CS   0x18 kernel DS
//!  0x23 user32 CS   0x2b user DS   0x33 user CS   0x40 TSS (two slots)
//! ```
//! The TSS holds the IST stacks: IST1 is the landing stack of every gate
//! (the entry stub moves the frame off it at once, see `trap`), IST2 is for
//! double faults, IST3 for NMI and machine checks.

use core::arch::asm;
use core::cell::UnsafeCell;

use super::percpu::MAX_CPUS;

pub const KERNEL_CS: u16 = 0x10;
pub const KERNEL_DS: u16 = 0x18;
pub const USER32_CS: u16 = 0x23;
pub const USER_DS: u16 = 0x2b;
pub const USER_CS: u16 = 0x33;
const TSS_SEL: u16 = 0x40;

pub const IST_STACK_SIZE: usize = 16 * 1024;

#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
struct CpuTables {
    gdt: [u64; 10],
    tss: Tss,
}

struct PerCpuTables(UnsafeCell<[CpuTables; MAX_CPUS]>);
// SAFETY: each CPU writes only its own slot, once, in `init_this_cpu`, before
// loading it; afterwards the CPU hardware is the only reader.
unsafe impl Sync for PerCpuTables {}

const EMPTY: CpuTables = CpuTables {
    gdt: [0; 10],
    tss: Tss { reserved0: 0, rsp: [0; 3], reserved1: 0, ist: [0; 7], reserved2: 0, reserved3: 0, iomap_base: 104 },
};
static TABLES: PerCpuTables = PerCpuTables(UnsafeCell::new([EMPTY; MAX_CPUS]));

#[repr(C, align(16))]
struct IstStacks([[u8; IST_STACK_SIZE]; 3]);
/// The boot CPU's IST stacks (others get theirs from the frame allocator).
static mut BSP_IST: IstStacks = IstStacks([[0; IST_STACK_SIZE]; 3]);

/// Top addresses of the three IST stacks for `cpu` (boot CPU: static ones).
pub(crate) fn bsp_ist_tops() -> [u64; 3] {
    let base = core::ptr::addr_of!(BSP_IST) as u64;
    let s = IST_STACK_SIZE as u64;
    [base + s, base + 2 * s, base + 3 * s]
}

/// Builds and loads this CPU's GDT and TSS. `ist_tops` are the tops of its
/// IST1..IST3 stacks.
pub(crate) fn init_this_cpu(cpu: usize, ist_tops: [u64; 3]) {
    // SAFETY: slot `cpu` belongs to the calling CPU alone (see PerCpuTables),
    // and it is written before the hardware starts using it.
    let t = unsafe { &mut (*TABLES.0.get())[cpu] };
    t.gdt = [
        0,
        0x00cf_9a00_0000_ffff, // kernel32 code
        0x00af_9a00_0000_ffff, // kernel code: L=1, P, DPL0, exec/read
        0x00cf_9200_0000_ffff, // kernel data
        0x00cf_fa00_0000_ffff, // user32 code (DPL3)
        0x00cf_f200_0000_ffff, // user data (DPL3)
        0x00af_fa00_0000_ffff, // user code (DPL3, L=1)
        0,
        0,
        0,
    ];
    t.tss.ist[0] = ist_tops[0];
    t.tss.ist[1] = ist_tops[1];
    t.tss.ist[2] = ist_tops[2];
    let tss_addr = core::ptr::addr_of!(t.tss) as u64;
    let limit = (core::mem::size_of::<Tss>() - 1) as u64;
    let low = (limit & 0xffff)
        | ((tss_addr & 0xff_ffff) << 16)
        | (0x89 << 40) // present, 64-bit available TSS
        | (((limit >> 16) & 0xf) << 48)
        | (((tss_addr >> 24) & 0xff) << 56);
    t.gdt[8] = low;
    t.gdt[9] = tss_addr >> 32;

    #[repr(C, packed)]
    struct Ptr {
        limit: u16,
        base: u64,
    }
    let ptr = Ptr { limit: (core::mem::size_of::<[u64; 10]>() - 1) as u16, base: t.gdt.as_ptr() as u64 };
    // SAFETY: the GDT above is static and holds valid descriptors for the
    // selectors loaded here; the far return reloads CS with the kernel code
    // selector at the same RIP; the TSS descriptor is fresh (not busy).
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ss, {ds:x}",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = in(reg) u64::from(KERNEL_CS),
            ds = in(reg) KERNEL_DS,
            tss = in(reg) TSS_SEL,
            tmp = out(reg) _,
        );
    }
}

//! Per-CPU data, reached through the GS base.
//!
//! ```text
//!  GS base ──▶ PerCpu[cpu]  offset 0   self pointer
//!                           offset 8   kernel stack top   (trap/syscall entry from user)
//!                           offset 16  stack limit        (lowest usable byte of the current kernel stack)
//!                           offset 24  user RSP scratch   (syscall entry)
//!                           offset 32  cpu index, APIC id ...
//! ```
//! The assembly entry stubs use the fixed offsets; the Rust side sees
//! atomics, so no `&mut` aliasing questions arise.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

pub const MAX_CPUS: usize = 64;

pub(crate) const OFF_KSTACK_TOP: usize = 8;
pub(crate) const OFF_STACK_LIMIT: usize = 16;
pub(crate) const OFF_USER_RSP: usize = 24;
pub(crate) const OFF_CURRENT_TASK: usize = core::mem::offset_of!(PerCpu, current_task);

/// Reads this CPU's current-task slot in one instruction, so the value is
/// the running task's own even if it is migrated right after.
#[inline(always)]
pub(crate) fn current_task_addr() -> usize {
    if !READY.load(Ordering::Relaxed) {
        return 0;
    }
    let v: usize;
    // SAFETY: GS base points at this CPU's PerCpu (see `this_cpu`); the
    // offset is that of `current_task`, an AtomicUsize, read as one word.
    unsafe { core::arch::asm!("mov {}, gs:[{off}]", out(reg) v, off = const OFF_CURRENT_TASK, options(nostack, readonly, preserves_flags)) };
    v
}

#[repr(C, align(64))]
pub struct PerCpu {
    self_ptr: AtomicU64,
    pub(crate) kstack_top: AtomicU64,
    pub(crate) stack_limit: AtomicU64,
    pub(crate) user_rsp: AtomicU64,
    index: AtomicU32,
    pub(crate) apic_id: AtomicU32,
    pub(crate) online: AtomicBool,
    /// Nesting depth of interrupt handlers on this CPU.
    pub(crate) irq_depth: AtomicU32,
    /// Timer interrupts seen on this CPU.
    pub(crate) ticks: AtomicU64,
    /// Address of the `Task` running on this CPU (set by the scheduler just
    /// before it switches to it; 0 before the scheduler starts).
    pub(crate) current_task: AtomicUsize,
}

impl PerCpu {
    const fn new() -> Self {
        Self {
            self_ptr: AtomicU64::new(0),
            kstack_top: AtomicU64::new(0),
            stack_limit: AtomicU64::new(0),
            user_rsp: AtomicU64::new(0),
            index: AtomicU32::new(0),
            apic_id: AtomicU32::new(0),
            online: AtomicBool::new(false),
            irq_depth: AtomicU32::new(0),
            ticks: AtomicU64::new(0),
            current_task: AtomicUsize::new(0),
        }
    }

    pub fn index(&self) -> usize {
        self.index.load(Ordering::Relaxed) as usize
    }
    pub fn apic_id(&self) -> u32 {
        self.apic_id.load(Ordering::Relaxed)
    }
    pub fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }
}

static CPUS: [PerCpu; MAX_CPUS] = [const { PerCpu::new() }; MAX_CPUS];
static CPUS_ONLINE: AtomicU32 = AtomicU32::new(0);
/// Set once the GS base points at a `PerCpu` on the boot CPU.
static READY: AtomicBool = AtomicBool::new(false);

/// Points this CPU's GS base at slot `index`. Called once per CPU at start.
pub(crate) fn init_this_cpu(index: usize, apic_id: u32) {
    let slot = &CPUS[index];
    let addr = slot as *const PerCpu as u64;
    slot.self_ptr.store(addr, Ordering::Relaxed);
    slot.index.store(index as u32, Ordering::Relaxed);
    slot.apic_id.store(apic_id, Ordering::Relaxed);
    // SAFETY: IA32_GS_BASE (and KERNEL_GS_BASE, swapped in by SWAPGS on
    // entry from user space) point at this CPU's own static slot, which lives
    // forever; no other code relies on the old values.
    unsafe {
        super::cpu::write_msr(0xC000_0101, addr);
        super::cpu::write_msr(0xC000_0102, 0);
    }
    READY.store(true, Ordering::Release);
}

pub(crate) fn mark_online(index: usize) {
    CPUS[index].online.store(true, Ordering::Release);
    CPUS_ONLINE.fetch_add(1, Ordering::AcqRel);
}

/// This CPU's per-CPU block.
#[inline(always)]
pub fn this_cpu() -> &'static PerCpu {
    if !READY.load(Ordering::Relaxed) {
        return &CPUS[0];
    }
    let addr: u64;
    // SAFETY: after `init_this_cpu` GS base holds the address of a static
    // `PerCpu`, stored at offset 0 of that same block; kernel code always runs
    // with the kernel GS base (entry stubs SWAPGS before Rust code runs).
    unsafe { core::arch::asm!("mov {}, gs:[0]", out(reg) addr, options(nostack, readonly, preserves_flags)) };
    let index = (addr - (&CPUS[0] as *const PerCpu as u64)) as usize / core::mem::size_of::<PerCpu>();
    &CPUS[index.min(MAX_CPUS - 1)]
}

/// Index of the CPU running this code (0 = boot CPU).
#[inline(always)]
pub fn cpu_index() -> usize {
    this_cpu().index()
}

pub fn cpu(index: usize) -> Option<&'static PerCpu> {
    CPUS.get(index).filter(|c| c.online.load(Ordering::Acquire))
}

pub fn cpus_online() -> usize {
    CPUS_ONLINE.load(Ordering::Acquire) as usize
}

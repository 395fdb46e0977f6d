//! Memory: physical frames, page tables, the kernel heap, kernel stacks.
//!
//! ```text
//!  virtual address space (kernel half)
//!  0xffff_8000_0000_0000  direct map of all RAM (2 MiB pages, RW, NX)
//!  0xffff_c000_0000_0000  kernel stacks, 4 KiB pages, an unmapped guard page below each
//!  0xffff_d000_0000_0000  MMIO windows (uncached)
//!  0xffff_ffff_8000_0000  kernel image: text RX, rodata R+NX, data/bss RW+NX
//!  user half: 0 .. 0x0000_7fff_ffff_ffff (per address space)
//! ```

pub mod frame;
pub mod heap;
pub mod paging;
pub mod stack;

/// Base of the direct map of physical memory.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
/// Base of the kernel-stack area.
pub const KSTACK_BASE: u64 = 0xffff_c000_0000_0000;
/// Base of the MMIO window area.
pub const MMIO_BASE: u64 = 0xffff_d000_0000_0000;
/// Where the kernel image is linked (virtual = this + physical).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

pub const PAGE_SIZE: u64 = 4096;

/// A physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysAddr(pub u64);

/// A virtual address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtAddr(pub u64);

impl PhysAddr {
    /// Its address in the direct map.
    pub const fn to_virt(self) -> VirtAddr {
        VirtAddr(self.0 + PHYS_OFFSET)
    }
}

/// The physical address of a kernel-image symbol address.
pub(crate) fn image_phys(vaddr: u64) -> u64 {
    vaddr - KERNEL_VMA
}

/// Errors from the memory layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmError {
    OutOfMemory,
    AlreadyMapped,
    NotMapped,
    BadAddress,
}

impl core::fmt::Display for MmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MmError::OutOfMemory => "out of memory",
            MmError::AlreadyMapped => "address already mapped",
            MmError::NotMapped => "address not mapped",
            MmError::BadAddress => "address not canonical or misaligned",
        })
    }
}

//! Where a new image's pieces go: the static-PIE load base, the start of
//! the heap, the top of the mmap area and the top of the stack, either at
//! fixed addresses or randomised (ASLR), as Linux's `arch_pick_mmap_layout`,
//! `arch_randomize_brk` and `randomize_stack_top` do for x86_64.
//!
//! ```text
//!  USER_LIMIT 0x7fff_ffff_f000
//!   STACK_TOP - up to 16 GiB (22 bits of pages)      stack_top
//!   ... at least 1 TiB gap (the stack's 8 MiB and its randomisation fit)
//!  MMAP_TOP 0x7f00_0000_0000 - up to 1 TiB (28 bits of pages)   mmap_top, grows down
//!   ...
//!  PIE_BASE 0x5555_5555_4000 + up to 1 TiB (2 MiB steps)      static-PIE base
//!   brk_start = end of the image + up to 32 MiB (pages)       heap, grows up
//! ```

use crate::PAGE_SIZE;

/// Top of the main thread's stack without randomisation.
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
/// Top of the mmap area without randomisation.
pub const MMAP_TOP: u64 = 0x7f00_0000_0000;
/// Load base of a static-PIE (`ET_DYN`) file without randomisation
/// (Linux's `ELF_ET_DYN_BASE` as seen with `setarch -R`).
pub const PIE_BASE: u64 = 0x5555_5555_4000;

const STACK_RND_PAGES: u64 = 1 << 22;
const MMAP_RND_PAGES: u64 = 1 << 28;
const PIE_RND_STEPS: u64 = 1 << 19;
const PIE_STEP: u64 = 2 << 20;
const BRK_RND_PAGES: u64 = (32 << 20) / PAGE_SIZE;

/// The addresses `execve` builds the new address space around.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Load bias for an `ET_DYN` file (page-aligned).
    pub pie_base: u64,
    /// Added to the end of the image to give the heap's start (page multiple).
    pub brk_offset: u64,
    /// The mmap area lies below this (page-aligned).
    pub mmap_top: u64,
    /// Top of the main stack (page-aligned, so 16-byte aligned).
    pub stack_top: u64,
}

impl Layout {
    /// The layout without randomisation (`norandmaps`, `ADDR_NO_RANDOMIZE`).
    pub const FIXED: Self = Self { pie_base: PIE_BASE, brk_offset: 0, mmap_top: MMAP_TOP, stack_top: STACK_TOP };

    /// A randomised layout; `random` supplies 64 random bits per call.
    pub fn randomized(mut random: impl FnMut() -> u64) -> Self {
        Self {
            pie_base: PIE_BASE + (random() % PIE_RND_STEPS) * PIE_STEP,
            brk_offset: (random() % BRK_RND_PAGES) * PAGE_SIZE,
            mmap_top: MMAP_TOP - (random() % MMAP_RND_PAGES) * PAGE_SIZE,
            stack_top: STACK_TOP - (random() % STACK_RND_PAGES) * PAGE_SIZE,
        }
    }

    /// The lowest `mmap_top` and `stack_top` any layout can have, and the
    /// highest `pie_base`: the bounds the kernel can rely on.
    pub const LOWEST_MMAP_TOP: u64 = MMAP_TOP - (MMAP_RND_PAGES - 1) * PAGE_SIZE;
    pub const LOWEST_STACK_TOP: u64 = STACK_TOP - (STACK_RND_PAGES - 1) * PAGE_SIZE;
    pub const HIGHEST_PIE_BASE: u64 = PIE_BASE + (PIE_RND_STEPS - 1) * PIE_STEP;
}

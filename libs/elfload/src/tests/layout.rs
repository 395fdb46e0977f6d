//! The ASLR layout: aligned, in range, and the regions never meet.

use crate::layout::{Layout, MMAP_TOP, PIE_BASE, STACK_TOP};
use crate::{PAGE_SIZE, USER_LIMIT};

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn check(l: &Layout) {
    assert_eq!(l.pie_base % PAGE_SIZE, 0, "{l:x?}");
    assert_eq!(l.brk_offset % PAGE_SIZE, 0, "{l:x?}");
    assert_eq!(l.mmap_top % PAGE_SIZE, 0, "{l:x?}");
    assert_eq!(l.stack_top % 16, 0, "{l:x?}");
    assert!(l.stack_top <= STACK_TOP && l.stack_top >= Layout::LOWEST_STACK_TOP);
    assert!(l.mmap_top <= MMAP_TOP && l.mmap_top >= Layout::LOWEST_MMAP_TOP);
    assert!(l.pie_base >= PIE_BASE && l.pie_base <= Layout::HIGHEST_PIE_BASE);
    assert!(l.stack_top <= USER_LIMIT);
    // The 8 MiB stack plus a wide gap stays above the mmap area, and the
    // image (plus heap room) stays below it.
    assert!(l.stack_top - (8 << 20) - (1 << 39) >= l.mmap_top, "{l:x?}");
    assert!(l.pie_base + l.brk_offset + (1 << 40) < l.mmap_top, "{l:x?}");
}

#[test]
fn fixed_layout_is_linux_norandmaps() {
    let l = Layout::FIXED;
    check(&l);
    assert_eq!((l.pie_base, l.brk_offset, l.mmap_top, l.stack_top), (PIE_BASE, 0, MMAP_TOP, STACK_TOP));
}

#[test]
fn extreme_random_values_stay_in_range() {
    check(&Layout::randomized(|| 0));
    check(&Layout::randomized(|| u64::MAX));
    check(&Layout::randomized(|| u64::MAX - 1));
}

#[test]
fn random_layouts_are_valid_and_differ() {
    let mut rng = xorshift(0x1234_5678);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10_000 {
        let l = Layout::randomized(&mut rng);
        check(&l);
        seen.insert((l.pie_base, l.mmap_top, l.stack_top));
    }
    assert!(seen.len() > 9_990, "only {} distinct layouts of 10000", seen.len());
}

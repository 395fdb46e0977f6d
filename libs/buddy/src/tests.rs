//! Host tests: fixed scenarios first, then property tests against a model.

use super::*;
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

fn meta(frames: u32) -> Vec<u32> {
    // Garbage, not zeros: `new` must not rely on the caller clearing memory.
    vec![0xdead_beef; meta_words(frames)]
}

fn shape(b: &Buddy) -> [usize; ORDERS] {
    core::array::from_fn(|o| b.free_blocks(o))
}

/// Free-list shape of a fresh allocator with `ranges` added in order.
fn fresh_shape(frames: u32, ranges: &[(u32, u32)]) -> [usize; ORDERS] {
    let mut m = meta(frames);
    let mut b = Buddy::new(frames, &mut m).unwrap();
    for &(start, count) in ranges {
        b.add_free_range(start, count).unwrap();
    }
    shape(&b)
}

fn one_at(order: usize) -> [usize; ORDERS] {
    let mut s = [0; ORDERS];
    s[order] = 1;
    s
}

#[test]
fn new_checks_meta_size_and_starts_reserved() {
    let mut small = vec![0; meta_words(100) - 1];
    assert_eq!(
        Buddy::new(100, &mut small).err(),
        Some(Error::MetaTooSmall {
            needed_words: meta_words(100),
            got_words: meta_words(100) - 1
        })
    );
    let mut m = meta(100);
    let mut b = Buddy::new(100, &mut m).unwrap();
    assert_eq!((b.total_frames(), b.free_frames()), (100, 0));
    assert_eq!(shape(&b), [0; ORDERS]);
    assert_eq!(b.alloc(0), None);
    assert!(!b.is_free(0));
    assert!(4 * meta_words(100) <= 100 * Buddy::META_BYTES_PER_FRAME + 3);
}

#[test]
fn whole_range_becomes_max_order_blocks() {
    let mut m = meta(2048);
    let mut b = Buddy::new(2048, &mut m).unwrap();
    b.add_free_range(0, 2048).unwrap();
    let mut expect = [0; ORDERS];
    expect[MAX_ORDER] = 2;
    assert_eq!(shape(&b), expect);
    assert_eq!(b.free_frames(), 2048);
    b.check_consistency().unwrap();
}

#[test]
fn odd_range_splits_into_aligned_blocks() {
    let mut m = meta(16);
    let mut b = Buddy::new(16, &mut m).unwrap();
    b.add_free_range(3, 10).unwrap(); // 3 | 4..8 | 8..12 | 12
    let mut expect = [0; ORDERS];
    (expect[0], expect[2]) = (2, 2);
    assert_eq!(shape(&b), expect);
    assert_eq!(b.free_frames(), 10);
    assert!(b.is_free(3) && b.is_free(12) && !b.is_free(2) && !b.is_free(13));
    b.check_consistency().unwrap();
}

#[test]
fn adjacent_ranges_merge_in_any_order() {
    let mut m = meta(1024);
    let mut b = Buddy::new(1024, &mut m).unwrap();
    for (start, count) in [(512, 512), (1, 511), (0, 1)] {
        b.add_free_range(start, count).unwrap();
    }
    assert_eq!(shape(&b), one_at(MAX_ORDER));
    b.check_consistency().unwrap();
}

#[test]
fn add_free_range_rejects_overlap_and_out_of_range() {
    let mut m = meta(64);
    let mut b = Buddy::new(64, &mut m).unwrap();
    b.add_free_range(8, 8).unwrap();
    let before = shape(&b);
    assert_eq!(b.add_free_range(8, 8), Err(Error::Overlap { frame: 8 }));
    assert_eq!(b.add_free_range(4, 8), Err(Error::Overlap { frame: 8 }));
    // Inside the order-3 block at 8: only found through the containing block.
    assert_eq!(b.add_free_range(10, 1), Err(Error::Overlap { frame: 10 }));
    assert_eq!(
        b.add_free_range(60, 5),
        Err(Error::OutOfRange { frame: 64 })
    );
    assert_eq!(
        b.add_free_range(u32::MAX, 2),
        Err(Error::OutOfRange { frame: u32::MAX })
    );
    let frame = b.alloc(1).unwrap();
    assert_eq!(
        b.add_free_range(frame + 1, 1),
        Err(Error::Overlap { frame: frame + 1 })
    );
    b.free(frame, 1).unwrap();
    assert_eq!(shape(&b), before);
    assert_eq!(b.add_free_range(0, 0), Ok(()));
    b.check_consistency().unwrap();
}

#[test]
fn alloc_splits_and_free_merges_back() {
    let mut m = meta(1024);
    let mut b = Buddy::new(1024, &mut m).unwrap();
    b.add_free_range(0, 1024).unwrap();
    assert_eq!(b.alloc(0), Some(0));
    let mut expect = [1; ORDERS];
    expect[MAX_ORDER] = 0;
    assert_eq!(shape(&b), expect);
    assert_eq!(b.free_frames(), 1023);
    b.free(0, 0).unwrap();
    assert_eq!(shape(&b), one_at(MAX_ORDER));
    assert_eq!(b.free_frames(), 1024);
    b.check_consistency().unwrap();
}

#[test]
fn allocations_are_aligned_to_their_order() {
    let mut m = meta(4096);
    let mut b = Buddy::new(4096, &mut m).unwrap();
    b.add_free_range(1, 4095).unwrap();
    for order in [0, 3, 1, 10, 2, 7, 0, 5] {
        let frame = b.alloc(order).unwrap();
        assert_eq!(frame % (1 << order), 0, "order {order} at {frame}");
        assert!(frame >= 1);
    }
    b.check_consistency().unwrap();
}

#[test]
fn exhausted_allocator_returns_none() {
    let mut m = meta(8);
    let mut b = Buddy::new(8, &mut m).unwrap();
    b.add_free_range(0, 4).unwrap();
    assert_eq!(b.alloc(3), None);
    assert_eq!(b.alloc(MAX_ORDER + 1), None);
    let mut got: Vec<u32> = (0..4).map(|_| b.alloc(0).unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3]);
    assert_eq!(b.alloc(0), None);
    assert_eq!(b.free_frames(), 0);
}

#[test]
fn bad_frees_are_rejected_without_side_effects() {
    let mut m = meta(64);
    let mut b = Buddy::new(64, &mut m).unwrap();
    b.add_free_range(0, 32).unwrap();
    let frame = b.alloc(2).unwrap();
    let (before, free_before) = (shape(&b), b.free_frames());
    assert_eq!(
        b.free(frame + 1, 2),
        Err(Error::Misaligned {
            frame: frame + 1,
            order: 2
        })
    );
    assert_eq!(
        b.free(frame, 1),
        Err(Error::WrongOrder {
            frame,
            order: 1,
            allocated_order: 2
        })
    );
    assert_eq!(
        b.free(frame + 1, 0),
        Err(Error::NotAllocated { frame: frame + 1 })
    );
    assert_eq!(b.free(40, 0), Err(Error::NotAllocated { frame: 40 })); // reserved
    assert_eq!(b.free(64, 0), Err(Error::OutOfRange { frame: 64 }));
    assert_eq!(
        b.free(0, MAX_ORDER + 1),
        Err(Error::BadOrder {
            order: MAX_ORDER + 1
        })
    );
    let other_free = if frame == 0 { 16 } else { 0 };
    assert_eq!(
        b.free(other_free, 0),
        Err(Error::DoubleFree { frame: other_free })
    );
    assert_eq!((shape(&b), b.free_frames()), (before, free_before));
    b.check_consistency().unwrap();

    b.free(frame, 2).unwrap();
    assert_eq!(b.free(frame, 2), Err(Error::DoubleFree { frame }));
    assert_eq!(shape(&b), fresh_shape(64, &[(0, 32)]));
    b.check_consistency().unwrap();
}

#[test]
fn order_for_size() {
    let cases = [
        (0, Some(0)),
        (1, Some(0)),
        (4096, Some(0)),
        (4097, Some(1)),
        (8192, Some(1)),
    ];
    for (bytes, order) in cases {
        assert_eq!(alloc_order_for_size(bytes), order, "{bytes} bytes");
    }
    assert_eq!(alloc_order_for_size(12 * 1024), Some(2));
    assert_eq!(alloc_order_for_size(4 << 20), Some(MAX_ORDER));
    assert_eq!(alloc_order_for_size((4 << 20) + 1), None);
    assert_eq!(alloc_order_for_size(usize::MAX), None);
}

#[test]
fn errors_display_their_frame() {
    let text = std::format!("{}", Error::DoubleFree { frame: 77 });
    assert!(text.contains("77") && text.contains("free"), "{text}");
    let text = std::format!(
        "{}",
        Error::WrongOrder {
            frame: 8,
            order: 1,
            allocated_order: 3
        }
    );
    assert!(text.contains('8') && text.contains('3'), "{text}");
}

#[test]
fn consistency_check_catches_corruption() {
    let mut m = meta(64);
    let mut b = Buddy::new(64, &mut m).unwrap();
    b.add_free_range(0, 64).unwrap();
    b.alloc(0).unwrap();
    b.check_consistency().unwrap();
    b.free_frames += 1;
    assert!(matches!(b.check_consistency(), Err(Error::Corrupt { .. })));
    b.free_frames -= 1;
    b.counts[3] += 1;
    assert!(matches!(b.check_consistency(), Err(Error::Corrupt { .. })));
    b.counts[3] -= 1;
    let head = b.heads[0];
    b.set_state(head, FREE | 1);
    assert!(matches!(b.check_consistency(), Err(Error::Corrupt { .. })));
}

/// Usable ranges laid out left to right from (gap, len) pairs, clipped to `frames`.
fn layout(frames: u32, pieces: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut ranges = Vec::new();
    let mut at = 0u32;
    for &(gap, len) in pieces {
        let start = at.saturating_add(gap).min(frames);
        let end = start.saturating_add(len).min(frames);
        if end > start {
            ranges.push((start, end - start));
        }
        at = end;
    }
    ranges
}

/// Model: is there an aligned run of `1 << order` frames all usable and not live?
fn model_has_block(available: &[bool], order: usize) -> bool {
    available
        .chunks_exact(1 << order)
        .any(|c| c.iter().all(|&a| a))
}

#[derive(Debug, Clone)]
enum Op {
    Alloc(usize),
    Free(usize),
    FreeTwice(usize),
    Bogus(u32, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..=MAX_ORDER + 1).prop_map(Op::Alloc),
        3 => any::<usize>().prop_map(Op::Free),
        1 => any::<usize>().prop_map(Op::FreeTwice),
        1 => (0..5000u32, 0..=MAX_ORDER + 1).prop_map(|(f, o)| Op::Bogus(f, o)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_ops_match_model(
        frames in 1..4200u32,
        pieces in prop::collection::vec((0..300u32, 1..1500u32), 1..6),
        add_order in any::<prop::sample::Index>(),
        ops in prop::collection::vec(op(), 0..160),
    ) {
        let ranges = layout(frames, &pieces);
        let initial = fresh_shape(frames, &ranges);
        let mut m = meta(frames);
        let mut b = Buddy::new(frames, &mut m).unwrap();
        // Add the ranges starting from a random one, wrapping around.
        let first = if ranges.is_empty() { 0 } else { add_order.index(ranges.len()) };
        for i in 0..ranges.len() {
            let (start, count) = ranges[(first + i) % ranges.len()];
            b.add_free_range(start, count).unwrap();
        }
        prop_assert_eq!(shape(&b), initial);

        let mut available = vec![false; frames as usize];
        for &(start, count) in &ranges {
            available[start as usize..(start + count) as usize].fill(true);
        }
        let usable = available.iter().filter(|&&a| a).count() as u64;
        let mut live: Vec<(u32, usize)> = Vec::new();
        for op in ops {
            let free_before = b.free_frames();
            match op {
                Op::Alloc(order) => match b.alloc(order) {
                    Some(frame) => {
                        prop_assert!(order <= MAX_ORDER);
                        prop_assert_eq!(frame % (1 << order), 0);
                        let block = frame as usize..frame as usize + (1 << order);
                        prop_assert!(block.end <= frames as usize);
                        prop_assert!(available[block.clone()].iter().all(|&a| a), "overlap at {}", frame);
                        available[block].fill(false);
                        live.push((frame, order));
                        prop_assert_eq!(b.free_frames(), free_before - (1 << order));
                    }
                    None => prop_assert!(
                        order > MAX_ORDER || !model_has_block(&available, order),
                        "alloc({}) failed although an aligned free run exists", order
                    ),
                },
                Op::Free(i) | Op::FreeTwice(i) if !live.is_empty() => {
                    let (frame, order) = live.swap_remove(i % live.len());
                    prop_assert_eq!(b.free(frame, order), Ok(()));
                    available[frame as usize..frame as usize + (1 << order)].fill(true);
                    prop_assert_eq!(b.free_frames(), free_before + (1 << order));
                    if matches!(op, Op::FreeTwice(_)) {
                        prop_assert_eq!(b.free(frame, order), Err(Error::DoubleFree { frame }));
                    }
                }
                Op::Free(_) | Op::FreeTwice(_) => {}
                Op::Bogus(frame, order) => {
                    let before = shape(&b);
                    if !live.contains(&(frame, order)) {
                        prop_assert!(b.free(frame, order).is_err());
                        prop_assert_eq!(shape(&b), before);
                    }
                }
            }
            prop_assert_eq!(b.free_frames(), usable - live.iter().map(|&(_, o)| 1u64 << o).sum::<u64>());
            b.check_consistency().map_err(|e| TestCaseError::fail(std::format!("{e}")))?;
        }

        for (frame, order) in live.drain(..) {
            prop_assert_eq!(b.free(frame, order), Ok(()));
        }
        prop_assert_eq!(shape(&b), initial);
        prop_assert_eq!(b.free_frames(), usable);

        // Drain frame by frame, then give everything back in reverse.
        let mut all = Vec::new();
        while let Some(frame) = b.alloc(0) {
            all.push(frame);
        }
        prop_assert_eq!(all.len() as u64, usable);
        for frame in all.into_iter().rev() {
            prop_assert_eq!(b.free(frame, 0), Ok(()));
        }
        prop_assert_eq!(shape(&b), initial);
        b.check_consistency().map_err(|e| TestCaseError::fail(std::format!("{e}")))?;
    }
}

//! Buddy frame allocator core: pure bookkeeping over frame indices.
//!
//! The allocator hands out blocks of `1 << order` frames, `order` in
//! `0..=MAX_ORDER`, each aligned to its own size. Frames are `u32` indices
//! relative to whatever base the caller chooses; this crate never touches the
//! memory the frames describe. All metadata lives in one caller-provided
//! `&mut [u32]`, so the kernel can carve it out of physical memory at boot,
//! before any heap exists:
//!
//! ```text
//!  meta: [ next[0..n] | prev[0..n] | state[0..n], four u8 packed per u32 ]
//!
//!  heads[order] -> block -> block -> NIL     doubly linked through next/prev,
//!                                            one list per order, O(1) push/remove
//!  state[f] = FREE | order       f heads a free block of that order
//!           = ALLOCATED | order  f heads an allocated block of that order
//!           = 0                  anything else (reserved, or inside a block)
//! ```
//!
//! Every frame starts reserved; [`Buddy::add_free_range`] releases the usable
//! RAM ranges. Freeing always merges a block with its buddy when the buddy is
//! free at the same order, so the set of free blocks depends only on which
//! frames are free, never on the order of operations.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::fmt;

#[cfg(test)]
mod tests;

/// Largest order: blocks range from `1 << 0` to `1 << MAX_ORDER` frames.
pub const MAX_ORDER: usize = 10;
/// Bytes in one frame, used only by [`alloc_order_for_size`].
pub const FRAME_SIZE: usize = 4096;

/// End-of-list marker; never a valid frame index since indices are `< frames`.
const NIL: u32 = u32::MAX;
const FREE: u8 = 0x40;
const ALLOCATED: u8 = 0x80;
const ORDER_MASK: u8 = 0x0f;
const ORDERS: usize = MAX_ORDER + 1;

/// What went wrong in a call to [`Buddy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The metadata slice is shorter than [`meta_words`] for this many frames.
    MetaTooSmall {
        needed_words: usize,
        got_words: usize,
    },
    /// A frame or range reaches past [`Buddy::total_frames`].
    OutOfRange { frame: u32 },
    /// `order` is above [`MAX_ORDER`].
    BadOrder { order: usize },
    /// `frame` is not a multiple of `1 << order`.
    Misaligned { frame: u32, order: usize },
    /// The block being freed is already free.
    DoubleFree { frame: u32 },
    /// `frame` does not start an allocated block (it is reserved, or inside one).
    NotAllocated { frame: u32 },
    /// `frame` was allocated with a different order.
    WrongOrder {
        frame: u32,
        order: usize,
        allocated_order: usize,
    },
    /// Part of a range handed to `add_free_range` is already free or allocated.
    Overlap { frame: u32 },
    /// [`Buddy::check_consistency`] found broken metadata.
    Corrupt { why: &'static str },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::MetaTooSmall {
                needed_words,
                got_words,
            } => {
                write!(
                    f,
                    "metadata needs {needed_words} u32 words, got {got_words}"
                )
            }
            Error::OutOfRange { frame } => write!(f, "frame {frame} is out of range"),
            Error::BadOrder { order } => write!(f, "order {order} exceeds MAX_ORDER {MAX_ORDER}"),
            Error::Misaligned { frame, order } => {
                write!(f, "frame {frame} is not aligned to order {order}")
            }
            Error::DoubleFree { frame } => write!(f, "frame {frame} is already free"),
            Error::NotAllocated { frame } => {
                write!(f, "frame {frame} does not start an allocated block")
            }
            Error::WrongOrder {
                frame,
                order,
                allocated_order,
            } => write!(
                f,
                "frame {frame} freed with order {order} but allocated with order {allocated_order}"
            ),
            Error::Overlap { frame } => {
                write!(f, "frame {frame} is already free or allocated")
            }
            Error::Corrupt { why } => write!(f, "buddy metadata corrupt: {why}"),
        }
    }
}

impl core::error::Error for Error {}

/// Smallest order whose block holds `bytes`, or `None` above `4 MiB`.
/// Zero bytes still needs a frame, so it maps to order 0.
pub const fn alloc_order_for_size(bytes: usize) -> Option<usize> {
    let frames = bytes.div_ceil(FRAME_SIZE);
    let mut order = 0;
    while order <= MAX_ORDER {
        if frames <= 1 << order {
            return Some(order);
        }
        order += 1;
    }
    None
}

/// Exact number of `u32` words of metadata [`Buddy::new`] needs for `frames`.
pub const fn meta_words(frames: u32) -> usize {
    let n = frames as usize;
    2 * n + n.div_ceil(4)
}

/// Buddy allocator over frames `0..total_frames()`.
///
/// # Invariants
///
/// - `state(f) != 0` iff `f` heads a free or allocated block; the low bits
///   hold its order, and the block lies inside `0..frames`, aligned.
/// - A block is on list `heads[o]` iff its state is `FREE | o`; `next`/`prev`
///   are meaningful only for such blocks. `counts[o]` is that list's length.
/// - No free block of order `< MAX_ORDER` has a free buddy of the same order.
/// - `free_frames` is the sum of the sizes of all free blocks.
pub struct Buddy<'a> {
    next: &'a mut [u32],
    prev: &'a mut [u32],
    state: &'a mut [u32],
    heads: [u32; ORDERS],
    counts: [usize; ORDERS],
    frames: u32,
    free_frames: u64,
}

impl<'a> Buddy<'a> {
    /// Metadata bytes per frame; the exact size is `4 * meta_words(frames)`,
    /// which rounds the packed state bytes up to whole words.
    pub const META_BYTES_PER_FRAME: usize = 9;

    /// Builds an allocator for `frames` frames, all reserved, keeping its
    /// lists in `meta` (at least [`meta_words`]`(frames)` words; the contents
    /// need not be initialised, only the state part is cleared).
    pub fn new(frames: u32, meta: &'a mut [u32]) -> Result<Self, Error> {
        let needed_words = meta_words(frames);
        if meta.len() < needed_words {
            return Err(Error::MetaTooSmall {
                needed_words,
                got_words: meta.len(),
            });
        }
        let n = frames as usize;
        let (next, rest) = meta.split_at_mut(n);
        let (prev, rest) = rest.split_at_mut(n);
        let state = &mut rest[..n.div_ceil(4)];
        // INVARIANT: every frame is reserved and every list is empty.
        state.fill(0);
        Ok(Self {
            next,
            prev,
            state,
            heads: [NIL; ORDERS],
            counts: [0; ORDERS],
            frames,
            free_frames: 0,
        })
    }

    /// Marks `[start, start + count)` free, merging with free neighbours.
    /// Used at boot for each usable RAM range. The whole range must be in
    /// bounds and currently reserved; otherwise nothing changes.
    pub fn add_free_range(&mut self, start: u32, count: u32) -> Result<(), Error> {
        let end = start.checked_add(count).filter(|&end| end <= self.frames);
        let Some(end) = end else {
            return Err(Error::OutOfRange {
                frame: self.frames.max(start),
            });
        };
        if count == 0 {
            return Ok(());
        }
        if let Some(frame) = (start..end).find(|&f| self.state(f) != 0) {
            return Err(Error::Overlap { frame });
        }
        // A block starting before `start` that reaches into the range must contain `start`.
        if self.containing_block(start).is_some() {
            return Err(Error::Overlap { frame: start });
        }
        let mut frame = start;
        while frame < end {
            let fits = (end - frame).ilog2() as usize;
            let order = (frame.trailing_zeros() as usize).min(fits).min(MAX_ORDER);
            self.insert_free(frame, order);
            self.free_frames += 1 << order;
            frame += 1 << order;
        }
        Ok(())
    }

    /// Allocates `1 << order` frames and returns the first, aligned to the size.
    pub fn alloc(&mut self, order: usize) -> Option<u32> {
        if order > MAX_ORDER {
            return None;
        }
        let from = (order..ORDERS).find(|&o| self.heads[o] != NIL)?;
        let frame = self.heads[from];
        self.remove(frame, from);
        // Hand the upper halves back, largest first, until the block fits.
        for o in (order..from).rev() {
            self.push(frame + (1 << o), o);
        }
        self.set_state(frame, ALLOCATED | order as u8);
        self.free_frames -= 1 << order;
        Some(frame)
    }

    /// Returns the block `[frame, frame + (1 << order))` from [`Buddy::alloc`].
    /// Anything but a live block of exactly that order is rejected unchanged.
    pub fn free(&mut self, frame: u32, order: usize) -> Result<(), Error> {
        if order > MAX_ORDER {
            return Err(Error::BadOrder { order });
        }
        if frame >= self.frames {
            return Err(Error::OutOfRange { frame });
        }
        if frame & ((1 << order) - 1) != 0 {
            return Err(Error::Misaligned { frame, order });
        }
        let state = self.state(frame);
        if state != ALLOCATED | order as u8 {
            return Err(if state & ALLOCATED != 0 {
                Error::WrongOrder {
                    frame,
                    order,
                    allocated_order: (state & ORDER_MASK) as usize,
                }
            } else if self
                .containing_block(frame)
                .is_some_and(|(_, s)| s & FREE != 0)
            {
                Error::DoubleFree { frame }
            } else {
                Error::NotAllocated { frame }
            });
        }
        self.set_state(frame, 0);
        self.insert_free(frame, order);
        self.free_frames += 1 << order;
        Ok(())
    }

    /// Frames currently free, in all orders.
    pub fn free_frames(&self) -> u64 {
        self.free_frames
    }

    /// Number of blocks on the free list of `order` (0 above [`MAX_ORDER`]).
    pub fn free_blocks(&self, order: usize) -> usize {
        self.counts.get(order).copied().unwrap_or(0)
    }

    /// Number of frames this allocator manages.
    pub fn total_frames(&self) -> u32 {
        self.frames
    }

    /// Whether `frame` lies inside a free block.
    pub fn is_free(&self, frame: u32) -> bool {
        frame < self.frames
            && self
                .containing_block(frame)
                .is_some_and(|(_, s)| s & FREE != 0)
    }

    /// Walks every free list and checks the type invariants; `O(free blocks)`.
    /// Meant for tests and debug assertions.
    pub fn check_consistency(&self) -> Result<(), Error> {
        let corrupt = |why| Err(Error::Corrupt { why });
        let mut total = 0u64;
        for order in 0..ORDERS {
            let (mut frame, mut prev, mut len) = (self.heads[order], NIL, 0usize);
            while frame != NIL {
                if frame >= self.frames || len >= self.frames as usize {
                    return corrupt("free list leaves the frame range or loops");
                }
                if self.prev[frame as usize] != prev {
                    return corrupt("prev link does not match the list order");
                }
                if self.state(frame) != FREE | order as u8 {
                    return corrupt("listed block does not have the list's free state");
                }
                let size = 1u64 << order;
                if frame & ((1 << order) - 1) != 0
                    || u64::from(frame) + size > u64::from(self.frames)
                {
                    return corrupt("free block misaligned or past the end");
                }
                let buddy = frame ^ (1 << order);
                if order < MAX_ORDER
                    && buddy < self.frames
                    && self.state(buddy) == FREE | order as u8
                {
                    return corrupt("free block and its buddy were not merged");
                }
                total += size;
                len += 1;
                (prev, frame) = (frame, self.next[frame as usize]);
            }
            if len != self.counts[order] {
                return corrupt("free list length differs from its count");
            }
        }
        if total != self.free_frames {
            return corrupt("free frame count differs from the free lists");
        }
        Ok(())
    }

    /// Frees a block of `order` at `frame` (state 0), merging with free buddies.
    fn insert_free(&mut self, mut frame: u32, mut order: usize) {
        while order < MAX_ORDER {
            let buddy = frame ^ (1 << order);
            if buddy >= self.frames || self.state(buddy) != FREE | order as u8 {
                break;
            }
            self.remove(buddy, order);
            frame = frame.min(buddy);
            order += 1;
        }
        self.push(frame, order);
    }

    /// The free or allocated block containing `frame`, as (head, state).
    fn containing_block(&self, frame: u32) -> Option<(u32, u8)> {
        (0..ORDERS).find_map(|order| {
            let head = frame & !((1u32 << order) - 1);
            let state = self.state(head);
            (state != 0 && (state & ORDER_MASK) as usize == order).then_some((head, state))
        })
    }

    fn push(&mut self, frame: u32, order: usize) {
        let old = self.heads[order];
        self.next[frame as usize] = old;
        self.prev[frame as usize] = NIL;
        if old != NIL {
            self.prev[old as usize] = frame;
        }
        self.heads[order] = frame;
        self.counts[order] += 1;
        // INVARIANT: the block is on list `order` and marked free with that order.
        self.set_state(frame, FREE | order as u8);
    }

    fn remove(&mut self, frame: u32, order: usize) {
        let (next, prev) = (self.next[frame as usize], self.prev[frame as usize]);
        if prev == NIL {
            self.heads[order] = next;
        } else {
            self.next[prev as usize] = next;
        }
        if next != NIL {
            self.prev[next as usize] = prev;
        }
        self.counts[order] -= 1;
        // INVARIANT: off every list, so no longer marked free.
        self.set_state(frame, 0);
    }

    fn state(&self, frame: u32) -> u8 {
        let word = self.state[frame as usize / 4];
        (word >> (frame % 4 * 8)) as u8
    }

    fn set_state(&mut self, frame: u32, state: u8) {
        let shift = frame % 4 * 8;
        let word = &mut self.state[frame as usize / 4];
        *word = (*word & !(0xff << shift)) | (u32::from(state) << shift);
    }
}

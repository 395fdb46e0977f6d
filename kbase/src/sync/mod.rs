//! Locks: an interrupt-masking spin lock, a one-time initialiser, and (in
//! `task`) the sleeping mutex and wait queues built on the scheduler.

mod spin;

pub use spin::{SpinLock, SpinLockGuard, Once};

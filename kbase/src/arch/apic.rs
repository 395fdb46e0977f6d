//! Local APIC (stub until the SMP work lands).

use core::sync::atomic::{AtomicBool, Ordering};

pub const VECTOR_TIMER: u8 = 0x20;
pub const VECTOR_TLB: u8 = 0xf0;
pub const VECTOR_STOP: u8 = 0xf1;
pub const VECTOR_RESCHED: u8 = 0xf2;

static READY: AtomicBool = AtomicBool::new(false);

pub fn is_ready() -> bool {
    READY.load(Ordering::Acquire)
}

pub fn eoi() {}

pub fn send_ipi_all_others(_vector: u8) {}

pub fn broadcast_stop() {}
pub fn send_ipi(_cpu: usize, _vector: u8) {}

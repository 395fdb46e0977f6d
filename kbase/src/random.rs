//! Random bytes for AT_RANDOM, getrandom(2) and address-space layout:
//! RDRAND when the CPU has it, mixed with the TSC; otherwise a
//! xorshift generator seeded from the TSC (not cryptographic).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::cpu;

static STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

fn rdrand() -> Option<u64> {
    if cpu::cpuid(1, 0).ecx & (1 << 30) == 0 {
        return None;
    }
    for _ in 0..10 {
        let (v, ok): (u64, u8);
        // SAFETY: RDRAND is present (CPUID.1:ECX.30) and only writes its
        // output register and the carry flag.
        unsafe { core::arch::asm!("rdrand {}", "setc {}", out(reg) v, out(reg_byte) ok, options(nomem, nostack)) };
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

/// The next 64 random bits.
pub fn next_u64() -> u64 {
    let mut x = STATE.load(Ordering::Relaxed) ^ cpu::rdtsc().rotate_left(17);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    match rdrand() {
        Some(r) => r ^ x,
        None => x,
    }
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let v = next_u64().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

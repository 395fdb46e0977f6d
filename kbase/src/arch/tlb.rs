//! TLB shootdown: invalidate a range on this CPU, then ask every other
//! online CPU to do the same and wait until they have.
//!
//! ```text
//!  initiator: take LOCK ── set params, mark each target pending ── IPI ── spin until none pending
//!  receiver (IPI vector, or while spinning in here itself): flush range ── clear own pending flag
//! ```
//! LOCK is a plain flag, not an interrupt-masking `SpinLock`, and both spin
//! loops service this CPU's own pending request, so two CPUs shooting down at
//! once cannot wait on each other.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{apic, cpu, percpu, trap::TrapFrame};
use percpu::MAX_CPUS;

static LOCK: AtomicBool = AtomicBool::new(false);
static START: AtomicU64 = AtomicU64::new(0);
static PAGES: AtomicU64 = AtomicU64::new(0);
static PENDING: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
static SHOOTDOWNS: AtomicU64 = AtomicU64::new(0);

/// Beyond this many pages a full flush is cheaper than INVLPG each.
const FULL_FLUSH_PAGES: u64 = 32;

fn flush_local(start: u64, pages: u64) {
    let is_user_range = start.saturating_add(pages.saturating_mul(4096)) <= crate::mm::paging::USER_END;
    if pages > FULL_FLUSH_PAGES && is_user_range {
        // User pages are never global: reloading CR3 drops them and keeps
        // the kernel's global entries.
        let cr3 = cpu::read_cr3();
        // SAFETY: writing back the current CR3 only flushes non-global
        // translations; the address space stays the same.
        unsafe { cpu::write_cr3(cr3) };
        return;
    }
    if pages > FULL_FLUSH_PAGES {
        let cr4 = cpu::read_cr4();
        // SAFETY: clearing and restoring CR4.PGE only flushes the TLB
        // (global entries included).
        unsafe {
            cpu::write_cr4(cr4 & !(1 << 7));
            cpu::write_cr4(cr4);
        }
    } else {
        for i in 0..pages {
            cpu::invlpg(start + i * 4096);
        }
    }
}

fn service_own() {
    let me = percpu::cpu_index();
    if PENDING[me].load(Ordering::Acquire) {
        flush_local(START.load(Ordering::Acquire), PAGES.load(Ordering::Acquire));
        PENDING[me].store(false, Ordering::Release);
    }
}

/// Invalidates `pages` pages from `start` on every online CPU.
pub fn shootdown(start: u64, pages: u64) {
    shootdown_cpus(start, pages, u64::MAX);
}

/// Invalidates `pages` pages from `start` on this CPU and on the other
/// online CPUs in `mask` (bit n = CPU n; CPUs 64+ are always included).
pub fn shootdown_cpus(start: u64, pages: u64, mask: u64) {
    // Pinned to one CPU throughout: a caller preempted and migrated between
    // the local flush and reading `me` would leave its new CPU unflushed
    // (and not a target), with stale translations of the range.
    cpu::without_interrupts(|| shootdown_pinned(start, pages, mask));
}

fn shootdown_pinned(start: u64, pages: u64, mask: u64) {
    flush_local(start, pages);
    if percpu::cpus_online() <= 1 || !apic::is_ready() {
        return;
    }
    let me = percpu::cpu_index();
    let wanted = |i: usize| i != me && percpu::cpu(i).is_some() && (i >= 64 || mask & (1 << i) != 0);
    if !(0..MAX_CPUS).any(wanted) {
        return;
    }
    while LOCK.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        service_own();
        cpu::pause();
    }
    START.store(start, Ordering::Release);
    PAGES.store(pages, Ordering::Release);
    let mut targets = 0;
    for i in (0..MAX_CPUS).filter(|&i| wanted(i)) {
        PENDING[i].store(true, Ordering::Release);
        targets += 1;
    }
    SHOOTDOWNS.fetch_add(1, Ordering::Relaxed);
    if targets > 0 {
        for i in (0..MAX_CPUS).filter(|&i| PENDING[i].load(Ordering::Relaxed)) {
            apic::send_ipi(i, apic::VECTOR_TLB);
        }
        while PENDING.iter().any(|p| p.load(Ordering::Acquire)) {
            cpu::pause();
        }
    }
    LOCK.store(false, Ordering::Release);
}

pub(crate) fn handle_ipi(_f: &mut TrapFrame) {
    service_own();
}

/// Number of cross-CPU shootdowns so far (ktests).
pub fn shootdown_count() -> u64 {
    SHOOTDOWNS.load(Ordering::Relaxed)
}

//! ktests for ACPI/APIC/SMP: every CPU online, timer ticks everywhere, IPI
//! round trips, and a cross-CPU TLB shootdown.
//!
//! Remote work runs in the handler of a private test vector: the sender
//! picks a mode, IPIs the target, and waits (bounded) for its result slot.

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use alloc::format;
use alloc::vec::Vec;

use super::super::{apic, cpu, extable, percpu, trap};
use crate::kassert;
use crate::ktest::KResult;
use crate::mm::frame::FrameBlock;
use crate::mm::paging::{self, PageFlags};
use percpu::MAX_CPUS;

const VECTOR_TEST: u8 = 0xe0;
const MODE_COUNT: u8 = 0;
const MODE_PROBE: u8 = 1;
const PROBE_NONE: u8 = 0;
const PROBE_OK: u8 = 1;
const PROBE_FAULT: u8 = 2;
/// An unused page near the top of the MMIO window's PML4 slot.
const TEST_VA: u64 = crate::mm::MMIO_BASE + 0x7f_ffff_0000;
const MAGIC: u64 = 0x5eed_f00d_cafe_d00d;
const REMOTE_TIMEOUT_NS: u64 = 1_000_000_000;

static REGISTERED: AtomicBool = AtomicBool::new(false);
static MODE: AtomicU8 = AtomicU8::new(MODE_COUNT);
static HITS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static PROBE_STATE: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(PROBE_NONE) }; MAX_CPUS];
static PROBE_VALUE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

fn on_test_ipi(_f: &mut trap::TrapFrame) {
    let me = percpu::cpu_index();
    if MODE.load(Ordering::Acquire) == MODE_PROBE {
        probe_here(me);
    }
    HITS[me].fetch_add(1, Ordering::AcqRel);
}

fn probe_here(me: usize) {
    match extable::probe_read_u64(TEST_VA) {
        Ok(v) => {
            PROBE_VALUE[me].store(v, Ordering::Relaxed);
            PROBE_STATE[me].store(PROBE_OK, Ordering::Release);
        }
        Err(_) => PROBE_STATE[me].store(PROBE_FAULT, Ordering::Release),
    }
}

fn register() -> KResult {
    if !REGISTERED.swap(true, Ordering::AcqRel) && !trap::register_irq(VECTOR_TEST, on_test_ipi) {
        return Err(format!("test vector {VECTOR_TEST:#x} is already taken"));
    }
    Ok(())
}

fn online_cpus() -> Vec<usize> {
    (0..MAX_CPUS).filter(|&i| percpu::cpu(i).is_some()).collect()
}

/// IPIs every online CPU but `me` (interrupts must be off, so `me` is
/// stable) and waits for each handler to have run once more.
fn ipi_others_and_wait(me: usize) -> KResult {
    let targets: Vec<(usize, u64)> =
        online_cpus().into_iter().filter(|&i| i != me).map(|i| (i, HITS[i].load(Ordering::Acquire))).collect();
    for &(i, _) in &targets {
        apic::send_ipi(i, VECTOR_TEST);
    }
    let deadline = crate::time::uptime_ns() + REMOTE_TIMEOUT_NS;
    for &(i, before) in &targets {
        while HITS[i].load(Ordering::Acquire) == before {
            if crate::time::uptime_ns() > deadline {
                return Err(format!("CPU {i} did not run the test IPI within 1 s"));
            }
            cpu::pause();
        }
    }
    Ok(())
}

/// Runs `f` with interrupts masked (so the test thread stays on one CPU).
fn pinned<R>(f: impl FnOnce() -> R) -> R {
    cpu::without_interrupts(f)
}

crate::ktest!(all_madt_cpus_online, || -> KResult {
    let madt = super::super::acpi::cpus();
    let args = cmdline::KernelArgs::parse(crate::boot_info().cmdline());
    let mut want = madt.len().max(1);
    if args.nosmp {
        want = 1;
    }
    if let Some(n) = args.maxcpus {
        want = want.min((n as usize).max(1));
    }
    kassert!(super::target_cpus() == want, "start-up aimed for {} CPUs, expected {want}", super::target_cpus());
    kassert!(percpu::cpus_online() == want, "{} CPUs online, MADT lists {} (want {want})", percpu::cpus_online(), madt.len());
    let online = online_cpus();
    kassert!(online.len() == want, "online slots {:?}", online);
    let ids: Vec<u32> = online.iter().map(|&i| percpu::cpu(i).map_or(u32::MAX, |c| c.apic_id())).collect();
    for (k, id) in ids.iter().enumerate() {
        kassert!(madt.is_empty() || madt.contains(id), "CPU {} has APIC id {id}, not in the MADT {madt:?}", online[k]);
        kassert!(!ids[..k].contains(id), "APIC id {id} appears twice: {ids:?}");
    }
    Ok(())
});

crate::ktest!(timer_ticks_on_every_cpu, || -> KResult {
    kassert!(apic::timer_hz() == apic::TICK_HZ, "timer not running (timer_hz = {})", apic::timer_hz());
    let cpus = online_cpus();
    let before: Vec<u64> = cpus.iter().map(|&i| percpu::cpu(i).map_or(0, |c| c.ticks())).collect();
    let was = cpu::interrupts_enabled();
    cpu::enable_interrupts();
    crate::time::spin_delay_ns(100_000_000);
    if !was {
        cpu::disable_interrupts();
    }
    for (k, &i) in cpus.iter().enumerate() {
        let after = percpu::cpu(i).map_or(0, |c| c.ticks());
        // 10 ticks expected at 100 Hz; TCG may lose a few under load.
        kassert!(after >= before[k] + 3, "CPU {i}: {} ticks in 100 ms", after - before[k]);
        kassert!(after <= before[k] + 40, "CPU {i}: {} ticks in 100 ms (timer too fast)", after - before[k]);
    }
    Ok(())
});

crate::ktest!(ipi_round_trip, || -> KResult {
    register()?;
    MODE.store(MODE_COUNT, Ordering::Release);
    for _ in 0..3 {
        pinned(|| ipi_others_and_wait(percpu::cpu_index()))?;
    }
    // A self-IPI too, so this test means something with one CPU.
    let was = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    let me = percpu::cpu_index();
    let before = HITS[me].load(Ordering::Acquire);
    apic::send_ipi(me, VECTOR_TEST);
    cpu::enable_interrupts();
    let deadline = crate::time::uptime_ns() + REMOTE_TIMEOUT_NS;
    while HITS[me].load(Ordering::Acquire) == before && crate::time::uptime_ns() < deadline {
        cpu::pause();
    }
    if !was {
        cpu::disable_interrupts();
    }
    kassert!(HITS[me].load(Ordering::Acquire) > before, "self-IPI on CPU {me} never arrived");
    Ok(())
});

/// Every online CPU probes TEST_VA (this one directly, the rest by IPI).
fn probe_everywhere(me: usize) -> Result<Vec<(usize, u8, u64)>, alloc::string::String> {
    for s in PROBE_STATE.iter() {
        s.store(PROBE_NONE, Ordering::Relaxed);
    }
    MODE.store(MODE_PROBE, Ordering::Release);
    probe_here(me);
    let r = ipi_others_and_wait(me);
    MODE.store(MODE_COUNT, Ordering::Release);
    r?;
    Ok(online_cpus()
        .into_iter()
        .map(|i| (i, PROBE_STATE[i].load(Ordering::Acquire), PROBE_VALUE[i].load(Ordering::Relaxed)))
        .collect())
}

crate::ktest!(tlb_shootdown_reaches_every_cpu, || -> KResult {
    register()?;
    let mut frame = FrameBlock::alloc(0).map_err(|e| format!("frame: {e}"))?;
    frame.as_mut_slice()[..8].copy_from_slice(&MAGIC.to_le_bytes());
    paging::map_kernel(TEST_VA, frame.paddr().0, PageFlags::RW, false).map_err(|e| format!("map: {e}"))?;
    let shootdowns = super::super::tlb::shootdown_count();
    let result = pinned(|| -> KResult {
        let me = percpu::cpu_index();
        // Every CPU reads the page, so every TLB may now cache it.
        for (i, state, v) in probe_everywhere(me)? {
            kassert!(state == PROBE_OK && v == MAGIC, "CPU {i} could not read the mapped page (state {state}, {v:#x})");
        }
        paging::unmap_kernel(TEST_VA).map_err(|e| format!("unmap: {e}"))?;
        // Without the shootdown TCG keeps the stale translation and these
        // reads would still return MAGIC.
        for (i, state, v) in probe_everywhere(me)? {
            kassert!(state == PROBE_FAULT, "CPU {i} still reads the unmapped page (state {state}, {v:#x})");
        }
        Ok(())
    });
    // Make sure the page is gone even if an early check failed.
    let _ = paging::unmap_kernel(TEST_VA);
    drop(frame);
    result?;
    if percpu::cpus_online() > 1 {
        kassert!(super::super::tlb::shootdown_count() > shootdowns, "unmap_kernel did not shoot down other CPUs");
    }
    Ok(())
});

//! In-kernel tests of the platform layer, run with `ktest=FILTER`.
//! Each asserts behaviour that can fail; they run on every CPU count the
//! test command boots (1, 2, 4).

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use kbase::arch::{extable, percpu, uaccess};
use kbase::ktest::KResult;
use kbase::mm::frame::{self, FrameBlock};
use kbase::mm::paging::{PageFlags, VmSpace};
use kbase::task::{self, Mutex, WaitQueue};
use kbase::{kassert, ktest, time};

/// A tiny deterministic PRNG (xorshift64*), seeded per thread.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn workers() -> usize {
    (percpu::cpus_online() * 2).max(2)
}

ktest!(frame_alloc_concurrent_stress, || -> KResult {
    let before = frame::stats().free;
    let errors = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for w in 0..workers() {
        let errors = errors.clone();
        handles.push(
            task::spawn("frame-stress", move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1));
                let mut live: Vec<(FrameBlock, u64)> = Vec::new();
                for i in 0..1500u64 {
                    if live.len() < 64 && rng.next() % 3 != 0 {
                        let order = (rng.next() % 4) as usize;
                        match FrameBlock::alloc(order) {
                            Ok(mut f) => {
                                let tag = ((w as u64) << 32) | i;
                                // Stamp every page of the block with our tag.
                                for page in f.as_mut_slice().chunks_mut(4096) {
                                    page[..8].copy_from_slice(&tag.to_le_bytes());
                                }
                                live.push((f, tag));
                            }
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    } else if !live.is_empty() {
                        let idx = (rng.next() as usize) % live.len();
                        let (f, tag) = live.swap_remove(idx);
                        // A frame handed to two owners would carry another tag.
                        if f.as_slice().chunks(4096).any(|p| p[..8] != tag.to_le_bytes()) {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                for (f, tag) in live {
                    if f.as_slice()[..8] != tag.to_le_bytes() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .map_err(|e| format!("spawn: {e}"))?,
        );
    }
    for h in handles {
        h.join();
    }
    kassert!(errors.load(Ordering::Relaxed) == 0, "{} lost or double-used frames", errors.load(Ordering::Relaxed));
    kassert!(frame::check_consistency(), "buddy invariants broken");
    // Thread stacks come back when their tasks are reaped; allow the page
    // tables created for stacks (never freed) a small margin.
    let after = frame::stats().free;
    kassert!(after + 64 >= before && after <= before + 64, "free frames {before} before, {after} after");
    Ok(())
});

ktest!(frame_free_count_returns_exactly, || -> KResult {
    // Reserve the vector first: its own heap block may take a frame.
    let mut blocks: Vec<FrameBlock> = Vec::with_capacity(200);
    let before = frame::stats().free;
    for i in 0..200 {
        blocks.push(FrameBlock::alloc(i % 5).map_err(|e| format!("{e}"))?);
    }
    let used: u64 = (0..200).map(|i| 1u64 << (i % 5)).sum();
    let mid = frame::stats().free;
    kassert!(mid == before - used, "free {mid}, expected {}", before - used);
    blocks.clear();
    kassert!(frame::stats().free == before, "free {} after, {before} before", frame::stats().free);
    Ok(())
});

ktest!(heap_alloc_sizes_and_alignment, || -> KResult {
    let mut v: Vec<Vec<u8>> = Vec::new();
    for size in [1usize, 7, 16, 17, 100, 511, 512, 2048, 2049, 4096, 10_000, 70_000, 1 << 20] {
        let mut b = alloc::vec![0u8; size];
        for (i, x) in b.iter_mut().enumerate() {
            *x = (i % 251) as u8;
        }
        v.push(b);
    }
    for b in &v {
        kassert!(b.iter().enumerate().all(|(i, x)| *x == (i % 251) as u8), "heap block of {} bytes corrupted", b.len());
    }
    #[repr(align(4096))]
    struct Page([u8; 4096]);
    let p = alloc::boxed::Box::new(Page([1; 4096]));
    kassert!(core::ptr::addr_of!(*p) as usize % 4096 == 0, "4 KiB alignment not honoured");
    kassert!(p.0.iter().all(|&x| x == 1));
    Ok(())
});

ktest!(vmspace_map_unmap_protect_round_trip, || -> KResult {
    let mut vm = VmSpace::new().map_err(|e| format!("{e}"))?;
    let base = 0x4000_0000u64;
    for i in 0..4 {
        let f = FrameBlock::alloc(0).map_err(|e| format!("{e}"))?;
        vm.map(base + i * 4096, f, PageFlags::RW).map_err(|e| format!("map: {e}"))?;
    }
    kassert!(vm.map(base, FrameBlock::alloc(0).map_err(|e| format!("{e}"))?, PageFlags::RW).is_err(), "double map accepted");
    kassert!(vm.map(0xffff_8000_0000_0000, FrameBlock::alloc(0).map_err(|e| format!("{e}"))?, PageFlags::RW).is_err(), "kernel address accepted");
    // Run with this address space active on this CPU, pinned by masking
    // interrupts (no migration while CR3 is ours).
    task::set_user_space(Some(vm.root()));
    let result = (|| -> KResult {
        let msg = b"ferrite page test";
        uaccess::copy_to_user(base + 4090, msg).map_err(|_| "copy across two RW pages faulted")?;
        let mut back = [0u8; 17];
        uaccess::copy_from_user(&mut back, base + 4090).map_err(|_| "read back faulted")?;
        kassert!(&back == msg, "read back {:?}", back);
        vm.protect(base, PageFlags::READ).map_err(|e| format!("protect: {e}"))?;
        kassert!(uaccess::copy_to_user(base, b"x").is_err(), "write to a read-only page succeeded");
        uaccess::copy_from_user(&mut back[..1], base).map_err(|_| "read of read-only page faulted")?;
        vm.protect(base, PageFlags::RW).map_err(|e| format!("protect: {e}"))?;
        kassert!(uaccess::copy_to_user(base, b"y").is_ok(), "write after re-protect RW failed");
        let f = vm.unmap(base + 4096).map_err(|e| format!("unmap: {e}"))?;
        let f = f.ok_or("an owned page came back as shared")?;
        kassert!(&f.as_slice()[..11] == &msg[6..], "unmapped frame lost its contents");
        kassert!(uaccess::copy_from_user(&mut back[..1], base + 4096).is_err(), "read of unmapped page succeeded");
        kassert!(vm.unmap(base + 4096).is_err(), "double unmap accepted");
        // The resident count follows maps and unmaps (failed ones too: not
        // at all); the peak stays.
        kassert!(vm.resident_pages() == 3 && vm.peak_pages() == 4, "resident {} peak {}", vm.resident_pages(), vm.peak_pages());
        let n = vm.unmap_range(base, base + 4 * 4096).map_err(|e| format!("unmap_range: {e}"))?;
        kassert!(n == 3 && vm.resident_pages() == 0 && vm.peak_pages() == 4, "after unmap_range: resident {}", vm.resident_pages());
        kassert!(uaccess::copy_from_user(&mut back[..1], 0xffff_8000_0000_0000).is_err(), "kernel address copied as user");
        Ok(())
    })();
    task::set_user_space(None);
    result?;
    let before = frame::stats().free;
    drop(vm);
    kassert!(frame::stats().free > before, "dropping the address space freed nothing");
    Ok(())
});

ktest!(recoverable_page_fault_probe, || -> KResult {
    let mapped = 0u64;
    kassert!(extable::probe_read_u64(core::ptr::addr_of!(mapped) as u64) == Ok(0), "mapped read failed");
    // An address in the kernel-stack area that no stack occupies.
    kassert!(extable::probe_read_u64(kbase::mm::KSTACK_BASE + (1 << 40)).is_err(), "unmapped read did not fault");
    kassert!(extable::probe_read_u64(0xffff_9fff_ffff_f000).is_err(), "read beyond the direct map did not fault");
    Ok(())
});

ktest!(red_zone_survives_interrupts, || -> KResult {
    if !kbase::arch::apic::is_ready() {
        return Err("no timer interrupts (APIC not up)".into());
    }
    for _ in 0..3 {
        let bad = kbase::arch::redzone::check(3);
        kassert!(bad == 0, "{bad} red-zone words overwritten by an interrupt");
    }
    Ok(())
});

ktest!(sleep_duration_within_bounds, || -> KResult {
    for ms in [20u64, 50] {
        let t0 = time::uptime_ns();
        task::sleep_ns(ms * 1_000_000);
        let took = (time::uptime_ns() - t0) / 1_000_000;
        // Never early; late by at most a generous margin (TCG on a shared host).
        kassert!(took >= ms && took < ms + 1000, "sleep({ms} ms) took {took} ms");
    }
    Ok(())
});

ktest!(cpu_time_counts_running_not_sleeping, || -> KResult {
    let t0 = task::current_cpu_times();
    time::spin_delay_ns(50_000_000);
    let t1 = task::current_cpu_times();
    let ran = (t1.runtime_ns - t0.runtime_ns) / 1_000_000;
    // Other tasks may take some of it (TCG on a shared host).
    kassert!((10..=1000).contains(&ran), "a 50 ms spin ran {ran} ms");
    kassert!(t1.sys_ticks > t0.sys_ticks && t1.user_ticks == t0.user_ticks, "kernel spin sampled as {t0:?} -> {t1:?}");
    task::sleep_ns(50_000_000);
    let t2 = task::current_cpu_times();
    let slept = (t2.runtime_ns - t1.runtime_ns) / 1_000_000;
    kassert!(slept < 20, "a 50 ms sleep ran {slept} ms");
    kassert!(t2.nvcsw > t1.nvcsw, "a sleep was no voluntary switch: {t1:?} -> {t2:?}");
    // Read from another task: a finished spinner's time stays put.
    let h = task::spawn("cpu-spin", || time::spin_delay_ns(30_000_000)).map_err(|e| format!("spawn: {e}"))?;
    let t = h.task().clone();
    h.join();
    // Joined once Dead; its last run ends at the switch right after.
    task::sleep_ns(20_000_000);
    let (a, b) = (t.cpu_times(), t.cpu_times());
    kassert!(a == b && a.runtime_ns >= 5_000_000, "finished spinner: {a:?} then {b:?}");
    Ok(())
});

ktest!(thousand_threads_spawn_and_join, || -> KResult {
    let live_before = task::live_tasks();
    let counter = Arc::new(AtomicU64::new(0));
    let cpus_seen = Arc::new(AtomicU64::new(0));
    // All threads wait at a gate so they are spread over the run queues
    // before any of them runs.
    let gate = Arc::new((AtomicBool::new(false), WaitQueue::new()));
    let mut handles = Vec::with_capacity(1000);
    for i in 0..1000u64 {
        let c = counter.clone();
        let seen = cpus_seen.clone();
        let gate = gate.clone();
        handles.push(
            task::spawn("t1000", move || {
                gate.1.wait_until(|| gate.0.load(Ordering::Acquire).then_some(()));
                seen.fetch_or(1 << percpu::cpu_index(), Ordering::Relaxed);
                c.fetch_add(i, Ordering::Relaxed);
                // A little work each, so one CPU cannot drain every queue
                // before the others get going.
                time::spin_delay_ns(200_000);
                if i % 7 == 0 {
                    task::yield_now();
                }
            })
            .map_err(|e| format!("spawn #{i}: {e}"))?,
        );
    }
    gate.0.store(true, Ordering::Release);
    gate.1.wake_all();
    for h in handles {
        h.join();
    }
    kassert!(counter.load(Ordering::Relaxed) == 999 * 1000 / 2, "sum {}", counter.load(Ordering::Relaxed));
    let cpus = cpus_seen.load(Ordering::Relaxed).count_ones() as usize;
    kassert!(percpu::cpus_online() == 1 || cpus > 1, "threads ran on {cpus} CPU(s) of {}", percpu::cpus_online());
    kassert!(task::live_tasks() == live_before, "{} tasks alive, {live_before} before", task::live_tasks());
    Ok(())
});

ktest!(mutex_excludes_across_cpus, || -> KResult {
    let m = Arc::new(Mutex::new((0u64, 0u64)));
    let mut hs = Vec::new();
    for _ in 0..workers() {
        let m = m.clone();
        hs.push(
            task::spawn("mutex", move || {
                for _ in 0..2000 {
                    let mut g = m.lock();
                    // Non-atomic read-modify-write of two fields: a lost
                    // update or torn pair shows mutual exclusion failed.
                    let a = g.0;
                    g.0 = a + 1;
                    g.1 = g.0 * 2;
                    if g.0 % 100 == 0 {
                        drop(g);
                        task::yield_now();
                    }
                }
            })
            .map_err(|e| format!("{e}"))?,
        );
    }
    for h in hs {
        h.join();
    }
    let g = m.lock();
    kassert!(g.0 == 2000 * workers() as u64 && g.1 == g.0 * 2, "counter {:?}", *g);
    Ok(())
});

ktest!(wait_queue_ping_pong, || -> KResult {
    struct Shared {
        turn: AtomicU64,
        wq: WaitQueue,
    }
    let s = Arc::new(Shared { turn: AtomicU64::new(0), wq: WaitQueue::new() });
    let rounds = 300u64;
    let mut hs = Vec::new();
    for me in 0..2u64 {
        let s = s.clone();
        hs.push(
            task::spawn("pingpong", move || {
                for r in 0..rounds {
                    let want = r * 2 + me;
                    s.wq.wait_until(|| (s.turn.load(Ordering::Acquire) == want).then_some(()));
                    s.turn.store(want + 1, Ordering::Release);
                    s.wq.wake_all();
                }
            })
            .map_err(|e| format!("{e}"))?,
        );
    }
    for h in hs {
        h.join();
    }
    kassert!(s.turn.load(Ordering::Relaxed) == rounds * 2, "turn {}", s.turn.load(Ordering::Relaxed));
    Ok(())
});

ktest!(preemption_lets_others_run, || -> KResult {
    if !kbase::arch::apic::is_ready() {
        return Err("no timer interrupts (APIC not up)".into());
    }
    // More spinners than CPUs: only timer preemption lets all finish their
    // wait for the shared flag set by the last one to start. It takes tens
    // of ms; the limit is generous because a loaded host can starve one
    // virtual CPU's thread for seconds (seen once at -smp 4 on 2 cores),
    // and below the soft-lockup watchdog's 10 s.
    let n = percpu::cpus_online() + 2;
    let started = Arc::new(AtomicUsize::new(0));
    let timed_out = Arc::new(AtomicUsize::new(0));
    let mut hs = Vec::new();
    for _ in 0..n {
        let started = started.clone();
        let timed_out = timed_out.clone();
        hs.push(
            task::spawn("spinner", move || {
                started.fetch_add(1, Ordering::AcqRel);
                let t0 = time::uptime_ns();
                while started.load(Ordering::Acquire) < n && time::uptime_ns() - t0 < 8_000_000_000 {
                    core::hint::spin_loop();
                }
                if started.load(Ordering::Acquire) < n {
                    timed_out.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|e| format!("{e}"))?,
        );
    }
    for h in hs {
        h.join();
    }
    kassert!(timed_out.load(Ordering::Relaxed) == 0, "{} spinners waited 8 s for the others to be scheduled", timed_out.load(Ordering::Relaxed));
    Ok(())
});

/// `ktest=stack_overflow_selftest`: recurses on a kernel thread until the
/// guard page below its stack is hit; the trap path must report a kernel
/// stack overflow and stop the machine (checked by `cargo xtask test`).
pub fn overflow_the_stack() -> ! {
    #[allow(unconditional_recursion, reason = "recursing until the guard page is hit is the point")]
    fn recurse(depth: u64, sink: &AtomicU64) -> u64 {
        let buf = core::hint::black_box([depth; 64]);
        sink.fetch_add(buf[(depth % 64) as usize], Ordering::Relaxed);
        // black_box keeps the frame alive across the call, so the compiler
        // cannot turn the recursion into a loop.
        let r = recurse(depth + 1, sink);
        core::hint::black_box(&buf);
        r.wrapping_add(buf[1])
    }
    let sink = Arc::new(AtomicU64::new(0));
    let s = sink.clone();
    let _ = task::spawn("overflow", move || {
        recurse(0, &s);
    });
    loop {
        task::sleep_ns(1_000_000_000);
    }
}

ktest!(allocation_failure_is_an_error_not_a_panic, || -> KResult {
    // Room for every block up front: the vectors must not need the heap
    // (and so frames) while memory is exhausted.
    let total = frame::stats().free as usize;
    let mut big: Vec<FrameBlock> = Vec::with_capacity(total / 1024 + 16);
    let mut small: Vec<FrameBlock> = Vec::with_capacity(total + 16);
    let before = frame::stats().free;
    while big.len() < big.capacity() {
        match FrameBlock::alloc(frame::MAX_ORDER) {
            Ok(b) => big.push(b),
            Err(_) => break,
        }
    }
    while small.len() < small.capacity() {
        match FrameBlock::alloc(0) {
            Ok(b) => small.push(b),
            Err(_) => break,
        }
    }
    let exhausted = FrameBlock::alloc(0).is_err();
    let left = frame::stats().free;
    // The heap's failure path: a request no allocator can satisfy is an
    // error for fallible callers.
    let mut v: Vec<u8> = Vec::new();
    let huge_failed = v.try_reserve(1 << 40).is_err();
    let got = (big.len() << frame::MAX_ORDER) + small.len();
    big.clear();
    small.clear();
    kassert!(exhausted, "allocator never reported exhaustion ({got} frames handed out)");
    kassert!(left == 0, "{left} frames still free after exhaustion");
    kassert!(huge_failed, "a 1 TiB reservation succeeded");
    kassert!(got as u64 == before, "handed out {got} frames of {before} free");
    kassert!(frame::stats().free == before, "free {} after, {before} before", frame::stats().free);
    kassert!(frame::check_consistency(), "buddy invariants broken");
    Ok(())
});

ktest!(watchdog_reports_a_task_spinning_in_the_kernel, || -> KResult {
    use kbase::task::watchdog;
    if !watchdog::is_enabled() || !kbase::arch::apic::is_ready() {
        return Ok(()); // watchdog=off, or no timer: nothing to check
    }
    let was_panic = watchdog::set_panic_mode(false);
    let old_secs = watchdog::set_soft_lockup_secs(1);
    let before = watchdog::reports().0;
    // Spins with interrupts on and never yields: preemption may switch it
    // out, but only a voluntary schedule or user mode resets the count.
    let h = task::spawn("lockup-spinner", move || {
        let t0 = time::uptime_ns();
        while watchdog::reports().0 == before && time::uptime_ns() - t0 < 8_000_000_000 {
            core::hint::spin_loop();
        }
    });
    let result = match h {
        Ok(h) => {
            h.join();
            Ok(())
        }
        Err(e) => Err(format!("{e}")),
    };
    watchdog::set_soft_lockup_secs(old_secs);
    watchdog::set_panic_mode(was_panic);
    result?;
    kassert!(watchdog::reports().0 > before, "a task spun 8 s in the kernel with a 1 s threshold, no soft lockup report");
    Ok(())
});

ktest!(hung_task_detector_counts_only_uninterruptible_waits, || -> KResult {
    use kbase::task::watchdog;
    if !watchdog::is_enabled() {
        return Ok(());
    }
    let was_panic = watchdog::set_panic_mode(false);
    let old_timeout = watchdog::hung_task_timeout_secs();
    watchdog::set_hung_task_timeout_secs(1);
    let before = watchdog::reports().2;
    let lock = Arc::new(Mutex::new(0u32));
    let guard = lock.lock();
    let l2 = lock.clone();
    let victim = task::spawn("hung-victim", move || *l2.lock() += 1);
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let sleeper = task::spawn("idle-sleeper", move || {
        task::sleep_until_or(u64::MAX, || s2.load(Ordering::Acquire));
    });
    task::sleep_ns(2_500_000_000);
    let names = watchdog::blocked_uninterruptibly(1);
    watchdog::check_hung_tasks();
    let after = watchdog::reports().2;
    drop(guard);
    stop.store(true, Ordering::Release);
    if let Ok(h) = &sleeper {
        task::wake(h.task());
    }
    for h in [victim, sleeper] {
        match h {
            Ok(h) => h.join(),
            Err(e) => return Err(format!("{e}")),
        }
    }
    watchdog::set_hung_task_timeout_secs(old_timeout);
    watchdog::set_panic_mode(was_panic);
    kassert!(names.iter().any(|n| n == "hung-victim"), "mutex waiter not listed as hung: {names:?}");
    kassert!(!names.iter().any(|n| n == "idle-sleeper"), "interruptible sleeper listed as hung: {names:?}");
    kassert!(after > before, "no hung-task report");
    kassert!(*lock.lock() == 1, "the victim did not get the lock after release");
    kassert!(watchdog::blocked_uninterruptibly(0).iter().all(|n| n != "hung-victim"), "victim still marked blocked");
    Ok(())
});

ktest!(watchdog_reports_a_cpu_without_timer_ticks, || -> KResult {
    use kbase::task::watchdog;
    if !watchdog::is_enabled() || !kbase::arch::apic::is_ready() || percpu::cpus_online() < 2 {
        return Ok(()); // needs a second CPU to notice
    }
    let was_panic = watchdog::set_panic_mode(false);
    let old_secs = watchdog::set_hard_lockup_secs(1);
    let before = watchdog::reports().1;
    // Interrupts masked: this CPU's tick counter stops; another CPU must
    // notice, report and NMI it (the NMI prints this frame and returns).
    let h = task::spawn("irqs-off-spinner", move || {
        kbase::arch::cpu::without_interrupts(|| {
            let t0 = time::uptime_ns();
            while watchdog::reports().1 == before && time::uptime_ns() - t0 < 8_000_000_000 {
                core::hint::spin_loop();
            }
        });
    });
    let result = match h {
        Ok(h) => {
            h.join();
            Ok(())
        }
        Err(e) => Err(format!("{e}")),
    };
    watchdog::set_hard_lockup_secs(old_secs);
    watchdog::set_panic_mode(was_panic);
    result?;
    kassert!(watchdog::reports().1 > before, "a CPU spun 8 s with interrupts off, no hard lockup report");
    Ok(())
});

ktest!(affinity_pins_a_task_and_rejects_offline_masks, || -> KResult {
    let last = percpu::cpus_online() - 1;
    let bad = Arc::new(AtomicUsize::new(usize::MAX));
    let b = bad.clone();
    let h = task::spawn("pinned", move || {
        let me = task::current();
        if task::set_affinity(&me, 1 << last).is_err() {
            b.store(1000, Ordering::Relaxed);
            return;
        }
        let mut wrong = 0;
        for _ in 0..200 {
            if percpu::cpu_index() != last {
                wrong += 1;
            }
            task::yield_now();
        }
        b.store(wrong, Ordering::Relaxed);
    })
    .map_err(|e| format!("spawn: {e}"))?;
    let task = h.task().clone();
    h.join();
    kassert!(bad.load(Ordering::Relaxed) == 0, "ran off CPU {last} {} times", bad.load(Ordering::Relaxed));
    kassert!(task.affinity() == 1 << last, "mask {:#x}", task.affinity());
    kassert!(task::set_affinity(&task, 0).is_err(), "an empty mask was taken");
    if percpu::cpus_online() < 64 {
        kassert!(task::set_affinity(&task, 1 << 63).is_err(), "a mask of an offline CPU was taken");
    }
    kassert!(task.affinity() == 1 << last, "a refused mask changed it: {:#x}", task.affinity());
    Ok(())
});

ktest!(cmpxchg_user_u32_swaps_compares_and_faults, || -> KResult {
    const PAGE: u64 = 0x5100_0000;
    let mut vm = VmSpace::new().map_err(|e| format!("{e}"))?;
    let frame = FrameBlock::alloc(0).map_err(|e| format!("{e}"))?;
    let rw = PageFlags { writable: true, executable: false, user: true };
    vm.map(PAGE, frame, rw).map_err(|e| format!("map: {e}"))?;
    vm.write_bytes(PAGE, &7u32.to_le_bytes()).map_err(|e| format!("write: {e}"))?;
    task::set_user_space(Some(vm.root()));
    let r = (|| -> KResult {
        kassert!(uaccess::cmpxchg_user_u32(PAGE, 7, 9) == Ok(7), "swap of a matching word");
        kassert!(uaccess::cmpxchg_user_u32(PAGE, 7, 11) == Ok(9), "a mismatch must report the value and not store");
        let mut b = [0u8; 4];
        uaccess::copy_from_user(&mut b, PAGE).map_err(|_| "read back")?;
        kassert!(u32::from_le_bytes(b) == 9, "word is {}", u32::from_le_bytes(b));
        kassert!(uaccess::cmpxchg_user_u32(PAGE + 2, 0, 1).is_err(), "a misaligned word was accepted");
        kassert!(uaccess::cmpxchg_user_u32(PAGE + 4096, 0, 1).is_err(), "an unmapped word did not fault");
        kassert!(uaccess::cmpxchg_user_u32(u64::MAX - 3, 0, 1).is_err(), "a kernel address was accepted");
        Ok(())
    })();
    task::set_user_space(None);
    r
});

ktest!(watchdog_reports_sleeping_with_interrupts_masked, || -> KResult {
    use kbase::task::watchdog;
    if !watchdog::is_enabled() {
        return Ok(()); // watchdog=off: nothing to check
    }
    let was_panic = watchdog::set_panic_mode(false);
    let before = watchdog::masked_sleep_reports();
    // The check alone, as a wait makes it before blocking: with interrupts
    // on it is silent, with them masked (a spin lock held) it reports.
    watchdog::check_may_sleep();
    let quiet = watchdog::masked_sleep_reports() == before;
    let lock = kbase::sync::SpinLock::new(());
    {
        let _held = lock.lock();
        watchdog::check_may_sleep();
    }
    let after = watchdog::masked_sleep_reports();
    watchdog::set_panic_mode(was_panic);
    kassert!(quiet, "reported a sleep with interrupts on");
    kassert!(after == before + 1, "a sleep under a spin lock: {} reports, want 1", after - before);
    Ok(())
});

ktest!(klog_ring_keeps_the_newest_whole_lines, || -> KResult {
    use kbase::klog;
    // Fill the ring more than once over: the oldest lines go, what is
    // read starts at a line boundary and ends with the newest line.
    for i in 0..3000u32 {
        klog::record(6, format_args!("klog test line {i:05} ................................"));
    }
    let all = klog::read_all(usize::MAX, false);
    kassert!(all.len() <= klog::SIZE, "read {} bytes of a {} byte ring", all.len(), klog::SIZE);
    kassert!(all.starts_with(b"<"), "does not start at a line: {:?}", &all[..all.len().min(20)]);
    let last = all.rsplit(|&b| b == b'\n').nth(1).unwrap_or_default();
    kassert!(last.ends_with(b"klog test line 02999 ................................"), "newest line missing");
    let small = klog::read_all(100, false);
    kassert!(small.len() <= 100 && small.starts_with(b"<") && small.ends_with(b"\n"), "a 100-byte read: {small:?}");
    klog::clear();
    kassert!(klog::read_all(usize::MAX, false).is_empty(), "not empty after clear");
    Ok(())
});

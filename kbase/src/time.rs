//! Monotonic time from the TSC, calibrated against the PIT at boot.
//!
//! `uptime_ns()` is the kernel's monotonic clock: nanoseconds since the TSC
//! was calibrated (0 before). The TSC is invariant on every CPU QEMU models
//! with `-cpu max`, and all CPUs share one boot reference.

use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::arch::cpu::{self, inb, outb};

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_BOOT: AtomicU64 = AtomicU64::new(0);
/// Multiplier: ns = (tsc_delta * MULT) >> 32.
static NS_MULT: AtomicU64 = AtomicU64::new(0);

const PIT_HZ: u64 = 1_193_182;

/// Measures the TSC rate against PIT channel 2 (gate through port 0x61).
pub(crate) fn calibrate() {
    let boot = cpu::rdtsc();
    // Prefer CPUID 0x15 when it reports a crystal (not under TCG usually).
    let mut hz = 0u64;
    let max_leaf = cpu::cpuid(0, 0).eax;
    if max_leaf >= 0x15 {
        let l = cpu::cpuid(0x15, 0);
        if l.eax != 0 && l.ebx != 0 && l.ecx != 0 {
            hz = u64::from(l.ecx) * u64::from(l.ebx) / u64::from(l.eax);
        }
    }
    if hz == 0 {
        hz = pit_measure();
    }
    TSC_HZ.store(hz, Ordering::Relaxed);
    NS_MULT.store(((1_000_000_000u128 << 32) / u128::from(hz.max(1))) as u64, Ordering::Relaxed);
    TSC_BOOT.store(boot, Ordering::Release);
}

/// PIT ticks in the calibration window: 10 ms.
const PIT_WINDOW_TICKS: u16 = (PIT_HZ / 100) as u16;

/// Measures the TSC rate against PIT channel 2 over one 10 ms window.
///
/// Channel 2 counts down freely from 0xffff (mode 0, gate on, speaker
/// off); each end of the window is one latched read of its counter taken
/// between two TSC reads, the tightest of a few tries, so each end is
/// known to about one port access (~1-2 µs under TCG, where the TSC and
/// the PIT both follow the host clock and a descheduled vCPU loses no
/// accuracy). That is ~0.02% for the window; the old 3 x 20 ms runs,
/// each timed by polling the OUT2 bit, cost 60 ms of every boot for the
/// same accuracy.
fn pit_measure() -> u64 {
    let gate = inb(0x61);
    outb(0x61, (gate & !0x03) | 0x01); // gate on, speaker off
    outb(0x43, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0
    outb(0x42, 0xff);
    outb(0x42, 0xff);
    let (c0, t0) = pit_sample();
    // Wait until the counter has run down by the window (it wraps after
    // 55 ms, far beyond the window).
    let (mut c1, mut t1) = (c0, t0);
    let mut polls = 0u32;
    // The bound only matters if the PIT does not count at all.
    while c0.wrapping_sub(c1) < PIT_WINDOW_TICKS && polls < 10_000_000 {
        (c1, t1) = pit_sample();
        polls += 1;
    }
    let ticks = u64::from(c0.wrapping_sub(c1)).max(1);
    ((u128::from(t1 - t0) * u128::from(PIT_HZ)) / u128::from(ticks)) as u64
}

/// Channel 2's count and the TSC at the moment it was latched: the
/// midpoint of the TSC reads around the latch command, tightest of 3.
fn pit_sample() -> (u16, u64) {
    let mut best = (0u16, 0u64, u64::MAX);
    for _ in 0..3 {
        let a = cpu::rdtsc();
        outb(0x43, 0b1000_0000); // latch channel 2
        let b = cpu::rdtsc();
        let lo = inb(0x42);
        let hi = inb(0x42);
        if b - a < best.2 {
            best = (u16::from_le_bytes([lo, hi]), a + (b - a) / 2, b - a);
        }
    }
    (best.0, best.1)
}

/// TSC frequency in Hz (0 before calibration).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since boot (monotonic).
#[inline]
pub fn uptime_ns() -> u64 {
    let boot = TSC_BOOT.load(Ordering::Acquire);
    if boot == 0 {
        return 0;
    }
    let d = cpu::rdtsc().saturating_sub(boot);
    ((u128::from(d) * u128::from(NS_MULT.load(Ordering::Relaxed))) >> 32) as u64
}

/// Busy-waits `ns` nanoseconds.
pub fn spin_delay_ns(ns: u64) {
    let start = uptime_ns();
    while uptime_ns().saturating_sub(start) < ns {
        cpu::pause();
    }
}

/// Wall-clock seconds since the Unix epoch at `TSC_BOOT`, read from the CMOS
/// real-time clock once at boot (0 if the RTC looked invalid).
static BOOT_EPOCH_SECS: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds added to the RTC-based wall clock by [`set_realtime_ns`].
static REALTIME_ADJUST_NS: AtomicI64 = AtomicI64::new(0);

/// Reads the CMOS RTC (ports 0x70/0x71): waits out an update in progress,
/// reads twice until stable, converts BCD and 12-hour formats.
pub(crate) fn read_rtc() {
    fn reg(r: u8) -> u8 {
        outb(0x70, r);
        inb(0x71)
    }
    let read_all = || {
        let mut spins = 0;
        while reg(0x0a) & 0x80 != 0 && spins < 1_000_000 {
            spins += 1;
        }
        [reg(0x00), reg(0x02), reg(0x04), reg(0x07), reg(0x08), reg(0x09), reg(0x32)]
    };
    let mut a = read_all();
    for _ in 0..5 {
        let b = read_all();
        if a == b {
            break;
        }
        a = b;
    }
    let status_b = reg(0x0b);
    let bcd = |v: u8| if status_b & 0x04 == 0 { (v & 0x0f) + (v >> 4) * 10 } else { v };
    let [s, m, h, d, mo, y, c] = a;
    let (sec, min) = (u64::from(bcd(s)), u64::from(bcd(m)));
    let mut hour = u64::from(bcd(h & 0x7f));
    if status_b & 0x02 == 0 && h & 0x80 != 0 {
        hour = (hour % 12) + 12;
    }
    let day = u64::from(bcd(d));
    let month = u64::from(bcd(mo));
    let century = if c != 0 && c != 0xff { u64::from(bcd(c)) } else { 20 };
    let year = century * 100 + u64::from(bcd(y));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 || year < 1970 {
        return;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
    BOOT_EPOCH_SECS.store(secs, Ordering::Relaxed);
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Wall-clock time in nanoseconds since the Unix epoch.
pub fn realtime_ns() -> u64 {
    let base = BOOT_EPOCH_SECS.load(Ordering::Relaxed).saturating_mul(1_000_000_000).saturating_add(uptime_ns());
    base.saturating_add_signed(REALTIME_ADJUST_NS.load(Ordering::Relaxed))
}

/// What user space needs to compute `uptime_ns` itself (the vDSO):
/// (TSC at time zero, multiplier), with ns = (tsc - zero) * mult >> 32.
pub fn clock_params() -> (u64, u64) {
    (TSC_BOOT.load(Ordering::Acquire), NS_MULT.load(Ordering::Relaxed))
}

/// `realtime_ns() - uptime_ns()`, the wall clock's offset from the
/// monotonic clock.
pub fn realtime_offset_ns() -> i64 {
    let boot = BOOT_EPOCH_SECS.load(Ordering::Relaxed).saturating_mul(1_000_000_000);
    i64::try_from(boot).unwrap_or(i64::MAX).saturating_add(REALTIME_ADJUST_NS.load(Ordering::Relaxed))
}

/// Sets the wall clock to `ns` since the Unix epoch (`clock_settime`);
/// the monotonic clock is not affected.
pub fn set_realtime_ns(ns: u64) {
    let base = BOOT_EPOCH_SECS.load(Ordering::Relaxed).saturating_mul(1_000_000_000).saturating_add(uptime_ns());
    let delta = i128::from(ns) - i128::from(base);
    let delta = i64::try_from(delta).unwrap_or(if delta < 0 { i64::MIN } else { i64::MAX });
    REALTIME_ADJUST_NS.store(delta, Ordering::Relaxed);
}

/// Boot phases: the raw TSC when each ends, for the `boot phases` line that
/// shows where boot time goes (`cargo xtask bench boot`).
const MAX_PHASES: usize = 24;
static PHASES: crate::sync::SpinLock<([(&str, u64); MAX_PHASES], usize)> =
    crate::sync::SpinLock::new(([("", 0); MAX_PHASES], 0));

/// Records that the boot phase `name` ends now (the first call marks the
/// kernel's entry). Calls beyond the 24th are dropped.
pub fn mark_boot_phase(name: &'static str) {
    let t = cpu::rdtsc();
    let mut p = PHASES.lock();
    let n = p.1;
    if n < MAX_PHASES {
        p.0[n] = (name, t);
        p.1 = n + 1;
    }
}

/// Calls `f(name, us)` for every recorded phase: the first with the
/// microseconds from the TSC's reset (the machine's start) to its mark,
/// the rest with the microseconds since the previous mark.
pub fn boot_phases(mut f: impl FnMut(&'static str, u64)) {
    let hz = tsc_hz().max(1);
    let p = PHASES.lock();
    let mut prev = 0;
    for &(name, t) in &p.0[..p.1] {
        f(name, ((u128::from(t.saturating_sub(prev)) * 1_000_000) / u128::from(hz)) as u64);
        prev = t;
    }
}

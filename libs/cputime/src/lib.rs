//! CPU-time arithmetic, as Linux's `kernel/sched/cputime.c` and
//! `kernel/time/posix-cpu-timers.c` do it.
//!
//! ```text
//!  scheduler:   run time   ns on a CPU, exact (TSC at every switch)
//!  timer tick:  user ticks, system ticks   which mode the tick found
//!
//!  adjust(run time, user ticks, system ticks, &mut Prev) ─▶ (utime, stime)
//!      stime = run time · sys / (user + sys), utime = the rest,
//!      neither ever below what the same Prev reported before
//! ```
//!
//! The tick samples say how the time divides; the run time says how much
//! there is (a 200 ms spin is 200 ms however the ticks fell). [`ClockId`]
//! decodes the clock ids of `clock_getcpuclockid(3)` and
//! `pthread_getcpuclockid(3)`: `MAKE_PROCESS_CPUCLOCK` and
//! `MAKE_THREAD_CPUCLOCK` of `include/linux/posix-timers_types.h`, which
//! is kernel-internal and so not in the UAPI headers.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// What one sampled task or process reported last (`struct prev_cputime`):
/// keeps utime and stime from going backwards when the ratio moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prev {
    pub utime_ns: u64,
    pub stime_ns: u64,
}

/// Splits `rtime_ns` (exact run time) into (utime, stime) in the ratio of
/// the tick samples, never below what `prev` reported: Linux's
/// `cputime_adjust`. No ticks at all count as user time.
pub fn adjust(rtime_ns: u64, user_ticks: u64, sys_ticks: u64, prev: &mut Prev) -> (u64, u64) {
    if prev.utime_ns.saturating_add(prev.stime_ns) >= rtime_ns {
        return (prev.utime_ns, prev.stime_ns);
    }
    let mut stime = if sys_ticks == 0 {
        0
    } else if user_ticks == 0 {
        rtime_ns
    } else {
        let total = u128::from(user_ticks) + u128::from(sys_ticks);
        ((u128::from(sys_ticks) * u128::from(rtime_ns)) / total) as u64
    };
    stime = stime.max(prev.stime_ns).min(rtime_ns);
    let mut utime = rtime_ns - stime;
    if utime < prev.utime_ns {
        utime = prev.utime_ns;
        stime = rtime_ns - utime;
    }
    *prev = Prev { utime_ns: utime, stime_ns: stime };
    (utime, stime)
}

/// `CPUCLOCK_PROF`, `CPUCLOCK_VIRT`, `CPUCLOCK_SCHED`: what a CPU clock
/// counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// User plus system time (tick samples), ITIMER_PROF's clock.
    Prof,
    /// User time (tick samples), ITIMER_VIRTUAL's clock.
    Virt,
    /// Exact run time (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID).
    Sched,
}

/// Whose CPU time a clock id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A thread group (0: the caller's).
    Process(u32),
    /// A thread (0: the caller).
    Thread(u32),
}

/// A decoded CPU clock id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockId {
    pub target: Target,
    pub which: Which,
}

const CPUCLOCK_PERTHREAD_MASK: i32 = 4;
const CPUCLOCK_CLOCK_MASK: i32 = 3;

impl ClockId {
    /// Decodes a negative clock id (`CPUCLOCK_PID`, `CPUCLOCK_PERTHREAD`,
    /// `CPUCLOCK_WHICH`); None for a non-CPU clock (ids >= 0), the fd
    /// clocks (`CLOCKFD`, which 3). A negative id always encodes a pid
    /// of 0 or more.
    pub fn decode(id: i32) -> Option<Self> {
        if id >= 0 {
            return None;
        }
        let which = match id & CPUCLOCK_CLOCK_MASK {
            0 => Which::Prof,
            1 => Which::Virt,
            2 => Which::Sched,
            _ => return None,
        };
        let pid = u32::try_from(!(id >> 3)).ok()?;
        let target = if id & CPUCLOCK_PERTHREAD_MASK != 0 { Target::Thread(pid) } else { Target::Process(pid) };
        Some(Self { target, which })
    }

    /// `MAKE_PROCESS_CPUCLOCK(pid, which)` / `MAKE_THREAD_CPUCLOCK`.
    pub fn encode(self) -> i32 {
        let (pid, thread) = match self.target {
            Target::Process(p) => (p, 0),
            Target::Thread(t) => (t, CPUCLOCK_PERTHREAD_MASK),
        };
        let which = match self.which {
            Which::Prof => 0,
            Which::Virt => 1,
            Which::Sched => 2,
        };
        (!(pid as i32) << 3) | which | thread
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_ticks_is_all_user() {
        let mut p = Prev::default();
        assert_eq!(adjust(5_000, 0, 0, &mut p), (5_000, 0));
    }

    #[test]
    fn only_system_ticks_is_all_system() {
        let mut p = Prev::default();
        assert_eq!(adjust(5_000, 0, 3, &mut p), (0, 5_000));
    }

    #[test]
    fn splits_in_the_tick_ratio() {
        let mut p = Prev::default();
        assert_eq!(adjust(1_000, 3, 1, &mut p), (750, 250));
        assert_eq!(p, Prev { utime_ns: 750, stime_ns: 250 });
    }

    #[test]
    fn never_goes_backwards() {
        let mut p = Prev::default();
        assert_eq!(adjust(1_000, 1, 1, &mut p), (500, 500));
        // The ratio swings to all-user: stime stays, utime takes the rest.
        assert_eq!(adjust(1_200, 10, 0, &mut p), (700, 500));
        // Then to all-system: utime stays.
        assert_eq!(adjust(1_300, 0, 10, &mut p), (700, 600));
        // Run time that did not grow reports the previous split.
        assert_eq!(adjust(1_100, 5, 5, &mut p), (700, 600));
        let (u, s) = adjust(2_000, 1, 1, &mut p);
        assert_eq!(u + s, 2_000);
        assert!(u >= 700 && s >= 600);
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let mut p = Prev::default();
        let (u, s) = adjust(u64::MAX, u64::MAX, u64::MAX, &mut p);
        assert_eq!(u.checked_add(s), Some(u64::MAX));
    }

    #[test]
    fn clock_ids_round_trip() {
        // glibc: clock_getcpuclockid(pid) = MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED).
        assert_eq!(ClockId { target: Target::Process(0), which: Which::Sched }.encode(), -6);
        assert_eq!(ClockId { target: Target::Thread(0), which: Which::Sched }.encode(), -2);
        assert_eq!(ClockId::decode(-6), Some(ClockId { target: Target::Process(0), which: Which::Sched }));
        assert_eq!(ClockId::decode(-2), Some(ClockId { target: Target::Thread(0), which: Which::Sched }));
        for pid in [1u32, 42, 4_194_304, (i32::MAX >> 3) as u32] {
            for which in [Which::Prof, Which::Virt, Which::Sched] {
                for target in [Target::Process(pid), Target::Thread(pid)] {
                    let c = ClockId { target, which };
                    assert_eq!(ClockId::decode(c.encode()), Some(c));
                }
            }
        }
    }

    #[test]
    fn bad_clock_ids() {
        assert_eq!(ClockId::decode(0), None);
        assert_eq!(ClockId::decode(3), None);
        // which 3 is CLOCKFD.
        assert_eq!(ClockId::decode(-1), None);
        assert_eq!(ClockId::decode(-5), None);
        assert_eq!(ClockId::decode(i32::MIN | 2), Some(ClockId { target: Target::Process((1 << 28) - 1), which: Which::Sched }));
    }
}

//! Kernel command-line parsing, Linux style, without a heap.
//!
//! ```text
//!  loglevel=7 init="/bin/x y" quiet ktest=alloc,!slow -- single arg
//!  \________/ \_____________/ \___/ \_______________/    \________/
//!   key=value  quoted value    flag   ktest filter        init argv
//! ```
//!
//! [`params`] yields each `key[=value]` token (or a [`Warning`] for a
//! malformed one) up to a bare `--`. [`KernelArgs::parse`] turns the keys
//! this kernel knows into typed fields and keeps the rest, plus any
//! warnings, in fixed-capacity [`List`]s so the kernel can report them once
//! logging is up. Nothing here panics on any input. [`ktest_filter_matches`]
//! interprets the `ktest=` filter.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// Tokenizer: `key[=value]` params, quotes, `--`.
mod param;

#[cfg(test)]
mod tests;

pub use param::{InitArgs, Param, Params, Warning, params};

/// How many unknown params [`KernelArgs`] remembers.
pub const MAX_UNKNOWN: usize = 16;
/// How many environment strings and extra argument words the kernel hands
/// to init from its command line (Linux's `CONFIG_INIT_ENV_ARG_LIMIT`).
pub const MAX_INIT_ENV_ARGS: usize = 32;

/// Params that Linux itself consumes (so it never hands them to init) but
/// that mean nothing to Ferrite: they are ignored, as an unknown param is,
/// instead of reaching init's environment or argv. A key with a `.` is a
/// module parameter and is ignored the same way.
pub const LINUX_ONLY_PARAMS: &[&str] = &[
    "acpi", "apic", "audit", "clocksource", "console", "consoleblank", "crashkernel", "debug",
    "earlycon", "earlyprintk", "hpet", "idle", "ignore_loglevel", "init_on_alloc",
    "init_on_free", "initcall_debug", "initrd", "ip", "isolcpus", "lpj", "mem", "memmap",
    "mitigations", "noapic", "noefi", "nohz", "nolapic", "nomodeset", "nopti", "noresume",
    "nox2apic", "panic", "pti", "reboot", "resume", "ro", "root", "rootdelay", "rootflags",
    "rootfstype", "rootwait", "rw", "selinux", "apparmor", "security", "spectre_v2",
    "threadirqs", "tsc",
];
/// How many warnings [`KernelArgs`] remembers.
pub const MAX_WARNINGS: usize = 16;

/// Console verbosity, most quiet first (ordered like `log::LevelFilter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// Parses `loglevel=`: a name (`off`, `error`, `warn`, `info`, `debug`,
    /// `trace`, any case) or a Linux number `0..=15`. As in Linux, number `N`
    /// shows messages of syslog priority below `N` (err = 3, warning = 4,
    /// info = 6, debug = 7): 0 off, 1-4 error, 5 warn, 6-7 info, 8+ debug.
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(n) = s.parse::<u8>() {
            return match n {
                0 => Some(Self::Off),
                1..=4 => Some(Self::Error),
                5 => Some(Self::Warn),
                6..=7 => Some(Self::Info),
                8..=15 => Some(Self::Debug),
                _ => None,
            };
        }
        const NAMES: [(&str, LogLevel); 8] = [
            ("off", LogLevel::Off),
            ("error", LogLevel::Error),
            ("err", LogLevel::Error),
            ("warn", LogLevel::Warn),
            ("warning", LogLevel::Warn),
            ("info", LogLevel::Info),
            ("debug", LogLevel::Debug),
            ("trace", LogLevel::Trace),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, level)| level)
    }
}

/// What the lockup and hung-task detectors do when they fire (`watchdog=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchdogMode {
    /// Detectors off.
    Off,
    /// Log a report and keep running (the default).
    Log,
    /// Log, then panic: test boots use this so a lockup fails the run.
    Panic,
}

impl WatchdogMode {
    /// Parses `off`/`0`, `log`/`on`/`1`, `panic`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" | "0" => Some(Self::Off),
            "log" | "on" | "1" => Some(Self::Log),
            "panic" => Some(Self::Panic),
            _ => None,
        }
    }
}

/// Up to `N` items kept in order; later pushes are counted, not stored.
#[derive(Debug, Clone, Copy)]
pub struct List<T, const N: usize> {
    items: [Option<T>; N],
    len: usize,
    dropped: usize,
}

impl<T: Copy, const N: usize> List<T, N> {
    pub const fn new() -> Self {
        Self {
            items: [None; N],
            len: 0,
            dropped: 0,
        }
    }

    /// Appends `item`, or counts it in [`List::dropped`] when full.
    pub fn push(&mut self, item: T) {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(item);
                self.len += 1;
            }
            None => self.dropped += 1,
        }
    }

    /// Replaces the first item for which `same` holds, else pushes.
    pub fn replace_or_push(&mut self, item: T, same: impl Fn(&T) -> bool) {
        let found = self.items[..self.len].iter_mut().flatten().find(|t| same(t));
        match found {
            Some(slot) => *slot = item,
            None => self.push(item),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.items[..self.len].iter().flatten().copied()
    }

    pub fn get(&self, index: usize) -> Option<T> {
        self.items[..self.len].get(index).copied().flatten()
    }

    /// Items stored (at most `N`).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Items that arrived after the list was full.
    pub fn dropped(&self) -> usize {
        self.dropped
    }
}

impl<T: Copy, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// The params this kernel understands, typed. Repeated keys: the last wins.
#[derive(Debug, Clone, Default)]
pub struct KernelArgs<'a> {
    /// `loglevel=`; see [`LogLevel::parse`].
    pub loglevel: Option<LogLevel>,
    /// `init=`: the first user program, instead of the default search.
    pub init: Option<&'a str>,
    /// `rdinit=`: the program to run from the initramfs.
    pub rdinit: Option<&'a str>,
    /// `ktest` or `ktest=FILTER`: run in-kernel tests; a bare `ktest` gives
    /// `Some("")`, which matches every test (see [`ktest_filter_matches`]).
    pub ktest: Option<&'a str>,
    /// `quiet`: only errors on the console unless `loglevel=` says otherwise.
    pub quiet: bool,
    /// `nosmp`: boot the bootstrap CPU only.
    pub nosmp: bool,
    /// `maxcpus=N`: bring up at most `N` CPUs.
    pub maxcpus: Option<u32>,
    /// `nokaslr`: do not randomise the kernel's address.
    pub nokaslr: bool,
    /// `norandmaps`: no address-space layout randomisation for user
    /// programs (Linux's name; same as `randomize_va_space=0`).
    pub norandmaps: bool,
    /// `watchdog=off|log|panic`: soft/hard lockup and hung-task reports.
    pub watchdog: Option<WatchdogMode>,
    /// `hung_task_timeout_secs=N`: a task blocked uninterruptibly longer
    /// than this is reported (0 turns the hung-task check off).
    pub hung_task_timeout_secs: Option<u32>,
    /// Words after `--`, passed to init as `argv[1..]`.
    pub init_args: InitArgs<'a>,
    /// Params that are neither Ferrite's nor for init (a Linux-only key of
    /// [`LINUX_ONLY_PARAMS`] or a module parameter `mod.key`), for the
    /// kernel to warn about.
    pub unknown: List<Param<'a>, MAX_UNKNOWN>,
    /// Other `key=value` params: init's environment after `HOME=/` and
    /// `TERM=linux`, as on Linux (a later one replaces an earlier one of
    /// the same key; `HOME` and `TERM` can be overridden this way).
    pub init_env: List<Param<'a>, MAX_INIT_ENV_ARGS>,
    /// Other bare words: init's `argv[1..]`, before the words after `--`.
    pub init_words: List<&'a str, MAX_INIT_ENV_ARGS>,
    /// Malformed params, in command-line order.
    pub warnings: List<Warning<'a>, MAX_WARNINGS>,
}

impl<'a> KernelArgs<'a> {
    /// Parses `cmdline`; never fails, problems land in `warnings`.
    pub fn parse(cmdline: &'a str) -> Self {
        let mut args = Self::default();
        let mut params = params(cmdline);
        for param in params.by_ref() {
            match param {
                Ok(param) => args.apply(param),
                Err(warning) => args.warnings.push(warning),
            }
        }
        args.init_args = params.init_args();
        args
    }

    /// The console level to use: `loglevel=` if given, else error-only when
    /// `quiet`, else `default`.
    pub fn log_level_or(&self, default: LogLevel) -> LogLevel {
        match (self.loglevel, self.quiet) {
            (Some(level), _) => level,
            (None, true) => LogLevel::Error,
            (None, false) => default,
        }
    }

    fn apply(&mut self, param: Param<'a>) {
        let Param { key, value } = param;
        let result = match key {
            "loglevel" => parse_value(
                key,
                value,
                "0..=15 or off/error/warn/info/debug/trace",
                LogLevel::parse,
            )
            .map(|level| self.loglevel = Some(level)),
            "maxcpus" => parse_value(key, value, "a CPU count", |v| v.parse::<u32>().ok())
                .map(|n| self.maxcpus = Some(n)),
            "init" => non_empty(key, value).map(|v| self.init = Some(v)),
            "rdinit" => non_empty(key, value).map(|v| self.rdinit = Some(v)),
            "ktest" => {
                self.ktest = Some(value.unwrap_or(""));
                Ok(())
            }
            "quiet" => flag(key, value).map(|()| self.quiet = true),
            "nosmp" => flag(key, value).map(|()| self.nosmp = true),
            "nokaslr" => flag(key, value).map(|()| self.nokaslr = true),
            "norandmaps" => flag(key, value).map(|()| self.norandmaps = true),
            "watchdog" => parse_value(key, value, "off, log or panic", WatchdogMode::parse)
                .map(|m| self.watchdog = Some(m)),
            "hung_task_timeout_secs" => {
                parse_value(key, value, "seconds", |v| v.parse::<u32>().ok())
                    .map(|n| self.hung_task_timeout_secs = Some(n))
            }
            _ if key.contains('.') || LINUX_ONLY_PARAMS.contains(&key) => {
                self.unknown.push(param);
                Ok(())
            }
            _ => {
                match value {
                    Some(_) => self.init_env.replace_or_push(param, |p| p.key == key),
                    None => self.init_words.push(key),
                }
                Ok(())
            }
        };
        if let Err(warning) = result {
            self.warnings.push(warning);
        }
    }
}

fn parse_value<'a, T>(
    key: &'a str,
    value: Option<&'a str>,
    expected: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, Warning<'a>> {
    let value = non_empty(key, value)?;
    parse(value).ok_or(Warning::BadValue {
        key,
        value,
        expected,
    })
}

fn non_empty<'a>(key: &'a str, value: Option<&'a str>) -> Result<&'a str, Warning<'a>> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(Warning::MissingValue { key })
}

fn flag<'a>(key: &'a str, value: Option<&'a str>) -> Result<(), Warning<'a>> {
    match value {
        None => Ok(()),
        Some(value) => Err(Warning::UnexpectedValue { key, value }),
    }
}

/// Whether the `ktest=` filter selects `test_name`.
///
/// The filter is a comma-separated list of patterns; a pattern matches a
/// name that contains it. `!pattern` excludes, and exclusions win. A test
/// runs if no exclusion matches and either some inclusion matches or there
/// are no inclusions (empty filter, `all`, or exclusions only).
pub fn ktest_filter_matches(filter: &str, test_name: &str) -> bool {
    let patterns = filter.split(',').map(str::trim).filter(|p| !p.is_empty());
    let mut has_includes = false;
    let mut is_included = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(excluded) => {
                if !excluded.is_empty() && test_name.contains(excluded) {
                    return false;
                }
            }
            None if pattern == "all" => is_included = true,
            None => {
                has_includes = true;
                is_included |= test_name.contains(pattern);
            }
        }
    }
    is_included || !has_includes
}

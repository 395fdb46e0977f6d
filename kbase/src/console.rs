//! The kernel console (COM1) and the `log` backend.
//!
//! Every line carries the uptime and the CPU number:
//! `[    1.234567 1] INFO  message`.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU8, Ordering};

use crate::arch::{percpu, serial};
use crate::sync::SpinLock;
use crate::time;

static LOCK: SpinLock<()> = SpinLock::new(());
static MAX_LEVEL: AtomicU8 = AtomicU8::new(log::LevelFilter::Info as u8);

struct Serial;

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console as one unit.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    let _guard = LOCK.lock();
    let _ = Serial.write_fmt(args);
}

/// Writes raw bytes to the console as one unit.
pub fn write_bytes(bytes: &[u8]) {
    let _guard = LOCK.lock();
    serial::write_bytes(bytes);
}

/// Writes bytes exactly as given (no `\n` to `\r\n`): the tty layer's
/// output processing (OPOST/ONLCR) has already done what termios asks.
pub fn write_raw(bytes: &[u8]) {
    let _guard = LOCK.lock();
    serial::write_raw(bytes);
}

/// Panic path: write even if another CPU died holding the console lock.
pub(crate) fn write_fmt_panicking(args: fmt::Arguments<'_>) {
    let guard = match LOCK.try_lock() {
        Some(g) => Some(g),
        None => {
            // Give the holder a moment, then break the lock.
            let start = time::uptime_ns();
            loop {
                if let Some(g) = LOCK.try_lock() {
                    break Some(g);
                }
                if time::uptime_ns().saturating_sub(start) > 50_000_000 {
                    LOCK.force_unlock();
                    break None;
                }
                core::hint::spin_loop();
            }
        }
    };
    let _ = Serial.write_fmt(args);
    drop(guard);
}

/// `print!` to the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::write_fmt(format_args!($($arg)*)) };
}

/// `println!` to the kernel console; the line also goes to the kernel
/// log (`klog`, what dmesg reads) at info level.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::console::write_bytes(b"\n") };
    ($($arg:tt)*) => { $crate::console::write_line(format_args!($($arg)*)) };
}

/// [`kprintln!`]: one line to the console and to the kernel log.
pub fn write_line(args: fmt::Arguments<'_>) {
    crate::klog::record(6, args);
    write_fmt(format_args!("{args}\n"));
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        (m.level() as u8) <= MAX_LEVEL.load(Ordering::Relaxed)
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let level = match r.level() {
            log::Level::Error => 3,
            log::Level::Warn => 4,
            log::Level::Info => 6,
            log::Level::Debug | log::Level::Trace => 7,
        };
        crate::klog::record(level, *r.args());
        let ns = time::uptime_ns();
        write_fmt(format_args!(
            "[{:5}.{:06} {}] {:5} {}\n",
            ns / 1_000_000_000,
            (ns % 1_000_000_000) / 1000,
            percpu::cpu_index(),
            r.level(),
            r.args()
        ));
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

pub(crate) fn init() {
    serial::init();
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
}

/// Sets the console log level (from `loglevel=`). The `log` crate's own
/// filter follows, so a disabled `trace!` costs one load and a branch (it
/// sits on the system-call path) instead of a call with its arguments.
pub fn set_level(level: log::LevelFilter) {
    MAX_LEVEL.store(level as u8, Ordering::Relaxed);
    log::set_max_level(level);
}

//! The in-kernel test protocol, as printed on the serial line.
//!
//! A boot with `ktest=<pattern>` on the command line prints (each line may
//! carry a log prefix such as `[    0.123456 0] ` before `ktest:`):
//!
//! ```text
//! ktest: running N tests
//! ktest: <name> ... start                 (optional)
//! ktest: <name> ... ok                    (may be followed by ` (12 ms)`)
//! ktest: <name> ... FAILED: <message>
//! ktest: result: X passed, Y failed
//! ```
//!
//! then writes 0x10 (all passed) or 0x11 to the debug-exit port. A panic
//! prints a line containing `KERNEL PANIC`, backtrace lines containing
//! `bt: 0x<hex>`, and exits with 0x11.

/// One recognised serial line.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Running(u32),
    Started(&'a str),
    Passed(&'a str),
    Failed {
        name: &'a str,
        message: &'a str,
    },
    Result {
        passed: u32,
        failed: u32,
    },
    Panic,
    /// Return addresses of a backtrace line.
    Backtrace(Vec<u64>),
    Other,
}

/// The marker every protocol line carries.
const MARK: &str = "ktest: ";
/// Printed by the panic handler.
pub const PANIC_MARK: &str = "KERNEL PANIC";

/// Classifies one serial line.
pub fn parse(line: &str) -> Event<'_> {
    if let Some(i) = line.find(MARK) {
        let body = line[i + MARK.len()..].trim_end();
        if let Some(event) = parse_body(body) {
            return event;
        }
    }
    if line.contains(PANIC_MARK) {
        return Event::Panic;
    }
    if let Some(i) = line.find("bt: 0x") {
        let addrs = backtrace_addrs(&line[i + "bt:".len()..]);
        if !addrs.is_empty() {
            return Event::Backtrace(addrs);
        }
    }
    Event::Other
}

fn parse_body(body: &str) -> Option<Event<'_>> {
    if let Some(rest) = body.strip_prefix("running ") {
        let n = rest.split_whitespace().next()?.parse().ok()?;
        return Some(Event::Running(n));
    }
    if let Some(rest) = body.strip_prefix("result: ") {
        // "X passed, Y failed"
        let (p, f) = rest.split_once(',')?;
        let passed = p.trim().strip_suffix("passed")?.trim().parse().ok()?;
        let failed = f.trim().strip_suffix("failed")?.trim().parse().ok()?;
        return Some(Event::Result { passed, failed });
    }
    let (name, verdict) = body.split_once(" ... ")?;
    if verdict == "ok" || verdict.starts_with("ok ") {
        return Some(Event::Passed(name));
    }
    if verdict == "start" {
        return Some(Event::Started(name));
    }
    let message = verdict.strip_prefix("FAILED")?;
    let message = message.strip_prefix(':').unwrap_or(message).trim();
    Some(Event::Failed { name, message })
}

/// Every `0x<hex>` word in `s`.
fn backtrace_addrs(s: &str) -> Vec<u64> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|w| w.strip_prefix("0x"))
        .filter_map(|h| u64::from_str_radix(h, 16).ok())
        .collect()
}

/// What one ktest boot reported, accumulated line by line.
#[derive(Debug, Default)]
pub struct Tally {
    pub announced: Option<u32>,
    pub passed: u32,
    pub failed: Vec<(String, String)>,
    pub result: Option<(u32, u32)>,
    pub panicked: bool,
    /// The test that said `start` and has no verdict yet.
    pub current: Option<String>,
}

impl Tally {
    /// Feeds one event.
    pub fn note(&mut self, event: &Event<'_>) {
        match event {
            Event::Running(n) => self.announced = Some(*n),
            Event::Started(name) => self.current = Some(name.to_string()),
            Event::Passed(_) => {
                self.passed += 1;
                self.current = None;
            }
            Event::Failed { name, message } => {
                self.failed.push((name.to_string(), message.to_string()));
                self.current = None;
            }
            Event::Result { passed, failed } => self.result = Some((*passed, *failed)),
            Event::Panic => self.panicked = true,
            Event::Backtrace(_) | Event::Other => {}
        }
    }

    /// Disagreements between what was counted and what the kernel claimed.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut out = Vec::new();
        let seen = self.passed + self.failed.len() as u32;
        if let Some((p, f)) = self.result
            && (p, f) != (self.passed, self.failed.len() as u32)
        {
            out.push(format!(
                "kernel reported {p} passed, {f} failed but {} ok / {} FAILED lines were seen",
                self.passed,
                self.failed.len()
            ));
        }
        if let Some(n) = self.announced
            && self.result.is_some()
            && n != seen
        {
            out.push(format!(
                "kernel announced {n} tests but {seen} reported a verdict"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_lines() {
        assert_eq!(parse("ktest: running 12 tests"), Event::Running(12));
        assert_eq!(
            parse("[    0.123456 0] ktest: mm::frames ... ok"),
            Event::Passed("mm::frames")
        );
        assert_eq!(
            parse("ktest: mm::heap ... ok (12 ms)"),
            Event::Passed("mm::heap")
        );
        assert_eq!(
            parse("ktest: mm::heap ... start"),
            Event::Started("mm::heap")
        );
        assert_eq!(parse("ktest: mm::heap ... okay"), Event::Other);
        assert_eq!(
            parse("[ 1.0 3] ktest: sched::yield ... FAILED: expected 2, got 3 ... really"),
            Event::Failed {
                name: "sched::yield",
                message: "expected 2, got 3 ... really"
            }
        );
        assert_eq!(
            parse("ktest: result: 10 passed, 2 failed\r"),
            Event::Result {
                passed: 10,
                failed: 2
            }
        );
        assert_eq!(parse("[ 2.0 0] KERNEL PANIC on cpu 0: oops"), Event::Panic);
        assert_eq!(
            parse("  bt: 0xffffffff80001234"),
            Event::Backtrace(vec![0xffff_ffff_8000_1234])
        );
        assert_eq!(parse("ferrite: banner"), Event::Other);
        assert_eq!(parse("ktest: something else"), Event::Other);
    }

    #[test]
    fn tally_counts_and_checks() {
        let mut t = Tally::default();
        for l in [
            "ktest: running 3 tests",
            "ktest: a ... start",
            "ktest: a ... ok",
            "ktest: b ... FAILED: boom",
            "ktest: result: 2 passed, 1 failed",
        ] {
            t.note(&parse(l));
        }
        assert_eq!(t.passed, 1);
        assert_eq!(t.current, None);
        assert_eq!(t.failed, vec![("b".to_string(), "boom".to_string())]);
        assert_eq!(t.inconsistencies().len(), 2);
    }
}

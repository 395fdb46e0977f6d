//! A hung guest's last words: when a captured run times out, the runner
//! asks QEMU's monitor where every CPU is before killing it. For each CPU
//! it reads RIP and RBP (`info registers`) and walks the frame-pointer
//! chain with `x /2gx`, giving `bt:` lines that the callers symbolise
//! like a kernel backtrace.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Frames walked per CPU.
const DEPTH: usize = 16;

struct Monitor {
    stream: UnixStream,
}

impl Monitor {
    fn connect(path: &Path) -> Option<Self> {
        let stream = UnixStream::connect(path).ok()?;
        stream.set_read_timeout(Some(Duration::from_millis(200))).ok()?;
        let mut m = Self { stream };
        m.read_reply(); // the banner and first prompt
        Some(m)
    }

    /// Sends one command; returns what QEMU printed up to its next prompt.
    fn ask(&mut self, cmd: &str) -> String {
        if self.stream.write_all(format!("{cmd}\n").as_bytes()).is_err() {
            return String::new();
        }
        self.read_reply()
    }

    fn read_reply(&mut self) -> String {
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if out.ends_with(b"(qemu) ") {
                        break;
                    }
                }
                Err(_) => {
                    if out.ends_with(b"(qemu) ") || !out.is_empty() && out.len() > 64 * 1024 {
                        break;
                    }
                }
            }
        }
        String::from_utf8_lossy(&out).replace('\r', "")
    }
}

/// `NAME=hex` from a register dump.
fn register(dump: &str, name: &str) -> Option<u64> {
    let key = format!("{name}=");
    let at = dump.find(&key)? + key.len();
    let hex: String = dump[at..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    u64::from_str_radix(&hex, 16).ok()
}

/// The two quadwords `x /2gx` printed.
fn two_words(reply: &str) -> Option<(u64, u64)> {
    let line = reply.lines().find(|l| l.contains(':'))?;
    let mut words = line.split(':').nth(1)?.split_whitespace().filter_map(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok());
    Some((words.next()?, words.next()?))
}

/// Where each of `cpus` CPUs is: lines of the form `cpu N: rip ...` and
/// `  bt: 0x...`. Empty if the monitor cannot be reached.
pub fn where_are_the_cpus(socket: &Path, cpus: u32) -> Vec<String> {
    let Some(mut m) = Monitor::connect(socket) else { return Vec::new() };
    let mut lines = Vec::new();
    for cpu in 0..cpus {
        m.ask(&format!("cpu {cpu}"));
        let regs = m.ask("info registers");
        let (Some(rip), Some(mut rbp)) = (register(&regs, "RIP"), register(&regs, "RBP")) else { continue };
        let rsp = register(&regs, "RSP").unwrap_or(0);
        lines.push(format!("qemu monitor: cpu {cpu}: rip {rip:#x} rsp {rsp:#x} rbp {rbp:#x}"));
        lines.push(format!("  bt: {rip:#x}"));
        for _ in 0..DEPTH {
            // Kernel frames only: user frames cannot be symbolised.
            if rbp < 0xffff_8000_0000_0000 || rbp % 8 != 0 {
                break;
            }
            let Some((next, ret)) = two_words(&m.ask(&format!("x /2gx {rbp:#x}"))) else { break };
            if ret == 0 {
                break;
            }
            lines.push(format!("  bt: {ret:#x}"));
            if next <= rbp {
                break;
            }
            rbp = next;
        }
    }
    let _ = m.ask("cont");
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registers_and_memory() {
        let dump = "RAX=0000000000000001 RBX=0\nRSI=0 RDI=0 RBP=ffffc00000131a40 RSP=ffffc00000131a00\nRIP=ffffffff80111c42 RFL=00000246";
        assert_eq!(register(dump, "RIP"), Some(0xffff_ffff_8011_1c42));
        assert_eq!(register(dump, "RBP"), Some(0xffff_c000_0013_1a40));
        assert_eq!(register(dump, "RCX"), None);
        let x = "x /2gx 0xffffc00000131a40\nffffc00000131a40: 0xffffc00000131a90 0xffffffff8012706b\n(qemu) ";
        assert_eq!(two_words(x), Some((0xffff_c000_0013_1a90, 0xffff_ffff_8012_706b)));
        assert_eq!(two_words("(qemu) "), None);
    }
}

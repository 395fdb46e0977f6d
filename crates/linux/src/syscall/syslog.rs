//! syslog(2) (klogctl in libc): the kernel log ring (`kbase::klog`), as
//! `dmesg` reads it. Linux's do_syslog, with `dmesg_restrict` on (Debian's
//! default): every action needs CAP_SYSLOG, which Ferrite's credentials
//! fold into CAP_SYS_ADMIN (Linux accepts that too). READ waits for new
//! lines by looking every 20 ms (interrupted by a signal: EINTR).

use crate::errno::{EINVAL, EPERM, SysResult};
use crate::process::with_current;
use crate::uaccess;

const CLOSE: i32 = 0;
const OPEN: i32 = 1;
const READ: i32 = 2;
const READ_ALL: i32 = 3;
const READ_CLEAR: i32 = 4;
const CLEAR: i32 = 5;
const CONSOLE_OFF: i32 = 6;
const CONSOLE_ON: i32 = 7;
const CONSOLE_LEVEL: i32 = 8;
const SIZE_UNREAD: i32 = 9;
const SIZE_BUFFER: i32 = 10;

pub fn syslog(kind: i32, buf: u64, len: i32) -> SysResult {
    // Permission first, for every action (an unknown one included), then
    // the action: Linux's check_syslog_permissions before its switch.
    if !with_current(|t| crate::process::has_sys_admin(&t.process)) {
        return Err(EPERM);
    }
    if !(CLOSE..=SIZE_BUFFER).contains(&kind) {
        return Err(EINVAL);
    }
    // The reading actions check their buffer first (EINVAL), as Linux.
    let want = match kind {
        READ | READ_ALL | READ_CLEAR => {
            if buf == 0 || len < 0 {
                return Err(EINVAL);
            }
            if len == 0 {
                return Ok(0);
            }
            len as usize
        }
        _ => 0,
    };
    match kind {
        CLOSE | OPEN | CONSOLE_OFF | CONSOLE_ON => Ok(0),
        CONSOLE_LEVEL => {
            if !(1..=8).contains(&len) {
                return Err(EINVAL);
            }
            Ok(0)
        }
        READ => {
            // Waits for something to read, as Linux (interruptible).
            while kbase::klog::unread() == 0 {
                if with_current(crate::signal::has_pending) {
                    return Err(crate::errno::EINTR);
                }
                kbase::task::sleep_ns(20_000_000);
            }
            let bytes = kbase::klog::read(want);
            uaccess::write_bytes(buf, &bytes)?;
            Ok(bytes.len())
        }
        READ_ALL | READ_CLEAR => {
            let bytes = kbase::klog::read_all(want, kind == READ_CLEAR);
            uaccess::write_bytes(buf, &bytes)?;
            Ok(bytes.len())
        }
        CLEAR => {
            kbase::klog::clear();
            Ok(0)
        }
        SIZE_UNREAD => Ok(kbase::klog::unread()),
        _ => Ok(kbase::klog::SIZE),
    }
}

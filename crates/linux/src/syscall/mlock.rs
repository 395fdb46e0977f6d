//! mlock(2), mlock2, munlock, mlockall, munlockall.
//!
//! There is no swap, so every page stays in memory anyway: these calls
//! check their arguments and the range as Linux's do_mlock and
//! apply_vma_lock_flags (EINVAL for unknown flags or a wrapping range,
//! ENOMEM for a range that is not all mapped, EPERM when RLIMIT_MEMLOCK
//! is 0 without CAP_IPC_LOCK) and fault the pages in (mlock without
//! MLOCK_ONFAULT). partial: nothing is marked locked, so VmLck stays 0 and
//! the RLIMIT_MEMLOCK check is per call, not the process's total.

use linux_raw_sys::general as g;

use crate::errno::{EAGAIN, EINVAL, ENOMEM, EPERM, SysResult};
use crate::mm::PAGE;
use crate::process::current;

const MLOCK_ONFAULT: u32 = 1;
const MCL_CURRENT: u32 = 1;
const MCL_FUTURE: u32 = 2;
const MCL_ONFAULT: u32 = 4;

/// RLIMIT_MEMLOCK in pages, or None with CAP_IPC_LOCK (no limit);
/// EPERM when the limit is 0 and the caller is not privileged (can_do_mlock).
fn lock_limit() -> Result<Option<u64>, crate::errno::Errno> {
    let p = current().process.clone();
    // CAP_IPC_LOCK goes with euid 0, as the other non-file capabilities.
    if p.cred().euid == 0 {
        return Ok(None);
    }
    let limit = p.rlimits.lock()[g::RLIMIT_MEMLOCK as usize].0;
    if limit == 0 {
        return Err(EPERM);
    }
    Ok(Some(limit / PAGE))
}

/// The page range `[start, end)` that `addr`/`len` cover; EINVAL if it wraps.
fn page_range(addr: u64, len: u64) -> Result<(u64, u64), crate::errno::Errno> {
    let start = addr & !(PAGE - 1);
    let end = (addr % PAGE).checked_add(len).and_then(|l| l.checked_add(PAGE - 1)).map(|l| l & !(PAGE - 1));
    let end = end.and_then(|l| start.checked_add(l)).ok_or(EINVAL)?;
    Ok((start, end))
}

/// mlock(2) and mlock2(2).
pub fn mlock2(addr: u64, len: u64, flags: u32) -> SysResult {
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(EINVAL);
    }
    let limit = lock_limit()?;
    let (start, end) = page_range(addr, len)?;
    if limit.is_some_and(|l| (end - start) / PAGE > l) {
        return Err(ENOMEM);
    }
    if start == end {
        return Ok(0);
    }
    let vm = current().process.vm().ok_or(ENOMEM)?;
    let mut vm = vm.lock();
    if !vm.is_range_mapped(start, end) {
        return Err(ENOMEM);
    }
    if flags & MLOCK_ONFAULT == 0 {
        // A PROT_NONE page cannot be faulted in: EFAULT from the
        // population, which __mlock_posix_error_return makes ENOMEM; no
        // memory for the pages is EAGAIN.
        let is_none = |v: &crate::mm::Vma| !(v.prot.read || v.prot.write || v.prot.exec);
        if vm.vmas().any(|(s, v)| s < end && v.end > start && is_none(v)) {
            return Err(ENOMEM);
        }
        vm.populate(start, end).map_err(|_| EAGAIN)?;
    }
    Ok(0)
}

/// munlock(2): ENOMEM for a range that is not all mapped.
pub fn munlock(addr: u64, len: u64) -> SysResult {
    let (start, end) = page_range(addr, len)?;
    if start == end {
        return Ok(0);
    }
    let vm = current().process.vm().ok_or(ENOMEM)?;
    if !vm.lock().is_range_mapped(start, end) { Err(ENOMEM) } else { Ok(0) }
}

/// mlockall(2): MCL_CURRENT and/or MCL_FUTURE, with MCL_ONFAULT only
/// beside one of them. The current mappings must fit RLIMIT_MEMLOCK.
pub fn mlockall(flags: u32) -> SysResult {
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
        return Err(EINVAL);
    }
    let limit = lock_limit()?;
    if flags & MCL_CURRENT != 0 {
        let vm = current().process.vm().ok_or(ENOMEM)?;
        let total: u64 = vm.lock().vmas().map(|(s, v)| v.end - s).sum();
        if limit.is_some_and(|l| total / PAGE > l) {
            return Err(ENOMEM);
        }
    }
    Ok(0)
}

/// munlockall(2).
pub fn munlockall() -> SysResult {
    Ok(0)
}

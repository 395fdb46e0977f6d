//! The vDSO: a small shared object (`vdso/vdso.c`, built by `build.rs`)
//! mapped into every process, so `clock_gettime`, `gettimeofday` and
//! `time` need no system call. Its code reads the vvar page the kernel
//! maps just below it.
//!
//! ```text
//!  VVAR_ADDR  vvar page (read-only, one frame shared by every process):
//!             [0] version  [1] TSC at time zero  [2] ns multiplier
//!             [3] CLOCK_REALTIME - CLOCK_MONOTONIC in ns
//!  VDSO_ADDR  the image (read + execute, page cache), AT_SYSINFO_EHDR
//! ```
//! The layout is `struct vvar` in `vdso.c`. The version word is written
//! last, so a vDSO that sees it finds the other words set; until then
//! (and for any other clock) it makes the system call.

use alloc::sync::Arc;
use alloc::vec::Vec;

use kbase::mm::frame::FrameBlock;
use kbase::mm::paging::PageFlags;
use kbase::sync::Once;

use crate::errno::{Errno, mm};
use crate::mm::{Backing, PAGE, Prot, Vm, Vma};

static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// Where the vvar page and the image go: above the mmap area
/// (`mm::MMAP_TOP`), below any (randomised) stack.
pub const VVAR_ADDR: u64 = 0x7ff0_0000_0000;
pub const VDSO_ADDR: u64 = VVAR_ADDR + PAGE;

const VVAR_VERSION: u64 = 1;
const W_VERSION: usize = 0;
const W_TSC_ZERO: usize = 1;
const W_MULT: usize = 2;
const W_REALTIME: usize = 3;

struct Pages {
    vvar: Arc<FrameBlock>,
    image: Arc<Vec<u8>>,
}

static PAGES: Once<Pages> = Once::new();

/// Makes the vvar page and fills it (at boot, before the first execve).
pub fn init() -> Result<(), Errno> {
    let vvar = Arc::new(FrameBlock::alloc(0).map_err(mm)?);
    let (zero, mult) = kbase::time::clock_params();
    vvar.store_u64(W_TSC_ZERO, zero);
    vvar.store_u64(W_MULT, mult);
    vvar.store_u64(W_REALTIME, kbase::time::realtime_offset_ns() as u64);
    vvar.store_u64(W_VERSION, VVAR_VERSION);
    PAGES.set(Pages { vvar, image: Arc::new(IMAGE.to_vec()) });
    Ok(())
}

/// The wall clock was set: the vDSO's offset follows.
pub fn clock_was_set() {
    if let Some(p) = PAGES.get() {
        p.vvar.store_u64(W_REALTIME, kbase::time::realtime_offset_ns() as u64);
    }
}

/// Maps the vvar page and the image into a new address space; returns
/// the image's address for AT_SYSINFO_EHDR (None: no vDSO, libc then
/// makes system calls).
pub fn map(vm: &mut Vm) -> Result<Option<u64>, Errno> {
    let Some(p) = PAGES.get() else { return Ok(None) };
    let read = Prot { read: true, write: false, exec: false };
    vm.insert(VVAR_ADDR, Vma { end: VVAR_ADDR + PAGE, prot: read, backing: Backing::Anon, shared: false, grows_down: false })?;
    let flags = PageFlags { writable: false, executable: false, user: true };
    vm.space_mut().map_shared(VVAR_ADDR, p.vvar.clone(), flags).map_err(mm)?;
    let len = p.image.len() as u64;
    let end = VDSO_ADDR + len.div_ceil(PAGE) * PAGE;
    let rx = Prot { read: true, write: false, exec: true };
    // /proc/[pid]/maps shows it as `[vdso]` (no device, no inode).
    let name = Some(alloc::sync::Arc::new(crate::mm::FileName { path: b"[vdso]".to_vec(), dev: 0, ino: 0 }));
    let backing = Backing::File { data: p.image.clone(), offset: 0, len, name };
    vm.insert(VDSO_ADDR, Vma { end, prot: rx, backing, shared: false, grows_down: false })?;
    Ok(Some(VDSO_ADDR))
}

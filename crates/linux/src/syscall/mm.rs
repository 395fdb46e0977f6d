//! Memory system calls: mmap, munmap, mprotect, mremap, brk, madvise,
//! mincore, msync.


use linux_raw_sys::general::{F_SEAL_FUTURE_WRITE, F_SEAL_WRITE};

use crate::errno::{EACCES, EINVAL, ENODEV, ENOMEM, ENXIO, EPERM, Errno, SysResult};
use crate::mm::{Backing, PAGE, Prot, Vm};
use crate::process::current;

const MAP_SHARED: u32 = 0x01;
const MAP_SHARED_VALIDATE: u32 = 0x03;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_FIXED_NOREPLACE: u32 = 0x100000;
const MAP_GROWSDOWN: u32 = 0x0100;
const KNOWN: u32 = 0x3 | MAP_FIXED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
    | 0x0100 /* GROWSDOWN */ | 0x0800 /* DENYWRITE */ | 0x1000 /* EXECUTABLE */ | 0x2000 /* LOCKED */
    | 0x4000 /* NORESERVE */ | 0x8000 /* POPULATE */ | 0x10000 /* NONBLOCK */ | 0x20000 /* STACK */ | 0x40000 /* HUGETLB */;

fn with_vm<R>(f: impl FnOnce(&mut Vm) -> Result<R, Errno>) -> Result<R, Errno> {
    let vm = current().process.vm().ok_or(ENOMEM)?;
    let mut g = vm.lock();
    f(&mut g)
}

/// mmap(2). A file mapping maps the file's own pages (`filemap`, tmpfs
/// and memfd; other files are ENODEV): MAP_SHARED ones, writable too,
/// share them with read/write and every other mapping; MAP_PRIVATE ones
/// copy a page on its first write. A writable MAP_SHARED mapping needs
/// the file open for writing (EACCES) and no memfd write seal (EPERM).
pub fn mmap(addr: u64, len: u64, prot: u32, flags: u32, fd: i32, off: u64) -> SysResult {
    if len == 0 || off % PAGE != 0 || prot & !7 != 0 {
        return Err(EINVAL);
    }
    let kind = flags & 0x3;
    if kind == 0 || (kind == MAP_SHARED_VALIDATE && flags & !KNOWN != 0) {
        return Err(EINVAL);
    }
    let shared = kind == MAP_SHARED || kind == MAP_SHARED_VALIDATE;
    let grows_down = flags & MAP_GROWSDOWN != 0;
    if grows_down && shared && flags & MAP_ANONYMOUS != 0 {
        // Shared anonymous memory cannot grow (Linux's do_mmap).
        return Err(EINVAL);
    }
    let backing = if flags & MAP_ANONYMOUS != 0 && shared {
        Backing::Shared { mem: alloc::sync::Arc::new(crate::mm::SharedMem::new()), offset_pages: 0 }
    } else if flags & MAP_ANONYMOUS != 0 {
        Backing::Anon
    } else {
        let f = current().process.files.lock().get(fd)?;
        if !f.flags().can_read() {
            return Err(EACCES);
        }
        let node = f.node().ok_or(ENODEV)?;
        let st = node.stat()?;
        if st.kind() != Some(vfs::Kind::File) {
            return Err(ENODEV);
        }
        if shared && prot & 2 != 0 {
            // A writable shared mapping writes the file: it must be open
            // for writing (EACCES), and a memfd sealed against writes
            // refuses it (EPERM), as mmap(2) and memfd_create(2) say.
            if !f.flags().can_write() {
                return Err(EACCES);
            }
            if f.seals().is_ok_and(|s| s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0) {
                return Err(EPERM);
            }
        }
        // Files whose filesystem has no pages to map (procfs, devices):
        // ENODEV, from the first page.
        match node.fs().map_page(node.ino, 0, false) {
            Ok(_) | Err(ENXIO) => {}
            Err(e) => return Err(e),
        }
        // The file offsets the mapping covers must fit a file's size
        // (Linux's file_mmap_ok: off + len at most MAX_LFS_FILESIZE).
        let pages_len = len.checked_add(PAGE - 1).ok_or(ENOMEM)? & !(PAGE - 1);
        off.checked_add(pages_len).filter(|&e| e <= i64::MAX as u64).ok_or(crate::errno::EOVERFLOW)?;
        let file = crate::filemap::MappedFile::of(node)?;
        let path = f.proc_name();
        let name = Some(alloc::sync::Arc::new(crate::mm::FileName { path, dev: st.dev, ino: st.ino.0 }));
        // After F_SEAL_FUTURE_WRITE a read-only shared mapping may not
        // become writable either (Linux clears VM_MAYWRITE).
        let is_sealed = f.seals().is_ok_and(|s| s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0);
        let writer = (shared && f.flags().can_write() && !is_sealed).then(|| file.writer());
        Backing::Paged { file, offset: off, len: u64::MAX, name, writer, copy_early: false }
    };
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let noreplace = flags & MAP_FIXED_NOREPLACE != 0;
    let populate = flags & 0x8000 != 0;
    with_vm(|vm| {
        let a = vm.mmap(addr, len, Prot::from_bits(prot), fixed, noreplace, backing, shared, grows_down)?;
        if populate {
            let _ = vm.populate(a, a + len);
        }
        Ok(a as usize)
    })
}

pub fn munmap(addr: u64, len: u64) -> SysResult {
    if addr % PAGE != 0 || len == 0 {
        return Err(EINVAL);
    }
    let end = addr.checked_add(len).and_then(|e| e.checked_add(PAGE - 1)).ok_or(EINVAL)? & !(PAGE - 1);
    if end > kbase::mm::paging::USER_END {
        return Err(EINVAL);
    }
    with_vm(|vm| {
        vm.unmap(addr, end);
        Ok(0)
    })
}

pub fn mprotect(addr: u64, len: u64, prot: u32) -> SysResult {
    const PROT_GROWSDOWN: u32 = 0x0100_0000;
    const PROT_GROWSUP: u32 = 0x0200_0000;
    let (down, up) = (prot & PROT_GROWSDOWN != 0, prot & PROT_GROWSUP != 0);
    if (down && up) || addr % PAGE != 0 || prot & !(7 | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    with_vm(|vm| vm.mprotect(addr, len, Prot::from_bits(prot & 7), down, up).map(|_| 0))
}

pub fn brk(addr: u64) -> SysResult {
    with_vm(|vm| Ok(vm.set_brk(addr) as usize))
}

pub fn madvise(addr: u64, len: u64, advice: u32) -> SysResult {
    const MADV_DONTNEED: u32 = 4;
    if addr % PAGE != 0 {
        return Err(EINVAL);
    }
    if advice == MADV_DONTNEED && len > 0 {
        // Private anonymous memory reads back as zeros: drop the pages and
        // keep the VMAs (re-faulted as zero pages).
        return with_vm(|vm| {
            vm.drop_pages(addr, addr.saturating_add(len));
            Ok(0)
        });
    }
    Ok(0)
}

/// mremap(2): MREMAP_MAYMOVE and MREMAP_FIXED (MREMAP_DONTUNMAP: EINVAL).
pub fn mremap(old: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64) -> SysResult {
    const MREMAP_MAYMOVE: u32 = 1;
    const MREMAP_FIXED: u32 = 2;
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0 || old % PAGE != 0 {
        return Err(EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(EINVAL);
    }
    let fixed = (flags & MREMAP_FIXED != 0).then_some(new_addr);
    with_vm(|vm| vm.mremap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0, fixed).map(|a| a as usize))
}

/// mincore(2).
pub fn mincore(addr: u64, len: u64, vec: u64) -> SysResult {
    if addr % PAGE != 0 {
        return Err(EINVAL);
    }
    const STEP: u64 = 4096; // pages per step: a 4 KiB buffer
    let end = addr.checked_add(len).ok_or(ENOMEM)?;
    let (mut at, mut out) = (addr, vec);
    loop {
        let bytes = with_vm(|vm| vm.mincore(at, end - at, STEP))?;
        crate::uaccess::write_bytes(out, &bytes)?;
        if (bytes.len() as u64) < STEP {
            return Ok(0);
        }
        at += STEP * PAGE;
        out += STEP;
        crate::signal::between_chunks()?;
    }
}

/// msync(2): file mappings are the file's own pages (tmpfs, memfd), so
/// there is nothing to write back; the arguments are checked as Linux
/// does: EINVAL for an unaligned address, unknown flags or both MS_SYNC
/// and MS_ASYNC, ENOMEM if part of the range is not mapped.
pub fn msync(addr: u64, len: u64, flags: u32) -> SysResult {
    const MS_ASYNC: u32 = 1;
    const MS_INVALIDATE: u32 = 2;
    const MS_SYNC: u32 = 4;
    if addr % PAGE != 0 || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC {
        return Err(EINVAL);
    }
    let end = addr.checked_add(len).and_then(|e| e.checked_add(PAGE - 1)).ok_or(ENOMEM)? & !(PAGE - 1);
    with_vm(|vm| if vm.is_range_mapped(addr, end) { Ok(0) } else { Err(ENOMEM) })
}

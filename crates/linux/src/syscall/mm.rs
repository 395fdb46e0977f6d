//! Memory system calls: mmap, munmap, mprotect, mremap, brk, madvise,
//! mincore.


use crate::errno::{EACCES, EINVAL, ENODEV, ENOMEM, Errno, SysResult};
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
        if shared && prot & 2 != 0 {
            // Writable shared file mappings need the page cache (block
            // storage issue); refuse rather than silently not write back.
            return Err(ENODEV);
        }
        let data = node.fs().file_shared(node.ino)?;
        let st = node.stat()?;
        let path = f.proc_name();
        let name = Some(alloc::sync::Arc::new(crate::mm::FileName { path, dev: st.dev, ino: st.ino.0 }));
        let start = usize::try_from(off).map_err(|_| EINVAL)?.min(data.len());
        let len_in_file = (data.len() - start) as u64;
        Backing::File { data, offset: off.min(start as u64), len: len_in_file, name }
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

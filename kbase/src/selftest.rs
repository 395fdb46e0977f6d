//! ktests that need kbase internals (crate-private probes).

use crate::arch::extable;
use crate::ktest::KResult;
use crate::{kassert, ktest};

unsafe extern "C" {
    static __text_start: u8;
    static __rodata_start: u8;
    static boot_stack_guard: u8;
}

ktest!(wx_kernel_text_is_read_only, || -> KResult {
    let text = core::ptr::addr_of!(__text_start) as u64;
    let ro = core::ptr::addr_of!(__rodata_start) as u64;
    kassert!(extable::probe_write_u8(text, 0x90).is_err(), "write to kernel text at {text:#x} succeeded");
    kassert!(extable::probe_write_u8(ro, 0).is_err(), "write to rodata at {ro:#x} succeeded");
    Ok(())
});

ktest!(wx_data_is_not_executable, || -> KResult {
    static RODATA_WORD: u64 = 0x1234;
    let (_, flags) =
        crate::mm::paging::translate(core::ptr::addr_of!(RODATA_WORD) as u64).ok_or("rodata not mapped")?;
    kassert!(!flags.executable && !flags.writable, "rodata flags {flags:?}");
    let stack_var = 0u64;
    let (_, flags) = crate::mm::paging::translate(core::ptr::addr_of!(stack_var) as u64).ok_or("stack not mapped")?;
    kassert!(!flags.executable && flags.writable, "stack flags {flags:?}");
    let (_, flags) = crate::mm::paging::translate(crate::mm::PHYS_OFFSET + 0x20_0000).ok_or("direct map missing")?;
    kassert!(!flags.executable, "direct map is executable");
    let (_, flags) =
        crate::mm::paging::translate(core::ptr::addr_of!(__text_start) as u64).ok_or("text not mapped")?;
    kassert!(flags.executable && !flags.writable, "text flags {flags:?}");
    Ok(())
});

ktest!(boot_stack_guard_page_unmapped, || -> KResult {
    let guard = core::ptr::addr_of!(boot_stack_guard) as u64;
    kassert!(crate::mm::paging::translate(guard).is_none(), "guard page {guard:#x} is mapped");
    kassert!(extable::probe_read_u64(guard).is_err(), "read of the guard page succeeded");
    Ok(())
});

ktest!(smep_smap_enabled, || -> KResult {
    let (smep, smap) = crate::mm::paging::protection_status();
    let l7 = crate::arch::cpu::cpuid(7, 0);
    kassert!(smep || l7.ebx & (1 << 7) == 0, "CPU has SMEP but it is off");
    kassert!(smap || l7.ebx & (1 << 20) == 0, "CPU has SMAP but it is off");
    Ok(())
});

/// Never called: a function to aim faulting writes and probes at.
#[inline(never)]
fn text_victim() {
    core::hint::black_box(());
}

/// `ret`, in writable data: executing it must fault (NX).
static RET_IN_DATA: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0xc3);

ktest!(wx_write_to_kernel_code_faults, || -> KResult {
    // Not only the first byte of .text: a function in the middle of it.
    let f = text_victim as *const () as u64;
    let before = extable::probe_read_u64(f & !7).map_err(|_| "cannot read kernel text")?;
    kassert!(extable::probe_write_u8(f, 0xcc).is_err(), "write to kernel code at {f:#x} succeeded");
    kassert!(extable::probe_read_u64(f & !7) == Ok(before), "kernel code changed after a faulting write");
    static RODATA_TABLE: [u64; 2] = [0x1111, 0x2222];
    let ro = core::ptr::addr_of!(RODATA_TABLE) as u64;
    kassert!(extable::probe_write_u8(ro, 0).is_err(), "write to .rodata at {ro:#x} succeeded");
    kassert!(RODATA_TABLE[0] == 0x1111, "rodata changed");
    Ok(())
});

ktest!(nx_executing_data_heap_stack_faults, || -> KResult {
    let data = core::ptr::addr_of!(RET_IN_DATA) as u64;
    // SAFETY: each target holds `ret` (0xc3): if NX were missing the call
    // would return at once.
    kassert!(unsafe { extable::probe_exec(data) }.is_err(), "executed .data at {data:#x}");
    let heap = alloc::vec![0xc3u8; 64];
    let h = heap.as_ptr() as u64;
    // SAFETY: as above.
    kassert!(unsafe { extable::probe_exec(h) }.is_err(), "executed heap memory at {h:#x}");
    let stack = core::hint::black_box([0xc3u8; 16]);
    let s = stack.as_ptr() as u64;
    // SAFETY: as above.
    kassert!(unsafe { extable::probe_exec(s) }.is_err(), "executed the kernel stack at {s:#x}");
    // The probe itself works: a `ret` in kernel text returns normally.
    let ret_in_text = find_ret_in_text().ok_or("no ret in kernel text")?;
    // SAFETY: `ret_in_text` is a 0xc3 byte inside executable kernel text.
    kassert!(unsafe { extable::probe_exec(ret_in_text) }.is_ok(), "calling a ret in .text faulted");
    Ok(())
});

/// The address of some 0xc3 byte in kernel text (a `ret`; any 0xc3 byte
/// executes as `ret` when jumped to directly).
fn find_ret_in_text() -> Option<u64> {
    let f = text_victim as *const () as u64;
    (0..256u64).map(|i| f + i).find(|&a| extable::probe_read_u64(a & !7).is_ok_and(|w| (w >> ((a & 7) * 8)) as u8 == 0xc3))
}

/// A user address space with one page at `USER_PAGE` holding `ret` and a
/// known word, loaded on this CPU while `f` runs.
fn with_user_page(f: impl FnOnce(u64) -> KResult) -> KResult {
    const USER_PAGE: u64 = 0x5000_0000;
    let mut vm = crate::mm::paging::VmSpace::new().map_err(|e| alloc::format!("{e}"))?;
    let frame = crate::mm::frame::FrameBlock::alloc(0).map_err(|e| alloc::format!("{e}"))?;
    vm.map(USER_PAGE, frame, crate::mm::paging::PageFlags::RX).map_err(|e| alloc::format!("map: {e}"))?;
    let mut bytes = [0xc3u8; 16];
    bytes[8..].copy_from_slice(&0x5a5a_1234u64.to_le_bytes());
    vm.write_bytes(USER_PAGE, &bytes).map_err(|e| alloc::format!("write: {e}"))?;
    crate::task::set_user_space(Some(vm.root()));
    let r = f(USER_PAGE);
    crate::task::set_user_space(None);
    r
}

ktest!(smap_kernel_read_of_user_page_faults, || -> KResult {
    let (_, smap) = crate::mm::paging::protection_status();
    if !smap {
        return Ok(()); // checked by smep_smap_enabled
    }
    with_user_page(|page| {
        let mut via_copy = [0u8; 8];
        crate::arch::uaccess::copy_from_user(&mut via_copy, page + 8).map_err(|_| "user copy of a mapped page faulted")?;
        kassert!(u64::from_le_bytes(via_copy) == 0x5a5a_1234, "user copy read {via_copy:?}");
        let direct = extable::probe_read_u64_no_stac(page + 8);
        kassert!(direct.is_err(), "kernel read a user page without STAC: {direct:?}");
        Ok(())
    })
});

ktest!(smep_kernel_exec_of_user_page_faults, || -> KResult {
    let (smep, _) = crate::mm::paging::protection_status();
    if !smep {
        return Ok(());
    }
    with_user_page(|page| {
        // SAFETY: the user page holds `ret`.
        let r = unsafe { extable::probe_exec(page) };
        kassert!(r.is_err(), "kernel executed a user page at {page:#x}");
        Ok(())
    })
});

ktest!(wx_no_kernel_page_is_writable_and_executable, || -> KResult {
    let (mut leaves, mut bad) = (0usize, alloc::vec::Vec::new());
    let (mut exec_bytes, mut write_bytes) = (0u64, 0u64);
    crate::mm::paging::for_each_kernel_leaf(|va, size, flags| {
        leaves += 1;
        if flags.executable {
            exec_bytes += size;
        }
        if flags.writable {
            write_bytes += size;
        }
        if flags.writable && flags.executable && bad.len() < 8 {
            bad.push((va, size));
        }
        if flags.user && bad.len() < 8 {
            bad.push((va, size));
        }
    });
    kassert!(bad.is_empty(), "writable+executable (or user) kernel mappings: {bad:x?}");
    kassert!(leaves > 0 && exec_bytes > 0 && write_bytes > 0, "walk saw {leaves} leaves, {exec_bytes} B exec, {write_bytes} B writable");
    // Executable kernel memory is the image's .text only.
    let text = core::ptr::addr_of!(__text_start) as u64;
    kassert!(exec_bytes < 64 << 20, "{exec_bytes} bytes of executable kernel memory");
    kassert!(crate::mm::paging::translate(text).is_some_and(|(_, f)| f.executable), "text not executable");
    Ok(())
});

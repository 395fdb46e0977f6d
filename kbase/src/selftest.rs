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

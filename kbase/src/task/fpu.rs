//! Extended FPU state (AVX and above) of user threads, saved with XSAVE at
//! a thread switch. x87/SSE state is already saved in every trap frame
//! (FXSAVE), so only the components above SSE are handled here.

use alloc::vec::Vec;

use crate::arch::cpu;

/// An XSAVE area (64-byte aligned inside its buffer).
pub(super) struct XsaveArea {
    buf: Vec<u8>,
    offset: usize,
    mask: u64,
}

impl XsaveArea {
    /// None when the CPU has no XSAVE or no state above SSE is enabled.
    pub(super) fn new() -> Option<Self> {
        let mask = cpu::xcr0()? & !0b11;
        if mask == 0 {
            return None;
        }
        let size = cpu::cpuid(0xd, 0).ebx as usize;
        let mut buf = alloc::vec![0u8; size + 64];
        let offset = (64 - (buf.as_ptr() as usize % 64)) % 64;
        // A zeroed XSAVE header (XSTATE_BV = 0) restores components to their
        // initial state, which is what a fresh thread should see.
        buf[offset..offset + size].fill(0);
        Some(Self { buf, offset, mask })
    }

    pub(super) fn save(&mut self) {
        let p = self.buf[self.offset..].as_mut_ptr();
        // SAFETY: `p` is 64-byte aligned with CPUID.0xD.0:EBX bytes behind
        // it inside `buf` (built in `new`).
        unsafe { cpu::xsave(p, self.mask) };
    }

    pub(super) fn restore(&self) {
        let p = self.buf[self.offset..].as_ptr();
        // SAFETY: as in `save`; the area is zeroed (initial state) or was
        // written by `save` with the same mask.
        unsafe { cpu::xrstor(p, self.mask) };
    }
}

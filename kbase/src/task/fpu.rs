//! FPU state of user threads saved at a thread switch.
//!
//! A trap frame from an interrupt or exception holds the full FXSAVE image,
//! but a system-call frame holds only XMM0-15 and MXCSR (`arch::user`): the
//! kernel never executes x87/MMX instructions, so the x87 registers stay
//! live in the CPU for the whole system call. They are therefore saved
//! here, with the components above SSE (AVX): XSAVE of everything but SSE,
//! or FXSAVE on a CPU without XSAVE.

use alloc::vec::Vec;

use crate::arch::cpu;

/// An XSAVE area (64-byte aligned inside its buffer), or an FXSAVE image.
pub(super) enum XsaveArea {
    Xsave { buf: Vec<u8>, offset: usize, mask: u64 },
    Fxsave(alloc::boxed::Box<cpu::FxArea>),
}

impl XsaveArea {
    /// A fresh area that restores the initial state.
    pub(super) fn new() -> Option<Self> {
        let Some(xcr0) = cpu::xcr0() else {
            // FCW and MXCSR at their reset values, everything else zero.
            let mut fx = cpu::FxArea([0; 512]);
            fx.0[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
            fx.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
            return Some(Self::Fxsave(alloc::boxed::Box::new(fx)));
        };
        // x87 (bit 0) and AVX and above; SSE registers are in the frames.
        let mask = xcr0 & !0b10;
        let size = cpu::cpuid(0xd, 0).ebx as usize;
        let mut buf = alloc::vec![0u8; size + 64];
        let offset = (64 - (buf.as_ptr() as usize % 64)) % 64;
        // A zeroed XSAVE header (XSTATE_BV = 0) restores components to their
        // initial state, which is what a fresh thread should see.
        buf[offset..offset + size].fill(0);
        Some(Self::Xsave { buf, offset, mask })
    }

    pub(super) fn save(&mut self) {
        match self {
            Self::Xsave { buf, offset, mask } => {
                let p = buf[*offset..].as_mut_ptr();
                // SAFETY: `p` is 64-byte aligned with CPUID.0xD.0:EBX bytes
                // behind it inside `buf` (built in `new`).
                unsafe { cpu::xsave(p, *mask) };
            }
            Self::Fxsave(fx) => **fx = cpu::fxsave(),
        }
    }

    pub(super) fn restore(&self) {
        match self {
            Self::Xsave { buf, offset, mask } => {
                let p = buf[*offset..].as_ptr();
                // SAFETY: as in `save`; the area is zeroed (initial state) or
                // was written by `save` with the same mask.
                unsafe { cpu::xrstor(p, *mask) };
            }
            // SAFETY: the image is the initial one built in `new` or was
            // written by FXSAVE in `save`.
            Self::Fxsave(fx) => unsafe { cpu::fxrstor(fx) },
        }
    }
}

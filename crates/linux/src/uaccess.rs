//! Reading and writing user memory from system calls: byte copies, C
//! strings, pointer arrays, and little-endian struct builders. Every access
//! goes through `kbase::arch::uaccess`, so a bad pointer is EFAULT.
//!
//! Never call these while holding the address-space lock: a copy may page
//! fault, and the fault handler takes that lock.

use alloc::vec::Vec;

use kbase::arch::uaccess;

use crate::errno::{E2BIG, EFAULT, ENAMETOOLONG, Errno, fault};

pub fn read_bytes(addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| crate::errno::ENOMEM)?;
    v.resize(len, 0);
    uaccess::copy_from_user(&mut v, addr).map_err(fault)?;
    Ok(v)
}

pub fn read_into(addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    uaccess::copy_from_user(buf, addr).map_err(fault)
}

pub fn write_bytes(addr: u64, data: &[u8]) -> Result<(), Errno> {
    uaccess::copy_to_user(addr, data).map_err(fault)
}

pub fn read_u64(addr: u64) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    read_into(addr, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

pub fn write_u64(addr: u64, v: u64) -> Result<(), Errno> {
    write_bytes(addr, &v.to_le_bytes())
}

pub fn write_u32(addr: u64, v: u32) -> Result<(), Errno> {
    write_bytes(addr, &v.to_le_bytes())
}

/// Atomically stores `new` at the aligned user word `addr` if it holds
/// `old`; returns the value found there (futexes).
pub fn cmpxchg_u32(addr: u64, old: u32, new: u32) -> Result<u32, Errno> {
    uaccess::cmpxchg_user_u32(addr, old, new).map_err(fault)
}

pub fn read_u32(addr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    read_into(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
pub fn read_cstr(addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    if addr == 0 {
        return Err(EFAULT);
    }
    let mut out = Vec::new();
    let mut chunk = [0u8; 64];
    let mut at = addr;
    loop {
        // Read up to the end of the page so a string ending just before an
        // unmapped page is not an error.
        let to_page_end = (4096 - (at % 4096)) as usize;
        let n = chunk.len().min(to_page_end);
        read_into(at, &mut chunk[..n])?;
        if let Some(pos) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..pos]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        if out.len() > max {
            return Err(ENAMETOOLONG);
        }
        at = at.checked_add(n as u64).ok_or(EFAULT)?;
    }
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
pub fn read_str_array(addr: u64, max_total: usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    for i in 0u64.. {
        let p = read_u64(addr.checked_add(i * 8).ok_or(EFAULT)?)?;
        if p == 0 {
            break;
        }
        let s = read_cstr(p, max_total).map_err(|e| if e == ENAMETOOLONG { E2BIG } else { e })?;
        total += s.len() + 1 + 8;
        if total > max_total {
            return Err(E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}

/// Builds a little-endian ABI struct field by field at fixed offsets.
/// Structs up to `OUT_SMALL` bytes (stat, statfs, sigcontext...) are built
/// on the stack: no heap round trip on those system calls.
pub struct Out {
    small: [u8; OUT_SMALL],
    big: Vec<u8>,
    len: usize,
}

const OUT_SMALL: usize = 256;

impl Out {
    pub fn new(size: usize) -> Self {
        let big = if size > OUT_SMALL { alloc::vec![0u8; size] } else { Vec::new() };
        Self { small: [0; OUT_SMALL], big, len: size }
    }
    fn buf(&mut self) -> &mut [u8] {
        if self.len <= OUT_SMALL { &mut self.small[..self.len] } else { &mut self.big }
    }
    pub fn u64(&mut self, off: usize, v: u64) -> &mut Self {
        self.buf()[off..off + 8].copy_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u32(&mut self, off: usize, v: u32) -> &mut Self {
        self.buf()[off..off + 4].copy_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u16(&mut self, off: usize, v: u16) -> &mut Self {
        self.buf()[off..off + 2].copy_from_slice(&v.to_le_bytes());
        self
    }
    pub fn bytes(&mut self, off: usize, v: &[u8]) -> &mut Self {
        self.buf()[off..off + v.len()].copy_from_slice(v);
        self
    }
    /// The bytes built so far.
    pub fn as_bytes(&self) -> &[u8] {
        if self.len <= OUT_SMALL { &self.small[..self.len] } else { &self.big }
    }
    pub fn write_to(&self, addr: u64) -> Result<(), Errno> {
        write_bytes(addr, self.as_bytes())
    }
}

/// Linux's access_ok: `[addr, addr + len)` lies below the top of user
/// space (TASK_SIZE_MAX). Says nothing about what is mapped there.
pub fn is_user_range(addr: u64, len: usize) -> bool {
    const TASK_SIZE_MAX: u64 = 0x7fff_ffff_f000;
    addr.checked_add(len as u64).is_some_and(|end| end <= TASK_SIZE_MAX)
}

/// Reads a `struct timespec` as nanoseconds: EINVAL for a negative time
/// or `tv_nsec` outside `0..1e9`, as the timed waits say.
pub fn read_timespec_ns(addr: u64) -> Result<u64, Errno> {
    let mut b = [0u8; 16];
    read_into(addr, &mut b)?;
    let (s, ns) = b.split_at(8);
    let sec = i64::from_le_bytes(s.try_into().map_err(|_| EFAULT)?);
    let nsec = i64::from_le_bytes(ns.try_into().map_err(|_| EFAULT)?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(crate::errno::EINVAL);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec as u64))
}

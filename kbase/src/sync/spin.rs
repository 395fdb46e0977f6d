//! `SpinLock<T>`: mutual exclusion between CPUs that also masks interrupts
//! on the holding CPU, so an interrupt handler taking the same lock can never
//! deadlock against the code it interrupted.
//!
//! # Invariants
//! `locked` is true exactly while one `SpinLockGuard` exists; only that
//! guard's holder reaches `value`.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::arch::cpu;

pub struct SpinLock<T: ?Sized> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one holder at a time, so sharing the
// lock between CPUs is sound whenever `T` may be sent between them.
unsafe impl<T: ?Sized + Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the `T` it owns.
unsafe impl<T: ?Sized + Send> Send for SpinLock<T> {}

pub struct SpinLockGuard<'a, T: ?Sized> {
    lock: &'a SpinLock<T>,
    irq_was_enabled: bool,
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        Self { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }
}

impl<T: ?Sized> SpinLock<T> {
    /// Masks interrupts, then spins until the lock is free.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let irq_was_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            while self.locked.load(Ordering::Relaxed) {
                cpu::pause();
            }
        }
        // INVARIANT: we set `locked`, so we are the only guard.
        SpinLockGuard { lock: self, irq_was_enabled }
    }

    /// Takes the lock if it is free right now, leaving interrupts as they
    /// are (no `sti` on release, which costs ~100 ns under TCG). Only for
    /// locks that are never waited for: an interrupt handler (or another
    /// task on this CPU) that finds it taken must do without it, as the
    /// heap's per-CPU magazines fall back to the shared class lists.
    pub(crate) fn try_lock_keep_irq(&self) -> Option<SpinLockGuard<'_, T>> {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            // INVARIANT: we set `locked`, so we are the only guard.
            .map(|_| SpinLockGuard { lock: self, irq_was_enabled: false })
    }

    /// Takes the lock if it is free right now.
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        let irq_was_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        if self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            Some(SpinLockGuard { lock: self, irq_was_enabled })
        } else {
            if irq_was_enabled {
                cpu::enable_interrupts();
            }
            None
        }
    }

    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Relaxed)
    }

    /// Breaks the lock without a guard. Only the panic path uses this, to
    /// print on a console whose lock a dying CPU may hold.
    pub(crate) fn force_unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }
}

impl<T: ?Sized> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists, so by the type invariant we hold the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
        if self.irq_was_enabled {
            cpu::enable_interrupts();
        }
    }
}

/// A value initialised once, then read-only.
pub struct Once<T> {
    state: AtomicU8,
    value: UnsafeCell<Option<T>>,
}

const UNINIT: u8 = 0;
const BUSY: u8 = 1;
const READY: u8 = 2;

// SAFETY: after READY the value is only read; before, one initialiser writes.
unsafe impl<T: Send + Sync> Sync for Once<T> {}

impl<T> Once<T> {
    pub const fn new() -> Self {
        Self { state: AtomicU8::new(UNINIT), value: UnsafeCell::new(None) }
    }

    /// Stores `value` if nothing was stored yet; returns false otherwise.
    pub fn set(&self, value: T) -> bool {
        if self.state.compare_exchange(UNINIT, BUSY, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return false;
        }
        // SAFETY: the BUSY state makes us the only writer, and no reader looks
        // before READY.
        unsafe { *self.value.get() = Some(value) };
        self.state.store(READY, Ordering::Release);
        true
    }

    pub fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) == READY {
            // SAFETY: READY means the value is written and never written again.
            unsafe { (*self.value.get()).as_ref() }
        } else {
            None
        }
    }

    /// Returns the value, initialising it with `f` first if needed.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        if let Some(v) = self.get() {
            return v;
        }
        if self.state.compare_exchange(UNINIT, BUSY, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            // SAFETY: BUSY makes us the only writer.
            unsafe { *self.value.get() = Some(f()) };
            self.state.store(READY, Ordering::Release);
        }
        loop {
            if let Some(v) = self.get() {
                return v;
            }
            cpu::pause();
        }
    }
}

impl<T> Default for Once<T> {
    fn default() -> Self {
        Self::new()
    }
}

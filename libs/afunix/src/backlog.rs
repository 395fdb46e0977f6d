//! The pending connections of a listening socket (listen(2)).
//!
//! Linux counts a listener full when it holds *more* than its backlog
//! (`sk_acceptq_is_full`), so `listen(fd, 0)` still lets one connection
//! wait. The backlog argument is clamped to somaxconn as an unsigned
//! number, so a negative one means somaxconn.

use alloc::collections::VecDeque;

pub struct Backlog<T> {
    pending: VecDeque<T>,
    max: usize,
}

impl<T> Backlog<T> {
    /// A backlog for `listen(fd, backlog)` with net.core.somaxconn `somaxconn`.
    pub fn new(backlog: i32, somaxconn: u32) -> Self {
        Self { pending: VecDeque::new(), max: Self::clamp(backlog, somaxconn) }
    }

    /// listen(2) on a socket that already listens changes only the limit.
    pub fn set_limit(&mut self, backlog: i32, somaxconn: u32) {
        self.max = Self::clamp(backlog, somaxconn);
    }

    fn clamp(backlog: i32, somaxconn: u32) -> usize {
        (backlog as u32).min(somaxconn) as usize
    }

    pub fn is_full(&self) -> bool {
        self.pending.len() > self.max
    }

    /// Queues a connection; gives it back when the backlog is full.
    pub fn push(&mut self, c: T) -> Result<(), T> {
        if self.is_full() {
            return Err(c);
        }
        self.pending.push_back(c);
        Ok(())
    }

    /// The oldest pending connection (accept(2)).
    pub fn pop(&mut self) -> Option<T> {
        self.pending.pop_front()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Every pending connection, for a listener that closes.
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.pending.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_means_more_than_backlog() {
        let mut b = Backlog::new(1, 4096);
        assert!(b.push(1).is_ok());
        assert!(!b.is_full());
        assert!(b.push(2).is_ok());
        assert!(b.is_full());
        assert_eq!(b.push(3), Err(3));
        assert_eq!(b.pop(), Some(1));
        assert!(b.push(3).is_ok());
        assert_eq!(b.drain().collect::<alloc::vec::Vec<_>>(), [2, 3]);
        assert!(b.is_empty());
    }

    #[test]
    fn zero_backlog_lets_one_wait() {
        let mut b = Backlog::new(0, 4096);
        assert!(b.push(1).is_ok());
        assert_eq!(b.push(2), Err(2));
    }

    #[test]
    fn clamp_is_unsigned() {
        let mut b: Backlog<u32> = Backlog::new(-1, 3);
        for i in 0..4 {
            assert!(b.push(i).is_ok());
        }
        assert!(b.push(9).is_err());
        b.set_limit(100_000, 5);
        assert!(b.push(9).is_ok());
        assert!(b.push(10).is_ok());
        assert!(b.push(11).is_err());
    }
}

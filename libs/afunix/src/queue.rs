//! Receive queues: the bytes of a stream socket and the messages of a
//! datagram or seqpacket socket.
//!
//! ```text
//!   StreamQueue   [seg: data, key, anc?] [seg] [seg] ...   (oldest first)
//!     read: copy across segments; a segment's ancillary data comes with
//!     the read that reaches its first byte, and that read ends with the
//!     segment (unix_stream_read_generic: `if (scm.fp) break`); with
//!     `split_on_key` a read also ends where the sender key changes
//!     (Linux never glues messages of different writers when credentials
//!     are passed)
//!   MsgQueue      [msg: data, meta] ...   one message per read; what does
//!     not fit the buffer is dropped (MSG_TRUNC), or kept with a peek
//! ```

use alloc::collections::VecDeque;
use alloc::vec::Vec;

struct Seg<K, A> {
    data: Vec<u8>,
    /// Bytes of `data` already read.
    off: usize,
    key: K,
    anc: Option<A>,
}

/// The byte stream a stream socket receives.
pub struct StreamQueue<K, A> {
    segs: VecDeque<Seg<K, A>>,
    len: usize,
}

/// What one [`StreamQueue::read`] gave.
#[derive(Debug, PartialEq, Eq)]
pub struct StreamRead<K, A> {
    pub n: usize,
    /// The key of the first segment read (None: nothing read).
    pub key: Option<K>,
    pub anc: Option<A>,
}

impl<K: Copy + PartialEq, A: Clone> StreamQueue<K, A> {
    pub const fn new() -> Self {
        Self { segs: VecDeque::new(), len: 0 }
    }

    /// Bytes waiting to be read.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing to read: no bytes and no ancillary data (an empty write
    /// with files is still something to read).
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    /// Appends the bytes of one write. An empty write with ancillary data
    /// still makes a segment (its files must arrive); one without is dropped.
    pub fn push(&mut self, data: Vec<u8>, key: K, anc: Option<A>) {
        if data.is_empty() && anc.is_none() {
            return;
        }
        self.len += data.len();
        self.segs.push_back(Seg { data, off: 0, key, anc });
    }

    /// Copies up to `buf.len()` bytes out; consumes them unless `peek`
    /// (a peek clones the ancillary data instead of taking it).
    pub fn read(&mut self, buf: &mut [u8], peek: bool, split_on_key: bool) -> StreamRead<K, A> {
        let mut r = StreamRead { n: 0, key: None, anc: None };
        let mut i = 0;
        while r.n < buf.len() {
            let Some(seg) = self.segs.get_mut(i) else { break };
            match r.key {
                None => r.key = Some(seg.key),
                Some(k) if split_on_key && k != seg.key => break,
                Some(_) => {}
            }
            let has_anc = seg.anc.is_some();
            if has_anc {
                r.anc = if peek { seg.anc.clone() } else { seg.anc.take() };
            }
            let avail = &seg.data[seg.off..];
            let k = avail.len().min(buf.len() - r.n);
            buf[r.n..r.n + k].copy_from_slice(&avail[..k]);
            r.n += k;
            if peek {
                i += 1;
            } else {
                seg.off += k;
                self.len -= k;
                if seg.off == seg.data.len() {
                    self.segs.pop_front();
                }
            }
            if has_anc {
                break;
            }
        }
        r
    }

    /// Takes everything (a socket that closes), ancillary data included.
    pub fn clear(&mut self) -> Vec<A> {
        self.len = 0;
        self.segs.drain(..).filter_map(|s| s.anc).collect()
    }
}

impl<K: Copy + PartialEq, A: Clone> Default for StreamQueue<K, A> {
    fn default() -> Self {
        Self::new()
    }
}

/// The messages a datagram or seqpacket socket receives; `M` is what the
/// caller keeps with each (sender, credentials, files).
pub struct MsgQueue<M> {
    msgs: VecDeque<(Vec<u8>, M)>,
    bytes: usize,
}

impl<M: Clone> MsgQueue<M> {
    pub const fn new() -> Self {
        Self { msgs: VecDeque::new(), bytes: 0 }
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// Bytes of all waiting messages.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The length of the next message (FIONREAD on a datagram socket).
    pub fn front_len(&self) -> Option<usize> {
        self.msgs.front().map(|m| m.0.len())
    }

    pub fn push(&mut self, data: Vec<u8>, meta: M) {
        self.bytes += data.len();
        self.msgs.push_back((data, meta));
    }

    /// Copies the next message into `buf`: (bytes copied, the message's
    /// full length, its metadata). Without `peek` the message is gone,
    /// including what did not fit.
    pub fn recv(&mut self, buf: &mut [u8], peek: bool) -> Option<(usize, usize, M)> {
        let (data, meta) = self.msgs.front()?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        let full = data.len();
        if peek {
            return Some((n, full, meta.clone()));
        }
        let (_, meta) = self.msgs.pop_front()?;
        self.bytes -= full;
        Some((n, full, meta))
    }

    /// Takes every message (a socket that closes).
    pub fn clear(&mut self) -> Vec<M> {
        self.bytes = 0;
        self.msgs.drain(..).map(|m| m.1).collect()
    }
}

impl<M: Clone> Default for MsgQueue<M> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Q = StreamQueue<u32, &'static str>;

    #[test]
    fn stream_reads_across_writes() {
        let mut q = Q::new();
        q.push(b"abc".to_vec(), 1, None);
        q.push(b"def".to_vec(), 1, None);
        assert_eq!(q.len(), 6);
        let mut b = [0u8; 4];
        let r = q.read(&mut b, false, false);
        assert_eq!((r.n, &b[..], r.key), (4, &b"abcd"[..], Some(1)));
        let r = q.read(&mut b, false, false);
        assert_eq!((r.n, &b[..2]), (2, &b"ef"[..]));
        assert!(q.is_empty());
        assert_eq!(q.read(&mut b, false, false).n, 0);
    }

    #[test]
    fn peek_leaves_everything() {
        let mut q = Q::new();
        q.push(b"ab".to_vec(), 1, Some("fds"));
        q.push(b"cd".to_vec(), 1, None);
        let mut b = [0u8; 8];
        let r = q.read(&mut b, true, false);
        assert_eq!((r.n, r.anc), (2, Some("fds")));
        let r = q.read(&mut b, false, false);
        assert_eq!((r.n, r.anc), (2, Some("fds")));
        let r = q.read(&mut b, false, false);
        assert_eq!((r.n, r.anc), (2, None));
    }

    #[test]
    fn files_end_the_read_at_their_segment() {
        let mut q = Q::new();
        q.push(b"12".to_vec(), 1, None);
        q.push(b"34".to_vec(), 1, Some("fds"));
        q.push(b"56".to_vec(), 1, None);
        let mut b = [0u8; 8];
        let r = q.read(&mut b, false, false);
        assert_eq!((r.n, &b[..4], r.anc), (4, &b"1234"[..], Some("fds")));
        // A partial read of a segment takes its files; the rest comes without.
        q.push(b"78".to_vec(), 1, Some("more"));
        let r = q.read(&mut b[..3], false, false);
        assert_eq!((r.n, &b[..3], r.anc), (3, &b"567"[..], Some("more")));
        let r = q.read(&mut b, false, false);
        assert_eq!((r.n, r.anc), (1, None));
    }

    #[test]
    fn empty_write_with_files_is_kept() {
        let mut q = Q::new();
        q.push(Vec::new(), 1, None);
        assert_eq!(q.segs.len(), 0);
        assert!(q.is_empty());
        q.push(Vec::new(), 1, Some("fds"));
        assert_eq!(q.len(), 0);
        assert!(!q.is_empty());
        let mut b = [0u8; 1];
        let r = q.read(&mut b, false, false);
        assert_eq!((r.n, r.anc), (0, Some("fds")));
        assert_eq!(q.clear(), Vec::<&str>::new());
    }

    #[test]
    fn key_change_splits_only_when_asked() {
        let mut q = Q::new();
        q.push(b"a".to_vec(), 1, None);
        q.push(b"b".to_vec(), 2, None);
        let mut b = [0u8; 8];
        assert_eq!(q.read(&mut b, true, false).n, 2);
        let r = q.read(&mut b, false, true);
        assert_eq!((r.n, r.key), (1, Some(1)));
        let r = q.read(&mut b, false, true);
        assert_eq!((r.n, r.key), (1, Some(2)));
    }

    #[test]
    fn clear_returns_ancillary() {
        let mut q = Q::new();
        q.push(b"a".to_vec(), 1, Some("x"));
        q.push(b"b".to_vec(), 1, Some("y"));
        assert_eq!(q.clear(), ["x", "y"]);
        assert!(q.is_empty());
    }

    #[test]
    fn messages_truncate_and_peek() {
        let mut q: MsgQueue<u8> = MsgQueue::new();
        assert_eq!(q.recv(&mut [0; 4], false), None);
        q.push(b"hello".to_vec(), 7);
        q.push(b"".to_vec(), 8);
        assert_eq!((q.len(), q.bytes(), q.front_len()), (2, 5, Some(5)));
        let mut b = [0u8; 3];
        assert_eq!(q.recv(&mut b, true), Some((3, 5, 7)));
        assert_eq!(q.len(), 2);
        assert_eq!(q.recv(&mut b, false), Some((3, 5, 7)));
        assert_eq!(&b, b"hel");
        // The rest of a truncated message is gone; an empty one is a message.
        assert_eq!(q.recv(&mut b, false), Some((0, 0, 8)));
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
        q.push(b"x".to_vec(), 9);
        assert_eq!(q.clear(), [9]);
    }
}

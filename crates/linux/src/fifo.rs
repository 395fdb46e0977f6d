//! FIFOs (named pipes, fifo(7)): an open of a FIFO inode is a pipe end
//! ([`crate::file::fifo_open`] finds the pipe every opener of that inode
//! shares) that also knows its place in the namespace, so fstat shows
//! the inode and /proc/[pid]/fd its path.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use vfs::Stat;

use crate::errno::{EINVAL, Errno};
use crate::file::{File, OpenFlags, PipeEnd};
use crate::fs::Node;
use crate::pollq::PollQueue;

/// An open FIFO.
pub struct FifoFile {
    pub end: PipeEnd,
    node: Node,
    dir: Option<Node>,
}

/// open(2) of the FIFO at `node` (found in `dir`).
pub fn open(node: Node, dir: Option<Node>, flags: OpenFlags) -> Result<Arc<dyn File>, Errno> {
    let end = crate::file::fifo_open((node.mnt.sb.dev, node.ino.0), flags.0)?;
    Ok(Arc::new(FifoFile { end, node, dir }))
}

impl Drop for FifoFile {
    fn drop(&mut self) {
        crate::locks::file_freed((self.node.mnt.sb.dev, self.node.ino.0), self as *const Self as usize);
    }
}

impl File for FifoFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.end.read(buf)
    }
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.end.write(data)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.node.stat()
    }
    fn node(&self) -> Option<&Node> {
        Some(&self.node)
    }
    fn proc_name(&self) -> Vec<u8> {
        let path = match &self.dir {
            Some(dir) => crate::fs::path_in(dir, &self.node),
            None => crate::fs::path_of(&self.node),
        };
        path.unwrap_or_else(|_| b"(deleted)".to_vec())
    }
    fn poll(&self) -> u16 {
        self.end.poll()
    }
    fn flags(&self) -> OpenFlags {
        self.end.flags()
    }
    fn set_status_flags(&self, flags: u32) {
        self.end.set_status_flags(flags)
    }
    fn readable_bytes(&self) -> Option<usize> {
        self.end.readable_bytes()
    }
    fn poll_queue(&self) -> Option<Arc<PollQueue>> {
        self.end.poll_queue()
    }
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        Err(EINVAL)
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

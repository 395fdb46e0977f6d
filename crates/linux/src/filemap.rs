//! File pages as mappings see them: [`Frames`], the page allocator tmpfs
//! keeps file contents in (physical frames, so the page a file holds is
//! the page a process maps), and [`MappedFile`], one inode as the VMAs
//! that map it hold it.
//!
//! ```text
//!  VMA ── Backing::Paged { file: Arc<MappedFile>, offset, len }
//!                               │ (one per inode, from REGISTRY)
//!                               ▼
//!          MappedFile { fs, ino } ──map_page──▶ tmpfs Pages ── Arc<FrameBlock>
//!                                                              ▲
//!          page tables (map_shared / map_shared_writable) ─────┘
//! ```
//!
//! A MappedFile holds an open reference on its inode, so the file's pages
//! outlive its last name and last descriptor while something maps it (as
//! a Linux mapping holds its file). There is one MappedFile per inode
//! while any mapping exists: shared futexes on file mappings key by it
//! and compare equal across processes.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use kbase::mm::frame::FrameBlock;
use kbase::task::Mutex;
use vfs::Ino;

use crate::errno::Errno;
use crate::fs::{FileSystem, Node};

/// tmpfs's page allocator: frames for user memory (they count against the
/// kernel's reserve as other user pages do).
#[derive(Debug)]
pub struct Frames;

impl vfs::PageAlloc for Frames {
    type Page = FrameBlock;
    fn alloc(init: &[u8]) -> Option<Arc<FrameBlock>> {
        FrameBlock::alloc_copy_user(init).ok().map(Arc::new)
    }
    fn read(page: &FrameBlock, offset: usize, dst: &mut [u8]) {
        page.read_at(offset, dst);
    }
    fn write(page: &FrameBlock, offset: usize, src: &[u8]) {
        page.write_at(offset, src);
    }
    fn zero(page: &FrameBlock, offset: usize, len: usize) {
        page.zero_at(offset, len);
    }
}

/// The file an inode-backed mapping shows.
pub struct MappedFile {
    fs: Arc<dyn FileSystem>,
    ino: Ino,
    key: Key,
    /// Cloned by every MAP_SHARED VMA that may write the file (Linux's
    /// VM_SHARED | VM_MAYWRITE, counted in i_mmap_writable): F_SEAL_WRITE
    /// fails with EBUSY while any exists.
    writers: Arc<WriteMark>,
}

/// Held by a shared mapping that may write its file (see
/// [`MappedFile::writer`]); VMA splits and fork clone it, unmapping drops it.
pub struct WriteMark;

/// (filesystem instance, inode number).
type Key = (usize, u64);

/// The live MappedFile of each mapped inode.
static REGISTRY: Mutex<BTreeMap<Key, Weak<MappedFile>>> = Mutex::new(BTreeMap::new());

impl MappedFile {
    /// The MappedFile of `node`'s inode, made (taking an open reference)
    /// if nothing maps it yet.
    pub fn of(node: &Node) -> Result<Arc<Self>, Errno> {
        let fs = node.mnt.sb.fs.clone();
        let key = (Arc::as_ptr(&fs) as *const u8 as usize, node.ino.0);
        let mut reg = REGISTRY.lock();
        if let Some(file) = reg.get(&key).and_then(Weak::upgrade) {
            return Ok(file);
        }
        fs.open_ref(node.ino)?;
        let file = Arc::new(Self { fs, ino: node.ino, key, writers: Arc::new(WriteMark) });
        reg.insert(key, Arc::downgrade(&file));
        Ok(file)
    }

    /// Page `index` of the file: `may_add` fills a hole with a new page
    /// (a fault); without it a hole is `None` (fault-around skips it).
    /// `ENXIO` past the end of the file.
    pub fn page(&self, index: u64, may_add: bool) -> Result<Option<Arc<FrameBlock>>, Errno> {
        self.fs.map_page(self.ino, index, may_add)
    }

    /// A mark for a new shared mapping that may write the file.
    pub fn writer(&self) -> Arc<WriteMark> {
        self.writers.clone()
    }
}

/// After a file of filesystem `fs` (the instance's address) shrank to
/// `len` bytes: unmaps, in every address space, the pages that mapped it
/// from the first page wholly past the end on, so that touching them
/// faults again and gets SIGBUS, as Linux's truncate_pagecache (private
/// copies of those pages go too). Nothing to do if nothing maps it.
pub fn truncated(fs: usize, ino: Ino, len: u64) {
    let Some(file) = REGISTRY.lock().get(&(fs, ino.0)).and_then(Weak::upgrade) else { return };
    let first_gone = len.div_ceil(crate::mm::PAGE);
    let mut seen: Vec<Arc<crate::process::VmCell>> = Vec::new();
    for p in crate::process::all() {
        let Some(vm) = p.vm() else { continue };
        // Processes made with CLONE_VM share one address space.
        if seen.iter().any(|v| Arc::ptr_eq(v, &vm)) {
            continue;
        }
        vm.lock().unmap_file_pages(&file, first_gone);
        seen.push(vm);
    }
}

/// Whether a MAP_SHARED mapping that may write `node`'s file exists
/// (memfd's F_SEAL_WRITE check).
pub fn is_mapped_writable(node: &Node) -> bool {
    let key = (Arc::as_ptr(&node.mnt.sb.fs) as *const u8 as usize, node.ino.0);
    let file = REGISTRY.lock().get(&key).and_then(Weak::upgrade);
    // The registry's lock is released: dropping the last reference here
    // takes it again.
    file.is_some_and(|f| Arc::strong_count(&f.writers) > 1)
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        {
            let mut reg = REGISTRY.lock();
            if reg.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
                reg.remove(&self.key);
            }
        }
        self.fs.close_ref(self.ino);
    }
}

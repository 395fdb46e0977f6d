//! The page cache for images in kernel memory (today the vDSO,
//! `mm::Backing::File`): one physical frame per (image, page), shared by
//! every process that maps it. Files of tmpfs and memfd do not come
//! here: their pages already are frames, mapped directly (`filemap`).
//!
//! Sharing frames matters beyond memory: under QEMU's TCG, translated code
//! is tied to physical pages, so executing the same text from the same
//! frames in every process avoids retranslating it at each execve.
//!
//! Keys are the identity of the `Arc<Vec<u8>>` image (it never changes);
//! each entry keeps its image alive, so an address can't be reused by
//! other data. An entry lives while its image or one of its frames is used
//! outside the cache; `trim` drops the others whenever a new entry is made.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use kbase::mm::frame::FrameBlock;
use kbase::task::Mutex;

use crate::mm::PAGE;

struct Entry {
    _data: Arc<Vec<u8>>,
    pages: BTreeMap<u64, Arc<FrameBlock>>,
}

static CACHE: Mutex<BTreeMap<usize, Entry>> = Mutex::new(BTreeMap::new());

/// The shared frame holding page `index` of `data` (zero-filled past its
/// end), creating it on first use.
pub fn page(data: &Arc<Vec<u8>>, index: u64) -> Option<Arc<FrameBlock>> {
    let key = Arc::as_ptr(data) as usize;
    let mut cache = CACHE.lock();
    if !cache.contains_key(&key) {
        trim(&mut cache);
    }
    let entry = cache.entry(key).or_insert_with(|| Entry { _data: data.clone(), pages: BTreeMap::new() });
    if let Some(f) = entry.pages.get(&index) {
        return Some(f.clone());
    }
    let from = usize::try_from(index.checked_mul(PAGE)?).ok()?;
    let src = data.get(from..).map_or(&[][..], |s| &s[..s.len().min(PAGE as usize)]);
    let frame = Arc::new(FrameBlock::alloc_copy_user(src).ok()?);
    entry.pages.insert(index, frame.clone());
    Some(frame)
}

/// Drops the entries nobody else uses: snapshots that only the cache still
/// holds (the file was rewritten or removed, and no mapping or open file
/// refers to the old bytes) whose frames no address space maps. Without
/// this, every rewrite-then-map of a file would keep a full copy forever.
fn trim(cache: &mut BTreeMap<usize, Entry>) {
    cache.retain(|_, e| Arc::strong_count(&e._data) > 1 || e.pages.values().any(|f| Arc::strong_count(f) > 1));
}

/// drop_caches: drops every entry nothing else uses now.
pub fn drop_unused() {
    trim(&mut CACHE.lock());
}

/// (entries, pages) cached now, for the census.
pub fn stats() -> (usize, usize) {
    let cache = CACHE.lock();
    (cache.len(), cache.values().map(|e| e.pages.len()).sum())
}

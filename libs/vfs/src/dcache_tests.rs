//! Host tests of the dentry cache: its own bookkeeping, and a model of the
//! kernel's use of it (walks through the cache, changes that invalidate)
//! checked against RamFs's uncached walk after every random change.

use core::cell::RefCell;
use std::format;
use std::vec::Vec;

use proptest::prelude::*;

use crate::*;

/// A RamFs seen through a cache, as the kernel's walker sees tmpfs: a hit
/// answers, a miss asks the filesystem and fills the cache.
struct Cached<'a> {
    fs: &'a RamFs,
    cache: &'a RefCell<Dcache>,
}

impl Lookup for Cached<'_> {
    fn child(&self, at: Loc, name: &[u8]) -> Result<(Ino, Kind)> {
        let seen = {
            let mut c = self.cache.borrow_mut();
            match c.get(at.ino, name) {
                Some(Dentry::Positive(ino, kind)) => return Ok((ino, kind)),
                Some(Dentry::Negative) => return Err(Errno::ENOENT),
                None => c.generation(),
            }
        };
        let r = self.fs.child(at.ino, name);
        let entry = match r {
            Ok((ino, kind)) => Some(Dentry::Positive(ino, kind)),
            Err(Errno::ENOENT) => Some(Dentry::Negative),
            Err(_) => None,
        };
        if let Some(e) = entry {
            self.cache.borrow_mut().insert(at.ino, name, e, seen);
        }
        r
    }
    fn parent(&self, at: Loc) -> Result<Ino> {
        self.fs.parent_of(at.ino)
    }
    fn kind(&self, at: Loc) -> Result<Kind> {
        self.fs.stat(at.ino)?.kind().ok_or(Errno::EIO)
    }
    fn readlink(&self, at: Loc) -> Result<Vec<u8>> {
        Ok(self.fs.readlink(at.ino)?.to_vec())
    }
    fn name_of(&self, dir: Loc, child: Ino) -> Result<Vec<u8>> {
        self.fs.name_of(dir.ino, child)
    }
}

fn ino(n: u64) -> Ino {
    Ino(n)
}

#[test]
fn hits_misses_and_negative_entries() {
    let mut c = Dcache::new(8);
    assert_eq!(c.get(ino(1), b"a"), None);
    let g = c.generation();
    assert!(c.insert(ino(1), b"a", Dentry::Positive(ino(5), Kind::File), g));
    assert!(c.insert(ino(1), b"gone", Dentry::Negative, g));
    assert_eq!(c.get(ino(1), b"a"), Some(Dentry::Positive(ino(5), Kind::File)));
    assert_eq!(c.get(ino(1), b"gone"), Some(Dentry::Negative));
    // Names are per directory.
    assert_eq!(c.get(ino(2), b"a"), None);
    let s = c.stats();
    assert_eq!((s.entries, s.negative, s.hits, s.misses), (2, 1, 2, 2));
    // Invalidation forgets one name; a trailing slash names the same one.
    c.invalidate(ino(1), b"a//");
    assert_eq!(c.get(ino(1), b"a"), None);
    assert_eq!(c.get(ino(1), b"gone"), Some(Dentry::Negative));
    c.forget_dir(ino(1));
    assert!(c.is_empty());
    // Bad names are never cached.
    let g = c.generation();
    assert!(!c.insert(ino(1), b"", Dentry::Negative, g));
    assert!(!c.insert(ino(1), &[b'x'; NAME_MAX + 1], Dentry::Negative, g));
}

#[test]
fn an_invalidation_during_a_miss_drops_the_insert() {
    let mut c = Dcache::new(8);
    let g = c.generation();
    // The filesystem said ENOENT, then a create of that name finished.
    c.invalidate(ino(1), b"new");
    assert!(!c.insert(ino(1), b"new", Dentry::Negative, g));
    assert_eq!(c.get(ino(1), b"new"), None);
    // A change anywhere else in the filesystem counts too (coarse, safe).
    let g = c.generation();
    c.invalidate(ino(9), b"other");
    assert!(!c.insert(ino(1), b"new", Dentry::Negative, g));
}

#[test]
fn size_is_bounded_and_referenced_entries_get_a_second_chance() {
    let mut c = Dcache::new(4);
    for i in 0..4u8 {
        let g = c.generation();
        assert!(c.insert(ino(1), &[b'a' + i], Dentry::Negative, g));
    }
    // "a" is used, so the next insert evicts "b" (the oldest unused).
    assert!(c.get(ino(1), b"a").is_some());
    let g = c.generation();
    assert!(c.insert(ino(1), b"e", Dentry::Negative, g));
    assert_eq!(c.len(), 4);
    assert!(c.get(ino(1), b"a").is_some());
    assert_eq!(c.get(ino(1), b"b"), None);
    assert_eq!(c.stats().evictions, 1);
    // A flood of missing names (a hostile walk) never grows it.
    for i in 0..10_000u32 {
        let g = c.generation();
        c.insert(ino(u64::from(i % 7)), format!("n{i}").as_bytes(), Dentry::Negative, g);
        if i % 3 == 0 {
            c.invalidate(ino(u64::from(i % 7)), format!("n{}", i.saturating_sub(1)).as_bytes());
        }
        assert!(c.len() <= 4);
    }
    let s = c.stats();
    assert_eq!((s.entries, s.negative), (4, 4));
    c.clear();
    assert!(c.is_empty());
    assert_eq!(c.stats().negative, 0);
}

/// The directory the kernel would change, resolved through the cache.
fn parent<'p>(t: &MountTable<()>, w: &Cached<'_>, path: &'p [u8]) -> Result<(Ino, &'p [u8])> {
    t.resolve_parent(w, t.root(), path).map(|(l, n)| (l.ino, n))
}

#[derive(Debug, Clone)]
enum Op {
    Create(usize),
    Mkdir(usize),
    Symlink(usize, usize),
    Link(usize, usize),
    Unlink(usize),
    Rmdir(usize),
    Rename(usize, usize),
    Exchange(usize, usize),
}

const PATHS: &[&str] = &[
    "a", "b", "c", "a/a", "a/b", "b/a", "b/c", "a/a/b", "a/b/c", "b/a/a", "c/", "a/b/", "l", "a/l", "l/a", "a/..",
    "b/.", "/", "l/b/c", "a/a/a/a",
];

fn op() -> impl Strategy<Value = Op> {
    let p = || 0..PATHS.len();
    prop_oneof![
        p().prop_map(Op::Create),
        p().prop_map(Op::Mkdir),
        (p(), p()).prop_map(|(a, b)| Op::Symlink(a, b)),
        (p(), p()).prop_map(|(a, b)| Op::Link(a, b)),
        p().prop_map(Op::Unlink),
        p().prop_map(Op::Rmdir),
        (p(), p()).prop_map(|(a, b)| Op::Rename(a, b)),
        (p(), p()).prop_map(|(a, b)| Op::Exchange(a, b)),
    ]
}

/// Applies `op` the way crates/linux/src/fs/access.rs does: resolve
/// through the cache, change the filesystem, then invalidate the names
/// touched (and forget a directory that went).
fn apply(t: &MountTable<()>, fs: &mut RamFs, cache: &RefCell<Dcache>, op: &Op) -> Result<()> {
    let path = |i: usize| PATHS[i].as_bytes();
    let w = || Cached { fs: &*fs, cache };
    let victim = |fs: &RamFs, dir: Ino, name: &[u8]| -> Option<Ino> {
        let end = name.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
        fs.child(dir, &name[..end]).ok().filter(|(_, k)| *k == Kind::Dir).map(|(i, _)| i)
    };
    match *op {
        Op::Create(p) | Op::Mkdir(p) => {
            let (d, n) = parent(t, &w(), path(p))?;
            let kind = if matches!(op, Op::Mkdir(_)) { Kind::Dir } else { Kind::File };
            let r = fs.create(d, n, kind, 0o755, 0, 0, 0).map(drop);
            cache.borrow_mut().invalidate(d, n);
            r
        }
        Op::Symlink(tgt, p) => {
            let (d, n) = parent(t, &w(), path(p))?;
            let r = fs.symlink(d, n, path(tgt), 0, 0).map(drop);
            cache.borrow_mut().invalidate(d, n);
            r
        }
        Op::Link(a, b) => {
            let src = t.resolve(&w(), t.root(), path(a), false)?.ino;
            let (d, n) = parent(t, &w(), path(b))?;
            let r = fs.link(src, d, n);
            cache.borrow_mut().invalidate(d, n);
            r
        }
        Op::Unlink(p) => {
            let (d, n) = parent(t, &w(), path(p))?;
            let r = fs.unlink(d, n);
            cache.borrow_mut().invalidate(d, n);
            r
        }
        Op::Rmdir(p) => {
            let (d, n) = parent(t, &w(), path(p))?;
            let gone = victim(fs, d, n);
            let r = fs.rmdir(d, n);
            let mut c = cache.borrow_mut();
            c.invalidate(d, n);
            if let (Ok(()), Some(v)) = (&r, gone) {
                c.forget_dir(v);
            }
            r
        }
        Op::Rename(a, b) | Op::Exchange(a, b) => {
            let (od, on) = parent(t, &w(), path(a))?;
            let (nd, nn) = parent(t, &w(), path(b))?;
            let r = if matches!(op, Op::Rename(..)) {
                let gone = victim(fs, nd, nn);
                let r = fs.rename(od, on, nd, nn);
                if let (Ok(()), Some(v)) = (&r, gone) {
                    // Only a replaced directory is gone (not a rename onto itself).
                    if fs.stat(v).is_err() {
                        cache.borrow_mut().forget_dir(v);
                    }
                }
                r
            } else {
                fs.exchange(od, on, nd, nn)
            };
            let mut c = cache.borrow_mut();
            c.invalidate(od, on);
            c.invalidate(nd, nn);
            r
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// After any sequence of changes made through the cache, a cached walk
    /// of every path gives what RamFs's uncached walk gives, errors
    /// included; a tiny capacity makes eviction happen all the time.
    #[test]
    fn cached_walks_match_uncached_walks(ops in prop::collection::vec(op(), 1..50), cap in 1usize..12) {
        let mut fs = RamFs::new();
        let root = fs.root();
        let t = MountTable::new((), root);
        let cache = RefCell::new(Dcache::new(cap));
        for op in &ops {
            let _ = apply(&t, &mut fs, &cache, op);
            for p in PATHS.iter().chain(&["a/a/b/..", "l/../a", "nope/a", "a/b/c/d"]) {
                for follow in [true, false] {
                    let w = Cached { fs: &fs, cache: &cache };
                    let got = t.resolve(&w, t.root(), p.as_bytes(), follow).map(|l| l.ino);
                    prop_assert_eq!(got, fs.lookup(root, p.as_bytes(), follow), "path {} after {:?}", p, op);
                }
            }
            let s = cache.borrow().stats();
            prop_assert!(s.entries <= cap && s.negative <= s.entries);
        }
    }
}

/// Two filesystems, each with its own cache, as the kernel has per super
/// block: a mount over a cached name, `..` across the mount, a symlink
/// loop, and umount uncovering the cached name again.
#[test]
fn mounts_over_cached_names() {
    struct Two<'a> {
        fs: [&'a RamFs; 2],
        cache: [&'a RefCell<Dcache>; 2],
        t: &'a MountTable<usize>,
    }
    impl Two<'_> {
        fn one(&self, at: Loc) -> Cached<'_> {
            let i = self.t.get(at.mnt).map_or(0, |m| m.fs);
            Cached { fs: self.fs[i], cache: self.cache[i] }
        }
    }
    impl Lookup for Two<'_> {
        fn child(&self, at: Loc, name: &[u8]) -> Result<(Ino, Kind)> {
            self.one(at).child(at, name)
        }
        fn parent(&self, at: Loc) -> Result<Ino> {
            self.one(at).parent(at)
        }
        fn kind(&self, at: Loc) -> Result<Kind> {
            self.one(at).kind(at)
        }
        fn readlink(&self, at: Loc) -> Result<Vec<u8>> {
            self.one(at).readlink(at)
        }
        fn name_of(&self, dir: Loc, child: Ino) -> Result<Vec<u8>> {
            self.one(dir).name_of(dir, child)
        }
    }
    let mut root = RamFs::new();
    let r = root.root();
    let mnt = root.create(r, b"mnt", Kind::Dir, 0o755, 0, 0, 0).unwrap();
    let under = root.create(mnt, b"under", Kind::File, 0o644, 0, 0, 0).unwrap();
    root.symlink(r, b"loop", b"loop/x", 0, 0).unwrap();
    root.symlink(r, b"up", b"mnt/..", 0, 0).unwrap();
    let mut sub = RamFs::new();
    let sr = sub.root();
    let d = sub.create(sr, b"d", Kind::Dir, 0o755, 0, 0, 0).unwrap();
    let caches = [RefCell::new(Dcache::new(64)), RefCell::new(Dcache::new(64))];

    let mut t = MountTable::new(0usize, r);
    let res = |t: &MountTable<usize>, p: &str| {
        let w = Two { fs: [&root, &sub], cache: [&caches[0], &caches[1]], t };
        t.resolve(&w, t.root(), p.as_bytes(), true)
    };
    // Cache /mnt, /mnt/under and a negative /mnt/d.
    assert_eq!(res(&t, "/mnt/under").unwrap().ino, under);
    assert_eq!(res(&t, "/mnt/d"), Err(Errno::ENOENT));
    assert_eq!(caches[0].borrow_mut().get(mnt, b"d"), Some(Dentry::Negative));
    let at = res(&t, "/mnt").unwrap();
    let id = t.add(at, 1, sr).unwrap();
    // The cached names under /mnt are covered, not consulted.
    assert_eq!(res(&t, "/mnt/under"), Err(Errno::ENOENT));
    assert_eq!(res(&t, "/mnt/d").unwrap(), Loc { mnt: id, ino: d });
    // `..` across the mount, and through a symlink.
    assert_eq!(res(&t, "/mnt/d/../..").unwrap(), t.root());
    assert_eq!(res(&t, "/up/mnt/d").unwrap(), Loc { mnt: id, ino: d });
    // A symlink loop is ELOOP however much of it is cached.
    assert_eq!(res(&t, "/loop"), Err(Errno::ELOOP));
    assert_eq!(res(&t, "/loop"), Err(Errno::ELOOP));
    // umount: the covered names come back, straight from the cache.
    t.remove(id).unwrap();
    let hits = caches[0].borrow().stats().hits;
    assert_eq!(res(&t, "/mnt/under").unwrap().ino, under);
    assert!(caches[0].borrow().stats().hits > hits);
    assert_eq!(res(&t, "/mnt/d"), Err(Errno::ENOENT));
}

#[test]
fn unlink_of_an_open_file_and_rename_across_directories() {
    let mut fs = RamFs::new();
    let r = fs.root();
    let t = MountTable::new((), r);
    let cache = RefCell::new(Dcache::new(64));
    let a = fs.create(r, b"a", Kind::Dir, 0o755, 0, 0, 0).unwrap();
    let b = fs.create(r, b"b", Kind::Dir, 0o755, 0, 0, 0).unwrap();
    let f = fs.create(a, b"f", Kind::File, 0o644, 0, 0, 0).unwrap();
    let res = |fs: &RamFs, p: &str| t.resolve(&Cached { fs, cache: &cache }, t.root(), p.as_bytes(), true).map(|l| l.ino);
    assert_eq!(res(&fs, "/a/f"), Ok(f));
    assert_eq!(res(&fs, "/b/f"), Err(Errno::ENOENT));
    // Rename across directories: both names change.
    fs.rename(a, b"f", b, b"f").unwrap();
    cache.borrow_mut().invalidate(a, b"f");
    cache.borrow_mut().invalidate(b, b"f");
    assert_eq!(res(&fs, "/a/f"), Err(Errno::ENOENT));
    assert_eq!(res(&fs, "/b/f"), Ok(f));
    // Unlink of an open file: the name goes, the inode stays for its user.
    fs.open_ref(f).unwrap();
    fs.unlink(b, b"f").unwrap();
    cache.borrow_mut().invalidate(b, b"f");
    assert_eq!(res(&fs, "/b/f"), Err(Errno::ENOENT));
    assert!(fs.stat(f).is_ok());
    // A new file under the old name is a different inode.
    let g = fs.create(b, b"f", Kind::File, 0o644, 0, 0, 0).unwrap();
    cache.borrow_mut().invalidate(b, b"f");
    assert_eq!(res(&fs, "/b/f"), Ok(g));
    assert_ne!(f, g);
}

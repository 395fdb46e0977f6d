//! The VFS: filesystems behind one trait, the mount tree, path walks
//! across it, and the open-file object for anything a filesystem holds.
//!
//! ```text
//!   Process.cwd ─┐      open file (VfsFile) ─┐
//!                ▼                           ▼
//!   Node { mnt: Arc<Mount>, ino } ── pins the mount (umount sees EBUSY)
//!                │
//!   Mount { id, sb: Arc<Super>, flags (MS_RDONLY...), source }
//!                │
//!   Super { fs: Arc<dyn FileSystem>, dev (st_dev), fstype, dcache }
//!                │          Super::lookup: dentry cache hit, or fs.lookup
//!   tmpfs (RamFs behind a mutex) | sysfs | devtmpfs | procfs, devpts (generated)
//! ```
//!
//! The mount tree itself is `vfs::MountTable` (pure, host-tested): the
//! kernel keeps one copy-on-write snapshot of it; a walk clones the
//! snapshot's `Arc` and then calls the filesystems one component at a
//! time, holding no lock of its own. mount and umount build a new table
//! under [`WRITER`] and swap it in. Names are looked up through the super
//! block's dentry cache (`vfs::Dcache`, see [`Super::lookup`]); the name
//! changes of `access.rs` invalidate it.

/// devpts: the pseudo-terminal slaves, generated from the pty table.
pub mod devpts;
/// procfs: process and system information generated on read.
pub mod procfs;
/// Permission checks over any filesystem (`libs/vfs` perm rules).
pub mod access;
/// tmpfs and the filesystems built on it: rootfs, devtmpfs, sysfs.
pub mod tmpfs;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use kbase::sync::SpinLock;
use kbase::task::Mutex;
use cred::Cred;
use vfs::{DirEntry, Ino, Kind, Loc, Lookup, MountId, MountTable, Stat, Timespec};

use crate::errno::{EACCES, EBUSY, EINVAL, EISDIR, ENODEV, ENOENT, ENOTDIR, EPERM, EROFS, Errno};
use crate::file::{File, OpenFlags};

/// What `statfs(2)` reports about a filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatFs {
    /// `f_type`: `TMPFS_MAGIC`, `PROC_SUPER_MAGIC`, ...
    pub magic: u64,
    pub block_size: u64,
    pub blocks: u64,
    pub blocks_free: u64,
    pub files: u64,
    pub files_free: u64,
}

/// A filesystem: operations on its inodes, named by [`Ino`].
///
/// Every method takes `&self`: an implementation does its own locking
/// (tmpfs: one mutex per filesystem; procfs: none, it generates). Names
/// are single components, never `.` or `..` (the VFS walks those).
/// Access to user memory never happens under these calls. Mutating
/// defaults say "not supported" the way Linux does for a filesystem that
/// lacks the operation. A block filesystem (ext2) implements the same
/// trait over a buffer cache; `read`/`write` then go through the page
/// cache, and [`map_page`](Self::map_page) hands out page-cache frames.
pub trait FileSystem: Send + Sync {
    /// The root directory.
    fn root(&self) -> Ino;
    /// `stat(2)` of `ino` (`dev` is filled in by the VFS).
    fn stat(&self, ino: Ino) -> Result<Stat, Errno>;
    /// Entry `name` of directory `dir`, with its type.
    fn lookup(&self, dir: Ino, name: &[u8]) -> Result<(Ino, Kind), Errno>;
    /// `..` of directory `dir` inside this filesystem.
    fn parent(&self, dir: Ino) -> Result<Ino, Errno>;
    /// One directory entry at or after `cookie`, with the next cookie
    /// (`.` and `..` at cookies 0 and 1).
    fn read_dir(&self, dir: Ino, cookie: u64) -> Result<Option<(u64, DirEntry)>, Errno>;
    /// The name of `child` in `dir` (for getcwd and /proc paths).
    fn name_of(&self, dir: Ino, child: Ino) -> Result<Vec<u8>, Errno> {
        let mut cookie = 2;
        while let Some((next, e)) = self.read_dir(dir, cookie)? {
            if e.ino == child {
                return Ok(e.name);
            }
            cookie = next;
        }
        Err(ENOENT)
    }
    fn readlink(&self, ino: Ino) -> Result<Vec<u8>, Errno>;
    fn read(&self, ino: Ino, off: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    fn write(&self, _ino: Ino, _off: u64, _data: &[u8]) -> Result<usize, Errno> {
        Err(EACCES)
    }
    fn truncate(&self, _ino: Ino, _len: u64) -> Result<(), Errno> {
        Err(EACCES)
    }
    /// Creates `name` in `dir` (files, directories, device nodes...).
    #[allow(clippy::too_many_arguments, reason = "mirrors mknod(2): type, mode, owner and device")]
    fn create(&self, _dir: Ino, _name: &[u8], kind: Kind, _perm: u32, _uid: u32, _gid: u32, _rdev: u64) -> Result<Ino, Errno> {
        Err(if kind == Kind::File { EACCES } else { EPERM })
    }
    fn symlink(&self, _dir: Ino, _name: &[u8], _target: &[u8], _uid: u32, _gid: u32) -> Result<Ino, Errno> {
        Err(EPERM)
    }
    fn link(&self, _ino: Ino, _dir: Ino, _name: &[u8]) -> Result<(), Errno> {
        Err(EPERM)
    }
    fn unlink(&self, _dir: Ino, _name: &[u8]) -> Result<(), Errno> {
        Err(EPERM)
    }
    fn rmdir(&self, _dir: Ino, _name: &[u8]) -> Result<(), Errno> {
        Err(EPERM)
    }
    fn rename(&self, _od: Ino, _on: &[u8], _nd: Ino, _nn: &[u8]) -> Result<(), Errno> {
        Err(EPERM)
    }
    /// renameat2(RENAME_EXCHANGE); EINVAL where unsupported, as Linux.
    fn exchange(&self, _od: Ino, _on: &[u8], _nd: Ino, _nn: &[u8]) -> Result<(), Errno> {
        Err(EINVAL)
    }
    fn chmod(&self, _ino: Ino, _mode: u32) -> Result<(), Errno> {
        Err(EPERM)
    }
    fn chown(&self, _ino: Ino, _uid: Option<u32>, _gid: Option<u32>) -> Result<(), Errno> {
        Err(EPERM)
    }
    fn set_times(&self, _ino: Ino, _a: Option<Timespec>, _m: Option<Timespec>) -> Result<(), Errno> {
        Err(EPERM)
    }
    /// An open file now refers to `ino` (keeps it alive after unlink).
    fn open_ref(&self, _ino: Ino) -> Result<(), Errno> {
        Ok(())
    }
    fn close_ref(&self, _ino: Ino) {}
    /// A regular file with no name, held by one open reference
    /// (memfd_create(2)); `EOPNOTSUPP` where there are none.
    fn create_unlinked(&self, _mode: u32, _uid: u32, _gid: u32) -> Result<Ino, Errno> {
        Err(crate::errno::EOPNOTSUPP)
    }
    /// `open(O_TMPFILE)`: like [`create_unlinked`](Self::create_unlinked),
    /// but if `linkable` `link` may name it later.
    fn create_tmpfile(&self, _mode: u32, _uid: u32, _gid: u32, _linkable: bool) -> Result<Ino, Errno> {
        Err(crate::errno::EOPNOTSUPP)
    }
    /// Whether writing to `ino` may have to clear set-user-ID or
    /// set-group-ID (a cheap test for every write).
    fn has_privs(&self, ino: Ino) -> bool {
        self.stat(ino).is_ok_and(|st| vfs::perm::privs_to_remove(&vfs::Attr::from(&st)) != 0)
    }
    /// fallocate(2) modes 0 and `FALLOC_FL_KEEP_SIZE`: memory for every
    /// page of the range, the length grown to its end unless `keep_size`
    /// (`ENOSPC`, changing nothing, when it does not fit);
    /// `EOPNOTSUPP` where there is nothing to allocate.
    fn allocate(&self, _ino: Ino, _off: u64, _len: u64, _keep_size: bool) -> Result<(), Errno> {
        Err(crate::errno::EOPNOTSUPP)
    }
    /// Page `index` of file `ino` for a mapping (mmap, execve): the
    /// frame the file itself keeps, so stores through a MAP_SHARED
    /// mapping are the file's bytes. With `may_add` a hole gets a new
    /// zeroed page; without it a hole is `None`. `ENXIO` past the end of
    /// the file (SIGBUS), `ENOSPC`/`ENOMEM` when no page can be had;
    /// `ENODEV` for filesystems whose files cannot be mapped.
    fn map_page(&self, _ino: Ino, _index: u64, _may_add: bool) -> Result<Option<Arc<kbase::mm::frame::FrameBlock>>, Errno> {
        Err(ENODEV)
    }
    /// A filesystem-specific open file (procfs generates contents at
    /// open); `None` for the generic [`VfsFile`].
    fn open(&self, _node: &Node, _flags: OpenFlags) -> Option<Result<Arc<dyn File>, Errno>> {
        None
    }
    fn statfs(&self) -> StatFs;
    /// Applies mount options (mount and `MS_REMOUNT`): `EINVAL` for
    /// ones it does not know.
    fn set_options(&self, options: &[u8]) -> Result<(), Errno> {
        if options.is_empty() { Ok(()) } else { Err(EINVAL) }
    }
    /// Options shown in /proc/mounts after `rw`/`ro` (`,size=1024k`...).
    fn show_options(&self) -> String {
        String::new()
    }
    /// Whether the VFS may cache this filesystem's names (its super
    /// block gets a dentry cache). Only for filesystems whose names change
    /// through the VFS's own calls (`fs/access.rs`), never behind its
    /// back: not procfs or devpts, which generate theirs.
    fn caches_names(&self) -> bool {
        false
    }
    /// Inodes held in memory, for a filesystem that keeps them there
    /// (tmpfs); the kernel's census counts them.
    fn inode_count(&self) -> Option<usize> {
        None
    }
}

/// One filesystem instance (Linux's super block): what every mount of it
/// shares, its dentry cache included.
pub struct Super {
    pub fs: Arc<dyn FileSystem>,
    /// `st_dev` of its files.
    pub dev: u64,
    /// The type name, as /proc/filesystems lists it.
    pub fstype: &'static str,
    /// Names of its directories (`vfs::Dcache`), if it
    /// [caches names](FileSystem::caches_names). Walks go through
    /// [`Super::lookup`]; the name changes of `fs/access.rs` invalidate.
    dcache: Option<Mutex<vfs::Dcache>>,
}

static NEXT_ANON_DEV: AtomicU32 = AtomicU32::new(2);

impl Super {
    /// A filesystem with a fresh anonymous device number (major 0).
    pub fn new(fs: Arc<dyn FileSystem>, fstype: &'static str) -> Arc<Self> {
        let minor = NEXT_ANON_DEV.fetch_add(1, Ordering::Relaxed);
        let dcache = fs.caches_names().then(|| Mutex::new(vfs::Dcache::new(vfs::DCACHE_CAPACITY)));
        Arc::new(Self { fs, dev: vfs::encode_dev(0, minor), fstype, dcache })
    }

    /// Entry `name` of directory `dir`: from the dentry cache, or asked
    /// of the filesystem and then cached (`ENOENT` as a negative entry).
    pub fn lookup(&self, dir: Ino, name: &[u8]) -> Result<(Ino, Kind), Errno> {
        let Some(cache) = &self.dcache else { return self.fs.lookup(dir, name) };
        let seen = {
            let mut c = cache.lock();
            match c.get(dir, name) {
                Some(vfs::Dentry::Positive(ino, kind)) => return Ok((ino, kind)),
                Some(vfs::Dentry::Negative) => return Err(ENOENT),
                None => c.generation(),
            }
        };
        // Asked without the cache's lock: a change that lands meanwhile
        // bumps the generation and the insert below is dropped.
        let r = self.fs.lookup(dir, name);
        let entry = match r {
            Ok((ino, kind)) => vfs::Dentry::Positive(ino, kind),
            Err(e) if e == ENOENT => vfs::Dentry::Negative,
            Err(_) => return r,
        };
        cache.lock().insert(dir, name, entry, seen);
        r
    }

    /// A name of `dir` was created, removed or changed: called after the
    /// filesystem made the change (`name` may end in slashes).
    pub fn name_changed(&self, dir: Ino, name: &[u8]) {
        if let Some(c) = &self.dcache {
            c.lock().invalidate(dir, name);
        }
    }

    /// Directory `dir` was removed: its cached names go too.
    pub fn dir_removed(&self, dir: Ino) {
        if let Some(c) = &self.dcache {
            c.lock().forget_dir(dir);
        }
    }

    /// Forgets every cached name (drop_caches, a refill behind the VFS).
    pub fn drop_names(&self) {
        if let Some(c) = &self.dcache {
            c.lock().clear();
        }
    }

    /// The dentry cache's counters, if it has one.
    pub fn dcache_stats(&self) -> Option<vfs::DcacheStats> {
        self.dcache.as_ref().map(|c| c.lock().stats())
    }
}

/// For the census: mounts, dentry cache entries and tmpfs inodes, each
/// filesystem counted once however often it is mounted.
pub fn census() -> (usize, usize, usize) {
    let t = table();
    let mut seen: Vec<u64> = Vec::new();
    let (mut mounts, mut dentries, mut inodes) = (0, 0, 0);
    for (_, m) in t.iter() {
        mounts += 1;
        let sb = &m.fs.sb;
        if seen.contains(&sb.dev) {
            continue;
        }
        seen.push(sb.dev);
        dentries += sb.dcache_stats().map_or(0, |s| s.entries);
        inodes += sb.fs.inode_count().unwrap_or(0);
    }
    (mounts, dentries, inodes)
}

/// drop_caches 2: forgets the cached names of every mounted filesystem.
pub fn drop_dentries() {
    let t = table();
    for (_, m) in t.iter() {
        m.fs.sb.drop_names();
    }
}

/// Cached names of the mounted filesystems, and how many are negative
/// (`/proc/sys/fs/dentry-state`); a filesystem mounted twice counts once.
pub fn dentry_counts() -> (usize, usize) {
    let t = table();
    let mut seen: Vec<u64> = Vec::new();
    let (mut all, mut negative) = (0, 0);
    for (_, m) in t.iter() {
        if seen.contains(&m.fs.sb.dev) {
            continue;
        }
        seen.push(m.fs.sb.dev);
        if let Some(s) = m.fs.sb.dcache_stats() {
            all += s.entries;
            negative += s.negative;
        }
    }
    (all, negative)
}

/// Mount flags kept per mount (`mount(2)` MS_* values).
pub const MS_RDONLY: u32 = linux_raw_sys::general::MS_RDONLY;
pub const MS_NOSUID: u32 = linux_raw_sys::general::MS_NOSUID;
pub const MS_NODEV: u32 = linux_raw_sys::general::MS_NODEV;
pub const MS_NOEXEC: u32 = linux_raw_sys::general::MS_NOEXEC;
pub const MS_NOATIME: u32 = linux_raw_sys::general::MS_NOATIME;
pub const MS_RELATIME: u32 = linux_raw_sys::general::MS_RELATIME;
/// The flags a mount keeps (the rest are operations).
pub const MNT_FLAGS: u32 = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_RELATIME;

/// One mount: a filesystem at a place in the tree.
pub struct Mount {
    pub id: MountId,
    pub sb: Arc<Super>,
    /// `MS_RDONLY`, `MS_NOSUID`... (changed by `MS_REMOUNT`).
    pub flags: AtomicU32,
    /// The source named at mount time (`/proc/mounts` first field).
    pub source: String,
    /// [`Node`]s (cwds, open files, calls in flight) inside this mount.
    pins: AtomicUsize,
}

impl Mount {
    pub fn fs(&self) -> &dyn FileSystem {
        &*self.sb.fs
    }

    pub fn is_read_only(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & MS_RDONLY != 0
    }

    /// `EROFS` on a read-only mount.
    pub fn check_writable(&self) -> Result<(), Errno> {
        if self.is_read_only() { Err(EROFS) } else { Ok(()) }
    }

    pub fn is_busy(&self) -> bool {
        self.pins.load(Ordering::Acquire) > 0
    }
}

/// A place in the namespace held by someone (a cwd, an open file): its
/// mount and inode. Holding one keeps the mount busy.
pub struct Node {
    pub mnt: Arc<Mount>,
    pub ino: Ino,
}

impl Node {
    fn new(mnt: Arc<Mount>, ino: Ino) -> Self {
        mnt.pins.fetch_add(1, Ordering::AcqRel);
        Self { mnt, ino }
    }

    pub fn fs(&self) -> &dyn FileSystem {
        self.mnt.fs()
    }

    pub fn loc(&self) -> Loc {
        Loc { mnt: self.mnt.id, ino: self.ino }
    }

    /// `stat(2)`, with this mount's device number.
    pub fn stat(&self) -> Result<Stat, Errno> {
        let mut st = self.fs().stat(self.ino)?;
        st.dev = self.mnt.sb.dev;
        Ok(st)
    }

    pub fn kind(&self) -> Result<Kind, Errno> {
        self.fs().stat(self.ino)?.kind().ok_or(EINVAL)
    }

    /// Another inode of the same mount (a child just looked up or made).
    pub fn at(&self, ino: Ino) -> Self {
        Self::new(self.mnt.clone(), ino)
    }
}

impl Clone for Node {
    fn clone(&self) -> Self {
        Self::new(self.mnt.clone(), self.ino)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.mnt.pins.fetch_sub(1, Ordering::AcqRel);
    }
}

type Table = MountTable<Arc<Mount>>;

/// The current mount tree (replaced whole by mount/umount).
static TABLE: SpinLock<Option<Arc<Table>>> = SpinLock::new(None);
/// Serialises mount and umount.
static WRITER: Mutex<()> = Mutex::new(());

fn table() -> Arc<Table> {
    if let Some(t) = TABLE.lock().as_ref() {
        return t.clone();
    }
    let _w = WRITER.lock();
    if let Some(t) = TABLE.lock().as_ref() {
        return t.clone();
    }
    let sb = tmpfs::new_root();
    let root = sb.fs.root();
    let mnt = Arc::new(Mount {
        id: MountId(1),
        sb,
        // Linux mounts rootfs with no flags: /proc/mounts says just `rw`.
        flags: AtomicU32::new(0),
        source: String::from("rootfs"),
        pins: AtomicUsize::new(0),
    });
    let t = Arc::new(MountTable::new(mnt, root));
    *TABLE.lock() = Some(t.clone());
    t
}

/// The filesystems of a table, for `vfs::MountTable`'s walks. `extra` is
/// the mount a walk starts in, which a lazy umount may have taken out of
/// the table while a cwd or descriptor still points into it.
struct Walker<'a> {
    table: &'a Table,
    extra: Option<&'a Arc<Mount>>,
    /// Whose search permission is checked (`None`: nobody's, for the
    /// kernel and for callers that may search everything).
    cred: Option<&'a Cred>,
}

impl Walker<'_> {
    fn mount(&self, id: MountId) -> Result<&Arc<Mount>, Errno> {
        if let Some(m) = self.extra.filter(|m| m.id == id) {
            return Ok(m);
        }
        self.table.get(id).map(|m| &m.fs).ok_or(ENOENT)
    }
    fn fs(&self, id: MountId) -> Result<&dyn FileSystem, Errno> {
        Ok(self.mount(id)?.fs())
    }
    fn node(&self, loc: Loc) -> Result<Node, Errno> {
        Ok(Node::new(self.mount(loc.mnt)?.clone(), loc.ino))
    }
}

impl Lookup for Walker<'_> {
    fn child(&self, at: Loc, name: &[u8]) -> Result<(Ino, Kind), Errno> {
        self.mount(at.mnt)?.sb.lookup(at.ino, name)
    }
    fn parent(&self, at: Loc) -> Result<Ino, Errno> {
        self.fs(at.mnt)?.parent(at.ino)
    }
    fn kind(&self, at: Loc) -> Result<Kind, Errno> {
        self.fs(at.mnt)?.stat(at.ino)?.kind().ok_or(EINVAL)
    }
    fn readlink(&self, at: Loc) -> Result<Vec<u8>, Errno> {
        self.fs(at.mnt)?.readlink(at.ino)
    }
    fn name_of(&self, dir: Loc, child: Ino) -> Result<Vec<u8>, Errno> {
        self.fs(dir.mnt)?.name_of(dir.ino, child)
    }
    fn may_search(&self, at: Loc) -> Result<(), Errno> {
        let Some(cred) = self.cred else { return Ok(()) };
        let st = self.fs(at.mnt)?.stat(at.ino)?;
        if st.kind() != Some(Kind::Dir) {
            return Err(ENOTDIR);
        }
        vfs::perm::may_search(&vfs::Attr::from(&st), cred)
    }
}

/// The credentials a walk checks: none for callers that may search any
/// directory anyway (root), which keeps their walks as cheap as before.
fn search_cred(cred: &Cred) -> Option<&Cred> {
    (!cred.capable(cred::Cap::DacReadSearch) && !cred.capable(cred::Cap::DacOverride)).then_some(cred)
}

/// `/`.
pub fn root() -> Node {
    let t = table();
    let w = Walker { table: &t, extra: None, cred: None };
    // The root mount is always in the table.
    w.node(t.root()).unwrap_or_else(|_| unreachable_root())
}

fn unreachable_root() -> Node {
    panic!("the root mount is missing from the mount table")
}

/// The calling process's root directory (chroot(2)), or `/`.
fn process_root(t: &Table) -> Loc {
    kbase::task::with_current_ext::<crate::process::Thread, _>(|th| th.process.root.lock().as_ref().map(Node::loc))
        .flatten()
        .unwrap_or_else(|| t.root())
}

/// Resolves `path` from directory `start` (`path_resolution(7)`) for
/// `cred` (search permission on every directory passed).
pub fn resolve(cred: &Cred, start: &Node, path: &[u8], follow_last: bool) -> Result<Node, Errno> {
    let t = table();
    let w = Walker { table: &t, extra: Some(&start.mnt), cred: search_cred(cred) };
    let (loc, _) = t.resolve_in_at(&w, process_root(&t), start.loc(), path, follow_last)?;
    w.node(loc)
}

/// [`resolve`], with the directory the last name was found in (to name
/// files, which have no `..`, in /proc/[pid]/fd).
pub fn resolve_in(cred: &Cred, start: &Node, path: &[u8], follow_last: bool) -> Result<(Node, Option<Node>), Errno> {
    let t = table();
    let w = Walker { table: &t, extra: Some(&start.mnt), cred: search_cred(cred) };
    let (loc, dir) = t.resolve_in_at(&w, process_root(&t), start.loc(), path, follow_last)?;
    let dir = match dir {
        Some(d) if d.mnt == start.mnt.id => Some(start.at(d.ino)),
        Some(d) => Some(w.node(d)?),
        None => None,
    };
    Ok((w.node(loc)?, dir))
}

/// The path of a file found in directory `dir`: the directory's path and
/// the file's name there (`ENOENT` once it has none).
pub fn path_in(dir: &Node, node: &Node) -> Result<Vec<u8>, Errno> {
    let mut p = path_of(dir)?;
    let name = dir.fs().name_of(dir.ino, node.ino)?;
    if p != b"/" {
        p.push(b'/');
    }
    p.extend_from_slice(&name);
    Ok(p)
}

/// Resolves all but the last component: the directory and that name.
pub fn resolve_parent(cred: &Cred, start: &Node, path: &[u8]) -> Result<(Node, Vec<u8>), Errno> {
    let t = table();
    let w = Walker { table: &t, extra: Some(&start.mnt), cred: search_cred(cred) };
    let (loc, last) = t.resolve_parent_at(&w, process_root(&t), start.loc(), path)?;
    Ok((w.node(loc)?, last.to_vec()))
}

/// The absolute path of `node` (getcwd, /proc/[pid]/cwd and fd links).
pub fn path_of(node: &Node) -> Result<Vec<u8>, Errno> {
    let t = table();
    let w = Walker { table: &t, extra: Some(&node.mnt), cred: None };
    t.path_of_at(&w, process_root(&t), node.loc())
}

/// Whether `node` is the root of a mount other than `/`, or has a mount
/// on it: such a directory cannot be removed or renamed (`EBUSY`).
pub fn is_mount_point(node: &Node) -> bool {
    let t = table();
    let loc = node.loc();
    t.mounted_on(loc).is_some() || (t.is_mount_root(loc) && loc.mnt != t.root_id())
}

/// One line of /proc/mounts: (source, mount point, fstype, flags, options).
pub struct MountInfo {
    pub id: MountId,
    /// The mount it sits on (itself for `/`).
    pub parent: MountId,
    /// `st_dev` of its files.
    pub dev: u64,
    /// Its root's path inside its filesystem (`/` unless a bind mount of
    /// a subdirectory).
    pub root: Vec<u8>,
    pub source: String,
    pub target: Vec<u8>,
    pub fstype: &'static str,
    pub flags: u32,
    pub options: String,
}

/// Every mount, in mount order.
pub fn mounts() -> Vec<MountInfo> {
    let t = table();
    let w = Walker { table: &t, extra: None, cred: None };
    t.iter()
        .map(|(id, m)| {
            let target = t.path_of(&w, Loc { mnt: id, ino: m.root }).unwrap_or_else(|_| b"/".to_vec());
            MountInfo {
                id,
                parent: m.parent.map_or(id, |p| p.mnt),
                dev: m.fs.sb.dev,
                root: fs_path(m.fs.fs(), m.root),
                source: m.fs.source.clone(),
                target,
                fstype: m.fs.sb.fstype,
                flags: m.fs.flags.load(Ordering::Relaxed),
                options: m.fs.sb.fs.show_options(),
            }
        })
        .collect()
}

/// The path of `ino` inside filesystem `fs` (for mountinfo's root field):
/// climbs `..` to the filesystem's root; a file shows as its directory's
/// path, which is all a file bind mount can say without a dentry cache.
fn fs_path(fs: &dyn FileSystem, mut ino: Ino) -> Vec<u8> {
    let mut parts = Vec::new();
    for _ in 0..vfs::PATH_MAX {
        let Ok(parent) = fs.parent(ino) else { break };
        if parent == ino {
            break;
        }
        match fs.name_of(parent, ino) {
            Ok(name) => parts.push(name),
            Err(_) => break,
        }
        ino = parent;
    }
    let mut out = Vec::new();
    for p in parts.iter().rev() {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Mounts directory (or file, for a bind mount) `root` of `sb` on `target` with `flags` (`MNT_FLAGS` bits).
pub fn mount(target: &Node, sb: Arc<Super>, root: Ino, flags: u32, source: &[u8]) -> Result<(), Errno> {
    let want_dir = sb.fs.stat(root)?.kind() == Some(Kind::Dir);
    if (target.kind()? == Kind::Dir) != want_dir {
        return Err(ENOTDIR);
    }
    table(); // exists before WRITER is taken (table() may take it)
    let _w = WRITER.lock();
    let mut t: Table = (*table()).clone();
    let mnt = Arc::new(Mount {
        id: t.next_id(),
        sb,
        flags: AtomicU32::new(flags & MNT_FLAGS),
        source: String::from_utf8_lossy(source).into_owned(),
        pins: AtomicUsize::new(0),
    });
    t.add(target.loc(), mnt, root)?;
    let old = TABLE.lock().replace(Arc::new(t));
    drop(old);
    Ok(())
}

/// The mount whose root is `target` (`EINVAL` if it is not one).
fn mount_rooted_at(t: &Table, target: &Node) -> Result<MountId, Errno> {
    let loc = target.loc();
    if !t.is_mount_root(loc) || t.get(loc.mnt).is_none() {
        return Err(EINVAL);
    }
    Ok(loc.mnt)
}

/// `MS_REMOUNT`: new flags and options for the mount rooted at `target`.
pub fn remount(target: &Node, flags: u32, options: &[u8]) -> Result<(), Errno> {
    table(); // exists before WRITER is taken (table() may take it)
    let _w = WRITER.lock();
    let t = table();
    let id = mount_rooted_at(&t, target)?;
    let m = t.get(id).ok_or(EINVAL)?;
    m.fs.sb.fs.set_options(options)?;
    m.fs.flags.store(flags & MNT_FLAGS, Ordering::Relaxed);
    Ok(())
}

/// umount2(2) of the mount rooted at `target` (taken by value: the
/// caller's own reference must not count as a user). `detach`
/// (`MNT_DETACH`) takes it and its submounts out of the tree even while
/// they are used.
pub fn umount(target: Node, detach: bool) -> Result<(), Errno> {
    table(); // exists before WRITER is taken (table() may take it)
    let _w = WRITER.lock();
    let mut t: Table = (*table()).clone();
    let id = mount_rooted_at(&t, &target)?;
    if id == t.root_id() {
        return Err(EBUSY);
    }
    drop(target);
    if detach {
        t.remove_tree(id)?;
    } else {
        if t.has_submounts(id) || t.get(id).is_some_and(|m| m.fs.is_busy()) {
            return Err(EBUSY);
        }
        t.remove(id)?;
    }
    let old = TABLE.lock().replace(Arc::new(t));
    drop(old);
    Ok(())
}

/// Fills the root filesystem from the initramfs (and adds /dev nodes).
pub fn unpack_initramfs(archive: Option<&[u8]>) -> Result<usize, vfs::UnpackError> {
    let n = tmpfs::unpack_root(archive);
    // The archive went into the tree behind the VFS's back.
    root().mnt.sb.drop_names();
    n
}

/// An open file of any filesystem: regular file, directory, or a symlink
/// opened with O_PATH.
pub struct VfsFile {
    node: Node,
    /// Where a non-directory was found, to name it (/proc/[pid]/fd).
    dir: Option<Node>,
    kind: Kind,
    flags: AtomicU32,
    pos: Mutex<u64>,
    _census: crate::census::Token,
}

impl VfsFile {
    /// Opens `node` of type `kind`, found in directory `dir` (if known).
    pub fn open(node: Node, dir: Option<Node>, kind: Kind, flags: OpenFlags) -> Result<Arc<dyn File>, Errno> {
        if let Some(f) = node.fs().open(&node, flags) {
            return f;
        }
        let dir = dir.filter(|_| kind != Kind::Dir);
        node.fs().open_ref(node.ino)?;
        Ok(Arc::new(Self {
            node,
            dir,
            kind,
            flags: AtomicU32::new(flags.0),
            pos: Mutex::new(0),
            _census: crate::census::Token::new(crate::census::Kind::File),
        }))
    }
}

impl VfsFile {
    /// A new regular file with no name in the root filesystem, open with
    /// `flags` (memfd_create(2)); it is freed with its last open file.
    pub fn unlinked(mode: u32, flags: OpenFlags) -> Result<Arc<Self>, Errno> {
        let root = root();
        let cred = access::caller();
        let ino = root.fs().create_unlinked(mode, cred.fsuid, cred.fsgid)?;
        let node = root.at(ino);
        // The creation's reference becomes this file's.
        Ok(Arc::new(Self {
            node,
            dir: None,
            kind: Kind::File,
            flags: AtomicU32::new(flags.0),
            pos: Mutex::new(0),
            _census: crate::census::Token::new(crate::census::Kind::File),
        }))
    }
}

impl VfsFile {
    /// open(2) with O_TMPFILE in directory `dir`: a new unnamed regular
    /// file of `dir`'s filesystem, owned as a file created there would be.
    pub fn tmpfile(cred: &Cred, dir: &Node, mode: u32, flags: OpenFlags, linkable: bool) -> Result<Arc<dyn File>, Errno> {
        let (uid, gid, mode) = access::tmpfile_owner(cred, dir, mode)?;
        let ino = dir.fs().create_tmpfile(mode, uid, gid, linkable)?;
        Ok(Arc::new(Self {
            node: dir.at(ino),
            dir: None,
            kind: Kind::File,
            flags: AtomicU32::new(flags.0),
            pos: Mutex::new(0),
            _census: crate::census::Token::new(crate::census::Kind::File),
        }))
    }
}

impl Drop for VfsFile {
    fn drop(&mut self) {
        crate::locks::file_freed((self.node.mnt.sb.dev, self.node.ino.0), self as *const Self as usize);
        self.node.fs().close_ref(self.node.ino);
    }
}

impl File for VfsFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.kind == Kind::Dir {
            return Err(EISDIR);
        }
        let mut pos = self.pos.lock();
        let n = self.node.fs().read(self.node.ino, *pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock();
        access::remove_privs(&self.node)?;
        if self.flags().is_append() {
            *pos = self.node.fs().stat(self.node.ino)?.size;
        }
        let data = &data[..fsize_room(self.kind, *pos, data.len())?];
        let n = self.node.fs().write(self.node.ino, *pos, data)?;
        *pos += n as u64;
        Ok(n)
    }

    fn pread(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.kind == Kind::Dir {
            return Err(EISDIR);
        }
        self.node.fs().read(self.node.ino, off, buf)
    }

    fn pwrite(&self, off: u64, data: &[u8]) -> Result<usize, Errno> {
        access::remove_privs(&self.node)?;
        let data = &data[..fsize_room(self.kind, off, data.len())?];
        self.node.fs().write(self.node.ino, off, data)
    }

    fn seek(&self, off: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = self.pos.lock();
        let base = match whence {
            0 => 0i128,
            1 => i128::from(*pos),
            2 => i128::from(self.node.fs().stat(self.node.ino)?.size),
            _ => return Err(EINVAL),
        };
        let new = base + i128::from(off);
        if new < 0 || new > i128::from(i64::MAX) {
            return Err(EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        self.node.stat()
    }

    fn getdents(&self, max_len: usize) -> Result<Vec<u8>, Errno> {
        if self.kind != Kind::Dir {
            return Err(ENOTDIR);
        }
        let mut pos = self.pos.lock();
        getdents(self.node.fs(), self.node.ino, &mut pos, max_len)
    }

    fn node(&self) -> Option<&Node> {
        Some(&self.node)
    }

    fn proc_name(&self) -> Vec<u8> {
        let path = match &self.dir {
            Some(dir) => path_in(dir, &self.node),
            None => path_of(&self.node),
        };
        path.unwrap_or_else(|_| b"(deleted)".to_vec())
    }

    fn flags(&self) -> OpenFlags {
        OpenFlags(self.flags.load(Ordering::Relaxed))
    }

    fn set_status_flags(&self, flags: u32) {
        let m = crate::file::SETFL_MASK;
        let old = self.flags.load(Ordering::Relaxed);
        self.flags.store((old & !m) | (flags & m), Ordering::Relaxed);
    }
}

/// How many of `len` bytes a write at `pos` of a file of type `kind` may
/// store under the caller's RLIMIT_FSIZE (generic_write_check_limits):
/// all below the limit, and at the limit nothing: SIGXFSZ to the writer
/// and `EFBIG` (the signal kills unless it is caught or ignored).
/// `len` 0 is never refused.
pub fn fsize_room(kind: Kind, pos: u64, len: usize) -> Result<usize, Errno> {
    if kind != Kind::File || len == 0 {
        return Ok(len);
    }
    let limit = fsize_limit();
    if pos >= limit {
        fsize_exceeded();
        return Err(crate::errno::EFBIG);
    }
    Ok(len.min(usize::try_from(limit - pos).unwrap_or(usize::MAX)))
}

/// Growing a regular file from `old` to `new` bytes (truncate, fallocate)
/// beyond the caller's RLIMIT_FSIZE: SIGXFSZ and `EFBIG`
/// (inode_newsize_ok). Shrinking is always allowed.
pub fn fsize_check_grow(old: u64, new: u64) -> Result<(), Errno> {
    if new > old && new > fsize_limit() {
        fsize_exceeded();
        return Err(crate::errno::EFBIG);
    }
    Ok(())
}

/// The caller's RLIMIT_FSIZE soft limit (u64::MAX: none).
fn fsize_limit() -> u64 {
    crate::process::current().process.rlimits.lock()[linux_raw_sys::general::RLIMIT_FSIZE as usize].0
}

/// SIGXFSZ to the calling thread, as Linux's send_sig(SIGXFSZ, current, 0).
fn fsize_exceeded() {
    let t = crate::process::current();
    let info = crate::signal::SigInfo::from_process(crate::signal::SIGXFSZ, crate::signal::SI_USER, t.process.pid, t.process.cred().ruid);
    crate::signal::send_thread(&t, info);
}

/// Encodes `linux_dirent64` records of `dir` from cookie `*pos`, at most
/// `max_len` bytes, advancing `*pos`.
pub fn getdents(fs: &dyn FileSystem, dir: Ino, pos: &mut u64, max_len: usize) -> Result<Vec<u8>, Errno> {
    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    let mut out = Vec::new();
    while let Some((next, e)) = fs.read_dir(dir, *pos)? {
        let reclen = (19 + e.name.len() + 1).next_multiple_of(8);
        if out.len() + reclen > max_len {
            if out.is_empty() {
                return Err(EINVAL);
            }
            break;
        }
        let start = out.len();
        out.resize(start + reclen, 0);
        out[start..start + 8].copy_from_slice(&e.ino.0.to_le_bytes());
        out[start + 8..start + 16].copy_from_slice(&next.to_le_bytes());
        out[start + 16..start + 18].copy_from_slice(&(reclen as u16).to_le_bytes());
        out[start + 18] = e.kind.dirent_type();
        out[start + 19..start + 19 + e.name.len()].copy_from_slice(&e.name);
        *pos = next;
    }
    Ok(out)
}

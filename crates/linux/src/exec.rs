//! execve: from a path, arguments and environment to a fresh address space
//! and the first user-mode register state.
//!
//! Static ELF executables (ET_EXEC and static-PIE) and `#!` scripts are
//! supported; a program that asks for a dynamic loader (PT_INTERP) gets
//! ENOEXEC until the dynamic-linking work.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use kbase::arch::trap::TrapFrame;
use cred::Cred;
use vfs::Kind;

use crate::fs::Node;

use crate::errno::{EACCES, ENOEXEC, Errno, mm};
use crate::mm::{Backing, FileName, MIN_ADDR, Prot, STACK_SIZE, Vm, Vma};

/// `personality(2)` flag: no address-space randomisation for this process
/// (include/uapi/linux/personality.h; not in linux-raw-sys).
pub const ADDR_NO_RANDOMIZE: u32 = 0x0040000;

/// Off with `norandmaps` on the kernel command line.
static RANDOMIZE: AtomicBool = AtomicBool::new(true);

/// Turns address-space layout randomisation on or off for every later exec.
pub fn set_randomize(on: bool) {
    RANDOMIZE.store(on, Ordering::Relaxed);
}

/// The layout of a new image for a process with `personality`.
fn choose_layout(personality: u32) -> elfload::Layout {
    if RANDOMIZE.load(Ordering::Relaxed) && personality & ADDR_NO_RANDOMIZE == 0 {
        elfload::Layout::randomized(kbase::random::next_u64)
    } else {
        elfload::Layout::FIXED
    }
}

/// A loaded image, ready to replace the caller's.
pub struct Image {
    pub vm: Vm,
    pub entry: u64,
    pub sp: u64,
    /// The executable's path (/proc/[pid]/exe).
    pub exe: Vec<u8>,
    /// The arguments as the program sees them (after `#!` rewriting) and
    /// the environment (/proc/[pid]/cmdline and environ).
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
}

/// Reads an executable file for `cred`: every directory on the way
/// searchable, the file a regular one that `cred` may execute on a mount
/// without `MS_NOEXEC` (`EACCES` otherwise, as Linux's `may_open` and
/// `do_open_execat`).
/// What execve runs.
pub enum Program<'a> {
    /// A path, looked up from the `cwd` given to [`load`]; `follow`: a
    /// symlink in the last component is followed (not with execveat's
    /// AT_SYMLINK_NOFOLLOW, which gives ELOOP).
    Path { path: &'a [u8], follow: bool },
    /// An open file (execveat with AT_EMPTY_PATH, fexecve), shown to the
    /// program under `name` (AT_EXECFN; Linux uses /dev/fd/N).
    Open { node: Node, name: Vec<u8> },
}

/// An executable as exec reads it: its first bytes (the ELF and program
/// headers, or a `#!` line) and its size; the segments are mapped from
/// the file's own pages, never copied whole.
struct ExecFile {
    node: Node,
    head: Vec<u8>,
    size: u64,
}

/// Bytes exec reads first: the headers of any usual executable.
const HEAD_BYTES: u64 = 4096;
/// The most exec reads to find program headers further in.
const MAX_HEAD_BYTES: u64 = 64 << 10;

impl ExecFile {
    /// `elfload::plan_head` over the head, reading further once if the
    /// program headers lie past it.
    fn plan(&mut self, bias: u64) -> Result<elfload::LoadPlan, elfload::Error> {
        match elfload::plan_head(&self.head, self.size, bias) {
            Err(elfload::Error::PhdrsOutsideFile { phoff, phnum }) => {
                let need = phoff.saturating_add(u64::from(phnum) * 56).min(self.size).min(MAX_HEAD_BYTES);
                if need > self.head.len() as u64 && let Ok(head) = read_head(&self.node, need) {
                    self.head = head;
                }
                elfload::plan_head(&self.head, self.size, bias)
            }
            r => r,
        }
    }
}

/// The first `len` bytes of `node`'s file (fewer if it is shorter).
fn read_head(node: &Node, len: u64) -> Result<Vec<u8>, Errno> {
    let mut head = alloc::vec![0; len as usize];
    let mut done = 0;
    while done < head.len() {
        let n = node.fs().read(node.ino, done as u64, &mut head[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    head.truncate(done);
    Ok(head)
}

fn read_executable(cred: &Cred, cwd: &Node, path: &[u8]) -> Result<(ExecFile, Arc<FileName>), Errno> {
    read_program(cred, cwd, &Program::Path { path, follow: true })
}

fn read_program(cred: &Cred, cwd: &Node, program: &Program<'_>) -> Result<(ExecFile, Arc<FileName>), Errno> {
    let (node, dir, path) = match program {
        Program::Path { path, follow } => {
            let (node, dir) = crate::fs::resolve_in(cred, cwd, path, *follow)?;
            if !*follow && node.kind()? == Kind::Symlink {
                return Err(crate::errno::ELOOP);
            }
            (node, dir, *path)
        }
        Program::Open { node, name } => (node.clone(), None, name.as_slice()),
    };
    let st = node.stat()?;
    if st.kind() != Some(Kind::File) {
        return Err(EACCES);
    }
    vfs::perm::permission(&vfs::Attr { mode: st.mode, uid: st.uid, gid: st.gid }, cred, vfs::Access::EXEC)?;
    if node.mnt.flags.load(core::sync::atomic::Ordering::Relaxed) & crate::fs::MS_NOEXEC != 0 {
        return Err(EACCES);
    }
    // Only files whose pages can be mapped can run (ENODEV otherwise).
    match node.fs().map_page(node.ino, 0, false) {
        Ok(_) | Err(crate::errno::ENXIO) => {}
        Err(e) => return Err(e),
    }
    let head = read_head(&node, st.size.min(HEAD_BYTES))?;
    let path = dir.and_then(|d| crate::fs::path_in(&d, &node).ok()).unwrap_or_else(|| path.to_vec());
    Ok((ExecFile { node, head, size: st.size }, Arc::new(FileName { path, dev: st.dev, ino: st.ino.0 })))
}

/// Builds the new image for `path` with `argv` and `envp`, run by `cred`
/// (checked against it and reported in the auxiliary vector), laid out
/// at random unless `personality` has ADDR_NO_RANDOMIZE or `norandmaps`.
/// `stack_limit` is RLIMIT_STACK's soft limit: the size of the stack
/// mapping, between 128 KiB and 1 GiB (unlimited: the 8 MiB default).
pub fn load(cred: &Cred, cwd: &Node, path: &[u8], argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>, personality: u32, stack_limit: u64) -> Result<Image, Errno> {
    load_program(cred, cwd, Program::Path { path, follow: true }, argv, envp, personality, stack_limit)
}

/// [`load`] for any [`Program`] (execveat).
pub fn load_program(cred: &Cred, cwd: &Node, program: Program<'_>, mut argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>, personality: u32, stack_limit: u64) -> Result<Image, Errno> {
    let (mut data, mut name) = read_program(cred, cwd, &program)?;
    let path: &[u8] = match &program {
        Program::Path { path, .. } => path,
        Program::Open { name, .. } => name,
    };
    let mut exec_path = path.to_vec();
    // One level of `#!`: interpreter [arg] script args...
    if let Some(sb) = elfload::parse_shebang(&data.head) {
        let sb = sb.map_err(|_| ENOEXEC)?;
        let interp = sb.interpreter.to_vec();
        let mut new_argv = alloc::vec![interp.clone()];
        if let Some(a) = sb.arg {
            new_argv.push(a.to_vec());
        }
        new_argv.push(path.to_vec());
        new_argv.extend(argv.into_iter().skip(1));
        argv = new_argv;
        (data, name) = read_executable(cred, cwd, &interp)?;
        exec_path = interp;
        // Linux allows a few levels of interpreter scripts; one is
        // supported here, and deeper nesting fails like a loop.
        if elfload::parse_shebang(&data.head).is_some() {
            return Err(crate::errno::ELOOP);
        }
    }
    let probe = data.plan(0).map_err(|e| {
        log::debug!("execve: {}: {e}", core::str::from_utf8(&exec_path).unwrap_or("?"));
        ENOEXEC
    })?;
    if probe.interp.is_some() {
        log::info!("execve: {}: dynamically linked programs are not supported yet", core::str::from_utf8(&exec_path).unwrap_or("?"));
        return Err(ENOEXEC);
    }
    let layout = choose_layout(personality);
    let plan = if probe.is_pie { data.plan(layout.pie_base).map_err(|_| ENOEXEC)? } else { probe };
    let file = crate::filemap::MappedFile::of(&data.node)?;
    let stack_top = layout.stack_top;

    let mut vm = Vm::new()?;
    vm.mmap_top = layout.mmap_top;
    for seg in &plan.segments {
        if seg.vaddr < MIN_ADDR {
            return Err(ENOEXEC);
        }
        let prot = Prot { read: seg.prot.read, write: seg.prot.write, exec: seg.prot.exec };
        let backing = Backing::Paged { file: file.clone(), offset: seg.file_offset, len: seg.file_len, name: Some(name.clone()), writer: None, copy_early: true };
        vm.insert(seg.vaddr, Vma { end: seg.vaddr + seg.mem_len, prot, backing, shared: false, grows_down: false }).map_err(|_| ENOEXEC)?;
    }
    let brk_start = plan.brk_start.checked_add(layout.brk_offset).ok_or(ENOEXEC)?;
    vm.brk_start = brk_start;
    vm.brk = brk_start;
    let stack_prot = Prot { read: true, write: true, exec: plan.is_stack_executable };
    let stack_size = if stack_limit == u64::MAX { STACK_SIZE } else { stack_limit.clamp(128 << 10, 1 << 30) & !0xfff };
    vm.insert(stack_top - stack_size, Vma { end: stack_top, prot: stack_prot, backing: Backing::Anon, shared: false, grows_down: true })?;
    vm.stack_top = stack_top;

    let vdso = crate::vdso::map(&mut vm)?;

    let mut random = [0u8; 16];
    kbase::random::fill(&mut random);
    let hwcap = u64::from(kbase::arch::cpu::cpuid(1, 0).edx);
    let mut auxv = alloc::vec![
        (elfload::AT_PHDR, plan.phdr_vaddr),
        (elfload::AT_PHENT, u64::from(plan.phent)),
        (elfload::AT_PHNUM, u64::from(plan.phnum)),
        (elfload::AT_PAGESZ, 4096),
        (elfload::AT_BASE, 0),
        (elfload::AT_FLAGS, 0),
        (elfload::AT_ENTRY, plan.entry),
        (elfload::AT_UID, u64::from(cred.ruid)),
        (elfload::AT_EUID, u64::from(cred.euid)),
        (elfload::AT_GID, u64::from(cred.rgid)),
        (elfload::AT_EGID, u64::from(cred.egid)),
        (elfload::AT_SECURE, u64::from(cred.is_secure_exec())),
        (elfload::AT_HWCAP, hwcap),
        (elfload::AT_CLKTCK, 100),
        (elfload::AT_HWCAP2, 0),
    ];
    if let Some(base) = vdso {
        auxv.push((elfload::AT_SYSINFO_EHDR, base));
    }
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let env: Vec<&[u8]> = envp.iter().map(|a| a.as_slice()).collect();
    let img = elfload::build_stack(stack_top, &args, &env, &auxv, &exec_path, random, b"x86_64")
        .map_err(|e| crate::errno::Errno(e.errno() as i32))?;
    vm.populate(img.sp, stack_top)?;
    vm.space_mut().write_bytes(img.sp, &img.bytes).map_err(mm)?;
    // From here the stack grows on demand, up to RLIMIT_STACK.
    vm.trim_stack(img.sp);
    Ok(Image { vm, entry: plan.entry, sp: img.sp, exe: name.path.clone(), argv, envp })
}

/// The first register state of an image.
pub fn initial_frame(img: &Image) -> TrapFrame {
    TrapFrame::new_user(img.entry, img.sp)
}

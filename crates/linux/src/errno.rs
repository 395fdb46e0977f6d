//! The one error type of the Linux layer: an errno (shared with `vfs`),
//! with the constants the system calls use, taken from `linux-raw-sys`.

pub use vfs::Errno;

use linux_raw_sys::errno as raw;

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        $(
            #[allow(clippy::cast_possible_wrap, reason = "errno numbers are below 4096")]
            pub const $name: Errno = Errno(raw::$name as i32);
        )*
    };
}

errnos!(
    EPERM, ENOENT, ESRCH, EINTR, EIO, E2BIG, ENOEXEC, EBADF, ECHILD, EAGAIN, ENOMEM, EACCES, EFAULT,
    EBUSY, EEXIST, ENOTDIR, EISDIR, EINVAL, EMFILE, ENOTTY, ESPIPE, ERANGE, ENOSYS, ENAMETOOLONG,
    EOVERFLOW, EPIPE, ELOOP, ENODEV, ENOSPC, ENXIO, EROFS, EXDEV, ENOTBLK, ENOTEMPTY, EOPNOTSUPP,
    EDEADLK, EFBIG, ENOTSOCK, EADDRINUSE, ECONNREFUSED, EPROTOTYPE, EISCONN, ENOTCONN, EAFNOSUPPORT,
    EPROTONOSUPPORT, ESOCKTNOSUPPORT, EMSGSIZE, ECONNRESET, ENOPROTOOPT, ENOBUFS, EDOM, ETOOMANYREFS,
);

/// Result of a system call handler: the value for RAX, or an errno.
pub type SysResult = Result<usize, Errno>;

/// Maps a user-copy fault to EFAULT.
pub fn fault(_: kbase::arch::extable::Fault) -> Errno {
    EFAULT
}

/// Maps a memory-layer error to an errno.
pub fn mm(e: kbase::mm::MmError) -> Errno {
    match e {
        kbase::mm::MmError::OutOfMemory => ENOMEM,
        kbase::mm::MmError::AlreadyMapped | kbase::mm::MmError::NotMapped | kbase::mm::MmError::BadAddress => EFAULT,
    }
}

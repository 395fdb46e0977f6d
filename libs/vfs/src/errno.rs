//! [`Errno`]: a Linux error number, with the names this crate returns.

use core::fmt;

use linux_raw_sys::errno as raw;

/// A Linux error number (`errno(3)`), positive, as `linux-raw-sys` defines it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

/// `Result` whose error is an [`Errno`] unless said otherwise.
pub type Result<T, E = Errno> = core::result::Result<T, E>;

/// Defines `Errno::NAME` for each name and the reverse table for `Display`.
macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[allow(clippy::cast_possible_wrap, reason = "errno numbers are below 4096")]
                pub const $name: Errno = Errno(raw::$name as i32);
            )*

            /// The Linux name (`"ENOENT"`), if it is one this crate knows.
            pub fn name(self) -> Option<&'static str> {
                $(if self == Self::$name { return Some(stringify!($name)); })*
                None
            }
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    EIO,
    EBADF,
    ENOMEM,
    EACCES,
    EBUSY,
    EEXIST,
    EXDEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    EFBIG,
    ENOSPC,
    EMLINK,
    ENAMETOOLONG,
    ENOTEMPTY,
    ELOOP,
    EOVERFLOW,
    ENXIO,
);

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::error::Error for Errno {}

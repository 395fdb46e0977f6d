//! In-kernel tests of the platform layer, run with `ktest=`.

use kbase::ktest;

//! Empty: this package exists only to pin the crates under test.

//! Relink the kernel when its linker script changes (the script itself is
//! passed by `cargo xtask build`).
fn main() {
    println!("cargo:rerun-if-changed=linker.ld");
}

//! Builds the vDSO (vdso/vdso.c, linked with vdso/vdso.lds) with the host C
//! compiler into OUT_DIR/vdso.so, which `src/vdso.rs` embeds.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR")).join("vdso");
    for f in ["vdso.c", "vdso.lds", "vdso.ver"] {
        println!("cargo:rerun-if-changed={}", dir.join(f).display());
    }
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let so = out.join("vdso.so");
    let status = Command::new(&cc)
        .args(["-shared", "-nostdlib", "-fPIC", "-O2", "-fno-stack-protector", "-fno-plt", "-fvisibility=hidden"])
        .args(["-mno-red-zone", "-fno-asynchronous-unwind-tables", "-s"])
        .arg(format!("-Wl,-T,{}", dir.join("vdso.lds").display()))
        .arg(format!("-Wl,--version-script={}", dir.join("vdso.ver").display()))
        .args(["-Wl,-soname,linux-vdso.so.1", "-Wl,--hash-style=both", "-Wl,-z,noexecstack"])
        .args(["-Wl,--no-undefined", "-Wl,-Bsymbolic", "-Wl,--build-id=none", "-o"])
        .arg(&so)
        .arg(dir.join("vdso.c"))
        .status()
        .unwrap_or_else(|e| panic!("vdso: cannot run `{cc}` (install gcc): {e}"));
    assert!(status.success(), "vdso: `{cc}` failed to build vdso/vdso.c");
}

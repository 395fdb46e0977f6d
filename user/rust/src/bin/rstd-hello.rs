//! rstd-hello: Rust std start-up (glibc static-pie), stdout, args, env and
//! `process::exit`.
use rstd_tests::check;

fn main() {
    println!("rstd-hello: hello from Rust std");
    let args: Vec<String> = std::env::args().collect();
    println!("rstd-hello: args = {args:?}");
    check!(!args.is_empty(), "argv is empty");
    check!(args[0].ends_with("rstd-hello"), "argv[0] = {:?}", args[0]);
    // /init passes {path, "arg1"}.
    check!(args.get(1).map(String::as_str) == Some("arg1"), "args = {args:?}");
    let vars: Vec<(String, String)> = std::env::vars().collect();
    println!("rstd-hello: {} environment variables", vars.len());
    check!(
        std::env::var("FERRITE_TEST").as_deref() == Ok("1"),
        "FERRITE_TEST = {:?}",
        std::env::var("FERRITE_TEST")
    );
    check!(vars.iter().any(|(k, _)| k == "PATH"), "no PATH in {vars:?}");
    check!(std::env::var("RSTD_SURELY_UNSET").is_err());
    let cwd = rstd_tests::ok!(std::env::current_dir());
    println!("rstd-hello: cwd {}", cwd.display());
    println!("rstd-hello: ok");
    std::process::exit(0);
}

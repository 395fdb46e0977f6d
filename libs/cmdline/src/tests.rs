//! Host tests for the tokenizer, the typed arguments and the ktest filter.

use super::*;
use proptest::prelude::*;
use std::vec::Vec;

fn p<'a>(key: &'a str, value: Option<&'a str>) -> Param<'a> {
    Param { key, value }
}

fn all(cmdline: &str) -> Vec<Result<Param<'_>, Warning<'_>>> {
    params(cmdline).collect()
}

#[test]
fn example_line() {
    let line = "loglevel=7 init=/bin/sh ktest=alloc,map quiet rdinit=/init -- args for init";
    assert_eq!(
        all(line),
        [
            Ok(p("loglevel", Some("7"))),
            Ok(p("init", Some("/bin/sh"))),
            Ok(p("ktest", Some("alloc,map"))),
            Ok(p("quiet", None)),
            Ok(p("rdinit", Some("/init"))),
        ]
    );
    let args = KernelArgs::parse(line);
    assert_eq!(args.loglevel, Some(LogLevel::Info));
    assert_eq!(
        (args.init, args.rdinit, args.ktest),
        (Some("/bin/sh"), Some("/init"), Some("alloc,map"))
    );
    assert!(args.quiet && !args.nosmp && !args.nokaslr);
    assert_eq!(args.maxcpus, None);
    assert_eq!(
        args.init_args.iter().collect::<Vec<_>>(),
        ["args", "for", "init"]
    );
    assert_eq!(
        (args.init_args.len(), args.init_args.as_str()),
        (3, "args for init")
    );
    assert!(args.unknown.is_empty() && args.warnings.is_empty());
}

#[test]
fn empty_and_blank_lines() {
    for line in ["", "   ", "\t\n\r "] {
        assert_eq!(all(line), []);
        let args = KernelArgs::parse(line);
        assert!(args.init_args.is_empty() && args.unknown.is_empty() && args.warnings.is_empty());
        assert!(args.init.is_none() && !args.quiet);
    }
}

#[test]
fn whitespace_of_all_kinds_separates() {
    assert_eq!(
        all("a=1\tb\n c=3\r\x0bd"),
        [
            Ok(p("a", Some("1"))),
            Ok(p("b", None)),
            Ok(p("c", Some("3"))),
            Ok(p("d", None))
        ]
    );
}

#[test]
fn quoted_values_keep_spaces() {
    assert_eq!(
        all(r#"init="/bin/x y" z"#),
        [Ok(p("init", Some("/bin/x y"))), Ok(p("z", None))]
    );
    // Whole-token quotes, as Linux accepts them.
    assert_eq!(
        all(r#""foo=bar baz" q"#),
        [Ok(p("foo", Some("bar baz"))), Ok(p("q", None))]
    );
    assert_eq!(
        all(r#"a="" b="=""#),
        [Ok(p("a", Some(""))), Ok(p("b", Some("=")))]
    );
    // Only the first `=` splits.
    assert_eq!(all("a=b=c"), [Ok(p("a", Some("b=c")))]);
    assert_eq!(
        KernelArgs::parse(r#"init="/bin/x y""#).init,
        Some("/bin/x y")
    );
}

#[test]
fn double_dash_splits_init_args() {
    let args = KernelArgs::parse(r#"quiet init="/a -- b" -- -v "two words" --x -- last "#);
    assert_eq!(args.init, Some("/a -- b"));
    assert_eq!(
        args.init_args.iter().collect::<Vec<_>>(),
        ["-v", "two words", "--x", "--", "last"]
    );
    // A quoted `--` is an ordinary word, for init's argv.
    let args = KernelArgs::parse(r#""--" nokaslr"#);
    assert!(args.init_args.is_empty() && args.nokaslr);
    assert_eq!(args.init_words.get(0), Some("--"));
    // `--` at the very end: no init args, and the iterator still stops.
    let mut it = params("a --");
    assert_eq!(it.next(), Some(Ok(p("a", None))));
    assert_eq!(it.next(), None);
    assert!(it.init_args().is_empty());
    // `a--` is not a separator.
    assert_eq!(all("a-- b"), [Ok(p("a--", None)), Ok(p("b", None))]);
}

#[test]
fn unterminated_quote_warns_and_swallows_the_rest() {
    let line = r#"quiet init="/bin/sh -- x"#;
    assert_eq!(
        all(line),
        [
            Ok(p("quiet", None)),
            Err(Warning::UnterminatedQuote {
                token: r#"init="/bin/sh -- x"#
            })
        ]
    );
    let args = KernelArgs::parse(line);
    assert!(args.quiet && args.init.is_none() && args.init_args.is_empty());
    assert_eq!(args.warnings.len(), 1);
    assert!(matches!(
        KernelArgs::parse("\"").warnings.get(0),
        Some(Warning::UnterminatedQuote { .. })
    ));
}

#[test]
fn empty_keys_warn() {
    assert_eq!(
        all(r#"=x "" a "=y""#),
        [
            Err(Warning::EmptyKey { token: "=x" }),
            Err(Warning::EmptyKey { token: r#""""# }),
            Ok(p("a", None)),
            Err(Warning::EmptyKey { token: r#""=y""# }),
        ]
    );
    assert_eq!(KernelArgs::parse("= =").warnings.len(), 2);
}

#[test]
fn loglevel_numbers_and_names() {
    let cases = [
        ("0", LogLevel::Off),
        ("1", LogLevel::Error),
        ("4", LogLevel::Error),
        ("5", LogLevel::Warn),
        ("6", LogLevel::Info),
        ("7", LogLevel::Info),
        ("8", LogLevel::Debug),
        ("15", LogLevel::Debug),
        ("error", LogLevel::Error),
        ("WARN", LogLevel::Warn),
        ("warning", LogLevel::Warn),
        ("info", LogLevel::Info),
        ("debug", LogLevel::Debug),
        ("Trace", LogLevel::Trace),
        ("off", LogLevel::Off),
    ];
    for (text, level) in cases {
        assert_eq!(LogLevel::parse(text), Some(level), "{text}");
    }
    for bad in ["abc", "16", "-1", "", " 7", "7x", "256"] {
        assert_eq!(LogLevel::parse(bad), None, "{bad:?}");
    }
    assert!(LogLevel::Off < LogLevel::Error && LogLevel::Debug < LogLevel::Trace);
}

#[test]
fn bad_values_warn_and_leave_fields_unset() {
    let args =
        KernelArgs::parse("loglevel=abc maxcpus=-2 maxcpus=99999999999 init rdinit= loglevel");
    assert_eq!(args.loglevel, None);
    assert_eq!(args.maxcpus, None);
    assert_eq!((args.init, args.rdinit), (None, None));
    let warnings: Vec<_> = args.warnings.iter().collect();
    assert_eq!(
        warnings,
        [
            Warning::BadValue {
                key: "loglevel",
                value: "abc",
                expected: "0..=15 or off/error/warn/info/debug/trace"
            },
            Warning::BadValue {
                key: "maxcpus",
                value: "-2",
                expected: "a CPU count"
            },
            Warning::BadValue {
                key: "maxcpus",
                value: "99999999999",
                expected: "a CPU count"
            },
            Warning::MissingValue { key: "init" },
            Warning::MissingValue { key: "rdinit" },
            Warning::MissingValue { key: "loglevel" },
        ]
    );
    assert!(args.unknown.is_empty());
}

#[test]
fn hardening_options() {
    let args = KernelArgs::parse("norandmaps watchdog=panic hung_task_timeout_secs=30");
    assert!(args.norandmaps);
    assert_eq!(args.watchdog, Some(WatchdogMode::Panic));
    assert_eq!(args.hung_task_timeout_secs, Some(30));
    assert!(args.warnings.is_empty() && args.unknown.is_empty());
    let args = KernelArgs::parse("watchdog=sometimes hung_task_timeout_secs=-1 norandmaps=1");
    assert!(!args.norandmaps && args.watchdog.is_none() && args.hung_task_timeout_secs.is_none());
    assert_eq!(args.warnings.len(), 3);
    assert_eq!(KernelArgs::parse("watchdog=off").watchdog, Some(WatchdogMode::Off));
    assert_eq!(KernelArgs::parse("").watchdog, None);
}

#[test]
fn flags_with_values_are_ignored_with_a_warning() {
    let args = KernelArgs::parse("quiet=1 nosmp nokaslr=yes");
    assert!(!args.quiet && args.nosmp && !args.nokaslr);
    assert_eq!(
        args.warnings.get(0),
        Some(Warning::UnexpectedValue {
            key: "quiet",
            value: "1"
        })
    );
    assert_eq!(args.warnings.len(), 2);
}

#[test]
fn typed_fields_and_last_one_wins() {
    let args =
        KernelArgs::parse("maxcpus=4 loglevel=debug maxcpus=2 init=/a init=/b ktest nosmp nokaslr");
    assert_eq!(args.maxcpus, Some(2));
    assert_eq!(args.loglevel, Some(LogLevel::Debug));
    assert_eq!(args.init, Some("/b"));
    assert_eq!(args.ktest, Some(""));
    assert!(args.nosmp && args.nokaslr && !args.quiet);
    assert_eq!(KernelArgs::parse("ktest=").ktest, Some(""));
}

#[test]
fn log_level_or_prefers_loglevel_then_quiet() {
    assert_eq!(
        KernelArgs::parse("").log_level_or(LogLevel::Info),
        LogLevel::Info
    );
    assert_eq!(
        KernelArgs::parse("quiet").log_level_or(LogLevel::Info),
        LogLevel::Error
    );
    assert_eq!(
        KernelArgs::parse("quiet loglevel=trace").log_level_or(LogLevel::Info),
        LogLevel::Trace
    );
}

#[test]
fn unknown_keys_are_kept_up_to_capacity() {
    let args = KernelArgs::parse("console=ttyS0 ro root=/dev/vda");
    let unknown: Vec<_> = args.unknown.iter().collect();
    assert_eq!(
        unknown,
        [
            p("console", Some("ttyS0")),
            p("ro", None),
            p("root", Some("/dev/vda"))
        ]
    );
    assert_eq!(args.unknown.dropped(), 0);

    let mut line = std::string::String::new();
    for i in 0..MAX_UNKNOWN + 3 {
        line.push_str(&std::format!("m.k{i}=v "));
    }
    let args = KernelArgs::parse(&line);
    assert_eq!(
        (args.unknown.len(), args.unknown.dropped()),
        (MAX_UNKNOWN, 3)
    );
    assert_eq!(
        args.unknown.get(MAX_UNKNOWN - 1).map(|p| p.key),
        Some("m.k15")
    );
    assert_eq!(args.unknown.get(MAX_UNKNOWN), None);

    let many_bad = "= ".repeat(MAX_WARNINGS + 1);
    let args = KernelArgs::parse(&many_bad);
    assert_eq!(
        (args.warnings.len(), args.warnings.dropped()),
        (MAX_WARNINGS, 1)
    );
}

#[test]
fn warnings_display_the_culprit() {
    let args = KernelArgs::parse("maxcpus=lots");
    let text = std::format!("{}", args.warnings.get(0).unwrap());
    assert!(
        text.contains("maxcpus=lots") && text.contains("CPU count"),
        "{text}"
    );
    let text = std::format!("{}", Warning::UnterminatedQuote { token: "x=\"y" });
    assert!(text.contains("x=\"y"), "{text}");
}

#[test]
fn ktest_filter() {
    for filter in ["", "all", " , ", "ALL,all"] {
        assert!(
            ktest_filter_matches(filter, "mm::alloc_frames"),
            "{filter:?}"
        );
    }
    assert!(ktest_filter_matches("alloc,map", "mm::alloc_frames"));
    assert!(ktest_filter_matches("alloc,map", "vm::map_user"));
    assert!(!ktest_filter_matches("alloc,map", "sched::yield"));
    assert!(!ktest_filter_matches("alloc,!frames", "mm::alloc_frames"));
    assert!(ktest_filter_matches("alloc,!frames", "mm::alloc_pages"));
    assert!(ktest_filter_matches("!slow", "fs::open"));
    assert!(!ktest_filter_matches("!slow", "fs::slow_read"));
    assert!(!ktest_filter_matches("all,!slow", "fs::slow_read"));
    assert!(ktest_filter_matches("all,!slow", "fs::read"));
    assert!(ktest_filter_matches("!", "anything"));
    assert!(ktest_filter_matches(" alloc ", "mm::alloc"));
    assert!(!ktest_filter_matches("ALLOC", "mm::alloc"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any input parses without panicking, and every key or value is a
    /// substring of the input (no invented text).
    #[test]
    fn never_panics(line in r#"[a-z= "\-\t,!é€]{0,40}"#) {
        let args = KernelArgs::parse(&line);
        for param in args.unknown.iter() {
            prop_assert!(line.contains(param.key) && !param.key.is_empty());
            prop_assert!(param.value.is_none_or(|v| line.contains(v)));
        }
        for word in args.init_args.iter() {
            prop_assert!(line.contains(word));
        }
        let _ = std::format!("{:?}", args.warnings);
        for warning in args.warnings.iter() {
            let _ = std::format!("{warning}");
        }
    }

    /// Plain `key=value` tokens separated by any whitespace round-trip.
    #[test]
    fn plain_tokens_round_trip(
        pairs in prop::collection::vec(("[a-z_]{1,8}", prop::option::of("[a-z0-9/.,]{0,8}")), 0..10),
        sep in r"[ \t\n]{1,3}",
    ) {
        let mut line = std::string::String::new();
        for (key, value) in &pairs {
            line.push_str(key);
            if let Some(value) = value {
                line.push('=');
                line.push_str(value);
            }
            line.push_str(&sep);
        }
        let parsed: Vec<_> = params(&line).collect();
        let expected: Vec<_> = pairs.iter().map(|(k, v)| Ok(p(k, v.as_deref()))).collect();
        prop_assert_eq!(parsed, expected);
    }
}

#[test]
fn other_params_go_to_init_as_linux_passes_them() {
    // Linux's unknown_bootoption(): `key=value` → init's environment,
    // a bare word → init's argv, a `mod.key` module param or a param the
    // kernel consumes → neither.
    let args = KernelArgs::parse(
        r#"console=ttyS0 OP=read N=10 single foo.bar=1 quiet "MSG=a b" N=20 emergency -- x"#,
    );
    let env: Vec<_> = args.init_env.iter().collect();
    assert_eq!(env, [p("OP", Some("read")), p("N", Some("20")), p("MSG", Some("a b"))]);
    assert_eq!(args.init_words.iter().collect::<Vec<_>>(), ["single", "emergency"]);
    assert_eq!(
        args.unknown.iter().collect::<Vec<_>>(),
        [p("console", Some("ttyS0")), p("foo.bar", Some("1"))]
    );
    assert_eq!(args.init_args.iter().collect::<Vec<_>>(), ["x"]);
    assert!(args.quiet);
    // Beyond the limit, the extra ones are counted as dropped.
    let mut line = std::string::String::new();
    for i in 0..MAX_INIT_ENV_ARGS + 2 {
        line.push_str(&std::format!("E{i}=v w{i} "));
    }
    let args = KernelArgs::parse(&line);
    assert_eq!((args.init_env.len(), args.init_env.dropped()), (MAX_INIT_ENV_ARGS, 2));
    assert_eq!((args.init_words.len(), args.init_words.dropped()), (MAX_INIT_ENV_ARGS, 2));
}

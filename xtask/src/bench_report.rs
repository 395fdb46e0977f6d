//! The outputs of `cargo xtask bench`: the terminal table, the JSON file
//! with every raw figure, docs/benchmarks.md and docs/benchmarks.png.
//!
//! Ratio = Ferrite / Linux for times and sizes (ns, ms, KiB) and Linux /
//! Ferrite for rates (MB/s), so a ratio below 1 always means Ferrite is
//! better. docs/benchmarks.md is regenerated whole except the block between
//! [`NOTES_BEGIN`] and [`NOTES_END`], which is kept from the previous file
//! (hand-written analysis of the figures).

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::bench::{Kernel, NOT_YET, ROWS, Results};
use crate::bench_png;
use crate::qemu;
use crate::util::{self, Result};

pub const NOTES_BEGIN: &str = "<!-- notes: kept when this file is regenerated -->";
pub const NOTES_END: &str = "<!-- end of notes -->";

/// Ferrite/Linux for times, Linux/Ferrite for rates: < 1 = Ferrite better.
pub fn ratio(unit: &str, ferrite: f64, linux: f64) -> f64 {
    if unit.ends_with("/s") {
        linux / ferrite
    } else {
        ferrite / linux
    }
}

/// One table row: the figures as text and the ratios.
struct Line {
    name: &'static str,
    unit: String,
    cells: Vec<String>,
    /// Against Linux, and against Linux with mitigations=off (full mode).
    ratios: Vec<Option<f64>>,
}

fn kernels(results: &Results) -> Vec<Kernel> {
    let mut k = vec![Kernel::Ferrite, Kernel::Linux];
    if results.run(Kernel::LinuxMitigationsOff).is_some() {
        k.push(Kernel::LinuxMitigationsOff);
    }
    k
}

fn fmt_value(v: f64) -> String {
    if v >= 1000.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn lines(results: &Results) -> Vec<Line> {
    let ks = kernels(results);
    ROWS.iter()
        .map(|row| {
            let figs: Vec<_> = ks
                .iter()
                .map(|&k| results.figure(k, row.name).cloned())
                .collect();
            let unit = figs
                .iter()
                .flatten()
                .find_map(|f| f.valid().map(|(_, u)| u.to_string()))
                .unwrap_or_default();
            let cells = figs
                .iter()
                .map(|f| match f {
                    Some(f) => match f.valid() {
                        Some((v, _)) => fmt_value(v),
                        None => "n/a".into(),
                    },
                    None => "n/a".into(),
                })
                .collect();
            let ferrite = figs[0].as_ref().and_then(|f| f.valid());
            let ratios = figs[1..]
                .iter()
                .map(|l| {
                    let (fv, fu) = ferrite?;
                    let (lv, lu) = l.as_ref()?.valid()?;
                    (fu == lu).then(|| ratio(fu, fv, lv))
                })
                .collect();
            Line {
                name: row.name,
                unit,
                cells,
                ratios,
            }
        })
        .collect()
}

fn verdict(r: Option<f64>) -> &'static str {
    match r {
        Some(r) if r < 1.0 => "better",
        Some(r) if r > 1.0 => "worse",
        Some(_) => "equal",
        None => "n/a",
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{r:.2}"))
}

fn headers(results: &Results) -> Vec<&'static str> {
    let full = kernels(results).len() == 3;
    let mut h = vec!["benchmark", "unit", "Ferrite", "Linux"];
    if full {
        h.push("Linux m=off");
    }
    h.push("ratio");
    if full {
        h.push("ratio m=off");
    }
    h.push("Ferrite is");
    h
}

fn cells_of(line: &Line) -> Vec<String> {
    let mut c = vec![line.name.to_string(), line.unit.clone()];
    c.extend(line.cells.iter().cloned());
    c.extend(line.ratios.iter().map(|&r| fmt_ratio(r)));
    c.push(verdict(line.ratios[0]).to_string());
    c
}

/// The terminal table.
pub fn table(results: &Results) -> String {
    let head = headers(results);
    let rows: Vec<Vec<String>> = lines(results).iter().map(cells_of).collect();
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let fmt_row = |out: &mut String, cells: &[String]| {
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i < 2 {
                let _ = write!(out, "{c:<w$}  ");
            } else {
                let _ = write!(out, "{c:>w$}  ");
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    };
    let head: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    fmt_row(&mut out, &head);
    for r in &rows {
        fmt_row(&mut out, r);
    }
    let _ = writeln!(
        out,
        "ratio: Ferrite/Linux for ns, ms, KiB; Linux/Ferrite for MB/s (< 1: Ferrite better)"
    );
    out
}

// ---- machine details --------------------------------------------------------

struct Machine {
    date: String,
    qemu: String,
    cpu: String,
    cpus: usize,
}

fn machine() -> Machine {
    let run = |cmd: &mut Command| {
        cmd.output()
            .ok()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default()
    };
    let date = run(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]));
    let qemu = run(Command::new(qemu::binary()).arg("--version"));
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    Machine {
        date,
        qemu,
        cpu,
        cpus,
    }
}

fn qemu_flags() -> String {
    let accel = std::env::var("FERRITE_ACCEL").unwrap_or_else(|_| "tcg".into());
    format!(
        "-machine q35 -cpu max -accel {accel} -smp 2 -m 1G {}",
        crate::bench::EXTRA_QEMU_FLAGS.join(" ")
    )
}

fn command(results: &Results) -> &'static str {
    if results.quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    }
}

// ---- JSON -------------------------------------------------------------------

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "null".into(),
    }
}

/// The JSON document: machine, every run with its raw figures and serial
/// lines, and the table rows with their ratios.
pub fn json(results: &Results) -> String {
    let m = machine();
    let mut o = String::from("{\n");
    let _ = writeln!(o, "  \"command\": {},", json_str(command(results)));
    let _ = writeln!(o, "  \"quick\": {},", results.quick);
    let _ = writeln!(o, "  \"date\": {},", json_str(&m.date));
    let _ = writeln!(o, "  \"qemu\": {},", json_str(&m.qemu));
    let _ = writeln!(o, "  \"qemu_flags\": {},", json_str(&qemu_flags()));
    let _ = writeln!(o, "  \"host_cpu\": {},", json_str(&m.cpu));
    let _ = writeln!(o, "  \"host_cpus\": {},", m.cpus);
    let _ = writeln!(o, "  \"linux_image\": {},", json_str(&results.linux_image));
    o.push_str("  \"runs\": [\n");
    for (i, run) in results.runs.iter().enumerate() {
        o.push_str("    {\n");
        let _ = writeln!(o, "      \"kernel\": {},", json_str(run.kernel.tag()));
        let _ = writeln!(o, "      \"append\": {},", json_str(&run.append));
        let _ = writeln!(o, "      \"exit\": {},", json_str(&run.exit));
        let _ = writeln!(o, "      \"elapsed_s\": {:.3},", run.elapsed.as_secs_f64());
        let problems: Vec<String> = run.problems.iter().map(|p| json_str(p)).collect();
        let _ = writeln!(o, "      \"problems\": [{}],", problems.join(", "));
        o.push_str("      \"figures\": {");
        let figs: Vec<String> = run
            .figures
            .iter()
            .map(|(name, f)| {
                let body = match f {
                    crate::bench::Figure::Value {
                        value,
                        unit,
                        best,
                        samples,
                    } => {
                        let mut body = format!(
                            "{{\"value\": {}, \"unit\": {}",
                            json_num(Some(*value)),
                            json_str(unit)
                        );
                        if best.is_some() {
                            let _ = write!(body, ", \"best\": {}", json_num(*best));
                        }
                        if !samples.is_empty() {
                            let s: Vec<String> =
                                samples.iter().map(|v| json_num(Some(*v))).collect();
                            let _ = write!(body, ", \"samples\": [{}]", s.join(", "));
                        }
                        body.push('}');
                        body
                    }
                    crate::bench::Figure::Error(e) => format!("{{\"error\": {e}}}"),
                };
                format!("\n        {}: {body}", json_str(name))
            })
            .collect();
        o.push_str(&figs.join(","));
        o.push_str("\n      },\n");
        let lines: Vec<String> = run
            .lines
            .iter()
            .map(|l| format!("\n        {}", json_str(l)))
            .collect();
        let _ = writeln!(o, "      \"serial\": [{}\n      ]", lines.join(","));
        o.push_str(if i + 1 < results.runs.len() {
            "    },\n"
        } else {
            "    }\n"
        });
    }
    o.push_str("  ],\n  \"rows\": [\n");
    let ls = lines(results);
    for (i, l) in ls.iter().enumerate() {
        let _ = write!(
            o,
            "    {{\"name\": {}, \"unit\": {}, \"ratio\": {}, \"ratio_mitigations_off\": {}}}",
            json_str(l.name),
            json_str(&l.unit),
            json_num(l.ratios[0]),
            json_num(l.ratios.get(1).copied().flatten())
        );
        o.push_str(if i + 1 < ls.len() { ",\n" } else { "\n" });
    }
    o.push_str("  ]\n}\n");
    o
}

/// Writes `target/bench/results.json` (`results-quick.json` for `--quick`).
pub fn write_json(results: &Results) -> Result<PathBuf> {
    let dir = util::root().join("target").join("bench");
    fs::create_dir_all(&dir)?;
    let path = dir.join(if results.quick {
        "results-quick.json"
    } else {
        "results.json"
    });
    fs::write(&path, json(results))?;
    Ok(path)
}

// ---- docs -------------------------------------------------------------------

/// Writes docs/benchmarks.md (keeping its notes block) and
/// docs/benchmarks.png.
pub fn write_docs(results: &Results) -> Result<(PathBuf, PathBuf)> {
    let docs = util::root().join("docs");
    fs::create_dir_all(&docs)?;
    let md_path = docs.join("benchmarks.md");
    let old = fs::read_to_string(&md_path).unwrap_or_default();
    let notes = kept_notes(&old).unwrap_or_else(|| default_notes(results));
    fs::write(&md_path, markdown(results, &notes))?;
    let png_path = docs.join("benchmarks.png");
    let bars: Vec<(String, f64)> = lines(results)
        .iter()
        .filter_map(|l| Some((l.name.to_string(), l.ratios[0]?)))
        .collect();
    let title = format!(
        "Ferrite / Linux under QEMU TCG ({})",
        results.linux_image.trim_start_matches("vmlinuz-")
    );
    fs::write(&png_path, bench_png::chart(&title, &bars))?;
    Ok((md_path, png_path))
}

/// The notes block of an existing docs page, markers included.
fn kept_notes(old: &str) -> Option<String> {
    let b = old.find(NOTES_BEGIN)?;
    let e = old[b..].find(NOTES_END)? + b + NOTES_END.len();
    Some(old[b..e].to_string())
}

fn default_notes(results: &Results) -> String {
    let mut s = format!("{NOTES_BEGIN}\n");
    for l in lines(results) {
        if let Some(r) = l.ratios[0].filter(|&r| r > 1.0) {
            let _ = writeln!(s, "- `{}` ({r:.2}): not yet profiled.", l.name);
        }
    }
    s.push_str(NOTES_END);
    s
}

fn markdown(results: &Results, notes: &str) -> String {
    let m = machine();
    let mut o = String::new();
    o.push_str("# Benchmarks: Ferrite vs Linux\n\n");
    o.push_str(
        "Generated by `cargo xtask bench` from `target/bench/results.json`; edit only \
         the notes section (it is kept when the page is regenerated). The same \
         benchmark programs (`user/bench/`, static musl C) run on Ferrite and on \
         Debian's cloud kernel, booted by the same QEMU command with the same \
         benchmark initramfs (`target/ferrite/bench.cpio`: `/bench/*` and busybox; \
         `rdinit=/bench/run quiet`), in one run. Each figure is the median \
         of 5 repetitions, each calibrated to about 300 ms (40 ms with `--quick`, 3 repetitions); \
         `target/bench/results.json` also has the fastest repetition (`best`). \
         `boot_to_init` is the fastest of 3 boots of each kernel (2 with `--quick`).\n\n",
    );
    let _ = writeln!(o, "Command: `{}`\n", command(results));
    let _ = writeln!(
        o,
        "Machine: {} ({} host CPUs); {}; guest `{}` (TCG: every figure is emulated \
         time, not native); Linux `{}`; {}.\n",
        m.cpu,
        m.cpus,
        m.qemu,
        qemu_flags(),
        results.linux_image,
        m.date
    );
    o.push_str(
        "Ratio: Ferrite / Linux for times and sizes (ns, ms, KiB), Linux / Ferrite \
         for bandwidths (MB/s): **below 1 means Ferrite is better**. \
         \"m=off\" is Linux booted with `mitigations=off`.\n\n",
    );
    let head = headers(results);
    let _ = writeln!(o, "| {} |", head.join(" | "));
    let _ = writeln!(
        o,
        "|{}",
        head.iter()
            .enumerate()
            .map(|(i, _)| if i < 2 { " --- |" } else { " ---: |" })
            .collect::<String>()
    );
    for l in lines(results) {
        let mut c = cells_of(&l);
        c[0] = format!("`{}`", c[0]);
        let _ = writeln!(o, "| {} |", c.join(" | "));
    }
    o.push_str("\n![Ferrite/Linux ratios, log scale](benchmarks.png)\n\n");
    let problems: Vec<String> = results
        .runs
        .iter()
        .flat_map(|r| {
            r.problems
                .iter()
                .map(move |p| format!("- {}: {p}", r.kernel.tag()))
        })
        .collect();
    if !problems.is_empty() {
        o.push_str("Problems in this run:\n\n");
        o.push_str(&problems.join("\n"));
        o.push_str("\n\n");
    }
    o.push_str("## Where Ferrite is worse and why (first guesses, to be profiled)\n\n");
    o.push_str(notes);
    o.push_str("\n\n## What each row measures\n\n");
    for row in ROWS {
        let _ = writeln!(o, "- `{}`: {}.", row.name, row.what);
    }
    if !NOT_YET.is_empty() {
        o.push_str("\n## Not measured yet\n\n");
        for (name, needs) in NOT_YET {
            let _ = writeln!(o, "- `{name}`: not yet, needs {needs}.");
        }
    }
    o.push_str(
        "\n`cargo xtask bench --quick` (shorter repetitions, no `mitigations=off` \
         boot) is the last step of `cargo xtask test`: it counts one passed test \
         per row with a valid figure on both kernels and never compares figures \
         with thresholds.\n",
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_below_one_when_ferrite_is_better() {
        assert_eq!(ratio("ns", 100.0, 200.0), 0.5);
        assert_eq!(ratio("MB/s", 200.0, 100.0), 0.5);
        assert_eq!(ratio("KiB", 300.0, 100.0), 3.0);
    }

    #[test]
    fn notes_survive_regeneration() {
        let old = format!("# x\n\n{NOTES_BEGIN}\nhand text\n{NOTES_END}\nrest");
        assert_eq!(
            kept_notes(&old).unwrap(),
            format!("{NOTES_BEGIN}\nhand text\n{NOTES_END}")
        );
        assert!(kept_notes("# x").is_none());
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}

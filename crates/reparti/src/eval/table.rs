//! The evaluation as text: the table printed, and the CSV written.

use super::model::{case_names, symbol, Claim, Evaluation};
use std::fmt::Write as _;

/// Integers without decimals, others with two.
fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A claim as the table shows it: mark, formula, value(s), the runs that declared it.
fn claim_text(c: &Claim, all_cases: usize) -> String {
    let mark = if c.failed > 0 {
        format!("✗ ({} of {} failed)", c.failed, c.held + c.failed + c.unchecked)
    } else if c.held > 0 {
        "✓".into()
    } else {
        "–".into()
    };
    let sym = symbol(c.kind);
    let value = match (c.kind, c.value_min == c.value_max) {
        ("between", _) => format!("[{}, {}]", fmt(c.value_min), fmt(c.value_max)),
        (_, true) => fmt(c.value_min),
        (_, false) => format!("{}…{} (per run)", fmt(c.value_min), fmt(c.value_max)),
    };
    let whose = if c.cases.len() == all_cases { String::new() } else { format!(" ({} ids)", case_names(&c.cases)) };
    format!("{mark} {} {sym} {value}{whose}", c.formula)
}

pub fn table(e: &Evaluation) -> String {
    let mut o = String::new();
    let also = if e.cases.len() > 1 { "; one run each with desc and asc ids" } else { "" };
    let _ = writeln!(
        o,
        "{} on a {} · random ids: {} run{} per size (seeds {}..={}){also}",
        e.algorithm,
        e.topology,
        e.runs,
        if e.runs == 1 { "" } else { "s" },
        e.seeds[0],
        e.seeds[1]
    );
    // Wide enough for the longest figure (`after:passive→announce:TOKEN`).
    let w = e.sizes.iter().flat_map(|s| s.counts.keys()).map(|k| k.chars().count()).fold(10, usize::max);
    let _ = writeln!(
        o,
        "\n{:>7}  {:<w$} {:>10} {:>12} {:>10} {:>10} {:>10}   expected",
        "n", "figure", "min", "mean", "max", "desc", "asc"
    );
    let pad = " ".repeat(7 + 2 + w + 1 + 10 + 1 + 12 + 1 + 10 + 1 + 10 + 1 + 10 + 3);
    for s in &e.sizes {
        for (i, (fig, c)) in s.counts.iter().enumerate() {
            let n = if i == 0 { s.n.to_string() } else { String::new() };
            let (min, mean, max) = match c.random {
                Some(r) => (fmt(r.min), fmt(r.mean), fmt(r.max)),
                None => ("–".into(), "–".into(), "–".into()),
            };
            let opt = |v: Option<f64>| v.map(fmt).unwrap_or_else(|| "–".into());
            let _ =
                write!(o, "{n:>7}  {fig:<w$} {min:>10} {mean:>12} {max:>10} {:>10} {:>10}", opt(c.desc), opt(c.asc));
            let claims: Vec<String> =
                s.expected.iter().filter(|x| &x.figure == fig).map(|x| claim_text(x, e.cases.len())).collect();
            let _ = writeln!(
                o,
                "{}",
                if claims.is_empty() { String::new() } else { format!("   {}", claims.join(&format!("\n{pad}"))) }
            );
        }
    }
    if e.failures.is_empty() {
        let _ = writeln!(o, "\nverdict: every property and every asserted count held in all runs");
    } else {
        let _ = writeln!(o, "\nverdict: SOMETHING FAILED in {} place(s):", e.failures.len());
        for f in e.failures.iter().take(10) {
            let _ = writeln!(o, "  {f}");
        }
    }
    o
}

/// A long table, one row per measured case or claim: easy to filter in a spreadsheet.
/// Fields are quoted only where they must be (a formula with a comma, say); numbers are
/// written as Rust writes them, so a count reads `12`, not `12.0`.
pub fn csv_table(e: &Evaluation) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["n", "figure", "row", "ids", "formula", "min", "mean", "max", "held", "failed", "unchecked"])?;
    for s in &e.sizes {
        let n = s.n.to_string();
        for (fig, c) in &s.counts {
            if let Some(r) = c.random {
                let (min, mean, max) = (r.min.to_string(), r.mean.to_string(), r.max.to_string());
                w.write_record([&n, fig, "measured", "random", "", &min, &mean, &max, "", "", ""])?;
            }
            for (ids, v) in [("desc", c.desc), ("asc", c.asc)] {
                if let Some(v) = v {
                    let v = v.to_string();
                    w.write_record([&n, fig, "measured", ids, "", &v, &v, &v, "", "", ""])?;
                }
            }
        }
        for c in &s.expected {
            w.write_record([
                n.as_str(),
                &c.figure,
                c.kind,
                &case_names(&c.cases),
                &c.formula,
                &c.value_min.to_string(),
                "",
                &c.value_max.to_string(),
                &c.held.to_string(),
                &c.failed.to_string(),
                &c.unchecked.to_string(),
            ])?;
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("cannot write the CSV table: {e}"))?;
    String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("the CSV table is not UTF-8: {e}"))
}

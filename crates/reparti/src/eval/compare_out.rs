//! A comparison as text and pictures: the table printed, the CSV written, and the plots
//! (messages per unit; with `--since`, the mean wait of a unit), one curve per algorithm.

use super::compare::Comparison;
use super::model::Spread;
use reparti_viz::plot::{Plot, Point, Series, Style, PALETTE};
use std::fmt::Write as _;

/// Two decimals, or none for a whole number.
fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// `mean (min–max)`, or the mean alone when every run agreed.
fn spread_text(s: Option<Spread>) -> String {
    match s {
        None => "–".into(),
        Some(s) if s.min == s.max => fmt(s.mean),
        Some(s) => format!("{} ({}–{})", fmt(s.mean), fmt(s.min), fmt(s.max)),
    }
}

/// "-p buffer=16 -p items=4", or "defaults".
fn params_text(c: &Comparison) -> String {
    if c.shared_params.is_empty() {
        "each algorithm's default parameters".into()
    } else {
        c.shared_params.iter().map(|p| format!("-p {p}")).collect::<Vec<_>>().join(" ")
    }
}

fn wait_label(c: &Comparison) -> Option<String> {
    c.since.as_ref().map(|s| format!("wait {s}→{}", c.per))
}

pub fn table(c: &Comparison) -> String {
    let mut o = String::new();
    let width = c.curves.iter().map(|k| k.algorithm.chars().count()).max().unwrap_or(9).max(9);
    let _ = writeln!(
        o,
        "comparing per '{}' with {} · delay {} · {} run{} per size (seeds {}..={})",
        c.per,
        params_text(c),
        c.delay,
        c.runs,
        if c.runs == 1 { "" } else { "s" },
        c.seeds[0],
        c.seeds[1]
    );
    let wait = wait_label(c).unwrap_or_default();
    let _ = writeln!(
        o,
        "\n{:>5}  {:<width$}  {:>7}  {:>22}  {:>24}   messages per {} by type",
        "n", "algorithm", c.per, "messages per unit", wait, c.per
    );
    let sizes: Vec<usize> = c.curves.first().map(|k| k.sizes.iter().map(|m| m.n).collect()).unwrap_or_default();
    for (i, &n) in sizes.iter().enumerate() {
        for (j, curve) in c.curves.iter().enumerate() {
            let Some(m) = curve.sizes.get(i) else { continue };
            let shown_n = if j == 0 { n.to_string() } else { String::new() };
            let types: Vec<String> = m.by_type.iter().map(|(k, v)| format!("{k} {}", fmt(*v))).collect();
            let wait = if c.since.is_some() { spread_text(m.wait) } else { String::new() };
            let _ = write!(
                o,
                "{shown_n:>5}  {:<width$}  {:>7}  {:>22}  {wait:>24}   {}",
                curve.algorithm,
                fmt(m.units),
                spread_text(m.per_unit),
                types.join(" · ")
            );
            if m.unmatched > 0 {
                let _ = write!(o, "   ({} without a '{}')", m.unmatched, c.since.as_deref().unwrap_or(""));
            }
            o.push('\n');
        }
    }
    o.push('\n');
    for curve in &c.curves {
        let p: Vec<String> = curve.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(o, "{:<width$}  {}", curve.algorithm, p.join(", "));
    }
    if c.failures.is_empty() {
        let _ = writeln!(o, "\nverdict: every property and every asserted count held in all runs");
    } else {
        let _ = writeln!(o, "\nverdict: SOMETHING FAILED in {} place(s):", c.failures.len());
        for f in c.failures.iter().take(10) {
            let _ = writeln!(o, "  {f}");
        }
    }
    o
}

/// Messages per unit and, with `--since`, the mean wait: one curve per algorithm, in the
/// same colour on both.
pub fn plots(c: &Comparison) -> Vec<Plot> {
    let per = &c.per;
    let figure = |label: &str, y: &str, pick: &dyn Fn(&super::compare::Measured) -> Option<Spread>| {
        let title = format!("{label} ({}, delay {})", params_text(c), c.delay);
        let mut p = Plot::new(title, "nodes n (log scale)", y);
        for (i, curve) in c.curves.iter().enumerate() {
            let points: Vec<Point> = curve
                .sizes
                .iter()
                .filter_map(|m| pick(m).map(|s| Point::with_range(m.n as f64, s.mean, s.min, s.max)))
                .collect();
            let name =
                if c.runs > 1 { format!("{} (mean, min–max)", curve.algorithm) } else { curve.algorithm.clone() };
            p.series.push(Series::new(name, Style::Measured, points).color(PALETTE[i % PALETTE.len()]));
        }
        p
    };
    let mut out = vec![figure(&format!("messages per '{per}'"), &format!("messages per {per}"), &|m| m.per_unit)];
    if let Some(since) = &c.since {
        out.push(figure(&format!("mean wait from '{since}' to '{per}'"), "simulated time units", &|m| m.wait));
    }
    out
}

/// One row per algorithm and size.
pub fn csv_table(c: &Comparison) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "algorithm",
        "n",
        "units",
        "per_unit_min",
        "per_unit_mean",
        "per_unit_max",
        "wait_min",
        "wait_mean",
        "wait_max",
    ];
    w.write_record(header)?;
    let text = |s: Option<Spread>, f: fn(&Spread) -> f64| s.as_ref().map(|s| f(s).to_string()).unwrap_or_default();
    for curve in &c.curves {
        for m in &curve.sizes {
            w.write_record([
                curve.algorithm.clone(),
                m.n.to_string(),
                m.units.to_string(),
                text(m.per_unit, |s| s.min),
                text(m.per_unit, |s| s.mean),
                text(m.per_unit, |s| s.max),
                text(m.wait, |s| s.min),
                text(m.wait, |s| s.mean),
                text(m.wait, |s| s.max),
            ])?;
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("cannot write the CSV table: {e}"))?;
    String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("the CSV table is not UTF-8: {e}"))
}

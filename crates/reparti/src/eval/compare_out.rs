//! A comparison as text and pictures: the table printed, the CSV written, and the plots
//! — messages per unit beside each algorithm's own formula (dashed, in the curve's
//! colour); with `--since`, the mean wait of a unit; where `--per` opens a span, the
//! response time and the synchronization delay — one curve per algorithm, against n or
//! against the parameter `--vary` sweeps.

use super::compare::{Comparison, Formula, Measured};
use super::model::{symbol, Spread};
use reparti_viz::plot::{Plot, Point, Scale, Series, Style, PALETTE};
use std::fmt::Write as _;

/// Two decimals, or none for a whole number (up to the rounding of a mean).
fn fmt(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 && v.abs() < 1e15 {
        format!("{:.0}", v.round())
    } else {
        format!("{v:.2}")
    }
}

/// `mean (min–max)`, or the mean alone when every run agreed.
fn spread_text(s: Option<Spread>) -> String {
    match s {
        None => "–".into(),
        Some(s) if fmt(s.min) == fmt(s.max) => fmt(s.mean),
        Some(s) => format!("{} ({}–{})", fmt(s.mean), fmt(s.min), fmt(s.max)),
    }
}

/// `= 14`, `≤ 14`, `0 … 8`: the formula's value per unit.
fn formula_text(f: Option<&Formula>) -> String {
    match f {
        None => "–".into(),
        Some(f) if f.kind == "between" => format!("{} … {}", fmt(f.low), fmt(f.high)),
        Some(f) => format!("{} {}", symbol(f.kind), fmt(f.high)),
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

/// The size every point shares when a parameter is swept.
fn swept_size(c: &Comparison) -> Option<usize> {
    c.vary.as_ref().and(c.curves.first()?.sizes.first().map(|m| m.n))
}

/// What the x axis shows.
fn x_name(c: &Comparison) -> String {
    c.vary.clone().unwrap_or_else(|| "n".into())
}

/// What every run shared, short enough for a title: the size swept at, the `-p`
/// parameters, the delay.
fn setting(c: &Comparison) -> String {
    let mut parts: Vec<String> = swept_size(c).map(|n| format!("n = {n}")).into_iter().collect();
    parts.extend(c.shared_params.iter().cloned());
    parts.push(format!("delay {}", c.delay));
    parts.join(", ")
}

/// The output that closes the spans, when every curve agrees on it (`exit_cs`).
fn closes_name(c: &Comparison) -> String {
    let mut names = c.curves.iter().filter_map(|k| k.closes.as_deref());
    match names.next() {
        Some(first) if names.all(|n| n == first) => first.to_string(),
        _ => "the span's close".into(),
    }
}

pub fn table(c: &Comparison) -> String {
    let mut o = String::new();
    let width = c.curves.iter().map(|k| k.algorithm.chars().count()).max().unwrap_or(9).max(9);
    let swept = match (&c.vary, swept_size(c)) {
        (Some(p), Some(n)) => format!(" against {p} at n = {n}"),
        _ => String::new(),
    };
    let _ = writeln!(
        o,
        "comparing per '{}'{swept} with {} · delay {} · {} run{} per {} (seeds {}..={}) · times in {}",
        c.per,
        params_text(c),
        c.delay,
        c.runs,
        if c.runs == 1 { "" } else { "s" },
        if c.vary.is_some() { "value" } else { "size" },
        c.seeds[0],
        c.seeds[1],
        c.time_unit
    );
    let wait = wait_label(c).unwrap_or_default();
    let x = x_name(c);
    let _ = writeln!(
        o,
        "\n{x:>6}  {:<width$}  {:>8}  {:>22}  {:>9}  {:>22}  {:>22}  {:>20}   messages per {} by type",
        "algorithm", c.per, "messages per unit", "formula", wait, "response", "sync delay", c.per
    );
    let points = c.curves.first().map_or(0, |k| k.sizes.len());
    for i in 0..points {
        for (j, curve) in c.curves.iter().enumerate() {
            let Some(m) = curve.sizes.get(i) else { continue };
            let shown_x = if j == 0 { fmt(m.x()) } else { String::new() };
            let types: Vec<String> = m.by_type.iter().map(|(k, v)| format!("{k} {}", fmt(*v))).collect();
            let wait = if c.since.is_some() { spread_text(m.wait) } else { String::new() };
            let _ = write!(
                o,
                "{shown_x:>6}  {:<width$}  {:>8}  {:>22}  {:>9}  {wait:>22}  {:>22}  {:>20}   {}",
                curve.algorithm,
                fmt(m.units),
                spread_text(m.per_unit),
                formula_text(m.formula.as_ref()),
                spread_text(m.response),
                spread_text(m.sync_delay),
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
        let p: Vec<String> = curve
            .params
            .iter()
            .map(|(k, v)| if c.vary.as_ref() == Some(k) { format!("{k}=(swept)") } else { format!("{k}={v}") })
            .collect();
        let formula = curve
            .sizes
            .iter()
            .find_map(|m| m.formula.as_ref())
            .map(|f| format!(" · formula: total {} {}", symbol(f.kind), f.formula))
            .unwrap_or_default();
        let _ = writeln!(o, "{:<width$}  {}{formula}", curve.algorithm, p.join(", "));
    }
    if c.curves.iter().any(|k| k.closes.is_some()) {
        let closes = closes_name(c);
        let _ = writeln!(
            o,
            "\nresponse: '{}' → the '{closes}' that ends its '{}'; sync delay: '{closes}' → the next '{}' at \
             another node that was already waiting",
            c.since.as_deref().unwrap_or("--since"),
            c.per,
            c.per
        );
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

/// Messages per unit beside each formula (dashed: the formula's total divided by the
/// units done); the mean wait, the response time and the
/// synchronization delay where measured: one curve per algorithm, in the same colour
/// on every plot.
pub fn plots(c: &Comparison) -> Vec<Plot> {
    let per = &c.per;
    let x_label = match &c.vary {
        Some(p) => format!("{p} (log scale)"),
        None => "nodes n (log scale)".into(),
    };
    let figure = |label: &str, y: &str, pick: &dyn Fn(&Measured) -> Option<Spread>| {
        let mut p = Plot::new(format!("{label} · {}", setting(c)), x_label.as_str(), y);
        for (i, curve) in c.curves.iter().enumerate() {
            let points: Vec<Point> = curve
                .sizes
                .iter()
                .filter_map(|m| pick(m).map(|s| Point::with_range(m.x(), s.mean, s.min, s.max)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let name =
                if c.runs > 1 { format!("{} (mean, min–max)", curve.algorithm) } else { curve.algorithm.clone() };
            p.series.push(Series::new(name, Style::Measured, points).color(PALETTE[i % PALETTE.len()]));
        }
        // Times from one message delay to a long queue (or a free re-entry beside n
        // messages) only read well on a log axis.
        let ys: Vec<f64> = p.series.iter().flat_map(|s| &s.points).map(|q| q.y).filter(|&y| y > 0.0).collect();
        let (lo, hi) = ys.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        if hi / lo > 20.0 {
            p.y_scale = Scale::Log;
        }
        p
    };
    let mut messages = figure(&format!("messages per '{per}'"), &format!("messages per {per}"), &|m| m.per_unit);
    for (i, curve) in c.curves.iter().enumerate() {
        messages.series.extend(formula_series(curve.algorithm.as_str(), &curve.sizes, PALETTE[i % PALETTE.len()]));
    }
    // Costs that span two decades (n against n² or log n) only read well on a log axis;
    // else linear, where a free entry (0 messages) shows too.
    let ys: Vec<f64> = messages.series.iter().flat_map(|s| &s.points).map(|q| q.y).filter(|&y| y > 0.0).collect();
    let (lo, hi) = ys.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    messages.y_scale = if hi / lo > 100.0 { Scale::Log } else { Scale::Linear };
    let mut out = vec![messages];
    if let Some(since) = &c.since {
        out.push(figure(&format!("mean wait from '{since}' to '{per}'"), c.time_unit.as_str(), &|m| m.wait));
    }
    let closes = closes_name(c);
    if c.curves.iter().flat_map(|k| &k.sizes).any(|m| m.response.is_some()) {
        let since = c.since.as_deref().unwrap_or("--since");
        out.push(figure(&format!("response time, {since} → {closes}"), c.time_unit.as_str(), &|m| m.response));
    }
    if c.curves.iter().flat_map(|k| &k.sizes).any(|m| m.sync_delay.is_some()) {
        let label = format!("synchronization delay, {closes} → next {per}");
        out.push(figure(&label, c.time_unit.as_str(), &|m| m.sync_delay));
    }
    out
}

/// An algorithm's `total` formula per unit as a dashed curve in its colour, named by
/// the formula (the y axis says it is per unit): the value (exact), the bound (at
/// most), or both ends of a range (the lower one when above 0).
fn formula_series(algorithm: &str, sizes: &[Measured], color: &str) -> Vec<Series> {
    let Some(first) = sizes.iter().find_map(|m| m.formula.as_ref()) else { return Vec::new() };
    let style = if first.kind == "reference" { Style::Reference } else { Style::Expected };
    let ends = |pick: fn(&Formula) -> f64| -> Vec<Point> {
        sizes.iter().filter_map(|m| m.formula.as_ref().map(|f| Point::at(m.x(), pick(f)))).collect()
    };
    let name = format!("{algorithm} {} {}", symbol(first.kind), first.formula);
    let mut out = vec![Series::new(name, style, ends(|f| f.high)).color(color)];
    if first.kind == "between" && sizes.iter().filter_map(|m| m.formula.as_ref()).any(|f| f.low > 0.0) {
        out.push(Series::new(format!("{algorithm} (lower end)"), style, ends(|f| f.low)).color(color));
    }
    out
}

/// One row per algorithm and point.
pub fn csv_table(c: &Comparison) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "algorithm",
        "n",
        "units",
        "per_unit_min",
        "per_unit_mean",
        "per_unit_max",
        "wait_min",
        "wait_mean",
        "wait_max",
        "response_min",
        "response_mean",
        "response_max",
        "sync_delay_min",
        "sync_delay_mean",
        "sync_delay_max",
        "formula",
        "formula_low",
        "formula_high",
    ]
    .map(String::from)
    .to_vec();
    header.extend(c.vary.clone());
    w.write_record(&header)?;
    let text = |s: Option<Spread>, f: fn(&Spread) -> f64| s.as_ref().map(|s| f(s).to_string()).unwrap_or_default();
    for curve in &c.curves {
        for m in &curve.sizes {
            let mut row = vec![curve.algorithm.clone(), m.n.to_string(), m.units.to_string()];
            for s in [m.per_unit, m.wait, m.response, m.sync_delay] {
                row.extend([text(s, |s| s.min), text(s, |s| s.mean), text(s, |s| s.max)]);
            }
            let f = m.formula.as_ref();
            row.push(f.map(|f| format!("{} {}", symbol(f.kind), f.formula)).unwrap_or_default());
            row.push(f.map(|f| f.low.to_string()).unwrap_or_default());
            row.push(f.map(|f| f.high.to_string()).unwrap_or_default());
            row.extend(m.value.map(|v| v.to_string()));
            w.write_record(&row)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("cannot write the CSV table: {e}"))?;
    String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("the CSV table is not UTF-8: {e}"))
}

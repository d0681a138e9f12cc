//! The evaluation as pictures: measured counts against the declared ones, by size.

use super::model::{symbol, Case, Evaluation, TIME};
use reparti_core::parse_after;
use reparti_viz::plot::{Plot, Point, Scale, Series, Style, PALETTE};
use std::collections::{BTreeMap, BTreeSet};

/// The messages plot (one colour family per message type), if any the rounds plot, and
/// for each pair of moments the algorithm counts between (`after:FROM→TO:…`, a
/// detector's delay after termination) the messages and the time between them.
pub fn plots(e: &Evaluation) -> Vec<Plot> {
    let figures: BTreeSet<&String> = e.sizes.iter().flat_map(|s| s.counts.keys()).collect();
    let types: Vec<String> = figures
        .iter()
        .filter(|k| **k != "total" && **k != "rounds" && !k.starts_with("output:") && parse_after(k).is_none())
        .map(|k| k.to_string())
        .collect();
    let mut out = vec![figure_plot(e, &types, "messages sent", "messages")];
    if e.sizes.iter().any(|s| s.counts.contains_key("rounds")) {
        out.push(figure_plot(e, &["rounds".to_string()], "rounds", "rounds"));
    }
    let moments: BTreeSet<(&str, &str)> =
        figures.iter().filter_map(|k| parse_after(k)).map(|(a, b, _)| (a, b)).collect();
    for (from, to) in moments {
        let of = |time: bool| -> Vec<String> {
            figures
                .iter()
                .filter(|k| parse_after(k).is_some_and(|(a, b, t)| (a, b) == (from, to) && (t == TIME) == time))
                .map(|k| k.to_string())
                .collect()
        };
        let between = format!("after the last '{from}', up to the first '{to}'");
        let (counted, times) = (of(false), of(true));
        if !counted.is_empty() {
            out.push(figure_plot(e, &counted, "messages", &format!("messages {between}")));
        }
        if !times.is_empty() {
            out.push(figure_plot(e, &times, "simulated time", &format!("time {between}")));
        }
    }
    out
}

/// A claim's points, the runs that declared it, whether it had one value per size.
type Curve = (Vec<Point>, BTreeSet<Case>, bool);

fn figure_plot(e: &Evaluation, figs: &[String], y_label: &str, what: &str) -> Plot {
    let mut p = Plot::new(format!("{} on a {}: {what}", e.algorithm, e.topology), "nodes n (log scale)", y_label);
    for (fi, fig) in figs.iter().enumerate() {
        let colour = |k: usize| PALETTE[(3 * fi + k) % PALETTE.len()];
        let mean: Vec<Point> = e
            .sizes
            .iter()
            .filter_map(|s| s.counts.get(fig)?.random.map(|r| Point::with_range(s.n as f64, r.mean, r.min, r.max)))
            .collect();
        let label = if e.runs > 1 { "random ids (mean, min–max)" } else { "random ids" };
        p.series.push(Series::new(format!("{fig} · {label}"), Style::Measured, mean).color(colour(0)));
        // Desc and asc runs are shown where they tell something the mean does not, and
        // as one series when they coincide (else one would hide the other).
        let counts = || e.sizes.iter().filter_map(|s| s.counts.get(fig).map(|c| (s.n as f64, c)));
        let differ = |a: Option<f64>, b: Option<f64>| a.is_some() && a != b;
        if counts().any(|(_, c)| differ(c.desc, c.random.map(|r| r.mean)) || differ(c.asc, c.random.map(|r| r.mean))) {
            let same = counts().all(|(_, c)| c.desc == c.asc);
            let kinds: &[(usize, &str, bool)] =
                if same { &[(1, "desc and asc", true)] } else { &[(1, "desc", true), (2, "asc", false)] };
            for &(k, name, desc) in kinds {
                let pts =
                    counts().filter_map(|(n, c)| if desc { c.desc } else { c.asc }.map(|v| Point::at(n, v))).collect();
                p.series.push(Series::new(format!("{fig} · {name} ids"), Style::Measured, pts).color(colour(k)));
            }
        }
        // A claim becomes a curve when it gives one value per size (not one per placement).
        let mut curves: BTreeMap<(&str, &str), Curve> = BTreeMap::new();
        for s in &e.sizes {
            for c in s.expected.iter().filter(|c| &c.figure == fig && c.kind != "between") {
                let entry = curves.entry((c.formula.as_str(), c.kind)).or_insert((Vec::new(), BTreeSet::new(), true));
                entry.0.push(Point::at(s.n as f64, c.value_min));
                entry.1.extend(c.cases.iter().copied());
                entry.2 &= c.value_min == c.value_max;
            }
        }
        for ((formula, kind), (pts, cases, constant)) in curves {
            if !constant {
                continue;
            }
            let k = match (cases.contains(&Case::Desc), cases.contains(&Case::Asc)) {
                (true, false) => 1,
                (false, true) => 2,
                _ => 0,
            };
            let style = if kind == "reference" { Style::Reference } else { Style::Expected };
            p.series.push(Series::new(format!("{fig} {} {formula}", symbol(kind)), style, pts).color(colour(k)));
        }
    }
    let ys: Vec<f64> = p.series.iter().flat_map(|s| &s.points).flat_map(|q| [q.y, q.low.unwrap_or(q.y)]).collect();
    let (lo, hi) = ys.iter().filter(|v| **v > 0.0).fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    // Counts that span more than two decades (n vs n²) only read well on a log axis.
    if hi / lo > 100.0 {
        p.y_scale = Scale::Log;
    }
    p
}

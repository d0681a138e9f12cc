//! `reparti sweep merge DIR --plot FILE.svg`: the merged rows as one picture. x is a
//! numeric column (`--x`, the size `n` by default, on a log₂ axis), y one figure (`--y`,
//! by default the total message count of sim results or the unique state count of check
//! results); one series per combination of the other grid columns (algorithm × network ×
//! extra arguments), each point the mean over seeds with a min–max bar.
//!
//! The plot is checked and written before the CSV, so that a mistaken `--y` refuses the
//! whole merge with one line (exit 2) instead of leaving half the output behind.

use crate::error::usage;
use reparti_viz::plot::{Plot, Point, Scale, Series, Style};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

/// The figure on y without `--y`: the first of these the results have (sim, then check).
const DEFAULT_Y: &[&str] = &["messages", "unique_states"];

/// The column on x without `--x`: the size.
const DEFAULT_X: &str = "n";

/// The grid column that repeats a run: averaged over, never a series of its own.
const SEED: &str = "seed";

/// One merged row: its cells, by column name.
pub type Cells = [(String, String)];

/// What tells a series apart: the columns it is grouped by, each with its value.
pub type Key = Vec<(String, String)>;

/// What `--plot`, `--x` and `--y` ask for.
pub struct PlotRequest<'a> {
    /// Where the SVG goes.
    pub path: &'a Path,
    /// The column on x (`None`: the size).
    pub x: Option<&'a str>,
    /// The figure on y (`None`: [`DEFAULT_Y`]).
    pub y: Option<&'a str>,
}

/// The y values found at one x of a series (one per seed).
#[derive(Debug, PartialEq)]
pub struct Summary {
    pub x: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub count: usize,
}

/// One series: the values of the columns it is grouped by, and its points by increasing x.
#[derive(Debug, PartialEq)]
pub struct Group {
    pub key: Key,
    pub points: Vec<Summary>,
}

/// Draws the plot `request` asks for from the merged `rows` and writes it; returns the
/// summary's line. `grid` is the grid's columns, `header` every column of the CSV.
pub fn write(request: &PlotRequest, grid: &[String], header: &[String], rows: &[&Cells]) -> anyhow::Result<String> {
    if rows.is_empty() {
        return Err(usage(
            "nothing to plot: no job has a result yet; run the jobs first, then merge again (or leave out --plot)",
        ));
    }
    let is_figure = |c: &str| !grid.iter().any(|g| g == c);
    let figures = numeric_columns(header, rows, is_figure);
    let y = match request.y {
        Some(y) => checked("--y", y, "fields", &figures, header, rows)?,
        None => DEFAULT_Y.iter().find(|d| figures.iter().any(|f| f == *d)).map(|d| d.to_string()).ok_or_else(|| {
            usage(format!(
                "no default figure for the plot's y axis ({} are not in the results); choose one with --y FIELD, \
                 numeric fields: {}",
                DEFAULT_Y.join(" and "),
                listed(&figures)
            ))
        })?,
    };
    let x = request.x.unwrap_or(DEFAULT_X);
    let x = checked("--x", x, "columns", &numeric_columns(header, rows, |_| true), header, rows)?;

    // Every grid column but x, y and the seed tells series apart.
    let by: Vec<&str> = grid.iter().map(String::as_str).filter(|c| *c != x && *c != y && *c != SEED).collect();
    let (groups, left_out) = group(rows, &by, &x, &y);
    if groups.is_empty() {
        return Err(usage(format!(
            "nothing to plot: no row has both a number in {y} and a positive {x} (the x axis is log₂); \
             choose other columns with --y or --x"
        )));
    }
    if left_out > 0 {
        eprintln!(
            "warning: plot: {left_out} of {} rows left out ({y} empty or not a number, or {x} not positive)",
            rows.len()
        );
    }
    let plot = draw(&groups, &x, &y, grid.iter().any(|g| g == SEED));
    std::fs::write(request.path, plot.svg()).map_err(|e| {
        usage(format!(
            "cannot write {}: {e}; choose a writable path for --plot (its folder must exist)",
            request.path.display()
        ))
    })?;
    let points: usize = groups.iter().map(|g| g.points.len()).sum();
    Ok(format!("plot written to {} ({y} by {x}: {} series, {points} points)", request.path.display(), groups.len()))
}

/// `column` as asked for by `flag`, if it is one of `numeric`; else why not, and which are.
fn checked(
    flag: &str,
    column: &str,
    kind: &str,
    numeric: &[String],
    header: &[String],
    rows: &[&Cells],
) -> anyhow::Result<String> {
    if numeric.iter().any(|c| c == column) {
        return Ok(column.to_string());
    }
    let why = match rows.iter().find_map(|r| cell(r, column).filter(|v| !v.is_empty())) {
        _ if !header.iter().any(|h| h == column) => "no such column in the merged results".to_string(),
        Some(sample) if number(sample).is_some() => "a column of the grid, not a figure of the results".to_string(),
        Some(sample) => format!("not a number in any row (it holds values like '{sample}')"),
        None => "empty in every row".to_string(),
    };
    Err(usage(format!("{flag} '{column}': {why}; choose one of the numeric {kind}: {}", listed(numeric))))
}

/// The names, comma-separated, or a word saying there are none.
fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The columns of `header` (in its order, but `job`) that `keep` keeps and that hold a
/// number in at least one row.
fn numeric_columns(header: &[String], rows: &[&Cells], keep: impl Fn(&str) -> bool) -> Vec<String> {
    header
        .iter()
        .filter(|h| *h != "job" && keep(h))
        .filter(|h| rows.iter().any(|r| cell(r, h).and_then(number).is_some()))
        .cloned()
        .collect()
}

/// The cell of `row` in `column`, if the row has one.
fn cell<'r>(row: &'r Cells, column: &str) -> Option<&'r str> {
    row.iter().find(|(k, _)| k == column).map(|(_, v)| v.as_str())
}

/// A cell as a finite number (`true`, `quiescence` and empty cells are not).
fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The rows as series, one per combination of the values of the columns `by`, in sorted
/// order (numbers by value); each point summarises the y values of the rows at one x.
/// Also how many rows had no number in y or no positive x (a log₂ axis cannot show it).
pub fn group(rows: &[&Cells], by: &[&str], x: &str, y: &str) -> (Vec<Group>, usize) {
    let mut samples: BTreeMap<Key, Vec<(f64, f64)>> = BTreeMap::new();
    let mut left_out = 0;
    for row in rows {
        let xv = cell(row, x).and_then(number).filter(|v| *v > 0.0);
        let (Some(xv), Some(yv)) = (xv, cell(row, y).and_then(number)) else {
            left_out += 1;
            continue;
        };
        let key = by.iter().map(|c| (c.to_string(), cell(row, c).unwrap_or("").to_string())).collect();
        samples.entry(key).or_default().push((xv, yv));
    }
    let mut groups: Vec<Group> = samples
        .into_iter()
        .map(|(key, mut pairs)| {
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let points = pairs.chunk_by(|a, b| a.0 == b.0).map(summarise).collect();
            Group { key, points }
        })
        .collect();
    groups.sort_by(|a, b| compare_keys(&a.key, &b.key));
    (groups, left_out)
}

/// Mean, least and greatest y of (x, y) pairs that share their x (never empty).
fn summarise(pairs: &[(f64, f64)]) -> Summary {
    let ys = pairs.iter().map(|p| p.1);
    Summary {
        x: pairs.first().map_or(0.0, |p| p.0),
        mean: ys.clone().sum::<f64>() / pairs.len() as f64,
        min: ys.clone().fold(f64::INFINITY, f64::min),
        max: ys.fold(f64::NEG_INFINITY, f64::max),
        count: pairs.len(),
    }
}

/// Column by column: numbers by value (so that 8 comes before 16), other text as text.
fn compare_keys(a: &[(String, String)], b: &[(String, String)]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|((_, va), (_, vb))| match (number(va), number(vb)) {
            (Some(na), Some(nb)) => na.total_cmp(&nb),
            _ => va.cmp(vb),
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// The groups as a plot. A series is named by the columns whose value changes between
/// series (a column that is the same everywhere would only repeat itself in the legend).
fn draw(groups: &[Group], x: &str, y: &str, seeded: bool) -> Plot {
    let varies = |i: usize| groups.iter().any(|g| g.key.get(i) != groups[0].key.get(i));
    let varying: Vec<usize> = (0..groups[0].key.len()).filter(|&i| varies(i)).collect();
    let over = if seeded { "mean over seeds" } else { "mean" };
    let x_label = if x == DEFAULT_X { "nodes n (log₂ scale)".to_string() } else { format!("{x} (log₂ scale)") };
    let mut plot = Plot::new(format!("{y} by {x}: {over}, bars min–max"), x_label, y);
    for g in groups {
        let parts: Vec<String> = varying
            .iter()
            .map(|&i| match &g.key[i] {
                (column, value) if value.is_empty() => format!("no {column}"),
                (_, value) => value.clone(),
            })
            .collect();
        let name = if parts.is_empty() {
            // One series: the algorithm says what it is, if the grid has one.
            g.key.iter().find(|(c, v)| c == "algorithm" && !v.is_empty()).map_or(y.to_string(), |(_, v)| v.clone())
        } else {
            parts.join(" · ")
        };
        // A single run at an x has no range to show.
        let points = g
            .points
            .iter()
            .map(|s| if s.count > 1 { Point::with_range(s.x, s.mean, s.min, s.max) } else { Point::at(s.x, s.mean) })
            .collect();
        plot.series.push(Series::new(name, Style::Measured, points));
    }
    let positive = groups.iter().flat_map(|g| &g.points).flat_map(|s| [s.min, s.max]).filter(|v| *v > 0.0);
    let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Counts that span more than two decades (n against n²) only read well on a log axis.
    if hi / lo > 100.0 {
        plot.y_scale = Scale::Log;
        plot.y_label = format!("{y} (log scale)");
    }
    plot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[(&str, &str)]) -> Vec<(String, String)> {
        cells.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn seeds_are_averaged_and_series_sorted_with_sizes_by_value() {
        let rows = [
            row(&[("algorithm", "franklin"), ("n", "16"), ("seed", "1"), ("messages", "40")]),
            row(&[("algorithm", "chang-roberts"), ("n", "16"), ("seed", "1"), ("messages", "30")]),
            row(&[("algorithm", "chang-roberts"), ("n", "8"), ("seed", "1"), ("messages", "10")]),
            row(&[("algorithm", "chang-roberts"), ("n", "8"), ("seed", "2"), ("messages", "14")]),
            row(&[("algorithm", "chang-roberts"), ("n", "8"), ("seed", "3"), ("messages", "15")]),
            row(&[("algorithm", "franklin"), ("n", "8"), ("seed", "1"), ("messages", "")]),
            row(&[("algorithm", "franklin"), ("n", "0"), ("seed", "1"), ("messages", "3")]),
        ];
        let rows: Vec<&Cells> = rows.iter().map(Vec::as_slice).collect();
        let (groups, left_out) = group(&rows, &["algorithm"], "n", "messages");
        assert_eq!(left_out, 2, "an empty figure and a size the log axis cannot show");
        let names: Vec<&str> = groups.iter().map(|g| g.key[0].1.as_str()).collect();
        assert_eq!(names, ["chang-roberts", "franklin"]);
        let cr = &groups[0].points;
        assert_eq!(cr.len(), 2);
        assert_eq!(cr[0], Summary { x: 8.0, mean: 13.0, min: 10.0, max: 15.0, count: 3 });
        assert_eq!(cr[1], Summary { x: 16.0, mean: 30.0, min: 30.0, max: 30.0, count: 1 });
        assert_eq!(groups[1].points, [Summary { x: 16.0, mean: 40.0, min: 40.0, max: 40.0, count: 1 }]);

        // Grouped by size (x the seed): 8 before 16, by value, not as text.
        let (by_size, _) = group(&rows, &["n"], "seed", "messages");
        let sizes: Vec<&str> = by_size.iter().map(|g| g.key[0].1.as_str()).collect();
        assert_eq!(sizes, ["0", "8", "16"]);
    }

    #[test]
    fn legend_names_only_what_varies() {
        let key = |alg: &str, net: &str| vec![("algorithm".to_string(), alg.to_string()), ("net".into(), net.into())];
        let point = || vec![Summary { x: 4.0, mean: 2.0, min: 1.0, max: 3.0, count: 2 }];
        let groups = [
            Group { key: key("chang-roberts", "default"), points: point() },
            Group { key: key("franklin", "default"), points: point() },
        ];
        let plot = draw(&groups, "n", "messages", true);
        let names: Vec<&str> = plot.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["chang-roberts", "franklin"]);
        assert_eq!(plot.series[0].points, [Point::with_range(4.0, 2.0, 1.0, 3.0)]);
        let one = draw(&groups[..1], "n", "messages", true);
        assert_eq!(one.series[0].name, "chang-roberts");
    }
}

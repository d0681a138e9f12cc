//! `reparti eval`: the evaluation chapter. For each size, simulate `--runs` seeds with
//! random identities (the mean curve, with its min and max) and, on rings, one run with
//! decreasing and one with increasing identities (Chang–Roberts' worst and best cases);
//! measure messages (total and per type) and rounds; set them beside the counts the
//! algorithm declares (exact, bounds, references) as a table, and as an SVG plot, CSV or
//! JSON by the output's extension.

use crate::cli::EvalArgs;
use crate::sim::{find_algorithm, simulate};
use crate::usage;
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use reparti_core::{ExpectationKind, IdAssignment, Params, Topology, TopologyKind};
use reparti_sim::{Report, SimConfig};
use reparti_viz::plot::{self, Plot, Point, Scale, Series, Style, PALETTE};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

/// Which identities a run had.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Case {
    Random,
    Desc,
    Asc,
}

impl Case {
    fn name(self) -> &'static str {
        ["random", "desc", "asc"][self as usize]
    }
}

#[derive(Clone, Copy, Debug, Serialize)]
struct Spread {
    min: f64,
    mean: f64,
    max: f64,
}

/// One measured figure at one size.
#[derive(Debug, Serialize)]
struct Count {
    /// Over the random-identity runs.
    random: Option<Spread>,
    #[serde(skip_serializing_if = "Option::is_none")]
    desc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asc: Option<f64>,
}

/// One declared expectation at one size, gathered over the runs that declared it.
#[derive(Debug, Serialize)]
struct Claim {
    /// The figure it is about (`rounds` for `output:rounds`).
    figure: String,
    formula: String,
    /// `exact`, `at_most`, `between` or `reference`.
    kind: &'static str,
    /// Which runs declared it.
    cases: BTreeSet<Case>,
    /// The least and greatest value claimed (for `between`: lowest low, highest high).
    value_min: f64,
    value_max: f64,
    held: u64,
    failed: u64,
    unchecked: u64,
}

#[derive(Debug, Serialize)]
struct Size {
    n: usize,
    counts: BTreeMap<String, Count>,
    expected: Vec<Claim>,
}

#[derive(Debug, Serialize)]
struct Evaluation {
    algorithm: String,
    topology: String,
    params: BTreeMap<String, String>,
    runs: u64,
    seeds: [u64; 2],
    cases: Vec<Case>,
    sizes: Vec<Size>,
    /// Runs where a property or an asserted count failed, as `n=…, ids …, seed …: what`.
    failures: Vec<String>,
    all_good: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Csv,
    Json,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    // Every input is checked before the first simulation: a typo must not cost minutes.
    let format = args.output.as_deref().map(format_of).transpose()?;
    let sizes = parse_sizes(&args.nodes).map_err(usage)?;
    if args.runs == 0 {
        return Err(usage("--runs must be at least 1"));
    }
    let spec = find_algorithm(&args.algorithm)?;
    let params = args
        .param
        .iter()
        .map(|p| Params::parse_pair(p).map_err(|e| usage(e.to_string())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Params::resolve(spec.name, spec.params, &params).map_err(|e| usage(e.to_string()))?;
    let kind: TopologyKind =
        spec.topologies[0].parse().map_err(|e: reparti_core::TopologyError| usage(e.to_string()))?;
    for &n in &sizes {
        Topology::build(&kind, n, &mut reparti_core::rng(args.seed))
            .map_err(|e| usage(format!("{e}; choose --nodes that fit a {kind}")))?;
    }
    let ring = matches!(kind, TopologyKind::Ring | TopologyKind::BidirRing);

    let mut jobs: Vec<(usize, Case, u64)> = Vec::new();
    for &n in &sizes {
        jobs.extend((0..args.runs).map(|k| (n, Case::Random, args.seed.wrapping_add(k))));
        if ring {
            jobs.push((n, Case::Desc, args.seed));
            jobs.push((n, Case::Asc, args.seed));
        }
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} runs {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let reports = jobs
        .par_iter()
        .map(|&(n, case, seed)| {
            let ids = [IdAssignment::Random, IdAssignment::Desc, IdAssignment::Asc][case as usize].clone();
            let cfg = SimConfig { nodes: Some(n), ids, seed, params: params.clone(), ..SimConfig::default() };
            let r = simulate(spec.name, cfg, None, false);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            r
        })
        .collect::<anyhow::Result<Vec<Report>>>()?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let runs: Vec<(usize, Case, &Report)> = jobs.iter().zip(&reports).map(|(&(n, c, _), r)| (n, c, r)).collect();
    let eval = Evaluation {
        algorithm: spec.name.to_string(),
        topology: kind.to_string(),
        params: reports.first().map(|r| r.params.clone()).unwrap_or_default(),
        runs: args.runs,
        seeds: [args.seed, args.seed.wrapping_add(args.runs - 1)],
        cases: if ring { vec![Case::Random, Case::Desc, Case::Asc] } else { vec![Case::Random] },
        sizes: sizes.iter().map(|&n| summarise(n, runs.iter().filter(|r| r.0 == n).map(|r| (r.1, r.2)))).collect(),
        failures: runs.iter().flat_map(|&(n, _, r)| failures(n, r)).collect(),
        all_good: reports.iter().all(Report::all_good),
    };
    print!("{}", table(&eval));
    if let (Some(path), Some(format)) = (&args.output, format) {
        let text = match format {
            Format::Svg => plot::stack(&plots(&eval)),
            Format::Csv => csv(&eval),
            Format::Json => serde_json::to_string_pretty(&eval)? + "\n",
        };
        std::fs::write(path, text)
            .with_context(|| format!("cannot write {} (check the folder exists and is writable)", path.display()))?;
        println!("written to {}", path.display());
    }
    Ok(if eval.all_good { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn format_of(path: &Path) -> anyhow::Result<Format> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        _ => Err(usage(format!(
            "cannot tell what to write to {}: name it FILE.svg (plot), FILE.csv or FILE.json (table)",
            path.display()
        ))),
    }
}

/// `A..B`: the powers of two from A to B; `4,8,16`: those sizes; `16`: that size.
fn parse_sizes(s: &str) -> Result<Vec<usize>, String> {
    let bad = || {
        format!("bad --nodes '{s}': expected A..B (the powers of two from A to B, e.g. 4..1024) or a list like 4,8,16")
    };
    let number = |t: &str| t.trim().parse::<usize>().ok().filter(|&n| n >= 1).ok_or_else(bad);
    let mut sizes = match s.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            if a > b {
                return Err(format!("bad --nodes '{s}': {a} is larger than {b}; write the smaller size first"));
            }
            let first = a.checked_next_power_of_two().ok_or_else(bad)?;
            let v: Vec<usize> =
                std::iter::successors(Some(first), |p| p.checked_mul(2)).take_while(|&p| p <= b).collect();
            if v.is_empty() {
                return Err(format!("--nodes {s} holds no power of two; widen it or list sizes, e.g. {a},{b}"));
            }
            v
        }
        None => s.split(',').map(number).collect::<Result<Vec<_>, _>>()?,
    };
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

/// `output:rounds` is about the rounds figure; other counts name their figure.
fn figure_of(counts: &str) -> String {
    if counts == "output:rounds" {
        "rounds".into()
    } else {
        counts.into()
    }
}

/// Every figure of one run: messages per type, `total`, `rounds`, other declared outputs.
fn figures(r: &Report) -> BTreeMap<String, f64> {
    let mut f: BTreeMap<String, f64> = r.messages.by_type.iter().map(|(k, v)| (k.clone(), *v as f64)).collect();
    f.insert("total".into(), r.messages.total as f64);
    // The algorithm's own count of rounds (Franklin's phases) says more than the clock.
    let declared = r.outputs.get("rounds").and_then(|m| m.keys().filter_map(|v| v.parse::<i64>().ok()).max());
    if let Some(rounds) = declared.map(|v| v as f64).or(r.rounds.map(|v| v as f64)) {
        f.insert("rounds".into(), rounds);
    }
    for e in r.expected.values() {
        if e.expectation.counts.starts_with("output:") {
            f.entry(figure_of(&e.expectation.counts)).or_insert(e.measured as f64);
        }
    }
    f
}

/// One figure's values at one size: the random runs', the desc run's, the asc run's.
type Values = (Vec<f64>, Option<f64>, Option<f64>);

fn summarise<'a>(n: usize, runs: impl Iterator<Item = (Case, &'a Report)>) -> Size {
    let mut values: BTreeMap<String, Values> = BTreeMap::new();
    let mut claims: BTreeMap<(String, String, &'static str), Claim> = BTreeMap::new();
    for (case, r) in runs {
        for (k, v) in figures(r) {
            let slot = values.entry(k).or_default();
            match case {
                Case::Random => slot.0.push(v),
                Case::Desc => slot.1 = Some(v),
                Case::Asc => slot.2 = Some(v),
            }
        }
        for e in r.expected.values() {
            let x = &e.expectation;
            let (kind, lo, hi) = match x.kind {
                ExpectationKind::Exact { value } => ("exact", value, value),
                ExpectationKind::AtMost { value } => ("at_most", value, value),
                ExpectationKind::Between { min, max } => ("between", min, max),
                ExpectationKind::Reference { value } => ("reference", value, value),
            };
            let c = claims.entry((figure_of(&x.counts), x.formula.clone(), kind)).or_insert_with(|| Claim {
                figure: figure_of(&x.counts),
                formula: x.formula.clone(),
                kind,
                cases: BTreeSet::new(),
                value_min: lo,
                value_max: hi,
                held: 0,
                failed: 0,
                unchecked: 0,
            });
            c.cases.insert(case);
            c.value_min = c.value_min.min(lo);
            c.value_max = c.value_max.max(hi);
            match e.holds {
                Some(true) => c.held += 1,
                Some(false) => c.failed += 1,
                None => c.unchecked += 1,
            }
        }
    }
    let has_claim: BTreeSet<String> = claims.keys().map(|k| k.0.clone()).collect();
    let counts = values
        .into_iter()
        // A message type never sent and never claimed is noise.
        .filter(|(k, (v, d, a))| has_claim.contains(k) || v.iter().chain(d).chain(a).any(|&x| x != 0.0))
        .map(|(k, (v, desc, asc))| {
            let random = (!v.is_empty()).then(|| Spread {
                min: v.iter().copied().fold(f64::INFINITY, f64::min),
                mean: v.iter().sum::<f64>() / v.len() as f64,
                max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            });
            (k, Count { random, desc, asc })
        })
        .collect();
    // Per-run claims first, then the desc and asc ones, references last: the order in
    // which the table reads best.
    let mut expected: Vec<Claim> = claims.into_values().collect();
    expected.sort_by_key(|c| (c.kind == "reference", c.cases.last().copied()));
    Size { n, counts, expected }
}

/// What went wrong in one run, one line each.
fn failures(n: usize, r: &Report) -> Vec<String> {
    let at = format!("n={n}, ids {}, seed {}", r.ids, r.seed);
    let props =
        r.properties.iter().filter(|p| p.holds == Some(false)).map(|p| format!("{at}: property '{}' failed", p.name));
    let counts = r.expected.values().filter(|e| e.holds == Some(false)).map(|e| {
        format!(
            "{at}: {} = {} but {} {}",
            e.expectation.counts,
            e.measured,
            e.expectation.formula,
            e.expectation.value_text()
        )
    });
    props.chain(counts).collect()
}

/// Integers without decimals, others with two.
fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn case_names(cases: &BTreeSet<Case>) -> String {
    cases.iter().map(|c| c.name()).collect::<Vec<_>>().join("+")
}

/// How a claim relates the count to its value.
fn symbol(kind: &str) -> &'static str {
    match kind {
        "exact" => "=",
        "at_most" => "≤",
        "between" => "∈",
        _ => "≈",
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

fn table(e: &Evaluation) -> String {
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
    let _ = writeln!(
        o,
        "\n{:>7}  {:<10} {:>10} {:>12} {:>10} {:>10} {:>10}   expected",
        "n", "figure", "min", "mean", "max", "desc", "asc"
    );
    let pad = " ".repeat(7 + 2 + 10 + 1 + 10 + 1 + 12 + 1 + 10 + 1 + 10 + 1 + 10 + 3);
    for s in &e.sizes {
        for (i, (fig, c)) in s.counts.iter().enumerate() {
            let n = if i == 0 { s.n.to_string() } else { String::new() };
            let (min, mean, max) = match c.random {
                Some(r) => (fmt(r.min), fmt(r.mean), fmt(r.max)),
                None => ("–".into(), "–".into(), "–".into()),
            };
            let opt = |v: Option<f64>| v.map(fmt).unwrap_or_else(|| "–".into());
            let _ =
                write!(o, "{n:>7}  {fig:<10} {min:>10} {mean:>12} {max:>10} {:>10} {:>10}", opt(c.desc), opt(c.asc));
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
fn csv(e: &Evaluation) -> String {
    let q =
        |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut o = String::from("n,figure,row,ids,formula,min,mean,max,held,failed,unchecked\n");
    for s in &e.sizes {
        for (fig, c) in &s.counts {
            if let Some(r) = c.random {
                let _ = writeln!(o, "{},{},measured,random,,{},{},{},,,", s.n, q(fig), r.min, r.mean, r.max);
            }
            for (ids, v) in [("desc", c.desc), ("asc", c.asc)] {
                if let Some(v) = v {
                    let _ = writeln!(o, "{},{},measured,{ids},,{v},{v},{v},,,", s.n, q(fig));
                }
            }
        }
        for c in &s.expected {
            let _ = writeln!(
                o,
                "{},{},{},{},{},{},,{},{},{},{}",
                s.n,
                q(&c.figure),
                c.kind,
                case_names(&c.cases),
                q(&c.formula),
                c.value_min,
                c.value_max,
                c.held,
                c.failed,
                c.unchecked
            );
        }
    }
    o
}

/// The messages plot (one colour family per message type) and, if any, the rounds plot.
fn plots(e: &Evaluation) -> Vec<Plot> {
    let types: Vec<String> = e
        .sizes
        .iter()
        .flat_map(|s| s.counts.keys())
        .filter(|k| *k != "total" && *k != "rounds" && !k.starts_with("output:"))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = vec![figure_plot(e, &types, "messages sent", "messages")];
    if e.sizes.iter().any(|s| s.counts.contains_key("rounds")) {
        out.push(figure_plot(e, &["rounds".to_string()], "rounds", "rounds"));
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

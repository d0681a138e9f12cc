//! `reparti eval ALGO --precision drift=…|jitter=…`: clock synchronization measured. For
//! an algorithm that reads physical clocks, sweep how fast the clocks drift (`drift`,
//! ppm: each clock drawn from uniform:-V,V) or how much message delays vary (`jitter`:
//! delays uniform over [min, min+V], min being `--delay`'s least delay); for each value
//! simulate `--runs` seeds and set the precision reached — the greatest difference
//! between two clocks at the end, judged from the true clocks — beside the bound the
//! algorithm itself claims (the largest `clock_bound` it output), as a table and a plot.

use super::{format_of, network_of, setup_of, write_output};
use crate::cli::EvalArgs;
use crate::error::usage;
use crate::simulate::simulate;
use rayon::prelude::*;
use reparti_sim::{ClockConfig, Delay, Report, SimConfig, Spread};
use reparti_viz::plot::{Plot, Point, Series, Style, PALETTE};
use serde::Serialize;
use std::fmt::Write as _;
use std::process::ExitCode;

/// What is swept.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Sweep {
    Drift,
    Jitter,
}

/// One value of the sweep, over its seeds.
#[derive(Debug, Serialize)]
struct Row {
    value: f64,
    precision_mean: f64,
    precision_max: f64,
    precision_min: f64,
    /// The algorithm's own bound: the largest it claimed, over the seeds (absent if it
    /// claims none).
    bound_max: Option<f64>,
    all_good: bool,
}

#[derive(Debug, Serialize)]
struct Precision {
    algorithm: String,
    nodes: usize,
    sweep: Sweep,
    runs: u64,
    rows: Vec<Row>,
}

fn parse(s: &str) -> anyhow::Result<(Sweep, Vec<f64>)> {
    let bad = || {
        usage(format!(
            "bad --precision '{s}': expected drift=V1,V2,… (ppm) or jitter=V1,V2,… (time units), positive numbers, e.g. --precision drift=10,100,1000"
        ))
    };
    let (what, values) = s.split_once('=').ok_or_else(bad)?;
    let sweep = match what.trim() {
        "drift" => Sweep::Drift,
        "jitter" => Sweep::Jitter,
        _ => return Err(bad()),
    };
    let values = values
        .split(',')
        .map(|v| v.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(bad)?;
    Ok((sweep, values))
}

/// The largest bound the run claims, from its `clock_bound` outputs.
fn claimed_bound(r: &Report) -> Option<f64> {
    let values = r.outputs.get("clock_bound")?;
    values.keys().filter_map(|v| v.parse::<f64>().ok()).fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
}

pub fn run(args: &EvalArgs, spec_text: &str) -> anyhow::Result<ExitCode> {
    let [algorithm] = args.algorithms.as_slice() else {
        return Err(usage("--precision evaluates one algorithm: name one"));
    };
    let (sweep, values) = parse(spec_text)?;
    let format = args.output.as_deref().map(format_of).transpose()?;
    if args.runs == 0 {
        return Err(usage("--runs must be at least 1"));
    }
    let setup = setup_of(algorithm, args)?;
    if !setup.spec.reads_physical_clock {
        return Err(usage(format!(
            "{} does not read physical clocks: --precision measures clock synchronization (try cristian, berkeley, ntp)",
            setup.spec.name
        )));
    }
    let n = match args.nodes.as_deref() {
        Some(s) => s.trim().parse::<usize>().ok().filter(|&n| n >= 2).ok_or_else(|| {
            usage(format!("--precision runs one size: give --nodes N (one number, at least 2), not '{s}'"))
        })?,
        None => setup.spec.default_nodes,
    };
    let base = network_of(&args.delay)?;
    let jobs: Vec<(usize, u64)> =
        (0..values.len()).flat_map(|v| (0..args.runs).map(move |k| (v, args.seed.wrapping_add(k)))).collect();
    let reports = jobs
        .par_iter()
        .map(|&(v, seed)| {
            let value = values[v];
            let mut network = base.clone();
            let mut clocks = ClockConfig::default();
            match sweep {
                Sweep::Drift => clocks.drift = Spread::Uniform { min: -value, max: value },
                Sweep::Jitter => {
                    let min = network.delay.min();
                    network.delay = Delay::Uniform { min, max: min + value };
                }
            }
            let cfg = SimConfig {
                nodes: Some(n),
                seed,
                params: setup.params.clone(),
                network,
                clocks,
                ..SimConfig::default()
            };
            simulate(setup.spec.name, cfg, None, false)
        })
        .collect::<anyhow::Result<Vec<Report>>>()?;
    let rows: Vec<Row> = values
        .iter()
        .enumerate()
        .map(|(v, &value)| {
            let runs: Vec<&Report> = jobs.iter().zip(&reports).filter(|((j, _), _)| *j == v).map(|(_, r)| r).collect();
            let spreads: Vec<f64> = runs.iter().filter_map(|r| r.physical_clocks.as_ref().map(|p| p.spread)).collect();
            let count = spreads.len().max(1) as f64;
            Row {
                value,
                precision_mean: spreads.iter().sum::<f64>() / count,
                precision_max: spreads.iter().copied().fold(0.0, f64::max),
                precision_min: spreads.iter().copied().fold(f64::INFINITY, f64::min),
                bound_max: runs
                    .iter()
                    .filter_map(|r| claimed_bound(r))
                    .fold(None, |m, b| Some(m.map_or(b, |m: f64| m.max(b)))),
                all_good: runs.iter().all(|r| r.all_good()),
            }
        })
        .collect();
    let result = Precision { algorithm: setup.spec.name.to_string(), nodes: n, sweep, runs: args.runs, rows };
    print!("{}", table(&result));
    write_output(args.output.as_deref(), format, || vec![plot(&result)], || csv(&result), &result)?;
    Ok(if result.rows.iter().all(|r| r.all_good) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn axis(sweep: Sweep) -> &'static str {
    match sweep {
        Sweep::Drift => "clock drift ±ppm (log scale)",
        Sweep::Jitter => "delay jitter, time units (log scale)",
    }
}

fn table(p: &Precision) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} on {} nodes, {} seed(s) per value: precision reached (max difference between clocks at the end) against the bound it claims",
        p.algorithm, p.nodes, p.runs
    );
    let head = match p.sweep {
        Sweep::Drift => "drift ±ppm",
        Sweep::Jitter => "jitter",
    };
    let _ = writeln!(o, "{head:>12}  {:>12}  {:>12}  {:>12}  properties", "precision", "worst", "claimed bound");
    for r in &p.rows {
        let bound = r.bound_max.map_or("—".to_string(), |b| format!("{b:.3}"));
        let ok = if r.all_good { "✓" } else { "✗" };
        let _ =
            writeln!(o, "{:>12}  {:>12.4}  {:>12.4}  {bound:>12}  {ok}", r.value, r.precision_mean, r.precision_max);
    }
    o
}

fn csv(p: &Precision) -> anyhow::Result<String> {
    let mut o = String::from("value,precision_mean,precision_min,precision_max,claimed_bound,all_good\n");
    for r in &p.rows {
        let bound = r.bound_max.map_or(String::new(), |b| b.to_string());
        let _ = writeln!(
            o,
            "{},{},{},{},{bound},{}",
            r.value, r.precision_mean, r.precision_min, r.precision_max, r.all_good
        );
    }
    Ok(o)
}

fn plot(p: &Precision) -> Plot {
    let mut plot =
        Plot::new(format!("{} on {} nodes: precision reached", p.algorithm, p.nodes), axis(p.sweep), "time units");
    let reached =
        p.rows.iter().map(|r| Point::with_range(r.value, r.precision_mean, r.precision_min, r.precision_max)).collect();
    plot.series.push(Series::new("precision reached (mean, min–max)", Style::Measured, reached).color(PALETTE[0]));
    let bound: Vec<Point> = p.rows.iter().filter_map(|r| r.bound_max.map(|b| Point::at(r.value, b))).collect();
    if !bound.is_empty() {
        plot.series.push(Series::new("bound the algorithm claims (largest)", Style::Expected, bound).color(PALETTE[1]));
    }
    plot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_parse_and_nonsense_is_one_line() {
        assert_eq!(parse("drift=10,100").ok(), Some((Sweep::Drift, vec![10.0, 100.0])));
        assert_eq!(parse("jitter=0.5").ok().map(|(s, _)| s), Some(Sweep::Jitter));
        for bad in ["drift", "drift=0", "drift=-1", "skew=1", "jitter=a"] {
            let e = parse(bad).expect_err(bad).to_string();
            assert!(!e.contains('\n') && e.contains("--precision"), "{e}");
        }
    }
}

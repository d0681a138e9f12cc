//! `reparti eval`: the evaluation chapter. For each size, simulate `--runs` seeds with
//! random identities (the mean curve, with its min and max) and, on rings, one run with
//! decreasing and one with increasing identities (Chang–Roberts' worst and best cases);
//! measure messages (total and per type) and rounds; set them beside the counts the
//! algorithm declares (exact, bounds, references) as a table, and as an SVG plot, CSV or
//! JSON by the output's extension.
//!
//! A count an algorithm declares between two moments of the run, `after:FROM→TO:TYPES`
//! (a termination detector's control messages after the last `passive` and up to the
//! first `announce`, against its bound), is one more figure, with the time between the
//! two moments beside it (`after:FROM→TO:time`), both plotted by size: the simulator
//! measures them on the true run, no algorithm named here.
//!
//! [`model`] gathers the figures, [`table`] writes them as text (and CSV), [`plot`] draws
//! them. Several algorithms named, or `--per`, compare them on one workload instead,
//! against n or, with `--vary`, against one parameter: [`compare`] (units of work and
//! their waits read by [`waits`], response times and synchronization delays by
//! [`delays`], shown by [`compare_out`]). For clock synchronization, `--precision`
//! sweeps drift or delay jitter and measures the precision reached ([`precision`]).

mod compare;
mod compare_out;
mod delays;
mod model;
mod on_processes;
mod plot;
mod precision;
mod stabilization;
mod table;
mod waits;

use crate::cli::EvalArgs;
use crate::error::usage;
use crate::resolve::{Setup, SetupFlags};
use crate::simulate::simulate;
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use model::{failures, summarise, Case, Evaluation};
use rayon::prelude::*;
use reparti_core::{IdAssignment, Topology, TopologyKind};
use reparti_sim::{Delay, NetworkModel, Report, SimConfig};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Csv,
    Json,
}

/// Sizes when one algorithm is evaluated and `--nodes` is not given.
const DEFAULT_SIZES: &str = "4..256";

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    if let Some(sweep) = &args.precision {
        return precision::run(args, sweep);
    }
    if let [one] = args.algorithms.as_slice() {
        if reparti_algos::is_guarded(one) {
            return stabilization::run(one, args);
        }
    }
    if args.daemon.any() {
        return Err(usage(
            "--daemon and --choice are for self-stabilizing algorithms (reparti list shows them); \
             evaluate one of them alone",
        ));
    }
    let algorithm = match args.algorithms.as_slice() {
        [one] if args.per.is_none() && args.vary.is_none() && !args.on_processes => one,
        _ => return compare::run(args),
    };
    // Every input is checked before the first simulation: a typo must not cost minutes.
    let format = args.output.as_deref().map(format_of).transpose()?;
    let sizes = parse_sizes(args.nodes.as_deref().unwrap_or(DEFAULT_SIZES)).map_err(usage)?;
    if args.runs == 0 {
        return Err(usage("--runs must be at least 1"));
    }
    let network = network_of(&args.delay)?;
    let setup = setup_of(algorithm, args)?;
    let (spec, params) = (setup.spec, setup.params);
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
            let cfg = SimConfig {
                nodes: Some(n),
                ids,
                seed,
                params: params.clone(),
                network: network.clone(),
                ..SimConfig::default()
            };
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
    print!("{}", table::table(&eval));
    write_output(args.output.as_deref(), format, || plot::plots(&eval), || table::csv_table(&eval), &eval)?;
    Ok(if eval.all_good { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `algorithm` with `-p` and `--seed` as given. Identities are the cases' own and sizes
/// are `--nodes`: only the algorithm, its parameters and the seed are shared with the
/// other commands.
fn setup_of(algorithm: &str, args: &EvalArgs) -> anyhow::Result<Setup> {
    let flags = SetupFlags {
        topology: None,
        ids: "random",
        params: &args.param,
        file_params: Vec::new(),
        nodes: None,
        seed: args.seed,
    };
    Setup::resolve(algorithm, flags)
}

/// Writes the evaluation to `-o FILE` (when given) in the format its extension chose:
/// the plots stacked in one SVG, the CSV table, or `value` as JSON; says where.
fn write_output<T: serde::Serialize>(
    path: Option<&Path>,
    format: Option<Format>,
    plots: impl FnOnce() -> Vec<reparti_viz::plot::Plot>,
    csv: impl FnOnce() -> anyhow::Result<String>,
    value: &T,
) -> anyhow::Result<()> {
    let (Some(path), Some(format)) = (path, format) else { return Ok(()) };
    let text = match format {
        Format::Svg => reparti_viz::plot::stack(&plots()),
        Format::Csv => csv()?,
        Format::Json => serde_json::to_string_pretty(value)? + "\n",
    };
    std::fs::write(path, text)
        .with_context(|| format!("cannot write {} (check the folder exists and is writable)", path.display()))?;
    println!("written to {}", path.display());
    Ok(())
}

/// FIFO channels with `--delay`.
fn network_of(delay: &str) -> anyhow::Result<NetworkModel> {
    let delay: Delay = delay.parse().map_err(|e: reparti_sim::network::NetworkError| usage(e.to_string()))?;
    Ok(NetworkModel { delay, ..NetworkModel::default() })
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

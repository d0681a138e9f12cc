//! `reparti eval A B C … --per OUTPUT [--since OUTPUT]`: several algorithms on one
//! workload, side by side. For each algorithm, each size and `--runs` seeds, simulate
//! with the same `-p` parameters (a parameter one of them lacks is refused before
//! anything runs), count the units of work done (the `--per` outputs), and measure
//! messages per unit and, with `--since`, how long a unit waited ([`waits`](super::waits)).
//! One curve per algorithm: the flow-control designs compared per item consumed, the
//! mutual-exclusion algorithms per critical section.
//!
//! [`super::compare_out`] prints the table and draws the plots.

use super::compare_out;
use super::model::Spread;
use super::waits::{units, Units};
use super::{format_of, network_of, parse_sizes, setup_of, write_output};
use crate::cli::EvalArgs;
use crate::error::{usage, UsageError};
use crate::simulate::memory::{refuse_if_too_large, Room};
use crate::simulate::sim_error;
use anyhow::Context as _;
use rayon::prelude::*;
use reparti_core::trace::read_trace;
use reparti_core::{Algorithm, AlgorithmVisitor, IdAssignment};
use reparti_sim::{Report, SimConfig, Simulation};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

/// Sizes when comparing and `--nodes` is not given: small enough for every algorithm's
/// default parameters (4 slots give 4 producers one each).
const DEFAULT_SIZES: &str = "2,3,4,5";

/// One algorithm at one size, over its runs.
#[derive(Debug, Serialize)]
pub struct Measured {
    pub n: usize,
    /// Units done per run (the `--per` outputs), mean over the runs.
    pub units: f64,
    /// Messages sent per unit done.
    pub per_unit: Option<Spread>,
    /// Each message type's share of `per_unit`, means over the runs.
    pub by_type: BTreeMap<String, f64>,
    /// The run's mean wait of a unit (with `--since`).
    pub wait: Option<Spread>,
    /// Units whose start was not found, over all runs.
    pub unmatched: u64,
}

/// One algorithm's curve.
#[derive(Debug, Serialize)]
pub struct Curve {
    pub algorithm: String,
    /// Every parameter's value, defaults included.
    pub params: BTreeMap<String, String>,
    pub sizes: Vec<Measured>,
}

/// The whole comparison.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub per: String,
    pub since: Option<String>,
    /// The `-p` parameters, applied to every algorithm.
    pub shared_params: Vec<String>,
    pub runs: u64,
    pub seeds: [u64; 2],
    /// `--delay`.
    pub delay: String,
    pub curves: Vec<Curve>,
    /// Runs where a property or an asserted count failed, one line each.
    pub failures: Vec<String>,
    pub all_good: bool,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    // Every input is checked before the first simulation.
    let format = args.output.as_deref().map(format_of).transpose()?;
    let Some(per) = args.per.as_deref() else {
        return Err(usage(
            "comparing algorithms needs --per OUTPUT: the output that marks one unit of work done \
             (e.g. --per consumed --since produced, or --per enter_cs)",
        ));
    };
    let sizes = parse_sizes(args.nodes.as_deref().unwrap_or(DEFAULT_SIZES)).map_err(usage)?;
    if args.runs == 0 {
        return Err(usage("--runs must be at least 1"));
    }
    let network = network_of(&args.delay)?;
    let mut setups = Vec::new();
    let mut seen = BTreeSet::new();
    for name in &args.algorithms {
        if !seen.insert(name.as_str()) {
            return Err(usage(format!("{name} is named twice: name each algorithm to compare once")));
        }
        setups.push(setup_of(name, args).map_err(shared_params_hint)?);
    }
    // Names and parameters first (a typo is reported as such), then whether each size
    // suits each algorithm's parameters.
    for setup in &setups {
        for &n in &sizes {
            setup.build(n).map_err(|e| usage(format!("{}: at --nodes {n}: {e}", setup.spec.name)))?;
        }
    }

    let jobs: Vec<(usize, usize, u64)> = (0..setups.len())
        .flat_map(|a| sizes.iter().flat_map(move |&n| (0..args.runs).map(move |k| (a, n, k))))
        .collect();
    let room = Room::resolve(None);
    let results = jobs
        .par_iter()
        .map(|&(a, n, k)| {
            let setup = &setups[a];
            let seed = args.seed.wrapping_add(k);
            let cfg = SimConfig {
                nodes: Some(n),
                ids: IdAssignment::Random,
                seed,
                params: setup.params.clone(),
                network: network.clone(),
                ..SimConfig::default()
            };
            let (report, trace) = traced_run(setup.spec.name, cfg, room)?;
            let trace = read_trace(trace.as_slice()).context("cannot read back a simulation's own trace")?;
            Ok((report, units(&trace.events, per, args.since.as_deref())))
        })
        .collect::<anyhow::Result<Vec<(Report, Units)>>>()?;

    let mut failures = Vec::new();
    let mut curves = Vec::new();
    for (a, setup) in setups.iter().enumerate() {
        let mut measured = Vec::new();
        for &n in &sizes {
            let runs: Vec<&(Report, Units)> =
                jobs.iter().zip(&results).filter(|((ja, jn, _), _)| *ja == a && *jn == n).map(|(_, r)| r).collect();
            for (r, u) in &runs {
                failures.extend(super::model::failures(n, r).into_iter().map(|f| format!("{}: {f}", setup.spec.name)));
                if u.done == 0 {
                    failures.push(format!(
                        "{}: n={n}, seed {}: no '{per}' output, nothing to count per",
                        setup.spec.name, r.seed
                    ));
                }
            }
            measured.push(summarise(n, &runs));
        }
        let params = results
            .iter()
            .zip(&jobs)
            .find(|(_, (ja, _, _))| *ja == a)
            .map(|((r, _), _)| r.params.clone())
            .unwrap_or_default();
        curves.push(Curve { algorithm: setup.spec.name.to_string(), params, sizes: measured });
    }
    let comparison = Comparison {
        per: per.to_string(),
        since: args.since.clone(),
        shared_params: args.param.clone(),
        runs: args.runs,
        seeds: [args.seed, args.seed.wrapping_add(args.runs - 1)],
        delay: args.delay.clone(),
        all_good: failures.is_empty(),
        curves,
        failures,
    };
    print!("{}", compare_out::table(&comparison));
    write_output(
        args.output.as_deref(),
        format,
        || compare_out::plots(&comparison),
        || compare_out::csv_table(&comparison),
        &comparison,
    )?;
    Ok(if comparison.all_good { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// A parameter one compared algorithm lacks is refused naming it, and saying why it
/// was given to that algorithm at all.
fn shared_params_hint(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<UsageError>() {
        Some(u) if u.0.contains("has no parameter") => usage(format!(
            "{}; comparing, every -p applies to every algorithm named: give only parameters they share",
            u.0
        )),
        _ => e,
    }
}

fn spread(values: &[f64]) -> Option<Spread> {
    (!values.is_empty()).then(|| Spread {
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        mean: values.iter().sum::<f64>() / values.len() as f64,
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn summarise(n: usize, runs: &[&(Report, Units)]) -> Measured {
    let done: Vec<&&(Report, Units)> = runs.iter().filter(|(_, u)| u.done > 0).collect();
    let per_unit: Vec<f64> = done.iter().map(|(r, u)| r.messages.total as f64 / u.done as f64).collect();
    let mut by_type: BTreeMap<String, f64> = BTreeMap::new();
    for (r, u) in &done {
        for (kind, &count) in r.messages.by_type.iter().filter(|(_, &c)| c > 0) {
            *by_type.entry(kind.clone()).or_insert(0.0) += count as f64 / u.done as f64;
        }
    }
    // Divided once, at the end: a mean of equal ratios stays that ratio exactly.
    by_type.values_mut().for_each(|v| *v /= done.len() as f64);
    let waits: Vec<f64> = runs.iter().filter_map(|(_, u)| u.mean_wait()).collect();
    Measured {
        n,
        units: runs.iter().map(|(_, u)| u.done as f64).sum::<f64>() / runs.len().max(1) as f64,
        per_unit: spread(&per_unit),
        by_type,
        wait: spread(&waits),
        unmatched: runs.iter().map(|(_, u)| u.unmatched).sum(),
    }
}

/// Simulates the algorithm named `name` to the end, keeping its trace in memory.
fn traced_run(name: &str, cfg: SimConfig, room: Option<Room>) -> anyhow::Result<(Report, Vec<u8>)> {
    reparti_algos::visit(name, TracedRun { name, cfg, room })
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))
}

struct TracedRun<'a> {
    name: &'a str,
    cfg: SimConfig,
    room: Option<Room>,
}

impl AlgorithmVisitor for TracedRun<'_> {
    type Output = anyhow::Result<(Report, Vec<u8>)>;
    fn visit<A: Algorithm>(self) -> Self::Output {
        if let Some(room) = self.room {
            refuse_if_too_large::<A>(self.name, &self.cfg, true, room)?;
        }
        let mut sim = Simulation::<A, Vec<u8>>::with_trace(&self.cfg, Vec::new()).map_err(sim_error)?;
        while sim.run_for(1 << 16) {}
        let (report, trace) = sim.finish().map_err(sim_error)?;
        Ok((report, trace.unwrap_or_default()))
    }
}

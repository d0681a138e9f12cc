//! `reparti eval A B C … --per OUTPUT [--since OUTPUT] [--vary PARAM=V1,V2,…]`: several
//! algorithms on one workload, side by side. For each algorithm, each size (or, with
//! `--vary`, each value of one parameter at one size) and `--runs` seeds, simulate with
//! the same `-p` parameters (a parameter one of them lacks is refused before anything
//! runs), count the units of work done (the `--per` outputs), and measure messages per
//! unit beside what the algorithm's own `total` formula gives per unit; with `--since`,
//! how long a unit waited ([`waits`](super::waits)); where `--per` opens one of the
//! algorithm's spans (`enter_cs` opens the critical section), the response time and the
//! synchronization delay ([`delays`](super::delays)). One curve per algorithm: the
//! flow-control designs compared per item consumed, the mutual-exclusion algorithms per
//! critical section, against n or against the offered load.
//!
//! With `--on-processes` every run is a real cluster instead ([`on_processes`]).
//!
//! [`super::compare_out`] prints the table and draws the plots.

use super::compare_out;
use super::delays::{delays, mean, Delays};
use super::model::Spread;
use super::on_processes;
use super::waits::{units, Units};
use super::{format_of, network_of, parse_sizes, write_output};
use crate::cli::EvalArgs;
use crate::error::{usage, UsageError};
use crate::resolve::{Setup, SetupFlags};
use crate::simulate::memory::{refuse_if_too_large, Room};
use crate::simulate::sim_error;
use anyhow::Context as _;
use rayon::prelude::*;
use reparti_core::trace::read_trace;
use reparti_core::{Algorithm, AlgorithmVisitor, ExpectationKind, IdAssignment};
use reparti_sim::{Report, SimConfig, Simulation};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

/// Sizes when comparing and `--nodes` is not given: small enough for every algorithm's
/// default parameters (4 slots give 4 producers one each).
const DEFAULT_SIZES: &str = "2,3,4,5";

/// `--delay`'s default (the command line's).
const DEFAULT_DELAY: &str = "const:1";

/// What the algorithm's `total` claim gives per unit done, mean over the runs.
#[derive(Clone, Debug, Serialize)]
pub struct Formula {
    /// As the algorithm writes it, for the whole run (`2(n−1)·#CS`).
    pub formula: String,
    /// `exact`, `at_most`, `between` or `reference`.
    pub kind: &'static str,
    /// Per unit: the value (`exact`, `at_most`, `reference`) or the range's ends.
    pub low: f64,
    pub high: f64,
}

/// One algorithm at one size (or one value of the varied parameter), over its runs.
#[derive(Debug, Serialize)]
pub struct Measured {
    pub n: usize,
    /// The varied parameter's value, with `--vary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Units done per run (the `--per` outputs), mean over the runs.
    pub units: f64,
    /// Messages sent per unit done.
    pub per_unit: Option<Spread>,
    /// The algorithm's `total` formula per unit done, if it declares one.
    pub formula: Option<Formula>,
    /// Each message type's share of `per_unit`, means over the runs.
    pub by_type: BTreeMap<String, f64>,
    /// The run's mean wait of a unit (with `--since`).
    pub wait: Option<Spread>,
    /// The run's mean response time: from `--since` to the close of the unit's span.
    pub response: Option<Spread>,
    /// The run's mean synchronization delay: a span's close to the next one's open.
    pub sync_delay: Option<Spread>,
    /// Units whose start was not found, over all runs.
    pub unmatched: u64,
}

impl Measured {
    /// Where the point goes on the x axis: the varied value, else n.
    pub fn x(&self) -> f64 {
        self.value.unwrap_or(self.n as f64)
    }
}

/// One algorithm's curve.
#[derive(Debug, Serialize)]
pub struct Curve {
    pub algorithm: String,
    /// Every parameter's value, defaults included (with `--vary`, at its first value).
    pub params: BTreeMap<String, String>,
    /// The output that closes the span `--per` opens (`exit_cs`), if any.
    pub closes: Option<String>,
    /// One point per size, or per value of the varied parameter.
    pub sizes: Vec<Measured>,
}

/// The whole comparison.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub per: String,
    pub since: Option<String>,
    /// The parameter swept (`--vary`), the x axis instead of n.
    pub vary: Option<String>,
    /// The `-p` parameters, applied to every algorithm.
    pub shared_params: Vec<String>,
    pub runs: u64,
    pub seeds: [u64; 2],
    /// `--delay`, or `real (udp)` with `--on-processes`.
    pub delay: String,
    /// Runs on real processes (`--on-processes`): times are milliseconds.
    pub on_processes: bool,
    /// What the times are in.
    pub time_unit: String,
    pub curves: Vec<Curve>,
    /// Runs where a property or an asserted count failed, one line each.
    pub failures: Vec<String>,
    pub all_good: bool,
}

/// One point of the sweep: a size, and the varied parameter's value as typed and as a
/// number.
struct Point {
    n: usize,
    value: Option<(String, f64)>,
}

/// What one run gives.
struct RunFigures {
    report: Report,
    units: Units,
    delays: Option<Delays>,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    // Every input is checked before the first simulation.
    let format = args.output.as_deref().map(format_of).transpose()?;
    let Some(per) = args.per.as_deref() else {
        return Err(usage(
            "comparing algorithms needs --per OUTPUT: the output that marks one unit of work done \
             (e.g. --per consumed --since produced, or --per enter_cs --since request)",
        ));
    };
    let vary = args.vary.as_deref().map(parse_vary).transpose().map_err(usage)?;
    let sizes = match (&args.nodes, &vary) {
        (Some(nodes), _) => parse_sizes(nodes).map_err(usage)?,
        (None, None) => parse_sizes(DEFAULT_SIZES).map_err(usage)?,
        (None, Some(_)) => Vec::new(),
    };
    if vary.is_some() && sizes.len() > 1 {
        return Err(usage(format!(
            "--vary sweeps a parameter at one size, but --nodes {} gives {} sizes: give one, e.g. --nodes {}",
            args.nodes.as_deref().unwrap_or_default(),
            sizes.len(),
            sizes[sizes.len() - 1]
        )));
    }
    if let Some((name, _)) = &vary {
        if args.param.iter().any(|p| p.split_once('=').is_some_and(|(k, _)| k.trim() == name)) {
            return Err(usage(format!("{name} is both given with -p and swept with --vary: give it once")));
        }
    }
    if args.runs == 0 {
        return Err(usage("--runs must be at least 1"));
    }
    let network = network_of(&args.delay)?;
    if args.on_processes && args.delay != DEFAULT_DELAY {
        return Err(usage(
            "--delay shapes the simulator's network; with --on-processes messages take what the real one takes: drop --delay",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut plain = Vec::new();
    for name in &args.algorithms {
        if !seen.insert(name.as_str()) {
            return Err(usage(format!("{name} is named twice: name each algorithm to compare once")));
        }
        plain.push(setup_with(name, args, None)?);
    }
    let points: Vec<Point> = match &vary {
        None => sizes.iter().map(|&n| Point { n, value: None }).collect(),
        Some((_, values)) => {
            // Without --nodes, the first algorithm's own default size.
            let n = sizes.first().copied().unwrap_or(plain[0].spec.default_nodes);
            values.iter().map(|v| Point { n, value: Some(v.clone()) }).collect()
        }
    };
    // Names and parameters first (a typo is reported as such), then each swept value,
    // then whether each point suits each algorithm's parameters.
    let mut setups: Vec<Vec<Setup>> = Vec::new();
    for (name, setup) in args.algorithms.iter().zip(plain) {
        let row = match &vary {
            None => vec![setup; points.len()],
            Some((param, _)) => points
                .iter()
                .map(|p| setup_with(name, args, p.value.as_ref().map(|(text, _)| format!("{param}={text}")).as_deref()))
                .collect::<anyhow::Result<Vec<Setup>>>()?,
        };
        setups.push(row);
    }
    for row in &setups {
        for (setup, point) in row.iter().zip(&points) {
            setup.build(point.n).map_err(|e| usage(format!("{}: at --nodes {}: {e}", setup.spec.name, point.n)))?;
        }
    }

    let jobs: Vec<(usize, usize, u64)> = (0..setups.len())
        .flat_map(|a| (0..points.len()).flat_map(move |p| (0..args.runs).map(move |k| (a, p, k))))
        .collect();
    let room = Room::resolve(None);
    let scratch = match args.on_processes {
        true => Some(
            tempfile::Builder::new()
                .prefix("reparti-eval-")
                .tempdir()
                .map_err(|e| anyhow::anyhow!("cannot create a scratch folder for the runs' traces: {e}"))?,
        ),
        false => None,
    };
    let one = |&(a, p, k): &(usize, usize, u64)| -> anyhow::Result<RunFigures> {
        let setup = &setups[a][p];
        let (n, seed) = (points[p].n, args.seed.wrapping_add(k));
        let (report, trace) = match &scratch {
            Some(dir) => on_processes::real_run(setup, n, seed, dir.path())?,
            None => {
                let cfg = SimConfig {
                    nodes: Some(n),
                    ids: IdAssignment::Random,
                    seed,
                    params: setup.params.clone(),
                    network: network.clone(),
                    ..SimConfig::default()
                };
                let (report, trace) = traced_run(setup.spec.name, cfg, room)?;
                (report, read_trace(trace.as_slice()).context("cannot read back a simulation's own trace")?)
            }
        };
        let mut units = units(&trace.events, per, args.since.as_deref());
        let delays = closes_of(setup, per).map(|closes| delays(&trace.events, &units.list, closes));
        units.list = Vec::new();
        Ok(RunFigures { report, units, delays })
    };
    // Real clusters one after another (each is n processes already); simulations in
    // parallel.
    let results = if args.on_processes {
        jobs.iter().map(one).collect::<anyhow::Result<Vec<RunFigures>>>()?
    } else {
        jobs.par_iter().map(one).collect::<anyhow::Result<Vec<RunFigures>>>()?
    };

    let mut failures = Vec::new();
    let mut curves = Vec::new();
    for (a, row) in setups.iter().enumerate() {
        let name = row[0].spec.name;
        let mut measured = Vec::new();
        for (p, point) in points.iter().enumerate() {
            let runs: Vec<&RunFigures> =
                jobs.iter().zip(&results).filter(|((ja, jp, _), _)| (*ja, *jp) == (a, p)).map(|(_, r)| r).collect();
            let at = match &point.value {
                Some((text, _)) => format!("{}={text}, n={}", vary.as_ref().map_or("", |v| v.0.as_str()), point.n),
                None => format!("n={}", point.n),
            };
            for r in &runs {
                let lines = super::model::failures(point.n, &r.report);
                failures.extend(lines.into_iter().map(|f| match &point.value {
                    Some(_) => format!("{name}: {at}: {f}"),
                    None => format!("{name}: {f}"),
                }));
                if r.units.done == 0 {
                    failures
                        .push(format!("{name}: {at}, seed {}: no '{per}' output, nothing to count per", r.report.seed));
                }
            }
            measured.push(summarise(point, &runs));
        }
        let params = results
            .iter()
            .zip(&jobs)
            .find(|(_, (ja, _, _))| *ja == a)
            .map(|(r, _)| r.report.params.clone())
            .unwrap_or_default();
        let closes = closes_of(&row[0], per).map(str::to_string);
        curves.push(Curve { algorithm: name.to_string(), params, closes, sizes: measured });
    }
    let comparison = Comparison {
        per: per.to_string(),
        since: args.since.clone(),
        vary: vary.map(|v| v.0),
        shared_params: args.param.clone(),
        runs: args.runs,
        seeds: [args.seed, args.seed.wrapping_add(args.runs - 1)],
        delay: if args.on_processes { "real (udp)".into() } else { args.delay.clone() },
        on_processes: args.on_processes,
        time_unit: if args.on_processes { "milliseconds" } else { "simulated time units" }.into(),
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

/// `PARAM=V1,V2,…`: the parameter's name and its values, as typed and as numbers, in
/// increasing order (the x axis is logarithmic: each value a positive number).
fn parse_vary(s: &str) -> Result<(String, Vec<(String, f64)>), String> {
    let Some((name, list)) = s.split_once('=').map(|(k, v)| (k.trim(), v)).filter(|(k, _)| !k.is_empty()) else {
        return Err(format!("bad --vary '{s}': expected PARAM=V1,V2,…, e.g. --vary load=0.1,0.5,1"));
    };
    let mut values = Vec::new();
    for text in list.split(',').map(str::trim) {
        match text.parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => values.push((text.to_string(), v)),
            _ => {
                return Err(format!(
                    "bad --vary value '{text}' for {name}: each value must be a positive number (the x axis is \
                     logarithmic), e.g. --vary {name}=0.1,0.5,1"
                ))
            }
        }
    }
    values.sort_by(|a, b| a.1.total_cmp(&b.1));
    if let Some(w) = values.windows(2).find(|w| w[0].1 == w[1].1) {
        return Err(format!("--vary {name} lists {} twice: give each value once", w[1].0));
    }
    Ok((name.to_string(), values))
}

/// `algorithm` with `-p`, the swept `extra` parameter if any, and `--seed`. Identities are
/// random and sizes are `--nodes`: only the algorithm, its parameters and the seed are
/// shared with the other commands.
fn setup_with(algorithm: &str, args: &EvalArgs, extra: Option<&str>) -> anyhow::Result<Setup> {
    let params: Vec<String> = args.param.iter().cloned().chain(extra.map(str::to_string)).collect();
    let flags = SetupFlags {
        topology: None,
        ids: "random",
        params: &params,
        file_params: Vec::new(),
        nodes: None,
        seed: args.seed,
    };
    Setup::resolve(algorithm, flags).map_err(|e| shared_params_hint(e, extra.is_some()))
}

/// The output that closes the span `per` opens in this algorithm, if one does.
fn closes_of<'a>(setup: &'a Setup, per: &str) -> Option<&'a str> {
    setup.spec.spans.iter().find(|s| s.opens == per).map(|s| s.closes)
}

/// A parameter one compared algorithm lacks is refused naming it, and saying why it
/// was given to that algorithm at all.
fn shared_params_hint(e: anyhow::Error, varying: bool) -> anyhow::Error {
    let flag = if varying { "-p and --vary apply" } else { "-p applies" };
    match e.downcast_ref::<UsageError>() {
        Some(u) if u.0.contains("has no parameter") => {
            usage(format!("{}; comparing, every {flag} to every algorithm named: give only parameters they share", u.0))
        }
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

fn summarise(point: &Point, runs: &[&RunFigures]) -> Measured {
    let done: Vec<&&RunFigures> = runs.iter().filter(|r| r.units.done > 0).collect();
    let per_unit: Vec<f64> = done.iter().map(|r| r.report.messages.total as f64 / r.units.done as f64).collect();
    let mut by_type: BTreeMap<String, f64> = BTreeMap::new();
    for r in &done {
        for (kind, &count) in r.report.messages.by_type.iter().filter(|(_, &c)| c > 0) {
            *by_type.entry(kind.clone()).or_insert(0.0) += count as f64 / r.units.done as f64;
        }
    }
    // Divided once, at the end: a mean of equal ratios stays that ratio exactly.
    by_type.values_mut().for_each(|v| *v /= done.len() as f64);
    let per_run =
        |f: &dyn Fn(&RunFigures) -> Option<f64>| spread(&runs.iter().filter_map(|r| f(r)).collect::<Vec<_>>());
    Measured {
        n: point.n,
        value: point.value.as_ref().map(|v| v.1),
        units: runs.iter().map(|r| r.units.done as f64).sum::<f64>() / runs.len().max(1) as f64,
        per_unit: spread(&per_unit),
        formula: formula(&done),
        by_type,
        wait: per_run(&|r| r.units.mean_wait()),
        response: per_run(&|r| r.delays.as_ref().and_then(|d| mean(&d.responses))),
        sync_delay: per_run(&|r| r.delays.as_ref().and_then(|d| mean(&d.sync))),
        unmatched: runs.iter().map(|r| r.units.unmatched).sum(),
    }
}

/// The algorithm's `total` claim per unit done, mean over the runs that did some.
fn formula(done: &[&&RunFigures]) -> Option<Formula> {
    let mut found: Option<Formula> = None;
    for r in done {
        // The first claim on `total` (a second one has its formula appended to the key).
        let Some(e) = r.report.expected.get("total") else { continue };
        let units = r.units.done as f64;
        let (kind, low, high) = match e.expectation.kind {
            ExpectationKind::Exact { value } => ("exact", value, value),
            ExpectationKind::AtMost { value } => ("at_most", value, value),
            ExpectationKind::Between { min, max } => ("between", min, max),
            ExpectationKind::Reference { value } => ("reference", value, value),
        };
        let f = found.get_or_insert(Formula { formula: e.expectation.formula.clone(), kind, low: 0.0, high: 0.0 });
        f.low += low / units;
        f.high += high / units;
    }
    let runs = done.iter().filter(|r| r.report.expected.contains_key("total")).count() as f64;
    found.map(|f| Formula { low: f.low / runs, high: f.high / runs, ..f })
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

//! `reparti eval` for a self-stabilizing algorithm: how long convergence takes, by size.
//!
//! Two sources, side by side, because neither alone answers the question. For the sizes
//! whose every configuration fits in memory, the checker gives the exact worst case (the
//! longest run outside L under the unfair daemon, which needs the whole configuration
//! graph); beyond that, the simulator gives the distribution from random starts under
//! a random daemon (mean, median, min–max over `--runs` seeds). The worst case grows
//! like n² for Dijkstra's rings (Θ(n²) moves, Dijkstra 1974 and the analyses after it);
//! the table's `worst/n²` column shows how close the small sizes already are to it.

use crate::cli::EvalArgs;
use crate::error::usage;
use crate::stabilize::{build_on, daemon, Built};
use rayon::prelude::*;
use reparti_check::stabilization::{check_stabilization, Convergence, Fairness, StabCheckConfig};
use reparti_core::guarded::{Guarded, GuardedVisitor};
use reparti_core::{Daemon, NodeId};
use reparti_sim::stabilization::{simulate_stabilization, Choice, StabSimConfig, Start};
use reparti_viz::plot::{Plot, Point, Series, Style, PALETTE};
use serde::Serialize;
use std::fmt::Write as _;
use std::process::ExitCode;

/// Sizes when none are given: every small ring the checker can enumerate, then powers
/// of two for the simulator.
const DEFAULT_SIZES: &str = "3,4,5,6,7,8,16,32,64,128,256";

/// The checker enumerates a size only when it has at most this many configurations.
const CHECKER_LIMIT: u64 = 1_000_000;

/// Steps a simulated run may take before it counts as not converging.
const PATIENCE: u64 = 50_000_000;

/// What the checker proved at one size.
#[derive(Clone, Debug, Serialize)]
struct Exhaustive {
    configurations: u64,
    /// `None` when some run never reaches L.
    worst_moves: Option<u64>,
    worst_steps: Option<u64>,
    seconds: f64,
}

/// Moves, steps or rounds over the simulated runs that reached L.
#[derive(Clone, Copy, Debug, Serialize)]
struct Spread {
    mean: f64,
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        Some(Spread { mean, median: values[values.len() / 2], min: values[0], max: values[values.len() - 1] })
    }
}

/// One size's figures.
#[derive(Clone, Debug, Serialize)]
struct SizeRow {
    n: usize,
    params: String,
    checker: Option<Exhaustive>,
    moves: Option<Spread>,
    steps: Option<Spread>,
    rounds: Option<Spread>,
    /// Simulated runs that did not reach L within the patience.
    stuck: u64,
}

#[derive(Clone, Debug, Serialize)]
struct StabEvaluation {
    algorithm: String,
    daemon: String,
    runs: u64,
    first_seed: u64,
    sizes: Vec<SizeRow>,
    all_good: bool,
}

pub fn run(name: &str, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    for (flag, on) in [
        ("--per", args.per.is_some()),
        ("--vary", args.vary.is_some()),
        ("--on-processes", args.on_processes),
        ("--precision", args.precision.is_some()),
        ("--delay", args.delay != "const:1"),
    ] {
        if on {
            return Err(usage(format!(
                "{flag} is for message-passing algorithms; {name} is evaluated in the state-reading model \
                 (--nodes, --runs, --daemon, --choice, -p)"
            )));
        }
    }
    if args.runs == 0 {
        return Err(usage("--runs must be at least 1"));
    }
    let format = args.output.as_deref().map(super::format_of).transpose()?;
    let sizes = super::parse_sizes(args.nodes.as_deref().unwrap_or(DEFAULT_SIZES)).map_err(usage)?;
    reparti_algos::visit_guarded(name, Eval { args, sizes, format })
        .unwrap_or_else(|| Err(usage(format!("unknown self-stabilizing algorithm '{name}'"))))
}

struct Eval<'a> {
    args: &'a EvalArgs,
    sizes: Vec<usize>,
    format: Option<super::Format>,
}

impl GuardedVisitor for Eval<'_> {
    type Output = anyhow::Result<ExitCode>;
    fn visit<G: Guarded>(self) -> anyhow::Result<ExitCode> {
        let args = self.args;
        let daemon = daemon(&args.daemon)?;
        let choice = args
            .daemon
            .choice
            .as_deref()
            .map_or(Ok(Choice::Random), |c| Choice::parse(c).map_err(|e| usage(format!("--choice: {e}"))))?;
        // Every size is built before the first run: a size the topology refuses must not
        // cost the minutes of the others.
        let instances = self
            .sizes
            .iter()
            .map(|&n| build_on::<G>(None, Some(n), &args.param, args.seed))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let fairness = if choice == Choice::Fair { Fairness::Weak } else { Fairness::Unfair };
        let rows: Vec<SizeRow> = instances
            .iter()
            .zip(&self.sizes)
            .map(|(built, &n)| size_row(built, n, daemon, choice, fairness, args))
            .collect::<anyhow::Result<_>>()?;
        let all_good = rows.iter().all(|r| r.stuck == 0 && r.checker.as_ref().is_none_or(|c| c.worst_moves.is_some()));
        let eval = StabEvaluation {
            algorithm: G::spec().name.to_string(),
            daemon: daemon.to_string(),
            runs: args.runs,
            first_seed: args.seed,
            sizes: rows,
            all_good,
        };
        print!("{}", table(&eval, choice));
        super::write_output(args.output.as_deref(), self.format, || plots(&eval), || csv(&eval), &eval)?;
        Ok(if eval.all_good { ExitCode::SUCCESS } else { ExitCode::from(1) })
    }
}

fn size_row<G: Guarded>(
    built: &Built<G>,
    n: usize,
    daemon: Daemon,
    choice: Choice,
    fairness: Fairness,
    args: &EvalArgs,
) -> anyhow::Result<SizeRow> {
    let g = &built.instance;
    let configurations = (0..g.n()).try_fold(1u64, |acc, i| acc.checked_mul(g.domain(NodeId(i as u32)).len() as u64));
    let checker = match configurations {
        Some(c) if c <= CHECKER_LIMIT => {
            let cfg = StabCheckConfig { daemon, fairness, max_configurations: CHECKER_LIMIT };
            let report = check_stabilization(g, &cfg).map_err(usage)?;
            let (worst_moves, worst_steps) = match report.convergence {
                Convergence::Holds { worst_moves, worst_steps, .. } => (Some(worst_moves), Some(worst_steps)),
                Convergence::HoldsFairly { .. } | Convergence::Fails { .. } => (None, None),
            };
            Some(Exhaustive { configurations: c, worst_moves, worst_steps, seconds: report.seconds })
        }
        _ => None,
    };
    let runs: Vec<Option<(u64, u64, u64)>> = (0..args.runs)
        .into_par_iter()
        .map(|k| {
            let cfg = StabSimConfig {
                seed: args.seed.wrapping_add(k),
                daemon,
                choice,
                start: Start::Random,
                corruptions: Vec::new(),
                max_steps: None,
                patience: PATIENCE,
                record_values: false,
            };
            let report = simulate_stabilization(g, &cfg);
            report.episodes.first().and_then(|e| e.to_legitimate).map(|t| (t.moves, t.steps, t.rounds))
        })
        .collect();
    let reached: Vec<(u64, u64, u64)> = runs.iter().flatten().copied().collect();
    let pick = |f: fn(&(u64, u64, u64)) -> u64| Spread::of(reached.iter().map(|r| f(r) as f64).collect());
    let params: Vec<String> = built.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(SizeRow {
        n,
        params: params.join(" "),
        checker,
        moves: pick(|r| r.0),
        steps: pick(|r| r.1),
        rounds: pick(|r| r.2),
        stuck: (runs.len() - reached.len()) as u64,
    })
}

fn table(e: &StabEvaluation, choice: Choice) -> String {
    let choice = serde_json::to_value(choice).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: moves until L from an arbitrary start, {} daemon\n  checker: the worst case over every configuration \
         (unfair daemon), where at most {CHECKER_LIMIT} configurations\n  simulator: {} random starts, {choice} \
         choice, seeds {}..{}\n",
        e.algorithm,
        e.daemon,
        e.runs,
        e.first_seed,
        e.first_seed.wrapping_add(e.runs - 1)
    );
    let _ = writeln!(
        out,
        "{:>5} {:<10} {:>10} {:>8} {:>7} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "n", "params", "configs", "worst", "steps", "worst/n²", "sim mean", "median", "min", "max", "rounds"
    );
    for r in &e.sizes {
        let (configs, worst, steps, ratio) = match &r.checker {
            Some(c) => match (c.worst_moves, c.worst_steps) {
                (Some(w), Some(s)) => (
                    c.configurations.to_string(),
                    w.to_string(),
                    s.to_string(),
                    format!("{:.2}", w as f64 / (r.n * r.n) as f64),
                ),
                _ => (c.configurations.to_string(), "NEVER".into(), "-".into(), "-".into()),
            },
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let m = |f: fn(&Spread) -> f64| r.moves.map_or("-".into(), |s| format!("{:.0}", f(&s)));
        let rounds = r.rounds.map_or("-".into(), |s| format!("{:.1}", s.mean));
        let _ = writeln!(
            out,
            "{:>5} {:<10} {:>10} {:>8} {:>7} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8}",
            r.n,
            r.params,
            configs,
            worst,
            steps,
            ratio,
            m(|s| s.mean),
            m(|s| s.median),
            m(|s| s.min),
            m(|s| s.max),
            rounds
        );
        if r.stuck > 0 {
            let _ = writeln!(out, "      {} of the simulated runs did not reach L within {PATIENCE} steps", r.stuck);
        }
    }
    out.push_str(if e.all_good {
        "\nevery run reached L\n"
    } else {
        "\nSOME RUNS NEVER REACH L: see `reparti check` at the size marked NEVER for the cycle\n"
    });
    out
}

fn plots(e: &StabEvaluation) -> Vec<Plot> {
    let mut moves = Plot::new(
        format!("{}, {} daemon: moves until L from an arbitrary start", e.algorithm, e.daemon),
        "nodes n (log scale)",
        "moves",
    );
    let worst: Vec<Point> =
        e.sizes.iter().filter_map(|r| Some(Point::at(r.n as f64, r.checker.as_ref()?.worst_moves? as f64))).collect();
    let sim = |f: fn(&SizeRow) -> Option<Spread>| -> Vec<Point> {
        e.sizes.iter().filter_map(|r| f(r).map(|s| Point::with_range(r.n as f64, s.mean, s.min, s.max))).collect()
    };
    moves
        .series
        .push(Series::new("checker: worst case over every start", Style::Measured, worst.clone()).color(PALETTE[0]));
    moves.series.push(
        Series::new(format!("simulator: {} random starts (mean, min–max)", e.runs), Style::Measured, sim(|r| r.moves))
            .color(PALETTE[1]),
    );
    // The literature's Θ(n²), scaled through the largest size the checker enumerated.
    if let Some(last) = worst.last() {
        let c = last.y / (last.x * last.x);
        let pts = e.sizes.iter().map(|r| Point::at(r.n as f64, c * (r.n * r.n) as f64)).collect();
        moves.series.push(
            Series::new(format!("≈ {c:.2}·n² (through the checker's n = {})", last.x), Style::Reference, pts)
                .color(PALETTE[0]),
        );
    }
    moves.y_scale = reparti_viz::plot::Scale::Log;
    let mut rounds = Plot::new(format!("{}: rounds until L (simulator)", e.algorithm), "nodes n (log scale)", "rounds");
    rounds.series.push(
        Series::new(format!("{} random starts (mean, min–max)", e.runs), Style::Measured, sim(|r| r.rounds))
            .color(PALETTE[2]),
    );
    vec![moves, rounds]
}

fn csv(e: &StabEvaluation) -> anyhow::Result<String> {
    let mut out = String::from("n,params,configurations,worst_moves,worst_steps,mean_moves,median_moves,min_moves,max_moves,mean_rounds,stuck\n");
    for r in &e.sizes {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
        let c = r.checker.as_ref();
        let _ = writeln!(
            out,
            "{},\"{}\",{},{},{},{},{},{},{},{},{}",
            r.n,
            r.params,
            opt(c.map(|c| c.configurations as f64)),
            opt(c.and_then(|c| c.worst_moves).map(|v| v as f64)),
            opt(c.and_then(|c| c.worst_steps).map(|v| v as f64)),
            opt(r.moves.map(|s| s.mean)),
            opt(r.moves.map(|s| s.median)),
            opt(r.moves.map(|s| s.min)),
            opt(r.moves.map(|s| s.max)),
            opt(r.rounds.map(|s| s.mean)),
            r.stuck
        );
    }
    Ok(out)
}

//! `reparti sim`: one simulated run (or many, with `--runs`).

use crate::cli::{SimArgs, VectorChoice};
use crate::{summary, usage};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use reparti_core::{Algorithm, AlgorithmSpec, AlgorithmVisitor, IdAssignment, TopologyKind};
use reparti_sim::{Delay, Fault, NetworkModel, Report, SimConfig, SimError, Simulation, VectorClocks};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    // A scenario file in place of the algorithm: it describes the whole run.
    if let Some(path) = args.algorithm.as_deref().and_then(crate::scenario::path_of) {
        return crate::scenario::run_sim(&path, args);
    }
    if let Some(path) = &args.replay {
        return crate::replay::run(path, args.json);
    }
    let name = args
        .algorithm
        .as_deref()
        .ok_or_else(|| usage("name an algorithm (see `reparti list`) or give --replay TRACE"))?;
    let spec = find_algorithm(name)?;
    let cfg = config(args, &spec)?;
    if args.runs > 1 {
        return crate::runs::run_many(args, name, &cfg);
    }
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let report = simulate_and_draw(name, cfg, args.trace.clone(), args.viz.as_deref(), progress)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary::render(&report));
        if let Some(path) = &args.trace {
            println!("trace written to {}", path.display());
        }
    }
    Ok(if report.all_good() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The catalogue entry for `name`, or a usage error suggesting the nearest name.
pub fn find_algorithm(name: &str) -> anyhow::Result<AlgorithmSpec> {
    reparti_algos::find(name).ok_or_else(|| {
        let hint = match reparti_algos::suggest(name) {
            Some(s) => format!("did you mean '{s}'? "),
            None => String::new(),
        };
        usage(format!("unknown algorithm '{name}'; {hint}(`reparti list` shows them all)"))
    })
}

/// Turns the flags into a simulation configuration, refusing malformed ones.
pub fn config(args: &SimArgs, spec: &AlgorithmSpec) -> anyhow::Result<SimConfig> {
    let topology = match &args.topology {
        Some(t) => Some(t.parse::<TopologyKind>().map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    let ids: IdAssignment = args.ids.parse().map_err(|e: reparti_core::idents::IdError| usage(e.to_string()))?;
    let delay: Delay = args.delay.parse().map_err(|e: reparti_sim::network::NetworkError| usage(e.to_string()))?;
    let mut faults = Vec::new();
    for c in &args.crash {
        faults.push(Fault::parse_crash(c).map_err(|e| usage(e.to_string()))?);
    }
    for p in &args.partition {
        faults.push(Fault::parse_partition(p).map_err(|e| usage(e.to_string()))?);
    }
    let params = args
        .param
        .iter()
        .map(|p| reparti_core::Params::parse_pair(p).map_err(|e| usage(e.to_string())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Resolve once here, so a bad parameter is reported before anything runs.
    reparti_core::Params::resolve(spec.name, spec.params, &params).map_err(|e| usage(e.to_string()))?;
    if args.nodes == Some(0) {
        return Err(usage("--nodes must be at least 1"));
    }
    Ok(SimConfig {
        nodes: args.nodes,
        topology,
        ids,
        seed: args.seed,
        network: NetworkModel { fifo: !args.no_fifo, delay, loss: args.loss, dup: args.dup, sync: args.sync },
        faults,
        params,
        max_events: args.max_events,
        max_time: args.max_time,
        vector_clocks: match args.vector_clocks {
            VectorChoice::Auto => VectorClocks::Auto,
            VectorChoice::On => VectorClocks::On,
            VectorChoice::Off => VectorClocks::Off,
        },
        stop_at_violation: !args.keep_going,
        inputs: Vec::new(),
        no_workload: false,
    })
}

/// Maps a simulator error to a usage error (bad input) or a runtime one.
pub fn sim_error(e: SimError) -> anyhow::Error {
    match e {
        SimError::Trace(io) => anyhow::Error::new(io).context("cannot write the trace"),
        other => usage(other.to_string()),
    }
}

/// Runs like [`simulate`], then draws the run into `viz` (FILE.html or FILE.svg) when
/// given, through a scratch trace if no `--trace` was asked for.
pub fn simulate_and_draw(
    name: &str,
    cfg: SimConfig,
    trace: Option<PathBuf>,
    viz: Option<&std::path::Path>,
    progress: bool,
) -> anyhow::Result<Report> {
    let Some(picture) = viz else { return simulate(name, cfg, trace, progress) };
    reparti_viz::Format::from_path(picture).map_err(|e| usage(format!("--viz {e}")))?;
    let (path, scratch) = match trace {
        Some(p) => (p, false),
        None => (crate::viz::scratch_trace(), true),
    };
    let report = simulate(name, cfg, Some(path.clone()), progress);
    let drawn = report.as_ref().ok().map(|_| crate::viz::draw(&path, picture));
    if scratch {
        let _ = std::fs::remove_file(&path);
    }
    let report = report?;
    if let Some(drawn) = drawn {
        drawn?;
    }
    Ok(report)
}

/// Runs the algorithm named `name` (already known to exist) to the end.
pub fn simulate(name: &str, cfg: SimConfig, trace: Option<PathBuf>, progress: bool) -> anyhow::Result<Report> {
    reparti_algos::visit(name, OneRun { cfg, trace, progress })
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))
}

struct OneRun {
    cfg: SimConfig,
    trace: Option<PathBuf>,
    progress: bool,
}

impl AlgorithmVisitor for OneRun {
    type Output = anyhow::Result<Report>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<Report> {
        match &self.trace {
            Some(path) => {
                let file = File::create(path).with_context(|| {
                    format!("cannot create the trace file {} (check the folder exists and is writable)", path.display())
                })?;
                let sim = Simulation::<A, _>::with_trace(&self.cfg, BufWriter::new(file)).map_err(sim_error)?;
                drive(sim, self.progress)
            }
            None => drive(Simulation::<A>::new(&self.cfg).map_err(sim_error)?, self.progress),
        }
    }
}

/// A spinner with the elapsed time and a message, for runs whose length is unknown.
pub fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn drive<A: Algorithm, W: Write>(mut sim: Simulation<A, W>, progress: bool) -> anyhow::Result<Report> {
    let bar = progress.then(spinner);
    while sim.run_for(1 << 18) {
        if let Some(bar) = &bar {
            bar.set_message(format!("{} events, simulated time {:.1}", sim.events(), sim.now()));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let (report, _) = sim.finish().map_err(sim_error)?;
    Ok(report)
}

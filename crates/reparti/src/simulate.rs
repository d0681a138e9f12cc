//! Running the simulator from a finished configuration: one run to its end (with a
//! trace, a picture, a progress spinner), for `sim`, `sim --runs`, scenarios, `eval` and
//! `bench`; and what a simulator error means to the command line.

use crate::error::usage;
use crate::progress::spinner;
use anyhow::Context as _;
use reparti_core::{Algorithm, AlgorithmVisitor};
use reparti_sim::{Report, SimConfig, SimError, Simulation};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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
    viz: Option<&Path>,
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

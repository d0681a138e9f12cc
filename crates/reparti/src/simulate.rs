//! Running the simulator from a finished configuration: one run to its end (with a
//! trace, a picture, a progress spinner), for `sim`, `sim --runs`, scenarios, `eval` and
//! `bench`; and what a simulator error means to the command line. Every run is first
//! judged against the memory it may take ([`memory`]).

pub mod memory;

use crate::error::usage;
use crate::progress::spinner;
use anyhow::Context as _;
use memory::{Room, Watch};
use reparti_core::{Algorithm, AlgorithmVisitor};
use reparti_sim::{Report, SimConfig, SimError, Simulation};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Events between two looks at the process's memory (and the progress bar).
const EVENTS_PER_LOOK: u64 = 1 << 16;

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
    room: Option<Room>,
) -> anyhow::Result<Report> {
    let Some(picture) = viz else { return simulate_in(name, cfg, trace, progress, room) };
    reparti_viz::Format::from_path(picture).map_err(|e| usage(format!("--viz {e}")))?;
    let (path, scratch) = match trace {
        Some(p) => (p, false),
        None => (crate::viz::scratch_trace(), true),
    };
    let report = simulate_in(name, cfg, Some(path.clone()), progress, room);
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

/// Runs the algorithm named `name` (already known to exist) to the end, within the
/// memory the machine has available.
pub fn simulate(name: &str, cfg: SimConfig, trace: Option<PathBuf>, progress: bool) -> anyhow::Result<Report> {
    simulate_in(name, cfg, trace, progress, Room::resolve(None))
}

/// Runs like [`simulate`] within `room`: refused if its estimate does not fit, stopped
/// if it outgrows the room (`None`: the room is unknown, nothing is judged).
pub fn simulate_in(
    name: &str,
    cfg: SimConfig,
    trace: Option<PathBuf>,
    progress: bool,
    room: Option<Room>,
) -> anyhow::Result<Report> {
    reparti_algos::visit(name, OneRun { name, cfg, trace, progress, room, judge: true })
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))
}

/// Runs without a trace, stopped if it outgrows `room`, its estimate not judged again
/// (the caller has judged it once for many runs: `sim --runs`).
pub fn simulate_watched(name: &str, cfg: SimConfig, room: Option<Room>) -> anyhow::Result<Report> {
    reparti_algos::visit(name, OneRun { name, cfg, trace: None, progress: false, room, judge: false })
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))
}

struct OneRun<'a> {
    name: &'a str,
    cfg: SimConfig,
    trace: Option<PathBuf>,
    progress: bool,
    room: Option<Room>,
    judge: bool,
}

impl AlgorithmVisitor for OneRun<'_> {
    type Output = anyhow::Result<Report>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<Report> {
        // Judged before the trace file is created, so that a refusal leaves nothing behind.
        if let (Some(room), true) = (self.room, self.judge) {
            memory::refuse_if_too_large::<A>(self.name, &self.cfg, self.trace.is_some(), room)?;
        }
        let watch = self.room.map(|room| (self.name, Watch::new(room)));
        match &self.trace {
            Some(path) => {
                let file = File::create(path).with_context(|| {
                    format!("cannot create the trace file {} (check the folder exists and is writable)", path.display())
                })?;
                let sim = Simulation::<A, _>::with_trace(&self.cfg, BufWriter::new(file)).map_err(sim_error)?;
                drive(sim, self.progress, watch)
            }
            None => drive(Simulation::<A>::new(&self.cfg).map_err(sim_error)?, self.progress, watch),
        }
    }
}

fn drive<A: Algorithm, W: Write>(
    mut sim: Simulation<A, W>,
    progress: bool,
    watch: Option<(&str, Watch)>,
) -> anyhow::Result<Report> {
    let bar = progress.then(spinner);
    while sim.run_for(EVENTS_PER_LOOK) {
        // Ctrl-C, where a command caught it: the run so far is reported and traced.
        if crate::interrupt::requested() {
            sim.interrupt();
            break;
        }
        if let Some((name, watch)) = &watch {
            if let Err(e) = watch.check(name, sim.events()) {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                return Err(e);
            }
        }
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

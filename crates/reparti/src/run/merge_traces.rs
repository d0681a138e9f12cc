//! Node traces into one run: `reparti merge` for clusters started by hand (one machine
//! or many), and the last step of `reparti run`.
//!
//! Each node writes its own trace (`reparti node --trace FILE`); its header says which
//! node it is and when it started (`network.me`, `network.started_unix_ms`). The files
//! must come from one run — same algorithm, seed, parameters, identities — and cover
//! every node. They are merged into one trace consistent with happens-before
//! ([`reparti_net::merge`]), which the simulator then replays to check the run's
//! properties and counts exactly as for a simulation.

use super::trace_file::write_trace;
use crate::error::usage;
use crate::simulate::sim_error;
use crate::summary;
use clap::Args;
use reparti_core::trace::{read_trace, Trace};
use reparti_core::{Algorithm, AlgorithmVisitor};
use reparti_net::merge::{merge, NodeTrace};
use reparti_sim::Report;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The nodes' trace files (`reparti node --trace FILE`), one per node, any order.
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,

    /// Write the merged trace here.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Draw the merged run into FILE.html or FILE.svg.
    #[arg(long, value_name = "FILE")]
    pub viz: Option<PathBuf>,

    /// Print the report as JSON (the fields of `reparti sim --json`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let merged = merge_files(&args.traces)?;
    let (report, steps) = replay(&merged)?;
    if let Some(path) = &args.out {
        write_trace(&merged, path)?;
    }
    if let Some(picture) = &args.viz {
        let scratch = crate::viz::scratch_trace();
        let path = args.out.clone().unwrap_or_else(|| scratch.clone());
        if args.out.is_none() {
            write_trace(&merged, &path)?;
        }
        let drawn = crate::viz::draw(&path, picture);
        let _ = std::fs::remove_file(&scratch);
        drawn?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("merged {} node traces; the simulator replays the run ({steps} steps)\n", args.traces.len());
        print!("{}", summary::render_replay(&report, "a real one, as the nodes' traces recorded it"));
    }
    Ok(if report.all_good() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Reads the nodes' trace files and merges them; every mistake is one line naming the file.
pub fn merge_files(paths: &[PathBuf]) -> anyhow::Result<Trace> {
    let mut traces: Vec<(PathBuf, Trace)> = Vec::with_capacity(paths.len());
    for path in paths {
        // A regular file only (a FIFO would block), of a size this machine can parse.
        let file = reparti_core::user_file::open_regular(path, "trace").map_err(|e| match e.problem {
            reparti_core::user_file::Problem::Io(io) => {
                usage(format!("cannot open the trace {}: {io}", path.display()))
            }
            _ => usage(e.to_string()),
        })?;
        crate::viz::refuse_if_trace_too_large(path, &file)?;
        let t = read_trace(BufReader::new(file)).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        traces.push((path.clone(), t));
    }
    let Some((first_path, first)) = traces.first() else { return Err(usage("give at least one trace file")) };
    let header = first.header.clone();
    let starts: Vec<f64> =
        traces.iter().map(|(_, t)| t.header.network["started_unix_ms"].as_f64().unwrap_or(0.0)).collect();
    let earliest = starts.iter().copied().fold(f64::INFINITY, f64::min);
    let mut nodes = Vec::with_capacity(traces.len());
    for ((path, t), start) in traces.iter().zip(&starts) {
        let h = &t.header;
        let same = h.algorithm == header.algorithm
            && h.seed == header.seed
            && h.params == header.params
            && h.nodes == header.nodes
            && h.idents == header.idents
            && h.topology == header.topology;
        if !same {
            return Err(usage(format!(
                "{} is not from the same run as {} (algorithm, seed, parameters, topology and identities must agree)",
                path.display(),
                first_path.display()
            )));
        }
        let node =
            h.network["me"].as_u64().or_else(|| t.events.first().map(|e| u64::from(e.node))).ok_or_else(|| {
                usage(format!("{} does not say which node wrote it (no `network.me`, no event)", path.display()))
            })?;
        let offset = if earliest.is_finite() { start - earliest } else { 0.0 };
        nodes.push(NodeTrace { node: node as u32, events: t.events.clone(), start_offset_ms: offset });
    }
    let mut header = header;
    header.engine = "run".into();
    merge(header, nodes).map_err(|e| usage(format!("cannot merge the traces: {e}")))
}

/// Replays a merged trace in the simulator: the report and the steps followed.
pub fn replay(trace: &Trace) -> anyhow::Result<(Report, u64)> {
    let name = trace.header.algorithm.clone();
    crate::resolve::algorithm(&name)?;
    reparti_algos::visit(&name, Replay(trace)).unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))
}

struct Replay<'a>(&'a Trace);

impl AlgorithmVisitor for Replay<'_> {
    type Output = anyhow::Result<(Report, u64)>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<(Report, u64)> {
        let replayed = reparti_sim::replay::<A>(self.0).map_err(|e| {
            anyhow::anyhow!(
                "the merged trace does not replay ({}): the nodes did something their state machines would not",
                sim_error(e)
            )
        })?;
        Ok((replayed.report, replayed.steps))
    }
}

//! `reparti run`: a whole cluster of real processes in one command.
//!
//! Starts one `reparti node` process per node on free local ports ([`cluster`]), lets
//! the algorithm run to its end over real sockets, then gathers what each node wrote —
//! its trace and its summary — and merges the traces into one trace consistent with
//! happens-before ([`reparti_net::merge`]). The merged trace is then replayed by the
//! simulator, which checks the very properties and expected counts `reparti sim`
//! checks, so the summary (and `--json`) has the same fields as a simulation's, plus what
//! only a real network shows: retransmissions, injected faults, refused datagrams.
//!
//! The replay is also a check of the runtime itself: if the real nodes did anything the
//! state machines would not do in that order, the replay says where.

pub mod cluster;
mod gather;
pub mod merge_traces;
mod scenario_run;

use crate::node::link::LinkFlags;
use crate::sim::find_algorithm;
use crate::usage;
use clap::Args;
use cluster::Cluster;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The algorithm to run (see `reparti list`), or a scenario file (FILE.toml, see
    /// docs/SCENARIOS.md) whose expectations the real run must meet.
    pub algorithm: String,

    /// Number of node processes [default: the algorithm's default].
    #[arg(short, long)]
    pub nodes: Option<usize>,

    /// Topology [default: the algorithm's first accepted one].
    #[arg(short, long)]
    pub topology: Option<String>,

    /// Identity assignment: random (seeded), asc, desc or a list 3,1,2.
    #[arg(long, default_value = "random")]
    pub ids: String,

    /// Seed of identities, workload and injected faults.
    #[arg(short, long, default_value_t = 1)]
    pub seed: u64,

    /// An algorithm parameter, e.g. --param laps=3. Repeatable.
    #[arg(short, long, value_name = "K=V")]
    pub param: Vec<String>,

    /// udp (datagrams) or tcp (length-prefixed frames).
    #[arg(long, default_value = "udp")]
    pub transport: String,

    #[command(flatten)]
    pub link: LinkFlags,

    /// Stop everything after this many seconds (an error: the run did not end).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub timeout: f64,

    /// End the run when every node has been idle this long with nothing changing, even
    /// if some messages were never delivered (they were lost: the reliable layer is off).
    #[arg(long, default_value_t = 400, value_name = "MS")]
    pub idle_ms: u64,

    /// Write the merged trace here (JSON Lines, docs/TRACE.md).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Draw the run (space-time diagram) into FILE.html or FILE.svg.
    #[arg(long, value_name = "FILE")]
    pub viz: Option<PathBuf>,

    /// Keep each node's trace, summary and stderr in this folder.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,

    /// Print the report as JSON (the fields of `reparti sim --json`, plus `real`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = crate::scenario::path_of(&args.algorithm) {
        return scenario_run::run(&path, args);
    }
    execute(args)?.print(args)
}

/// Starts the cluster, lets it run to its end, and merges and replays what it did.
fn execute(args: &RunArgs) -> anyhow::Result<gather::Outcome> {
    let spec = find_algorithm(&args.algorithm)?;
    let n = args.nodes.unwrap_or(spec.default_nodes);
    if n < 1 {
        return Err(usage("--nodes must be at least 1"));
    }
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(usage(format!("--timeout {} must be a positive number of seconds", args.timeout)));
    }
    let job = gather::Job::from_args(args, spec.name, n)?;
    let scratch;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| usage(format!("--keep {}: cannot create the folder: {e}", dir.display())))?;
            dir.clone()
        }
        None => {
            scratch = tempfile::tempdir().map_err(|e| anyhow::anyhow!("cannot create a scratch folder: {e}"))?;
            scratch.path().to_path_buf()
        }
    };
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout);
    let mut cluster = Cluster::spawn(n, &dir, |i| job.node_args(i, &dir))?;
    let addrs = cluster.wait_ready(deadline)?;
    cluster.start(&addrs)?;
    let finished = cluster.wait_all(deadline, Duration::from_millis(args.idle_ms))?;
    gather::gather(&job, &dir, &addrs, finished)
}

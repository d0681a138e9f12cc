//! The flags of `reparti run`, as clap sees them.

use crate::node::link::LinkFlags;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The algorithm to run (see `reparti list`), or a scenario file (FILE.toml, see
    /// docs/SCENARIOS.md) whose expectations the real run must meet.
    pub algorithm: String,

    /// Run the algorithm over the FIFO layer (sequence numbers and a hold-back queue, so
    /// FIFO channels on a network that reorders); the same as naming it `NAME+fifo`.
    /// Its window: --param fifo_window=W.
    #[arg(long)]
    pub fifo_layer: bool,

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

    #[command(flatten)]
    pub clocks: crate::clock_flags::ClockFlags,

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

    /// Write the history of the clients' operations (shared-memory algorithms) to FILE,
    /// one JSON object a line, as `reparti lin` reads it (docs/TRACE.md, "Histories").
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

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

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

mod args;
pub mod cluster;
mod execute;
mod gather;
mod limits;
pub mod merge_traces;
mod scenario_run;
mod stalled;
mod trace_file;

pub use args::RunArgs;

use crate::resolve::{self, Subject};
use std::process::ExitCode;

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    match resolve::subject(&args.algorithm) {
        Subject::Scenario(path) => scenario_run::run(&path, args),
        Subject::Algorithm(_) => execute::execute(args)?.print(args),
    }
}

//! # reparti-sim: a seeded discrete-event simulator for any reparti algorithm
//!
//! Events (starts, deliveries, timers, external inputs, crashes) are ordered by
//! (simulated time, sequence number) and drawn from one seeded ChaCha8 generator, so the
//! same seed gives the same trace, byte for byte. The network model covers FIFO and
//! non-FIFO channels, constant/uniform/exponential delays, loss, duplication,
//! synchronous rounds, crash-stop failures and partitions.
//!
//! After every event the algorithm's invariants are checked (counts incrementally, in
//! O(1)); at quiescence its terminal properties are checked and its message counts are
//! compared with the counts the literature predicts.
//!
//! ```
//! use reparti_sim::{simulate, SimConfig};
//! # use reparti_core::*;
//! # use serde::{Serialize, Deserialize};
//! # #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
//! # struct Ping;
//! # impl Message for Ping { fn kinds() -> &'static [&'static str] { &["PING"] } fn kind(&self) -> usize { 0 } }
//! # #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
//! # struct Node { got: bool }
//! # impl Process for Node {
//! #     type Msg = Ping; type Input = ();
//! #     fn on_start(&mut self, ctx: &mut Context<'_, Ping>) { ctx.broadcast(Ping) }
//! #     fn on_message(&mut self, _: NodeId, _: Ping, _: &mut Context<'_, Ping>) { self.got = true }
//! # }
//! # struct Pings;
//! # impl Algorithm for Pings {
//! #     type Node = Node;
//! #     fn spec() -> AlgorithmSpec { AlgorithmSpec { name: "pings", chapter: Chapter::Communication,
//! #         summary: "", params: &[], topologies: &["ring"], default_nodes: 4, needs_fifo: false, reads_clocks: false, reads_physical_clock: false, commands: &[], spans: &[] } }
//! #     fn from_params(_: &Params) -> Result<Self, ParamError> { Ok(Pings) }
//! #     fn init(&self, _: &NodeSetup) -> Node { Node { got: false } }
//! #     fn properties(&self) -> Properties<Node> { Properties::default() }
//! # }
//! // Every node of a 10-node ring pings its successor: 10 messages, then quiescence.
//! let report = simulate::<Pings>(&SimConfig::with_nodes(10)).unwrap();
//! assert_eq!(report.messages.total, 10);
//! assert_eq!(report.stop, reparti_sim::Stop::Quiescence);
//! ```

#![warn(missing_docs)]

mod ahead;
mod bucket_sort;
mod calendar;
mod checks;
pub mod clocks;
pub mod config;
mod engine;
mod fifo;
mod finish;
pub mod footprint;
mod histories;
pub mod network;
pub mod outside;
mod prefetch;
mod queue;
pub mod replay;
pub mod report;
mod send;
mod stab_pick;
pub mod stabilization;
mod tracer;

pub use clocks::{ClockConfig, Spread};
pub use config::{SimConfig, VectorClocks};
pub use engine::Simulation;
pub use footprint::{estimate, Footprint};
pub use network::{Delay, Fault, NetworkModel};
pub use replay::{replay, Replayed};
pub use report::{PhysicalClocksAtEnd, Report, Stop};

use reparti_core::Algorithm;
use std::io::Write;

/// Why a simulation could not start (or its trace could not be written).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The instance cannot be made (parameters, topology, identities).
    #[error(transparent)]
    Setup(#[from] reparti_core::SetupError),
    /// A fault or clock option does not fit the run.
    #[error("{0}")]
    Fault(String),
    /// The trace could not be written.
    #[error("cannot write the trace: {0}")]
    Trace(std::io::Error),
}

/// Runs algorithm `A` as configured, to the end, without a trace.
pub fn simulate<A: Algorithm>(cfg: &SimConfig) -> Result<Report, SimError> {
    Simulation::<A>::new(cfg)?.run_to_end().map(|(r, _)| r)
}

/// Runs algorithm `A` as configured, to the end, writing its trace to `out`.
pub fn simulate_traced<A: Algorithm, W: Write>(cfg: &SimConfig, out: W) -> Result<(Report, W), SimError> {
    let (report, w) = Simulation::<A, W>::with_trace(cfg, out)?.run_to_end()?;
    match w {
        Some(w) => Ok((report, w)),
        None => Err(SimError::Trace(std::io::Error::other("the trace writer was lost"))),
    }
}

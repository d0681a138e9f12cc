//! What one simulation run is asked to do.

use crate::network::{Fault, NetworkModel};
use reparti_core::{IdAssignment, TopologyKind};

/// Whether to keep vector clocks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum VectorClocks {
    /// When the algorithm reads clocks, or a trace is written, and n ≤ [`AUTO_VECTOR_LIMIT`].
    #[default]
    Auto,
    /// Always (O(n) per message: beware of large n).
    On,
    /// Never.
    Off,
}

/// Above this many nodes, `Auto` keeps Lamport clocks only.
pub const AUTO_VECTOR_LIMIT: usize = 256;

/// Above this many nodes, global invariants are checked every so many events instead of
/// after every event (and the report says so).
pub const GLOBAL_CHECK_LIMIT: usize = 2_000;

/// An external input given by a scenario, applied at a time to a node. The input is
/// JSON (or TOML turned into JSON) that must deserialize into the algorithm's `Input`.
#[derive(Clone, Debug, PartialEq)]
pub struct GivenInput {
    /// When.
    pub at: f64,
    /// Which node.
    pub node: u32,
    /// The input, e.g. `"Request"` or `{"Send": {"to": 3, "text": "hello"}}`.
    pub input: serde_json::Value,
}

/// One simulation run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Number of nodes; `None` for the algorithm's default (ignored for edge-list files).
    pub nodes: Option<usize>,
    /// The topology; `None` for the algorithm's default.
    pub topology: Option<TopologyKind>,
    /// The identity assignment.
    pub ids: IdAssignment,
    /// The seed of every random choice.
    pub seed: u64,
    /// The network model.
    pub network: NetworkModel,
    /// Crashes and partitions.
    pub faults: Vec<Fault>,
    /// `--param K=V` pairs.
    pub params: Vec<(String, String)>,
    /// Stop after this many events.
    pub max_events: Option<u64>,
    /// Stop at this simulated time.
    pub max_time: Option<f64>,
    /// Whether to keep vector clocks.
    pub vector_clocks: VectorClocks,
    /// Stop at the first violated invariant (the default), or run on and report them all.
    pub stop_at_violation: bool,
    /// External inputs given by a scenario, applied on top of the workload.
    pub inputs: Vec<GivenInput>,
    /// Drop the algorithm's own workload (a scenario that gives every input itself).
    pub no_workload: bool,
    /// The port each node listened on, when replaying a real run (empty otherwise): the
    /// nodes are told theirs (`NodeSetup::port`), as they were on the network.
    pub ports: Vec<u16>,
    /// How the nodes' physical clocks are set (for algorithms that read them).
    pub clocks: crate::clocks::ClockConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: None,
            topology: None,
            ids: IdAssignment::Random,
            seed: 1,
            network: NetworkModel::default(),
            faults: Vec::new(),
            params: Vec::new(),
            max_events: None,
            max_time: None,
            vector_clocks: VectorClocks::Auto,
            stop_at_violation: true,
            inputs: Vec::new(),
            no_workload: false,
            ports: Vec::new(),
            clocks: Default::default(),
        }
    }
}

impl SimConfig {
    /// A default run with `n` nodes.
    pub fn with_nodes(n: usize) -> Self {
        SimConfig { nodes: Some(n), ..SimConfig::default() }
    }
}

//! What one model-checking run is asked to do.

use crate::bitstate::BitstateConfig;
use reparti_core::{IdAssignment, TopologyKind};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The channel model explored.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    /// Reliable, per-channel FIFO queues.
    Fifo,
    /// Reliable multisets: any in-flight message may be delivered next.
    Unordered,
    /// Unordered, and up to `max_drops` messages may be lost.
    Lossy,
    /// Unordered, and up to `max_dups` messages may be duplicated.
    Duplicating,
}

impl FromStr for NetworkKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fifo" => Ok(NetworkKind::Fifo),
            "unordered" => Ok(NetworkKind::Unordered),
            "lossy" => Ok(NetworkKind::Lossy),
            "duplicating" => Ok(NetworkKind::Duplicating),
            _ => Err(format!("unknown network '{s}'; expected fifo, unordered, lossy or duplicating")),
        }
    }
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkKind::Fifo => "fifo",
            NetworkKind::Unordered => "unordered",
            NetworkKind::Lossy => "lossy",
            NetworkKind::Duplicating => "duplicating",
        })
    }
}

/// How the state space is explored.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Strategy {
    /// Breadth-first: exhaustive, shortest counterexamples, parallel.
    Bfs,
    /// Depth-first: exhaustive (or bounded by `max_depth`), little memory.
    Dfs,
    /// Random walks: `walks` runs of at most `depth` steps, for spaces too big to exhaust.
    Random {
        /// How many walks.
        walks: u64,
        /// Steps per walk at most.
        depth: u64,
    },
}

/// One model-checking run.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// Number of nodes; `None` for 4.
    pub nodes: Option<usize>,
    /// The topology; `None` for the algorithm's default.
    pub topology: Option<TopologyKind>,
    /// Identity assignment.
    pub ids: IdAssignment,
    /// Seed for identities, workloads and random walks.
    pub seed: u64,
    /// The channel model.
    pub network: NetworkKind,
    /// Messages that may be lost in one run (lossy networks).
    pub max_drops: u32,
    /// Messages that may be duplicated in one run (duplicating networks).
    pub max_dups: u32,
    /// Nodes that may crash in one run.
    pub max_crashes: u32,
    /// The exploration strategy.
    pub strategy: Strategy,
    /// Worker threads (BFS).
    pub threads: usize,
    /// Do not expand states deeper than this.
    pub max_depth: Option<u64>,
    /// Stop after this many unique states.
    pub max_states: Option<u64>,
    /// Stop after this many seconds.
    pub max_seconds: Option<f64>,
    /// Stop when the visited set and the frontier would take more bytes than this;
    /// `None` for the default budget, a share of the memory available (see
    /// [`MemoryBudget`](crate::MemoryBudget)).
    pub max_memory: Option<u64>,
    /// Set it (from a Ctrl-C handler, another thread) to stop the search cleanly with a
    /// partial report; the search polls it between batches of states.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Use 128-bit fingerprints instead of 64-bit ones.
    pub wide_fingerprints: bool,
    /// Partial-order reduction (where sound; the report says when it was not applied).
    pub por: bool,
    /// Symmetry reduction (for algorithms that declare interchangeable nodes).
    pub symmetry: bool,
    /// Check liveness (builds the state graph; bounded by `liveness_limit` states).
    pub liveness: bool,
    /// Largest state space for which liveness is checked.
    pub liveness_limit: u64,
    /// `--param K=V` pairs.
    pub params: Vec<(String, String)>,
    /// Bitstate hashing: a fixed bit array instead of the exact visited table (a
    /// partial search, its coverage estimated in the report).
    pub bitstate: Option<BitstateConfig>,
    /// Seed of the search's own choices, apart from the instance's `seed`: the random
    /// walks' steps and, when set, the order in which depth-first search tries each
    /// state's successors (shuffled). A swarm varies it over one instance.
    pub search_seed: Option<u64>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            nodes: None,
            topology: None,
            ids: IdAssignment::Random,
            seed: 1,
            network: NetworkKind::Unordered,
            max_drops: 1,
            max_dups: 1,
            max_crashes: 0,
            strategy: Strategy::Bfs,
            threads: 1,
            max_depth: None,
            max_states: None,
            max_seconds: None,
            max_memory: None,
            interrupt: None,
            wide_fingerprints: false,
            por: false,
            symmetry: false,
            liveness: true,
            liveness_limit: 2_000_000,
            params: Vec::new(),
            bitstate: None,
            search_seed: None,
        }
    }
}

impl CheckConfig {
    /// A default check with `n` nodes.
    pub fn with_nodes(n: usize) -> Self {
        CheckConfig { nodes: Some(n), ..CheckConfig::default() }
    }
}

//! What a model-checking run reports. `reparti check --json` prints exactly this.

use crate::counterexample::Counterexample;
use crate::search::StopReason;
use serde::Serialize;
use std::collections::BTreeMap;

/// The verdict on one property.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Verdict {
    /// The property.
    pub name: String,
    /// `invariant`, `closure` (a self-stabilizing algorithm's L), `terminal`, `deadlock` or `liveness`.
    pub kind: &'static str,
    /// Whether it held in everything explored; `None` when it was not checked.
    pub holds: Option<bool>,
    /// How it was checked, or why not, or why it failed.
    pub note: String,
}

/// What one reduction did.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Reduction {
    /// Whether it was asked for.
    pub requested: bool,
    /// Whether it was applied.
    pub applied: bool,
    /// Why or why not.
    pub note: String,
    /// Unique states without it, when `--compare-reductions` measured them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreduced_states: Option<u64>,
}

/// Everything a check reports.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The algorithm's name.
    pub algorithm: String,
    /// The number of nodes.
    pub nodes: usize,
    /// The topology.
    pub topology: String,
    /// Each position's identity.
    pub idents: Vec<u64>,
    /// The resolved parameters.
    pub params: BTreeMap<String, String>,
    /// The channel model.
    pub network: String,
    /// Messages that may be lost, duplicated, nodes that may crash.
    pub faults: BTreeMap<String, u32>,
    /// `bfs`, `dfs` or `random`.
    pub strategy: String,
    /// Worker threads.
    pub threads: usize,
    /// States generated (successors computed, duplicates included).
    pub states: u64,
    /// Distinct states.
    pub unique_states: u64,
    /// The deepest state explored.
    pub max_depth: u64,
    /// Seconds spent searching.
    pub seconds: f64,
    /// Unique states per second.
    pub states_per_sec: f64,
    /// Bytes of visited-set memory per unique state.
    pub bytes_per_state: f64,
    /// The largest BFS frontier, in bytes (packed states).
    pub frontier_peak_bytes: usize,
    /// The memory budget of the visited set and the frontier, in bytes.
    pub memory_budget_bytes: u64,
    /// The most the search stored at once (visited set, frontier or stack), in bytes,
    /// as judged against the budget.
    pub memory_peak_bytes: u64,
    /// Whether the whole reachable space was explored.
    pub complete: bool,
    /// Why the check ended: the search's stop, or an interrupt or the time limit
    /// during the liveness check after a complete search.
    pub stop: StopReason,
    /// Why the answer is partial when it is and no violation was found — "state limit
    /// of 1000 states", "memory budget of 512.0 MiB reached", "interrupted", … — in
    /// which case no property that needed the rest of the space is established.
    pub cut_short: Option<String>,
    /// Every property's verdict.
    pub properties: Vec<Verdict>,
    /// The shortest (BFS) or found (DFS, walks) run that breaks a property.
    pub counterexample: Option<Counterexample>,
    /// 64 or 128.
    pub fingerprint_bits: u32,
    /// Probability that a fingerprint collision hid a state.
    pub collision_probability: f64,
    /// A bitstate search's array and coverage estimate (`--bitstate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitstate: Option<crate::bitstate::BitstateReport>,
    /// Partial-order reduction.
    pub partial_order_reduction: Reduction,
    /// Symmetry reduction.
    pub symmetry_reduction: Reduction,
    /// Whether clock stamps were part of the states, and why.
    pub clocks: String,
}

impl CheckReport {
    /// Whether no property failed (a partial answer, see [`Self::cut_short`], is
    /// "all good" without proving anything).
    pub fn all_good(&self) -> bool {
        self.properties.iter().all(|p| p.holds != Some(false))
    }

    /// The verdict on the property called `name`.
    pub fn property(&self, name: &str) -> Option<&Verdict> {
        self.properties.iter().find(|p| p.name == name)
    }
}

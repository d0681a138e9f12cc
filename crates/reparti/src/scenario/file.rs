//! The scenario file as written: serde structs mirroring the TOML tables one for one.
//!
//! Every struct refuses unknown fields, so a misspelt key is an error at its line and
//! column rather than a silently ignored setting. Values that a later semantic check
//! may reject keep their position (`Spanned`), so that error can point at them too.
//! Nothing here interprets the values: `plan.rs` does, against the algorithm.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// A whole scenario file (see docs/SCENARIOS.md).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// One line saying what the scenario shows (`reparti list` prints it).
    pub description: Option<String>,
    /// The algorithm's catalogue name.
    pub algorithm: Spanned<String>,
    /// The seed of every random choice.
    pub seed: Option<u64>,
    /// Algorithm parameters: `name = value` (strings, numbers, booleans, lists).
    #[serde(default)]
    pub params: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    /// Topology, node count, identities.
    #[serde(default)]
    pub topology: TopologySection,
    /// The simulated network.
    #[serde(default)]
    pub network: NetworkSection,
    /// Crashes, partitions, held-back messages.
    #[serde(default)]
    pub faults: FaultsSection,
    /// The nodes' physical clocks (for algorithms that read them).
    #[serde(default)]
    pub clocks: ClocksSection,
    /// External inputs.
    #[serde(default)]
    pub workload: WorkloadSection,
    /// When the simulation stops, and how it runs.
    #[serde(default)]
    pub limits: LimitsSection,
    /// What `reparti sim` must observe.
    pub expect: Option<ExpectSection>,
    /// How `reparti check` explores the instance, and what it must find.
    pub check: Option<CheckSection>,
}

/// `[topology]`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct TopologySection {
    /// `ring`, `bidir-ring`, `complete`, … (as `--topology`).
    pub kind: Option<Spanned<String>>,
    /// The number of nodes.
    pub nodes: Option<Spanned<usize>>,
    /// `"random"`, `"asc"`, `"desc"`, `"3,1,2"` or `[3, 1, 2]`.
    pub ids: Option<Spanned<toml::Value>>,
}

/// `[network]`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// Per-channel FIFO delivery (default true).
    pub fifo: Option<bool>,
    /// `const:D`, `uniform:A,B` or `exp:MEAN`.
    pub delay: Option<Spanned<String>>,
    /// Probability that a message is lost.
    pub loss: Option<Spanned<f64>>,
    /// Probability that a message is delivered twice.
    pub dup: Option<Spanned<f64>>,
    /// Synchronous rounds.
    pub sync: Option<bool>,
    /// Channels with their own delay: `[[network.link]] from, to, delay`.
    #[serde(default)]
    pub link: Vec<LinkDelaySection>,
}

/// `[[network.link]]`: the channel `from → to` has its own delay (an asymmetric path).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct LinkDelaySection {
    /// The sender (a position).
    pub from: Spanned<u32>,
    /// The receiver (a position).
    pub to: Spanned<u32>,
    /// `const:D`, `uniform:A,B` or `exp:MEAN`.
    pub delay: Spanned<String>,
}

/// `[clocks]`: how the hardware clocks are drawn, and `[[clocks.node]]` given ones.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct ClocksSection {
    /// The offsets' spread (`uniform:-50,50`), in time units.
    pub offset: Option<Spanned<String>>,
    /// The drifts' spread, in ppm.
    pub drift: Option<Spanned<String>>,
    /// Clocks given node by node.
    #[serde(default)]
    pub node: Vec<NodeClockSection>,
}

/// `[[clocks.node]]`: node `node`'s clock exactly.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NodeClockSection {
    /// The node (a position).
    pub node: Spanned<u32>,
    /// Its offset at real time 0, in time units.
    pub offset: f64,
    /// Its drift in ppm (0 if left out).
    #[serde(default)]
    pub drift: f64,
}

/// `[faults]`: `[[faults.crash]]`, `[[faults.partition]]`, `[[faults.delay]]`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FaultsSection {
    /// Crash-stop failures.
    #[serde(default)]
    pub crash: Vec<CrashFault>,
    /// Network partitions.
    #[serde(default)]
    pub partition: Vec<PartitionFault>,
    /// One message held back.
    #[serde(default)]
    pub delay: Vec<DelayFault>,
}

/// `[[faults.crash]]`: node `node` stops for good at `at`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CrashFault {
    /// The node (a position, 0..n).
    pub node: Spanned<u32>,
    /// When.
    pub at: Spanned<f64>,
}

/// `[[faults.partition]]`: `nodes` are cut from the others during `[from, until)`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct PartitionFault {
    /// One side of the cut.
    pub nodes: Spanned<Vec<Spanned<u32>>>,
    /// When the cut begins.
    pub from: Spanned<f64>,
    /// When it heals.
    pub until: Spanned<f64>,
}

/// `[[faults.delay]]`: the first matching message from `from` to `to` takes `by` longer.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct DelayFault {
    /// The sender.
    pub from: Spanned<u32>,
    /// The receiver.
    pub to: Spanned<u32>,
    /// The message type, e.g. `ELECT`.
    pub message: Spanned<String>,
    /// The message's debug form, e.g. `Elect(5)` (compared ignoring case).
    pub payload: Option<String>,
    /// Not before this time (default 0).
    pub after: Option<Spanned<f64>>,
    /// The extra delay.
    pub by: Spanned<f64>,
}

/// `[workload]`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSection {
    /// Drop the algorithm's own workload: only `inputs` happen.
    #[serde(default)]
    pub replace_workload: bool,
    /// External inputs: `{ at = 4, node = 2, input = "Request" }`.
    #[serde(default)]
    pub inputs: Vec<InputEntry>,
}

/// One external input.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct InputEntry {
    /// When.
    pub at: Spanned<f64>,
    /// Which node.
    pub node: Spanned<u32>,
    /// The input, in the algorithm's `Input` serde form.
    pub input: Spanned<toml::Value>,
}

/// `[limits]`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Stop after this many events.
    pub max_events: Option<u64>,
    /// Stop at this simulated time.
    pub max_time: Option<Spanned<f64>>,
    /// `auto`, `on` or `off`.
    pub vector_clocks: Option<Spanned<String>>,
    /// Run on after a violated invariant.
    #[serde(default)]
    pub keep_going: bool,
}

/// `[expect]`: what a simulation must show.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct ExpectSection {
    /// `quiescence`, `time`, `events` or `violation`.
    pub stop: Option<Spanned<String>>,
    /// Properties that must be violated.
    #[serde(default)]
    pub fail: Vec<Spanned<String>>,
    /// Properties that must be checked and hold.
    #[serde(default)]
    pub hold: Vec<Spanned<String>>,
    /// `hold` (default: no property outside `fail` is violated) or `any`.
    pub others: Option<Spanned<String>>,
    /// `hold` (default: every count the algorithm asserts holds) or `any`.
    pub declared_counts: Option<Spanned<String>>,
    /// `key = { value = V, count = C }`: how many times `key` was output with `V`.
    #[serde(default)]
    pub outputs: BTreeMap<Spanned<String>, OutputExpect>,
    /// `TYPE = C` for a message type, `total`, `delivered`, `dropped` or `duplicated`.
    #[serde(default)]
    pub messages: BTreeMap<Spanned<String>, Count>,
}

/// One expected output.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct OutputExpect {
    /// The value, as printed in the report (`8`, `"8"` and `true` all work).
    pub value: toml::Value,
    /// How many times (default: at least once).
    pub count: Option<Count>,
}

/// `[check]`: the model checker's settings.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckSection {
    /// `fifo`, `unordered`, `lossy` or `duplicating` (default: `fifo` for an algorithm that
    /// assumes FIFO channels, `unordered` for the others).
    pub network: Option<Spanned<String>>,
    /// Nodes, when they differ from `[topology] nodes` (the checker wants 3 to 6).
    pub nodes: Option<Spanned<usize>>,
    /// Identities, when they differ from `[topology] ids` (a list must match `nodes`).
    pub ids: Option<Spanned<toml::Value>>,
    /// Messages a lossy network may lose.
    pub max_drops: Option<u32>,
    /// Messages a duplicating network may duplicate.
    pub max_dups: Option<u32>,
    /// Nodes that may crash.
    pub max_crashes: Option<u32>,
    /// `bfs` (default), `dfs` or `random`.
    pub strategy: Option<Spanned<String>>,
    /// Random walks (strategy `random`).
    pub walks: Option<u64>,
    /// Steps per random walk.
    pub depth: Option<u64>,
    /// Worker threads (BFS).
    pub threads: Option<Spanned<usize>>,
    /// Do not expand states deeper than this.
    pub max_depth: Option<u64>,
    /// Stop after this many unique states.
    pub max_states: Option<u64>,
    /// Stop after this many seconds.
    pub max_seconds: Option<f64>,
    /// Partial-order reduction.
    #[serde(default)]
    pub por: bool,
    /// Symmetry reduction.
    #[serde(default)]
    pub symmetry: bool,
    /// Liveness checks (default true).
    pub liveness: Option<bool>,
    /// Largest space on which liveness is checked.
    pub liveness_limit: Option<u64>,
    /// 128-bit fingerprints.
    #[serde(default)]
    pub wide: bool,
    /// Bitstate hashing: the bit array's size, `"64M"` (a partial search).
    pub bitstate: Option<Spanned<String>>,
    /// Bits set per state in a bitstate search (3 by default).
    pub hash_functions: Option<Spanned<u32>>,
    /// Seed of the bitstate bit positions.
    pub hash_seed: Option<u64>,
    /// Seed of the search's own choices (walks; a shuffled depth-first order).
    pub search_seed: Option<u64>,
    /// What the check must find.
    pub expect: Option<CheckExpectSection>,
}

/// `[check.expect]`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckExpectSection {
    /// Properties that must be violated.
    #[serde(default)]
    pub fail: Vec<Spanned<String>>,
    /// Properties that must be checked and hold.
    #[serde(default)]
    pub hold: Vec<Spanned<String>>,
    /// `hold` (default) or `any`.
    pub others: Option<Spanned<String>>,
    /// Whether a counterexample must (true) or must not (false) be found.
    pub counterexample: Option<bool>,
    /// Its number of steps.
    pub counterexample_steps: Option<Count>,
    /// Whether the whole reachable space must have been explored.
    pub complete: Option<bool>,
    /// How many distinct states.
    pub unique_states: Option<Count>,
}

/// A count: `36` (exactly) or `{ min = 10, max = 20 }` (either bound may be left out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// Exactly this many.
    Exact(u64),
    /// Within these bounds.
    Range {
        /// At least.
        min: Option<u64>,
        /// At most.
        max: Option<u64>,
    },
}

impl Count {
    /// Whether `v` satisfies the count.
    pub fn admits(self, v: u64) -> bool {
        match self {
            Count::Exact(x) => v == x,
            Count::Range { min, max } => min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m),
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Count::Exact(x) => write!(f, "= {x}"),
            Count::Range { min: Some(a), max: Some(b) } => write!(f, "∈ [{a}, {b}]"),
            Count::Range { min: Some(a), max: None } => write!(f, "≥ {a}"),
            Count::Range { min: None, max: Some(b) } => write!(f, "≤ {b}"),
            Count::Range { min: None, max: None } => f.write_str("any number"),
        }
    }
}

// Written by hand because an untagged enum would buffer the value and lose the
// positions toml gives the error; this visitor takes an integer or a table directly.
impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count: a whole number ≥ 0, or a table { min = A, max = B }")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count::Exact(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                u64::try_from(v).map(Count::Exact).map_err(|_| E::custom("a count cannot be negative"))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Count, M::Error> {
                let (mut min, mut max) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "min" => min = Some(map.next_value::<u64>()?),
                        "max" => max = Some(map.next_value::<u64>()?),
                        other => return Err(de::Error::unknown_field(other, &["min", "max"])),
                    }
                }
                match (min, max) {
                    (None, None) => Err(de::Error::custom("give min, max or both (or a whole number)")),
                    (Some(a), Some(b)) if a > b => Err(de::Error::custom(format!("min {a} exceeds max {b}"))),
                    _ => Ok(Count::Range { min, max }),
                }
            }
        }
        d.deserialize_any(CountVisitor)
    }
}

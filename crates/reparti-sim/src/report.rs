//! What a run reports: outcome, properties, message counts against theory, speed.

use crate::network::{Fault, NetworkModel};
use reparti_core::{ClockMode, Expectation};
use serde::Serialize;
use std::collections::BTreeMap;

/// Why the run stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Nothing left to happen: no message in transit, no timer, no input.
    Quiescence,
    /// The simulated time limit was reached.
    Time,
    /// The event limit was reached.
    Events,
    /// An invariant was violated (and the run was asked to stop there).
    Violation,
    /// Stopped from outside (Ctrl-C): the report and the trace cover the run so far.
    Interrupted,
}

impl Stop {
    /// The name used in reports and traces.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Quiescence => "quiescence",
            Stop::Time => "time",
            Stop::Events => "events",
            Stop::Violation => "violation",
            Stop::Interrupted => "interrupted",
        }
    }
}

/// The verdict on one property.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct PropertyResult {
    /// The property's name.
    pub name: String,
    /// `invariant`, `stabilizing` (L of a self-stabilizing algorithm: every stretch
    /// outside it must end), `terminal` or `history`.
    pub kind: &'static str,
    /// Whether it held; `None` when it could not be checked (a terminal property of a
    /// run that stopped before quiescence), with `checked` saying why.
    pub holds: Option<bool>,
    /// How it was checked: `every event`, `every K events`, `at quiescence`, `not checked: …`.
    pub checked: String,
    /// The index of the first event after which it was violated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_violation: Option<u64>,
    /// What was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For a stabilizing property: the stretches the run spent outside L.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside: Option<crate::outside::OutsideL>,
}

/// Message counts.
#[derive(Clone, PartialEq, Debug, Serialize, Default)]
pub struct Messages {
    /// Messages sent (duplicates made by the network not included).
    pub total: u64,
    /// Messages sent, by type.
    pub by_type: BTreeMap<String, u64>,
    /// The types a control layer adds (a snapshot's MARKER), as opposed to the
    /// application's basic messages; absent for an algorithm that is not a layer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub control_types: Vec<String>,
    /// Messages delivered (duplicates included).
    pub delivered: u64,
    /// Messages lost (loss, partition, crashed receiver).
    pub dropped: u64,
    /// Extra copies made by the network.
    pub duplicated: u64,
    /// Least, mean and greatest number of messages sent by one node.
    pub per_node: PerNode,
    /// Messages sent by each node, for runs of at most 100 nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_by_node: Option<Vec<u64>>,
}

/// A per-node summary.
#[derive(Clone, PartialEq, Debug, Serialize, Default)]
pub struct PerNode {
    /// The least.
    pub min: u64,
    /// The mean.
    pub mean: f64,
    /// The greatest.
    pub max: u64,
}

/// An expected count beside the measured one.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct ExpectedResult {
    /// The expectation as the algorithm declared it.
    #[serde(flatten)]
    pub expectation: Expectation,
    /// The measured count.
    pub measured: u64,
    /// Whether it holds; `None` for references and for runs with injected faults.
    pub holds: Option<bool>,
    /// For an `after:FROM→TO:…` count, the time from the last `FROM` output to the
    /// first `TO` output (the detection delay in time, beside the messages counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<f64>,
}

/// Everything a run reports. `--json` prints exactly this.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Report {
    /// The algorithm's name.
    pub algorithm: String,
    /// The number of nodes.
    pub nodes: usize,
    /// The seed.
    pub seed: u64,
    /// The topology, as named on the command line.
    pub topology: String,
    /// The identity assignment.
    pub ids: String,
    /// The resolved parameters.
    pub params: BTreeMap<String, String>,
    /// The network model.
    pub network: NetworkModel,
    /// The faults injected.
    pub faults: Vec<Fault>,
    /// Why the run stopped.
    pub stop: crate::report::Stop,
    /// Outputs: key → value → how many times it was output.
    pub outputs: BTreeMap<String, BTreeMap<String, u64>>,
    /// Every property's verdict.
    pub properties: Vec<PropertyResult>,
    /// Message counts.
    pub messages: Messages,
    /// Expected counts, keyed by what they count (a second claim on the same count gets
    /// its formula appended to the key).
    pub expected: BTreeMap<String, ExpectedResult>,
    /// Simulated time at the end.
    pub time: f64,
    /// Rounds, in the synchronous model.
    pub rounds: Option<u64>,
    /// Events handled (starts, deliveries, timers, inputs, crashes, drops).
    pub events: u64,
    /// The longest causal chain of messages (the course's measure of time).
    pub longest_causal_chain: u64,
    /// Which clocks were kept.
    pub clocks: ClockMode,
    /// Where the physical clocks stood at the end, for an algorithm that reads them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_clocks: Option<PhysicalClocksAtEnd>,
    /// Wall-clock seconds spent simulating.
    pub wall_seconds: f64,
    /// Events handled per wall-clock second.
    pub events_per_sec: f64,
}

/// The physical clocks at the end of a run, against real time.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct PhysicalClocksAtEnd {
    /// The greatest difference between two live nodes' readings (the precision reached).
    pub spread: f64,
    /// The greatest distance of a live node's reading from real time (the accuracy).
    pub worst_offset: f64,
    /// Each node's reading minus real time, by position.
    pub offsets: Vec<f64>,
}

impl Report {
    /// Whether every property held and every asserted expectation was met.
    pub fn all_good(&self) -> bool {
        self.properties.iter().all(|p| p.holds != Some(false)) && self.expected.values().all(|e| e.holds != Some(false))
    }

    /// The verdict on the property called `name`.
    pub fn property(&self, name: &str) -> Option<&PropertyResult> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Whether the property called `name` was checked and held.
    pub fn holds(&self, name: &str) -> bool {
        self.property(name).and_then(|p| p.holds) == Some(true)
    }

    /// The number of messages of type `kind` sent.
    pub fn sent(&self, kind: &str) -> u64 {
        self.messages.by_type.get(kind).copied().unwrap_or(0)
    }

    /// How many times `key` was output with `value`.
    pub fn output(&self, key: &str, value: &str) -> u64 {
        self.outputs.get(key).and_then(|m| m.get(value)).copied().unwrap_or(0)
    }
}

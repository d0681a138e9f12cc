//! Expected message counts, declared by each algorithm as functions of the run.
//!
//! An expectation names what it counts (a message type, or `total`), the formula from
//! the literature as text, and the value that formula gives for this run. Engines print
//! the measured count beside it and say whether it holds.

use crate::context::OutputValue;
use crate::params::Params;
use serde::Serialize;
use std::collections::BTreeMap;

/// What an expectation claims about a count.
#[derive(Clone, Copy, PartialEq, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ExpectationKind {
    /// The count equals the value.
    Exact {
        /// The value.
        value: f64,
    },
    /// The count is at most the value.
    AtMost {
        /// The bound.
        value: f64,
    },
    /// The count lies in `[min, max]`.
    Between {
        /// The least.
        min: f64,
        /// The greatest.
        max: f64,
    },
    /// A reference value (a mean over placements, say) shown for comparison, never asserted.
    Reference {
        /// The value.
        value: f64,
    },
}

/// One expected count.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Expectation {
    /// What is counted: a message type name, `total` (all messages), or `output:KEY`
    /// (the greatest integer value output under KEY, e.g. `output:rounds`).
    pub counts: String,
    /// The formula as the literature writes it, e.g. `n(n+1)/2`.
    pub formula: String,
    /// The claim.
    #[serde(flatten)]
    pub kind: ExpectationKind,
}

impl Expectation {
    /// `counts` equals `formula` = `value`.
    pub fn exact(counts: &str, formula: impl Into<String>, value: f64) -> Self {
        Expectation { counts: counts.into(), formula: formula.into(), kind: ExpectationKind::Exact { value } }
    }

    /// `counts` ≤ `formula` = `value`.
    pub fn at_most(counts: &str, formula: impl Into<String>, value: f64) -> Self {
        Expectation { counts: counts.into(), formula: formula.into(), kind: ExpectationKind::AtMost { value } }
    }

    /// `min ≤ counts ≤ max`.
    pub fn between(counts: &str, formula: impl Into<String>, min: f64, max: f64) -> Self {
        Expectation { counts: counts.into(), formula: formula.into(), kind: ExpectationKind::Between { min, max } }
    }

    /// A value shown for comparison only.
    pub fn reference(counts: &str, formula: impl Into<String>, value: f64) -> Self {
        Expectation { counts: counts.into(), formula: formula.into(), kind: ExpectationKind::Reference { value } }
    }

    /// Whether `measured` satisfies the claim; `None` for a reference value.
    pub fn holds(&self, measured: f64) -> Option<bool> {
        const EPS: f64 = 1e-9;
        match self.kind {
            ExpectationKind::Exact { value } => Some((measured - value).abs() < EPS),
            ExpectationKind::AtMost { value } => Some(measured <= value + EPS),
            ExpectationKind::Between { min, max } => Some(measured >= min - EPS && measured <= max + EPS),
            ExpectationKind::Reference { .. } => None,
        }
    }

    /// The value to print beside the formula.
    pub fn value_text(&self) -> String {
        let f = |v: f64| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.2}") };
        match self.kind {
            ExpectationKind::Exact { value } => format!("= {}", f(value)),
            ExpectationKind::AtMost { value } => format!("≤ {}", f(value)),
            ExpectationKind::Between { min, max } => format!("∈ [{}, {}]", f(min), f(max)),
            ExpectationKind::Reference { value } => format!("≈ {} (reference)", f(value)),
        }
    }
}

/// What an algorithm may read about a finished run to state its expectations.
pub struct RunFacts<'a> {
    /// The number of nodes.
    pub n: usize,
    /// Every node's identity, by position.
    pub idents: &'a [u64],
    /// The run's parameters.
    pub params: &'a Params,
    /// Outputs: key → value → how many times it was emitted (a node that outputs the
    /// same value twice counts twice).
    pub outputs: &'a BTreeMap<String, BTreeMap<OutputValue, u64>>,
    /// Messages sent, by type name.
    pub sent_by_type: &'a BTreeMap<String, u64>,
    /// The run's topology, when the engine has it (a formula written in the diameter
    /// falls back to its widest value without it).
    pub topology: Option<&'a crate::Topology>,
}

impl RunFacts<'_> {
    /// How many times `key` was output, whatever the value.
    pub fn output_count(&self, key: &str) -> u64 {
        self.outputs.get(key).map(|m| m.values().sum()).unwrap_or(0)
    }

    /// The largest integer value output under `key`.
    pub fn output_max(&self, key: &str) -> Option<i64> {
        self.outputs.get(key)?.keys().filter_map(|v| if let OutputValue::Int(i) = v { Some(*i) } else { None }).max()
    }

    /// What an [`Expectation`] with this `counts` measures in the run: `total` (every
    /// message sent), `output:KEY` (the largest value output under `KEY`, 0 if none), or
    /// a message type (how many of that type were sent), or types joined by `+` (how
    /// many of any of them: a layer's count of its application's messages).
    pub fn measured(&self, counts: &str) -> u64 {
        if counts == "total" {
            self.sent_by_type.values().sum()
        } else if counts.contains('+') {
            counts.split('+').map(|kind| self.sent_by_type.get(kind).copied().unwrap_or(0)).sum()
        } else if let Some(key) = counts.strip_prefix("output:") {
            self.output_max(key).unwrap_or(0).max(0) as u64
        } else {
            self.sent_by_type.get(counts).copied().unwrap_or(0)
        }
    }
}

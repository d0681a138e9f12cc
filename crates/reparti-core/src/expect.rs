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
    /// What is counted: a message type name, `total` (all messages), `output:KEY`
    /// (the greatest integer value output under KEY, e.g. `output:rounds`), or
    /// `after:FROM→TO:TYPES` (messages sent after a moment of the run, see
    /// [`after_key`]).
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

/// The prefix of a count of messages sent between two moments of the run.
pub const AFTER: &str = "after:";

/// `after:FROM→TO:TYPES`: the messages of `types` (a type, `A+B`, or `total`) sent after
/// the **last** output under `from` and before the **first** output under `to` — the
/// work an algorithm does between a global event of the run it watches (the last node
/// of a computation going `passive`: termination) and its reaction to it (`announce`).
/// The engine measures it from the true run, as it measures every count.
pub fn after_key(from: &str, to: &str, types: &str) -> String {
    format!("{AFTER}{from}→{to}:{types}")
}

/// The parts `(from, to, types)` of an [`after_key`]; `None` for any other count.
pub fn parse_after(counts: &str) -> Option<(&str, &str, &str)> {
    let (from, rest) = counts.strip_prefix(AFTER)?.split_once('→')?;
    let (to, types) = rest.split_once(':')?;
    Some((from, to, types))
}

/// One moment of a run: when it was, and how many messages of each type had been sent
/// by then (the sends of the same handler before it included).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Moment {
    /// Simulated time.
    pub t: f64,
    /// Messages sent so far, by type name.
    pub sent_by_type: BTreeMap<String, u64>,
}

/// The first and the last time an output key was emitted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputMoments {
    /// The first output under the key.
    pub first: Moment,
    /// The last.
    pub last: Moment,
}

/// `total`, a type, or types joined by `+`, counted in `sent`.
fn count_of(sent: &BTreeMap<String, u64>, types: &str) -> u64 {
    if types == "total" {
        sent.values().sum()
    } else {
        types.split('+').map(|kind| sent.get(kind).copied().unwrap_or(0)).sum()
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
    /// message sent), `output:KEY` (the largest value output under `KEY`, 0 if none), a
    /// message type (how many of that type were sent), or types joined by `+` (how many
    /// of any of them: a layer's count of its application's messages). An [`after_key`]
    /// needs the moments of the run: the engine measures it with [`after_count`].
    pub fn measured(&self, counts: &str) -> u64 {
        if let Some(key) = counts.strip_prefix("output:") {
            self.output_max(key).unwrap_or(0).max(0) as u64
        } else {
            count_of(self.sent_by_type, counts)
        }
    }
}

/// What an [`after_key`] measures in a run whose outputs had `moments` and which sent
/// `sent_by_type` in all: the messages sent between the last `FROM` output and the first
/// `TO` output — from the start of the run if `FROM` was never output, to its end if
/// `TO` never was, 0 if `TO` came first. `None` for any other count.
pub fn after_count(
    counts: &str,
    moments: &BTreeMap<String, OutputMoments>,
    sent_by_type: &BTreeMap<String, u64>,
) -> Option<u64> {
    let (from, to, types) = parse_after(counts)?;
    let before = moments.get(from).map(|m| count_of(&m.last.sent_by_type, types)).unwrap_or(0);
    let by = moments.get(to).map(|m| &m.first.sent_by_type).unwrap_or(sent_by_type);
    Some(count_of(by, types).saturating_sub(before))
}

/// For an [`after_key`], the time from the last `FROM` output to the first `TO` output;
/// `None` for any other count, or if either was never output, or `TO` came first.
pub fn after_elapsed(counts: &str, moments: &BTreeMap<String, OutputMoments>) -> Option<f64> {
    let (from, to, _) = parse_after(counts)?;
    let (a, b) = (moments.get(from)?.last.t, moments.get(to)?.first.t);
    (b >= a).then_some(b - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment(t: f64, tokens: u64, work: u64) -> Moment {
        Moment { t, sent_by_type: [("TOKEN".to_string(), tokens), ("WORK".to_string(), work)].into() }
    }

    #[test]
    fn an_after_count_is_the_messages_sent_between_the_last_from_and_the_first_to() {
        let key = after_key("passive", "announce", "TOKEN");
        assert_eq!(key, "after:passive→announce:TOKEN");
        assert_eq!(parse_after(&key), Some(("passive", "announce", "TOKEN")));
        assert_eq!(parse_after("TOKEN"), None);
        let mut moments = BTreeMap::new();
        moments.insert("passive".to_string(), OutputMoments { first: moment(1.0, 2, 3), last: moment(4.0, 7, 9) });
        moments.insert("announce".to_string(), OutputMoments { first: moment(6.5, 12, 9), last: moment(9.0, 20, 9) });
        let total = moment(10.0, 21, 9).sent_by_type;
        assert_eq!(after_count(&key, &moments, &total), Some(5), "12 − 7");
        assert_eq!(after_count("after:passive→announce:TOKEN+WORK", &moments, &total), Some(5));
        assert_eq!(after_count("after:passive→announce:total", &moments, &total), Some(5));
        assert_eq!(after_elapsed(&key, &moments), Some(2.5));
        // Never announced: up to the end of the run, and no time.
        assert_eq!(after_count("after:passive→never:TOKEN", &moments, &total), Some(14));
        assert_eq!(after_elapsed("after:passive→never:TOKEN", &moments), None);
        // Announced before the last passive (a false announcement): nothing after.
        assert_eq!(after_count("after:announce→passive:TOKEN", &moments, &total), Some(0));
        assert_eq!(after_elapsed("after:announce→passive:TOKEN", &moments), None);
        assert_eq!(after_count("TOKEN", &moments, &total), None);
    }
}

//! A history: client operations, each an invocation and (unless it never completed) a
//! completion, with their times.
//!
//! Operations are what a client asked (`read x`, `write x 3`, `cas x 1 2`, `enqueue 5`,
//! `dequeue`, `add 4`, `read` of a whole set) and what it was answered. An operation
//! whose client crashed, timed out or heard nothing is *pending*: it may have taken
//! effect at any moment after its call, or not at all, so the search may place it
//! anywhere after its call (its completion is at +∞) and accepts any answer for it.
//! An operation known to have failed without effect (Jepsen's `:fail`) is left out by
//! the readers.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What a client asked.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Call {
    /// Read a register (or a whole set, for the set model).
    Read,
    /// Write a register.
    Write(i64),
    /// Compare-and-set a register: from the first value to the second.
    Cas(i64, i64),
    /// Put a value at the queue's tail.
    Enqueue(i64),
    /// Take the value at the queue's head.
    Dequeue,
    /// Add a value to a set.
    Add(i64),
}

/// What a client was answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// Done (a write, a successful cas, an enqueue, an add).
    Ok,
    /// A cas that found another value.
    Fail,
    /// A read's or a dequeue's value; `None` for an empty register or queue.
    Value(Option<i64>),
    /// A set read: every element.
    Set(BTreeSet<i64>),
}

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Its position in the history as read (0, 1, …).
    pub id: usize,
    /// The client (process) that made it.
    pub client: u64,
    /// The key it is about (`None` for a history of one object).
    pub key: Option<String>,
    /// What was asked.
    pub call: Call,
    /// What was answered; `None` while pending.
    pub answer: Option<Answer>,
    /// When it was invoked.
    pub called: f64,
    /// When it completed; `None` while pending (+∞ for the search).
    pub returned: Option<f64>,
    /// The source line of its invocation, for messages.
    pub line: usize,
}

impl Operation {
    /// Whether it never completed.
    pub fn pending(&self) -> bool {
        self.returned.is_none()
    }

    /// Its completion time, +∞ when pending.
    pub fn end(&self) -> f64 {
        self.returned.unwrap_or(f64::INFINITY)
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Read => write!(f, "read"),
            Call::Write(v) => write!(f, "write {v}"),
            Call::Cas(a, b) => write!(f, "cas {a} {b}"),
            Call::Enqueue(v) => write!(f, "enqueue {v}"),
            Call::Dequeue => write!(f, "dequeue"),
            Call::Add(v) => write!(f, "add {v}"),
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Ok => write!(f, "ok"),
            Answer::Fail => write!(f, "fail"),
            Answer::Value(Some(v)) => write!(f, "{v}"),
            Answer::Value(None) => write!(f, "nil"),
            Answer::Set(s) => {
                let items: Vec<String> = s.iter().map(i64::to_string).collect();
                write!(f, "#{{{}}}", items.join(" "))
            }
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key right after the function's name: `write x 3`, not `write 3 x`.
        let call = self.call.to_string();
        let call = match (&self.key, call.split_once(' ')) {
            (Some(k), Some((f, args))) => format!("{f} {k} {args}"),
            (Some(k), None) => format!("{call} {k}"),
            (None, _) => call,
        };
        let answer = self.answer.as_ref().map_or("pending".to_string(), |a| a.to_string());
        let returned = self.returned.map_or("∞".to_string(), |t| format!("{t}"));
        write!(
            f,
            "#{} client {}: {call} → {answer} [{}, {returned}] (line {})",
            self.id, self.client, self.called, self.line
        )
    }
}

/// A history: its operations, in the order they were invoked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Every operation, by id.
    pub operations: Vec<Operation>,
}

impl History {
    /// The sub-histories of each key (P-compositionality: a history of independent
    /// objects is linearizable iff each object's is), in key order; a history without
    /// keys is one part.
    pub fn by_key(&self) -> Vec<(Option<String>, Vec<Operation>)> {
        // One pass: a history of 10⁵ operations over 100 keys is split in milliseconds.
        let mut parts: BTreeMap<Option<&String>, Vec<Operation>> = BTreeMap::new();
        for op in &self.operations {
            parts.entry(op.key.as_ref()).or_default().push(op.clone());
        }
        parts.into_iter().map(|(key, ops)| (key.cloned(), ops)).collect()
    }
}

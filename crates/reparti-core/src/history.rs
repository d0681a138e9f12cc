//! Histories: what clients asked of a shared memory and what they were answered.
//!
//! A client's operation (`read 1`, `write 1 5`, `cas 1 5 6`) reaches a node as an
//! external input; the node *calls* it when it starts working on it and *returns* its
//! answer when done. Both moments are outputs under the keys [`CALL`] and [`RET`], made
//! through [`call`] and [`ret`], so that they travel in every engine's trace like any
//! other output and a history is read back from any trace ([`from_trace`]): a simulation,
//! a model checker's counterexample, the merged trace of a real run. Nothing here is
//! engine-specific, which is why every engine records histories without knowing it.
//!
//! The client of an operation is the node that called it: a node hosts one client, which
//! has at most one operation open at a time (what a linearizability checker assumes).
//! An operation called and never returned — its node crashed, its messages were lost,
//! the run stopped — stays in the history as an invocation with no completion: a
//! *pending* operation, which may have taken effect or not.
//!
//! The history file (`--history FILE`) is JSON Lines, one event a line, the format
//! `reparti lin` reads (`docs/TRACE.md`, "Histories").

use crate::context::{Context, OutputValue};
use crate::trace::{EventKind, Trace};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

/// The output key under which a node calls an operation.
pub const CALL: &str = "call";
/// The output key under which a node returns an operation's answer.
pub const RET: &str = "ret";

/// A client's operation on a register of the shared memory. Registers start empty
/// (`nil`): a read before any write answers nothing.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Operation {
    /// Read register `key`.
    Read {
        /// The register.
        key: u32,
    },
    /// Write `value` into register `key`.
    Write {
        /// The register.
        key: u32,
        /// The value.
        value: i64,
    },
    /// Compare-and-set: if register `key` holds `from`, make it `to`.
    Cas {
        /// The register.
        key: u32,
        /// The value expected.
        from: i64,
        /// The value put in its place.
        to: i64,
    },
}

impl Operation {
    /// The register it is about.
    pub fn key(&self) -> u32 {
        match *self {
            Operation::Read { key } | Operation::Write { key, .. } | Operation::Cas { key, .. } => key,
        }
    }

    /// Its function's name, as histories write it (`read`, `write`, `cas`).
    pub fn function(&self) -> &'static str {
        match self {
            Operation::Read { .. } => "read",
            Operation::Write { .. } => "write",
            Operation::Cas { .. } => "cas",
        }
    }

    /// The answer it gets from a register holding `value`, and what the register then
    /// holds: the sequential specification every protocol implements.
    pub fn apply(&self, value: Option<i64>) -> (Reply, Option<i64>) {
        match *self {
            Operation::Read { .. } => (Reply::Value(value), value),
            Operation::Write { value: v, .. } => (Reply::Done, Some(v)),
            Operation::Cas { from, to, .. } if value == Some(from) => (Reply::Done, Some(to)),
            Operation::Cas { .. } => (Reply::Refused, value),
        }
    }

    /// Parses the form [`fmt::Display`] writes: `read K`, `write K V`, `cas K FROM TO`.
    pub fn parse(text: &str) -> Result<Operation, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let int = |w: &str| w.parse::<i64>().map_err(|_| format!("'{w}' is not a whole number in '{text}'"));
        let key = |w: &str| w.parse::<u32>().map_err(|_| format!("'{w}' is not a register number in '{text}'"));
        match words.as_slice() {
            ["read", k] => Ok(Operation::Read { key: key(k)? }),
            ["write", k, v] => Ok(Operation::Write { key: key(k)?, value: int(v)? }),
            ["cas", k, a, b] => Ok(Operation::Cas { key: key(k)?, from: int(a)?, to: int(b)? }),
            _ => Err(format!("'{text}' is not an operation: expected read K, write K V or cas K FROM TO")),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Read { key } => write!(f, "read {key}"),
            Operation::Write { key, value } => write!(f, "write {key} {value}"),
            Operation::Cas { key, from, to } => write!(f, "cas {key} {from} {to}"),
        }
    }
}

/// What an operation was answered.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Reply {
    /// A read's value (`None`: the register was never written).
    Value(Option<i64>),
    /// A write, or a compare-and-set that found the value it expected.
    Done,
    /// A compare-and-set that found another value: it did nothing.
    Refused,
}

impl Reply {
    /// Parses the form [`fmt::Display`] writes: `ok`, `ok V`, `ok nil`, `fail`.
    pub fn parse(text: &str) -> Result<Reply, String> {
        match text.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["ok"] => Ok(Reply::Done),
            ["ok", "nil"] => Ok(Reply::Value(None)),
            ["ok", v] => v.parse().map(|v| Reply::Value(Some(v))).map_err(|_| format!("'{v}' is not a value")),
            ["fail"] => Ok(Reply::Refused),
            _ => Err(format!("'{text}' is not an answer: expected ok, ok VALUE, ok nil or fail")),
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Value(Some(v)) => write!(f, "ok {v}"),
            Reply::Value(None) => write!(f, "ok nil"),
            Reply::Done => write!(f, "ok"),
            Reply::Refused => write!(f, "fail"),
        }
    }
}

/// Calls `op`: its invocation, at this moment, by this node's client.
pub fn call<M: Clone>(ctx: &mut Context<'_, M>, op: Operation) {
    ctx.output(CALL, op.to_string());
}

/// Returns the answer of this node's open operation.
pub fn ret<M: Clone>(ctx: &mut Context<'_, M>, reply: Reply) {
    ctx.output(RET, reply.to_string());
}

/// One line of a history file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// The client: the node, by position.
    pub client: u32,
    /// `invoke`, `ok` (done, with this answer) or `fail` (a compare-and-set that did
    /// nothing).
    #[serde(rename = "type")]
    pub kind: String,
    /// `read`, `write` or `cas`.
    pub f: String,
    /// The register.
    pub key: u32,
    /// A write's value, a cas's `[from, to]`, a read's answer (`null` on invoke or when
    /// never written).
    pub value: serde_json::Value,
    /// When (simulated time, or a real run's time in its trace's unit).
    pub t: f64,
}

/// A judge of a whole history: `Err(why)` when it breaks the property.
pub type HistoryCheck = Arc<dyn Fn(&[HistoryLine]) -> Result<(), String> + Send + Sync>;

/// A property of a run's whole history ("linearizable", "sequentially consistent"),
/// judged when the run is over: by the simulator at its end, by the model checker in
/// every final state (each path there records its own history), from a real run's merged
/// trace. The history holds pending operations where the run stopped with some open.
#[derive(Clone)]
pub struct HistoryProperty {
    /// What it says.
    pub name: &'static str,
    /// `Err(why)` when the history breaks it.
    pub check: HistoryCheck,
    /// Whether it is linearizability of the registers ([`Operation::apply`]), which an
    /// engine may decide call by call with a [`crate::linearization::Linearization`]
    /// instead of judging whole histories (the model checker does, so that paths with the
    /// same effect on the registers meet).
    pub linearizability: bool,
}

impl HistoryProperty {
    /// A property of histories.
    pub fn new(
        name: &'static str,
        check: impl Fn(&[HistoryLine]) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        HistoryProperty { name, check: Arc::new(check), linearizability: false }
    }

    /// Linearizability of the registers, judged on a whole history by `check` (which
    /// must agree with [`crate::linearization::Linearization`]: engines use either).
    pub fn linearizability(
        name: &'static str,
        check: impl Fn(&[HistoryLine]) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        HistoryProperty { linearizability: true, ..HistoryProperty::new(name, check) }
    }
}

/// Turns `call` and `ret` outputs, in the order they happened, into history lines.
#[derive(Default)]
pub struct HistoryRecorder {
    open: BTreeMap<u32, Operation>,
    lines: Vec<HistoryLine>,
}

impl HistoryRecorder {
    /// A recorder with nothing recorded.
    pub fn new() -> Self {
        HistoryRecorder::default()
    }

    /// Records an output of `node` at time `t`; outputs under other keys are ignored.
    /// `Err` names what is wrong with a `call` or `ret` (the algorithm broke the
    /// convention: a second call while one is open, a return with none open).
    pub fn output(&mut self, t: f64, node: u32, key: &str, value: &OutputValue) -> Result<(), String> {
        // Every output of a run passes here: only calls and returns are made into text.
        match key {
            CALL => {
                let op = Operation::parse(&value.to_string())?;
                if let Some(open) = self.open.insert(node, op) {
                    return Err(format!("node {node} called '{op}' at {t} while '{open}' was still open"));
                }
                let value = match op {
                    Operation::Read { .. } => serde_json::Value::Null,
                    Operation::Write { value, .. } => value.into(),
                    Operation::Cas { from, to, .. } => serde_json::json!([from, to]),
                };
                self.push(t, node, "invoke", op, value);
            }
            RET => {
                let text = value.to_string();
                let reply = Reply::parse(&text)?;
                let op = self
                    .open
                    .remove(&node)
                    .ok_or_else(|| format!("node {node} returned '{text}' at {t} with no operation open"))?;
                let (kind, value) = match (op, reply) {
                    (Operation::Read { .. }, Reply::Value(v)) => ("ok", v.map_or(serde_json::Value::Null, Into::into)),
                    (Operation::Write { value, .. }, Reply::Done) => ("ok", value.into()),
                    (Operation::Cas { from, to, .. }, Reply::Done) => ("ok", serde_json::json!([from, to])),
                    (Operation::Cas { from, to, .. }, Reply::Refused) => ("fail", serde_json::json!([from, to])),
                    (op, reply) => return Err(format!("node {node} answered '{op}' with '{reply}' at {t}")),
                };
                self.push(t, node, kind, op, value);
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, t: f64, client: u32, kind: &str, op: Operation, value: serde_json::Value) {
        let (kind, f) = (kind.to_string(), op.function().to_string());
        self.lines.push(HistoryLine { client, kind, f, key: op.key(), value, t });
    }

    /// Operations called and not returned, by client.
    pub fn pending(&self) -> impl Iterator<Item = (u32, Operation)> + '_ {
        self.open.iter().map(|(&c, &op)| (c, op))
    }

    /// The lines so far, pending invocations included (with no completion).
    pub fn lines(&self) -> &[HistoryLine] {
        &self.lines
    }
}

/// The history a trace records, in the order of its events.
pub fn from_trace(trace: &Trace) -> Result<Vec<HistoryLine>, String> {
    let mut recorder = HistoryRecorder::new();
    for event in trace.events.iter().filter(|e| e.kind == EventKind::Output) {
        if let (Some(key), Some(value)) = (&event.key, &event.value) {
            recorder.output(event.t, event.node, key, value).map_err(|e| format!("event {}: {e}", event.i))?;
        }
    }
    Ok(recorder.lines)
}

/// Writes `lines` as JSON Lines.
pub fn write_jsonl(lines: &[HistoryLine], out: &mut dyn Write) -> io::Result<()> {
    for line in lines {
        serde_json::to_writer(&mut *out, line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_and_replies_read_back_what_they_write() {
        for op in [
            Operation::Read { key: 2 },
            Operation::Write { key: 0, value: -5 },
            Operation::Cas { key: 1, from: 3, to: 4 },
        ] {
            assert_eq!(Operation::parse(&op.to_string()), Ok(op));
        }
        for r in [Reply::Value(None), Reply::Value(Some(7)), Reply::Done, Reply::Refused] {
            assert_eq!(Reply::parse(&r.to_string()), Ok(r));
        }
        assert!(Operation::parse("write 1").is_err());
    }

    #[test]
    fn calls_and_returns_become_lines_and_open_calls_stay_pending() {
        let mut h = HistoryRecorder::new();
        h.output(1.0, 0, CALL, &"write 1 5".into()).unwrap();
        h.output(1.5, 1, CALL, &"cas 1 4 6".into()).unwrap();
        h.output(2.0, 0, RET, &"ok".into()).unwrap();
        h.output(2.5, 1, RET, &"fail".into()).unwrap();
        h.output(3.0, 1, CALL, &"read 1".into()).unwrap();
        h.output(3.0, 1, "leader", &OutputValue::Int(4)).unwrap();
        let kinds: Vec<_> = h.lines().iter().map(|l| (l.client, l.kind.as_str(), l.f.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (0, "invoke", "write"),
                (1, "invoke", "cas"),
                (0, "ok", "write"),
                (1, "fail", "cas"),
                (1, "invoke", "read")
            ]
        );
        assert_eq!(h.pending().collect::<Vec<_>>(), [(1, Operation::Read { key: 1 })]);
        assert!(h.output(4.0, 1, CALL, &"read 1".into()).unwrap_err().contains("still open"));
        assert!(h.output(4.0, 2, RET, &"ok".into()).unwrap_err().contains("no operation open"));
    }
}

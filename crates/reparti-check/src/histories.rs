//! Client histories in the state, for algorithms with history properties (shared
//! memory): each path records the calls and returns it made, and every final state's
//! history is judged (linearizable, sequentially consistent…).
//!
//! A history is part of the state because two paths to the same nodes and network may
//! have made different histories, one linearizable and one not. To keep the space from
//! growing for nothing, it is kept in a canonical form: what a history means is which
//! operation returned before which other was called, so in a run of consecutive calls
//! (or of consecutive returns) the order does not matter, and each such run is kept
//! sorted by client. Two interleavings that differ only there are one state.
//!
//! When every history property is linearizability, the state keeps far less: a
//! [`Linearization`], which decides it call by call and forgets completed operations
//! but for their effect on the registers. Paths whose clients' operations interleaved
//! differently but did the same then meet, and a violation is found at the very return
//! that makes it, as an invariant, so the counterexample ends there.

use reparti_core::history::{HistoryProperty, HistoryRecorder, Operation, Reply, CALL, RET};
use reparti_core::linearization::Linearization;
use reparti_core::{NodeId, OutputValue};
use serde::{Deserialize, Serialize};

/// One event of a history, by client (the node, by position).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Mark {
    /// The client called this operation.
    Call(u32, Operation),
    /// The client's open operation returned this.
    Ret(u32, Reply),
    /// The client output a call or a return that is not one (the history is malformed).
    Malformed(u32),
}

impl Mark {
    fn client(self) -> u32 {
        match self {
            Mark::Call(c, _) | Mark::Ret(c, _) | Mark::Malformed(c) => c,
        }
    }

    fn is_call(self) -> bool {
        matches!(self, Mark::Call(..))
    }

    /// The mark an output makes, if it is a call or a return.
    pub fn of_output(node: NodeId, key: &str, value: &OutputValue) -> Option<Mark> {
        let parsed = match key {
            CALL => Operation::parse(&value.to_string()).map(|op| Mark::Call(node.0, op)),
            RET => Reply::parse(&value.to_string()).map(|r| Mark::Ret(node.0, r)),
            _ => return None,
        };
        Some(parsed.unwrap_or(Mark::Malformed(node.0)))
    }

    fn renamed(self, perm: &[u32]) -> Mark {
        let to = |c: u32| perm.get(c as usize).copied().unwrap_or(c);
        match self {
            Mark::Call(c, op) => Mark::Call(to(c), op),
            Mark::Ret(c, r) => Mark::Ret(to(c), r),
            Mark::Malformed(c) => Mark::Malformed(to(c)),
        }
    }
}

/// What a state keeps of its path's history.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub enum Recorded {
    /// Nothing: the algorithm has no history properties.
    #[default]
    Nothing,
    /// Every call and return, in canonical form, for properties judged on whole
    /// histories at the end.
    Marks(Vec<Mark>),
    /// What linearizations of it may have reached, when every history property is
    /// linearizability.
    Linearization(Linearization),
}

impl Recorded {
    /// What a path's first state keeps for these properties.
    pub fn start(props: &[HistoryProperty]) -> Recorded {
        if props.is_empty() {
            Recorded::Nothing
        } else if props.iter().all(|p| p.linearizability) {
            Recorded::Linearization(Linearization::new())
        } else {
            Recorded::Marks(Vec::new())
        }
    }

    /// Records one call or return.
    pub fn record(&mut self, mark: Mark) {
        match self {
            Recorded::Nothing => {}
            Recorded::Marks(history) => record(history, mark),
            Recorded::Linearization(l) => match mark {
                Mark::Call(c, op) => l.call(c, op),
                Mark::Ret(c, reply) => l.ret(c, reply),
                Mark::Malformed(c) => l.malformed(format!("the history is malformed: {}", malformed(c))),
            },
        }
    }

    /// The same with client i renamed `perm[i]`.
    pub fn renamed(&self, perm: &[u32]) -> Recorded {
        match self {
            Recorded::Nothing => Recorded::Nothing,
            Recorded::Marks(history) => Recorded::Marks(renamed(history, perm)),
            Recorded::Linearization(l) => Recorded::Linearization(l.renamed(perm)),
        }
    }

    /// Why the history so far breaks linearizability, when it is decided call by call.
    pub fn broken(&self) -> Option<&str> {
        match self {
            Recorded::Linearization(l) => l.broken(),
            _ => None,
        }
    }

    /// The first whole-history property the history breaks: (its index, why).
    pub fn violated(&self, props: &[HistoryProperty]) -> Option<(usize, String)> {
        match self {
            Recorded::Marks(history) => violated(props, history),
            _ => None,
        }
    }
}

/// Appends `mark`, keeping the trailing run of calls (or of returns) sorted.
fn record(history: &mut Vec<Mark>, mark: Mark) {
    history.push(mark);
    let mut i = history.len() - 1;
    while i > 0 && same_kind(history[i - 1], mark) && history[i - 1] > history[i] {
        history.swap(i - 1, i);
        i -= 1;
    }
}

fn same_kind(a: Mark, b: Mark) -> bool {
    // A malformed mark stands alone: the history fails whatever its place.
    !matches!(a, Mark::Malformed(_)) && !matches!(b, Mark::Malformed(_)) && a.is_call() == b.is_call()
}

/// `history` with client i renamed `perm[i]`, in canonical form again.
fn renamed(history: &[Mark], perm: &[u32]) -> Vec<Mark> {
    let mut out = Vec::with_capacity(history.len());
    for m in history {
        record(&mut out, m.renamed(perm));
    }
    out
}

/// The first history property `history` breaks: (its index, why).
fn violated(props: &[HistoryProperty], history: &[Mark]) -> Option<(usize, String)> {
    if props.is_empty() {
        return None;
    }
    let lines = match lines(history) {
        Ok(lines) => lines,
        Err(why) => return Some((0, format!("the history is malformed: {why}"))),
    };
    props.iter().enumerate().find_map(|(k, p)| (p.check)(&lines).err().map(|why| (k, why)))
}

fn malformed(client: u32) -> String {
    format!("node {client} output a call or return that is not one")
}

/// The history as lines, each at its place in the path as its time.
fn lines(history: &[Mark]) -> Result<Vec<reparti_core::history::HistoryLine>, String> {
    let mut recorder = HistoryRecorder::new();
    for (t, m) in history.iter().enumerate() {
        let (key, text) = match m {
            Mark::Call(_, op) => (CALL, op.to_string()),
            Mark::Ret(_, r) => (RET, r.to_string()),
            Mark::Malformed(c) => return Err(malformed(*c)),
        };
        recorder.output(t as f64, m.client(), key, &OutputValue::Text(text))?;
    }
    Ok(recorder.lines().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(c: u32, key: u32) -> Mark {
        Mark::Call(c, Operation::Read { key })
    }

    #[test]
    fn runs_of_calls_or_returns_have_one_order_and_the_rest_keeps_its_own() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for m in [call(2, 0), call(0, 0), Mark::Ret(2, Reply::Value(None)), call(1, 0)] {
            record(&mut a, m);
        }
        for m in [call(0, 0), call(2, 0), Mark::Ret(2, Reply::Value(None)), call(1, 0)] {
            record(&mut b, m);
        }
        assert_eq!(a, b);
        assert_eq!(a[0], call(0, 0));
        // A return before a call is not the same history as after it.
        let mut c = Vec::new();
        for m in [call(0, 0), call(2, 0), call(1, 0), Mark::Ret(2, Reply::Value(None))] {
            record(&mut c, m);
        }
        assert_ne!(a, c);
    }

    #[test]
    fn renaming_clients_restores_the_canonical_order() {
        let mut h = Vec::new();
        for m in [call(0, 0), call(1, 1)] {
            record(&mut h, m);
        }
        assert_eq!(renamed(&h, &[1, 0]), vec![call(0, 1), call(1, 0)]);
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_judged() {
        let lin = HistoryProperty::new("reads see the last write", |lines| {
            let wrote = lines.iter().any(|l| l.f == "write" && l.kind == "ok");
            let stale = lines.iter().any(|l| l.f == "read" && l.kind == "ok" && l.value.is_null());
            if wrote && stale {
                Err("a read missed a completed write".into())
            } else {
                Ok(())
            }
        });
        let mut h = Vec::new();
        record(&mut h, Mark::Call(0, Operation::Write { key: 0, value: 1 }));
        record(&mut h, Mark::Ret(0, Reply::Done));
        assert_eq!(violated(std::slice::from_ref(&lin), &h), None);
        record(&mut h, call(1, 0));
        record(&mut h, Mark::Ret(1, Reply::Value(None)));
        assert_eq!(violated(std::slice::from_ref(&lin), &h).map(|v| v.0), Some(0));
        record(&mut h, Mark::Malformed(1));
        assert!(violated(&[lin], &h).is_some_and(|(_, why)| why.contains("malformed")));
    }
}

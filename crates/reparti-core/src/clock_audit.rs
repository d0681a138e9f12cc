//! Reading a trace back against the clock rules: did every engine date every event as
//! TP6's sheet says?
//!
//! The rules ([`crate::clock`]): every clock starts at 0; a local event the algorithm
//! declares adds one; a send adds one and the message carries the new value; a receive
//! takes the maximum of the node's clock and the message's stamp, plus one (vector
//! clocks: component-wise maximum, then one more at the receiver). Everything else a node
//! does — starting, a timer, an input, an output, a log line — leaves its clocks where
//! they were.
//!
//! [`audit_clocks`] replays those rules over a trace, node by node, and names the first
//! event whose clocks differ from what the rules give. It needs only the trace, so the
//! same audit runs on a simulation, a checker's counterexample and a real run's merged
//! trace: the tests use it to hold every engine to the one set of rules.

use crate::trace::{EventKind, Trace, TraceEvent};
use std::collections::BTreeMap;

/// What a send stamped its message with, found again at the message's receive.
type Stamp = (u64, Option<Vec<u64>>);

/// How a receive names its send: the trace's message id, or (in a real node's own
/// trace, which has none) the channel and the message's number on it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum MessageKey {
    Id(u64),
    Channel { from: u32, to: u32, seq: u64 },
}

fn key_of_send(e: &TraceEvent) -> Option<MessageKey> {
    match (e.msg, e.to, e.seq) {
        (Some(id), _, _) => Some(MessageKey::Id(id)),
        (None, Some(to), Some(seq)) => Some(MessageKey::Channel { from: e.node, to, seq }),
        _ => None,
    }
}

fn key_of_receive(e: &TraceEvent) -> Option<MessageKey> {
    match (e.msg, e.from, e.seq) {
        (Some(id), _, _) => Some(MessageKey::Id(id)),
        (None, Some(from), Some(seq)) => Some(MessageKey::Channel { from, to: e.node, seq }),
        _ => None,
    }
}

/// Checks every event's clocks against the rules; the error names the first event that
/// breaks them, what it carries and what the rules give.
pub fn audit_clocks(trace: &Trace) -> Result<(), String> {
    let n = trace.header.nodes;
    let mut lamport: BTreeMap<u32, u64> = BTreeMap::new();
    let mut vectors: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    let mut stamps: BTreeMap<MessageKey, Stamp> = BTreeMap::new();
    for e in &trace.events {
        let clock = lamport.entry(e.node).or_insert(0);
        let vector = e.vc.as_ref().map(|_| vectors.entry(e.node).or_insert_with(|| vec![0; n]));
        let me = e.node as usize;
        let rule = match e.kind {
            // The network's doings and a crash are not the node's events.
            EventKind::Drop | EventKind::Duplicate | EventKind::Crash => continue,
            EventKind::Send | EventKind::Local => {
                *clock += 1;
                if let Some(v) = vector {
                    bump(v, me, e)?;
                }
                if e.kind == EventKind::Send {
                    if let Some(key) = key_of_send(e) {
                        stamps.insert(key, (e.lamport, e.vc.clone()));
                    }
                }
                if e.kind == EventKind::Send {
                    "a send adds one, then stamps"
                } else {
                    "a local event adds one"
                }
            }
            EventKind::Receive => {
                let Some((stamp, stamp_vc)) = key_of_receive(e).and_then(|k| stamps.get(&k)).cloned() else {
                    return Err(format!("event {}: a receive whose send is not in the trace", e.i));
                };
                *clock = (*clock).max(stamp) + 1;
                if let (Some(v), Some(sv)) = (vector, stamp_vc) {
                    for (mine, theirs) in v.iter_mut().zip(&sv) {
                        *mine = (*mine).max(*theirs);
                    }
                    bump(v, me, e)?;
                }
                "a receive takes the maximum, plus one"
            }
            EventKind::Start
            | EventKind::Timer
            | EventKind::Input
            | EventKind::Output
            | EventKind::Log
            | EventKind::Clock => "only sends, receives and declared local events move the clocks",
        };
        if e.lamport != *clock {
            return Err(format!(
                "event {} ({:?} at node {}): Lamport clock {}, where the rules give {} ({rule})",
                e.i, e.kind, e.node, e.lamport, clock
            ));
        }
        if let (Some(carried), Some(expected)) = (&e.vc, vectors.get(&e.node)) {
            if carried != expected {
                return Err(format!(
                    "event {} ({:?} at node {}): vector clock {carried:?}, where the rules give {expected:?} ({rule})",
                    e.i, e.kind, e.node
                ));
            }
        }
    }
    Ok(())
}

fn bump(v: &mut [u64], me: usize, e: &TraceEvent) -> Result<(), String> {
    let slot = v.get_mut(me).ok_or_else(|| format!("event {}: node {} outside the vector clock", e.i, e.node))?;
    *slot += 1;
    Ok(())
}

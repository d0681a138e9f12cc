//! The judge of a recorded global state, shared by every snapshot layer
//! (Chandy–Lamport's markers, Lai–Yang's colours): C1 and C2 as A. D. Kshemkalyani and
//! M. Singhal state them (*Distributed Computing*, Cambridge University Press, 2008,
//! ch. 4), and the conservation of what the application conserves.
//!
//! A layer describes its snapshot as a [`Cut`]: per node, the local state it recorded,
//! the ground truth of the run at its cut — how many messages it had sent on each
//! out-channel (a sender numbers its messages 1, 2, … on each channel, so those are
//! the first ones), which ones it had received on each in-channel (a set: on channels
//! that reorder, #3 may arrive before #2) — and the channel states the snapshot
//! recorded, by message number. Whether the snapshot completed (every marker arrived,
//! every report collected) is the layer's to say. The judgment is then written once.

use super::conserved::Conserved;
use reparti_core::{NodeId, Process};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The run's ground truth at a node's cut, kept by a layer that numbers messages on
/// non-FIFO channels (the judge's, not the algorithm's).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Truth {
    /// Messages sent on each out-channel before the cut.
    pub sent: BTreeMap<NodeId, u64>,
    /// The numbers of the messages received on each in-channel before the cut.
    pub received: BTreeMap<NodeId, BTreeSet<u64>>,
}

/// Every channel that carried a message, from each node's messages sent per
/// out-channel and received per in-channel (by position).
pub fn carried<'a, S: 'a, R: 'a>(
    nodes: impl IntoIterator<Item = (&'a BTreeMap<NodeId, S>, &'a BTreeMap<NodeId, R>)>,
) -> BTreeSet<(NodeId, NodeId)> {
    let mut channels = BTreeSet::new();
    for (i, (sent, received)) in nodes.into_iter().enumerate() {
        let me = NodeId(i as u32);
        channels.extend(sent.keys().map(|&to| (me, to)));
        channels.extend(received.keys().map(|&from| (from, me)));
    }
    channels
}

/// Recorded channel states as the judge reads them: each message by reference.
pub fn by_number<M>(states: &BTreeMap<NodeId, Vec<(u64, M)>>) -> BTreeMap<NodeId, Vec<(u64, &M)>> {
    states.iter().map(|(&from, v)| (from, v.iter().map(|(s, m)| (*s, m)).collect())).collect()
}

/// One node's part of a recorded global state.
pub struct Part<'a, P: Process> {
    /// The application's local state at the cut.
    pub state: &'a P,
    /// Messages sent on each out-channel before the cut (numbered from 1).
    pub sent: &'a BTreeMap<NodeId, u64>,
    /// The numbers of the messages received on each in-channel before the cut.
    pub received: BTreeMap<NodeId, BTreeSet<u64>>,
    /// Each in-channel's recorded state: its messages with their numbers.
    pub channels: BTreeMap<NodeId, Vec<(u64, &'a P::Msg)>>,
}

/// A recorded global state, as the judge sees it.
pub struct Cut<'a, P: Process> {
    /// Each node's part, `None` when it never recorded.
    pub parts: Vec<Option<Part<'a, P>>>,
    /// Every channel that carried an application message in the run.
    pub channels: BTreeSet<(NodeId, NodeId)>,
    /// Whether the snapshot completed; if not, what is missing.
    pub complete: Result<(), String>,
}

impl<P: Process> Cut<'_, P> {
    fn part(&self, i: usize) -> Result<&Part<'_, P>, String> {
        self.parts.get(i).and_then(Option::as_ref).ok_or_else(|| format!("node {i} never recorded its state"))
    }

    /// Complete, and C1 and C2 over every channel that carried a message: on channel
    /// i → j, with `s` messages sent before i's cut and the set `R` received before j's,
    /// nothing of `R` is numbered above `s` (C2), and the channel state is exactly the
    /// messages `1 ..= s` not in `R`, in increasing order (C1 and C2).
    pub fn consistent(&self) -> Result<(), String> {
        self.complete.clone()?;
        for &(from, to) in &self.channels {
            let (ci, cj) = (self.part(from.index())?, self.part(to.index())?);
            let sent = ci.sent.get(&to).copied().unwrap_or(0);
            let none = BTreeSet::new();
            let received = cj.received.get(&from).unwrap_or(&none);
            if let Some(&last) = received.last().filter(|&&last| last > sent) {
                return Err(format!(
                    "C2: on {from} → {to}, message #{last} is received before {to}'s cut but sent after {from}'s (only {sent} before it)"
                ));
            }
            let recorded: Vec<u64> =
                cj.channels.get(&from).map(|v| v.iter().map(|(s, _)| *s).collect()).unwrap_or_default();
            let both: Vec<u64> = recorded.iter().filter(|s| received.contains(s)).copied().collect();
            if !both.is_empty() {
                return Err(format!(
                    "C1: on {from} → {to}, message(s) {both:?} are both received before {to}'s cut and in the channel state"
                ));
            }
            let expected: Vec<u64> = (1..=sent).filter(|s| !received.contains(s)).collect();
            if recorded != expected {
                let missing: Vec<u64> = expected.iter().filter(|s| !recorded.contains(s)).copied().collect();
                return Err(if missing.is_empty() {
                    format!("C2: on {from} → {to}, the channel state holds {recorded:?}, sent after {from}'s cut (only {sent} before it)")
                } else {
                    format!(
                        "C1: on {from} → {to}, message(s) {missing:?} sent before {from}'s cut are neither received before {to}'s nor in the channel state {recorded:?}"
                    )
                });
            }
        }
        Ok(())
    }

    /// The recorded local and channel states hold the quantity the application
    /// conserves (the bank's money), as the run does: the run's total is what the nodes
    /// `now` held at the start.
    pub fn conserves<'n>(&self, quantity: &Conserved<P>, now: impl IntoIterator<Item = &'n P>) -> Result<(), String>
    where
        P: 'n,
    {
        let mut total = 0i64;
        for i in 0..self.parts.len() {
            let part = self.part(i)?;
            total += (quantity.in_state)(part.state);
            total += part.channels.values().flatten().map(|(_, m)| (quantity.in_message)(m)).sum::<i64>();
        }
        let expected = now.into_iter().map(|p| (quantity.initial)(p)).sum::<i64>();
        if total != expected {
            return Err(format!("the snapshot holds {total} over local and channel states, the run {expected}"));
        }
        Ok(())
    }
}

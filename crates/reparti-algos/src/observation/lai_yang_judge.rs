//! What Lai–Yang's snapshot recorded, as the engine's judge ([`crate::observation::cut`]) sees
//! it: each node's truth at its cut, the local states from the collector's reports, and
//! the channel states the algorithm computed; and whether the snapshot is complete.

use super::{ColourNode, Form};
use crate::observation::cut::{self, Cut, Part};
use reparti_core::{NodeId, Process};
use std::collections::{BTreeMap, BTreeSet};

/// The recorded global state as the judge sees it ([`super::cut`]): each node's truth
/// at its cut, the local states from the collector's reports, the channel states the
/// algorithm computed (logs: at the collector; counters: at the receivers).
pub fn cut_of<P: Process>(nodes: &[ColourNode<P>]) -> Cut<'_, P> {
    let collector = nodes.first().map_or(0, |n| n.collector.index());
    let reports = nodes.get(collector).map(|c| &c.collected);
    let channels = cut::carried(nodes.iter().map(|n| (&n.sent, &n.received)));
    let parts = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let (truth, report) = (node.cut.as_ref()?, reports?.get(&NodeId(i as u32))?);
            let recorded = match node.form {
                Form::Logs => nodes.get(collector).and_then(|c| c.states.get(&node.me)),
                Form::Counters => Some(&node.late),
            };
            Some(Part {
                state: &report.state,
                sent: &truth.sent,
                received: truth.received.clone(),
                channels: recorded.map(cut::by_number).unwrap_or_default(),
            })
        })
        .collect();
    Cut { parts, channels: channels.clone(), complete: complete(nodes, collector, &channels) }
}

/// Every node recorded, the collector holds every report, and (counters) every white
/// message sent before a cut has arrived.
fn complete<P: Process>(
    nodes: &[ColourNode<P>],
    collector: usize,
    channels: &BTreeSet<(NodeId, NodeId)>,
) -> Result<(), String> {
    if let Some(i) = nodes.iter().position(|n| n.cut.is_none()) {
        return Err(format!("node {i} never recorded its state"));
    }
    let empty = BTreeMap::new();
    let reports = nodes.get(collector).map_or(&empty, |c| &c.collected);
    if let Some(i) = (0..nodes.len() as u32).map(NodeId).find(|i| !reports.contains_key(i)) {
        return Err(format!("the collector, node {collector}, has no report from node {i}"));
    }
    for &(from, to) in channels {
        let (Some(report), Some(receiver)) = (reports.get(&from), nodes.get(to.index())) else { continue };
        if receiver.form == Form::Counters {
            let white = report.white_sent.get(&to).copied().unwrap_or(0);
            let got = receiver.white_rcvd.get(&from).copied().unwrap_or(0);
            if got != white {
                return Err(format!(
                    "on {from} → {to}, {white} white message(s) sent and {got} received: the channel state is not final"
                ));
            }
        }
    }
    Ok(())
}

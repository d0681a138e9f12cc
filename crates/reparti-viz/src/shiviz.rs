//! Export to ShiViz, the vector-clock log visualiser.
//!
//! A ShiViz log is: the parser's regular expression on the first line, the
//! multiple-executions delimiter on the second (empty: one execution), then one event
//! per pair of lines, `HOST {"HOST": c, ...}` and a description.
//!
//! ShiViz refuses a log whose host's own clock entry skips or repeats a value (it must
//! read 1, 2, 3, … along the host's events), and one whose clock names another host's
//! event that does not exist or whose own clock does not account for everything that
//! event knew. Our traces' vector clocks follow TP6's rules (outputs, logs and crashes
//! do not tick; drops and duplicates are network events without a clock), so copying
//! `vc` would break the first rule. Instead the clocks are recomputed from the trace's
//! happens-before: a host's own entry is the event's rank on that host, and a receive
//! merges the clock of the matching send. The result is valid by construction and
//! describes exactly the same causality (program order plus send → receive).

use crate::{describe, number, VizError};
use reparti_core::trace::{EventKind, Trace, TraceEvent};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

/// The parser regular expression: the host line, then the description line.
pub const PARSER_REGEX: &str = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)";

/// Logs larger than this are refused: ShiViz draws every event in a browser tab, and a
/// trace this big makes a log nobody can look at.
pub const MAX_LOG_BYTES: usize = 64 << 20;

/// The ShiViz host name of node `node`.
pub fn host(node: u32) -> String {
    format!("n{node}")
}

/// Whether ShiViz gets this event: network events (drops, duplicates) happen at no host.
pub fn is_host_event(e: &TraceEvent) -> bool {
    !matches!(e.kind, EventKind::Drop | EventKind::Duplicate)
}

/// The recomputed vector clock of every event, as (node, count) pairs without zeros,
/// ordered by node; `None` for network events.
///
/// Computed as the events are taken, so that a log stopped at its size limit has only
/// built the clocks it wrote: a node's clock and a message's stamp are each a clock some
/// written line holds, so what is kept is bounded by what was written (built all at
/// once, the clocks of a 20,000-node trace of 58 MB took 24 GB).
pub fn clocks(trace: &Trace) -> impl Iterator<Item = Option<Vec<(u32, u64)>>> + '_ {
    let mut current: HashMap<u32, BTreeMap<u32, u64>> = HashMap::new();
    let mut sent: HashMap<u64, BTreeMap<u32, u64>> = HashMap::new();
    trace.events.iter().map(move |e| {
        if !is_host_event(e) {
            return None;
        }
        let clock = current.entry(e.node).or_default();
        if e.kind == EventKind::Receive {
            // A receive whose send is missing (a damaged trace) is just a local event.
            if let Some(stamp) = e.msg.and_then(|m| sent.get(&m)) {
                for (&h, &c) in stamp {
                    let mine = clock.entry(h).or_insert(0);
                    *mine = (*mine).max(c);
                }
            }
        }
        *clock.entry(e.node).or_insert(0) += 1;
        if e.kind == EventKind::Send {
            if let Some(m) = e.msg {
                sent.insert(m, clock.clone());
            }
        }
        Some(clock.iter().map(|(&h, &c)| (h, c)).collect())
    })
}

/// The ShiViz log of a trace.
pub fn export(trace: &Trace) -> Result<String, VizError> {
    let mut fate: HashMap<u64, Vec<String>> = HashMap::new();
    let mut payload = HashMap::new();
    let mut delivered = HashSet::new();
    for e in &trace.events {
        match (e.kind, e.msg) {
            (EventKind::Send, Some(m)) => {
                if let Some(p) = &e.payload {
                    payload.insert(m, p);
                }
            }
            (EventKind::Drop, Some(m)) => {
                fate.entry(m).or_default().push(format!("lost ({})", e.reason.as_deref().unwrap_or("?")))
            }
            (EventKind::Duplicate, Some(m)) => fate.entry(m).or_default().push("duplicated by the network".into()),
            (EventKind::Receive, Some(m)) => {
                delivered.insert(m);
            }
            _ => {}
        }
    }
    let mut s = format!("{PARSER_REGEX}\n\n");
    for (e, clock) in trace.events.iter().zip(clocks(trace)) {
        let Some(clock) = clock else { continue };
        let entries: Vec<String> = clock.iter().map(|(h, c)| format!("\"{}\":{c}", host(*h))).collect();
        let mut text = describe(e, e.msg.and_then(|m| payload.get(&m).copied()), usize::MAX);
        if e.kind == EventKind::Start {
            if let Some(id) = trace.header.idents.get(e.node as usize) {
                let _ = write!(text, " (identity {id})");
            }
        }
        if let (EventKind::Send, Some(m)) = (e.kind, e.msg) {
            if let Some(notes) = fate.get(&m) {
                let _ = write!(text, ", {}", notes.join(", "));
            }
            if !delivered.contains(&m) && !fate.get(&m).is_some_and(|f| f.iter().any(|n| n.starts_with("lost"))) {
                text.push_str(", not delivered before the run stopped");
            }
        }
        let _ = writeln!(s, "{} {{{}}}\n{text} @ t={}", host(e.node), entries.join(","), number(e.t));
        if s.len() > MAX_LOG_BYTES {
            return Err(VizError::TooLarge(format!(
                "the ShiViz log of this trace ({} events, {} nodes) would exceed {} MiB; ShiViz is for small runs: \
                 export a shorter one (fewer nodes, or `reparti sim --max-events N`)",
                trace.events.len(),
                trace.header.nodes,
                MAX_LOG_BYTES >> 20
            )));
        }
    }
    Ok(s)
}

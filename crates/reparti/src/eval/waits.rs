//! A unit of work and its wait, read from a run's trace: what `reparti eval A B … --per
//! OUTPUT --since OUTPUT` measures the same way for every algorithm it compares.
//!
//! A unit is done when a node makes the `--per` output (`consumed`: an item left the
//! buffer; `enter_cs`: a critical section began). It began at the `--since` output
//! (`produced`, `request`). Which start goes with which end:
//!
//! * an end whose value reads `P#K` (the flow-control algorithms' item names: producer
//!   P's K-th item) belongs to node P's K-th start, wherever it was made (items are
//!   produced at a producer and consumed at the consumer);
//! * any other end is its node's K-th, and belongs to that node's K-th start (a request
//!   and its critical section happen at the same node, in order).
//!
//! An end without a start (its start was not traced, or the names disagree) counts as a
//! unit but has no wait; the table says how many. Each unit is kept with where both
//! ends lie in the trace, for [`delays`](super::delays) to measure what came after.

use reparti_core::trace::{EventKind, TraceEvent};
use std::collections::BTreeMap;

/// An output's place in a trace: its position among the events, and its time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    /// Its position in the trace (the order events happened in, ties included).
    pub at: usize,
    /// Its time.
    pub t: f64,
}

/// One unit of work: the node that made its end, its start (when found) and its end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    pub node: u32,
    pub start: Option<Mark>,
    pub end: Mark,
}

/// The units of one run and their waits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Units {
    /// `--per` outputs made.
    pub done: u64,
    /// The wait of every unit whose start was found, in simulated time.
    pub waits: Vec<f64>,
    /// Units whose start was not found.
    pub unmatched: u64,
    /// Every unit, in the order they ended.
    pub list: Vec<Unit>,
}

impl Units {
    /// The mean wait, if any unit had one.
    pub fn mean_wait(&self) -> Option<f64> {
        (!self.waits.is_empty()).then(|| self.waits.iter().sum::<f64>() / self.waits.len() as f64)
    }
}

/// `P#K` as (P, K).
fn unit_name(value: &str) -> Option<(u32, u64)> {
    let (p, k) = value.split_once('#')?;
    Some((p.trim().parse().ok()?, k.trim().parse().ok()?))
}

/// The units of a run whose events are `events`: ends are `per` outputs, starts `since`
/// outputs (no wait is measured without `since`).
pub fn units(events: &[TraceEvent], per: &str, since: Option<&str>) -> Units {
    let outputs = || events.iter().enumerate().filter(|(_, e)| e.kind == EventKind::Output);
    let key = |e: &TraceEvent, k: &str| e.key.as_deref() == Some(k);
    // Each node's starts, in order: (node, K) → where.
    let mut starts: BTreeMap<(u32, u64), Mark> = BTreeMap::new();
    let mut started: BTreeMap<u32, u64> = BTreeMap::new();
    if let Some(since) = since {
        for (at, e) in outputs().filter(|(_, e)| key(e, since)) {
            let k = started.entry(e.node).or_insert(0);
            starts.insert((e.node, *k), Mark { at, t: e.t });
            *k += 1;
        }
    }
    let mut ended: BTreeMap<u32, u64> = BTreeMap::new();
    let mut out = Units::default();
    for (at, e) in outputs().filter(|(_, e)| key(e, per)) {
        out.done += 1;
        let end = Mark { at, t: e.t };
        if since.is_none() {
            out.list.push(Unit { node: e.node, start: None, end });
            continue;
        }
        let named = e.value.as_ref().and_then(|v| unit_name(&v.to_string()));
        let unit = named.unwrap_or_else(|| {
            let k = ended.entry(e.node).or_insert(0);
            *k += 1;
            (e.node, *k - 1)
        });
        let start = starts.get(&unit).copied();
        match start {
            Some(s) => out.waits.push(e.t - s.t),
            None => out.unmatched += 1,
        }
        out.list.push(Unit { node: e.node, start, end });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_core::OutputValue;

    fn output(t: f64, node: u32, key: &str, value: OutputValue) -> TraceEvent {
        let mut e = TraceEvent::new(0, t, node, EventKind::Output, 0);
        e.key = Some(key.to_string());
        e.value = Some(value);
        e
    }

    #[test]
    fn named_units_are_matched_across_nodes_by_their_producer_and_number() {
        let events = vec![
            output(0.0, 1, "produced", OutputValue::Int(100)),
            output(0.0, 1, "produced", OutputValue::Int(101)),
            output(0.5, 2, "produced", OutputValue::Int(200)),
            output(2.0, 0, "consumed", OutputValue::Text("2#0".into())),
            output(3.0, 0, "consumed", OutputValue::Text("1#0".into())),
            output(5.0, 0, "consumed", OutputValue::Text("1#1".into())),
            output(6.0, 0, "consumed", OutputValue::Text("3#0".into())),
        ];
        let u = units(&events, "consumed", Some("produced"));
        assert_eq!((u.done, u.unmatched), (4, 1), "3#0 was never produced");
        assert_eq!(u.waits, vec![1.5, 3.0, 5.0]);
        assert_eq!(u.mean_wait(), Some(9.5 / 3.0));
    }

    #[test]
    fn other_units_are_each_nodes_kth_start_and_kth_end() {
        let events = vec![
            output(1.0, 3, "request", OutputValue::Int(1)),
            output(2.0, 3, "request", OutputValue::Int(1)),
            output(4.0, 3, "enter_cs", OutputValue::Text("4.3".into())),
            output(4.0, 1, "request", OutputValue::Int(1)),
            output(9.0, 3, "enter_cs", OutputValue::Text("7.3".into())),
            output(12.0, 1, "enter_cs", OutputValue::Text("8.1".into())),
        ];
        let u = units(&events, "enter_cs", Some("request"));
        assert_eq!((u.done, u.unmatched, u.waits.clone()), (3, 0, vec![3.0, 7.0, 8.0]));
        let no_wait = units(&events, "enter_cs", None);
        assert_eq!((no_wait.done, no_wait.mean_wait()), (3, None));
    }
}

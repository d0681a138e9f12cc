//! What happened after a unit began, read from a run's trace where the unit's `--per`
//! output opens a span of the algorithm (`enter_cs` opens the "critical section", which
//! `exit_cs` closes): the two delays the mutual-exclusion chapter compares its
//! algorithms by, measured the same way for every algorithm, none of them named.
//!
//! * **Response time**: from a unit's start (`--since`, the `request`) to the close of
//!   its span (`exit_cs`): the wait plus the stay.
//! * **Synchronization delay**: from a span's close to the next span's open, counted
//!   only when that next span belongs to *another* node whose start was already in the
//!   trace before the close (someone was waiting, so the gap is the algorithm's
//!   hand-over, not idle time). A node that re-enters after itself is left out: the
//!   textbook delay is the one between two sites, and a token or a set of permissions
//!   kept at home can make that re-entry free.
//!
//! A span is its node's first close after the open, in trace order. Two spans that
//! overlap (mutual exclusion broken: the run's properties say so) give no delay.

use super::waits::{Mark, Unit};
use reparti_core::trace::{EventKind, TraceEvent};
use std::collections::BTreeMap;

/// The delays of one run, in simulated time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delays {
    /// Response time of every unit whose start and close were found.
    pub responses: Vec<f64>,
    /// Every synchronization delay counted.
    pub sync: Vec<f64>,
}

/// The mean of `values`, if any.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A unit with its span's close.
struct Span {
    node: u32,
    start: Option<Mark>,
    open: Mark,
    close: Mark,
}

/// The delays of the run whose events are `events` and units `units`, whose spans are
/// closed by the output `closes`.
pub fn delays(events: &[TraceEvent], units: &[Unit], closes: &str) -> Delays {
    // Each node's closes, in trace order.
    let mut closed: BTreeMap<u32, Vec<Mark>> = BTreeMap::new();
    for (at, e) in events.iter().enumerate() {
        if e.kind == EventKind::Output && e.key.as_deref() == Some(closes) {
            closed.entry(e.node).or_default().push(Mark { at, t: e.t });
        }
    }
    let mut spans: Vec<Span> = units
        .iter()
        .filter_map(|u| {
            let marks = closed.get(&u.node)?;
            let close = *marks.get(marks.partition_point(|m| m.at <= u.end.at))?;
            Some(Span { node: u.node, start: u.start, open: u.end, close })
        })
        .collect();
    spans.sort_by_key(|s| s.open.at);
    let responses = spans.iter().filter_map(|s| s.start.map(|start| s.close.t - start.t)).collect();
    let sync = spans
        .windows(2)
        .filter(|pair| {
            let (before, next) = (&pair[0], &pair[1]);
            let waiting = next.start.is_some_and(|s| s.at < before.close.at);
            next.node != before.node && waiting && next.open.at > before.close.at
        })
        .map(|pair| pair[1].open.t - pair[0].close.t)
        .collect();
    Delays { responses, sync }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::waits::units;
    use reparti_core::OutputValue;

    fn output(t: f64, node: u32, key: &str) -> TraceEvent {
        let mut e = TraceEvent::new(0, t, node, EventKind::Output, 0);
        e.key = Some(key.to_string());
        e.value = Some(OutputValue::Int(1));
        e
    }

    fn delays_of(events: &[TraceEvent]) -> Delays {
        delays(events, &units(events, "enter_cs", Some("request")).list, "exit_cs")
    }

    #[test]
    fn a_hand_over_to_a_waiting_node_is_a_sync_delay_and_each_stay_a_response() {
        // Node 1 asks while node 0 is inside; node 0 leaves at 5, node 1 enters at 6.
        let events = vec![
            output(0.0, 0, "request"),
            output(1.0, 0, "enter_cs"),
            output(2.0, 1, "request"),
            output(5.0, 0, "exit_cs"),
            output(6.0, 1, "enter_cs"),
            output(8.0, 1, "exit_cs"),
        ];
        let d = delays_of(&events);
        assert_eq!(d.responses, vec![5.0, 6.0], "request → exit_cs");
        assert_eq!(d.sync, vec![1.0], "exit_cs at 5 → enter_cs at 6");
    }

    #[test]
    fn idle_gaps_and_re_entries_at_the_same_node_are_not_sync_delays() {
        let events = vec![
            output(0.0, 0, "request"),
            output(0.0, 0, "enter_cs"),
            output(0.5, 0, "request"),
            output(1.0, 0, "exit_cs"),
            // Node 0 re-enters after itself (its own request was waiting): not counted.
            output(1.0, 0, "enter_cs"),
            output(2.0, 0, "exit_cs"),
            // Node 2 asks after the close at 2: the CS was idle, nothing to hand over.
            output(3.0, 2, "request"),
            output(4.0, 2, "enter_cs"),
            output(5.0, 2, "exit_cs"),
            // A request made at the very moment of a close but after it in the trace
            // was not waiting yet.
            output(5.0, 1, "request"),
            output(7.0, 1, "enter_cs"),
            output(8.0, 1, "exit_cs"),
        ];
        let d = delays_of(&events);
        assert!(d.sync.is_empty(), "{:?}", d.sync);
        assert_eq!(d.responses, vec![1.0, 1.5, 2.0, 3.0]);
        assert_eq!(mean(&d.responses), Some(1.875));
    }

    #[test]
    fn a_span_never_closed_or_a_unit_without_a_start_gives_no_response() {
        let events = vec![
            output(0.0, 3, "enter_cs"),
            output(1.0, 3, "exit_cs"),
            output(1.0, 4, "request"),
            output(2.0, 4, "enter_cs"),
        ];
        let d = delays_of(&events);
        assert!(d.responses.is_empty() && d.sync.is_empty(), "{d:?}");
        assert_eq!(mean(&d.sync), None);
    }

    #[test]
    fn overlapping_spans_give_no_delay() {
        let events = vec![
            output(0.0, 0, "request"),
            output(0.0, 1, "request"),
            output(1.0, 0, "enter_cs"),
            output(2.0, 1, "enter_cs"),
            output(3.0, 0, "exit_cs"),
            output(4.0, 1, "exit_cs"),
        ];
        let d = delays_of(&events);
        assert!(d.sync.is_empty(), "{:?}", d.sync);
        assert_eq!(d.responses, vec![3.0, 4.0]);
    }
}

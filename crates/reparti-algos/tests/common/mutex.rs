//! What the tests of every mutual-exclusion algorithm share: the trace's own account of
//! exclusion, order and cost, derived from the `enter_cs`/`exit_cs` outputs alone,
//! independently of the algorithm's invariants.

use reparti_algos::mutex::critical_section::parse_entry;
use reparti_core::trace::{EventKind, Trace};
use reparti_core::IdAssignment;
use reparti_sim::{Delay, NetworkModel, Report, SimConfig};

/// The chapter's safety invariant, by name.
pub const MUTEX: &str = "mutual exclusion: at most one node in the critical section";
/// The chapter's liveness check, by name.
pub const SERVED: &str = "every request was served";

/// The three delay models, each FIFO or not.
pub fn networks() -> Vec<NetworkModel> {
    super::networks_over([Delay::Const { value: 1.0 }, Delay::Uniform { min: 0.1, max: 6.0 }, Delay::Exp { mean: 2.0 }])
}

/// A run of `n` nodes with random identities.
pub fn config(n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> SimConfig {
    super::config(n, seed, IdAssignment::Random, network, params)
}

/// The number of critical-section entries of a run.
pub fn cs_entries(r: &Report) -> u64 {
    r.outputs.get("enter_cs").map(|m| m.values().sum()).unwrap_or(0)
}

/// From the trace's outputs only: entries and exits alternate globally (never two nodes
/// inside), each exit is by the node inside with the same (ts, id), the entries come in
/// strictly increasing (ts, id) order, each node enters `requests` times with its own
/// identity, and each message type numbers as given per entry (and nothing else is sent).
pub fn check_trace(trace: &Trace, n: usize, requests: usize, per_entry: &[(&str, usize)], ctx: &str) {
    let mut inside: Option<(u32, (u64, u64))> = None;
    let mut entries: Vec<(u64, u64)> = Vec::new();
    let mut per_node = vec![0usize; n];
    for e in &trace.events {
        if e.kind != EventKind::Output {
            continue;
        }
        let text = e.value.as_ref().map(|v| v.to_string()).unwrap_or_default();
        match e.key.as_deref() {
            Some("enter_cs") => {
                let entry = parse_entry(&text).expect("enter_cs is ts.id");
                assert!(inside.is_none(), "{ctx}: event {}: node {} enters while {inside:?} is inside", e.i, e.node);
                assert_eq!(entry.1, trace.header.idents[e.node as usize], "{ctx}: a node enters with its own identity");
                inside = Some((e.node, entry));
                entries.push(entry);
                per_node[e.node as usize] += 1;
            }
            Some("exit_cs") => {
                let entry = parse_entry(&text).expect("exit_cs is ts.id");
                assert_eq!(inside, Some((e.node, entry)), "{ctx}: event {}: exit by a node not inside", e.i);
                inside = None;
            }
            _ => {}
        }
    }
    assert!(inside.is_none(), "{ctx}: the run ends with a node inside");
    assert!(per_node.iter().all(|&k| k == requests), "{ctx}: entries per node {per_node:?}");
    for w in entries.windows(2) {
        assert!(w[0] < w[1], "{ctx}: entry {:?} after {:?}: not in increasing (ts, id) order", w[1], w[0]);
    }
    let sends: Vec<&str> =
        trace.events.iter().filter(|e| e.kind == EventKind::Send).filter_map(|e| e.msg_type.as_deref()).collect();
    let per_type = |t: &str| sends.iter().filter(|&&s| s == t).count();
    for (kind, per) in per_entry {
        assert_eq!(per_type(kind), per * entries.len(), "{ctx}: {kind}");
    }
    assert_eq!(sends.len(), per_entry.iter().map(|(_, p)| p).sum::<usize>() * entries.len(), "{ctx}: all sends");
}

//! Logical clocks through the simulator.
//!
//! * The engine's own checks: the clock condition and the vector condition on every
//!   delivery, across seeds, topologies and delay models, and MSG = sends asked for.
//! * From the trace alone: happens-before is computed independently, as reachability
//!   in the graph of program order (per node, in trace order) and send → receive edges,
//!   and `a → b ⇔ V(a) < V(b)` is asserted on every pair (small runs) or on many sampled
//!   pairs (a larger run); `a → b ⇒ C(a) < C(b)` too.

use rand::Rng as _;
use reparti_algos::time::logical_clocks::Input;
use reparti_algos::time::LogicalClocks;
use reparti_core::clock::vector_order;
use reparti_core::trace::{read_trace, EventKind, Trace};
use reparti_core::{ClockMode, TopologyKind, VectorOrder};
use reparti_sim::{simulate, simulate_traced, Delay, NetworkModel, SimConfig, Stop};
use serde::Deserialize;
use std::collections::HashMap;

mod common;
use common::networks_over;

const LAMPORT: &str = "clock condition C(send) < C(receive)";
const VECTOR: &str = "vector clocks: V(send) < V(receive)";

fn networks() -> Vec<NetworkModel> {
    networks_over([Delay::Const { value: 1.0 }, Delay::Uniform { min: 0.0, max: 4.0 }, Delay::Exp { mean: 1.5 }])
}

fn config(n: usize, topology: &str, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> SimConfig {
    SimConfig {
        nodes: Some(n),
        topology: Some(topology.parse::<TopologyKind>().expect("a topology name")),
        seed,
        network: network.clone(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..SimConfig::default()
    }
}

#[test]
fn clock_conditions_hold_on_every_message_across_seeds_topologies_and_networks() {
    let shapes = [("complete", 5), ("ring", 6), ("bidir-ring", 6), ("star", 5), ("grid", 9), ("random:3", 10)];
    for network in networks() {
        for (topology, n) in shapes {
            for seed in 1..=5u64 {
                let r = simulate::<LogicalClocks>(&config(n, topology, seed, &network, &[])).expect("the run starts");
                let ctx = format!("{topology} n={n} seed={seed} {network:?}");
                assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
                assert_eq!(r.clocks, ClockMode::LamportAndVector, "reads_clocks keeps vectors on small runs");
                assert!(r.holds(LAMPORT), "{ctx}: {:?}", r.property(LAMPORT));
                assert!(r.holds(VECTOR), "{ctx}: {:?}", r.property(VECTOR));
                // One MSG per send input, no control messages, and every one delivered.
                let asked: u64 = r
                    .outputs
                    .get("sends")
                    .map(|m| m.iter().map(|(v, c)| v.parse::<u64>().expect("int") * c).sum())
                    .unwrap_or(0);
                assert!(asked > 0, "{ctx}: the workload sends something");
                assert_eq!(r.sent("MSG"), asked, "{ctx}");
                assert_eq!(r.messages.total, asked, "{ctx}");
                assert_eq!(r.messages.delivered, asked, "{ctx}");
                assert!(r.all_good(), "{ctx}: {:?}", r.expected);
            }
        }
    }
}

#[test]
fn the_message_count_is_the_number_of_send_inputs_in_the_trace() {
    for seed in 1..=5u64 {
        let cfg = config(6, "complete", seed, &NetworkModel::default(), &[("events", "25"), ("send_prob", "0.7")]);
        let (r, bytes) = simulate_traced::<LogicalClocks, _>(&cfg, Vec::new()).expect("the run starts");
        let trace = read_trace(bytes.as_slice()).expect("the trace reads back");
        let mut sends = 0u64;
        let mut inputs = 0u64;
        for e in trace.events.iter().filter(|e| e.kind == EventKind::Input) {
            inputs += 1;
            match Input::deserialize(e.payload.clone().expect("payload")).expect("an input") {
                Input::Send { .. } => sends += 1,
                Input::Local => {}
                other => panic!("the workload only sends and makes local events, got {other:?}"),
            }
        }
        assert_eq!(inputs, 6 * 25);
        assert_eq!(r.sent("MSG"), sends);
        assert_eq!(r.expected["MSG"].holds, Some(true));
    }
}

#[test]
fn with_lamport_clocks_only_the_vector_property_is_not_failed() {
    let cfg = SimConfig {
        vector_clocks: reparti_sim::VectorClocks::Off,
        ..config(5, "complete", 3, &NetworkModel::default(), &[])
    };
    let r = simulate::<LogicalClocks>(&cfg).expect("the run starts");
    assert_eq!(r.clocks, ClockMode::Lamport);
    assert!(r.holds(LAMPORT));
    assert_ne!(r.property(VECTOR).and_then(|p| p.holds), Some(false));
}

/// A clock event of the trace: a start, an input, a send or a receive. Each ticks the
/// node's clocks exactly once, so each has its own timestamp. (Outputs and logs are not
/// events of the algorithm; they only repeat the node's current clocks.)
struct Ev {
    node: u32,
    lamport: u64,
    vc: Vec<u64>,
    /// For a receive, the index of its send.
    send: Option<usize>,
}

/// Happens-before, computed from the trace's structure only (never from its clocks).
struct HappensBefore {
    events: Vec<Ev>,
    /// `before[b]` = the set of events a with a → b, as a bitset over event indices.
    before: Vec<Vec<u64>>,
}

impl HappensBefore {
    fn from_trace(trace: &Trace) -> Self {
        let mut events = Vec::new();
        let mut preds: Vec<Vec<usize>> = Vec::new();
        let mut last_on_node: HashMap<u32, usize> = HashMap::new();
        let mut send_of: HashMap<u64, usize> = HashMap::new();
        for e in &trace.events {
            // The events the clocks date: sends, receives and declared local events.
            // Starting and the arrival of an input are the framework's, not the
            // algorithm's, and leave the clocks alone (TP6's rules).
            if !matches!(e.kind, EventKind::Send | EventKind::Receive | EventKind::Local) {
                continue;
            }
            let k = events.len();
            let mut p = Vec::new();
            // Program order: the previous event at the same node (trace order is each
            // node's execution order).
            if let Some(&prev) = last_on_node.get(&e.node) {
                p.push(prev);
            }
            last_on_node.insert(e.node, k);
            let mut send = None;
            match e.kind {
                EventKind::Send => {
                    send_of.insert(e.msg.expect("a send names its message"), k);
                }
                EventKind::Receive => {
                    let id = e.msg.expect("a receive names its message");
                    let s = *send_of.get(&id).expect("a receive follows its send in the trace");
                    p.push(s);
                    send = Some(s);
                }
                _ => {}
            }
            let vc = e.vc.clone().expect("vector clocks were kept");
            events.push(Ev { node: e.node, lamport: e.lamport, vc, send });
            preds.push(p);
        }
        // Reachability by dynamic programming in trace order, which is a topological
        // order of the graph: before[k] = ∪ over direct predecessors p of before[p] ∪ {p}.
        let words = events.len().div_ceil(64);
        let mut before: Vec<Vec<u64>> = Vec::with_capacity(events.len());
        for p in &preds {
            let mut set = vec![0u64; words];
            for &q in p {
                for (w, x) in set.iter_mut().zip(&before[q]) {
                    *w |= x;
                }
                set[q / 64] |= 1 << (q % 64);
            }
            before.push(set);
        }
        HappensBefore { events, before }
    }

    fn hb(&self, a: usize, b: usize) -> bool {
        self.before[b][a / 64] >> (a % 64) & 1 == 1
    }

    /// Checks `a → b ⇔ V(a) < V(b)` and `a → b ⇒ (C(a), node a) < (C(b), node b)`;
    /// returns whether the pair is ordered (either way).
    fn check_pair(&self, a: usize, b: usize) -> bool {
        let (ea, eb) = (&self.events[a], &self.events[b]);
        let hb = self.hb(a, b);
        let vb = vector_order(&ea.vc, &eb.vc) == VectorOrder::Before;
        assert_eq!(hb, vb, "events {a} and {b}: a → b is {hb} but V(a) = {:?}, V(b) = {:?}", ea.vc, eb.vc);
        if hb {
            assert!(ea.lamport < eb.lamport, "events {a} → {b} but C(a) = {} ≥ C(b) = {}", ea.lamport, eb.lamport);
            assert!((ea.lamport, ea.node) < (eb.lamport, eb.node));
        }
        if a != b {
            assert_ne!(
                vector_order(&ea.vc, &eb.vc),
                VectorOrder::Equal,
                "two distinct events {a}, {b} with one vector"
            );
        }
        hb || self.hb(b, a)
    }
}

fn trace_of(cfg: &SimConfig) -> Trace {
    let (r, bytes) = simulate_traced::<LogicalClocks, _>(cfg, Vec::new()).expect("the run starts");
    assert_eq!(r.stop, Stop::Quiescence);
    read_trace(bytes.as_slice()).expect("the trace reads back")
}

#[test]
fn vector_clocks_characterise_happens_before_on_every_pair_of_small_runs() {
    for network in networks() {
        for (topology, n) in [("complete", 4), ("ring", 5), ("random:2", 6)] {
            for seed in 1..=3u64 {
                let trace = trace_of(&config(n, topology, seed, &network, &[("events", "12")]));
                let hb = HappensBefore::from_trace(&trace);
                let m = hb.events.len();
                let (mut ordered, mut concurrent) = (0, 0);
                for a in 0..m {
                    for b in 0..m {
                        if a != b {
                            if hb.check_pair(a, b) {
                                ordered += 1;
                            } else {
                                concurrent += 1;
                            }
                        }
                    }
                }
                // Not vacuous: the runs have both related and concurrent events.
                assert!(
                    ordered > 0 && concurrent > 0,
                    "{topology} seed={seed}: {ordered} ordered, {concurrent} concurrent"
                );
            }
        }
    }
}

#[test]
fn vector_clocks_characterise_happens_before_on_sampled_pairs_of_a_larger_run() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 2.0 }, ..NetworkModel::default() };
    let trace = trace_of(&config(24, "random:4", 7, &network, &[("events", "40"), ("send_prob", "0.6")]));
    let hb = HappensBefore::from_trace(&trace);
    let m = hb.events.len();
    assert!(m > 1500, "a run of {m} clock events");
    let mut rng = reparti_core::rng(2024);
    let (mut ordered, mut concurrent) = (0, 0);
    for _ in 0..40_000 {
        let (a, b) = (rng.gen_range(0..m), rng.gen_range(0..m));
        if a == b {
            continue;
        }
        if hb.check_pair(a, b) {
            ordered += 1;
        } else {
            concurrent += 1;
        }
    }
    assert!(ordered > 1000 && concurrent > 1000, "{ordered} ordered, {concurrent} concurrent");
    // Every message, again from the trace: the stamps on send and receive.
    let mut sends = HashMap::new();
    for e in &trace.events {
        match e.kind {
            EventKind::Send => {
                sends.insert(e.msg, (e.lamport, e.vc.clone()));
            }
            EventKind::Receive => {
                let (l, v) = sends.get(&e.msg).expect("sent before received");
                assert!(*l < e.lamport);
                assert_eq!(vector_order(v.as_deref().expect("vc"), e.vc.as_deref().expect("vc")), VectorOrder::Before);
            }
            _ => {}
        }
    }
}

#[test]
fn the_happens_before_check_catches_a_receive_that_skipped_the_merge() {
    // The check above is only worth something if it can fail: corrupt one receive as if
    // the receiver had not taken the component-wise maximum, and it must object.
    let trace = trace_of(&config(4, "complete", 5, &NetworkModel::default(), &[]));
    let mut hb = HappensBefore::from_trace(&trace);
    let (k, s) = hb.events.iter().enumerate().find_map(|(k, e)| e.send.map(|s| (k, s))).expect("some message");
    let sender = hb.events[s].node as usize;
    assert!(std::panic::catch_unwind(|| hb.check_pair(s, k)).is_ok(), "the genuine trace passes");
    hb.events[k].vc[sender] = 0;
    let hb = std::panic::AssertUnwindSafe(hb);
    assert!(std::panic::catch_unwind(|| hb.check_pair(s, k)).is_err(), "send → receive without V(send) < V(receive)");
}

/// TP6's rules in the simulator: every event of runs on several topologies and
/// networks carries the clocks the rules give (start at 0; a local event +1; a send +1
/// then stamps; a receive max + 1; nothing else moves them).
#[test]
fn the_simulator_dates_every_event_by_the_sheets_rules() {
    for network in networks() {
        for (topology, seed) in [("complete", 1), ("ring", 2), ("random:3", 3)] {
            let trace = trace_of(&config(5, topology, seed, &network, &[("events", "6")]));
            reparti_core::audit_clocks(&trace).unwrap_or_else(|e| panic!("{topology}, seed {seed}: {e}"));
            let first_send = trace.events.iter().find(|e| e.kind == EventKind::Send).expect("a send");
            let earlier = trace.events.iter().take_while(|e| e.i < first_send.i);
            let locals_before = earlier.filter(|e| e.node == first_send.node && e.kind == EventKind::Local).count();
            assert_eq!(
                first_send.lamport,
                locals_before as u64 + 1,
                "a node's first send is stamped 1 + its local events"
            );
        }
    }
}

/// The audit is not a rubber stamp: a trace whose receive skipped the merge is caught.
#[test]
fn the_clock_audit_catches_a_receive_that_only_ticked() {
    let mut trace = trace_of(&config(4, "complete", 5, &NetworkModel::default(), &[("events", "6")]));
    let at = trace.events.iter().position(|e| e.kind == EventKind::Receive).expect("a receive");
    trace.events[at].lamport += 1;
    let err = reparti_core::audit_clocks(&trace).expect_err("a wrong receive clock");
    assert!(err.contains("a receive takes the maximum"), "{err}");
}

//! Merging node traces: simulated runs are cut into the traces real nodes would write
//! (no message ids, per-channel `seq`, each node's own clock), merged back, and the
//! result must keep happens-before, keep vector clocks consistent and replay in the
//! simulator to the same counts, outputs and verdicts as the original run.

use proptest::prelude::*;
use reparti_algos::communication::TokenRing;
use reparti_algos::election::{ChangRoberts, Franklin};
use reparti_algos::mutex::RicartAgrawala;
use reparti_algos::time::LogicalClocks;
use reparti_core::trace::{read_trace, EventKind, Trace, TraceEvent, TraceHeader};
use reparti_core::{Algorithm, IdAssignment};
use reparti_net::merge::{merge, MergeError, NodeTrace, DEFAULT_STOP, LOST};
use reparti_sim::{Delay, NetworkModel, Report, SimConfig, Stop};
use std::collections::BTreeMap;

/// The project's seeded generator, with the few draws the tests need.
struct Mix(reparti_core::Rng);
impl Mix {
    fn new(seed: u64) -> Mix {
        Mix(reparti_core::rng(seed))
    }
    fn unit(&mut self) -> f64 {
        rand::Rng::gen::<f64>(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        rand::Rng::gen_range(&mut self.0, 0..n)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for k in (1..v.len()).rev() {
            v.swap(k, self.below(k + 1));
        }
    }
}

fn config(n: usize, seed: u64, fifo: bool, loss: f64, dup: f64) -> SimConfig {
    SimConfig {
        nodes: Some(n),
        ids: IdAssignment::Random,
        seed,
        network: NetworkModel { fifo, delay: Delay::Uniform { min: 0.1, max: 5.0 }, loss, dup, sync: false },
        ..SimConfig::default()
    }
}

fn simulate<A: Algorithm>(cfg: &SimConfig) -> (Report, Trace) {
    let (report, bytes) = reparti_sim::simulate_traced::<A, Vec<u8>>(cfg, Vec::new()).expect("the run starts");
    (report, read_trace(&bytes[..]).expect("the trace reads back"))
}

fn net_header(trace: &Trace) -> TraceHeader {
    TraceHeader { engine: "net".into(), ..trace.header.clone() }
}

/// The traces the nodes of `trace`'s run would have written: no message ids, `seq`
/// numbered per channel in send order, no network events (a node sees none), each
/// event's time given by `local_time(node, event)`.
fn split(trace: &Trace, local_time: impl Fn(u32, &TraceEvent) -> f64, offsets: &[f64]) -> Vec<NodeTrace> {
    let mut per_node: Vec<Vec<TraceEvent>> = vec![Vec::new(); trace.header.nodes];
    let mut next_seq: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut seq_of_msg: BTreeMap<u64, u64> = BTreeMap::new();
    for original in &trace.events {
        let mut e = original.clone();
        match e.kind {
            EventKind::Drop | EventKind::Duplicate => continue,
            EventKind::Send => {
                let seq = next_seq.entry((e.node, e.to.expect("a send names its receiver"))).or_insert(0);
                *seq += 1;
                seq_of_msg.insert(e.msg.expect("a simulated send has an id"), *seq);
                e.seq = Some(*seq);
            }
            EventKind::Receive => e.seq = Some(seq_of_msg[&e.msg.expect("a simulated receive has an id")]),
            _ => {}
        }
        e.msg = None;
        e.t = local_time(e.node, original);
        let events = &mut per_node[e.node as usize];
        e.i = events.len() as u64;
        events.push(e);
    }
    let offsets = offsets.iter().copied().chain(std::iter::repeat(0.0));
    per_node
        .into_iter()
        .zip(offsets)
        .enumerate()
        .map(|(k, (events, start_offset_ms))| NodeTrace { node: k as u32, events, start_offset_ms })
        .collect()
}

/// Each node runs its own clock, fast or slow, started at its own moment, and the
/// supervisor's start offsets are off too: only happens-before can order the events.
fn split_with_skewed_clocks(trace: &Trace, mix: &mut Mix) -> Vec<NodeTrace> {
    let n = trace.header.nodes;
    let clocks: Vec<(f64, f64)> = (0..n).map(|_| (0.5 + 1.5 * mix.unit(), 50.0 * mix.unit())).collect();
    let offsets: Vec<f64> = (0..n).map(|_| 20.0 * mix.unit()).collect();
    split(trace, |node, e| e.t * clocks[node as usize].0 + clocks[node as usize].1, &offsets)
}

fn merged(trace: &Trace, nodes: Vec<NodeTrace>) -> Trace {
    merge(net_header(trace), nodes).unwrap_or_else(|e| panic!("the traces do not merge: {e}"))
}

/// An event with what merging may change (index, time, message id) wiped.
fn local_view(e: &TraceEvent) -> TraceEvent {
    TraceEvent { i: 0, t: 0.0, msg: None, ..e.clone() }
}

fn vc_ge(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x >= y)
}

/// Happens-before kept, ids numbered in send order, each node's events unchanged and in
/// order, times non-decreasing, vector clocks consistent.
fn assert_consistent(m: &Trace, nodes: &[NodeTrace], what: &str) {
    let mut sends: BTreeMap<u64, &TraceEvent> = BTreeMap::new();
    let mut last_t = f64::NEG_INFINITY;
    for (k, e) in m.events.iter().enumerate() {
        assert_eq!(e.i, k as u64, "{what}: indices run 0, 1, 2…");
        assert!(e.t >= last_t, "{what}: event {k} goes back in time");
        last_t = e.t;
        let id = e.msg;
        match e.kind {
            EventKind::Send => {
                assert_eq!(id, Some(sends.len() as u64), "{what}: message ids follow the sends");
                sends.insert(sends.len() as u64, e);
            }
            EventKind::Receive | EventKind::Drop | EventKind::Duplicate => {
                let send = sends[&id.expect("a message id")]; // panics if the send comes later
                assert_eq!((send.to, send.seq), (Some(e.node), e.seq), "{what}: event {k} names its send");
                assert_eq!(e.from, Some(send.node), "{what}: event {k}");
                if let (EventKind::Receive, Some(vc), Some(send_vc)) = (e.kind, &e.vc, &send.vc) {
                    assert!(vc_ge(vc, send_vc), "{what}: receive {k}'s vector clock is below its send's");
                }
            }
            _ => {}
        }
    }
    let mut last_vc: BTreeMap<u32, &Vec<u64>> = BTreeMap::new();
    for node in nodes {
        let mine: Vec<&TraceEvent> = m
            .events
            .iter()
            .filter(|e| e.node == node.node && !matches!(e.kind, EventKind::Drop | EventKind::Duplicate))
            .collect();
        let expected: Vec<TraceEvent> = node.events.iter().map(local_view).collect();
        let got: Vec<TraceEvent> = mine.iter().map(|e| local_view(e)).collect();
        assert_eq!(got, expected, "{what}: node {}'s events changed or moved", node.node);
        for e in mine {
            if let Some(vc) = &e.vc {
                if let Some(before) = last_vc.insert(e.node, vc) {
                    assert!(vc_ge(vc, before), "{what}: node {}'s vector clock goes back at {}", e.node, e.i);
                }
            }
        }
    }
}

/// Replays the merged trace: the same run as the simulation that made it.
fn assert_replays_as<A: Algorithm>(m: &Trace, original: &Report, what: &str) {
    let replayed =
        reparti_sim::replay::<A>(m).unwrap_or_else(|e| panic!("{what}: the merged trace does not replay: {e}"));
    let r = replayed.report;
    assert_eq!(r.stop, Stop::Quiescence, "{what}");
    assert_eq!(r.messages, original.messages, "{what}: message counts");
    assert_eq!(r.outputs, original.outputs, "{what}: outputs");
    let verdicts = |r: &Report| r.properties.iter().map(|p| (p.name.clone(), p.holds)).collect::<Vec<_>>();
    assert_eq!(verdicts(&r), verdicts(original), "{what}: property verdicts");
    let measured = |r: &Report| r.expected.iter().map(|(k, e)| (k.clone(), e.measured)).collect::<Vec<_>>();
    assert_eq!(measured(&r), measured(original), "{what}: counts measured against theory");
    // Replay runs on a perfect network, so it judges the counts that a run with loss or
    // duplication leaves unjudged: compare the verdicts of fault-free runs only.
    if original.network.loss == 0.0 && original.network.dup == 0.0 {
        let judged = |r: &Report| r.expected.values().map(|e| e.holds).collect::<Vec<_>>();
        assert_eq!(judged(&r), judged(original), "{what}: verdicts on the counts");
    }
    assert_eq!(r.longest_causal_chain, original.longest_causal_chain, "{what}");
}

/// Simulates, splits with skewed clocks, merges, and checks the merged trace.
fn round_trip<A: Algorithm>(cfg: &SimConfig) -> (Report, Trace) {
    let what = format!("{} seed {} {:?}", A::spec().name, cfg.seed, cfg.network);
    let (report, trace) = simulate::<A>(cfg);
    assert_eq!(report.stop, Stop::Quiescence, "{what}: the simulation itself must end quietly");
    let nodes = split_with_skewed_clocks(&trace, &mut Mix::new(cfg.seed * 7919));
    let m = merged(&trace, nodes.clone());
    assert_eq!(m.events.iter().filter(|e| e.kind == EventKind::Send).count() as u64, report.messages.total);
    assert_eq!(m.end.as_ref().map(|e| (e.stop.as_str(), e.events)), Some((DEFAULT_STOP, m.events.len() as u64)));
    assert_consistent(&m, &nodes, &what);
    assert_replays_as::<A>(&m, &report, &what);
    (report, m)
}

#[test]
fn every_algorithm_merges_back_into_a_run_that_replays() {
    for seed in 1..=3 {
        for fifo in [true, false] {
            round_trip::<ChangRoberts>(&config(8, seed, fifo, 0.0, 0.0));
            round_trip::<TokenRing>(&config(5, seed, fifo, 0.0, 0.0));
            round_trip::<RicartAgrawala>(&config(4, seed, fifo, 0.0, 0.0));
            round_trip::<LogicalClocks>(&config(6, seed, fifo, 0.0, 0.0));
            round_trip::<Franklin>(&config(8, seed, fifo, 0.0, 0.0));
        }
    }
}

#[test]
fn messages_never_received_become_lost_drops_at_the_end_that_replay() {
    for seed in 1..=4 {
        let (report, m) = round_trip::<ChangRoberts>(&config(8, seed, false, 0.2, 0.0));
        let lost: Vec<&TraceEvent> = m.events.iter().filter(|e| e.kind == EventKind::Drop).collect();
        assert!(report.messages.dropped > 0, "seed {seed}: the run should lose messages");
        assert_eq!(lost.len() as u64, report.messages.dropped);
        assert!(lost.iter().all(|e| e.reason.as_deref() == Some(LOST)));
        let tail = &m.events[m.events.len() - lost.len()..];
        assert!(tail.iter().all(|e| e.kind == EventKind::Drop), "seed {seed}: the drops close the trace");
    }
}

#[test]
fn messages_received_twice_become_duplicates_right_after_their_send_that_replay() {
    let mut seen = 0;
    for seed in 1..=4 {
        let (report, m) = round_trip::<LogicalClocks>(&config(5, seed, false, 0.1, 0.3));
        seen += report.messages.duplicated;
        for (k, e) in m.events.iter().enumerate().filter(|(_, e)| e.kind == EventKind::Duplicate) {
            let before = &m.events[..k];
            let send = before.iter().rposition(|x| x.kind != EventKind::Duplicate).map(|p| &before[p]);
            assert_eq!(send.map(|s| (s.kind, s.msg)), Some((EventKind::Send, e.msg)), "seed {seed}: event {k}");
            let receives = m.events.iter().filter(|x| x.kind == EventKind::Receive && x.msg == e.msg).count();
            assert_eq!(receives, 2, "seed {seed}: a duplicated message is received twice");
        }
    }
    assert!(seen > 0, "the runs should duplicate messages");
}

fn small_ring() -> (Report, Trace, Vec<NodeTrace>) {
    let cfg = SimConfig { ids: IdAssignment::List(vec![3, 1, 2]), ..config(3, 1, true, 0.0, 0.0) };
    let (report, trace) = simulate::<ChangRoberts>(&cfg);
    let nodes = split(&trace, |_, e| e.t, &[]);
    (report, trace, nodes)
}

fn position(node: &NodeTrace, kind: EventKind, other: u32, seq: u64) -> usize {
    node.events
        .iter()
        .position(|e| e.kind == kind && e.seq == Some(seq) && (e.to == Some(other) || e.from == Some(other)))
        .expect("the event is in the trace")
}

#[test]
fn a_receive_without_its_send_is_named() {
    let (_, trace, mut nodes) = small_ring();
    let k = position(&nodes[0], EventKind::Send, 1, 1);
    nodes[0].events.remove(k);
    let err = merge(net_header(&trace), nodes).expect_err("node 1's first receive has no send");
    assert_eq!(err, MergeError::UnmatchedReceive { node: 1, from: 0, seq: 1 });
    assert!(err.to_string().contains("node 1 received message 1 from node 0"), "{err}");
}

#[test]
fn two_sends_numbered_alike_are_refused() {
    let (_, trace, mut nodes) = small_ring();
    let k = position(&nodes[0], EventKind::Send, 1, 2);
    nodes[0].events[k].seq = Some(1);
    let err = merge(net_header(&trace), nodes).expect_err("two sends are numbered 1");
    assert_eq!(err, MergeError::DuplicateSend { from: 0, to: 1, seq: 1 });
}

#[test]
fn every_node_needs_exactly_one_trace() {
    let (_, trace, nodes) = small_ring();
    let header = net_header(&trace);
    let without_1 = vec![nodes[0].clone(), nodes[2].clone()];
    assert_eq!(merge(header.clone(), without_1), Err(MergeError::MissingNode { node: 1, nodes: 3 }));
    let twice = vec![nodes[0].clone(), nodes[1].clone(), nodes[1].clone(), nodes[2].clone()];
    assert_eq!(merge(header.clone(), twice), Err(MergeError::DuplicateNode { node: 1 }));
    let mut stranger = nodes.clone();
    stranger.push(NodeTrace { node: 7, events: Vec::new(), start_offset_ms: 0.0 });
    assert_eq!(merge(header, stranger), Err(MergeError::UnknownNode { node: 7, nodes: 3 }));
}

#[test]
fn sends_and_receives_without_their_numbers_are_refused() {
    let (_, trace, nodes) = small_ring();
    let k = position(&nodes[1], EventKind::Receive, 0, 1);
    let mut no_seq = nodes.clone();
    no_seq[1].events[k].seq = None;
    let err = merge(net_header(&trace), no_seq).expect_err("a receive without seq");
    assert_eq!(err, MergeError::MissingField { node: 1, index: k, kind: "receive", field: "seq" });
    let mut foreign = nodes;
    foreign[2].events[0].node = 0;
    assert!(matches!(merge(net_header(&trace), foreign), Err(MergeError::BadEvent { node: 2, index: 0, .. })));
}

#[test]
fn receives_that_wait_on_each_other_are_reported_as_a_cycle() {
    let event = |node: u32, kind: EventKind, other: u32| {
        let mut e = TraceEvent::new(0, 0.0, node, kind, 1);
        e.seq = Some(1);
        if kind == EventKind::Send {
            e.to = Some(other);
        } else {
            e.from = Some(other);
        }
        e
    };
    let (_, trace, _) = small_ring();
    let header = TraceHeader { nodes: 2, idents: vec![1, 2], ..net_header(&trace) };
    let lane = |node: u32, other: u32| NodeTrace {
        node,
        events: vec![event(node, EventKind::Receive, other), event(node, EventKind::Send, other)],
        start_offset_ms: 0.0,
    };
    let err = merge(header, vec![lane(0, 1), lane(1, 0)]).expect_err("each receive waits for the other's send");
    assert_eq!(err, MergeError::Cycle { node: 1, from: 0, seq: 1 });
}

#[test]
fn refused_datagrams_become_log_lines_and_the_run_still_replays() {
    let (report, trace, mut nodes) = small_ring();
    let mut refused = TraceEvent::new(0, 0.5, 1, EventKind::Drop, 1);
    refused.from = Some(2);
    refused.reason = Some("crypto".into());
    let after_start = nodes[1].events.iter().skip(1).position(|e| e.kind != EventKind::Send).map_or(1, |p| p + 1);
    nodes[1].events.insert(after_start, refused);
    let m = merged(&trace, nodes);
    let logs: Vec<&TraceEvent> = m.events.iter().filter(|e| e.kind == EventKind::Log).collect();
    assert_eq!(logs.len(), 1);
    assert_eq!((logs[0].node, logs[0].text.as_deref()), (1, Some("dropped a datagram: crypto (from node 2)")));
    assert!(m.events.iter().all(|e| e.kind != EventKind::Drop));
    assert_replays_as::<ChangRoberts>(&m, &report, "a refused datagram");
}

/// A drop or duplicate, without its message id: kind, from, to, seq.
type NetworkEvent = (EventKind, Option<u32>, Option<u32>, Option<u64>);

/// The partial order a merged trace records: each node's events, and what the network did.
fn partial_order(m: &Trace) -> (BTreeMap<u32, Vec<TraceEvent>>, Vec<NetworkEvent>) {
    let mut per_node: BTreeMap<u32, Vec<TraceEvent>> = BTreeMap::new();
    let mut network = Vec::new();
    for e in &m.events {
        if matches!(e.kind, EventKind::Drop | EventKind::Duplicate) {
            network.push((e.kind, e.from, e.to, e.seq));
        } else {
            per_node.entry(e.node).or_default().push(local_view(e));
        }
    }
    network.sort_by_key(|(kind, from, to, seq)| (*kind as u8, *from, *to, *seq));
    (per_node, network)
}

/// Local times read off a random interleaving of the nodes' events (each node's own order
/// kept, causality ignored): the clocks can say anything.
fn interleaving_times(nodes: &mut [NodeTrace], mix: &mut Mix) {
    let mut left: Vec<usize> = nodes.iter().map(|n| n.events.len()).collect();
    let mut cursor = vec![0usize; nodes.len()];
    let mut step = 0.0;
    while left.iter().any(|&l| l > 0) {
        let open: Vec<usize> = (0..nodes.len()).filter(|&k| left[k] > 0).collect();
        let k = open[mix.below(open.len())];
        nodes[k].events[cursor[k]].t = step;
        step += 1.0;
        cursor[k] += 1;
        left[k] -= 1;
    }
    for node in nodes.iter_mut() {
        node.start_offset_ms = 10.0 * mix.unit();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any clocks and any order of the traces give the same partial order, a trace that
    /// replays to the original run, and, for given clocks, the same trace byte for byte.
    #[test]
    fn any_interleaving_merges_to_the_same_run(sim_seed in 1u64..60, shuffle_seed in any::<u64>()) {
        let cfg = config(6, sim_seed, false, 0.1, 0.1);
        let (report, trace) = simulate::<ChangRoberts>(&cfg);
        prop_assume!(report.stop == Stop::Quiescence);
        let mut mix = Mix::new(shuffle_seed);
        let untimed = split(&trace, |_, _| 0.0, &[]);
        let reference = merged(&trace, untimed.clone());
        let mut shuffled = untimed;
        mix.shuffle(&mut shuffled);
        prop_assert_eq!(&merged(&trace, shuffled), &reference);

        let mut timed = split(&trace, |_, _| 0.0, &[]);
        interleaving_times(&mut timed, &mut mix);
        let m = merged(&trace, timed.clone());
        assert_consistent(&m, &timed, "interleaving");
        assert_replays_as::<ChangRoberts>(&m, &report, "interleaving");
        prop_assert_eq!(partial_order(&m), partial_order(&reference));
        mix.shuffle(&mut timed);
        prop_assert_eq!(merged(&trace, timed), m);
    }
}

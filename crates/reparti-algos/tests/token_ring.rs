//! Token ring through the simulator: one token at every moment, every data message
//! delivered exactly once, exact message counts, across seeds, sizes and networks.
//!
//! Besides the algorithm's own properties (checked by the engine), the trace tests
//! re-derive everything from the trace alone: where the token is after each event, who
//! originates data, and the ring distance of each delivery.

use reparti_algos::communication::token_ring::{Input, Msg};
use reparti_algos::communication::TokenRing;
use reparti_core::trace::{read_trace, EventKind, Trace};
use reparti_sim::{simulate, simulate_traced, Delay, NetworkModel, Report, SimConfig, Stop};
use serde::Deserialize;
use std::collections::BTreeMap;

mod common;
use common::networks;

const ONE_TOKEN: &str = "exactly one token";
const DELIVERED: &str = "every data message reached its destination exactly once";

fn config(n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> SimConfig {
    common::config(n, seed, reparti_core::IdAssignment::Random, network, params)
}

fn hops_outputs(report: &Report) -> (u64, u64) {
    let Some(m) = report.outputs.get("hops") else { return (0, 0) };
    let count = m.values().sum();
    let sum = m.iter().map(|(v, c)| v.parse::<u64>().expect("hops are integers") * c).sum();
    (count, sum)
}

#[test]
fn one_token_and_every_message_delivered_across_seeds_sizes_and_networks() {
    for network in networks() {
        for n in [2usize, 3, 5, 8] {
            for seed in 1..=15u64 {
                let r = simulate::<TokenRing>(&config(n, seed, &network, &[])).expect("the run starts");
                let ctx = format!("n={n} seed={seed} network={network:?}");
                assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
                assert!(r.holds(ONE_TOKEN), "{ctx}: {:?}", r.property(ONE_TOKEN));
                assert!(r.holds(DELIVERED), "{ctx}: {:?}", r.property(DELIVERED));
                // Default laps = 2: the token makes exactly two laps, then rests.
                assert_eq!(r.sent("TOKEN"), 2 * n as u64, "{ctx}");
                // Default sends = 3 per node, each delivered once.
                let (deliveries, hop_sum) = hops_outputs(&r);
                assert_eq!(deliveries, 3 * n as u64, "{ctx}");
                assert_eq!(r.sent("DATA"), hop_sum, "{ctx}");
                assert_eq!(r.messages.total, r.sent("TOKEN") + r.sent("DATA"), "{ctx}");
                assert!(r.all_good(), "{ctx}: {:?}", r.expected);
                for key in ["TOKEN", "DATA", "total"] {
                    assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}");
                }
            }
        }
    }
}

#[test]
fn more_laps_more_sends_and_another_holder() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
    for (laps, sends, holder) in [(1, 0, 0), (3, 5, 2), (5, 1, 6), (2, 10, 3)] {
        let (laps_s, sends_s, holder_s) = (laps.to_string(), sends.to_string(), holder.to_string());
        let params = [("laps", laps_s.as_str()), ("sends", sends_s.as_str()), ("holder", holder_s.as_str())];
        for seed in 1..=5 {
            let r = simulate::<TokenRing>(&config(7, seed, &network, &params)).expect("the run starts");
            let ctx = format!("laps={laps} sends={sends} holder={holder} seed={seed}");
            assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
            assert!(r.holds(ONE_TOKEN) && r.holds(DELIVERED), "{ctx}: {:?}", r.properties);
            assert_eq!(r.sent("TOKEN"), laps * 7, "{ctx}");
            assert_eq!(hops_outputs(&r).0, sends * 7, "{ctx}");
            assert!(r.all_good(), "{ctx}: {:?}", r.expected);
        }
    }
}

#[test]
fn one_lap_already_flushes_the_workload_queued_at_time_zero() {
    // The holder passes the token at its start, before its own inputs (time 0, after
    // the starts) are queued, and sends them when the token comes back: a node sends what
    // it has queued before the token rests.
    for network in networks() {
        for seed in 1..=5 {
            let r = simulate::<TokenRing>(&config(5, seed, &network, &[("laps", "1")])).expect("the run starts");
            assert!(r.holds(ONE_TOKEN) && r.holds(DELIVERED), "seed={seed} {network:?}: {:?}", r.properties);
            assert_eq!(r.sent("TOKEN"), 5);
        }
    }
}

#[test]
fn in_manual_mode_nobody_else_gets_the_token_and_the_terminal_check_says_so() {
    // laps = 0: the holder keeps the token until a `release` input, which the workload
    // never gives. Sends of the other nodes wait forever; the property must report it.
    let r = simulate::<TokenRing>(&config(4, 1, &NetworkModel::default(), &[("laps", "0")])).expect("the run starts");
    assert_eq!(r.stop, Stop::Quiescence);
    assert!(r.holds(ONE_TOKEN));
    assert_eq!(r.sent("TOKEN"), 0);
    assert_eq!(r.expected["TOKEN"].holds, Some(true), "manual mode: TOKEN = releases = 0");
    let p = r.property(DELIVERED).expect("declared");
    assert_eq!(p.holds, Some(false));
    assert!(p.detail.as_deref().is_some_and(|d| d.contains("waiting for the token")), "{p:?}");
}

#[test]
fn a_holder_outside_the_ring_is_refused_before_the_run() {
    // `holder` is declared as a node's position: every engine refuses one past the ring.
    let e = simulate::<TokenRing>(&config(3, 1, &NetworkModel::default(), &[("holder", "9")])).expect_err("refused");
    assert!(e.to_string().contains("holder=9: names node 9, but the nodes are numbered 0 to 2"), "{e}");
}

fn traced(n: usize, seed: u64, network: &NetworkModel) -> (Report, Trace) {
    let (r, bytes) =
        simulate_traced::<TokenRing, _>(&config(n, seed, network, &[]), Vec::new()).expect("the run starts");
    (r, read_trace(bytes.as_slice()).expect("the trace reads back"))
}

/// Replays the token from the trace alone: it starts at node 0 (param `holder`), each
/// TOKEN send must come from its current holder while it is not in transit, each TOKEN
/// receive must be the one in transit, and every originated DATA (hops = 1, origin =
/// sender) must be sent by the holder.
#[test]
fn the_trace_shows_one_token_and_only_its_holder_originating() {
    for network in networks() {
        for seed in 1..=4u64 {
            let n = 6;
            let (r, trace) = traced(n, seed, &network);
            assert_eq!(r.stop, Stop::Quiescence);
            let mut holder: Option<u32> = Some(0);
            let mut in_transit: Option<u64> = None;
            let mut originated = 0;
            for e in &trace.events {
                match (e.kind, e.msg_type.as_deref()) {
                    (EventKind::Send, Some("TOKEN")) => {
                        assert_eq!(holder, Some(e.node), "event {}: TOKEN sent by a non-holder", e.i);
                        assert_eq!(e.to, Some((e.node + 1) % n as u32), "the token goes to the successor");
                        holder = None;
                        in_transit = e.msg;
                    }
                    (EventKind::Receive, Some("TOKEN")) => {
                        assert!(in_transit.is_some() && in_transit == e.msg, "event {}: a second token", e.i);
                        in_transit = None;
                        holder = Some(e.node);
                    }
                    (EventKind::Send, Some("DATA")) => {
                        let payload = e.payload.clone().expect("sends carry their payload");
                        let msg = Msg::deserialize(payload).expect("a token-ring message");
                        let Msg::Data { origin, hops, .. } = msg else { panic!("DATA type with a non-data payload") };
                        if hops == 1 {
                            assert_eq!(origin.0, e.node);
                            assert_eq!(holder, Some(e.node), "event {}: data originated without the token", e.i);
                            originated += 1;
                        }
                    }
                    _ => {}
                }
                assert!(holder.is_some() != in_transit.is_some(), "event {}: the token is lost or doubled", e.i);
            }
            assert_eq!(holder, Some(0), "the token rests at the holder");
            assert_eq!(originated, 3 * n);
        }
    }
}

/// Re-derives the DATA count from the inputs in the trace: Σ over send inputs of the
/// ring distance origin → destination, and checks each delivery pairs with one input.
#[test]
fn the_data_count_is_the_sum_of_ring_distances_of_the_inputs() {
    for network in networks() {
        for seed in [3u64, 11, 29] {
            let n = 7u32;
            let (r, trace) = traced(n as usize, seed, &network);
            let mut asked: BTreeMap<(u32, u32), u32> = BTreeMap::new();
            let mut distance_sum = 0u64;
            for e in trace.events.iter().filter(|e| e.kind == EventKind::Input) {
                let input =
                    Input::deserialize(e.payload.clone().expect("inputs carry their payload")).expect("an input");
                let Input::Send { to, .. } = input else { panic!("the workload only sends") };
                assert_ne!(to.0, e.node);
                distance_sum += ((to.0 + n - e.node) % n) as u64;
                *asked.entry((e.node, to.0)).or_default() += 1;
            }
            assert_eq!(asked.values().sum::<u32>(), 3 * n);
            assert_eq!(r.sent("DATA"), distance_sum, "seed={seed} {network:?}");
            let mut delivered: BTreeMap<(u32, u32), u32> = BTreeMap::new();
            for e in trace.events.iter().filter(|e| e.kind == EventKind::Output && e.key.as_deref() == Some("hops")) {
                let hops = e.value.as_ref().expect("outputs carry a value").to_string().parse::<u32>().expect("int");
                let origin = (e.node + n - hops % n) % n;
                *delivered.entry((origin, e.node)).or_default() += 1;
            }
            assert_eq!(delivered, asked, "every (origin, destination) asked for is delivered once, at its distance");
        }
    }
}

#[test]
fn same_seed_same_run() {
    let network = NetworkModel { fifo: false, delay: Delay::Uniform { min: 0.5, max: 3.0 }, ..NetworkModel::default() };
    let a = simulate_traced::<TokenRing, _>(&config(5, 42, &network, &[]), Vec::new()).expect("runs").1;
    let b = simulate_traced::<TokenRing, _>(&config(5, 42, &network, &[]), Vec::new()).expect("runs").1;
    assert_eq!(a, b);
}

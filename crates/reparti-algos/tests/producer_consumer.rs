//! Producers and a consumer (TP5) through the simulator: every invariant after every
//! event, every item consumed once and in order, and the message counts exact, across
//! seeds, sizes, memory sizes, quotas and the three delay models, FIFO and not (the
//! algorithm never has two messages on one channel at once, so it needs no FIFO).

use reparti_algos::communication::ProducerConsumer;
use reparti_core::trace::{read_trace, EventKind};
use reparti_core::OutputValue;
use reparti_sim::{simulate_traced, NetworkModel, Report};

mod common;
use common::{assert_good, networks, run};

const PROPERTIES: &[&str] = &[
    "exactly one token",
    "at most one DATA in transit",
    "a DATA in transit comes from the token holder",
    "the memory holds at most N items",
    "no DATA arrives while the consumer empties its memory",
    "every item stored once, in production order",
    "every produced item was consumed exactly once, in order",
];

fn sim(n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> Report {
    run::<ProducerConsumer>(&common::config(n, seed, reparti_core::IdAssignment::Asc, network, params))
}

/// Every producer's items `p#0..p#items−1` were consumed, each exactly once.
fn assert_each_item_consumed_once(r: &Report, n: usize, items: u64, ctx: &str) {
    let consumed = r.outputs.get("consumed").cloned().unwrap_or_default();
    assert_eq!(consumed.values().sum::<u64>(), (n as u64 - 1) * items, "{ctx}");
    for p in 1..n {
        for k in 0..items {
            assert_eq!(consumed.get(&format!("{p}#{k}")), Some(&1), "{ctx}: item {p}#{k}");
        }
    }
}

/// FULL answers of the uniform workload, by following the token by hand: revolution k
/// writes m·min(Q, items − (k−1)Q) items into a memory emptied as the token passes.
fn fulls(m: u64, buffer: u64, quota: u64, items: u64) -> u64 {
    let mut left = items;
    let mut total = 0;
    while left > 0 {
        let now = quota.min(left);
        total += m * now / buffer;
        left -= now;
    }
    total
}

#[test]
fn every_property_and_exact_counts_across_seeds_sizes_and_networks() {
    let mut runs = 0;
    for network in networks() {
        for n in [2usize, 3, 4, 6] {
            for seed in 1..=8u64 {
                let r = sim(n, seed, &network, &[]);
                let ctx = format!("n={n} seed={seed} {network:?}");
                assert_good(&r, PROPERTIES, &ctx);
                // Defaults: buffer 3, quota 2, items 4, idle_laps 1.
                let m = n as u64 - 1;
                let f = fulls(m, 3, 2, 4);
                assert_eq!(r.sent("DATA"), 4 * m, "{ctx}");
                assert_eq!(r.sent("ACK") + r.sent("FULL"), 4 * m, "{ctx}");
                assert_eq!(r.sent("FULL"), f, "{ctx}");
                assert_eq!(r.sent("RESUME"), f, "{ctx}");
                assert_eq!(r.sent("TOKEN"), n as u64 * (2 + 1), "{ctx}: ⌈4/2⌉ busy revolutions and an idle one");
                assert_eq!(r.messages.total, 8 * m + f + 3 * n as u64, "{ctx}");
                assert_each_item_consumed_once(&r, n, 4, &ctx);
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 6 * 4 * 8);
}

#[test]
fn memory_sizes_quotas_and_workloads() {
    let network = &networks()[3]; // uniform delays, non-FIFO
    for (buffer, quota, items, idle) in [
        (1u64, 1u64, 3u64, 1u64),
        (1, 5, 5, 2),
        (2, 1, 4, 1),
        (5, 3, 7, 1),
        (4, 100, 9, 3),
        (3, 2, 0, 1),
        (100, 2, 6, 1),
    ] {
        for n in [3usize, 5] {
            for seed in 1..=4 {
                let p = [buffer, quota, items, idle].map(|v| v.to_string());
                let params = [("buffer", &*p[0]), ("quota", &*p[1]), ("items", &*p[2]), ("idle_laps", &*p[3])];
                let r = sim(n, seed, network, &params);
                let ctx = format!("N={buffer} Q={quota} items={items} idle={idle} n={n} seed={seed}");
                assert_good(&r, PROPERTIES, &ctx);
                let m = n as u64 - 1;
                let f = fulls(m, buffer, quota, items);
                assert_eq!(r.sent("FULL"), f, "{ctx}");
                assert_eq!(r.sent("RESUME"), f, "{ctx}");
                assert!(f <= m * items / buffer, "{ctx}: at most one FULL per N items");
                assert_eq!(r.sent("ACK"), m * items - f, "{ctx}");
                assert_eq!(r.sent("TOKEN"), n as u64 * (items.div_ceil(quota) + idle), "{ctx}");
                assert_each_item_consumed_once(&r, n, items, &ctx);
            }
        }
    }
}

#[test]
fn one_worked_example_by_hand() {
    // 2 producers with 4 items each, N = 3, Q = 2. Revolution 1: P1 writes 2, P2 writes
    // 2; the 3rd item fills the memory (FULL, drain, RESUME), the 4th sits there until
    // the token passes C. Revolution 2: the same. Revolution 3: idle, the token rests.
    let r = sim(3, 1, &networks()[0], &[]);
    assert_good(&r, PROPERTIES, "worked example");
    let counts: Vec<u64> = ["DATA", "ACK", "FULL", "RESUME", "TOKEN"].iter().map(|k| r.sent(k)).collect();
    assert_eq!(counts, vec![8, 6, 2, 2, 9]);
    assert_eq!(r.messages.total, 27);
    assert_eq!(r.outputs.get("lap").map(|m| m.values().sum::<u64>()), Some(3));
}

#[test]
fn the_broken_variant_writes_into_a_memory_being_emptied() {
    // suspend=false: C answers ACK when the memory fills; with a drain that takes long
    // compared with the network, the holder's next DATA is on its way during the drain.
    let network = &networks()[0];
    let params = [("buffer", "1"), ("quota", "3"), ("items", "3"), ("suspend", "false"), ("drain_time", "10")];
    let r = sim(2, 1, network, &params);
    let p = "no DATA arrives while the consumer empties its memory";
    assert!(!r.holds(p), "the mistake goes unnoticed: {:?}", r.property(p));
    assert!(!r.all_good());
    let fixed = sim(2, 1, network, &[("buffer", "1"), ("quota", "3"), ("items", "3"), ("drain_time", "10")]);
    assert_good(&fixed, PROPERTIES, "the same run with suspend=true");
}

/// From the trace alone: the token is held by one node or in transit at every event;
/// only its holder sends DATA, one at a time, never between the consumer's
/// `drain_start` and `drain_end`; each producer's items are consumed as 0, 1, 2, … in
/// that order.
#[test]
fn the_trace_alone_shows_one_writer_at_a_time_and_consumption_in_order() {
    for network in networks() {
        for seed in 1..=4u64 {
            let n = 5;
            let cfg = common::config(n, seed, reparti_core::IdAssignment::Asc, &network, &[("buffer", "2")]);
            let (r, bytes) = simulate_traced::<ProducerConsumer, _>(&cfg, Vec::new()).expect("the run starts");
            assert_good(&r, PROPERTIES, &format!("seed {seed}"));
            let trace = read_trace(bytes.as_slice()).expect("the trace reads back");
            let (mut holder, mut token_out, mut data_out, mut draining) = (Some(0u32), false, false, false);
            let mut next = vec![0u32; n];
            for e in &trace.events {
                let what = format!("seed {seed} {network:?} event {}", e.i);
                match (e.kind, e.msg_type.as_deref(), e.key.as_deref()) {
                    (EventKind::Send, Some("TOKEN"), _) => {
                        assert_eq!(holder, Some(e.node), "{what}: TOKEN sent by a non-holder");
                        assert_eq!(e.to, Some((e.node + 1) % n as u32), "{what}: the ring's order");
                        (holder, token_out) = (None, true);
                    }
                    (EventKind::Receive, Some("TOKEN"), _) => {
                        assert!(token_out, "{what}: a second token");
                        (holder, token_out) = (Some(e.node), false);
                    }
                    (EventKind::Send, Some("DATA"), _) => {
                        assert_eq!(holder, Some(e.node), "{what}: DATA without the token");
                        assert!(!data_out && !draining, "{what}: a second DATA, or one during a drain");
                        data_out = true;
                    }
                    (EventKind::Receive, Some("DATA"), _) => data_out = false,
                    (EventKind::Output, _, Some("drain_start")) => draining = true,
                    (EventKind::Output, _, Some("drain_end")) => draining = false,
                    (EventKind::Output, _, Some("consumed")) => {
                        let Some(OutputValue::Text(item)) = &e.value else { panic!("{what}: {:?}", e.value) };
                        let (p, k) = item.split_once('#').expect("p#seq");
                        let (p, k): (usize, u32) = (p.parse().expect("p"), k.parse().expect("seq"));
                        assert_eq!(k, next[p], "{what}: {item} consumed out of order");
                        next[p] += 1;
                    }
                    _ => {}
                }
                assert!(holder.is_some() != token_out, "{what}: the token is lost or doubled");
            }
            assert_eq!(holder, Some(0), "the token rests at the consumer");
            assert_eq!(next[1..], vec![4; n - 1], "every item of every producer consumed");
        }
    }
}

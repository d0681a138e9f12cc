//! The token ring's mutual exclusion through the simulator: one token, mutual exclusion,
//! no waiting node left with an idle token, and every request served, across seeds,
//! sizes, both rings and the three delay models, FIFO or not; its cost asserted exactly
//! (TOKEN = n·laps + r, where the token rests at r, the node of the last entry), as a
//! bound (TOKEN ≥ #CS), and exactly as a number where the workload fixes it (saturated:
//! TOKEN = #CS; one request far from the others: the ring distance from the token).
//!
//! The trace tests re-derive, from the trace alone, exclusion, the ring order (the token
//! never passes a waiting node by, so a waiting node sees each other node enter at most
//! once) and the synchronization delay (from an exit to the next entry while someone
//! waits: the ring distance to the next waiting node, 1 to n−1 hops).

use reparti_algos::mutex::token_ring_mutex::{TokenRingMutex, EXACTLY_ONE_TOKEN, NEVER_IDLE};
use reparti_core::trace::{read_trace, EventKind, Trace};
use reparti_core::TopologyKind;
use reparti_sim::config::GivenInput;
use reparti_sim::{simulate_traced, Delay, NetworkModel, Report, SimConfig, Stop};

mod common;
use common::mutex::{config, cs_entries, networks, MUTEX, SERVED};
use common::{assert_good, run};

/// Where the token came to rest (the `rest` output's value).
fn rest(r: &Report) -> Option<u64> {
    r.outputs.get("rest")?.keys().next()?.parse().ok()
}

/// The verdicts and the exact relations of one finished run; returns TOKEN.
fn assert_run(r: &Report, n: u64, requests: u64, ctx: &str) -> u64 {
    assert_good(r, &[EXACTLY_ONE_TOKEN, MUTEX, NEVER_IDLE, SERVED], ctx);
    let cs = cs_entries(r);
    assert_eq!(cs, n * requests, "{ctx}: every request enters once");
    let tokens = r.sent("TOKEN");
    assert_eq!(r.messages.total, tokens, "{ctx}: the token is the only message");
    assert!(tokens >= cs, "{ctx}: every entry follows its own hop");
    let laps = r.outputs.get("lap").map(|m| m.values().sum()).unwrap_or(0u64);
    let at = rest(r).unwrap_or_else(|| panic!("{ctx}: the token never rested"));
    assert_eq!(tokens, n * laps + at, "{ctx}: one hop at a time from node 0 to its rest");
    for (key, e) in &r.expected {
        assert_eq!(e.holds, Some(true), "{ctx}: {key}");
    }
    tokens
}

#[test]
fn one_token_exclusion_service_and_costs_across_seeds_sizes_rings_and_networks() {
    for network in networks() {
        let sizes = [
            (2usize, TopologyKind::Ring),
            (3, TopologyKind::BidirRing),
            (5, TopologyKind::Ring),
            (8, TopologyKind::Ring),
        ];
        for (n, topology) in sizes {
            for seed in 1..=15u64 {
                let cfg = SimConfig { topology: Some(topology.clone()), ..config(n, seed, &network, &[]) };
                let r = run::<TokenRingMutex>(&cfg);
                assert_run(&r, n as u64, 2, &format!("n={n} {topology} seed={seed} {network:?}"));
            }
        }
    }
}

#[test]
fn saturated_every_hop_makes_one_entry() {
    // Every request made at time 0: each visit finds one, TOKEN = #CS = n·requests, and
    // the token rests at node 0, whose entry closes the last lap.
    for network in networks() {
        for n in [2u64, 4, 7] {
            for requests in ["1", "3"] {
                let ctx = format!("n={n} requests={requests} {network:?}");
                let cfg = config(n as usize, 5, &network, &[("requests", requests), ("at_start", "true")]);
                let r = run::<TokenRingMutex>(&cfg);
                let k: u64 = requests.parse().unwrap_or(0);
                assert_eq!(assert_run(&r, n, k, &ctx), n * k, "{ctx}");
                assert_eq!(rest(&r), Some(0), "{ctx}");
            }
        }
    }
}

/// Requests far apart (each served before the next is made), at the given nodes in turn.
fn sequential(n: usize, order: &[u32], cs_time: &str) -> Report {
    let inputs = order
        .iter()
        .enumerate()
        .map(|(k, &node)| GivenInput { at: 1000.0 * (k as f64 + 1.0), node, input: serde_json::json!("Request") })
        .collect();
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
    let cfg = SimConfig {
        inputs,
        no_workload: true,
        // Open-ended (no plan): the token circulates until the time bound.
        max_time: Some(1000.0 * (order.len() as f64 + 1.0)),
        ..config(n, 3, &network, &[("requests", "0"), ("cs_time", cs_time)])
    };
    run::<TokenRingMutex>(&cfg)
}

#[test]
fn open_ended_the_token_circulates_until_the_time_bound_and_serves_every_request() {
    let order = [2u32, 0, 0, 3, 1];
    let r = sequential(4, &order, "2");
    assert_eq!(r.stop, Stop::Time, "the token never rests");
    for p in [EXACTLY_ONE_TOKEN, MUTEX, NEVER_IDLE] {
        assert!(r.holds(p), "{p}");
    }
    assert_eq!(cs_entries(&r), order.len() as u64);
    assert_eq!(r.outputs.get("rest"), None);
    // Far more hops than entries: the idle token goes round and round.
    assert!(r.sent("TOKEN") > 20 * cs_entries(&r), "{} TOKEN", r.sent("TOKEN"));
    // Stopped by time, not at rest: the counts are shown, not judged.
    assert!(r.expected.values().all(|e| e.holds != Some(false)), "{:?}", r.expected);
}

#[test]
fn a_request_beyond_the_plan_after_the_rest_is_reported_unserved() {
    let network = NetworkModel::default();
    // One planned request each (n = 3, at time 1); one more at node 1 long after.
    let mut inputs: Vec<GivenInput> =
        (0..3).map(|node| GivenInput { at: 1.0, node, input: serde_json::json!("Request") }).collect();
    inputs.push(GivenInput { at: 500.0, node: 1, input: serde_json::json!("Request") });
    let cfg = SimConfig { inputs, no_workload: true, ..config(3, 1, &network, &[("requests", "1")]) };
    let r = run::<TokenRingMutex>(&cfg);
    assert_eq!(r.stop, Stop::Quiescence);
    assert!(r.holds(EXACTLY_ONE_TOKEN) && r.holds(MUTEX) && r.holds(NEVER_IDLE));
    assert!(!r.holds(SERVED), "the extra request is never served: {:?}", r.property(SERVED));
    assert_eq!(cs_entries(&r), 3);
    assert_eq!(r.outputs.get("beyond_plan").map(|m| m.values().sum::<u64>()), Some(1));
}

fn traced(cfg: &SimConfig) -> (Report, Trace) {
    let (r, bytes) = match simulate_traced::<TokenRingMutex, _>(cfg, Vec::new()) {
        Ok(x) => x,
        Err(e) => panic!("the run does not start: {e}"),
    };
    (r, read_trace(bytes.as_slice()).expect("the trace reads back"))
}

/// What the trace says, checked as it goes: exclusion; the token never passes a
/// waiting node by (a node that passes it without having entered during the visit has
/// no request pending); a waiting node sees each other node enter at most once; and
/// after an exit while another node waits, the next entry is `hops` TOKEN sends later
/// at the node `hops` places along the ring, no farther than the first node waiting at
/// the exit. Returns the synchronization delays seen, in hops.
fn ring_order(trace: &Trace, ctx: &str) -> Vec<usize> {
    let n = trace.header.idents.len();
    let mut asked = vec![0usize; n];
    let mut served = vec![0usize; n];
    let mut inside: Option<usize> = None;
    let mut entered_this_visit = vec![false; n];
    let mut seen_while_waiting: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); n];
    // (exiting node, first waiting node's distance, TOKEN sends since the exit)
    let mut since_exit: Option<(usize, usize, usize)> = None;
    let mut delays = Vec::new();
    let waiting = |asked: &[usize], served: &[usize], inside: Option<usize>, k: usize| {
        asked[k] > served[k] + usize::from(inside == Some(k))
    };
    for e in &trace.events {
        let k = e.node as usize;
        match (e.kind, e.key.as_deref(), e.msg_type.as_deref()) {
            (EventKind::Input, _, _) => asked[k] += 1,
            (EventKind::Output, Some("enter_cs"), _) => {
                assert!(inside.is_none(), "{ctx}: event {}: node {k} enters while {inside:?} is inside", e.i);
                if let Some((from, limit, hops)) = since_exit.take() {
                    assert_eq!((from + hops) % n, k, "{ctx}: event {}: entry {hops} hops after {from}'s exit", e.i);
                    assert!((1..=limit).contains(&hops), "{ctx}: event {}: {hops} hops, first waiting at {limit}", e.i);
                    delays.push(hops);
                }
                for (j, seen) in seen_while_waiting.iter_mut().enumerate() {
                    if j != k && waiting(&asked, &served, inside, j) {
                        assert!(seen.insert(k), "{ctx}: event {}: node {k} enters twice while node {j} waits", e.i);
                    }
                }
                seen_while_waiting[k].clear();
                inside = Some(k);
                entered_this_visit[k] = true;
            }
            (EventKind::Output, Some("exit_cs"), _) => {
                assert_eq!(inside, Some(k), "{ctx}: event {}: exit by a node not inside", e.i);
                inside = None;
                served[k] += 1;
                seen_while_waiting[k].clear();
                let first_waiting = (1..n).find(|d| waiting(&asked, &served, inside, (k + d) % n));
                since_exit = first_waiting.map(|d| (k, d, 0));
            }
            (EventKind::Send, _, Some("TOKEN")) => {
                assert!(
                    entered_this_visit[k] || !waiting(&asked, &served, inside, k),
                    "{ctx}: event {}: node {k} passes the token by with a request pending",
                    e.i
                );
                entered_this_visit[k] = false;
                if let Some((_, _, hops)) = since_exit.as_mut() {
                    *hops += 1;
                }
            }
            _ => {}
        }
    }
    assert!(inside.is_none(), "{ctx}: the run ends with a node inside");
    delays
}

#[test]
fn the_trace_shows_exclusion_ring_order_and_the_synchronization_delay() {
    let mut seen = std::collections::BTreeSet::new();
    for network in networks() {
        for n in [3usize, 5] {
            // The burst (load 0) keeps everyone waiting: delays of 1. A light load
            // leaves gaps in the ring, and longer delays.
            for load in ["0", "0.5"] {
                for seed in 1..=8u64 {
                    let ctx = format!("n={n} load={load} seed={seed} {network:?}");
                    let (r, trace) = traced(&config(n, seed, &network, &[("requests", "3"), ("load", load)]));
                    assert_run(&r, n as u64, 3, &ctx);
                    let delays = ring_order(&trace, &ctx);
                    assert!(delays.iter().all(|&d| (1..n).contains(&d)), "{ctx}: {delays:?}");
                    seen.extend(delays.into_iter().map(|d| (n, d)));
                }
            }
        }
    }
    // Both ends of the range are met: the next node waiting, and the farthest one.
    for n in [3usize, 5] {
        assert!(seen.contains(&(n, 1)) && seen.contains(&(n, n - 1)), "n={n}: {seen:?}");
    }
}

#[test]
fn a_lone_request_waits_for_the_token_to_come_round() {
    // Open-ended, every hop taking 1: the token leaves node 0 at time 0 and is at node
    // m mod n at time m. A request at node k at time 1000.5 finds it in flight to node
    // 1001 mod n, and enters when it arrives, (k − 1001) mod n hops later.
    for (n, k) in [(4usize, 2u32), (5, 4), (3, 0), (6, 5)] {
        let inputs = vec![GivenInput { at: 1000.5, node: k, input: serde_json::json!("Request") }];
        let cfg = SimConfig {
            inputs,
            no_workload: true,
            max_time: Some(1000.0 + 3.0 * n as f64),
            ..config(n, 1, &NetworkModel::default(), &[("requests", "0")])
        };
        let (r, trace) = traced(&cfg);
        let ctx = format!("n={n} k={k}");
        assert!(r.holds(EXACTLY_ONE_TOKEN) && r.holds(MUTEX) && r.holds(NEVER_IDLE), "{ctx}");
        let entries: Vec<f64> = trace
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Output && e.key.as_deref() == Some("enter_cs"))
            .map(|e| e.t)
            .collect();
        let hops = (k as usize + n - 1001 % n) % n;
        assert_eq!(entries, vec![1001.0 + hops as f64], "{ctx}");
    }
}

#[test]
fn same_seed_same_trace() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
    let a = traced(&config(5, 9, &network, &[])).1;
    let b = traced(&config(5, 9, &network, &[])).1;
    assert_eq!(a, b);
}

#[test]
fn the_slip_breaks_exclusion_in_some_random_run() {
    // The checker finds the shortest such run; the simulator meets one on random runs too.
    let network = NetworkModel { fifo: false, delay: Delay::Uniform { min: 0.1, max: 6.0 }, ..NetworkModel::default() };
    let broken = (1..=20u64)
        .filter(|&seed| {
            let r = run::<TokenRingMutex>(&config(4, seed, &network, &[("fixed", "false")]));
            assert!(r.holds(EXACTLY_ONE_TOKEN), "seed {seed}: the token is still one");
            !r.holds(MUTEX)
        })
        .count();
    assert!(broken > 0, "no random run of the slip broke mutual exclusion");
}

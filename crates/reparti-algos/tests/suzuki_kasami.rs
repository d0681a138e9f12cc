//! Suzuki–Kasami through the simulator: one token, mutual exclusion and every request
//! served, across seeds, sizes and the three delay models, FIFO or not; its costs
//! asserted exactly (REQUEST = (n−1)·TOKEN, total = n·TOKEN, TOKEN ≤ #CS), and exactly
//! as a number where the workload fixes it: a sequence of requests far apart costs n per
//! change of requester and 0 per repeat; one request per node costs n−1 or n TOKENs.
//!
//! The trace tests re-derive exclusion and the two regimes (an entry on a TOKEN's
//! arrival, an entry with the token already in hand) from the trace alone.

use reparti_algos::mutex::suzuki_kasami::SuzukiKasami;
use reparti_core::trace::{read_trace, EventKind, Trace};
use reparti_sim::config::GivenInput;
use reparti_sim::{simulate_traced, Delay, NetworkModel, Report, SimConfig};

mod common;
use common::mutex::{config, cs_entries, networks, MUTEX, SERVED};
use common::{assert_good, run};

const TOKEN: &str = "exactly one token";

/// The verdicts and the exact relations between the counts of one finished run;
/// returns the number of TOKEN messages.
fn assert_run(r: &Report, n: u64, requests: u64, ctx: &str) -> u64 {
    assert_good(r, &[TOKEN, MUTEX, SERVED], ctx);
    let cs = cs_entries(r);
    assert_eq!(cs, n * requests, "{ctx}: every request enters once");
    let tokens = r.sent("TOKEN");
    assert!(tokens <= cs, "{ctx}: TOKEN ≤ #CS");
    assert_eq!(r.sent("REQUEST"), (n - 1) * tokens, "{ctx}: REQUEST = (n−1)·TOKEN");
    assert_eq!(r.messages.total, n * tokens, "{ctx}: n messages per entry that moved the token");
    for key in ["REQUEST", "TOKEN", "total"] {
        assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}");
    }
    tokens
}

#[test]
fn one_token_exclusion_service_and_costs_across_seeds_sizes_and_networks() {
    for network in networks() {
        for n in [2usize, 3, 5, 8] {
            for seed in 1..=15u64 {
                let r = run::<SuzukiKasami>(&config(n, seed, &network, &[]));
                assert_run(&r, n as u64, 2, &format!("n={n} seed={seed} {network:?}"));
            }
        }
    }
}

#[test]
fn one_request_per_node_moves_the_token_n_minus_one_or_n_times() {
    // Every node but 0 must receive the token once; node 0 needs it back only if its
    // request came after it gave the token away. So TOKEN ∈ {n−1, n}.
    let (mut kept, mut back) = (0, 0);
    for network in networks() {
        for n in [2u64, 4, 7] {
            for seed in 1..=10u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let r = run::<SuzukiKasami>(&config(n as usize, seed, &network, &[("requests", "1")]));
                match assert_run(&r, n, 1, &ctx) {
                    t if t == n - 1 => kept += 1,
                    t if t == n => back += 1,
                    t => panic!("{ctx}: {t} TOKEN messages"),
                }
            }
        }
    }
    assert!(kept > 0 && back > 0, "both cases seen: {kept} kept, {back} came back");
}

/// Requests far apart (each served before the next is made), at the given nodes in turn.
fn sequential(n: usize, order: &[u32], network: &NetworkModel) -> Report {
    let inputs = order
        .iter()
        .enumerate()
        .map(|(k, &node)| GivenInput { at: 100.0 * (k as f64 + 1.0), node, input: serde_json::json!("Request") })
        .collect();
    let cfg = SimConfig { inputs, no_workload: true, ..config(n, 3, network, &[("cs_time", "2")]) };
    run::<SuzukiKasami>(&cfg)
}

#[test]
fn requests_far_apart_cost_n_per_change_of_requester_and_nothing_per_repeat() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 3.0 }, ..NetworkModel::default() };
    for (n, order) in
        [(3usize, vec![0u32, 0, 1, 1, 2, 0]), (5, vec![4, 4, 4, 2, 0, 0, 1]), (4, vec![0, 0, 0]), (4, vec![1, 2, 3, 0])]
    {
        let ctx = format!("n={n} order={order:?}");
        let r = sequential(n, &order, &network);
        assert_good(&r, &[TOKEN, MUTEX, SERVED], &ctx);
        assert_eq!(cs_entries(&r), order.len() as u64, "{ctx}");
        // The holder starts at node 0; each request by another node than the holder moves it.
        let moves = std::iter::once(0)
            .chain(order.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[0] != w[1])
            .count() as u64;
        assert_eq!(r.sent("TOKEN"), moves, "{ctx}");
        assert_eq!(r.messages.total, n as u64 * moves, "{ctx}: n per move, 0 per repeat");
    }
}

fn traced(n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> (Report, Trace) {
    let (r, bytes) = match simulate_traced::<SuzukiKasami, _>(&config(n, seed, network, params), Vec::new()) {
        Ok(x) => x,
        Err(e) => panic!("the run does not start: {e}"),
    };
    (r, read_trace(bytes.as_slice()).expect("the trace reads back"))
}

/// From the trace alone: entries and exits alternate (never two nodes inside), and each
/// entry is made either on a TOKEN's arrival or in the node's own handler (the token
/// already in hand). Returns (entries on a TOKEN, entries with the token in hand).
fn regimes(trace: &Trace, ctx: &str) -> (u64, u64) {
    let mut inside: Option<u32> = None;
    let n = trace.header.idents.len();
    let mut last_handler: Vec<(EventKind, Option<String>)> = vec![(EventKind::Start, None); n];
    let (mut on_token, mut in_hand) = (0, 0);
    for e in &trace.events {
        let i = e.node as usize;
        match e.kind {
            EventKind::Start | EventKind::Input | EventKind::Receive | EventKind::Timer => {
                last_handler[i] = (e.kind, e.msg_type.clone());
            }
            EventKind::Output if e.key.as_deref() == Some("enter_cs") => {
                assert!(inside.is_none(), "{ctx}: event {}: node {} enters while {inside:?} is inside", e.i, e.node);
                inside = Some(e.node);
                match &last_handler[i] {
                    (EventKind::Receive, Some(t)) if t == "TOKEN" => on_token += 1,
                    (EventKind::Input | EventKind::Timer, _) => in_hand += 1,
                    other => panic!("{ctx}: event {}: an entry made by {other:?}", e.i),
                }
            }
            EventKind::Output if e.key.as_deref() == Some("exit_cs") => {
                assert_eq!(inside, Some(e.node), "{ctx}: event {}: exit by a node not inside", e.i);
                inside = None;
            }
            _ => {}
        }
    }
    assert!(inside.is_none(), "{ctx}: the run ends with a node inside");
    (on_token, in_hand)
}

#[test]
fn the_trace_shows_exclusion_and_both_regimes() {
    let (mut all_on_token, mut all_in_hand) = (0, 0);
    for network in networks() {
        for n in [3usize, 5] {
            for seed in 1..=8u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let (r, trace) = traced(n, seed, &network, &[("requests", "3")]);
                let tokens = assert_run(&r, n as u64, 3, &ctx);
                let (on_token, in_hand) = regimes(&trace, &ctx);
                assert_eq!(on_token, tokens, "{ctx}: every TOKEN makes one entry");
                assert_eq!(on_token + in_hand, cs_entries(&r), "{ctx}");
                all_on_token += on_token;
                all_in_hand += in_hand;
            }
        }
    }
    // The workload reaches both: entries that cost n and entries that cost nothing.
    assert!(all_on_token > 0 && all_in_hand > 0, "{all_on_token} on a TOKEN, {all_in_hand} in hand");
}

#[test]
fn a_single_process_never_sends() {
    let r = run::<SuzukiKasami>(&config(1, 1, &NetworkModel::default(), &[("requests", "3")]));
    assert_run(&r, 1, 3, "n=1");
    assert_eq!(r.messages.total, 0);
}

#[test]
fn same_seed_same_trace() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
    let a = traced(5, 9, &network, &[]).1;
    let b = traced(5, 9, &network, &[]).1;
    assert_eq!(a, b);
}

#[test]
fn the_broken_release_leaves_a_request_unserved_in_some_run() {
    // The checker finds the shortest such run; the simulator meets one on random runs too.
    let network = NetworkModel { fifo: false, delay: Delay::Uniform { min: 0.1, max: 6.0 }, ..NetworkModel::default() };
    let starved = (1..=30u64)
        .filter(|&seed| {
            let r = run::<SuzukiKasami>(&config(4, seed, &network, &[("fixed", "false")]));
            assert!(r.holds(TOKEN) && r.holds(MUTEX), "seed {seed}: safety still holds");
            !r.holds(SERVED)
        })
        .count();
    assert!(starved > 0, "no random run of the broken release starved anyone");
}

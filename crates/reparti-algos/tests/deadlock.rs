//! Chandy–Misra–Haas over the wait-for application through the simulator: over many
//! seeds, sizes and delay models on FIFO networks, drawn graphs with a cycle deadlock
//! and exactly the initiators on a cycle declare; acyclic graphs drain with no
//! declaration; random ones do as their cycles say; staggered requests, where the graph
//! changes during the run, never fool the detector; the probes of each initiation stay
//! within the edges reachable from its initiator (the totals printed); and the detector
//! without its edge check declares phantom deadlocks on runs that drain.

use reparti_algos::observation::deadlock::chandy_misra_haas::{COST, LIVENESS, SAFETY};
use reparti_algos::observation::deadlock::wait_for::{DRAINED, FREE_OWES_NOTHING};
use reparti_algos::observation::deadlock::{edges_reachable, on_cycle, ChandyMisraHaas, WaitFor};
use reparti_core::{Algorithm, IdAssignment, NodeId, Params};
use reparti_sim::{Delay, NetworkModel, Report, SimConfig};

mod common;
use common::{assert_good, config, run};

const ALL: [&str; 5] = [SAFETY, COST, LIVENESS, DRAINED, FREE_OWES_NOTHING];

fn fifo_networks() -> Vec<NetworkModel> {
    common::networks().into_iter().filter(|n| n.fifo).collect()
}

/// The graph an instance asks along, from the same parameters.
fn graph(params: &[(&str, &str)], n: usize) -> reparti_algos::observation::deadlock::Edges {
    let given: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let resolved = Params::resolve("wait-for", WaitFor::spec().params, &given).expect("params");
    WaitFor::from_params(&resolved).expect("params").edges(n)
}

fn deadlocks(r: &Report) -> u64 {
    r.outputs.get("deadlock").map_or(0, |m| m.values().sum())
}

/// Runs `shape` graphs over `seeds`, asserting every property and count; returns (runs
/// with a cycle, declarations, probes, the probe bound summed).
fn sweep(shape: &str, seeds: std::ops::RangeInclusive<u64>) -> (u64, u64, u64, u64) {
    let networks = fifo_networks();
    let (mut cyclic, mut declared, mut probes, mut bound) = (0, 0, 0, 0);
    for seed in seeds {
        let network = &networks[seed as usize % networks.len()];
        let n = 2 + (seed as usize % 9);
        let s = seed.to_string();
        let params = [("wfg", shape), ("wfg_seed", s.as_str())];
        let cfg = config(n, seed, IdAssignment::Asc, network, &params);
        let ctx = format!("{shape} n={n} seed={seed} {network:?}");
        let r = run::<ChandyMisraHaas>(&cfg);
        assert_good(&r, &ALL, &ctx);
        let g = graph(&params, n);
        let on: Vec<u32> = (0..n as u32).filter(|&i| on_cycle(&g, NodeId(i))).collect();
        assert_eq!(deadlocks(&r), on.len() as u64, "{ctx}: exactly the processes on a cycle declare");
        for i in &on {
            assert_eq!(r.output("deadlock", &i.to_string()), 1, "{ctx}: {i} declares once");
        }
        assert_eq!(r.sent("REQUEST"), g.len() as u64, "{ctx}");
        let initiated = r.outputs.get("initiated").cloned().unwrap_or_default();
        let b: usize = initiated.keys().map(|i| edges_reachable(&g, NodeId(i.parse().expect("a position")))).sum();
        assert!(r.sent("PROBE") <= b as u64, "{ctx}: {} probes > {b}", r.sent("PROBE"));
        cyclic += u64::from(!on.is_empty());
        declared += deadlocks(&r);
        probes += r.sent("PROBE");
        bound += b as u64;
    }
    (cyclic, declared, probes, bound)
}

#[test]
fn cyclic_graphs_deadlock_and_exactly_the_processes_on_the_cycle_declare() {
    let (cyclic, declared, probes, bound) = sweep("cycle", 1..=400);
    assert_eq!(cyclic, 400);
    println!("cycle: 400 runs, {declared} declarations, {probes} PROBE ≤ Σ reachable edges {bound}");
    assert!(declared >= 800, "at least two per cycle");
}

#[test]
fn acyclic_graphs_drain_with_no_declaration() {
    let (cyclic, declared, probes, bound) = sweep("acyclic", 1..=400);
    assert_eq!((cyclic, declared), (0, 0));
    println!("acyclic: 400 runs drained, no declaration, {probes} PROBE ≤ {bound}");
}

#[test]
fn random_graphs_declare_exactly_where_their_cycles_are() {
    let (cyclic, declared, probes, bound) = sweep("random", 1..=400);
    println!("random: {cyclic} of 400 with a cycle, {declared} declarations, {probes} PROBE ≤ {bound}");
    assert!(cyclic > 50 && cyclic < 400, "both kinds drawn: {cyclic}");
}

#[test]
fn a_given_graph_with_a_tail_deadlocks_on_the_cycle_only() {
    for network in fifo_networks() {
        let params = [("wfg", "0>1,1>2,2>0,3>1,4>3")];
        let r = run::<ChandyMisraHaas>(&config(5, 1, IdAssignment::Asc, &network, &params));
        assert_good(&r, &ALL, &format!("{network:?}"));
        assert_eq!((deadlocks(&r), r.output("deadlock", "3")), (3, 0), "the tail waits, it is not on the cycle");
        assert_eq!((r.sent("REQUEST"), r.sent("GRANT")), (5, 0), "nobody ever grants");
        // 0, 1, 2 send 3 probes each round the cycle; 3 and 4 reach 4 and 5 edges.
        assert!(r.sent("PROBE") <= 3 * 3 + 4 + 5, "{}", r.sent("PROBE"));
    }
}

#[test]
fn staggered_requests_change_the_graph_and_never_fool_the_detector() {
    let networks = fifo_networks();
    let (mut runs_with_deadlock, mut drained) = (0, 0);
    for seed in 1..=300u64 {
        let network = &networks[seed as usize % networks.len()];
        let n = 3 + (seed as usize % 5);
        let s = seed.to_string();
        let shape = ["cycle", "random"][seed as usize % 2];
        let params = [("wfg", shape), ("wfg_seed", s.as_str()), ("requests", "staggered"), ("probe_after", "0.5")];
        let r = run::<ChandyMisraHaas>(&config(n, seed, IdAssignment::Asc, network, &params));
        assert_good(&r, &ALL, &format!("staggered {shape} n={n} seed={seed}"));
        if deadlocks(&r) > 0 {
            runs_with_deadlock += 1;
        } else {
            drained += 1;
        }
    }
    println!("staggered: {runs_with_deadlock} runs deadlocked and were detected, {drained} declared none");
    assert!(runs_with_deadlock > 0 && drained > 0);
}

#[test]
fn without_the_edge_check_phantom_deadlocks_are_declared_on_runs_that_drain() {
    let mut caught = 0;
    for seed in 1..=400u64 {
        let network = NetworkModel { delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
        let s = seed.to_string();
        let params = [
            ("wfg", "0>1,1>2,2>0"),
            ("wfg_seed", s.as_str()),
            ("requests", "staggered"),
            ("probe_after", "0.2"),
            ("probe_fault", "no-edge-check"),
        ];
        let cfg = SimConfig { stop_at_violation: false, ..config(3, seed, IdAssignment::Asc, &network, &params) };
        let r = run::<ChandyMisraHaas>(&cfg);
        if r.property(SAFETY).is_some_and(|p| p.holds == Some(false)) {
            caught += 1;
            let p = r.property(SAFETY).and_then(|p| p.detail.clone()).unwrap_or_default();
            assert!(p.contains("declared deadlock"), "seed {seed}: {p}");
        }
    }
    println!("no-edge-check: a phantom deadlock declared in {caught} of 400 runs");
    assert!(caught > 0, "no seed of 400 forwarded a probe over a gone edge");
}

//! Breadth-first search on one or two threads and depth-first search explore the same
//! states, with 64- or 128-bit fingerprints alike; random walks see a subset.

mod common;

use common::toys::ToyRing;
use common::{cfg, run, with_params};
use reparti_algos::communication::TokenRing;
use reparti_algos::election::{ChangRoberts, Franklin};
use reparti_algos::mutex::RicartAgrawala;
use reparti_algos::time::LogicalClocks;
use reparti_check::{CheckConfig, CheckReport, NetworkKind, StopReason, Strategy};
use reparti_core::{Algorithm, IdAssignment};

fn verdicts(r: &CheckReport) -> Vec<(String, Option<bool>)> {
    r.properties.iter().map(|p| (p.name.clone(), p.holds)).collect()
}

/// Runs BFS (1 and 2 threads) and DFS, each with narrow and wide fingerprints, and
/// checks they agree; returns the number of states.
fn agree<A: Algorithm>(c: &CheckConfig, what: &str) -> u64 {
    let c = CheckConfig { liveness: false, ..c.clone() };
    let mut seen: Vec<(String, CheckReport)> = Vec::new();
    for wide in [false, true] {
        for (name, strategy, threads) in
            [("bfs", Strategy::Bfs, 1), ("bfs×2", Strategy::Bfs, 2), ("dfs", Strategy::Dfs, 1)]
        {
            let r = run::<A>(&CheckConfig { strategy, threads, wide_fingerprints: wide, ..c.clone() });
            let how = format!("{what}, {name}, {}-bit", if wide { 128 } else { 64 });
            assert!(r.complete && r.stop == StopReason::Exhausted, "{how}: {:?}", r.stop);
            assert!(r.all_good(), "{how}: {:?}", verdicts(&r));
            assert_eq!(r.fingerprint_bits, if wide { 128 } else { 64 }, "{how}");
            assert_eq!(r.threads, threads, "{how}");
            seen.push((how, r));
        }
    }
    let (first, base) = &seen[0];
    for (how, r) in &seen[1..] {
        assert_eq!(r.unique_states, base.unique_states, "{how} vs {first}");
        assert_eq!(r.states, base.states, "{how} vs {first}: transitions generated");
        assert_eq!(verdicts(r), verdicts(base), "{how} vs {first}");
        if how.contains("bfs") {
            assert_eq!(r.max_depth, base.max_depth, "{how} vs {first}");
        } else {
            assert!(r.max_depth >= base.max_depth, "{how}: DFS paths are at least as deep as BFS levels");
        }
    }
    let narrow = seen.iter().find(|(h, _)| h.contains("64")).map(|(_, r)| r.collision_probability);
    let wide = seen.iter().find(|(h, _)| h.contains("128")).map(|(_, r)| r.collision_probability);
    assert!(wide < narrow || base.unique_states < 2, "{what}: {wide:?} vs {narrow:?}");
    base.unique_states
}

#[test]
fn chang_roberts_n5_unordered() {
    use IdAssignment::{Asc, Desc, Random};
    for placement in [Desc, Asc, Random, common::ids(&[3, 5, 1, 4, 2])] {
        let what = format!("CR n=5 {placement}");
        let states = agree::<ChangRoberts>(&cfg(5, placement, NetworkKind::Unordered), &what);
        assert!(states > 100, "{what}: {states}");
    }
    // Counted independently in exact_counts.rs: 1320 for the descending ring.
    assert_eq!(agree::<ChangRoberts>(&cfg(5, Desc, NetworkKind::Unordered), "CR n=5 desc"), 1320);
    agree::<ChangRoberts>(&cfg(6, Desc, NetworkKind::Unordered), "CR n=6 desc");
}

#[test]
fn franklin_n4() {
    for placement in [IdAssignment::Desc, common::ids(&[2, 4, 1, 3]), common::ids(&[1, 3, 2, 4])] {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            agree::<Franklin>(&cfg(4, placement.clone(), network), &format!("franklin n=4 {placement} {network}"));
        }
    }
}

#[test]
fn ricart_agrawala_n3_one_request() {
    for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
        let c = with_params(cfg(3, IdAssignment::Asc, network), &[("requests", "1")]);
        agree::<RicartAgrawala>(&c, &format!("RA n=3 requests=1 {network}"));
    }
}

#[test]
fn logical_clocks_n3_two_events() {
    for seed in [1, 2] {
        let c =
            CheckConfig { seed, ..with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("events", "2")]) };
        agree::<LogicalClocks>(&c, &format!("logical clocks n=3 events=2 seed {seed}"));
    }
}

#[test]
fn token_rings_n3() {
    for sends in ["1", "2"] {
        let c = with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("sends", sends)]);
        agree::<TokenRing>(&c, &format!("token ring n=3 sends={sends}"));
    }
    let c = with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("rounds", "3")]);
    agree::<ToyRing>(&c, "test token ring n=3 rounds=3");
}

/// Levels wider than one batch (4096 states per thread), tables that grow mid-level.
#[test]
fn a_space_of_a_hundred_thousand_states_splits_the_same_way() {
    let c = CheckConfig {
        liveness: false,
        ..with_params(cfg(3, IdAssignment::Desc, NetworkKind::Unordered), &[("requests", "2")])
    };
    let one = run::<RicartAgrawala>(&c);
    let two = run::<RicartAgrawala>(&CheckConfig { threads: 2, ..c.clone() });
    let dfs = run::<RicartAgrawala>(&CheckConfig { strategy: Strategy::Dfs, ..c.clone() });
    assert!(one.complete && two.complete && dfs.complete);
    assert!(one.unique_states > 50_000, "{}", one.unique_states);
    assert_eq!((two.unique_states, two.states, two.max_depth), (one.unique_states, one.states, one.max_depth));
    assert_eq!((dfs.unique_states, dfs.states), (one.unique_states, one.states));
}

/// The visited set's documented cost (visited.rs, lib.rs): it grows by half when three
/// quarters full, so it holds 10.7 to 16 bytes per state with 64-bit fingerprints (twice
/// that with 128-bit ones), whichever strategy fills it. Measured on spaces large enough
/// that the table's initial 1024 slots do not dominate.
#[test]
fn the_visited_set_costs_10_7_to_16_bytes_per_state_in_every_strategy() {
    let cr6 = CheckConfig { liveness: false, ..cfg(6, IdAssignment::Desc, NetworkKind::Unordered) };
    let fr5 = CheckConfig { liveness: false, ..cfg(5, IdAssignment::Desc, NetworkKind::Unordered) };
    let mut reports = Vec::new();
    for strategy in [Strategy::Bfs, Strategy::Dfs] {
        for wide in [false, true] {
            let with = |c: &CheckConfig| CheckConfig { strategy, wide_fingerprints: wide, ..c.clone() };
            reports.push(run::<ChangRoberts>(&with(&cr6)));
            reports.push(run::<Franklin>(&with(&fr5)));
        }
    }
    let bad: Vec<String> = reports
        .iter()
        .filter(|r| {
            let per = r.bytes_per_state / (r.fingerprint_bits / 64) as f64;
            !(10.6..=16.1).contains(&per)
        })
        .map(|r| {
            format!(
                "{} n={} {}, {}-bit: {:.2} bytes per state",
                r.algorithm, r.nodes, r.strategy, r.fingerprint_bits, r.bytes_per_state
            )
        })
        .collect();
    assert!(bad.is_empty(), "outside 10.7–16 bytes per 64 bits of fingerprint:\n{}", bad.join("\n"));
}

#[test]
fn random_walks_see_a_subset_and_no_violation_on_correct_models() {
    let c = cfg(5, IdAssignment::Desc, NetworkKind::Unordered);
    let all = run::<ChangRoberts>(&c).unique_states;
    for seed in [1, 2, 3] {
        let r = run::<ChangRoberts>(&CheckConfig {
            seed,
            strategy: Strategy::Random { walks: 300, depth: 1000 },
            ..c.clone()
        });
        assert_eq!(r.stop, StopReason::Walks);
        assert!(!r.complete, "random walks never claim completeness");
        assert!(r.all_good() && r.counterexample.is_none(), "seed {seed}");
        assert!(r.unique_states > 20 && r.unique_states <= all, "seed {seed}: {} of {all}", r.unique_states);
        // Every walk runs to quiescence (20 steps for this ring), never further.
        assert_eq!(r.max_depth, 20);
    }
}

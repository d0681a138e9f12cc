//! Bitstate hashing (`--bitstate`): with bits to spare it visits exactly the states the
//! exact table does, in every strategy; crowded, it visits fewer and says so (a partial
//! search, never a ✓, its coverage estimated); a broken variant is still caught, and a
//! shuffled depth-first search or another hash seed explores differently — what a swarm
//! of such searches is made of.

mod common;

use common::{cfg, run, with_params};
use reparti_algos::election::ChangRoberts;
use reparti_algos::mutex::suzuki_kasami::SuzukiKasami;
use reparti_check::{BitstateConfig, CheckConfig, NetworkKind, StopReason, Strategy};
use reparti_core::IdAssignment;

fn cr(n: usize) -> CheckConfig {
    CheckConfig { liveness: false, ..cfg(n, IdAssignment::Desc, NetworkKind::Unordered) }
}

fn bits(bytes: u64, seed: u64) -> Option<BitstateConfig> {
    Some(BitstateConfig { hash_seed: seed, ..BitstateConfig::new(bytes) })
}

#[test]
fn with_bits_to_spare_every_strategy_visits_exactly_the_exact_tables_states() {
    let exact = run::<ChangRoberts>(&cr(6));
    assert!(exact.complete && exact.unique_states == 9_360, "{}", exact.unique_states);
    for strategy in [Strategy::Bfs, Strategy::Dfs] {
        for threads in [1, 2] {
            let c = CheckConfig { strategy, threads, bitstate: bits(1 << 20, 7), ..cr(6) };
            let r = run::<ChangRoberts>(&c);
            let what = format!("{strategy:?}, {threads} thread(s)");
            // 8 Mi bits for 9,360 states: a hash factor near 900.
            assert_eq!(r.unique_states, exact.unique_states, "{what}");
            assert_eq!(r.stop, StopReason::Bitstate, "{what}");
            assert!(!r.complete && r.cut_short.is_some(), "{what}");
            assert!(r.properties.iter().all(|p| p.holds.is_none()), "{what}: a bitstate search established something");
            let b = r.bitstate.as_ref().expect("a bitstate report");
            assert_eq!((b.bytes, b.hash_functions, b.hash_seed), (1 << 20, 3, 7), "{what}");
            assert!(b.hash_factor > 800.0 && b.estimated_coverage > 0.9999, "{what}: {b:?}");
            assert!(r.memory_peak_bytes >= 1 << 20, "{what}: the array is counted");
        }
    }
}

#[test]
fn a_crowded_array_misses_states_and_its_estimate_says_about_how_many() {
    let exact = run::<ChangRoberts>(&cr(7)).unique_states;
    // 2 KiB = 16 Ki bits for tens of thousands of states.
    let r = run::<ChangRoberts>(&CheckConfig { bitstate: bits(2048, 1), ..cr(7) });
    let b = r.bitstate.as_ref().expect("a bitstate report");
    assert!(r.unique_states < exact / 2, "{} of {exact}", r.unique_states);
    assert!(b.hash_factor < 4.0 && b.fill > 0.5, "{b:?}");
    assert!(b.estimated_coverage < 0.9, "a crowded array claims {:?}", b.estimated_coverage);
    assert_eq!(r.stop, StopReason::Bitstate);
}

#[test]
fn a_broken_variant_is_caught_under_bitstate_in_every_strategy() {
    let c = CheckConfig {
        liveness: false,
        ..with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("requests", "1"), ("fixed", "false")])
    };
    let exact = run::<SuzukiKasami>(&c);
    let shortest = exact.counterexample.as_ref().expect("the exact search catches it");
    let exact_len = shortest.steps.len();
    for strategy in [Strategy::Bfs, Strategy::Dfs, Strategy::Random { walks: 2_000, depth: 60 }] {
        let bitstate = bits(1 << 16, 3);
        let r = run::<SuzukiKasami>(&CheckConfig { strategy, bitstate, search_seed: Some(5), ..c.clone() });
        let what = format!("{strategy:?}");
        assert_eq!(r.stop, StopReason::Violation, "{what}");
        let cx = r.counterexample.as_ref().unwrap_or_else(|| panic!("{what}: no counterexample"));
        let failed = r.properties.iter().find(|p| p.holds == Some(false)).map(|p| p.name.as_str());
        assert_eq!(failed, Some(cx.property.as_str()), "{what}");
        if strategy == Strategy::Bfs {
            // Breadth-first over bits still finds a shortest run, the exact search's.
            assert_eq!(cx.steps.len(), exact_len, "{what}");
            assert_eq!(cx.property, shortest.property, "{what}");
        } else {
            assert!(cx.steps.len() >= exact_len, "{what}: shorter than the shortest");
        }
    }
}

#[test]
fn a_search_seed_shuffles_depth_first_search_and_hash_seeds_miss_different_states() {
    let crowded = |hash_seed: u64, search_seed: Option<u64>| {
        let c = CheckConfig { strategy: Strategy::Dfs, bitstate: bits(4096, hash_seed), search_seed, ..cr(7) };
        run::<ChangRoberts>(&c)
    };
    let a = crowded(1, None);
    let again = crowded(1, None);
    assert_eq!((a.unique_states, a.states), (again.unique_states, again.states), "a bitstate search is deterministic");
    let b = crowded(2, None);
    let shuffled = crowded(1, Some(9));
    assert_ne!((a.unique_states, a.states), (b.unique_states, b.states), "another hash seed, the same search?");
    assert_ne!((a.unique_states, a.states), (shuffled.unique_states, shuffled.states), "shuffled, the same search?");
    // Shuffled but exhaustive: the exact table's count whatever the order.
    let exact = run::<ChangRoberts>(&CheckConfig { strategy: Strategy::Dfs, search_seed: Some(9), ..cr(6) });
    assert!(exact.complete && exact.unique_states == 9_360);
}

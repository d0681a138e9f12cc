//! Raymond (`raymond`) in the model checker: exactly one token, mutual exclusion, the
//! `HOLDER` pointers leading to the privilege, and every request served, liveness
//! included, over the whole reachable space of small trees, lines and stars, FIFO or
//! not; and the broken PRIVILEGE handler (`fixed=false`: it dequeues the head of
//! `REQUEST_Q` to see whether the privilege is for itself) caught starving a process,
//! with the shortest counterexample replayed in the simulator.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::mutex::raymond::{Raymond, EXACTLY_ONE_TOKEN, HOLDER_TREE};
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::{IdAssignment, TopologyKind};

const SERVED: &str = "every request was served";
const MUTEX: &str = "mutual exclusion: at most one node in the critical section";

fn check_cfg(kind: TopologyKind, n: usize, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    CheckConfig { topology: Some(kind), ..with_params(cfg(n, IdAssignment::Asc, network), params) }
}

#[test]
fn every_property_holds_on_small_trees_liveness_included() {
    use NetworkKind::{Fifo, Unordered};
    use TopologyKind::{Line, Star, Tree};
    for (kind, n, requests, network) in [
        (Tree, 2, "1", Unordered),
        (Tree, 2, "3", Unordered),
        (Tree, 3, "1", Unordered),
        (Tree, 3, "1", Fifo),
        (Tree, 3, "2", Unordered),
        (Line, 3, "2", Unordered),
        (Line, 4, "1", Unordered),
        (Line, 4, "2", Fifo),
        (Tree, 4, "1", Unordered),
        (Star, 4, "1", Unordered),
    ] {
        let what = format!("raymond {kind} n={n} requests={requests} {network}");
        let r = run::<Raymond>(&check_cfg(kind, n, network, &[("requests", requests)]));
        assert_all_hold(&r, &what);
        for name in [EXACTLY_ONE_TOKEN, MUTEX, HOLDER_TREE, SERVED] {
            assert_eq!(r.property(name).and_then(|p| p.holds), Some(true), "{what}: {name}");
        }
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
    }
}

#[test]
fn a_privilege_handler_that_dequeues_the_head_to_look_at_it_starves_a_process() {
    for (kind, network, steps) in [
        // Node 0 asks, enters, leaves (3 steps); node 2 asks (1), its REQUEST climbs to
        // node 1 and on to node 0 (2), the PRIVILEGE comes down to node 1 (1), which
        // takes node 2 off its queue to look at it and keeps the privilege (the 8th step
        // is node 1's own request, served at once: all inputs are spent, node 2 waits).
        (TopologyKind::Line, NetworkKind::Unordered, 8),
        (TopologyKind::Line, NetworkKind::Fifo, 8),
        // The tree of 3 is a star: the PRIVILEGE is relayed only on its way back to the
        // centre, after a leaf's CS, with the other leaf's request in the centre's queue.
        (TopologyKind::Tree, NetworkKind::Unordered, 10),
    ] {
        let c = check_cfg(kind.clone(), 3, network, &[("requests", "1"), ("fixed", "false")]);
        let what = format!("raymond fixed=false {kind} n=3 {network}");
        let len = caught_shortest::<Raymond>(&c, SERVED, &what);
        assert_eq!(len, steps, "{what}");
        let r = run::<Raymond>(&c);
        let cx = r.counterexample.clone().expect("a counterexample");
        assert_eq!(cx.detail, "node 2 asked 1 time(s) but was served 0 time(s)", "{what}");
        assert!(cx.steps.last().is_some_and(|s| s.in_flight.is_empty()), "{what}: it ends at rest");
        // Safety still holds in the broken variant: one token, one node inside, a tree.
        for name in [EXACTLY_ONE_TOKEN, MUTEX, HOLDER_TREE] {
            assert_ne!(r.property(name).and_then(|p| p.holds), Some(false), "{what}: {name}");
        }
        println!("{what}: caught in {len} steps: {}", cx.detail);
    }
    // The fixed handler, same instance: fine.
    let fixed = run::<Raymond>(&check_cfg(TopologyKind::Line, 3, NetworkKind::Unordered, &[("requests", "1")]));
    assert_all_hold(&fixed, "raymond fixed=true line n=3");
}

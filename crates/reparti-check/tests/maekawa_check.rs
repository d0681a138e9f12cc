//! Maekawa (`maekawa`) in the model checker: with INQUIRE, RELINQUISH and FAILED (the
//! default form), mutual exclusion, one holder per lock and every request served hold,
//! liveness included (no deadlock, every run ends served), over the whole reachable
//! space of small instances, unordered channels and FIFO; the state counts are printed.
//! The basic form (locks only, no INQUIRE) is caught deadlocking, with the shortest
//! counterexample replayed in the simulator: liveness fails, safety holds.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::mutex::maekawa::{Maekawa, CS_WITH_ALL_LOCKS, ONE_HOLDER_PER_LOCK};
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

const SERVED: &str = "every request was served";
const MUTEX: &str = "mutual exclusion: at most one node in the critical section";

fn check_cfg(n: usize, ids: IdAssignment, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, ids, network), params)
}

#[test]
fn the_paper_form_is_safe_and_live_on_small_instances() {
    for (n, requests, ids, network) in [
        (1, "3", IdAssignment::Desc, NetworkKind::Unordered),
        (2, "1", IdAssignment::Desc, NetworkKind::Unordered),
        (2, "2", IdAssignment::Desc, NetworkKind::Unordered),
        (3, "1", IdAssignment::Desc, NetworkKind::Unordered),
        (3, "1", IdAssignment::Asc, NetworkKind::Unordered),
        (3, "1", IdAssignment::Desc, NetworkKind::Fifo),
    ] {
        let what = format!("maekawa n={n} requests={requests} ids {ids} {network}");
        let r = run::<Maekawa>(&check_cfg(n, ids, network, &[("requests", requests)]));
        assert_all_hold(&r, &what);
        for name in [MUTEX, ONE_HOLDER_PER_LOCK, CS_WITH_ALL_LOCKS, SERVED] {
            assert_eq!(r.property(name).and_then(|p| p.holds), Some(true), "{what}: {name}");
        }
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
    }
}

#[test]
fn the_basic_form_deadlocks_in_seven_steps() {
    for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
        let c = check_cfg(3, IdAssignment::Desc, network, &[("requests", "1"), ("form", "basic")]);
        let what = format!("maekawa form=basic n=3 {network}");
        let len = caught_shortest::<Maekawa>(&c, SERVED, &what);
        // Quorums {0,1,2}, {0,1}, {0,2}. Nodes 0 and 1 ask (each takes its own lock at
        // once) and their REQUESTs cross: each arbiter queues the other (4 steps). Node
        // 2 asks (its own lock), its REQUEST and node 0's are queued where they arrive
        // (3): every lock is lent, nobody holds a whole quorum, nothing is in flight.
        assert_eq!(len, 7, "{what}");
        let r = run::<Maekawa>(&c);
        let cx = r.counterexample.clone().expect("a counterexample");
        assert!(cx.detail.contains("asked 1 time(s) but was served 0 time(s)"), "{what}: {}", cx.detail);
        assert!(cx.steps.last().is_some_and(|s| s.in_flight.is_empty()), "{what}: it ends at rest");
        for name in [MUTEX, ONE_HOLDER_PER_LOCK, CS_WITH_ALL_LOCKS] {
            assert_ne!(r.property(name).and_then(|p| p.holds), Some(false), "{what}: {name}");
        }
        println!("{what}: caught in {len} steps: {}", cx.detail);
    }
}

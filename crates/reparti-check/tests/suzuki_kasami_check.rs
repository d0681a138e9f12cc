//! Suzuki–Kasami (`suzuki-kasami`) in the model checker: exactly one token, mutual
//! exclusion and every request served, liveness included, over the whole reachable
//! space of small instances, FIFO or not; and the classic broken release (`fixed=false`:
//! it forgets `LN[i] = RN[i]`) caught starving a process, with the shortest
//! counterexample replayed in the simulator.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::mutex::suzuki_kasami::{SuzukiKasami, EXACTLY_ONE_TOKEN};
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

const SERVED: &str = "every request was served";
const MUTEX: &str = "mutual exclusion: at most one node in the critical section";

fn check_cfg(n: usize, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, network), params)
}

#[test]
fn every_property_holds_on_small_instances_liveness_included() {
    for (n, requests, network) in [
        (2, "1", NetworkKind::Unordered),
        (2, "3", NetworkKind::Unordered),
        (3, "1", NetworkKind::Unordered),
        (3, "1", NetworkKind::Fifo),
        (3, "2", NetworkKind::Unordered),
    ] {
        let what = format!("suzuki-kasami n={n} requests={requests} {network}");
        let r = run::<SuzukiKasami>(&check_cfg(n, network, &[("requests", requests)]));
        assert_all_hold(&r, &what);
        for name in [EXACTLY_ONE_TOKEN, MUTEX, SERVED] {
            assert_eq!(r.property(name).and_then(|p| p.holds), Some(true), "{what}: {name}");
        }
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
    }
}

#[test]
fn a_release_that_forgets_ln_starves_a_process() {
    for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
        let c = check_cfg(3, network, &[("requests", "1"), ("fixed", "false")]);
        let what = format!("suzuki-kasami fixed=false n=3 {network}");
        let len = caught_shortest::<SuzukiKasami>(&c, SERVED, &what);
        // Node 1 asks and gets the token (3 steps), its REQUEST reaches node 2 (1), it
        // leaves with LN[1] still 0 (1). Node 0 asks and gets the token back (3), its
        // REQUEST reaches node 2 (1), it leaves: LN says node 1 still waits, so the token
        // goes to node 1 (1). Node 2 asks, both REQUESTs arrive while the token travels
        // (3), and the token lands at node 1, which never asked and keeps it idle (1).
        assert_eq!(len, 14, "{what}");
        let r = run::<SuzukiKasami>(&c);
        let cx = r.counterexample.clone().expect("a counterexample");
        assert_eq!(cx.detail, "node 2 asked 1 time(s) but was served 0 time(s)", "{what}");
        assert!(cx.steps.last().is_some_and(|s| s.in_flight.is_empty()), "{what}: it ends at rest");
        // Safety still holds in the broken variant: the token is one, so is the CS.
        for name in [EXACTLY_ONE_TOKEN, MUTEX] {
            assert_ne!(r.property(name).and_then(|p| p.holds), Some(false), "{what}: {name}");
        }
        println!("{what}: caught in {len} steps: {}", cx.detail);
    }
    // The fixed release, same instance: fine.
    let fixed = run::<SuzukiKasami>(&check_cfg(3, NetworkKind::Unordered, &[("requests", "1"), ("fixed", "true")]));
    assert_all_hold(&fixed, "suzuki-kasami fixed=true n=3");
}

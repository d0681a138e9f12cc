//! The token ring's mutual exclusion (`token-ring-mutex`) in the model checker: exactly
//! one token, mutual exclusion, no waiting node left with an idle token, and every
//! request served, over the whole reachable space of rings of 3 and 4, FIFO or not.
//!
//! Liveness is where the ring differs from the rest of the chapter: its token never
//! pauses while it waits for the next request. With requests spread in time the checker
//! may withhold a request input while the idle token laps the ring; the environment is
//! assumed fair (an input that stays applicable is applied eventually), so such a lap is
//! not held against the algorithm, and every verdict holds, "every run terminates"
//! included. With every request made at the start (`at_start`), the space is a single
//! path. Open-ended (`requests = 0`) the space is one cycle that no input can end, and
//! both liveness verdicts fail: that cycle is reported. The slip that passes the token on entering is caught breaking
//! mutual exclusion, with the shortest counterexample replayed in the simulator.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::mutex::token_ring_mutex::{TokenRingMutex, EXACTLY_ONE_TOKEN, NEVER_IDLE};
use reparti_check::{CheckConfig, CheckReport, NetworkKind};
use reparti_core::IdAssignment;

const SERVED: &str = "every request was served";
const MUTEX: &str = "mutual exclusion: at most one node in the critical section";
const EVENTUALLY: &str = "eventually a correct end (AG EF done)";
const TERMINATES: &str = "every run terminates (no cycle avoids done)";

fn check_cfg(n: usize, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, network), params)
}

fn verdict(r: &CheckReport, name: &str) -> Option<bool> {
    r.property(name).and_then(|p| p.holds)
}

#[test]
fn every_property_holds_when_every_request_is_made_at_the_start() {
    for (n, requests) in [(3, "1"), (3, "3"), (4, "1"), (4, "2")] {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            let what = format!("token-ring-mutex n={n} requests={requests} at_start {network}");
            let r = run::<TokenRingMutex>(&check_cfg(n, network, &[("requests", requests), ("at_start", "true")]));
            assert_all_hold(&r, &what);
            // One token and nothing else in flight: the run is a single path, one state
            // per step (n·requests hops and as many stays, then the rest).
            let steps = 2 * n as u64 * requests.parse::<u64>().unwrap_or(0);
            assert_eq!(r.unique_states, steps + 1, "{what}");
            println!("{what}: {} unique states, every property and liveness held", r.unique_states);
        }
    }
}

#[test]
fn with_requests_spread_in_time_every_fair_run_ends() {
    for (n, requests, network) in [
        (3, "1", NetworkKind::Unordered),
        (3, "2", NetworkKind::Unordered),
        (3, "2", NetworkKind::Fifo),
        (4, "1", NetworkKind::Unordered),
        (4, "2", NetworkKind::Unordered),
    ] {
        let what = format!("token-ring-mutex n={n} requests={requests} {network}");
        let r = run::<TokenRingMutex>(&check_cfg(n, network, &[("requests", requests)]));
        assert!(r.complete, "{what}: the whole space is explored");
        for name in [EXACTLY_ONE_TOKEN, MUTEX, NEVER_IDLE, SERVED, EVENTUALLY, TERMINATES] {
            assert_eq!(verdict(&r, name), Some(true), "{what}: {name}");
        }
        assert!(r.counterexample.is_none(), "{what}");
        println!("{what}: {} unique states; every property and both liveness verdicts held", r.unique_states);
    }
}

#[test]
fn open_ended_the_token_laps_for_ever_and_no_run_ends() {
    let what = "token-ring-mutex n=3 requests=0";
    let r = run::<TokenRingMutex>(&check_cfg(3, NetworkKind::Unordered, &[("requests", "0")]));
    for name in [EXACTLY_ONE_TOKEN, MUTEX, NEVER_IDLE] {
        assert_eq!(verdict(&r, name), Some(true), "{what}: {name}");
    }
    assert_eq!(verdict(&r, EVENTUALLY), Some(false), "{what}: there is no final state");
    // No input is pending on this cycle, so fairness to the environment does not excuse it.
    assert_eq!(verdict(&r, TERMINATES), Some(false), "{what}: the lap for ever is a cycle");
    // No requests: the token in flight to each of the 3 nodes, nothing else.
    assert_eq!(r.unique_states, 3, "{what}");
    println!("{what}: {} unique states, one cycle", r.unique_states);
}

#[test]
fn passing_the_token_on_entering_breaks_mutual_exclusion() {
    for (n, network) in [(3, NetworkKind::Unordered), (3, NetworkKind::Fifo), (4, NetworkKind::Unordered)] {
        let c = check_cfg(n, network, &[("requests", "1"), ("fixed", "false")]);
        let what = format!("token-ring-mutex fixed=false n={n} {network}");
        let len = caught_shortest::<TokenRingMutex>(&c, MUTEX, &what);
        // Node 1 asks, the token arrives and node 1 enters, handing it on to node 2;
        // node 2 asks, the token arrives, node 2 enters beside node 1.
        assert_eq!(len, 4, "{what}");
        let r = run::<TokenRingMutex>(&c);
        assert_ne!(verdict(&r, EXACTLY_ONE_TOKEN), Some(false), "{what}: the token is still one");
        println!("{what}: caught in {len} steps");
    }
}

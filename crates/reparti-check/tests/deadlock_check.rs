//! Chandy–Misra–Haas over the wait-for application (and the application alone) in the
//! model checker: every interleaving of small instances — a cycle, a cycle with a tail,
//! an acyclic graph, staggered requests where the graph changes under the probes — with
//! every property holding, liveness included, and the state counts printed; the
//! detector without its edge check caught declaring a phantom deadlock on a run that
//! drains, and the probe that overtakes its edge's REQUEST on channels that reorder
//! caught missing a real deadlock, each with a shortest counterexample replayed in the
//! simulator.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::observation::deadlock::chandy_misra_haas::{LIVENESS, SAFETY};
use reparti_algos::observation::deadlock::{ChandyMisraHaas, WaitFor};
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

fn check_cfg(n: usize, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, network), params)
}

#[test]
fn every_property_holds_in_every_interleaving_with_the_state_counts() {
    let staggered = [("wfg", "0>1,1>2,2>0"), ("requests", "staggered")];
    for (n, params, states) in [
        (3, vec![("wfg", "0>1,1>2,2>0")], 337),
        (4, vec![("wfg", "0>1,1>2,2>0,3>1")], 2950),
        (3, vec![("wfg", "0>1,1>2,0>2")], 434),
        (2, vec![("wfg", "0>1,1>0")], 36),
        (3, [&staggered[..], &[("probe_initiators", "0")]].concat(), 275),
        (3, staggered.to_vec(), 3378),
    ] {
        let what = format!("wait-for+chandy-misra-haas n={n} {params:?}");
        let r = run::<ChandyMisraHaas>(&check_cfg(n, NetworkKind::Fifo, &params));
        assert_all_hold(&r, &what);
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
        assert_eq!(r.unique_states, states, "{what}");
    }
}

#[test]
fn the_application_alone_deadlocks_or_drains_in_every_interleaving() {
    for (wfg, at_start, staggered) in [("0>1,1>2,2>0", 8, 94), ("0>1,1>2,0>2", 21, 46)] {
        for (requests, states) in [("at-start", at_start), ("staggered", staggered)] {
            let what = format!("wait-for n=3 wfg={wfg} requests={requests}");
            let r = run::<WaitFor>(&check_cfg(3, NetworkKind::Fifo, &[("wfg", wfg), ("requests", requests)]));
            assert_all_hold(&r, &what);
            assert_eq!(r.unique_states, states, "{what}");
            println!("{what}: {states} unique states");
        }
    }
}

/// Node 2 grants 1, then asks 0; node 0's probe, passed on by 1, reaches 2 over the
/// edge 1→2 that is gone, and 2 passes it back to 0, still waiting for 1.
#[test]
fn without_the_edge_check_a_phantom_deadlock_is_declared_and_replayed() {
    let params = [
        ("wfg", "0>1,1>2,2>0"),
        ("requests", "staggered"),
        ("probe_initiators", "0"),
        ("probe_fault", "no-edge-check"),
    ];
    let c = check_cfg(3, NetworkKind::Fifo, &params);
    let len = caught_shortest::<ChandyMisraHaas>(&c, SAFETY, "no-edge-check");
    // Three asks, 0's timer, three REQUESTs delivered (2 grants 1's at once, not yet
    // blocked) and the probe's three hops: ten events.
    assert_eq!(len, 10);
    println!("no-edge-check: a phantom deadlock declared in {len} steps");
    // The same instance with the check: safe in every interleaving.
    let fixed = check_cfg(3, NetworkKind::Fifo, &params[..3]);
    assert_all_hold(&run::<ChandyMisraHaas>(&fixed), "with the edge check");
}

/// On channels that reorder, 0's probe overtakes 0's REQUEST to 1: 1 holds no request
/// of 0, discards the probe, and the deadlock is never declared.
#[test]
fn on_channels_that_reorder_a_real_deadlock_goes_undetected() {
    let c =
        check_cfg(2, NetworkKind::Unordered, &[("wfg", "0>1,1>0"), ("probe_initiators", "0"), ("probe_after", "0")]);
    let len = caught_shortest::<ChandyMisraHaas>(&c, LIVENESS, "unordered");
    // 0's timer and its probe, delivered before 0's REQUEST; then both REQUESTs:
    // quiescent, deadlocked, undeclared.
    assert_eq!(len, 4);
    println!("unordered channels: a real deadlock undetected after {len} steps");
}

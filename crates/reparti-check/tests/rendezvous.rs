//! Both rendezvous algorithms in the model checker: on small random guard workloads
//! (drawn from the seed, deadlock-free in CSP's own semantics), every interleaving keeps
//! the overlap, the pairing and the values, and ends with every select completed — no
//! deadlock, liveness included — on FIFO and unordered channels. The naive symmetric
//! variant (`priority=false`: both sides propose, each defers the other) is caught
//! deadlocking, and the asymmetric one that acknowledges an RDV on arrival
//! (`early_ack=true`) is caught ending a send before its receive began, each with the
//! shortest counterexample, which the simulator replays.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::communication::rendezvous::guards::{ALL_COMPLETED, OVERLAP};
use reparti_algos::communication::rendezvous::Rendezvous;
use reparti_algos::communication::rendezvous_symmetric::RendezvousSymmetric;
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::{Algorithm, IdAssignment};

fn check_cfg(n: usize, seed: u64, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    CheckConfig { seed, ..with_params(cfg(n, IdAssignment::Asc, network), params) }
}

/// Small instances (processes, rendezvous per process, choice): 2 to 5 processes, 2 to
/// 6 rendezvous in all, with and without choice.
const INSTANCES: &[(usize, &str, &str)] =
    &[(2, "2", "1"), (2, "3", "2"), (3, "2", "2"), (3, "3", "3"), (4, "2", "2"), (4, "3", "3"), (5, "2", "2")];

fn all_hold<A: Algorithm>() -> u64 {
    let mut states = 0;
    for &(n, rendezvous, choice) in INSTANCES {
        for network in [NetworkKind::Fifo, NetworkKind::Unordered] {
            for seed in 1..=3u64 {
                let c = check_cfg(n, seed, network, &[("rendezvous", rendezvous), ("choice", choice)]);
                let what =
                    format!("{} n={n} rendezvous={rendezvous} choice={choice} seed={seed} {network:?}", A::spec().name);
                let r = run::<A>(&c);
                assert_all_hold(&r, &what);
                let deadlock = r.property("no deadlock").unwrap_or_else(|| panic!("{what}: no deadlock verdict"));
                assert_eq!(deadlock.holds, Some(true), "{what}");
                println!("{what}: {} unique states, every property, no deadlock, liveness held", r.unique_states);
                states += r.unique_states;
            }
        }
    }
    states
}

#[test]
fn asymmetric_every_interleaving_of_small_workloads_keeps_every_property() {
    let states = all_hold::<Rendezvous>();
    println!("rendezvous: {states} states in all");
}

#[test]
fn symmetric_every_interleaving_of_small_workloads_keeps_every_property() {
    let states = all_hold::<RendezvousSymmetric>();
    println!("rendezvous-symmetric: {states} states in all");
}

/// Two processes, one rendezvous: both propose at once, each PROPOSE is deferred by a
/// process waiting for its own answer, and nothing is left to happen — two deliveries.
#[test]
fn the_naive_symmetric_variant_is_caught_deadlocking() {
    for network in [NetworkKind::Fifo, NetworkKind::Unordered] {
        let c = check_cfg(2, 1, network, &[("rendezvous", "1"), ("choice", "1"), ("priority", "false")]);
        let what = format!("rendezvous-symmetric priority=false {network:?}");
        let len = caught_shortest::<RendezvousSymmetric>(&c, ALL_COMPLETED, &what);
        assert_eq!(len, 2, "{what}");
        let r = run::<RendezvousSymmetric>(&c);
        let deadlock = r.property("no deadlock").unwrap_or_else(|| panic!("{what}: no deadlock verdict"));
        assert_eq!(deadlock.holds, Some(false), "{what}: the checker calls it a deadlock");
        let detail = r.counterexample.map(|x| x.detail).unwrap_or_default();
        assert!(detail.contains("node 0 is blocked in select #0") && detail.contains("node 1 is blocked"), "{detail}");
        println!("{what}: deadlock in {len} steps: {detail}");
    }
    // A bigger instance: still caught, and the same instance with priority holds.
    let c = check_cfg(3, 2, NetworkKind::Unordered, &[("rendezvous", "2"), ("choice", "2"), ("priority", "false")]);
    let len = caught_shortest::<RendezvousSymmetric>(&c, ALL_COMPLETED, "naive, 3 processes");
    let fixed =
        run::<RendezvousSymmetric>(&check_cfg(3, 2, NetworkKind::Unordered, &[("rendezvous", "2"), ("choice", "2")]));
    assert_all_hold(&fixed, "priority, 3 processes");
    println!("naive, 3 processes: deadlock in {len} steps; with priority {} states, all held", fixed.unique_states);
}

/// RDV_ACK on arrival: the sender's statement ends while the receiver is blocked in a
/// select that does not name it — asynchronous send with a buffer, not a rendezvous.
#[test]
fn an_ack_on_arrival_is_caught_ending_a_send_before_its_receive() {
    let c = check_cfg(3, 1, NetworkKind::Unordered, &[("rendezvous", "2"), ("choice", "1"), ("early_ack", "true")]);
    let len = caught_shortest::<Rendezvous>(&c, OVERLAP, "rendezvous early_ack=true");
    // The RDV delivered (and acknowledged at once), the RDV_ACK delivered.
    assert_eq!(len, 2);
    let r = run::<Rendezvous>(&c);
    let detail = r.counterexample.map(|x| x.detail).unwrap_or_default();
    assert!(detail.contains("which is not offering ?0: it is blocked in select #0 (?1)"), "{detail}");
    let fixed = run::<Rendezvous>(&check_cfg(3, 1, NetworkKind::Unordered, &[("rendezvous", "2"), ("choice", "1")]));
    assert_all_hold(&fixed, "rendezvous, the same workload, ack on receive");
    println!("early ack caught in {len} steps: {detail}");
}

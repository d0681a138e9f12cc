//! Carvalho–Roucairol in the model checker: for n = 3 (and n = 2), one and two requests
//! per node, unordered and FIFO channels, every property holds, liveness included (no
//! deadlock, every run reaches a state where every request was served); the state counts
//! are printed. The variant that gives a permission away without asking it back
//! (`fixed=false`) is caught with its shortest counterexample, replayed in the simulator:
//! it is liveness that fails — its safety invariants hold in every reachable state.

mod common;
use common::narrowed::{Keep, Narrowed};

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::mutex::carvalho_roucairol::CarvalhoRoucairol;
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

const SERVED: &str = "every request was served";

fn check_cfg(n: usize, ids: IdAssignment, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, ids, network), params)
}

#[test]
fn every_property_holds_for_three_nodes_liveness_included() {
    for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
        for ids in [IdAssignment::Asc, IdAssignment::Desc] {
            for (n, requests) in [(2, "1"), (2, "3"), (3, "1"), (3, "2")] {
                let what = format!("carvalho-roucairol n={n} requests={requests} ids {ids} {network}");
                let r = run::<CarvalhoRoucairol>(&check_cfg(n, ids.clone(), network, &[("requests", requests)]));
                assert_all_hold(&r, &what);
                println!("{what}: {} unique states, every property and liveness held", r.unique_states);
            }
        }
    }
}

#[test]
fn giving_a_permission_away_without_asking_it_back_starves_the_giver() {
    for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
        let c = check_cfg(3, IdAssignment::Asc, network, &[("requests", "1"), ("fixed", "false")]);
        let what = format!("carvalho-roucairol fixed=false n=3 {network}");
        let len = caught_shortest::<CarvalhoRoucairol>(&c, SERVED, &what);
        let r = run::<CarvalhoRoucairol>(&c);
        let cx = r.counterexample.expect("a counterexample");
        // The starved node is still requesting, lacking a permission nobody will send.
        assert!(cx.detail.contains("asked 1 time(s) but was served 0 time(s)"), "{what}: {}", cx.detail);
        assert!(cx.steps.last().is_some_and(|s| s.in_flight.is_empty()), "{what}: the final state is quiescent");
        // Node 1 enters with node 0's permission; node 0 asks it back; node 2's older
        // request then takes node 0's other permission, which node 0 never asks back.
        assert_eq!(len, 13, "{what}");
        println!("{what}: caught in {len} steps: {}", cx.detail);
        // The same instance with the re-request: every property, liveness included.
        let fixed = run::<CarvalhoRoucairol>(&with_params(c.clone(), &[("requests", "1"), ("fixed", "true")]));
        assert_all_hold(&fixed, &format!("{what}, fixed=true"));
    }
}

/// The broken variant with its safety properties only: the checker then explores its
/// whole space, in which mutual exclusion and both pair invariants always hold.
struct Safety;

impl Keep for Safety {
    const NAME: Option<&'static str> = Some("carvalho-roucairol-broken-safety");
    const TERMINAL: bool = false;
    fn invariant(_: &str) -> bool {
        true
    }
}

type BrokenSafetyOnly = Narrowed<CarvalhoRoucairol, Safety>;

#[test]
fn the_broken_variant_stays_safe_it_is_liveness_that_fails() {
    let c = CheckConfig {
        liveness: false,
        ..check_cfg(3, IdAssignment::Asc, NetworkKind::Unordered, &[("requests", "2"), ("fixed", "false")])
    };
    let r = run::<BrokenSafetyOnly>(&c);
    assert!(r.complete && r.counterexample.is_none(), "{:?}", r.counterexample.map(|x| x.property));
    let invariants: Vec<_> = r.properties.iter().filter(|p| p.kind == "invariant").collect();
    assert_eq!(invariants.len(), 4);
    for p in invariants {
        assert_eq!(p.holds, Some(true), "{}: {}", p.name, p.note);
    }
    println!("fixed=false n=3 requests=2, safety only: {} unique states, every invariant held", r.unique_states);
}

//! The credit-carrying token ring (`credit-ring`) in the model checker: every property,
//! liveness included (every run ends with the token at rest and every item consumed),
//! on small instances; unordered channels caught consuming out of order; the token
//! without its cap (`fixed=false`) caught leaving the last producer without a slot,
//! with a shortest counterexample that replays; and the reference's `cap = ⌈N/m⌉`
//! shown to do the same, which is why the default is ⌊N/m⌋.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::communication::CreditRing;
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

const FAIR_LAP: &str = "a lap that starts with all N slots free serves every producer with items";

fn check_cfg(n: usize, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, NetworkKind::Fifo), params)
}

#[test]
fn every_property_holds_on_small_instances_liveness_included() {
    for (n, params) in [
        (2, vec![("buffer", "1"), ("items", "3")]),
        (2, vec![("buffer", "2"), ("items", "3")]),
        (3, vec![("buffer", "2"), ("items", "2")]),
        (3, vec![("buffer", "3"), ("items", "2")]),
        (3, vec![("buffer", "4"), ("items", "3")]),
        (4, vec![("buffer", "3"), ("items", "1")]),
    ] {
        let what = format!("credit-ring n={n} {params:?}");
        let r = run::<CreditRing>(&check_cfg(n, &params));
        assert_all_hold(&r, &what);
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
    }
}

#[test]
fn a_token_without_its_cap_passes_the_last_producer_over() {
    for n in [3usize, 4] {
        let c = check_cfg(n, &[("buffer", "3"), ("items", "3"), ("fixed", "false")]);
        let what = format!("credit-ring fixed=false n={n}");
        let len = caught_shortest::<CreditRing>(&c, FAIR_LAP, &what);
        // The token's first two hops: P_1 takes all 3 slots, P_2 finds none.
        assert_eq!(len, 2, "{what}");
        let r = run::<CreditRing>(&c);
        let detail = r.counterexample.map(|x| x.detail).unwrap_or_default();
        assert!(detail.contains("producer 2 had items but got no slot"), "{what}: {detail}");
        println!("{what}: caught in {len} steps: {detail}");
    }
}

#[test]
fn the_references_ceiling_cap_can_leave_the_last_producer_out() {
    // N = 4, m = 3: ⌈4/3⌉ = 2, so P_1 and P_2 take two each and P_3 none.
    let c = check_cfg(4, &[("buffer", "4"), ("items", "2"), ("cap", "2")]);
    let len = caught_shortest::<CreditRing>(&c, FAIR_LAP, "credit-ring cap=⌈N/m⌉");
    assert_eq!(len, 3);
    // The default, ⌊4/3⌋ = 1: every property, liveness included.
    let r = run::<CreditRing>(&check_cfg(4, &[("buffer", "4"), ("items", "2")]));
    assert_all_hold(&r, "credit-ring N=4 m=3 default cap");
    println!("cap=⌈N/m⌉ caught in {len} steps; default cap: {} unique states, all held", r.unique_states);
}

/// Order is what FIFO buys: a producer's burst of DATA may arrive reordered otherwise.
#[test]
fn unordered_channels_consume_out_of_order() {
    let c = with_params(cfg(2, IdAssignment::Asc, NetworkKind::Unordered), &[("buffer", "2"), ("items", "2")]);
    let property = "the token rests; every item consumed exactly once, in its producer's order";
    let len = caught_shortest::<CreditRing>(&c, property, "credit-ring on unordered channels");
    // The token to P_1 (which sends both items), DATA#1 then DATA#0, two ticks, and the
    // token home, where it rests: the order is judged at the end.
    assert_eq!(len, 6);
    println!("credit-ring, unordered: out of order in {len} steps");
}

//! The consumer as allocator (`credit-allocator`) in the model checker: every property,
//! liveness included (every run ends with nothing reserved and every item consumed),
//! on small instances, so that overflow is proven impossible there, whatever the order
//! of grants, items, releases and consumption; the allocator that forgets its
//! reservations (`fixed=false`) caught promising the same slot twice, with a shortest
//! counterexample that replays; and unordered channels caught consuming out of order.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::communication::credit_allocator::CreditAllocator;
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

const ALLOCATION: &str = "allocation: |buf| + reserved <= N";

fn check_cfg(n: usize, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, NetworkKind::Fifo), params)
}

#[test]
fn every_property_holds_on_small_instances_liveness_included() {
    for (n, params) in [
        (2, vec![("buffer", "1"), ("ask", "1"), ("items", "3")]),
        (2, vec![("buffer", "2"), ("ask", "3"), ("items", "3")]),
        (3, vec![("buffer", "1"), ("ask", "1"), ("items", "2")]),
        (3, vec![("buffer", "2"), ("ask", "2"), ("items", "2")]),
        (3, vec![("buffer", "3"), ("ask", "2"), ("items", "3")]),
        (4, vec![("buffer", "2"), ("ask", "2"), ("items", "1")]),
        (4, vec![("buffer", "3"), ("ask", "2"), ("items", "2")]),
    ] {
        let what = format!("credit-allocator n={n} {params:?}");
        let r = run::<CreditAllocator>(&check_cfg(n, &params));
        assert_all_hold(&r, &what);
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
    }
}

#[test]
fn grants_that_forget_the_reservations_promise_a_slot_twice() {
    for n in [3usize, 4] {
        let c = check_cfg(n, &[("buffer", "1"), ("ask", "1"), ("items", "1"), ("fixed", "false")]);
        let what = format!("credit-allocator fixed=false n={n}");
        let len = caught_shortest::<CreditAllocator>(&c, ALLOCATION, &what);
        // Both producers asked on their time-0 item: C grants the one slot to the first
        // ASK, then again to the second. Two steps, and nothing has overflowed yet.
        assert_eq!(len, 2, "{what}");
        let r = run::<CreditAllocator>(&c);
        let detail = r.counterexample.map(|x| x.detail).unwrap_or_default();
        assert!(detail.contains("|buf| + reserved = 0 + 2 = 2 > N = 1"), "{what}: {detail}");
        println!("{what}: caught in {len} steps: {detail}");
    }
    // With one producer, one ASK out at a time and FIFO channels, the bug is harmless:
    // its DATA reaches C before its next ASK. The checker proves it.
    let one = check_cfg(2, &[("buffer", "1"), ("ask", "1"), ("items", "3"), ("fixed", "false")]);
    let r = run::<CreditAllocator>(&one);
    assert_all_hold(&r, "fixed=false with one producer");
    println!("fixed=false, one producer: {} unique states, all held", r.unique_states);
}

/// Order is what FIFO buys: a grant of two slots sends two DATA that may swap.
#[test]
fn unordered_channels_consume_out_of_order() {
    let c = with_params(
        cfg(2, IdAssignment::Asc, NetworkKind::Unordered),
        &[("buffer", "2"), ("ask", "2"), ("items", "2")],
    );
    let property = "nothing reserved; every item consumed exactly once, in its producer's order";
    let len = caught_shortest::<CreditAllocator>(&c, property, "credit-allocator on unordered channels");
    println!("credit-allocator, unordered: out of order in {len} steps");
    assert!(len >= 6, "ASK, GRANT, DATA#1, DATA#0, two ticks at least: {len}");
}

//! Credit-based flow control (`credit-flow`) in the model checker: every property,
//! liveness included, on small instances; and the classic bug — credit returned on
//! receipt (`fixed=false`) — caught twice: by the conservation invariant at the first
//! receipt, and, with that invariant set aside, as the buffer's overflow itself, each
//! with a shortest counterexample that replays in the simulator.

mod common;
use common::narrowed::{Keep, Narrowed};

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::communication::CreditFlow;
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

const CONSERVATION: &str = "credit conservation: credit + DATA + |buf| + freed + CREDIT = N";
const NO_OVERFLOW: &str = "no overflow: |buf| <= N";

fn check_cfg(n: usize, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, NetworkKind::Fifo), params)
}

#[test]
fn every_property_holds_on_small_instances_liveness_included() {
    for (n, params) in [
        (2, vec![("buffer", "1"), ("items", "3")]),
        (2, vec![("buffer", "2"), ("items", "4")]),
        (2, vec![("buffer", "3"), ("batch", "2"), ("items", "5")]),
        (2, vec![("buffer", "2"), ("batch", "5"), ("items", "3")]),
        (3, vec![("buffer", "2"), ("items", "2")]),
        (3, vec![("buffer", "3"), ("batch", "2"), ("items", "2")]),
    ] {
        let what = format!("credit-flow n={n} {params:?}");
        let r = run::<CreditFlow>(&check_cfg(n, &params));
        assert_all_hold(&r, &what);
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
    }
}

#[test]
fn credit_on_receipt_breaks_conservation_at_the_first_receipt() {
    let c = check_cfg(2, &[("buffer", "1"), ("items", "2"), ("fixed", "false")]);
    let len = caught_shortest::<CreditFlow>(&c, CONSERVATION, "credit-flow fixed=false");
    // The item is in flight from the start (the workload is applied at time 0): its
    // delivery both fills the slot and credits it back.
    assert_eq!(len, 1);
    println!("credit-flow fixed=false: conservation broken in {len} step");
}

/// `credit-flow` with only the overflow invariant, to show the harm the bug does, not
/// just the broken bookkeeping.
struct Overflow;

impl Keep for Overflow {
    fn invariant(name: &str) -> bool {
        name == NO_OVERFLOW
    }
}

type OverflowOnly = Narrowed<CreditFlow, Overflow>;

#[test]
fn credit_on_receipt_overflows_the_buffer() {
    let c = check_cfg(2, &[("buffer", "1"), ("items", "2"), ("fixed", "false")]);
    let len = caught_shortest::<OverflowOnly>(&c, NO_OVERFLOW, "credit-flow fixed=false, overflow");
    // DATA#0 delivered (and credited at once), CREDIT delivered (DATA#1 sent), DATA#1
    // delivered before the consumer's tick: two items in one slot.
    assert_eq!(len, 3);
    // The same instance, fixed: no overflow anywhere.
    let fixed = run::<OverflowOnly>(&with_params(c.clone(), &[("buffer", "1"), ("items", "2"), ("fixed", "true")]));
    assert_all_hold(&fixed, "credit-flow fixed=true, overflow only");
    println!("credit-flow fixed=false: overflow in {len} steps (fixed: {} states, none)", fixed.unique_states);
}

/// Order is what FIFO buys: on unordered channels the second item overtakes the first.
#[test]
fn unordered_channels_consume_out_of_order() {
    let c = with_params(cfg(2, IdAssignment::Asc, NetworkKind::Unordered), &[("buffer", "2"), ("items", "2")]);
    let property = "every item consumed exactly once, in its producer's order";
    let len = caught_shortest::<CreditFlow>(&c, property, "credit-flow on unordered channels");
    // DATA#1 delivered first, then DATA#0, two ticks, and the two CREDITs delivered:
    // the order is judged at the end of the run, when nothing is left in flight.
    assert_eq!(len, 6);
    println!("credit-flow, unordered: out of order in {len} steps");
}

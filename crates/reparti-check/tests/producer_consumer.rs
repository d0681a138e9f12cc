//! The checker on `producer-consumer` (TP5): on small instances every property holds,
//! liveness included, on FIFO and unordered channels; the classic mistake (C does not
//! suspend the holder while it empties a full memory) is caught with a shortest
//! counterexample that the simulator replays to the same violation.

mod common;

use common::{assert_all_hold, assert_replays, assert_violates, cfg, run, run_traced, with_params};
use reparti_algos::communication::ProducerConsumer;
use reparti_check::{CheckConfig, NetworkKind, StopReason};
use reparti_core::IdAssignment;

const NO_DATA_WHILE_DRAINING: &str = "no DATA arrives while the consumer empties its memory";

fn small(n: usize, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, network), params)
}

#[test]
fn every_property_holds_on_small_instances_liveness_included() {
    let cases: &[(usize, &[(&str, &str)])] = &[
        // 1 consumer + 2 producers, memory 2, 2 items each: FULL answers every revolution.
        (3, &[("buffer", "2"), ("quota", "2"), ("items", "2")]),
        (3, &[("buffer", "1"), ("quota", "1"), ("items", "2")]),
        (3, &[("buffer", "3"), ("quota", "1"), ("items", "2")]),
        (2, &[("buffer", "1"), ("quota", "2"), ("items", "3")]),
        (4, &[("buffer", "2"), ("quota", "1"), ("items", "1")]),
        (4, &[("buffer", "2"), ("quota", "2"), ("items", "3")]),
        (5, &[("buffer", "3"), ("quota", "1"), ("items", "2"), ("drain_time", "0")]),
    ];
    for network in [NetworkKind::Fifo, NetworkKind::Unordered] {
        for (n, params) in cases {
            let r = run::<ProducerConsumer>(&small(*n, network, params));
            let what = format!("producer-consumer n={n} {params:?} {network}");
            assert_all_hold(&r, &what);
            println!("{what}: {} states, depth {}", r.unique_states, r.max_depth);
            assert!(r.unique_states > 10, "{what}: {} states", r.unique_states);
        }
    }
}

#[test]
fn the_resume_overtaking_its_full_is_reached_and_survived_on_unordered_channels() {
    // The same instance has more states without FIFO: the interleavings where RESUME
    // arrives before FULL exist, and every property still holds in them.
    let params = &[("buffer", "1"), ("quota", "2"), ("items", "2")];
    let fifo = run::<ProducerConsumer>(&small(2, NetworkKind::Fifo, params));
    let unordered = run::<ProducerConsumer>(&small(2, NetworkKind::Unordered, params));
    assert_all_hold(&fifo, "fifo");
    assert_all_hold(&unordered, "unordered");
    assert!(unordered.unique_states > fifo.unique_states, "{} vs {}", unordered.unique_states, fifo.unique_states);
}

#[test]
fn not_suspending_the_holder_during_a_drain_is_caught_shortest_and_replayed() {
    for network in [NetworkKind::Fifo, NetworkKind::Unordered] {
        let c = small(2, network, &[("buffer", "1"), ("quota", "2"), ("items", "2"), ("suspend", "false")]);
        let what = format!("suspend=false {network}");
        let (r, trace) = run_traced::<ProducerConsumer>(&c);
        let len = assert_violates(&r, NO_DATA_WHILE_DRAINING, &what);
        // TOKEN to P1 (P1 writes), DATA to C (the memory is full: ACK, drain), ACK to P1
        // (P1 writes its second item into the memory being emptied): 3 deliveries.
        assert_eq!(len, 3, "{what}");
        assert_replays::<ProducerConsumer>(&trace, NO_DATA_WHILE_DRAINING, &what);
        // Shortest: nothing fails within 2 steps.
        let shorter = run::<ProducerConsumer>(&CheckConfig { max_depth: Some(2), ..c.clone() });
        assert!(shorter.all_good() && shorter.counterexample.is_none(), "{what}: a shorter one exists");
        assert_eq!(shorter.stop, StopReason::Depth, "{what}");
        let cx = r.counterexample.expect("a counterexample");
        assert!(cx.detail.contains("node 1 wrote while the consumer was emptying"), "{}", cx.detail);
        // The same instance with the suspension: everything holds.
        let fixed = run::<ProducerConsumer>(&with_params(
            c.clone(),
            &[("buffer", "1"), ("quota", "2"), ("items", "2"), ("suspend", "true")],
        ));
        assert_all_hold(&fixed, &format!("suspend=true {network}"));
    }
}

//! Unit tests of [`super`]: handlers driven directly, whole runs on the test scheduler,
//! and exhaustive exploration of small rings.

use super::*;
use crate::election::testkit::{self, Order};
use reparti_core::{Effect, TopologyKind};

/// Runs one handler on `node` at position `me` of a ring of `n`, returning its effects.
fn step(node: &mut Node, me: u32, n: usize, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    crate::handler_harness::run(node, TopologyKind::Ring, NodeId(me), n, f)
}

use crate::handler_harness::sends;

#[test]
fn an_initiator_sends_its_own_identity_to_its_successor_once() {
    let mut node = Node::new(42, true);
    let e = step(&mut node, 4, 5, |s, c| s.on_start(c));
    assert_eq!(sends(&e), vec![(NodeId(0), Msg::Elect(42))]);
    assert!(node.participant());
    // The console's `elect` on a participant does nothing.
    let e = step(&mut node, 4, 5, |s, c| s.on_input(Input::Elect, c));
    assert!(sends(&e).is_empty());
}

#[test]
fn larger_identities_are_forwarded_smaller_ones_swallowed_or_replaced() {
    let mut sleeper = Node::new(10, false);
    assert!(sends(&step(&mut sleeper, 1, 3, |s, c| s.on_start(c))).is_empty());
    // A smaller identity wakes a sleeping node, which runs with its own.
    let e = step(&mut sleeper, 1, 3, |s, c| s.on_message(NodeId(0), Msg::Elect(3), c));
    assert_eq!(sends(&e), vec![(NodeId(2), Msg::Elect(10))]);
    // Once participating, a smaller identity is simply discarded.
    assert!(sends(&step(&mut sleeper, 1, 3, |s, c| s.on_message(NodeId(0), Msg::Elect(4), c))).is_empty());
    assert_eq!(sleeper.role(), Role::Candidate);
    // A larger one beats it and goes on.
    let e = step(&mut sleeper, 1, 3, |s, c| s.on_message(NodeId(0), Msg::Elect(99), c));
    assert_eq!(sends(&e), vec![(NodeId(2), Msg::Elect(99))]);
    assert_eq!(sleeper.role(), Role::Lost);
}

#[test]
fn own_identity_back_makes_a_leader_that_announces_and_stops_the_announcement() {
    let mut node = Node::new(7, true);
    step(&mut node, 2, 3, |s, c| s.on_start(c));
    let e = step(&mut node, 2, 3, |s, c| s.on_message(NodeId(1), Msg::Elect(7), c));
    assert_eq!(sends(&e), vec![(NodeId(0), Msg::Elected(7))]);
    assert!(e.contains(&Effect::Output { key: "leader", value: 7.into() }));
    assert_eq!((node.role(), node.leader()), (Role::Leader, Some(7)));
    // A duplicate of its own ELECT does not announce twice.
    assert!(sends(&step(&mut node, 2, 3, |s, c| s.on_message(NodeId(1), Msg::Elect(7), c))).is_empty());
    // The announcement coming home is not forwarded.
    assert!(sends(&step(&mut node, 2, 3, |s, c| s.on_message(NodeId(1), Msg::Elected(7), c))).is_empty());
}

#[test]
fn elected_is_recorded_output_and_forwarded() {
    let mut node = Node::new(3, true);
    let e = step(&mut node, 0, 3, |s, c| s.on_message(NodeId(2), Msg::Elected(9), c));
    assert_eq!(sends(&e), vec![(NodeId(1), Msg::Elected(9))]);
    assert!(e.contains(&Effect::Output { key: "leader", value: 9.into() }));
    assert_eq!((node.role(), node.leader()), (Role::Lost, Some(9)));
}

fn alg(initiators: &str) -> ChangRoberts {
    match Initiators::parse(initiators) {
        Ok(initiators) => ChangRoberts { initiators },
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn whole_runs_elect_the_maximum_with_the_predicted_counts() {
    for seed in 0..40u64 {
        for n in [2usize, 3, 5, 8, 13] {
            let ids = testkit::shuffled_idents(n, seed);
            for order in [Order::Fifo, Order::Random] {
                let run = testkit::run(&alg("all"), TopologyKind::Ring, &ids, order, seed, 100_000);
                run.assert_good();
                let expect: u64 = hops_to_next_larger(&ids).iter().sum();
                assert_eq!(run.sent("ELECT"), expect, "ids {ids:?}");
                assert_eq!(run.sent("ELECTED"), n as u64);
                assert_eq!(run.outputs_of("leader").len(), n, "every node outputs the leader once");
            }
        }
    }
}

#[test]
fn every_schedule_gives_the_same_elect_count() {
    // Exhaustive: every placement (up to rotation), every non-FIFO schedule.
    for n in 2..=5usize {
        for ids in testkit::placements_up_to_rotation(n) {
            let x = testkit::explore(&alg("all"), TopologyKind::Ring, &ids);
            assert!(x.failures.is_empty(), "ids {ids:?}: {:?}", x.failures);
            let hops: u64 = hops_to_next_larger(&ids).iter().sum();
            assert_eq!((x.min[0], x.max[0]), (hops, hops), "ids {ids:?}");
            assert_eq!((x.min[1], x.max[1]), (n as u64, n as u64));
        }
    }
}

#[test]
fn single_and_several_initiators_stay_within_their_bounds() {
    for seed in 0..30u64 {
        let n = 9;
        let ids = testkit::shuffled_idents(n, seed);
        for init in ["0", "4", "0,5", "1,2,7", "8,0,3,4"] {
            let run = testkit::run(&alg(init), TopologyKind::Ring, &ids, Order::Random, seed, 100_000);
            run.assert_good();
        }
        let max_pos = argmax(&ids).unwrap_or(0);
        for s in 0..n {
            let run = testkit::run(&alg(&s.to_string()), TopologyKind::Ring, &ids, Order::Fifo, seed, 100_000);
            let total = run.sent("ELECT") + run.sent("ELECTED");
            assert!((2 * n as u64..=3 * n as u64 - 1).contains(&total));
            assert_eq!(run.sent("ELECT"), n as u64 + ring_distance(s, max_pos, n));
        }
    }
}

#[test]
fn nobody_initiating_means_nobody_elected_and_the_properties_say_so() {
    let run = testkit::run(&alg("99"), TopologyKind::Ring, &[1, 2, 3], Order::Fifo, 0, 1000);
    assert_eq!(run.sent("ELECT"), 0);
    assert!(run.terminal_failures.iter().any(|f| f.starts_with("exactly one leader")));
    assert!(run.expectation_failures.is_empty(), "{:?}", run.expectation_failures);
}

#[test]
fn formulas_are_named_after_the_placement() {
    assert_eq!(all_initiators_formula(&[4, 3, 2, 1]), "n(n+1)/2");
    // A rotation of a decreasing ring is still the worst case.
    assert_eq!(all_initiators_formula(&[2, 1, 4, 3]), "n(n+1)/2");
    assert_eq!(all_initiators_formula(&[2, 3, 4, 1]), "2n−1");
    assert_eq!(all_initiators_formula(&[3, 1, 4, 2]), "Σ hops to next larger id");
    assert_eq!(all_initiators_formula(&[3, 4, 1, 2]), "2n−1");
    assert_eq!(all_initiators_formula(&[1, 3, 2, 4]), "Σ hops to next larger id");
}

#[test]
fn node_state_is_compact() {
    assert!(std::mem::size_of::<Node>() <= 24);
}

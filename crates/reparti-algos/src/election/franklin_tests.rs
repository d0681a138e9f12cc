//! Unit tests of [`super`]: handlers driven directly, then whole runs on the test scheduler.

use super::*;
use crate::election::testkit::{self, Order};
use reparti_core::{Effect, OutputValue, TopologyKind};

fn step(node: &mut Node, me: u32, n: usize, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    crate::handler_harness::run(node, TopologyKind::BidirRing, NodeId(me), n, f)
}

use crate::handler_harness::sends;

fn id(round: u32, id: u64, dir: Dir) -> Msg {
    Msg::Id { round, id, dir }
}

fn recv(node: &mut Node, me: u32, n: usize, msg: Msg) -> Vec<(NodeId, Msg)> {
    sends(&step(node, me, n, |s, c| s.on_message(NodeId(0), msg, c)))
}

#[test]
fn a_node_starts_by_sending_its_identity_both_ways() {
    let mut node = Node::new(7, true);
    let e = step(&mut node, 2, 5, |s, c| s.on_start(c));
    assert_eq!(sends(&e), vec![(NodeId(1), id(1, 7, Dir::Left)), (NodeId(3), id(1, 7, Dir::Right))]);
}

#[test]
fn a_local_maximum_goes_to_the_next_round_a_beaten_node_turns_passive_and_relays() {
    let mut winner = Node::new(7, true);
    // From the left comes a rightward message, from the right a leftward one.
    assert!(recv(&mut winner, 2, 5, id(1, 3, Dir::Right)).is_empty());
    let out = recv(&mut winner, 2, 5, id(1, 5, Dir::Left));
    assert_eq!(out, vec![(NodeId(1), id(2, 7, Dir::Left)), (NodeId(3), id(2, 7, Dir::Right))]);
    assert_eq!((winner.role(), winner.round()), (Role::Active, 2));

    let mut loser = Node::new(4, true);
    recv(&mut loser, 2, 5, id(1, 3, Dir::Right));
    assert!(recv(&mut loser, 2, 5, id(1, 9, Dir::Left)).is_empty());
    assert_eq!(loser.role(), Role::Passive);
    // Passive: relays unchanged, in the direction of travel.
    assert_eq!(recv(&mut loser, 2, 5, id(2, 9, Dir::Left)), vec![(NodeId(1), id(2, 9, Dir::Left))]);
    assert_eq!(recv(&mut loser, 2, 5, id(3, 8, Dir::Right)), vec![(NodeId(3), id(3, 8, Dir::Right))]);
}

#[test]
fn an_early_next_round_message_waits_for_the_next_round() {
    let mut node = Node::new(7, true);
    recv(&mut node, 2, 5, id(1, 3, Dir::Right));
    // The left winner's round-2 message overtakes our round-1 message from the right.
    assert!(recv(&mut node, 2, 5, id(2, 3, Dir::Right)).is_empty());
    assert_eq!(node.early().get(0), Some(3));
    assert_eq!(node.round(), 1);
    // Round 1 completes; the kept message counts for round 2.
    recv(&mut node, 2, 5, id(1, 5, Dir::Left));
    assert_eq!(node.round(), 2);
    assert_eq!(node.early().get(0), None);
    // Round 2's right value alone now completes round 2.
    let out = recv(&mut node, 2, 5, id(2, 6, Dir::Left));
    assert_eq!(node.round(), 3);
    assert_eq!(out.len(), 2);
}

#[test]
fn a_node_turning_passive_relays_what_it_kept() {
    let mut node = Node::new(4, true);
    recv(&mut node, 2, 5, id(1, 3, Dir::Right));
    recv(&mut node, 2, 5, id(2, 3, Dir::Right)); // early, from the left
    let out = recv(&mut node, 2, 5, id(1, 9, Dir::Left));
    assert_eq!(node.role(), Role::Passive);
    assert_eq!(out, vec![(NodeId(3), id(2, 3, Dir::Right))]);
}

#[test]
fn without_the_fix_the_early_message_is_consumed_and_lost() {
    let mut node = Node::new(7, false);
    recv(&mut node, 2, 5, id(1, 3, Dir::Right));
    recv(&mut node, 2, 5, id(2, 3, Dir::Right)); // overwrites the round-1 left value
    recv(&mut node, 2, 5, id(1, 5, Dir::Left));
    assert_eq!(node.round(), 2);
    // Round 2 now waits for a left value that was already used up in round 1.
    assert!(recv(&mut node, 2, 5, id(2, 6, Dir::Left)).is_empty());
    assert_eq!((node.role(), node.round()), (Role::Active, 2));
}

#[test]
fn own_identity_from_both_sides_elects_and_announces_with_the_round_count() {
    let mut node = Node::new(9, true);
    node.round = 3;
    recv(&mut node, 0, 4, id(3, 9, Dir::Right));
    let e = step(&mut node, 0, 4, |s, c| s.on_message(NodeId(1), id(3, 9, Dir::Left), c));
    assert_eq!(sends(&e), vec![(NodeId(1), Msg::Elected { id: 9 })]);
    assert!(e.contains(&Effect::Output { key: "rounds", value: OutputValue::Int(3) }));
    assert!(e.contains(&Effect::Output { key: "leader", value: OutputValue::Int(9) }));
    assert_eq!((node.role(), node.leader()), (Role::Leader, Some(9)));
    assert!(recv(&mut node, 0, 4, Msg::Elected { id: 9 }).is_empty());
}

#[test]
fn two_nodes_tell_sides_apart_by_direction() {
    // n = 2: both neighbours are the other node.
    let mut node = Node::new(5, true);
    let start = step(&mut node, 0, 2, |s, c| s.on_start(c));
    assert_eq!(sends(&start), vec![(NodeId(1), id(1, 5, Dir::Left)), (NodeId(1), id(1, 5, Dir::Right))]);
    recv(&mut node, 0, 2, id(1, 2, Dir::Right));
    assert_eq!(node.round(), 1, "one side only so far");
    recv(&mut node, 0, 2, id(1, 2, Dir::Left));
    assert_eq!(node.round(), 2);
}

fn franklin(fixed: bool) -> Franklin {
    Franklin { fixed }
}

#[test]
fn whole_runs_cost_2n_per_round_within_the_log_bound() {
    for seed in 0..40u64 {
        for n in [2usize, 3, 4, 5, 7, 8, 12, 16, 17] {
            let ids = testkit::shuffled_idents(n, seed);
            for order in [Order::Fifo, Order::Random, Order::Global] {
                let run = testkit::run(&franklin(true), TopologyKind::BidirRing, &ids, order, seed, 1_000_000);
                run.assert_good();
                let rounds = match run.outputs_of("rounds").as_slice() {
                    [(_, OutputValue::Int(r))] => *r as u64,
                    other => panic!("one leader should output rounds once, got {other:?}"),
                };
                assert_eq!(run.sent("ID"), 2 * n as u64 * rounds);
                assert!(rounds <= u64::from(log2_floor(n)) + 1, "n = {n}, R = {rounds}");
                assert_eq!(run.sent("ELECTED"), n as u64);
                assert_eq!(run.outputs_of("leader").len(), n);
                assert!(run.nodes.iter().all(|s| s.early().get(0).is_none() && s.early().get(1).is_none()));
            }
        }
    }
}

#[test]
fn the_round_bound_is_reached() {
    // Tight for n = 4 with identities 1 3 2 4: round 1 leaves 3 and 4, round 2 leaves 4,
    // round 3 finds it alone: 3 = ⌊log₂ 4⌋ + 1.
    let run = testkit::run(&franklin(true), TopologyKind::BidirRing, &[1, 3, 2, 4], Order::Global, 0, 10_000);
    run.assert_good();
    assert_eq!(run.outputs_of("rounds"), vec![(3, OutputValue::Int(3))]);
}

#[test]
fn the_broken_variant_stalls_even_with_constant_delays() {
    // Constant delays: messages are delivered in the order they were sent. Every
    // placement of n ≤ 7 nodes happens to survive the missing fix; this 8-node ring does
    // not. Node 5 (identity 8) wins round 2 and sends its round-3 ID both ways; the
    // leftward one reaches node 3 (identity 5) before node 3's round-2 ID from the left
    // (node 7's, a longer way round). Node 3 takes it for its round-2 right value, turns
    // passive when the left one arrives, and the round-3 message is gone: node 5 waits
    // for it forever.
    let ids = [1, 2, 4, 5, 3, 8, 6, 7];
    let broken = testkit::run(&franklin(false), TopologyKind::BidirRing, &ids, Order::Global, 0, 100_000);
    assert!(broken.quiescent, "it stalls: nothing left to deliver");
    assert!(broken.invariant_failures.is_empty(), "safety still holds: {:?}", broken.invariant_failures);
    assert!(broken.terminal_failures.iter().any(|f| f.starts_with("exactly one leader")));
    assert_eq!((broken.nodes[5].role(), broken.nodes[5].round()), (Role::Active, 3));
    assert_eq!((broken.nodes[3].role(), broken.nodes[3].round()), (Role::Passive, 2));
    assert_eq!(broken.sent("ELECTED"), 0);
    // The same schedule with the fix elects 8.
    let fixed = testkit::run(&franklin(true), TopologyKind::BidirRing, &ids, Order::Global, 0, 100_000);
    fixed.assert_good();
    assert_eq!(fixed.nodes[5].role(), Role::Leader);
}

#[test]
fn the_broken_variant_stalls_often_with_random_delays_but_never_elects_two() {
    let (mut stalled, mut runs) = (0, 0);
    for seed in 0..100u64 {
        for n in [3usize, 4, 6, 9] {
            let ids = testkit::shuffled_idents(n, seed);
            for order in [Order::Fifo, Order::Random] {
                let run = testkit::run(&franklin(false), TopologyKind::BidirRing, &ids, order, seed, 100_000);
                runs += 1;
                assert!(run.quiescent);
                assert!(run.invariant_failures.is_empty());
                if run.terminal_failures.is_empty() {
                    // When it does elect, it elects the maximum at the usual price.
                    assert_eq!(run.sent("ELECTED"), n as u64);
                } else {
                    stalled += 1;
                    assert_eq!(run.sent("ELECTED"), 0, "a stalled run never announces");
                }
            }
        }
    }
    assert!(stalled * 4 > runs, "{stalled} of {runs} runs stalled");
}

#[test]
fn every_schedule_of_every_small_ring_elects_the_maximum_at_2n_per_round() {
    // Exhaustive: every placement (up to rotation), every non-FIFO schedule.
    for n in 2..=5usize {
        for ids in testkit::placements_up_to_rotation(n) {
            let x = testkit::explore(&franklin(true), TopologyKind::BidirRing, &ids);
            assert!(x.failures.is_empty(), "ids {ids:?}: {:?}", x.failures);
            // The survivors of each round depend on the identities only: one count.
            assert_eq!(x.min, x.max, "ids {ids:?}");
            assert_eq!(x.min[0] % (2 * n as u64), 0);
            assert!(x.min[0] / (2 * n as u64) <= u64::from(log2_floor(n)) + 1);
            assert_eq!(x.min[1], n as u64);
        }
    }
}

#[test]
fn the_broken_variant_has_a_stalling_schedule_from_three_nodes() {
    let x = testkit::explore(&franklin(false), TopologyKind::BidirRing, &[3, 1, 2]);
    assert!(x.failures.iter().any(|f| f.starts_with("exactly one leader")), "{:?}", x.failures);
    assert!(!x.failures.iter().any(|f| f.starts_with("at most one leader")), "{:?}", x.failures);
    assert_eq!(x.min[1], 0, "some schedule never announces");
    assert_eq!(x.max[1], 3, "some schedule still elects");
}

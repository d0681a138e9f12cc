//! The lock-step runner's handlers one at a time: round tags and ranks, the two-step
//! closing timer, the sorted inbox, late messages made violations.

use super::*;
use crate::handler_harness::{run, sends};
use crate::time::bfs_rounds::{Bfs, BfsNode, Msg};
use reparti_core::{Algorithm, Effect, TopologyKind};

type Node = LockStepNode<BfsNode>;

fn started(kind: &TopologyKind, n: usize, me: u32) -> Node {
    let a = LockStep::<Bfs>::from_params(&params()).expect("defaults");
    let mut s = a.init(&NodeSetup::new(NodeId(me), u64::from(me) + 1, n));
    run(&mut s, kind.clone(), NodeId(me), n, |s, c| s.on_start(c));
    s
}

fn params() -> Params {
    match Params::resolve("bfs-rounds", <LockStep<Bfs> as Algorithm>::spec().params, &[]) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn timers<M: Clone>(effects: &[Effect<M>]) -> Vec<(&'static str, f64)> {
    effects
        .iter()
        .filter_map(|e| if let Effect::SetTimer { timer, after } = e { Some((*timer, *after)) } else { None })
        .collect()
}

#[test]
fn the_root_sends_round_one_tagged_and_ranked_then_closes_in_two_halves() {
    let kind = TopologyKind::Star;
    let a = LockStep::<Bfs>::from_params(&params()).expect("defaults");
    let mut root = a.init(&NodeSetup::new(NodeId(0), 1, 4));
    let eff = run(&mut root, kind.clone(), NodeId(0), 4, |s, c| s.on_start(c));
    let join = |rank| InRound { round: 1, rank, msg: Msg::Join };
    assert_eq!(sends(&eff), vec![(NodeId(1), join(0)), (NodeId(2), join(1)), (NodeId(3), join(2))]);
    assert_eq!(timers(&eff), vec![(lock_step::HALF_TIMER, 0.5)]);
    let eff = run(&mut root, kind.clone(), NodeId(0), 4, |s, c| s.on_timer(lock_step::HALF_TIMER, c));
    assert_eq!(timers(&eff), vec![(lock_step::ROUND_TIMER, 0.5)], "pushed after every message of the round");
    assert!(sends(&eff).is_empty());
}

#[test]
fn the_inbox_is_read_sorted_by_sender_whatever_the_arrival_order() {
    let kind = TopologyKind::Complete;
    let mut s = started(&kind, 4, 3);
    for from in [2u32, 0, 1] {
        run(&mut s, kind.clone(), NodeId(3), 4, |s, c| {
            s.on_message(NodeId(from), InRound { round: 1, rank: 0, msg: Msg::Join }, c)
        });
    }
    assert_eq!(sorted(s.inbox.clone()).iter().map(|(j, _)| j.0).collect::<Vec<_>>(), [0, 1, 2]);
    run(&mut s, kind.clone(), NodeId(3), 4, |s, c| s.on_timer(lock_step::ROUND_TIMER, c));
    assert_eq!((s.app.parent, s.app.depth, s.round), (Some(NodeId(0)), Some(1), 2), "smallest sender");
    assert!(s.inbox.is_empty() && s.fault.is_none());
}

#[test]
fn a_message_for_a_closed_round_is_a_fault() {
    let kind = TopologyKind::Line;
    let mut s = started(&kind, 3, 1);
    run(&mut s, kind.clone(), NodeId(1), 3, |s, c| s.on_timer(lock_step::ROUND_TIMER, c));
    assert_eq!(s.round, 2);
    run(&mut s, kind.clone(), NodeId(1), 3, |s, c| {
        s.on_message(NodeId(0), InRound { round: 1, rank: 0, msg: Msg::Join }, c)
    });
    let fault = s.fault.clone().unwrap_or_default();
    assert!(fault.contains("round 1 from 0 arrived after it closed"), "{fault}");
    assert!(s.app.parent.is_none(), "never read into another round");
}

#[test]
fn a_ring_of_two_counts_its_one_edge_once() {
    let two = Topology::build(&TopologyKind::BidirRing, 2, &mut reparti_core::rng(0)).expect("a ring of 2");
    assert_eq!((undirected_edges(&two), degrees(&two)), (1, vec![1, 1]));
    let grid = Topology::build(&TopologyKind::Grid, 9, &mut reparti_core::rng(0)).expect("a grid");
    assert_eq!(undirected_edges(&grid), 12);
}

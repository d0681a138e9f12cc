//! α's handlers one at a time: ACK per basic message, SAFE once all are acknowledged
//! (and at once in a silent round), the next round only after every neighbour's SAFE,
//! early messages buffered per round, halting announced once.

use super::*;
use crate::handler_harness::{run, sends};
use crate::time::bfs_rounds::{Bfs, BfsNode, Msg};
use reparti_core::TopologyKind;

type Node = AlphaNode<BfsNode>;
type M = AlphaMsg<Msg>;

fn alpha(fault: &str) -> Alpha<Bfs> {
    let spec = <Alpha<Bfs> as Algorithm>::spec();
    let params = Params::resolve("bfs-alpha", spec.params, &[("alpha_fault".into(), fault.into())]).expect("params");
    Alpha::<Bfs>::from_params(&params).expect("params")
}

fn start(a: &Alpha<Bfs>, me: u32, n: usize) -> (Node, Vec<(NodeId, M)>) {
    let mut s = a.init(&NodeSetup::new(NodeId(me), 1, n));
    let eff = run(&mut s, TopologyKind::Line, NodeId(me), n, |s, c| s.on_start(c));
    (s, sends(&eff))
}

fn deliver(s: &mut Node, from: u32, msg: M, n: usize) -> Vec<(NodeId, M)> {
    let me = s.me;
    sends(&run(s, TopologyKind::Line, me, n, |s, c| s.on_message(NodeId(from), msg, c)))
}

fn safe(round: u32) -> M {
    AlphaMsg::Safe { round, last: false }
}

#[test]
fn safe_after_every_ack_and_the_next_round_after_every_neighbours_safe() {
    let a = alpha("none");
    let (mut root, out) = start(&a, 0, 3);
    assert_eq!(out, vec![(NodeId(1), AlphaMsg::Basic(InRound { round: 1, rank: 0, msg: Msg::Join }))]);
    assert!(!root.safe && root.unacked == 1);
    assert_eq!(deliver(&mut root, 1, safe(1), 3), vec![], "not safe itself yet");
    // Safe for 1, its one neighbour too: round 2, where it sends nothing, so SAFE(2) at once.
    assert_eq!(deliver(&mut root, 1, AlphaMsg::Ack { round: 1 }, 3), vec![(NodeId(1), safe(1)), (NodeId(1), safe(2))]);
    assert_eq!(root.round, 2);
    assert!(root.safe);
    // The middle node hears SAFE from one neighbour only: it waits.
    let (mut mid, out) = start(&a, 1, 3);
    assert_eq!(out, vec![(NodeId(0), safe(1)), (NodeId(2), safe(1))], "a silent round still says SAFE");
    deliver(&mut mid, 0, safe(1), 3);
    assert_eq!(mid.round, 1);
    let acked = deliver(&mut mid, 0, AlphaMsg::Basic(InRound { round: 1, rank: 0, msg: Msg::Join }), 3);
    assert_eq!(acked, vec![(NodeId(0), AlphaMsg::Ack { round: 1 })]);
    let out = deliver(&mut mid, 2, safe(1), 3);
    assert_eq!(mid.round, 2);
    assert_eq!(mid.app.depth, Some(1));
    assert_eq!(out.len(), 2, "round 2: JOIN to 2, CHILD to 0");
}

#[test]
fn a_message_of_the_next_round_waits_in_its_own_round() {
    let a = alpha("none");
    let (mut end, _) = start(&a, 2, 3);
    deliver(&mut end, 1, AlphaMsg::Basic(InRound { round: 2, rank: 0, msg: Msg::Join }), 3);
    deliver(&mut end, 1, safe(2), 3);
    assert_eq!(end.round, 1);
    assert!(end.inbox.contains_key(&2) && !end.inbox.contains_key(&1));
    deliver(&mut end, 1, safe(1), 3);
    assert_eq!((end.round, end.app.depth), (3, Some(2)), "round 1 empty, round 2 JOIN: now in round 3");
}

#[test]
fn halting_is_announced_once_as_a_final_safe_and_a_late_message_is_a_fault() {
    let a = alpha("none");
    let (mut end, _) = start(&a, 2, 3);
    let finals = deliver(&mut end, 1, AlphaMsg::Safe { round: 1, last: true }, 3);
    // Its only neighbour is gone: it runs its rounds alone until it gives up (round n).
    assert!(end.halted && end.round == 3);
    let last = AlphaMsg::Safe { round: 4, last: true };
    assert_eq!(finals, vec![(NodeId(1), safe(2)), (NodeId(1), safe(3)), (NodeId(1), last)], "silent rounds 2, 3");
    let out = deliver(&mut end, 1, AlphaMsg::Basic(InRound { round: 2, rank: 0, msg: Msg::Join }), 3);
    assert_eq!(out, vec![(NodeId(1), AlphaMsg::Ack { round: 2 })], "acknowledged even when halted");
    assert!(end.fault.is_some(), "round 2 was closed");
}

#[test]
fn the_broken_variants_announce_early_or_move_on_early() {
    let (root, out) = start(&alpha("early-safe"), 0, 3);
    assert!(root.safe && root.unacked == 1 && out.contains(&(NodeId(1), safe(1))));
    let (mut mid, _) = start(&alpha("some-neighbours"), 1, 3);
    deliver(&mut mid, 2, safe(1), 3);
    assert_eq!(mid.round, 2, "moved on after one of its two neighbours");
}

//! Handler-level tests of the symmetric rendezvous: who proposes, deferral, refusals
//! and READY, the early READY of non-FIFO channels, and the naive variant's deadlock.

use super::*;
use crate::handler_harness::sends;
use reparti_core::{Effect, TopologyKind};

fn node(me: u32, n: u32, priority: bool) -> Node {
    let shape = Shape { rendezvous: 2, choice: 1, output_choice: true };
    RendezvousSymmetric { shape, priority }.init(&NodeSetup::new(NodeId(me), u64::from(me), n as usize))
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let (me, n) = (node.me, node.n as usize);
    crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
}

fn select(text: &str) -> Input {
    match text.parse() {
        Ok(guards) => Input::Select { guards },
        Err(e) => panic!("{text}: {e}"),
    }
}

fn input(node: &mut Node, text: &str) -> Vec<(NodeId, Msg)> {
    sends(&run(node, |s, c| s.on_input(select(text), c)))
}

fn deliver(node: &mut Node, from: u32, msg: Msg) -> Vec<(NodeId, Msg)> {
    sends(&run(node, |s, c| s.on_message(NodeId(from), msg, c)))
}

#[test]
fn the_lower_process_proposes_and_the_higher_decides() {
    let mut p = node(1, 3, true);
    // Guards toward 0 (lower) and 2 (higher): only 2 is proposed to.
    assert_eq!(input(&mut p, "?0 !2(7)"), vec![(NodeId(2), Msg::Propose { select: 0, value: Some(7) })]);
    let mut q = node(2, 3, true);
    assert!(input(&mut q, "?1").is_empty(), "the highest process never proposes");
    assert_eq!(
        deliver(&mut q, 1, Msg::Propose { select: 0, value: Some(7) }),
        vec![(NodeId(1), Msg::Accept { select: 0, value: None })]
    );
    assert_eq!(q.script.done, vec![Done { partner: NodeId(1), partner_select: 0, value: 7, sent: false }]);
    deliver(&mut p, 2, Msg::Accept { select: 0, value: None });
    assert_eq!(p.script.done, vec![Done { partner: NodeId(2), partner_select: 0, value: 7, sent: true }]);
}

#[test]
fn a_waiting_process_defers_and_refuses_what_it_deferred_once_committed() {
    let mut p = node(1, 3, true);
    input(&mut p, "?0 ?2");
    assert!(deliver(&mut p, 0, Msg::Propose { select: 0, value: Some(5) }).is_empty(), "deferred while waiting");
    let out = deliver(&mut p, 2, Msg::Accept { select: 0, value: Some(9) });
    assert_eq!(out, vec![(NodeId(0), Msg::Refuse { epoch: 1 })]);
    assert!(p.owe_ready.contains(&NodeId(0)));
    // Its next select names 0: READY first, then 0's next proposal is accepted.
    assert_eq!(input(&mut p, "?0"), vec![(NodeId(0), Msg::Ready { epoch: 2 })]);
    let out = deliver(&mut p, 0, Msg::Propose { select: 0, value: Some(5) });
    assert_eq!(out, vec![(NodeId(0), Msg::Accept { select: 1, value: None })]);
}

#[test]
fn a_refused_proposer_waits_for_ready_then_proposes_again() {
    let mut p = node(0, 3, true);
    assert_eq!(input(&mut p, "!1(4) !2(6)"), vec![(NodeId(1), Msg::Propose { select: 0, value: Some(4) })]);
    // 1 refuses: 0 goes on with 2, which refuses too; nothing left, 0 waits.
    assert_eq!(
        deliver(&mut p, 1, Msg::Refuse { epoch: 1 }),
        vec![(NodeId(2), Msg::Propose { select: 0, value: Some(6) })]
    );
    assert!(deliver(&mut p, 2, Msg::Refuse { epoch: 0 }).is_empty(), "no busy retry");
    assert!(deliver(&mut p, 1, Msg::Ready { epoch: 1 }).is_empty(), "a READY no newer than the refusal");
    assert_eq!(
        deliver(&mut p, 2, Msg::Ready { epoch: 1 }),
        vec![(NodeId(2), Msg::Propose { select: 0, value: Some(6) })]
    );
}

#[test]
fn a_ready_that_overtakes_its_refuse_is_not_lost() {
    let mut p = node(0, 2, true);
    input(&mut p, "!1(4)");
    // Non-FIFO: 1 refused (epoch 1), entered its next select naming 0 (READY epoch 2), and
    // the READY arrives first.
    assert!(deliver(&mut p, 1, Msg::Ready { epoch: 2 }).is_empty());
    assert_eq!(
        deliver(&mut p, 1, Msg::Refuse { epoch: 1 }),
        vec![(NodeId(1), Msg::Propose { select: 0, value: Some(4) })]
    );
}

#[test]
fn a_process_between_statements_refuses_at_once() {
    let mut q = node(1, 2, true);
    assert_eq!(
        deliver(&mut q, 0, Msg::Propose { select: 0, value: Some(1) }),
        vec![(NodeId(0), Msg::Refuse { epoch: 0 })]
    );
    assert_eq!(input(&mut q, "?0"), vec![(NodeId(0), Msg::Ready { epoch: 1 })]);
}

#[test]
fn without_priority_both_propose_and_each_defers_the_other() {
    let (mut p, mut q) = (node(0, 2, false), node(1, 2, false));
    let to_q = input(&mut p, "!1(3)");
    let to_p = input(&mut q, "?0");
    assert_eq!(to_q, vec![(NodeId(1), Msg::Propose { select: 0, value: Some(3) })]);
    assert_eq!(to_p, vec![(NodeId(0), Msg::Propose { select: 0, value: None })]);
    assert!(deliver(&mut q, 0, Msg::Propose { select: 0, value: Some(3) }).is_empty());
    assert!(deliver(&mut p, 1, Msg::Propose { select: 0, value: None }).is_empty());
    assert!(p.waiting.is_some() && q.waiting.is_some(), "each waits for the other: deadlock");
}

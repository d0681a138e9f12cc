//! Unit tests of the credit-allocator handlers: what a producer and the consumer send.
use super::*;
use crate::handler_harness::sends;
use reparti_core::{Effect, TopologyKind};

fn node(a: &CreditAllocator, me: u32, n: usize) -> Node {
    a.init(&NodeSetup::new(NodeId(me), u64::from(me) + 1, n))
}

fn run(node: &mut Node, n: usize, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let me = NodeId(node.me);
    crate::handler_harness::run(node, TopologyKind::Star, me, n, f)
}

fn allocator(buffer: u32, ask: u32, fixed: bool) -> CreditAllocator {
    CreditAllocator { buffer, ask, items: 0, fixed }
}

#[test]
fn a_producer_asks_once_sends_on_grant_asks_again_and_releases_the_rest() {
    let a = allocator(8, 2, true);
    let mut p = node(&a, 1, 3);
    let eff = run(&mut p, 3, |s, c| s.on_input(Input::Produce { x: 10 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Ask { k: 2 })]);
    for x in 11..14 {
        assert!(sends(&run(&mut p, 3, |s, c| s.on_input(Input::Produce { x }, c))).is_empty(), "one ASK out");
    }
    let eff = run(&mut p, 3, |s, c| s.on_message(NodeId(0), Msg::Grant { g: 2 }, c));
    let data = |seq, x| (NodeId(0), Msg::Data { seq, x });
    assert_eq!(sends(&eff), vec![data(0, 10), data(1, 11), (NodeId(0), Msg::Ask { k: 2 })]);
    let eff = run(&mut p, 3, |s, c| s.on_message(NodeId(0), Msg::Grant { g: 2 }, c));
    assert_eq!(sends(&eff), vec![data(2, 12), data(3, 13)], "the grant used whole, nothing to ask");
    run(&mut p, 3, |s, c| s.on_input(Input::Produce { x: 14 }, c));
    let eff = run(&mut p, 3, |s, c| s.on_message(NodeId(0), Msg::Grant { g: 2 }, c));
    assert_eq!(sends(&eff), vec![data(4, 14), (NodeId(0), Msg::Release { r: 1 })]);
    assert_eq!((p.credit, p.asking), (0, false));
}

#[test]
fn the_consumer_grants_what_is_free_and_unreserved_and_keeps_an_ask_it_cannot_serve() {
    let a = allocator(3, 2, true);
    let mut c = node(&a, 0, 3);
    assert_eq!(
        sends(&run(&mut c, 3, |s, x| s.on_message(NodeId(1), Msg::Ask { k: 2 }, x))),
        vec![(NodeId(1), Msg::Grant { g: 2 })]
    );
    let eff = run(&mut c, 3, |s, x| s.on_message(NodeId(2), Msg::Ask { k: 2 }, x));
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Grant { g: 1 })], "3 − 0 − 2 = 1 left");
    let eff = run(&mut c, 3, |s, x| s.on_message(NodeId(1), Msg::Ask { k: 2 }, x));
    assert!(sends(&eff).is_empty(), "nothing free: the ASK waits, no GRANT(0)");
    assert_eq!(c.waiting, VecDeque::from([(1, 2)]));
    run(&mut c, 3, |s, x| s.on_message(NodeId(1), Msg::Data { seq: 0, x: 0 }, x));
    assert_eq!((c.reserved, c.buffer.buf.len()), (2, 1), "a DATA turns a reservation into a filled slot");
    let eff = run(&mut c, 3, |s, x| s.on_message(NodeId(2), Msg::Release { r: 1 }, x));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Grant { g: 1 })], "the released slot goes to the waiting ASK");
    assert!(c.waiting.is_empty());
}

#[test]
fn the_broken_consumer_promises_the_same_slots_twice() {
    let a = allocator(2, 2, false);
    let mut c = node(&a, 0, 3);
    run(&mut c, 3, |s, x| s.on_message(NodeId(1), Msg::Ask { k: 2 }, x));
    let eff = run(&mut c, 3, |s, x| s.on_message(NodeId(2), Msg::Ask { k: 2 }, x));
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Grant { g: 2 })]);
    assert!(allocation(&c).is_err(), "4 slots promised out of 2");
}

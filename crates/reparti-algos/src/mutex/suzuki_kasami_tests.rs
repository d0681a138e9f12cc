//! Suzuki–Kasami's handlers, one at a time, and a small synchronous driver.

use super::*;
use crate::handler_harness::sends;
use crate::mutex::critical_section::CS_TIMER;
use reparti_core::{Effect, OutputValue, TopologyKind};

fn nodes(n: usize, fixed: bool) -> Vec<Node> {
    let a = SuzukiKasami { stay: Stay::new(2, 1), fixed };
    (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), 10 * (i as u64 + 1), n))).collect()
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let (me, n) = (node.me, node.n as usize);
    crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
}

fn entered(effects: &[Effect<Msg>]) -> Vec<OutputValue> {
    crate::handler_harness::outputs(effects, "enter_cs")
}

fn token(ln: &[u64], queue: &[u32]) -> Msg {
    Msg::Token { ln: ln.to_vec(), queue: queue.iter().map(|&q| NodeId(q)).collect() }
}

#[test]
fn node_0_starts_with_the_token_and_re_enters_without_a_message() {
    let mut ns = nodes(3, true);
    assert!(ns[0].token.is_some() && ns[1].token.is_none() && ns[2].token.is_none());
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    assert!(sends(&eff).is_empty(), "the holder enters with 0 messages");
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.10".into())]);
    assert_eq!(ns[0].rn, vec![0, 0, 0], "no request number is spent");
    let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
    assert!(sends(&eff).is_empty() && ns[0].token.is_some(), "nobody asked: the token stays");
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(entered(&eff), vec![OutputValue::Text("2.10".into())]);
}

#[test]
fn a_requester_broadcasts_and_the_idle_holder_sends_the_token() {
    let mut ns = nodes(3, true);
    let eff = run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    let req = Msg::Request { sn: 1 };
    assert_eq!(sends(&eff), vec![(NodeId(0), req.clone()), (NodeId(2), req.clone())]);
    assert!(entered(&eff).is_empty());
    // A non-holder only records the number.
    let eff = run(&mut ns[2], |s, c| s.on_message(NodeId(1), req.clone(), c));
    assert!(sends(&eff).is_empty());
    assert_eq!(ns[2].rn, vec![0, 1, 0]);
    // The idle holder: RN[1] = LN[1] + 1, so the token goes.
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(1), req.clone(), c));
    assert_eq!(sends(&eff), vec![(NodeId(1), token(&[0, 0, 0], &[]))]);
    assert!(ns[0].token.is_none());
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(&[0, 0, 0], &[]), c));
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.20".into())]);
    // Leaving: LN[1] = RN[1] = 1, nobody waits, the token stays.
    let eff = run(&mut ns[1], |s, c| s.on_timer(CS_TIMER, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(ns[1].token.as_ref().map(|t| t.ln.clone()), Some(vec![0, 1, 0]));
    // The new idle holder answers node 2's first request at once, LN travelling along.
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(2), Msg::Request { sn: 1 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), token(&[0, 1, 0], &[]))]);
}

#[test]
fn the_holder_in_the_cs_answers_only_on_leaving_and_queues_by_position() {
    let mut ns = nodes(4, true);
    run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    assert!(ns[0].cs.in_cs);
    for j in [3u32, 1] {
        let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(j), Msg::Request { sn: 1 }, c));
        assert!(sends(&eff).is_empty(), "in the CS the token does not move");
    }
    // The same REQUEST twice (a duplicating network) changes nothing.
    run(&mut ns[0], |s, c| s.on_message(NodeId(3), Msg::Request { sn: 1 }, c));
    assert_eq!(ns[0].rn, vec![0, 1, 0, 1]);
    let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
    // The paper's loop runs over j = 1..n: 1 before 3, whatever the arrival order.
    assert_eq!(sends(&eff), vec![(NodeId(1), token(&[0, 0, 0, 0], &[3]))]);
    assert_eq!((ns[0].cs.asked, ns[0].cs.served), (1, 1));
}

#[test]
fn a_request_number_never_goes_down() {
    let mut ns = nodes(3, true);
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Request { sn: 2 }, c));
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Request { sn: 1 }, c));
    assert_eq!(ns[2].rn[1], 2);
}

#[test]
fn a_queued_request_waits_until_the_token_has_been_passed_on() {
    let mut ns = nodes(2, true);
    run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    assert_eq!(ns[0].cs.queued, 1);
    run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Request { sn: 1 }, c));
    let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
    // The token first (LN[0] = RN[0] = 0: the entry spent no number), then node 0's own
    // next request, broadcast.
    assert_eq!(sends(&eff), vec![(NodeId(1), token(&[0, 0], &[])), (NodeId(1), Msg::Request { sn: 1 })]);
    assert!(ns[0].cs.requesting && !ns[0].cs.in_cs && ns[0].cs.queued == 0);
}

#[test]
fn the_broken_release_leaves_ln_stale_and_a_later_holder_sends_an_unasked_token() {
    let mut ns = nodes(3, false);
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Request { sn: 1 }, c));
    run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(&[0, 0, 0], &[]), c));
    run(&mut ns[1], |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(ns[1].token.as_ref().map(|t| t.ln.clone()), Some(vec![0, 0, 0]), "LN[1] not updated");
    // Node 2 asks, gets the token, has heard node 1's old request: it sends the token back.
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Request { sn: 1 }, c));
    run(&mut ns[2], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(2), Msg::Request { sn: 1 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), token(&[0, 0, 0], &[]))]);
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), token(&[0, 0, 0], &[]), c));
    let eff = run(&mut ns[2], |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), token(&[0, 0, 0], &[]))], "a token node 1 never asked for");
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(2), token(&[0, 0, 0], &[0]), c));
    assert!(sends(&eff).is_empty() && !ns[1].cs.in_cs, "kept idle");
    assert!(ns[1].unfinished().is_some_and(|w| w.contains("idle")), "{:?}", ns[1].unfinished());
}

#[test]
fn malformed_or_duplicate_tokens_and_strangers_are_ignored() {
    let mut ns = nodes(3, true);
    for msg in [token(&[0, 0], &[]), token(&[0, 0, 0], &[7])] {
        let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), msg, c));
        assert!(sends(&eff).is_empty() && ns[1].token.is_none());
    }
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), token(&[0, 0, 0], &[]), c));
    assert!(eff.iter().all(|e| !matches!(e, Effect::Output { .. } | Effect::Send { .. })));
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(9), Msg::Request { sn: 1 }, c));
    assert!(sends(&eff).is_empty() && ns[0].rn == vec![0, 0, 0]);
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(0), Msg::Request { sn: 1 }, c));
    assert!(sends(&eff).is_empty() && ns[0].rn == vec![0, 0, 0]);
    // A request number at the top does not overflow.
    ns[2].rn[2] = u64::MAX;
    run(&mut ns[2], |s, c| s.on_input(Input::Request, c));
    assert_eq!(ns[2].rn[2], u64::MAX);
}

#[test]
fn release_input_leaves_early_and_a_single_node_needs_no_message() {
    let mut ns = nodes(1, true);
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Release, c));
    assert!(entered(&eff).is_empty());
    run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Release, c));
    assert!(eff.contains(&Effect::CancelTimer { timer: CS_TIMER }));
    assert!(run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c)).is_empty());
    assert_eq!((ns[0].cs.asked, ns[0].cs.served), (1, 1));
}

/// Delivers messages in an order given by `pick`, firing the CS timer of the node inside
/// when `pick` says so or nothing else is left; returns (REQUEST, TOKEN, entries).
fn drive(ns: &mut [Node], pick: impl Fn(usize) -> usize) -> (usize, usize, usize) {
    let (mut requests, mut tokens, mut entries) = (0, 0, 0);
    let one_token = |ns: &[Node], in_flight: &[(NodeId, NodeId, Msg)]| {
        let holders = ns.iter().filter(|s| s.token.is_some()).count();
        let moving = in_flight.iter().filter(|m| matches!(m.2, Msg::Token { .. })).count();
        assert_eq!(holders + moving, 1, "exactly one token");
    };
    crate::handler_harness::drive_mutex(ns, 2, pick, one_token, |_, e| match e {
        Effect::Send { msg, .. } => {
            requests += matches!(msg, Msg::Request { .. }) as usize;
            tokens += matches!(msg, Msg::Token { .. }) as usize;
        }
        Effect::Output { key: "enter_cs", .. } => entries += 1,
        _ => {}
    });
    (requests, tokens, entries)
}

#[test]
fn every_request_is_served_and_costs_n_or_nothing_whatever_the_delivery_order() {
    for n in [2usize, 3, 5] {
        for salt in 0..25usize {
            let mut ns = nodes(n, true);
            let (requests, tokens, entries) = drive(&mut ns, |len| (salt * 7 + len * 3) % len.max(1));
            assert_eq!(entries, 2 * n, "n={n} salt={salt}");
            assert_eq!(requests, (n - 1) * tokens, "n={n} salt={salt}: REQUEST = (n−1)·TOKEN");
            assert!(tokens <= entries);
            for s in &ns {
                assert_eq!((s.cs.asked, s.cs.served), (2, 2));
                assert_eq!(s.unfinished(), None, "n={n} salt={salt}");
            }
        }
    }
}

//! The token ring's handlers, one at a time, and a small synchronous driver.

use super::*;
use crate::handler_harness::sends;
use crate::mutex::critical_section::CS_TIMER;
use reparti_core::{Effect, OutputValue, TopologyKind};

fn nodes(n: usize, requests: u32, fixed: bool) -> Vec<Node> {
    let a = TokenRingMutex { stay: Stay::new(requests, 1), at_start: false, fixed };
    (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), 10 * (i as u64 + 1), n))).collect()
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let (me, n) = (node.me, node.n as usize);
    crate::handler_harness::run(node, TopologyKind::Ring, me, n, f)
}

fn entered(effects: &[Effect<Msg>]) -> Vec<OutputValue> {
    crate::handler_harness::outputs(effects, "enter_cs")
}

fn token(done: u32) -> Msg {
    Msg::Token { done }
}

#[test]
fn node_0_starts_with_the_token_and_passes_it_on_at_once() {
    let mut ns = nodes(3, 1, true);
    assert!(ns[0].token.is_some() && ns[1].token.is_none() && ns[2].token.is_none());
    let eff = run(&mut ns[0], |s, c| s.on_start(c));
    assert_eq!(sends(&eff), vec![(NodeId(1), token(0))], "nobody asked yet: to the successor");
    assert!(ns[0].token.is_none());
    // Node 1, idle, passes it too; node 2's successor is node 0, which counts a lap.
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(0), c));
    assert_eq!(sends(&eff), vec![(NodeId(2), token(0))]);
    let eff = run(&mut ns[2], |s, c| s.on_message(NodeId(1), token(0), c));
    assert_eq!(sends(&eff), vec![(NodeId(0), token(0))]);
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), token(0), c));
    assert_eq!(crate::handler_harness::outputs(&eff, LAP), vec![OutputValue::Int(1)]);
}

#[test]
fn a_request_sends_nothing_and_the_token_lets_it_in_then_goes_on_at_the_exit() {
    let mut ns = nodes(3, 2, true);
    let eff = run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    assert!(sends(&eff).is_empty() && entered(&eff).is_empty(), "no message: wait for the token");
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(0), c));
    assert!(sends(&eff).is_empty(), "inside, the token stays");
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.20".into())]);
    // A second request while inside is queued, and issued only after the token left.
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    assert_eq!(ns[1].cs.queued, 1);
    let eff = run(&mut ns[1], |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), token(0))], "one CS per visit");
    assert!(ns[1].cs.requesting && !ns[1].cs.in_cs && ns[1].token.is_none());
    assert!(!ns[1].counted, "1 of 2 planned requests served");
}

#[test]
fn the_token_counts_each_node_once_and_rests_where_the_last_plan_ends() {
    let mut ns = nodes(3, 1, true);
    // Node 1 is served and counts itself at its exit.
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(0), c));
    let eff = run(&mut ns[1], |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), token(1))]);
    assert!(ns[1].counted);
    // Counted already: the next visit leaves `done` alone.
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(2), c));
    assert_eq!(sends(&eff), vec![(NodeId(2), token(2))]);
    // Node 2's exit makes it 3 = n: the token rests there.
    run(&mut ns[2], |s, c| s.on_input(Input::Request, c));
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), token(2), c));
    let eff = run(&mut ns[2], |s, c| s.on_timer(CS_TIMER, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(crate::handler_harness::outputs(&eff, REST), vec![OutputValue::Int(2)]);
    assert!(ns[2].resting() && ns[2].unfinished().is_none());
    // A request beyond the plan at the resting holder: served at once, the token stays.
    let eff = run(&mut ns[2], |s, c| s.on_input(Input::Request, c));
    assert_eq!(crate::handler_harness::outputs(&eff, BEYOND_PLAN), vec![OutputValue::Int(2)]);
    assert_eq!(entered(&eff), vec![OutputValue::Text("2.30".into())]);
    let eff = run(&mut ns[2], |s, c| s.on_timer(CS_TIMER, c));
    assert!(sends(&eff).is_empty() && ns[2].resting());
    // Beyond the plan elsewhere: never served, and said so.
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    assert!(ns[1].unfinished().is_some());
}

#[test]
fn open_ended_the_token_never_rests() {
    let mut ns = nodes(2, 0, true);
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(0), c));
    let eff = run(&mut ns[1], |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), token(0))], "no plan, no count: it goes on");
    assert!(crate::handler_harness::outputs(&eff, BEYOND_PLAN).is_empty());
    // A token counting done nodes is from a ring with a plan: ignored.
    ns[0].token = None;
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(1), token(1), c));
    assert!(sends(&eff).is_empty() && ns[0].token.is_none());
}

#[test]
fn the_slip_passes_the_token_on_entering() {
    let mut ns = nodes(3, 1, false);
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(0), c));
    assert_eq!(entered(&eff).len(), 1);
    assert_eq!(sends(&eff), vec![(NodeId(2), token(0))], "handed on while inside");
    run(&mut ns[2], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[2], |s, c| s.on_message(NodeId(1), token(0), c));
    assert_eq!(entered(&eff).len(), 1, "node 2 enters while node 1 is inside");
    assert!(ns[1].cs.in_cs && ns[2].cs.in_cs);
}

#[test]
fn malformed_or_duplicate_tokens_are_ignored() {
    let mut ns = nodes(3, 1, true);
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), token(4), c));
    assert!(sends(&eff).is_empty() && ns[1].token.is_none(), "more done nodes than nodes");
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), token(0), c));
    assert!(eff.iter().all(|e| !matches!(e, Effect::Output { .. } | Effect::Send { .. })), "second token");
}

/// Delivers messages in an order given by `pick`, firing the CS timer of the node inside
/// when `pick` says so or nothing else is left; returns (TOKEN, entries). Node 0 holds
/// the token when the requests arrive (no start handler here), so its first entry is free.
fn drive(ns: &mut [Node], requests: usize, pick: impl Fn(usize) -> usize) -> (usize, usize) {
    let (mut tokens, mut entries) = (0, 0);
    let one_token = |ns: &[Node], in_flight: &[(NodeId, NodeId, Msg)]| {
        let holders = ns.iter().filter(|s| s.token.is_some()).count();
        assert_eq!(holders + in_flight.len(), 1, "exactly one token");
        for s in ns {
            assert_eq!(never_idle(s), Ok(()));
        }
    };
    crate::handler_harness::drive_mutex(ns, requests, pick, one_token, |_, e| match e {
        Effect::Send { .. } => tokens += 1,
        Effect::Output { key: "enter_cs", .. } => entries += 1,
        _ => {}
    });
    (tokens, entries)
}

#[test]
fn saturated_every_hop_but_the_first_entry_makes_an_entry_and_the_token_rests() {
    for n in [2usize, 3, 5] {
        for requests in [1usize, 2, 3] {
            for salt in 0..10usize {
                let mut ns = nodes(n, requests as u32, true);
                let (tokens, entries) = drive(&mut ns, requests, |len| (salt * 7 + len * 3) % len.max(1));
                let what = format!("n={n} requests={requests} salt={salt}");
                assert_eq!(entries, n * requests, "{what}");
                // Node 0's first entry is free, every other one follows its own hop.
                assert_eq!(tokens, entries - 1, "{what}");
                for s in &ns {
                    assert_eq!((s.cs.asked, s.cs.served), (requests as u32, requests as u32), "{what}");
                    assert_eq!(s.unfinished(), None, "{what}");
                }
                // Each round serves 0, 1, …, n−1 in ring order: the last entry is n−1's.
                assert!(ns[n - 1].resting(), "{what}");
            }
        }
    }
}

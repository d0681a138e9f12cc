//! Carvalho–Roucairol's handlers, one at a time, and its global invariants on states
//! built by hand.

use super::*;
use crate::mutex::critical_section::CS_TIMER;
use reparti_core::{Effect, OutputValue, TopologyKind};

fn algorithm(fixed: bool) -> CarvalhoRoucairol {
    CarvalhoRoucairol { stay: Stay::new(2, 1), fixed }
}

fn nodes_with(n: usize, fixed: bool) -> Vec<Node> {
    let a = algorithm(fixed);
    (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), 10 * (i as u64 + 1), n))).collect()
}

fn nodes(n: usize) -> Vec<Node> {
    nodes_with(n, true)
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let (me, n) = (node.me, node.n as usize);
    crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
}

use crate::handler_harness::sends;

fn entered(effects: &[Effect<Msg>]) -> Vec<OutputValue> {
    crate::handler_harness::outputs(effects, "enter_cs")
}

#[test]
fn each_pairs_permission_starts_at_its_smaller_position() {
    let ns = nodes(4);
    for (i, s) in ns.iter().enumerate() {
        for j in 0..4 {
            if j != i {
                assert_eq!(s.auth[j], i < j, "auth_{i}[{j}]");
            }
        }
    }
    assert!(ns[0].holds_all() && !ns[3].holds_all());
}

#[test]
fn a_holder_of_every_permission_enters_again_and_again_without_a_message() {
    let mut ns = nodes(4);
    for k in 1..=3u64 {
        let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
        assert!(sends(&eff).is_empty(), "entry {k} cost messages");
        assert_eq!(entered(&eff), vec![OutputValue::Text(format!("{k}.10"))]);
        run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
    }
    assert_eq!((ns[0].cs.asked, ns[0].cs.served, ns[0].highest), (3, 3, 3));
}

#[test]
fn a_request_goes_only_to_the_peers_whose_permission_is_lacking() {
    let mut ns = nodes(4);
    let eff = run(&mut ns[2], |s, c| s.on_input(Input::Request, c));
    let req = Msg::Request { ts: 1, id: 30 };
    assert_eq!(sends(&eff), vec![(NodeId(0), req.clone()), (NodeId(1), req)]);
    assert!(ns[2].cs.requesting && !ns[2].cs.in_cs);
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Reply, c));
    assert!(!ns[2].cs.in_cs);
    let eff = run(&mut ns[2], |s, c| s.on_message(NodeId(0), Msg::Reply, c));
    assert!(ns[2].cs.in_cs && ns[2].holds_all());
    assert_eq!(entered(&eff).len(), 1);
}

#[test]
fn an_idle_node_gives_its_permission_with_the_reply() {
    let mut ns = nodes(3);
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), Msg::Request { ts: 4, id: 30 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Reply)]);
    assert!(!ns[0].auth[2] && ns[0].auth[1]);
    assert_eq!(ns[0].highest, 4);
    // Its next request asks node 2 only, with a number above what it saw.
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Request { ts: 5, id: 10 })]);
}

#[test]
fn a_requester_that_yields_to_an_older_request_asks_the_permission_back() {
    // Node 1 holds auth[2] and requests with (2, 20) after seeing a 1; node 2's (1, 30) is older.
    let mut ns = nodes(3);
    ns[1].highest = 1;
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(2), Msg::Request { ts: 1, id: 30 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Reply), (NodeId(2), Msg::Request { ts: 2, id: 20 })]);
    assert!(!ns[1].auth[2]);
    // The broken variant gives it away and never asks again.
    let mut broken = nodes_with(3, false);
    broken[1].highest = 1;
    run(&mut broken[1], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut broken[1], |s, c| s.on_message(NodeId(2), Msg::Request { ts: 1, id: 30 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Reply)]);
}

#[test]
fn a_requester_without_the_permission_answers_an_older_request_without_asking_twice() {
    // Node 2 lacks auth[1] and has already asked for it: no second REQUEST.
    let mut ns = nodes(3);
    ns[2].highest = 3;
    run(&mut ns[2], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Request { ts: 1, id: 20 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Reply)]);
}

#[test]
fn younger_requests_and_requests_in_the_cs_are_deferred_and_paid_on_release() {
    let mut ns = nodes(3);
    run(&mut ns[0], |s, c| s.on_input(Input::Request, c)); // enters at once, (1, 10)
    assert!(ns[0].cs.in_cs);
    // Even an older-looking request waits while inside.
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), Msg::Request { ts: 1, id: 30 }, c));
    assert!(sends(&eff).is_empty());
    run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Request { ts: 1, id: 5 }, c));
    assert_eq!(ns[0].deferred, BTreeSet::from([NodeId(1), NodeId(2)]));
    let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Reply), (NodeId(2), Msg::Reply)]);
    assert!(!ns[0].auth[1] && !ns[0].auth[2] && ns[0].deferred.is_empty());
}

#[test]
fn a_request_during_a_request_is_queued_and_issued_on_release() {
    let mut ns = nodes(2);
    run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    assert!(sends(&eff).is_empty());
    run(&mut ns[1], |s, c| s.on_message(NodeId(0), Msg::Reply, c));
    assert!(ns[1].cs.in_cs);
    // Node 1 now holds node 0's permission: its queued request costs nothing.
    let eff = run(&mut ns[1], |s, c| s.on_input(Input::Release, c));
    assert!(eff.contains(&Effect::CancelTimer { timer: CS_TIMER }));
    assert!(sends(&eff).is_empty() && ns[1].cs.in_cs && ns[1].cs.queued == 0);
    assert_eq!(entered(&eff), vec![OutputValue::Text("2.20".into())]);
}

#[test]
fn a_single_node_enters_at_once_and_release_outside_is_harmless() {
    let mut ns = nodes(1);
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Release, c));
    assert!(sends(&eff).is_empty() && entered(&eff).is_empty());
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    assert!(sends(&eff).is_empty() && ns[0].cs.in_cs);
}

#[test]
fn a_reply_from_outside_the_system_is_ignored() {
    let mut ns = nodes(2);
    run(&mut ns[1], |s, c| s.on_message(NodeId(9), Msg::Reply, c));
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(9), Msg::Request { ts: 3, id: 1 }, c));
    assert!(sends(&eff).is_empty() && ns[0].deferred.is_empty() && ns[0].highest == 0);
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), Msg::Request { ts: u64::MAX, id: 1 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Reply)]);
    assert_eq!(ns[1].highest, u64::MAX);
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    assert!(ns[0].cs.in_cs && sends(&eff).is_empty());
    // A saturated number still makes a request.
    let eff = run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Request { ts: u64::MAX, id: 20 })]);
}

fn world_check(
    ns: &[Node],
    replies: &[(u32, u32)],
    f: fn(&World<'_, Node>) -> Result<(), String>,
) -> Result<(), String> {
    let idents: Vec<u64> = ns.iter().map(|s| s.id).collect();
    let crashed = vec![false; ns.len()];
    let flight = |visit: &mut dyn FnMut(NodeId, NodeId, &Msg)| {
        for &(a, b) in replies {
            visit(NodeId(a), NodeId(b), &Msg::Reply);
        }
    };
    f(&World { nodes: ns, idents: &idents, crashed: &crashed, in_flight: &flight, time: None })
}

#[test]
fn the_pair_invariants_see_a_permission_held_twice_or_lost() {
    let mut ns = nodes(3);
    assert_eq!(world_check(&ns, &[], pair_exclusive), Ok(()));
    assert_eq!(world_check(&ns, &[], permission_conserved), Ok(()));
    // In a REPLY from 0 to 2: still exactly once.
    ns[0].auth[2] = false;
    assert_eq!(world_check(&ns, &[(0, 2)], permission_conserved), Ok(()));
    // Lost.
    assert!(world_check(&ns, &[], permission_conserved).is_err());
    // Both ends.
    ns[0].auth[2] = true;
    ns[2].auth[0] = true;
    assert!(world_check(&ns, &[], pair_exclusive).unwrap_err().contains("nodes 0 and 2"));
    assert!(world_check(&ns, &[], permission_conserved).is_err());
}

//! Maekawa's handlers, one at a time, and a small synchronous driver.

use super::*;
use crate::handler_harness::sends;
use crate::mutex::critical_section::CS_TIMER;
use reparti_core::{Effect, OutputValue, TopologyKind};
use std::collections::BTreeMap;

fn nodes(n: usize, form: Form) -> Vec<Node> {
    let a = Maekawa { stay: Stay::new(2, 1), form };
    (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), 10 * (i as u64 + 1), n))).collect()
}

/// Runs one handler on a complete graph as large as any instance here (the node does
/// not read n: its quorum says whom it talks to).
fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let me = node.me;
    crate::handler_harness::run(node, TopologyKind::Complete, me, 9, f)
}

fn entered(effects: &[Effect<Msg>]) -> Vec<OutputValue> {
    crate::handler_harness::outputs(effects, "enter_cs")
}

fn deliver(ns: &mut [Node], from: u32, to: u32, msg: Msg) -> Vec<Effect<Msg>> {
    run(&mut ns[to as usize], |s, c| s.on_message(NodeId(from), msg, c))
}

fn to(list: &[(u32, Msg)]) -> Vec<(NodeId, Msg)> {
    list.iter().map(|(j, m)| (NodeId(*j), m.clone())).collect()
}

#[test]
fn a_request_asks_the_remote_members_and_takes_its_own_lock_without_a_message() {
    // n = 4: w = 2, node 0's quorum is row {0,1} and column {0,2}.
    let mut ns = nodes(4, Form::Inquire);
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    let req = Msg::Request { ts: 1, id: 10 };
    assert_eq!(sends(&eff), to(&[(1, req.clone()), (2, req.clone())]));
    assert_eq!(ns[0].arbiter.lock.map(|l| l.node), Some(NodeId(0)), "its own lock, locally");
    assert_eq!(ns[0].votes.locked, BTreeSet::from([NodeId(0)]));
    deliver(&mut ns, 1, 0, Msg::Locked { ts: 1 });
    let eff = deliver(&mut ns, 2, 0, Msg::Locked { ts: 1 });
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.10".into())]);
    let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), to(&[(1, Msg::Release { ts: 1 }), (2, Msg::Release { ts: 1 })]));
    assert_eq!(ns[0].arbiter, Arbiter::default(), "its own lock is free again");
}

#[test]
fn an_arbiter_lends_once_fails_the_younger_and_inquires_for_the_older() {
    let mut ns = nodes(4, Form::Inquire);
    // Node 1 is arbiter of nodes 0, 1 and 3. Node 3's request (ts 2) takes its lock.
    let eff = deliver(&mut ns, 3, 1, Msg::Request { ts: 2, id: 40 });
    assert_eq!(sends(&eff), to(&[(3, Msg::Locked { ts: 2 })]));
    // A younger one (ts 3) is told FAILED.
    let eff = deliver(&mut ns, 0, 1, Msg::Request { ts: 3, id: 10 });
    assert_eq!(sends(&eff), to(&[(0, Msg::Failed { ts: 3 })]));
    // An older one (ts 1, the oldest here: node 1's own, handled without a message):
    // INQUIRE to the holder; the waiting ts 3 was already told, nothing more.
    let mut out = Sends::new();
    ns[1].arbiter.on_request(Ask { ts: 1, id: 20, node: NodeId(1) }, Form::Inquire, &mut out);
    assert_eq!(out, to(&[(3, Msg::Inquire { ts: 2 })]));
    // A second older one does not inquire again.
    let eff = deliver(&mut ns, 0, 1, Msg::Request { ts: 1, id: 10 });
    assert!(sends(&eff).is_empty(), "{eff:?}");
    assert_eq!(ns[1].arbiter.waiting.len(), 3);
}

#[test]
fn a_request_overtaken_by_an_older_one_is_told_failed_except_in_arrival_failed() {
    for (form, told) in [(Form::Inquire, true), (Form::ArrivalFailed, false)] {
        let mut ns = nodes(4, form);
        deliver(&mut ns, 3, 1, Msg::Request { ts: 5, id: 40 });
        let eff = deliver(&mut ns, 0, 1, Msg::Request { ts: 3, id: 10 });
        assert_eq!(sends(&eff), to(&[(3, Msg::Inquire { ts: 5 })]), "{form:?}: the oldest, told nothing");
        let mut a = ns[1].arbiter.clone();
        let mut out = Sends::new();
        a.on_request(Ask { ts: 2, id: 20, node: NodeId(1) }, form, &mut out);
        let failed = out.iter().any(|(j, m)| *j == NodeId(0) && *m == Msg::Failed { ts: 3 });
        assert_eq!(failed, told, "{form:?}: {out:?}");
    }
}

#[test]
fn the_basic_form_only_queues_and_lends_by_priority_on_release() {
    let mut ns = nodes(4, Form::Basic);
    deliver(&mut ns, 3, 1, Msg::Request { ts: 5, id: 40 });
    assert!(sends(&deliver(&mut ns, 0, 1, Msg::Request { ts: 4, id: 10 })).is_empty());
    assert!(sends(&deliver(&mut ns, 0, 1, Msg::Request { ts: 9, id: 10 })).is_empty());
    let eff = deliver(&mut ns, 3, 1, Msg::Release { ts: 5 });
    assert_eq!(sends(&eff), to(&[(0, Msg::Locked { ts: 4 })]));
}

#[test]
fn a_holder_that_may_still_succeed_defers_an_inquire_and_gives_way_on_failed() {
    let mut ns = nodes(4, Form::Inquire);
    run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    deliver(&mut ns, 1, 0, Msg::Locked { ts: 1 });
    let eff = deliver(&mut ns, 1, 0, Msg::Inquire { ts: 1 });
    assert!(sends(&eff).is_empty(), "deferred: it may still get node 2's lock");
    // Node 2 says an older request is ahead: give node 1's lock back.
    let eff = deliver(&mut ns, 2, 0, Msg::Failed { ts: 1 });
    assert_eq!(sends(&eff), to(&[(1, Msg::Relinquish { ts: 1 })]));
    assert!(ns[0].votes.relinquished.contains(&NodeId(1)) && !ns[0].votes.locked.contains(&NodeId(1)));
    // Still failing: the next INQUIRE from its own arbiter? It holds its own lock; an
    // INQUIRE for it is handled locally, so test a remote one after re-lending.
    deliver(&mut ns, 1, 0, Msg::Locked { ts: 1 });
    assert!(ns[0].votes.relinquished.is_empty());
    assert!(ns[0].votes.failed.contains(&NodeId(2)));
    let eff = deliver(&mut ns, 1, 0, Msg::Inquire { ts: 1 });
    assert_eq!(sends(&eff), to(&[(1, Msg::Relinquish { ts: 1 })]), "it knows it fails: at once");
}

#[test]
fn an_inquire_that_outruns_its_locked_is_remembered_and_stale_messages_ignored() {
    let mut ns = nodes(4, Form::Inquire);
    run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
    deliver(&mut ns, 2, 0, Msg::Failed { ts: 1 });
    // INQUIRE from node 1 before its LOCKED: nothing to give back yet.
    assert!(sends(&deliver(&mut ns, 1, 0, Msg::Inquire { ts: 1 })).is_empty());
    let eff = deliver(&mut ns, 1, 0, Msg::Locked { ts: 1 });
    assert_eq!(sends(&eff), to(&[(1, Msg::Relinquish { ts: 1 })]), "acted on when the LOCKED comes");
    // About another request, or in the CS: ignored.
    assert!(sends(&deliver(&mut ns, 2, 0, Msg::Inquire { ts: 7 })).is_empty());
    assert!(!ns[0].votes.inquired.contains(&NodeId(2)));
    // A FAILED overtaken by its LOCKED: the lock is here, the FAILED is stale.
    deliver(&mut ns, 2, 0, Msg::Locked { ts: 1 });
    deliver(&mut ns, 2, 0, Msg::Failed { ts: 1 });
    assert!(!ns[0].votes.failed.contains(&NodeId(2)));
}

#[test]
fn a_relinquished_lock_goes_to_the_oldest_and_its_request_waits_knowing_it() {
    let mut a = Arbiter::default();
    let young = Ask { ts: 5, id: 40, node: NodeId(3) };
    let old = Ask { ts: 2, id: 10, node: NodeId(0) };
    let mut out = Sends::new();
    a.on_request(young, Form::Inquire, &mut out);
    a.on_request(old, Form::Inquire, &mut out);
    out.clear();
    assert!(!a.on_relinquish(NodeId(3), 4, &mut out), "another request's RELINQUISH");
    assert!(a.on_relinquish(NodeId(3), 5, &mut out));
    assert_eq!(out, to(&[(0, Msg::Locked { ts: 2 })]));
    assert_eq!(a.waiting.get(&young), Some(&true), "re-queued, knowing: no FAILED again");
    out.clear();
    assert!(a.on_release(NodeId(0), 2, &mut out));
    assert_eq!(out, to(&[(3, Msg::Locked { ts: 5 })]));
    assert!(!a.on_release(NodeId(0), 2, &mut out), "a second RELEASE");
}

#[test]
fn strangers_and_messages_outside_the_quorum_are_ignored_and_one_node_needs_no_message() {
    let mut ns = nodes(4, Form::Inquire);
    // Node 3 is not in node 0's quorum {0, 1, 2}.
    let eff = deliver(&mut ns, 3, 0, Msg::Request { ts: 1, id: 40 });
    assert!(sends(&eff).is_empty() && ns[0].arbiter.lock.is_none());
    let eff = deliver(&mut ns, 0, 0, Msg::Request { ts: 1, id: 10 });
    assert!(sends(&eff).is_empty() && ns[0].arbiter.lock.is_none());
    let mut one = nodes(1, Form::Inquire);
    let eff = run(&mut one[0], |s, c| s.on_input(Input::Request, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.10".into())]);
    let eff = run(&mut one[0], |s, c| s.on_input(Input::Release, c));
    assert!(eff.contains(&Effect::CancelTimer { timer: CS_TIMER }) && sends(&eff).is_empty());
    assert_eq!((one[0].cs.asked, one[0].cs.served), (1, 1));
    assert_eq!(one[0].unfinished(), None);
}

/// Delivers messages in an order given by `pick`, firing the CS timer of the node inside
/// when `pick` says so or nothing else is left; returns the count of each message type
/// and the entries.
fn drive(ns: &mut [Node], pick: impl Fn(usize) -> usize) -> (BTreeMap<&'static str, usize>, usize) {
    let mut counts = BTreeMap::new();
    let mut entries = 0;
    let one_holder = |ns: &[Node], in_flight: &[(NodeId, NodeId, Msg)]| {
        let inside = ns.iter().filter(|s| s.cs.in_cs).count();
        assert!(inside <= 1, "mutual exclusion");
        for a in 0..ns.len() {
            let held = ns.iter().filter(|s| s.votes.locked.contains(&NodeId(a as u32))).count();
            let moving =
                in_flight.iter().filter(|m| m.0 == NodeId(a as u32) && matches!(m.2, Msg::Locked { .. })).count();
            assert!(held + moving <= 1, "arbiter {a}: one holder");
        }
    };
    crate::handler_harness::drive_mutex(ns, 2, pick, one_holder, |_, e| match e {
        Effect::Send { msg, .. } => *counts.entry(msg.kind_name()).or_insert(0) += 1,
        Effect::Output { key: "enter_cs", .. } => entries += 1,
        _ => {}
    });
    (counts, entries)
}

#[test]
fn every_request_is_served_with_the_exact_counts_whatever_the_delivery_order() {
    for n in [2usize, 3, 4, 5] {
        let k1: usize = (0..n).map(|i| quorums::size(n, i) - 1).sum::<usize>() * 2;
        for salt in 0..25usize {
            let mut ns = nodes(n, Form::Inquire);
            let (c, entries) = drive(&mut ns, |len| (salt * 7 + len * 3) % len.max(1));
            let get = |k: &str| c.get(k).copied().unwrap_or(0);
            assert_eq!(entries, 2 * n, "n={n} salt={salt}");
            assert_eq!(get("REQUEST"), k1, "n={n} salt={salt}: REQUEST = Σ(K−1)");
            assert_eq!(get("RELEASE"), k1, "n={n} salt={salt}");
            assert_eq!(get("LOCKED"), k1 + get("RELINQUISH"), "n={n} salt={salt}");
            assert!(get("INQUIRE") <= get("LOCKED") && get("RELINQUISH") <= get("INQUIRE") && get("FAILED") <= k1);
            for s in &ns {
                assert_eq!((s.cs.asked, s.cs.served), (2, 2));
                assert_eq!(s.unfinished(), None, "n={n} salt={salt}");
            }
        }
    }
}

/// A hand-driven network: inputs and deliveries in an order the test dictates.
struct Net {
    ns: Vec<Node>,
    flight: Vec<(u32, u32, Msg)>,
}

impl Net {
    /// `n` nodes with decreasing identities (the checker's default): node 0 the youngest
    /// on a tie of timestamps, node n−1 the oldest.
    fn new(n: usize, form: Form) -> Net {
        let a = Maekawa { stay: Stay::new(1, 1), form };
        let ns = (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), (n - i) as u64, n))).collect();
        Net { ns, flight: Vec::new() }
    }

    fn keep(&mut self, from: u32, eff: &[Effect<Msg>]) {
        self.flight.extend(sends(eff).into_iter().map(|(to, m)| (from, to.0, m)));
    }

    fn input(&mut self, i: u32) {
        let eff = run(&mut self.ns[i as usize], |s, c| s.on_input(Input::Request, c));
        self.keep(i, &eff);
    }

    fn deliver(&mut self, from: u32, to: u32, kind: &str) -> Vec<Effect<Msg>> {
        let k = self.flight.iter().position(|(f, t, m)| (*f, *t) == (from, to) && m.kind_name() == kind);
        let Some(k) = k else { panic!("no {kind} {from}→{to} in flight: {:?}", self.flight) };
        let (_, _, msg) = self.flight.remove(k);
        let eff = deliver(&mut self.ns, from, to, msg);
        self.keep(to, &eff);
        eff
    }
}

/// The checker's shortest deadlock of `form=arrival-failed` (n = 4, one request each,
/// 19 steps). Quorums {0,1,2} {0,1,3} {0,2,3} {1,2,3}; all stamps are 1, so the oldest
/// request is node 3's, then 2, 1, 0.
fn arrival_failed_schedule(net: &mut Net) {
    net.input(0);
    net.input(1);
    net.deliver(1, 0, "REQUEST"); // 1 older than the holder 0: INQUIRE to 0 (itself), deferred
    net.deliver(0, 1, "REQUEST"); // 0 younger than 1: FAILED
    net.deliver(1, 3, "REQUEST");
    net.deliver(3, 1, "LOCKED"); // node 1 holds 1 and 3, lacks 0
    net.input(2);
    net.deliver(2, 0, "REQUEST"); // 2 overtakes the waiting 1 at arbiter 0
    net.deliver(1, 0, "FAILED"); // node 0 gives its own lock back: arbiter 0 lends it to 2
    net.deliver(0, 2, "REQUEST");
    net.deliver(2, 0, "FAILED");
    net.deliver(0, 2, "LOCKED"); // node 2 holds 0 and 2, lacks 3
    net.deliver(2, 3, "REQUEST"); // 2 older than the holder 1: INQUIRE to 1
    net.deliver(3, 1, "INQUIRE");
    net.input(3);
    net.deliver(3, 1, "REQUEST");
    net.deliver(3, 2, "REQUEST");
    net.deliver(1, 3, "FAILED");
    net.deliver(2, 3, "FAILED");
}

#[test]
fn failed_only_on_arrival_deadlocks_and_the_failed_to_the_overtaken_request_breaks_it() {
    let mut broken = Net::new(4, Form::ArrivalFailed);
    arrival_failed_schedule(&mut broken);
    // At rest, nobody inside: node 1 holds arbiter 3's lock and defers its INQUIRE, as it
    // was never told that node 2 overtook it at arbiter 0, which lent node 2 its lock.
    assert!(broken.flight.is_empty(), "{:?}", broken.flight);
    assert!(broken.ns.iter().all(|s| s.cs.requesting && !s.cs.in_cs));
    assert_eq!(broken.ns[1].votes.locked, BTreeSet::from([NodeId(1), NodeId(3)]));
    assert!(broken.ns[1].votes.inquired.contains(&NodeId(3)) && !broken.ns[1].votes.knows_it_fails());
    assert_eq!(broken.ns[2].votes.locked, BTreeSet::from([NodeId(0), NodeId(2)]));
    // The paper's form, same schedule: arbiter 0 also told node 1 FAILED when node 2
    // overtook it; when it arrives node 1 gives arbiter 3's lock back, and node 2 enters.
    let mut fixed = Net::new(4, Form::Inquire);
    arrival_failed_schedule(&mut fixed);
    assert_eq!(fixed.flight, vec![(0, 1, Msg::Failed { ts: 1 })]);
    let eff = fixed.deliver(0, 1, "FAILED");
    assert_eq!(sends(&eff), to(&[(3, Msg::Relinquish { ts: 1 })]));
    fixed.deliver(1, 3, "RELINQUISH");
    let eff = fixed.deliver(3, 2, "LOCKED");
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.2".into())]);
}

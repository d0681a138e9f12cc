//! Raymond's handlers, one at a time on a line, a tree and a star, and a small
//! synchronous driver over many delivery orders.

use super::*;
use crate::handler_harness::sends;
use crate::mutex::critical_section::CS_TIMER;
use reparti_core::{Effect, OutputValue, TopologyKind};

const REQ: Msg = Msg::Request;
const PRIV: Msg = Msg::Privilege;

fn run(
    node: &mut Node,
    kind: &TopologyKind,
    n: usize,
    f: impl FnOnce(&mut Node, &mut Context<'_, Msg>),
) -> Vec<Effect<Msg>> {
    let me = node.me;
    crate::handler_harness::run(node, kind.clone(), me, n, f)
}

/// `n` started nodes of a `kind` tree, identities 10, 20, …
fn nodes(kind: &TopologyKind, n: usize, fixed: bool) -> Vec<Node> {
    let a = Raymond { stay: Stay::new(2, 1), fixed };
    let mut ns: Vec<Node> = (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), 10 * (i as u64 + 1), n))).collect();
    for s in &mut ns {
        run(s, kind, n, |s, c| s.on_start(c));
    }
    ns
}

fn line(n: usize) -> (TopologyKind, Vec<Node>) {
    (TopologyKind::Line, nodes(&TopologyKind::Line, n, true))
}

fn entered(effects: &[Effect<Msg>]) -> Vec<OutputValue> {
    crate::handler_harness::outputs(effects, "enter_cs")
}

fn holders(ns: &[Node]) -> Vec<Option<u32>> {
    ns.iter().map(|s| s.holder.map(|h| h.0)).collect()
}

fn queue(s: &Node) -> Vec<u32> {
    s.queue.iter().map(|q| q.0).collect()
}

#[test]
fn holder_starts_at_the_parent_on_a_tree_a_line_and_a_star() {
    let unstarted = Raymond { stay: Stay::new(1, 1), fixed: true }.init(&NodeSetup::new(NodeId(3), 4, 7));
    assert_eq!(unstarted.holder, None, "laid at start, from the topology");
    assert_eq!(holders(&nodes(&TopologyKind::Tree, 7, true)), [0, 0, 0, 1, 1, 2, 2].map(Some));
    assert_eq!(holders(&nodes(&TopologyKind::Line, 4, true)), [0, 0, 1, 2].map(Some));
    assert_eq!(holders(&nodes(&TopologyKind::Star, 4, true)), [0, 0, 0, 0].map(Some));
    assert!(nodes(&TopologyKind::Tree, 7, true).iter().enumerate().all(|(i, s)| s.holds() == (i == 0)));
}

#[test]
fn the_holder_re_enters_without_a_message() {
    let (kind, mut ns) = line(3);
    let eff = run(&mut ns[0], &kind, 3, |s, c| s.on_input(Input::Request, c));
    assert!(sends(&eff).is_empty(), "the holder enters with 0 messages");
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.10".into())]);
    let eff = run(&mut ns[0], &kind, 3, |s, c| s.on_timer(CS_TIMER, c));
    assert!(sends(&eff).is_empty() && ns[0].holds(), "nobody asked: the privilege stays");
    let eff = run(&mut ns[0], &kind, 3, |s, c| s.on_input(Input::Request, c));
    assert_eq!((sends(&eff), entered(&eff)), (vec![], vec![OutputValue::Text("2.10".into())]));
}

#[test]
fn a_request_climbs_the_line_and_the_privilege_comes_down_turning_the_pointers() {
    let (kind, mut ns) = line(3);
    let eff = run(&mut ns[2], &kind, 3, |s, c| s.on_input(Input::Request, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), REQ)]);
    assert!(ns[2].asked && queue(&ns[2]) == [2]);
    let eff = run(&mut ns[1], &kind, 3, |s, c| s.on_message(NodeId(2), REQ, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), REQ)], "relayed towards the privilege");
    let eff = run(&mut ns[0], &kind, 3, |s, c| s.on_message(NodeId(1), REQ, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), PRIV)], "the idle holder gives it at once");
    let eff = run(&mut ns[1], &kind, 3, |s, c| s.on_message(NodeId(0), PRIV, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), PRIV)], "passed on to the head of REQUEST_Q");
    let eff = run(&mut ns[2], &kind, 3, |s, c| s.on_message(NodeId(1), PRIV, c));
    assert_eq!(entered(&eff), vec![OutputValue::Text("1.30".into())]);
    // Every pointer now leads to node 2; nobody has asked anything.
    assert_eq!(holders(&ns), [1, 2, 2].map(Some));
    assert!(ns.iter().all(|s| !s.asked && s.queue.is_empty()));
}

#[test]
fn a_node_that_already_asked_does_not_ask_again() {
    let kind = TopologyKind::Tree;
    let mut ns = nodes(&kind, 7, true);
    // Node 1's children 3 and 4 both ask; node 1 sends one REQUEST up.
    run(&mut ns[3], &kind, 7, |s, c| s.on_input(Input::Request, c));
    run(&mut ns[4], &kind, 7, |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[1], &kind, 7, |s, c| s.on_message(NodeId(3), REQ, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), REQ)]);
    let eff = run(&mut ns[1], &kind, 7, |s, c| s.on_message(NodeId(4), REQ, c));
    assert!(sends(&eff).is_empty(), "ASKED: one REQUEST per privilege");
    assert_eq!(queue(&ns[1]), [3, 4]);
    // The privilege reaches node 1: it goes to 3 first, and node 1 asks it back for 4.
    run(&mut ns[0], &kind, 7, |s, c| s.on_message(NodeId(1), REQ, c));
    let eff = run(&mut ns[1], &kind, 7, |s, c| s.on_message(NodeId(0), PRIV, c));
    assert_eq!(sends(&eff), vec![(NodeId(3), PRIV), (NodeId(3), REQ)]);
    assert!(ns[1].asked && ns[1].holder == Some(NodeId(3)) && queue(&ns[1]) == [4]);
}

#[test]
fn the_holder_in_the_cs_answers_on_leaving_first_come_first_served() {
    let kind = TopologyKind::Star;
    let mut ns = nodes(&kind, 4, true);
    run(&mut ns[0], &kind, 4, |s, c| s.on_input(Input::Request, c));
    assert!(ns[0].cs.in_cs);
    for j in [3u32, 1] {
        let eff = run(&mut ns[0], &kind, 4, |s, c| s.on_message(NodeId(j), REQ, c));
        assert!(sends(&eff).is_empty(), "in the CS the privilege does not move");
    }
    // A request of its own made inside waits behind them.
    run(&mut ns[0], &kind, 4, |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[0], &kind, 4, |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), vec![(NodeId(3), PRIV), (NodeId(3), REQ)], "arrival order, not position");
    assert_eq!(queue(&ns[0]), [1, 0]);
    assert!(ns[0].cs.requesting && !ns[0].cs.in_cs && ns[0].cs.queued == 0);
}

#[test]
fn a_request_overtaking_the_privilege_is_queued_behind_the_ones_it_came_for() {
    let (kind, mut ns) = line(3);
    // Node 1 asked for node 2; node 0, in the CS, also wants it again after.
    run(&mut ns[0], &kind, 3, |s, c| s.on_input(Input::Request, c));
    run(&mut ns[2], &kind, 3, |s, c| s.on_input(Input::Request, c));
    run(&mut ns[1], &kind, 3, |s, c| s.on_message(NodeId(2), REQ, c));
    run(&mut ns[0], &kind, 3, |s, c| s.on_message(NodeId(1), REQ, c));
    run(&mut ns[0], &kind, 3, |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[0], &kind, 3, |s, c| s.on_timer(CS_TIMER, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), PRIV), (NodeId(1), REQ)]);
    // Non-FIFO: the REQUEST comes first, from node 1's own HOLDER. Queued, no REQUEST back.
    let eff = run(&mut ns[1], &kind, 3, |s, c| s.on_message(NodeId(0), REQ, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(queue(&ns[1]), [2, 0]);
    let eff = run(&mut ns[1], &kind, 3, |s, c| s.on_message(NodeId(0), PRIV, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), PRIV), (NodeId(2), REQ)], "on to node 2, then asked back for 0");
}

#[test]
fn duplicates_and_strangers_are_ignored() {
    let (kind, mut ns) = line(4);
    run(&mut ns[2], &kind, 4, |s, c| s.on_message(NodeId(3), REQ, c));
    let before = ns[2].clone();
    for (from, msg) in [(3u32, REQ), (0, REQ), (2, REQ), (9, PRIV), (3, PRIV)] {
        let eff = run(&mut ns[2], &kind, 4, |s, c| s.on_message(NodeId(from), msg, c));
        assert!(sends(&eff).is_empty(), "{from}");
        assert_eq!(ns[2], before, "from {from}: a duplicate, a non-neighbour, itself, not HOLDER");
    }
    // A second PRIVILEGE at the holder: kept one.
    let eff = run(&mut ns[0], &kind, 4, |s, c| s.on_message(NodeId(1), PRIV, c));
    assert!(sends(&eff).is_empty() && ns[0].holds() && ns[1].holder == Some(NodeId(0)));
}

#[test]
fn the_broken_privilege_handler_loses_the_head_of_its_queue() {
    let kind = TopologyKind::Line;
    let mut ns = nodes(&kind, 3, false);
    run(&mut ns[2], &kind, 3, |s, c| s.on_input(Input::Request, c));
    run(&mut ns[1], &kind, 3, |s, c| s.on_message(NodeId(2), REQ, c));
    run(&mut ns[0], &kind, 3, |s, c| s.on_message(NodeId(1), REQ, c));
    let eff = run(&mut ns[1], &kind, 3, |s, c| s.on_message(NodeId(0), PRIV, c));
    assert!(sends(&eff).is_empty(), "node 2 was dequeued and never sent the privilege");
    assert!(ns[1].holds() && ns[1].queue.is_empty());
    assert_eq!(ns[2].unfinished(), Some("requesting: true, in CS: false, queued: 0, REQUEST_Q: [2]".into()));
    // The same step fixed: the privilege goes on to node 2.
    let (kind, mut ok) = line(3);
    run(&mut ok[1], &kind, 3, |s, c| s.on_message(NodeId(2), REQ, c));
    run(&mut ok[0], &kind, 3, |s, c| s.on_message(NodeId(1), REQ, c));
    let eff = run(&mut ok[1], &kind, 3, |s, c| s.on_message(NodeId(0), PRIV, c));
    assert_eq!(sends(&eff), vec![(NodeId(2), PRIV)]);
}

#[test]
fn release_input_leaves_early_and_a_single_node_needs_no_message() {
    let kind = TopologyKind::Tree;
    let mut ns = nodes(&kind, 1, true);
    let eff = run(&mut ns[0], &kind, 1, |s, c| s.on_input(Input::Release, c));
    assert!(entered(&eff).is_empty());
    run(&mut ns[0], &kind, 1, |s, c| s.on_input(Input::Request, c));
    let eff = run(&mut ns[0], &kind, 1, |s, c| s.on_input(Input::Release, c));
    assert!(eff.contains(&Effect::CancelTimer { timer: CS_TIMER }));
    assert!(run(&mut ns[0], &kind, 1, |s, c| s.on_timer(CS_TIMER, c)).is_empty());
    assert_eq!((ns[0].cs.asked, ns[0].cs.served), (1, 1));
    assert_eq!(ns[0].unfinished(), None);
}

/// Delivers messages in the order `pick` gives (the harness's driver), checking one
/// token and the pointer walk before every step; returns (REQUEST, PRIVILEGE, entries).
fn drive(ns: &mut [Node], pick: impl Fn(usize) -> usize) -> (usize, usize, usize) {
    let (mut requests, mut privileges, mut entries) = (0, 0, 0);
    let check = |ns: &[Node], in_flight: &[(NodeId, NodeId, Msg)]| {
        let moving = in_flight.iter().filter(|m| m.2 == PRIV).count();
        assert_eq!(ns.iter().filter(|s| s.holds()).count() + moving, 1, "exactly one token");
        let crashed = vec![false; ns.len()];
        let visit = |f: &mut dyn FnMut(NodeId, NodeId, &Msg)| in_flight.iter().for_each(|(a, b, m)| f(*a, *b, m));
        let w = World { nodes: ns, idents: &[], crashed: &crashed, in_flight: &visit, time: None };
        assert_eq!(holder_tree(&w), Ok(()));
    };
    crate::handler_harness::drive_mutex(ns, 2, pick, check, |_, e| match e {
        Effect::Send { msg, .. } => {
            requests += (*msg == REQ) as usize;
            privileges += (*msg == PRIV) as usize;
        }
        Effect::Output { key: "enter_cs", .. } => entries += 1,
        _ => {}
    });
    (requests, privileges, entries)
}

#[test]
fn every_request_is_served_and_each_request_answered_once_whatever_the_delivery_order() {
    for kind in [TopologyKind::Tree, TopologyKind::Line, TopologyKind::Star] {
        for n in [2usize, 3, 5] {
            for salt in 0..25usize {
                let ctx = format!("{kind} n={n} salt={salt}");
                let mut ns = nodes(&kind, n, true);
                let (requests, privileges, entries) = drive(&mut ns, |len| (salt * 7 + len * 3) % len.max(1));
                assert_eq!(entries, 2 * n, "{ctx}");
                assert_eq!(requests, privileges, "{ctx}: REQUEST = PRIVILEGE");
                assert!(privileges <= (n - 1) * entries, "{ctx}");
                for s in &ns {
                    assert_eq!((s.cs.asked, s.cs.served), (2, 2), "{ctx}");
                    assert_eq!(s.unfinished(), None, "{ctx}");
                }
            }
        }
    }
}

#[test]
fn the_pointer_walk_names_a_cycle_and_stops_where_a_privilege_goes() {
    let (_, mut ns) = line(3);
    let crashed = [false; 3];
    let none = |_: &mut dyn FnMut(NodeId, NodeId, &Msg)| {};
    ns[0].holder = Some(NodeId(1));
    let w = World { nodes: &ns, idents: &[], crashed: &crashed, in_flight: &none, time: None };
    assert_eq!(holder_tree(&w), Err("from node 0, HOLDER cycles: 0 → 1 → 0".into()));
    // With the PRIVILEGE on its way to node 1, the same pointers are right.
    let to_1 = |f: &mut dyn FnMut(NodeId, NodeId, &Msg)| f(NodeId(0), NodeId(1), &PRIV);
    let w = World { nodes: &ns, idents: &[], crashed: &crashed, in_flight: &to_1, time: None };
    assert_eq!(holder_tree(&w), Ok(()));
}

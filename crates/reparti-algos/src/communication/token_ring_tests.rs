//! Unit tests of the token ring's handlers.
use super::*;
use reparti_core::{Effect, Topology, TopologyKind};

fn algo(laps: u32) -> TokenRing {
    TokenRing { holder: 0, laps, sends: 3 }
}

fn node(a: &TokenRing, me: u32, n: usize) -> Node {
    a.init(&NodeSetup::new(NodeId(me), me as u64 + 1, n))
}

/// Runs one handler on `node` in a ring of `n` and returns its effects.
fn run(node: &mut Node, n: usize, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let me = node.me;
    crate::handler_harness::run(node, TopologyKind::Ring, me, n, f)
}

use crate::handler_harness::sends;

#[test]
fn holder_starts_with_the_token_and_passes_it_to_its_successor() {
    let a = algo(2);
    let mut h = node(&a, 0, 4);
    assert!(h.has_token, "the token is in the initial state");
    let eff = run(&mut h, 4, |s, c| s.on_start(c));
    assert!(!h.has_token);
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Token)]);
    let mut other = node(&a, 2, 4);
    assert!(sends(&run(&mut other, 4, |s, c| s.on_start(c))).is_empty());
    assert!(!other.has_token);
}

#[test]
fn a_node_without_the_token_queues_and_sends_when_it_arrives() {
    let a = algo(2);
    let mut s = node(&a, 1, 4);
    let eff = run(&mut s, 4, |s, c| s.on_input(Input::Send { to: NodeId(3), text: "x".into() }, c));
    assert!(sends(&eff).is_empty(), "only the token holder may originate");
    assert_eq!(s.queue.len(), 1);
    let eff = run(&mut s, 4, |s, c| s.on_message(NodeId(0), Msg::Token, c));
    let out = sends(&eff);
    assert_eq!(
        out,
        vec![
            (NodeId(2), Msg::Data { origin: NodeId(1), seq: 0, dest: NodeId(3), hops: 1, text: "x".into() }),
            (NodeId(2), Msg::Token),
        ],
        "data first, then the token moves on"
    );
    assert!(s.queue.is_empty() && !s.has_token);
    assert_eq!(s.sent_to, vec![NodeId(3)]);
}

#[test]
fn relays_forward_data_and_the_destination_delivers_with_its_hop_count() {
    let a = algo(2);
    let mut relay = node(&a, 2, 5);
    let data = Msg::Data { origin: NodeId(1), seq: 4, dest: NodeId(4), hops: 1, text: "t".into() };
    let eff = run(&mut relay, 5, |s, c| s.on_message(NodeId(1), data, c));
    assert_eq!(
        sends(&eff),
        vec![(NodeId(3), Msg::Data { origin: NodeId(1), seq: 4, dest: NodeId(4), hops: 2, text: "t".into() })]
    );
    assert!(relay.delivered.is_empty());
    // A message for no node, or one that has passed every node, is not relayed forever.
    for (dest, hops) in [(NodeId(9), 1), (NodeId(4), 5)] {
        let data = Msg::Data { origin: NodeId(1), seq: 0, dest, hops, text: "t".into() };
        assert!(sends(&run(&mut relay, 5, |s, c| s.on_message(NodeId(1), data, c))).is_empty());
    }

    let mut dest = node(&a, 4, 5);
    let data = Msg::Data { origin: NodeId(1), seq: 4, dest: NodeId(4), hops: 3, text: "t".into() };
    let eff = run(&mut dest, 5, |s, c| s.on_message(NodeId(3), data, c));
    assert!(sends(&eff).is_empty());
    assert!(eff.contains(&Effect::Output { key: "hops", value: OutputValue::Int(3) }));
    assert_eq!(dest.delivered, vec![Delivered { origin: NodeId(1), seq: 4, hops: 3 }]);
}

#[test]
fn the_token_rests_at_the_holder_after_the_given_laps() {
    let a = algo(2);
    let mut h = node(&a, 0, 3);
    run(&mut h, 3, |s, c| s.on_start(c));
    let eff = run(&mut h, 3, |s, c| s.on_message(NodeId(2), Msg::Token, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Token)], "after one lap of two it goes on");
    let eff = run(&mut h, 3, |s, c| s.on_message(NodeId(2), Msg::Token, c));
    assert!(sends(&eff).is_empty(), "after the second lap it rests");
    assert!(h.has_token);
    // A send at the resting holder goes out at once: it holds the token.
    let eff = run(&mut h, 3, |s, c| s.on_input(Input::Send { to: NodeId(2), text: "late".into() }, c));
    assert_eq!(sends(&eff).len(), 1);
    // A release sends the token round once more.
    let eff = run(&mut h, 3, |s, c| s.on_input(Input::Release, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Token)]);
    assert!(eff.contains(&Effect::Output { key: "release", value: OutputValue::Int(1) }));
    let eff = run(&mut h, 3, |s, c| s.on_message(NodeId(2), Msg::Token, c));
    assert!(sends(&eff).is_empty() && h.has_token);
}

#[test]
fn manual_mode_keeps_the_token_until_release() {
    let a = algo(0);
    let mut s = node(&a, 2, 4);
    let eff = run(&mut s, 4, |s, c| s.on_message(NodeId(1), Msg::Token, c));
    assert!(sends(&eff).is_empty());
    assert!(s.has_token);
    let eff = run(&mut s, 4, |s, c| s.on_input(Input::Send { to: NodeId(0), text: "a".into() }, c));
    assert_eq!(sends(&eff).len(), 1, "the holder sends at once");
    let eff = run(&mut s, 4, |s, c| s.on_input(Input::Release, c));
    assert_eq!(sends(&eff), vec![(NodeId(3), Msg::Token)]);
    assert!(!s.has_token);
    let eff = run(&mut s, 4, |s, c| s.on_input(Input::Release, c));
    assert!(sends(&eff).is_empty(), "nothing to release");
}

#[test]
fn bad_destinations_are_refused_without_panicking() {
    let a = algo(2);
    let mut s = node(&a, 1, 4);
    for to in [NodeId(1), NodeId(4), NodeId(u32::MAX)] {
        let eff = run(&mut s, 4, |s, c| s.on_input(Input::Send { to, text: "x".into() }, c));
        assert!(sends(&eff).is_empty());
        assert!(eff.iter().any(|e| matches!(e, Effect::Log(_))));
    }
    assert!(s.queue.is_empty());
}

#[test]
fn the_terminal_check_catches_loss_duplicates_and_wrong_hops() {
    let a = algo(2);
    let mut nodes: Vec<Node> = (0..4).map(|i| node(&a, i, 4)).collect();
    nodes[1].sent_to = vec![NodeId(3)];
    let no_flight = |_: &mut dyn FnMut(NodeId, NodeId, &Msg)| {};
    let check = |nodes: &[Node]| {
        let idents = [1, 2, 3, 4];
        let crashed = [false; 4];
        all_delivered(&World { nodes, idents: &idents, crashed: &crashed, in_flight: &no_flight, time: None })
    };
    assert!(check(&nodes).is_err(), "not delivered");
    nodes[3].delivered = vec![Delivered { origin: NodeId(1), seq: 0, hops: 2 }];
    assert_eq!(check(&nodes), Ok(()));
    nodes[3].delivered[0].hops = 6;
    assert!(check(&nodes).is_err(), "looped once round the ring");
    nodes[3].delivered = vec![Delivered { origin: NodeId(1), seq: 0, hops: 2 }; 2];
    assert!(check(&nodes).is_err(), "duplicate");
    nodes[3].delivered.clear();
    nodes[2].delivered = vec![Delivered { origin: NodeId(1), seq: 0, hops: 1 }];
    assert!(check(&nodes).is_err(), "wrong node");
    nodes[2].delivered.clear();
    nodes[3].delivered = vec![Delivered { origin: NodeId(1), seq: 0, hops: 2 }];
    nodes[0].queue.push_back(Queued { to: NodeId(2), text: String::new() });
    assert!(check(&nodes).is_err(), "still queued");
}

#[test]
fn workload_gives_each_node_its_sends_to_other_nodes() {
    let a = algo(2);
    let topo = Topology::build(&TopologyKind::Ring, 6, &mut reparti_core::rng(0)).expect("ring");
    let idents: Vec<u64> = (1..=6).collect();
    let setup = WorkloadSetup { n: 6, idents: &idents, topology: &topo };
    let w = a.workload(&setup, &mut reparti_core::rng(7));
    assert_eq!(w.len(), 18);
    for i in 0..6 {
        assert_eq!(w.iter().filter(|s| s.node == NodeId(i)).count(), 3);
    }
    for s in &w {
        let Input::Send { to, .. } = &s.input else { panic!("the workload only sends") };
        assert!(to.0 < 6 && *to != s.node);
    }
    assert_eq!(w, a.workload(&setup, &mut reparti_core::rng(7)), "same seed, same workload");
}

#[test]
fn expectations_follow_laps_and_outputs() {
    let a = algo(3);
    let mut outputs = std::collections::BTreeMap::new();
    outputs.insert("hops".to_string(), [(OutputValue::Int(1), 2u64), (OutputValue::Int(3), 1)].into());
    let params = Params::default();
    let sent = std::collections::BTreeMap::new();
    let facts = RunFacts {
        n: 4,
        idents: &[1, 2, 3, 4],
        params: &params,
        outputs: &outputs,
        sent_by_type: &sent,
        topology: None,
    };
    let e = a.expected(&facts);
    assert_eq!(e[0], Expectation::exact("TOKEN", "laps·n", 12.0));
    assert_eq!(e[1].holds(5.0), Some(true));
    assert_eq!(e[3].holds(17.0), Some(true));
}

//! The BFS node's two functions, round by round, outside any runner.

use super::*;
use crate::handler_harness::{outputs, sends};
use reparti_core::{Effect, NodeSetup, OutputValue, Process, TopologyKind};

/// The node as a process of its own, so that the handler harness can run its two
/// functions (a round process is not a `Process`: a runner makes it one).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Alone(BfsNode);

impl Process for Alone {
    type Msg = Msg;
    type Input = ();
    fn on_message(&mut self, _: NodeId, _: Msg, _: &mut Context<'_, Msg>) {}
}

fn run(
    s: &mut BfsNode,
    kind: TopologyKind,
    me: NodeId,
    n: usize,
    f: impl FnOnce(&mut BfsNode, &mut Context<'_, Msg>),
) -> Vec<Effect<Msg>> {
    let mut alone = Alone(s.clone());
    let effects = crate::handler_harness::run(&mut alone, kind, me, n, |a, c| f(&mut a.0, c));
    *s = alone.0;
    effects
}

fn node(me: u32, n: usize, root: u32) -> BfsNode {
    Bfs { root: NodeId(root) }.init(&NodeSetup::new(NodeId(me), 1, n))
}

fn send(s: &BfsNode, round: u32, kind: &TopologyKind, n: usize) -> Vec<(NodeId, Msg)> {
    let mut copy = s.clone();
    sends(&run(&mut copy, kind.clone(), s.me, n, |s, c| s.send(round, c)))
}

#[test]
fn a_node_joins_the_smallest_sender_of_its_first_join_round_and_sends_on_one_round_later() {
    let kind = TopologyKind::Grid; // 3×3: node 4 in the middle, neighbours 1, 3, 5, 7
    let mut s = node(4, 9, 0);
    assert!(send(&s, 1, &kind, 9).is_empty(), "not in the tree yet");
    let eff = run(&mut s, kind.clone(), NodeId(4), 9, |s, c| s.receive(1, &[], c));
    assert!(eff.is_empty() && s.depth.is_none());
    let inbox = [(NodeId(1), Msg::Join), (NodeId(3), Msg::Join)];
    let eff = run(&mut s, kind.clone(), NodeId(4), 9, |s, c| s.receive(2, &inbox, c));
    assert_eq!((s.parent, s.depth), (Some(NodeId(1)), Some(2)));
    assert_eq!(outputs(&eff, "parent"), vec![OutputValue::Int(1)]);
    assert_eq!(
        send(&s, 3, &kind, 9),
        vec![(NodeId(5), Msg::Join), (NodeId(7), Msg::Join), (NodeId(1), Msg::Child)],
        "JOIN to all but the layer above, CHILD to the parent"
    );
    assert!(send(&s, 4, &kind, 9).is_empty());
    let eff = run(&mut s, kind.clone(), NodeId(4), 9, |s, c| s.receive(4, &[(NodeId(5), Msg::Child)], c));
    assert!(s.halted() && s.children == BTreeSet::from([NodeId(5)]));
    assert_eq!(outputs(&eff, "children"), vec![OutputValue::Int(1)]);
}

#[test]
fn the_root_floods_in_round_one_and_halts_after_round_two() {
    let kind = TopologyKind::Line;
    let mut root = node(1, 3, 1);
    assert_eq!(send(&root, 1, &kind, 3), vec![(NodeId(0), Msg::Join), (NodeId(2), Msg::Join)]);
    let eff = run(&mut root, kind.clone(), NodeId(1), 3, |s, c| s.receive(1, &[], c));
    assert_eq!(outputs(&eff, "depth"), vec![OutputValue::Int(0)]);
    assert!(!root.halted());
    run(&mut root, kind.clone(), NodeId(1), 3, |s, c| {
        s.receive(2, &[(NodeId(0), Msg::Child), (NodeId(2), Msg::Child)], c)
    });
    assert!(root.halted() && root.children.len() == 2);
}

#[test]
fn an_unreachable_node_gives_up_after_n_rounds() {
    let mut s = node(2, 3, 0);
    for r in 1..3 {
        run(&mut s, TopologyKind::Line, NodeId(2), 3, |s, c| s.receive(r, &[], c));
        assert!(!s.halted());
    }
    run(&mut s, TopologyKind::Line, NodeId(2), 3, |s, c| s.receive(3, &[], c));
    assert!(s.halted() && s.depth.is_none());
}

#[test]
fn rounds_and_counts_from_the_topology() {
    let grid = Topology::build(&TopologyKind::Grid, 9, &mut reparti_core::rng(0)).expect("a grid");
    assert_eq!(Bfs { root: NodeId(0) }.rounds_run(&grid), Some(vec![2, 3, 4, 3, 4, 5, 4, 5, 6]));
}

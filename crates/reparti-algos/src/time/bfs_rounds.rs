//! # Synchronous BFS: a breadth-first spanning tree in rounds, from a root
//!
//! **What.** The root floods JOIN in round 1; a node that first hears JOIN in round d
//! is at depth d (its hop distance from the root), takes the smallest of that round's
//! senders as its parent, and in round d+1 sends JOIN on to its other neighbours and
//! CHILD to its parent. In round d+2 it hears CHILD from its children, knows them, and
//! halts. Written in rounds ([`RoundProcess`]), run in lock step (`bfs-rounds`, with
//! `--sync`) or over synchronizer α (`bfs-alpha`, any network): the same tree either way.
//!
//! **Source.** N. Lynch, *Distributed Algorithms*, 1996, §4.2 (`SynchBFS`, with the
//! child-pointer variant); B. Awerbuch, JACM 32(4), 1985, whose applications include
//! breadth-first search run over a synchronizer.
//!
//! ```text
//! root:  depth ← 0, parent ← itself;  round 1: send JOIN to every neighbour
//! round r, receive:  if no parent ∧ JOIN from S ≠ ∅:  parent ← min S; depth ← r; output both
//!                    if r = depth + 2: children ← senders of CHILD; output; halt
//! round depth+1, send:  JOIN to every neighbour not in S;  CHILD to parent (root: none)
//! ```
//!
//! **How it runs here.** Parameter `root` (a position, default 0). Outputs `parent`
//! and `depth` when a node joins (the root at the end of round 1, as its own parent,
//! depth 0) and `children` (how many) when it halts. "Smallest sender" is by position:
//! the inbox comes sorted by sender, so it is the first JOIN of the inbox, whatever
//! order the network delivered them in. Topologies: the connected, undirected ones of
//! the house (grid by default, line, tree, star, complete, bidirectional ring, torus,
//! hypercube, random); an edge list (`file:PATH`) must be undirected and connected —
//! a node still unreached after round n−1 never will be, halts at round n, and "every
//! node reached" then fails, saying which.
//!
//! **Pitfalls.**
//! * Taking the first JOIN *to arrive* as parent: under α or any asynchronous run the
//!   tree then depends on delays; it is a BFS tree only because rounds are respected,
//!   and the same one only because the inbox is sorted.
//! * Halting as soon as it has joined, or one round later: the node would never learn
//!   its children (their CHILD messages come in round d+2).
//! * JOIN back to the nodes it heard JOIN from: harmless (they have joined) but one
//!   message per edge between layers for nothing.
//!
//! **Properties.** After every event: [`DEPTH_IS_DISTANCE`] (a node's depth, once set,
//! is its hop distance from the root) and [`PARENT_ONE_UP`] (a parent is a neighbour
//! one layer up). At the end: [`ALL_REACHED`] (every node joined, halted and knows
//! exactly the nodes that chose it as parent) — on a connected topology.
//!
//! **Costs.** An edge between two layers carries one JOIN (downwards); an edge inside a
//! layer carries two (one each way): JOIN = 2|E| − E_×, E_× the edges between layers
//! (n−1 of them on a tree); CHILD = n − 1. Node v runs d(v) + 2 rounds; the run takes
//! ecc(root) + 2 rounds. Declared exactly from the run's topology.

use super::rounds::{RoundAlgorithm, RoundHost, RoundProcess};
use reparti_core::{
    AlgorithmSpec, Chapter, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params,
    Properties, RunFacts, Terminal, Topology, World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// Depths are hop distances.
pub const DEPTH_IS_DISTANCE: &str = "depth = hop distance from the root";
/// Parents are one layer up.
pub const PARENT_ONE_UP: &str = "parent is a neighbour at depth − 1";
/// The end state.
pub const ALL_REACHED: &str = "every node reached, halted, and knows its children";

/// The parameter: the root.
pub const PARAMS: &[ParamSpec] = &[ParamSpec::node("root", "0", "the node the tree grows from")];

/// The messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "I am in the tree: join it through me."
    Join,
    /// "I chose you as my parent."
    Child,
}

/// One node.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct BfsNode {
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes (bounds how long an unreached node waits).
    pub n: u32,
    /// Whether this node is the root.
    pub root: bool,
    /// Its parent, once joined (the root's is itself).
    pub parent: Option<NodeId>,
    /// Its depth, once joined.
    pub depth: Option<u32>,
    /// Who sent JOIN in the round it joined (one layer up): no JOIN goes back to them.
    pub up: BTreeSet<NodeId>,
    /// Who chose it as parent, once known.
    pub children: BTreeSet<NodeId>,
    /// Halted.
    pub done: bool,
}

impl RoundProcess for BfsNode {
    type Msg = Msg;

    fn send(&self, round: u32, ctx: &mut Context<'_, Msg>) {
        if self.depth.map(|d| d + 1) != Some(round) {
            return;
        }
        let targets: BTreeSet<NodeId> = ctx.neighbours().into_iter().filter(|j| *j != self.me).collect();
        for j in targets.difference(&self.up) {
            ctx.send(*j, Msg::Join);
        }
        match self.parent {
            Some(p) if !self.root => ctx.send(p, Msg::Child),
            _ => {}
        }
    }

    fn receive(&mut self, round: u32, inbox: &[(NodeId, Msg)], ctx: &mut Context<'_, Msg>) {
        if self.root && round == 1 {
            ctx.output("parent", self.me.0);
            ctx.output("depth", 0u32);
        }
        if self.depth.is_none() {
            self.up = inbox.iter().filter(|(_, m)| *m == Msg::Join).map(|(j, _)| *j).collect();
            if let Some(&first) = self.up.first() {
                self.parent = Some(first);
                self.depth = Some(round);
                ctx.output("parent", first.0);
                ctx.output("depth", round);
            } else if round >= self.n {
                ctx.log(format!("no JOIN after {round} rounds: unreachable from the root, halting"));
                self.done = true;
            }
        }
        if self.depth.map(|d| d + 2) == Some(round) {
            self.children = inbox.iter().filter(|(_, m)| *m == Msg::Child).map(|(j, _)| *j).collect();
            ctx.output("children", self.children.len());
            self.done = true;
        }
    }

    fn halted(&self) -> bool {
        self.done
    }
}

/// `bfs-rounds`: synchronous BFS in lock step, for `--sync`.
pub type BfsRounds = super::rounds::LockStep<Bfs>;
/// `bfs-alpha`: synchronous BFS over synchronizer α, for any network.
pub type BfsAlpha = super::synchronizer_alpha::Alpha<Bfs>;

/// Synchronous BFS (see the [module documentation](self)), for the runners.
pub struct Bfs {
    root: NodeId,
}

/// Hop distances from the root over the hosts' neighbour sets (`None`: unreached).
fn distances<H: RoundHost<App = BfsNode>>(w: &World<'_, H>) -> Vec<Option<u32>> {
    let mut hops = vec![None; w.nodes.len()];
    let Some(root) = w.nodes.iter().position(|s| s.app().root) else { return hops };
    hops[root] = Some(0);
    let mut queue = VecDeque::from([root]);
    while let Some(u) = queue.pop_front() {
        let next = hops[u].map(|h| h + 1);
        for v in w.nodes[u].neighbours() {
            if let Some(slot @ None) = hops.get_mut(v.index()) {
                *slot = next;
                queue.push_back(v.index());
            }
        }
    }
    hops
}

fn all_started<H: RoundHost>(w: &World<'_, H>) -> bool {
    w.nodes.len() < 2 || w.nodes.iter().all(|s| !s.neighbours().is_empty() || s.round() > 0)
}

fn depth_is_distance<H: RoundHost<App = BfsNode>>(w: &World<'_, H>) -> Result<(), String> {
    if !all_started(w) {
        return Ok(());
    }
    let hops = distances(w);
    for (i, s) in w.nodes.iter().enumerate() {
        if let Some(d) = s.app().depth {
            if hops[i] != Some(d) {
                let truth = hops[i].map_or("unreachable".to_string(), |h| format!("{h} hops away"));
                return Err(format!("node {i} has depth {d} but is {truth} from the root"));
            }
        }
    }
    Ok(())
}

fn parent_one_up<H: RoundHost<App = BfsNode>>(w: &World<'_, H>) -> Result<(), String> {
    for (i, s) in w.nodes.iter().enumerate() {
        let (Some(p), Some(d)) = (s.app().parent, s.app().depth) else { continue };
        if s.app().root {
            continue;
        }
        if !s.neighbours().contains(&p) {
            return Err(format!("node {i}'s parent {p} is not a neighbour"));
        }
        let up = w.nodes.get(p.index()).and_then(|q| q.app().depth);
        if up.map(|u| u + 1) != Some(d) {
            return Err(format!("node {i} at depth {d} has parent {p} at depth {up:?}"));
        }
    }
    Ok(())
}

fn all_reached<H: RoundHost<App = BfsNode>>(w: &World<'_, H>) -> Result<(), String> {
    for (i, s) in w.nodes.iter().enumerate() {
        let a = s.app();
        if a.depth.is_none() {
            return Err(format!("node {i} was never reached (is the topology connected?)"));
        }
        if !a.done {
            return Err(format!("node {i} has not halted (round {})", s.round()));
        }
        let chose: BTreeSet<NodeId> = w
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, t)| *j != i && t.app().parent == Some(a.me) && !t.app().root)
            .map(|(j, _)| NodeId(j as u32))
            .collect();
        if chose != a.children {
            return Err(format!("node {i} knows children {:?} but {:?} chose it", a.children, chose));
        }
    }
    Ok(())
}

impl RoundAlgorithm for Bfs {
    type Node = BfsNode;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["grid", "line", "tree", "star", "complete", "bidir-ring", "torus", "hypercube", "random"],
            default_nodes: 9,
            ..AlgorithmSpec::new(
                "bfs",
                Chapter::Time,
                "Synchronous BFS tree: layer d joins in round d, parent = smallest sender, children by CHILD",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Bfs { root: NodeId(params.get::<u32>("root")?) })
    }

    fn init(&self, setup: &NodeSetup) -> BfsNode {
        let root = setup.me == self.root;
        BfsNode {
            me: setup.me,
            n: setup.n as u32,
            root,
            parent: root.then_some(setup.me),
            depth: root.then_some(0),
            up: BTreeSet::new(),
            children: BTreeSet::new(),
            done: false,
        }
    }

    fn properties<H: RoundHost<App = BfsNode>>(&self) -> Properties<H> {
        Properties {
            invariants: vec![
                Invariant::<H>::global(DEPTH_IS_DISTANCE, depth_is_distance),
                Invariant::<H>::global(PARENT_ONE_UP, parent_one_up),
            ],
            terminal: vec![Terminal::<H>::new(ALL_REACHED, all_reached)],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let Some(topology) = facts.topology else { return Vec::new() };
        let hops = topology.hops_from(self.root);
        let reached = hops.iter().flatten().count() as f64;
        let edges = super::rounds::undirected_edges(topology);
        let between_layers = topology
            .channels()
            .filter(|(a, b)| a < b)
            .filter(|(a, b)| matches!((hops[a.index()], hops[b.index()]), (Some(x), Some(y)) if x.abs_diff(y) == 1))
            .count();
        vec![
            Expectation::exact("JOIN", "2|E| − E_× (edges between layers)", (2 * edges - between_layers) as f64),
            Expectation::exact("CHILD", "n − 1", (reached - 1.0).max(0.0)),
        ]
    }

    fn rounds_run(&self, topology: &Topology) -> Option<Vec<u32>> {
        let n = topology.len() as u32;
        Some(topology.hops_from(self.root).into_iter().map(|h| h.map_or(n, |d| d + 2)).collect())
    }
}

#[cfg(test)]
#[path = "bfs_rounds_tests.rs"]
mod tests;

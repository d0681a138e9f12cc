//! # Self-stabilizing BFS spanning tree (1993): the min+1 rule with bounded distances
//!
//! *What.* On any graph with a designated root, every node keeps a distance estimate
//! `d` and a parent. The root claims distance 0; every other node takes one more than
//! the smallest estimate among its neighbours, capped at D_max, and the lowest-id
//! neighbour holding that smallest estimate as its parent. From any configuration, the
//! estimates settle on the hop distances to the root and the parents on a
//! breadth-first spanning tree; then no guard holds (the algorithm is *silent*).
//!
//! **Source.** S. Dolev, A. Israeli, S. Moran, "Self-stabilization of dynamic systems
//! assuming only read/write atomicity", Distributed Computing 7(1):3–16, 1993; also
//! S. Dolev, *Self-Stabilization*, MIT Press, 2000, §2.5.
//!
//! ```text
//! root r:   correct: if (d, parent) ≠ (0, ⊥) then (d, parent) := (0, ⊥)
//! v ≠ r:    m := min { d[u] : u neighbour of v }
//!           target := (min(D_max, m + 1), the lowest-id neighbour u with d[u] = m)
//!           (no neighbours: (D_max, ⊥))
//!           correct: if (d, parent) ≠ target then (d, parent) := target
//! ```
//!
//! One rule, `correct` ([`BfsTree::rule_names`]).
//!
//! **How it runs here.** In the state-reading model ([`reparti_core::guarded`]): under
//! `reparti sim` a daemon picks the moves; under `reparti check` every configuration of a
//! small graph is a start (domain of v: d ∈ 0..=D_max, parent ∈ {⊥} ∪ neighbours, the
//! root's too, since a fault may corrupt it) and every daemon choice is explored; on
//! real processes each node sends `(d, parent)` to its neighbours periodically and moves
//! on the last states received ([`reparti_core::guarded::exchange`]). Edges are taken
//! as undirected: v reads u when either channel u → v or v → u exists. Parameters:
//! `root` (default 0) and `d_max` (default `n-1`; `n`, `n-2`, … or a number ≥ 1).
//!
//! **Pitfalls.**
//! * *No cap: counting to infinity.* Nodes cut off from the root (a partition, or a
//!   root corrupted away in the past) keep raising one another's estimates for ever.
//!   The cap D_max bounds it: they settle at D_max.
//! * *D_max too small.* D_max ≥ n − 1 guarantees correctness on any connected graph.
//!   With D_max below the root's eccentricity the run still stabilizes, but the far
//!   nodes legitimately read D_max, and their parents point to any lowest-id neighbour
//!   at D_max: the tree is then BFS only up to depth D_max. It is allowed, to show it.
//! * *Ties not broken by id.* A move that may take *any* neighbour with the minimum
//!   leaves one legitimate configuration per BFS tree, and a guard "state ≠ target"
//!   then has no single target to compare with; the lowest id makes the fixed point
//!   unique and the guard a plain inequality.
//!
//! **Properties.** L = no guard enabled anywhere (a silent algorithm). In L the root
//! holds (0, ⊥); every node v connected to the root holds d = min(dist(v, r), D_max),
//! and its parent is its lowest-id neighbour holding the least estimate around it
//! (for dist(v, r) ≤ D_max, a neighbour one hop closer to the root: the parents form a
//! BFS tree); every node cut off from the root holds D_max. This fixed point is
//! unique: only the root can hold 0 (D_max ≥ 1), a node holding k < D_max has a
//! neighbour holding k − 1, and a component without the root has no node below D_max.
//! * *Closure*: trivial, no move is possible in L.
//! * *Convergence* under every daemon. Synchronously, after round t every node within
//!   t − 1 hops of the root is correct and every other node holds at least
//!   min(t, D_max): on a connected graph with D_max ≥ D, L is reached within D + 1
//!   rounds, D the root's eccentricity. A component cut off from the root counts up
//!   to D_max, one per round at least, and may need one more round to fix its parents.
//!
//! **Costs.** Synchronous rounds to reach L, checked from every start on small graphs
//! by the tests: at most D + 1 on a connected graph (D = eccentricity of the root); at
//! most max(D + 1, D_max + 1) when some nodes are cut off (the root alone and the path
//! 1 – 2 – 3 with D_max = 1 take 2 rounds).

use reparti_core::guarded::{Guarded, RuleSet};
use reparti_core::{AlgorithmSpec, Chapter, NodeId, ParamSpec, Params, Rng, Topology};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The BFS tree instance: the graph, the root and the cap on distances.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct BfsTree {
    /// The number of nodes.
    pub n: usize,
    /// The root's position.
    pub root: u32,
    /// The cap on distance estimates.
    pub d_max: u32,
    /// Each node's neighbours (channels either way), sorted, without repeats or itself.
    pub adj: Vec<Vec<u32>>,
}

/// One node's state: its distance estimate and its parent.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Dist {
    /// The distance estimate, `0..=D_max`.
    pub d: u32,
    /// The parent, a neighbour (`None` at the root, or without neighbours).
    pub parent: Option<u32>,
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::node("root", "0", "the root's position: it claims distance 0"),
    ParamSpec::text(
        "d_max",
        "n-1",
        "the cap on distance estimates: n-1 (enough on any connected graph), n-2, … or a number ≥ 1",
    ),
];

impl BfsTree {
    /// The instance on `adj` (made symmetric, sorted and deduplicated), with no checks
    /// on `root` and `d_max`: use [`Guarded::build`] for user input.
    pub fn new(adj: Vec<Vec<u32>>, root: u32, d_max: u32) -> BfsTree {
        let n = adj.len();
        let mut sym = vec![Vec::new(); n];
        for (i, list) in adj.iter().enumerate() {
            for &j in list {
                if j as usize != i && (j as usize) < n {
                    sym[i].push(j);
                    sym[j as usize].push(i as u32);
                }
            }
        }
        for l in &mut sym {
            l.sort_unstable();
            l.dedup();
        }
        BfsTree { n, root, d_max, adj: sym }
    }

    /// Hop distances from the root, `None` where no path leads.
    pub fn distances(&self) -> Vec<Option<u32>> {
        let mut dist = vec![None; self.n];
        let Some(first) = dist.get_mut(self.root as usize) else { return dist };
        *first = Some(0);
        let mut queue = VecDeque::from([self.root]);
        while let Some(u) = queue.pop_front() {
            let next = dist[u as usize].map_or(0, |d| d + 1);
            for &v in &self.adj[u as usize] {
                if dist[v as usize].is_none() {
                    dist[v as usize] = Some(next);
                    queue.push_back(v);
                }
            }
        }
        dist
    }

    /// What `v`'s rule writes in `config`.
    pub fn target(&self, v: usize, config: &[Dist]) -> Dist {
        if v == self.root as usize {
            return Dist { d: 0, parent: None };
        }
        // The first neighbour with the least estimate (neighbours are sorted by id).
        let best = self.adj[v].iter().map(|&u| (config[u as usize].d, u)).min_by_key(|&(d, _)| d);
        match best {
            Some((m, u)) => Dist { d: m.saturating_add(1).min(self.d_max), parent: Some(u) },
            None => Dist { d: self.d_max, parent: None },
        }
    }
}

impl Guarded for BfsTree {
    type State = Dist;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["grid", "bidir-ring", "line", "tree", "star", "torus", "hypercube", "complete", "random"],
            default_nodes: 9,
            ..AlgorithmSpec::new(
                "ss-bfs-tree",
                Chapter::Selfstab,
                "Dolev, Israeli, Moran (1993): self-stabilizing BFS tree by the min+1 rule, distances capped at D_max",
            )
        }
    }

    fn rule_names() -> &'static [&'static str] {
        &["correct"]
    }

    fn build(params: &Params, topology: &Topology) -> Result<Self, String> {
        let n = topology.len();
        let root: usize = params.get("root").map_err(|e| e.to_string())?;
        if root >= n {
            return Err(format!(
                "parameter root={root}: the nodes are numbered 0 to {}; give root=0",
                n.saturating_sub(1)
            ));
        }
        let d_max = super::relative_param(params, "d_max", n)?;
        if d_max < 1 {
            return Err(format!(
                "parameter d_max={d_max}: the cap must be at least 1; give d_max=n-1 with 2 nodes or more, or d_max=1"
            ));
        }
        let d_max =
            u32::try_from(d_max).map_err(|_| format!("parameter d_max={d_max} is too large; give d_max=n-1"))?;
        let adj = (0..n).map(|i| topology.neighbours(NodeId(i as u32)).into_iter().map(|j| j.0).collect()).collect();
        Ok(BfsTree::new(adj, root as u32, d_max))
    }

    fn n(&self) -> usize {
        self.n
    }

    fn reads(&self, node: NodeId) -> Vec<NodeId> {
        self.adj[node.index()].iter().map(|&u| NodeId(u)).collect()
    }

    fn domain(&self, node: NodeId) -> Vec<Dist> {
        let parents: Vec<Option<u32>> =
            std::iter::once(None).chain(self.adj[node.index()].iter().map(|&u| Some(u))).collect();
        (0..=self.d_max).flat_map(|d| parents.iter().map(move |&parent| Dist { d, parent })).collect()
    }

    fn legitimate_start(&self) -> Vec<Dist> {
        let capped: Vec<Dist> = self
            .distances()
            .into_iter()
            .map(|h| Dist { d: h.map_or(self.d_max, |h| h.min(self.d_max)), parent: None })
            .collect();
        // The capped distances are the rule's fixed point: only the parents are left.
        (0..self.n).map(|v| self.target(v, &capped)).collect()
    }

    fn enabled(&self, node: NodeId, config: &[Dist]) -> RuleSet {
        RuleSet::from(config[node.index()] != self.target(node.index(), config))
    }

    fn apply(&self, node: NodeId, _rule: usize, config: &[Dist]) -> Dist {
        self.target(node.index(), config)
    }

    fn legitimate(&self, config: &[Dist]) -> bool {
        (0..self.n).all(|v| config[v] == self.target(v, config))
    }

    fn value(&self, _node: NodeId, state: &Dist) -> i64 {
        i64::from(state.d)
    }

    fn random_state(&self, node: NodeId, rng: &mut Rng) -> Dist {
        use rand::Rng as _;
        let adj = &self.adj[node.index()];
        let d = rng.gen_range(0..=self.d_max);
        let k = rng.gen_range(0..=adj.len());
        Dist { d, parent: k.checked_sub(1).map(|k| adj[k]) }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{all_configs, build};
    use super::*;
    use reparti_core::guarded::{privileged, step, Move};

    fn dist(d: u32, parent: Option<u32>) -> Dist {
        Dist { d, parent }
    }

    /// Synchronous rounds from `start` until no guard holds (at most `limit`).
    fn rounds(g: &BfsTree, start: &[Dist], limit: usize) -> Option<usize> {
        let mut c = start.to_vec();
        for r in 0..=limit {
            let moves: Vec<Move> = privileged(g, &c).into_iter().map(|(node, _)| Move { node, rule: 0 }).collect();
            if moves.is_empty() {
                assert!(g.legitimate(&c));
                return Some(r);
            }
            c = step(g, &c, &moves);
        }
        None
    }

    #[test]
    fn guards_on_hand_made_configurations() {
        // The line 0 - 1 - 2 - 3, root 0, cap 3.
        let g = BfsTree::new(vec![vec![1], vec![2], vec![3], vec![]], 0, 3);
        assert_eq!(g.adj, vec![vec![1], vec![0, 2], vec![1, 3], vec![2]]);
        let c = [dist(2, Some(1)), dist(0, None), dist(3, Some(3)), dist(3, Some(2))];
        assert_eq!(g.target(0, &c), dist(0, None));
        assert_eq!(g.target(1, &c), dist(3, Some(0)), "min(3, 2 + 1) from node 0");
        assert_eq!(g.target(2, &c), dist(1, Some(1)));
        assert_eq!(g.target(3, &c), dist(3, Some(2)), "capped at D_max");
        assert_eq!(g.enabled(NodeId(3), &c), 0);
        assert_eq!(g.enabled(NodeId(2), &c), 1);
        // Ties go to the lowest id: node 3 of the square 0-1, 0-2, 1-3, 2-3.
        let sq = BfsTree::new(vec![vec![1, 2], vec![3], vec![3], vec![]], 0, 3);
        assert_eq!(sq.legitimate_start()[3], dist(2, Some(1)));
        // A node without neighbours settles at D_max.
        let lone = BfsTree::new(vec![vec![], vec![]], 0, 5);
        assert_eq!(lone.legitimate_start(), vec![dist(0, None), dist(5, None)]);
    }

    #[test]
    fn build_reads_root_and_cap() {
        let g = build::<BfsTree>("grid", 9, &[("root", "4"), ("d_max", "n-2")]).expect("valid");
        assert_eq!((g.root, g.d_max, g.adj[4].len()), (4, 7, 4));
        assert!(build::<BfsTree>("line", 1, &[]).is_err_and(|e| e.contains("at least 1")));
        assert!(build::<BfsTree>("line", 3, &[("d_max", "0")]).is_err());
        assert!(build::<BfsTree>("line", 3, &[("d_max", "x")]).is_err_and(|e| e.contains("expected n")));
        // A one-way ring is read both ways.
        let ring = build::<BfsTree>("ring", 4, &[]).expect("valid");
        assert_eq!(ring.adj[0], vec![1, 3]);
    }

    #[test]
    fn legitimate_start_is_legitimate() {
        for (topology, n, root) in [("grid", 9, "0"), ("grid", 9, "4"), ("line", 5, "0"), ("line", 5, "2")] {
            let g = build::<BfsTree>(topology, n, &[("root", root)]).expect("valid");
            let start = g.legitimate_start();
            assert!(g.legitimate(&start), "{topology} {n} root {root}: {start:?}");
            let dists = g.distances();
            for (v, s) in start.iter().enumerate() {
                assert_eq!(Some(s.d), dists[v]);
                if let Some(p) = s.parent {
                    assert_eq!(Some(s.d - 1), dists[p as usize], "the parent is one hop closer");
                }
            }
        }
        // With a small cap, far nodes read D_max.
        let g = build::<BfsTree>("line", 5, &[("d_max", "2")]).expect("valid");
        let d: Vec<u32> = g.legitimate_start().iter().map(|s| s.d).collect();
        assert_eq!(d, vec![0, 1, 2, 2, 2]);
    }

    #[test]
    fn synchronous_rounds_within_eccentricity_plus_one() {
        let g = build::<BfsTree>("grid", 9, &[]).expect("valid");
        let ecc = g.distances().into_iter().flatten().max().unwrap_or(0) as usize;
        assert_eq!(ecc, 4);
        // Random-ish fixed starts, and the adversarial all-zeros.
        let mut rng = reparti_core::rng(7);
        for _ in 0..200 {
            let start: Vec<Dist> = (0..g.n).map(|v| g.random_state(NodeId(v as u32), &mut rng)).collect();
            let r = rounds(&g, &start, 100).expect("converges");
            assert!(r <= ecc + 1, "{r} rounds from {start:?}");
        }
        let zeros = vec![dist(0, None); g.n];
        assert!(rounds(&g, &zeros, 100).is_some_and(|r| r <= ecc + 1));
        // Every start of a small line, exhaustively, also with a cap below the eccentricity.
        for d_max in ["n-1", "2", "1"] {
            let g = build::<BfsTree>("line", 4, &[("d_max", d_max)]).expect("valid");
            for start in all_configs(&g) {
                assert!(rounds(&g, &start, 100).is_some_and(|r| r <= 3 + 1), "d_max = {d_max}, {start:?}");
            }
        }
    }

    #[test]
    fn a_partition_counts_up_to_the_cap() {
        // 0 - 1 and 2 - 3, root 0: nodes 2 and 3 settle at D_max.
        let g = BfsTree::new(vec![vec![1], vec![], vec![3], vec![]], 0, 3);
        let mut legit = 0;
        for start in all_configs(&g) {
            let r = rounds(&g, &start, 100).expect("converges");
            assert!(r <= 3 + 1, "{r} rounds from {start:?}");
            legit += usize::from(g.legitimate(&start));
        }
        assert_eq!(legit, 1, "the legitimate configuration is unique");
        assert_eq!(g.legitimate_start(), vec![dist(0, None), dist(1, Some(0)), dist(3, Some(3)), dist(3, Some(2))]);
        // The root alone and the path 1 - 2 - 3: within max(D + 1, D_max + 1) rounds, and
        // with D_max = 1 the bound is reached (the parents take one more round).
        for d_max in 1..=4 {
            let g = BfsTree::new(vec![vec![], vec![2], vec![3], vec![]], 0, d_max);
            let worst = all_configs(&g).iter().filter_map(|c| rounds(&g, c, 100)).max();
            assert!(worst.is_some_and(|w| w <= d_max as usize + 1), "d_max = {d_max}: {worst:?}");
            if d_max == 1 {
                assert_eq!(worst, Some(2));
            }
        }
    }
}

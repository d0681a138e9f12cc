//! The whole configuration graph of a guarded algorithm under a daemon.
//!
//! Self-stabilization is a claim about *every* initial configuration, so the checker
//! does not search from one start: it numbers every configuration (the product of the
//! nodes' domains, in mixed radix), computes each one's successors under the daemon,
//! and keeps the graph in compressed rows. Closure, convergence, the worst case and the
//! cycles that never converge are then questions about this one graph.

use reparti_core::guarded::{privileged, step, Guarded, Move};
use reparti_core::{Daemon, NodeId};
use std::collections::BTreeMap;

/// The moves of one step in two words: which nodes move (bit i: node i), and for each
/// mover whether it fired its rule 1 rather than 0. Hence the checker's limits of 64
/// nodes and two guards per node, which every algorithm of the chapter meets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PackedStep {
    /// The nodes that move.
    pub movers: u64,
    /// Bit i: node i fired rule 1.
    pub second_rule: u64,
}

impl PackedStep {
    fn pack(moves: &[Move]) -> Self {
        moves.iter().fold(PackedStep { movers: 0, second_rule: 0 }, |p, m| PackedStep {
            movers: p.movers | 1 << m.node.index(),
            second_rule: p.second_rule | u64::from(m.rule & 1) << m.node.index(),
        })
    }

    /// The moves, in node order.
    pub fn unpack(self) -> Vec<Move> {
        (0..64u32)
            .filter(|i| self.movers & 1 << i != 0)
            .map(|i| Move { node: NodeId(i), rule: (self.second_rule >> i & 1) as u8 })
            .collect()
    }

    /// The number of moves.
    pub fn count(self) -> u32 {
        self.movers.count_ones()
    }
}

/// Every configuration, numbered, with its successors.
pub struct ConfigGraph<G: Guarded> {
    /// Each node's domain, in the algorithm's order.
    pub domains: Vec<Vec<G::State>>,
    /// Each node's place value in a configuration's number.
    radix: Vec<u64>,
    /// Where each configuration's successors start in `targets` (one more entry).
    pub offsets: Vec<u64>,
    /// The successors, by configuration number.
    pub targets: Vec<u32>,
    /// The moves of each successor step, parallel to `targets` (see [`PackedStep`]).
    pub steps: Vec<PackedStep>,
    /// Whether each configuration is legitimate.
    pub legit: Vec<bool>,
    /// Each configuration's privileged nodes, as a bitset over nodes (n ≤ 64).
    pub privileged: Vec<u64>,
}

/// The number of configurations of `g`, or `None` past `u64`.
pub fn configuration_count<G: Guarded>(g: &G) -> Option<u64> {
    (0..g.n()).try_fold(1u64, |acc, i| acc.checked_mul(g.domain(NodeId(i as u32)).len() as u64))
}

impl<G: Guarded> ConfigGraph<G> {
    /// Builds the graph; the caller has checked the count fits (`u32` numbers).
    pub fn build(g: &G, daemon: Daemon) -> Self {
        let n = g.n();
        let domains: Vec<Vec<G::State>> = (0..n).map(|i| g.domain(NodeId(i as u32))).collect();
        let positions: Vec<BTreeMap<G::State, u64>> =
            domains.iter().map(|d| d.iter().enumerate().map(|(p, s)| (s.clone(), p as u64)).collect()).collect();
        let mut radix = vec![1u64; n];
        for i in 1..n {
            radix[i] = radix[i - 1] * domains[i - 1].len() as u64;
        }
        let total = radix[n - 1] * domains[n - 1].len() as u64;
        let mut graph = ConfigGraph {
            domains,
            radix,
            offsets: Vec::with_capacity(total as usize + 1),
            targets: Vec::new(),
            steps: Vec::new(),
            legit: Vec::with_capacity(total as usize),
            privileged: Vec::with_capacity(total as usize),
        };
        graph.offsets.push(0);
        for index in 0..total {
            let config = graph.decode(index);
            graph.legit.push(g.legitimate(&config));
            let who = privileged(g, &config);
            graph.privileged.push(who.iter().fold(0u64, |bits, (node, _)| bits | 1u64 << (node.index() % 64)));
            for moves in daemon.steps(&who) {
                let next = step(g, &config, &moves);
                let mut target = index;
                for m in &moves {
                    let i = m.node.index();
                    let old = index / graph.radix[i] % graph.domains[i].len() as u64;
                    let Some(&new) = positions[i].get(&next[i]) else {
                        panic!("{}: node {i} moved to {:?}, which is not in its domain", G::spec().name, next[i])
                    };
                    target = target - old * graph.radix[i] + new * graph.radix[i];
                }
                graph.targets.push(target as u32);
                graph.steps.push(PackedStep::pack(&moves));
            }
            graph.offsets.push(graph.targets.len() as u64);
        }
        graph
    }

    /// The number of configurations.
    pub fn len(&self) -> usize {
        self.legit.len()
    }

    /// The configuration numbered `index`.
    pub fn decode(&self, index: u64) -> Vec<G::State> {
        (0..self.domains.len())
            .map(|i| self.domains[i][(index / self.radix[i] % self.domains[i].len() as u64) as usize].clone())
            .collect()
    }

    /// The successor edges of configuration `s`, as indices into `targets` / `moves`.
    pub fn edges(&self, s: usize) -> std::ops::Range<usize> {
        self.offsets[s] as usize..self.offsets[s + 1] as usize
    }

    /// Predecessor rows: for each configuration, the edges that lead to it.
    pub fn reverse(&self) -> (Vec<u64>, Vec<u32>) {
        let mut counts = vec![0u64; self.len() + 1];
        for &t in &self.targets {
            counts[t as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut edges = vec![0u32; self.targets.len()];
        for s in 0..self.len() {
            for e in self.edges(s) {
                let t = self.targets[e] as usize;
                edges[fill[t] as usize] = e as u32;
                fill[t] += 1;
            }
        }
        (counts, edges)
    }

    /// The configuration an edge leaves from.
    pub fn source(&self, edge: usize) -> usize {
        self.offsets.partition_point(|&o| o <= edge as u64) - 1
    }
}

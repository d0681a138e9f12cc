//! The privileged nodes of a configuration, kept up to date, and the daemon's choice
//! among them.
//!
//! The set is indexable (a list and each node's place in it) so that a uniform choice
//! costs O(1), and ordered on demand (a sorted set) for the round-robin and lowest-first
//! choices; a move updates only the guards of the mover and of the nodes that read it.

use crate::stabilization::Choice;
use reparti_core::guarded::{rules, Guarded, Move, RuleSet};
use reparti_core::{Daemon, NodeId, Rng};
use std::collections::BTreeSet;

/// The privileged nodes and their guards.
pub struct Privileged {
    rules: Vec<RuleSet>,
    list: Vec<u32>,
    place: Vec<u32>,
    ordered: BTreeSet<u32>,
    privileges: u32,
}

const ABSENT: u32 = u32::MAX;

impl Privileged {
    /// The privileged nodes of `config`.
    pub fn new<G: Guarded>(g: &G, config: &[G::State]) -> Self {
        let n = config.len();
        let mut p = Privileged {
            rules: vec![0; n],
            list: Vec::new(),
            place: vec![ABSENT; n],
            ordered: BTreeSet::new(),
            privileges: 0,
        };
        for i in 0..n {
            p.set(i, g.enabled(NodeId(i as u32), config));
        }
        p
    }

    fn set(&mut self, i: usize, set: RuleSet) {
        let old = std::mem::replace(&mut self.rules[i], set);
        self.privileges = self.privileges - old.count_ones() + set.count_ones();
        match (old != 0, set != 0) {
            (false, true) => {
                self.place[i] = self.list.len() as u32;
                self.list.push(i as u32);
                self.ordered.insert(i as u32);
            }
            (true, false) => {
                let at = self.place[i] as usize;
                self.list.swap_remove(at);
                if let Some(&moved) = self.list.get(at) {
                    self.place[moved as usize] = at as u32;
                }
                self.place[i] = ABSENT;
                self.ordered.remove(&(i as u32));
            }
            _ => {}
        }
    }

    /// Re-evaluates the guards of `changed` nodes and of their readers; returns the
    /// nodes re-evaluated.
    pub fn update<G: Guarded>(
        &mut self,
        g: &G,
        config: &[G::State],
        changed: impl Iterator<Item = usize>,
        readers: &[Vec<usize>],
    ) -> Vec<usize> {
        let mut touched: Vec<usize> = Vec::new();
        for i in changed {
            touched.push(i);
            touched.extend_from_slice(&readers[i]);
        }
        touched.sort_unstable();
        touched.dedup();
        for &i in &touched {
            self.set(i, g.enabled(NodeId(i as u32), config));
        }
        touched
    }

    /// Whether no node is privileged.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The guards enabled in total.
    pub fn privileges(&self) -> u32 {
        self.privileges
    }

    /// Node `i`'s enabled guards.
    pub fn rules(&self, i: usize) -> RuleSet {
        self.rules[i]
    }

    /// The privileged nodes, in increasing order.
    pub fn nodes(&self) -> impl Iterator<Item = usize> + '_ {
        self.ordered.iter().map(|&i| i as usize)
    }
}

/// The daemon's chooser: remembers the last node moved, for round robin.
pub struct Picker {
    choice: Choice,
    last: usize,
    n: usize,
}

impl Picker {
    /// A chooser for `n` nodes.
    pub fn new(choice: Choice, n: usize) -> Self {
        Picker { choice, last: n.saturating_sub(1), n }
    }

    /// The moves of one step; `live` is not empty.
    pub fn pick(&mut self, daemon: Daemon, live: &Privileged, rng: &mut Rng) -> Vec<Move> {
        use rand::Rng as _;
        let mut movers: Vec<usize> = match daemon {
            Daemon::Synchronous => live.nodes().collect(),
            Daemon::Central | Daemon::Distributed => {
                let first = self.first(live, rng);
                let mut movers = vec![first];
                if daemon == Daemon::Distributed && self.choice != Choice::Unfair {
                    movers.extend(live.list.iter().map(|&i| i as usize).filter(|&i| i != first && rng.gen_bool(0.5)));
                }
                movers
            }
        };
        movers.sort_unstable();
        if let Some(&m) = movers.last() {
            self.last = m;
        }
        movers
            .into_iter()
            .map(|i| {
                let set = live.rules(i);
                let rule = match self.choice {
                    Choice::Random if set.count_ones() > 1 => {
                        let options: Vec<u8> = rules(set).collect();
                        options[rng.gen_range(0..options.len())]
                    }
                    _ => set.trailing_zeros() as u8,
                };
                Move { node: NodeId(i as u32), rule }
            })
            .collect()
    }

    /// The one node a central choice makes.
    fn first(&self, live: &Privileged, rng: &mut Rng) -> usize {
        use rand::Rng as _;
        match self.choice {
            Choice::Random => live.list[rng.gen_range(0..live.list.len())] as usize,
            Choice::Unfair => live.nodes().next().unwrap_or(0),
            Choice::Fair => {
                let after = (self.last + 1) % self.n.max(1);
                live.ordered
                    .range(after as u32..)
                    .next()
                    .or_else(|| live.ordered.iter().next())
                    .map_or(0, |&i| i as usize)
            }
        }
    }
}

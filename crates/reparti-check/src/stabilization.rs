//! Checking self-stabilization: closure and convergence from **every** configuration.
//!
//! The whole configuration graph under the daemon is built ([`crate::stab_graph`]);
//! then:
//! * **closure**: no step leads from a legitimate configuration to an illegitimate one
//!   (the counterexample is that one step);
//! * **no deadlock outside L**: every illegitimate configuration has a privileged node;
//! * **convergence**: under an unfair daemon, every run reaches L, i.e. the graph
//!   restricted to illegitimate configurations has no cycle. Then the worst case is the
//!   longest path to L (in moves, and in steps), computed for every configuration at
//!   once by peeling the graph from L backwards. Otherwise the counterexample is the
//!   shortest cycle outside L. Under a weakly fair daemon, a cycle counts only if every
//!   node that is privileged all along it moves on it; a strongly connected component
//!   holds such a cycle exactly when each node either moves on one of its edges or is
//!   unprivileged in one of its configurations, and the counterexample then goes round
//!   the component through those witnesses;
//! * **fairness in L** (Dijkstra's requirement that the privilege circulate): in every
//!   closed part of L where something still moves, every node is privileged somewhere.

use crate::stab_cycles::{components, shortest_cycle, shortest_path, OUTSIDE};
use crate::stab_graph::{configuration_count, ConfigGraph};
use reparti_core::guarded::{Guarded, Move};
use reparti_core::{Daemon, NodeId};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

/// How the daemon chooses among privileged nodes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fairness {
    /// Any choice, forever (the adversary of the classic results).
    Unfair,
    /// A node privileged forever moves eventually.
    Weak,
}

/// What to check.
#[derive(Clone, Copy, Debug)]
pub struct StabCheckConfig {
    /// Who may move in a step.
    pub daemon: Daemon,
    /// How the daemon chooses.
    pub fairness: Fairness,
    /// Refuse instances with more configurations than this.
    pub max_configurations: u64,
}

/// A run of configurations: `configs[k+1]` is `configs[k]` after `steps[k]`.
#[derive(Clone, Debug, Serialize)]
pub struct StabRun<S> {
    /// The configurations, first to last.
    pub configs: Vec<Vec<S>>,
    /// The moves of each step.
    pub steps: Vec<Vec<Move>>,
}

/// Whether every run reaches L.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Convergence<S> {
    /// Every run reaches L, within the worst case given; `worst_run` is one that takes
    /// that many moves.
    Holds {
        /// The most moves any run makes before L.
        worst_moves: u64,
        /// The most steps any run makes before L (equal to moves under the central daemon).
        worst_steps: u64,
        /// A run from a worst configuration to L.
        worst_run: StabRun<S>,
    },
    /// Under weak fairness: every fair run reaches L, but unfair cycles exist, so no
    /// bound on moves holds; one such cycle is shown.
    HoldsFairly {
        /// A cycle outside L that a fair daemon would leave.
        unfair_cycle: StabRun<S>,
    },
    /// A run that never reaches L: a cycle outside L (its first and last configurations
    /// are the same).
    Fails {
        /// The cycle.
        cycle: StabRun<S>,
        /// Whether it is known to be a shortest one.
        shortest: bool,
    },
}

/// What the stabilization check found.
#[derive(Clone, Debug, Serialize)]
pub struct StabCheckReport<S> {
    /// Configurations explored (all of them).
    pub configurations: u64,
    /// Of which legitimate.
    pub legitimate: u64,
    /// Steps between configurations.
    pub transitions: u64,
    /// A step out of L, if any.
    pub closure: Option<StabRun<S>>,
    /// An illegitimate configuration where nothing can move, if any.
    pub deadlock: Option<Vec<S>>,
    /// Convergence, and the worst case.
    pub convergence: Convergence<S>,
    /// A node never privileged in a closed part of L, with a configuration of it.
    pub unfair_in_l: Option<(NodeId, Vec<S>)>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl<S> StabCheckReport<S> {
    /// Whether every property held.
    pub fn holds(&self) -> bool {
        self.closure.is_none()
            && self.deadlock.is_none()
            && self.unfair_in_l.is_none()
            && !matches!(self.convergence, Convergence::Fails { .. })
    }
}

/// Edge visits the shortest-cycle search may spend before keeping the shortest found.
const CYCLE_BUDGET: u64 = 200_000_000;

/// Checks closure and convergence of `g` from every configuration; `Err` when the
/// instance is too large or the algorithm outside the checker's limits, in one line.
pub fn check_stabilization<G: Guarded>(g: &G, cfg: &StabCheckConfig) -> Result<StabCheckReport<G::State>, String> {
    let started = Instant::now();
    let name = G::spec().name;
    if g.n() > 64 || G::rule_names().len() > 2 {
        return Err(format!("{name}: the checker handles up to 64 nodes and two guards per node"));
    }
    let count = configuration_count(g).unwrap_or(u64::MAX);
    let limit = cfg.max_configurations.min(u64::from(u32::MAX));
    if count > limit {
        return Err(format!(
            "{name} with {} nodes has {count} configurations, over the limit of {limit}: check fewer nodes \
             (or smaller domains), or raise --max-states; the simulator (reparti sim) handles any size",
            g.n()
        ));
    }
    let graph = ConfigGraph::build(g, cfg.daemon);
    let run = |edges: &[usize], from: usize| -> StabRun<G::State> {
        let mut configs = vec![graph.decode(from as u64)];
        let mut steps = Vec::new();
        for &e in edges {
            configs.push(graph.decode(u64::from(graph.targets[e])));
            steps.push(graph.steps[e].unpack());
        }
        StabRun { configs, steps }
    };
    let total = graph.len();
    let legit_count = graph.legit.iter().filter(|&&l| l).count() as u64;

    let closure = (0..total)
        .filter(|&s| graph.legit[s])
        .find_map(|s| graph.edges(s).find(|&e| !graph.legit[graph.targets[e] as usize]).map(|e| run(&[e], s)));
    let deadlock = (0..total).find(|&s| !graph.legit[s] && graph.edges(s).is_empty()).map(|s| graph.decode(s as u64));

    // Peel from L backwards: a configuration is settled once all its successors are.
    let (rev_offsets, rev_edges) = graph.reverse();
    let mut remaining: Vec<u32> = (0..total).map(|s| graph.edges(s).len() as u32).collect();
    let mut worst_moves = vec![0u32; total];
    let mut worst_steps = vec![0u32; total];
    let mut worst_edge = vec![u32::MAX; total];
    let mut queue: VecDeque<usize> = (0..total).filter(|&s| graph.legit[s] || remaining[s] == 0).collect();
    while let Some(t) = queue.pop_front() {
        for &e in &rev_edges[rev_offsets[t] as usize..rev_offsets[t + 1] as usize] {
            let e = e as usize;
            let s = graph.source(e);
            if graph.legit[s] {
                continue;
            }
            let (to_moves, to_steps) = if graph.legit[t] { (0, 0) } else { (worst_moves[t], worst_steps[t]) };
            let moves = to_moves + graph.steps[e].count();
            if moves > worst_moves[s] || worst_edge[s] == u32::MAX {
                worst_moves[s] = moves;
                worst_edge[s] = e as u32;
            }
            worst_steps[s] = worst_steps[s].max(to_steps + 1);
            remaining[s] -= 1;
            if remaining[s] == 0 {
                queue.push_back(s);
            }
        }
    }
    let unsettled = |s: usize| !graph.legit[s] && remaining[s] > 0;
    let convergence = if (0..total).any(unsettled) {
        match cfg.fairness {
            Fairness::Unfair => {
                let (cycle, shortest) = shortest_cycle(&graph, &unsettled, CYCLE_BUDGET)
                    .ok_or_else(|| format!("{name}: an unsettled configuration without a cycle (a checker bug)"))?;
                Convergence::Fails { cycle: run(&cycle, graph.source(cycle[0])), shortest }
            }
            Fairness::Weak => match fair_cycle(&graph, &unsettled) {
                Some((cycle, from)) => Convergence::Fails { cycle: run(&cycle, from), shortest: false },
                None => {
                    let (cycle, _) = shortest_cycle(&graph, &unsettled, CYCLE_BUDGET)
                        .ok_or_else(|| format!("{name}: an unsettled configuration without a cycle (a checker bug)"))?;
                    Convergence::HoldsFairly { unfair_cycle: run(&cycle, graph.source(cycle[0])) }
                }
            },
        }
    } else {
        let worst = (0..total).filter(|&s| !graph.legit[s]).max_by_key(|&s| (worst_moves[s], std::cmp::Reverse(s)));
        let mut path = Vec::new();
        let mut at = worst.unwrap_or(0);
        let from = at;
        while !graph.legit[at] && worst_edge[at] != u32::MAX {
            let e = worst_edge[at] as usize;
            path.push(e);
            at = graph.targets[e] as usize;
        }
        Convergence::Holds {
            worst_moves: worst.map_or(0, |s| u64::from(worst_moves[s])),
            worst_steps: (0..total).filter(|&s| !graph.legit[s]).map(|s| u64::from(worst_steps[s])).max().unwrap_or(0),
            worst_run: run(&path, from),
        }
    };

    Ok(StabCheckReport {
        configurations: total as u64,
        legitimate: legit_count,
        transitions: graph.targets.len() as u64,
        closure,
        deadlock,
        convergence,
        unfair_in_l: unfair_in_legitimate(&graph, g.n()),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A weakly fair cycle among the configurations `inside` accepts, as edges and its
/// first configuration: in a component where every node moves on some edge or is
/// unprivileged somewhere, the tour through one witness per node.
fn fair_cycle<G: Guarded>(graph: &ConfigGraph<G>, inside: &dyn Fn(usize) -> bool) -> Option<(Vec<usize>, usize)> {
    let comp = components(graph, inside);
    let n = graph.domains.len();
    let mut members: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (s, &c) in comp.iter().enumerate() {
        if c != OUTSIDE {
            members.entry(c).or_default().push(s);
        }
    }
    let mut work = 0u64;
    for (c, states) in members {
        let within = |s: usize| comp[s] == c;
        let internal: Vec<usize> =
            states.iter().flat_map(|&s| graph.edges(s)).filter(|&e| within(graph.targets[e] as usize)).collect();
        if internal.is_empty() {
            continue; // a single configuration without a self-loop: not a cycle
        }
        // One witness per node: an edge where it moves, else a configuration where it
        // is not privileged; a node with neither rules the component out.
        let mut witnesses: Vec<Result<usize, usize>> = Vec::new();
        let mut fair = true;
        for p in 0..n {
            let bit = 1u64 << p;
            if let Some(&e) = internal.iter().find(|&&e| graph.steps[e].movers & bit != 0) {
                witnesses.push(Ok(e));
            } else if let Some(&s) = states.iter().find(|&&s| graph.privileged[s] & bit == 0) {
                witnesses.push(Err(s));
            } else {
                fair = false;
                break;
            }
        }
        if !fair {
            continue;
        }
        let start = graph.source(internal[0]);
        let mut at = start;
        let mut tour: Vec<usize> = Vec::new();
        let mut go = |at: &mut usize, goal: usize, tour: &mut Vec<usize>| {
            if *at != goal {
                let path = shortest_path(graph, *at, &within, &|w| w == goal, usize::MAX, &mut work)?;
                tour.extend(path);
                *at = goal;
            }
            Some(())
        };
        for w in witnesses {
            match w {
                Ok(e) => {
                    go(&mut at, graph.source(e), &mut tour)?;
                    tour.push(e);
                    at = graph.targets[e] as usize;
                }
                Err(s) => go(&mut at, s, &mut tour)?,
            }
        }
        if tour.is_empty() || at != start {
            let path = shortest_path(graph, at, &within, &|w| w == start, usize::MAX, &mut work)?;
            tour.extend(path);
        }
        return Some((tour, start));
    }
    None
}

/// A node never privileged in some closed part of L where moves still happen.
fn unfair_in_legitimate<G: Guarded>(graph: &ConfigGraph<G>, n: usize) -> Option<(NodeId, Vec<G::State>)> {
    let legit = |s: usize| graph.legit[s];
    let comp = components(graph, &legit);
    let mut privileged: BTreeMap<u32, u64> = BTreeMap::new();
    let mut closed: BTreeMap<u32, bool> = BTreeMap::new();
    let mut moving: BTreeMap<u32, bool> = BTreeMap::new();
    let mut sample: BTreeMap<u32, usize> = BTreeMap::new();
    for s in (0..graph.len()).filter(|&s| legit(s)) {
        let c = comp[s];
        *privileged.entry(c).or_default() |= graph.privileged[s];
        sample.entry(c).or_insert(s);
        let leaves = graph.edges(s).any(|e| comp[graph.targets[e] as usize] != c);
        *closed.entry(c).or_insert(true) &= !leaves;
        *moving.entry(c).or_insert(false) |= !graph.edges(s).is_empty();
    }
    let all = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    privileged.into_iter().find_map(|(c, bits)| {
        let unfair = closed[&c] && moving[&c] && bits & all != all;
        unfair.then(|| (NodeId((!bits & all).trailing_zeros()), graph.decode(sample[&c] as u64)))
    })
}

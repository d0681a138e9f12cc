//! Guarded algorithms: the state-reading model of self-stabilization.
//!
//! Self-stabilizing algorithms are written in a different model from the rest of the
//! library (Dijkstra 1974): a node does not receive messages, it *reads* its
//! neighbours' states and, when one of its guards holds (it is *privileged*), makes the
//! guard's move. A *daemon* chooses who moves; the run starts from an *arbitrary*
//! configuration, and the question is whether every run reaches the legitimate
//! configurations L (convergence) and stays there (closure).
//!
//! A [`Guarded`] algorithm says what a node's state is, which of its guards hold in a
//! configuration, what each move writes, which configurations are legitimate, and every
//! state a node may hold (so that arbitrary starts can be drawn or enumerated). The
//! semantics of one step under a [`Daemon`] is here, once: the simulator samples steps
//! ([`reparti_sim`'s stabilization run]), the model checker enumerates them, and the
//! message-passing form ([`exchange`]) runs the same guards on real processes.
//!
//! [`reparti_sim`'s stabilization run]: crate::guarded

pub mod exchange;

use crate::algorithm::AlgorithmSpec;
use crate::id::NodeId;
use crate::params::Params;
use crate::process::StateBounds;
use crate::topology::Topology;
use crate::Rng;
use serde::Serialize;
use std::fmt;

/// The guards that hold at one node, as a bitmask: bit `r` is rule `r` of
/// [`Guarded::rule_names`]. A node is privileged when the set is not empty.
pub type RuleSet = u8;

/// A self-stabilizing algorithm in the state-reading model.
///
/// The instance itself is state-like (comparable, hashable, serializable): the
/// message-passing form carries it in every node, since handlers see only the node.
///
/// A node reads only its own state and its topology neighbours' (in-neighbours on a
/// directed topology): the message-passing form gives a node nothing else, so an
/// algorithm that reads further would behave differently there.
pub trait Guarded: StateBounds {
    /// One node's state.
    type State: StateBounds + Ord;

    /// The algorithm's self-description (name, chapter, parameters, topologies).
    fn spec() -> AlgorithmSpec;

    /// The names of the guards, in bit order of a [`RuleSet`] (at most 8).
    fn rule_names() -> &'static [&'static str];

    /// Builds an instance from resolved parameters on a topology; `Err` says, in one
    /// line, why the parameters do not suit it and what to give instead.
    fn build(params: &Params, topology: &Topology) -> Result<Self, String>;

    /// The number of nodes.
    fn n(&self) -> usize;

    /// The nodes whose states the guards of `node` read (besides its own): its
    /// topology neighbours. The message-passing form moves only once it has heard
    /// from each of them.
    fn reads(&self, node: NodeId) -> Vec<NodeId>;

    /// Every state node `node` may hold, in a fixed order: arbitrary starts are drawn
    /// from it, and the model checker enumerates the product over the nodes.
    fn domain(&self, node: NodeId) -> Vec<Self::State>;

    /// A legitimate configuration, for runs that start in L.
    fn legitimate_start(&self) -> Vec<Self::State>;

    /// The guards of `node` that hold in `config`.
    fn enabled(&self, node: NodeId, config: &[Self::State]) -> RuleSet;

    /// The state `node` writes when it makes the move of `rule` in `config`.
    fn apply(&self, node: NodeId, rule: usize, config: &[Self::State]) -> Self::State;

    /// Whether `config` is legitimate. By default, Dijkstra's: exactly one guard holds
    /// in the whole system (a middle machine with two guards counts two privileges).
    fn legitimate(&self, config: &[Self::State]) -> bool {
        privileges(self, config) == 1
    }

    /// One number per node state, for the heat strip (by default its rank in the
    /// node's domain).
    fn value(&self, node: NodeId, state: &Self::State) -> i64 {
        self.domain(node).iter().position(|s| s == state).map_or(-1, |p| p as i64)
    }

    /// Draws a state of `node` uniformly from its domain.
    fn random_state(&self, node: NodeId, rng: &mut Rng) -> Self::State {
        use rand::Rng as _;
        let domain = self.domain(node);
        domain[rng.gen_range(0..domain.len())].clone()
    }
}

/// The number of guards that hold in `config`, summed over the nodes.
pub fn privileges<G: Guarded>(g: &G, config: &[G::State]) -> u32 {
    (0..config.len()).map(|i| g.enabled(NodeId(i as u32), config).count_ones()).sum()
}

/// The privileged nodes of `config`, with their guards, in node order.
pub fn privileged<G: Guarded>(g: &G, config: &[G::State]) -> Vec<(NodeId, RuleSet)> {
    (0..config.len())
        .map(|i| (NodeId(i as u32), g.enabled(NodeId(i as u32), config)))
        .filter(|(_, rules)| *rules != 0)
        .collect()
}

/// One move: a node and the rule it fires.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
pub struct Move {
    /// The node that moves.
    pub node: NodeId,
    /// The index of its guard in [`Guarded::rule_names`].
    pub rule: u8,
}

/// Applies a step: every move reads the configuration as it was before the step (the
/// distributed daemon's semantics; with one move, the central daemon's).
pub fn step<G: Guarded>(g: &G, config: &[G::State], moves: &[Move]) -> Vec<G::State> {
    let mut next = config.to_vec();
    for m in moves {
        next[m.node.index()] = g.apply(m.node, m.rule as usize, config);
    }
    next
}

/// The rules of a rule set, lowest first.
pub fn rules(set: RuleSet) -> impl Iterator<Item = u8> {
    (0..8u8).filter(move |r| set & (1 << r) != 0)
}

/// Who may move in one step.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Daemon {
    /// One privileged node moves at a time.
    Central,
    /// Any non-empty subset of the privileged nodes moves at once, each reading the
    /// states as they were before the step.
    Distributed,
    /// Every privileged node moves at once.
    Synchronous,
}

impl Daemon {
    /// The daemons' names, as on the command line.
    pub const NAMES: &'static [&'static str] = &["central", "distributed", "synchronous"];

    /// The daemon named `name`.
    pub fn parse(name: &str) -> Result<Daemon, String> {
        match name {
            "central" => Ok(Daemon::Central),
            "distributed" => Ok(Daemon::Distributed),
            "synchronous" => Ok(Daemon::Synchronous),
            _ => Err(format!("unknown daemon '{name}'; use central, distributed or synchronous")),
        }
    }

    /// Every step this daemon may take from a configuration whose privileged nodes are
    /// `privileged` (a node with several guards fires one of them), in a fixed order.
    pub fn steps(self, privileged: &[(NodeId, RuleSet)]) -> Vec<Vec<Move>> {
        let choices = |&(node, set): &(NodeId, RuleSet)| rules(set).map(move |rule| Move { node, rule });
        match self {
            Daemon::Central => privileged.iter().flat_map(choices).map(|m| vec![m]).collect(),
            Daemon::Distributed | Daemon::Synchronous => {
                // Each privileged node either stays (None, distributed only) or fires one
                // of its guards; the all-stay combination is not a step.
                let mut out: Vec<Vec<Move>> = vec![Vec::new()];
                for p in privileged {
                    let mut grown = Vec::with_capacity(out.len() * 3);
                    for partial in &out {
                        if self == Daemon::Distributed {
                            grown.push(partial.clone());
                        }
                        for m in choices(p) {
                            let mut with = partial.clone();
                            with.push(m);
                            grown.push(with);
                        }
                    }
                    out = grown;
                }
                out.retain(|s| !s.is_empty());
                out
            }
        }
    }
}

impl fmt::Display for Daemon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Daemon::Central => "central",
            Daemon::Distributed => "distributed",
            Daemon::Synchronous => "synchronous",
        })
    }
}

/// A piece of engine-side code that works for any guarded algorithm: the catalogue
/// calls `visit::<G>()` for the algorithm named on the command line.
pub trait GuardedVisitor {
    /// What the visit produces.
    type Output;
    /// Runs with the algorithm `G`.
    fn visit<G: Guarded>(self) -> Self::Output;
}

/// Parses a size relative to the number of nodes: `n`, `n-1`, `n+2` or a number.
pub fn parse_relative(value: &str, n: usize) -> Option<usize> {
    let v = value.trim();
    if let Ok(k) = v.parse::<usize>() {
        return Some(k);
    }
    let rest = v.strip_prefix('n')?;
    if rest.is_empty() {
        return Some(n);
    }
    let (sign, num) = rest.split_at(1);
    let d: usize = num.parse().ok()?;
    match sign {
        "+" => n.checked_add(d),
        "-" => n.checked_sub(d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemons_enumerate_their_steps() {
        let p = [(NodeId(0), 0b1), (NodeId(2), 0b11)];
        assert_eq!(Daemon::Central.steps(&p).len(), 3);
        // Node 0: stay or rule 0; node 2: stay, rule 0 or rule 1; minus all-stay.
        assert_eq!(Daemon::Distributed.steps(&p).len(), 2 * 3 - 1);
        assert_eq!(Daemon::Synchronous.steps(&p).len(), 2);
        assert!(Daemon::Synchronous.steps(&p).iter().all(|s| s.len() == 2));
        assert!(Daemon::Central.steps(&[]).is_empty() && Daemon::Distributed.steps(&[]).is_empty());
    }

    #[test]
    fn sizes_relative_to_n() {
        assert_eq!(parse_relative("n", 5), Some(5));
        assert_eq!(parse_relative("n-1", 5), Some(4));
        assert_eq!(parse_relative("n+2", 5), Some(7));
        assert_eq!(parse_relative("7", 5), Some(7));
        assert_eq!(parse_relative("n-9", 5), None);
        assert_eq!(parse_relative("m", 5), None);
    }
}

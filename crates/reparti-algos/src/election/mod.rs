//! # Election: electing the node with the largest identity on a ring
//!
//! The course's specification (after the TLA+ `ChangRoberts` spec of tlaplus/Examples):
//!
//! * eventually exactly one node is the leader, and it is the one with the largest
//!   identity among the participants;
//! * every other node is lost (passive);
//! * after the announcement, every node knows the leader's identity;
//! * the algorithm terminates.
//!
//! Identities are the `u64` handed to each node in [`reparti_core::NodeSetup::ident`];
//! they are *not* positions. Messages are addressed to positions ([`reparti_core::NodeId`]),
//! elections compare identities. Every node makes the leader observable with
//! `ctx.output("leader", identity)` when it learns it.
//!
//! | algorithm | module | topology | messages |
//! |---|---|---|---|
//! | Chang & Roberts (1979) | [`chang_roberts`] | `ring` | worst n(n+1)/2, best 2n−1, mean n·H_n ELECT; + n ELECTED |
//! | TP7, the lab's own variant | [`chang_roberts_lab`] | `ring`, `complete` | 2n+1+d with one initiator; 4n−1 … n(n+5)/2 measured with all |
//! | Franklin (1982) | [`franklin`] | `bidir-ring` | exactly 2n ID per round, ≤ ⌊log₂ n⌋+1 rounds; + n ELECTED |
//!
//! The helpers here are shared by the three modules: who initiates
//! ([`Initiators`]), and the ring arithmetic the expected counts are built from
//! ([`hops_to_next_larger`], [`ring_distance`]).

pub mod chang_roberts;
pub mod chang_roberts_lab;
pub mod franklin;

#[cfg(test)]
mod testkit;

pub use chang_roberts::ChangRoberts;
pub use chang_roberts_lab::ChangRobertsLab;
pub use franklin::Franklin;

use reparti_core::{Invariant, NodeId, ParamError, Params, Process, Properties, Terminal, World};

/// Which nodes start an election on their own, from the `initiators` parameter.
///
/// Nodes that do not initiate still take part: they wake up when the first election
/// message reaches them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Initiators {
    /// Every node (`initiators=all`, the default).
    All,
    /// The listed positions, sorted and without repeats (`initiators=0,3`).
    ///
    /// Every engine refuses positions `≥ n` before the run (the parameter is declared
    /// as node positions); an empty list leaves the ring asleep, and the run's
    /// properties then say that nobody was elected.
    Listed(Vec<u32>),
}

impl Initiators {
    /// The parameter's declaration text, shared by the algorithms that accept it.
    pub const HELP: &'static str =
        "who starts an election: `all`, or a comma-separated list of positions (e.g. `0` for a single initiator)";

    /// Parses `all` or a comma-separated list of positions.
    pub fn parse(value: &str) -> Result<Initiators, ParamError> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("all") {
            return Ok(Initiators::All);
        }
        let invalid = |why: String| ParamError::Invalid { name: "initiators".into(), value: value.into(), why };
        let mut list = value
            .split(',')
            .map(|p| {
                p.trim().parse::<u32>().map_err(|_| {
                    invalid(format!("'{}' is not a position; expected `all` or positions like 0,3", p.trim()))
                })
            })
            .collect::<Result<Vec<u32>, ParamError>>()?;
        list.sort_unstable();
        list.dedup();
        Ok(Initiators::Listed(list))
    }

    /// Reads the `initiators` parameter (`all` when absent).
    pub fn from_params(params: &Params) -> Result<Initiators, ParamError> {
        Initiators::parse(params.raw("initiators").unwrap_or("all"))
    }

    /// Whether the node at `me` initiates.
    pub fn contains(&self, me: NodeId) -> bool {
        match self {
            Initiators::All => true,
            Initiators::Listed(list) => list.binary_search(&me.0).is_ok(),
        }
    }

    /// The initiating positions among `0..n`, or `None` when every node initiates.
    pub fn listed_below(&self, n: usize) -> Option<Vec<usize>> {
        match self {
            Initiators::All => None,
            Initiators::Listed(list) => Some(list.iter().map(|&p| p as usize).filter(|&p| p < n).collect()),
        }
    }
}

/// For each position of a unidirectional ring (messages go from `i` to `i+1 mod n`),
/// the number of hops to the next node with a larger identity; `n` for the maximum.
///
/// This is how far Chang–Roberts carries a node's own ELECT before a larger node
/// swallows it, so the sum over all nodes is its ELECT count when everyone initiates.
/// O(n) with a stack (next greater element on the doubled ring), so it is affordable
/// on a million-node ring.
pub fn hops_to_next_larger(idents: &[u64]) -> Vec<u64> {
    let n = idents.len();
    let mut hops = vec![n as u64; n];
    // Scanning the doubled ring right to left, the stack holds the positions (in the
    // doubled numbering) whose identities are the "visible" larger ones ahead.
    let mut stack: Vec<usize> = Vec::with_capacity(n);
    for j in (0..2 * n).rev() {
        let id = idents[j % n];
        while stack.last().is_some_and(|&k| idents[k % n] <= id) {
            stack.pop();
        }
        if j < n {
            if let Some(&k) = stack.last() {
                hops[j] = (k - j) as u64;
            }
        }
        stack.push(j);
    }
    hops
}

/// The number of hops from `from` to `to` along a unidirectional ring of `n` nodes.
pub fn ring_distance(from: usize, to: usize, n: usize) -> u64 {
    ((to + n - from % n) % n) as u64
}

/// The position holding the largest identity.
pub fn argmax(idents: &[u64]) -> Option<usize> {
    idents.iter().enumerate().max_by_key(|&(_, id)| *id).map(|(i, _)| i)
}

/// The harmonic number `H_n = 1 + 1/2 + … + 1/n`.
pub fn harmonic(n: usize) -> f64 {
    (1..=n).map(|k| 1.0 / k as f64).sum()
}

/// What the common election properties need to see of a node.
pub trait Elector: Process {
    /// Whether the node holds itself to be the leader.
    fn is_leader(&self) -> bool;
    /// The leader the node knows, once it knows one.
    fn known_leader(&self) -> Option<u64>;
}

/// The specification every election shares (see the module's header): the invariant "at most one
/// leader", the terminal property "exactly one leader, the maximum identity", then the
/// algorithm's own terminal properties.
pub fn election_properties<N: Elector>(own: Vec<Terminal<N>>) -> Properties<N> {
    let mut terminal =
        vec![Terminal::<N>::new("exactly one leader, the maximum identity", exactly_one_leader_the_max::<N>)];
    terminal.extend(own);
    Properties {
        invariants: vec![Invariant::<N>::count("at most one leader", |s: &N| u64::from(s.is_leader()), |_| 0, 0, 1)],
        terminal,
    }
}

fn max_ident<N: Process>(w: &World<'_, N>) -> Result<u64, String> {
    w.idents.iter().copied().max().ok_or_else(|| "no nodes".to_string())
}

/// Terminal: exactly one live node is the leader, and it has the largest identity.
pub fn exactly_one_leader_the_max<N: Elector>(w: &World<'_, N>) -> Result<(), String> {
    let max = max_ident(w)?;
    let leaders: Vec<u64> = w.live().filter(|&i| w.nodes[i].is_leader()).map(|i| w.idents[i]).collect();
    match leaders.as_slice() {
        [l] if *l == max => Ok(()),
        [l] => Err(format!("the leader is {l}, not the maximum {max}")),
        [] => Err(format!("no leader (the maximum is {max})")),
        many => Err(format!("{} leaders: {many:?}", many.len())),
    }
}

/// Terminal: every live node knows that the largest identity leads.
pub fn everyone_knows_the_max<N: Elector>(w: &World<'_, N>) -> Result<(), String> {
    let max = max_ident(w)?;
    let mut wrong = w.live().map(|i| (i, w.nodes[i].known_leader())).filter(|&(_, l)| l != Some(max));
    let Some((i, l)) = wrong.next() else { return Ok(()) };
    let known = l.map_or("no leader".to_string(), |l| format!("leader {l}"));
    let tail = match wrong.count() {
        0 => String::new(),
        1 => " (and 1 other node is wrong too)".to_string(),
        k => format!(" (and {k} other nodes are wrong too)"),
    };
    Err(format!("node {i} knows {known}, expected {max}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quadratic definition, to check the stack version against.
    fn naive_hops(ids: &[u64]) -> Vec<u64> {
        let n = ids.len();
        (0..n).map(|i| (1..n).find(|&h| ids[(i + h) % n] > ids[i]).unwrap_or(n) as u64).collect()
    }

    #[test]
    fn hops_match_the_definition() {
        let rings: [&[u64]; 6] =
            [&[5, 4, 3, 2, 1], &[1, 2, 3, 4, 5], &[3, 1, 4, 15, 9, 2, 6], &[2, 1], &[7], &[10, 30, 20, 50, 40]];
        for ids in rings {
            assert_eq!(hops_to_next_larger(ids), naive_hops(ids), "ring {ids:?}");
        }
    }

    #[test]
    fn worst_and_best_rings_give_the_textbook_sums() {
        for n in 2..12u64 {
            let desc: Vec<u64> = (0..n).map(|i| n - i).collect();
            let asc: Vec<u64> = (1..=n).collect();
            assert_eq!(hops_to_next_larger(&desc).iter().sum::<u64>(), n * (n + 1) / 2);
            assert_eq!(hops_to_next_larger(&asc).iter().sum::<u64>(), 2 * n - 1);
        }
    }

    #[test]
    fn initiators_parse() {
        assert_eq!(Initiators::parse("all"), Ok(Initiators::All));
        assert_eq!(Initiators::parse(" 3, 0 ,3"), Ok(Initiators::Listed(vec![0, 3])));
        assert!(Initiators::parse("").is_err());
        assert!(Initiators::parse("1,x").is_err());
        let two = Initiators::Listed(vec![0, 9]);
        assert!(two.contains(NodeId(9)) && !two.contains(NodeId(1)));
        assert_eq!(two.listed_below(5), Some(vec![0]));
        assert_eq!(Initiators::All.listed_below(5), None);
    }

    #[test]
    fn distances_go_forward() {
        assert_eq!(ring_distance(3, 1, 5), 3);
        assert_eq!(ring_distance(1, 3, 5), 2);
        assert_eq!(ring_distance(2, 2, 5), 0);
        assert_eq!(argmax(&[3, 9, 2]), Some(1));
        assert!((harmonic(3) - 11.0 / 6.0).abs() < 1e-12);
    }
}

//! Deadlock detection: an application whose processes wait for one another
//! ([`wait_for`]), and Chandy–Misra–Haas's edge chasing over it ([`chandy_misra_haas`]).
//!
//! The two meet in [`Waits`], all a detector may read of a process: whether it is
//! blocked, whom it waits for, and whose requests it holds. The judge of the detector
//! (the engine, not the algorithm) builds the *true* wait-for graph from every process's
//! state with [`true_wfg`], and the graph helpers below say who lies on a cycle.

pub mod chandy_misra_haas;
mod judge;
pub mod wait_for;

pub use chandy_misra_haas::ChandyMisraHaas;
pub use wait_for::WaitFor;

use reparti_core::NodeId;
use std::collections::BTreeSet;

/// What a deadlock detector reads of a process of the application (AND model).
pub trait Waits {
    /// The processes whose grants it still waits for: its outgoing wait-for edges.
    fn waits_for(&self) -> &BTreeSet<NodeId>;
    /// Blocked: waiting for at least one grant (AND model: for all of them).
    fn blocked(&self) -> bool {
        !self.waits_for().is_empty()
    }
    /// The processes whose requests it received and has not granted: the incoming
    /// edges it knows of (the edge check of a probe).
    fn owes(&self) -> &BTreeSet<NodeId>;
    /// The processes whose requests it granted (for the judge: a grant may still be on
    /// its way, and the edge is gone as soon as it is sent).
    fn granted(&self) -> &BTreeSet<NodeId>;
}

/// A wait-for graph: `(i, j)` when process i waits for process j.
pub type Edges = BTreeSet<(NodeId, NodeId)>;

/// The true wait-for graph of a global state: `i → j` when i waits for j's grant and j
/// has not sent it (a request still in transit is an edge already; a grant in transit
/// is no edge any more).
pub fn true_wfg<'a, P: Waits + 'a>(nodes: impl IntoIterator<Item = &'a P>) -> Edges {
    let nodes: Vec<&P> = nodes.into_iter().collect();
    let mut edges = Edges::new();
    for (i, p) in nodes.iter().enumerate() {
        let me = NodeId(i as u32);
        for &j in p.waits_for() {
            let granted = nodes.get(j.index()).is_some_and(|q| q.granted().contains(&me));
            if !granted {
                edges.insert((me, j));
            }
        }
    }
    edges
}

/// The nodes reachable from `from` by one edge or more.
pub fn reachable(edges: &Edges, from: NodeId) -> BTreeSet<NodeId> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from];
    while let Some(a) = todo.pop() {
        for &(_, b) in edges.range((a, NodeId(0))..=(a, NodeId(u32::MAX))) {
            if seen.insert(b) {
                todo.push(b);
            }
        }
    }
    seen
}

/// Whether `i` lies on a cycle.
pub fn on_cycle(edges: &Edges, i: NodeId) -> bool {
    reachable(edges, i).contains(&i)
}

/// Whether a cycle is reachable from `i` (i is deadlocked, or waits on a deadlock).
pub fn reaches_cycle(edges: &Edges, i: NodeId) -> bool {
    std::iter::once(i).chain(reachable(edges, i)).any(|k| on_cycle(edges, k))
}

/// The edges reachable from `i`: those leaving `i` or a node reachable from it.
pub fn edges_reachable(edges: &Edges, i: NodeId) -> usize {
    let mut tails = reachable(edges, i);
    tails.insert(i);
    edges.iter().filter(|(a, _)| tails.contains(a)).count()
}

/// `0→1, 1→2`, for messages.
pub fn show(edges: &Edges) -> String {
    if edges.is_empty() {
        return "no edge".into();
    }
    edges.iter().map(|(a, b)| format!("{a}→{b}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(list: &[(u32, u32)]) -> Edges {
        list.iter().map(|&(a, b)| (NodeId(a), NodeId(b))).collect()
    }

    #[test]
    fn cycles_tails_and_reachable_edges() {
        let e = g(&[(0, 1), (1, 2), (2, 0), (3, 1), (4, 3)]);
        assert!((0..3).all(|i| on_cycle(&e, NodeId(i))));
        assert!(!on_cycle(&e, NodeId(3)) && reaches_cycle(&e, NodeId(3)) && reaches_cycle(&e, NodeId(4)));
        assert_eq!(edges_reachable(&e, NodeId(0)), 3);
        assert_eq!(edges_reachable(&e, NodeId(4)), 5);
        let dag = g(&[(0, 1), (1, 2), (0, 2)]);
        assert!((0..3).all(|i| !reaches_cycle(&dag, NodeId(i))));
        assert_eq!(edges_reachable(&dag, NodeId(2)), 0);
        assert_eq!(show(&g(&[(0, 1), (2, 0)])), "0→1, 2→0");
    }
}

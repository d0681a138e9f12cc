//! Hop distances on a topology, for the cost formulas written in them: a token that
//! walks a tree from one requester to the next costs at most the tree's diameter per
//! critical section, and an algorithm declares that bound with the run's real
//! diameter rather than the widest one n nodes allow.

use crate::id::NodeId;
use crate::topology::Topology;
use std::collections::VecDeque;

impl Topology {
    /// Hops from `from` to every node along directed channels (breadth-first), `None`
    /// where no path leads.
    pub fn hops_from(&self, from: NodeId) -> Vec<Option<u32>> {
        let mut hops = vec![None; self.len()];
        let Some(first) = hops.get_mut(from.index()) else {
            return hops;
        };
        *first = Some(0);
        let mut queue = VecDeque::from([from]);
        while let Some(u) = queue.pop_front() {
            let next = hops[u.index()].unwrap_or(0) + 1;
            for v in self.neighbours(u) {
                if let Some(slot @ None) = hops.get_mut(v.index()) {
                    *slot = Some(next);
                    queue.push_back(v);
                }
            }
        }
        hops
    }

    /// The diameter of a tree (the longest shortest path, in hops) by two sweeps: the
    /// node farthest from node 0 is an end of a longest path, and the farthest from it
    /// gives the length. Exact on a tree; on a graph with cycles a lower bound.
    pub fn tree_diameter(&self) -> u32 {
        let farthest = |from: NodeId| {
            self.hops_from(from)
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.map(|h| (h, i)))
                .max()
                .map(|(h, i)| (NodeId(i as u32), h))
                .unwrap_or((from, 0))
        };
        if self.is_empty() {
            return 0;
        }
        let (end, _) = farthest(NodeId(0));
        farthest(end).1
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::{Topology, TopologyKind};

    fn built(kind: TopologyKind, n: usize) -> Topology {
        Topology::build(&kind, n, &mut crate::rng(1)).expect("a valid topology")
    }

    #[test]
    fn diameters_of_the_trees_the_library_builds() {
        for n in 1..40 {
            assert_eq!(built(TopologyKind::Line, n).tree_diameter(), n as u32 - 1, "line of {n}");
            assert_eq!(built(TopologyKind::Star, n).tree_diameter(), (n as u32 - 1).min(2), "star of {n}");
        }
        // The binary tree of 2^k − 1 nodes: leaf to leaf through the root, 2(k−1).
        for k in 1..6u32 {
            let n = (1usize << k) - 1;
            assert_eq!(built(TopologyKind::Tree, n).tree_diameter(), 2 * (k - 1), "tree of {n}");
        }
    }

    #[test]
    fn hops_follow_the_channels() {
        let line = built(TopologyKind::Line, 5);
        let hops: Vec<_> = line.hops_from(crate::NodeId(2)).into_iter().map(|h| h.unwrap_or(99)).collect();
        assert_eq!(hops, vec![2, 1, 0, 1, 2]);
        // A unidirectional ring: going back costs n − 1.
        let ring = built(TopologyKind::Ring, 5);
        assert_eq!(ring.hops_from(crate::NodeId(1))[0], Some(4));
    }
}

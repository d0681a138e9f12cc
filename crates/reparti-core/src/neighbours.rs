//! A node's out-neighbours as [`crate::Topology::neighbours`] gives them: a slice of a
//! stored adjacency, or computed from the node's position for the topologies kept
//! implicit (the complete graph, rings), iterable and indexable without allocating.

use crate::id::NodeId;

/// A node's out-neighbours, iterable and indexable without allocating.
#[derive(Clone, Copy, Debug)]
pub enum Neighbours<'a> {
    /// Stored neighbours.
    Slice(&'a [u32]),
    /// Every node but `me` (the complete graph).
    AllBut {
        /// The node whose neighbours these are.
        me: u32,
        /// The number of nodes.
        n: u32,
    },
    /// `me`'s neighbours on a ring: `[next]`, or `[previous, next]` both ways.
    Around {
        /// The node whose neighbours these are.
        me: u32,
        /// The number of nodes.
        n: u32,
        /// Whether the ring goes both ways.
        both_ways: bool,
    },
}

/// The node after `me` on a ring of `n`.
fn ring_next(me: u32, n: u32) -> u32 {
    if me + 1 == n {
        0
    } else {
        me + 1
    }
}

/// The node before `me` on a ring of `n`.
fn ring_previous(me: u32, n: u32) -> u32 {
    if me == 0 {
        n - 1
    } else {
        me - 1
    }
}

impl<'a> Neighbours<'a> {
    /// How many neighbours.
    pub fn len(&self) -> usize {
        match self {
            Neighbours::Slice(s) => s.len(),
            Neighbours::AllBut { n, .. } => n.saturating_sub(1) as usize,
            Neighbours::Around { both_ways, .. } => 1 + usize::from(*both_ways),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The k-th neighbour in the topology's order.
    pub fn get(&self, k: usize) -> Option<NodeId> {
        match *self {
            Neighbours::Slice(s) => s.get(k).map(|&t| NodeId(t)),
            Neighbours::AllBut { me, n } => {
                if k >= (n as usize).saturating_sub(1) {
                    None
                } else if k < me as usize {
                    Some(NodeId(k as u32))
                } else {
                    Some(NodeId(k as u32 + 1))
                }
            }
            Neighbours::Around { me, n, both_ways } => match (k, both_ways) {
                (0, false) | (1, true) => Some(NodeId(ring_next(me, n))),
                (0, true) => Some(NodeId(ring_previous(me, n))),
                _ => None,
            },
        }
    }

    /// The position of `node` among the neighbours, if it is one.
    pub fn position(&self, node: NodeId) -> Option<usize> {
        match *self {
            Neighbours::Slice(s) => s.iter().position(|&t| t == node.0),
            Neighbours::AllBut { me, n } => {
                if node.0 == me || node.0 >= n {
                    None
                } else if node.0 < me {
                    Some(node.0 as usize)
                } else {
                    Some(node.0 as usize - 1)
                }
            }
            // What `get` lists, compared directly: the simulator asks this for every FIFO
            // delivery on a ring. With two nodes both ways, the one neighbour is found
            // first at 0, as a search would.
            Neighbours::Around { me, n, both_ways: false } => (node.0 == ring_next(me, n)).then_some(0),
            Neighbours::Around { me, n, both_ways: true } => {
                if node.0 == ring_previous(me, n) {
                    Some(0)
                } else {
                    (node.0 == ring_next(me, n)).then_some(1)
                }
            }
        }
    }

    /// Whether `node` is a neighbour.
    pub fn contains(&self, node: NodeId) -> bool {
        self.position(node).is_some()
    }
}

/// Iterator over [`Neighbours`].
pub struct NeighbourIter<'a> {
    of: Neighbours<'a>,
    next: usize,
}

impl Iterator for NeighbourIter<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let r = self.of.get(self.next);
        self.next += 1;
        r
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.of.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl<'a> IntoIterator for Neighbours<'a> {
    type Item = NodeId;
    type IntoIter = NeighbourIter<'a>;
    fn into_iter(self) -> NeighbourIter<'a> {
        NeighbourIter { of: self, next: 0 }
    }
}

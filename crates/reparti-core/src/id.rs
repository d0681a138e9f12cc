//! Node identifiers.
//!
//! A [`NodeId`] is a node's *position* in the topology, `0..n`. It is what messages
//! are addressed to. An algorithm's *identity* (the totally ordered value an election
//! compares) is a separate `u64` handed to each node in its [`crate::NodeSetup`]: the
//! course insists that `id(p)` need not equal the index.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node's position in the topology, `0..n`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The position as a `usize`, for indexing per-node tables.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<usize> for NodeId {
    fn from(i: usize) -> Self {
        NodeId(i as u32)
    }
}

//! Per-channel FIFO ordering under random delays.
//!
//! A message may not be delivered before one sent earlier on the same channel, so its
//! delivery time is raised to the channel's last delivery time (ties keep send order
//! through the queue's sequence numbers). With constant delays this is automatic and
//! the table is never allocated.

use reparti_core::{NodeId, Topology};
use std::collections::HashMap;

type FixedMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Dense tables above this many channels would cost more than they save.
const DENSE_LIMIT: usize = 1 << 24;

pub(crate) struct FifoTable {
    dense: Vec<f64>,
    sparse: FixedMap<(u32, u32), f64>,
}

impl FifoTable {
    pub fn new(topology: &Topology) -> Self {
        let channels = topology.channel_count();
        let dense = if channels <= DENSE_LIMIT { vec![0.0; channels] } else { Vec::new() };
        FifoTable { dense, sparse: FixedMap::default() }
    }

    /// The dense slot of the channel `from → to`, if it has one (to prefetch it).
    #[inline]
    pub fn slot(&self, topology: &Topology, from: NodeId, to: NodeId) -> Option<&f64> {
        topology.channel_index(from, to).and_then(|c| self.dense.get(c))
    }

    /// The delivery time to use for a message from `from` to `to` that would arrive at `t`.
    #[inline]
    pub fn clamp(&mut self, topology: &Topology, from: NodeId, to: NodeId, t: f64) -> f64 {
        let slot = match topology.channel_index(from, to).filter(|&c| c < self.dense.len()) {
            Some(c) => &mut self.dense[c],
            None => self.sparse.entry((from.0, to.0)).or_insert(0.0),
        };
        let t = t.max(*slot);
        *slot = t;
        t
    }
}

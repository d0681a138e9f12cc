//! Prefetching: the memory the events a few places ahead will touch is asked for while
//! the current one is handled.
//!
//! With random delays a delivery goes to a random node among maybe a million, and its
//! handling reads that node's state, clocks and counters from as many arrays, then its
//! adjacency, then the FIFO slot of the channel it sends on: cache misses, the last
//! three one after the other (each address comes from the previous read). The calendar
//! queue's head is sorted, so the events to come are known: the adjacency of the
//! delivery [`FAR`] events on is fetched, and everything else of the one [`NEAR`] on,
//! whose adjacency is then at hand. A prefetch is only a hint: it changes no value,
//! only when memory arrives.

use crate::engine::{Event, Simulation};
use reparti_core::{Algorithm, Neighbours, NodeId};
use std::io::Write;

/// How many events ahead the node's own memory is asked for: far enough for it to
/// arrive in time, near enough for it to be still in cache when its event comes (4 to 8
/// measured best at 10^6 nodes, 16 and more worse: docs/PERFORMANCE.md).
const NEAR: usize = 8;
/// How many events ahead the adjacency is asked for: it is read to find the node's
/// channels, so it must arrive before [`NEAR`] comes to it.
const FAR: usize = 16;
/// How many events ahead the record of where the adjacency lies is asked for: [`FAR`]
/// reads it to find the adjacency, and a read that misses stalls the processor.
const FARTHEST: usize = 24;

impl<A: Algorithm, W: Write> Simulation<A, W> {
    /// Prefetches what the deliveries [`NEAR`] and [`FAR`] events on will read.
    #[inline]
    pub(crate) fn prefetch_ahead(&self) {
        if let Some(Event::Deliver(env)) = self.queue.peek_ahead(FARTHEST) {
            prefetch(self.topology.row_entry(NodeId(env.to)));
        }
        if let Some(Event::Deliver(env)) = self.queue.peek_ahead(FAR) {
            // Reads the adjacency's offsets (asked for at FARTHEST) to ask for its
            // targets.
            if let Neighbours::Slice(targets) = self.topology.neighbours(NodeId(env.to)) {
                prefetch(targets.first());
            }
        }
        let Some(Event::Deliver(env)) = self.queue.peek_ahead(NEAR) else { return };
        let i = env.to as usize;
        prefetch(self.nodes.get(i));
        prefetch(self.books.get(i));
        prefetch(self.crashed.get(i));
        if let Some(fifo) = &self.fifo {
            // The channel to its first neighbour: a ring's only one, and the start of
            // the node's row of slots otherwise.
            let from = NodeId(env.to);
            if let Some(to) = self.topology.neighbours(from).get(0) {
                prefetch(fifo.slot(&self.topology, from, to));
            }
        }
    }
}

/// Prefetches the cache line of `item`, if there is one.
#[inline(always)]
fn prefetch<T>(item: Option<&T>) {
    if let Some(item) = item {
        crate::prefetch::prefetch(item);
    }
}

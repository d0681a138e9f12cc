//! The global state the checker explores, in a canonical form.
//!
//! Two states that mean the same must be equal byte for byte, or the space inflates
//! for nothing: messages in transit are kept sorted by channel (FIFO order preserved
//! within a channel) or, on unordered networks, by channel and content, so that a
//! multiset has exactly one representation. Clock stamps are all zero unless the model
//! keeps clocks (the algorithm reads them or a property needs them).

use serde::{Deserialize, Serialize};
use std::hash::{BuildHasher, Hash};

/// A message in transit.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Packet<M> {
    /// The sender.
    pub from: u32,
    /// The receiver.
    pub to: u32,
    /// The message.
    pub msg: M,
    /// The Lamport stamp (0 when clocks are not kept).
    pub lamport: u64,
    /// The vector stamp (empty when vectors are not kept).
    pub vector: Vec<u64>,
    /// A hash of the content, computed once, that orders packets on unordered
    /// networks (0 on FIFO ones, where send order decides).
    pub key: u64,
}

impl<M: Hash> Packet<M> {
    /// A packet; `unordered` computes the content key that canonical order needs.
    pub fn new(from: u32, to: u32, msg: M, lamport: u64, vector: Vec<u64>, unordered: bool) -> Self {
        let key = if unordered { stable_hash(&(&msg, lamport, &vector), SEED_LO) } else { 0 };
        Packet { from, to, msg, lamport, vector, key }
    }
}

/// A global state: every node, the network, timers, the workload's progress, crashes.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct State<N, M> {
    /// Every node's state, by position.
    pub nodes: Vec<N>,
    /// Messages in transit, in canonical order.
    pub net: Vec<Packet<M>>,
    /// Pending timers as (node, interned timer index), sorted.
    pub timers: Vec<(u32, u16)>,
    /// For each node, how many of its external inputs have been applied.
    pub next_input: Vec<u16>,
    /// Crashed nodes, one bit per position.
    pub crashed: u64,
    /// Messages lost so far.
    pub drops: u8,
    /// Messages duplicated so far.
    pub dups: u8,
    /// Nodes crashed so far.
    pub crashes: u8,
    /// Lamport clocks, by position (empty when clocks are not kept).
    pub lamport: Vec<u64>,
    /// Vector clocks, n entries per node (empty when not kept).
    pub vectors: Vec<u64>,
}

impl<N, M> State<N, M> {
    /// Whether node `i` has crashed.
    #[inline]
    pub fn is_crashed(&self, i: usize) -> bool {
        self.crashed & (1 << i) != 0
    }
}

/// A state's fingerprint: 64 bits by default, 128 on request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Fingerprint {
    /// The first 64 bits (never 0: 0 marks an empty table slot).
    pub hi: u64,
    /// The second 64 bits (never 0 in wide mode; 0 in narrow mode).
    pub lo: u64,
}

const SEED_HI: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_LO: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// Hashes anything with a fixed seed: the same value, the same hash, in every run.
pub fn stable_hash<T: Hash + ?Sized>(value: &T, seed: u64) -> u64 {
    foldhash::fast::FixedState::with_seed(seed).hash_one(value)
}

/// The fingerprint of a state.
pub fn fingerprint<T: Hash>(state: &T, wide: bool) -> Fingerprint {
    let hi = stable_hash(state, SEED_HI).max(1);
    let lo = if wide { stable_hash(state, SEED_LO).max(1) } else { 0 };
    Fingerprint { hi, lo }
}

/// Inserts `p` into a canonically ordered network.
///
/// FIFO: packets are ordered by channel `(to, from)` and a new one goes to the end of
/// its channel. Unordered: ordered by channel then by content hash, so equal multisets
/// are equal vectors (equal packets end up next to each other).
pub fn insert_packet<M: Hash + Eq>(net: &mut Vec<Packet<M>>, p: Packet<M>, fifo: bool) {
    let at = if fifo {
        net.partition_point(|q| (q.to, q.from) <= (p.to, p.from))
    } else {
        net.partition_point(|q| (q.to, q.from, q.key) <= (p.to, p.from, p.key))
    };
    net.insert(at, p);
}

/// Whether packet `i` may be delivered next: the head of its channel (FIFO), or the
/// first of a run of identical packets (unordered: delivering any copy is the same).
#[inline]
pub fn deliverable<M: PartialEq>(net: &[Packet<M>], i: usize, fifo: bool) -> bool {
    if i == 0 {
        return true;
    }
    let (a, b) = (&net[i - 1], &net[i]);
    if fifo {
        (a.to, a.from) != (b.to, b.from)
    } else {
        a != b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(from: u32, to: u32, msg: u8) -> Packet<u8> {
        Packet::new(from, to, msg, 0, Vec::new(), true)
    }

    #[test]
    fn unordered_networks_have_one_form_per_multiset() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for x in [p(0, 1, 5), p(2, 1, 3), p(0, 1, 7), p(0, 1, 5)] {
            insert_packet(&mut a, x, false);
        }
        for x in [p(0, 1, 5), p(0, 1, 5), p(0, 1, 7), p(2, 1, 3)] {
            insert_packet(&mut b, x, false);
        }
        assert_eq!(a, b);
        let heads: Vec<usize> = (0..a.len()).filter(|&i| deliverable(&a, i, false)).collect();
        assert_eq!(heads.len(), 3, "two identical copies count once: {a:?}");
    }

    #[test]
    fn fifo_networks_keep_send_order_within_a_channel() {
        let mut net = Vec::new();
        for x in [p(0, 1, 9), p(2, 1, 1), p(0, 1, 3)] {
            insert_packet(&mut net, Packet { key: 0, ..x }, true);
        }
        let from0: Vec<u8> = net.iter().filter(|q| q.from == 0).map(|q| q.msg).collect();
        assert_eq!(from0, vec![9, 3]);
        let heads: Vec<u8> = (0..net.len()).filter(|&i| deliverable(&net, i, true)).map(|i| net[i].msg).collect();
        assert_eq!(heads, vec![9, 1]);
    }
}

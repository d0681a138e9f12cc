//! The global state the checker explores, in a canonical form.
//!
//! Two states that mean the same must be equal byte for byte, or the space inflates
//! for nothing: messages in transit are kept sorted by channel (FIFO order preserved
//! within a channel) or, on unordered networks, by channel and content, so that a
//! multiset has exactly one representation. Clock stamps are all zero unless the model
//! keeps clocks (the algorithm reads them or a property needs them).

use crate::histories::Recorded;
use serde::{Deserialize, Serialize};
use std::hash::{BuildHasher, Hash};

/// A message in transit.
///
/// Its content key is derived data: it is not written when a state is packed into a
/// frontier (a 64-bit hash is ten bytes of varint, the largest part of a packed
/// message) and is computed again when the packet is read back.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(from = "PacketWire<M>", bound(deserialize = "M: Deserialize<'de> + Hash"))]
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
    /// A hash of the content, computed once when the packet is made: it orders packets
    /// on unordered networks and stands for the content in fingerprints.
    #[serde(skip_serializing)]
    pub key: u64,
}

/// A packet as it is packed: everything but the key.
#[derive(Deserialize)]
struct PacketWire<M> {
    from: u32,
    to: u32,
    msg: M,
    lamport: u64,
    vector: Vec<u64>,
}

impl<M: Hash> From<PacketWire<M>> for Packet<M> {
    fn from(w: PacketWire<M>) -> Self {
        Packet::new(w.from, w.to, w.msg, w.lamport, w.vector)
    }
}

impl<M: Hash> Packet<M> {
    /// A packet, with its content key hashed once.
    pub fn new(from: u32, to: u32, msg: M, lamport: u64, vector: Vec<u64>) -> Self {
        let key = stable_hash(&(&msg, lamport, &vector), SEED_HI);
        Packet { from, to, msg, lamport, vector, key }
    }
}

/// A global state: every node, the network, timers, the workload's progress, crashes.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound(deserialize = "N: Deserialize<'de>, M: Deserialize<'de> + Hash"))]
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
    /// What the history properties need of the clients' calls and returns so far.
    pub history: Recorded,
}

impl<N: Clone, M: Clone> State<N, M> {
    /// A state with nothing in it: a buffer for [`State::copy_from`].
    pub fn empty() -> Self {
        State {
            nodes: Vec::new(),
            net: Vec::new(),
            timers: Vec::new(),
            next_input: Vec::new(),
            crashed: 0,
            drops: 0,
            dups: 0,
            crashes: 0,
            lamport: Vec::new(),
            vectors: Vec::new(),
            history: Recorded::Nothing,
        }
    }

    /// Makes `self` a copy of `other`, reusing `self`'s allocations: the search copies
    /// a state once per successor, and recycled buffers make that copy allocation-free.
    #[inline]
    pub fn copy_from(&mut self, other: &Self) {
        self.nodes.clone_from(&other.nodes);
        self.net.clone_from(&other.net);
        self.timers.clone_from(&other.timers);
        self.next_input.clone_from(&other.next_input);
        self.crashed = other.crashed;
        self.drops = other.drops;
        self.dups = other.dups;
        self.crashes = other.crashes;
        self.lamport.clone_from(&other.lamport);
        self.vectors.clone_from(&other.vectors);
        self.history.clone_from(&other.history);
    }
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

/// The splitmix64 finalizer: a cheap bijective mix of 64 bits.
#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One node's share of a fingerprint: its state hashed with its position.
#[inline]
pub fn node_hash<N: Hash>(i: usize, node: &N, seed: u64) -> u64 {
    stable_hash(&(i as u32, node), seed)
}

/// The network's share: a sum over packets (a multiset has one sum whatever the
/// order), each packet mixed with its channel and, on FIFO networks, its place in the
/// channel. The first half uses the content key computed when the packet was sent, so
/// no message is hashed again; the second half (wide fingerprints) hashes the content
/// with another seed, so that the two halves stay independent.
fn net_hash<M: Hash>(net: &[Packet<M>], fifo: bool, seed: u64) -> u64 {
    let mut sum = 0u64;
    let mut place = 0u64;
    for (k, p) in net.iter().enumerate() {
        if fifo {
            place = if k > 0 && (net[k - 1].to, net[k - 1].from) == (p.to, p.from) { place + 1 } else { 0 };
        }
        sum = sum.wrapping_add(packet_share(p, place, seed));
    }
    sum
}

/// One packet's share of the network's: its content, its channel and its place in the
/// channel (always 0 on unordered networks).
#[inline]
fn packet_share<M: Hash>(p: &Packet<M>, place: u64, seed: u64) -> u64 {
    let content = if seed == SEED_HI { p.key } else { stable_hash(&(&p.msg, p.lamport, &p.vector), seed) };
    let channel = (u64::from(p.from) << 32 | u64::from(p.to)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    mix(content ^ channel ^ place.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ seed)
}

/// Where channel `(to, from)` lies in a network ordered by channel.
fn channel_range<M>(net: &[Packet<M>], to: u32, from: u32) -> std::ops::Range<usize> {
    let start = net.partition_point(|q| (q.to, q.from) < (to, from));
    let end = net.partition_point(|q| (q.to, q.from) <= (to, from));
    start..end
}

/// How the network's share changes when packet `removed` (if any; on FIFO networks the
/// head of its channel) leaves and `added` are sent, in order: the change a step makes,
/// computed on the parent's network without building the successor's.
fn net_delta<M: Hash>(net: &[Packet<M>], removed: Option<usize>, added: &[Packet<M>], fifo: bool) -> u64 {
    let mut delta = 0u64;
    if let Some(r) = removed {
        let p = &net[r];
        if fifo {
            // The rest of the channel moves up one place.
            let range = channel_range(net, p.to, p.from);
            for (place, q) in net[range.clone()].iter().enumerate() {
                let place = place as u64;
                delta = delta.wrapping_sub(packet_share(q, place, SEED_HI));
                if range.start + place as usize > r {
                    delta = delta.wrapping_add(packet_share(q, place - 1, SEED_HI));
                }
            }
        } else {
            delta = delta.wrapping_sub(packet_share(p, 0, SEED_HI));
        }
    }
    for (j, p) in added.iter().enumerate() {
        let place = if fifo {
            // A new packet goes to the end of its channel, after the earlier new ones.
            let range = channel_range(net, p.to, p.from);
            let before = range.len() - usize::from(removed.is_some_and(|r| range.contains(&r)));
            let earlier = added[..j].iter().filter(|q| (q.to, q.from) == (p.to, p.from)).count();
            (before + earlier) as u64
        } else {
            0
        };
        delta = delta.wrapping_add(packet_share(p, place, SEED_HI));
    }
    delta
}

/// Everything else: timers, workload progress, crashes, fault budgets, clocks, history.
fn rest_hash<N, M>(s: &State<N, M>, seed: u64) -> u64 {
    rest_hash_with(s, &s.timers, &s.next_input, seed)
}

/// [`rest_hash`] of `s` with other timers and input counters: a probed successor's.
fn rest_hash_with<N, M>(s: &State<N, M>, timers: &[(u32, u16)], next_input: &[u16], seed: u64) -> u64 {
    let rest = (timers, next_input, s.crashed, s.drops, s.dups, s.crashes, &s.lamport, &s.vectors);
    stable_hash(&(rest, &s.history), seed)
}

/// The per-node shares of a state's fingerprint, kept while its successors are
/// fingerprinted: a step changes one node, so a successor's fingerprint re-hashes that
/// node, the network and the small rest, never the other nodes.
pub struct NodeShares {
    hi: Vec<u64>,
    lo: Vec<u64>,
    sum_hi: u64,
    sum_lo: u64,
    /// The parent's network and rest shares (first half), for probed successors.
    net_hi: u64,
    rest_hi: u64,
}

impl NodeShares {
    /// The shares of every node of `s`.
    pub fn of<N: Hash, M: Hash>(s: &State<N, M>, wide: bool, fifo: bool) -> Self {
        let hi: Vec<u64> = s.nodes.iter().enumerate().map(|(i, n)| node_hash(i, n, SEED_HI)).collect();
        let lo: Vec<u64> =
            if wide { s.nodes.iter().enumerate().map(|(i, n)| node_hash(i, n, SEED_LO)).collect() } else { Vec::new() };
        let sum = |v: &[u64]| v.iter().fold(0u64, |a, b| a.wrapping_add(*b));
        NodeShares {
            sum_hi: sum(&hi),
            sum_lo: sum(&lo),
            hi,
            lo,
            net_hi: net_hash(&s.net, fifo, SEED_HI),
            rest_hi: rest_hash(s, SEED_HI),
        }
    }

    /// The fingerprint of `t`, a state equal to the one these shares came from except
    /// for node `changed`, the network and the rest.
    pub fn successor<N: Hash, M: Hash>(&self, t: &State<N, M>, changed: usize, wide: bool, fifo: bool) -> Fingerprint {
        let nodes_hi =
            self.sum_hi.wrapping_sub(self.hi[changed]).wrapping_add(node_hash(changed, &t.nodes[changed], SEED_HI));
        let hi = combine(nodes_hi, t, fifo, SEED_HI);
        let lo = if wide {
            let nodes_lo =
                self.sum_lo.wrapping_sub(self.lo[changed]).wrapping_add(node_hash(changed, &t.nodes[changed], SEED_LO));
            combine(nodes_lo, t, fifo, SEED_LO)
        } else {
            0
        };
        Fingerprint { hi, lo }
    }
    /// The 64-bit fingerprint of the successor of `parent` (the state these shares came
    /// from) in which node `changed` became `node`, packet `removed` was taken off the
    /// network, `added` were sent, and the timers or input counters became the given
    /// ones (`None`: unchanged) — without building it. Equal to [`fingerprint`] of the
    /// successor once built (the probe's tests hold it so).
    #[allow(clippy::too_many_arguments)]
    pub fn probed<N: Hash, M: Hash>(
        &self,
        parent: &State<N, M>,
        changed: usize,
        node: &N,
        removed: Option<usize>,
        added: &[Packet<M>],
        timers: Option<&[(u32, u16)]>,
        next_input: Option<&[u16]>,
        fifo: bool,
    ) -> Fingerprint {
        let nodes = self.sum_hi.wrapping_sub(self.hi[changed]).wrapping_add(node_hash(changed, node, SEED_HI));
        let net = self.net_hi.wrapping_add(net_delta(&parent.net, removed, added, fifo));
        let rest = if timers.is_none() && next_input.is_none() {
            self.rest_hi
        } else {
            let timers = timers.unwrap_or(&parent.timers);
            let next_input = next_input.unwrap_or(&parent.next_input);
            rest_hash_with(parent, timers, next_input, SEED_HI)
        };
        Fingerprint { hi: mix(nodes.wrapping_add(net).wrapping_add(rest) ^ SEED_HI).max(1), lo: 0 }
    }
}

fn combine<N, M: Hash>(nodes: u64, s: &State<N, M>, fifo: bool, seed: u64) -> u64 {
    mix(nodes.wrapping_add(net_hash(&s.net, fifo, seed)).wrapping_add(rest_hash(s, seed)) ^ seed).max(1)
}

/// The fingerprint of a state: the sum of its nodes' shares, its network's and the
/// rest's, mixed. `fifo` says whether a message's place in its channel matters.
pub fn fingerprint<N: Hash, M: Hash>(s: &State<N, M>, wide: bool, fifo: bool) -> Fingerprint {
    let nodes = |seed| s.nodes.iter().enumerate().fold(0u64, |a, (i, n)| a.wrapping_add(node_hash(i, n, seed)));
    let hi = combine(nodes(SEED_HI), s, fifo, SEED_HI);
    let lo = if wide { combine(nodes(SEED_LO), s, fifo, SEED_LO) } else { 0 };
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
        Packet::new(from, to, msg, 0, Vec::new())
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

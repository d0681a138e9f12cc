//! The mutual-exclusion algorithms written again, straight from their papers'
//! pseudo-code, each with its own state representation, and the driver that enumerates
//! their reachable states the way the checker explores a run of the chapter's workload.
//!
//! The driver models what `reparti check ALGO -p requests=1` explores, and nothing else:
//!
//! * each node gets one `request` from the workload, at a time drawn in (0, window), so
//!   never in the initial state: applying it is one step, enabled until taken (or, with
//!   [`space_requests_at_start`], every request is made in the initial state, after
//!   every start, in position order);
//! * a node in the critical section may leave at any step: the checker abstracts time
//!   away, and the CS timer `cs` is pending exactly while the node is in the CS (set on
//!   entering, removed when it fires, nothing else sets or cancels it with this
//!   workload), so "the timer fires" and "the stay ends" are one and the same step;
//! * a message is received at any step: the head of its channel (FIFO) or any one copy
//!   of any message in flight (unordered), as [`Net`] offers them;
//! * no losses, duplicates or crashes.
//!
//! An algorithm here never calls the library's handlers nor the checker's model: it
//! only implements [`Textbook`], and the driver checks mutual exclusion in every state
//! and, in every final state, that every node is at rest with its request served.

pub mod carvalho_roucairol;
pub mod lamport;
pub mod maekawa;
pub mod raymond;
pub mod ricart_agrawala;
pub mod suzuki_kasami;
pub mod token_ring_mutex;

use crate::common::enumerate::{enumerate, enumerate_fingerprinted, Net, Space};
use reparti_check::NetworkKind;
use std::fmt::Debug;
use std::hash::Hash;

/// An algorithm as its paper writes it: node state, messages, the request, the
/// receptions and the release.
pub trait Textbook {
    /// One node's state, exactly the variables of the pseudo-code.
    type Node: Clone + Eq + Hash + Debug;
    /// A message, exactly as the pseudo-code sends it.
    type Msg: Clone + Ord + Hash + Debug;

    /// Node `i`'s initial state.
    fn init(&self, i: usize) -> Self::Node;
    /// What node `i` does at start, before any request (most algorithms: nothing).
    fn start(&self, _i: usize, _node: &mut Self::Node, _net: &mut Net<Self::Msg>) {}
    /// Node `i` asks for the critical section.
    fn request(&self, i: usize, node: &mut Self::Node, net: &mut Net<Self::Msg>);
    /// Node `i` receives `m` from `from`.
    fn receive(&self, i: usize, from: usize, m: Self::Msg, node: &mut Self::Node, net: &mut Net<Self::Msg>);
    /// Whether the node is in the critical section.
    fn in_cs(&self, node: &Self::Node) -> bool;
    /// Node `i` leaves the critical section.
    fn release(&self, i: usize, node: &mut Self::Node, net: &mut Net<Self::Msg>);
    /// In a final state: the node asked once, was served, and owes nothing to anyone.
    fn at_rest(&self, node: &Self::Node) -> Result<(), String>;
    /// An invariant of the whole system besides mutual exclusion (e.g. one token).
    fn invariant(&self, _nodes: &[Self::Node], _net: &Net<Self::Msg>) -> Result<(), String> {
        Ok(())
    }
}

/// A global state: which nodes have had their request, every node, the network.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Global<N, M: Ord> {
    /// `asked[i]`: node i's one request of the workload has been applied.
    pub asked: Vec<bool>,
    /// Every node's state, by position.
    pub nodes: Vec<N>,
    /// Messages in flight.
    pub net: Net<M>,
}

/// Every state reachable from the initial one, each node asking once.
pub fn space<T: Textbook>(alg: &T, n: usize, network: NetworkKind) -> Space {
    walk(alg, n, network, false, false)
}

/// The same, every node's request made at time 0: the checker applies such inputs in
/// the initial state, after every start, in position order.
pub fn space_requests_at_start<T: Textbook>(alg: &T, n: usize, network: NetworkKind) -> Space {
    walk(alg, n, network, false, true)
}

/// The same, keeping fingerprints of the states seen rather than the states: for spaces
/// of a million states.
pub fn space_fingerprinted<T: Textbook>(alg: &T, n: usize, network: NetworkKind) -> Space {
    walk(alg, n, network, true, false)
}

fn walk<T: Textbook>(alg: &T, n: usize, network: NetworkKind, fingerprinted: bool, at_start: bool) -> Space {
    let mut init =
        Global { asked: vec![false; n], nodes: (0..n).map(|i| alg.init(i)).collect(), net: Net::new(network) };
    for i in 0..n {
        alg.start(i, &mut init.nodes[i], &mut init.net);
    }
    if at_start {
        for i in 0..n {
            init.asked[i] = true;
            alg.request(i, &mut init.nodes[i], &mut init.net);
        }
    }
    let succ = |g: &Global<T::Node, T::Msg>| {
        let mut out = Vec::new();
        // The checker's order (deliveries, timers, inputs) does not matter to the counts,
        // but it is kept so that a difference reads the same in both.
        for (from, to, m, rest) in g.net.receptions() {
            let mut t = Global { net: rest, ..g.clone() };
            alg.receive(to, from, m, &mut t.nodes[to], &mut t.net);
            out.push(t);
        }
        for i in (0..n).filter(|&i| alg.in_cs(&g.nodes[i])) {
            let mut t = g.clone();
            alg.release(i, &mut t.nodes[i], &mut t.net);
            out.push(t);
        }
        for i in (0..n).filter(|&i| !g.asked[i]) {
            let mut t = g.clone();
            t.asked[i] = true;
            alg.request(i, &mut t.nodes[i], &mut t.net);
            out.push(t);
        }
        out
    };
    let check = |g: &Global<T::Node, T::Msg>| {
        let inside = g.nodes.iter().filter(|s| alg.in_cs(s)).count();
        assert!(inside <= 1, "the paper's algorithm itself let {inside} nodes in: {g:?}");
        if let Err(why) = alg.invariant(&g.nodes, &g.net) {
            panic!("the paper's algorithm itself breaks an invariant: {why}: {g:?}");
        }
        let last = g.net.is_empty() && inside == 0 && g.asked.iter().all(|&a| a);
        if last {
            for (i, s) in g.nodes.iter().enumerate() {
                if let Err(why) = alg.at_rest(s) {
                    panic!("final state, node {i} not at rest ({why}): {g:?}");
                }
            }
        }
    };
    if fingerprinted {
        enumerate_fingerprinted(init, succ, check)
    } else {
        enumerate(init, succ, check)
    }
}

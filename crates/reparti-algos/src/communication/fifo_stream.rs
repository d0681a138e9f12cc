//! # A numbered stream on every channel: the smallest algorithm that needs FIFO
//!
//! **What.** Every node sends `count` numbered messages to each of its out-neighbours,
//! and every receiver checks that each channel delivers them in the order sent. On FIFO
//! channels that always holds; on a network that reorders it fails at once — unless the
//! stream runs over the FIFO layer (`fifo-stream+fifo`), which is what it is for: the
//! FIFO layer's witness, as a sent-and-received counter is a reliable layer's.
//!
//! **Source.** The FIFO channel property as stated by M. Raynal, *Distributed Algorithms
//! for Message-Passing Systems*, Springer 2013, §1.3: on every channel, the delivered
//! sequence is a prefix of the sent sequence.
//!
//! ```text
//! on start:               for each out-neighbour j: for k in 0..count: send STREAM(k) to j
//! on STREAM(k) from i:    in order iff k = next[i]; next[i] += 1
//! ```
//!
//! **How it runs here.** On a ring (one channel per node) or a complete graph. The
//! number each receiver expects is kept per sender; a message out of order is recorded
//! (`disorder`) and breaks the invariant. Each in-order delivery outputs `delivered`.
//!
//! **Pitfalls.** Counting arrivals is not checking order: two swapped messages still
//! arrive two by two. The check compares each number with the one expected next.
//!
//! **Properties.** After every event: "each channel delivers in the order sent". At
//! quiescence: "every node received all `count` messages from each in-neighbour".
//!
//! **Costs.** Exactly `count` STREAM per channel: as many as the in-order deliveries.

use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError,
    ParamSpec, Params, Process, Properties, RunFacts, Terminal, World,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The one message: the `k`-th of its channel.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
#[message(kind = "STREAM")]
pub struct Stream {
    /// Its number on the channel.
    pub k: u64,
}

/// A node: what it expects next from each sender, and the first disorder seen.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct StreamNode {
    /// Messages to send on each channel.
    pub count: u64,
    /// The number expected next, by sender (senders heard so far).
    pub next: BTreeMap<NodeId, u64>,
    /// The first message out of order: (sender, expected, received).
    pub disorder: Option<(NodeId, u64, u64)>,
    /// How many messages it sent (count per out-neighbour).
    pub sent: u64,
}

impl Process for StreamNode {
    type Msg = Stream;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Stream>) {
        for to in ctx.neighbours() {
            self.sent += self.count;
            for k in 0..self.count {
                ctx.send(to, Stream { k });
            }
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Stream, ctx: &mut Context<'_, Stream>) {
        let next = self.next.entry(from).or_insert(0);
        if msg.k == *next {
            ctx.output("delivered", from.index());
        } else if self.disorder.is_none() {
            self.disorder = Some((from, *next, msg.k));
        }
        *next += 1;
    }
}

const PARAMS: &[ParamSpec] = &[ParamSpec::int("count", "3", 1, 1_000_000, "numbered messages sent on each channel")];

/// See the [module documentation](self).
pub struct FifoStream {
    count: u64,
}

fn in_order(s: &StreamNode) -> Result<(), String> {
    match s.disorder {
        Some((from, want, got)) => Err(format!("message {got} from {from} was delivered when {want} was expected")),
        None => Ok(()),
    }
}

fn all_received(w: &World<'_, StreamNode>) -> Result<(), String> {
    // Without duplicates (a duplicate is out of order, so the invariant catches it),
    // as many received as sent means every channel delivered its whole stream.
    let sent: u64 = w.nodes.iter().map(|s| s.sent).sum();
    let received: u64 = w.nodes.iter().map(|s| s.next.values().sum::<u64>()).sum();
    match received == sent {
        true => Ok(()),
        false => Err(format!("{received} messages received of the {sent} sent")),
    }
}

impl Algorithm for FifoStream {
    type Node = StreamNode;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["ring", "complete"],
            default_nodes: 3,
            needs_fifo: true,
            ..AlgorithmSpec::new(
                "fifo-stream",
                Chapter::Communication,
                "numbered messages on every channel, checked in order: needs FIFO (or fifo-stream+fifo)",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(FifoStream { count: params.get("count")? })
    }

    fn init(&self, _setup: &NodeSetup) -> StreamNode {
        StreamNode { count: self.count, next: BTreeMap::new(), disorder: None, sent: 0 }
    }

    fn properties(&self) -> Properties<StreamNode> {
        Properties {
            invariants: vec![Invariant::<StreamNode>::local("each channel delivers in the order sent", in_order)],
            terminal: vec![Terminal::<StreamNode>::new("every message sent was received", all_received)],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        vec![Expectation::exact(
            "STREAM",
            "count · channels (each delivered once, in order)",
            facts.output_count("delivered") as f64,
        )]
    }
}

//! # Replicas updated through a fixed sequencer: total order with n messages a broadcast
//!
//! **What.** The replicated memory of [`super::tob_replica`] over the simplest totally
//! ordered broadcast. One node, the *sequencer* (node 0), numbers every update: a node
//! that broadcasts sends `SUBMIT(u)` to the sequencer, which gives `u` the next global
//! sequence number `s`, delivers it at once and sends `ORDER(s, u)` to the n−1 others.
//! A receiver delivers updates in sequence-number order, holding back those that arrive
//! ahead of a missing one.
//!
//! **Source.** The fixed-sequencer broadcast of Amoeba: Kaashoek & Tanenbaum, "Group
//! communication in the Amoeba distributed operating system", ICDCS 1991; survey:
//! Défago, Schiper & Urbán, "Total order broadcast and multicast algorithms: taxonomy
//! and survey", ACM Computing Surveys 36(4), 2004 (the "fixed sequencer" class).
//!
//! ```text
//! TO-broadcast(u) at p:  if p = sequencer: stamp(u) else send SUBMIT(u) to sequencer
//! stamp(u) at sequencer: s = next; next += 1; send ORDER(s, u) to every q ≠ sequencer
//!                        TO-deliver(u)
//! on ORDER(s, u) at q:   holdback[s] = u
//!                        while holdback has expected: TO-deliver(holdback.remove(expected))
//!                                                     expected += 1
//! ```
//!
//! **How it runs here.** The sequencer is node 0 and is a replica and a client like any
//! other. Its own updates skip the `SUBMIT`. The hold-back queue is a `BTreeMap` keyed by
//! sequence number, so the next deliverable update is its first entry. Every node outputs
//! `broadcast` = its position for each update it broadcasts, which the expected counts
//! read. `fault=no-holdback` is the classic mistake below, for the checkers' sake.
//!
//! **Pitfalls.**
//! * Delivering an `ORDER` on arrival (`fault=no-holdback`): on FIFO channels it works,
//!   since the sequencer sends in sequence order, and that hides the bug; on non-FIFO
//!   channels two `ORDER`s overtake each other and replicas apply updates in different
//!   orders — the same-sequence invariant catches it at the first divergent delivery.
//! * Letting the sender deliver its own update when it sends `SUBMIT`, rather than when
//!   the `ORDER` comes back: its replica then applies it out of the global order.
//! * The sequencer is a single point of failure and a bottleneck: every update crosses
//!   it, and if it crashes nothing is delivered anymore (fixing that is a view change).
//!
//! **Properties.** After every event: "every replica delivers the same sequence". At
//! quiescence: "every replica delivered every update", "every operation was answered".
//! History: linearizable (`read=ordered`) or sequentially consistent (`read=local`).
//!
//! **Costs.** n messages per broadcast from a node other than the sequencer (1 `SUBMIT`
//! and n−1 `ORDER`), n−1 from the sequencer: with #b broadcasts of which #b₀ by the
//! sequencer, SUBMIT = #b − #b₀, ORDER = (n−1)·#b, total = n·(#b − #b₀) + (n−1)·#b₀.
//!
//! **State count.** `reparti check tob-sequencer -n 3 -p ops=1` explores 580 states on
//! unordered channels and 222 on FIFO ones, with no violation; with `fault=no-holdback`
//! it finds a divergence on unordered channels and none on FIFO ones.

use super::client::{Client, MemoryNode};
use super::every_operation_answered;
use super::tob_replica::{self, ReadMode, Replica, Started, TobNode, Update};
use super::workload::Workload;
use crate::memory_params;
use reparti_core::history::{HistoryProperty, Operation, Reply};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params, Process,
    Properties, RunFacts, ScheduledInput, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The sequencer.
pub const SEQUENCER: NodeId = NodeId(0);

/// The fixed sequencer's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// To the sequencer: please number and broadcast this update.
    Submit(Update),
    /// From the sequencer: the update numbered `seq`.
    Order {
        /// Its global sequence number.
        seq: u64,
        /// The update.
        update: Update,
    },
}

/// One node: its replica, its client, and its part of the broadcast.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// The sequence number of the next update to deliver (at the sequencer: the next
    /// one to give).
    pub next: u64,
    /// Updates received ahead of a missing one, by sequence number.
    pub holdback: BTreeMap<u64, Update>,
    /// Deliver `ORDER`s on arrival (`fault=no-holdback`).
    pub no_holdback: bool,
    /// The registers.
    pub replica: Replica,
    /// This node's client.
    pub client: Client,
}

impl Node {
    /// TO-broadcasts `u`; the answer if it was delivered here at once (at the sequencer).
    fn broadcast(&mut self, u: Update, ctx: &mut Context<'_, Msg>) -> Option<Reply> {
        if self.me == SEQUENCER {
            self.stamp(u, ctx)
        } else {
            ctx.send(SEQUENCER, Msg::Submit(u));
            None
        }
    }

    /// At the sequencer: numbers `u`, sends it to every other node, delivers it.
    fn stamp(&mut self, u: Update, ctx: &mut Context<'_, Msg>) -> Option<Reply> {
        let seq = self.next;
        self.next += 1;
        for q in 0..self.n {
            if NodeId(q) != self.me {
                ctx.send(NodeId(q), Msg::Order { seq, update: u });
            }
        }
        self.replica.deliver(&u)
    }

    /// Delivers `u` and answers the client if it was waiting for it.
    fn deliver(&mut self, u: &Update, ctx: &mut Context<'_, Msg>) {
        if let Some(reply) = self.replica.deliver(u) {
            self.answer(reply, ctx);
        }
    }

    /// An `ORDER` at a node other than the sequencer: held back until its turn.
    fn on_order(&mut self, seq: u64, u: Update, ctx: &mut Context<'_, Msg>) {
        if self.no_holdback {
            // The broken variant: deliver whatever arrives, in arrival order.
            self.next = self.next.max(seq + 1);
            return self.deliver(&u, ctx);
        }
        if seq < self.next || self.holdback.contains_key(&seq) {
            ctx.log(format!("ORDER {seq} of {} already received: ignored", u.id));
            return;
        }
        self.holdback.insert(seq, u);
        while let Some(u) = self.holdback.remove(&self.next) {
            self.next += 1;
            self.deliver(&u, ctx);
        }
    }
}

impl MemoryNode for Node {
    fn client(&self) -> &Client {
        &self.client
    }

    fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    fn start(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) -> Option<Reply> {
        match self.replica.start(op, ctx) {
            Started::Answered(reply) => Some(reply),
            Started::Broadcast(u) => self.broadcast(u, ctx),
        }
    }
}

impl TobNode for Node {
    fn replica(&self) -> &Replica {
        &self.replica
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Operation;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Submit(u) if self.me == SEQUENCER => {
                if let Some(reply) = self.stamp(u, ctx) {
                    // Only a peer that forged this node's own update gets here.
                    ctx.log(format!("SUBMIT from {from} of this node's own update {}", u.id));
                    self.answer(reply, ctx);
                }
            }
            Msg::Order { seq, update } if self.me != SEQUENCER && from == SEQUENCER => self.on_order(seq, update, ctx),
            other => ctx.log(format!("{other:?} from {from} at node {}: not for this node, ignored", self.me)),
        }
    }

    fn on_input(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) {
        self.ask(op, ctx);
    }
}

/// Replicas over a fixed-sequencer total-order broadcast. See the [module
/// documentation](self).
#[derive(Clone, Debug)]
pub struct TobSequencer {
    read: ReadMode,
    no_holdback: bool,
    workload: Workload,
}

const PARAMS: &[ParamSpec] = memory_params!(
    tob_replica::READ_PARAM,
    ParamSpec::choice(
        "fault",
        "none",
        &["none", "no-holdback"],
        "no-holdback: deliver ORDERs on arrival (the classic mistake; breaks on non-FIFO channels)"
    ),
);

impl Algorithm for TobSequencer {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        super::spec(
            "tob-sequencer",
            "Replicas updated by a fixed-sequencer total-order broadcast: n messages per update",
            PARAMS,
        )
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        // `fault` is a choice: the parameters were checked against it already.
        let no_holdback = params.get::<String>("fault")? == "no-holdback";
        Ok(TobSequencer { read: ReadMode::from_params(params)?, no_holdback, workload: Workload::from_params(params)? })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.workload.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            n: setup.n as u32,
            next: 0,
            holdback: BTreeMap::new(),
            no_holdback: self.no_holdback,
            replica: Replica::new(setup.me, self.read),
            client: Client::default(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Operation>> {
        self.workload.draw(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![tob_replica::same_sequence()],
            terminal: vec![tob_replica::all_delivered(), every_operation_answered()],
        }
    }

    fn history_properties(&self) -> Vec<HistoryProperty> {
        self.read.history_properties()
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let (all, by_sequencer) = tob_replica::broadcasts(facts, SEQUENCER);
        let others = all.saturating_sub(by_sequencer) as f64;
        let (all, by_sequencer) = (all as f64, by_sequencer as f64);
        let n = facts.n as f64;
        let per = (facts.n.saturating_sub(1)) as f64;
        vec![
            Expectation::exact("SUBMIT", "#b − #b₀", others),
            Expectation::exact("ORDER", "(n−1)·#b", per * all),
            Expectation::exact("total", "n·(#b − #b₀) + (n−1)·#b₀", n * others + per * by_sequencer),
        ]
    }
}

#[cfg(test)]
#[path = "sequencer_tests.rs"]
mod tests;

//! # Replicas updated through Lamport's clock-based total-order broadcast
//!
//! **What.** The replicated memory of [`super::tob_replica`] over a totally ordered
//! broadcast with no special node. Each node keeps a Lamport clock. To broadcast, a node
//! stamps its update with `(ts, id)` — its clock and its position, which break ties —
//! and sends `MSG(ts, u)` to everyone; every receiver sends `ACK(ts')` to all the others.
//! Every node holds the updates it knows in a queue ordered by `(ts, id)` and delivers
//! the smallest once, from every other process k, some message stamped larger has
//! arrived: on FIFO channels nothing stamped smaller can come from k anymore. For k the
//! update's own sender, the `MSG` itself is enough, by FIFO again.
//!
//! **Source.** Lamport, "Time, clocks, and the ordering of events in a distributed
//! system", CACM 21(7), 1978 (the state-machine construction of its mutual-exclusion
//! example); Défago, Schiper & Urbán, "Total order broadcast and multicast algorithms:
//! taxonomy and survey", ACM Computing Surveys 36(4), 2004 ("communication history").
//!
//! ```text
//! TO-broadcast(u) at p:  clock += 1; pending += ((clock, p), u)
//!                        send MSG(clock, u) to every q ≠ p
//! on MSG(t, u) from k:   clock = max(clock, t); latest[k] = t; pending += ((t, k), u)
//!                        clock += 1; send ACK(clock) to every q ≠ p
//! on ACK(t) from k:      clock = max(clock, t); latest[k] = t
//! after each:            while the smallest (t, j) in pending has, for every k ∉ {p, j},
//!                        (latest[k], k) > (t, j): TO-deliver it and remove it
//! ```
//!
//! **How it runs here.** The clock is the algorithm's own counter in the node's state,
//! not the framework's clocks (which tick on every send and would stamp the `ACK`s of
//! one receive differently). `latest[k]` is the largest stamp received from k: on FIFO
//! channels the last, since a node's stamps only grow. Every node outputs `broadcast` =
//! its position for each update it broadcasts, which the expected counts read. A `MSG`
//! or `ACK` whose stamp is not above `latest[k]` cannot come from a FIFO channel (a
//! duplicate, say): it is logged and ignored. `fault=no-wait` is the classic mistake
//! below, for the checkers' sake.
//!
//! **Pitfalls.**
//! * Delivering the smallest pending update without waiting to hear a larger stamp from
//!   everyone (`fault=no-wait`): an update stamped smaller may still be on its way, and
//!   replicas deliver concurrent updates in different orders.
//! * Non-FIFO channels: an `ACK` from k can overtake k's own `MSG` stamped smaller, and
//!   the rule then delivers too early. The algorithm declares `needs_fifo`.
//! * Sending the `ACK` only to the update's sender: the other receivers may never hear
//!   from a node that broadcasts nothing, and deliver nothing.
//! * Comparing stamps without the identity: two updates with the same `ts` are then
//!   unordered, and replicas may deliver them in either order.
//!
//! **Properties.** After every event: "every replica delivers the same sequence". At
//! quiescence: "every replica delivered every update", "every operation was answered".
//! History: linearizable (`read=ordered`) or sequentially consistent (`read=local`).
//!
//! **Costs.** n−1 `MSG` and (n−1)² `ACK` per broadcast, n(n−1) in all: with #b
//! broadcasts, MSG = (n−1)·#b, ACK = (n−1)²·#b, total = n(n−1)·#b.
//!
//! **State count.** `reparti check tob-lamport -n 3 -p clients=2 -p ops=1` explores
//! 2,754 states on FIFO channels with no violation (182,249 with three clients); on
//! unordered channels, or with `fault=no-wait`, it finds a divergence.

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

/// Lamport's broadcast's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// An update, stamped with the sender's clock.
    Msg {
        /// The stamp (the sender's position breaks ties).
        ts: u64,
        /// The update.
        update: Update,
    },
    /// "I have seen it", stamped with the acknowledger's clock.
    Ack {
        /// The stamp.
        ts: u64,
    },
}

/// One node: its replica, its client, and its part of the broadcast.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// The algorithm's Lamport clock.
    pub clock: u64,
    /// The largest stamp received from each node, by position (0: none yet).
    pub latest: Vec<u64>,
    /// The updates received and not yet delivered, by stamp `(ts, sender)`.
    pub pending: BTreeMap<(u64, NodeId), Update>,
    /// Deliver without waiting for larger stamps (`fault=no-wait`).
    pub no_wait: bool,
    /// The registers.
    pub replica: Replica,
    /// This node's client.
    pub client: Client,
}

impl Node {
    /// Whether the update stamped `(ts, j)` can be delivered: every other node but `j`
    /// has sent something stamped larger.
    pub fn stable(&self, (ts, j): (u64, NodeId)) -> bool {
        self.no_wait
            || (0..self.n).map(NodeId).filter(|&k| k != self.me && k != j).all(|k| {
                let heard = self.latest.get(k.index()).copied().unwrap_or(0);
                (heard, k) > (ts, j)
            })
    }

    /// Delivers the smallest pending updates as long as they are stable; the answer of
    /// this node's client if its update was among them (at most one is awaited).
    fn deliver_stable(&mut self) -> Option<Reply> {
        let mut answer = None;
        while let Some(&stamp) = self.pending.keys().next() {
            if !self.stable(stamp) {
                break;
            }
            let Some(u) = self.pending.remove(&stamp) else { break };
            if let Some(reply) = self.replica.deliver(&u) {
                answer = Some(reply);
            }
        }
        answer
    }

    /// Records a stamp `ts` received from `from`; `false` if it is not above what
    /// `from` sent before (a duplicate, or a channel that is not FIFO).
    fn heard(&mut self, from: NodeId, ts: u64) -> bool {
        self.clock = self.clock.max(ts);
        match self.latest.get_mut(from.index()) {
            Some(latest) if ts > *latest => {
                *latest = ts;
                true
            }
            _ => false,
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
        let u = match self.replica.start(op, ctx) {
            Started::Answered(reply) => return Some(reply),
            Started::Broadcast(u) => u,
        };
        self.clock += 1;
        let ts = self.clock;
        self.pending.insert((ts, self.me), u);
        for q in (0..self.n).map(NodeId).filter(|&q| q != self.me) {
            ctx.send(q, Msg::Msg { ts, update: u });
        }
        // Stable at once only when no other node can send anything smaller: n = 1 (or
        // the broken variant). The answer is returned, not given: the operation is still
        // being started.
        self.deliver_stable()
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
        if from == self.me || from.0 >= self.n {
            ctx.log(format!("{msg:?} from {from}, not a peer: ignored"));
            return;
        }
        match msg {
            Msg::Msg { ts, update } => {
                if !self.heard(from, ts) {
                    ctx.log(format!("MSG({ts}) from {from} not above its last stamp: ignored"));
                    return;
                }
                self.pending.insert((ts, from), update);
                self.clock += 1;
                let ack = self.clock;
                for q in (0..self.n).map(NodeId).filter(|&q| q != self.me) {
                    ctx.send(q, Msg::Ack { ts: ack });
                }
            }
            Msg::Ack { ts } => {
                if !self.heard(from, ts) {
                    ctx.log(format!("ACK({ts}) from {from} not above its last stamp: ignored"));
                    return;
                }
            }
        }
        if let Some(reply) = self.deliver_stable() {
            self.answer(reply, ctx);
        }
    }

    fn on_input(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) {
        self.ask(op, ctx);
    }
}

/// Replicas over Lamport's clock-based total-order broadcast. See the [module
/// documentation](self).
#[derive(Clone, Debug)]
pub struct TobLamport {
    read: ReadMode,
    no_wait: bool,
    workload: Workload,
}

const PARAMS: &[ParamSpec] = memory_params!(
    tob_replica::READ_PARAM,
    ParamSpec::choice(
        "fault",
        "none",
        &["none", "no-wait"],
        "no-wait: deliver the smallest pending update without waiting for larger stamps from everyone (the classic mistake)"
    ),
);

impl Algorithm for TobLamport {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            needs_fifo: true,
            ..super::spec(
                "tob-lamport",
                "Replicas updated by Lamport's clock-based total-order broadcast: n(n−1) messages per update (FIFO)",
                PARAMS,
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        // `fault` is a choice: the parameters were checked against it already.
        let no_wait = params.get::<String>("fault")? == "no-wait";
        Ok(TobLamport { read: ReadMode::from_params(params)?, no_wait, workload: Workload::from_params(params)? })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.workload.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            n: setup.n as u32,
            clock: 0,
            latest: vec![0; setup.n],
            pending: BTreeMap::new(),
            no_wait: self.no_wait,
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
        let b = facts.output_count(tob_replica::BROADCAST) as f64;
        let per = facts.n.saturating_sub(1) as f64;
        vec![
            Expectation::exact("MSG", "(n−1)·#b", per * b),
            Expectation::exact("ACK", "(n−1)²·#b", per * per * b),
            Expectation::exact("total", "n(n−1)·#b", facts.n as f64 * per * b),
        ]
    }
}

#[cfg(test)]
#[path = "lamport_tob_tests.rs"]
mod tests;

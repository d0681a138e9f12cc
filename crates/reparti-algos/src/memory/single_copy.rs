//! # A single copy at a fixed home: the simplest linearizable shared memory
//!
//! **What.** Each register lives at one node, its *home*, and nowhere else. A client
//! whose register is at home elsewhere sends `READ(x)`, `WRITE(x, v)` or `CAS(x, a, b)`
//! there and waits; the home executes requests one at a time, in arrival order, and
//! answers `VALUE(v)`, `ACK` or, for a compare-and-set that found another value,
//! `REFUSED`. An operation on a register homed at the client's own node runs at once.
//!
//! **Source.** The static (fixed) manager of Li & Hudak, "Memory coherence in shared
//! virtual memory systems", ACM TOCS 7(4), 1989, in its simplest form (no caching);
//! Tanenbaum & van Steen, *Distributed Systems*, ch. 7.
//!
//! ```text
//! home(x) = x mod n
//! op(x) at c:   if home(x) = c: execute; answer
//!               else send REQUEST(op) to home(x)      -- READ, WRITE or CAS
//! on REQUEST(op) from c at h: execute op on the copy; send its answer to c
//! on answer:    answer the client
//! ```
//!
//! **How it runs here.** Operations come from the chapter's workload or the console
//! ([`super::client`]). Registers are numbered, so the home is `x mod n` rather than a
//! hash of a name: the point is only that every node computes the same home. The node
//! outputs `remote` when an operation leaves for its home, which the expected counts
//! read.
//!
//! **Pitfalls.**
//! * Answering a client before executing its request at the home (an early `ACK`) makes
//!   a later read elsewhere miss a write that has already returned: not linearizable.
//!   `fault=early-ack` does this for writes (the home then answers nothing to a write),
//!   for the checkers to catch: the model checker finds the shortest such history.
//! * There is one copy, so there is nothing to keep coherent — and one node whose crash
//!   takes its registers with it: the operations sent there stay pending.
//!
//! **Properties.** Linearizable: each operation takes effect at one instant, when its
//! home executes it, between its call and its return (`reparti lin` judges the history).
//! At quiescence: "every operation was answered".
//!
//! **Costs.** Exactly 2 messages per remote operation, none for a local one: requests =
//! answers = #remote, total = 2·#remote. With `fault=early-ack` a remote write costs its
//! request only: answers = #remote − #remote writes.

use super::client::{Client, MemoryNode};
use super::workload::Workload;
use super::{every_operation_answered, output_count};
use crate::memory_params;
use reparti_core::history::{HistoryProperty, Operation, Reply};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params, Process,
    Properties, RunFacts, ScheduledInput, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The output made when an operation leaves for its register's home.
pub const REMOTE: &str = "remote";

/// The single-copy protocol's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// Read register `key` at its home.
    Read {
        /// The register.
        key: u32,
    },
    /// Write `value` into register `key` at its home.
    Write {
        /// The register.
        key: u32,
        /// The value.
        value: i64,
    },
    /// Compare-and-set register `key` at its home.
    Cas {
        /// The register.
        key: u32,
        /// The value expected.
        from: i64,
        /// Its replacement.
        to: i64,
    },
    /// A read's answer.
    Value(Option<i64>),
    /// A write or a successful compare-and-set is done.
    Ack,
    /// A compare-and-set found another value.
    Refused,
}

impl Msg {
    fn request(op: Operation) -> Msg {
        match op {
            Operation::Read { key } => Msg::Read { key },
            Operation::Write { key, value } => Msg::Write { key, value },
            Operation::Cas { key, from, to } => Msg::Cas { key, from, to },
        }
    }

    fn answer(reply: Reply) -> Msg {
        match reply {
            Reply::Value(v) => Msg::Value(v),
            Reply::Done => Msg::Ack,
            Reply::Refused => Msg::Refused,
        }
    }
}

/// One node: the registers it is home to, and its client.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// The registers homed here that were written, by number.
    pub copies: BTreeMap<u32, i64>,
    /// This node's client.
    pub client: Client,
    /// Remote writes are answered at once and not acknowledged (`fault=early-ack`).
    pub early_ack: bool,
}

impl Node {
    /// The home of register `key`.
    pub fn home(&self, key: u32) -> NodeId {
        NodeId(key % self.n)
    }

    /// Executes `op` on the copy kept here.
    fn execute(&mut self, op: Operation) -> Reply {
        let (reply, value) = op.apply(self.copies.get(&op.key()).copied());
        if let Some(v) = value {
            self.copies.insert(op.key(), v);
        }
        reply
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
        let home = self.home(op.key());
        if home == self.me {
            return Some(self.execute(op));
        }
        ctx.output(REMOTE, op.function());
        ctx.send(home, Msg::request(op));
        match op {
            Operation::Write { .. } if self.early_ack => Some(Reply::Done),
            _ => None,
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Operation;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let op = match msg {
            Msg::Read { key } => Operation::Read { key },
            Msg::Write { key, value } => Operation::Write { key, value },
            Msg::Cas { key, from, to } => Operation::Cas { key, from, to },
            Msg::Value(v) => return self.answer(Reply::Value(v), ctx),
            Msg::Ack => return self.answer(Reply::Done, ctx),
            Msg::Refused => return self.answer(Reply::Refused, ctx),
        };
        if self.home(op.key()) != self.me {
            // Only a peer that computes homes differently (a real run's stray process) does this.
            ctx.log(format!("request '{op}' from {from} for a register homed at {}: ignored", self.home(op.key())));
            return;
        }
        let reply = self.execute(op);
        if !(self.early_ack && matches!(op, Operation::Write { .. })) {
            ctx.send(from, Msg::answer(reply));
        }
    }

    fn on_input(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) {
        self.ask(op, ctx);
    }
}

/// A single copy of each register at a fixed home. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct SingleCopy {
    early_ack: bool,
    workload: Workload,
}

const PARAMS: &[ParamSpec] = memory_params!(ParamSpec::choice(
    "fault",
    "none",
    &["none", "early-ack"],
    "early-ack: a remote write is answered before its home executes it (broken: not linearizable)"
),);

impl Algorithm for SingleCopy {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        super::spec(
            "single-copy",
            "One copy per register at its home (x mod n): 2 messages per remote operation",
            PARAMS,
        )
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        // `fault` is a choice: the parameters were checked against it already.
        let early_ack = params.get::<String>("fault")? == "early-ack";
        Ok(SingleCopy { early_ack, workload: Workload::from_params(params)? })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.workload.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            n: setup.n as u32,
            copies: BTreeMap::new(),
            client: Client::default(),
            early_ack: self.early_ack,
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Operation>> {
        self.workload.draw(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties { invariants: Vec::new(), terminal: vec![every_operation_answered()] }
    }

    fn history_properties(&self) -> Vec<HistoryProperty> {
        vec![super::linearizable()]
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let remote: u64 = ["read", "write", "cas"].iter().map(|f| output_count(facts, REMOTE, f)).sum();
        let remote = remote as f64;
        if self.early_ack {
            let unanswered = output_count(facts, REMOTE, "write") as f64;
            return vec![
                Expectation::exact("READ+WRITE+CAS", "#remote", remote),
                Expectation::exact("VALUE+ACK+REFUSED", "#remote − #remote writes", remote - unanswered),
            ];
        }
        vec![
            Expectation::exact("READ+WRITE+CAS", "#remote", remote),
            Expectation::exact("VALUE+ACK+REFUSED", "#remote", remote),
            Expectation::exact("total", "2·#remote", 2.0 * remote),
        ]
    }
}

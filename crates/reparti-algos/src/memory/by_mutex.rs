//! # Linearizability by mutual exclusion over replicated copies
//!
//! **What.** Every node keeps a full copy of every register. An operation takes the
//! critical section of a mutual-exclusion algorithm of the library; inside it, a read
//! answers from the local copy, and a write (or a compare-and-set that succeeds) changes
//! the local copy, sends `UPDATE(x, v)` to every other node and waits for their n−1
//! `ACK`s before it leaves the critical section and returns.
//!
//! **Source.** The construction is the textbook one: operations serialized by a lock
//! are linearizable, their linearization point being inside the critical section
//! (M. Herlihy and J. Wing, "Linearizability: a correctness condition for concurrent
//! objects", ACM TOPLAS 12(3), 1990); replicated copies updated under it as in
//! M. Raynal, *Distributed Algorithms for Message-Passing Systems*, Springer, 2013,
//! ch. 16 (atomic consistency from mutual exclusion).
//!
//! ```text
//! write(x, v): acquire ME; local[x] := v; send UPDATE(x, v) to all; wait n−1 ACK; release
//! read(x):     acquire ME; v := local[x]; release; return v
//! on UPDATE(x, v) from j: local[x] := v; send ACK to j
//! ```
//!
//! **How it runs here.** Named `MUTEX+memory` (`ricart-agrawala+memory`,
//! `suzuki-kasami+memory`, …, [`MUTEXES`]): the mutual-exclusion algorithm runs unchanged
//! underneath, its handlers lifted ([`reparti_core::layer`]); the memory asks it for the
//! critical section with the `request` input every algorithm of chapter 4 takes, knows
//! it is in when the algorithm's node says so, and leaves through the algorithm's own
//! `release`. The algorithm's timed stay (`cs_time`) is not used: the stay lasts as long
//! as the operation. Its `enter_cs`/`exit_cs` outputs remain, so a diagram draws each
//! operation's critical section. `read=local` is the negative variant: a read answers at
//! once from the local copy, without the critical section. The token ring is not
//! offered: its runs end by a plan of requests known in advance, which a memory whose
//! clients choose reads and writes as they go does not have.
//!
//! **Pitfalls.**
//! * Reading the local copy without the critical section (`read=local`): reader A,
//!   already updated, sees the new value and returns; then reader B, whose `UPDATE` is
//!   still on its way, sees the old one — while the write is still open. Each client's
//!   order is kept and writes are applied everywhere in critical-section order, so the
//!   history stays *sequentially consistent* (`reparti lin --consistency sequential`
//!   accepts it), but it is not linearizable: B's read started after A's returned. The
//!   model checker finds the shortest such run.
//! * Leaving the critical section before the `ACK`s: the next operation, elsewhere, may
//!   read a copy the write has not reached.
//!
//! **Properties.** The mutual-exclusion algorithm's own, lifted (at most one node in
//! the critical section; every request served). At quiescence: every operation was
//! answered, and every copy holds the same registers. The history is linearizable
//! (judged call by call by the model checker, at the end of a run by the simulator).
//!
//! **Costs.** A write costs one critical section (the algorithm's messages) plus
//! 2(n−1): `UPDATE` = `ACK` = (n−1)·#updates, where #updates counts the writes and the
//! compare-and-sets that succeeded (output `update`). A read costs one critical section,
//! or nothing with `read=local`. The algorithm's own counts are asserted as in chapter 4,
//! per critical-section entry.

use super::client::{Client, MemoryNode};
use super::every_operation_answered;
use super::workload::Workload;
use crate::memory_params;
use crate::mutex::critical_section::{self as cs, CsProcess, CS_TIMER};
use reparti_core::history::{HistoryProperty, Operation, Reply};
use reparti_core::layer::{app_expected, kinds_with, per_type, static_str};
use reparti_core::{
    lift_properties, Algorithm, AlgorithmSpec, Chapter, Context, Expectation, Layer, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Terminal, Timer, WorkloadSetup,
    World,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The suffix that names a mutual-exclusion algorithm carrying the replicated memory.
pub const SUFFIX: &str = "+memory";

/// The mutual-exclusion algorithms the memory is offered over.
pub const MUTEXES: &[&str] =
    &["lamport-mutex", "ricart-agrawala", "carvalho-roucairol", "suzuki-kasami", "raymond", "maekawa"];

/// The output made when a write or a successful compare-and-set changes the copies
/// (value: `write` or `cas`): what the UPDATE and ACK counts are written in.
pub const UPDATE: &str = "update";

/// The terminal property on the copies.
pub const COPIES_AGREE: &str = "at quiescence every copy holds the same registers";

/// The chapter-4 parameters the memory sets itself: its operations are the requests.
const MUTEX_WORKLOAD: &[&str] = &["requests", "cs_time", "load"];

const OWN_PARAMS: &[ParamSpec] = memory_params!(ParamSpec::choice(
    "read",
    "locked",
    &["locked", "local"],
    "locked: a read takes the critical section (linearizable); local: it answers from the local copy at once (sequentially consistent, not linearizable)"
),);

/// A message: the mutual-exclusion algorithm's, or the memory's own.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Msg<M: Message> {
    /// The mutual-exclusion algorithm's message.
    Mutex(M),
    /// Register `key` now holds `value`.
    Update {
        /// The register.
        key: u32,
        /// Its new value.
        value: i64,
    },
    /// The update is applied here.
    Ack,
}

impl<M: Message> Message for Msg<M> {
    fn kinds() -> &'static [&'static str] {
        kinds_with::<Msg<M>, M>(&["UPDATE", "ACK"])
    }

    fn control_kinds() -> &'static [&'static str] {
        M::control_kinds()
    }

    fn kind(&self) -> usize {
        match self {
            Msg::Mutex(m) => m.kind(),
            Msg::Update { .. } => M::kinds().len(),
            Msg::Ack => M::kinds().len() + 1,
        }
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        if let Msg::Mutex(m) = self {
            m.rename_nodes(map)
        }
    }
}

/// Where the client's open operation stands.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Phase {
    /// No operation holds or waits for the critical section.
    Idle,
    /// The open operation waits for the critical section.
    Waiting,
    /// In the critical section, the update sent: waiting for the `ACK`s.
    Updating {
        /// `ACK`s received.
        acks: u32,
        /// The operation's answer, given once every copy is updated.
        reply: Reply,
    },
}

/// One node: the mutual-exclusion algorithm's node, the copies, the client.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Node<P: Process> {
    /// The mutual-exclusion algorithm's node.
    pub mutex: P,
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// This node's copy of the registers written so far.
    pub copies: BTreeMap<u32, i64>,
    /// This node's client.
    pub client: Client,
    /// Reads answer from the copy without the critical section (`read=local`).
    pub local_reads: bool,
    /// The open operation's progress.
    pub phase: Phase,
}

type Ctx<'a, P> = Context<'a, Msg<<P as Process>::Msg>>;

impl<P: CsProcess<Input = cs::Input>> Node<P> {
    /// Runs one of the algorithm's handlers; if it let this node into the critical
    /// section, performs the open operation there. `Some` when that answered it.
    fn run_mutex(
        &mut self,
        ctx: &mut Ctx<'_, P>,
        handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>),
    ) -> Option<Reply> {
        let was_in = self.mutex.in_cs();
        let mutex = &mut self.mutex;
        ctx.lift(|c| handler(mutex, c), |_, m| Some(Msg::Mutex(m)));
        if was_in || !self.mutex.in_cs() {
            return None;
        }
        // The stay ends with the operation, not after the algorithm's `cs_time`.
        ctx.cancel_timer(CS_TIMER);
        self.in_critical_section(ctx)
    }

    /// The open operation, inside the critical section.
    fn in_critical_section(&mut self, ctx: &mut Ctx<'_, P>) -> Option<Reply> {
        let Some(op) = self.client.open.filter(|_| self.phase == Phase::Waiting) else {
            ctx.log("in the critical section with no operation waiting for it: leaving");
            self.release(ctx);
            return None;
        };
        let (reply, value) = op.apply(self.copies.get(&op.key()).copied());
        match (reply, value) {
            (Reply::Done, Some(value)) => {
                self.copies.insert(op.key(), value);
                ctx.output(UPDATE, op.function());
                for j in (0..self.n).map(NodeId).filter(|&j| j != self.me) {
                    ctx.send(j, Msg::Update { key: op.key(), value });
                }
                self.phase = Phase::Updating { acks: 0, reply };
                self.all_acked(ctx)
            }
            _ => {
                self.release(ctx);
                Some(reply)
            }
        }
    }

    /// Leaves the critical section once every other copy has the update.
    fn all_acked(&mut self, ctx: &mut Ctx<'_, P>) -> Option<Reply> {
        match self.phase {
            Phase::Updating { acks, reply } if acks + 1 >= self.n => {
                self.release(ctx);
                Some(reply)
            }
            _ => None,
        }
    }

    /// Leaves through the algorithm's own release.
    fn release(&mut self, ctx: &mut Ctx<'_, P>) {
        self.phase = Phase::Idle;
        let mutex = &mut self.mutex;
        ctx.lift(|c| mutex.release(c), |_, m| Some(Msg::Mutex(m)));
    }
}

impl<P: CsProcess<Input = cs::Input>> MemoryNode for Node<P> {
    fn client(&self) -> &Client {
        &self.client
    }

    fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    fn start(&mut self, op: Operation, ctx: &mut Ctx<'_, P>) -> Option<Reply> {
        if self.local_reads && matches!(op, Operation::Read { .. }) {
            return Some(op.apply(self.copies.get(&op.key()).copied()).0);
        }
        self.phase = Phase::Waiting;
        self.run_mutex(ctx, |p, c| p.on_input(cs::Input::Request, c))
    }
}

impl<P: CsProcess<Input = cs::Input>> Process for Node<P> {
    type Msg = Msg<P::Msg>;
    type Input = Operation;

    fn on_start(&mut self, ctx: &mut Ctx<'_, P>) {
        if let Some(reply) = self.run_mutex(ctx, |p, c| p.on_start(c)) {
            self.answer(reply, ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, P>) {
        let done = match msg {
            Msg::Mutex(m) => self.run_mutex(ctx, |p, c| p.on_message(from, m, c)),
            Msg::Update { key, value } => {
                self.copies.insert(key, value);
                ctx.send(from, Msg::Ack);
                None
            }
            Msg::Ack => match &mut self.phase {
                Phase::Updating { acks, .. } => {
                    *acks += 1;
                    self.all_acked(ctx)
                }
                _ => {
                    // Only a duplicating network or a stray peer does this.
                    ctx.log(format!("ACK from {from} with no update under way: ignored"));
                    None
                }
            },
        };
        if let Some(reply) = done {
            self.answer(reply, ctx);
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_, P>) {
        if timer == CS_TIMER {
            // Cancelled on entry; a real run's late firing must not cut an update short.
            return;
        }
        if let Some(reply) = self.run_mutex(ctx, |p, c| p.on_timer(timer, c)) {
            self.answer(reply, ctx);
        }
    }

    fn on_input(&mut self, op: Operation, ctx: &mut Ctx<'_, P>) {
        self.ask(op, ctx);
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        self.mutex.rename_nodes(map);
        self.me = map[self.me.index()];
    }
}

impl<P: CsProcess<Input = cs::Input>> Layer for Node<P> {
    type App = P;

    fn app(&self) -> &P {
        &self.mutex
    }

    fn carried(msg: &Self::Msg) -> Option<&P::Msg> {
        match msg {
            Msg::Mutex(m) => Some(m),
            _ => None,
        }
    }
}

fn copies_agree<P: CsProcess<Input = cs::Input>>(w: &World<'_, Node<P>>) -> Result<(), String> {
    let mut live = w.live();
    let Some(first) = live.next() else { return Ok(()) };
    for i in live {
        if w.nodes[i].copies != w.nodes[first].copies {
            return Err(format!(
                "node {first} holds {:?} but node {i} holds {:?}",
                w.nodes[first].copies, w.nodes[i].copies
            ));
        }
    }
    Ok(())
}

/// The replicated memory over the mutual-exclusion algorithm `A`. See the
/// [module documentation](self).
pub struct MutexMemory<A> {
    mutex: A,
    local_reads: bool,
    workload: Workload,
}

impl<A> Algorithm for MutexMemory<A>
where
    A: Algorithm,
    A::Node: CsProcess<Input = cs::Input>,
{
    type Node = Node<A::Node>;

    fn spec() -> AlgorithmSpec {
        per_type::<Self, AlgorithmSpec>(|| {
            let mutex = A::spec();
            let params: Vec<ParamSpec> = OWN_PARAMS
                .iter()
                .chain(mutex.params.iter().filter(|p| !MUTEX_WORKLOAD.contains(&p.name)))
                .copied()
                .collect();
            AlgorithmSpec {
                name: static_str::<Self>("name", || format!("{}{SUFFIX}", mutex.name)),
                chapter: Chapter::Memory,
                summary: static_str::<Self>("summary", || {
                    format!(
                        "registers copied at every node, each operation in {}'s critical section, a write updating every copy: ME + 2(n−1) per write",
                        mutex.name
                    )
                }),
                params: Box::leak(params.into_boxed_slice()),
                commands: super::COMMANDS,
                ..mutex
            }
        })
        .clone()
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        // The algorithm's own workload is off: the memory's operations are its requests.
        let mut own = params.clone();
        own.set("requests", 0);
        own.set("cs_time", 0);
        Ok(MutexMemory {
            mutex: A::from_params(&own)?,
            // `read` is a choice: the parameters were checked against it already.
            local_reads: params.get::<String>("read")? == "local",
            workload: Workload::from_params(params)?,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.mutex.check_size(n)?;
        self.workload.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        Node {
            mutex: self.mutex.init(setup),
            me: setup.me,
            n: setup.n as u32,
            copies: BTreeMap::new(),
            client: Client::default(),
            local_reads: self.local_reads,
            phase: Phase::Idle,
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Operation>> {
        self.workload.draw(setup, rng)
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = lift_properties::<Self::Node>(self.mutex.properties());
        props.terminal.push(every_operation_answered());
        props.terminal.push(Terminal::new(COPIES_AGREE, copies_agree::<A::Node>));
        props
    }

    fn history_properties(&self) -> Vec<HistoryProperty> {
        // With local reads too: that variant is there to fail it.
        vec![super::linearizable()]
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.mutex.expected(facts));
        let updates: u64 = ["write", "cas"].iter().map(|f| super::output_count(facts, UPDATE, f)).sum();
        let per = facts.n.saturating_sub(1) as f64 * updates as f64;
        expected.push(Expectation::exact("UPDATE", "(n−1)·#updates", per));
        expected.push(Expectation::exact("ACK", "(n−1)·#updates", per));
        expected
    }
}

//! # Producers and a consumer with a bounded memory, a token and "memory full" (TP5)
//!
//! **What.** One consumer C (node 0) owns a memory of `buffer` slots; the producers
//! P1..Pm (nodes 1..n−1) write items into it. A token circulates C → P1 → … → Pm → C;
//! only its holder may write, one item at a time, each answered by C with `ACK`, or with
//! `FULL` when that item filled the memory. The holder then waits, suspended, while C
//! empties the memory, and goes on when C says `RESUME`. A holder writes at most `quota`
//! items per visit of the token and passes it on, so every producer gets its turn.
//!
//! **Source.** Lab TP5 of the seed course (producers/consumer on the mesh: "the consumer
//! creates the token; only its holder sends, as many as it wants until it receives
//! 'memory full'; when the memory is full the consumer empties it"), and the token
//! variant with "memory full" answers, a design of the course's lab TP5 (no paper
//! states it; called *the TP5 design* below) of the bounded buffer of E. W. Dijkstra,
//! "Cooperating sequential processes", EWD123, 1965. The two differ on one point: the
//! sheet's holder writes "as many as it wants", the TP5 design caps it at Q per visit so
//! that nobody starves; the quota is kept (`quota` as large as the workload gives the
//! sheet's behaviour).
//!
//! ```text
//! C init:        send TOKEN to P1
//! Pi on TOKEN:   holding = true; sent = 0; try_send()
//! try_send():    if holding ∧ ¬waiting ∧ ¬suspended:
//!                  if queue ≠ ∅ ∧ sent < Q: send DATA(head(queue)) to C; waiting = true
//!                  else: holding = false; send TOKEN to next(Pi)
//! Pi on ACK:     waiting = false; pop(queue); sent += 1; try_send()
//! Pi on FULL:    waiting = false; pop(queue); sent += 1; suspended = true
//! Pi on RESUME:  suspended = false; try_send()
//! C on DATA(x) from p: buf.push(x)
//!                if |buf| < N: send ACK to p
//!                else: send FULL to p; draining = true
//! C drain done:  consume all N items; draining = false; send RESUME to p
//! C on TOKEN:    consume what buf holds; send TOKEN to P1 (or keep it: see below)
//! ```
//!
//! **How it runs here.**
//! * Topology `complete` (TP5 runs on the mesh): DATA and its answers go straight
//!   between a producer and C; the token follows the logical ring of positions
//!   `0 → 1 → … → n−1 → 0`.
//! * [`Input::Produce`] (console `produce 42`; the workload gives each producer `items`
//!   of them at time 0) queues an item at a producer.
//! * Emptying the memory takes `drain_time` time units (a timer): C is *draining*
//!   between its `FULL` and its `RESUME`, drawn as a bar on its lane.
//! * **Departures from the TP5 design, and why.**
//!   - The token passes through C on every revolution (the TP5 design keeps it among the
//!     producers): one more hop per revolution, `n` instead of `m`. C uses the passage
//!     to consume what its memory holds (nothing can be on its way then: the last holder
//!     had its answer before it let the token go). The TP5 design drains only a *full*
//!     memory, so items in a memory that never fills would never be consumed and the
//!     liveness "every produced item is consumed" would fail; here it holds.
//!   - A real token never stops, a simulation needs an end: C keeps the token (it
//!     *rests*) after `idle_laps` revolutions in a row during which no item arrived.
//!     Items typed later at a producer then wait; `wake` at C sends the token round again.
//!   - A RESUME that overtakes its FULL (non-FIFO channels) is remembered, not lost
//!     (see *Pitfalls*); the TP5 design silently assumes FIFO there.
//!   - The TP5 design's `draining` is atomic in one handler, so "no DATA arrives while
//!     draining" could not fail; a timed drain makes it a property worth checking.
//! * TP5 exercise 2 (the sheet blocks the sending thread on a `threading.Event` until
//!   the token arrives) is visible in the outputs a console prints: `waiting` when an
//!   item is queued without the token, `token` ("sending 3 waiting items") when it
//!   arrives with items queued, and at C `memory` ("full (3 items): emptying it") with
//!   the item that fills the memory. They change no state.
//! * Param `suspend=false` is the classic mistake, kept for the checker's tests: C
//!   answers `ACK` instead of `FULL` when the memory fills and empties it meanwhile, so
//!   the holder writes into a memory being emptied.
//!
//! **Pitfalls.**
//! * Popping the item when DATA is *sent* instead of when it is answered: an item whose
//!   answer is lost in a crash is gone. Here the item leaves the queue on ACK/FULL only.
//! * FULL must still store the item it answers (in the TP5 design the item filled the memory); a
//!   producer that sends it again after RESUME stores it twice.
//! * A holder that writes its next item without waiting for the answer (pipelining)
//!   overflows the memory: at most one DATA may be in transit.
//! * On non-FIFO channels C's RESUME can overtake its FULL (the only pair of messages
//!   ever in transit together on one channel, when the drain is quicker than the
//!   network): a holder that obeys the FULL after the RESUME sleeps forever and the
//!   run stops with items left. The holder here remembers an early RESUME (`Pi on
//!   RESUME while waiting: early_resume = true`; `on FULL: suspended = ¬early_resume`),
//!   so the algorithm needs no FIFO; the simulator found this one.
//! * Without the quota the first producer on the ring keeps the token as long as it has
//!   items, and the others starve.
//!
//! **Properties.** After every event: exactly one token (held or in transit); at most
//! one DATA in transit, and only from the holder, waiting for its answer; `|buf| ≤ N`;
//! no DATA in transit to C while C drains (so none can arrive then); every item stored
//! once, in production order (per producer: consumed + stored + the one in transit =
//! what it sent). At quiescence: every produced item was consumed exactly once, in
//! order, and the token rests at C. Liveness (the checker): every run can and does end
//! there, so every producer with pending items eventually holds the token.
//!
//! **Costs** (derived). DATA = items; ACK + FULL = items (ACK = items − FULL); RESUME =
//! FULL; FULL = Σ over revolutions of ⌊items written in it / N⌋ (≤ ⌊items/N⌋, the
//! memory being emptied at each passage of the token); TOKEN = n per revolution, with
//! ⌈items/Q⌉ + idle_laps revolutions when every producer has `items` items from the
//! start: 2·items + FULL + n(⌈items/Q⌉ + idle_laps) messages in all.

#[path = "producer_consumer_properties.rs"]
mod properties;

use reparti_core::{
    Algorithm, AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, Context, Expectation, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, SpanSpec, Timer, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The consumer's position.
pub const CONSUMER: NodeId = NodeId(0);

/// The timer that ends a drain.
const DRAIN: Timer = "drain";

/// The algorithm's parameters.
const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("buffer", "3", 1, 10_000, "N: slots of the consumer's memory"),
    ParamSpec::int("quota", "2", 1, 10_000, "Q: items a producer writes per visit of the token"),
    ParamSpec::int("items", "4", 0, 100_000, "items each producer produces (workload), queued at time 0"),
    ParamSpec::int("drain_time", "3", 0, 1_000_000, "time units the consumer takes to empty a full memory"),
    ParamSpec::int(
        "idle_laps",
        "1",
        1,
        1_000,
        "revolutions without an item after which the token rests at the consumer",
    ),
    ParamSpec::boolean(
        "suspend",
        "true",
        "false = the classic mistake: ACK instead of FULL when the memory fills (for the checker's tests)",
    ),
];

/// The console's commands.
const COMMANDS: &[Command] = &[
    Command {
        word: "produce",
        variant: "Produce",
        args: &[CommandArg { field: "value", kind: ArgKind::Int }],
        help: "queue an item at this producer; it is written into the consumer's memory once the token is here",
    },
    Command { word: "wake", variant: "Wake", args: &[], help: "at the consumer: send a resting token round again" },
];

/// Output keys.
const DRAIN_START: &str = "drain_start";
const DRAIN_END: &str = "drain_end";
const PRODUCED: &str = "produced";
const CONSUMED: &str = "consumed";
const LAP: &str = "lap";
const WOKEN: &str = "wake";
/// What a person at a console reads (TP5 exercise 2): an item queued without the token,
/// the token arriving with items waiting, and the memory filling.
const WAITING: &str = "waiting";
const TOKEN_ARRIVED: &str = "token";
const MEMORY: &str = "memory";

/// The drain, drawn as a bar on the consumer's lane.
const SPANS: &[SpanSpec] = &[SpanSpec { label: "emptying the memory", opens: DRAIN_START, closes: DRAIN_END }];

/// A message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// The right to write into the consumer's memory.
    Token,
    /// An item, from the holder to C.
    Data {
        /// Its number among its producer's items, from 0.
        seq: u32,
        /// The item.
        value: i64,
    },
    /// "Stored; go on."
    Ack,
    /// "Stored, and the memory is now full: wait."
    Full,
    /// "The memory is empty again: go on."
    Resume,
}

/// Requests from outside.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Queue an item at this producer.
    Produce {
        /// The item.
        value: i64,
    },
    /// At the consumer: send a resting token round again.
    Wake,
}

/// An item in the consumer's memory.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Item {
    /// Its producer's position.
    pub from: u32,
    /// Its number at its producer.
    pub seq: u32,
    /// The item.
    pub value: i64,
}

/// The parameters every node reads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Settings {
    /// N.
    pub buffer: u32,
    /// Q.
    pub quota: u32,
    /// Time units a drain takes.
    pub drain_time: u32,
    /// Idle revolutions before the token rests.
    pub idle_laps: u32,
    /// `false`: the broken variant.
    pub suspend: bool,
}

/// One node: the consumer (position 0) or a producer. One type for both, as the
/// engines want; each role uses its own fields.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// The parameters.
    pub settings: Settings,
    /// Holds the token (a producer while writing; C while the token rests).
    pub has_token: bool,
    /// Producer: items produced, not yet stored.
    pub queue: VecDeque<i64>,
    /// Producer: items produced in all.
    pub produced: u32,
    /// Producer: items stored (answered by ACK or FULL); also the next item's number.
    pub stored: u32,
    /// Producer: a DATA is out, its answer not yet in.
    pub waiting: bool,
    /// Producer: told FULL, waiting for RESUME.
    pub suspended: bool,
    /// Producer: a RESUME arrived before the FULL it ends (non-FIFO channels).
    pub early_resume: bool,
    /// Producer: items written during this visit of the token.
    pub sent_this_visit: u32,
    /// C: the memory.
    pub buf: VecDeque<Item>,
    /// C: emptying the memory.
    pub draining: bool,
    /// C: the holder told FULL, to resume once the memory is empty.
    pub resume: Option<NodeId>,
    /// C: items consumed, by producer position.
    pub consumed: Vec<u32>,
    /// C: an item consumed out of its producer's order, `(from, seq)`: never, if correct.
    pub misordered: Option<(u32, u32)>,
    /// C: items received since the token last passed.
    pub received_this_lap: u32,
    /// C: revolutions in a row without an item.
    pub idle: u32,
}

/// "s" for any count but one.
fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

impl Node {
    fn is_consumer(&self) -> bool {
        self.me == CONSUMER
    }

    /// The next position on the token's ring.
    fn successor(&self) -> NodeId {
        NodeId((self.me.0 + 1) % self.n.max(1))
    }

    fn pass_token(&mut self, ctx: &mut Context<'_, Msg>) {
        self.has_token = false;
        ctx.send(self.successor(), Msg::Token);
    }

    /// The TP5 design's `try_send`.
    fn try_send(&mut self, ctx: &mut Context<'_, Msg>) {
        if !self.has_token || self.waiting || self.suspended {
            return;
        }
        match self.queue.front() {
            Some(&value) if self.sent_this_visit < self.settings.quota => {
                self.waiting = true;
                ctx.send(CONSUMER, Msg::Data { seq: self.stored, value });
            }
            _ => self.pass_token(ctx),
        }
    }

    /// ACK or FULL: the item at the head of the queue is stored.
    fn stored_one(&mut self, ctx: &mut Context<'_, Msg>) -> bool {
        if !self.waiting {
            ctx.log("an answer without a DATA out: ignored");
            return false;
        }
        self.waiting = false;
        self.queue.pop_front();
        self.stored += 1;
        self.sent_this_visit += 1;
        true
    }

    /// C consumes everything in its memory, in order.
    fn consume_all(&mut self, ctx: &mut Context<'_, Msg>) {
        while let Some(item) = self.buf.pop_front() {
            if let Some(count) = self.consumed.get_mut(item.from as usize) {
                if *count != item.seq && self.misordered.is_none() {
                    self.misordered = Some((item.from, item.seq));
                }
                *count += 1;
            }
            ctx.output(CONSUMED, format!("{}#{}", item.from, item.seq));
        }
    }

    fn consumer_on_data(&mut self, from: NodeId, seq: u32, value: i64, ctx: &mut Context<'_, Msg>) {
        if from == CONSUMER || from.0 >= self.n {
            ctx.log(format!("DATA from {from}, not a producer: ignored"));
            return;
        }
        self.buf.push_back(Item { from: from.0, seq, value });
        self.received_this_lap += 1;
        if (self.buf.len() as u64) < self.settings.buffer as u64 || self.draining {
            // (A DATA during a drain only happens in the broken variant; it is answered
            // so that the run goes on and the invariants say what went wrong.)
            ctx.send(from, Msg::Ack);
            return;
        }
        ctx.output(MEMORY, format!("full ({} items): emptying it", self.buf.len()));
        ctx.output(DRAIN_START, self.buf.len());
        ctx.set_timer(DRAIN, self.settings.drain_time as f64);
        self.draining = true;
        if self.settings.suspend {
            self.resume = Some(from);
            ctx.send(from, Msg::Full);
        } else {
            // THE MISTAKE (suspend=false): the holder is not stopped during the drain.
            ctx.send(from, Msg::Ack);
        }
    }

    fn consumer_on_token(&mut self, ctx: &mut Context<'_, Msg>) {
        ctx.output(LAP, 1);
        self.consume_all(ctx);
        self.idle = if self.received_this_lap == 0 { self.idle + 1 } else { 0 };
        self.received_this_lap = 0;
        if self.idle >= self.settings.idle_laps {
            self.has_token = true;
            ctx.log("no item for a whole revolution: the token rests here (`wake` sends it round again)");
        } else {
            self.pass_token(ctx);
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        // C creates the token: it is in C's initial state, so "exactly one token" holds
        // from the first state on, and C sends it to P1 at once.
        if self.is_consumer() && self.has_token && self.n >= 2 {
            self.pass_token(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match (self.is_consumer(), msg) {
            (true, Msg::Token) => self.consumer_on_token(ctx),
            (true, Msg::Data { seq, value }) => self.consumer_on_data(from, seq, value, ctx),
            (false, Msg::Token) => {
                self.has_token = true;
                self.sent_this_visit = 0;
                let waiting = self.queue.len();
                if waiting > 0 {
                    let quota = self.settings.quota as usize;
                    ctx.output(
                        TOKEN_ARRIVED,
                        match waiting <= quota {
                            true => format!("sending {waiting} waiting item{}", plural(waiting)),
                            false => format!("sending {quota} of {waiting} waiting items (the quota)"),
                        },
                    );
                }
                self.try_send(ctx);
            }
            (false, Msg::Ack) => {
                if self.stored_one(ctx) {
                    self.try_send(ctx);
                }
            }
            (false, Msg::Full) => {
                if self.stored_one(ctx) {
                    // On non-FIFO channels the RESUME may have overtaken its FULL.
                    self.suspended = !std::mem::take(&mut self.early_resume);
                    self.try_send(ctx);
                }
            }
            (false, Msg::Resume) if self.waiting => self.early_resume = true,
            (false, Msg::Resume) => {
                self.suspended = false;
                self.try_send(ctx);
            }
            (_, other) => ctx.log(format!("unexpected {other:?} from {from}: ignored")),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        if timer != DRAIN || !self.is_consumer() {
            return;
        }
        if !std::mem::take(&mut self.draining) {
            return;
        }
        let emptied = self.buf.len();
        self.consume_all(ctx);
        ctx.output(DRAIN_END, emptied);
        if let Some(holder) = self.resume.take() {
            ctx.send(holder, Msg::Resume);
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        match (self.is_consumer(), input) {
            (false, Input::Produce { value }) => {
                self.queue.push_back(value);
                self.produced += 1;
                ctx.output(PRODUCED, value);
                if !self.has_token {
                    let queued = self.queue.len();
                    ctx.output(WAITING, format!("for the token ({queued} item{} queued)", plural(queued)));
                }
                self.try_send(ctx);
            }
            (true, Input::Produce { .. }) => ctx.log("produce: node 0 is the consumer; producers are nodes 1.."),
            (true, Input::Wake) if self.has_token && self.n >= 2 => {
                self.idle = 0;
                ctx.output(WOKEN, 1);
                self.pass_token(ctx);
            }
            (true, Input::Wake) => ctx.log("wake: the token is not resting here"),
            (false, Input::Wake) => ctx.log("wake: only the consumer (node 0) keeps a resting token"),
        }
    }
}

/// Producers and a consumer with a bounded memory (TP5). See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct ProducerConsumer {
    settings: Settings,
    items: u32,
}

impl Algorithm for ProducerConsumer {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["complete"],
            default_nodes: 4,
            commands: COMMANDS,
            spans: SPANS,
            ..AlgorithmSpec::new(
                "producer-consumer",
                Chapter::Communication,
                "TP5: producers write into a consumer's bounded memory in turn, with a token and \"memory full\" answers",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(ProducerConsumer {
            settings: Settings {
                buffer: params.get("buffer")?,
                quota: params.get("quota")?,
                drain_time: params.get("drain_time")?,
                idle_laps: params.get("idle_laps")?,
                suspend: params.get("suspend")?,
            },
            items: params.get("items")?,
        })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let consumer = setup.me == CONSUMER;
        Node {
            me: setup.me,
            n: setup.n as u32,
            settings: self.settings,
            has_token: consumer,
            queue: VecDeque::new(),
            produced: 0,
            stored: 0,
            waiting: false,
            suspended: false,
            early_resume: false,
            sent_this_visit: 0,
            buf: VecDeque::new(),
            draining: false,
            resume: None,
            consumed: if consumer { vec![0; setup.n] } else { Vec::new() },
            misordered: None,
            received_this_lap: 0,
            idle: 0,
        }
    }

    /// `items` items at every producer, at time 0 (before the token's first visit).
    fn workload(&self, setup: &WorkloadSetup<'_>, _rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        (1..setup.n as u32)
            .flat_map(|p| {
                (0..self.items).map(move |k| ScheduledInput {
                    at: 0.0,
                    node: NodeId(p),
                    input: Input::Produce { value: p as i64 * 1000 + k as i64 },
                })
            })
            .collect()
    }

    fn properties(&self) -> Properties<Node> {
        properties::all()
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        properties::expected(&self.settings, self.items, facts)
    }
}

#[cfg(test)]
#[path = "producer_consumer_tests.rs"]
mod tests;

//! # Credit-carrying token ring: producers share one buffer through a token
//!
//! **What.** The consumer C and the producers `P_1..P_m` sit on a logical ring
//! `C → P_1 → … → P_m → C`. One token circulates carrying `free`, the number of C's
//! slots free and not yet allotted. A producer that receives it takes
//! `k = min(free, pending, cap)` slots, sends its `k` oldest items straight to C, and
//! passes the token on with `free − k`; C adds the slots it freed since the token's
//! last visit. Slots move to whoever needs them, unlike a static partition (
//! `credit-flow` with several producers), and `cap` keeps early producers on the ring
//! from taking everything.
//!
//! **Source.** A design of the course (chapter 2, « contrôle de flux ») rather than one
//! paper. The token as a circulating permit is the token of token-passing access
//! control (IEEE 802.5, whose token-holding time bounds a station's turn as `cap` bounds
//! a producer's); the credits it carries are those of credit-based flow control
//! (H. T. Kung and R. Morris, "Credit-based flow control for ATM networks", IEEE
//! Network 9(2), 1995; Kung, Blackwell and Chapman, SIGCOMM 1994).
//!
//! ```text
//! C init:           send TOKEN(free = N) to P_1; freed = 0
//! C on TOKEN(f):    f += freed; freed = 0; send TOKEN(f) to P_1
//! C.consume():      buf.pop(); freed += 1
//! P_i on TOKEN(f):  k = min(f, |pending_i|, cap); send k × DATA to C; send TOKEN(f − k) to next
//! ```
//!
//! **How it runs here.** Node 0 is C, nodes 1..n−1 the producers, the ring by position
//! (DATA goes straight to C, so the graph is complete). Each producer receives `items`
//! inputs `produce X` at time 0 (real nodes apply time-0 inputs before any message). C
//! consumes one item per tick of its `consume` timer (see
//! [`flow_consumer`](super::flow_consumer)) and outputs `lap` each time the token
//! comes back.
//!
//! **Departures, and why.**
//! * *The token stops.* A token that circulates forever makes every run perpetual,
//!   and one circulating with `free = 0` while C has not consumed is a busy loop (the
//!   checker rightly finds the cycle). So the token also carries `busy`, which a
//!   producer sets when it still has pending items after its turn: C **rests** the
//!   token when a lap comes back not busy, and **holds** it while `free = 0` until it
//!   frees a slot. Each busy lap then sends at least one item, so the run ends. A
//!   `produce` typed at a producer's console after the token has come to rest waits
//!   for ever (the terminal property says so).
//! * *`cap` defaults to `⌊N/m⌋` (at least 1), not `⌈N/m⌉`.* Then a lap that leaves C
//!   with all N slots free serves every producer with pending items:
//!   `N − (m−1)·⌊N/m⌋ ≥ ⌊N/m⌋ ≥ 1` slots are left for the last one. With `⌈N/m⌉`
//!   (N = 4, m = 3: 2 + 2 + 0) the last producer can be left out.
//!
//! **Pitfalls.**
//! * No cap (`fixed=false` keeps this bug): the first producer on the ring, if it has
//!   N items pending, takes every slot of every lap that starts full, and the last
//!   ones wait as long as it has items — for ever if it always has. The invariant
//!   "a full lap serves every producer" catches it on the first lap.
//! * `buffer` < m: even with cap 1 a lap could not serve everyone, so every engine
//!   refuses such an instance before it starts (`check_size`).
//! * Order needs FIFO channels (declared), as in `credit-flow`.
//!
//! **Properties.** After every event: exactly one token (in transit or held by C);
//! `free_in_token + DATA in transit + |buf| + freed = N`; `|buf| ≤ N`; a lap that
//! leaves C with all N slots free serves every producer with pending items. At
//! quiescence: the token rests at C, every item consumed exactly once, in order.
//!
//! **Costs.** DATA = items produced, exactly; TOKEN = `n · laps` exactly (m+1 hops per
//! revolution), with laps ≤ items produced + 1 (each busy lap sends an item).
//!
//! **Liveness, and how the missing cap is caught.** With finite workloads every run
//! ends with everything consumed, cap or no cap: the checker's liveness verdicts (AG EF
//! done, no cycle avoiding done) hold for both, so they cannot show starvation. What
//! the cap buys is *bounded* waiting, which on a token ring is checked as bounded
//! progress: here "a lap that starts with all N slots free serves
//! every producer with items", an invariant, which the uncapped token breaks on its
//! first lap. Starvation proper (a producer that always has items keeps the last one
//! waiting for ever) is a property of fair infinite runs with an unbounded workload,
//! which the checker does not judge.

use super::flow_consumer::{items_at_start, Buffer, Item, CONSUME, PRODUCED};
use reparti_core::{
    Algorithm, AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, Context, Expectation, Invariant, Message, NodeId,
    NodeSetup, ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Terminal, Timer,
    WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The algorithm's parameters.
const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("buffer", "4", 1, 100_000, "N: slots in the consumer's buffer"),
    ParamSpec::int("cap", "0", 0, 100_000, "most slots a producer takes per visit; 0 = floor(N/m), at least 1"),
    ParamSpec::int("items", "4", 0, 100_000, "items each producer produces (workload)"),
    ParamSpec::boolean("fixed", "true", "false = the classic bug: the token ignores cap"),
];

/// A message on the ring, or an item to the consumer.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// The token.
    Token {
        /// Slots free and not yet allotted.
        free: u32,
        /// Some producer still had pending items after its turn on this lap.
        busy: bool,
        /// The token left C with all N slots free on this lap.
        full: bool,
    },
    /// An item, to the consumer.
    Data {
        /// Its number at its producer, from 0.
        seq: u32,
        /// The content.
        x: i64,
    },
}

pub use super::flow_consumer::Input;

/// Where the token is when C has it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Held {
    /// C does not have it.
    No,
    /// C waits for a slot to free before sending it on (it carries no free slot).
    Waiting,
    /// The run's work is done: the token stays here, with `free` slots.
    Resting {
        /// The slots it carries.
        free: u32,
    },
}

/// One node: the consumer (position 0) or a producer.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: u32,
    /// Param `buffer`.
    pub slots: u32,
    /// The cap in force (param `cap`, or its default); `None` when ignored (`fixed=false`).
    pub cap: Option<u32>,
    /// Producer: items produced, not yet sent.
    pub pending: VecDeque<i64>,
    /// Producer: items sent so far.
    pub sent: u32,
    /// Producer: a lap that started full left it without a slot while it had items.
    pub passed_over: bool,
    /// Consumer: the token, when C has it.
    pub held: Held,
    /// Consumer: slots freed since the token's last visit.
    pub freed: u32,
    /// Consumer: its buffer and what it consumed.
    pub buffer: Buffer,
}

impl Node {
    fn next(&self, n: u32) -> NodeId {
        NodeId((self.me + 1) % n)
    }

    /// C sends the token on a new lap with `free` slots.
    fn launch(&mut self, free: u32, ctx: &mut Context<'_, Msg>) {
        self.held = Held::No;
        let n = ctx.n() as u32;
        ctx.send(self.next(n), Msg::Token { free, busy: false, full: free == self.slots });
    }
}

/// The credit-carrying token ring. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct CreditRing {
    buffer: u32,
    cap: u32,
    items: u32,
    fixed: bool,
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.me == 0 {
            if ctx.n() < 2 {
                ctx.log("no producer: the token rests at the consumer");
                return;
            }
            self.launch(self.slots, ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Data { seq, x: _ } if self.me == 0 => self.buffer.receive(Item { from: from.0, seq }, ctx),
            Msg::Token { free, busy, .. } if self.me == 0 => {
                ctx.output("lap", 1u64);
                let free = free.saturating_add(self.freed);
                self.freed = 0;
                if !busy {
                    self.held = Held::Resting { free };
                    ctx.log("a lap found nothing pending: the token rests");
                } else if free == 0 {
                    self.held = Held::Waiting;
                } else {
                    self.launch(free, ctx);
                }
            }
            Msg::Token { free, busy, full } => {
                let k = free.min(self.cap.unwrap_or(u32::MAX)).min(self.pending.len() as u32);
                if full && k == 0 && !self.pending.is_empty() {
                    self.passed_over = true;
                }
                for _ in 0..k {
                    let Some(x) = self.pending.pop_front() else { break };
                    ctx.send(NodeId(0), Msg::Data { seq: self.sent, x });
                    self.sent += 1;
                }
                let busy = busy || !self.pending.is_empty();
                ctx.send(self.next(ctx.n() as u32), Msg::Token { free: free - k, busy, full });
            }
            other => ctx.log(format!("ignored {other:?} from {from}: the consumer is node 0")),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        if timer != CONSUME || self.buffer.consume(ctx).is_none() {
            return;
        }
        self.freed += 1;
        if self.held == Held::Waiting {
            let free = std::mem::take(&mut self.freed);
            self.launch(free, ctx);
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        let Input::Produce { x } = input;
        if self.me == 0 {
            ctx.log("node 0 is the consumer: `produce` goes to a producer (1..n-1)");
            return;
        }
        ctx.output(PRODUCED, x);
        self.pending.push_back(x);
    }
}

fn every_item_consumed(w: &World<'_, Node>) -> Result<(), String> {
    let Some(c) = w.nodes.first() else { return Ok(()) };
    if w.nodes.len() > 1 && !matches!(c.held, Held::Resting { .. }) {
        return Err(format!("the token is not resting at the consumer ({:?})", c.held));
    }
    let sent: Vec<u32> = w.nodes.iter().map(|s| s.sent).collect();
    let pending: Vec<usize> = w.nodes.iter().map(|s| s.pending.len()).collect();
    c.buffer.all_consumed_in_order(&sent, &pending)
}

impl Algorithm for CreditRing {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["complete"],
            default_nodes: 4,
            needs_fifo: true,
            commands: &[Command {
                word: "produce",
                variant: "Produce",
                args: &[CommandArg { field: "x", kind: ArgKind::Int }],
                help: "produce item X (sent when the token brings a free slot; before the token comes to rest)",
            }],
            ..AlgorithmSpec::new(
                "credit-ring",
                Chapter::Communication,
                "a token carries the consumer's free slots round the producers, each taking at most cap",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(CreditRing {
            buffer: params.get("buffer")?,
            cap: params.get("cap")?,
            items: params.get("items")?,
            fixed: params.get("fixed")?,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        super::flow_consumer::slot_for_each_producer(self.buffer, n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let m = setup.n.saturating_sub(1).max(1) as u32;
        let cap = match (self.fixed, self.cap) {
            (false, _) => None,
            (true, 0) => Some((self.buffer / m).max(1)),
            (true, c) => Some(c),
        };
        let me = setup.me.0;
        Node {
            me,
            slots: self.buffer,
            cap,
            pending: VecDeque::new(),
            sent: 0,
            passed_over: false,
            // C's token is part of the initial state, so "exactly one token" holds from the start.
            held: if me == 0 { Held::Resting { free: self.buffer } } else { Held::No },
            freed: 0,
            buffer: if me == 0 { Buffer::new(setup.n) } else { Buffer::default() },
        }
    }

    /// `items` inputs `produce X` per producer at time 0, X = 100·producer + k.
    fn workload(&self, setup: &WorkloadSetup<'_>, _rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        items_at_start(setup.n, self.items)
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::<Node>::count(
                    "exactly one token",
                    |s| u64::from(s.held != Held::No),
                    |m| u64::from(matches!(m, Msg::Token { .. })),
                    1,
                    1,
                ),
                Invariant::<Node>::count(
                    "slot conservation: free in token + DATA + |buf| + freed = N",
                    |s| {
                        let held = if let Held::Resting { free } = s.held { u64::from(free) } else { 0 };
                        held + s.buffer.buf.len() as u64 + u64::from(s.freed)
                    },
                    |m| match m {
                        Msg::Token { free, .. } => u64::from(*free),
                        Msg::Data { .. } => 1,
                    },
                    u64::from(self.buffer),
                    u64::from(self.buffer),
                ),
                Invariant::<Node>::local("no overflow: |buf| <= N", |s| {
                    match s.buffer.buf.len() as u64 > u64::from(s.slots) {
                        true => Err(format!("the buffer holds {} items for {} slots", s.buffer.buf.len(), s.slots)),
                        false => Ok(()),
                    }
                }),
                Invariant::<Node>::local(
                    "a lap that starts with all N slots free serves every producer with items",
                    |s| match s.passed_over {
                        true => Err(format!(
                            "producer {} had items but got no slot on a lap that left the consumer with all {} free",
                            s.me, s.slots
                        )),
                        false => Ok(()),
                    },
                ),
            ],
            terminal: vec![Terminal::<Node>::new(
                "the token rests; every item consumed exactly once, in its producer's order",
                every_item_consumed,
            )],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let produced = facts.output_count(PRODUCED) as f64;
        let laps = facts.output_count("lap") as f64;
        let n = facts.n as f64;
        let token = if facts.n < 2 { 0.0 } else { n * laps };
        vec![
            Expectation::exact("DATA", "items produced", produced),
            Expectation::exact("TOKEN", "n·laps (m+1 hops per revolution)", token),
            Expectation::at_most("TOKEN", "n·(items produced + 1)", n * (produced + 1.0)),
            Expectation::exact("total", "DATA + TOKEN", produced + token),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler_harness::sends;
    use reparti_core::{Effect, TopologyKind};

    fn ring(buffer: u32, cap: u32, fixed: bool) -> CreditRing {
        CreditRing { buffer, cap, items: 0, fixed }
    }

    fn node(a: &CreditRing, me: u32, n: usize) -> Node {
        a.init(&NodeSetup::new(NodeId(me), u64::from(me) + 1, n))
    }

    fn run(node: &mut Node, n: usize, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
        let me = NodeId(node.me);
        crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
    }

    fn token(free: u32, busy: bool, full: bool) -> Msg {
        Msg::Token { free, busy, full }
    }

    #[test]
    fn a_producer_takes_at_most_cap_and_passes_the_rest_on() {
        let a = ring(6, 0, true); // m = 3: cap = 2
        let mut p = node(&a, 1, 4);
        for x in 0..5 {
            run(&mut p, 4, |s, c| s.on_input(Input::Produce { x }, c));
        }
        let eff = run(&mut p, 4, |s, c| s.on_message(NodeId(0), token(6, false, true), c));
        let data = Msg::Data { seq: 0, x: 0 };
        assert_eq!(
            sends(&eff),
            vec![(NodeId(0), data), (NodeId(0), Msg::Data { seq: 1, x: 1 }), (NodeId(2), token(4, true, true))]
        );
        assert!(!p.passed_over);
    }

    #[test]
    fn without_the_cap_the_first_producer_takes_every_slot() {
        let a = ring(6, 0, false);
        let mut p = node(&a, 1, 4);
        for x in 0..8 {
            run(&mut p, 4, |s, c| s.on_input(Input::Produce { x }, c));
        }
        let eff = run(&mut p, 4, |s, c| s.on_message(NodeId(0), token(6, false, true), c));
        assert_eq!(sends(&eff).len(), 7, "6 DATA and the token");
        assert_eq!(sends(&eff).last(), Some(&(NodeId(2), token(0, true, true))));
        let mut last = node(&a, 3, 4);
        run(&mut last, 4, |s, c| s.on_input(Input::Produce { x: 9 }, c));
        run(&mut last, 4, |s, c| s.on_message(NodeId(2), token(0, true, true), c));
        assert!(last.passed_over, "a full lap left it without a slot");
    }

    #[test]
    fn the_consumer_holds_an_empty_token_until_it_frees_a_slot_and_rests_an_idle_one() {
        let a = ring(2, 0, true);
        let mut c = node(&a, 0, 3);
        assert_eq!(sends(&run(&mut c, 3, |s, x| s.on_start(x))), vec![(NodeId(1), token(2, false, true))]);
        run(&mut c, 3, |s, x| s.on_message(NodeId(1), Msg::Data { seq: 0, x: 5 }, x));
        run(&mut c, 3, |s, x| s.on_message(NodeId(2), Msg::Data { seq: 0, x: 7 }, x));
        assert!(sends(&run(&mut c, 3, |s, x| s.on_message(NodeId(2), token(0, true, true), x))).is_empty());
        assert_eq!(c.held, Held::Waiting);
        let eff = run(&mut c, 3, |s, x| s.on_timer(CONSUME, x));
        assert_eq!(sends(&eff), vec![(NodeId(1), token(1, false, false))], "one slot freed: the token goes on");
        run(&mut c, 3, |s, x| s.on_timer(CONSUME, x));
        assert!(sends(&run(&mut c, 3, |s, x| s.on_message(NodeId(2), token(0, false, false), x))).is_empty());
        assert_eq!(c.held, Held::Resting { free: 1 }, "an idle lap: the token rests with the freed slot");
    }
}

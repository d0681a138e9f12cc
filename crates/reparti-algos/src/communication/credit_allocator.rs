//! # The consumer as allocator: producers ask for slots, the consumer grants what is free
//!
//! **What.** Several producers share the consumer's buffer of N slots, and nothing is
//! partitioned in advance: a producer with items *asks* the consumer for `k` slots; the
//! consumer *grants* `g = min(k, N − |buf| − reserved)`, the slots neither filled nor
//! promised to someone else, and counts them as `reserved` until the items arrive. A
//! producer returns the part of a grant it cannot use with `RELEASE`. So slots go where
//! the items are (unlike static quotas, `credit-flow`), without a token going round
//! (unlike `credit-ring`), and the buffer cannot overflow: `|buf| + reserved ≤ N`.
//!
//! **Source.** The receiver-driven buffer allocation of A. S. Tanenbaum and D. Wetherall,
//! *Computer Networks*, 5th ed., §6.2 (dynamic buffer allocation: a sender requests
//! buffers, the receiver grants as many as it can spare, decoupled from
//! acknowledgements), and the adaptive credit allocation of H. T. Kung and R. Morris,
//! "Credit-based flow control for ATM networks", IEEE Network 9(2), 1995 (the receiver
//! shares one buffer pool among its senders according to their needs). As a design for
//! one consumer and several producers it sits between static quotas and the credit
//! ring of the course's flow-control section.
//!
//! ```text
//! P.produce(x):    pending.push(x); if ¬asking ∧ credit = 0: send ASK(k); asking = true
//! P on GRANT(g):   asking = false; credit += g; while credit > 0 ∧ pending ≠ ∅: send DATA; credit -= 1
//!                  if pending ≠ ∅: send ASK(k); asking = true
//!                  elif credit > 0: send RELEASE(credit); credit = 0
//! C on ASK(k):     g = min(k, N − |buf| − reserved); reserved += g; send GRANT(g)
//! C on DATA(x):    buf.push(x); reserved −= 1
//! C on RELEASE(r): reserved −= r
//! C.consume():     buf.pop()
//! ```
//!
//! **How it runs here.** Node 0 is C, nodes 1..n−1 the producers, on a star (or a
//! complete graph). Each producer receives `items` inputs `produce X` at time 0 (the
//! console's `produce X` adds more); a producer always asks for `ask` slots, even with
//! fewer items pending, and gives back what it cannot use with RELEASE. C
//! consumes one item per tick of its `consume` timer, shared with `credit-flow` and
//! `credit-ring` ([`flow_consumer`](super::flow_consumer)).
//!
//! **Departure.** C never answers `GRANT(0)`. When nothing is free it *keeps* the ASK
//! (a queue of waiting producers, first come first served) and answers it as soon as a
//! consumption or a RELEASE frees a slot. Answering 0 at once, as the formula alone
//! would, makes the producer ask again at once: a busy loop of ASK/GRANT(0) while the
//! buffer is full, unbounded messages in simulation and a cycle the checker rightly
//! reports. The formula alone leaves the zero grant open.
//!
//! **Pitfalls.**
//! * Granting from `N − |buf|` alone, forgetting what is already promised
//!   (`fixed=false` keeps this bug): two producers asking at once are each granted the
//!   whole free space, and the buffer overflows when both send. The allocation
//!   invariant `|buf| + reserved ≤ N` breaks at the second grant, long before.
//! * Taking a slot off `reserved` when the GRANT leaves rather than when its DATA
//!   arrives: `reserved` stays 0, the same overflow follows, and the conservation count
//!   below breaks at the first grant (its slots are then both free and on the wire).
//! * A producer that asks again while an ASK is out can be granted twice what it needs
//!   and hoard it: here it asks only with no ASK out and no credit left.
//! * Order needs FIFO channels (declared), as in `credit-flow`.
//!
//! **Properties.** After every event: `|buf| + reserved ≤ N` at C (the allocation
//! invariant); `free + |buf| + Σ credit + GRANT + DATA + RELEASE in transit = N` with
//! `free = N − |buf| − reserved` (GRANT(g) weighing g, RELEASE(r) r: every reserved
//! slot is somewhere on its way back); `|buf| ≤ N`. At quiescence: nothing reserved,
//! no credit held, no ASK waiting, every item consumed exactly once, in its
//! producer's order. The checker explores every interleaving of small instances (up to
//! 3 producers: 2,901 states for N = 3, k = 2, 2 items each), liveness included: no
//! schedule overflows the buffer there, and every run ends with everything consumed.
//!
//! **Costs (derived).** DATA = items produced, exactly (one slot each). GRANT = ASK,
//! exactly (every ASK is answered once, never with 0). ASK lies between
//! `Σ_p ⌈I_p/k⌉` (a grant is at most k, and producer p needs `I_p` slots) and
//! `Σ_p I_p` (a grant is at least 1 and meets at least one pending item, since a
//! producer asks only with items pending and pending only grows until it sends).
//! RELEASE ≤ ASK (at most one per grant). Per item: 1 DATA plus about `2/k` for the
//! ASK and its GRANT when the buffer keeps up, up to 3 when every grant is of 1 slot.

use super::flow_consumer::{consumed_by_producer, items_at_start, Buffer, Item, CONSUME, PRODUCED};
use reparti_core::{
    Algorithm, AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, Context, Expectation, Invariant, Message, NodeId,
    NodeSetup, ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Terminal, Timer,
    WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The algorithm's parameters.
const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("buffer", "4", 1, 100_000, "N: slots in the consumer's buffer, allotted on request"),
    ParamSpec::int("ask", "2", 1, 100_000, "k: slots a producer asks for at a time"),
    ParamSpec::int("items", "4", 0, 100_000, "items each producer produces (workload)"),
    ParamSpec::boolean("fixed", "true", "false = the classic bug: grants ignore the slots already reserved"),
];

/// A message between a producer and the consumer.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// A producer asks for `k` slots.
    Ask {
        /// How many.
        k: u32,
    },
    /// The consumer grants `g` slots (at least 1).
    Grant {
        /// How many.
        g: u32,
    },
    /// An item, to the consumer.
    Data {
        /// Its number at its producer, from 0.
        seq: u32,
        /// The content.
        x: i64,
    },
    /// A producer returns `r` granted slots it will not use.
    Release {
        /// How many.
        r: u32,
    },
}

pub use super::flow_consumer::Input;

/// One node: the consumer (position 0) or a producer.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: u32,
    /// Param `buffer` (N).
    pub slots: u32,
    /// Param `ask` (k).
    pub ask: u32,
    /// Param `fixed`: grants count `reserved` (true) or, the bug, ignore it.
    pub fixed: bool,
    /// Producer: slots granted and not yet used or released.
    pub credit: u32,
    /// Producer: an ASK is out, its GRANT not yet in.
    pub asking: bool,
    /// Producer: items produced, not yet sent.
    pub pending: VecDeque<i64>,
    /// Producer: items sent so far (the next item's number).
    pub sent: u32,
    /// Consumer: slots granted whose DATA (or RELEASE) has not arrived.
    pub reserved: u32,
    /// Consumer: ASKs kept while nothing was free, `(producer, k)`, oldest first.
    pub waiting: VecDeque<(u32, u32)>,
    /// Consumer: its buffer and what it consumed.
    pub buffer: Buffer,
}

/// The consumer as allocator. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct CreditAllocator {
    buffer: u32,
    ask: u32,
    items: u32,
    fixed: bool,
}

impl Node {
    /// Slots C may still promise: neither filled nor reserved (the bug forgets `reserved`).
    fn grantable(&self) -> u32 {
        let promised = if self.fixed { self.reserved } else { 0 };
        self.slots.saturating_sub(self.buffer.buf.len() as u32).saturating_sub(promised)
    }

    /// C answers the waiting ASKs, oldest first, while slots are free.
    fn grant_waiting(&mut self, ctx: &mut Context<'_, Msg>) {
        while let Some(&(p, k)) = self.waiting.front() {
            let g = k.min(self.grantable());
            if g == 0 {
                return;
            }
            self.waiting.pop_front();
            self.reserved += g;
            ctx.send(NodeId(p), Msg::Grant { g });
        }
    }

    /// A producer with items and nothing granted asks for `k` slots (one ASK at a time).
    fn ask_if_needed(&mut self, ctx: &mut Context<'_, Msg>) {
        if !self.asking && self.credit == 0 && !self.pending.is_empty() {
            self.asking = true;
            ctx.send(NodeId(0), Msg::Ask { k: self.ask });
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Ask { k } if self.me == 0 => {
                // Waiting askers come first: a newcomer must not take the slot they wait for.
                self.waiting.push_back((from.0, k));
                self.grant_waiting(ctx);
            }
            Msg::Data { seq, x: _ } if self.me == 0 => {
                self.buffer.receive(Item { from: from.0, seq }, ctx);
                self.reserved = self.reserved.saturating_sub(1);
            }
            Msg::Release { r } if self.me == 0 => {
                self.reserved = self.reserved.saturating_sub(r);
                self.grant_waiting(ctx);
            }
            Msg::Grant { g } if self.me != 0 => {
                self.asking = false;
                self.credit = self.credit.saturating_add(g);
                while self.credit > 0 {
                    let Some(x) = self.pending.pop_front() else { break };
                    self.credit -= 1;
                    ctx.send(NodeId(0), Msg::Data { seq: self.sent, x });
                    self.sent += 1;
                }
                if self.credit > 0 {
                    ctx.send(NodeId(0), Msg::Release { r: std::mem::take(&mut self.credit) });
                }
                self.ask_if_needed(ctx);
            }
            other => ctx.log(format!("ignored {other:?} from {from}: wrong role for node {}", self.me)),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        if timer == CONSUME && self.buffer.consume(ctx).is_some() {
            self.grant_waiting(ctx);
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
        self.ask_if_needed(ctx);
    }
}

/// The allocation invariant, at C.
fn allocation(s: &Node) -> Result<(), String> {
    let used = s.buffer.buf.len() as u64 + u64::from(s.reserved);
    if s.me == 0 && used > u64::from(s.slots) {
        return Err(format!(
            "|buf| + reserved = {} + {} = {used} > N = {}: more slots promised than free",
            s.buffer.buf.len(),
            s.reserved,
            s.slots
        ));
    }
    Ok(())
}

/// A node's part of the slot conservation: C's free and filled slots, a producer's credit.
fn slots_held(s: &Node) -> u64 {
    if s.me == 0 {
        let filled = s.buffer.buf.len() as u64;
        filled + u64::from(s.slots).saturating_sub(filled + u64::from(s.reserved))
    } else {
        u64::from(s.credit)
    }
}

/// A message's part: the slots it carries on their way back to C.
fn slots_carried(m: &Msg) -> u64 {
    match m {
        Msg::Ask { .. } => 0,
        Msg::Grant { g } => u64::from(*g),
        Msg::Data { .. } => 1,
        Msg::Release { r } => u64::from(*r),
    }
}

fn no_overflow(s: &Node) -> Result<(), String> {
    match s.buffer.buf.len() as u64 > u64::from(s.slots) {
        true => Err(format!("the buffer holds {} items for {} slots", s.buffer.buf.len(), s.slots)),
        false => Ok(()),
    }
}

fn every_item_consumed(w: &World<'_, Node>) -> Result<(), String> {
    let Some(c) = w.nodes.first() else { return Ok(()) };
    if c.reserved > 0 || !c.waiting.is_empty() {
        return Err(format!("{} slot(s) still reserved, {} ASK(s) still waiting", c.reserved, c.waiting.len()));
    }
    if let Some(p) = w.nodes.iter().skip(1).find(|p| p.credit > 0 || p.asking) {
        return Err(format!("producer {} still holds {} credit(s) or an ASK out", p.me, p.credit));
    }
    let sent: Vec<u32> = w.nodes.iter().map(|s| s.sent).collect();
    let pending: Vec<usize> = w.nodes.iter().map(|s| s.pending.len()).collect();
    c.buffer.all_consumed_in_order(&sent, &pending)
}

impl Algorithm for CreditAllocator {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["star", "complete"],
            default_nodes: 4,
            needs_fifo: true,
            commands: &[Command {
                word: "produce",
                variant: "Produce",
                args: &[CommandArg { field: "x", kind: ArgKind::Int }],
                help: "produce item X (sent to the consumer, node 0, once it grants this producer a slot)",
            }],
            ..AlgorithmSpec::new(
                "credit-allocator",
                Chapter::Communication,
                "the consumer as allocator: producers ASK for slots, the consumer GRANTs what is free and unreserved",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(CreditAllocator {
            buffer: params.get("buffer")?,
            ask: params.get("ask")?,
            items: params.get("items")?,
            fixed: params.get("fixed")?,
        })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let me = setup.me.0;
        Node {
            me,
            slots: self.buffer,
            ask: self.ask,
            fixed: self.fixed,
            credit: 0,
            asking: false,
            pending: VecDeque::new(),
            sent: 0,
            reserved: 0,
            waiting: VecDeque::new(),
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
                Invariant::local("allocation: |buf| + reserved <= N", allocation),
                Invariant::count(
                    "slot conservation: free + |buf| + credit + GRANT + DATA + RELEASE = N",
                    slots_held,
                    slots_carried,
                    u64::from(self.buffer),
                    u64::from(self.buffer),
                ),
                Invariant::local("no overflow: |buf| <= N", no_overflow),
            ],
            terminal: vec![Terminal::new(
                "nothing reserved; every item consumed exactly once, in its producer's order",
                every_item_consumed,
            )],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let produced = facts.output_count(PRODUCED) as f64;
        let ask = u64::from(self.ask);
        // Per producer, from the items the consumer names (outputs are counted by value,
        // and `produced` values are the items' contents, not their producers).
        let fewest_asks: u64 = consumed_by_producer(facts).values().map(|&i| i.div_ceil(ask)).sum();
        let asks = facts.sent_by_type.get("ASK").copied().unwrap_or(0) as f64;
        let releases = facts.sent_by_type.get("RELEASE").copied().unwrap_or(0) as f64;
        vec![
            Expectation::exact("DATA", "items produced", produced),
            Expectation::between("ASK", "[Σ_p ⌈I_p/k⌉, items produced]", fewest_asks as f64, produced),
            Expectation::exact("GRANT", "ASK (each answered once, never with 0)", asks),
            Expectation::at_most("RELEASE", "ASK (at most one per grant)", asks),
            Expectation::reference("DATA", "items·(n−1)", f64::from(self.items) * facts.n.saturating_sub(1) as f64),
            Expectation::exact("total", "DATA + 2·ASK + RELEASE", produced + 2.0 * asks + releases),
        ]
    }
}

#[cfg(test)]
#[path = "credit_allocator_tests.rs"]
mod tests;

//! # Credit-based flow control: a consumer's buffer of N slots, producers with credits
//!
//! **What.** A producer may send an item only while it holds a *credit*, one per free
//! slot of the consumer's buffer. The consumer gives credits back, in batches of `b`,
//! as it *frees* slots by consuming — never before — so the buffer cannot overflow
//! whatever the speeds of producers, network and consumer.
//!
//! **Source.** H. T. Kung and R. Morris, "Credit-based flow control for ATM networks",
//! IEEE Network 9(2), 1995 (one sender's credits; with several senders, a static
//! partition of the receiver's buffer, one quota per virtual circuit); H. T. Kung,
//! T. Blackwell, A. Chapman, "Credit-based flow control for ATM networks", SIGCOMM 1994
//! (credits per virtual circuit, returned in batches as the receiver forwards cells);
//! A. S. Tanenbaum, *Computer Networks*, ch. 3 (sliding windows: the sender's window as
//! the receiver's free buffers), and Tanenbaum and D. Wetherall, 5th ed., §6.2 (dynamic
//! buffer allocation: the receiver grants the sender buffers, decoupled from
//! acknowledgements).
//!
//! ```text
//! P.produce(x):   pending.push(x); while credit > 0 ∧ pending ≠ ∅: credit -= 1; send DATA(x) to C
//! C on DATA(x):   buf.push(x)                                    # |buf| < N by the invariant
//! C.consume():    x = buf.pop(); freed += 1; if freed ≥ b: send CREDIT(freed); freed = 0
//! P on CREDIT(k): credit += k; send what is pending, as above
//! ```
//!
//! **How it runs here.** Node 0 is the consumer C, nodes 1..n−1 the producers, on a
//! star (or complete graph). With one producer (`--nodes 2`, the default) this is plain
//! credit flow; with more it is the static partition: producer `i` owns a static quota `q_i` of the `buffer` slots
//! (`⌊N/m⌋`, the first `N mod m` producers one more), keeps its own credit, and C keeps
//! a `freed` count per producer and returns credit to the producer the freed item came
//! from. Each producer receives `items` inputs `produce X` at time 0 (the console's
//! `produce X` adds more). C consumes one item per tick of its `consume` timer (see
//! [`flow_consumer`](super::flow_consumer)), outputting `consumed` = `P#K` (producer P's item K).
//!
//! **Departure.** The batch a producer is credited in is `min(b, q_i)`, not `b`: with
//! `b > q_i` the producer spends its whole quota, C frees `q_i < b` slots and never
//! reaches a batch, and both wait forever (see Pitfalls). Kung and Morris leave `b` free.
//! Leftover frees (fewer than a batch at the end) stay at C: the run ends with them.
//!
//! **Pitfalls.**
//! * Crediting on *receipt* instead of on consumption (`fixed=false` keeps this bug):
//!   the producer is told a slot is free while the item still occupies it, sends
//!   again, and the buffer overflows. The conservation invariant is broken by the
//!   first such receipt; the overflow follows a few steps later.
//! * A batch larger than the credit a producer can hold deadlocks (above).
//! * Order needs FIFO channels (declared); on unordered ones items arrive, and are
//!   consumed, out of their producer's order, which the terminal property reports.
//! * With `buffer` < n−1 some producers would get a quota of 0 and could never send:
//!   every engine refuses such an instance before it starts (`check_size`).
//!
//! **Properties.** After every event: `Σ credit + DATA in transit + |buf| + Σ freed +
//! Σ CREDIT in transit = N` (with CREDIT(k) weighing k), the same per producer with
//! `q_i` (the static partition), and `|buf| ≤ N`. At quiescence: every item produced was consumed
//! exactly once, in its producer's order, nothing left pending or buffered.
//!
//! **Costs.** DATA = items produced, exactly; CREDIT = `Σ_i ⌊consumed_i / min(b, q_i)⌋`,
//! exactly (`⌊items/b⌋` for one producer: `items` when `b = 1`, two messages per item).

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
    ParamSpec::int("buffer", "4", 1, 100_000, "N: slots in the consumer's buffer, split among the producers"),
    ParamSpec::int("batch", "1", 1, 100_000, "b: the consumer returns credit once b slots are freed"),
    ParamSpec::int("items", "6", 0, 100_000, "items each producer produces (workload)"),
    ParamSpec::boolean(
        "fixed",
        "true",
        "false = the classic bug: credit returned on receipt instead of when the slot is freed",
    ),
];

/// A message between a producer and the consumer.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// An item, to the consumer.
    Data {
        /// Its number at its producer, from 0.
        seq: u32,
        /// The content.
        x: i64,
    },
    /// `k` slots freed, to the producer that filled them.
    Credit {
        /// How many.
        k: u32,
    },
}

pub use super::flow_consumer::Input;

/// One node: the consumer (position 0) or a producer.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: u32,
    /// The run's size.
    pub n: u32,
    /// Param `buffer` (N).
    pub slots: u32,
    /// Param `batch` (b).
    pub batch: u32,
    /// Param `fixed`: credit on consumption (true) or, the bug, on receipt.
    pub fixed: bool,
    /// Producer: its credit. Consumer: slots allotted to no producer (N with no producer).
    pub credit: u32,
    /// Producer: items produced, not yet sent.
    pub pending: VecDeque<i64>,
    /// Producer: items sent so far (the next item's number).
    pub sent: u32,
    /// Consumer: slots freed and not yet credited back, per producer.
    pub freed: Vec<u32>,
    /// Consumer: its buffer and what it consumed.
    pub buffer: Buffer,
}

/// Credit-based flow control (one producer, or several with a static partition). See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct CreditFlow {
    buffer: u32,
    batch: u32,
    items: u32,
    fixed: bool,
}

/// Producer `p`'s quota of `n_slots` slots among the `n − 1` producers.
pub fn quota(n_slots: u32, n: usize, p: usize) -> u32 {
    let m = n.saturating_sub(1) as u32;
    if p == 0 || m == 0 {
        return 0;
    }
    n_slots / m + u32::from((p as u32 - 1) < n_slots % m)
}

/// The batch producer `p` is credited in: `min(b, q_p)` (see "Departure"), at least 1.
pub fn batch_of(batch: u32, n_slots: u32, n: usize, p: usize) -> u32 {
    batch.min(quota(n_slots, n, p)).max(1)
}

impl Node {
    /// Sends pending items while credit lasts.
    fn send_pending(&mut self, ctx: &mut Context<'_, Msg>) {
        while self.credit > 0 {
            let Some(x) = self.pending.pop_front() else { break };
            self.credit -= 1;
            ctx.send(NodeId(0), Msg::Data { seq: self.sent, x });
            self.sent += 1;
        }
    }

    /// The consumer frees (or, when broken, pretends to free) a slot of producer `p`,
    /// and credits a whole batch back once there is one.
    fn free_slot(&mut self, p: u32, ctx: &mut Context<'_, Msg>) {
        let batch = batch_of(self.batch, self.slots, self.n as usize, p as usize);
        let Some(freed) = self.freed.get_mut(p as usize) else { return };
        *freed += 1;
        if *freed >= batch {
            ctx.send(NodeId(p), Msg::Credit { k: *freed });
            *freed = 0;
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Data { seq, x: _ } if self.me == 0 => {
                self.buffer.receive(Item { from: from.0, seq }, ctx);
                if !self.fixed {
                    // The bug: the slot is credited back while the item still fills it.
                    self.free_slot(from.0, ctx);
                }
            }
            Msg::Credit { k } if self.me != 0 => {
                self.credit = self.credit.saturating_add(k);
                self.send_pending(ctx);
            }
            other => ctx.log(format!("ignored {other:?} from {from}: wrong role for node {}", self.me)),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        if timer != CONSUME {
            return;
        }
        let Some(item) = self.buffer.consume(ctx) else { return };
        if self.fixed {
            self.free_slot(item.from, ctx);
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
        self.send_pending(ctx);
    }
}

/// The per-producer conservation of the static partition: `credit + DATA + buffered + freed + CREDIT = q_i`.
fn per_producer_conservation(w: &World<'_, Node>) -> Result<(), String> {
    let n = w.nodes.len();
    let Some(c) = w.nodes.first() else { return Ok(()) };
    let mut total: Vec<u64> = vec![0; n];
    for (p, node) in w.nodes.iter().enumerate().skip(1) {
        total[p] += u64::from(node.credit) + u64::from(c.freed.get(p).copied().unwrap_or(0));
    }
    for item in &c.buffer.buf {
        if let Some(t) = total.get_mut(item.from as usize) {
            *t += 1;
        }
    }
    (w.in_flight)(&mut |from, to, m| match m {
        Msg::Data { .. } => {
            if let Some(t) = total.get_mut(from.index()) {
                *t += 1;
            }
        }
        Msg::Credit { k } => {
            if let Some(t) = total.get_mut(to.index()) {
                *t += u64::from(*k);
            }
        }
    });
    for (p, &t) in total.iter().enumerate().skip(1) {
        let q = quota(c.slots, n, p);
        if t != u64::from(q) {
            return Err(format!("producer {p}: credit + DATA + buffered + freed + CREDIT = {t}, its quota is {q}"));
        }
    }
    Ok(())
}

fn every_item_consumed(w: &World<'_, Node>) -> Result<(), String> {
    let Some(c) = w.nodes.first() else { return Ok(()) };
    let sent: Vec<u32> = w.nodes.iter().map(|s| s.sent).collect();
    let pending: Vec<usize> = w.nodes.iter().map(|s| s.pending.len()).collect();
    c.buffer.all_consumed_in_order(&sent, &pending).map_err(|why| {
        match w.nodes.iter().enumerate().skip(1).find(|(p, _)| quota(c.slots, w.nodes.len(), *p) == 0) {
            Some((p, _)) => format!("{why} (producer {p} has a quota of 0: raise buffer to at least n-1)"),
            None => why,
        }
    })
}

impl Algorithm for CreditFlow {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["star", "complete"],
            default_nodes: 2,
            needs_fifo: true,
            commands: &[Command {
                word: "produce",
                variant: "Produce",
                args: &[CommandArg { field: "x", kind: ArgKind::Int }],
                help: "produce item X (sent to the consumer, node 0, once this producer holds a credit)",
            }],
            ..AlgorithmSpec::new(
                "credit-flow",
                Chapter::Communication,
                "credit-based flow control: producers send only on credit, the consumer returns it as slots free",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(CreditFlow {
            buffer: params.get("buffer")?,
            batch: params.get("batch")?,
            items: params.get("items")?,
            fixed: params.get("fixed")?,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        super::flow_consumer::slot_for_each_producer(self.buffer, n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let me = setup.me.0;
        let n = setup.n;
        let allotted: u32 = (1..n).map(|p| quota(self.buffer, n, p)).sum();
        Node {
            me,
            n: n as u32,
            slots: self.buffer,
            batch: self.batch,
            fixed: self.fixed,
            credit: if me == 0 { self.buffer - allotted } else { quota(self.buffer, n, me as usize) },
            pending: VecDeque::new(),
            sent: 0,
            freed: if me == 0 { vec![0; n] } else { Vec::new() },
            buffer: if me == 0 { Buffer::new(n) } else { Buffer::default() },
        }
    }

    /// `items` inputs `produce X` per producer at time 0, X = 100·producer + k.
    fn workload(&self, setup: &WorkloadSetup<'_>, _rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        items_at_start(setup.n, self.items)
    }

    fn properties(&self) -> Properties<Node> {
        let conservation = |s: &Node| -> u64 {
            u64::from(s.credit) + s.buffer.buf.len() as u64 + s.freed.iter().map(|&f| u64::from(f)).sum::<u64>()
        };
        Properties {
            invariants: vec![
                Invariant::<Node>::count(
                    "credit conservation: credit + DATA + |buf| + freed + CREDIT = N",
                    conservation,
                    |m| match m {
                        Msg::Data { .. } => 1,
                        Msg::Credit { k } => u64::from(*k),
                    },
                    u64::from(self.buffer),
                    u64::from(self.buffer),
                ),
                Invariant::<Node>::global("per-producer conservation (static quotas)", per_producer_conservation),
                Invariant::<Node>::local("no overflow: |buf| <= N", |s| {
                    if s.buffer.buf.len() as u64 > u64::from(s.slots) {
                        Err(format!("the buffer holds {} items for {} slots", s.buffer.buf.len(), s.slots))
                    } else {
                        Ok(())
                    }
                }),
            ],
            terminal: vec![Terminal::<Node>::new(
                "every item consumed exactly once, in its producer's order",
                every_item_consumed,
            )],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let produced = facts.output_count(PRODUCED) as f64;
        let credits: u64 = consumed_by_producer(facts)
            .into_iter()
            .map(|(p, count)| count / u64::from(batch_of(self.batch, self.buffer, facts.n, p)))
            .sum();
        let credits = credits as f64;
        vec![
            Expectation::exact("DATA", "items produced", produced),
            Expectation::exact("CREDIT", "Σ ⌊consumed_i / min(b, q_i)⌋", credits),
            Expectation::reference("DATA", "items·(n−1)", f64::from(self.items) * facts.n.saturating_sub(1) as f64),
            Expectation::exact("total", "DATA + CREDIT", produced + credits),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler_harness::sends;
    use reparti_core::{Effect, TopologyKind};

    fn node(a: &CreditFlow, me: u32, n: usize) -> Node {
        a.init(&NodeSetup::new(NodeId(me), u64::from(me) + 1, n))
    }

    fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
        let (me, n) = (NodeId(node.me), node.n as usize);
        crate::handler_harness::run(node, TopologyKind::Star, me, n, f)
    }

    #[test]
    fn a_producer_sends_only_on_credit_and_resumes_on_credit() {
        let a = CreditFlow { buffer: 2, batch: 1, items: 0, fixed: true };
        let mut p = node(&a, 1, 2);
        for x in 0..3 {
            run(&mut p, |s, c| s.on_input(Input::Produce { x }, c));
        }
        assert_eq!((p.credit, p.sent, p.pending.len()), (0, 2, 1), "two credits, two sends, one waits");
        let eff = run(&mut p, |s, c| s.on_message(NodeId(0), Msg::Credit { k: 1 }, c));
        assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Data { seq: 2, x: 2 })]);
    }

    #[test]
    fn the_consumer_credits_on_consumption_in_batches_capped_at_the_quota() {
        // b = 5 but the producer's quota is 3: credit comes back in threes.
        let a = CreditFlow { buffer: 3, batch: 5, items: 0, fixed: true };
        let mut c = node(&a, 0, 2);
        for seq in 0..3 {
            let eff = run(&mut c, |s, x| s.on_message(NodeId(1), Msg::Data { seq, x: 0 }, x));
            assert!(sends(&eff).is_empty(), "no credit on receipt");
        }
        let mut credits = Vec::new();
        for _ in 0..3 {
            credits.extend(sends(&run(&mut c, |s, x| s.on_timer(CONSUME, x))));
        }
        assert_eq!(credits, vec![(NodeId(1), Msg::Credit { k: 3 })]);
        assert_eq!(c.buffer.consumed, vec![0, 3]);
    }

    #[test]
    fn the_broken_consumer_credits_on_receipt() {
        let a = CreditFlow { buffer: 1, batch: 1, items: 0, fixed: false };
        let mut c = node(&a, 0, 2);
        let eff = run(&mut c, |s, x| s.on_message(NodeId(1), Msg::Data { seq: 0, x: 0 }, x));
        assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Credit { k: 1 })], "the slot is still full");
        assert_eq!(c.buffer.buf.len(), 1);
    }

    #[test]
    fn quotas_split_the_buffer_exactly() {
        for slots in 1..20u32 {
            for n in 2..8usize {
                let q: Vec<u32> = (1..n).map(|p| quota(slots, n, p)).collect();
                assert_eq!(q.iter().sum::<u32>(), slots, "N={slots} n={n}");
                assert!(q.iter().max().unwrap_or(&0) - q.iter().min().unwrap_or(&0) <= 1, "{q:?}");
            }
        }
        assert_eq!(quota(4, 2, 0), 0, "the consumer has no quota");
    }
}

//! The consumer's side of flow control, shared by [`credit_flow`](super::credit_flow)
//! and [`credit_ring`](super::credit_ring): a buffer of `N` slots that the consumer
//! drains one item per tick of its `consume` timer, and the record that lets a terminal
//! property say "every item consumed exactly once, in its producer's order".
//! Consuming outputs `consumed` = `P#K` (producer P's item number K), the name
//! `producer-consumer` gives its items too, so that `reparti eval … --per consumed
//! --since produced` measures every flow-control design on one scale.
//!
//! The consumer drains on a timer rather than on an input so that a run is finite and
//! the checker explores every speed of consumption: a pending timer may fire at any
//! step, so the consumer may be slower or faster than any producer. The timer is set
//! only while the buffer holds something, hence quiescence once everything is consumed.

use reparti_core::{Context, Message, NodeId, ScheduledInput, Timer};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Refuses a buffer of `slots` that cannot give each of the `n − 1` producers a slot:
/// some producer could never send (static quotas), or a lap could not serve them all
/// (the token ring). Both algorithms' [`check_size`](reparti_core::Algorithm::check_size).
pub fn slot_for_each_producer(slots: u32, n: usize) -> Result<(), String> {
    let producers = n.saturating_sub(1);
    if (slots as usize) < producers {
        return Err(format!(
            "buffer={slots} gives {producers} producers fewer slots than one each: give -p buffer={producers} or more, or fewer nodes"
        ));
    }
    Ok(())
}

/// The workload every flow-control design here starts from: `items` inputs per producer
/// (nodes 1..n−1) at time 0, producer p's item k being `produce(100·p + k)`, so that a
/// value says whose it is.
pub fn items_at_start(n: usize, items: u32) -> Vec<ScheduledInput<Input>> {
    (1..n as u32)
        .flat_map(|p| (0..items).map(move |k| (p, k)))
        .map(|(p, k)| ScheduledInput {
            at: 0.0,
            node: NodeId(p),
            input: Input::Produce { x: 100 * i64::from(p) + i64::from(k) },
        })
        .collect()
}

/// Requests from outside, the same for every credit design: the workload's and the
/// console's `produce X`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Produce one item (sent when the design's flow control allows).
    Produce {
        /// The content.
        x: i64,
    },
}

/// The consumer's timer: one item consumed per tick.
pub const CONSUME: Timer = "consume";

/// The producers' output on producing an item (its value: the item).
pub const PRODUCED: &str = "produced";

/// The consumer's output on consuming an item; its value names it: [`item_name`].
pub const CONSUMED: &str = "consumed";

/// `P#K`: producer P's item number K (from 0), as the `consumed` output names it.
pub fn item_name(from: u32, seq: u32) -> String {
    format!("{from}#{seq}")
}

/// How many items of each producer the run's `consumed` outputs name, by position
/// (read back from [`item_name`]s; the cost formulas are written per producer).
pub fn consumed_by_producer(facts: &reparti_core::RunFacts<'_>) -> std::collections::BTreeMap<usize, u64> {
    let mut by_producer = std::collections::BTreeMap::new();
    for (value, count) in facts.outputs.get(CONSUMED).into_iter().flatten() {
        let producer = value.to_string().split_once('#').and_then(|(p, _)| p.parse::<usize>().ok());
        if let Some(p) = producer {
            *by_producer.entry(p).or_insert(0) += count;
        }
    }
    by_producer
}

/// An item in the buffer: who produced it and its number at that producer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Item {
    /// The producer's position.
    pub from: u32,
    /// Its number among that producer's items, from 0.
    pub seq: u32,
}

/// The consumer's buffer and what it has consumed.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Buffer {
    /// Items received, not yet consumed, oldest first.
    pub buf: VecDeque<Item>,
    /// Items consumed, per producer position (index 0, the consumer, stays 0).
    pub consumed: Vec<u32>,
    /// The first item consumed out of its producer's order, if any (kept, not
    /// panicked on: the terminal property reports it).
    pub misordered: Option<(Item, u32)>,
}

impl Buffer {
    /// An empty buffer for a run of `n` nodes.
    pub fn new(n: usize) -> Self {
        Buffer { buf: VecDeque::new(), consumed: vec![0; n], misordered: None }
    }

    /// Stores an item; starts the consumption timer when the buffer was empty (a
    /// non-empty buffer already has one pending).
    pub fn receive<M: Message>(&mut self, item: Item, ctx: &mut Context<'_, M>) {
        if self.buf.is_empty() {
            ctx.set_timer(CONSUME, 1.0);
        }
        self.buf.push_back(item);
    }

    /// Consumes the oldest item (one timer tick); re-arms the timer while items remain.
    /// Returns the item consumed, `None` on a stray tick.
    pub fn consume<M: Message>(&mut self, ctx: &mut Context<'_, M>) -> Option<Item> {
        let item = self.buf.pop_front()?;
        if let Some(count) = self.consumed.get_mut(item.from as usize) {
            if item.seq != *count && self.misordered.is_none() {
                self.misordered = Some((item, *count));
            }
            *count += 1;
        }
        ctx.output(CONSUMED, item_name(item.from, item.seq));
        if !self.buf.is_empty() {
            ctx.set_timer(CONSUME, 1.0);
        }
        Some(item)
    }

    /// The terminal check, given what each producer sent (by position; the consumer's
    /// own entry ignored) and what each still has pending.
    pub fn all_consumed_in_order(&self, sent: &[u32], pending: &[usize]) -> Result<(), String> {
        if let Some((item, expected)) = self.misordered {
            return Err(format!(
                "item {}#{} was consumed when {}#{expected} was due: out of the producer's order",
                item.from, item.seq, item.from
            ));
        }
        if !self.buf.is_empty() {
            return Err(format!("{} item(s) are still in the buffer", self.buf.len()));
        }
        for (p, (&s, &left)) in sent.iter().zip(pending).enumerate().skip(1) {
            if left > 0 {
                return Err(format!("producer {} still has {left} item(s) it never sent", NodeId(p as u32)));
            }
            let got = self.consumed.get(p).copied().unwrap_or(0);
            if got != s {
                return Err(format!("producer {p} sent {s} item(s) but {got} were consumed"));
            }
        }
        Ok(())
    }
}

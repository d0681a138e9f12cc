//! What `producer-consumer` promises: its invariants, its end state and its costs (see
//! the module documentation of [`super`] for the reasons).

use super::{Msg, Node, Settings, CONSUMER};
use reparti_core::{Expectation, Invariant, NodeId, Properties, RunFacts, Terminal, World};

/// Every property, in the order the module documentation lists them.
pub(super) fn all() -> Properties<Node> {
    Properties {
        invariants: vec![
            Invariant::<Node>::count(
                "exactly one token",
                |s| s.has_token as u64,
                |m| matches!(m, Msg::Token) as u64,
                1,
                1,
            ),
            Invariant::<Node>::count(
                "at most one DATA in transit",
                |_| 0,
                |m| matches!(m, Msg::Data { .. }) as u64,
                0,
                1,
            ),
            Invariant::<Node>::global("a DATA in transit comes from the token holder", data_from_holder),
            Invariant::<Node>::local("the memory holds at most N items", |s| {
                match s.buf.len() as u64 > s.settings.buffer as u64 {
                    true => Err(format!("{} items in a memory of {}", s.buf.len(), s.settings.buffer)),
                    false => Ok(()),
                }
            }),
            Invariant::<Node>::global("no DATA arrives while the consumer empties its memory", no_data_while_draining),
            Invariant::<Node>::global("every item stored once, in production order", conservation),
        ],
        terminal: vec![Terminal::<Node>::new("every produced item was consumed exactly once, in order", all_consumed)],
    }
}

fn data_from_holder(w: &World<'_, Node>) -> Result<(), String> {
    let mut bad = None;
    (w.in_flight)(&mut |from, _, m| {
        if matches!(m, Msg::Data { .. }) && bad.is_none() {
            let ok = w.nodes.get(from.index()).is_some_and(|p| p.has_token && p.waiting);
            if !ok {
                bad = Some(from);
            }
        }
    });
    match bad {
        Some(p) => Err(format!("node {p} has a DATA in transit but does not hold the token waiting for its answer")),
        None => Ok(()),
    }
}

fn no_data_while_draining(w: &World<'_, Node>) -> Result<(), String> {
    let Some(c) = w.nodes.get(CONSUMER.index()) else { return Ok(()) };
    if !c.draining {
        return Ok(());
    }
    let mut from = None;
    (w.in_flight)(&mut |f, to, m| {
        if to == CONSUMER && matches!(m, Msg::Data { .. }) {
            from = Some(f);
        }
    });
    match from {
        Some(p) => Err(format!("node {p} wrote while the consumer was emptying its memory")),
        None => Ok(()),
    }
}

/// Per producer: what C consumed and holds, plus the DATA on its way, is exactly what the
/// producer had stored (answered), plus the one it waits for; the memory holds each
/// producer's items with consecutive numbers.
fn conservation(w: &World<'_, Node>) -> Result<(), String> {
    let Some(c) = w.nodes.get(CONSUMER.index()) else { return Ok(()) };
    if let Some((p, seq)) = c.misordered {
        return Err(format!("item {p}#{seq} was consumed out of its producer's order"));
    }
    let mut data_out = vec![false; w.nodes.len()];
    (w.in_flight)(&mut |from, _, m| {
        if let (Msg::Data { .. }, Some(d)) = (m, data_out.get_mut(from.index())) {
            *d = true;
        }
    });
    for (p, producer) in w.nodes.iter().enumerate().skip(1) {
        let consumed = c.consumed.get(p).copied().unwrap_or(0);
        let mut next = consumed;
        for item in c.buf.iter().filter(|i| i.from as usize == p) {
            if item.seq != next {
                return Err(format!("the memory holds {p}#{} where {p}#{next} was due", item.seq));
            }
            next += 1;
        }
        // Items that reached C: the producer's stored ones, plus the one whose answer is
        // on its way (waiting, and its DATA no longer in transit).
        let answered_in_transit = producer.waiting && !data_out[p];
        let expected = producer.stored + answered_in_transit as u32;
        if next != expected {
            return Err(format!(
                "node {p}: {next} item(s) reached the consumer, {} stored and {} answer(s) on the way",
                producer.stored, answered_in_transit as u32
            ));
        }
    }
    Ok(())
}

fn all_consumed(w: &World<'_, Node>) -> Result<(), String> {
    let Some(c) = w.nodes.get(CONSUMER.index()) else { return Ok(()) };
    if !c.buf.is_empty() {
        return Err(format!("{} item(s) left in the consumer's memory", c.buf.len()));
    }
    if w.nodes.len() >= 2 && !c.has_token {
        return Err("the token does not rest at the consumer".into());
    }
    for (p, producer) in w.nodes.iter().enumerate().skip(1) {
        if !producer.queue.is_empty() {
            return Err(format!("node {} still has {} item(s) to write", NodeId(p as u32), producer.queue.len()));
        }
        let consumed = c.consumed.get(p).copied().unwrap_or(0);
        if consumed != producer.produced {
            return Err(format!("node {p} produced {} item(s), {consumed} consumed", producer.produced));
        }
    }
    Ok(())
}

/// The revolutions and FULL answers of the workload alone (every producer with `items`
/// items at the start), by following the token: revolution k writes
/// `m·min(Q, items − (k−1)Q)` items, and the memory, emptied at each passage, fills
/// ⌊that / N⌋ times.
fn workload_figures(s: &Settings, items: u32, m: u64) -> (u64, u64) {
    let (q, n) = (s.quota.max(1) as u64, s.buffer.max(1) as u64);
    let busy = (items as u64).div_ceil(q);
    let full = (0..busy).map(|k| m * q.min(items as u64 - k * q) / n).sum();
    (busy + s.idle_laps as u64, full)
}

/// The costs of a run (see "Costs" in the module documentation).
pub(super) fn expected(s: &Settings, items: u32, facts: &RunFacts<'_>) -> Vec<Expectation> {
    let n = facts.n as u64;
    if n < 2 {
        return vec![Expectation::exact("total", "no producer, no message", 0.0)];
    }
    let m = n - 1;
    let produced = facts.output_count("produced");
    let data = produced as f64;
    let full = facts.sent_by_type.get("FULL").copied().unwrap_or(0) as f64;
    let laps = facts.output_count("lap");
    let workload_only = produced == m * items as u64 && facts.output_count("wake") == 0;
    let mut out = vec![
        Expectation::exact("DATA", "items produced", data),
        Expectation::exact("ACK", "items − FULL", data - full),
        Expectation::exact("RESUME", "FULL", full),
    ];
    if workload_only && s.suspend {
        let (revolutions, fulls) = workload_figures(s, items, m);
        out.push(Expectation::exact("FULL", "Σ per revolution ⌊items written / N⌋", fulls as f64));
        out.push(Expectation::exact("TOKEN", "n·(⌈items/Q⌉ + idle_laps)", (n * revolutions) as f64));
        let total = 2 * m * items as u64 + fulls + n * revolutions;
        out.push(Expectation::exact("total", "2·DATA + FULL + TOKEN", total as f64));
    } else {
        out.push(Expectation::at_most("FULL", "⌊items/N⌋", (produced / s.buffer.max(1) as u64) as f64));
        out.push(Expectation::exact("TOKEN", "n per revolution (revolutions counted at C)", (n * laps) as f64));
        out.push(Expectation::exact("total", "2·DATA + FULL + TOKEN", 2.0 * data + full + (n * laps) as f64));
    }
    out.push(Expectation::reference("RESUME", "≈ items/N (one per N items)", data / s.buffer.max(1) as f64));
    out
}

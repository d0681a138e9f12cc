//! Partial-order reduction with ample sets.
//!
//! Deliveries at different nodes commute: each changes only its own node and appends
//! to channels. So from a state it often suffices to explore the steps of **one** node
//! p, provided (C1) nothing the other nodes do can enable another step of p first,
//! (C2) p's steps do not change what the invariants look at, and (C3) the reduced
//! step does not close a cycle. Here:
//!
//! * C1 holds on FIFO channels when every channel into p is non-empty: a message
//!   another node sends to p queues behind one p is about to take. Timers and inputs of
//!   p are p's own. Messages sent outside the topology's channels would break this, so
//!   a step that does so switches the reduction off and the search restarts without it.
//! * C2: every count invariant's total and p's local invariants are unchanged by each
//!   step of p (checked on the successors), else the state is expanded fully.
//! * C3: if any reduced successor was already visited, the state is expanded fully.
//!
//! States where nothing is enabled (where terminal properties are checked) are all
//! kept by C1 alone, so terminal verdicts and deadlocks are preserved; C2 and C3
//! preserve invariants. The reduction is off for lossy, duplicating and unordered
//! networks, crashes, global invariants, history properties and clock-reading
//! algorithms, and the report says why.

use crate::config::NetworkKind;
use crate::model::{Action, Model, StateOf};
use reparti_core::{Algorithm, Invariant};

/// Why the reduction cannot apply to this model, if it cannot.
pub fn not_applicable<A: Algorithm>(m: &Model<A>) -> Option<&'static str> {
    if m.network != NetworkKind::Fifo {
        return Some("only on FIFO networks (an unordered channel can deliver a later message first)");
    }
    if m.max_crashes > 0 {
        return Some("not with crashes");
    }
    if m.clocks {
        return Some("not when clocks are part of the state");
    }
    let global = |i: &Invariant<_>| {
        matches!(i, Invariant::Global { .. } | Invariant::Stabilizing { .. } | Invariant::Delivery { .. })
    };
    if m.props.invariants.iter().any(global) {
        return Some("not with global or per-delivery invariants");
    }
    if !m.history_props.is_empty() {
        return Some("not with history properties (reordering two clients' steps changes the history)");
    }
    None
}

/// The steps of the first node whose steps may form an ample set (C1), if that is a
/// strict subset of `enabled`.
pub fn candidate<A: Algorithm>(m: &Model<A>, s: &StateOf<A>, enabled: &[Action]) -> Option<Vec<Action>> {
    for p in 0..m.n() as u32 {
        let all_inputs_waiting =
            m.in_neighbours[p as usize].iter().all(|&q| s.net.iter().any(|pk| pk.from == q && pk.to == p));
        if !all_inputs_waiting {
            continue;
        }
        let mine: Vec<Action> = enabled.iter().copied().filter(|&a| m.actor(s, a) == p).collect();
        if !mine.is_empty() && mine.len() < enabled.len() {
            return Some(mine);
        }
    }
    None
}

/// Whether a step of node `p` from `before` to `after` is invisible to the invariants (C2).
pub fn invisible<A: Algorithm>(m: &Model<A>, before: &StateOf<A>, after: &StateOf<A>, p: u32) -> bool {
    m.props.invariants.iter().all(|inv| match inv {
        Invariant::Count { node, msg, .. } => {
            let total = |s: &StateOf<A>| {
                s.nodes.iter().map(|x| node(x)).sum::<u64>() + s.net.iter().map(|k| msg(&k.msg)).sum::<u64>()
            };
            total(before) == total(after)
        }
        Invariant::Local { check, .. } => {
            check(&before.nodes[p as usize]).is_ok() == check(&after.nodes[p as usize]).is_ok()
        }
        Invariant::Global { .. } | Invariant::Stabilizing { .. } | Invariant::Delivery { .. } => false,
    })
}

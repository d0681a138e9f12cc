//! Maekawa's own properties and the count its cost formulas are written in: one holder
//! per lock (a global invariant over the nodes and the LOCKED in transit), the CS only
//! with the whole quorum's locks, and R = Σ (K_i − 1) over the entries.

use super::{quorums, Msg, Node};
use crate::mutex::critical_section::{self as cs, parse_entry};
use reparti_core::{NodeId, OutputValue, RunFacts, World};

/// For each arbiter, the requesters holding its lock and the LOCKED in transit from it
/// number at most one, and that one is the request its lock is lent to.
pub fn one_holder_per_lock(w: &World<'_, Node>) -> Result<(), String> {
    let n = w.nodes.len();
    let mut holders: Vec<Vec<(NodeId, Option<u64>)>> = vec![Vec::new(); n];
    for (j, s) in w.nodes.iter().enumerate() {
        for a in s.votes.locked.iter().filter(|a| a.index() < n) {
            holders[a.index()].push((NodeId(j as u32), s.votes.ts));
        }
    }
    (w.in_flight)(&mut |from, to, m| {
        if let (Msg::Locked { ts }, true) = (m, from.index() < n) {
            holders[from.index()].push((to, Some(*ts)));
        }
    });
    for (a, hs) in holders.iter().enumerate() {
        match hs.as_slice() {
            [] => {}
            [(j, ts)] => match w.nodes[a].arbiter.lock {
                Some(lock) if lock.node == *j && Some(lock.ts) == *ts => {}
                lock => return Err(format!("node {j} holds arbiter {a}'s lock for {ts:?}, lent to {lock:?}")),
            },
            _ => return Err(format!("arbiter {a}'s lock is held by {hs:?} (holder, request) at once")),
        }
    }
    Ok(())
}

/// A process in the CS holds the lock of every member of its quorum.
pub fn cs_with_all_locks(s: &Node) -> Result<(), String> {
    if s.cs.in_cs && s.votes.locked != s.quorum {
        return Err(format!("in the CS holding the locks of {:?} only", s.votes.locked));
    }
    Ok(())
}

/// R = Σ (K_i − 1) over the entries: one term per `enter_cs` of the process i that
/// entered (its identity is in the entry's value).
pub fn remote_members_per_entries(facts: &RunFacts<'_>) -> f64 {
    let Some(entries) = facts.outputs.get(cs::ENTER_CS) else { return 0.0 };
    let mut total = 0u64;
    for (value, count) in entries {
        let position = match value {
            OutputValue::Text(text) => parse_entry(text).and_then(|(_, id)| facts.idents.iter().position(|&x| x == id)),
            OutputValue::Int(_) => None,
        };
        if let Some(i) = position {
            total += count * quorums::size(facts.n, i).saturating_sub(1) as u64;
        }
    }
    total as f64
}

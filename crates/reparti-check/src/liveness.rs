//! Liveness: "eventually the run ends correctly", checked on the explicit state graph.
//!
//! Two notions are checked, and the report names them:
//! * **AG EF done** — from every reachable state, a correct final state (quiescent,
//!   every terminal property true) is still reachable: no run can paint itself into a
//!   corner. Computed by a backward search from the correct final states.
//! * **no cycle avoiding done** — no reachable cycle stays away from correct final
//!   states, so under any scheduler that is fair to the environment every run
//!   terminates (the property a terminating algorithm promises). Computed by a
//!   topological sort of the other states.
//!
//! **Fairness to the environment.** External inputs (a workload's requests) are the
//! environment's moves, and the environment is assumed weakly fair: an input that stays
//! applicable is applied eventually. A cycle never applies one (the count of inputs
//! applied is part of the state and only grows), so a cycle through states where an
//! input is still pending is a run that ignores the environment for ever, not a run
//! the algorithm can be blamed for: such states are left out of the cycle search. This
//! is what lets an algorithm whose activity never pauses while it waits for its
//! users — a token that keeps circling the ring until the next request — be judged
//! terminating when its users do come; a cycle once every input is applied is still
//! reported.
//!
//! **Fairness of channels.** Channels are reliable, so a message in transit is
//! delivered eventually (or lost, on a lossy network): a cycle along which some message
//! stays in transit in every state and is never delivered is a run that starves that
//! message for ever, not a run of the system. So the cycle search looks at the strongly
//! connected components of the states that are not done: a component holds a fair cycle
//! exactly when every message in transit in all of its states is delivered (or lost) by
//! some step inside it — the tour of all its steps is then such a cycle. This is what
//! lets Safra's token, which waits for nothing, lap the ring while a message is on its
//! way without being blamed for a run that never delivers it; a token that laps for
//! ever with nothing else to deliver is still reported. Timers carry no such promise: a
//! node may keep a timer pending while others go round for ever.
//!
//! The graph is built by a plain (unreduced) breadth-first search and kept in memory,
//! so this runs only on spaces up to the configured limit, and only while the graph
//! fits the memory budget (judged every 4096 states, the later passes' arrays
//! included); it stops when interrupted or out of time.

use crate::model::{Action, Model, StateOf};
use crate::search::{Limits, StopReason, Violated};
use crate::state::Packet;
use crate::state::{fingerprint, Fingerprint};
use reparti_core::Algorithm;
use std::collections::{HashMap, VecDeque};

/// The liveness verdicts.
pub struct Liveness {
    /// AG EF done: `None` when it holds, else a state (fingerprint) that cannot finish.
    pub stuck: Option<Fingerprint>,
    /// No cycle avoiding done: `None` when it holds, else a state on such a cycle.
    pub cycle: Option<Fingerprint>,
    /// States in the graph.
    pub states: usize,
}

impl Liveness {
    /// The first failure, as (kind, fingerprint).
    pub fn failure(&self) -> Option<(Violated, Fingerprint)> {
        self.stuck.map(|f| (Violated::Liveness, f)).or(self.cycle.map(|f| (Violated::Cycle, f)))
    }
}

/// Why liveness was not judged.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Skipped {
    /// More than the configured limit of states.
    TooBig,
    /// The graph would outgrow the memory budget.
    Memory,
    /// Interrupted, or out of time: the answer is cut short.
    Cut(StopReason),
}

/// Bytes per state of the graph and of the passes over it (ids table, fingerprint,
/// edge list header, predecessor list header, three flags and counters), by their sizes.
const PER_STATE: u64 = 40 + 16 + 24 + 24 + 1 + 1 + 1 + 4 + 4;
/// Bytes per edge: once as a successor, once as a predecessor, and what it delivers.
const PER_EDGE: u64 = 16;
/// Bytes per message in transit, remembered per state for the fairness of channels.
const PER_PACKET: u64 = 8;

/// Builds the graph and checks both notions, within `limit` states and `limits`.
pub fn check<A: Algorithm>(m: &Model<A>, limit: u64, wide: bool, limits: &Limits) -> Result<Liveness, Skipped> {
    let init = m.initial();
    let mut ids: HashMap<Fingerprint, u32> = HashMap::new();
    let mut fps: Vec<Fingerprint> = Vec::new();
    let mut edges: Vec<Vec<u32>> = Vec::new();
    let mut done: Vec<bool> = Vec::new();
    // States where an input is pending: no fair cycle passes through them.
    let mut waits_for_input: Vec<bool> = Vec::new();
    // For each state, the messages in transit (channel and content); for each edge, the
    // message it delivers or loses (0: none). For the fairness of channels.
    let mut in_transit: Vec<Box<[u64]>> = Vec::new();
    let mut handles: Vec<Vec<u64>> = Vec::new();
    let mut packets = 0u64;
    let mut queue: VecDeque<(StateOf<A>, u32)> = VecDeque::new();
    let f0 = fingerprint(&init, wide, m.fifo());
    ids.insert(f0, 0);
    fps.push(f0);
    edges.push(Vec::new());
    done.push(m.quiescent(&init) && m.violated_terminal(&init).is_none());
    waits_for_input.push(m.input_pending(&init));
    in_transit.push(transit_keys(&init));
    handles.push(Vec::new());
    queue.push_back((init, 0));
    let mut actions = Vec::new();
    let mut edge_count = 0u64;
    let queued = std::mem::size_of::<(StateOf<A>, u32)>() as u64;
    while let Some((s, id)) = queue.pop_front() {
        if id % 4096 == 0 {
            let bytes = fps.len() as u64 * PER_STATE
                + edge_count * PER_EDGE
                + packets * PER_PACKET
                + queue.len() as u64 * queued;
            match limits.reached(0, bytes) {
                Some(StopReason::Memory) => return Err(Skipped::Memory),
                Some(why @ (StopReason::Interrupted | StopReason::Time)) => return Err(Skipped::Cut(why)),
                _ => {}
            }
        }
        m.actions(&s, &mut actions);
        edge_count += actions.len() as u64;
        for &a in actions.iter() {
            let handled = match a {
                Action::Deliver(i) | Action::Drop(i) => s.net.get(i as usize).map_or(0, transit_key),
                _ => 0,
            };
            let t = m.step(&s, a, None).state;
            let f = fingerprint(&t, wide, m.fifo());
            let next = match ids.get(&f) {
                Some(&j) => j,
                None => {
                    if fps.len() as u64 >= limit {
                        return Err(Skipped::TooBig);
                    }
                    let j = fps.len() as u32;
                    ids.insert(f, j);
                    fps.push(f);
                    edges.push(Vec::new());
                    done.push(m.quiescent(&t) && m.violated_terminal(&t).is_none());
                    waits_for_input.push(m.input_pending(&t));
                    let keys = transit_keys(&t);
                    packets += keys.len() as u64;
                    in_transit.push(keys);
                    handles.push(Vec::new());
                    queue.push_back((t, j));
                    j
                }
            };
            edges[id as usize].push(next);
            handles[id as usize].push(handled);
        }
    }
    let n = fps.len();
    // AG EF done: states that can reach `done`, by a backward search.
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (a, out) in edges.iter().enumerate() {
        for &b in out {
            preds[b as usize].push(a as u32);
        }
    }
    let mut can_finish = done.clone();
    let mut work: Vec<u32> = (0..n as u32).filter(|&i| done[i as usize]).collect();
    while let Some(b) = work.pop() {
        for &a in &preds[b as usize] {
            if !can_finish[a as usize] {
                can_finish[a as usize] = true;
                work.push(a);
            }
        }
    }
    let stuck = (0..n).find(|&i| !can_finish[i]).map(|i| fps[i]);
    // A fair cycle among the states that are not done and wait for no input (see the
    // module doc on fairness): a strongly connected component that delivers every
    // message it keeps in transit throughout.
    let outside: Vec<bool> = done.iter().zip(&waits_for_input).map(|(&d, &w)| d || w).collect();
    let cycle = components(&edges, &outside).into_iter().find_map(|component| {
        let inside = |b: u32| component.binary_search(&(b as usize)).is_ok();
        let looped = component.len() > 1 || edges[component[0]].iter().any(|&b| b as usize == component[0]);
        if !looped {
            return None;
        }
        let mut persistent: Vec<u64> = in_transit[component[0]].to_vec();
        for &v in &component[1..] {
            persistent.retain(|k| in_transit[v].binary_search(k).is_ok());
        }
        let handled: std::collections::BTreeSet<u64> = component
            .iter()
            .flat_map(|&v| edges[v].iter().zip(&handles[v]).filter(|(&b, _)| inside(b)).map(|(_, &k)| k))
            .collect();
        persistent.iter().all(|k| handled.contains(k)).then(|| fps[component[0]])
    });
    Ok(Liveness { stuck, cycle, states: n })
}

/// A message in transit as the fairness of channels sees it: its channel and content.
fn transit_key<M>(p: &Packet<M>) -> u64 {
    let channel = (u64::from(p.from) << 32 | u64::from(p.to)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (p.key ^ channel).rotate_left(17).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1
}

/// The messages in transit in a state, sorted and without repeats.
fn transit_keys<N, M>(s: &crate::state::State<N, M>) -> Box<[u64]> {
    let mut keys: Vec<u64> = s.net.iter().map(transit_key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_boxed_slice()
}

/// The strongly connected components of the graph restricted to the states not
/// `outside`, each as its sorted states (Tarjan's algorithm, iterative).
fn components(edges: &[Vec<u32>], outside: &[bool]) -> Vec<Vec<usize>> {
    let n = edges.len();
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    let mut next_index = 0u32;
    // (state, position in its successor list)
    let mut calls: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if outside[root] || index[root] != UNSEEN {
            continue;
        }
        calls.push((root, 0));
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut k)) = calls.last_mut() {
            if let Some(&w) = edges[v].get(*k) {
                *k += 1;
                let w = w as usize;
                if outside[w] {
                    continue;
                }
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                found.push(component);
            }
        }
    }
    found
}

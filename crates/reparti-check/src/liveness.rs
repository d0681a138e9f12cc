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
//! The graph is built by a plain (unreduced) breadth-first search and kept in memory,
//! so this runs only on spaces up to the configured limit, and only while the graph
//! fits the memory budget (judged every 4096 states, the later passes' arrays
//! included); it stops when interrupted or out of time.

use crate::model::{Model, StateOf};
use crate::search::{Limits, StopReason, Violated};
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
/// Bytes per edge: once as a successor, once as a predecessor.
const PER_EDGE: u64 = 8;

/// Builds the graph and checks both notions, within `limit` states and `limits`.
pub fn check<A: Algorithm>(m: &Model<A>, limit: u64, wide: bool, limits: &Limits) -> Result<Liveness, Skipped> {
    let init = m.initial();
    let mut ids: HashMap<Fingerprint, u32> = HashMap::new();
    let mut fps: Vec<Fingerprint> = Vec::new();
    let mut edges: Vec<Vec<u32>> = Vec::new();
    let mut done: Vec<bool> = Vec::new();
    // States where an input is pending: no fair cycle passes through them.
    let mut waits_for_input: Vec<bool> = Vec::new();
    let mut queue: VecDeque<(StateOf<A>, u32)> = VecDeque::new();
    let f0 = fingerprint(&init, wide, m.fifo());
    ids.insert(f0, 0);
    fps.push(f0);
    edges.push(Vec::new());
    done.push(m.quiescent(&init) && m.violated_terminal(&init).is_none());
    waits_for_input.push(m.input_pending(&init));
    queue.push_back((init, 0));
    let mut actions = Vec::new();
    let mut edge_count = 0u64;
    let queued = std::mem::size_of::<(StateOf<A>, u32)>() as u64;
    while let Some((s, id)) = queue.pop_front() {
        if id % 4096 == 0 {
            let bytes = fps.len() as u64 * PER_STATE + edge_count * PER_EDGE + queue.len() as u64 * queued;
            match limits.reached(0, bytes) {
                Some(StopReason::Memory) => return Err(Skipped::Memory),
                Some(why @ (StopReason::Interrupted | StopReason::Time)) => return Err(Skipped::Cut(why)),
                _ => {}
            }
        }
        m.actions(&s, &mut actions);
        edge_count += actions.len() as u64;
        for &a in actions.iter() {
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
                    queue.push_back((t, j));
                    j
                }
            };
            edges[id as usize].push(next);
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
    // No cycle among the states that are not done and wait for no input (see the module
    // doc on fairness): Kahn's algorithm on that subgraph.
    let outside: Vec<bool> = done.iter().zip(&waits_for_input).map(|(&d, &w)| d || w).collect();
    let mut indegree = vec![0u32; n];
    for (a, out) in edges.iter().enumerate() {
        if outside[a] {
            continue;
        }
        for &b in out {
            if !outside[b as usize] {
                indegree[b as usize] += 1;
            }
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| !outside[i] && indegree[i] == 0).collect();
    let mut removed = 0usize;
    while let Some(a) = ready.pop() {
        removed += 1;
        for &b in &edges[a] {
            let b = b as usize;
            if !outside[b] {
                indegree[b] -= 1;
                if indegree[b] == 0 {
                    ready.push(b);
                }
            }
        }
    }
    let not_done = outside.iter().filter(|d| !**d).count();
    let cycle = if removed < not_done {
        // Every state left has a predecessor left; walking back n steps lands on a cycle.
        let left = |i: usize| !outside[i] && indegree[i] > 0;
        (0..n).find(|&i| left(i)).map(|mut v| {
            for _ in 0..n {
                match preds[v].iter().map(|&p| p as usize).find(|&p| left(p)) {
                    Some(p) => v = p,
                    None => break,
                }
            }
            fps[v]
        })
    } else {
        None
    };
    Ok(Liveness { stuck, cycle, states: n })
}

//! Liveness: "eventually the run ends correctly", checked on the explicit state graph.
//!
//! Two notions are checked, and the report names them:
//! * **AG EF done** — from every reachable state, a correct final state (quiescent,
//!   every terminal property true) is still reachable: no run can paint itself into a
//!   corner. Computed by a backward search from the correct final states.
//! * **no cycle avoiding done** — no reachable cycle stays away from correct final
//!   states, so under any scheduler every run terminates (the property a terminating
//!   algorithm promises). Computed by a topological sort of the other states.
//!
//! The graph is built by a plain (unreduced) breadth-first search and kept in memory,
//! so this runs only on spaces up to the configured limit.

use crate::model::{Model, StateOf};
use crate::search::Violated;
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

/// Builds the graph and checks both notions; `None` if it has more than `limit` states.
pub fn check<A: Algorithm>(m: &Model<A>, limit: u64, wide: bool) -> Option<Liveness> {
    let init = m.initial();
    let mut ids: HashMap<Fingerprint, u32> = HashMap::new();
    let mut fps: Vec<Fingerprint> = Vec::new();
    let mut edges: Vec<Vec<u32>> = Vec::new();
    let mut done: Vec<bool> = Vec::new();
    let mut queue: VecDeque<(StateOf<A>, u32)> = VecDeque::new();
    let f0 = fingerprint(&init, wide, m.fifo());
    ids.insert(f0, 0);
    fps.push(f0);
    edges.push(Vec::new());
    done.push(m.quiescent(&init) && m.violated_terminal(&init).is_none());
    queue.push_back((init, 0));
    let mut actions = Vec::new();
    while let Some((s, id)) = queue.pop_front() {
        m.actions(&s, &mut actions);
        for &a in actions.iter() {
            let t = m.step(&s, a, None).state;
            let f = fingerprint(&t, wide, m.fifo());
            let next = match ids.get(&f) {
                Some(&j) => j,
                None => {
                    if fps.len() as u64 >= limit {
                        return None;
                    }
                    let j = fps.len() as u32;
                    ids.insert(f, j);
                    fps.push(f);
                    edges.push(Vec::new());
                    done.push(m.quiescent(&t) && m.violated_terminal(&t).is_none());
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
    // No cycle among the states that are not done: Kahn's algorithm on that subgraph.
    let mut indegree = vec![0u32; n];
    for (a, out) in edges.iter().enumerate() {
        if done[a] {
            continue;
        }
        for &b in out {
            if !done[b as usize] {
                indegree[b as usize] += 1;
            }
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| !done[i] && indegree[i] == 0).collect();
    let mut removed = 0usize;
    while let Some(a) = ready.pop() {
        removed += 1;
        for &b in &edges[a] {
            let b = b as usize;
            if !done[b] {
                indegree[b] -= 1;
                if indegree[b] == 0 {
                    ready.push(b);
                }
            }
        }
    }
    let not_done = done.iter().filter(|d| !**d).count();
    let cycle = if removed < not_done {
        // Every state left has a predecessor left; walking back n steps lands on a cycle.
        let left = |i: usize| !done[i] && indegree[i] > 0;
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
    Some(Liveness { stuck, cycle, states: n })
}

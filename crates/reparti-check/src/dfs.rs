//! Depth-first search and random walks: little memory, and a counterexample that is
//! simply the current path (not necessarily the shortest: use BFS for that).

use crate::config::CheckConfig;
use crate::model::{Action, Model, StateOf};
use crate::search::{Found, Outcome, Progress, StopReason, Violated};
use crate::visited::{Insert, Visited};
use rand::Rng as _;
use reparti_core::Algorithm;
use std::time::Instant;

struct Frame<S> {
    state: S,
    actions: Vec<Action>,
    next: usize,
}

fn insert(visited: &mut Visited, fp: crate::state::Fingerprint) -> bool {
    loop {
        match visited.insert(fp) {
            Insert::New => {
                // Keep the table between half and three quarters full, as documented.
                visited.grow_if_needed();
                return true;
            }
            Insert::Seen => return false,
            Insert::Full => visited.grow_if_needed(),
        }
    }
}

fn outcome(
    started: Instant,
    generated: u64,
    visited: &Visited,
    max_depth: u64,
    stop: StopReason,
    found: Option<(Found, Vec<Action>)>,
    terminal_seen: bool,
) -> Outcome {
    let (found, path) = match found {
        Some((f, p)) => (Some(f), Some(p)),
        None => (None, None),
    };
    Outcome {
        generated,
        unique: visited.len(),
        max_depth,
        seconds: started.elapsed().as_secs_f64(),
        table_bytes: visited.bytes(),
        frontier_bytes: 0,
        collision_probability: visited.collision_probability(visited.len()),
        stop,
        found,
        path,
        por_broken: false,
        por_reduced: false,
        terminal_seen,
    }
}

/// Checks a state just reached: invariants, then terminal properties if it is final.
fn check<A: Algorithm>(
    m: &Model<A>,
    s: &StateOf<A>,
    step_violation: Option<(usize, String)>,
) -> Option<(Violated, String)> {
    if let Some((k, why)) = step_violation.or_else(|| m.violated_invariant(s)) {
        return Some((Violated::Invariant(k), why));
    }
    if m.quiescent(s) {
        if let Some((k, why)) = m.violated_terminal(s) {
            return Some((Violated::Terminal(k), why));
        }
    }
    None
}

pub(crate) fn dfs<A: Algorithm>(m: &Model<A>, cfg: &CheckConfig, progress: &(dyn Fn(&Progress) + Sync)) -> Outcome {
    let started = Instant::now();
    let wide = cfg.wide_fingerprints;
    let mut visited = Visited::new(wide);
    let init = m.initial(None);
    let init_fp = m.fingerprint(&init, wide);
    insert(&mut visited, init_fp);
    let mut terminal_seen = m.quiescent(&init);
    if let Some((v, why)) = check(m, &init, None) {
        let f = Found { violated: v, detail: why, fp: init_fp, depth: 0 };
        return outcome(started, 0, &visited, 0, StopReason::Violation, Some((f, Vec::new())), terminal_seen);
    }
    let mut actions = Vec::new();
    m.actions(&init, &mut actions);
    let mut stack = vec![Frame { state: init, actions: actions.clone(), next: 0 }];
    let mut path: Vec<Action> = Vec::new();
    let (mut generated, mut max_depth, mut cut) = (0u64, 0u64, false);
    while !stack.is_empty() {
        let depth = stack.len() as u64;
        let Some(top) = stack.last_mut() else { break };
        let Some(&a) = top.actions.get(top.next) else {
            stack.pop();
            path.pop();
            continue;
        };
        top.next += 1;
        let step = m.step(&top.state, a, None);
        generated += 1;
        let fp = m.fingerprint(&step.state, wide);
        if let Some(why) = step.violation.clone() {
            path.push(a);
            let f = Found { violated: Violated::Invariant(why.0), detail: why.1, fp, depth };
            return outcome(
                started,
                generated,
                &visited,
                max_depth.max(depth),
                StopReason::Violation,
                Some((f, path)),
                terminal_seen,
            );
        }
        if !insert(&mut visited, fp) {
            continue;
        }
        max_depth = max_depth.max(depth);
        terminal_seen |= m.quiescent(&step.state);
        if let Some((v, why)) = check(m, &step.state, None) {
            path.push(a);
            let f = Found { violated: v, detail: why, fp, depth };
            return outcome(
                started,
                generated,
                &visited,
                max_depth,
                StopReason::Violation,
                Some((f, path)),
                terminal_seen,
            );
        }
        if visited.len().is_multiple_of(65_536) {
            progress(&Progress {
                states: generated,
                unique: visited.len(),
                depth,
                seconds: started.elapsed().as_secs_f64(),
            });
            if cfg.max_seconds.is_some_and(|s| started.elapsed().as_secs_f64() >= s) {
                return outcome(started, generated, &visited, max_depth, StopReason::Time, None, terminal_seen);
            }
        }
        if cfg.max_states.is_some_and(|s| visited.len() >= s) {
            return outcome(started, generated, &visited, max_depth, StopReason::MaxStates, None, terminal_seen);
        }
        m.actions(&step.state, &mut actions);
        if cfg.max_depth.is_some_and(|d| depth >= d) {
            cut |= !actions.is_empty();
            continue;
        }
        path.push(a);
        stack.push(Frame { state: step.state, actions: actions.clone(), next: 0 });
    }
    let stop = if cut { StopReason::Depth } else { StopReason::Exhausted };
    outcome(started, generated, &visited, max_depth, stop, None, terminal_seen)
}

pub(crate) fn random_walks<A: Algorithm>(
    m: &Model<A>,
    cfg: &CheckConfig,
    walks: u64,
    depth: u64,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Outcome {
    let started = Instant::now();
    let wide = cfg.wide_fingerprints;
    let mut visited = Visited::new(wide);
    let mut rng = reparti_core::rng(cfg.seed);
    let init = m.initial(None);
    let (mut generated, mut max_depth, mut terminal_seen) = (0u64, 0u64, false);
    let mut actions = Vec::new();
    for walk in 0..walks {
        let mut s = init.clone();
        let mut path = Vec::new();
        insert(&mut visited, m.fingerprint(&s, wide));
        if let Some((v, why)) = check(m, &s, None) {
            let f = Found { violated: v, detail: why, fp: m.fingerprint(&s, wide), depth: 0 };
            return outcome(
                started,
                generated,
                &visited,
                max_depth,
                StopReason::Violation,
                Some((f, path)),
                terminal_seen,
            );
        }
        for d in 1..=depth {
            m.actions(&s, &mut actions);
            if actions.is_empty() {
                break;
            }
            let a = actions[rng.gen_range(0..actions.len())];
            let step = m.step(&s, a, None);
            generated += 1;
            path.push(a);
            max_depth = max_depth.max(d);
            let fp = m.fingerprint(&step.state, wide);
            insert(&mut visited, fp);
            if cfg.max_states.is_some_and(|limit| visited.len() >= limit) {
                return outcome(started, generated, &visited, max_depth, StopReason::MaxStates, None, terminal_seen);
            }
            terminal_seen |= m.quiescent(&step.state);
            if let Some((v, why)) = check(m, &step.state, step.violation) {
                let f = Found { violated: v, detail: why, fp, depth: d };
                return outcome(
                    started,
                    generated,
                    &visited,
                    max_depth,
                    StopReason::Violation,
                    Some((f, path)),
                    terminal_seen,
                );
            }
            s = step.state;
        }
        if walk % 64 == 0 {
            progress(&Progress {
                states: generated,
                unique: visited.len(),
                depth: max_depth,
                seconds: started.elapsed().as_secs_f64(),
            });
            if cfg.max_seconds.is_some_and(|t| started.elapsed().as_secs_f64() >= t) {
                return outcome(started, generated, &visited, max_depth, StopReason::Time, None, terminal_seen);
            }
        }
    }
    outcome(started, generated, &visited, max_depth, StopReason::Walks, None, terminal_seen)
}

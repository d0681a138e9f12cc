//! Breadth-first search, level by level, on any number of threads.
//!
//! Each level's states are expanded in batches; a batch is split among the threads,
//! whose outputs are appended in batch order, so one thread gives a deterministic
//! exploration and any number of threads gives the same set of states. The visited
//! table grows between batches. The first violation found at depth d is a shortest
//! one (every state of depth < d has been checked).

use crate::config::CheckConfig;
use crate::frontier::Frontier;
use crate::model::{Action, Model, StateOf};
use crate::por;
use crate::search::{Found, Outcome, Progress, Shared, StopReason, Violated};
use crate::state::{Fingerprint, NodeShares, State};
use crate::visited::{Insert, Visited};
use rayon::prelude::*;
use reparti_core::Algorithm;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// What one thread produced from a slice of the frontier.
struct Chunk<S> {
    next: Frontier<S>,
    retry: Vec<(Fingerprint, S)>,
    /// Spent successor states, recycled as buffers for the next ones.
    pool: Vec<S>,
}

pub(crate) fn bfs<A: Algorithm>(
    m: &Model<A>,
    cfg: &CheckConfig,
    use_por: bool,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Outcome {
    let started = Instant::now();
    let mut visited = Visited::new(cfg.wide_fingerprints);
    let shared = Shared::new(use_por);
    let init = m.initial();
    let packed = Frontier::packs(&init);
    let init_fp = m.fingerprint(&init, cfg.wide_fingerprints);
    visited.insert(init_fp);
    shared.check_new(m, &init, init_fp, 0);
    let mut frontier = Frontier::new(packed);
    frontier.push(&init);
    let mut depth = 0u64;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(cfg.threads.max(1)).build().ok();
    let threads = cfg.threads.max(1);
    let mut peak_frontier = 0usize;
    let mut stop = None;

    'levels: while !frontier.is_empty() {
        if shared.found.lock().map(|f| f.is_some()).unwrap_or(false) {
            stop = Some(StopReason::Violation);
            break;
        }
        let mut next = Frontier::new(packed);
        let batch = 4096 * threads;
        let mut start = 0;
        while start < frontier.len() {
            let end = (start + batch).min(frontier.len());
            let work = |range: std::ops::Range<usize>| {
                let mut out = Chunk { next: Frontier::new(packed), retry: Vec::new(), pool: Vec::new() };
                let mut actions = Vec::new();
                for i in range {
                    if shared.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Some(s) = frontier.get(i) {
                        expand(m, cfg, &shared, &visited, &s, depth, &mut actions, &mut out);
                    }
                }
                out
            };
            let chunks: Vec<Chunk<StateOf<A>>> = if threads == 1 {
                vec![work(start..end)]
            } else {
                let step = (end - start).div_ceil(threads * 4).max(64);
                let ranges: Vec<std::ops::Range<usize>> =
                    (start..end).step_by(step).map(|a| a..(a + step).min(end)).collect();
                match &pool {
                    Some(pool) => pool.install(|| ranges.into_par_iter().map(work).collect()),
                    None => ranges.into_iter().map(work).collect(),
                }
            };
            for c in chunks {
                next.append(c.next);
                for (fp, s) in c.retry {
                    visited.grow_if_needed();
                    if visited.insert(fp) == Insert::New {
                        shared.check_new(m, &s, fp, depth + 1);
                        next.push(&s);
                    }
                }
            }
            visited.grow_if_needed();
            start = end;
            peak_frontier = peak_frontier.max(frontier.bytes() + next.bytes());
            let unique = visited.len();
            progress(&Progress {
                states: shared.generated.load(Ordering::Relaxed),
                unique,
                depth: depth + 1,
                seconds: started.elapsed().as_secs_f64(),
            });
            if shared.stop.load(Ordering::Relaxed) {
                stop = Some(StopReason::Violation);
                break 'levels;
            }
            if cfg.max_states.is_some_and(|max| unique >= max) {
                stop = Some(StopReason::MaxStates);
                break 'levels;
            }
            if cfg.max_seconds.is_some_and(|max| started.elapsed().as_secs_f64() >= max) {
                stop = Some(StopReason::Time);
                break 'levels;
            }
        }
        if !next.is_empty() {
            depth += 1;
        }
        frontier = next;
    }
    let found = shared.found.lock().ok().and_then(|mut f| f.take());
    if found.is_some() {
        stop = Some(StopReason::Violation);
    }
    Outcome {
        generated: shared.generated.load(Ordering::Relaxed),
        unique: visited.len(),
        // A violation found while expanding level d lies at depth d + 1.
        max_depth: found.as_ref().map_or(depth, |f| f.depth.max(depth)),
        seconds: started.elapsed().as_secs_f64(),
        table_bytes: visited.bytes(),
        frontier_bytes: peak_frontier,
        collision_probability: visited.collision_probability(visited.len()),
        stop: stop.unwrap_or(if shared.cut.load(Ordering::Relaxed) {
            StopReason::Depth
        } else {
            StopReason::Exhausted
        }),
        found,
        path: None,
        por_broken: shared.por_broken.load(Ordering::Relaxed),
        por_reduced: shared.reduced.load(Ordering::Relaxed),
        terminal_seen: shared.terminal_seen.load(Ordering::Relaxed),
    }
}

/// Expands one state: terminal checks if it is final, then its (reduced) successors.
#[allow(clippy::too_many_arguments)]
fn expand<A: Algorithm>(
    m: &Model<A>,
    cfg: &CheckConfig,
    shared: &Shared,
    visited: &Visited,
    s: &StateOf<A>,
    depth: u64,
    actions: &mut Vec<Action>,
    out: &mut Chunk<StateOf<A>>,
) {
    m.actions(s, actions);
    if m.quiescent(s) {
        // Its terminal properties were checked when it was discovered.
        return;
    }
    if cfg.max_depth.is_some_and(|d| depth >= d) {
        if !actions.is_empty() {
            shared.cut.store(true, Ordering::Relaxed);
        }
        return;
    }
    let mut done: Vec<Action> = Vec::new();
    if shared.por.load(Ordering::Relaxed) {
        if let Some(ample) = por::candidate(m, s, actions) {
            let mut keep = true;
            let mut succs = Vec::with_capacity(ample.len());
            for &a in &ample {
                let step = m.step(s, a, None);
                if step.off_topology {
                    shared.por_broken.store(true, Ordering::Relaxed);
                    shared.stop.store(true, Ordering::Relaxed);
                    return;
                }
                let p = m.actor(s, a);
                keep &= por::invisible(m, s, &step.state, p);
                let fp = m.fingerprint(&step.state, cfg.wide_fingerprints);
                keep &= !visited.contains(fp);
                succs.push((step, fp));
            }
            for (step, fp) in succs {
                shared.generated.fetch_add(1, Ordering::Relaxed);
                if let Some(spent) = admit(m, shared, visited, step.state, step.violation, fp, depth + 1, out) {
                    out.pool.push(spent);
                }
            }
            if keep {
                shared.reduced.store(true, Ordering::Relaxed);
                return;
            }
            done = ample;
        }
    }
    // Fingerprint every successor first (re-hashing only the node that moved), ask the
    // memory for their table slots, then insert: the cache misses overlap.
    let shares = m.symmetry.is_none().then(|| NodeShares::of(s, cfg.wide_fingerprints));
    let mut succs = Vec::with_capacity(actions.len());
    for &a in actions.iter() {
        if done.contains(&a) {
            continue;
        }
        let buffer = out.pool.pop().unwrap_or_else(State::empty);
        let step = m.step_into(s, a, None, buffer);
        if step.off_topology && shared.por.load(Ordering::Relaxed) {
            shared.por_broken.store(true, Ordering::Relaxed);
            shared.stop.store(true, Ordering::Relaxed);
            return;
        }
        let fp = match &shares {
            Some(sh) => sh.successor(&step.state, m.actor(s, a) as usize, cfg.wide_fingerprints, m.fifo()),
            None => m.fingerprint(&step.state, cfg.wide_fingerprints),
        };
        visited.prefetch(fp);
        succs.push((step, fp));
    }
    shared.generated.fetch_add(succs.len() as u64, Ordering::Relaxed);
    for (step, fp) in succs {
        if let Some(spent) = admit(m, shared, visited, step.state, step.violation, fp, depth + 1, out) {
            out.pool.push(spent);
        }
    }
}

/// Records a successor: a delivery violation, or a new state to check and expand later.
/// Gives the state back when it is not kept, so that its buffer can be reused.
#[allow(clippy::too_many_arguments)]
fn admit<A: Algorithm>(
    m: &Model<A>,
    shared: &Shared,
    visited: &Visited,
    state: StateOf<A>,
    violation: Option<(usize, String)>,
    fp: Fingerprint,
    depth: u64,
    out: &mut Chunk<StateOf<A>>,
) -> Option<StateOf<A>> {
    if let Some((k, why)) = violation {
        shared.report(Found { violated: Violated::Invariant(k), detail: why, fp, depth });
        return Some(state);
    }
    match visited.insert(fp) {
        Insert::New => {
            shared.check_new(m, &state, fp, depth);
            out.next.push(&state);
            Some(state)
        }
        Insert::Seen => Some(state),
        Insert::Full => {
            out.retry.push((fp, state));
            None
        }
    }
}

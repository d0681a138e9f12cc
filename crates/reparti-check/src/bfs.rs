//! Breadth-first search, level by level, on any number of threads.
//!
//! Each level's states are expanded in batches; a batch is split among the threads,
//! whose outputs are appended in batch order, so one thread gives a deterministic
//! exploration and any number of threads gives the same set of states. The visited
//! table grows between batches. The first violation found at depth d is a shortest
//! one (every state of depth < d has been checked).
//!
//! Between batches the search judges its limits (interrupt, memory budget, states,
//! time). The memory budget is judged before the table grows, and within a batch each
//! thread stops once its output (packed successors) takes its share of the room left:
//! a batch of wide states can produce far more bytes than the whole frontier before it,
//! so judging only between batches would overshoot. A search that cannot fit thus
//! stops with a partial report instead of being killed.

use crate::config::CheckConfig;
use crate::frontier::{Frontier, Reader};
use crate::model::{Action, Model, StateOf};
use crate::packing::{Like, Packable};
use crate::por;
use crate::probe::Probe;
use crate::search::{Found, Limits, Outcome, Progress, Shared, StopReason, Violated};
use crate::state::{Fingerprint, NodeShares, State};
use crate::visited::{Insert, Visited};
use rayon::prelude::*;
use reparti_core::Algorithm;
use std::sync::atomic::Ordering;

/// What one thread produced from a slice of the frontier.
struct Chunk<A: Algorithm, S> {
    next: Frontier<S>,
    /// New successors the table was too full to take during the batch (it grows only
    /// between batches), packed like the frontier, with their fingerprints.
    retry: Frontier<S>,
    retry_fps: Vec<Fingerprint>,
    /// Spent successor states, recycled as buffers for the next ones.
    pool: Vec<S>,
    /// States of the slice expanded.
    expanded: u64,
    /// Successors generated, added to the shared count once per chunk: a counter
    /// written by every thread at every state would keep its cache line (and the
    /// flags beside it, read at every state) moving between the cores.
    generated: u64,
    /// Probe buffers, reused from one expanded state to the next.
    probes: Vec<Probe<A>>,
    /// Which of an expanded state's successors were probed, reused likewise.
    probed_in_order: Vec<bool>,
}

impl<A: Algorithm, S: Packable> Chunk<A, S> {
    fn new(packed: bool) -> Self {
        Chunk {
            next: Frontier::new(packed),
            retry: Frontier::new(packed),
            retry_fps: Vec::new(),
            pool: Vec::new(),
            expanded: 0,
            generated: 0,
            probes: Vec::new(),
            probed_in_order: Vec::new(),
        }
    }

    /// Bytes this chunk holds besides its few recycled buffers.
    fn bytes(&self) -> u64 {
        (self.next.bytes() + self.retry.bytes() + std::mem::size_of_val(self.retry_fps.as_slice())) as u64
    }
}

pub(crate) fn bfs<A: Algorithm>(
    m: &Model<A>,
    cfg: &CheckConfig,
    use_por: bool,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Outcome {
    let limits = Limits::new(cfg);
    let mut visited = Visited::for_search(cfg);
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
    let growers = pool.as_ref().filter(|_| threads > 1);
    let mut peak_frontier = 0usize;
    let mut peak_memory = 0u64;
    // Bytes of output, and new states, per expanded state in the last batch: near the
    // budget, or when the table could not take a whole batch (it grows only between
    // batches, and what it cannot take waits, packed, in a retry list), batches shrink
    // so that the next one is expected to fit.
    let mut per_state = 0u64;
    let mut new_per_state = 0.0f64;
    let mut stop = None;

    'levels: while !frontier.is_empty() {
        if shared.found.lock().map(|f| f.is_some()).unwrap_or(false) {
            stop = Some(StopReason::Violation);
            break;
        }
        let mut next = Frontier::new(packed);
        let mut start = 0;
        // Slices a chunk left when it reached its share of the budget, to expand next.
        let mut leftovers: Vec<std::ops::Range<usize>> = Vec::new();
        while start < frontier.len() || !leftovers.is_empty() {
            let in_use = (visited.bytes() + frontier.bytes() + next.bytes()) as u64;
            // Half the room: appending a chunk to the next level holds its bytes twice
            // for a moment. A batch aims at half of that, leaving a margin for error.
            let room = limits.budget.saturating_sub(in_use) / 2;
            let fits = (room / 2).checked_div(per_state).unwrap_or(u64::MAX);
            if fits == 0 {
                stop = Some(StopReason::Memory);
                break 'levels;
            }
            let by_table = if new_per_state > 0.0 {
                (visited.room() as f64 / (new_per_state * 1.25)).max(64.0) as usize
            } else {
                usize::MAX
            };
            let batch = (4096 * threads).min(usize::try_from(fits).unwrap_or(usize::MAX)).min(by_table);
            let unique_before = visited.len();
            let ranges: Vec<std::ops::Range<usize>> = if leftovers.is_empty() {
                let end = (start + batch).min(frontier.len());
                let step = if threads == 1 { end - start } else { (end - start).div_ceil(threads * 4).max(64) };
                let ranges = (start..end).step_by(step.max(1)).map(|a| a..(a + step).min(end)).collect();
                start = end;
                ranges
            } else {
                std::mem::take(&mut leftovers)
            };
            // Past its share a chunk stops; the rest of its slice waits for a later batch.
            let share = room / ranges.len().max(1) as u64;
            shared.over_budget.store(false, Ordering::Relaxed);
            let work = |range: std::ops::Range<usize>| {
                let mut out = Chunk::new(packed);
                let mut actions = Vec::new();
                let mut reader = Reader::new(State::empty(), State::empty());
                for i in range {
                    if shared.stop.load(Ordering::Relaxed)
                        || shared.over_budget.load(Ordering::Relaxed)
                        || limits.interrupted()
                    {
                        break;
                    }
                    if let Some((s, like)) = frontier.read(i, &mut reader) {
                        expand(m, cfg, &shared, &visited, s, like, depth, &mut actions, &mut out);
                    }
                    out.expanded += 1;
                    if out.bytes() > share {
                        shared.over_budget.store(true, Ordering::Relaxed);
                        break;
                    }
                }
                out
            };
            let chunks: Vec<Chunk<A, StateOf<A>>> = match &pool {
                Some(pool) if threads > 1 => pool.install(|| ranges.clone().into_par_iter().map(work).collect()),
                _ => ranges.iter().cloned().map(work).collect(),
            };
            for (r, c) in ranges.iter().zip(&chunks) {
                let done = r.start + usize::try_from(c.expanded).unwrap_or(usize::MAX).min(r.len());
                if done < r.end {
                    leftovers.push(done..r.end);
                }
            }
            let expanded: u64 = chunks.iter().map(|c| c.expanded).sum();
            shared.generated.fetch_add(chunks.iter().map(|c| c.generated).sum(), Ordering::Relaxed);
            if expanded == 0 && shared.over_budget.load(Ordering::Relaxed) {
                // Not one state's successors fit in what is left.
                stop = Some(StopReason::Memory);
                break 'levels;
            }
            let produced: u64 = chunks.iter().map(Chunk::bytes).sum();
            // A chunk stops only after a state's successors took it past its share, and
            // one state can have many more than the average the batch was sized on: what
            // would take the stored levels past the budget is not kept.
            let stored = (visited.bytes() + frontier.bytes() + next.bytes()) as u64;
            if stored + produced > limits.budget {
                stop = Some(StopReason::Memory);
                break 'levels;
            }
            per_state = produced.div_ceil(expanded.max(1));
            // The chunks not appended yet, and this one's retry list, are still held
            // while the table grows for a retried state.
            let mut pending = produced;
            for c in chunks {
                let retry_bytes = c.bytes() - c.next.bytes() as u64;
                pending -= c.bytes();
                next.append(c.next);
                for (k, &fp) in c.retry_fps.iter().enumerate() {
                    let Some(s) = c.retry.get(k) else { continue };
                    let lists = (frontier.bytes() + next.bytes()) as u64 + pending + retry_bytes;
                    if !limits.grow(&mut visited, lists, &mut peak_memory, growers) {
                        stop = Some(StopReason::Memory);
                        break 'levels;
                    }
                    if visited.insert(fp) == Insert::New {
                        shared.check_new(m, &s, fp, depth + 1);
                        next.push(&s);
                    }
                }
            }
            let lists = (frontier.bytes() + next.bytes()) as u64;
            if !limits.grow(&mut visited, lists, &mut peak_memory, growers) {
                stop = Some(StopReason::Memory);
                break 'levels;
            }
            peak_frontier = peak_frontier.max(frontier.bytes() + next.bytes());
            let in_use = visited.bytes() as u64 + lists;
            peak_memory = peak_memory.max(in_use);
            let unique = visited.len();
            new_per_state = (unique - unique_before) as f64 / expanded.max(1) as f64;
            progress(&Progress {
                states: shared.generated.load(Ordering::Relaxed),
                unique,
                depth: depth + 1,
                seconds: limits.started.elapsed().as_secs_f64(),
                memory_bytes: in_use,
            });
            if shared.stop.load(Ordering::Relaxed) {
                stop = Some(StopReason::Violation);
                break 'levels;
            }
            if let Some(why) = limits.reached(unique, in_use) {
                stop = Some(why);
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
        seconds: limits.started.elapsed().as_secs_f64(),
        table_bytes: visited.bytes(),
        frontier_bytes: peak_frontier,
        memory_peak: peak_memory,
        collision_probability: visited.collision_probability(visited.len()),
        bitstate: visited.bitstate_report(),
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
    like: Option<Like<'_, StateOf<A>>>,
    depth: u64,
    actions: &mut Vec<Action>,
    out: &mut Chunk<A, StateOf<A>>,
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
                out.generated += 1;
                let spent = admit(m, shared, visited, step.state, step.violation, fp, depth + 1, like, out);
                out.pool.push(spent);
            }
            if keep {
                shared.reduced.store(true, Ordering::Relaxed);
                return;
            }
            done = ample;
        }
    }
    // Fingerprint every successor first (re-hashing only the node that moved), ask the
    // memory for their table slots, then insert: the cache misses overlap. Where a probe
    // applies, a successor is built only once found new.
    let shares = m.symmetry.is_none().then(|| NodeShares::of(s, cfg.wide_fingerprints, m.fifo()));
    let probing = Probe::applies(m, s, cfg.wide_fingerprints);
    // Which successors were probed, in the actions' order, and the fully stepped ones
    // apart: a list of whole steps with an empty slot per probe would move a step's
    // worth of bytes for every probed successor.
    let mut probed_in_order = std::mem::take(&mut out.probed_in_order);
    probed_in_order.clear();
    let mut full_steps = Vec::new();
    let mut probes = std::mem::take(&mut out.probes);
    let mut used = 0;
    for &a in actions.iter() {
        if done.contains(&a) {
            continue;
        }
        if let (true, Some(sh)) = (probing, &shares) {
            if used == probes.len() {
                probes.push(Probe::empty());
            }
            if probes[used].run(m, s, sh, a) {
                if probes[used].off_topology && shared.por.load(Ordering::Relaxed) {
                    shared.por_broken.store(true, Ordering::Relaxed);
                    shared.stop.store(true, Ordering::Relaxed);
                    out.probes = probes;
                    return;
                }
                visited.prefetch(probes[used].fp);
                used += 1;
                probed_in_order.push(true);
                continue;
            }
        }
        let buffer = out.pool.pop().unwrap_or_else(State::empty);
        let step = m.step_into(s, a, None, buffer);
        if step.off_topology && shared.por.load(Ordering::Relaxed) {
            shared.por_broken.store(true, Ordering::Relaxed);
            shared.stop.store(true, Ordering::Relaxed);
            out.probes = probes;
            return;
        }
        let fp = match &shares {
            Some(sh) => sh.successor(&step.state, m.actor(s, a) as usize, cfg.wide_fingerprints, m.fifo()),
            None => m.fingerprint(&step.state, cfg.wide_fingerprints),
        };
        visited.prefetch(fp);
        full_steps.push((step, fp));
        probed_in_order.push(false);
    }
    out.generated += probed_in_order.len() as u64;
    // In the actions' order, probed or not: the next level's order stays what the full
    // steps alone gave.
    let mut probed = probes[..used].iter();
    let mut full = full_steps.into_iter();
    for &was_probed in &probed_in_order {
        if was_probed {
            let Some(probe) = probed.next() else { continue };
            admit_probed(m, shared, visited, s, probe, depth + 1, like, out);
        } else {
            let Some((step, fp)) = full.next() else { continue };
            let spent = admit(m, shared, visited, step.state, step.violation, fp, depth + 1, like, out);
            out.pool.push(spent);
        }
    }
    out.probes = probes;
    out.probed_in_order = probed_in_order;
}

/// Records a probed successor: built only if new (or waiting for a larger table).
#[allow(clippy::too_many_arguments)]
fn admit_probed<A: Algorithm>(
    m: &Model<A>,
    shared: &Shared,
    visited: &Visited,
    parent: &StateOf<A>,
    probe: &Probe<A>,
    depth: u64,
    like: Option<Like<'_, StateOf<A>>>,
    out: &mut Chunk<A, StateOf<A>>,
) {
    let fresh = visited.insert(probe.fp);
    if fresh == Insert::Seen {
        return;
    }
    let buffer = out.pool.pop().unwrap_or_else(State::empty);
    let state = probe.build(m, parent, buffer);
    debug_assert_eq!(m.fingerprint(&state, false), probe.fp, "a probe's fingerprint is its successor's");
    if fresh == Insert::New {
        shared.check_new(m, &state, probe.fp, depth);
        out.next.push_like(&state, like);
    } else {
        out.retry_fps.push(probe.fp);
        out.retry.push_like(&state, like);
    }
    out.pool.push(state);
}

/// Records a successor: a delivery violation, a new state to check and expand later
/// (packed into the next level, or into the retry list when the table is too full), or
/// a state seen before. Gives the state back, so that its buffer can be reused.
#[allow(clippy::too_many_arguments)]
fn admit<A: Algorithm>(
    m: &Model<A>,
    shared: &Shared,
    visited: &Visited,
    state: StateOf<A>,
    violation: Option<(usize, String)>,
    fp: Fingerprint,
    depth: u64,
    like: Option<Like<'_, StateOf<A>>>,
    out: &mut Chunk<A, StateOf<A>>,
) -> StateOf<A> {
    if let Some((k, why)) = violation {
        shared.report(Found { violated: Violated::Invariant(k), detail: why, fp, depth });
        return state;
    }
    match visited.insert(fp) {
        Insert::New => {
            shared.check_new(m, &state, fp, depth);
            out.next.push_like(&state, like);
        }
        Insert::Seen => {}
        Insert::Full => {
            out.retry_fps.push(fp);
            out.retry.push_like(&state, like);
        }
    }
    state
}

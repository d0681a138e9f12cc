//! Depth-first search and random walks: little memory, and a counterexample that is
//! simply the current path (not necessarily the shortest: use BFS for that).
//!
//! Both poll the interrupt flag every 4096 steps and judge the memory budget before
//! the visited table grows (the DFS stack counted by its frames' inline size).

use crate::config::CheckConfig;
use crate::model::{Action, Model, StateOf};
use crate::search::{Found, Limits, Outcome, Progress, StopReason, Violated};
use crate::state::Fingerprint;
use crate::visited::{Insert, Visited};
use rand::seq::SliceRandom as _;
use rand::Rng as _;
use reparti_core::Algorithm;

struct Frame<S> {
    state: S,
    actions: Vec<Action>,
    next: usize,
}

/// Bytes a stack frame takes besides what its state owns on the heap.
fn frame_bytes<S>(actions: &[Action]) -> u64 {
    (std::mem::size_of::<Frame<S>>() + std::mem::size_of_val(actions)) as u64
}

/// What a depth-first search or a set of walks has counted so far.
struct Tally<'a> {
    limits: Limits<'a>,
    visited: Visited,
    generated: u64,
    max_depth: u64,
    terminal_seen: bool,
    /// Bytes of the DFS stack (0 for walks, whose one path is small).
    stack_bytes: u64,
    peak: u64,
}

impl<'a> Tally<'a> {
    fn new(cfg: &'a CheckConfig) -> Self {
        Tally {
            limits: Limits::new(cfg),
            visited: Visited::for_search(cfg),
            generated: 0,
            max_depth: 0,
            terminal_seen: false,
            stack_bytes: 0,
            peak: 0,
        }
    }

    fn in_use(&self) -> u64 {
        self.visited.bytes() as u64 + self.stack_bytes
    }

    fn progress(&self, progress: &(dyn Fn(&Progress) + Sync), depth: u64) {
        let seconds = self.limits.started.elapsed().as_secs_f64();
        let memory_bytes = self.in_use();
        progress(&Progress { states: self.generated, unique: self.visited.len(), depth, seconds, memory_bytes });
    }

    fn out_of_time(&self) -> bool {
        self.limits.out_of_time()
    }

    fn out_of_states(&self, cfg: &CheckConfig) -> bool {
        cfg.max_states.is_some_and(|s| self.visited.len() >= s)
    }

    /// Every 4096 steps: interrupted, or over the memory budget?
    fn poll(&mut self) -> Option<StopReason> {
        if !self.generated.is_multiple_of(4096) {
            return None;
        }
        let bytes = self.in_use();
        self.peak = self.peak.max(bytes);
        match self.limits.reached(0, bytes) {
            Some(why @ (StopReason::Interrupted | StopReason::Memory)) => Some(why),
            _ => None,
        }
    }

    /// Inserts `fp`: whether it was new, or `Err` when the table is due to grow and the
    /// budget has no room for the new table.
    fn insert(&mut self, fp: Fingerprint) -> Result<bool, StopReason> {
        // Keep the table between half and three quarters full, as documented: grow
        // before inserting once it is due.
        if !self.limits.grow(&mut self.visited, self.stack_bytes, &mut self.peak, None) {
            return Err(StopReason::Memory);
        }
        loop {
            match self.visited.insert(fp) {
                Insert::New => return Ok(true),
                Insert::Seen => return Ok(false),
                // Not met in practice: the table grows at three quarters, `Full` is 92 %.
                Insert::Full => self.visited.grow_if_needed(),
            }
        }
    }

    /// The outcome, stopped for `stop`, with the violation and the path to it if any.
    fn end(self, stop: StopReason, found: Option<(Found, Vec<Action>)>) -> Outcome {
        let (found, path) = match found {
            Some((f, p)) => (Some(f), Some(p)),
            None => (None, None),
        };
        Outcome {
            generated: self.generated,
            unique: self.visited.len(),
            max_depth: self.max_depth,
            seconds: self.limits.started.elapsed().as_secs_f64(),
            table_bytes: self.visited.bytes(),
            frontier_bytes: 0,
            memory_peak: self.peak.max(self.in_use()),
            collision_probability: self.visited.collision_probability(self.visited.len()),
            bitstate: self.visited.bitstate_report(),
            stop,
            found,
            path,
            por_broken: false,
            por_reduced: false,
            terminal_seen: self.terminal_seen,
        }
    }

    fn violation(self, violated: Violated, detail: String, fp: Fingerprint, depth: u64, path: Vec<Action>) -> Outcome {
        self.end(StopReason::Violation, Some((Found { violated, detail, fp, depth }, path)))
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
    let wide = cfg.wide_fingerprints;
    let mut t = Tally::new(cfg);
    let init = m.initial();
    let init_fp = m.fingerprint(&init, wide);
    if let Err(why) = t.insert(init_fp) {
        return t.end(why, None);
    }
    t.terminal_seen = m.quiescent(&init);
    if let Some((v, why)) = check(m, &init, None) {
        return t.violation(v, why, init_fp, 0, Vec::new());
    }
    // A swarm's members differ by the order in which they try successors: with a
    // search seed, each state's actions are shuffled before they are tried.
    let mut order = cfg.search_seed.map(reparti_core::rng);
    let mut actions = Vec::new();
    m.actions(&init, &mut actions);
    if let Some(rng) = order.as_mut() {
        actions.shuffle(rng);
    }
    t.stack_bytes = frame_bytes::<StateOf<A>>(&actions);
    let mut stack = vec![Frame { state: init, actions: actions.clone(), next: 0 }];
    let mut path: Vec<Action> = Vec::new();
    let mut cut = false;
    while !stack.is_empty() {
        let depth = stack.len() as u64;
        let Some(top) = stack.last_mut() else { break };
        let Some(&a) = top.actions.get(top.next) else {
            t.stack_bytes = t.stack_bytes.saturating_sub(frame_bytes::<StateOf<A>>(&top.actions));
            stack.pop();
            path.pop();
            continue;
        };
        top.next += 1;
        let step = m.step(&top.state, a, None);
        t.generated += 1;
        if let Some(why) = t.poll() {
            return t.end(why, None);
        }
        let fp = m.fingerprint(&step.state, wide);
        if let Some((k, why)) = step.violation {
            path.push(a);
            t.max_depth = t.max_depth.max(depth);
            return t.violation(Violated::Invariant(k), why, fp, depth, path);
        }
        match t.insert(fp) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(why) => return t.end(why, None),
        }
        t.max_depth = t.max_depth.max(depth);
        t.terminal_seen |= m.quiescent(&step.state);
        if let Some((v, why)) = check(m, &step.state, None) {
            path.push(a);
            return t.violation(v, why, fp, depth, path);
        }
        if t.visited.len().is_multiple_of(65_536) {
            t.progress(progress, depth);
            if t.out_of_time() {
                return t.end(StopReason::Time, None);
            }
        }
        if t.out_of_states(cfg) {
            return t.end(StopReason::MaxStates, None);
        }
        m.actions(&step.state, &mut actions);
        if let Some(rng) = order.as_mut() {
            actions.shuffle(rng);
        }
        if cfg.max_depth.is_some_and(|d| depth >= d) {
            cut |= !actions.is_empty();
            continue;
        }
        path.push(a);
        t.stack_bytes += frame_bytes::<StateOf<A>>(&actions);
        stack.push(Frame { state: step.state, actions: actions.clone(), next: 0 });
    }
    t.end(if cut { StopReason::Depth } else { StopReason::Exhausted }, None)
}

pub(crate) fn random_walks<A: Algorithm>(
    m: &Model<A>,
    cfg: &CheckConfig,
    walks: u64,
    depth: u64,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Outcome {
    let wide = cfg.wide_fingerprints;
    let mut t = Tally::new(cfg);
    let mut rng = reparti_core::rng(cfg.search_seed.unwrap_or(cfg.seed));
    let init = m.initial();
    let mut actions = Vec::new();
    for walk in 0..walks {
        let mut s = init.clone();
        let mut path = Vec::new();
        let init_fp = m.fingerprint(&s, wide);
        if let Err(why) = t.insert(init_fp) {
            return t.end(why, None);
        }
        if let Some((v, why)) = check(m, &s, None) {
            return t.violation(v, why, init_fp, 0, path);
        }
        for d in 1..=depth {
            m.actions(&s, &mut actions);
            if actions.is_empty() {
                break;
            }
            let a = actions[rng.gen_range(0..actions.len())];
            let step = m.step(&s, a, None);
            t.generated += 1;
            if let Some(why) = t.poll() {
                return t.end(why, None);
            }
            path.push(a);
            t.max_depth = t.max_depth.max(d);
            let fp = m.fingerprint(&step.state, wide);
            if let Err(why) = t.insert(fp) {
                return t.end(why, None);
            }
            if t.out_of_states(cfg) {
                return t.end(StopReason::MaxStates, None);
            }
            t.terminal_seen |= m.quiescent(&step.state);
            if let Some((v, why)) = check(m, &step.state, step.violation) {
                return t.violation(v, why, fp, d, path);
            }
            s = step.state;
        }
        if t.limits.interrupted() {
            return t.end(StopReason::Interrupted, None);
        }
        if walk % 64 == 0 {
            t.progress(progress, t.max_depth);
            if t.out_of_time() {
                return t.end(StopReason::Time, None);
            }
        }
    }
    t.end(StopReason::Walks, None)
}

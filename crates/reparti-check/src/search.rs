//! What every search strategy shares: the record of a violation, stop flags and
//! counters, the limits every strategy polls (interrupt, memory budget, states, time),
//! the outcome, and the shortest-path search that turns a violation into a
//! counterexample.

use crate::config::CheckConfig;
use crate::model::{Action, Model, StateOf};
use crate::state::{fingerprint, Fingerprint};
use crate::visited::Visited;
use reparti_core::Algorithm;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Which property failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Violated {
    /// The invariant at this index (a state or a delivery violated it).
    Invariant(usize),
    /// The terminal property at this index (a final state violated it).
    Terminal(usize),
    /// A reachable state from which no correct final state is reachable any more.
    Liveness,
    /// A cycle of states that never reaches a correct final state.
    Cycle,
}

/// A violation, as first seen.
#[derive(Clone, Debug)]
pub struct Found {
    /// Which property.
    pub violated: Violated,
    /// Why.
    pub detail: String,
    /// The offending state (for a delivery, the state after it).
    pub fp: Fingerprint,
    /// Its depth.
    pub depth: u64,
}

/// Why a search stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every reachable state was explored.
    Exhausted,
    /// Every state up to `--max-depth` was explored; deeper ones were not.
    Depth,
    /// A property was violated.
    Violation,
    /// `--max-states` was reached.
    MaxStates,
    /// The time limit was reached.
    Time,
    /// Every random walk was taken.
    Walks,
    /// The visited set and the frontier would have outgrown the memory budget.
    Memory,
    /// The interrupt flag was set (Ctrl-C on the command line).
    Interrupted,
    /// Every state the bitstate array took for new was explored; others it took for
    /// visited ones were not (a partial search, its coverage estimated).
    Bitstate,
}

/// The limits a search polls, in the order they are judged: the interrupt flag, the
/// memory budget, the state limit, the clock. Read-only, so shared by the threads.
pub(crate) struct Limits<'a> {
    pub started: Instant,
    max_states: Option<u64>,
    max_seconds: Option<f64>,
    /// Bytes the visited set and the frontier (or stack, or graph) may take.
    pub budget: u64,
    interrupt: Option<&'a AtomicBool>,
}

impl<'a> Limits<'a> {
    /// The limits of `cfg`, the clock starting now. `cfg.max_memory` is resolved by
    /// then (see `check`); unresolved, it sets no budget.
    pub fn new(cfg: &'a CheckConfig) -> Self {
        Limits {
            started: Instant::now(),
            max_states: cfg.max_states,
            max_seconds: cfg.max_seconds,
            budget: cfg.max_memory.unwrap_or(u64::MAX),
            interrupt: cfg.interrupt.as_deref(),
        }
    }

    /// Whether someone asked the search to stop.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// Whether the time limit has passed.
    pub fn out_of_time(&self) -> bool {
        self.max_seconds.is_some_and(|max| self.started.elapsed().as_secs_f64() >= max)
    }

    /// The first limit reached with `unique` states explored and `bytes` about to be
    /// in use (interrupt, memory, states, time); `None` to go on.
    pub fn reached(&self, unique: u64, bytes: u64) -> Option<StopReason> {
        if self.interrupted() {
            Some(StopReason::Interrupted)
        } else if bytes > self.budget {
            Some(StopReason::Memory)
        } else if self.max_states.is_some_and(|max| unique >= max) {
            Some(StopReason::MaxStates)
        } else if self.out_of_time() {
            Some(StopReason::Time)
        } else {
            None
        }
    }

    /// Grows `visited` if it is due, unless the old and the new table together with
    /// `other` bytes would not fit the budget: then leaves it as it is and returns
    /// false. The budget is judged before allocating, so a search that cannot fit
    /// stops instead of being killed. `peak` records the bytes in use during growth.
    pub fn grow(&self, visited: &mut Visited, other: u64, peak: &mut u64, pool: Option<&rayon::ThreadPool>) -> bool {
        if !visited.growth_due() {
            return true;
        }
        let during = (visited.bytes() + visited.grown_bytes()) as u64 + other;
        if during > self.budget {
            return false;
        }
        *peak = (*peak).max(during);
        visited.grow_on(pool);
        true
    }
}

/// Progress, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// States generated (successors computed).
    pub states: u64,
    /// Unique states.
    pub unique: u64,
    /// Current depth.
    pub depth: u64,
    /// Seconds so far.
    pub seconds: f64,
    /// Bytes the search stores now (visited set and frontier), as judged against the
    /// memory budget.
    pub memory_bytes: u64,
}

/// Counters and flags shared by the threads of one search.
pub(crate) struct Shared {
    pub generated: AtomicU64,
    pub stop: AtomicBool,
    pub cut: AtomicBool,
    /// A thread's output took its share of the memory budget.
    pub over_budget: AtomicBool,
    pub por: AtomicBool,
    pub por_broken: AtomicBool,
    pub reduced: AtomicBool,
    pub terminal_seen: AtomicBool,
    pub found: Mutex<Option<Found>>,
}

impl Shared {
    pub fn new(por: bool) -> Self {
        Shared {
            generated: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            cut: AtomicBool::new(false),
            over_budget: AtomicBool::new(false),
            por: AtomicBool::new(por),
            por_broken: AtomicBool::new(false),
            reduced: AtomicBool::new(false),
            terminal_seen: AtomicBool::new(false),
            found: Mutex::new(None),
        }
    }

    /// Records a violation (the shallowest one wins) and asks every thread to stop.
    pub fn report(&self, f: Found) {
        if let Ok(mut slot) = self.found.lock() {
            if slot.as_ref().is_none_or(|old| f.depth < old.depth) {
                *slot = Some(f);
            }
        }
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Checks a newly discovered state: its invariants and, if it is final, its
    /// terminal properties. Checking both on discovery is what makes the first
    /// violation a breadth-first search meets a shortest one, whatever its kind.
    pub fn check_new<A: Algorithm>(&self, m: &Model<A>, s: &StateOf<A>, fp: Fingerprint, depth: u64) {
        if let Some((k, why)) = m.violated_invariant(s) {
            self.report(Found { violated: Violated::Invariant(k), detail: why, fp, depth });
            return;
        }
        if m.quiescent(s) {
            self.terminal_seen.store(true, Ordering::Relaxed);
            if let Some((k, why)) = m.violated_terminal(s) {
                self.report(Found { violated: Violated::Terminal(k), detail: why, fp, depth });
            }
        }
    }
}

/// What a search found.
pub struct Outcome {
    pub generated: u64,
    pub unique: u64,
    pub max_depth: u64,
    pub seconds: f64,
    pub table_bytes: usize,
    pub frontier_bytes: usize,
    /// The most bytes the search stored at once (visited set, frontier or stack).
    pub memory_peak: u64,
    pub collision_probability: f64,
    /// The coverage figures of a bitstate search.
    pub bitstate: Option<crate::bitstate::BitstateReport>,
    pub stop: StopReason,
    pub found: Option<Found>,
    /// The path to the violation when the strategy knows it (DFS, random walks).
    pub path: Option<Vec<Action>>,
    pub por_broken: bool,
    pub por_reduced: bool,
    pub terminal_seen: bool,
}

/// Whether `s` (reached by `step_violation`) violates `target`.
fn violates<A: Algorithm>(m: &Model<A>, s: &StateOf<A>, step_violation: Option<usize>, target: Violated) -> bool {
    match target {
        Violated::Invariant(k) => step_violation == Some(k) || m.violated_invariant(s).is_some_and(|(j, _)| j == k),
        Violated::Terminal(k) => m.quiescent(s) && m.violated_terminal(s).is_some_and(|(j, _)| j == k),
        Violated::Liveness | Violated::Cycle => false,
    }
}

/// The shortest run from the initial state that violates `target`, searching the full
/// (unreduced) graph to depth `max_depth`; or, for liveness, the shortest run to `fp`.
/// `Err` when it was interrupted or would outgrow the memory budget (it keeps every
/// state's parent and a queue of whole states), so the caller can say why there is no
/// counterexample.
pub(crate) fn shortest_path<A: Algorithm>(
    m: &Model<A>,
    target: Violated,
    fp: Fingerprint,
    max_depth: u64,
    wide: bool,
    limits: &Limits,
) -> Result<Option<Vec<Action>>, StopReason> {
    let init = m.initial();
    let init_fp = fingerprint(&init, wide, m.fifo());
    let hit = |s: &StateOf<A>, f: Fingerprint, v: Option<usize>| match target {
        Violated::Liveness | Violated::Cycle => f == fp,
        other => violates(m, s, v, other),
    };
    if hit(&init, init_fp, None) {
        return Ok(Some(Vec::new()));
    }
    // A parent entry: key, value and the hash table's own overhead, roughly.
    let entry = 2 * std::mem::size_of::<(Fingerprint, (Fingerprint, Action))>() as u64;
    let queued = std::mem::size_of::<(StateOf<A>, Fingerprint, u64)>() as u64;
    let mut popped = 0u64;
    let mut parent: HashMap<Fingerprint, (Fingerprint, Action)> = HashMap::new();
    parent.insert(init_fp, (init_fp, Action::Input(u32::MAX)));
    let mut queue = VecDeque::from([(init, init_fp, 0u64)]);
    let mut actions = Vec::new();
    while let Some((s, sfp, depth)) = queue.pop_front() {
        popped += 1;
        if popped.is_multiple_of(4096) {
            let bytes = parent.len() as u64 * entry + queue.len() as u64 * queued;
            if let Some(why @ (StopReason::Interrupted | StopReason::Memory)) = limits.reached(0, bytes) {
                return Err(why);
            }
        }
        if depth >= max_depth {
            continue;
        }
        m.actions(&s, &mut actions);
        for &a in actions.iter() {
            let step = m.step(&s, a, None);
            let f = fingerprint(&step.state, wide, m.fifo());
            let fresh = !parent.contains_key(&f);
            if fresh {
                parent.insert(f, (sfp, a));
            }
            if hit(&step.state, f, step.violation.map(|(k, _)| k)) {
                let mut path = vec![a];
                let mut cur = sfp;
                while cur != init_fp {
                    let (p, act) = parent[&cur];
                    path.push(act);
                    cur = p;
                }
                path.reverse();
                return Ok(Some(path));
            }
            if fresh {
                queue.push_back((step.state, f, depth + 1));
            }
        }
    }
    Ok(None)
}

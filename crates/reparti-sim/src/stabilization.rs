//! Simulating a guarded algorithm: a daemon, an arbitrary start, transient faults.
//!
//! The run starts from a random configuration (seeded), a given one, or a legitimate
//! one; at each step the daemon picks privileged nodes, which move reading the
//! configuration as it was before the step. At given steps, `K` random nodes have
//! their state overwritten (a transient fault). The run reports, for the start and
//! after each fault, the moves and rounds until L holds, and checks closure on every
//! later step: once in L, a step out of L is a violation.
//!
//! A *round* is the shortest stretch of steps in which every node privileged at its
//! start has moved or lost its privilege (Dolev, Israeli and Moran 1993); under the
//! synchronous daemon a round is one step.
//!
//! Which nodes are privileged is kept incrementally (a move changes only the mover's and
//! its readers' guards), so a step costs the size of the neighbourhoods it touches, not n.

use crate::stab_pick::{Picker, Privileged};
use reparti_core::guarded::{Guarded, Move};
use reparti_core::{Daemon, NodeId, Rng};
use serde::Serialize;

/// How the daemon chooses among privileged nodes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// Uniformly at random (central: one node; distributed: each privileged node with
    /// probability ½, at least one).
    Random,
    /// Weakly fair: round robin, the first privileged node after the last one to move
    /// (distributed: that node, and each other privileged node with probability ½).
    Fair,
    /// Unfair: always the lowest privileged node, which may starve the others.
    Unfair,
}

impl Choice {
    /// The choices' names, as on the command line.
    pub const NAMES: &'static [&'static str] = &["random", "fair", "unfair"];

    /// The choice named `name`.
    pub fn parse(name: &str) -> Result<Choice, String> {
        match name {
            "random" => Ok(Choice::Random),
            "fair" | "weak" => Ok(Choice::Fair),
            "unfair" => Ok(Choice::Unfair),
            _ => Err(format!("unknown daemon choice '{name}'; use random, fair or unfair")),
        }
    }
}

/// Where the run starts.
#[derive(Clone, Debug)]
pub enum Start<S> {
    /// Every node's state drawn from its domain.
    Random,
    /// A legitimate configuration.
    Legitimate,
    /// This configuration.
    Given(Vec<S>),
}

/// A transient fault: `nodes` random nodes overwritten after `at_step` steps.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Corruption {
    /// How many nodes.
    pub nodes: usize,
    /// After how many steps.
    pub at_step: u64,
}

/// A stabilization run's settings.
#[derive(Clone, Debug)]
pub struct StabSimConfig<S> {
    /// Seeds the start, the daemon's choices and the faults.
    pub seed: u64,
    /// Who may move in a step.
    pub daemon: Daemon,
    /// How the daemon chooses.
    pub choice: Choice,
    /// Where the run starts.
    pub start: Start<S>,
    /// Transient faults, by step.
    pub corruptions: Vec<Corruption>,
    /// Stop after this many steps; by default, once L holds after the last fault, plus
    /// a tail of `2n` steps (at least 20) to show closure.
    pub max_steps: Option<u64>,
    /// Give up waiting for L after this many steps without it (default run only).
    pub patience: u64,
    /// Keep every step's configuration values (for the heat strip).
    pub record_values: bool,
}

/// One stretch of the run: from the start or a fault until L, then in L.
#[derive(Clone, Debug, Serialize)]
pub struct Episode {
    /// What began it: `start` or `corrupt K`.
    pub cause: String,
    /// The step it began at.
    pub step: u64,
    /// Privileges when it began.
    pub privileges: u32,
    /// Moves, steps and rounds from its beginning until L held (`None`: never, in this run).
    pub to_legitimate: Option<ToLegitimate>,
}

/// How long it took to reach L.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ToLegitimate {
    /// Moves.
    pub moves: u64,
    /// Steps.
    pub steps: u64,
    /// Rounds.
    pub rounds: u64,
}

/// One step as recorded for the pictures.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    /// 0 for the start, then one per step (a fault is recorded as its own row).
    pub step: u64,
    /// Moves so far.
    pub moves: u64,
    /// Guards enabled after it.
    pub privileges: u32,
    /// Whether the configuration after it is legitimate.
    pub legitimate: bool,
    /// Each node's value ([`Guarded::value`]), when values are recorded.
    pub values: Vec<i64>,
}

/// What a stabilization run did.
#[derive(Clone, Debug, Serialize)]
pub struct StabSimReport<S> {
    /// The first configuration.
    pub initial: Vec<S>,
    /// The last one.
    pub last: Vec<S>,
    /// Steps taken.
    pub steps: u64,
    /// Moves made.
    pub moves: u64,
    /// The start and each fault, with the time to L.
    pub episodes: Vec<Episode>,
    /// Steps taken from a legitimate configuration (closure checked on each).
    pub steps_in_l: u64,
    /// The first step out of L, if any.
    pub closure_violation: Option<ClosureViolation<S>>,
    /// Whether the run stopped with nothing privileged (a silent algorithm at rest, or
    /// a deadlock if not in L).
    pub silent: bool,
    /// The steps, for the pictures.
    pub records: Vec<StepRecord>,
}

/// A step that left L: closure broken.
#[derive(Clone, Debug, Serialize)]
pub struct ClosureViolation<S> {
    /// Which step.
    pub step: u64,
    /// The legitimate configuration it started from.
    pub before: Vec<S>,
    /// The moves made.
    pub moves: Vec<Move>,
    /// The illegitimate configuration it reached.
    pub after: Vec<S>,
}

/// A change of the instance mid-run: after `at_step` steps the nodes read through
/// `instance` (the same algorithm on another topology: a partition, its healing).
#[derive(Clone, Debug)]
pub struct Change<G> {
    /// After how many steps.
    pub at_step: u64,
    /// The instance from then on.
    pub instance: G,
    /// What it is, as the episode it begins says (`partition`, `heal`).
    pub label: String,
}

/// Runs `g` under the settings.
pub fn simulate_stabilization<G: Guarded>(g: &G, cfg: &StabSimConfig<G::State>) -> StabSimReport<G::State> {
    simulate_stabilization_with(g, cfg, Vec::new())
}

/// Runs `g` under the settings, switching instances at the given steps.
pub fn simulate_stabilization_with<G: Guarded>(
    g: &G,
    cfg: &StabSimConfig<G::State>,
    mut changes: Vec<Change<G>>,
) -> StabSimReport<G::State> {
    let mut g = g;
    changes.sort_by_key(|c| c.at_step);
    let mut changes = changes.iter().peekable();
    let n = g.n();
    let mut rng = reparti_core::rng(cfg.seed);
    let mut config: Vec<G::State> = match &cfg.start {
        Start::Random => (0..n).map(|i| g.random_state(NodeId(i as u32), &mut rng)).collect(),
        Start::Legitimate => g.legitimate_start(),
        Start::Given(c) => c.clone(),
    };
    let mut readers = readers_of(g);
    let mut live = Privileged::new(g, &config);
    let mut picker = Picker::new(cfg.choice, n);
    let mut report = StabSimReport {
        initial: config.clone(),
        last: Vec::new(),
        steps: 0,
        moves: 0,
        episodes: Vec::new(),
        steps_in_l: 0,
        closure_violation: None,
        silent: false,
        records: Vec::new(),
    };
    let mut faults = cfg.corruptions.clone();
    faults.sort_by_key(|c| c.at_step);
    let mut faults = faults.into_iter().peekable();
    let mut legit = g.legitimate(&config);
    let mut rounds = Rounds::new(&live);
    let mut episode = open_episode("start".into(), 0, &live, legit, &mut report, &rounds);
    record(g, &config, &live, legit, &mut report, cfg.record_values);
    let tail = (2 * n as u64).max(20);
    let mut done_at: Option<u64> = legit.then_some(tail);
    loop {
        if let Some(max) = cfg.max_steps {
            if report.steps >= max {
                break;
            }
        } else if faults.peek().is_none()
            && changes.peek().is_none()
            && (done_at.is_some_and(|d| report.steps >= d) || report.steps >= episode.start_step + cfg.patience)
        {
            break;
        }
        if let Some(change) = changes.next_if(|c| c.at_step <= report.steps) {
            g = &change.instance;
            readers = readers_of(g);
            live = Privileged::new(g, &config);
            legit = g.legitimate(&config);
            rounds = Rounds::new(&live);
            episode = open_episode(change.label.clone(), report.steps, &live, legit, &mut report, &rounds);
            done_at = legit.then_some(report.steps + tail);
            record(g, &config, &live, legit, &mut report, cfg.record_values);
            continue;
        }
        if let Some(fault) = faults.next_if(|f| f.at_step <= report.steps) {
            corrupt(g, &mut config, fault.nodes, &mut rng, &readers, &mut live);
            legit = g.legitimate(&config);
            rounds = Rounds::new(&live);
            let cause = format!("corrupt {}", fault.nodes);
            episode = open_episode(cause, report.steps, &live, legit, &mut report, &rounds);
            done_at = legit.then_some(report.steps + tail);
            record(g, &config, &live, legit, &mut report, cfg.record_values);
            continue;
        }
        if live.is_empty() {
            report.silent = true;
            // Nothing moves until the next fault or change, if any: jump to it.
            let next = faults.peek().map(|f| f.at_step).into_iter().chain(changes.peek().map(|c| c.at_step)).min();
            match next {
                Some(at) if cfg.max_steps.is_none_or(|max| at < max) => {
                    report.steps = at.max(report.steps);
                    continue;
                }
                _ => break,
            }
        }
        report.silent = false;
        let moves = picker.pick(cfg.daemon, &live, &mut rng);
        let before = (!legit || report.closure_violation.is_some()).then(Vec::new).unwrap_or_else(|| config.clone());
        let next: Vec<(usize, G::State)> =
            moves.iter().map(|m| (m.node.index(), g.apply(m.node, m.rule as usize, &config))).collect();
        for (i, s) in next {
            config[i] = s;
        }
        let touched = live.update(g, &config, moves.iter().map(|m| m.node.index()), &readers);
        report.steps += 1;
        report.moves += moves.len() as u64;
        rounds.after_step(&moves, &touched, &live);
        let now_legit = g.legitimate(&config);
        if legit {
            report.steps_in_l += 1;
            if !now_legit && report.closure_violation.is_none() {
                report.closure_violation =
                    Some(ClosureViolation { step: report.steps, before, moves: moves.clone(), after: config.clone() });
            }
        }
        if now_legit && !legit {
            if let Some(e) = report.episodes.last_mut().filter(|e| e.to_legitimate.is_none()) {
                e.to_legitimate = Some(ToLegitimate {
                    moves: report.moves - episode.start_moves,
                    steps: report.steps - episode.start_step,
                    rounds: rounds.started,
                });
                done_at = Some(report.steps + tail);
            }
        }
        legit = now_legit;
        record(g, &config, &live, legit, &mut report, cfg.record_values);
    }
    report.last = config;
    report
}

/// Where the current episode began.
struct EpisodeStart {
    start_step: u64,
    start_moves: u64,
}

fn open_episode<S>(
    cause: String,
    step: u64,
    live: &Privileged,
    legit: bool,
    report: &mut StabSimReport<S>,
    _rounds: &Rounds,
) -> EpisodeStart {
    report.episodes.push(Episode {
        cause,
        step,
        privileges: live.privileges(),
        to_legitimate: legit.then_some(ToLegitimate { moves: 0, steps: 0, rounds: 0 }),
    });
    EpisodeStart { start_step: step, start_moves: report.moves }
}

fn record<G: Guarded>(
    g: &G,
    config: &[G::State],
    live: &Privileged,
    legit: bool,
    report: &mut StabSimReport<G::State>,
    values: bool,
) {
    report.records.push(StepRecord {
        step: report.steps,
        moves: report.moves,
        privileges: live.privileges(),
        legitimate: legit,
        values: if values {
            config.iter().enumerate().map(|(i, s)| g.value(NodeId(i as u32), s)).collect()
        } else {
            Vec::new()
        },
    });
}

/// Overwrites `k` distinct random nodes with random states.
fn corrupt<G: Guarded>(
    g: &G,
    config: &mut [G::State],
    k: usize,
    rng: &mut Rng,
    readers: &[Vec<usize>],
    live: &mut Privileged,
) {
    use rand::seq::index::sample;
    let n = config.len();
    let chosen: Vec<usize> = sample(rng, n, k.min(n)).into_vec();
    for &i in &chosen {
        config[i] = g.random_state(NodeId(i as u32), rng);
    }
    live.update(g, config, chosen.into_iter(), readers);
}

/// For each node, the nodes whose guards read it.
fn readers_of<G: Guarded>(g: &G) -> Vec<Vec<usize>> {
    let n = g.n();
    let mut readers = vec![Vec::new(); n];
    for i in 0..n {
        for j in g.reads(NodeId(i as u32)) {
            if j.index() < n && j.index() != i {
                readers[j.index()].push(i);
            }
        }
    }
    readers
}

/// Round accounting: the nodes privileged at the round's start that have neither moved
/// nor lost their privilege yet.
struct Rounds {
    pending: Vec<bool>,
    left: usize,
    /// Rounds begun since the episode began.
    started: u64,
}

impl Rounds {
    fn new(live: &Privileged) -> Self {
        let mut pending = vec![false; live.len()];
        let mut left = 0;
        for i in live.nodes() {
            pending[i] = true;
            left += 1;
        }
        Rounds { pending, left, started: u64::from(left > 0) }
    }

    /// After a step: `touched` are the nodes whose guards were re-evaluated (the movers
    /// and their readers), the only ones that can have lost their privilege.
    fn after_step(&mut self, moves: &[Move], touched: &[usize], live: &Privileged) {
        for m in moves {
            self.clear(m.node.index());
        }
        for &i in touched {
            if live.rules(i) == 0 {
                self.clear(i);
            }
        }
        if self.left == 0 && !live.is_empty() {
            for i in live.nodes() {
                self.pending[i] = true;
                self.left += 1;
            }
            self.started += 1;
        }
    }

    fn clear(&mut self, i: usize) {
        if std::mem::take(&mut self.pending[i]) {
            self.left -= 1;
        }
    }
}

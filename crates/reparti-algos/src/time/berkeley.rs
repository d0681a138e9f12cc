//! # The Berkeley algorithm (TEMPO, 4.3BSD): a master averages the clocks, slaves slew
//!
//! **What.** Internal synchronization: the clocks are brought to agree with one another,
//! not with an outside source of true time. Each round a master polls every slave,
//! estimates how far each slave's clock is from its own, takes a *fault-tolerant*
//! average of those differences — only the largest group of clocks that lie within γ
//! of each other counts, so one broken clock cannot drag the others away — and sends
//! each slave the *adjustment* that brings it to the average (a difference, not a
//! time: it stays right however long it takes to arrive). Clocks are slewed, never set
//! back, so that no process sees time run backwards.
//!
//! **Source.** R. Gusella and S. Zatti, "The accuracy of the clock synchronization
//! achieved by TEMPO in Berkeley UNIX 4.3BSD", IEEE Trans. Software Eng. 15(7):847–853,
//! 1989 (the estimate is F. Cristian's, Distributed Computing 3(3), 1989).
//!
//! ```text
//! master m, each round:
//!   for every slave j: T0[j] = C_m; send POLL to j
//!   on REPLY(c) from j at C_m = T1:  rtt = T1 − T0[j]
//!          Δ[j] = c + rtt/2 − T1          (j's clock minus m's; error ≤ rtt/2)
//!   Δ[m] = 0
//!   S = the largest set of Δ's lying within γ of each other   (fault-tolerant)
//!   avg = mean of Δ[k] over k ∈ S
//!   for every slave j: send ADJUST(avg − Δ[j]) to j;  slew own clock by avg
//! slave, on POLL:        send REPLY(C_j)
//! slave, on ADJUST(δ):   slew the clock by δ   (adjtime: never backwards)
//! ```
//!
//! **How it runs here.** The master is node 0, or the node `master` names (in the paper
//! it is elected — e.g. by the algorithms of the election chapter — and a new one
//! takes over if it fails; here it is fixed). It runs `rounds` rounds, one every
//! `period` time units; the first starts at once. Each node reads and corrects its
//! physical clock through the context (`reads_physical_clock`): the simulator (and a
//! real node, with `--clock-offset`) gives every clock its offset and drift. Topology
//! `star` (the master at its centre, so the master must be node 0 there) or
//! `complete`; a master that is not adjacent to every slave logs it and runs no round.
//! Departures from the paper, and why:
//! * A slave whose correction is still being slewed says so in its REPLY (`settled`),
//!   and the master leaves it out of the average (it still gets an adjustment): its
//!   clock runs up to 50 % fast or slow meanwhile, so its estimate is off by more than
//!   rtt/2. The master, likewise, waits for its own slew to end before polling. TEMPO
//!   lets adjtime run on; its rounds are minutes apart, far longer than any slew.
//! * A slave's clock reading is exchanged as a number of time units, not a `timeval`.
//! * Ties between two largest groups go to the one with the master, then the lower.
//! * A round whose replies are not all in by the next round's time is decided with the
//!   replies received (a lost message costs that slave one round, not the run).
//!
//! After each round's decision the master outputs `clock_bound`, the bound it knows on
//! the disagreement it leaves: the sum of the estimation errors rtt/2 over S.
//!
//! **Pitfalls.**
//! * Setting a clock back: `adjust_clock(δ)` with δ < 0 makes a process see time run
//!   backwards (a `make` that thinks a file is older than its source). Slew it
//!   (`fault=step` keeps this mistake; "clocks never run backwards" catches it).
//! * Averaging every clock: one clock 5000 units off moves the average by 5000/n, and
//!   every good clock with it (`fault=mean`; "the average ignores outliers" catches it).
//! * Sending the average as a time rather than an adjustment: by the time it arrives it
//!   is stale by the message's delay.
//! * Forgetting rtt/2: the reply is as old as its trip back.
//! * Leaving the master out of the average, or sending an ADJUST to itself: it is one
//!   of the clocks (Δ = 0) and corrects itself locally, so a round is 3(n−1) messages.
//!
//! **Properties** (judged by the engine on the true clocks, `World::time`).
//! * [`NEVER_BACKWARDS`]: no reading a node takes of its clock (at each event, and
//!   right after each correction) is below the one before.
//! * [`IGNORES_OUTLIERS`]: at the decision, the true clocks of the group averaged lie
//!   within γ + 2·max rtt/2 of each other (+ drift slack, below).
//! * [`AGREE`]: once every member of a round's group has received its adjustment, their
//!   clocks *as they will be when the slews end* (hardware reading + final correction)
//!   agree pairwise within e_i + e_j, e = rtt/2 (0 for the master) — hence within
//!   the sum of the estimation errors. Drift is bounded, not neglected: the slack is
//!   (|ρ_i| + |ρ_j|)·2·(time since the round began on the master's clock), since two
//!   clocks drifting at ρ_i, ρ_j part by at most (|ρ_i|+|ρ_j|) per unit of real time,
//!   and a unit of the master's (possibly slewing) clock is at most 2 units of real
//!   time (a slew changes the rate by at most 50 %).
//! * At the end, [`ALL_ROUNDS`]: the master decided every round.
//!
//! **Costs.** Exactly 3(n−1) messages per round: n−1 POLL, n−1 REPLY, n−1 ADJUST (the
//! master's own adjustment is local). Time per round: one round trip plus one delay.

use reparti_core::physical_clock::MAX_SLEW_RATE;
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, ClockTime, Context, Expectation, Invariant, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, Terminal, Timer, World,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// No node's clock ever runs backwards.
pub const NEVER_BACKWARDS: &str = "clocks never run backwards";
/// The averaged group agrees within γ (plus estimation errors).
pub const IGNORES_OUTLIERS: &str = "the average ignores outliers";
/// After a round, its group agrees within the estimation errors.
pub const AGREE: &str = "after each round the averaged clocks agree within the estimation errors";
/// Every round decided.
pub const ALL_ROUNDS: &str = "the master decided every round";

/// The timer that starts a round.
const ROUND: Timer = "round";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("rounds", "4", 1, 10_000, "synchronization rounds the master runs"),
    ParamSpec::real("period", "250", 1.0, 1e9, "time units between the starts of two rounds"),
    ParamSpec::real(
        "tolerance",
        "150",
        0.0,
        1e9,
        "γ: only clocks within γ of each other are averaged (a bit more than the offsets expected)",
    ),
    ParamSpec::node("master", "0", "the master's position (node 0 on a star: its centre)"),
    ParamSpec::choice(
        "fault",
        "none",
        &["none", "step", "mean"],
        "a classic mistake kept for the tests: step = set clocks instead of slewing, mean = average outliers too",
    ),
];

/// Berkeley's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// The master asks for the slave's clock.
    #[serde(rename = "POLL")]
    Poll {
        /// The round.
        round: u32,
    },
    /// The slave's reading when it answered.
    #[serde(rename = "REPLY")]
    Reply {
        /// The round.
        round: u32,
        /// The slave's clock.
        clock: ClockTime,
        /// False while the slave's last correction is still being slewed.
        settled: bool,
    },
    /// How much the slave must change its clock by.
    #[serde(rename = "ADJUST")]
    Adjust {
        /// The round.
        round: u32,
        /// The adjustment δ = avg − Δ.
        delta: ClockTime,
    },
}

/// Which mistake, if any, the run keeps.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Fault {
    /// The algorithm as it should be.
    None,
    /// Steps the clock by the adjustment, back if it is negative.
    Step,
    /// Averages every clock, outliers included.
    Mean,
}

/// The master's estimate of one slave's clock.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Estimate {
    /// Δ: the slave's clock minus the master's.
    pub delta: ClockTime,
    /// The estimate's error bound, rtt/2.
    pub error: ClockTime,
    /// Whether the slave's clock was not slewing.
    pub settled: bool,
}

/// One node (master or slave).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The master's position.
    pub master: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// The reading before `last_reading` this node took of its own clock.
    pub previous_reading: Option<ClockTime>,
    /// The last reading this node took of its own clock (at each event, and after each
    /// correction).
    pub last_reading: Option<ClockTime>,
    /// The reading past which its last slew is surely over (`None`: not slewing).
    pub slew_until: Option<ClockTime>,
    /// Slave: the last round whose adjustment it applied (0: none).
    pub applied: u32,
    /// Master: the round under way or last run (0: none yet).
    pub round: u32,
    /// Master: the last round decided.
    pub decided: u32,
    /// Master: its reading when the current round began.
    pub round_start: ClockTime,
    /// Master: its reading when it decided the current round.
    pub decided_at: ClockTime,
    /// Master: when each slave was polled this round.
    pub polled_at: BTreeMap<NodeId, ClockTime>,
    /// Master: this round's estimates so far.
    pub estimates: BTreeMap<NodeId, Estimate>,
    /// Master: the group averaged in the last decided round, with each error (0 for itself).
    pub group: BTreeMap<NodeId, ClockTime>,
    /// Master: whether every slave is its neighbour (else it runs no round).
    pub reaches_all: bool,
    /// Param `rounds`.
    pub rounds: u32,
    /// Param `period`.
    pub period: ClockTime,
    /// Param `tolerance` (γ).
    pub tolerance: ClockTime,
    /// Param `fault`.
    pub fault: Fault,
}

/// Margin on a slew's end, for drift (a drift up to 1000 ppm is covered).
const SLEW_MARGIN: f64 = 1e-3;

impl Node {
    /// Reads the clock, and keeps the reading for [`NEVER_BACKWARDS`].
    fn observe(&mut self, ctx: &mut Context<'_, Msg>) -> ClockTime {
        let now = ctx.clock();
        self.previous_reading = self.last_reading;
        self.last_reading = Some(now);
        now
    }

    fn is_master(&self) -> bool {
        self.me == self.master
    }

    fn settled(&self, now: ClockTime) -> bool {
        self.slew_until.is_none_or(|until| now >= until)
    }

    /// Applies an adjustment: a slew (or, `fault=step`, a step).
    fn correct(&mut self, delta: f64, ctx: &mut Context<'_, Msg>) {
        let before = ctx.clock();
        if self.fault == Fault::Step {
            ctx.adjust_clock(delta);
            self.slew_until = None;
        } else {
            let over = delta.abs() / MAX_SLEW_RATE;
            ctx.slew_clock(delta, over);
            // Its reading when the slew ends: over·(1+ρ) of hardware time, plus δ.
            self.slew_until = Some(before + (delta + over * (1.0 + SLEW_MARGIN) + 1e-6));
        }
        self.observe(ctx);
    }

    fn start_round(&mut self, ctx: &mut Context<'_, Msg>) {
        let now = ctx.clock();
        if !self.settled(now) {
            // The master's own clock is still slewing: its estimates would be off.
            let wait = self.slew_until.map_or(1.0, |until| until - now);
            ctx.set_timer(ROUND, wait.max(1.0));
            return;
        }
        self.round += 1;
        self.round_start = now;
        self.estimates.clear();
        self.polled_at.clear();
        for j in (0..self.n).map(NodeId).filter(|&j| j != self.me) {
            self.polled_at.insert(j, now);
            ctx.send(j, Msg::Poll { round: self.round });
        }
        ctx.set_timer(ROUND, self.period.value());
    }

    fn decide(&mut self, ctx: &mut Context<'_, Msg>) {
        let now = ctx.clock();
        let mut candidates: Vec<(f64, NodeId)> = vec![(0.0, self.me)];
        for (&j, e) in &self.estimates {
            if e.settled || self.fault == Fault::Mean {
                candidates.push((e.delta.value(), j));
            }
        }
        let group = if self.fault == Fault::Mean {
            candidates
        } else {
            largest_group(candidates, self.tolerance.value(), self.me)
        };
        let avg = group.iter().map(|(d, _)| d).sum::<f64>() / group.len() as f64;
        let error = |j: NodeId| self.estimates.get(&j).map_or(ClockTime::ZERO, |e| e.error);
        self.group = group.iter().map(|&(_, j)| (j, error(j))).collect();
        self.decided = self.round;
        self.decided_at = now;
        for (&j, e) in &self.estimates {
            ctx.send(j, Msg::Adjust { round: self.round, delta: ClockTime(avg - e.delta.value()) });
        }
        self.correct(avg, ctx);
        let bound: f64 = self.group.values().map(|e| e.value()).sum();
        ctx.output("clock_bound", format!("{bound:.3}"));
    }
}

/// The largest set of values lying within `gamma` of each other (max − min ≤ γ), as a
/// window over the sorted values; ties go to the window with `master`, then the lowest.
pub fn largest_group(mut values: Vec<(f64, NodeId)>, gamma: f64, master: NodeId) -> Vec<(f64, NodeId)> {
    values.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut best: Option<(usize, usize)> = None;
    let mut lo = 0;
    for hi in 0..values.len() {
        while values[hi].0 - values[lo].0 > gamma {
            lo += 1;
        }
        let has_master = values[lo..=hi].iter().any(|v| v.1 == master);
        let better = match best {
            None => true,
            Some((blo, bhi)) => {
                let (len, blen) = (hi - lo, bhi - blo);
                len > blen || (len == blen && has_master && !values[blo..=bhi].iter().any(|v| v.1 == master))
            }
        };
        if better {
            best = Some((lo, hi));
        }
    }
    best.map_or_else(Vec::new, |(lo, hi)| values[lo..=hi].to_vec())
}

impl Process for Node {
    type Msg = Msg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        self.observe(ctx);
        if !self.is_master() {
            return;
        }
        let neighbours = ctx.neighbours();
        self.reaches_all = (0..self.n).map(NodeId).all(|j| j == self.me || neighbours.contains(j));
        if self.reaches_all {
            self.start_round(ctx);
        } else {
            ctx.log(format!(
                "master {} is not adjacent to every slave: no round run (use --topology complete, or master=0 on a star)",
                self.me
            ));
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let now = self.observe(ctx);
        match msg {
            Msg::Poll { round } if from == self.master && !self.is_master() => {
                let settled = self.settled(now);
                ctx.send(from, Msg::Reply { round, clock: now, settled });
            }
            Msg::Reply { round, clock, settled } if self.is_master() && round == self.round && self.decided < round => {
                let Some(&sent) = self.polled_at.get(&from) else {
                    ctx.log(format!("REPLY from {from}, not polled: ignored"));
                    return;
                };
                let rtt = now - sent;
                // Cristian: the reply is about rtt/2 old; Δ is its clock minus ours.
                let delta = clock.value() + rtt / 2.0 - now.value();
                self.estimates.insert(from, Estimate { delta: ClockTime(delta), error: ClockTime(rtt / 2.0), settled });
                if self.estimates.len() == self.polled_at.len() {
                    self.decide(ctx);
                }
            }
            Msg::Adjust { round, delta } if from == self.master && !self.is_master() => {
                if round > self.applied {
                    self.applied = round;
                    self.correct(delta.value(), ctx);
                }
            }
            other => ctx.log(format!("{} from {from} not expected here: ignored", other.kind_name())),
        }
    }

    fn on_timer(&mut self, _timer: Timer, ctx: &mut Context<'_, Msg>) {
        self.observe(ctx);
        if !self.is_master() || !self.reaches_all {
            return;
        }
        if self.decided < self.round {
            // Replies missing (lost, or a crashed slave): decide with those received.
            self.decide(ctx);
        }
        if self.round < self.rounds {
            self.start_round(ctx);
        }
    }
}

/// The Berkeley algorithm. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Berkeley {
    rounds: u32,
    period: f64,
    tolerance: f64,
    master: u32,
    fault: Fault,
}

/// What a node's clock will read once its slews end, now: hardware + final correction.
fn settled_reading(w: &World<'_, Node>, i: usize) -> Option<f64> {
    let time = w.time?;
    let clock = time.clocks.get(i)?;
    let far = time.now + 1e9;
    Some(clock.hardware(time.now) + (clock.read(far) - clock.hardware(far)))
}

/// The drift slack between i and j over `elapsed` units of the master's clock.
fn drift_slack(w: &World<'_, Node>, i: usize, j: usize, elapsed: f64) -> f64 {
    let rho = |k: usize| w.time.and_then(|t| t.clocks.get(k)).map_or(0.0, |c| c.setting().drift_ppm.abs() * 1e-6);
    (rho(i) + rho(j)) * 2.0 * elapsed.max(0.0) + 1e-6
}

fn master_of<'a>(w: &'a World<'_, Node>) -> Option<&'a Node> {
    w.nodes.iter().find(|s| s.is_master())
}

/// Judged on the readings a node takes of its own clock, in its own order: on a real
/// network the merged trace's events of different nodes are not in real-time order, so
/// a comparison with the true clock at another node's event could go back by jitter.
fn never_backwards(s: &Node) -> Result<(), String> {
    match (s.previous_reading, s.last_reading) {
        // A slew leaves the reading of the same instant as it was, up to rounding.
        (Some(before), Some(now)) if now.value() < before.value() - 1e-9 * before.value().abs().max(1.0) => {
            Err(format!("node {}'s clock reads {now}, after {before}: it ran backwards", s.me))
        }
        _ => Ok(()),
    }
}

fn ignores_outliers(w: &World<'_, Node>) -> Result<(), String> {
    let (Some(time), Some(m)) = (w.time, master_of(w)) else { return Ok(()) };
    let mi = m.me.index();
    // Only at the decision's instant: the master's clock still reads what it read then.
    let at_decision = m.decided == m.round && m.round > 0 && (time.reading(mi) - m.decided_at.value()).abs() < 1e-7;
    if !at_decision {
        return Ok(());
    }
    let max_error = m.group.values().map(|e| e.value()).fold(0.0, f64::max);
    let elapsed = m.decided_at - m.round_start;
    for &i in m.group.keys() {
        for &j in m.group.keys() {
            let gap = time.reading(i.index()) - time.reading(j.index());
            let allowed = m.tolerance.value() + 2.0 * max_error + drift_slack(w, i.index(), j.index(), elapsed);
            if gap > allowed {
                return Err(format!(
                    "round {}: averaged clocks {i} and {j} are {gap:.3} apart, more than γ + 2·max rtt/2 = {allowed:.3}",
                    m.round
                ));
            }
        }
    }
    Ok(())
}

fn agree(w: &World<'_, Node>) -> Result<(), String> {
    let (Some(time), Some(m)) = (w.time, master_of(w)) else { return Ok(()) };
    if m.decided == 0 || m.decided != m.round {
        return Ok(());
    }
    let applied = |i: NodeId| i == m.me || w.nodes.get(i.index()).is_some_and(|s| s.applied >= m.decided);
    if !m.group.keys().all(|&i| applied(i)) {
        return Ok(());
    }
    let elapsed = time.reading(m.me.index()) - m.round_start.value();
    for (&i, ei) in &m.group {
        for (&j, ej) in &m.group {
            let (Some(ci), Some(cj)) = (settled_reading(w, i.index()), settled_reading(w, j.index())) else {
                continue;
            };
            let allowed = ei.value() + ej.value() + drift_slack(w, i.index(), j.index(), elapsed);
            if ci - cj > allowed {
                return Err(format!(
                    "round {}: clocks {i} and {j} settle {:.3} apart, more than rtt/2 + rtt/2 = {allowed:.3}",
                    m.decided,
                    ci - cj
                ));
            }
        }
    }
    Ok(())
}

impl Algorithm for Berkeley {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["star", "complete"],
            default_nodes: 4,
            reads_physical_clock: true,
            ..AlgorithmSpec::new(
                "berkeley",
                Chapter::Time,
                "Gusella & Zatti (1989): a master polls, averages the clocks that agree, slaves slew by their adjustment",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let fault = match params.raw("fault") {
            Some("step") => Fault::Step,
            Some("mean") => Fault::Mean,
            _ => Fault::None,
        };
        Ok(Berkeley {
            rounds: params.get("rounds")?,
            period: params.get("period")?,
            tolerance: params.get("tolerance")?,
            master: params.get("master")?,
            fault,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        if n < 2 {
            return Err(format!(
                "berkeley needs a master and at least one slave, not {n} node: give --nodes 2 or more"
            ));
        }
        Ok(())
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            master: NodeId(self.master),
            n: setup.n as u32,
            previous_reading: None,
            last_reading: None,
            slew_until: None,
            applied: 0,
            round: 0,
            decided: 0,
            round_start: ClockTime::ZERO,
            decided_at: ClockTime::ZERO,
            polled_at: BTreeMap::new(),
            estimates: BTreeMap::new(),
            group: BTreeMap::new(),
            reaches_all: false,
            rounds: self.rounds,
            period: ClockTime(self.period),
            tolerance: ClockTime(self.tolerance),
            fault: self.fault,
        }
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::<Node>::local(NEVER_BACKWARDS, never_backwards),
                Invariant::<Node>::global(IGNORES_OUTLIERS, ignores_outliers),
                Invariant::<Node>::global(AGREE, agree),
            ],
            terminal: vec![Terminal::<Node>::new(ALL_ROUNDS, |w: &World<'_, Node>| match master_of(w) {
                Some(m) if m.decided < m.rounds => Err(format!("{} of {} rounds decided", m.decided, m.rounds)),
                _ => Ok(()),
            })],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let rounds = facts.output_count("clock_bound") as f64;
        let slaves = facts.n.saturating_sub(1) as f64;
        vec![
            Expectation::exact("POLL", "(n−1)·rounds", slaves * rounds),
            Expectation::exact("REPLY", "(n−1)·rounds", slaves * rounds),
            Expectation::exact("ADJUST", "(n−1)·rounds", slaves * rounds),
            Expectation::exact("total", "3(n−1)·rounds", 3.0 * slaves * rounds),
        ]
    }
}

#[cfg(test)]
#[path = "berkeley_tests.rs"]
mod tests;

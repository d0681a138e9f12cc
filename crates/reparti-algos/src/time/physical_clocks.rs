//! # Lamport's physical clocks (1978): every τ, each node tells its neighbours the time
//!
//! **What.** Each node has a physical clock that runs continuously but drifts (PC1:
//! `|dC/dt − 1| < κ`). Every τ a node sends each neighbour its reading `T_m`; the
//! receiver advances its own clock to at least `T_m + μ_m`, μ_m being the least time the
//! message could have taken. Clocks only ever move forward, so the slowest ones are
//! pulled up to the fastest, and on a strongly connected graph of diameter d they stay
//! within ε ≈ d(2κτ + ξ) of one another (PC2), ξ bounding the unpredictable part of a
//! delay.
//!
//! **Source.** L. Lamport, "Time, clocks, and the ordering of events in a distributed
//! system", CACM 21(7):558–565, 1978, section "Physical clocks" (rules IR1′, IR2′, the
//! anomaly condition and the theorem of the appendix).
//!
//! ```text
//! IR1′     C_i runs continuously (the hardware clock; dC_i/dt > 0)
//! IR2′(a)  every τ: for each out-neighbour j: send TIME(T_m = C_i(t)) to j
//! IR2′(b)  on TIME(T_m) at t′:  C_j(t′) := max(C_j(t′ − 0), T_m + μ_m)
//! theorem  strongly connected, diameter d, every arc used every τ, delay ∈ [μ, μ + ξ]:
//!          |C_i(t) − C_j(t)| ≲ d(2κτ + ξ)  for t ≳ t₀ + τd
//! anomaly  if ε/(1 − κ) ≤ μ then C_i(t + μ) − C_j(t) > 0: no message arrives at a
//!          clock that reads less than its timestamp
//! ```
//!
//! **How it runs here.** The clock is the framework's physical clock (`Context::clock`:
//! hardware clock with its own offset and drift, `--clock-offset`, `--clock-drift`).
//! A node sends its reading to every out-neighbour at start and then every `tau` units
//! of real time (a timer), `periods` times in all, so that runs end. On receipt it reads
//! its clock and, when `T_m + mu` is ahead, steps it forward by the difference
//! (`Context::adjust_clock` with a delta ≥ 0, never back). `mu` is the same for every
//! channel (Lamport allows one per message) and must not exceed the network's true
//! least delay; `xi` is a bound the user gives on `delay − mu` (with `--delay
//! uniform:A,B` and `mu = A`, `xi = B − A`). An exponential delay has no upper bound:
//! `xi` is then a bound that holds with high probability only, and a run where a delay
//! exceeds it may fail the precision property — rightly, as the theorem's hypothesis
//! failed. κ is not a parameter: the properties take the run's own, the greatest
//! |drift| of its clocks. No node knows d or κ, so none claims an error bound of its
//! own (no `clock_bound` output); the engine judges the bound from the true clocks.
//! Topologies: any strongly connected one (the directed `ring` too); the diameter is
//! the one of the graph the nodes record at start (their out-neighbours).
//!
//! **Departure from the source.** Lamport's ε ≈ d(2κτ + ξ) is an approximation (the
//! paper assumes μ + ξ ≪ τ). The bound proved and checked here is
//! `ε = d(2κτ + ξ) + 2κd(μ + ξ)`: the slack is the two clocks' drift while a message is
//! in transit, on each of the d hops (a message takes up to μ + ξ, during which the
//! sender's clock gains up to κ(μ+ξ) and the receiver's loses as much), and the warm-up
//! is `d(τ + μ + ξ)` rather than τd for the same reason. Proof sketch: the maximum
//! clock M grows at most at rate 1 + κ (a correction sets `T_m + μ ≤ M(send) + delay`).
//! Take i with `C_i = M` at `t₀ = t − d(τ+μ+ξ)`, and a shortest path from i to j; going
//! back from t along it, each hop's last message was sent at most τ + μ + ξ earlier, so
//! the chain starts after t₀, and each hop gives `C ≥ T_m + μ` then runs at ≥ 1 − κ:
//! `M(t) − C_j(t) ≤ 2κ(t − t₀) + Σ(delay − μ) ≤ d(2κ(τ+μ+ξ) + ξ)`.
//!
//! **Pitfalls.**
//! * Setting `C := T_m + μ` without the max (`receive=assign`): a receiver that was
//!   ahead is set back, and clocks run backwards — caught by "clocks never move
//!   backwards" as soon as a slow node's message reaches a fast one.
//! * Ignoring μ (`receive=no-mu`, `C := max(C, T_m)`): every hop loses the transit
//!   time, so the nodes far from the fastest lag by up to d times the delay — caught by
//!   the precision property whenever the delay is not negligible against the bound.
//! * A μ larger than the true least delay pushes clocks ahead of the fastest one, and
//!   they all race ahead together: the property "μ ≤ the least delay" says so.
//! * Messages lost break the chains the bound rests on: run without `--loss` (or over
//!   the reliable layer).
//!
//! **Properties** (judged from the true clocks, `World::time`). After every event:
//! [`NEVER_BACKWARDS`] (each node's reading is at least what it read as its latest
//! event began); [`MU_AT_MOST_MIN_DELAY`]; [`PRECISION`] (after the warm-up
//! `d(τ+μ+ξ)`, `max|C_i − C_j| ≤ d(2κτ+ξ) + 2κd(μ+ξ)` among live nodes; the graph not
//! strongly connected is a violation); [`NO_ANOMALY`] (when that ε < μ(1−κ), every
//! message sent after the warm-up finds its receiver's clock already past `T_m`, before
//! IR2′ is applied: `C_j(t′) ≥ C_j(t+μ) ≥ C_j(t) + μ(1−κ) > C_i(t)`; vacuous otherwise,
//! and it says so in its name). At the end: every node sent its `periods` rounds.
//!
//! **Costs.** One TIME per directed edge per period: exactly `E·periods` messages, E
//! the number of directed edges (2n on a bidirectional ring, n(n−1) on a complete
//! graph). No messages are answered.

use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, ClockTime, Context, Expectation, Invariant, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, Terminal, Timer, TrueTime, World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

/// Each node's reading never goes down.
pub const NEVER_BACKWARDS: &str = "clocks never move backwards";
/// μ is a true lower bound on delays.
pub const MU_AT_MOST_MIN_DELAY: &str = "μ ≤ the least delay of every channel a message came by";
/// PC2 with the slack of the module documentation.
pub const PRECISION: &str = "after warm-up d(τ+μ+ξ): max|C_i − C_j| ≤ d(2κτ+ξ) + 2κd(μ+ξ)";
/// The anomaly condition's consequence.
pub const NO_ANOMALY: &str = "when ε < μ(1−κ): a message sent after warm-up arrives at a clock past its T_m";
/// Every node did all its periods.
pub const ALL_PERIODS: &str = "every node sent its periods";

const TICK: Timer = "tick";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::real("tau", "10", 0.001, 1e9, "τ: real time between two rounds of TIME messages"),
    ParamSpec::real("mu", "1", 0.0, 1e9, "μ: the least delay the nodes assume (≤ the network's true least delay)"),
    ParamSpec::real("xi", "0", 0.0, 1e9, "ξ: a bound on delay − μ (uniform:A,B with mu=A: B−A), for the precision"),
    ParamSpec::int("periods", "20", 1, 1_000_000, "how many rounds of TIME messages each node sends"),
    ParamSpec::choice(
        "receive",
        "max",
        &["max", "assign", "no-mu"],
        "IR2′(b): max (Lamport's), or broken: assign = C := T_m + μ (sets clocks back), no-mu = max(C, T_m)",
    ),
];

/// How a node applies IR2′(b).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Receive {
    /// `C := max(C, T_m + μ)`, Lamport's rule.
    Max,
    /// `C := T_m + μ`: the broken variant that moves clocks back.
    Assign,
    /// `C := max(C, T_m)`: the broken variant that ignores transit time.
    NoMu,
}

/// Lamport's one message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// `T_m`: the sender's reading at the send.
    Time(ClockTime),
}

/// The latest TIME a node received, kept for the properties.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Receipt {
    /// The sender.
    pub from: NodeId,
    /// Its timestamp `T_m`.
    pub stamp: ClockTime,
    /// The receiver's reading before IR2′(b).
    pub before: ClockTime,
    /// The receiver's reading after it.
    pub after: ClockTime,
}

/// One node.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// τ.
    pub tau: ClockTime,
    /// μ.
    pub mu: ClockTime,
    /// How many rounds to send.
    pub periods: u32,
    /// The receive rule.
    pub receive: Receive,
    /// Rounds sent so far.
    pub sent_periods: u32,
    /// Out-neighbours, recorded at start: the graph the precision property measures.
    pub neighbours: BTreeSet<NodeId>,
    /// The reading as this node's latest event began, before any correction.
    pub read_before: ClockTime,
    /// The reading as this node's latest event ended, after any correction.
    pub read_after: ClockTime,
    /// The latest TIME received.
    pub last_receipt: Option<Receipt>,
}

impl Node {
    /// IR2′(a): the reading to every out-neighbour, and the next round in τ.
    fn send_round(&mut self, ctx: &mut Context<'_, Msg>) {
        let stamp = ctx.clock();
        ctx.broadcast(Msg::Time(stamp));
        self.sent_periods += 1;
        if self.sent_periods < self.periods {
            ctx.set_timer(TICK, self.tau.value());
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        self.neighbours = ctx.neighbours().into_iter().collect();
        self.read_before = ctx.clock();
        self.send_round(ctx);
        self.read_after = ctx.clock();
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let Msg::Time(stamp) = msg;
        let before = ctx.clock();
        self.read_before = before;
        let earliest = stamp + self.mu.value();
        match self.receive {
            Receive::Max if earliest > before => ctx.adjust_clock(earliest - before),
            Receive::Max => {}
            Receive::Assign => ctx.set_clock(earliest),
            Receive::NoMu if stamp > before => ctx.adjust_clock(stamp - before),
            Receive::NoMu => {}
        }
        let after = ctx.clock();
        self.read_after = after;
        self.last_receipt = Some(Receipt { from, stamp, before, after });
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        self.read_before = ctx.clock();
        if timer == TICK && self.sent_periods < self.periods {
            self.send_round(ctx);
        }
        self.read_after = ctx.clock();
    }
}

/// Lamport's physical clock synchronization. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct LamportPhysical {
    tau: f64,
    mu: f64,
    xi: f64,
    periods: u32,
    receive: Receive,
}

/// Float slack for comparing readings computed along different paths.
fn tolerance(x: f64) -> f64 {
    1e-9 * x.abs().max(1.0)
}

/// The diameter of the graph the nodes recorded, or why there is none.
fn diameter(adjacency: &[&BTreeSet<NodeId>]) -> Result<u32, String> {
    let n = adjacency.len();
    let mut widest = 0;
    for from in 0..n {
        let mut hops = vec![None; n];
        hops[from] = Some(0u32);
        let mut queue = VecDeque::from([from]);
        while let Some(u) = queue.pop_front() {
            let next = hops[u].unwrap_or(0) + 1;
            for v in adjacency[u].iter().map(|v| v.index()).filter(|&v| v < n) {
                if hops[v].is_none() {
                    hops[v] = Some(next);
                    queue.push_back(v);
                }
            }
        }
        for (to, h) in hops.iter().enumerate() {
            match h {
                Some(h) => widest = widest.max(*h),
                None => {
                    return Err(format!(
                        "node {to} cannot be reached from node {from}: the bound needs a strongly connected graph"
                    ))
                }
            }
        }
    }
    Ok(widest)
}

/// A graph as the nodes recorded it (each node's out-neighbours) and its diameter.
type DiameterOf = (Vec<BTreeSet<NodeId>>, Result<u32, String>);

/// The diameter, computed once per graph: the properties run after every event.
#[derive(Default)]
struct DiameterCache(Mutex<Option<DiameterOf>>);

impl DiameterCache {
    fn of(&self, nodes: &[Node]) -> Result<u32, String> {
        let adjacency: Vec<&BTreeSet<NodeId>> = nodes.iter().map(|s| &s.neighbours).collect();
        let mut cache = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((graph, d)) = cache.as_ref() {
            if graph.len() == adjacency.len() && graph.iter().zip(&adjacency).all(|(a, b)| a == *b) {
                return d.clone();
            }
        }
        let d = diameter(&adjacency);
        *cache = Some((adjacency.into_iter().cloned().collect(), d.clone()));
        d
    }
}

/// What the bound is made of in one run.
struct Bound {
    d: f64,
    kappa: f64,
    warm_up: f64,
    epsilon: f64,
}

impl LamportPhysical {
    /// The bound, from the graph and the run's own greatest drift.
    /// `None` until every node has started and recorded its neighbours.
    fn bound(&self, cache: &DiameterCache, w: &World<'_, Node>, time: &TrueTime<'_>) -> Result<Option<Bound>, String> {
        if w.nodes.iter().any(|s| s.sent_periods == 0) {
            return Ok(None);
        }
        let d = f64::from(cache.of(w.nodes)?);
        let kappa = w.live().map(|i| time.clocks[i].setting().drift_ppm.abs() * 1e-6).fold(0.0, f64::max);
        let (tau, mu, xi) = (self.tau, self.mu, self.xi);
        Ok(Some(Bound {
            d,
            kappa,
            warm_up: d * (tau + mu + xi),
            epsilon: d * (2.0 * kappa * tau + xi) + 2.0 * kappa * d * (mu + xi),
        }))
    }
}

fn true_time<'a>(w: &'a World<'_, Node>) -> Result<&'a TrueTime<'a>, String> {
    w.time.ok_or_else(|| "no true time: only the simulator and a real run's replay can judge this".to_string())
}

/// Judged in each node's own event (its true reading now is the one it recorded as the
/// event ended: a real run's replay may judge other nodes at an earlier real time), and
/// between events the hardware clock only runs forward.
fn never_backwards(w: &World<'_, Node>) -> Result<(), String> {
    let time = true_time(w)?;
    for i in w.live().filter(|&i| w.nodes[i].sent_periods > 0) {
        let (now, s) = (time.reading(i), &w.nodes[i]);
        if now == s.read_after.value() && now < s.read_before.value() - tolerance(now) {
            return Err(format!("node {i} read {} as its event began and {now:.6} after it", s.read_before));
        }
    }
    Ok(())
}

fn mu_at_most_min_delay(mu: f64, w: &World<'_, Node>) -> Result<(), String> {
    let time = true_time(w)?;
    for i in w.live() {
        if let Some(r) = w.nodes[i].last_receipt {
            let least = (time.min_delay)(r.from, NodeId(i as u32));
            if mu > least + tolerance(least) {
                return Err(format!("μ = {mu} but channel {}→{i} can deliver in {least}: give mu ≤ {least}", r.from));
            }
        }
    }
    Ok(())
}

impl Algorithm for LamportPhysical {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["bidir-ring", "ring", "complete", "grid", "torus", "hypercube", "line", "star", "tree"],
            default_nodes: 6,
            reads_physical_clock: true,
            ..AlgorithmSpec::new(
                "lamport-physical",
                Chapter::Time,
                "Lamport (1978): every τ each node sends its clock, receivers take max(C, T_m + μ); precision ≈ d(2κτ+ξ)",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let receive = match params.raw("receive") {
            Some("assign") => Receive::Assign,
            Some("no-mu") => Receive::NoMu,
            _ => Receive::Max,
        };
        Ok(LamportPhysical {
            tau: params.get("tau")?,
            mu: params.get("mu")?,
            xi: params.get("xi")?,
            periods: params.get("periods")?,
            receive,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        if n < 2 {
            return Err(format!(
                "lamport-physical synchronizes clocks between nodes: give --nodes 2 or more (not {n})"
            ));
        }
        Ok(())
    }

    fn init(&self, _setup: &NodeSetup) -> Node {
        Node {
            tau: ClockTime(self.tau),
            mu: ClockTime(self.mu),
            periods: self.periods,
            receive: self.receive,
            sent_periods: 0,
            neighbours: BTreeSet::new(),
            read_before: ClockTime::ZERO,
            read_after: ClockTime::ZERO,
            last_receipt: None,
        }
    }

    fn properties(&self) -> Properties<Node> {
        let cache = Arc::new(DiameterCache::default());
        let (me, anomaly_cache) = (self.clone(), Arc::clone(&cache));
        let precision = move |w: &World<'_, Node>| {
            let time = true_time(w)?;
            let Some(b) = me.bound(&cache, w, time)? else { return Ok(()) };
            if time.now < b.warm_up {
                return Ok(());
            }
            let spread = time.spread(|i| !w.crashed[i]);
            if spread > b.epsilon + tolerance(spread) {
                return Err(format!(
                    "at t = {:.3} the clocks are {spread:.6} apart, above ε = {:.6} (d = {}, κ = {:.0} ppm)",
                    time.now,
                    b.epsilon,
                    b.d,
                    b.kappa * 1e6
                ));
            }
            Ok(())
        };
        let me = self.clone();
        let no_anomaly = move |w: &World<'_, Node>| {
            let time = true_time(w)?;
            let Some(b) = me.bound(&anomaly_cache, w, time)? else { return Ok(()) };
            if b.epsilon >= me.mu * (1.0 - b.kappa) || time.now < b.warm_up + me.mu + me.xi {
                return Ok(());
            }
            for i in w.live() {
                // Judged in the receipt's own event: the reading it recorded is the one now.
                let Some(r) = w.nodes[i].last_receipt.filter(|r| r.after.value() == time.reading(i)) else {
                    continue;
                };
                if r.before <= r.stamp {
                    return Err(format!(
                        "node {i} read {} when TIME({}) from node {} arrived: a message from its future",
                        r.before, r.stamp, r.from
                    ));
                }
            }
            Ok(())
        };
        let mu = self.mu;
        Properties {
            invariants: vec![
                Invariant::<Node>::global(NEVER_BACKWARDS, never_backwards),
                Invariant::<Node>::global(MU_AT_MOST_MIN_DELAY, move |w| mu_at_most_min_delay(mu, w)),
                Invariant::<Node>::global(PRECISION, precision),
                Invariant::<Node>::global(NO_ANOMALY, no_anomaly),
            ],
            terminal: vec![Terminal::new(ALL_PERIODS, |w: &World<'_, Node>| {
                match w.live().find(|&i| w.nodes[i].sent_periods < w.nodes[i].periods) {
                    Some(i) => {
                        Err(format!("node {i} sent {} of {} rounds", w.nodes[i].sent_periods, w.nodes[i].periods))
                    }
                    None => Ok(()),
                }
            })],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let periods = f64::from(self.periods);
        match facts.topology {
            Some(t) => {
                let edges: usize = (0..t.len()).map(|i| t.neighbours(NodeId(i as u32)).len()).sum();
                vec![Expectation::exact("TIME", "E·periods", edges as f64 * periods)]
            }
            None => {
                let n = facts.n as f64;
                vec![Expectation::at_most("TIME", "n(n−1)·periods", n * (n - 1.0) * periods)]
            }
        }
    }
}

#[cfg(test)]
#[path = "physical_clocks_tests.rs"]
mod tests;

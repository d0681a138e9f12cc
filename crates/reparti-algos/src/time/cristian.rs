//! # Cristian (1989): ask a time server, add half the round trip
//!
//! **What.** Node 0 is a time server; every other node is a client that wants its clock
//! close to the server's. A client sends `REQUEST` at its local time `T0`; the server
//! answers `REPLY(T)` with its clock; the client receives it at `T1` and, knowing the
//! reply travelled about half the round trip `RTT = T1 − T0`, sets `C := T + RTT/2`.
//! Repeating the exchange and keeping the sample with the smallest RTT tightens the
//! bound, since the error of a sample is at most `RTT/2 − min`.
//!
//! **Source.** F. Cristian, "Probabilistic clock synchronization", Distributed
//! Computing 3(3):146–158, 1989 (the reading rule and its error bound, §3; repeated
//! attempts until a round trip is short enough, §4).
//!
//! ```text
//! client P, `samples` times, one exchange at a time:
//!     T0 := C; send REQUEST to S
//!     on REPLY(T) from S:  T1 := C; RTT := T1 − T0
//!         if RTT < best:  best := RTT; C := T + RTT/2        (step, or slew by T+RTT/2 − T1)
//!         wait `period`, then the next exchange
//! server S: on REQUEST from P: send REPLY(C_S) to P
//! ```
//!
//! **How it runs here.** Topology `star` (centred on node 0) or `complete`: node 0 is
//! the server, whatever the topology says of the others. A client adjusts on every
//! sample that beats its best so far — so its last adjustment is the best sample's, and
//! each adjustment is judged at the very instant it is made. `correction=slew` spreads
//! the correction (never backwards, at the fastest rate the framework allows) and waits
//! until it is applied before the next request: a measurement taken while the clock is
//! being slewed would time the round trip with a clock running at the wrong rate. After
//! each adjustment the client outputs `clock_bound` = RTT/2, the bound it knows of (it
//! does not know `min`); after its last sample (and slew) it outputs `synchronized`.
//! Exchanges are matched by a sequence number; a stale or duplicated reply is ignored.
//!
//! **Which `min`.** Say the request takes `a` and the reply `b`, with `a ≥ m₁ =
//! min(P→S)` and `b ≥ m₂ = min(S→P)`. When P reads `T1`, the server's clock reads `T +
//! b`, with `b ∈ [m₂, RTT − m₁]`, so the error `T + RTT/2 − (T + b)` lies in
//! `[−(RTT/2 − m₁), RTT/2 − m₂]`. The bound therefore uses the *one-way* minimum, the
//! smaller of the two channels' when they differ: `|C_P − C_S| ≤ RTT/2 − min(m₁, m₂)`
//! — not the round trip's minimum `m₁ + m₂`, which would claim twice the precision.
//!
//! **Pitfalls.**
//! * Forgetting the travel time of the reply, `C := T` (`broken=no-half-rtt`): the
//!   client is then always behind by `b`, outside `RTT/2 − min` whenever the reply took
//!   longer than the request; the property catches it in the simulator on almost any
//!   seed (with constant delays the bound is 0 and every sample fails it).
//! * Using the round trip's minimum, or the mean delay, in the bound: see above.
//! * Two exchanges in flight while the clock is stepped: the RTT of the older one then
//!   mixes two clocks. One exchange at a time rules it out.
//! * A step may move the clock backwards: timestamps taken before and after it compare
//!   wrongly. Use `correction=slew` when that matters (Berkeley's slaves slew for that
//!   reason).
//! * Drift: a clock set at t is off by `(ρ_P − ρ_S)·Δt` Δt later; Cristian's clients
//!   resynchronize periodically for that reason.
//!
//! **Properties.** After every event, judged from the true clocks (the simulator's
//! `World::time`), at the instant of each adjustment: *Cristian's bound* `|C_P − C_S| ≤
//! RTT/2 − min`, with `C_P` the client's clock once its correction is applied and a
//! slack for drift over the round trip, `(|ρ_P| + |ρ_S|)·RTT` (the RTT is timed by a
//! drifting clock, and the server's clock moves on while the reply travels). At the
//! end: *every client synchronized*: it made its `samples` exchanges and its clock is
//! within its best sample's bound, plus the drift since that sample.
//!
//! **Costs.** Exactly 2 messages per attempt (`REQUEST` + `REPLY`): `samples·(n−1)`
//! of each, `2·samples·(n−1)` in all.
//!
//! **Checker.** Refused: it reads continuous physical time, which the checker cannot
//! enumerate; `reparti sim` and `reparti run` judge every property instead.

use reparti_core::physical_clock::{TrueTime, MAX_SLEW_RATE};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, ClockTime, Context, Expectation, Invariant, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, Terminal, Timer, World,
};
use serde::{Deserialize, Serialize};

/// The invariant judged at each adjustment.
pub const CRISTIAN_BOUND: &str = "Cristian's bound: |C_P − C_S| ≤ RTT/2 − min after each adjustment";
/// The terminal property.
pub const SYNCHRONIZED: &str = "every client synchronized within its best sample's bound";

/// The topologies a client–server exchange runs on (node 0 is the server).
pub const TOPOLOGIES: &[&str] = &["star", "complete"];

/// The timer between two exchanges.
pub const NEXT_REQUEST: Timer = "request";
/// The timer that ends a client's last slew.
pub const SETTLED: Timer = "settled";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("samples", "8", 1, 10_000, "exchanges per client; it keeps the one with the smallest round trip"),
    ParamSpec::real("period", "10", 0.0, 1e6, "time units a client waits after a reply before its next request"),
    ParamSpec::choice(
        "correction",
        "step",
        &["step", "slew"],
        "step: C := T + RTT/2 at once (may go back); slew: spread it, never backwards",
    ),
    ParamSpec::choice(
        "broken",
        "none",
        &["none", "no-half-rtt"],
        "no-half-rtt = the classic bug: C := T, forgetting the reply's travel time",
    ),
];

/// How a client applies a correction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Correction {
    /// At once.
    Step,
    /// Spread over time, at the fastest rate the framework allows.
    Slew,
}

impl Correction {
    /// Reads the `correction` parameter.
    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(if params.get::<String>("correction")? == "slew" { Correction::Slew } else { Correction::Step })
    }

    /// Corrects the clock by `delta`; returns how long (real time units) until it is all
    /// applied.
    pub fn apply<M: Clone>(self, ctx: &mut Context<'_, M>, delta: f64) -> f64 {
        match self {
            Correction::Step => {
                ctx.adjust_clock(delta);
                0.0
            }
            Correction::Slew => {
                let over = delta.abs() / MAX_SLEW_RATE;
                ctx.slew_clock(delta, over);
                over
            }
        }
    }
}

/// `1 + ρ` and `|ρ|` of node `i`'s hardware clock.
pub fn drift_of(time: &TrueTime<'_>, i: usize) -> (f64, f64) {
    let setting = time.clocks[i].setting();
    (setting.rate(), (setting.drift_ppm * 1e-6).abs())
}

/// What float arithmetic on readings of this size may lose.
pub fn float_slack(reading: f64) -> f64 {
    1e-9 * (1.0 + reading.abs())
}

/// Cristian's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "What time is it?", numbered to match its reply.
    Request {
        /// The client's exchange number.
        seq: u32,
    },
    /// The server's clock when it answered.
    Reply {
        /// The request's number.
        seq: u32,
        /// `T`: the server's reading.
        time: ClockTime,
    },
}

/// One adjustment, kept to be judged at its instant and at the end.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Adjustment {
    /// The server's reading `T` in the reply.
    pub server_time: ClockTime,
    /// The round trip `T1 − T0`, on the client's clock.
    pub rtt: ClockTime,
    /// What the client believes the server's clock reads at `T1` (`T + RTT/2`).
    pub estimate: ClockTime,
    /// The client's reading once the handler is over: `estimate` after a step, `T1`
    /// when a slew has only begun. While the true reading still equals it, it is the
    /// instant of the adjustment.
    pub at: ClockTime,
}

/// One node: the server (node 0) or a client.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// Exchanges to make.
    pub samples: u32,
    /// Time units between a reply and the next request.
    pub period: ClockTime,
    /// Step or slew.
    pub correction: Correction,
    /// The broken variant: `C := T`.
    pub broken: bool,
    /// Requests sent.
    pub sent: u32,
    /// Replies taken.
    pub replies: u32,
    /// The exchange under way: its number and `T0`.
    pub waiting: Option<(u32, ClockTime)>,
    /// The adjustment made from the best sample so far.
    pub best: Option<Adjustment>,
    /// Done: every sample taken and every correction applied.
    pub done: bool,
}

impl Node {
    fn is_server(&self) -> bool {
        self.me == NodeId(0)
    }

    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.sent += 1;
        self.waiting = Some((self.sent, ctx.clock()));
        ctx.send(NodeId(0), Msg::Request { seq: self.sent });
    }

    fn take_reply(&mut self, seq: u32, time: ClockTime, ctx: &mut Context<'_, Msg>) {
        let Some((expected, t0)) = self.waiting else {
            ctx.log(format!("REPLY {seq} with no exchange under way: ignored"));
            return;
        };
        if seq != expected {
            ctx.log(format!("REPLY {seq} while waiting for {expected}: ignored"));
            return;
        }
        self.waiting = None;
        self.replies += 1;
        let t1 = ctx.clock();
        let rtt = t1 - t0;
        let mut settle = 0.0;
        if self.best.is_none_or(|b| rtt < b.rtt.value()) {
            let estimate = if self.broken { time } else { time + rtt / 2.0 };
            settle = self.correction.apply(ctx, estimate - t1);
            self.best = Some(Adjustment { server_time: time, rtt: ClockTime(rtt), estimate, at: ctx.clock() });
            ctx.output("clock_bound", format!("{:.3}", rtt / 2.0));
        }
        if self.sent < self.samples {
            ctx.set_timer(NEXT_REQUEST, self.period.value().max(settle));
        } else if settle > 0.0 {
            ctx.set_timer(SETTLED, settle);
        } else {
            self.finish(ctx);
        }
    }

    fn finish(&mut self, ctx: &mut Context<'_, Msg>) {
        self.done = true;
        let bound = self.best.map(|b| b.rtt.value() / 2.0).unwrap_or(0.0);
        ctx.output("synchronized", format!("{bound:.3}"));
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.is_server() {
            self.done = true;
        } else if self.samples > 0 {
            self.request(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match (self.is_server(), msg) {
            (true, Msg::Request { seq }) => {
                let time = ctx.clock();
                ctx.send(from, Msg::Reply { seq, time });
            }
            (false, Msg::Reply { seq, time }) if from == NodeId(0) => self.take_reply(seq, time, ctx),
            (_, msg) => ctx.log(format!("{} from {from} is not for this node: ignored", msg.kind_name())),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        match timer {
            NEXT_REQUEST if self.waiting.is_none() && self.sent < self.samples => self.request(ctx),
            SETTLED if !self.done => self.finish(ctx),
            _ => {}
        }
    }
}

/// Cristian's probabilistic clock synchronization. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Cristian {
    samples: u32,
    period: f64,
    correction: Correction,
    broken: bool,
}

/// The error of client `i`'s adjustment `a` at its instant, and the bound it must meet.
fn judged_at_adjustment(time: &TrueTime<'_>, i: usize, a: &Adjustment) -> (f64, f64) {
    let corrected = time.reading(i) + (a.estimate - a.at);
    let error = (corrected - time.reading(0)).abs();
    let min = (time.min_delay)(NodeId(i as u32), NodeId(0)).min((time.min_delay)(NodeId(0), NodeId(i as u32)));
    let ((rate_p, rho_p), (_, rho_s)) = (drift_of(time, i), drift_of(time, 0));
    let drift = (rho_p + rho_s) * a.rtt.value() / rate_p;
    (error, a.rtt.value() / 2.0 - min + drift + float_slack(corrected))
}

fn cristian_bound(w: &World<'_, Node>) -> Result<(), String> {
    let Some(time) = w.time else { return Ok(()) };
    for i in w.live().filter(|&i| i > 0) {
        let Some(a) = w.nodes[i].best else { continue };
        // Only at the instant of the adjustment: the reading is still the one it left.
        if time.reading(i) != a.at.value() {
            continue;
        }
        let (error, bound) = judged_at_adjustment(time, i, &a);
        if error > bound {
            return Err(format!(
                "client {i} set C = {:.6} (T = {:.6}, RTT = {:.6}) while the server read {:.6}: |C_P − C_S| = {error:.6} > {bound:.6}",
                a.estimate.value(),
                a.server_time.value(),
                a.rtt.value(),
                time.reading(0)
            ));
        }
    }
    Ok(())
}

fn every_client_synchronized(w: &World<'_, Node>) -> Result<(), String> {
    for i in w.live().filter(|&i| i > 0) {
        let node = &w.nodes[i];
        if !node.done || node.replies < node.samples {
            return Err(format!("client {i} took {} of {} samples", node.replies, node.samples));
        }
        let (Some(time), Some(a)) = (w.time, node.best) else { continue };
        let min = (time.min_delay)(NodeId(i as u32), NodeId(0)).min((time.min_delay)(NodeId(0), NodeId(i as u32)));
        let ((rate_p, rho_p), (rate_s, rho_s)) = (drift_of(time, i), drift_of(time, 0));
        // Real time since the server stamped the best reply, read off the server's
        // uncorrected clock.
        let since = (time.reading(0) - a.server_time.value()) / rate_s;
        let drift = (rho_p + rho_s) * (a.rtt.value() / rate_p + since);
        let bound = a.rtt.value() / 2.0 - min + drift + float_slack(time.reading(0));
        let error = (time.reading(i) - time.reading(0)).abs();
        if error > bound {
            return Err(format!("client {i} ends {error:.6} from the server, beyond its bound {bound:.6}"));
        }
    }
    Ok(())
}

impl Algorithm for Cristian {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: TOPOLOGIES,
            default_nodes: 4,
            reads_physical_clock: true,
            ..AlgorithmSpec::new(
                "cristian",
                Chapter::Time,
                "Cristian (1989): clients ask a time server and set C := T + RTT/2, keeping the smallest RTT",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Cristian {
            samples: params.get("samples")?,
            period: params.get("period")?,
            correction: Correction::from_params(params)?,
            broken: params.get::<String>("broken")? == "no-half-rtt",
        })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            samples: self.samples,
            period: ClockTime(self.period),
            correction: self.correction,
            broken: self.broken,
            sent: 0,
            replies: 0,
            waiting: None,
            best: None,
            done: false,
        }
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![Invariant::<Node>::global(CRISTIAN_BOUND, cristian_bound)],
            terminal: vec![Terminal::new(SYNCHRONIZED, every_client_synchronized)],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let per_kind = f64::from(self.samples) * facts.n.saturating_sub(1) as f64;
        vec![
            Expectation::exact("REQUEST", "samples·(n−1)", per_kind),
            Expectation::exact("REPLY", "samples·(n−1)", per_kind),
            Expectation::exact("total", "2·samples·(n−1)", 2.0 * per_kind),
        ]
    }
}

#[cfg(test)]
#[path = "cristian_tests.rs"]
pub(crate) mod tests;

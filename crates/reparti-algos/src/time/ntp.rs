//! # NTP-style offset and delay from four timestamps, with the clock filter
//!
//! **What.** Cristian's exchange, timestamped at both ends. The client stamps its
//! request `T1` when it sends it; the server stamps `T2` when the request arrives and
//! `T3` when its reply leaves; the client stamps `T4` when the reply arrives. Then
//!
//! * the offset of the server's clock from the client's is estimated as
//!   `θ = ((T2 − T1) + (T3 − T4)) / 2`,
//! * the round-trip delay, the server's holding time removed, is
//!   `δ = (T4 − T1) − (T3 − T2)`,
//!
//! and the true offset lies in `θ ± δ/2`. Neither clock needs to be right: differences
//! of one clock's readings cancel its offset. The *clock filter* keeps the last 8
//! samples and trusts the one with the smallest δ: it is the one whose bound is
//! tightest, the one least disturbed by queueing.
//!
//! **Source.** D. L. Mills, "Internet time synchronization: the Network Time Protocol",
//! IEEE Trans. Commun. 39(10):1482–1493, 1991 (θ, δ and the filter, §3); RFC 5905
//! (NTPv4), §8 (the on-wire protocol) and §10 (the clock filter: an 8-stage shift
//! register, the minimum-delay sample chosen, a sample used at most once).
//!
//! ```text
//! client, `samples` times, one exchange at a time:
//!     T1 := C; send REQUEST(T1)
//!     on REPLY(T1', T2, T3) with T1' = T1 (else bogus: drop):  T4 := C
//!         θ := ((T2 − T1) + (T3 − T4))/2;  δ := (T4 − T1) − (T3 − T2)
//!         push (θ, δ) into the filter; drop the oldest beyond 8
//!         s := the sample of least δ in the filter
//!         if s is newer than the last sample used: correct C by s.θ (slew); s is used
//!         wait `period`, then the next exchange
//! server: on REQUEST(T1) from P at T2: hold `hold` units; send REPLY(T1, T2, T3 := C)
//! ```
//!
//! **How it runs here.** Topology `star` or `complete`; node 0 is the server (a
//! stratum-1 server, say), the others its clients. The server answers its requests in
//! the order they came, each after `hold` time units (its processing time, which δ
//! removes: `T3 − T2`). A correction moves the client's clock, so the offsets kept in
//! the filter are re-based by it: each still says how far the server is from the clock
//! *as it is now*. The correction slews by default (`correction=step` steps), and the
//! client waits until it is applied before its next exchange: our slews run up to 50 %
//! fast or slow, and a round trip timed meanwhile would be wrong by as much (real NTP
//! slews at 500 ppm at most, where it does not matter). The exchange is matched by its
//! origin timestamp, as NTP does. After each correction the client outputs
//! `clock_bound` = δ/2 of the sample used; after its last sample (and slew)
//! `synchronized`. Departures from RFC 5905: no dispersion, jitter, poll-interval
//! adaptation, clock selection among servers or PLL/FLL discipline — the filtered
//! offset is applied whole; the filter and the four timestamps are the point here.
//!
//! **Pitfalls.**
//! * An asymmetric path: with the request taking `a` and the reply `b`, the error of θ
//!   is exactly `(a − b)/2`, and no client can see it (only `a + b` is measured). It is
//!   why the bound is δ/2 and not better: `--link-delay 1>0=const:9` with replies at 1
//!   leaves the client 4 units ahead of the server, for ever.
//! * Correcting by an old sample's θ after the clock has moved: stale offsets must be
//!   re-based (here) or the filter cleared (NTP does so on a step).
//! * Using a sample twice: the filter keeps the best sample for up to 8 polls; without
//!   the "newer than the last used" rule, the same correction would be applied again.
//! * Forgetting to remove `T3 − T2`: the server's processing time would count as
//!   network delay, and loosen δ for nothing.
//!
//! **Properties.** After every event, judged from the true clocks at the instant each
//! sample is taken: *NTP's bound* `|θ − θ_true| ≤ δ/2`, where `θ_true` is the server's
//! reading minus the client's (before any correction this sample causes). With drift the
//! true offset moves during the exchange, and δ is timed by a drifting clock: a slack of
//! `(|ρ_C| + |ρ_S|)·RTT` is allowed (RTT the real round trip, `(T4 − T1)/(1 + ρ_C)`). At
//! the end: *every client synchronized*: it took its samples, and its clock is within
//! δ/2 of the sample it used last, plus the drift since that sample.
//!
//! **Costs.** Exactly 2 messages per sample (`REQUEST` + `REPLY`): `samples·(n−1)` of
//! each, `2·samples·(n−1)` in all.
//!
//! **Checker.** Refused: it reads continuous physical time; `reparti sim` and `reparti
//! run` judge every property instead.

use super::cristian::{drift_of, float_slack, Correction, NEXT_REQUEST, SETTLED, TOPOLOGIES};
use reparti_core::physical_clock::TrueTime;
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, ClockTime, Context, Expectation, Invariant, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, Terminal, Timer, World,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The invariant judged on every sample.
pub const NTP_BOUND: &str = "NTP's bound: |θ − θ_true| ≤ δ/2 on every sample";
/// The terminal property.
pub const SYNCHRONIZED: &str = "every client synchronized within δ/2 of its last sample used";
/// How many samples the clock filter keeps (RFC 5905's 8-stage shift register).
pub const FILTER: usize = 8;
/// The server's timer between a request's arrival and its reply.
pub const HOLD: Timer = "hold";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("samples", "8", 1, 10_000, "exchanges per client"),
    ParamSpec::real("period", "10", 0.0, 1e6, "time units a client waits after a reply before its next request"),
    ParamSpec::real("hold", "1", 0.0, 1e6, "time units the server holds a request before replying (T3 − T2)"),
    ParamSpec::choice(
        "correction",
        "slew",
        &["step", "slew"],
        "slew: spread each correction, never backwards; step: apply it at once",
    ),
];

/// NTP's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// The client's request, stamped `T1`.
    Request {
        /// `T1`: the client's clock when it sent the request.
        origin: ClockTime,
    },
    /// The server's reply.
    Reply {
        /// `T1`, echoed: it matches the reply to its request.
        origin: ClockTime,
        /// `T2`: the server's clock when the request arrived.
        received: ClockTime,
        /// `T3`: the server's clock when the reply left.
        transmit: ClockTime,
    },
}

/// A request the server holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Held {
    /// Who asked.
    pub client: NodeId,
    /// Its `T1`.
    pub origin: ClockTime,
    /// `T2`.
    pub received: ClockTime,
}

/// One sample of the clock filter.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Sample {
    /// Its number (1, 2, …): "newer" is "greater".
    pub seq: u32,
    /// θ, re-based by every correction made since: the server's offset from the
    /// client's clock as it is now.
    pub offset: ClockTime,
    /// δ.
    pub delay: ClockTime,
    /// `T2`, the server's stamp (to date the sample on the server's clock).
    pub stamped: ClockTime,
    /// `T4 − T1`, the round trip on the client's clock, holding time included.
    pub round_trip: ClockTime,
}

/// The newest sample, as measured, kept to be judged at its instant.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Measured {
    /// θ as computed from the four timestamps.
    pub theta: ClockTime,
    /// δ.
    pub delay: ClockTime,
    /// `T4 − T1`.
    pub round_trip: ClockTime,
    /// `T4`: the client's reading when the reply arrived, before any correction.
    pub t4: ClockTime,
    /// The client's reading once the handler is over; while the true reading still
    /// equals it, it is the instant of the sample.
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
    /// Time units the server holds a request.
    pub hold: ClockTime,
    /// Step or slew.
    pub correction: Correction,
    /// Server: the requests it holds, in arrival order.
    pub held: VecDeque<Held>,
    /// Client: requests sent.
    pub sent: u32,
    /// Client: replies taken.
    pub replies: u32,
    /// Client: the `T1` of the exchange under way.
    pub waiting: Option<ClockTime>,
    /// Client: the clock filter, oldest first, at most [`FILTER`] samples.
    pub filter: VecDeque<Sample>,
    /// Client: the last sample used to correct the clock.
    pub used: Option<Sample>,
    /// Client: the newest sample as measured.
    pub last: Option<Measured>,
    /// Done: every sample taken and every correction applied.
    pub done: bool,
}

impl Node {
    fn is_server(&self) -> bool {
        self.me == NodeId(0)
    }

    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.sent += 1;
        let origin = ctx.clock();
        self.waiting = Some(origin);
        ctx.send(NodeId(0), Msg::Request { origin });
    }

    /// The server's reply to the oldest request it holds; the next one's timer.
    fn answer(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some(h) = self.held.pop_front() else { return };
        let transmit = ctx.clock();
        ctx.send(h.client, Msg::Reply { origin: h.origin, received: h.received, transmit });
        if let Some(next) = self.held.front() {
            // Its hold started when it arrived: what is left of it, on the server's clock.
            let due = next.received + self.hold.value();
            ctx.set_timer(HOLD, (due - transmit).max(0.0));
        }
    }

    /// The filter's choice: least δ, the newest among equals.
    fn filtered(&self) -> Option<Sample> {
        self.filter.iter().copied().min_by(|a, b| a.delay.cmp(&b.delay).then(b.seq.cmp(&a.seq)))
    }

    fn take_reply(&mut self, origin: ClockTime, t2: ClockTime, t3: ClockTime, ctx: &mut Context<'_, Msg>) {
        if self.waiting != Some(origin) {
            ctx.log(format!("REPLY for T1 = {origin} matches no request under way: bogus, dropped"));
            return;
        }
        self.waiting = None;
        self.replies += 1;
        let (t1, t4) = (origin, ctx.clock());
        let theta = ((t2 - t1) + (t3 - t4)) / 2.0;
        let delay = (t4 - t1) - (t3 - t2);
        let sample = Sample {
            seq: self.replies,
            offset: ClockTime(theta),
            delay: ClockTime(delay),
            stamped: t2,
            round_trip: ClockTime(t4 - t1),
        };
        if self.filter.len() == FILTER {
            self.filter.pop_front();
        }
        self.filter.push_back(sample);
        let mut settle = 0.0;
        if let Some(best) = self.filtered().filter(|b| self.used.is_none_or(|u| b.seq > u.seq)) {
            let correction = best.offset.value();
            settle = self.correction.apply(ctx, correction);
            for s in &mut self.filter {
                s.offset = s.offset - correction;
            }
            self.used = Some(best);
            ctx.output("clock_bound", format!("{:.3}", best.delay.value() / 2.0));
        }
        let round_trip = sample.round_trip;
        self.last =
            Some(Measured { theta: ClockTime(theta), delay: ClockTime(delay), round_trip, t4, at: ctx.clock() });
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
        let bound = self.used.map(|u| u.delay.value() / 2.0).unwrap_or(0.0);
        ctx.output("synchronized", format!("{bound:.3}"));
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.is_server() {
            self.done = true;
        } else {
            self.request(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match (self.is_server(), msg) {
            (true, Msg::Request { origin }) => {
                self.held.push_back(Held { client: from, origin, received: ctx.clock() });
                if self.held.len() == 1 {
                    ctx.set_timer(HOLD, self.hold.value());
                }
            }
            (false, Msg::Reply { origin, received, transmit }) if from == NodeId(0) => {
                self.take_reply(origin, received, transmit, ctx)
            }
            (_, msg) => ctx.log(format!("{} from {from} is not for this node: ignored", msg.kind_name())),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        match timer {
            HOLD if self.is_server() => self.answer(ctx),
            NEXT_REQUEST if self.waiting.is_none() && self.sent < self.samples => self.request(ctx),
            SETTLED if !self.done => self.finish(ctx),
            _ => {}
        }
    }
}

/// NTP-style offset and delay estimation with the clock filter. See the
/// [module documentation](self).
#[derive(Clone, Debug)]
pub struct Ntp {
    samples: u32,
    period: f64,
    hold: f64,
    correction: Correction,
}

/// `(|ρ_C| + |ρ_S|)·RTT`, RTT the real round trip timed `round_trip` by client `i`.
fn drift_over(time: &TrueTime<'_>, i: usize, round_trip: f64) -> f64 {
    let ((rate_c, rho_c), (_, rho_s)) = (drift_of(time, i), drift_of(time, 0));
    (rho_c + rho_s) * round_trip.abs() / rate_c
}

/// The measured error `θ − θ_true` of client `i`'s newest sample, at its instant.
pub fn sample_error(time: &TrueTime<'_>, m: &Measured) -> f64 {
    m.theta.value() - (time.reading(0) - m.t4.value())
}

fn ntp_bound(w: &World<'_, Node>) -> Result<(), String> {
    let Some(time) = w.time else { return Ok(()) };
    for i in w.live().filter(|&i| i > 0) {
        let Some(m) = w.nodes[i].last else { continue };
        if time.reading(i) != m.at.value() {
            continue;
        }
        let error = sample_error(time, &m).abs();
        let bound = m.delay.value() / 2.0 + drift_over(time, i, m.round_trip.value()) + float_slack(time.reading(0));
        if error > bound {
            return Err(format!(
                "client {i}: θ = {:.6}, δ = {:.6}, but the server is {:.6} ahead: |θ − θ_true| = {error:.6} > {bound:.6}",
                m.theta.value(),
                m.delay.value(),
                time.reading(0) - m.t4.value()
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
        let (Some(time), Some(u)) = (w.time, node.used) else { continue };
        let (rate_s, rho_s) = drift_of(time, 0);
        let (_, rho_c) = drift_of(time, i);
        let since = (time.reading(0) - u.stamped.value()) / rate_s;
        let bound = u.delay.value() / 2.0
            + drift_over(time, i, u.round_trip.value())
            + (rho_c + rho_s) * since
            + float_slack(time.reading(0));
        let error = (time.reading(0) - time.reading(i)).abs();
        if error > bound {
            return Err(format!("client {i} ends {error:.6} from the server, beyond δ/2 + drift = {bound:.6}"));
        }
    }
    Ok(())
}

impl Algorithm for Ntp {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: TOPOLOGIES,
            default_nodes: 4,
            reads_physical_clock: true,
            ..AlgorithmSpec::new(
                "ntp",
                Chapter::Time,
                "NTP-style (Mills 1991): offset θ and delay δ from four timestamps, the min-δ clock filter of 8",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Ntp {
            samples: params.get("samples")?,
            period: params.get("period")?,
            hold: params.get("hold")?,
            correction: Correction::from_params(params)?,
        })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            samples: self.samples,
            period: ClockTime(self.period),
            hold: ClockTime(self.hold),
            correction: self.correction,
            held: VecDeque::new(),
            sent: 0,
            replies: 0,
            waiting: None,
            filter: VecDeque::new(),
            used: None,
            last: None,
            done: false,
        }
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![Invariant::<Node>::global(NTP_BOUND, ntp_bound)],
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
#[path = "ntp_tests.rs"]
mod tests;

//! # A diffusing computation: work spreads from a root and dies out
//!
//! **What.** The basic computation termination detectors watch. Node 0, the root,
//! starts *active* holding `work` units of work; every other node starts *passive*. An
//! active node does one unit itself and hands the rest on in `WORK(units)` messages to
//! at most `fanout` neighbours; a receipt makes the receiver active and it does the
//! same with what it received. An active node becomes *passive* on its own, `period`
//! time units after its last activation. Every message carries at least one unit and
//! every activation does exactly one, so the computation always terminates, after
//! exactly `work` activations and `work − 1` messages, whatever the schedule.
//!
//! **Source.** The model of E. W. Dijkstra and C. S. Scholten, "Termination detection
//! for diffusing computations", *Information Processing Letters* 11(1):1–4, 1980 (a
//! single root starts; a process is active or passive; only active processes send; a
//! receipt activates; an active process becomes passive spontaneously), which EWD840
//! and EWD998 keep.
//!
//! ```text
//! root, at start:        units := work; activate()
//! on WORK(u):            units += u; activate()
//! activate():            active := true; do one unit (units −= 1)
//!                        split units over k = min(fanout, units) messages, each ≥ 1,
//!                        to neighbours chosen by h(seed, me, activation, k); units := 0
//!                        set the timer `period`
//! on the timer:          active := false
//! ```
//!
//! **How it runs here.** No randomness inside: destinations are a hash of the `seed`
//! parameter, the node and its activation count, so a run is a function of the
//! parameters and the schedule. The active period is a timer, so the checker tries every
//! order of "becomes passive" with the deliveries. The application outputs `passive`
//! (value 1) each time a node becomes passive: the last one is the moment of
//! termination, which [`super::detection_delay`] reads. Any topology whose nodes have
//! out-neighbours; detectors narrow it (Misra: the directed ring).
//!
//! **Pitfalls.**
//! * A message is work: a state with every node passive still has not terminated while
//!   a WORK message is in transit. [`super::terminated`] counts both.
//! * A node already active that receives more work does it at once and stays active,
//!   its passive timer restarted; becoming passive is never a consequence of a receipt.
//!
//! **Properties.** After every event: "work conserved" (units done + units in transit =
//! `work`). At quiescence: "terminated" (every node passive, nothing in transit) and
//! "every unit of work done".
//!
//! **Costs.** Exactly `work − 1` WORK messages and `work` activations, for every
//! schedule and size.
//!
//! **State count.** `reparti check diffusing -n 3 -p work=3`: 10 states; `work=4`: 34.

use super::Activity;
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError,
    ParamSpec, Params, Process, Properties, RunFacts, Terminal, Timer, World,
};
use serde::{Deserialize, Serialize};

/// The conservation invariant.
pub const WORK_CONSERVED: &str = "work conserved: units done + units in transit = work";
/// The terminal property of the basic computation.
pub const TERMINATED: &str = "terminated: every node passive, no WORK in transit";
/// The terminal property on the work.
pub const ALL_DONE: &str = "every unit of work done";
/// Output when a node becomes passive (value 1).
pub const PASSIVE: &str = "passive";
/// The active period.
pub const PASSIVE_TIMER: Timer = "passive";

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "work",
        "8",
        1,
        100_000,
        "units of work the root starts with (the computation sends work − 1 messages)",
    ),
    ParamSpec::int("fanout", "2", 1, 64, "an activation hands its units on to at most this many neighbours"),
    ParamSpec::real("period", "2", 0.001, 1e6, "how long a node stays active after its last activation"),
    ParamSpec::int("seed", "1", 0, i64::MAX, "seed of the deterministic choice of destinations"),
];

/// The one basic message: units of work.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// `units` units of work (at least one).
    Work {
        /// How many.
        units: u32,
    },
}

/// One node of the computation.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// Its position.
    pub me: NodeId,
    /// Whether it is active.
    pub active: bool,
    /// Units it did (one per activation).
    pub done: u32,
    /// Units held and not yet done or handed on: the root's work before it starts, else 0
    /// between events.
    pub units: u32,
    /// The work the root starts with (the root's share; 0 elsewhere).
    pub initial: u32,
    /// WORK messages it sent.
    pub sent: u32,
    /// The most messages one activation sends.
    pub fanout: u32,
    /// The active period, in thousandths of a time unit.
    pub period_millis: u64,
    /// The seed of the choice of destinations.
    pub seed: u64,
}

/// A 64-bit mix (splitmix64's finalizer): the deterministic pseudo-random function.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Node {
    /// Does one unit and hands the rest on, then stays active for the period.
    fn activate(&mut self, ctx: &mut Context<'_, Msg>) {
        self.active = true;
        self.units = self.units.saturating_sub(1);
        self.done += 1;
        let neighbours = ctx.neighbours();
        if neighbours.is_empty() {
            // Nowhere to hand work on: do it all here.
            self.done += self.units;
            self.units = 0;
        }
        let k = self.fanout.min(self.units);
        let (share, extra) = (self.units.checked_div(k).unwrap_or(0), self.units.checked_rem(k).unwrap_or(0));
        for m in 0..k {
            let h = mix(self.seed ^ mix(u64::from(self.me.0) << 32 | u64::from(self.done)) ^ u64::from(m));
            let to = neighbours.get((h % neighbours.len() as u64) as usize).unwrap_or(self.me);
            ctx.send(to, Msg::Work { units: share + u32::from(m < extra) });
            self.sent += 1;
        }
        self.units = 0;
        ctx.set_timer(PASSIVE_TIMER, self.period_millis as f64 / 1000.0);
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.initial > 0 {
            self.activate(ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let Msg::Work { units } = msg;
        self.units = self.units.saturating_add(units);
        self.activate(ctx);
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        if timer == PASSIVE_TIMER && self.active {
            self.active = false;
            ctx.output(PASSIVE, 1);
        }
    }
}

impl Activity for Node {
    fn active(&self) -> bool {
        self.active
    }
}

/// The diffusing computation. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Diffusing {
    work: u32,
    fanout: u32,
    period: f64,
    seed: u64,
}

fn in_transit(w: &World<'_, Node>) -> u64 {
    let mut units = 0u64;
    (w.in_flight)(&mut |_, _, Msg::Work { units: u }| units += u64::from(*u));
    units
}

fn conserved(w: &World<'_, Node>) -> Result<(), String> {
    let done: u64 = w.nodes.iter().map(|s| u64::from(s.done) + u64::from(s.units)).sum();
    let total: u64 = w.nodes.iter().map(|s| u64::from(s.initial)).sum();
    let moving = in_transit(w);
    match done + moving == total {
        true => Ok(()),
        false => Err(format!("{done} done + {moving} in transit ≠ {total}")),
    }
}

fn all_done(w: &World<'_, Node>) -> Result<(), String> {
    let done: u64 = w.nodes.iter().map(|s| u64::from(s.done)).sum();
    let total: u64 = w.nodes.iter().map(|s| u64::from(s.initial)).sum();
    match done == total {
        true => Ok(()),
        false => Err(format!("{done} of {total} units done")),
    }
}

fn terminated(w: &World<'_, Node>) -> Result<(), String> {
    if let Some(s) = w.nodes.iter().find(|s| s.active) {
        return Err(format!("node {} is still active", s.me));
    }
    match in_transit(w) {
        0 => Ok(()),
        u => Err(format!("{u} units still in transit")),
    }
}

impl Algorithm for Diffusing {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["complete", "bidir-ring", "ring", "line", "star", "tree", "grid", "torus", "hypercube"],
            default_nodes: 4,
            ..AlgorithmSpec::new(
                "diffusing",
                Chapter::Observation,
                "a diffusing computation: work spreads from the root and dies out (for termination detectors)",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Diffusing {
            work: params.get("work")?,
            fanout: params.get("fanout")?,
            period: params.get("period")?,
            seed: params.get("seed")?,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        match n < 2 {
            true => Err(format!("a diffusing computation spreads between nodes: give --nodes 2 or more (not {n})")),
            false => Ok(()),
        }
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            active: false,
            done: 0,
            units: if setup.me.0 == 0 { self.work } else { 0 },
            initial: if setup.me.0 == 0 { self.work } else { 0 },
            sent: 0,
            fanout: self.fanout,
            period_millis: (self.period * 1000.0).round().max(1.0) as u64,
            seed: self.seed,
        }
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![Invariant::<Node>::global(WORK_CONSERVED, conserved)],
            terminal: vec![Terminal::<Node>::new(TERMINATED, terminated), Terminal::<Node>::new(ALL_DONE, all_done)],
        }
    }

    fn expected(&self, _facts: &RunFacts<'_>) -> Vec<Expectation> {
        let m = f64::from(self.work - 1);
        vec![
            Expectation::exact("WORK", "work − 1 (every message carries ≥ 1 unit, every activation does 1)", m),
            Expectation::exact("total", "WORK (no control message)", m),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler_harness::{run, sends};
    use reparti_core::TopologyKind;

    fn node(me: u32, initial: u32) -> Node {
        Diffusing { work: initial, fanout: 2, period: 1.0, seed: 7 }.init(&NodeSetup::new(NodeId(me), 0, 4))
    }

    #[test]
    fn the_root_does_one_unit_and_splits_the_rest_over_fanout_messages() {
        let mut root = node(0, 6);
        let effects = run(&mut root, TopologyKind::Complete, NodeId(0), 4, |s, c| s.on_start(c));
        let units: Vec<u32> = sends(&effects).into_iter().map(|(_, Msg::Work { units })| units).collect();
        assert_eq!(units, vec![3, 2], "5 units left, split 3 + 2");
        assert!(root.active && root.done == 1 && root.units == 0);
        let again = run(&mut node(0, 6), TopologyKind::Complete, NodeId(0), 4, |s, c| s.on_start(c));
        assert_eq!(sends(&effects), sends(&again), "the choice is a function of the parameters");
        run(&mut root, TopologyKind::Complete, NodeId(0), 4, |s, c| s.on_timer(PASSIVE_TIMER, c));
        assert!(!root.active);
    }

    #[test]
    fn a_single_unit_is_done_and_sends_nothing() {
        let mut b = node(1, 0);
        let effects = run(&mut b, TopologyKind::Complete, NodeId(1), 4, |s, c| {
            s.on_message(NodeId(0), Msg::Work { units: 1 }, c)
        });
        assert!(sends(&effects).is_empty());
        assert!(b.active && b.done == 1);
    }
}

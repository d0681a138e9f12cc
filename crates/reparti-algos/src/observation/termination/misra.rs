//! # Misra (1983): termination detected by a marker on a cycle, over FIFO channels
//!
//! **What.** A marker travels along a fixed cycle C that traverses every channel. A
//! node turns black when it receives a basic message. The marker, held by a passive
//! node, counts the consecutive nodes it found white: at a black node it restarts from
//! 0, at a white one it adds 1; it whitens the node and moves on. When the count reaches
//! |C|, the marker has just traversed the whole cycle meeting only passive nodes that
//! received nothing since its previous visit — and, channels being FIFO, it flushed
//! every channel behind it: termination.
//!
//! **Source.** J. Misra, "Detecting termination of distributed computations using
//! markers", *Proceedings of the 2nd ACM Symposium on Principles of Distributed
//! Computing* (PODC), 1983, pp. 290–294.
//!
//! ```text
//! recv basic:             black := true
//! marker at i, passive:   count := black ? 0 : count + 1
//!                         if count = |C|: announce
//!                         else black := false; forward the marker along C
//! ```
//!
//! **How it runs here.** `diffusing+misra` on the directed ring (the only topology it
//! accepts): the basic messages go i → i+1 and so does the marker, so C is the ring and
//! |C| = n. Every node starts black; node 0 starts holding the marker, count 0. It
//! needs FIFO channels: the checker and the simulator use them unless told otherwise.
//!
//! **Pitfalls.**
//! * FIFO is the whole argument: on channels that reorder, the marker overtakes a basic
//!   message on the same channel, finds its receiver white, and the count reaches n
//!   while the message is still on its way. `reparti check diffusing+misra --network
//!   unordered` finds the false announcement.
//! * Counting from the marker's start rather than from the last black node: a node
//!   blackened behind the marker must restart the count.
//! * A C that misses a channel: a message on it is never flushed.
//!
//! **Properties.** After every event: exactly one marker; the detectors' safety; at
//! quiescence, the announcement ([`super::detector_properties`]).
//!
//! **Costs.** After termination at most 2|C| = 2n marker hops (one traversal to whiten
//! every node, one to count them), declared as `after:passive→announce:MARKER ≤ 2n` and
//! measured by the simulator on the run.
//!
//! **State count.** `reparti check diffusing+misra -n 3 -p work=3` (FIFO ring): 16
//! states; `work=4`: 37; `-n 4 -p work=6`: 71 — every property and liveness hold. With
//! `--network unordered`: a false announcement in 6 steps.

use super::{detector_node, detector_properties, run_app, Activity, Control, Detector, Wire};
use reparti_core::layer::{app_expected, layered_spec};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Layer, NodeId, NodeSetup, ParamError, Params, Process,
    Properties, RunFacts, Timer,
};
use serde::{Deserialize, Serialize};

/// The marker count.
pub const ONE_MARKER: &str = "exactly one marker";

/// The marker, with its count of consecutive white nodes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Marker {
    /// Consecutive white nodes found.
    pub count: u32,
}

impl Control for Marker {
    const KINDS: &'static [&'static str] = &["MARKER"];
    fn kind(&self) -> usize {
        0
    }
}

type Msg<P> = Wire<<P as Process>::Msg, Marker>;

/// A node: the application's, its colour, the marker when it holds it.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct MisraNode<P: Activity> {
    /// The application's node.
    pub app: P,
    /// Its position.
    pub me: NodeId,
    /// The length of the cycle (n on the ring).
    pub n: u32,
    /// Whether it received a basic message since the marker last left it.
    pub black: bool,
    /// The marker, while it holds it.
    pub marker: Option<Marker>,
    /// Whether it announced termination.
    pub announced: bool,
}

impl<P: Activity> MisraNode<P> {
    fn app_event(&mut self, ctx: &mut Context<'_, Msg<P>>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        run_app(&mut self.app, ctx, handler, |_| {});
    }

    /// The marker rule.
    fn settle(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        if self.announced || self.app.active() {
            return;
        }
        let Some(m) = self.marker.take() else { return };
        let count = if self.black { 0 } else { m.count + 1 };
        if count >= self.n {
            self.announced = true;
            self.marker = Some(Marker { count });
            ctx.log(format!("Misra: the marker found {count} white nodes in a row: termination"));
            ctx.output(super::ANNOUNCE, 1);
            return;
        }
        self.black = false;
        ctx.send(NodeId((self.me.0 + 1) % self.n), Wire::Ctl(Marker { count }));
    }
}

impl<P: Activity> Process for MisraNode<P> {
    type Msg = Msg<P>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        self.app_event(ctx, |a, c| a.on_start(c));
        self.settle(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg<P>, ctx: &mut Context<'_, Msg<P>>) {
        match msg {
            Wire::Basic(m) => {
                self.black = true;
                self.app_event(ctx, |a, c| a.on_message(from, m, c));
            }
            Wire::Ctl(m) => self.marker = Some(m),
        }
        self.settle(ctx);
    }

    detector_node!(events);
}

detector_node!(layer MisraNode);

/// The application `A` watched by Misra's marker. See the [module documentation](self).
pub struct Misra<A> {
    app: A,
}

impl<A: Algorithm> Algorithm for Misra<A>
where
    A::Node: Activity,
{
    type Node = MisraNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            topologies: &["ring"],
            ..layered_spec::<Self, A>("+misra", "termination detected by Misra's marker on the ring (FIFO)", &[], true)
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Misra { app: A::from_params(params)? })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        MisraNode {
            app: self.app.init(setup),
            me: setup.me,
            n: setup.n as u32,
            black: true,
            marker: (setup.me.0 == 0).then_some(Marker { count: 0 }),
            announced: false,
        }
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = detector_properties::<Self::Node>(self.app.properties());
        props.invariants.push(Invariant::<Self::Node>::count(
            ONE_MARKER,
            |s: &Self::Node| u64::from(s.marker.is_some()),
            |m: &Msg<A::Node>| u64::from(matches!(m, Wire::Ctl(_))),
            1,
            1,
        ));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.app.expected(facts));
        expected.push(super::delay_bound("MARKER", "2|C| = 2n", 2 * facts.n));
        expected
    }
}

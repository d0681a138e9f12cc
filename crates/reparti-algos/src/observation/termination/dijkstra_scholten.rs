//! # Dijkstra–Scholten (1980): termination of a diffusing computation, by signals
//!
//! **What.** Every basic message is eventually answered by one SIGNAL. A node that
//! receives a message while disengaged *engages*: the sender becomes its parent and the
//! answer is deferred; every other message is answered at once. A node's `deficit`
//! counts its messages not yet answered. An engaged node that is passive with a deficit
//! of 0 answers its parent and disengages. The engaged nodes form a tree rooted at the
//! root, which shrinks back to the root when the computation dies out: the root,
//! passive with a deficit of 0, announces termination.
//!
//! **Source.** E. W. Dijkstra and C. S. Scholten, "Termination detection for diffusing
//! computations", *Information Processing Letters* 11(1):1–4, 1980 (one signal per
//! message: "each edge carries as many signals as messages"); the tree invariant as
//! the TLA+ specification of EWD687a states it (`TreeWithRoot`).
//!
//! ```text
//! send basic m to j:  deficit += 1
//! on basic m from j:  active := true
//!                     if i ≠ root ∧ parent = ⊥: parent := j        (engage; answer deferred)
//!                     else send SIGNAL to j                        (answer at once)
//! when passive ∧ deficit = 0 ∧ parent ≠ ⊥: send SIGNAL to parent; parent := ⊥
//! on SIGNAL:          deficit −= 1
//! root: when passive ∧ deficit = 0: announce
//! ```
//!
//! **How it runs here.** `diffusing+dijkstra-scholten`: the application runs unchanged
//! underneath ([`reparti_core::layer`]); its root (node 0) is the root of the tree.
//! After each event the layer applies the "when" rules. Signals go back along the
//! channel the message came in on, so the topology must have channels both ways
//! (complete, bidirectional ring, line, star, tree, grid, torus, hypercube); any channel
//! order (non-FIFO is fine).
//!
//! **Pitfalls.**
//! * Answering the engaging message at once: the sender's deficit drops to 0 while the
//!   receiver is still working, and the root may announce while the work goes on.
//! * Disengaging while a message is unanswered (deficit > 0): a grandchild's work is
//!   no longer covered by any path to the root.
//! * An engaged node that receives more work answers it at once: only one parent.
//!
//! **Properties** (after every event): the engaged nodes form a tree rooted at the
//! root; Σ deficit = basic messages not yet answered (in transit, answer deferred, or
//! SIGNAL in transit); no deficit is negative; the detectors' safety, and at quiescence
//! the announcement ([`super::detector_properties`]).
//!
//! **Costs.** Exactly one SIGNAL per basic message: SIGNAL = WORK = work − 1. After
//! termination, at most depth ≤ n − 1 signals (the tree unwinds leaf to root), declared
//! as `after:passive→announce:SIGNAL ≤ n − 1` and measured by the simulator on the run.
//!
//! **State count.** `reparti check diffusing+dijkstra-scholten -n 3 -p work=3`: 18
//! states; `work=4`: 82; `-n 4 -p work=6`: 702 — every property and liveness hold.

use super::{detector_node, detector_properties, run_app, Activity, Control, Detector, Wire};
use reparti_core::layer::{app_expected, layered_spec};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Layer, Message, NodeId, NodeSetup, ParamError, Params,
    Process, Properties, RunFacts, Timer, World,
};
use serde::{Deserialize, Serialize};

/// The tree invariant.
pub const TREE: &str = "the engaged nodes form a tree rooted at the root";
/// The deficit invariant.
pub const DEFICITS: &str = "Σ deficit = basic messages not yet answered";
/// The sign invariant.
pub const NON_NEGATIVE: &str = "no deficit is negative";

/// The detector's one message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Signal;

impl Control for Signal {
    const KINDS: &'static [&'static str] = &["SIGNAL"];
    fn kind(&self) -> usize {
        0
    }
}

type Msg<P> = Wire<<P as Process>::Msg, Signal>;

/// A node: the application's, and its place in the tree.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct DsNode<P: Activity> {
    /// The application's node.
    pub app: P,
    /// Whether it is the root.
    pub root: bool,
    /// Its parent while engaged.
    pub parent: Option<NodeId>,
    /// Its basic messages not yet answered.
    pub deficit: i64,
    /// Whether it announced termination (the root only).
    pub announced: bool,
}

impl<P: Activity> DsNode<P> {
    fn app_event(&mut self, ctx: &mut Context<'_, Msg<P>>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        let DsNode { app, deficit, .. } = self;
        run_app(app, ctx, handler, |_| *deficit += 1);
    }

    /// The "when" rules: disengage, or (the root) announce.
    fn settle(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        if self.app.active() || self.deficit != 0 {
            return;
        }
        if self.root && !self.announced {
            self.announced = true;
            ctx.log("Dijkstra–Scholten: root passive, every message answered: termination");
            ctx.output(super::ANNOUNCE, 1);
        } else if let Some(parent) = self.parent.take() {
            ctx.send(parent, Wire::Ctl(Signal));
        }
    }
}

impl<P: Activity> Process for DsNode<P> {
    type Msg = Msg<P>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        self.app_event(ctx, |a, c| a.on_start(c));
        self.settle(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg<P>, ctx: &mut Context<'_, Msg<P>>) {
        match msg {
            Wire::Basic(m) => {
                let engage = !self.root && self.parent.is_none();
                self.app_event(ctx, |a, c| a.on_message(from, m, c));
                if engage {
                    self.parent = Some(from);
                } else {
                    ctx.send(from, Wire::Ctl(Signal));
                }
            }
            Wire::Ctl(Signal) => self.deficit -= 1,
        }
        self.settle(ctx);
    }

    detector_node!(events);
}

detector_node!(layer DsNode);

/// The application `A` watched by Dijkstra–Scholten. See the [module documentation](self).
pub struct DijkstraScholten<A> {
    app: A,
}

/// Every engaged node's parent chain reaches the root without a cycle.
fn tree<P: Activity>(w: &World<'_, DsNode<P>>) -> Result<(), String> {
    for (i, s) in w.nodes.iter().enumerate() {
        let mut at = (i, s);
        for _ in 0..=w.nodes.len() {
            match (at.1.root, at.1.parent) {
                (true, _) => break,
                (false, None) if at.0 == i => break,
                (false, None) => return Err(format!("node {i}'s chain reaches node {}, which is not engaged", at.0)),
                (false, Some(p)) => at = (p.index(), &w.nodes[p.index()]),
            }
        }
        if !at.1.root && at.1.parent.is_some() {
            return Err(format!("node {i}'s parent chain is a cycle"));
        }
    }
    Ok(())
}

fn deficits<P: Activity>(w: &World<'_, DsNode<P>>) -> Result<(), String> {
    let deficit: i64 = w.nodes.iter().map(|s| s.deficit).sum();
    let deferred = w.nodes.iter().filter(|s| s.parent.is_some()).count() as i64;
    let mut moving = 0i64;
    (w.in_flight)(&mut |_, _, _| moving += 1);
    match deficit == deferred + moving {
        true => Ok(()),
        false => Err(format!(
            "Σ deficit = {deficit}, but {moving} message(s) and signal(s) in transit + {deferred} deferred answer(s) = {}",
            deferred + moving
        )),
    }
}

impl<A: Algorithm> Algorithm for DijkstraScholten<A>
where
    A::Node: Activity,
{
    type Node = DsNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            topologies: &["complete", "bidir-ring", "line", "star", "tree", "grid", "torus", "hypercube"],
            ..layered_spec::<Self, A>(
                "+dijkstra-scholten",
                "termination detected by Dijkstra–Scholten (one SIGNAL per message)",
                &[],
                false,
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(DijkstraScholten { app: A::from_params(params)? })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        DsNode { app: self.app.init(setup), root: setup.me.0 == 0, parent: None, deficit: 0, announced: false }
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = detector_properties::<Self::Node>(self.app.properties());
        props.invariants.push(Invariant::<Self::Node>::global(TREE, tree));
        props.invariants.push(Invariant::<Self::Node>::global(DEFICITS, deficits));
        props.invariants.push(Invariant::<Self::Node>::local(NON_NEGATIVE, |s: &Self::Node| match s.deficit < 0 {
            true => Err(format!("deficit {}", s.deficit)),
            false => Ok(()),
        }));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.app.expected(facts));
        let basic = <A::Node as Process>::Msg::kinds().join("+");
        expected.push(Expectation::exact("SIGNAL", "one per basic message", facts.measured(&basic) as f64));
        expected.push(super::delay_bound("SIGNAL", "n − 1 (depth of the tree)", facts.n.saturating_sub(1)));
        expected
    }
}

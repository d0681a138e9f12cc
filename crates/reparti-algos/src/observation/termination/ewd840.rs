//! # Dijkstra–Feijen–van Gasteren (EWD840): a token ring with colours
//!
//! **What.** A token circulates on a ring 0 → n−1 → … → 1 → 0, passed on by passive
//! nodes only. A node that activates a node of higher index turns black; the token
//! turns black at a black node, which it whitens. Back at node 0, a white token at a
//! white, passive node 0 proves termination; otherwise node 0 starts a new round.
//!
//! **Source.** E. W. Dijkstra, W. H. J. Feijen and A. J. M. van Gasteren, "Derivation
//! of a termination detection algorithm for distributed computations", *Information
//! Processing Letters* 16(5):217–219, 1983 (EWD840); the invariant as the TLA+
//! specification EWD840 (tlaplus/Examples) states it.
//!
//! ```text
//! send basic from i to j:  if j > i: black_i := true
//! node i ≠ 0 holding the token, passive:  send TOKEN(black_i ? black : colour) to i−1; black_i := false
//! node 0 holding the token, passive:
//!     if token white ∧ ¬black_0: announce
//!     else send TOKEN(white) to n−1; black_0 := false
//! ```
//!
//! **How it runs here, and where it departs.** EWD840 assumes *instantaneous* basic
//! communication: a message activates its receiver at the moment it is sent. Message
//! passing has no such moment — a message in transit leaves both ends passive, and a
//! token passing them both would miss it. We restore the assumption with
//! acknowledgements: every basic message is answered by an ACK on receipt, and a node
//! counts as **active for the detector while it has a message unacknowledged**
//! (`passive'_i ≡ passive_i ∧ unacked_i = 0`). A message then never travels unseen: its
//! sender stays active' until after the receiver became active, which is what
//! instantaneous communication gives (the activation happens while the activator is
//! active). The blackening rule is unchanged, applied at the send; the invariant holds
//! with `passive'` and is checked after every event. The cost is one ACK per basic
//! message, which Safra's counters (EWD998) were invented to avoid.
//! `diffusing+ewd840`: node 0 starts holding a black token and, like every node, keeps
//! it while active (the TLA+ `InitiateProbe` does not wait). The token goes i → i−1
//! (complete graph, bidirectional ring); channels may reorder.
//! `fault=no-blacken` forgets to blacken on a send to a higher index.
//!
//! **Pitfalls.**
//! * Forgetting to blacken when activating a node *behind* the token (higher index,
//!   already visited): the token returns white and node 0 announces while that node
//!   works (`fault=no-blacken`, caught by the checker).
//! * Running EWD840 on asynchronous channels as written: the message in transit is
//!   invisible (hence the acknowledgements here, or Safra's counters).
//!
//! **Properties.** After every event: **Inv** `(∀ i > t: passive'_i) ∨ (∃ j ≤ t: black_j)
//! ∨ token black` with the token at `t` (held, or in transit to `t`); Σ unacked = WORK
//! and ACK messages in transit; exactly one token; the detectors' safety and the
//! announcement ([`super::detector_properties`]).
//!
//! **Costs.** n TOKEN messages per round and one ACK per basic message (ACK = WORK); after
//! termination at most 3n token passes (derived as for EWD998), declared as the expected
//! count `after:passive→announce:TOKEN ≤ 3n` and measured by the simulator on the run.
//!
//! **State count.** `reparti check diffusing+ewd840 -n 3 -p work=3`: 27 states;
//! `work=4`: 186; `-n 4 -p work=6`: 2,045 — every property and liveness hold. With
//! `-p fanout=1 -p seed=12 -p fault=no-blacken` (the root's work goes to node 1, which
//! passes a unit on to node 2 behind the token) the invariant breaks in 5 steps and,
//! with it set aside, node 0 announces while node 2 works in 9.

use super::{detector_node, detector_properties, ring_token, run_app, Activity, Control, Detector, Wire};
use reparti_core::layer::{app_expected, layered_spec};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Layer, Message, NodeId, NodeSetup, ParamError,
    ParamSpec, Params, Process, Properties, RunFacts, Timer, World,
};
use serde::{Deserialize, Serialize};

/// Dijkstra's invariant.
pub const INV: &str = "Inv: (∀ i > t: passive'_i) ∨ (∃ j ≤ t: black_j) ∨ token black";
/// The acknowledgement count.
pub const UNACKED: &str = "Σ unacked = basic messages and ACKs in transit";
/// The token count.
pub const ONE_TOKEN: &str = "exactly one token";

const OWN_PARAMS: &[ParamSpec] = &[ParamSpec::choice(
    "fault",
    "none",
    &["none", "no-blacken"],
    "EWD840: no-blacken = forget to blacken on a send to a higher index (for the tests)",
)];

/// The detector's messages.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Ctl {
    /// A basic message arrived.
    Ack,
    /// The token, with its colour.
    Token {
        /// Whether it is black.
        black: bool,
    },
}

impl Control for Ctl {
    const KINDS: &'static [&'static str] = &["ACK", "TOKEN"];
    fn kind(&self) -> usize {
        match self {
            Ctl::Ack => 0,
            Ctl::Token { .. } => 1,
        }
    }
}

type Msg<P> = Wire<<P as Process>::Msg, Ctl>;

/// A node: the application's, its colour, its unacknowledged messages, the token.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Ewd840Node<P: Activity> {
    /// The application's node.
    pub app: P,
    /// Its position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// Whether it activated a higher node since it last passed the token.
    pub black: bool,
    /// Basic messages sent and not yet acknowledged.
    pub unacked: u32,
    /// The token's colour (black: true), while it holds it.
    pub token: Option<bool>,
    /// Whether it announced termination (node 0 only).
    pub announced: bool,
    /// Whether it blackens on a send to a higher index (false: the broken variant).
    pub blacken: bool,
}

impl<P: Activity> Ewd840Node<P> {
    /// Passive for the detector: passive, and every message it sent acknowledged.
    pub fn passive(&self) -> bool {
        !self.app.active() && self.unacked == 0
    }

    fn app_event(&mut self, ctx: &mut Context<'_, Msg<P>>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        let Ewd840Node { app, me, unacked, black, blacken, .. } = self;
        run_app(app, ctx, handler, |to| {
            *unacked += 1;
            if to.0 > me.0 && *blacken {
                *black = true;
            }
        });
    }

    /// The passing rules.
    fn settle(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        if self.announced || !self.passive() {
            return;
        }
        let Some(token_black) = self.token.take() else { return };
        if self.me.0 == 0 {
            if !token_black && !self.black {
                self.announced = true;
                self.token = Some(token_black);
                ctx.log("EWD840: white token, white passive node 0: termination");
                ctx.output(super::ANNOUNCE, 1);
                return;
            }
            ctx.send(NodeId(self.n - 1), Wire::Ctl(Ctl::Token { black: false }));
        } else {
            ctx.send(NodeId(self.me.0 - 1), Wire::Ctl(Ctl::Token { black: token_black || self.black }));
        }
        self.black = false;
    }
}

impl<P: Activity> Process for Ewd840Node<P> {
    type Msg = Msg<P>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        self.app_event(ctx, |a, c| a.on_start(c));
        self.settle(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg<P>, ctx: &mut Context<'_, Msg<P>>) {
        match msg {
            Wire::Basic(m) => {
                self.app_event(ctx, |a, c| a.on_message(from, m, c));
                ctx.send(from, Wire::Ctl(Ctl::Ack));
            }
            Wire::Ctl(Ctl::Ack) => self.unacked = self.unacked.saturating_sub(1),
            Wire::Ctl(Ctl::Token { black }) => self.token = Some(black),
        }
        self.settle(ctx);
    }

    detector_node!(events);
}

detector_node!(layer Ewd840Node);

/// The application `A` watched by EWD840 with acknowledgements. See the [module
/// documentation](self).
pub struct Ewd840<A> {
    app: A,
    blacken: bool,
}

fn inv<P: Activity>(w: &World<'_, Ewd840Node<P>>) -> Result<(), String> {
    let moving = |m: &Msg<P>| if let Wire::Ctl(Ctl::Token { black }) = m { Some(*black) } else { None };
    let (t, black) = ring_token(w, |s| s.token, moving)?;
    let after_passive = w.nodes[t + 1..].iter().all(Ewd840Node::passive);
    match after_passive || w.nodes[..=t].iter().any(|s| s.black) || black {
        true => Ok(()),
        false => Err(format!("token at {t}, white; nodes 0..={t} white; a node after {t} is active")),
    }
}

fn unacked<P: Activity>(w: &World<'_, Ewd840Node<P>>) -> Result<(), String> {
    let sum: u64 = w.nodes.iter().map(|s| u64::from(s.unacked)).sum();
    let mut moving = 0u64;
    (w.in_flight)(&mut |_, _, m| moving += u64::from(!matches!(m, Wire::Ctl(Ctl::Token { .. }))));
    match sum == moving {
        true => Ok(()),
        false => Err(format!("Σ unacked = {sum}, {moving} basic message(s) and ACK(s) in transit")),
    }
}

impl<A: Algorithm> Algorithm for Ewd840<A>
where
    A::Node: Activity,
{
    type Node = Ewd840Node<A::Node>;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            topologies: &["complete", "bidir-ring"],
            ..layered_spec::<Self, A>(
                "+ewd840",
                "termination detected by EWD840's coloured token (basic messages acknowledged)",
                OWN_PARAMS,
                false,
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Ewd840 { app: A::from_params(params)?, blacken: params.get::<String>("fault")? != "no-blacken" })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        Ewd840Node {
            app: self.app.init(setup),
            me: setup.me,
            n: setup.n as u32,
            black: false,
            unacked: 0,
            token: (setup.me.0 == 0).then_some(true),
            announced: false,
            blacken: self.blacken,
        }
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = detector_properties::<Self::Node>(self.app.properties());
        props.invariants.push(Invariant::<Self::Node>::count(
            ONE_TOKEN,
            |s: &Self::Node| u64::from(s.token.is_some()),
            |m: &Msg<A::Node>| u64::from(matches!(m, Wire::Ctl(Ctl::Token { .. }))),
            1,
            1,
        ));
        props.invariants.push(Invariant::<Self::Node>::global(UNACKED, unacked));
        props.invariants.push(Invariant::<Self::Node>::global(INV, inv));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.app.expected(facts));
        let basic = <A::Node as Process>::Msg::kinds().join("+");
        expected.push(Expectation::exact("ACK", "one per basic message", facts.measured(&basic) as f64));
        expected.push(super::delay_bound("TOKEN", "3n", 3 * facts.n));
        expected
    }
}

//! # Safra (EWD998): termination detection on a ring, asynchronous and non-FIFO
//!
//! **What.** A token circulates on a ring 0 → n−1 → … → 1 → 0, passed on by passive
//! nodes only. Each node counts basic messages sent minus received (`c`) and turns
//! black when it receives one. The token adds up the counters it passes (`q`) and turns
//! black at a black node, which it whitens. Back at node 0, a white token at a white,
//! passive node 0 with `c_0 + q = 0` proves termination; otherwise node 0 starts a new
//! round. No per-message control traffic: n TOKEN messages per round.
//!
//! **Source.** E. W. Dijkstra, "Shmuel Safra's version of termination detection",
//! EWD998, 1987; the invariant `Inv == P0 ∧ (P1 ∨ P2 ∨ P3 ∨ P4)` as the TLA+
//! specification EWD998 (tlaplus/Examples) states it.
//!
//! ```text
//! send basic:   c += 1
//! recv basic:   c −= 1; black := true; active := true
//! node i ≠ 0 holding the token, passive:  send TOKEN(q + c_i, black_i ? black : colour) to i−1; black := false
//! node 0 holding the token, passive:
//!     if token white ∧ ¬black_0 ∧ c_0 + q = 0: announce
//!     else send TOKEN(0, white) to n−1; black_0 := false
//! ```
//!
//! **How it runs here.** `diffusing+safra`: node 0 starts holding a black token (so its
//! first act is to start a round). After each event the layer applies the passing
//! rules. Node 0, like every node, keeps the token while it is active (EWD998 lets it
//! start a round while active; the round would be inconclusive at best when it returns
//! to an active node 0, and waiting spares it). The token goes i → i−1, so the topology must have those channels (complete,
//! bidirectional ring); channels may reorder. `fault=no-counter-test` is the classic
//! mistake of trusting the colours alone (it drops `c_0 + q = 0`).
//!
//! **Pitfalls.**
//! * Colours alone do not see a message in transit that nobody received yet: without
//!   the counter test (`fault=no-counter-test`) node 0 announces while a WORK message is
//!   on its way. The checker's shortest run shows it, and it replays in the simulator.
//! * Blackening the *sender* instead of the receiver: the receiver of a message sent
//!   behind the token is the one whose activity the token missed.
//! * A node must whiten itself when it passes the token, or one black node would make
//!   every later round inconclusive.
//!
//! **Properties.** After every event: **P0** `Σ c_i = basic messages in transit`; **Inv**
//! `P0 ∧ (P1 ∨ P2 ∨ P3 ∨ P4)` with the token at `t` (held, or in transit to `t`):
//! P1 — every node after `t` is passive and `q = Σ_{k>t} c_k`; P2 — `Σ_{k≤t} c_k + q > 0`;
//! P3 — some node `k ≤ t` is black; P4 — the token is black; exactly one token; the
//! detectors' safety and the announcement ([`super::detector_properties`]).
//!
//! **Costs.** n TOKEN messages per round; after termination, at most 3n token passes
//! (the round under way, one that whitens every node, one conclusive round), declared
//! as `after:passive→announce:TOKEN ≤ 3n` and measured by the simulator on the run.
//!
//! **State count.** `reparti check diffusing+safra -n 3 -p work=3`: 35 states; `work=4`:
//! 191; `-n 4 -p work=6`: 1,714 — every property holds, both liveness verdicts included.
//! The token waits for nothing, so it may lap the ring while a WORK message is on its
//! way; the checker's liveness assumes reliable channels deliver eventually, so that
//! lap, which starves a message for ever, is not held against Safra. With
//! `fault=no-counter-test`: a false announcement in 4 steps.

use super::{detector_node, detector_properties, ring_token, run_app, Activity, Control, Detector, Wire};
use reparti_core::layer::{app_expected, layered_spec};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Layer, NodeId, NodeSetup, ParamError, ParamSpec, Params,
    Process, Properties, RunFacts, Timer, World,
};
use serde::{Deserialize, Serialize};

/// P0.
pub const P0: &str = "P0: Σ c_i = basic messages in transit";
/// Safra's invariant.
pub const INV: &str = "Inv: P0 ∧ (P1 ∨ P2 ∨ P3 ∨ P4)";
/// The token count.
pub const ONE_TOKEN: &str = "exactly one token";

const OWN_PARAMS: &[ParamSpec] = &[ParamSpec::choice(
    "fault",
    "none",
    &["none", "no-counter-test"],
    "Safra: no-counter-test = announce on colours alone, without c_0 + q = 0 (for the tests)",
)];

/// The token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Token {
    /// The sum of the counters it passed.
    pub q: i64,
    /// Its colour.
    pub black: bool,
}

impl Control for Token {
    const KINDS: &'static [&'static str] = &["TOKEN"];
    fn kind(&self) -> usize {
        0
    }
}

type Msg<P> = Wire<<P as Process>::Msg, Token>;

/// A node: the application's, its counter, colour, and the token when it holds it.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SafraNode<P: Activity> {
    /// The application's node.
    pub app: P,
    /// Its position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// Basic messages sent minus received.
    pub c: i64,
    /// Whether it received a basic message since it last passed the token.
    pub black: bool,
    /// The token, while it holds it.
    pub token: Option<Token>,
    /// Whether it announced termination (node 0 only).
    pub announced: bool,
    /// Whether node 0 tests `c_0 + q = 0` (false: the broken variant).
    pub counter_test: bool,
}

impl<P: Activity> SafraNode<P> {
    fn app_event(&mut self, ctx: &mut Context<'_, Msg<P>>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        let SafraNode { app, c, .. } = self;
        run_app(app, ctx, handler, |_| *c += 1);
    }

    /// The passing rules.
    fn settle(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        if self.announced || self.app.active() {
            return;
        }
        let Some(t) = self.token.take() else { return };
        if self.me.0 == 0 {
            if !t.black && !self.black && (!self.counter_test || self.c + t.q == 0) {
                self.announced = true;
                self.token = Some(t);
                ctx.log(format!("Safra: white token, white node 0, c_0 + q = {}: termination", self.c + t.q));
                ctx.output(super::ANNOUNCE, 1);
                return;
            }
            ctx.send(NodeId(self.n - 1), Wire::Ctl(Token { q: 0, black: false }));
        } else {
            ctx.send(NodeId(self.me.0 - 1), Wire::Ctl(Token { q: t.q + self.c, black: t.black || self.black }));
        }
        self.black = false;
    }
}

impl<P: Activity> Process for SafraNode<P> {
    type Msg = Msg<P>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg<P>>) {
        self.app_event(ctx, |a, c| a.on_start(c));
        self.settle(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg<P>, ctx: &mut Context<'_, Msg<P>>) {
        match msg {
            Wire::Basic(m) => {
                self.c -= 1;
                self.black = true;
                self.app_event(ctx, |a, c| a.on_message(from, m, c));
            }
            Wire::Ctl(t) => self.token = Some(t),
        }
        self.settle(ctx);
    }

    detector_node!(events);
}

detector_node!(layer SafraNode);

/// The application `A` watched by Safra's detector. See the [module documentation](self).
pub struct Safra<A> {
    app: A,
    counter_test: bool,
}

fn token_of<P: Activity>(w: &World<'_, SafraNode<P>>) -> Result<(usize, Token), String> {
    ring_token(w, |s| s.token, |m| if let Wire::Ctl(t) = m { Some(*t) } else { None })
}

fn p0<P: Activity>(w: &World<'_, SafraNode<P>>) -> Result<(), String> {
    let sum: i64 = w.nodes.iter().map(|s| s.c).sum();
    let mut moving = 0i64;
    (w.in_flight)(&mut |_, _, m| moving += i64::from(matches!(m, Wire::Basic(_))));
    match sum == moving {
        true => Ok(()),
        false => Err(format!("Σ c_i = {sum}, {moving} basic message(s) in transit")),
    }
}

/// `Inv`, the disjuncts named when all fail.
fn inv<P: Activity>(w: &World<'_, SafraNode<P>>) -> Result<(), String> {
    p0(w)?;
    let (t, token) = token_of(w)?;
    let after = &w.nodes[t + 1..];
    let upto = &w.nodes[..=t];
    let p1 = after.iter().all(|s| !s.app.active()) && token.q == after.iter().map(|s| s.c).sum::<i64>();
    let p2 = upto.iter().map(|s| s.c).sum::<i64>() + token.q > 0;
    let p3 = upto.iter().any(|s| s.black);
    match p1 || p2 || p3 || token.black {
        true => Ok(()),
        false => Err(format!("token at {t} with {token:?}: P1, P2, P3 and P4 all false")),
    }
}

impl<A: Algorithm> Algorithm for Safra<A>
where
    A::Node: Activity,
{
    type Node = SafraNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            topologies: &["complete", "bidir-ring"],
            ..layered_spec::<Self, A>(
                "+safra",
                "termination detected by Safra's token with counters (EWD998; non-FIFO)",
                OWN_PARAMS,
                false,
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Safra { app: A::from_params(params)?, counter_test: params.get::<String>("fault")? != "no-counter-test" })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        let first = setup.me.0 == 0;
        SafraNode {
            app: self.app.init(setup),
            me: setup.me,
            n: setup.n as u32,
            c: 0,
            black: false,
            token: first.then_some(Token { q: 0, black: true }),
            announced: false,
            counter_test: self.counter_test,
        }
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = detector_properties::<Self::Node>(self.app.properties());
        props.invariants.push(Invariant::<Self::Node>::count(
            ONE_TOKEN,
            |s: &Self::Node| u64::from(s.token.is_some()),
            |m: &Msg<A::Node>| u64::from(matches!(m, Wire::Ctl(_))),
            1,
            1,
        ));
        props.invariants.push(Invariant::<Self::Node>::global(P0, p0));
        props.invariants.push(Invariant::<Self::Node>::global(INV, inv));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.app.expected(facts));
        expected.push(super::delay_bound("TOKEN", "3n", 3 * facts.n));
        expected
    }
}

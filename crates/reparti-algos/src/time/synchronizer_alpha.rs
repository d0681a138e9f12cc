//! # Awerbuch's synchronizer α: rounds over an asynchronous network, with ACK and SAFE
//!
//! **What.** Runs any algorithm written in rounds ([`RoundProcess`]) on a network with
//! arbitrary delays, FIFO or not, so that every node computes exactly what it would in
//! lock step. Each basic message is acknowledged; a node whose messages of round r are
//! all acknowledged is *safe* for r and says so to every neighbour (SAFE); it moves to
//! round r+1 once it is safe and has heard SAFE(r) from every neighbour. Then every
//! message a neighbour sent it in round r has arrived: the round's inbox is complete.
//!
//! **Source.** B. Awerbuch, "Complexity of network synchronization", JACM
//! 32(4):804–823, 1985 (synchronizer α; β and γ are its tree-based and clustered
//! siblings); also N. Lynch, *Distributed Algorithms*, 1996, ch. 16 (`AlphaSynch`).
//!
//! ```text
//! start round r:    send msgs(r), each as BASIC(r, m); unacked ← #sent
//!                   if unacked = 0: safe for r → send SAFE(r) to every neighbour
//! on BASIC(r', m) from j:   send ACK(r') to j; inbox[r'] += (j, m)       (r' is r or r+1)
//! on ACK(r):        unacked −= 1; if unacked = 0: send SAFE(r) to every neighbour
//! on SAFE(r') from j:       safe_from[r'] += j
//! when safe for r ∧ safe_from[r] ⊇ neighbours:
//!                   trans(r, inbox[r] sorted by sender); unless halted: start round r+1
//! on halting after round r: send SAFE(r+1, final) to every neighbour (safe for good)
//! ```
//!
//! **How it runs here.** Named `STEM-alpha` in the catalogue (`bfs-alpha`): a
//! [`Process`] over the round algorithm's node, whose sends it lifts and tags (round,
//! rank). Basic messages keep the algorithm's own kinds (JOIN, CHILD…); α's are `ACK`
//! and `SAFE`, so counts and pictures tell them apart. A neighbour can be one round
//! ahead (it has all SAFE(r), this node not yet), so its round-(r+1) messages, and its
//! SAFE(r+1), are buffered per round, in maps keyed by round and sender. A round where
//! a node sends nothing to a neighbour still needs SAFE to it: the neighbour cannot
//! tell "nothing" from "not yet" otherwise. A node also waits to be safe itself before
//! moving on (the paper asks only for its neighbours' SAFE): it costs no message, and
//! one ACK count per node suffices instead of one per round. Halting is the other
//! addition to the paper, which runs pulses for ever: a halted node sends nothing
//! more, so it tells its neighbours once, with SAFE(r+1) marked final, that it is safe
//! for every later round; it still acknowledges (and drops) basic messages that reach
//! it. Parameter
//! `alpha_fault` keeps two classic mistakes for the checker: `early-safe` sends SAFE(r)
//! as soon as round r starts, before the ACKs; `some-neighbours` moves on after SAFE
//! from any one neighbour.
//!
//! **Pitfalls.**
//! * SAFE before the ACKs: "I sent my messages" is not "they arrived"; a neighbour that
//!   moves on may close round r with a message of r still on its way (caught: the
//!   message arrives after its round, and the global invariant below fails first).
//! * Waiting for the SAFE of *some* neighbours (those it got messages from): a silent
//!   neighbour may still have a message in transit. Every neighbour, every round.
//! * Buffering early messages in one list: a round-(r+1) message would be read in
//!   round r. Buffer per round.
//! * An ACK that carries no round, with the early-SAFE mistake, is counted against the
//!   wrong round: ACK(r) names its round, and a stale one is ignored (logged).
//!
//! **Properties.** The algorithm's own, plus after every event
//! [`IN_THEIR_ROUND`] (no basic message arrives after
//! its round closed at the receiver) and [`NEIGHBOURS_SAFE`], judged on the true global
//! state: a node that has closed round r has every neighbour safe for r — it has begun
//! r (or halted before), and none of its round-r messages is still in transit.
//!
//! **Costs.** (Awerbuch's C(α) = O(|E|) messages and T(α) = O(1) time per pulse.)
//! Exactly one ACK per basic message, and in each round every node that takes part
//! sends one SAFE per neighbour: 2|E| per round when all do. A node that runs R_v rounds
//! sends deg(v)·(R_v + 1) SAFE, the last one final; in all Σ_v deg(v)·(R_v + 1), which
//! is 2|E|·(R + 1) when every node runs R rounds. Declared exactly, with the R_v the
//! algorithm gives for the run's topology; the basic messages are the lock-step run's.

use super::rounds::{
    file, lift_round, neighbour_set, runner_spec, sorted, InRound, Inbox, RoundAlgorithm, RoundHost, RoundProcess,
    IN_THEIR_ROUND,
};
use reparti_core::layer::{kinds_with, per_type};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, RunFacts, World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The synchronizer's own invariant, on the true global state.
pub const NEIGHBOURS_SAFE: &str = "no node starts round r+1 before every neighbour is safe for r";

/// α's own parameter.
const OWN_PARAMS: &[ParamSpec] = &[ParamSpec::choice(
    "alpha_fault",
    "none",
    &["none", "early-safe", "some-neighbours"],
    "a classic mistake: SAFE before the ACKs, or the next round after SAFE from one neighbour only",
)];

/// Which mistake, if any, this α makes (param `alpha_fault`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Fault {
    /// Awerbuch's α.
    None,
    /// SAFE(r) sent when round r starts, before its ACKs.
    EarlySafe,
    /// Round r+1 starts after SAFE(r) from any one neighbour.
    SomeNeighbours,
}

/// α's messages: the algorithm's, tagged with their round, and its own two.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum AlphaMsg<M: Message> {
    /// A basic message: the algorithm's, of the round it was sent in.
    Basic(InRound<M>),
    /// "Your message of round `round` arrived."
    Ack {
        /// The round of the message acknowledged.
        round: u32,
    },
    /// "All my messages of round `round` arrived" — and, when `last`, of every later one:
    /// I have halted.
    Safe {
        /// The round.
        round: u32,
        /// The sender has halted: safe for this round and every later one.
        last: bool,
    },
}

impl<M: Message> Message for AlphaMsg<M> {
    fn kinds() -> &'static [&'static str] {
        kinds_with::<AlphaMsg<M>, M>(&["ACK", "SAFE"])
    }
    fn kind(&self) -> usize {
        match self {
            AlphaMsg::Basic(b) => b.msg.kind(),
            AlphaMsg::Ack { .. } => M::kinds().len(),
            AlphaMsg::Safe { .. } => M::kinds().len() + 1,
        }
    }
}

/// A node of α: the round algorithm's node and the synchronizer's bookkeeping.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct AlphaNode<P: RoundProcess> {
    /// The round algorithm's node.
    pub app: P,
    /// This node's position.
    pub me: NodeId,
    /// The round under way (0 before start; the last one run once halted).
    pub round: u32,
    /// Whether the algorithm has halted.
    pub halted: bool,
    /// The neighbours, laid at start.
    pub neighbours: BTreeSet<NodeId>,
    /// This round's basic messages not yet acknowledged.
    pub unacked: u32,
    /// SAFE for this round was sent.
    pub safe: bool,
    /// SAFE(r) received, by round (only rounds not yet closed are kept).
    pub safe_from: BTreeMap<u32, BTreeSet<NodeId>>,
    /// Neighbours that halted, with the first round they are safe for for good.
    pub finished: BTreeMap<NodeId, u32>,
    /// Basic messages received, by round (this one and the next).
    pub inbox: BTreeMap<u32, Inbox<P::Msg>>,
    /// The first message that came after its round closed, or went to a non-neighbour.
    pub fault: Option<String>,
    /// The mistake made on purpose, if any.
    pub mistake: Fault,
}

type Ctx<'a, P> = Context<'a, AlphaMsg<<P as RoundProcess>::Msg>>;

impl<P: RoundProcess> AlphaNode<P> {
    /// Starts round `self.round`: the algorithm's messages go out, awaiting their ACKs.
    fn begin(&mut self, ctx: &mut Ctx<'_, P>) {
        let round = self.round;
        let AlphaNode { app, neighbours, fault, .. } = self;
        self.unacked = lift_round(
            ctx,
            neighbours,
            fault,
            round,
            |c| app.send(round, c),
            |_, rank, msg| AlphaMsg::Basic(InRound { round, rank, msg }),
        );
        self.safe = false;
        if self.unacked == 0 || self.mistake == Fault::EarlySafe {
            self.announce_safe(ctx);
        }
    }

    fn announce_safe(&mut self, ctx: &mut Ctx<'_, P>) {
        self.safe = true;
        for &j in &self.neighbours {
            ctx.send(j, AlphaMsg::Safe { round: self.round, last: false });
        }
    }

    /// Whether neighbour `j` said it is safe for the round under way.
    fn heard_safe(&self, j: NodeId) -> bool {
        self.finished.get(&j).is_some_and(|&from| from <= self.round)
            || self.safe_from.get(&self.round).is_some_and(|s| s.contains(&j))
    }

    /// Safe, and SAFE heard from every neighbour (or, broken, from one).
    fn ready(&self) -> bool {
        if self.halted || !self.safe {
            return false;
        }
        match self.mistake {
            Fault::SomeNeighbours if !self.neighbours.is_empty() => self.neighbours.iter().any(|&j| self.heard_safe(j)),
            _ => self.neighbours.iter().all(|&j| self.heard_safe(j)),
        }
    }

    /// Closes every round that can be closed, starting the next ones.
    fn advance(&mut self, ctx: &mut Ctx<'_, P>) {
        while self.ready() {
            let round = self.round;
            let inbox = sorted(self.inbox.remove(&round).unwrap_or_default());
            self.safe_from.remove(&round);
            let AlphaNode { app, neighbours, fault, .. } = self;
            let sent = lift_round(
                ctx,
                neighbours,
                fault,
                round,
                |c| app.receive(round, &inbox, c),
                |_, rank, msg| AlphaMsg::Basic(InRound { round, rank, msg }),
            );
            if sent > 0 {
                self.fault.get_or_insert_with(|| format!("round {round}: messages sent while receiving"));
            }
            if self.app.halted() {
                self.halted = true;
                self.safe_from.clear();
                for &j in &self.neighbours {
                    ctx.send(j, AlphaMsg::Safe { round: round + 1, last: true });
                }
                return;
            }
            self.round += 1;
            self.begin(ctx);
        }
    }

    fn on_basic(&mut self, from: NodeId, b: InRound<P::Msg>, ctx: &mut Ctx<'_, P>) {
        ctx.send(from, AlphaMsg::Ack { round: b.round });
        let closed = if self.halted { self.round } else { self.round.saturating_sub(1) };
        if b.round <= closed {
            self.fault.get_or_insert_with(|| {
                format!(
                    "node {}: a message of round {} from {from} arrived after the round closed (round {} {})",
                    self.me,
                    b.round,
                    self.round,
                    if self.halted { "was its last" } else { "under way" }
                )
            });
        } else if self.halted {
            ctx.log(format!("{} of round {} from {from}: halted, ignored", b.msg.kind_name(), b.round));
        } else {
            file(self.inbox.entry(b.round).or_default(), from, b.rank, b.msg);
        }
    }
}

impl<P: RoundProcess> Process for AlphaNode<P> {
    type Msg = AlphaMsg<P::Msg>;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, P>) {
        self.neighbours = neighbour_set(ctx);
        if self.app.halted() {
            self.halted = true;
            return;
        }
        self.round = 1;
        self.begin(ctx);
        self.advance(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, P>) {
        match msg {
            AlphaMsg::Basic(b) => self.on_basic(from, b, ctx),
            AlphaMsg::Ack { round } => {
                if self.halted || round != self.round || self.unacked == 0 {
                    ctx.log(format!("ACK of round {round} from {from}, not awaited in round {}: ignored", self.round));
                    return;
                }
                self.unacked -= 1;
                if self.unacked == 0 && !self.safe {
                    self.announce_safe(ctx);
                }
                self.advance(ctx);
            }
            AlphaMsg::Safe { .. } if self.halted || !self.neighbours.contains(&from) => {}
            AlphaMsg::Safe { round, last: true } => {
                self.finished.insert(from, round);
                self.advance(ctx);
            }
            AlphaMsg::Safe { round, last: false } => {
                if round >= self.round {
                    self.safe_from.entry(round).or_default().insert(from);
                }
                self.advance(ctx);
            }
        }
    }
}

impl<P: RoundProcess> RoundHost for AlphaNode<P> {
    type App = P;
    fn app(&self) -> &P {
        &self.app
    }
    fn neighbours(&self) -> &BTreeSet<NodeId> {
        &self.neighbours
    }
    fn round(&self) -> u32 {
        self.round
    }
}

/// The last round a node has closed (0: none).
fn closed<P: RoundProcess>(s: &AlphaNode<P>) -> u32 {
    if s.halted {
        s.round
    } else {
        s.round.saturating_sub(1)
    }
}

/// Awerbuch's safety, on the true state: whoever closed round r has every neighbour
/// past the start of r (or halted before it) with none of its round-r messages in transit.
fn neighbours_safe<P: RoundProcess>(w: &World<'_, AlphaNode<P>>) -> Result<(), String> {
    let mut in_transit: BTreeMap<(NodeId, u32), NodeId> = BTreeMap::new();
    (w.in_flight)(&mut |from, to, m| {
        if let AlphaMsg::Basic(b) = m {
            in_transit.entry((from, b.round)).or_insert(to);
        }
    });
    for v in w.nodes {
        let r = closed(v);
        if r == 0 {
            continue;
        }
        for &u in &v.neighbours {
            let Some(us) = w.nodes.get(u.index()) else { continue };
            if us.round < r && !us.halted {
                return Err(format!("node {} closed round {r} while its neighbour {u} has not begun it", v.me));
            }
            if let Some(to) = in_transit.get(&(u, r)) {
                return Err(format!(
                    "node {} closed round {r} while a round-{r} message from its neighbour {u} to {to} is in transit",
                    v.me
                ));
            }
        }
    }
    Ok(())
}

/// The round algorithm `A` run over synchronizer α (see the [module documentation](self)).
pub struct Alpha<A> {
    app: A,
    mistake: Fault,
}

impl<A: RoundAlgorithm> Algorithm for Alpha<A> {
    type Node = AlphaNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        per_type::<Self, AlgorithmSpec>(|| {
            runner_spec::<Self>(A::spec(), "-alpha", "over Awerbuch's synchronizer α (ACK, SAFE)", OWN_PARAMS)
        })
        .clone()
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let mistake = match params.get::<String>("alpha_fault")?.as_str() {
            "early-safe" => Fault::EarlySafe,
            "some-neighbours" => Fault::SomeNeighbours,
            _ => Fault::None,
        };
        Ok(Alpha { app: A::from_params(params)?, mistake })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        AlphaNode {
            app: self.app.init(setup),
            me: setup.me,
            round: 0,
            halted: false,
            neighbours: BTreeSet::new(),
            unacked: 0,
            safe: false,
            safe_from: BTreeMap::new(),
            finished: BTreeMap::new(),
            inbox: BTreeMap::new(),
            fault: None,
            mistake: self.mistake,
        }
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = self.app.properties::<Self::Node>();
        props.invariants.push(Invariant::<Self::Node>::local(IN_THEIR_ROUND, |s| match &s.fault {
            Some(fault) => Err(fault.clone()),
            None => Ok(()),
        }));
        props.invariants.push(Invariant::<Self::Node>::global(NEIGHBOURS_SAFE, neighbours_safe));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = self.app.expected(facts);
        let app_kinds = <<A::Node as RoundProcess>::Msg as Message>::kinds();
        let basic = facts.measured(&app_kinds.join("+"));
        expected.push(Expectation::exact(
            "ACK",
            format!("one per basic message ({})", app_kinds.join("+")),
            basic as f64,
        ));
        if let Some(topology) = facts.topology {
            if let Some(rounds) = self.app.rounds_run(topology) {
                let degrees = super::rounds::degrees(topology);
                let safe: u64 = degrees.iter().zip(&rounds).map(|(&d, &r)| d as u64 * (u64::from(r) + 1)).sum();
                let edges = super::rounds::undirected_edges(topology);
                expected.push(Expectation::exact(
                    "SAFE",
                    format!("Σ deg(v)·(R_v+1): 2|E| = {} per round all take part in", 2 * edges),
                    safe as f64,
                ));
            }
        }
        expected
    }
}

#[cfg(test)]
#[path = "synchronizer_alpha_tests.rs"]
mod tests;

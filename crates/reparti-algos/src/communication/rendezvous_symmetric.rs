//! # Symmetric rendezvous: input and output guards, identity priority
//!
//! **What.** CSP with output guards too: a select may offer `!q(v)` and `?p` at once,
//! so *both* sides of a rendezvous choose, and they must agree. The lower of two
//! processes proposes, the higher decides: a process sends at most one PROPOSE at a
//! time, always to a higher process its select names, and waits for ACCEPT or REFUSE;
//! while it waits it defers proposals from lower processes. Waits point only upwards,
//! so no cycle of waits, no deadlock.
//!
//! **Source.** A. J. Bernstein, *Output guards and nondeterminism in "Communicating Sequential
//! Processes"*, TOPLAS 2(2), 1980 (priority by process number); G. N. Buckley and
//! A. Silberschatz, *An effective implementation for the generalized input-output
//! construct of CSP*, TOPLAS 5(2), 1983; in outline:
//!
//! ```text
//! at a select S, not waiting:  answer deferred proposals (ACCEPT if S matches, else REFUSE);
//!                              PROPOSE(data if S sends) to the first higher q ∈ S not refusing
//! on PROPOSE from p:           waiting → defer; at a select → ACCEPT(data if S sends) if S has
//!                              the matching guard for p, else REFUSE and remember p
//! on ACCEPT:                   commit; REFUSE every deferred proposal
//! on REFUSE from q:            q refuses until it sends READY; go on with the next candidate
//! entering a select naming p:  READY to p if p was refused
//! ```
//!
//! **How it runs here.** As `rendezvous` (topology `complete`; statements typed or drawn
//! from the seed, now with output guards in choices too; see
//! [`workload`](super::rendezvous::workload)); the priority is the position.
//! PROPOSE carries the proposer's statement number and its value when it sends, ACCEPT
//! the decider's number and its value when it sends, so each side records which
//! statement of the other it met.
//!
//! **Departures, and why.**
//! * *The priority is the position, not the identity* (Bernstein compares `id(p) < id(q)`):
//!   a process must know whether to propose before any message is exchanged, and a node
//!   knows only its own identity, while positions are known to all. Any fixed total
//!   order works; the scenarios use `ids = "asc"`, where the two agree.
//! * *A process between statements refuses at once* (the outline defers until it is at a
//!   select). A process whose program is over is never at a select again, and a
//!   proposer deferred there would wait for ever although another guard of its select
//!   could fire; refusing, with the READY owed as for any refusal, costs two messages.
//! * *REFUSE and READY carry the decider's statement count* (its "epoch"), and a
//!   proposer's memory of refusals is per statement of its own (its offer changes with
//!   its statement). On non-FIFO channels a READY may overtake the REFUSE it follows; a
//!   proposer then keeps refusing q only while no READY newer than the refusal came in.
//!
//! **Pitfalls.**
//! * Letting both sides propose (`priority=false`, kept for the checker's tests): p
//!   proposes to q while q proposes to p, each defers the other's proposal while it
//!   waits for its own answer, and both wait for ever — the shortest deadlock, two
//!   deliveries long.
//! * Retrying a refused partner at once: a busy loop of PROPOSE/REFUSE while the
//!   decider sits in a select that does not match. READY waits for the decider's next
//!   select naming the proposer.
//! * Answering a deferred proposal with ACCEPT after committing elsewhere: both
//!   partners would think they met. After a commit every deferred proposal is refused.
//!
//! **Properties.** Those of `rendezvous` (own guard; overlap; matched once, value
//! intact; every select completed at quiescence, which a deadlock breaks).
//!
//! **Costs** (derived). 2 messages per rendezvous (PROPOSE + ACCEPT), plus 2 per
//! refused proposal (PROPOSE + REFUSE); READY counted apart, at most one per refused
//! proposal (a READY discharges the debt a refusal created, and several refusals of
//! one proposer before the decider's next select make one debt): READY ≤ REFUSE.

use super::rendezvous::guards::{self, Done, Guard, HasScript, Input, Script};
use super::rendezvous::workload::{self, Shape};
use super::rendezvous::{commands, rendezvous_count, CHOICE_PARAM, RENDEZVOUS_PARAM, SPANS};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Command, Context, Expectation, Message, NodeId, NodeSetup, ParamError,
    ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const PARAMS: &[ParamSpec] = &[
    RENDEZVOUS_PARAM,
    CHOICE_PARAM,
    ParamSpec::boolean(
        "priority",
        "true",
        "false = the naive variant: both sides propose and defer each other (deadlocks; for the checker's tests)",
    ),
];

const COMMANDS: &[Command] = &commands("a choice of guards by position, e.g. `select !2(42) ?1`");

/// A message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "Shall we?", from the lower process.
    Propose {
        /// The proposer's statement number.
        select: u32,
        /// The value, when the proposer sends; `None` when it receives.
        value: Option<i64>,
    },
    /// "Done": both commit.
    Accept {
        /// The decider's statement number.
        select: u32,
        /// The value, when the decider sends.
        value: Option<i64>,
    },
    /// "Not now": wait for my READY.
    Refuse {
        /// How many statements the decider has entered.
        epoch: u32,
    },
    /// "I am at a select that names you."
    Ready {
        /// How many statements the decider has entered.
        epoch: u32,
    },
}

/// A proposal held back.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Offer {
    /// The proposer's statement number.
    pub select: u32,
    /// Its value, when it sends.
    pub value: Option<i64>,
}

/// One process.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// Its position (its priority).
    pub me: NodeId,
    /// The number of processes.
    pub n: u32,
    /// Param `priority`.
    pub priority: bool,
    /// Its statements and how each ended.
    pub script: Script,
    /// The decider its PROPOSE waits on.
    pub waiting: Option<NodeId>,
    /// Proposals deferred while waiting, by proposer.
    pub deferred: BTreeMap<NodeId, Offer>,
    /// Proposers it refused, owed a READY when one of its selects names them.
    pub owe_ready: BTreeSet<NodeId>,
    /// Deciders that refused its current statement, with their epoch then.
    pub refused_by: BTreeMap<NodeId, u32>,
    /// The newest epoch each decider announced in a READY.
    pub heard: BTreeMap<NodeId, u32>,
}

impl HasScript for Node {
    fn script(&self) -> &Script {
        &self.script
    }
}

impl Node {
    /// Whether `q` refused the current statement and has not said READY since.
    fn refuses(&self, q: NodeId) -> bool {
        self.refused_by.get(&q).is_some_and(|&at| at >= self.heard.get(&q).copied().unwrap_or(0))
    }

    /// Enters the next statement if none is in progress.
    fn enter(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some(_) = self.script.enter_next(ctx) else { return };
        self.refused_by.clear();
        let Some((_, guards)) = self.script.current() else { return };
        let named: Vec<NodeId> = self.owe_ready.iter().copied().filter(|r| guards.toward(*r).is_some()).collect();
        for r in named {
            self.owe_ready.remove(&r);
            ctx.send(r, Msg::Ready { epoch: self.script.entered });
        }
        self.progress(ctx);
    }

    /// At a select and not waiting: answers what was deferred, then proposes.
    fn progress(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.waiting.is_some() || self.script.current().is_none() {
            return;
        }
        let mut committed = false;
        for (r, offer) in std::mem::take(&mut self.deferred) {
            if !committed && self.matches(r, offer) {
                self.accept(r, offer, ctx);
                committed = true;
            } else {
                self.refuse(r, ctx);
            }
        }
        if committed {
            return self.enter(ctx);
        }
        let Some((k, guards)) = self.script.current() else { return };
        let candidate = guards
            .iter()
            .filter(|g| !self.priority || g.partner() > self.me)
            .find(|g| !self.refuses(g.partner()))
            .copied();
        if let Some(g) = candidate {
            self.waiting = Some(g.partner());
            ctx.send(g.partner(), Msg::Propose { select: k, value: g.sends() });
        }
    }

    /// Whether the current select has the guard that meets `offer` from `r`.
    fn matches(&self, r: NodeId, offer: Offer) -> bool {
        let guard = self.script.current().and_then(|(_, g)| g.toward(r));
        matches!((guard, offer.value), (Some(Guard::Recv { .. }), Some(_)) | (Some(Guard::Send { .. }), None))
    }

    /// Accepts `offer` from `r` (it matches): the current select completes.
    fn accept(&mut self, r: NodeId, offer: Offer, ctx: &mut Context<'_, Msg>) {
        let Some((k, guards)) = self.script.current() else { return };
        let mine = guards.toward(r).and_then(|g| g.sends());
        ctx.send(r, Msg::Accept { select: k, value: mine });
        let (value, sent) = match (mine, offer.value) {
            (Some(v), _) => (v, true),
            (None, v) => (v.unwrap_or_default(), false),
        };
        self.script.complete(Done { partner: r, partner_select: offer.select, value, sent }, ctx);
    }

    fn refuse(&mut self, r: NodeId, ctx: &mut Context<'_, Msg>) {
        ctx.send(r, Msg::Refuse { epoch: self.script.entered });
        self.owe_ready.insert(r);
    }

    /// The decider `q` answered; `false` (logged) if this process was not waiting on it.
    fn answered_by(&mut self, q: NodeId, ctx: &mut Context<'_, Msg>) -> bool {
        if self.waiting != Some(q) {
            ctx.log(format!("an answer from {q}, which this process did not propose to: ignored"));
            return false;
        }
        self.waiting = None;
        true
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Propose { select, value } => {
                let offer = Offer { select, value };
                if self.waiting.is_some() {
                    self.deferred.insert(from, offer);
                } else if self.matches(from, offer) {
                    self.accept(from, offer, ctx);
                    self.enter(ctx);
                } else {
                    self.refuse(from, ctx);
                }
            }
            Msg::Accept { select, value } => {
                if !self.answered_by(from, ctx) {
                    return;
                }
                let guard = self.script.current().and_then(|(_, g)| g.toward(from));
                let done = match (guard, value) {
                    (Some(Guard::Send { value, .. }), None) => {
                        Done { partner: from, partner_select: select, value, sent: true }
                    }
                    (Some(Guard::Recv { .. }), Some(value)) => {
                        Done { partner: from, partner_select: select, value, sent: false }
                    }
                    _ => return ctx.log(format!("ACCEPT from {from} does not fit the proposal: ignored")),
                };
                self.script.complete(done, ctx);
                for r in std::mem::take(&mut self.deferred).into_keys() {
                    self.refuse(r, ctx);
                }
                self.enter(ctx);
            }
            Msg::Refuse { epoch } => {
                if self.answered_by(from, ctx) {
                    self.refused_by.insert(from, epoch);
                    self.progress(ctx);
                }
            }
            Msg::Ready { epoch } => {
                let heard = self.heard.entry(from).or_default();
                *heard = (*heard).max(epoch);
                self.progress(ctx);
            }
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        let guards = input.into_guards();
        if let Err(why) = guards.fit(self.me, self.n as usize) {
            return ctx.log(format!("{guards}: {why}; statement dropped"));
        }
        self.script.selects.push(guards);
        self.enter(ctx);
    }
}

/// The symmetric rendezvous. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct RendezvousSymmetric {
    shape: Shape,
    priority: bool,
}

impl Algorithm for RendezvousSymmetric {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["complete"],
            default_nodes: 4,
            commands: COMMANDS,
            spans: SPANS,
            ..AlgorithmSpec::new(
                "rendezvous-symmetric",
                Chapter::Communication,
                "CSP rendezvous with input and output guards: the lower process proposes, the higher decides",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(RendezvousSymmetric {
            shape: Shape { rendezvous: params.get("rendezvous")?, choice: params.get("choice")?, output_choice: true },
            priority: params.get("priority")?,
        })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            n: setup.n as u32,
            priority: self.priority,
            script: Script::default(),
            waiting: None,
            deferred: BTreeMap::new(),
            owe_ready: BTreeSet::new(),
            refused_by: BTreeMap::new(),
            heard: BTreeMap::new(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        workload::inputs(workload::draw(setup.n, &self.shape, rng))
    }

    fn properties(&self) -> Properties<Node> {
        Properties { invariants: guards::invariants(), terminal: guards::terminal() }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let r = rendezvous_count(facts);
        let sent = |kind: &str| facts.sent_by_type.get(kind).copied().unwrap_or(0) as f64;
        let (refused, ready) = (sent("REFUSE"), sent("READY"));
        vec![
            Expectation::exact("ACCEPT", "rendezvous (statements / 2)", r),
            Expectation::exact("PROPOSE", "rendezvous + refused proposals (REFUSE)", r + refused),
            Expectation::at_most("READY", "refused proposals (REFUSE)", refused),
            Expectation::exact(
                "total",
                "2 per rendezvous + 2 per refused proposal + READY",
                2.0 * r + 2.0 * refused + ready,
            ),
        ]
    }
}

#[cfg(test)]
#[path = "rendezvous_symmetric_tests.rs"]
mod tests;

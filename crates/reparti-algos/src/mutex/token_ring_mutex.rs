//! # The token ring (Le Lann 1977): the token goes round, whoever holds it may enter
//!
//! **What.** The n processes form a unidirectional ring `i → i+1 mod n` and share one
//! `TOKEN`, the permission to enter the critical section (CS). A process that receives
//! the token enters if it has a request pending, and passes the token to its successor
//! when it leaves; with no request pending it passes the token on at once. No request
//! is ever sent: a process just waits for the token to come round. It is the chapter's
//! baseline token algorithm, against which Suzuki–Kasami's broadcast requests are
//! measured.
//!
//! **Source.** G. Le Lann, "Distributed systems — towards a formal approach",
//! Information Processing 77 (IFIP Congress), North-Holland, 1977, pp. 155–160: the
//! control token circulating on a logical ring. The ring itself is the one of lab TP3
//! ([`token_ring`](crate::communication::token_ring)).
//!
//! ```text
//! initially: node 0 holds the token
//! request:   requesting = true                  (no message: wait for the token)
//! on TOKEN:  hold it
//!            if requesting: enter               (one CS per visit)
//!            else: send TOKEN to successor
//! release:   requesting = false; send TOKEN to successor
//! ```
//!
//! **How it runs here.** As every algorithm of the chapter (see
//! [`critical_section`](super::critical_section)): `request` inputs from the workload or
//! the console, a stay of `cs_time`, `enter_cs`/`exit_cs` with the value `"k.id"` (the
//! k-th entry of identity `id`). Topology `ring` (or `bidir-ring`, whose `i → i+1`
//! links are used the same way); the successor is `i+1 mod n`.
//!
//! Departures from the paper: node 0 is the initial holder (any process may be), and
//! the token rests when the experiment is over (below) — Le Lann's token never stops.
//!
//! *Quiescence.* A real token ring never stops: the token keeps going round whether
//! anyone asks or not. A simulation and a model check need runs that end, and the cost
//! per CS depends on when they end, so the rule is stated here and is part of the
//! algorithm:
//! * `requests = R ≥ 1`, the *finite experiment*: each process knows it will make R
//!   requests (its plan). The token carries `done`, the number of processes that have
//!   served all R of their own; a process adds itself once, the first time it holds the
//!   token with R requests served. The token **rests** where `done` reaches n: at the
//!   process that made the last planned entry, which keeps it. Every planned request
//!   has then been served, and the run quiesces. A request beyond the plan is served
//!   while the token still circulates, or at once by the resting holder itself; at any
//!   other process after the rest it is never served, and "every request was served"
//!   says so (the plan is an assumption of the experiment, not a guarantee).
//! * `requests = 0`, the *open-ended* ring of the TP3 lab: no plan, requests come from
//!   the console, the token circulates for ever. `reparti sim` then runs until
//!   `--max-time`, `--max-events` or Ctrl-C (which reports the run so far), `reparti
//!   run` until its `--timeout`; `reparti check` explores a finite
//!   space made of cycles with no final state (so the liveness verdicts fail).
//!
//! The checker interleaves the workload's request inputs freely with the token's moves,
//! so with requests spread in time ([`Stay::workload`]) it also meets the run in which
//! the token laps the ring for ever while a request input is withheld — the busy
//! waiting of the ring, that no other algorithm of the chapter has. The checker assumes
//! the environment fair (an input that stays applicable is applied eventually), so that
//! run is not held against the ring, and every verdict holds, "every run terminates"
//! included; with `requests = 0` no input can end the lap, and the cycle is reported.
//! With `at_start = true` every process makes its R requests at time 0 (the saturated
//! experiment): the space is then a single path.
//!
//! **Pitfalls.**
//! * The token is the permission, not a turn ticket: pass it on when *leaving* the CS.
//!   Passing it on *entering* ("the next one can get ready") lets the next requester in
//!   beside you; the broken variant (`fixed = false`) does that, and the checker's
//!   shortest run breaks mutual exclusion in 4 steps (n = 3).
//! * One CS per visit. On leaving, pass the token *before* issuing one's own next queued
//!   request, or a process with a stream of requests keeps the token and starves the
//!   ring.
//! * An idle process passes the token on at once: keeping it "until I need it" starves
//!   everyone behind it.
//! * Counting oneself done must happen once (the `counted` flag), or the token rests
//!   before everyone is served.
//! * Quiescence needs a rule (above); without one the simulator never stops, and a
//!   rule such as "rest after k laps" never serves a request that comes later.
//! * With nobody asking, the token still costs one message per hop; on a real network
//!   an open-ended ring sends as fast as the links carry it.
//!
//! **Properties.** After every event: "exactly one token" (holders plus TOKEN messages
//! in transit), "mutual exclusion: at most one node in the critical section", and "no
//! waiting node keeps the token idle" (a process holding the token with a request
//! pending is in the CS: the token never waits at a waiting process, so the processes
//! are served in ring order from the token's position). At quiescence: "every request
//! was served". The trace tests add what a state cannot show: the token never passes a
//! waiting process by, so a waiting process sees each other process enter at most once
//! before it does (at most n−1 entries).
//!
//! **Costs.** Only TOKEN messages, one per hop, whatever the load; declared as:
//! * TOKEN = n·laps + r, exact once the token rests: it starts at node 0 and moves one
//!   hop at a time, `laps` counting its returns to node 0 (output `lap`) and r being
//!   where it rests (output `rest`).
//! * total ∈ [#CS − beyond, n·(laps + 1)]: every entry follows its own arrival of the
//!   token (one CS per visit), except an entry at the resting holder, made only for a
//!   request beyond the plan (output `beyond_plan`); after its last return to node 0
//!   the token makes at most n more hops. So at least one message per CS, and no upper
//!   bound per CS: n per idle lap while nobody asks (the light loads of `load`).
//! * TOKEN = #CS exactly under saturation (`at_start = true`: every visit finds a
//!   request, so every hop brings one entry; the token rests at node 0, whose entry
//!   closes the last lap).
//!
//! Synchronization delay, from an exit to the next entry while someone else waits: the
//! ring distance to the next waiting process, 1 to n−1 hops (the trace tests assert
//! it exactly); Suzuki–Kasami's and Ricart–Agrawala's is 1 message.
//!
//! **State count.** `reparti check token-ring-mutex -n 3 -p requests=1`: 108 states, FIFO
//! and unordered alike (one message, the token, is ever in flight); with `at_start=true`,
//! 7 — a line: the token visits 1, 2, 0 and rests. An enumerator of the ring's state plus
//! the rule that ends the experiment (`done` in the token, `counted`, `served`) gives the
//! same figures.

use super::critical_section::{self as cs, entry_text, CsProcess, Input, MutexNode, Requests, Stay};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, RunFacts, ScheduledInput, Timer, WorkloadSetup,
};
use serde::{Deserialize, Serialize};

/// The invariant on the token.
pub const EXACTLY_ONE_TOKEN: &str = "exactly one token";
/// The invariant that serves processes in ring order.
pub const NEVER_IDLE: &str = "no waiting node keeps the token idle";
/// Output at node 0 each time the token comes back to it.
pub const LAP: &str = "lap";
/// Output where the token comes to rest; its value is that node's position.
pub const REST: &str = "rest";
/// Output when a request beyond the plan is accepted; its value is the node's K-th ask.
pub const BEYOND_PLAN: &str = "beyond_plan";

/// The chapter's workload parameters, then the saturated experiment and the broken
/// variant's switches.
pub const PARAMS: &[ParamSpec] = &[
    cs::REQUESTS,
    cs::CS_TIME,
    cs::LOAD,
    ParamSpec::boolean(
        "at_start",
        "false",
        "true = every node makes all its requests at time 0 (saturated: one TOKEN per CS)",
    ),
    ParamSpec::boolean("fixed", "true", "false = the classic slip: pass the token on entering the CS"),
];

/// The ring's one message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// The token itself.
    Token {
        /// Processes that have served all their planned requests (0 when open-ended).
        done: u32,
    },
}

/// The token while a process holds it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Token {
    /// Processes that have served all their planned requests.
    pub done: u32,
}

/// One process of the ring.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// This node's identity.
    pub id: u64,
    /// The ring's size.
    pub n: u32,
    /// Time units spent in the CS (param `cs_time`).
    pub cs_time: u32,
    /// Requests this node plans to make (param `requests`); 0 = open-ended.
    pub planned: u32,
    /// False: the slip that passes the token on entering (param `fixed`).
    pub fixed: bool,
    /// The token, when this node holds it.
    pub token: Option<Token>,
    /// This node has added itself to the token's `done`.
    pub counted: bool,
    /// The request bookkeeping shared by the chapter.
    pub cs: Requests,
}

impl Node {
    /// `i+1 mod n`: the ring's only out-neighbour, and the bidirectional ring's right one.
    fn successor(&self) -> NodeId {
        NodeId((self.me.0 + 1) % self.n.max(1))
    }

    /// A request under way that the CS has not granted yet.
    fn waiting(&self) -> bool {
        self.cs.requesting && !self.cs.in_cs
    }

    fn resting(&self) -> bool {
        self.planned > 0 && self.token.is_some_and(|t| t.done >= self.n)
    }

    fn enter(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.in_cs = true;
        cs::enter(ctx, entry_text(u64::from(self.cs.served) + 1, self.id), self.cs_time);
        if !self.fixed {
            // THE SLIP: the token taken for a turn ticket, handed on while still inside.
            self.pass_on(ctx);
        }
    }

    fn pass_on(&mut self, ctx: &mut Context<'_, Msg>) {
        if let Some(Token { done }) = self.token.take() {
            ctx.send(self.successor(), Msg::Token { done });
        }
    }

    /// Holding the token with nothing (more) to do here: add oneself to `done` once the
    /// plan is served, then rest if everyone is done, else pass the token on.
    fn done_or_pass(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some(token) = self.token.as_mut() else { return };
        if self.planned == 0 {
            self.pass_on(ctx);
            return;
        }
        if token.done >= self.n {
            // Already resting here: stays.
            return;
        }
        if !self.counted && self.cs.served >= self.planned {
            self.counted = true;
            token.done += 1;
            if token.done >= self.n {
                ctx.output(REST, self.me.0);
                ctx.log("every node has served its planned requests: the token rests here");
                return;
            }
        }
        self.pass_on(ctx);
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        // The initial holder has no request yet (inputs come after every start).
        if self.token.is_some() {
            self.done_or_pass(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let Msg::Token { done } = msg;
        if done > self.n || (done > 0 && self.planned == 0) {
            ctx.log(format!("TOKEN from {from} counting {done} done nodes does not fit this ring, ignored"));
            return;
        }
        if self.token.is_some() {
            // Cannot happen with one token; a duplicating network can do it.
            ctx.log(format!("second TOKEN from {from}, ignored"));
            return;
        }
        if self.me == NodeId(0) {
            ctx.output(LAP, 1);
        }
        self.token = Some(Token { done });
        if self.waiting() {
            self.enter(ctx);
        } else {
            self.done_or_pass(ctx);
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        self.on_cs_timer(timer, ctx);
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        let before = self.cs.asked;
        self.on_cs_input(input, ctx);
        if self.planned > 0 && self.cs.asked > before && self.cs.asked > self.planned {
            ctx.output(BEYOND_PLAN, self.cs.asked);
            ctx.log(format!(
                "request {} is beyond the plan of {}: served only while the token circulates",
                self.cs.asked, self.planned
            ));
        }
    }
}

impl CsProcess for Node {
    fn requests_mut(&mut self) -> &mut Requests {
        &mut self.cs
    }

    /// No message: wait for the token, unless this node holds it (resting here).
    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.requesting = true;
        if self.token.is_some() {
            self.enter(ctx);
        }
    }

    /// Leaves, passes the token on (or lets it rest), then issues the next queued request.
    fn release(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.leave();
        cs::exit(ctx, entry_text(u64::from(self.cs.served), self.id));
        self.done_or_pass(ctx);
        if self.cs.take_queued() {
            self.request(ctx);
        }
    }
}

impl MutexNode for Node {
    fn requests(&self) -> &Requests {
        &self.cs
    }
    fn unfinished(&self) -> Option<String> {
        if self.cs.busy() {
            Some(self.cs.describe())
        } else if self.token.is_some() && !self.resting() {
            Some("holds the token idle before every node is done".into())
        } else {
            None
        }
    }
}

/// The token ring's mutual exclusion. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct TokenRingMutex {
    stay: Stay,
    at_start: bool,
    fixed: bool,
}

fn holds_token(s: &Node) -> u64 {
    u64::from(s.token.is_some())
}

fn is_token(m: &Msg) -> u64 {
    u64::from(matches!(m, Msg::Token { .. }))
}

fn never_idle(s: &Node) -> Result<(), String> {
    if s.token.is_some() && s.waiting() {
        Err(format!("node {} holds the token with a request pending and is not in the CS", s.me))
    } else {
        Ok(())
    }
}

impl Algorithm for TokenRingMutex {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["ring", "bidir-ring"],
            ..cs::spec(
                "token-ring-mutex",
                "Le Lann (1977): the token goes round the ring, its holder enters; ≥ 1 TOKEN per CS, n per idle lap",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(TokenRingMutex {
            stay: Stay::from_params(params)?,
            at_start: params.get("at_start")?,
            fixed: params.get("fixed")?,
        })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            id: setup.ident,
            n: setup.n as u32,
            cs_time: self.stay.cs_time,
            planned: self.stay.requests,
            fixed: self.fixed,
            token: (setup.me == NodeId(0)).then_some(Token { done: 0 }),
            counted: false,
            cs: Requests::default(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        let mut inputs = self.stay.workload(setup, rng);
        if self.at_start {
            // The same requests, all made at once: the saturated experiment.
            for input in &mut inputs {
                input.at = 0.0;
            }
        }
        inputs
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::<Node>::count(EXACTLY_ONE_TOKEN, holds_token, is_token, 1, 1),
                cs::mutual_exclusion(),
                Invariant::<Node>::local(NEVER_IDLE, never_idle),
            ],
            terminal: vec![cs::every_request_served()],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let n = facts.n as f64;
        let laps = facts.output_count(LAP) as f64;
        let entries = cs::entries(facts);
        let beyond = facts.output_count(BEYOND_PLAN) as f64;
        let mut expected = Vec::new();
        if let Some(rest) = facts.output_max(REST) {
            expected.push(Expectation::exact("TOKEN", "n·laps + r (r: where it rests)", n * laps + rest as f64));
        }
        // TOKEN is the only message. Each entry but the resting holder's follows its own
        // hop; after its last return to node 0 the token makes at most n more.
        expected.push(Expectation::between(
            "total",
            "#CS − beyond plan … n·(laps + 1)",
            (entries - beyond).max(0.0),
            n * (laps + 1.0),
        ));
        if self.at_start && self.stay.requests > 0 && beyond == 0.0 {
            expected.push(Expectation::exact("TOKEN", "#CS (saturated: one hop per entry)", entries));
        }
        expected
    }
}

#[cfg(test)]
#[path = "token_ring_mutex_tests.rs"]
mod tests;

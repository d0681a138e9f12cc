//! # Suzuki & Kasami (1985): a token broadcast, n messages per critical section or none
//!
//! **What.** One token circulates; whoever holds it may enter the critical section (CS).
//! A process without the token broadcasts a numbered `REQUEST` to every other process.
//! Each process remembers, in `RN[j]`, the highest request number it has heard from
//! each j; the token remembers, in `LN[j]`, the number of j's last *satisfied* request,
//! and carries a queue `Q` of processes waiting for it. So `RN[j] = LN[j] + 1` says
//! exactly "j has a request that the token has not yet served". A holder that does not
//! want the CS gives the token to such a j; a holder leaving the CS appends every such
//! j to `Q` and sends the token to the head of `Q`. A holder that wants the CS again
//! while nobody else asked enters at once, without a single message.
//!
//! **Source.** I. Suzuki and T. Kasami, "A distributed mutual exclusion algorithm",
//! ACM TOCS 3(4):344–349, 1985.
//!
//! ```text
//! initially: RN[j] = 0 for all j; node 0 holds the token, LN[j] = 0 for all j, Q = ⟨⟩
//! request:   requesting = true
//!            if holding the token: enter            (0 messages)
//!            else RN[i] += 1; send REQUEST(RN[i]) to all j ≠ i; wait for the token, enter
//! on REQUEST(sn) from j: RN[j] = max(RN[j], sn)
//!            if holding the token ∧ ¬requesting ∧ RN[j] = LN[j] + 1: send TOKEN(LN, Q) to j
//! on TOKEN(LN, Q): hold it; enter
//! release:   requesting = false; LN[i] = RN[i]
//!            for every j ∉ Q with RN[j] = LN[j] + 1: append j to Q
//!            if Q ≠ ⟨⟩: send TOKEN(LN, tail Q) to head Q
//! ```
//!
//! **How it runs here.** As every algorithm of the chapter (see
//! [`critical_section`](super::critical_section)): `request` inputs from the workload or
//! the console, a stay of `cs_time` time units, `enter_cs`/`exit_cs`. The initial
//! holder is node 0 (the paper lets any one process start with it). The value of
//! `enter_cs` is `"k.id"`: the k-th entry of the process of identity `id` — requests are
//! not numbered globally here, so entries need not come in any `(k, id)` order. A
//! request that arrives while one is under way is queued and issued on leaving, *after*
//! the token has been passed on: a holder that nobody asked for re-enters with 0
//! messages, one that others asked for gives way first. The queue `Q` is a `VecDeque`:
//! its order is the algorithm's — the token visits waiting processes in the order they
//! were appended, each releaser appending the new ones by position (the paper's loop
//! over j = 1..n). Departures from the paper, none of substance: the initial holder is
//! fixed (node 0); a REQUEST carries only `sn`, its sender being the channel's origin;
//! the release loop skips i itself outright (in the paper `LN[i] = RN[i]` excludes it).
//!
//! **Pitfalls.**
//! * `LN[i] = RN[i]` on release (the broken variant, `fixed=false`, forgets it). The
//!   token then still believes i's satisfied request open: a later holder puts i in `Q`
//!   and sends it the token it never asked for. i keeps it idle, and a process whose
//!   REQUEST reached i before the token did (or that waits behind i in `Q`) is never
//!   served: "every request was served" and "no deadlock" fail, safety still holds (the
//!   checker's shortest run, n = 3, is 14 steps).
//! * An idle holder must answer a REQUEST at once: the token is in nobody's `Q`, so
//!   nobody else will send it. Only the *idle* holder: one in the CS that hands the
//!   token over lets the requester in beside it; it answers on leaving instead.
//! * On leaving, pass the token *before* issuing the next queued request of one's own:
//!   the other way round, a holder with a stream of requests re-enters at once, again
//!   and again, and the processes in `Q` wait behind all of it (forever, if it never ends).
//! * `RN[j] = max(RN[j], sn)`, not `RN[j] = sn`: an old REQUEST overtaken by a newer one
//!   (channels need not be FIFO) must not lower what is known.
//! * The token's `Q` travels with it; a process's own `RN` does not. A holder only
//!   queues the requests it has *heard of*; the others are found by later holders, or
//!   by the idle holder when their REQUEST arrives.
//!
//! **Properties.** After every event: "exactly one token" (holders plus TOKEN messages in
//! transit), "mutual exclusion: at most one node in the critical section". At
//! quiescence: "every request was served" (an idle holder with a non-empty `Q` counts as
//! unfinished).
//!
//! **Costs.** A CS entry costs n−1 REQUEST and 1 TOKEN, or nothing when the requester
//! already holds the token. Each broadcast request is answered by exactly one TOKEN
//! (the token goes only to a j with `RN[j] = LN[j] + 1`, and j's release closes that
//! request), so at quiescence REQUEST = (n−1)·TOKEN exactly; TOKEN ≤ #CS; total =
//! n·TOKEN, between 0 and n·#CS. #CS counts `enter_cs` outputs.
//!
//! **State count.** `reparti check suzuki-kasami -n 3 -p requests=1`: 589 states (FIFO),
//! 727 (unordered), whatever the identities (they play no part). An enumerator written
//! from the pseudo-code (`RN`, the token's `LN` and `Q`, `requesting`, `in_cs`; its
//! release loop over every j, i included) gives the same figures: the departures listed
//! above (i skipped outright, the REQUEST without its sender) change no state.

use super::critical_section::{self as cs, entry_text, CsProcess, Input, MutexNode, Requests, Stay};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, RunFacts, ScheduledInput, Timer, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The invariant on the token.
pub const EXACTLY_ONE_TOKEN: &str = "exactly one token";

/// The chapter's workload parameters and the broken variant's switch.
pub const PARAMS: &[ParamSpec] = &[
    cs::REQUESTS,
    cs::CS_TIME,
    cs::LOAD,
    ParamSpec::boolean("fixed", "true", "false = the classic bug: a release forgets LN[i] = RN[i]"),
];

/// Suzuki–Kasami's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "I want the CS": the sender's request number (the sender is the channel's origin).
    Request {
        /// The sender's `RN[sender]` after raising it.
        sn: u64,
    },
    /// The token itself.
    Token {
        /// `LN[j]`: the number of j's last satisfied request.
        ln: Vec<u64>,
        /// The processes waiting for the token, in the order it will visit them.
        queue: VecDeque<NodeId>,
    },
}

/// The token while a process holds it.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Token {
    /// `LN[j]`: the number of j's last satisfied request.
    pub ln: Vec<u64>,
    /// The processes waiting for the token.
    pub queue: VecDeque<NodeId>,
}

/// One process.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// This node's identity.
    pub id: u64,
    /// The number of processes.
    pub n: u32,
    /// Time units spent in the CS (param `cs_time`).
    pub cs_time: u32,
    /// False: the broken release that forgets `LN[i] = RN[i]` (param `fixed`).
    pub fixed: bool,
    /// `RN[j]`: the highest request number heard from j (by position).
    pub rn: Vec<u64>,
    /// The token, when this node holds it.
    pub token: Option<Token>,
    /// The request bookkeeping shared by the chapter.
    pub cs: Requests,
}

impl Node {
    fn enter(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.in_cs = true;
        cs::enter(ctx, entry_text(u64::from(self.cs.served) + 1, self.id), self.cs_time);
    }

    /// Whether j has a request the token has not served yet.
    fn waiting(&self, token: &Token, j: usize) -> bool {
        self.rn.get(j).zip(token.ln.get(j)).is_some_and(|(&rn, &ln)| rn == ln.saturating_add(1))
    }

    /// Hands the token to `to`.
    fn pass_token(&mut self, to: NodeId, ctx: &mut Context<'_, Msg>) {
        if let Some(Token { ln, queue }) = self.token.take() {
            ctx.send(to, Msg::Token { ln, queue });
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let j = from.index();
        if j >= self.rn.len() || from == self.me {
            ctx.log(format!("{} from {from}: no such peer, ignored", msg.kind_name()));
            return;
        }
        match msg {
            Msg::Request { sn } => {
                self.rn[j] = self.rn[j].max(sn);
                // Holding the token and not requesting: the token is idle here.
                let idle = !self.cs.requesting && self.token.as_ref().is_some_and(|t| self.waiting(t, j));
                if idle {
                    self.pass_token(from, ctx);
                }
            }
            Msg::Token { ln, queue } => {
                let n = self.n as usize;
                if ln.len() != n || queue.iter().any(|q| q.index() >= n) {
                    ctx.log(format!("TOKEN from {from} sized for another system, ignored"));
                } else if self.token.is_some() {
                    // Cannot happen with one token; a duplicating network can do it.
                    ctx.log(format!("second TOKEN from {from}, ignored"));
                } else {
                    self.token = Some(Token { ln, queue });
                    if self.cs.requesting {
                        self.enter(ctx);
                    } else {
                        // Only the broken variant sends a token nobody asked for: kept idle,
                        // as the paper's holder would, and its queue waits.
                        ctx.log(format!("TOKEN from {from} with no request under way: kept idle"));
                    }
                }
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        self.on_cs_timer(timer, ctx);
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        self.on_cs_input(input, ctx);
    }
}

impl CsProcess for Node {
    fn requests_mut(&mut self) -> &mut Requests {
        &mut self.cs
    }

    /// Starts a request: enter at once with the token in hand, else broadcast.
    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.requesting = true;
        if self.token.is_some() {
            self.enter(ctx);
            return;
        }
        let me = self.me.index();
        // Saturating: the number only ever grows by one per request, but a peer on a real
        // network could have pushed RN[me] anywhere.
        self.rn[me] = self.rn[me].saturating_add(1);
        let sn = self.rn[me];
        // Everyone else, not just the topology's neighbours (on the complete graph, the
        // only topology accepted, they coincide).
        for j in 0..self.n {
            if j != self.me.0 {
                ctx.send(NodeId(j), Msg::Request { sn });
            }
        }
    }

    /// Leaves the CS, passes the token to the next waiting process, and issues the next
    /// queued request (which re-enters at once if the token stayed).
    fn release(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.leave();
        cs::exit(ctx, entry_text(u64::from(self.cs.served), self.id));
        let me = self.me.index();
        let mut next = None;
        if let Some(mut token) = self.token.take() {
            if self.fixed {
                token.ln[me] = self.rn[me];
            }
            // The paper loops over every j; after LN[i] = RN[i] that excludes i itself,
            // which is said here outright (a node does not send to itself).
            for j in (0..self.n as usize).filter(|&j| j != me) {
                if !token.queue.contains(&NodeId(j as u32)) && self.waiting(&token, j) {
                    token.queue.push_back(NodeId(j as u32));
                }
            }
            next = token.queue.pop_front();
            self.token = Some(token);
        }
        if let Some(head) = next {
            self.pass_token(head, ctx);
        }
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
        } else {
            match &self.token {
                Some(t) if !t.queue.is_empty() => {
                    Some(format!("holds the token idle while {:?} wait in its queue", t.queue))
                }
                _ => None,
            }
        }
    }
}

/// Suzuki & Kasami's token-based mutual exclusion. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct SuzukiKasami {
    stay: Stay,
    fixed: bool,
}

fn holds_token(s: &Node) -> u64 {
    u64::from(s.token.is_some())
}

fn is_token(m: &Msg) -> u64 {
    u64::from(matches!(m, Msg::Token { .. }))
}

impl Algorithm for SuzukiKasami {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            ..cs::spec(
                "suzuki-kasami",
                "Suzuki & Kasami (1985): a token and broadcast requests, n messages per CS or 0 if held",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(SuzukiKasami { stay: Stay::from_params(params)?, fixed: params.get("fixed")? })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let initial_holder = setup.me == NodeId(0);
        Node {
            me: setup.me,
            id: setup.ident,
            n: setup.n as u32,
            cs_time: self.stay.cs_time,
            fixed: self.fixed,
            rn: vec![0; setup.n],
            token: initial_holder.then(|| Token { ln: vec![0; setup.n], queue: VecDeque::new() }),
            cs: Requests::default(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        self.stay.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::<Node>::count(EXACTLY_ONE_TOKEN, holds_token, is_token, 1, 1),
                cs::mutual_exclusion(),
            ],
            terminal: vec![cs::every_request_served()],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let entries = cs::entries(facts);
        let n = facts.n as f64;
        let tokens = facts.measured("TOKEN") as f64;
        vec![
            Expectation::exact("REQUEST", "(n−1)·TOKEN", (n - 1.0) * tokens),
            Expectation::at_most("TOKEN", "#CS", entries),
            Expectation::between("total", "0 … n·#CS", 0.0, n * entries),
        ]
    }
}

#[cfg(test)]
#[path = "suzuki_kasami_tests.rs"]
mod tests;

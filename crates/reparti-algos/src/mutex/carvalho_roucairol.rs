//! # Carvalho & Roucairol (1983): Ricart–Agrawala that keeps its permissions, 0 to 2(n−1) messages per CS
//!
//! **What.** Ricart–Agrawala asks all n−1 others for every entry into the critical
//! section (CS). Carvalho and Roucairol observed that the answer `REPLY` from j can be
//! read as *j's permission*, and that it stays valid until this process itself answers
//! a REQUEST of j. So each process keeps `auth[j]`, "I hold j's permission", asks only
//! the peers whose permission it lacks, and enters at once, with no message at all, when
//! it holds them all. For every pair {i, j} the permission is at exactly one end, or
//! travelling from one to the other inside a REPLY.
//!
//! **Source.** O. S. F. Carvalho and G. Roucairol, "On mutual exclusion in computer
//! networks", CACM 26(2), 1983 (technical correspondence), and G. Ricart and A. K.
//! Agrawala's "Authors' response" in the same issue; the base algorithm is Ricart &
//! Agrawala, CACM 24(1), 1981.
//!
//! ```text
//! init:      auth[j] = (i < j)           # each pair's permission at its smaller end
//! request:   requesting = true; my_ts = highest + 1; highest = my_ts
//!            for j with ¬auth[j]: send REQUEST(my_ts, i) to j
//!            if ∀j auth[j]: in_cs = true               # zero messages
//! on REQUEST(t, j): highest = max(highest, t)
//!            if in_cs ∨ (requesting ∧ (my_ts, i) < (t, j)): deferred += j
//!            else: had = auth[j]; auth[j] = false; send REPLY to j
//!                  if requesting ∧ had: send REQUEST(my_ts, i) to j   # I need it back
//! on REPLY from j: auth[j] = true; if requesting ∧ ∀k auth[k]: in_cs = true
//! release:   in_cs = requesting = false
//!            for j ∈ deferred: auth[j] = false; send REPLY to j
//!            deferred = ∅
//! ```
//!
//! **How it runs here.** As every algorithm of the chapter (see
//! [`critical_section`](super::critical_section)): `request` inputs from the workload or
//! the console (queued while one is under way), a stay of `cs_time` time units, then
//! `enter_cs`/`exit_cs` = `"ts.id"`, so runs compare with `ricart-agrawala` and
//! `lamport-mutex` on the same workload. The initial permissions are **`auth_i[j] = (i <
//! j)`** by position: node 0 starts with every permission, node n−1 with none (with all
//! permissions initially false, as some textbooks start, the first entries simply cost
//! up to 2(n−1) each). Param `fixed=false` keeps the classic mistake below, for the
//! checker's tests.
//!
//! **Pitfalls.**
//! * *Giving a permission away while still needing it.* A requesting process that
//!   answers an older REQUEST of j loses `auth[j]`; it must ask for it back at once
//!   ("if requesting ∧ had: send REQUEST"). Forget it (`fixed=false`) and mutual
//!   exclusion still holds, but the process waits forever for a permission nobody will
//!   send: the checker finds the shortest such run, and it is *liveness* that fails.
//! * *Answering without giving the permission up.* The REPLY *is* the permission:
//!   `auth[j] = false` must come with every REPLY, the deferred ones sent on release
//!   included, or both ends of a pair hold it and two processes enter together.
//! * *No (ts, id) order.* A process holding every permission re-enters at once, even
//!   while an older REQUEST is still on its way to it: entries are not in (ts, id)
//!   order, unlike Lamport and Ricart–Agrawala. Tests must not assert it.
//! * `highest = my_ts` when requesting, as in [`ricart_agrawala`](super::ricart_agrawala)
//!   (see its first pitfall), and `my_ts` is fresh even for an entry that costs nothing.
//! * FIFO is not needed: a REPLY overtaken by the REQUEST its sender sent next finds its
//!   receiver requesting with the older request, so the priority test defers it.
//!
//! **Properties.** After every event: "mutual exclusion: at most one node in the critical
//! section"; "pair: never both auth_i[j] and auth_j[i]"; "each pair's permission is at
//! one end or in one REPLY between them"; at each node "in the CS only with every
//! permission". At quiescence: "every request was served". The two pair properties are
//! global checks, O(n²) per event: an incremental count sums over the whole system and
//! cannot single out a pair (and the total, n(n−1)/2, needs n, which properties are
//! declared without). Being global, they turn the checker's partial-order reduction
//! off. The second one is stronger than the first, and is our addition: it also catches
//! a permission lost, or a REPLY sent without giving the permission up.
//!
//! **Costs.** Each entry sends at most one REQUEST to each peer and receives at most one
//! REPLY from each: REQUEST ≤ (n−1)·#CS, REPLY ≤ (n−1)·#CS, 0 ≤ total ≤ 2(n−1)·#CS. A
//! process that enters again before anyone asked it for a permission pays 0.
//!
//! **State count.** `reparti check carvalho-roucairol -n 3 -p requests=1` explores 633
//! states (FIFO) and 867 (unordered) with the default identities (desc), 417 and 537 with
//! `--ids asc`: identities break ties while permissions start by position, so the two
//! placements differ. An enumerator written from the pseudo-code (`highest`, `my_ts`,
//! `requesting`, `in_cs`, `auth`, `deferred ⊆ P`) gives the same figures, transitions and
//! depth included (the checker's test `mutex_state_counts`).

use super::critical_section::{self as cs, entry_text, CsProcess, Input, MutexNode, Requests, Stay};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, RunFacts, ScheduledInput, Timer, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The name of the pair invariant.
pub const PAIR: &str = "pair: never both auth_i[j] and auth_j[i]";
/// The name of the per-pair conservation invariant.
pub const CONSERVED: &str = "each pair's permission is at one end or in one REPLY between them";
/// The name of the local invariant.
pub const HOLDS_ALL: &str = "in the CS only with every permission";

/// The chapter's workload parameters, and `fixed`.
pub const PARAMS: &[ParamSpec] = &[
    cs::REQUESTS,
    cs::CS_TIME,
    cs::LOAD,
    ParamSpec::boolean("fixed", "true", "false = the classic bug: give a permission away without asking it back"),
];

/// Carvalho–Roucairol's messages: Ricart–Agrawala's.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "May I have your permission?", with the request's sequence number and identity.
    Request {
        /// The request's sequence number.
        ts: u64,
        /// The requester's identity (breaks ties between equal `ts`).
        id: u64,
    },
    /// "Here is my permission" (the sender no longer holds the receiver's).
    Reply,
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
    /// `false`: the broken variant that never asks back a permission it gave away.
    pub fixed: bool,
    /// The largest sequence number seen or used.
    pub highest: u64,
    /// The sequence number of the current request.
    pub my_ts: u64,
    /// The request bookkeeping shared by the chapter.
    pub cs: Requests,
    /// `auth[j]`: this node holds j's permission (by position; its own entry unused).
    pub auth: Vec<bool>,
    /// The nodes whose requests wait for this node to leave the CS.
    pub deferred: BTreeSet<NodeId>,
}

impl Node {
    fn others(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.n as usize).filter(move |&j| j != self.me.index())
    }

    /// Holds the permission of every other node.
    pub fn holds_all(&self) -> bool {
        self.others().all(|j| self.auth.get(j).copied().unwrap_or(false))
    }

    fn maybe_enter(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.cs.requesting && !self.cs.in_cs && self.holds_all() {
            self.cs.in_cs = true;
            cs::enter(ctx, entry_text(self.my_ts, self.id), self.cs_time);
        }
    }

    fn on_request(&mut self, from: NodeId, ts: u64, id: u64, ctx: &mut Context<'_, Msg>) {
        if from == self.me || from.index() >= self.auth.len() {
            // Only a hostile peer on a real network can send this.
            ctx.log(format!("REQUEST from {from} ignored: not a peer"));
            return;
        }
        self.highest = self.highest.max(ts);
        let mine_first = self.cs.requesting && (self.my_ts, self.id) < (ts, id);
        if self.cs.in_cs || mine_first {
            self.deferred.insert(from);
            return;
        }
        let had = std::mem::replace(&mut self.auth[from.index()], false);
        ctx.send(from, Msg::Reply);
        if self.cs.requesting && had && self.fixed {
            // The older request wins this permission, but ours still needs it back.
            ctx.send(from, Msg::Request { ts: self.my_ts, id: self.id });
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Request { ts, id } => self.on_request(from, ts, id, ctx),
            Msg::Reply => {
                if let Some(a) = self.auth.get_mut(from.index()) {
                    *a = true;
                }
                if self.cs.requesting {
                    self.maybe_enter(ctx);
                } else {
                    // Cannot happen on reliable channels; a duplicating network can do it.
                    ctx.log(format!("unexpected REPLY from {from}: no request under way"));
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

    /// Starts a request: asks only the peers whose permission it lacks.
    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.requesting = true;
        // Saturating: a peer on a real network could send any number.
        self.my_ts = self.highest.saturating_add(1);
        self.highest = self.my_ts;
        let lacking: Vec<usize> = self.others().filter(|&j| !self.auth[j]).collect();
        for j in lacking {
            ctx.send(NodeId(j as u32), Msg::Request { ts: self.my_ts, id: self.id });
        }
        self.maybe_enter(ctx);
    }

    /// Leaves the CS, hands each deferred requester its permission, issues the next request.
    fn release(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.leave();
        cs::exit(ctx, entry_text(self.my_ts, self.id));
        for j in std::mem::take(&mut self.deferred) {
            // The REPLY carries the permission: it must leave this node with it.
            if let Some(a) = self.auth.get_mut(j.index()) {
                *a = false;
            }
            ctx.send(j, Msg::Reply);
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
            let lacking: Vec<usize> = self.others().filter(|&j| !self.auth[j]).collect();
            Some(format!(
                "requesting: {}, in CS: {}, queued: {}, lacks the permission of {lacking:?}",
                self.cs.requesting, self.cs.in_cs, self.cs.queued
            ))
        } else if !self.deferred.is_empty() {
            Some(format!("still defers replies to {:?}", self.deferred))
        } else {
            None
        }
    }
}

fn held(w: &World<'_, Node>, i: usize, j: usize) -> bool {
    w.nodes.get(i).and_then(|s| s.auth.get(j)).copied().unwrap_or(false)
}

/// Never both ends of a pair hold its permission.
fn pair_exclusive(w: &World<'_, Node>) -> Result<(), String> {
    let n = w.nodes.len();
    for i in 0..n {
        for j in i + 1..n {
            if held(w, i, j) && held(w, j, i) {
                return Err(format!("nodes {i} and {j} both hold each other's permission"));
            }
        }
    }
    Ok(())
}

/// For each pair, held at one end plus REPLYs travelling between them is exactly 1.
fn permission_conserved(w: &World<'_, Node>) -> Result<(), String> {
    let n = w.nodes.len();
    let mut replies = vec![0u32; n * n];
    (w.in_flight)(&mut |from, to, m| {
        if *m == Msg::Reply && from.index() < n && to.index() < n {
            let (a, b) = (from.index().min(to.index()), from.index().max(to.index()));
            replies[a * n + b] += 1;
        }
    });
    for i in 0..n {
        for j in i + 1..n {
            let total = held(w, i, j) as u32 + held(w, j, i) as u32 + replies[i * n + j];
            if total != 1 {
                return Err(format!(
                    "pair ({i}, {j}): {i} holds it: {}, {j} holds it: {}, REPLYs between them: {}",
                    held(w, i, j),
                    held(w, j, i),
                    replies[i * n + j]
                ));
            }
        }
    }
    Ok(())
}

/// Carvalho & Roucairol's mutual exclusion. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct CarvalhoRoucairol {
    stay: Stay,
    fixed: bool,
}

impl Algorithm for CarvalhoRoucairol {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            ..cs::spec(
                "carvalho-roucairol",
                "Carvalho & Roucairol (1983): Ricart–Agrawala keeping permissions, 0 to 2(n−1) messages per CS",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(CarvalhoRoucairol { stay: Stay::from_params(params)?, fixed: params.get("fixed")? })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let me = setup.me.index();
        Node {
            me: setup.me,
            id: setup.ident,
            n: setup.n as u32,
            cs_time: self.stay.cs_time,
            fixed: self.fixed,
            highest: 0,
            my_ts: 0,
            cs: Requests::default(),
            // Each pair's permission starts at its smaller position.
            auth: (0..setup.n).map(|j| me < j).collect(),
            deferred: BTreeSet::new(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        self.stay.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                cs::mutual_exclusion(),
                Invariant::<Node>::global(PAIR, pair_exclusive),
                Invariant::<Node>::global(CONSERVED, permission_conserved),
                Invariant::<Node>::local(HOLDS_ALL, |s| {
                    if s.cs.in_cs && !s.holds_all() {
                        Err(format!("node {} is in the CS without every permission: {:?}", s.me, s.auth))
                    } else {
                        Ok(())
                    }
                }),
            ],
            terminal: vec![cs::every_request_served()],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let per = facts.n.saturating_sub(1) as f64 * cs::entries(facts);
        vec![
            Expectation::at_most("REQUEST", "(n−1)·#CS", per),
            Expectation::at_most("REPLY", "(n−1)·#CS", per),
            Expectation::at_most("total", "2(n−1)·#CS", 2.0 * per),
        ]
    }
}

#[cfg(test)]
#[path = "carvalho_roucairol_tests.rs"]
mod tests;

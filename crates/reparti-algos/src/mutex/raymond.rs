//! # Raymond (1989): a token on a spanning tree, at most 2·D messages per critical section
//!
//! **What.** The processes are the nodes of a tree, and one privilege (a token) moves
//! along its edges. Each node keeps `HOLDER`, the neighbour in the direction of the
//! privilege (or itself when it holds it), so the `HOLDER` pointers form a tree rooted
//! at the privilege. A node that wants the critical section (CS), or that is asked by
//! a neighbour, puts the asker in its FIFO queue `REQUEST_Q` and sends one `REQUEST`
//! towards the privilege, unless it already has (`ASKED`). The requests climb the
//! pointers; the privilege comes down them as `PRIVILEGE` messages, each hop turning the
//! pointer around. A CS entry costs at most twice the tree's diameter D: O(log n) on a
//! balanced tree, instead of the n or 2(n−1) of the algorithms on a complete graph.
//!
//! **Source.** K. Raymond, "A tree-based algorithm for distributed mutual exclusion",
//! ACM TOCS 7(1):61–77, 1989 (variables, procedures and messages named as in the paper).
//!
//! ```text
//! HOLDER     self, or the neighbour on the way to the privilege (initially towards node 0)
//! USING      in the CS;   ASKED: a REQUEST sent to HOLDER and not yet answered
//! REQUEST_Q  FIFO of the neighbours (and self) that asked and were not yet given it
//!
//! ASSIGN_PRIVILEGE:
//!   if HOLDER = self ∧ ¬USING ∧ REQUEST_Q ≠ ⟨⟩:
//!       HOLDER ← dequeue(REQUEST_Q); ASKED ← false
//!       if HOLDER = self: USING ← true; enter the CS
//!       else send PRIVILEGE to HOLDER
//! MAKE_REQUEST:
//!   if HOLDER ≠ self ∧ REQUEST_Q ≠ ⟨⟩ ∧ ¬ASKED: send REQUEST to HOLDER; ASKED ← true
//!
//! wish to enter the CS:     enqueue(self, REQUEST_Q); ASSIGN_PRIVILEGE; MAKE_REQUEST
//! on REQUEST from X:        enqueue(X, REQUEST_Q);    ASSIGN_PRIVILEGE; MAKE_REQUEST
//! on PRIVILEGE:             HOLDER ← self;            ASSIGN_PRIVILEGE; MAKE_REQUEST
//! exit the CS:              USING ← false;            ASSIGN_PRIVILEGE; MAKE_REQUEST
//! ```
//!
//! **How it runs here.** As every algorithm of the chapter (see
//! [`critical_section`](super::critical_section)): `request` inputs from the workload or
//! the console, a stay of `cs_time` time units, `enter_cs`/`exit_cs` with the value
//! `"k.id"` (the k-th entry of identity `id`: entries come in no `(k, id)` order). The
//! paper's `USING` is the chapter's `in_cs`. The tree is the topology: `tree` (the
//! default, node i's children being 2i+1 and 2i+2), `line` or `star`; node 0 holds the
//! privilege first, and every other node's `HOLDER` starts at its smallest neighbour,
//! which in all three is its parent towards node 0. A node's initial state does not see
//! the topology, so each node lays its pointer in its start handler (every engine runs
//! them all before anything else); until then `HOLDER` is unset. An edge-list file
//! (`file:PATH`, which every algorithm accepts) works when it numbers a tree, or any
//! connected graph, so that each node but 0 has a smaller neighbour (breadth-first
//! from 0): the pointers then form a spanning tree and only its edges are used; if it
//! does not, the pointer invariant fails as soon as the pointers are laid. A request
//! made while one is under way is queued by the chapter's bookkeeping and issued on
//! leaving, *after* `ASSIGN_PRIVILEGE` has handed the privilege to whoever asked
//! meanwhile. What cannot happen on a network that does not duplicate is logged and
//! ignored: a second REQUEST from a neighbour already in `REQUEST_Q` (it asks once per
//! privilege it receives), a PRIVILEGE while holding it, or from another neighbour than
//! `HOLDER`, any message from a non-neighbour. Departures from the paper, none of
//! substance: the initial holder is fixed (node 0), and the tree is the topology rather
//! than chosen.
//!
//! **Pitfalls.**
//! * "Is the privilege for me?" is a look at the head of `REQUEST_Q`, not a dequeue.
//!   The broken variant (`fixed=false`) asks it on a PRIVILEGE's arrival by taking the
//!   head (`pop_front() == Some(me)` where `front() == Some(&me)` was meant): when the
//!   head is a neighbour, it is dequeued and forgotten, and `ASSIGN_PRIVILEGE` then
//!   dequeues the *next* head. The privilege goes on to it, or stays idle here when
//!   there is none, and the neighbour that asked — with everyone behind it — never
//!   gets it: "every request was served" and "no deadlock" fail, while the token stays
//!   one and the pointers stay a tree. It shows only where a PRIVILEGE is relayed
//!   (the checker's shortest run, n = 3 on a line, is 8 steps).
//! * `MAKE_REQUEST` after every event, passing the privilege on included, and
//!   `ASKED ← false` in `ASSIGN_PRIVILEGE`: a node that gives the privilege to its
//!   queue's head while others wait behind must ask for it back at once. Forget either,
//!   and the rest of its queue waits for ever.
//! * `ASKED` itself: without it a node sends its holder one REQUEST per asker instead
//!   of one per privilege, and its name sits in its holder's queue more than once: the
//!   privilege comes and goes once per copy, for nothing.
//! * The node's own request goes through `REQUEST_Q` like a neighbour's. A holder that
//!   enters at once whenever it wants, ahead of its queue, starves those who asked.
//! * Channels need not be FIFO, and then a REQUEST can overtake the PRIVILEGE it
//!   follows (X gives Y the privilege with requests still queued, and asks it back at
//!   once): Y must queue it, even though it comes from its own `HOLDER`. It lands behind
//!   the requests that brought the privilege, so the privilege does not bounce back.
//!
//! **Properties.** After every event: "exactly one token" (nodes with `HOLDER = self`
//! plus PRIVILEGE messages in transit, so a network that duplicates a PRIVILEGE breaks
//! it at once; the reliable layer of real runs removes duplicates), "mutual exclusion:
//! at most one node in the critical section", and [`HOLDER_TREE`]: following `HOLDER`
//! from any node reaches the privilege — its holder, or the node a PRIVILEGE in transit
//! goes to — without a cycle. At quiescence: "every request was served" (a node whose
//! `REQUEST_Q` is not empty, an idle holder above all, counts as unfinished).
//!
//! **Costs.** A node X sends a REQUEST only to `HOLDER`, at most once per privilege it
//! receives (`ASKED`), so the REQUEST puts X in its holder's queue once; X leaves that
//! queue only by the dequeue that sends it the PRIVILEGE. With every queue empty at the
//! end: REQUEST = PRIVILEGE, exactly. Between two consecutive entries, by e and e', the
//! privilege walks from e to e' (a node it reaches has a non-empty queue, so it enters
//! or passes on), and never straight back: the head it is passed on to was queued
//! before the sender could ask again. A walk on a tree that never turns back is the
//! path, so PRIVILEGE = Σₖ dist(eₖ₋₁, eₖ) with e₀ = node 0, each term at most D and 0
//! when a node re-enters with the idle privilege in hand; total = 2·PRIVILEGE ≤ 2D·#CS.
//! D is n−1 on a line (2(n−1) per CS when the two ends take turns), 2 on a star, and
//! 2⌊log₂ n⌋ or one less on the binary tree. Declared: REQUEST = PRIVILEGE exactly,
//! PRIVILEGE ≤ D·#CS and total between 0 and 2D·#CS with the run's own diameter D (from
//! the topology the engine passes in its run facts; without one, D ≤ n−1, since no tree
//! on n nodes is wider than the line); the tests also assert the exact sum of
//! distances, read from the trace. Under
//! heavy load the paper finds about 4 messages per entry, O(log n) under light load
//! (measured on the tree of 31: 3.8 in the saturating burst, 9.5 at load 0.01). #CS
//! counts `enter_cs` outputs.

use super::critical_section::{self as cs, entry_text, CsProcess, Input, MutexNode, Requests, Stay};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, RunFacts, ScheduledInput, Timer, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The invariant on the token.
pub const EXACTLY_ONE_TOKEN: &str = "exactly one token";
/// The invariant on the `HOLDER` pointers.
pub const HOLDER_TREE: &str = "HOLDER pointers lead every node to the privilege, without a cycle";

/// The chapter's workload parameters and the broken variant's switch.
pub const PARAMS: &[ParamSpec] = &[
    cs::REQUESTS,
    cs::CS_TIME,
    cs::LOAD,
    ParamSpec::boolean(
        "fixed",
        "true",
        "false = the classic slip: a PRIVILEGE's arrival takes REQUEST_Q's head to look at it, and loses it",
    ),
];

/// Raymond's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "Someone on my side wants the privilege" (the sender is the channel's origin).
    Request,
    /// The privilege itself.
    Privilege,
}

/// One process: a node of the tree.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// This node's identity.
    pub id: u64,
    /// Time units spent in the CS (param `cs_time`).
    pub cs_time: u32,
    /// False: the broken PRIVILEGE handler that loses the queue's head (param `fixed`).
    pub fixed: bool,
    /// `HOLDER`: itself, or the neighbour on the way to the privilege; unset until the
    /// start handler lays it from the topology.
    pub holder: Option<NodeId>,
    /// `REQUEST_Q`: who asked and waits for the privilege, served first come first.
    pub queue: VecDeque<NodeId>,
    /// `ASKED`: a REQUEST was sent to `HOLDER` and the privilege has not come yet.
    pub asked: bool,
    /// The request bookkeeping shared by the chapter (`in_cs` is the paper's `USING`).
    pub cs: Requests,
}

impl Node {
    /// Holds the privilege (`HOLDER = self`).
    pub fn holds(&self) -> bool {
        self.holder == Some(self.me)
    }

    fn enter(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.in_cs = true;
        cs::enter(ctx, entry_text(u64::from(self.cs.served) + 1, self.id), self.cs_time);
    }

    /// The paper's ASSIGN_PRIVILEGE.
    fn assign_privilege(&mut self, ctx: &mut Context<'_, Msg>) {
        if !self.holds() || self.cs.in_cs {
            return;
        }
        let Some(head) = self.queue.pop_front() else { return };
        self.holder = Some(head);
        self.asked = false;
        if head == self.me {
            self.enter(ctx);
        } else {
            ctx.send(head, Msg::Privilege);
        }
    }

    /// The paper's MAKE_REQUEST.
    fn make_request(&mut self, ctx: &mut Context<'_, Msg>) {
        match self.holder {
            Some(holder) if holder != self.me && !self.queue.is_empty() && !self.asked => {
                ctx.send(holder, Msg::Request);
                self.asked = true;
            }
            _ => {}
        }
    }

    /// Both procedures, as every event of the paper ends.
    fn assign_then_request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.assign_privilege(ctx);
        self.make_request(ctx);
    }

    fn on_request(&mut self, from: NodeId, ctx: &mut Context<'_, Msg>) {
        if self.queue.contains(&from) {
            ctx.log(format!("REQUEST from {from}, already waiting in REQUEST_Q: a duplicate, ignored"));
            return;
        }
        self.queue.push_back(from);
        self.assign_then_request(ctx);
    }

    fn on_privilege(&mut self, from: NodeId, ctx: &mut Context<'_, Msg>) {
        if self.holds() {
            ctx.log(format!("second PRIVILEGE from {from} while holding it: a duplicate, ignored"));
            return;
        }
        if self.holder != Some(from) {
            ctx.log(format!("PRIVILEGE from {from}, which is not HOLDER: ignored"));
            return;
        }
        self.holder = Some(self.me);
        // The broken variant's slip: "is it for me?" answered by taking the head. When
        // the head is a neighbour, it is gone, and ASSIGN_PRIVILEGE serves the next one.
        if !self.fixed && self.queue.pop_front() == Some(self.me) {
            self.asked = false;
            self.enter(ctx);
            return;
        }
        self.assign_then_request(ctx);
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    /// Lays `HOLDER` towards node 0: the smallest neighbour is the parent on a tree,
    /// a line and a star alike.
    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.holder.is_some() {
            return;
        }
        self.holder = ctx.neighbours().into_iter().min();
        match self.holder {
            Some(parent) if parent > self.me => ctx.log(format!(
                "every neighbour has a larger position: HOLDER = {parent} may point away from node 0 \
                 (number an edge list breadth-first from node 0)"
            )),
            Some(_) => {}
            None => ctx.log("no neighbour: HOLDER left unset, requests cannot be made"),
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        if from == self.me || !ctx.neighbours().contains(from) {
            ctx.log(format!("{} from {from}: not a neighbour, ignored", msg.kind_name()));
            return;
        }
        if self.holder.is_none() {
            ctx.log(format!("{} from {from} before HOLDER was laid: ignored", msg.kind_name()));
            return;
        }
        match msg {
            Msg::Request => self.on_request(from, ctx),
            Msg::Privilege => self.on_privilege(from, ctx),
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

    /// The paper's "wish to enter": queue itself, then the two procedures.
    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.requesting = true;
        self.queue.push_back(self.me);
        self.assign_then_request(ctx);
    }

    /// The paper's "exit": `USING ← false` and the two procedures; then the next
    /// queued request of its own, which queues behind whoever asked meanwhile.
    fn release(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.leave();
        cs::exit(ctx, entry_text(u64::from(self.cs.served), self.id));
        self.assign_then_request(ctx);
        if self.cs.take_queued() {
            self.request(ctx);
        }
    }
}

fn positions(queue: &VecDeque<NodeId>) -> String {
    let names: Vec<String> = queue.iter().map(|q| q.to_string()).collect();
    format!("[{}]", names.join(", "))
}

impl MutexNode for Node {
    fn requests(&self) -> &Requests {
        &self.cs
    }
    fn unfinished(&self) -> Option<String> {
        if self.cs.busy() {
            Some(format!("{}, REQUEST_Q: {}", self.cs.describe(), positions(&self.queue)))
        } else if self.queue.is_empty() {
            None
        } else if self.holds() {
            Some(format!("holds the privilege idle while {} wait in REQUEST_Q", positions(&self.queue)))
        } else {
            Some(format!("REQUEST_Q {} still waits for the privilege", positions(&self.queue)))
        }
    }
}

/// Raymond's tree-based token mutual exclusion. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Raymond {
    stay: Stay,
    fixed: bool,
}

fn holds_token(s: &Node) -> u64 {
    u64::from(s.holds())
}

fn is_privilege(m: &Msg) -> u64 {
    u64::from(matches!(m, Msg::Privilege))
}

/// Walks `HOLDER` from every node: each walk must reach a node where the privilege is
/// (its holder, or where a PRIVILEGE in transit goes) without coming back on itself. A
/// node not yet started has no pointer yet: a walk that meets one stops there. Nodes
/// already known to lead there end a walk too, so the whole check is O(n).
fn holder_tree(w: &World<'_, Node>) -> Result<(), String> {
    let n = w.nodes.len();
    // Leads to the privilege (or to a node not started yet), as far as known.
    let mut leads: Vec<bool> = w.nodes.iter().map(|s| s.holds() || s.holder.is_none()).collect();
    (w.in_flight)(&mut |_, to, m| {
        if matches!(m, Msg::Privilege) {
            if let Some(slot) = leads.get_mut(to.index()) {
                *slot = true;
            }
        }
    });
    let mut on_path = vec![false; n];
    for start in 0..n {
        let mut path = Vec::new();
        let mut at = start;
        while !leads[at] {
            path.push(at);
            on_path[at] = true;
            at = match w.nodes[at].holder {
                Some(next) if next.index() < n => next.index(),
                Some(next) => {
                    return Err(format!("from node {start}, HOLDER leads to node {next}, outside the system"))
                }
                None => break, // not started: `leads` already says so
            };
            if on_path[at] {
                let walk: Vec<String> = path.iter().chain([&at]).map(|p| p.to_string()).collect();
                return Err(format!("from node {start}, HOLDER cycles: {}", walk.join(" → ")));
            }
        }
        for p in path {
            leads[p] = true;
            on_path[p] = false;
        }
    }
    Ok(())
}

impl Algorithm for Raymond {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["tree", "line", "star"],
            default_nodes: 7,
            ..cs::spec(
                "raymond",
                "Raymond (1989): a token on a tree, requests up and the token down, ≤ 2·D messages per CS",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Raymond { stay: Stay::from_params(params)?, fixed: params.get("fixed")? })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            id: setup.ident,
            cs_time: self.stay.cs_time,
            fixed: self.fixed,
            holder: (setup.me == NodeId(0)).then_some(setup.me),
            queue: VecDeque::new(),
            asked: false,
            cs: Requests::default(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        self.stay.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::<Node>::count(EXACTLY_ONE_TOKEN, holds_token, is_privilege, 1, 1),
                cs::mutual_exclusion(),
                Invariant::<Node>::global(HOLDER_TREE, holder_tree),
            ],
            terminal: vec![cs::every_request_served()],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let entries = cs::entries(facts);
        // The tree's diameter when the engine says the topology, else the widest tree
        // on n nodes (a line).
        let (d, named) = match facts.topology {
            Some(t) => (f64::from(t.tree_diameter()), "D"),
            None => (facts.n.saturating_sub(1) as f64, "D ≤ n−1"),
        };
        let privileges = facts.measured("PRIVILEGE") as f64;
        vec![
            Expectation::exact("REQUEST", "PRIVILEGE", privileges),
            Expectation::at_most("PRIVILEGE", format!("{named}·#CS"), d * entries),
            Expectation::between("total", format!("0 … 2{named}·#CS"), 0.0, 2.0 * d * entries),
        ]
    }
}

#[cfg(test)]
#[path = "raymond_tests.rs"]
mod tests;

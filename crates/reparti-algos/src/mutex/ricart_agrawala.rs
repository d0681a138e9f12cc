//! # Ricart & Agrawala (1981): mutual exclusion with 2(n−1) messages per critical section
//!
//! **What.** A process that wants the critical section (CS) sends a timestamped
//! `REQUEST(ts, id)` to every other process and enters once all n−1 have answered
//! `REPLY`. A process answers at once unless it is in the CS, or is requesting itself
//! with a smaller `(ts, id)`; then it *defers* the answer until it leaves the CS. Ties
//! between equal timestamps are broken by identity, so `(ts, id)` totally orders the
//! requests and the oldest always wins.
//!
//! **Source.** Ricart & Agrawala, "An optimal algorithm for mutual exclusion in computer
//! networks", CACM 24(1), 1981 (with one change to its sequence numbers, the first
//! pitfall below), Raynal (1992).
//!
//! ```text
//! request:   requesting = true; my_ts = highest + 1; highest = my_ts; replies = 0
//!            send REQUEST(my_ts, i) to all j ≠ i
//! on REQUEST(t, j): highest = max(highest, t)
//!            if in_cs ∨ (requesting ∧ (my_ts, i) < (t, j)): deferred += j
//!            else send REPLY to j
//! on REPLY:  replies += 1; if replies = n−1: in_cs = true
//! release:   in_cs = requesting = false; send REPLY to every j ∈ deferred; deferred = ∅
//! ```
//!
//! **How it runs here.** Each node receives external [`Input::Request`]s (the workload
//! gives each `requests`, default 2, at random times). A request that arrives while the
//! node is already requesting or in the CS is queued, and issued when the node leaves
//! the CS. On entering the node outputs `enter_cs` = `"ts.id"` (its request's timestamp
//! and its identity) and sets a timer of `cs_time` (default 1) time units; when it fires
//! the node leaves (output `exit_cs`, same value), sends its deferred replies and issues
//! its next queued request. [`Input::Release`] leaves the CS early (the console's
//! `release`).
//!
//! **Pitfalls.**
//! * `highest = my_ts` when requesting. Without it a node that re-requests before
//!   hearing from anyone may reuse its previous number, and CS entries stop coming in
//!   increasing `(ts, id)` order (observed in simulation; the paper's pseudo-code raises
//!   its highest number only when a REQUEST arrives).
//! * `highest` is updated on *every* REQUEST, deferred or not: it is what makes a later
//!   request of this node younger than every request it has already seen.
//! * The sequence numbers are the algorithm's own, not the framework's Lamport clocks:
//!   Ricart–Agrawala only needs them to grow past the requests a node has seen.
//! * The `in_cs` test of the REQUEST handler is implied by the `(ts, id)` comparison as
//!   long as `requesting` stays true in the CS: a request that reaches a node in the CS
//!   was issued after its sender replied to that node's request, so it is younger. It is
//!   kept because it states the intent; a deliberately broken variant (for a checker's
//!   tests) must do more than drop it, e.g. reply at once while in the CS.
//! * FIFO is not needed: each REPLY answers exactly one REQUEST, and a node has at most
//!   one request outstanding.
//! * `deferred` is a set (`deferred ⊆ P` in the paper), not a list in arrival order: the
//!   deferred replies leave together, one per channel, so the order they were deferred
//!   in changes nothing, and a list would make the checker count each order as a state
//!   of its own (2,332 states instead of 2,101 for n = 3, one request each, FIFO).
//!
//! **Properties.** After every event: "mutual exclusion: at most one node in the critical
//! section". At quiescence: "every request was served".
//!
//! **Costs.** Exactly n−1 REQUEST and n−1 REPLY per CS entry: REQUEST = REPLY =
//! (n−1)·#CS, total = 2(n−1)·#CS where #CS counts `enter_cs` outputs.
//!
//! **State count.** `reparti check ricart-agrawala -n 3 -p requests=1` explores 2,101
//! states on FIFO channels and 2,879 unordered: exactly the reachable states of the
//! paper's variables (`highest`, `my_ts`, `requesting`, `in_cs`, `replies`, `deferred ⊆
//! P`) plus the messages in flight and which requests were made, as a brute-force
//! enumerator written from the pseudo-code re-derives (the checker's test
//! `mutex_state_counts`).

use super::critical_section::{self as cs, CsProcess, MutexNode, Requests, Stay};
pub use super::critical_section::{entry_text, parse_entry, Input};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Message, NodeId, NodeSetup, ParamError, Params, Process,
    Properties, RunFacts, ScheduledInput, Timer, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Ricart–Agrawala's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "May I enter?", with the request's sequence number and the sender's identity.
    Request {
        /// The request's sequence number.
        ts: u64,
        /// The requester's identity (breaks ties between equal `ts`).
        id: u64,
    },
    /// "Go ahead" (sent at once, or deferred until the sender leaves the CS).
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
    /// The largest sequence number seen or used.
    pub highest: u64,
    /// The sequence number of the current request.
    pub my_ts: u64,
    /// The request bookkeeping shared by the chapter.
    pub cs: Requests,
    /// Replies received for the current request.
    pub replies: u32,
    /// The nodes whose requests wait for this node to leave the CS: a set, as the
    /// paper's `deferred ⊆ P` (in the order of deferral it would tell apart states that
    /// behave alike, and inflate the checker's count).
    pub deferred: BTreeSet<NodeId>,
}

impl Node {
    /// Enters once every other node has replied (at once when n = 1).
    fn maybe_enter(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.cs.requesting && !self.cs.in_cs && self.replies + 1 >= self.n {
            self.cs.in_cs = true;
            cs::enter(ctx, entry_text(self.my_ts, self.id), self.cs_time);
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Request { ts, id } => {
                self.highest = self.highest.max(ts);
                // Our own request has priority iff it is older in the (ts, id) order.
                let mine_first = self.cs.requesting && (self.my_ts, self.id) < (ts, id);
                if self.cs.in_cs || mine_first {
                    self.deferred.insert(from);
                } else {
                    ctx.send(from, Msg::Reply);
                }
            }
            Msg::Reply => {
                if self.cs.requesting && !self.cs.in_cs {
                    self.replies += 1;
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

    /// Starts a request: a fresh sequence number above everything seen, sent to all.
    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.requesting = true;
        // Saturating: a peer on a real network could send any number.
        self.my_ts = self.highest.saturating_add(1);
        // The change to the paper (first pitfall above): remember our own number, so that the next
        // request is younger than this one even if nothing arrives in between.
        self.highest = self.my_ts;
        self.replies = 0;
        // Everyone else, not just the topology's neighbours: the algorithm needs n−1
        // permissions (on the complete graph, the only topology accepted, they coincide).
        for j in 0..self.n {
            if j != self.me.0 {
                ctx.send(NodeId(j), Msg::Request { ts: self.my_ts, id: self.id });
            }
        }
        self.maybe_enter(ctx);
    }

    /// Leaves the CS, answers the deferred requests, and issues the next queued one.
    fn release(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.leave();
        cs::exit(ctx, entry_text(self.my_ts, self.id));
        for j in std::mem::take(&mut self.deferred) {
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
            Some(self.cs.describe())
        } else if !self.deferred.is_empty() {
            Some(format!("still defers replies to {:?}", self.deferred))
        } else {
            None
        }
    }
}

/// Ricart & Agrawala's mutual exclusion. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct RicartAgrawala {
    stay: Stay,
}

impl Algorithm for RicartAgrawala {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        cs::spec(
            "ricart-agrawala",
            "Ricart & Agrawala (1981): timestamped requests, deferred replies, 2(n−1) messages per CS",
        )
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(RicartAgrawala { stay: Stay::from_params(params)? })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            id: setup.ident,
            n: setup.n as u32,
            cs_time: self.stay.cs_time,
            highest: 0,
            my_ts: 0,
            cs: Requests::default(),
            replies: 0,
            deferred: BTreeSet::new(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        self.stay.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties { invariants: vec![cs::mutual_exclusion()], terminal: vec![cs::every_request_served()] }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let cs = cs::entries(facts);
        let per = facts.n.saturating_sub(1) as f64;
        vec![
            Expectation::exact("REQUEST", "(n−1)·#CS", per * cs),
            Expectation::exact("REPLY", "(n−1)·#CS", per * cs),
            Expectation::exact("total", "2(n−1)·#CS", 2.0 * per * cs),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler_harness::outputs;
    use crate::mutex::critical_section::CS_TIMER;
    use reparti_core::{Effect, OutputValue, Topology, TopologyKind, World};

    const N: usize = 3;

    fn nodes(n: usize) -> Vec<Node> {
        let a = RicartAgrawala { stay: Stay::new(2, 1) };
        (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), 10 * (i as u64 + 1), n))).collect()
    }

    fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
        let (me, n) = (node.me, node.n as usize);
        crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
    }

    use crate::handler_harness::sends;

    #[test]
    fn a_request_goes_to_every_other_node_with_a_fresh_number() {
        let mut ns = nodes(N);
        ns[0].highest = 6;
        let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
        let req = Msg::Request { ts: 7, id: 10 };
        assert_eq!(sends(&eff), vec![(NodeId(1), req.clone()), (NodeId(2), req)]);
        assert_eq!((ns[0].my_ts, ns[0].highest), (7, 7), "highest = my_ts");
        assert!(ns[0].cs.requesting && !ns[0].cs.in_cs);
    }

    #[test]
    fn idle_nodes_reply_at_once_and_remember_the_highest_number() {
        let mut ns = nodes(N);
        let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), Msg::Request { ts: 5, id: 10 }, c));
        assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Reply)]);
        assert_eq!(ns[1].highest, 5);
        // Its own next request is younger than the one it saw.
        let eff = run(&mut ns[1], |s, c| s.on_input(Input::Request, c));
        assert_eq!(sends(&eff)[0].1, Msg::Request { ts: 6, id: 20 });
    }

    #[test]
    fn the_older_request_wins_and_ties_go_to_the_smaller_identity() {
        let mut ns = nodes(N);
        run(&mut ns[1], |s, c| s.on_input(Input::Request, c)); // (1, 20)
                                                               // An older request (equal ts, smaller id): reply at once.
        let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), Msg::Request { ts: 1, id: 10 }, c));
        assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Reply)]);
        // A younger one (equal ts, larger id): deferred.
        let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(2), Msg::Request { ts: 1, id: 30 }, c));
        assert!(sends(&eff).is_empty());
        assert_eq!(ns[1].deferred, BTreeSet::from([NodeId(2)]));
        // A request with a larger ts: deferred too.
        let mut other = nodes(4);
        run(&mut other[3], |s, c| s.on_input(Input::Request, c));
        let eff = run(&mut other[3], |s, c| s.on_message(NodeId(0), Msg::Request { ts: 2, id: 10 }, c));
        assert!(sends(&eff).is_empty());
    }

    #[test]
    fn enters_after_n_minus_one_replies_and_releases_on_the_timer() {
        let mut ns = nodes(N);
        run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
        let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Reply, c));
        assert!(!ns[0].cs.in_cs && outputs(&eff, "enter_cs").is_empty());
        // Meanwhile node 2 asks with a younger request: deferred.
        run(&mut ns[0], |s, c| s.on_message(NodeId(2), Msg::Request { ts: 1, id: 30 }, c));
        let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), Msg::Reply, c));
        assert!(ns[0].cs.in_cs);
        assert_eq!(outputs(&eff, "enter_cs"), vec![OutputValue::Text("1.10".into())]);
        assert!(eff.contains(&Effect::SetTimer { timer: CS_TIMER, after: 1.0 }));
        // In the CS every request is deferred, even an older-looking one.
        run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Request { ts: 1, id: 20 }, c));
        assert_eq!(ns[0].deferred, BTreeSet::from([NodeId(1), NodeId(2)]));
        let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
        assert!(!ns[0].cs.in_cs && !ns[0].cs.requesting && ns[0].deferred.is_empty());
        assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Reply), (NodeId(2), Msg::Reply)]);
        assert_eq!(outputs(&eff, "exit_cs"), vec![OutputValue::Text("1.10".into())]);
        assert_eq!((ns[0].cs.asked, ns[0].cs.served), (1, 1));
    }

    #[test]
    fn a_request_during_a_request_is_queued_and_issued_on_release() {
        let mut ns = nodes(2);
        run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
        let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
        assert!(sends(&eff).is_empty());
        assert_eq!(ns[0].cs.queued, 1);
        run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Reply, c));
        assert!(ns[0].cs.in_cs);
        let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
        assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Request { ts: 2, id: 10 })]);
        assert!(ns[0].cs.requesting && ns[0].cs.queued == 0);
    }

    #[test]
    fn a_single_node_enters_at_once() {
        let mut ns = nodes(1);
        let eff = run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
        assert!(sends(&eff).is_empty());
        assert!(ns[0].cs.in_cs);
    }

    #[test]
    fn release_input_leaves_early_and_is_harmless_otherwise() {
        let mut ns = nodes(1);
        let eff = run(&mut ns[0], |s, c| s.on_input(Input::Release, c));
        assert!(outputs(&eff, "exit_cs").is_empty());
        run(&mut ns[0], |s, c| s.on_input(Input::Request, c));
        let eff = run(&mut ns[0], |s, c| s.on_input(Input::Release, c));
        assert!(eff.contains(&Effect::CancelTimer { timer: CS_TIMER }));
        assert_eq!(outputs(&eff, "exit_cs").len(), 1);
        // The cancelled timer, were it to fire anyway, does nothing.
        let eff = run(&mut ns[0], |s, c| s.on_timer(CS_TIMER, c));
        assert!(eff.is_empty());
    }

    /// A tiny synchronous driver: delivers messages in the order given by `pick` until
    /// none are left, firing CS timers as soon as a node is alone with nothing to deliver.
    fn drive(ns: &mut [Node], pick: impl Fn(usize) -> usize) -> Vec<(u64, u64)> {
        let mut entries = Vec::new();
        crate::handler_harness::drive_mutex(
            ns,
            1,
            pick,
            |_, _| {},
            |_, e| {
                if let Effect::Output { key: "enter_cs", value: OutputValue::Text(t) } = e {
                    entries.push(parse_entry(t).expect("ts.id"));
                }
            },
        );
        entries
    }

    #[test]
    fn concurrent_requests_are_served_in_ts_id_order_whatever_the_delivery_order() {
        for salt in 0..20usize {
            let mut ns = nodes(4);
            let entries = drive(&mut ns, |len| (salt * 7 + len * 3) % len.max(1));
            assert_eq!(entries.len(), 4);
            assert!(entries.windows(2).all(|w| w[0] < w[1]), "entries {entries:?} not in (ts, id) order");
            let no_flight = |_: &mut dyn FnMut(NodeId, NodeId, &Msg)| {};
            let idents: Vec<u64> = ns.iter().map(|s| s.id).collect();
            let crashed = vec![false; ns.len()];
            assert_eq!(
                (cs::every_request_served::<Node>().check)(&World {
                    nodes: &ns,
                    idents: &idents,
                    crashed: &crashed,
                    in_flight: &no_flight,
                    time: None
                }),
                Ok(())
            );
        }
    }

    #[test]
    fn entry_text_round_trips() {
        assert_eq!(parse_entry(&entry_text(12, 7)), Some((12, 7)));
        assert_eq!(parse_entry("x.1"), None);
        assert_eq!(parse_entry("12"), None);
    }

    #[test]
    fn workload_gives_each_node_its_requests_in_time_order() {
        let a = RicartAgrawala { stay: Stay::new(3, 2) };
        let topo = Topology::build(&TopologyKind::Complete, 4, &mut reparti_core::rng(0)).expect("complete");
        let idents = [1, 2, 3, 4];
        let w = a.workload(&WorkloadSetup { n: 4, idents: &idents, topology: &topo }, &mut reparti_core::rng(5));
        assert_eq!(w.len(), 12);
        for i in 0..4 {
            let times: Vec<f64> = w.iter().filter(|s| s.node == NodeId(i)).map(|s| s.at).collect();
            assert_eq!(times.len(), 3);
            assert!(times.windows(2).all(|p| p[0] <= p[1]) && times.iter().all(|&t| (0.0..12.0).contains(&t)));
        }
    }
}

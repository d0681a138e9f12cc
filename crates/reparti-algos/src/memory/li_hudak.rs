//! # Li & Hudak's dynamic distributed manager: ownership that moves, found by probable owners
//!
//! **What.** Every register is a *page* with one *owner* at a time. A node may read a
//! page it holds a copy of (access `read` or `write`) and write a page it holds with
//! access `write`, at once and with no message. Otherwise it *faults*: it sends a
//! request to its *probable owner* of the page, a hint that is passed on from node to
//! node until it reaches the owner. A read fault (`RREQ`) brings back a copy
//! (`RDATA`): the owner keeps the page, records the reader in its `copy_set` and keeps
//! only read access. A write fault (`WREQ`) brings back the page itself and its copy
//! set (`WDATA`): the new owner invalidates every other copy (`INV`, answered
//! `INV_ACK`) before it writes. Nobody knows where the owner is; every node only knows
//! who last gave it news of the page, and that is always enough to get there.
//!
//! **Source.** Li & Hudak, "Memory coherence in shared virtual memory systems", ACM
//! TOCS 7(4), 1989, the dynamic distributed manager algorithm (its `probOwner` hints
//! and their updates); Tanenbaum & van Steen, *Distributed Systems*, ch. 7.
//!
//! ```text
//! read fault at r:   send RREQ(r) to prob_owner
//! on RREQ(r) at q:   if q is owner: access = read; copy_set += r; send RDATA(page) to r
//!                    else forward RREQ(r) to prob_owner
//! on RDATA from o:   access = read; prob_owner = o
//! write fault at w:  send WREQ(w) to prob_owner
//! on WREQ(w) at q:   if q is owner: send WDATA(page, copy_set) to w; access = nil; prob_owner = w
//!                    else forward WREQ(w) to prob_owner; prob_owner = w
//! on WDATA(pg, cs) at w: send INV to each c ∈ cs \ {w}; wait for every INV_ACK
//!                    copy_set = ∅; access = write; prob_owner = w
//! on INV from w at c: access = nil; prob_owner = w; send INV_ACK
//! a request that reaches a node whose own fault is in progress waits until it completes
//! ```
//!
//! **How it runs here.** One page per register. Initially node 0 owns every page (access
//! `write`, value nil) and every `prob_owner` is 0. A node is the *owner* of a page when
//! its `prob_owner` is itself: from the `WDATA` that brings the page (while it still
//! waits for acknowledgements) until the `WDATA` that sends it away; in between the
//! ownership travels in that `WDATA`. Operations come from the chapter's workload or the
//! console ([`super::client`]); a compare-and-set needs write access like a write.
//! `RREQ` and `WREQ` carry a hop counter, 1 when sent and one more at each forward,
//! which `RDATA` and `WDATA` bring back: the requester outputs `read_fault` = h or
//! `write_fault` = h, and `invalidated` = k, the `INV`s its write sent. A write at the
//! owner whose access is only `read` (it served readers since its last write) sends no
//! request: it outputs `upgrade` and `invalidated` = k, and invalidates the copies.
//!
//! **Pitfalls.**
//! * A request that reaches a node whose own fault is in progress must wait there until
//!   that fault completes: this is where naive implementations deadlock or lose
//!   requests. A write fault at w makes every forwarder point at w *before* w owns the
//!   page, so w's `prob_owner` and theirs form a cycle until `WDATA` arrives. Passed on
//!   at once (variant `fault=no-queue`), a request runs round such cycles (one run had
//!   sent 655,000 `RREQ`s when stopped after a minute), comes back to its own requester
//!   and is lost, or is served by an owner still waiting for `INV_ACK`s, which then
//!   writes beside the copy it just gave out: single writer / multiple readers fails in
//!   a third of the seeds tried.
//!   Queued, it is served — or forwarded to whoever took the page next — once the fault
//!   completes.
//! * An `INV` that reaches a node whose *read* fault is in progress is for the copy on
//!   its way (the owner granted it, then gave the page to a writer): it waits for the
//!   `RDATA`. Applied at once, the late `RDATA` installs a stale copy beside the new
//!   writer. An `INV` that reaches a node whose *write* fault is in progress must be
//!   applied at once: the writer that sent it waits for the acknowledgement before it
//!   serves the queued `WREQ` of that very node, and deferring it deadlocks. (Both seen
//!   in simulation.)
//! * The owner with read access that writes has no one to ask (a `WREQ` to itself is no
//!   fault at all): it invalidates its copy set and writes.
//! * The forwarder of a `WREQ(w)` sets `prob_owner = w`, Li & Hudak's path update: later
//!   requests queue behind w's instead of chasing the old owner. It is not what makes the
//!   protocol correct: without it (`fault=no-forward-update`) every property and the
//!   bound h ≤ n−1 still held in 1,260 simulated runs of 2 to 8 nodes.
//! * FIFO channels are needed (`needs_fifo`), for the bound h ≤ n−1 only: safety and
//!   linearizability held on unordered channels in every run. A request waiting at a
//!   writer is forwarded, after the writer's fault, to whoever took the page from it. On
//!   an unordered channel a `WREQ` sent after a `RREQ` overtakes it, the writer gets the
//!   page first, and the read chases the page round nodes it already visited: seed 40
//!   of `-n 4 -p ops=2 -p think=0.5 --delay uniform:0.1,5 --no-fifo` sends node 3's
//!   `RREQ` 3 → 0 → 2 → 1 → 2, h = 4 > n−1.
//!
//! **Properties.** After every event: "exactly one owner per page" (owners plus `WDATA`
//! in transit), "single writer / multiple readers" (at most one node with write access,
//! and then no other node has any), "every copy holds the owner's value". At quiescence:
//! following `prob_owner` from any node reaches the owner within n−1 hops, no fault is
//! in progress, every operation was answered. The history is linearizable: a write takes
//! effect when its node gets write access, a read when its copy is granted or read.
//!
//! **Costs.** A read fault of h hops costs h + 1 messages, a write fault h + 1 + 2k (k
//! copies invalidated), an upgrade 2k, a local operation nothing: RREQ + WREQ = Σh,
//! RDATA = #read faults, WDATA = #write faults, INV = INV_ACK = Σk, total = Σ(h+1) +
//! Σ(h+1+2k) (k summed over write faults and upgrades), and every h ≤ n−1. Li & Hudak
//! also prove an amortized O(n + K log n) messages for K faults on a page: not asserted.
//!
//! **State count.** On FIFO channels `reparti check li-hudak -n 3 -p ops=1 -p clients=2`
//! explores 12 states (node 0's operation is local, node 1 faults once), `-n 3 -p ops=1`
//! 84, `-n 3 -p ops=3` 8,476, `-n 4 -p ops=2` 34,351, with no violation; with
//! `fault=no-queue`, `-n 3 -p ops=2` breaks single writer / multiple readers in 331.

use super::client::{Client, MemoryNode};
use super::workload::Workload;
use crate::memory_params;
use reparti_core::history::{HistoryProperty, Operation, Reply};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params, Process,
    Properties, RunFacts, ScheduledInput, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Output by a node whose read fault completes: the hops its `RREQ` made.
pub const READ_FAULT: &str = "read_fault";
/// Output by a node whose write fault gets the page: the hops its `WREQ` made.
pub const WRITE_FAULT: &str = "write_fault";
/// Output by a write fault or an upgrade: the copies it invalidates.
pub const INVALIDATED: &str = "invalidated";
/// Output by the owner that writes with read access: the operation.
pub const UPGRADE: &str = "upgrade";

/// "Exactly one owner per page."
pub const ONE_OWNER: &str = "exactly one owner per page";
/// "Single writer / multiple readers."
pub const SWMR: &str = "single writer / multiple readers";
/// "Every copy holds the owner's value."
pub const COPIES_AGREE: &str = "every copy holds the owner's value";
/// "Following prob_owner reaches the owner within n−1 hops."
pub const CHAINS: &str = "prob_owner leads to the owner within n−1 hops";
/// "No fault in progress, no request waiting."
pub const SETTLED: &str = "no fault in progress, no request waiting";

/// The access a node has to a page.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Access {
    /// No copy.
    Nil,
    /// A copy it may read.
    Read,
    /// The only copy, which it may write.
    Write,
}

/// A fault in progress at a node.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Fault {
    /// `RREQ` sent, `RDATA` awaited.
    Read,
    /// `WREQ` sent, `WDATA` awaited.
    Write,
    /// The page is here (this node owns it): `INV_ACK` awaited from these nodes.
    Invalidating(BTreeSet<NodeId>),
}

/// One node's view of one page.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Page {
    /// What this node may do with its copy.
    pub access: Access,
    /// Where this node believes the owner is (itself: it is the owner).
    pub prob_owner: NodeId,
    /// The copy (nil when access is nil).
    pub value: Option<i64>,
    /// The readers' copies (kept by the owner only).
    pub copy_set: BTreeSet<NodeId>,
    /// This node's fault on the page, if one is in progress.
    pub fault: Option<Fault>,
    /// Requests (and `INV`s, during a read fault) that wait for the fault to complete,
    /// in arrival order, with their sender.
    pub queued: VecDeque<(NodeId, Msg)>,
}

impl Page {
    /// The page before anything happened: node 0 owns it, with write access.
    pub fn initial(me: NodeId) -> Page {
        let access = if me == NodeId(0) { Access::Write } else { Access::Nil };
        Page {
            access,
            prob_owner: NodeId(0),
            value: None,
            copy_set: BTreeSet::new(),
            fault: None,
            queued: VecDeque::new(),
        }
    }
}

/// The protocol's messages (each about one page, `key`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// A read fault's request, passed on towards the owner.
    Rreq {
        /// The page.
        key: u32,
        /// The node that faulted.
        requester: NodeId,
        /// Messages this request has been so far (1 when sent).
        hops: u32,
    },
    /// A copy, from the owner to a reader.
    Rdata {
        /// The page.
        key: u32,
        /// Its value.
        value: Option<i64>,
        /// The request's hops.
        hops: u32,
    },
    /// A write fault's request, passed on towards the owner.
    Wreq {
        /// The page.
        key: u32,
        /// The node that faulted.
        requester: NodeId,
        /// Messages this request has been so far (1 when sent).
        hops: u32,
    },
    /// The page itself and its copy set: ownership, from the owner to a writer.
    Wdata {
        /// The page.
        key: u32,
        /// Its value.
        value: Option<i64>,
        /// The readers holding copies.
        copy_set: BTreeSet<NodeId>,
        /// The request's hops.
        hops: u32,
    },
    /// Drop your copy: the sender owns the page and is about to write.
    Inv {
        /// The page.
        key: u32,
    },
    /// The copy is dropped.
    InvAck {
        /// The page.
        key: u32,
    },
}

impl Msg {
    /// The page it is about.
    pub fn key(&self) -> u32 {
        match *self {
            Msg::Rreq { key, .. }
            | Msg::Rdata { key, .. }
            | Msg::Wreq { key, .. }
            | Msg::Wdata { key, .. }
            | Msg::Inv { key }
            | Msg::InvAck { key } => key,
        }
    }
}

/// The deliberate mistakes (param `fault`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Mistake {
    /// The protocol as written.
    None,
    /// A request that reaches a node whose own fault is in progress is handled at once,
    /// as if there were none (broken: see the first pitfall).
    NoQueue,
    /// The forwarder of a `WREQ(w)` leaves its `prob_owner` alone (still correct: see
    /// the fourth pitfall).
    NoForwardUpdate,
}

/// One node: its pages and its client.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The deliberate mistake it makes, if any.
    pub mistake: Mistake,
    /// The pages touched so far (the others are as [`Page::initial`] says).
    pub pages: BTreeMap<u32, Page>,
    /// This node's client.
    pub client: Client,
}

impl Node {
    /// A fresh node.
    pub fn new(me: NodeId, mistake: Mistake) -> Node {
        Node { me, mistake, pages: BTreeMap::new(), client: Client::default() }
    }

    /// This node's view of page `key`.
    pub fn page(&self, key: u32) -> Page {
        self.pages.get(&key).cloned().unwrap_or_else(|| Page::initial(self.me))
    }

    /// Whether this node owns page `key`.
    pub fn owns(&self, key: u32) -> bool {
        self.pages.get(&key).map_or(self.me == NodeId(0), |p| p.prob_owner == self.me)
    }

    fn page_mut(&mut self, key: u32) -> &mut Page {
        let me = self.me;
        self.pages.entry(key).or_insert_with(|| Page::initial(me))
    }

    /// The open operation, if it is about `key` and `wants` its kind of access.
    fn open_on(&self, key: u32, write: bool) -> Option<Operation> {
        self.client.open.filter(|op| op.key() == key && matches!(op, Operation::Read { .. }) != write)
    }

    /// Completes the fault on `key`: executes the open operation on the page, serves
    /// what waited, then answers the client (whose next operation may fault again).
    fn complete(&mut self, key: u32, op: Option<Operation>, ctx: &mut Context<'_, Msg>) {
        let page = self.page_mut(key);
        page.fault = None;
        let reply = op.map(|op| {
            let (reply, value) = op.apply(page.value);
            page.value = value;
            reply
        });
        for (from, msg) in std::mem::take(&mut page.queued) {
            self.on_message(from, msg, ctx);
        }
        if let Some(reply) = reply {
            self.answer(reply, ctx);
        }
    }

    fn on_rreq(&mut self, key: u32, r: NodeId, hops: u32, ctx: &mut Context<'_, Msg>) {
        let me = self.me;
        let page = self.page_mut(key);
        if page.prob_owner == me {
            if page.access == Access::Write {
                page.access = Access::Read;
            }
            page.copy_set.insert(r);
            ctx.send(r, Msg::Rdata { key, value: page.value, hops });
        } else {
            ctx.send(page.prob_owner, Msg::Rreq { key, requester: r, hops: hops.saturating_add(1) });
        }
    }

    fn on_wreq(&mut self, key: u32, w: NodeId, hops: u32, ctx: &mut Context<'_, Msg>) {
        let (me, mistake) = (self.me, self.mistake);
        let page = self.page_mut(key);
        if page.prob_owner == me {
            let copy_set = std::mem::take(&mut page.copy_set);
            ctx.send(w, Msg::Wdata { key, value: page.value.take(), copy_set, hops });
            page.access = Access::Nil;
            page.prob_owner = w;
        } else {
            ctx.send(page.prob_owner, Msg::Wreq { key, requester: w, hops: hops.saturating_add(1) });
            if mistake != Mistake::NoForwardUpdate {
                page.prob_owner = w;
            }
        }
    }

    fn on_rdata(&mut self, from: NodeId, key: u32, value: Option<i64>, hops: u32, ctx: &mut Context<'_, Msg>) {
        let Some(op) = self.open_on(key, false).filter(|_| self.page(key).fault == Some(Fault::Read)) else {
            return ctx.log(format!("RDATA for page {key} from {from} with no read fault on it: ignored"));
        };
        let page = self.page_mut(key);
        page.access = Access::Read;
        page.prob_owner = from;
        page.value = value;
        ctx.output(READ_FAULT, hops as i64);
        self.complete(key, Some(op), ctx);
    }

    fn on_wdata(
        &mut self,
        from: NodeId,
        key: u32,
        value: Option<i64>,
        cs: BTreeSet<NodeId>,
        hops: u32,
        ctx: &mut Context<'_, Msg>,
    ) {
        let Some(op) = self.open_on(key, true).filter(|_| self.page(key).fault == Some(Fault::Write)) else {
            return ctx.log(format!("WDATA for page {key} from {from} with no write fault on it: ignored"));
        };
        let me = self.me;
        let page = self.page_mut(key);
        page.prob_owner = me;
        page.value = value;
        page.copy_set.clear();
        let others: BTreeSet<NodeId> = cs.into_iter().filter(|&c| c != me).collect();
        ctx.output(WRITE_FAULT, hops as i64);
        ctx.output(INVALIDATED, others.len());
        self.invalidate(key, op, others, ctx);
    }

    /// Sends `INV` to `copies` and waits for their acknowledgements (completes at once
    /// when there are none).
    fn invalidate(&mut self, key: u32, op: Operation, copies: BTreeSet<NodeId>, ctx: &mut Context<'_, Msg>) {
        for &c in &copies {
            ctx.send(c, Msg::Inv { key });
        }
        if copies.is_empty() {
            self.page_mut(key).access = Access::Write;
            self.complete(key, Some(op), ctx);
        } else {
            self.page_mut(key).fault = Some(Fault::Invalidating(copies));
        }
    }

    fn on_inv(&mut self, from: NodeId, key: u32, ctx: &mut Context<'_, Msg>) {
        let me = self.me;
        let page = self.page_mut(key);
        if page.fault == Some(Fault::Read) {
            // The copy on its way is the one invalidated: wait for it (second pitfall).
            page.queued.push_back((from, Msg::Inv { key }));
        } else if page.prob_owner == me || from == me {
            ctx.log(format!("INV for page {key} from {from} at its owner: ignored"));
        } else {
            page.access = Access::Nil;
            page.value = None;
            page.prob_owner = from;
            ctx.send(from, Msg::InvAck { key });
        }
    }

    fn on_inv_ack(&mut self, from: NodeId, key: u32, ctx: &mut Context<'_, Msg>) {
        let op = self.open_on(key, true);
        let page = self.page_mut(key);
        let Some(Fault::Invalidating(waiting)) = &mut page.fault else {
            return ctx.log(format!("INV_ACK for page {key} from {from} with no invalidation under way: ignored"));
        };
        if !waiting.remove(&from) {
            return ctx.log(format!("INV_ACK for page {key} from {from}, which was not invalidated: ignored"));
        }
        if waiting.is_empty() {
            page.access = Access::Write;
            self.complete(key, op, ctx);
        }
    }
}

impl MemoryNode for Node {
    fn client(&self) -> &Client {
        &self.client
    }

    fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    fn start(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) -> Option<Reply> {
        let (me, key) = (self.me, op.key());
        let write = !matches!(op, Operation::Read { .. });
        let page = self.page_mut(key);
        if page.access == Access::Write || (page.access == Access::Read && !write) {
            let (reply, value) = op.apply(page.value);
            page.value = value;
            return Some(reply);
        }
        if page.prob_owner == me {
            // The owner with read access writes: an upgrade, no request (third pitfall).
            let copies = std::mem::take(&mut page.copy_set);
            ctx.output(UPGRADE, op.function());
            ctx.output(INVALIDATED, copies.len());
            self.invalidate(key, op, copies, ctx);
            return None;
        }
        let to = page.prob_owner;
        if write {
            page.fault = Some(Fault::Write);
            ctx.send(to, Msg::Wreq { key, requester: me, hops: 1 });
        } else {
            page.fault = Some(Fault::Read);
            ctx.send(to, Msg::Rreq { key, requester: me, hops: 1 });
        }
        None
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Operation;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let key = msg.key();
        if let Msg::Rreq { requester, .. } | Msg::Wreq { requester, .. } = msg {
            if requester == self.me {
                return ctx.log(format!("own request for page {key} came back from {from}: ignored"));
            }
            if self.page(key).fault.is_some() && self.mistake != Mistake::NoQueue {
                // First pitfall: wait until this node's own fault completes.
                return self.page_mut(key).queued.push_back((from, msg));
            }
        }
        match msg {
            Msg::Rreq { requester, hops, .. } => self.on_rreq(key, requester, hops, ctx),
            Msg::Wreq { requester, hops, .. } => self.on_wreq(key, requester, hops, ctx),
            Msg::Rdata { value, hops, .. } => self.on_rdata(from, key, value, hops, ctx),
            Msg::Wdata { value, copy_set, hops, .. } => self.on_wdata(from, key, value, copy_set, hops, ctx),
            Msg::Inv { .. } => self.on_inv(from, key, ctx),
            Msg::InvAck { .. } => self.on_inv_ack(from, key, ctx),
        }
    }

    fn on_input(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) {
        self.ask(op, ctx);
    }
}

/// Li & Hudak's dynamic distributed manager. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct LiHudak {
    workload: Workload,
    mistake: Mistake,
}

const PARAMS: &[ParamSpec] = memory_params!(ParamSpec::choice(
    "fault",
    "none",
    &["none", "no-queue", "no-forward-update"],
    "a deliberate mistake: no-queue (a faulting node handles requests at once; broken), no-forward-update (a WREQ's forwarder keeps its prob_owner; still correct)"
));

impl Algorithm for LiHudak {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            needs_fifo: true,
            ..super::spec(
                "li-hudak",
                "Li & Hudak's dynamic distributed manager: pages move to their writers, found along probable owners",
                PARAMS,
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let mistake = match params.get::<String>("fault")?.as_str() {
            "no-queue" => Mistake::NoQueue,
            "no-forward-update" => Mistake::NoForwardUpdate,
            _ => Mistake::None,
        };
        Ok(LiHudak { workload: Workload::from_params(params)?, mistake })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.workload.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node::new(setup.me, self.mistake)
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Operation>> {
        self.workload.draw(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        properties::all()
    }

    fn history_properties(&self) -> Vec<HistoryProperty> {
        vec![super::linearizable()]
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let (reads, writes) = (facts.output_count(READ_FAULT) as f64, facts.output_count(WRITE_FAULT) as f64);
        let hops = (super::output_sum(facts, READ_FAULT) + super::output_sum(facts, WRITE_FAULT)) as f64;
        let k = super::output_sum(facts, INVALIDATED) as f64;
        let bound = facts.n.saturating_sub(1) as f64;
        vec![
            Expectation::exact("RREQ+WREQ", "Σh", hops),
            Expectation::exact("RDATA", "#read faults", reads),
            Expectation::exact("WDATA", "#write faults", writes),
            Expectation::exact("INV", "Σk", k),
            Expectation::exact("INV_ACK", "Σk", k),
            Expectation::exact("total", "Σ(h+1) + Σ(h+1+2k)", hops + reads + writes + 2.0 * k),
            Expectation::at_most("output:read_fault", "h ≤ n−1", bound),
            Expectation::at_most("output:write_fault", "h ≤ n−1", bound),
        ]
    }
}

#[path = "li_hudak_properties.rs"]
mod properties;

#[cfg(test)]
#[path = "li_hudak_tests.rs"]
mod tests;

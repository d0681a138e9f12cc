//! # Ivy: cached pages with invalidation under a central manager
//!
//! **What.** Every register is a *page* that nodes copy on demand. A node holds each page
//! with an access right — `nil`, `read` or `write` — and, unless `nil`, a copy of its
//! value. Reads are local on a `read` or `write` copy, writes and compare-and-sets on a
//! `write` copy; anything else is a *fault*, served by the manager, which knows each
//! page's `owner` (the node that last had it writable) and `copy_set` (the nodes given
//! read copies since). A read fault fetches a read copy from the owner; a write fault
//! first invalidates every read copy, then moves the page, writable, from the owner to
//! the writer, the new owner: single writer / multiple readers.
//!
//! **Source.** K. Li and P. Hudak, "Memory coherence in shared virtual memory systems",
//! ACM TOCS 7(4), 1989: the centralized manager algorithm (per page the manager keeps
//! the owner, the copy set and a lock, released by the requester's confirmation), in the
//! form MIT 6.824's Ivy lecture notes give it, with its message names.
//!
//! ```text
//! read fault at r:   r → M  RQ;  M → owner  RF(r);  owner: access := read; owner → r  RD(v)
//!                    r: access := read, copy := v; answer; r → M  RC;  M: copy_set ∪= {r}
//! write fault at w:  w → M  WQ;  M → each c ∈ copy_set ∖ {w}  IV;  c: access := nil; c → M  IC
//!                    when every IC is in:  M → owner  WF(w);  owner: access := nil; owner → w  WD(v)
//!                    w: access := write, copy := v; perform the op; answer; w → M  WC
//!                    M: owner := w; copy_set := ∅
//! at M, a query waits in a FIFO queue while another fault on its page is in progress
//! (from its RQ/WQ being taken until its RC/WC)
//! ```
//!
//! **How it runs here.** One page per register (key). Node 0 manages every page (param
//! `manager` moves it) and, at the start, also owns every page, with `write` access and
//! the value `nil`; the other nodes have `nil` access. Every node hosts a client, the
//! manager included ([`super::client`]). A compare-and-set needs the page writable: it
//! is a write fault whatever it finds, answered `fail` when the value differs. When roles
//! coincide — the requester or the owner is the manager, or the requester is the owner
//! (an upgrade from `read`: the `WF` then reaches the requester itself, and no `WD` is
//! needed) — the hop between them is a local step: a node never sends to itself (its
//! messages to itself go to an in-state queue, handled before its event ends). Taking a
//! fault from its queue, the manager outputs `invalidated` = k for a write fault, the
//! fault's message count as its roles make it (`read_fault`, `write_fault`), and which
//! roles coincide (`roles`, one of [`CASES`]): the expected counts read them.
//!
//! **Pitfalls.**
//! * Serving a second fault on a page before the first one's `RC`/`WC` arrived. Say a
//!   write fault is served while an `RD` is still travelling: its reader is not yet in
//!   `copy_set`, is never invalidated, and reads the old value after the write returned.
//!   The queue and the confirmations are what make the protocol correct, on non-FIFO
//!   channels too: each message about a page follows, causally, the confirmation of the
//!   previous fault on it.
//! * Forwarding `WF` before every `IC` arrived (param `fault=no-wait-ic`, the classic
//!   mistake): the writer gets `write` access while a reader still has `read` access,
//!   which breaks single writer / multiple readers, and its next read linearizability.
//! * Taking a query from a node whose previous fault is not confirmed yet for a
//!   duplicate: on non-FIFO channels a client's next query may overtake its `RC`.
//!
//! **Properties.** Invariants: single writer / multiple readers on every page (one node
//! with `write` access and no other with any, or nobody with `write`); every readable
//! copy of a page holds the same value. At quiescence: every operation was answered; the
//! manager's `owner` and `copy_set` match the access rights (the owner has `read`, or
//! `write` with an empty `copy_set`; exactly the `copy_set` besides has `read`).
//! Linearizable: an operation takes effect when it runs on a copy — at once for a local
//! one, on `RD`/`WD` (or the upgrader's `WF`) for a fault — between its call and its
//! return; `write` access is granted only once every other copy is gone, and read
//! copies are made only from the owner's, so a readable copy holds the last write.
//!
//! **Costs.** A local operation costs nothing. With the requester r, the owner o and the
//! manager M distinct, a read fault costs 4 messages (`RQ`, `RF`, `RD`, `RC`) and a
//! write fault 4 + 2k (`WQ`, k `IV`, k `IC`, `WF`, `WD`, `WC`), where k = |copy_set ∖
//! {w, M}| is the number of copies invalidated by message (the writer keeps its own, the
//! manager drops its own locally). Coinciding roles save their local hops: read fault =
//! 2[r≠M] + [o≠M] + 1, write fault = 2[w≠M] + 2k + [o≠M] + [o≠w]. The expected counts
//! are exact, per message type.

use super::client::{Client, MemoryNode};
use super::workload::Workload;
use super::{every_operation_answered, output_count, output_sum};
use crate::memory_params;
use reparti_core::history::{HistoryProperty, Operation, Reply};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, RunFacts, ScheduledInput, Terminal, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The output (by the manager, per read fault) of the fault's message count.
pub const READ_FAULT: &str = "read_fault";
/// The output (by the manager, per write fault) of the fault's message count.
pub const WRITE_FAULT: &str = "write_fault";
/// The output (by the manager, per write fault) of k, the copies invalidated by message.
pub const INVALIDATED: &str = "invalidated";
/// The output (by the manager, per fault) of which roles coincide: a name in [`CASES`].
pub const ROLES: &str = "roles";
/// The invariant on access rights.
pub const SWMR: &str = "single writer / multiple readers on every page";
/// The invariant on values.
pub const COHERENT: &str = "every readable copy of a page holds the same value";
/// The terminal property on the manager's directory.
pub const DIRECTORY: &str = "the manager's owner and copy sets match the access rights";

/// A node's right on a page (ordered: `Nil < Read < Write`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize)]
pub enum Access {
    /// No copy.
    #[default]
    Nil,
    /// A copy that may be read.
    Read,
    /// The only copy, which may be written.
    Write,
}

/// A node's copy of a page.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Page {
    /// The access right.
    pub access: Access,
    /// The copy's value (`None` when `nil`, or never written).
    pub value: Option<i64>,
}

/// The fault a manager is serving on a page.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Fault {
    /// Who asked.
    pub requester: NodeId,
    /// The access asked for (`Read` or `Write`).
    pub kind: Access,
    /// The copy holders whose `IC` is still awaited.
    pub awaiting: BTreeSet<NodeId>,
    /// Whether `RF`/`WF` went to the owner.
    pub forwarded: bool,
}

/// The manager's knowledge of one page.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The node that last had the page writable.
    pub owner: NodeId,
    /// The nodes given read copies since.
    pub copy_set: BTreeSet<NodeId>,
    /// The fault in progress.
    pub fault: Option<Fault>,
    /// The faults waiting for it, in arrival order.
    pub queue: VecDeque<(NodeId, Access)>,
}

/// Ivy's messages: every one names its page first.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// `RQ(page)`: read query, requester → manager.
    #[message(kind = "RQ")]
    ReadQuery(u32),
    /// `RF(page, requester)`: read forward, manager → owner: give the requester a read copy.
    #[message(kind = "RF")]
    ReadForward(u32, NodeId),
    /// `RD(page, value)`: read data, owner → requester.
    #[message(kind = "RD")]
    ReadData(u32, Option<i64>),
    /// `RC(page)`: read confirmation, requester → manager.
    #[message(kind = "RC")]
    ReadConfirm(u32),
    /// `WQ(page)`: write query, requester → manager.
    #[message(kind = "WQ")]
    WriteQuery(u32),
    /// `IV(page)`: invalidate, manager → copy holder.
    #[message(kind = "IV")]
    Invalidate(u32),
    /// `IC(page)`: invalidation confirmed, copy holder → manager.
    #[message(kind = "IC")]
    InvalidateConfirm(u32),
    /// `WF(page, requester)`: write forward, manager → owner: hand the page to the requester.
    #[message(kind = "WF")]
    WriteForward(u32, NodeId),
    /// `WD(page, value)`: write data, owner → requester.
    #[message(kind = "WD")]
    WriteData(u32, Option<i64>),
    /// `WC(page)`: write confirmation, requester → manager.
    #[message(kind = "WC")]
    WriteConfirm(u32),
}

/// Keeps `value` under `key` unless it is the initial one: equal states stay equal.
fn store<V: PartialEq>(map: &mut BTreeMap<u32, V>, key: u32, value: V, initial: V) {
    if value == initial {
        map.remove(&key);
    } else {
        map.insert(key, value);
    }
}

/// One node: its copies, the manager's directory (at the manager), its client.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The manager of every page.
    pub manager: NodeId,
    /// The copies that differ from the start (`write` at the manager, `nil` elsewhere).
    pub pages: BTreeMap<u32, Page>,
    /// At the manager, the pages whose entry differs from the start (owner = manager).
    pub directory: BTreeMap<u32, Entry>,
    /// This node's client.
    pub client: Client,
    /// `fault=no-wait-ic`: forward `WF` without waiting for the `IC`s.
    pub no_wait_ic: bool,
    /// Messages to itself (a local hop), handled before the current event ends: always
    /// empty between events.
    pub local: VecDeque<Msg>,
}

impl Node {
    /// A node at `me` of a system managed by `manager`.
    pub fn new(me: NodeId, manager: NodeId, no_wait_ic: bool) -> Self {
        let (pages, directory, local) = (BTreeMap::new(), BTreeMap::new(), VecDeque::new());
        Node { me, manager, pages, directory, client: Client::default(), no_wait_ic, local }
    }

    fn initial_page(&self) -> Page {
        let access = if self.me == self.manager { Access::Write } else { Access::Nil };
        Page { access, value: None }
    }

    /// This node's copy of page `key`.
    pub fn page(&self, key: u32) -> Page {
        self.pages.get(&key).copied().unwrap_or_else(|| self.initial_page())
    }

    fn set_page(&mut self, key: u32, page: Page) {
        let initial = self.initial_page();
        store(&mut self.pages, key, page, initial);
    }

    /// The manager's entry for page `key` (meaningful at the manager only).
    pub fn entry(&self, key: u32) -> Entry {
        self.directory.get(&key).cloned().unwrap_or_else(|| self.initial_entry())
    }

    fn initial_entry(&self) -> Entry {
        Entry { owner: self.manager, copy_set: BTreeSet::new(), fault: None, queue: VecDeque::new() }
    }

    fn set_entry(&mut self, key: u32, entry: Entry) {
        let initial = self.initial_entry();
        store(&mut self.directory, key, entry, initial);
    }

    /// Sends, or queues for itself: a node never sends to itself.
    fn deliver(&mut self, to: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        if to == self.me {
            self.local.push_back(msg);
        } else {
            ctx.send(to, msg);
        }
    }

    /// Handles the messages this node sent itself, in order.
    fn drain(&mut self, ctx: &mut Context<'_, Msg>) {
        while let Some(msg) = self.local.pop_front() {
            self.handle(self.me, msg, ctx);
        }
    }

    /// Runs `op` on this node's copy.
    fn execute(&mut self, op: Operation) -> Reply {
        let mut page = self.page(op.key());
        let (reply, value) = op.apply(page.value);
        page.value = value;
        self.set_page(op.key(), page);
        reply
    }

    fn handle(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let from_manager = from == self.manager;
        match msg {
            Msg::ReadQuery(key) => self.query(from, key, Access::Read, ctx),
            Msg::WriteQuery(key) => self.query(from, key, Access::Write, ctx),
            Msg::ReadConfirm(key) => self.confirm(from, key, Access::Read, ctx),
            Msg::WriteConfirm(key) => self.confirm(from, key, Access::Write, ctx),
            Msg::InvalidateConfirm(key) => self.invalidation_confirmed(from, key, ctx),
            Msg::ReadForward(key, requester) if from_manager => self.forward_read(key, requester, ctx),
            Msg::WriteForward(key, requester) if from_manager => self.forward_write(key, requester, ctx),
            Msg::Invalidate(key) if from_manager => self.invalidate(key, ctx),
            Msg::ReadData(key, value) => self.read_data(key, value, ctx),
            Msg::WriteData(key, value) => self.granted(key, value, ctx),
            msg => ctx.log(format!("{msg:?} from {from}, not the manager: ignored")),
        }
    }

    // ----- the manager -----

    /// RQ / WQ: queue the fault, serve it if the page is free.
    fn query(&mut self, from: NodeId, key: u32, kind: Access, ctx: &mut Context<'_, Msg>) {
        if self.me != self.manager {
            return ctx
                .log(format!("{kind:?} query for page {key} from {from}, but {} manages it: ignored", self.manager));
        }
        let mut entry = self.entry(key);
        if entry.queue.iter().any(|&(r, _)| r == from) {
            // One open operation per client: a second query while one waits is a duplicate.
            return ctx.log(format!("{kind:?} query for page {key} from {from}, which already waits: ignored"));
        }
        entry.queue.push_back((from, kind));
        self.set_entry(key, entry);
        self.serve(key, ctx);
    }

    /// Starts the next queued fault on page `key`, if none is in progress.
    fn serve(&mut self, key: u32, ctx: &mut Context<'_, Msg>) {
        let mut entry = self.entry(key);
        if entry.fault.is_some() {
            return;
        }
        let Some((r, kind)) = entry.queue.pop_front() else { return };
        let (m, o) = (self.me, entry.owner);
        if kind == Access::Read && r == o {
            // The owner always holds a copy; it cannot fault (only a stray query does this).
            ctx.log(format!("read query for page {key} from its owner {o}: ignored"));
            self.set_entry(key, entry);
            return self.serve(key, ctx);
        }
        let holders: BTreeSet<NodeId> = match kind {
            Access::Write => entry.copy_set.iter().copied().filter(|&c| c != r).collect(),
            _ => BTreeSet::new(),
        };
        let k = holders.iter().filter(|&&c| c != m).count() as u64;
        if kind == Access::Write {
            ctx.output(INVALIDATED, k);
        }
        let this = (kind, r != m, o != m, o != r);
        if let Some(case) = CASES.iter().find(|c| (c.kind, c.query, c.forward, c.data) == this) {
            ctx.output(if kind == Access::Read { READ_FAULT } else { WRITE_FAULT }, case.messages(k));
            ctx.output(ROLES, case.name); // last: it closes the announcement
        }
        let forward = holders.is_empty() || self.no_wait_ic;
        entry.fault = Some(Fault { requester: r, kind, awaiting: holders.clone(), forwarded: forward });
        self.set_entry(key, entry);
        for c in holders {
            self.deliver(c, Msg::Invalidate(key), ctx);
        }
        if forward {
            let msg = if kind == Access::Read { Msg::ReadForward(key, r) } else { Msg::WriteForward(key, r) };
            self.deliver(o, msg, ctx);
        }
    }

    /// IC: one copy fewer; the last one lets `WF` go.
    fn invalidation_confirmed(&mut self, from: NodeId, key: u32, ctx: &mut Context<'_, Msg>) {
        let mut entry = self.entry(key);
        let Some(fault) = entry.fault.as_mut().filter(|f| f.awaiting.contains(&from)) else {
            return ctx.log(format!("IC for page {key} from {from}, which no fault awaits: ignored"));
        };
        fault.awaiting.remove(&from);
        let go = fault.awaiting.is_empty() && !fault.forwarded;
        fault.forwarded |= go;
        let (owner, requester) = (entry.owner, fault.requester);
        self.set_entry(key, entry);
        if go {
            self.deliver(owner, Msg::WriteForward(key, requester), ctx);
        }
    }

    /// RC / WC: the fault is over; the directory learns its outcome; the next one starts.
    fn confirm(&mut self, from: NodeId, key: u32, kind: Access, ctx: &mut Context<'_, Msg>) {
        let mut entry = self.entry(key);
        match &entry.fault {
            Some(f) if f.requester == from && f.kind == kind && f.forwarded => {}
            _ => return ctx.log(format!("{kind:?} confirmation for page {key} from {from}, not awaited: ignored")),
        }
        entry.fault = None;
        if kind == Access::Read {
            entry.copy_set.insert(from);
        } else {
            entry.owner = from;
            entry.copy_set.clear();
        }
        self.set_entry(key, entry);
        self.serve(key, ctx);
    }

    // ----- the owner and the copy holders -----

    /// RF at the owner: keep a read copy, send one to the requester.
    fn forward_read(&mut self, key: u32, requester: NodeId, ctx: &mut Context<'_, Msg>) {
        let mut page = self.page(key);
        if page.access == Access::Nil || requester == self.me {
            return ctx
                .log(format!("RF for page {key} to {requester}, but this node has {:?} access: ignored", page.access));
        }
        page.access = Access::Read;
        self.set_page(key, page);
        self.deliver(requester, Msg::ReadData(key, page.value), ctx);
    }

    /// WF at the owner: hand the page over (or, on an upgrade, take it).
    fn forward_write(&mut self, key: u32, requester: NodeId, ctx: &mut Context<'_, Msg>) {
        let page = self.page(key);
        if page.access == Access::Nil {
            return ctx.log(format!("WF for page {key} to {requester}, but this node has no copy: ignored"));
        }
        if requester == self.me {
            return self.granted(key, page.value, ctx);
        }
        self.set_page(key, Page { access: Access::Nil, value: None });
        self.deliver(requester, Msg::WriteData(key, page.value), ctx);
    }

    /// IV at a copy holder: drop the copy, confirm.
    fn invalidate(&mut self, key: u32, ctx: &mut Context<'_, Msg>) {
        if self.page(key).access == Access::Write {
            return ctx.log(format!("IV for page {key}, whose writable copy is here: ignored"));
        }
        self.set_page(key, Page { access: Access::Nil, value: None });
        self.deliver(self.manager, Msg::InvalidateConfirm(key), ctx);
    }

    // ----- the requester -----

    /// RD: the read copy arrives; confirm, answer.
    fn read_data(&mut self, key: u32, value: Option<i64>, ctx: &mut Context<'_, Msg>) {
        let waiting = self.client.open == Some(Operation::Read { key }) && self.page(key).access == Access::Nil;
        if !waiting {
            return ctx.log(format!("RD for page {key}, which no read fault here awaits: ignored"));
        }
        self.set_page(key, Page { access: Access::Read, value });
        self.deliver(self.manager, Msg::ReadConfirm(key), ctx);
        self.answer(Reply::Value(value), ctx);
    }

    /// WD, or WF on an upgrade: the page is writable here; perform the open write or cas,
    /// confirm, answer.
    fn granted(&mut self, key: u32, value: Option<i64>, ctx: &mut Context<'_, Msg>) {
        let op = match self.client.open {
            Some(op @ (Operation::Write { .. } | Operation::Cas { .. }))
                if op.key() == key && self.page(key).access != Access::Write =>
            {
                op
            }
            _ => {
                return ctx.log(format!("the page {key} granted writable, but no write fault here awaits it: ignored"))
            }
        };
        let (reply, value) = op.apply(value);
        self.set_page(key, Page { access: Access::Write, value });
        self.deliver(self.manager, Msg::WriteConfirm(key), ctx);
        self.answer(reply, ctx);
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
        let key = op.key();
        let (needed, query) = match op {
            Operation::Read { .. } => (Access::Read, Msg::ReadQuery(key)),
            Operation::Write { .. } | Operation::Cas { .. } => (Access::Write, Msg::WriteQuery(key)),
        };
        if self.page(key).access >= needed {
            return Some(self.execute(op));
        }
        self.deliver(self.manager, query, ctx);
        None
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Operation;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        self.handle(from, msg, ctx);
        self.drain(ctx);
    }

    fn on_input(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) {
        self.ask(op, ctx);
        self.drain(ctx);
    }
}

#[path = "ivy_properties.rs"]
mod properties;
pub use properties::{coherent, directory_matches, single_writer, Case, CASES};

/// Li & Hudak's centralized manager. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Ivy {
    workload: Workload,
    manager: u32,
    no_wait_ic: bool,
}

const PARAMS: &[ParamSpec] = memory_params!(
    ParamSpec::node("manager", "0", "the node that manages every page (and owns them all at the start)"),
    ParamSpec::choice(
        "fault",
        "none",
        &["none", "no-wait-ic"],
        "no-wait-ic = the manager forwards WF without waiting for the IC (a broken variant, for the tests)",
    ),
);

impl Algorithm for Ivy {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        super::spec(
            "ivy",
            "Li–Hudak centralized manager: cached pages, invalidation on write (4 msgs per read fault, 4+2k per write fault)",
            PARAMS,
        )
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Ivy {
            workload: Workload::from_params(params)?,
            manager: params.get("manager")?,
            no_wait_ic: params.get::<String>("fault")? == "no-wait-ic",
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        if self.manager as usize >= n {
            return Err(format!("manager={} but the nodes are numbered 0 to {}", self.manager, n.saturating_sub(1)));
        }
        self.workload.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node::new(setup.me, NodeId(self.manager), self.no_wait_ic)
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Operation>> {
        self.workload.draw(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::global(SWMR, |w: &World<'_, Node>| single_writer(w.nodes)),
                Invariant::global(COHERENT, |w: &World<'_, Node>| coherent(w.nodes)),
            ],
            terminal: vec![
                every_operation_answered(),
                Terminal::new(DIRECTORY, |w: &World<'_, Node>| directory_matches(w.nodes)),
            ],
        }
    }

    fn history_properties(&self) -> Vec<HistoryProperty> {
        vec![super::linearizable()]
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let faults = |kind: Access, hop: fn(&Case) -> bool| -> f64 {
            let cases = CASES.iter().filter(|c| c.kind == kind && hop(c));
            cases.map(|c| output_count(facts, ROLES, c.name)).sum::<u64>() as f64
        };
        let (rq, rf, rd) =
            (faults(Access::Read, |c| c.query), faults(Access::Read, |c| c.forward), faults(Access::Read, |c| c.data));
        let (wq, wf, wd) = (
            faults(Access::Write, |c| c.query),
            faults(Access::Write, |c| c.forward),
            faults(Access::Write, |c| c.data),
        );
        let k = output_sum(facts, INVALIDATED) as f64;
        let total = (output_sum(facts, READ_FAULT) + output_sum(facts, WRITE_FAULT)) as f64;
        vec![
            Expectation::exact("RQ", "#read faults with r ≠ M", rq),
            Expectation::exact("RF", "#read faults with o ≠ M", rf),
            Expectation::exact("RD", "#read faults", rd),
            Expectation::exact("RC", "#read faults with r ≠ M", rq),
            Expectation::exact("WQ", "#write faults with w ≠ M", wq),
            Expectation::exact("IV", "Σk", k),
            Expectation::exact("IC", "Σk", k),
            Expectation::exact("WF", "#write faults with o ≠ M", wf),
            Expectation::exact("WD", "#write faults with o ≠ w", wd),
            Expectation::exact("WC", "#write faults with w ≠ M", wq),
            Expectation::exact("total", "Σ 4 per read fault + Σ (4 + 2k) per write fault, less local hops", total),
        ]
    }
}

#[cfg(test)]
#[path = "ivy_tests.rs"]
mod tests;

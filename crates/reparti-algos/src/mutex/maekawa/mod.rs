//! # Maekawa (1985): permission from a quorum, 3(K−1) messages per CS without contention
//!
//! **What.** Instead of asking everyone (Ricart–Agrawala), a process asks only its
//! *quorum*, K processes chosen so that every two quorums share a member. Every process
//! is the *arbiter* of one lock that it lends to one request at a time. A process holding
//! the locks of its whole quorum enters the critical section (CS); two processes cannot
//! both be inside, because their quorums share an arbiter whose lock only one of them
//! holds. With the grid of [`quorums`], K ≈ 2√n.
//!
//! Locks taken one by one can deadlock: i holds a's lock and waits for b's, j holds b's
//! and waits for a's. The paper breaks such cycles with priorities (Lamport timestamps,
//! then identities: the older request wins) and three more messages: an arbiter whose
//! lock is lent to a younger request than one waiting asks it back (`INQUIRE`); a
//! requester that knows it cannot get every lock now gives back the ones it is asked for
//! (`RELINQUISH`); it knows it because an arbiter told it that an older request is ahead
//! (`FAILED`), or because it gave a lock back and has not had it again.
//!
//! **Source.** M. Maekawa, "A √N algorithm for mutual exclusion in decentralized
//! systems", ACM TOCS 3(2):145–159, 1985 (the algorithm, INQUIRE/RELINQUISH/FAILED, the
//! grid as the simple way to build the request sets); B. A. Sanders, "The information
//! structure of distributed mutual exclusion algorithms", ACM TOCS 5(3), 1987, who
//! notes that the paper's deadlock handling is subtle (see the pitfalls: the checker
//! finds the deadlock of a reading that sends FAILED only on arrival).
//!
//! ```text
//! request:   ts = highest + 1; highest = ts; send REQUEST(ts, id) to every a ∈ Q(i)
//!            (a = i itself: no message)
//! arbiter, on REQUEST r:  highest = max(highest, r.ts)
//!            if unlocked: lock = r; send LOCKED to r
//!            else: waiting += r
//!                  if lock or some waiting request is older than r: send FAILED to r
//!                  else: send INQUIRE to lock's holder (once per loan);
//!                        send FAILED to each waiting request r overtook, not yet told
//! requester, on LOCKED from a:  locked += a; if locked = Q(i): enter
//!            elif a inquired ∧ knows it fails: RELINQUISH a
//! on FAILED from a:   failed += a; RELINQUISH every inquired arbiter whose lock it holds
//! on INQUIRE from a:  if in CS: ignore (RELEASE comes)
//!            elif knows it fails (failed ≠ ∅ or relinquished ≠ ∅): RELINQUISH a
//!            else: remember it (act on the next FAILED, forget it on entering)
//! RELINQUISH a:       locked −= a; relinquished += a; send RELINQUISH to a
//! arbiter, on RELINQUISH:  waiting += lock (knowing); lock = oldest waiting; LOCKED to it
//! release:   send RELEASE to every a ∈ Q(i)
//! arbiter, on RELEASE:     lock = oldest waiting (if any); send LOCKED to it
//! ```
//!
//! **How it runs here.** As every algorithm of the chapter (see
//! [`critical_section`](super::critical_section)): `request` inputs from the workload or
//! the console (queued while one is under way), a stay of `cs_time` time units, then
//! `enter_cs`/`exit_cs` = `"ts.id"`. Quorums are the rows and columns of a ⌈√n⌉-wide
//! grid (see [`quorums`]; the paper's finite projective planes exist only for some n).
//! A process's messages to its own arbiter are handled at once inside the same event,
//! never sent: they cost nothing and do not appear in the trace. Param `form` picks:
//! * `inquire` (the default): the paper's deadlock-free algorithm, as above;
//! * `basic`: the textbook simplification without INQUIRE, RELINQUISH or FAILED — an
//!   arbiter lends its lock to the first request and queues the others. It deadlocks;
//!   the checker finds the shortest such run. The paper itself has the fix (`inquire`);
//! * `arrival-failed`: `inquire` without the FAILED to a request that a later, older
//!   one overtook (FAILED only on a request's arrival). It deadlocks too (see the
//!   pitfalls; the checker's shortest run has n = 4 and 19 steps).
//!
//! Departures from the paper, none of substance: every message but REQUEST carries the
//! timestamp of the request it concerns (the paper's name only their sender), so that a
//! stale FAILED or INQUIRE (one about an earlier request, or overtaken by the LOCKED sent
//! before it) is recognised, and channels need not be FIFO: an INQUIRE that arrives
//! before its LOCKED is remembered and acted on when the LOCKED comes. The checker
//! proves it on unordered channels.
//!
//! **Pitfalls.**
//! * *Locks without INQUIRE deadlock* (`form=basic`): two requesters each hold the lock
//!   of their own arbiter and wait for the other's. Mutual exclusion holds; no request
//!   is ever served.
//! * *FAILED only on arrival* (`form=arrival-failed`). A request r that was the oldest
//!   when it reached arbiter b is told nothing; a still older request o then reaches b
//!   and gets b's lock when it is freed. r now waits behind o without knowing it, so an
//!   INQUIRE from another arbiter a whose lock r holds and o wants goes unanswered:
//!   o waits for a, r for b. Arbiter b must tell r FAILED when o overtakes it.
//! * *A requester in the CS ignores an INQUIRE*; one that may still succeed defers it
//!   (answering at once gives locks away for nothing; never answering deadlocks).
//! * *An INQUIRE can outrun its LOCKED* on unordered channels: dropped as "not about a
//!   lock I hold", it is never answered, and the arbiter (which inquires once per loan)
//!   may wait for a RELINQUISH that never comes. Kept, it is answered when the LOCKED
//!   arrives.
//! * *A relinquished lock counts as a failure* until it comes back: the arbiter does not
//!   send FAILED again to the request it re-queues.
//! * *Entries are not in (ts, id) order.* Arbiters see only some requests; an older
//!   request may reach its quorum after a younger one entered. The paper promises mutual
//!   exclusion, no deadlock and no starvation, not an order; the tests do not assert it.
//!
//! **Properties.** After every event: "mutual exclusion: at most one node in the critical
//! section"; "an arbiter's lock is held by at most one request" (for each arbiter, the
//! requesters holding its lock plus the LOCKED messages from it in transit number at
//! most one, and that one is the request its lock is lent to); at each node "in the CS
//! only with every lock of its quorum". At quiescence: "every request was served" (an
//! arbiter still locked or with requests waiting counts as unfinished).
//!
//! **Costs.** K_i = |Q(i)|; R = Σ (K_i − 1) over the CS entries (one term per entry, for
//! the process that entered; R = (K−1)·#CS when every quorum has K members). Counted per
//! request and *remote* arbiter, at quiescence with every request served:
//! * REQUEST = R and RELEASE = R exactly: one each per remote member of the quorum;
//! * LOCKED = R + RELINQUISH exactly: every loan to a remote requester ends in one
//!   RELEASE or one RELINQUISH;
//! * INQUIRE ≤ LOCKED (at most one per loan), RELINQUISH ≤ INQUIRE (only in answer to
//!   one), FAILED ≤ R (at most one per request and arbiter: a re-queued relinquisher
//!   is not told again);
//! * total = 3R + FAILED + INQUIRE + 2·RELINQUISH, hence between 3R — no contention:
//!   3(K−1) per CS, as the paper says, and exactly so for `form=basic` — and
//!   5R + 3·RELINQUISH. The paper quotes 3(K−1) to 5(K−1) per CS: 5R bounds the runs
//!   where no lock is given back (at most one FAILED and one INQUIRE per request and
//!   arbiter), and each lock given back costs 3 more (INQUIRE, RELINQUISH, LOCKED
//!   again). Measured on the chapter's burst workload: at most 4.05·R per run (the
//!   tests' 336 random runs, n = 2 to 10).
//!
//! **State count.** `reparti check maekawa -n 3 -p requests=1` (form=inquire): 1,161
//! states (FIFO) / 2,424 (unordered) with ids desc, 1,074 / 2,026 with ids asc. An
//! enumerator written from the pseudo-code above and its stated departures (timestamps in
//! every message, messages to itself handled within the step in the order posted) gives
//! the same figures.

pub mod arbiter;
pub mod properties;
pub mod quorums;

use super::critical_section::{self as cs, entry_text, CsProcess, Input, MutexNode, Requests, Stay};
use arbiter::{Arbiter, Ask, Sends};
use properties::{cs_with_all_locks, one_holder_per_lock, remote_members_per_entries};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, RunFacts, ScheduledInput, Timer, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// The invariant on each arbiter's lock.
pub const ONE_HOLDER_PER_LOCK: &str = "an arbiter's lock is held by at most one request";
/// The invariant tying the CS to the locks.
pub const CS_WITH_ALL_LOCKS: &str = "in the CS only with every lock of its quorum";

/// The chapter's workload parameters and the form of the algorithm.
pub const PARAMS: &[ParamSpec] = &[
    cs::REQUESTS,
    cs::CS_TIME,
    cs::LOAD,
    ParamSpec::choice(
        "form",
        "inquire",
        &["inquire", "basic", "arrival-failed"],
        "inquire = the paper's deadlock-free algorithm; basic = locks only, no INQUIRE (deadlocks); \
         arrival-failed = FAILED only on a request's arrival (deadlocks)",
    ),
];

/// Which algorithm runs (param `form`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Form {
    /// The paper's: INQUIRE, RELINQUISH, FAILED, and FAILED to overtaken requests.
    Inquire,
    /// Locks only: no INQUIRE, RELINQUISH or FAILED.
    Basic,
    /// As `Inquire`, but FAILED only on a request's arrival.
    ArrivalFailed,
}

/// Maekawa's messages. All but REQUEST carry the timestamp of the request they concern.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "Lend me your lock": the request's timestamp and the requester's identity.
    Request {
        /// The request's timestamp.
        ts: u64,
        /// The requester's identity.
        id: u64,
    },
    /// "My lock is yours" (arbiter to requester).
    Locked {
        /// The request the lock is lent to.
        ts: u64,
    },
    /// "An older request is ahead of yours here" (arbiter to requester).
    Failed {
        /// The request told.
        ts: u64,
    },
    /// "An older request waits: can you give my lock back?" (arbiter to holder).
    Inquire {
        /// The request holding the lock.
        ts: u64,
    },
    /// "Here is your lock back; keep my request" (holder to arbiter).
    Relinquish {
        /// The request giving it back.
        ts: u64,
    },
    /// "I have left the CS: your lock is free" (holder to arbiter).
    Release {
        /// The request served.
        ts: u64,
    },
}

/// What a requester knows of the locks of its quorum, for the request under way.
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Votes {
    /// The request's timestamp, while one is under way.
    pub ts: Option<u64>,
    /// The arbiters whose lock it holds.
    pub locked: BTreeSet<NodeId>,
    /// The arbiters that sent FAILED and have not lent their lock since.
    pub failed: BTreeSet<NodeId>,
    /// The arbiters it gave the lock back to, not lent again yet.
    pub relinquished: BTreeSet<NodeId>,
    /// The arbiters that sent an INQUIRE not answered yet.
    pub inquired: BTreeSet<NodeId>,
}

impl Votes {
    /// It cannot get every lock now: an older request is ahead somewhere.
    pub fn knows_it_fails(&self) -> bool {
        !self.failed.is_empty() || !self.relinquished.is_empty()
    }
}

/// One process: a requester and an arbiter.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// This node's identity.
    pub id: u64,
    /// Time units spent in the CS (param `cs_time`).
    pub cs_time: u32,
    /// Which algorithm (param `form`).
    pub form: Form,
    /// The quorum it asks, itself included.
    pub quorum: BTreeSet<NodeId>,
    /// The highest timestamp seen (the Lamport clock of the requests).
    pub highest: u64,
    /// The requester's half.
    pub votes: Votes,
    /// The arbiter's half.
    pub arbiter: Arbiter,
    /// The request bookkeeping shared by the chapter.
    pub cs: Requests,
    /// Messages to itself not handled yet: always empty between events.
    local: VecDeque<Msg>,
}

impl Node {
    /// Sends, or keeps for itself (handled before the event ends, never sent).
    fn post(&mut self, to: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        if to == self.me {
            self.local.push_back(msg);
        } else {
            ctx.send(to, msg);
        }
    }

    fn post_all(&mut self, sends: Sends, ctx: &mut Context<'_, Msg>) {
        for (to, msg) in sends {
            self.post(to, msg, ctx);
        }
    }

    /// Handles the messages to itself, and those they cause, until none is left.
    fn settle(&mut self, ctx: &mut Context<'_, Msg>) {
        while let Some(msg) = self.local.pop_front() {
            self.handle(self.me, msg, ctx);
        }
    }

    fn handle(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let mut sends = Sends::new();
        match msg {
            Msg::Request { ts, id } => {
                self.highest = self.highest.max(ts);
                self.arbiter.on_request(Ask { ts, id, node: from }, self.form, &mut sends);
            }
            Msg::Relinquish { ts } => {
                if !self.arbiter.on_relinquish(from, ts, &mut sends) {
                    ctx.log(format!("RELINQUISH {ts} from {from}: not the lock's holder, ignored"));
                }
            }
            Msg::Release { ts } => {
                if !self.arbiter.on_release(from, ts, &mut sends) {
                    ctx.log(format!("RELEASE {ts} from {from}: not the lock's holder, ignored"));
                }
            }
            Msg::Locked { ts } => self.on_locked(from, ts, ctx),
            Msg::Failed { ts } => self.on_failed(from, ts, ctx),
            Msg::Inquire { ts } => self.on_inquire(from, ts, ctx),
        }
        self.post_all(sends, ctx);
    }

    /// Whether a message about request `ts` from `from` concerns the request under way.
    fn current(&self, from: NodeId, ts: u64) -> bool {
        self.votes.ts == Some(ts) && self.quorum.contains(&from)
    }

    fn on_locked(&mut self, a: NodeId, ts: u64, ctx: &mut Context<'_, Msg>) {
        if !self.current(a, ts) || self.cs.in_cs {
            ctx.log(format!("LOCKED {ts} from {a}: not for the request under way, ignored"));
            return;
        }
        let v = &mut self.votes;
        v.locked.insert(a);
        v.failed.remove(&a);
        v.relinquished.remove(&a);
        if v.locked == self.quorum {
            self.enter(ctx);
        } else if v.inquired.contains(&a) && v.knows_it_fails() {
            self.relinquish(a, ctx);
        }
    }

    fn on_failed(&mut self, a: NodeId, ts: u64, ctx: &mut Context<'_, Msg>) {
        // A FAILED overtaken by the LOCKED sent after it is stale: the lock is here.
        if !self.current(a, ts) || self.cs.in_cs || self.votes.locked.contains(&a) {
            return;
        }
        self.votes.failed.insert(a);
        let asked_back: Vec<NodeId> = self.votes.inquired.intersection(&self.votes.locked).copied().collect();
        for b in asked_back {
            self.relinquish(b, ctx);
        }
    }

    fn on_inquire(&mut self, a: NodeId, ts: u64, ctx: &mut Context<'_, Msg>) {
        // In the CS the RELEASE answers it; about an earlier request it is stale.
        if !self.current(a, ts) || self.cs.in_cs {
            return;
        }
        // Remembered even without the lock: on unordered channels its LOCKED may follow.
        self.votes.inquired.insert(a);
        if self.votes.locked.contains(&a) && self.votes.knows_it_fails() {
            self.relinquish(a, ctx);
        }
    }

    fn relinquish(&mut self, a: NodeId, ctx: &mut Context<'_, Msg>) {
        let Some(ts) = self.votes.ts else { return };
        self.votes.locked.remove(&a);
        self.votes.inquired.remove(&a);
        self.votes.relinquished.insert(a);
        self.post(a, Msg::Relinquish { ts }, ctx);
    }

    fn enter(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some(ts) = self.votes.ts else { return };
        self.cs.in_cs = true;
        self.votes.failed.clear();
        self.votes.inquired.clear();
        cs::enter(ctx, entry_text(ts, self.id), self.cs_time);
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        if from == self.me || !self.quorum.contains(&from) {
            ctx.log(format!("{} from {from}: not in this node's quorum, ignored", msg.kind_name()));
            return;
        }
        self.handle(from, msg, ctx);
        self.settle(ctx);
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

    /// Stamps a request and asks every member of the quorum, itself included.
    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.requesting = true;
        self.highest = self.highest.saturating_add(1);
        let ts = self.highest;
        self.votes = Votes { ts: Some(ts), ..Votes::default() };
        let quorum: Vec<NodeId> = self.quorum.iter().copied().collect();
        for a in quorum {
            self.post(a, Msg::Request { ts, id: self.id }, ctx);
        }
        self.settle(ctx);
    }

    /// Leaves the CS, frees every lock of the quorum, and issues the next queued request.
    fn release(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some(ts) = self.votes.ts else { return };
        self.cs.leave();
        cs::exit(ctx, entry_text(ts, self.id));
        self.votes = Votes::default();
        let quorum: Vec<NodeId> = self.quorum.iter().copied().collect();
        for a in quorum {
            self.post(a, Msg::Release { ts }, ctx);
        }
        self.settle(ctx);
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
            let missing: Vec<&NodeId> = self.quorum.difference(&self.votes.locked).collect();
            Some(format!("{}, holds the locks of {:?}, lacks {missing:?}", self.cs.describe(), self.votes.locked))
        } else if let Some(lock) = self.arbiter.lock {
            Some(format!("its lock is still lent to node {} ({}.{})", lock.node, lock.ts, lock.id))
        } else if !self.arbiter.waiting.is_empty() {
            Some(format!("{} request(s) still wait for its lock", self.arbiter.waiting.len()))
        } else {
            None
        }
    }
}

/// Maekawa's quorum-based mutual exclusion. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Maekawa {
    stay: Stay,
    form: Form,
}

impl Algorithm for Maekawa {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            ..cs::spec(
                "maekawa",
                "Maekawa (1985): the locks of a √n grid quorum, 3(K−1) messages per CS without contention",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let form = match params.raw("form").unwrap_or("inquire") {
            "basic" => Form::Basic,
            "arrival-failed" => Form::ArrivalFailed,
            _ => Form::Inquire,
        };
        Ok(Maekawa { stay: Stay::from_params(params)?, form })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            id: setup.ident,
            cs_time: self.stay.cs_time,
            form: self.form,
            quorum: quorums::quorum(setup.n, setup.me.index()),
            highest: 0,
            votes: Votes::default(),
            arbiter: Arbiter::default(),
            cs: Requests::default(),
            local: VecDeque::new(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        self.stay.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                cs::mutual_exclusion(),
                Invariant::<Node>::global(ONE_HOLDER_PER_LOCK, one_holder_per_lock),
                Invariant::<Node>::local(CS_WITH_ALL_LOCKS, cs_with_all_locks),
            ],
            terminal: vec![cs::every_request_served()],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let r = remote_members_per_entries(facts);
        let relinquish = facts.measured("RELINQUISH") as f64;
        let mut v = vec![
            Expectation::exact("REQUEST", "Σ(K−1) per CS", r),
            Expectation::exact("RELEASE", "Σ(K−1) per CS", r),
            Expectation::exact("LOCKED", "Σ(K−1) + RELINQUISH", r + relinquish),
        ];
        if self.form == Form::Basic {
            v.extend([
                Expectation::exact("INQUIRE", "0", 0.0),
                Expectation::exact("RELINQUISH", "0", 0.0),
                Expectation::exact("FAILED", "0", 0.0),
                Expectation::exact("total", "3·Σ(K−1)", 3.0 * r),
            ]);
        } else {
            v.extend([
                Expectation::at_most("INQUIRE", "LOCKED", facts.measured("LOCKED") as f64),
                Expectation::at_most("RELINQUISH", "INQUIRE", facts.measured("INQUIRE") as f64),
                Expectation::at_most("FAILED", "Σ(K−1)", r),
                Expectation::between(
                    "total",
                    "3·Σ(K−1) … 5·Σ(K−1) + 3·RELINQUISH",
                    3.0 * r,
                    5.0 * r + 3.0 * relinquish,
                ),
            ]);
        }
        v
    }
}

#[cfg(test)]
mod tests;

//! # Lamport (1978): mutual exclusion with a replicated request queue, 3(n−1) messages per CS
//!
//! **What.** Every process keeps a copy of one queue of requests, ordered by `(ts, id)`
//! where `ts` is its logical clock at the request. A process enters the critical section
//! (CS) when its own request heads its queue *and* it has heard, from every other
//! process, a message stamped later than that request — so no older request can still
//! be on its way. On leaving it tells everyone, who drop its request from their queues.
//!
//! **Source.** L. Lamport, "Time, clocks, and the ordering of events in a distributed
//! system", CACM 21(7), 1978, §3 (the mutual-exclusion example); M. Raynal, *Distributed
//! Algorithms and Protocols*, Wiley, 1988.
//!
//! ```text
//! request:        C += 1; my = (C, i); Q.insert(my); send REQUEST(C) to all j ≠ i
//! on REQUEST(t) from j: C = max(C,t)+1; Q.insert((t,j)); last[j] = t; send REPLY(C) to j
//! on REPLY(t) from j:   C = max(C,t)+1; last[j] = t
//! enter when:     head(Q) = my  ∧  ∀ j ≠ i: (last[j], j) > my
//! release:        Q.remove(my); C += 1; send RELEASE(C) to all j ≠ i
//! on RELEASE(t) from j: C = max(C,t)+1; Q.remove(j's entry); last[j] = t
//! ```
//!
//! **How it runs here.** As every algorithm of the chapter (see
//! [`critical_section`](super::critical_section)): `request` inputs from the workload or
//! the console, a stay of `cs_time` time units, `enter_cs`/`exit_cs` = `"ts.id"`. `C` is
//! the algorithm's own clock, kept in its state as in the paper (the framework's Lamport
//! clocks tick on every send, which would give each copy of a REQUEST its own stamp).
//! Messages carry the sender's identity, which orders ties.
//!
//! **Pitfalls.**
//! * FIFO channels are *required*: a REPLY that overtakes its sender's older REQUEST
//!   makes `last[j]` look later than a request still on its way, and two processes
//!   enter together. The algorithm declares it (`needs_fifo`), so the engines default
//!   to FIFO for it and say so when told otherwise; on unordered channels the checker
//!   finds the violation.
//! * `last[j]` must be raised by *every* message from j (REQUEST, REPLY and RELEASE),
//!   not by replies alone, or a process waits forever for a reply that a later request
//!   already stood for.
//! * The entry test compares `(last[j], j)` with `(ts, i)` as pairs: with timestamps
//!   alone, two requests stamped alike block each other.
//!
//! **Properties.** After every event: "mutual exclusion: at most one node in the critical
//! section". At quiescence: "every request was served". CS entries come in increasing
//! `(ts, id)` order (asserted by the tests from the trace).
//!
//! **Costs.** Exactly n−1 REQUEST, n−1 REPLY and n−1 RELEASE per CS entry: total =
//! 3(n−1)·#CS (without the optional omission of a REPLY when a later message to j was
//! already sent, which gives between 2(n−1) and 3(n−1)).
//!
//! **State count.** `reparti check lamport-mutex -n 3 -p requests=1` (FIFO) explores
//! 949,199 states (2,159,714 transitions, depth 24) — 450 times Ricart–Agrawala's 2,101
//! on the same workload. They are the paper's own: an enumerator of the paper's state
//! (`C`, `Q`, `last[j]`, the request under way, in the CS) finds the same number. `C`
//! advances on every reception and every message carries its sender's clock, so two runs
//! that deliver the same messages in different orders leave different clocks (in the
//! nodes and in the messages in flight) and never merge again; Ricart–Agrawala's REPLY
//! carries nothing and `highest` only keeps a maximum. n = 2: 79 states.

use super::critical_section::{self as cs, entry_text, CsProcess, Input, MutexNode, Requests, Stay};
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Message, NodeId, NodeSetup, ParamError, Params, Process,
    Properties, RunFacts, ScheduledInput, Timer, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Lamport's messages, each stamped with the sender's clock and identity.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "I request the CS at `ts`."
    Request {
        /// The sender's clock at the request.
        ts: u64,
        /// The sender's identity.
        id: u64,
    },
    /// "I have seen your request" (stamped later than it).
    Reply {
        /// The sender's clock at the reply.
        ts: u64,
        /// The sender's identity.
        id: u64,
    },
    /// "I have left the CS: drop my request."
    Release {
        /// The sender's clock at the release.
        ts: u64,
        /// The sender's identity.
        id: u64,
    },
}

/// One process.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    me: NodeId,
    id: u64,
    n: u32,
    cs_time: u32,
    /// The algorithm's logical clock `C`.
    clock: u64,
    /// The replicated queue: `(ts, id, position)`, oldest first.
    queue: BTreeSet<(u64, u64, u32)>,
    /// `(ts, id)` of the last message from each process (`(0, 0)`: none yet).
    last: Vec<(u64, u64)>,
    /// This process's request under way, `(ts, id)`.
    mine: Option<(u64, u64)>,
    /// The request bookkeeping shared by the chapter.
    cs: Requests,
}

impl Node {
    fn to_all(&self, ctx: &mut Context<'_, Msg>, msg: Msg) {
        for j in (0..self.n).filter(|&j| j != self.me.0) {
            ctx.send(NodeId(j), msg.clone());
        }
    }

    fn maybe_enter(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some(mine) = self.mine else { return };
        let heads = self.queue.first().is_some_and(|&(ts, id, _)| (ts, id) == mine);
        let heard = (0..self.n as usize).all(|j| j == self.me.index() || self.last[j] > mine);
        if heads && heard && !self.cs.in_cs {
            self.cs.in_cs = true;
            cs::enter(ctx, entry_text(mine.0, mine.1), self.cs_time);
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let (Msg::Request { ts, id } | Msg::Reply { ts, id } | Msg::Release { ts, id }) = msg;
        self.clock = self.clock.max(ts).saturating_add(1);
        if let Some(last) = self.last.get_mut(from.index()) {
            *last = (ts, id);
        }
        match msg {
            Msg::Request { .. } => {
                self.queue.insert((ts, id, from.0));
                ctx.send(from, Msg::Reply { ts: self.clock, id: self.id });
            }
            Msg::Release { .. } => self.queue.retain(|&(_, _, j)| j != from.0),
            Msg::Reply { .. } => {}
        }
        self.maybe_enter(ctx);
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

    fn request(&mut self, ctx: &mut Context<'_, Msg>) {
        self.cs.requesting = true;
        self.clock += 1;
        let (ts, id) = (self.clock, self.id);
        self.mine = Some((ts, id));
        self.queue.insert((ts, id, self.me.0));
        self.to_all(ctx, Msg::Request { ts, id });
        self.maybe_enter(ctx);
    }

    fn release(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some((ts, id)) = self.mine.take() else { return };
        self.cs.leave();
        self.queue.remove(&(ts, id, self.me.0));
        self.clock += 1;
        cs::exit(ctx, entry_text(ts, id));
        self.to_all(ctx, Msg::Release { ts: self.clock, id: self.id });
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
        (self.mine.is_some() || self.cs.queued > 0 || !self.queue.is_empty())
            .then(|| format!("request {:?} under way, {} queued, queue {:?}", self.mine, self.cs.queued, self.queue))
    }
}

/// Lamport's mutual exclusion. See the [module documentation](self).
pub struct LamportMutex {
    stay: Stay,
}

impl Algorithm for LamportMutex {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            needs_fifo: true,
            ..cs::spec(
                "lamport-mutex",
                "Lamport (1978): a replicated request queue on FIFO channels, 3(n−1) messages per CS",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(LamportMutex { stay: Stay::from_params(params)? })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            id: setup.ident,
            n: setup.n as u32,
            cs_time: self.stay.cs_time,
            clock: 0,
            queue: BTreeSet::new(),
            last: vec![(0, 0); setup.n],
            mine: None,
            cs: Requests::default(),
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        self.stay.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        Properties { invariants: vec![cs::mutual_exclusion()], terminal: vec![cs::every_request_served()] }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let per = facts.n.saturating_sub(1) as f64 * cs::entries(facts);
        vec![
            Expectation::exact("REQUEST", "(n−1)·#CS", per),
            Expectation::exact("REPLY", "(n−1)·#CS", per),
            Expectation::exact("RELEASE", "(n−1)·#CS", per),
            Expectation::exact("total", "3(n−1)·#CS", 3.0 * per),
        ]
    }
}

//! # A full replica per node, updated through a totally ordered broadcast
//!
//! **What.** Every node keeps a copy of every register. A write or a compare-and-set is
//! not applied where it is asked: it is *TO-broadcast* as `UPDATE(op, origin)`, and every
//! replica applies the updates in the order the broadcast delivers them — the same order
//! everywhere, so the replicas go through the same states. The writer answers its client
//! when its own update is delivered locally; a compare-and-set answers `ok` or `fail`
//! according to the value the register holds at that moment, which is the same value at
//! every replica. Reads come in two kinds (param `read`):
//! * `read=local` answers at once from the local replica: cheap, and only *sequentially
//!   consistent* — a replica the broadcast reaches late answers an old value after
//!   another replica has already answered the new one;
//! * `read=ordered` (the default) TO-broadcasts the read too and answers it when it is
//!   delivered locally, with the value at that point of the total order: linearizable.
//!
//! **Source.** Replicated state machines over a total-order broadcast: Lamport, "Time,
//! clocks, and the ordering of events in a distributed system", CACM 21(7), 1978;
//! Schneider, "Implementing fault-tolerant services using the state machine approach",
//! ACM Computing Surveys 22(4), 1990; local reads and sequential consistency: Attiya &
//! Welch, "Sequential consistency versus linearizability", ACM TOCS 12(2), 1994.
//!
//! ```text
//! op at c:  if op is a read and read = local: answer copy[x] at once
//!           else TO-broadcast UPDATE(op, (c, k)); k += 1
//! TO-deliver UPDATE(op, id) at p:
//!           (answer, copy[x]) = op applied to copy[x]; log += id
//!           if id is the update p's client waits for: answer it
//! ```
//!
//! **How it runs here.** This module is the replica and its bookkeeping, shared by the
//! two broadcasts of the chapter: the fixed sequencer ([`super::sequencer`]) and Lamport's
//! clock-based broadcast ([`super::lamport_tob`]). A broadcast layer calls
//! [`Replica::start`] for each operation its client begins and [`Replica::deliver`] for
//! each update it delivers, in its total order. An update is named by its origin and the
//! origin's count of broadcasts so far ([`UpdateId`]). The node outputs `broadcast` (its
//! own position) for every update it broadcasts, which the expected counts read.
//!
//! **The checker's log.** Each replica keeps the list of the ids it has delivered, in
//! delivery order. That list *is* the thing the property talks about — "every replica
//! delivers the same sequence" — so it is kept whole (a `Vec`, since its order is the
//! point): at every moment one replica's log must be a prefix of the other's, and a
//! violation reads plainly ("node 1 delivered (2, 0) where node 0 delivered (1, 0)").
//! Beside it, a hash chain (one digest per prefix) lets the invariant compare two logs
//! in constant time instead of walking them after every event, which made long simulated
//! runs quadratic; two different prefixes share a digest with probability 2⁻⁶⁴, the
//! same bet the checker's state fingerprints make. At quiescence the logs themselves
//! are compared.
//!
//! **Pitfalls.**
//! * Applying a write locally before it is delivered (and broadcasting it after) lets two
//!   replicas apply concurrent writes in opposite orders: they diverge for good.
//! * Answering the writer before its update is delivered *locally* breaks the client's
//!   own order: its next local read may miss its own write.
//! * A compare-and-set must be decided at delivery, not at the origin: deciding it
//!   against the origin's replica would let two replicas disagree on whether it happened.
//! * Local reads are not linearizable, however fast the broadcast: the integration tests
//!   build a run where node 1 reads the new value and node 2, later, the old one.
//!
//! **Properties.** After every event: "every replica delivers the same sequence" (any two
//! logs are prefix-compatible). At quiescence: "every replica delivered every update" and
//! "every operation was answered". History: linearizable with `read=ordered`,
//! sequentially consistent with `read=local`.
//!
//! **Costs.** Those of the broadcast, once per broadcast update (every write and cas, and
//! every read with `read=ordered`); a local read costs nothing.

use super::client::MemoryNode;
use reparti_core::history::{HistoryProperty, Operation, Reply};
use reparti_core::{Context, Invariant, NodeId, OutputValue, ParamError, ParamSpec, Params, RunFacts, Terminal, World};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The output made by a node for every update it broadcasts (value: its position).
pub const BROADCAST: &str = "broadcast";

/// The name of the same-sequence invariant.
pub const SAME_SEQUENCE: &str = "every replica delivers the same sequence";
/// The name of the terminal property that every update reached every replica.
pub const ALL_DELIVERED: &str = "every replica delivered every update";

/// The `read` parameter shared by the protocols over a totally ordered broadcast.
pub const READ_PARAM: ParamSpec = ParamSpec::choice(
    "read",
    "ordered",
    &["ordered", "local"],
    "ordered: reads are TO-broadcast too (linearizable); local: answered from the local replica (only sequentially consistent)",
);

/// How reads are answered.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum ReadMode {
    /// At once, from the local replica.
    Local,
    /// When the read, TO-broadcast like a write, is delivered locally.
    Ordered,
}

impl ReadMode {
    /// Reads the `read` parameter.
    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        // `read` is a choice: the parameters were checked against it already.
        Ok(if params.get::<String>("read")? == "local" { ReadMode::Local } else { ReadMode::Ordered })
    }

    /// What the history of a run promises in this mode.
    pub fn history_properties(self) -> Vec<HistoryProperty> {
        match self {
            ReadMode::Ordered => vec![super::linearizable()],
            ReadMode::Local => vec![super::sequentially_consistent()],
        }
    }
}

/// An update's name: the node that broadcast it and how many it had broadcast before.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct UpdateId {
    /// The node whose client asked it.
    pub origin: NodeId,
    /// The origin's count of earlier broadcasts.
    pub num: u32,
}

impl fmt::Display for UpdateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.origin.0, self.num)
    }
}

/// `UPDATE(op, origin)`: what the broadcast carries.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Update {
    /// Its name.
    pub id: UpdateId,
    /// The operation to apply.
    pub op: Operation,
}

/// What [`Replica::start`] decided for an operation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Started {
    /// Answered at once (a local read).
    Answered(Reply),
    /// To be TO-broadcast; the client is answered when it is delivered here.
    Broadcast(Update),
}

/// One node's replica of every register, and what it delivered.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Replica {
    /// This node's position.
    pub me: NodeId,
    /// How reads are answered.
    pub read: ReadMode,
    /// The registers written so far, by number.
    pub copies: BTreeMap<u32, i64>,
    /// The updates delivered, in delivery order (the log the invariant compares).
    pub delivered: Vec<UpdateId>,
    /// For each prefix of `delivered`: its digest ([`chain_digest`]).
    pub chain: Vec<u64>,
    /// How many updates this node has broadcast.
    pub issued: u32,
    /// The update this node's client waits for.
    pub awaiting: Option<UpdateId>,
}

impl Replica {
    /// An empty replica.
    pub fn new(me: NodeId, read: ReadMode) -> Self {
        Replica {
            me,
            read,
            copies: BTreeMap::new(),
            delivered: Vec::new(),
            chain: Vec::new(),
            issued: 0,
            awaiting: None,
        }
    }

    /// Begins the client's operation `op`: answers a local read, or names the update
    /// to broadcast (and outputs `broadcast`).
    pub fn start<M: Clone>(&mut self, op: Operation, ctx: &mut Context<'_, M>) -> Started {
        if self.read == ReadMode::Local && matches!(op, Operation::Read { .. }) {
            return Started::Answered(op.apply(self.copies.get(&op.key()).copied()).0);
        }
        let id = UpdateId { origin: self.me, num: self.issued };
        self.issued = self.issued.saturating_add(1);
        self.awaiting = Some(id);
        ctx.output(BROADCAST, self.me.0);
        Started::Broadcast(Update { id, op })
    }

    /// Applies `u`, delivered in the total order; the answer if this node's client was
    /// waiting for it.
    pub fn deliver(&mut self, u: &Update) -> Option<Reply> {
        let key = u.op.key();
        let (reply, value) = u.op.apply(self.copies.get(&key).copied());
        if let Some(v) = value {
            self.copies.insert(key, v);
        }
        self.delivered.push(u.id);
        self.chain.push(chain_digest(self.chain.last().copied().unwrap_or(0), u.id));
        if self.awaiting == Some(u.id) {
            self.awaiting = None;
            return Some(reply);
        }
        None
    }
}

/// A node of a protocol over a totally ordered broadcast: a client and a replica.
pub trait TobNode: MemoryNode {
    /// The node's replica.
    fn replica(&self) -> &Replica;
}

/// The digest of a prefix ending in `id`, from the digest of the prefix before it
/// (splitmix64's finalizer over both: fixed, so runs and traces stay reproducible).
pub fn chain_digest(before: u64, id: UpdateId) -> u64 {
    let mut z = before ^ ((u64::from(id.origin.0) << 32) | u64::from(id.num)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where two logs first differ, if neither is a prefix of the other.
pub fn first_divergence(a: &[UpdateId], b: &[UpdateId]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y)
}

/// Where two replicas' logs first differ, if neither is a prefix of the other: in
/// constant time when their digests agree, by walking the logs only when they do not
/// (a violation, reported once).
fn first_divergence_by_chain(a: &Replica, b: &Replica) -> Option<usize> {
    let common = a.chain.len().min(b.chain.len());
    if common == 0 || a.chain[common - 1] == b.chain[common - 1] {
        return None;
    }
    first_divergence(&a.delivered, &b.delivered)
}

/// "Every replica delivers the same sequence": any two logs are prefix-compatible. It is
/// enough to compare each log with the longest one.
pub fn same_sequence<N: TobNode>() -> Invariant<N> {
    Invariant::global(SAME_SEQUENCE, |w: &World<'_, N>| {
        let Some(longest) = (0..w.nodes.len()).max_by_key(|&i| (w.nodes[i].replica().delivered.len(), usize::MAX - i))
        else {
            return Ok(());
        };
        let reference = w.nodes[longest].replica();
        for (i, node) in w.nodes.iter().enumerate() {
            let replica = node.replica();
            if let Some(k) = first_divergence_by_chain(replica, reference) {
                return Err(format!(
                    "delivery {} (counting from 1): node {i} delivered {} where node {longest} delivered {}",
                    k + 1,
                    replica.delivered[k],
                    reference.delivered[k]
                ));
            }
        }
        Ok(())
    })
}

/// At quiescence every live replica has delivered the same updates, and holds the same
/// values.
pub fn all_delivered<N: TobNode>() -> Terminal<N> {
    Terminal::new(ALL_DELIVERED, |w: &World<'_, N>| {
        let mut live = w.live();
        let Some(first) = live.next() else { return Ok(()) };
        let reference = w.nodes[first].replica();
        for i in live {
            let r = w.nodes[i].replica();
            if r.delivered != reference.delivered {
                return Err(format!(
                    "node {i} delivered {} updates, node {first} {}",
                    r.delivered.len(),
                    reference.delivered.len()
                ));
            }
            if r.copies != reference.copies {
                return Err(format!("node {i} holds {:?}, node {first} {:?}", r.copies, reference.copies));
            }
        }
        Ok(())
    })
}

/// The number of updates broadcast in the run, and how many of them by node `by`.
pub fn broadcasts(facts: &RunFacts<'_>, by: NodeId) -> (u64, u64) {
    let all = facts.output_count(BROADCAST);
    let mine = facts.outputs.get(BROADCAST).and_then(|m| m.get(&OutputValue::Int(by.0 as i64))).copied().unwrap_or(0);
    (all, mine)
}

#[cfg(test)]
#[path = "tob_replica_tests.rs"]
mod tests;

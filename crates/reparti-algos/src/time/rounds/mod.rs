//! # Algorithms written in rounds, and the two ways to run them
//!
//! **What.** The synchronous model of the course: computation proceeds in rounds; in
//! round r every node sends messages to its neighbours, then receives *all* the
//! messages its neighbours sent it in round r, then changes state. An algorithm written
//! this way (a [`RoundProcess`]) says nothing about time, timers or acknowledgements:
//! it is a function from state to messages and from (state, inbox) to state. Two
//! runners turn it into a [`Process`] every engine runs:
//! [`LockStep`], for a network that *is* synchronous (the
//! simulator's `--sync`), and Awerbuch's synchronizer α
//! ([`Alpha`](super::synchronizer_alpha::Alpha)), for any asynchronous network.
//!
//! **Source.** N. Lynch, *Distributed Algorithms*, Morgan Kaufmann 1996, ch. 2 (the
//! synchronous network model: `msgs_i` and `trans_i` per round); B. Awerbuch,
//! "Complexity of network synchronization", JACM 32(4):804–823, 1985.
//!
//! ```text
//! state_i ← start_i
//! for r = 1, 2, …  until halted(state_i):
//!     for each neighbour j: send msgs_i(state_i, r)[j] to j           (send)
//!     inbox ← every message a neighbour sent to i in round r, by sender
//!     state_i ← trans_i(state_i, r, inbox)                             (receive)
//! ```
//!
//! **How it runs here.** A [`RoundAlgorithm`] declares a node's initial state, the
//! algorithm's parameters and accepted topologies, its properties (over whichever
//! runner hosts it, through [`RoundHost`]) and its basic message counts; each runner
//! adds its own parameters, properties and costs, and its name suffix (`-rounds`,
//! `-alpha`). A round process sends through an ordinary `Context` (the runner lifts its
//! sends and tags each with its round and its rank among the sender's messages of that
//! round), may output and log there, and must send only to neighbours. Its inbox comes
//! sorted by sender, then by the order the sender sent in: what arrives first on a
//! non-FIFO network never shows, so a run's outputs depend on nothing but the topology
//! and the parameters. A halted node sends nothing more, and messages that still reach
//! it are dropped (logged), as in the synchronous model.
//!
//! **Pitfalls.**
//! * An inbox in arrival order makes a round algorithm's outcome depend on the
//!   network's timing (the "first" JOIN of a BFS): sort it.
//! * A message that arrives after its round was closed is not "a bit late": the round
//!   it belonged to has been computed without it. Both runners make it a violation of
//!   "per-round messages delivered in their round", never a silent mix of rounds.
//!
//! **Properties.** The algorithm's own, judged through its host; each runner's (see
//! [`lock_step`] and [`synchronizer_alpha`](super::synchronizer_alpha)).
//!
//! **Costs.** The algorithm's basic messages are the same, message for message, under
//! both runners; α adds one ACK per basic message and the SAFE exchange.

pub mod lock_step;

use reparti_core::layer::static_str;
use reparti_core::process::StateBounds;
use reparti_core::{
    AlgorithmSpec, Context, Expectation, Message, NodeId, NodeSetup, ParamError, Params, Process, Properties, RunFacts,
    Topology,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub use lock_step::{LockStep, LockStepNode};

/// The runners' own invariant: no message arrives after its round was closed.
pub const IN_THEIR_ROUND: &str = "per-round messages delivered in their round";

/// A node of an algorithm written in rounds (see the [module documentation](self)).
pub trait RoundProcess: StateBounds {
    /// What it sends in a round.
    type Msg: Message;

    /// Round `round` (from 1) begins: send this round's messages, to neighbours only.
    fn send(&self, round: u32, ctx: &mut Context<'_, Self::Msg>);

    /// Round `round` ends: `inbox` holds every message the neighbours sent this node in
    /// it, sorted by sender, then in the order each sender sent them.
    fn receive(&mut self, round: u32, inbox: &[(NodeId, Self::Msg)], ctx: &mut Context<'_, Self::Msg>);

    /// Whether the node has stopped: it runs no further round.
    fn halted(&self) -> bool;
}

/// A runner's node, as the round algorithm's properties see it.
pub trait RoundHost: Process {
    /// The round algorithm's node.
    type App: RoundProcess;
    /// The round algorithm's node state.
    fn app(&self) -> &Self::App;
    /// This node's neighbours (laid at start; empty before).
    fn neighbours(&self) -> &BTreeSet<NodeId>;
    /// The round under way (0 before the first; the last one run once halted).
    fn round(&self) -> u32;
}

/// An algorithm written in rounds, with its declarations; run by a runner.
pub trait RoundAlgorithm: Sized + Send + Sync + 'static {
    /// The node.
    type Node: RoundProcess;

    /// Its self-description: the name is the stem the runners suffix (`bfs`).
    fn spec() -> AlgorithmSpec;

    /// Builds it from the resolved parameters (its own and the runner's).
    fn from_params(params: &Params) -> Result<Self, ParamError>;

    /// Whether the parameters suit `n` nodes (see `Algorithm::check_size`).
    fn check_size(&self, _n: usize) -> Result<(), String> {
        Ok(())
    }

    /// A node's initial state.
    fn init(&self, setup: &NodeSetup) -> Self::Node;

    /// Its properties, judged on whichever runner's nodes host it.
    fn properties<H: RoundHost<App = Self::Node>>(&self) -> Properties<H>;

    /// Its basic message counts, as the literature gives them for this run.
    fn expected(&self, _facts: &RunFacts<'_>) -> Vec<Expectation> {
        Vec::new()
    }

    /// How many rounds each node runs on `topology` (by position), when known in advance:
    /// the synchronizer's cost is written in it.
    fn rounds_run(&self, _topology: &Topology) -> Option<Vec<u32>> {
        None
    }
}

/// A runner's spec: the algorithm's, renamed `STEM-suffix`, with the runner's
/// parameters appended and its summary completed.
pub(crate) fn runner_spec<R: 'static>(
    app: AlgorithmSpec,
    suffix: &'static str,
    summary: &'static str,
    own: &'static [reparti_core::ParamSpec],
) -> AlgorithmSpec {
    let params: Vec<reparti_core::ParamSpec> = app.params.iter().chain(own).copied().collect();
    AlgorithmSpec {
        name: static_str::<R>("name", || format!("{}{suffix}", app.name)),
        summary: static_str::<R>("summary", || format!("{} — {summary}", app.summary)),
        params: Box::leak(params.into_boxed_slice()),
        ..app
    }
}

/// A round's messages as they arrive: by sender, then by rank among the sender's
/// messages of the round, so that reading them gives the inbox in its promised order.
/// (Nested maps rather than pairs as keys: a state must serialize to JSON.)
pub type Inbox<M> = BTreeMap<NodeId, BTreeMap<u32, M>>;

/// Files `msg`, the `rank`-th of `from`'s messages of the round, into `inbox`.
pub(crate) fn file<M>(inbox: &mut Inbox<M>, from: NodeId, rank: u32, msg: M) {
    inbox.entry(from).or_default().entry(rank).or_insert(msg);
}

/// The inbox in the order a round process reads it.
pub(crate) fn sorted<M: Clone>(inbox: Inbox<M>) -> Vec<(NodeId, M)> {
    inbox.into_iter().flat_map(|(from, by_rank)| by_rank.into_values().map(move |m| (from, m))).collect()
}

/// Runs `handler` (a round process's `send` or `receive`) and wraps each message it sends
/// with `wrap(to, rank, msg)`, numbering them from 0; returns how many it sent to
/// neighbours. A message to a non-neighbour is not sent: it is reported in `stray`.
pub(crate) fn lift_round<M: Clone, N: Clone>(
    ctx: &mut Context<'_, M>,
    neighbours: &BTreeSet<NodeId>,
    stray: &mut Option<String>,
    round: u32,
    handler: impl FnOnce(&mut Context<'_, N>),
    mut wrap: impl FnMut(NodeId, u32, N) -> M,
) -> u32 {
    let mut rank = 0;
    ctx.lift(handler, |to, msg| {
        if !neighbours.contains(&to) {
            stray.get_or_insert_with(|| format!("round {round}: a message to {to}, which is not a neighbour"));
            return None;
        }
        let wrapped = wrap(to, rank, msg);
        rank += 1;
        Some(wrapped)
    });
    rank
}

/// A node's neighbours, once each (a ring of two lists its one neighbour twice).
pub(crate) fn neighbour_set<M: Clone>(ctx: &Context<'_, M>) -> BTreeSet<NodeId> {
    ctx.neighbours().into_iter().filter(|&j| j != ctx.me()).collect()
}

/// The number of undirected edges, each counted once whatever way the topology lists it.
pub fn undirected_edges(topology: &Topology) -> usize {
    topology.channels().filter(|(a, b)| a != b).map(|(a, b)| (a.min(b), a.max(b))).collect::<BTreeSet<_>>().len()
}

/// Each node's number of distinct neighbours, by position.
pub fn degrees(topology: &Topology) -> Vec<usize> {
    (0..topology.len())
        .map(|i| {
            let me = NodeId(i as u32);
            topology.neighbours(me).into_iter().filter(|&j| j != me).collect::<BTreeSet<_>>().len()
        })
        .collect()
}

/// A round-tagged message of the lock-step runner (and the basic message of α's).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct InRound<M: Message> {
    /// The round it was sent in.
    pub round: u32,
    /// Its rank among its sender's messages of that round.
    pub rank: u32,
    /// The round algorithm's message.
    pub msg: M,
}

#[cfg(test)]
#[path = "rounds_tests.rs"]
mod tests;

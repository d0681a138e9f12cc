//! # Chang & Roberts (1979): election on a unidirectional ring
//!
//! Every initiator sends its own identity around the ring in an `ELECT` message. A
//! node forwards an identity larger than its own (it has lost), swallows a smaller
//! one (replacing it by its own if it had not joined yet), and a node that gets its
//! own identity back has seen it beat everyone: it is the leader and sends `ELECTED`
//! around so that everyone learns it.
//!
//! ```text
//! initiate:       participant = true; send ELECT(id)
//! on ELECT(x):    if x > id: participant = true; state = lost; send ELECT(x)
//!                 elif x < id: if ¬participant: participant = true; send ELECT(id)   # else discard
//!                 else: state = leader; send ELECTED(id)
//! on ELECTED(x):  if x ≠ id: leader_id = x; state = lost; send ELECTED(x)     # leader stops
//! ```
//!
//! **Source.** E. Chang, R. Roberts, "An improved algorithm for decentralized
//! extrema-finding in circular configurations of processes", CACM 22(5):281–283, 1979;
//! the TLA+ spec `ChangRoberts.tla` of tlaplus/Examples.
//!
//! **Counts** (all nodes initiate, each sending its own ELECT before it receives
//! anything, which the engines guarantee by starting every node first). An identity
//! `x` travels from its node to the next node with a larger identity, and no further,
//! whatever the schedule: the ELECT count is exactly the sum over nodes of those hop
//! counts (n for the maximum, whose message comes home). That gives n(n+1)/2 when
//! identities decrease along the ring (the worst case), 2n−1 when they increase (the
//! best), and n·H_n on average over the n! placements. `ELECTED` costs exactly n.
//! With a single initiator `s`, one message travels: `d(s, max)` hops to the maximum,
//! then n hops around, so ELECT = n + d and the total lies in [2n, 3n−1].
//!
//! **Pitfalls.**
//! * Identity is not position: the node at position 0 need not have identity 0.
//! * Channels need not be FIFO: ELECT messages never overtake in a harmful way, since
//!   each one is judged on its own. The announcement starts only when the maximum's
//!   message has come home, after every other ELECT that matters has been swallowed.
//! * A non-initiator that sees a *smaller* identity must join with its own identity
//!   (the "¬participant" branch); discarding instead would lose the election when the
//!   maximum does not initiate.
//! * The leader must not forward its own `ELECTED`, or it would circulate forever.

use super::{
    argmax, election_properties, everyone_knows_the_max, harmonic, hops_to_next_larger, ring_distance, Elector,
    Initiators,
};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Command, Context, Expectation, Message, NodeId, NodeSetup, ParamError,
    ParamSpec, Params, Process, Properties, RunFacts, Terminal, World,
};
use serde::{Deserialize, Serialize};

/// A node's role in the election.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Not beaten yet.
    Candidate,
    /// Has seen a larger identity.
    Lost,
    /// Got its own identity back.
    Leader,
}

/// A Chang–Roberts node: 24 bytes, no heap (a million-node ring is benchmarked).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    ident: u64,
    /// The leader's identity, meaningful once `informed`.
    leader: u64,
    role: Role,
    /// Has sent (or forwarded) an ELECT: a node originates its own ELECT at most once.
    participant: bool,
    /// Starts an election on its own at start-up.
    initiator: bool,
    /// Knows the leader (the leader itself, or a node that saw ELECTED).
    informed: bool,
}

// The benchmarked bound: a million nodes must stay within 32 MB of node state.
const _: () = assert!(std::mem::size_of::<Node>() <= 32);

impl Node {
    /// A node with identity `ident`, initiating or not.
    pub fn new(ident: u64, initiator: bool) -> Node {
        Node { ident, leader: 0, role: Role::Candidate, participant: false, initiator, informed: false }
    }

    /// Its identity.
    pub fn ident(&self) -> u64 {
        self.ident
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether it has joined the election.
    pub fn participant(&self) -> bool {
        self.participant
    }

    /// The leader's identity, once known.
    pub fn leader(&self) -> Option<u64> {
        self.informed.then_some(self.leader)
    }

    /// Joins the election with its own identity, unless it already takes part.
    fn initiate(&mut self, ctx: &mut Context<'_, Msg>) {
        if !self.participant {
            self.participant = true;
            send_next(ctx, Msg::Elect(self.ident));
        }
    }
}

/// Sends to the successor, `[next]` in a ring.
fn send_next(ctx: &mut Context<'_, Msg>, msg: Msg) {
    match ctx.neighbours().get(0) {
        Some(next) => ctx.send(next, msg),
        // Only reachable on a topology the spec does not accept: say so instead of panicking.
        None => ctx.log("no successor: chang-roberts needs a ring"),
    }
}

/// Chang–Roberts messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// `ELECT(x)`: identity `x` is still running.
    #[serde(rename = "ELECT")]
    Elect(u64),
    /// `ELECTED(x)`: `x` won.
    #[serde(rename = "ELECTED")]
    Elected(u64),
}

/// What the outside world can ask of a node (the network console's `elect`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Start an election, unless this node already takes part in one.
    Elect,
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.initiator {
            self.initiate(ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Elect(x) if x > self.ident => {
                self.participant = true;
                self.role = Role::Lost;
                send_next(ctx, Msg::Elect(x));
            }
            // A smaller identity is swallowed; a sleeping node wakes up and runs itself.
            Msg::Elect(x) if x < self.ident => self.initiate(ctx),
            Msg::Elect(_) => {
                // Our own identity came back, so it beat every node. The guard keeps a
                // duplicated ELECT (a duplicating network) from announcing twice.
                if self.role != Role::Leader {
                    self.role = Role::Leader;
                    self.leader = self.ident;
                    self.informed = true;
                    ctx.output("leader", self.ident);
                    send_next(ctx, Msg::Elected(self.ident));
                }
            }
            Msg::Elected(x) if x != self.ident => {
                // The guard only matters with duplicating networks: forward each announcement once.
                if !(self.informed && self.leader == x) {
                    self.leader = x;
                    self.informed = true;
                    self.role = Role::Lost;
                    ctx.output("leader", x);
                    send_next(ctx, Msg::Elected(x));
                }
            }
            // The announcement has gone round: the leader stops it.
            Msg::Elected(_) => {}
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        match input {
            Input::Elect => self.initiate(ctx),
        }
    }
}

/// The Chang–Roberts algorithm with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangRoberts {
    /// Who starts an election.
    pub initiators: Initiators,
}

const PARAMS: &[ParamSpec] = &[ParamSpec::nodes("initiators", "all", Initiators::HELP)];

impl Algorithm for ChangRoberts {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "chang-roberts",
            chapter: Chapter::Election,
            summary: "Chang & Roberts (1979): the largest identity wins on a unidirectional ring",
            params: PARAMS,
            topologies: &["ring"],
            default_nodes: 8,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[Command { word: "elect", variant: "Elect", args: &[], help: "start an election" }],
            spans: &[],
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(ChangRoberts { initiators: Initiators::from_params(params)? })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node::new(setup.ident, self.initiators.contains(setup.me))
    }

    fn properties(&self) -> Properties<Node> {
        election_properties(vec![
            Terminal::<Node>::new("every node knows the leader", everyone_knows_the_max::<Node>),
            Terminal::<Node>::new("every other node is lost", every_other_node_lost),
        ])
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let n = facts.n;
        let nf = n as f64;
        let ids = facts.idents;
        let hops = hops_to_next_larger(ids);
        let all: u64 = hops.iter().sum();
        let Some(max_pos) = argmax(ids) else { return Vec::new() };
        match self.initiators.listed_below(n) {
            None => {
                let elect = all as f64;
                vec![
                    Expectation::exact("ELECT", all_initiators_formula(ids), elect),
                    Expectation::reference("ELECT", "n·H_n (mean over placements)", nf * harmonic(n)),
                    Expectation::exact("ELECTED", "n", nf),
                    Expectation::exact("total", "ELECT + n", elect + nf),
                ]
            }
            Some(list) if list.is_empty() => vec![
                Expectation::exact("ELECT", "0 (no initiator)", 0.0),
                Expectation::exact("ELECTED", "0 (no initiator)", 0.0),
            ],
            Some(list) if list.len() == 1 => {
                let elect = nf + ring_distance(list[0], max_pos, n) as f64;
                vec![
                    Expectation::exact("ELECT", "n + d(initiator, max)", elect),
                    Expectation::exact("ELECTED", "n", nf),
                    Expectation::between("total", "[2n, 3n−1]", 2.0 * nf, 3.0 * nf - 1.0),
                ]
            }
            Some(list) => {
                // Each identity that enters the ring travels exactly to the next larger
                // node. The initiators' and the maximum's always enter; a sleeping node's
                // enters only if a smaller identity wakes it, which depends on the schedule.
                let mut least: u64 = list.iter().map(|&p| hops[p]).sum();
                if list.binary_search(&max_pos).is_err() {
                    least += hops[max_pos];
                }
                vec![
                    Expectation::between(
                        "ELECT",
                        "[Σ hops of initiators and max, Σ hops of all]",
                        least as f64,
                        all as f64,
                    ),
                    Expectation::exact("ELECTED", "n", nf),
                    Expectation::between("total", "ELECT + n", least as f64 + nf, all as f64 + nf),
                ]
            }
        }
    }
}

/// How the literature writes the all-initiators ELECT count for this placement.
fn all_initiators_formula(ids: &[u64]) -> &'static str {
    let n = ids.len();
    // Count the cyclic ascents: one means a rotation of a decreasing ring, n−1 an increasing one.
    let ascents = (0..n).filter(|&i| ids[(i + 1) % n] > ids[i]).count();
    if ascents == 1 {
        "n(n+1)/2"
    } else if n >= 2 && ascents == n - 1 {
        "2n−1"
    } else {
        "Σ hops to next larger id"
    }
}

fn every_other_node_lost(w: &World<'_, Node>) -> Result<(), String> {
    match w.live().find(|&i| w.nodes[i].role == Role::Candidate) {
        None => Ok(()),
        Some(i) => Err(format!("node {i} (identity {}) is still a candidate", w.idents[i])),
    }
}

impl Elector for Node {
    fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }
    fn known_leader(&self) -> Option<u64> {
        self.leader()
    }
}

#[cfg(test)]
#[path = "chang_roberts_tests.rs"]
mod tests;

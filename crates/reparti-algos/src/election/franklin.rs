//! # Franklin (1982): election on a bidirectional ring in O(n log n) messages
//!
//! Every node starts active in round 1. In each round an active node sends its
//! identity both ways, `ID(r, id)`, and waits for the round-r identities of its nearest
//! active neighbours, `a` from the left and `b` from the right (passive nodes in between
//! relay them unchanged). If its own identity came back it is alone: it is the leader
//! and announces it with `ELECTED`. Otherwise it survives to round r+1 if it beats both
//! neighbours, and turns passive if either is larger.
//!
//! ```text
//! active p, round r: send ID(r, id) to left and right
//!                    wait for ID(r, a) from left and ID(r, b) from right
//!                    if a = id: leader; announce
//!                    elif max(a, b) > id: active = false
//!                    else: r += 1; next round
//! passive p: relay ID(r, x) left→right and right→left unchanged
//! ```
//!
//! **Source.** W. R. Franklin, "On an improved algorithm for decentralized extrema
//! finding in circular configurations of processors", CACM 25(5):336–337, 1982.
//!
//! **Counts.** Each round costs exactly 2n `ID` messages: in each direction the gaps
//! between consecutive active nodes add up to n (the last round's lone node sends its
//! identity once round the ring each way). Among k ≥ 2 active nodes, two neighbours
//! cannot both survive, so at most ⌊k/2⌋ do: R ≤ ⌊log₂ n⌋ + 1 rounds, and ID = 2n·R ≤
//! 2n(⌊log₂ n⌋ + 1). The announcement costs n `ELECTED`. The leader outputs `rounds` = R.
//!
//! **Pitfalls.**
//! * *Queued messages.* While p waits in round r, its left active neighbour may already
//!   have finished round r and sent `ID(r+1, ·)`, which can reach p before p's round-r
//!   message from the right, even on FIFO channels; on non-FIFO channels it can even
//!   overtake the round-r message from the same side. p must not consume it as a
//!   round-r value. The fixed node files it by round number (a neighbour is never more
//!   than one round ahead: it cannot finish round r+1 without p's own ID(r+1)), uses it
//!   when its own round r+1 begins, and relays it if it turns passive instead. The
//!   parameter `fixed=false` builds the node *without* this fix, storing whatever
//!   arrives from a side as that side's value: it is kept so that the model checker and
//!   the tests can exhibit the lost message and the stalled election it causes.
//!
//!   What the broken variant does (tests in `franklin_tests.rs` and
//!   `tests/election_franklin.rs`): it never elects two leaders, but it loses messages
//!   and stalls with no leader. Exploring every non-FIFO schedule finds a stall from
//!   n = 3 (identities `3 1 2`); random delays make it stall in a large share of runs,
//!   on FIFO channels too (the overtaking is between the two sides, not on one channel);
//!   with constant delays every placement of n ≤ 7 happens to survive, and the 8-node
//!   ring `1 2 4 5 3 8 6 7` stalls.
//! * *n = 2.* Left and right are then the same node, so a message cannot tell its side
//!   by its sender: every `ID` carries its direction of travel ([`Dir`]).
//! * The `ELECTED` announcement travels rightwards once round; the leader stops it.

use super::{election_properties, everyone_knows_the_max, Elector};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Expectation, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params,
    Process, Properties, RunFacts, Terminal, World,
};
use serde::{Deserialize, Serialize};

/// The direction a message travels in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    /// Towards the predecessors (sent to the left neighbour).
    Left,
    /// Towards the successors (sent to the right neighbour).
    Right,
}

impl Dir {
    /// The index in `[left, right]` of the neighbour a message travelling this way goes to.
    fn towards(self) -> usize {
        match self {
            Dir::Left => 0,
            Dir::Right => 1,
        }
    }

    /// The side (index in `[left, right]`) a message travelling this way arrives from:
    /// a rightward message comes from the receiver's left.
    fn arrives_from(self) -> usize {
        1 - self.towards()
    }
}

/// Franklin's messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// `ID(round, id)`, travelling in direction `dir`.
    #[serde(rename = "ID")]
    Id {
        /// The sender's round.
        round: u32,
        /// The active sender's identity.
        id: u64,
        /// Which way it travels.
        dir: Dir,
    },
    /// The leader's announcement.
    #[serde(rename = "ELECTED")]
    Elected {
        /// The leader's identity.
        id: u64,
    },
}

/// A node's role.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Still competing.
    Active,
    /// Beaten: relays.
    Passive,
    /// Alone in its round: elected.
    Leader,
}

/// One identity per side (left = 0, right = 1), each present or not: 24 bytes instead
/// of the 32 that `[Option<u64>; 2]` takes, which matters on a million-node ring.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Sides {
    ids: [u64; 2],
    present: [bool; 2],
}

impl Sides {
    /// The identity held for `side`, if any.
    pub fn get(&self, side: usize) -> Option<u64> {
        self.present[side].then_some(self.ids[side])
    }

    fn put(&mut self, side: usize, id: u64) {
        self.ids[side] = id;
        self.present[side] = true;
    }

    fn both(&self) -> Option<(u64, u64)> {
        Some((self.get(0)?, self.get(1)?))
    }
}

/// A Franklin node.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    ident: u64,
    /// The leader's identity, meaningful once `informed`.
    leader: u64,
    /// The round-r identities received so far.
    got: Sides,
    /// Round-(r+1) identities that arrived early (fixed variant only).
    early: Sides,
    round: u32,
    role: Role,
    informed: bool,
    fixed: bool,
}

impl Node {
    /// An active node in round 1, with or without the queued-message fix.
    pub fn new(ident: u64, fixed: bool) -> Node {
        Node {
            ident,
            leader: 0,
            got: Sides::default(),
            early: Sides::default(),
            round: 1,
            role: Role::Active,
            informed: false,
            fixed,
        }
    }

    /// Its identity.
    pub fn ident(&self) -> u64 {
        self.ident
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Its round (the last one it took part in, once passive).
    pub fn round(&self) -> u32 {
        self.round
    }

    /// The leader's identity, once known.
    pub fn leader(&self) -> Option<u64> {
        self.informed.then_some(self.leader)
    }

    /// The early (next-round) identities it holds.
    pub fn early(&self) -> Sides {
        self.early
    }

    fn send_round(&self, ctx: &mut Context<'_, Msg>) {
        for dir in [Dir::Left, Dir::Right] {
            send_towards(ctx, dir, Msg::Id { round: self.round, id: self.ident, dir });
        }
    }

    /// Decides as long as both sides of the current round are in (early messages
    /// promoted to a new round may complete it at once).
    fn decide(&mut self, ctx: &mut Context<'_, Msg>) {
        while self.role == Role::Active {
            let Some((a, b)) = self.got.both() else { return };
            self.got = Sides::default();
            if a == self.ident || b == self.ident {
                // Its own identity came round: no other node is active.
                self.role = Role::Leader;
                self.leader = self.ident;
                self.informed = true;
                ctx.output("rounds", self.round);
                ctx.output("leader", self.ident);
                send_towards(ctx, Dir::Right, Msg::Elected { id: self.ident });
            } else if a.max(b) > self.ident {
                self.role = Role::Passive;
                // The fix, second half: what was kept for the next round belongs to the
                // active nodes beyond us, so pass it on.
                let early = std::mem::take(&mut self.early);
                for side in 0..2 {
                    if let Some(id) = early.get(side) {
                        let dir = if side == 0 { Dir::Right } else { Dir::Left };
                        send_towards(ctx, dir, Msg::Id { round: self.round + 1, id, dir });
                    }
                }
            } else {
                self.round += 1;
                self.got = std::mem::take(&mut self.early);
                self.send_round(ctx);
            }
        }
    }

    fn on_id(&mut self, round: u32, id: u64, dir: Dir, ctx: &mut Context<'_, Msg>) {
        if self.role != Role::Active {
            if self.role == Role::Leader {
                ctx.log(format!("leader got ID(round {round}, id {id}) after its election: dropped"));
            } else {
                send_towards(ctx, dir, Msg::Id { round, id, dir });
            }
            return;
        }
        let side = dir.arrives_from();
        if !self.fixed {
            // Without the fix: whatever comes from a side is that side's value for the
            // current round. A neighbour's next-round message is consumed too early,
            // then thrown away with this round's values.
            self.got.put(side, id);
        } else if round == self.round && self.got.get(side).is_none() {
            self.got.put(side, id);
        } else if round == self.round + 1 && self.early.get(side).is_none() {
            self.early.put(side, id); // the fix: keep it for our next round
        } else {
            // Impossible with reliable channels (see the module doc): say it loudly.
            ctx.log(format!("unexpected ID(round {round}, id {id}) from side {side} in round {}: dropped", self.round));
        }
        self.decide(ctx);
    }
}

/// Sends to the left (index 0) or right (index 1) neighbour of a bidirectional ring.
fn send_towards(ctx: &mut Context<'_, Msg>, dir: Dir, msg: Msg) {
    match ctx.neighbours().get(dir.towards()) {
        Some(to) => ctx.send(to, msg),
        None => ctx.log("no such neighbour: franklin needs a bidirectional ring"),
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        // Every node initiates: round 1 starts at once.
        if self.role == Role::Active {
            self.send_round(ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Id { round, id, dir } => self.on_id(round, id, dir, ctx),
            Msg::Elected { id } if id != self.ident => {
                if !(self.informed && self.leader == id) {
                    self.leader = id;
                    self.informed = true;
                    ctx.output("leader", id);
                    send_towards(ctx, Dir::Right, Msg::Elected { id });
                }
            }
            Msg::Elected { .. } => {} // back at the leader: the announcement is over
        }
    }
}

/// Franklin's algorithm, with or without the queued-message fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Franklin {
    /// Whether early next-round messages are kept for the next round (true) or consumed
    /// as current-round values (false, the broken variant).
    pub fixed: bool,
}

const PARAMS: &[ParamSpec] = &[ParamSpec::boolean(
    "fixed",
    "true",
    "keep a neighbour's early next-round ID for the next round (true); false is the broken variant that consumes it",
)];

impl Algorithm for Franklin {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "franklin",
            chapter: Chapter::Election,
            summary: "Franklin (1982): rounds of comparisons with both active neighbours on a bidirectional ring",
            params: PARAMS,
            topologies: &["bidir-ring"],
            default_nodes: 8,
            // Round numbers plus the buffer make FIFO unnecessary for the fixed variant.
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let fixed = if params.raw("fixed").is_some() { params.get("fixed")? } else { true };
        Ok(Franklin { fixed })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node::new(setup.ident, self.fixed)
    }

    fn properties(&self) -> Properties<Node> {
        election_properties(vec![
            Terminal::<Node>::new("every node knows the leader", everyone_knows_the_max::<Node>),
            Terminal::<Node>::new("every other node is passive", every_other_node_passive),
        ])
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let nf = facts.n as f64;
        let max_rounds = log2_floor(facts.n) as f64 + 1.0;
        let mut v = Vec::new();
        // R is read from the leader's output; without a leader there is no exact claim.
        if let Some(r) = facts.output_max("rounds") {
            v.push(Expectation::exact("ID", "2n·R", 2.0 * nf * r as f64));
        }
        v.push(Expectation::at_most("output:rounds", "⌊log₂ n⌋+1", max_rounds));
        v.push(Expectation::at_most("ID", "2n(⌊log₂ n⌋+1)", 2.0 * nf * max_rounds));
        v.push(Expectation::exact("ELECTED", "n", nf));
        v.push(Expectation::at_most("total", "2n(⌊log₂ n⌋+1) + n", 2.0 * nf * max_rounds + nf));
        v
    }
}

/// `⌊log₂ n⌋` (0 for n ≤ 1).
pub fn log2_floor(n: usize) -> u32 {
    if n <= 1 {
        0
    } else {
        n.ilog2()
    }
}

fn every_other_node_passive(w: &World<'_, Node>) -> Result<(), String> {
    match w.live().find(|&i| w.nodes[i].role == Role::Active) {
        None => Ok(()),
        Some(i) => Err(format!("node {i} (identity {}) is still active in round {}", w.idents[i], w.nodes[i].round)),
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
#[path = "franklin_tests.rs"]
mod tests;

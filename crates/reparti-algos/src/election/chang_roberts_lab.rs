//! # TP7: the lab sheet's own "Chang and Roberts" election
//!
//! The seed's seventh lab (TP N°7, "Élection") does not ask for the textbook algorithm
//! of [`super::chang_roberts`] but for a simpler relay scheme, kept here as its own
//! algorithm so that students can run exactly what they wrote and compare:
//!
//! * each node has an identity `ID` and a port; it starts with `Leader_ID ← ID`,
//!   `Leader_Port ← PORT_In`;
//! * the message is `{Type: "ELECT", Id_elect, Port_elect}` (here `{"type": "ELECT",
//!   "id_elect": …, "port_elect": …}` on the wire and in traces);
//! * on receiving `M`: if `M.Id_elect > Leader_ID` adopt it (`Leader_ID`, `Leader_Port`),
//!   otherwise overwrite the message with the node's own leader; forward `M` to the next node;
//! * "the receiving process repeats until each node has received the same
//!   `Leader_ID`/`Leader_Port` twice", then the node prints its identity and its leader.
//!
//! There is no `ELECTED` announcement and no lost/leader state: a node simply stops
//! once it has *seen its current leader twice* (the receipt that adopted it counts as
//! the first), and outputs `leader` and `leader_port` at that moment (again later, if a
//! larger identity reopens it). A node's port is the one it really listens on when it
//! runs on a network (`reparti node`, `reparti run`); in the simulator and the checker,
//! where nodes have no addresses, it is `port_base + position` (the lab's nodes listening
//! on consecutive ports). The "next node" is position `i+1 mod n`: the successor
//! on a `ring`, or the next port of the lab's `complete` mesh.
//!
//! ## What "stops" must mean: the `stop` parameter
//!
//! * `stop=all` is the sheet read literally: once a node has seen its leader twice, its
//!   receive loop ends and every later message is dropped. **This is wrong when several
//!   nodes initiate.** On the ring with identities `4, 1, 3, 2` (positions 0..3) and
//!   constant delays, node 3 receives node 2's `3` and then node 1's `1` overwritten
//!   into `3` by node 2, both before the maximum's `4` gets there: it stops with leader
//!   3, and drops the `4` when it arrives. The unit test
//!   `literal_stop_leaves_a_node_with_a_smaller_leader` replays this run.
//! * `stop=leader` (the default) is the reading that works: a node stops relaying *its
//!   leader*, i.e. it drops a message carrying the leader it has already seen twice,
//!   and nothing else. A larger identity reopens it (adopted, seen once, forwarded), and
//!   a smaller one is still overwritten and forwarded, as the sheet's rule says.
//!
//! **Why `stop=leader` elects the maximum and terminates** (any schedule, FIFO or not,
//! any non-empty set of initiators).
//! * *Termination.* A receipt sends at most one message, and a forwarded receipt either
//!   adopts (a node's leader only grows), repeats the node's leader for the second time
//!   (once per adoption), or overwrites (the message's value only grows). Each happens
//!   finitely often (the counts below), so the run reaches quiescence.
//! * *Everyone ends with the maximum.* Let `m` hold it. Two receipts of the maximum leave
//!   a node done with it, and a node done with it has forwarded both. So if some node is
//!   not done with the maximum at quiescence, neither is its predecessor, nor anyone;
//!   then no message carrying the maximum is ever dropped (a done node drops only its own
//!   leader). Yet one exists: the dropping node nearest before `m`, if any, forwarded two
//!   messages that nobody before `m` drops, so some message reaches `m`, which forwards
//!   it carrying the maximum. That message would travel forever: a contradiction. Its
//!   port travels with the maximum, so every node also ends with `m`'s port.
//! * *At most one leader.* Only `m` can receive its own identity (any other is
//!   overwritten at `m` before it comes round), so only `m` is ever done with itself as
//!   leader.
//!
//! **Counts.** Every message is an `ELECT`.
//! * A single initiator `s` makes one message travel: `d(s, max)` hops to the maximum,
//!   then two laps while every node sees the maximum twice, then one last hop to a node
//!   that drops it: exactly `2n + 1 + d(s, max)`, within `[2n+1, 3n]` — in both modes.
//! * k ≥ 2 initiators (`stop=leader`): at least `2n + k`, as every node receives the
//!   maximum twice and each of the k messages dies in one more receipt; with all n
//!   initiating, add the overwrite of node `m−1`'s message at `m`: at least `3n + 1`.
//!   At most `n + 3n(n−1)/2 + 2`: besides the ≤ n initial sends, a forwarded receipt
//!   either adopts (a node's leader only grows: ≤ n(n−1)/2 in all), or repeats the
//!   leader for the second time (once per adoption, plus twice for `m`'s own identity),
//!   or overwrites (a message's value only grows: ≤ n(n−1)/2 in all).
//! * Those bounds are proven, not tight. Exploring *every* non-FIFO schedule of every
//!   placement for n ≤ 5 gives exactly `[4n−1, n(n+5)/2]` with all initiators, and
//!   random runs up to n = 12 never exceed `n(n+5)/2`; the report shows it as a
//!   reference value only.
//! * With `stop=all` only the upper bound is claimed.
//!
//! Exhaustive exploration also shows where `stop=all` breaks: every schedule of 3 nodes
//! is fine, and with 4 nodes the placements `4 1 3 2` and `4 2 3 1` (up to rotation)
//! have failing schedules. A node can stop on a smaller leader only if that leader
//! reaches it twice before the maximum does: its predecessor must send it twice, the
//! second time overwriting a smaller message from its own predecessor, so the maximum
//! must be at least three hops back.

use super::{argmax, election_properties, ring_distance, Elector, Initiators};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Expectation, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params,
    Process, Properties, RunFacts, Terminal, World,
};
use serde::{Deserialize, Serialize};

/// What a node that has seen its leader twice still does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// It drops only messages carrying that leader (correct; the default).
    Leader,
    /// It drops everything: the lab sheet read literally (wrong with several initiators).
    All,
}

/// A TP7 node.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    ident: u64,
    leader_id: u64,
    port: u32,
    leader_port: u32,
    /// How many received messages carried the current leader (0 until one does).
    seen: u8,
    initiator: bool,
    stop: Stop,
}

impl Node {
    /// A node with identity `ident` listening on `port`.
    pub fn new(ident: u64, port: u32, initiator: bool, stop: Stop) -> Node {
        Node { ident, leader_id: ident, port, leader_port: port, seen: 0, initiator, stop }
    }

    /// Its identity.
    pub fn ident(&self) -> u64 {
        self.ident
    }

    /// Its port.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// `Leader_ID`: the largest identity it has seen.
    pub fn leader_id(&self) -> u64 {
        self.leader_id
    }

    /// `Leader_Port`: that leader's port.
    pub fn leader_port(&self) -> u32 {
        self.leader_port
    }

    /// Whether it has seen its current leader twice (the lab's end of the receive loop).
    pub fn done(&self) -> bool {
        self.seen >= 2
    }

    /// Whether it is done and is its own leader.
    pub fn is_leader(&self) -> bool {
        self.done() && self.leader_id == self.ident
    }

    fn message(&self) -> Msg {
        Msg::Elect { id_elect: self.leader_id, port_elect: self.leader_port }
    }
}

/// The lab's message, `{"type": "ELECT", "id_elect": …, "port_elect": …}` in JSON.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
#[serde(tag = "type")]
pub enum Msg {
    /// The only message type.
    #[serde(rename = "ELECT")]
    Elect {
        /// The identity of the node elected so far.
        id_elect: u64,
        /// Its port.
        port_elect: u32,
    },
}

/// The next node: position `i+1 mod n` (the ring's successor, or the mesh's next port).
fn send_next(ctx: &mut Context<'_, Msg>, msg: Msg) {
    let n = ctx.n().max(1) as u32;
    let next = NodeId((ctx.me().0 + 1) % n);
    ctx.send(next, msg);
}

impl Process for Node {
    type Msg = Msg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.initiator {
            send_next(ctx, self.message());
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        if self.done() && self.stop == Stop::All {
            return; // the literal reading: the receive loop has ended
        }
        let Msg::Elect { id_elect, port_elect } = msg;
        let was_done = self.done();
        let forward = if id_elect > self.leader_id {
            self.leader_id = id_elect;
            self.leader_port = port_elect;
            self.seen = 1; // the adopting receipt is the first sight of the new leader
            Some(msg)
        } else if id_elect == self.leader_id {
            if self.done() {
                None // already seen twice: this is where messages die
            } else {
                self.seen += 1;
                Some(msg)
            }
        } else {
            Some(self.message()) // overwrite with our leader
        };
        if let Some(m) = forward {
            send_next(ctx, m);
        }
        if self.done() && !was_done {
            ctx.output("leader", self.leader_id);
            ctx.output("leader_port", self.leader_port);
        }
    }
}

/// TP7's election with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangRobertsLab {
    /// Who starts: every node in the lab.
    pub initiators: Initiators,
    /// Without a network, the port of position 0; position i listens on `port_base + i`.
    pub port_base: u32,
    /// What a node that has seen its leader twice still does.
    pub stop: Stop,
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::nodes("initiators", "all", Initiators::HELP),
    ParamSpec::int(
        "port_base",
        "5000",
        1,
        65_535,
        "without a network (sim, check), the port of position 0; position i uses port_base + i",
    ),
    ParamSpec::choice(
        "stop",
        "leader",
        &["leader", "all"],
        "after seeing its leader twice a node drops only that leader's messages (`leader`, correct) \
         or every message (`all`, the sheet read literally: fails with several initiators)",
    ),
];

impl Algorithm for ChangRobertsLab {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "chang-roberts-lab",
            chapter: Chapter::Election,
            summary:
                "TP7's relay election: adopt a larger id or overwrite with yours, stop after seeing the leader twice",
            params: PARAMS,
            topologies: &["ring", "complete"],
            default_nodes: 5,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let stop = match params.raw("stop").unwrap_or("leader") {
            "leader" => Stop::Leader,
            "all" => Stop::All,
            other => {
                return Err(ParamError::Invalid {
                    name: "stop".into(),
                    value: other.into(),
                    why: "expected `leader` or `all`".into(),
                })
            }
        };
        let port_base: u32 = if params.raw("port_base").is_some() { params.get("port_base")? } else { 5000 };
        Ok(ChangRobertsLab { initiators: Initiators::from_params(params)?, port_base, stop })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let port = match setup.port {
            Some(real) => u32::from(real),
            None => self.port_base.saturating_add(setup.me.0),
        };
        Node::new(setup.ident, port, self.initiators.contains(setup.me), self.stop)
    }

    fn properties(&self) -> Properties<Node> {
        election_properties(vec![
            // The lab's nodes must know the leader's port as well as its identity.
            Terminal::<Node>::new("every node knows the leader", everyone_knows_the_max_and_port),
            Terminal::<Node>::new("every node has seen its leader twice", everyone_done),
        ])
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let n = facts.n;
        let nf = n as f64;
        let Some(max_pos) = argmax(facts.idents) else { return Vec::new() };
        let upper = nf + 3.0 * nf * (nf - 1.0) / 2.0 + 2.0;
        match self.initiators.listed_below(n) {
            Some(list) if list.is_empty() => vec![Expectation::exact("ELECT", "0 (no initiator)", 0.0)],
            Some(list) if list.len() == 1 => vec![
                Expectation::exact(
                    "ELECT",
                    "2n + 1 + d(initiator, max)",
                    2.0 * nf + 1.0 + ring_distance(list[0], max_pos, n) as f64,
                ),
                Expectation::between("total", "[2n+1, 3n]", 2.0 * nf + 1.0, 3.0 * nf),
            ],
            listed if self.stop == Stop::Leader => {
                let (formula, least) = match listed {
                    None => ("[3n+1, n + 3n(n−1)/2 + 2]", 3.0 * nf + 1.0),
                    Some(list) => ("[2n+k, n + 3n(n−1)/2 + 2] (k initiators)", 2.0 * nf + list.len() as f64),
                };
                vec![
                    Expectation::between("ELECT", formula, least, upper),
                    Expectation::reference(
                        "ELECT",
                        "n(n+5)/2 (worst found for n ≤ 12, not proven)",
                        nf * (nf + 5.0) / 2.0,
                    ),
                ]
            }
            _ => vec![Expectation::at_most("ELECT", "n + 3n(n−1)/2 + 2", upper)],
        }
    }
}

fn max_node(w: &World<'_, Node>) -> Result<usize, String> {
    argmax(w.idents).ok_or_else(|| "no nodes".to_string())
}

fn everyone_knows_the_max_and_port(w: &World<'_, Node>) -> Result<(), String> {
    let m = max_node(w)?;
    let (max, port) = (w.idents[m], w.nodes[m].port);
    match w.live().find(|&i| (w.nodes[i].leader_id, w.nodes[i].leader_port) != (max, port)) {
        None => Ok(()),
        Some(i) => Err(format!(
            "node {i} has leader {} on port {}, expected {max} on port {port}",
            w.nodes[i].leader_id, w.nodes[i].leader_port
        )),
    }
}

fn everyone_done(w: &World<'_, Node>) -> Result<(), String> {
    match w.live().find(|&i| !w.nodes[i].done()) {
        None => Ok(()),
        Some(i) => {
            Err(format!("node {i} has seen its leader {} only {} time(s)", w.nodes[i].leader_id, w.nodes[i].seen))
        }
    }
}

impl Elector for Node {
    fn is_leader(&self) -> bool {
        Node::is_leader(self)
    }
    fn known_leader(&self) -> Option<u64> {
        self.done().then_some(self.leader_id)
    }
}

#[cfg(test)]
#[path = "chang_roberts_lab_tests.rs"]
mod tests;

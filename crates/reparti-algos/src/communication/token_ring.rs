//! # Token ring (TP3)
//!
//! **What.** `n` nodes on a unidirectional ring `i → i+1 mod n` share one token. Only
//! the node holding the token may *originate* data messages; a data message then
//! travels hop by hop along the ring (each relay forwards it to its successor) until it
//! reaches its destination. When the holder has nothing left to send it passes the token
//! to its successor.
//!
//! **Source.** Lab TP3 of the seed course ("Topologie Token Ring"): `node.py port_local
//! port_prec [jeton]`, a boolean `token_held`, "a node may not send anything unless it
//! holds the token", a `menu_send` that asks whether to send a message or release the
//! token to the successor, and the advanced exercise where messages themselves follow
//! the ring.
//!
//! **How it runs.**
//! * Param `holder` (default 0) is the node that starts with the token.
//! * [`Input::Send`] asks a node to send a text to any node. A node that holds the token
//!   originates it at once; any other node queues it until the token arrives.
//! * Param `laps` chooses between two modes:
//!   - `laps ≥ 1` (automatic, used by simulations): a node that receives the token
//!     originates everything it has queued and passes the token on at once. The token
//!     starts at `holder`, goes round the ring `laps` times and then **rests at
//!     `holder`**. Only `holder` counts the token's returns; the others always pass
//!     it on, so exactly `laps · n` TOKEN messages are sent.
//!   - `laps = 0` (manual, TP3's `menu_send`, for the interactive console): a node keeps
//!     the token until it is told [`Input::Release`].
//! * [`Input::Release`] passes a held token to the successor. In automatic mode the only
//!   node that can hold the token when an input arrives is the resting `holder`, and a
//!   release there sends the token round **one more lap** (it rests at `holder` again);
//!   in manual mode it moves the token one hop. Each effective release outputs
//!   `release`, which keeps the TOKEN count exact: `n·(laps + releases)` in automatic
//!   mode, `releases` in manual mode.
//!
//! **How many laps flush the workload.** The workload queues every send at time 0, and
//! a node sends what it has queued *before* deciding whether the token rests. Every
//! node but the holder is first visited after a positive delay, when its sends are
//! already queued; the holder may pass the token on at its start, before its own inputs
//! arrive, but sends them when the token comes back at the end of the lap. So one lap
//! flushes the workload whenever every input is applied before the token's first visit
//! at its node (the simulator: starts, then inputs, at time 0, and positive delays). The
//! default `laps = 2` adds a margin for engines that apply inputs later, such as a model
//! checker interleaving inputs with deliveries: any send input applied before the
//! token's *last* visit at its node is served.
//!
//! **Pitfalls.**
//! * A real token ring never stops; a simulation needs quiescence, hence `laps`. An
//!   engine that interleaves inputs freely with deliveries (a model checker) may apply a
//!   send input after the token has come to rest: that send then waits forever, and the
//!   terminal property rightly reports it. Raise `laps` for such engines.
//! * Relaying is not originating: a node without the token still forwards data that is
//!   not addressed to it, otherwise nothing would ever cross the ring.
//! * A data message's hop count must equal the ring distance from its origin to its
//!   destination; the terminal property checks it, so a message that overshoots or
//!   loops is caught even though the DATA count would still add up. (On a real network
//!   a relay also drops a message addressed to no node, or that has already made `n`
//!   hops, rather than let a faulty peer's message circle forever.)
//!
//! **Properties.** "exactly one token" (nodes holding it + TOKEN messages in transit = 1)
//! after every event; at quiescence, "every data message reached its destination exactly
//! once" (and no send is still queued).
//!
//! **Costs.** TOKEN = `laps·n` (plus releases, see above); DATA = Σ ring distances from
//! origin to destination (each delivery outputs `hops`), whose mean is `n/2` per message
//! for uniformly random destinations.

use rand::Rng as _;
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Command, Context, Expectation, Invariant, Message, NodeId, NodeSetup,
    OutputValue, ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Terminal, WorkloadSetup,
    World, TO_AND_TEXT,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The algorithm's parameters.
const PARAMS: &[ParamSpec] = &[
    ParamSpec::node("holder", "0", "the node that starts with the token (and where it rests)"),
    ParamSpec::int(
        "laps",
        "2",
        0,
        u32::MAX as i64,
        "laps the token makes before resting at the holder; 0 = manual: a node keeps the token until `release`",
    ),
    ParamSpec::int("sends", "3", 0, 100_000, "data messages each node sends (workload), to random destinations"),
];

/// A message on the ring.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// The token: whoever receives it may originate data messages.
    Token,
    /// A data message on its way from `origin` to `dest`.
    Data {
        /// The node that originated it.
        origin: NodeId,
        /// Its number among the messages `origin` originated, from 0.
        seq: u32,
        /// Where it is going.
        dest: NodeId,
        /// Ring hops travelled so far, including the one that delivers this copy.
        hops: u32,
        /// The content.
        text: String,
    },
}

/// Requests from outside: the console's `send PORT TEXT` and `release`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Send `text` to `to` (originated when this node holds the token).
    Send {
        /// The destination.
        to: NodeId,
        /// The content.
        text: String,
    },
    /// Pass the token to the successor now (ignored when this node does not hold it).
    Release,
}

/// A send waiting for the token.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Queued {
    /// The destination.
    pub to: NodeId,
    /// The content.
    pub text: String,
}

/// A data message this node delivered.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Delivered {
    /// Who originated it.
    pub origin: NodeId,
    /// Its number at the origin.
    pub seq: u32,
    /// How many hops it travelled.
    pub hops: u32,
}

/// One node of the token ring.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The ring's size.
    pub n: u32,
    /// Where the token starts and rests (param `holder`).
    pub holder: NodeId,
    /// Laps before the token rests; 0 = manual mode (param `laps`).
    pub laps: u32,
    /// TP3's `token_held`.
    pub has_token: bool,
    /// At `holder` only: how many times the token came back (completed laps).
    pub laps_done: u32,
    /// Sends waiting for the token, in the order they were asked for.
    pub queue: VecDeque<Queued>,
    /// The destination of every data message this node originated, by sequence number
    /// (kept so the terminal property can check each one arrived where it should).
    pub sent_to: Vec<NodeId>,
    /// The data messages delivered here.
    pub delivered: Vec<Delivered>,
}

impl Node {
    /// The ring distance from `a` to `b` following the ring's direction.
    fn distance(n: u32, a: NodeId, b: NodeId) -> u32 {
        (b.0 + n - a.0) % n
    }

    /// This node's successor: the ring topology's only out-neighbour.
    fn successor(ctx: &Context<'_, Msg>) -> Option<NodeId> {
        ctx.neighbours().get(0)
    }

    /// Originates a data message: one hop to the successor, which relays it onward.
    fn originate(&mut self, to: NodeId, text: String, ctx: &mut Context<'_, Msg>) {
        let Some(next) = Self::successor(ctx) else {
            ctx.log("no successor on this topology: cannot send");
            return;
        };
        let seq = self.sent_to.len() as u32;
        self.sent_to.push(to);
        ctx.send(next, Msg::Data { origin: self.me, seq, dest: to, hops: 1, text });
    }

    /// Sends everything queued; only called while holding the token.
    fn flush(&mut self, ctx: &mut Context<'_, Msg>) {
        while let Some(q) = self.queue.pop_front() {
            self.originate(q.to, q.text, ctx);
        }
    }

    /// Gives the token to the successor.
    fn pass_token(&mut self, ctx: &mut Context<'_, Msg>) {
        let Some(next) = Self::successor(ctx) else {
            ctx.log("no successor on this topology: the token stays here");
            return;
        };
        self.has_token = false;
        ctx.send(next, Msg::Token);
    }

    /// The token just arrived (or, at `holder`, the run just started): send what is
    /// queued, then pass it on unless it must rest here or wait for `release`.
    fn got_token(&mut self, ctx: &mut Context<'_, Msg>) {
        self.has_token = true;
        self.flush(ctx);
        if self.laps == 0 {
            ctx.log("holding the token until `release`");
            return;
        }
        // Only the holder decides when the token stops: everyone else always passes it,
        // so the number of TOKEN messages is a whole number of laps.
        if self.me == self.holder && self.laps_done >= self.laps {
            return;
        }
        self.pass_token(ctx);
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.me == NodeId(0) && self.holder.0 >= self.n {
            ctx.log(format!(
                "param holder={} but there are only {} nodes: nobody holds the token",
                self.holder, self.n
            ));
        }
        // The holder's token is part of the initial state (see `init`), so that the
        // "exactly one token" count already holds before anything starts.
        if self.has_token {
            self.got_token(ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Token => {
                if self.me == self.holder {
                    self.laps_done = self.laps_done.saturating_add(1);
                }
                self.got_token(ctx);
            }
            Msg::Data { origin, seq, dest, hops, text } => {
                if dest == self.me {
                    self.delivered.push(Delivered { origin, seq, hops });
                    ctx.output("hops", hops);
                    ctx.log(format!("received from {origin}: {text}"));
                } else if dest.0 >= self.n || hops >= self.n {
                    // Only reachable from a faulty peer on a real network: a message for no
                    // node, or one that has already passed every node, would circle forever.
                    ctx.log(format!(
                        "dropped data {origin}#{seq} for {dest} after {hops} hops: no such node on the ring"
                    ));
                } else if let Some(next) = Self::successor(ctx) {
                    // Relaying needs no token: the token only grants the right to originate.
                    ctx.send(next, Msg::Data { origin, seq, dest, hops: hops + 1, text });
                }
            }
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        match input {
            Input::Send { to, text } => {
                if to.0 >= self.n || to == self.me {
                    ctx.log(format!("cannot send to {to}: destinations are the other nodes 0..{}", self.n));
                } else if self.has_token {
                    self.originate(to, text, ctx);
                } else {
                    self.queue.push_back(Queued { to, text });
                }
            }
            Input::Release => {
                if self.has_token {
                    ctx.output("release", 1);
                    self.pass_token(ctx);
                } else {
                    ctx.log("release: this node does not hold the token");
                }
            }
        }
    }
}

/// The token ring (TP3). See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct TokenRing {
    holder: u32,
    laps: u32,
    sends: u32,
}

/// Checks "every data message reached its destination exactly once".
fn all_delivered(w: &World<'_, Node>) -> Result<(), String> {
    let n = w.nodes.len() as u32;
    for node in w.nodes {
        if !node.queue.is_empty() {
            return Err(format!("node {} still has {} send(s) waiting for the token", node.me, node.queue.len()));
        }
    }
    let mut seen: Vec<Vec<bool>> = w.nodes.iter().map(|s| vec![false; s.sent_to.len()]).collect();
    for (at, node) in w.nodes.iter().enumerate() {
        let at = NodeId(at as u32);
        for d in &node.delivered {
            let Some(slot) = seen.get_mut(d.origin.index()).and_then(|v| v.get_mut(d.seq as usize)) else {
                return Err(format!("node {at} delivered message {}#{} that was never sent", d.origin, d.seq));
            };
            if *slot {
                return Err(format!("message {}#{} was delivered twice", d.origin, d.seq));
            }
            *slot = true;
            let dest = w.nodes[d.origin.index()].sent_to[d.seq as usize];
            if dest != at {
                return Err(format!("message {}#{} for {dest} was delivered at {at}", d.origin, d.seq));
            }
            let dist = Node::distance(n, d.origin, at);
            if d.hops != dist {
                return Err(format!(
                    "message {}#{} took {} hops for a ring distance of {dist}",
                    d.origin, d.seq, d.hops
                ));
            }
        }
    }
    for (origin, v) in seen.iter().enumerate() {
        if let Some(seq) = v.iter().position(|&s| !s) {
            return Err(format!("message {origin}#{seq} never reached its destination"));
        }
    }
    Ok(())
}

impl Algorithm for TokenRing {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "token-ring",
            chapter: Chapter::Communication,
            summary: "TP3: only the token holder originates messages, which travel hop by hop along the ring",
            params: PARAMS,
            topologies: &["ring"],
            default_nodes: 5,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[
                Command {
                    word: "send",
                    variant: "Send",
                    args: TO_AND_TEXT,
                    help: "send TEXT to one node, hop by hop around the ring, once this node holds the token",
                },
                Command { word: "release", variant: "Release", args: &[], help: "pass the token on now" },
            ],
            spans: &[],
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(TokenRing { holder: params.get("holder")?, laps: params.get("laps")?, sends: params.get("sends")? })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            n: setup.n as u32,
            holder: NodeId(self.holder),
            laps: self.laps,
            has_token: setup.me.0 == self.holder,
            laps_done: 0,
            queue: VecDeque::new(),
            sent_to: Vec::new(),
            delivered: Vec::new(),
        }
    }

    /// `sends` messages per node, to destinations drawn uniformly among the other nodes,
    /// all queued at time 0 (see "How many laps flush the workload" in the module
    /// documentation).
    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        let n = setup.n as u32;
        if n < 2 {
            return Vec::new();
        }
        let mut inputs = Vec::with_capacity(setup.n * self.sends as usize);
        for i in 0..n {
            for k in 0..self.sends {
                // Uniform over the n−1 other nodes: draw an offset in 1..n.
                let to = NodeId((i + rng.gen_range(1..n)) % n);
                inputs.push(ScheduledInput {
                    at: 0.0,
                    node: NodeId(i),
                    input: Input::Send { to, text: format!("hello #{k} from {i}") },
                });
            }
        }
        inputs
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![Invariant::<Node>::count(
                "exactly one token",
                |s| s.has_token as u64,
                |m| matches!(m, Msg::Token) as u64,
                1,
                1,
            )],
            terminal: vec![Terminal::<Node>::new(
                "every data message reached its destination exactly once",
                all_delivered,
            )],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let n = facts.n as f64;
        let releases = facts.output_count("release") as f64;
        let (token, formula) = if self.laps == 0 {
            (releases, "releases (manual mode: one hop per release)".to_string())
        } else if releases == 0.0 {
            (n * self.laps as f64, "laps·n".to_string())
        } else {
            (n * (self.laps as f64 + releases), "(laps + releases)·n".to_string())
        };
        let hops: f64 = facts
            .outputs
            .get("hops")
            .map(|m| m.iter().map(|(v, c)| if let OutputValue::Int(h) = v { *h as f64 * *c as f64 } else { 0.0 }).sum())
            .unwrap_or(0.0);
        // Mean ring distance to a uniformly random other node: (1 + … + n−1)/(n−1) = n/2.
        let mean = n * self.sends as f64 * n / 2.0;
        vec![
            Expectation::exact("TOKEN", formula, token),
            Expectation::exact("DATA", "Σ ring distances origin → destination", hops),
            Expectation::reference("DATA", "sends·n·n/2 (mean ring distance n/2)", mean),
            Expectation::exact("total", "TOKEN + DATA", token + hops),
        ]
    }
}

#[cfg(test)]
#[path = "token_ring_tests.rs"]
mod tests;

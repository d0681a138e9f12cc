//! Small correct algorithms, written here so that their state spaces can be counted by
//! hand or by an enumerator in the tests, independently of the checker.

use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params,
    Process, Properties, Terminal, World,
};
use serde::{Deserialize, Serialize};

fn spec(name: &'static str, params: &'static [ParamSpec], summary: &'static str) -> AlgorithmSpec {
    AlgorithmSpec {
        name,
        chapter: Chapter::Communication,
        summary,
        params,
        topologies: &["ring"],
        default_nodes: 2,
        needs_fifo: false,
        reads_clocks: false,
        reads_physical_clock: false,
        commands: &[],
        spans: &[],
    }
}

// ---------------------------------------------------------------------------------------
// Ping-pong: node 0 sends PING(1) to node 1, which answers PONG(1); node 0 then sends
// PING(2), and so on for `trips` round trips. One message is ever in flight, so the
// reachable states form a line: 2·trips + 1 of them.

/// Ping-pong between the two nodes of a 2-ring, `trips` round trips.
pub struct PingPong {
    pub trips: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct PpNode {
    me: u32,
    trips: u32,
    /// Node 0: pongs received; node 1: pings received.
    pub count: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum PpMsg {
    Ping(u32),
    Pong(u32),
}

impl Message for PpMsg {
    fn kinds() -> &'static [&'static str] {
        &["PING", "PONG"]
    }
    fn kind(&self) -> usize {
        match self {
            PpMsg::Ping(_) => 0,
            PpMsg::Pong(_) => 1,
        }
    }
}

impl Process for PpNode {
    type Msg = PpMsg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, PpMsg>) {
        if self.me == 0 && self.trips > 0 {
            ctx.send(NodeId(1), PpMsg::Ping(1));
        }
    }

    fn on_message(&mut self, from: NodeId, msg: PpMsg, ctx: &mut Context<'_, PpMsg>) {
        match msg {
            PpMsg::Ping(k) => {
                self.count = k;
                ctx.send(from, PpMsg::Pong(k));
            }
            PpMsg::Pong(k) => {
                self.count = k;
                if k < self.trips {
                    ctx.send(from, PpMsg::Ping(k + 1));
                }
            }
        }
    }
}

const PP_PARAMS: &[ParamSpec] = &[ParamSpec::int("trips", "2", 0, 1000, "round trips")];

impl Algorithm for PingPong {
    type Node = PpNode;

    fn spec() -> AlgorithmSpec {
        spec("test-ping-pong", PP_PARAMS, "two nodes, k round trips")
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(PingPong { trips: params.get("trips")? })
    }

    fn init(&self, setup: &NodeSetup) -> PpNode {
        PpNode { me: setup.me.0, trips: self.trips, count: 0 }
    }

    fn properties(&self) -> Properties<PpNode> {
        Properties {
            invariants: vec![Invariant::<PpNode>::count("at most one message in flight", |_| 0, |_| 1, 0, 1)],
            terminal: vec![Terminal::<PpNode>::new("every round trip was made", pp_done)],
        }
    }
}

fn pp_done(w: &World<'_, PpNode>) -> Result<(), String> {
    match w.nodes.iter().find(|s| s.count != s.trips) {
        None => Ok(()),
        Some(s) => Err(format!("node {} counted {} of {}", s.me, s.count, s.trips)),
    }
}

// ---------------------------------------------------------------------------------------
// A token ring with data: node 0 starts with the token. Whoever gets the token sends one
// DATA to its successor, then passes the TOKEN on (DATA first, on the same channel).
// Node 0 counts the token's returns and keeps it after `rounds` laps. A DATA only bumps
// its receiver's counter. Several identical DATA can wait on one channel, and on an
// unordered network the TOKEN can overtake them.

/// The test token ring, `rounds` laps.
pub struct ToyRing {
    pub rounds: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct RingNode {
    pub me: u32,
    pub rounds: u32,
    pub has_token: bool,
    /// Node 0 only: the token's returns.
    pub laps: u32,
    /// DATA received.
    pub got: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum RingMsg {
    Token,
    Data,
}

impl Message for RingMsg {
    fn kinds() -> &'static [&'static str] {
        &["TOKEN", "DATA"]
    }
    fn kind(&self) -> usize {
        match self {
            RingMsg::Token => 0,
            RingMsg::Data => 1,
        }
    }
}

impl RingNode {
    fn pass(&mut self, ctx: &mut Context<'_, RingMsg>) {
        let next = ctx.neighbours().get(0).expect("a ring");
        ctx.send(next, RingMsg::Data);
        ctx.send(next, RingMsg::Token);
        self.has_token = false;
    }
}

impl Process for RingNode {
    type Msg = RingMsg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, RingMsg>) {
        if self.has_token && self.rounds > 0 {
            self.pass(ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: RingMsg, ctx: &mut Context<'_, RingMsg>) {
        match msg {
            RingMsg::Data => self.got += 1,
            RingMsg::Token => {
                self.has_token = true;
                if self.me == 0 {
                    self.laps += 1;
                    if self.laps >= self.rounds {
                        return;
                    }
                }
                self.pass(ctx);
            }
        }
    }
}

const RING_PARAMS: &[ParamSpec] = &[ParamSpec::int("rounds", "1", 0, 1000, "laps of the token")];

impl Algorithm for ToyRing {
    type Node = RingNode;

    fn spec() -> AlgorithmSpec {
        spec("test-token-ring", RING_PARAMS, "a token and one DATA per hop, k laps")
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(ToyRing { rounds: params.get("rounds")? })
    }

    fn init(&self, setup: &NodeSetup) -> RingNode {
        RingNode { me: setup.me.0, rounds: self.rounds, has_token: setup.me.0 == 0, laps: 0, got: 0 }
    }

    fn properties(&self) -> Properties<RingNode> {
        Properties {
            invariants: vec![Invariant::<RingNode>::count(
                "exactly one token",
                |s| s.has_token as u64,
                |m| matches!(m, RingMsg::Token) as u64,
                1,
                1,
            )],
            terminal: vec![Terminal::<RingNode>::new("every node got one DATA per lap", ring_done)],
        }
    }
}

fn ring_done(w: &World<'_, RingNode>) -> Result<(), String> {
    if !w.nodes[0].has_token {
        return Err("the token is not back at node 0".into());
    }
    match w.nodes.iter().find(|s| s.got != s.rounds) {
        None => Ok(()),
        Some(s) => Err(format!("node {} got {} DATA for {} laps", s.me, s.got, s.rounds)),
    }
}

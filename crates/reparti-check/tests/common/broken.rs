//! Deliberately broken algorithms: each breaks one safety property, and the checker
//! must say so with a counterexample that the simulator replays to the same violation.
//! They use their own node and message types, and declare their own properties.

use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params,
    Process, Properties, ScheduledInput, Terminal, Timer, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};

fn spec(name: &'static str, chapter: Chapter, topology: &'static str, params: &'static [ParamSpec]) -> AlgorithmSpec {
    AlgorithmSpec {
        name,
        chapter,
        summary: "deliberately broken, for the checker's tests",
        params,
        topologies: match topology {
            "ring" => &["ring"],
            _ => &["complete"],
        },
        default_nodes: 3,
        needs_fifo: false,
        reads_clocks: false,
        reads_physical_clock: false,
        commands: &[],
        spans: &[],
    }
}

// ---------------------------------------------------------------------------------------
// Chang–Roberts that forwards a smaller identity instead of swallowing it: every identity
// then comes home, and every node declares itself leader.

pub const AT_MOST_ONE_LEADER: &str = "at most one leader (broken CR)";

pub struct ForwardingCr;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum CrRole {
    Candidate,
    Lost,
    Leader,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct CrNode {
    id: u64,
    participant: bool,
    role: CrRole,
    leader: Option<u64>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum CrMsg {
    Elect(u64),
    Elected(u64),
}

impl Message for CrMsg {
    fn kinds() -> &'static [&'static str] {
        &["ELECT", "ELECTED"]
    }
    fn kind(&self) -> usize {
        match self {
            CrMsg::Elect(_) => 0,
            CrMsg::Elected(_) => 1,
        }
    }
}

fn next(ctx: &Context<'_, impl Clone>) -> NodeId {
    ctx.neighbours().get(0).expect("a ring")
}

impl Process for CrNode {
    type Msg = CrMsg;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, CrMsg>) {
        self.participant = true;
        ctx.send(next(ctx), CrMsg::Elect(self.id));
    }

    fn on_message(&mut self, _from: NodeId, msg: CrMsg, ctx: &mut Context<'_, CrMsg>) {
        match msg {
            CrMsg::Elect(x) if x > self.id => {
                self.participant = true;
                self.role = CrRole::Lost;
                ctx.send(next(ctx), CrMsg::Elect(x));
            }
            // THE BUG: a smaller identity should be swallowed; it is passed on.
            CrMsg::Elect(x) if x < self.id => ctx.send(next(ctx), CrMsg::Elect(x)),
            CrMsg::Elect(_) => {
                self.role = CrRole::Leader;
                self.leader = Some(self.id);
                ctx.send(next(ctx), CrMsg::Elected(self.id));
            }
            CrMsg::Elected(x) if x != self.id => {
                self.leader = Some(x);
                self.role = CrRole::Lost;
                ctx.send(next(ctx), CrMsg::Elected(x));
            }
            CrMsg::Elected(_) => {}
        }
    }
}

impl Algorithm for ForwardingCr {
    type Node = CrNode;

    fn spec() -> AlgorithmSpec {
        spec("test-broken-cr-forwarding", Chapter::Election, "ring", &[])
    }

    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(ForwardingCr)
    }

    fn init(&self, setup: &NodeSetup) -> CrNode {
        CrNode { id: setup.ident, participant: false, role: CrRole::Candidate, leader: None }
    }

    fn properties(&self) -> Properties<CrNode> {
        Properties {
            invariants: vec![Invariant::<CrNode>::count(
                AT_MOST_ONE_LEADER,
                |s| (s.role == CrRole::Leader) as u64,
                |_| 0,
                0,
                1,
            )],
            terminal: vec![Terminal::<CrNode>::new("everyone knows the maximum (broken CR)", cr_knows_max)],
        }
    }
}

fn cr_knows_max(w: &World<'_, CrNode>) -> Result<(), String> {
    let max = w.idents.iter().copied().max();
    match w.nodes.iter().position(|s| s.leader != max) {
        None => Ok(()),
        Some(i) => Err(format!("node {i} knows {:?}", w.nodes[i].leader)),
    }
}

// ---------------------------------------------------------------------------------------
// A token ring whose nodes "regenerate" the token when a timer says it has been away too
// long, which on an asynchronous network only means it is slow: two tokens.

pub const EXACTLY_ONE_TOKEN: &str = "exactly one token (broken ring)";
const LOST: Timer = "token-lost";

pub struct RegenRing;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct RegenNode {
    me: u32,
    has_token: bool,
    laps: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Token;

impl Message for Token {
    fn kinds() -> &'static [&'static str] {
        &["TOKEN"]
    }
    fn kind(&self) -> usize {
        0
    }
}

impl RegenNode {
    fn pass(&mut self, ctx: &mut Context<'_, Token>) {
        self.has_token = false;
        ctx.send(next(ctx), Token);
    }
}

impl Process for RegenNode {
    type Msg = Token;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Token>) {
        if self.has_token {
            self.pass(ctx);
        }
    }

    fn on_message(&mut self, _from: NodeId, _msg: Token, ctx: &mut Context<'_, Token>) {
        ctx.cancel_timer(LOST);
        self.has_token = true;
        if self.me == 0 {
            self.laps += 1;
            if self.laps >= 2 {
                return;
            }
        }
        self.pass(ctx);
        // Expect the token back within 10 time units...
        ctx.set_timer(LOST, 10.0);
    }

    fn on_timer(&mut self, _timer: Timer, _ctx: &mut Context<'_, Token>) {
        // THE BUG: ...or assume it was lost and make a new one.
        self.has_token = true;
    }
}

impl Algorithm for RegenRing {
    type Node = RegenNode;

    fn spec() -> AlgorithmSpec {
        spec("test-broken-token-regen", Chapter::Communication, "ring", &[])
    }

    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(RegenRing)
    }

    fn init(&self, setup: &NodeSetup) -> RegenNode {
        RegenNode { me: setup.me.0, has_token: setup.me.0 == 0, laps: 0 }
    }

    fn properties(&self) -> Properties<RegenNode> {
        Properties {
            invariants: vec![Invariant::<RegenNode>::count(EXACTLY_ONE_TOKEN, |s| s.has_token as u64, |_| 1, 1, 1)],
            terminal: vec![],
        }
    }
}

// ---------------------------------------------------------------------------------------
// Ricart–Agrawala that answers a REQUEST at once while in the critical section, instead
// of deferring it until it leaves.

pub const MUTEX: &str = "mutual exclusion (broken RA)";
const CS: Timer = "cs";

pub struct EagerRa {
    requests: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct RaNode {
    me: u32,
    id: u64,
    n: u32,
    highest: u64,
    my_ts: u64,
    requesting: bool,
    in_cs: bool,
    replies: u32,
    deferred: Vec<u32>,
    queued: u32,
    asked: u32,
    served: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum RaMsg {
    Request { ts: u64, id: u64 },
    Reply,
}

impl Message for RaMsg {
    fn kinds() -> &'static [&'static str] {
        &["REQUEST", "REPLY"]
    }
    fn kind(&self) -> usize {
        match self {
            RaMsg::Request { .. } => 0,
            RaMsg::Reply => 1,
        }
    }
}

impl RaNode {
    fn request(&mut self, ctx: &mut Context<'_, RaMsg>) {
        self.requesting = true;
        self.my_ts = self.highest + 1;
        self.highest = self.my_ts;
        self.replies = 0;
        for j in (0..self.n).filter(|&j| j != self.me) {
            ctx.send(NodeId(j), RaMsg::Request { ts: self.my_ts, id: self.id });
        }
        self.maybe_enter(ctx);
    }

    fn maybe_enter(&mut self, ctx: &mut Context<'_, RaMsg>) {
        if self.requesting && !self.in_cs && self.replies + 1 >= self.n {
            self.in_cs = true;
            ctx.set_timer(CS, 1.0);
        }
    }
}

impl Process for RaNode {
    type Msg = RaMsg;
    type Input = ();

    fn on_message(&mut self, from: NodeId, msg: RaMsg, ctx: &mut Context<'_, RaMsg>) {
        match msg {
            RaMsg::Request { ts, id } => {
                self.highest = self.highest.max(ts);
                let mine_first = self.requesting && (self.my_ts, self.id) < (ts, id);
                // THE BUG: in the critical section it answers at once.
                if self.in_cs || !mine_first {
                    ctx.send(from, RaMsg::Reply);
                } else {
                    self.deferred.push(from.0);
                }
            }
            RaMsg::Reply => {
                if self.requesting && !self.in_cs {
                    self.replies += 1;
                    self.maybe_enter(ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, _timer: Timer, ctx: &mut Context<'_, RaMsg>) {
        if self.in_cs {
            self.in_cs = false;
            self.requesting = false;
            self.served += 1;
            for j in std::mem::take(&mut self.deferred) {
                ctx.send(NodeId(j), RaMsg::Reply);
            }
            if self.queued > 0 {
                self.queued -= 1;
                self.request(ctx);
            }
        }
    }

    fn on_input(&mut self, _input: (), ctx: &mut Context<'_, RaMsg>) {
        self.asked += 1;
        if self.requesting {
            self.queued += 1;
        } else {
            self.request(ctx);
        }
    }
}

const RA_PARAMS: &[ParamSpec] = &[ParamSpec::int("requests", "1", 0, 1000, "requests per node")];

impl Algorithm for EagerRa {
    type Node = RaNode;

    fn spec() -> AlgorithmSpec {
        spec("test-broken-ra-eager", Chapter::Mutex, "complete", RA_PARAMS)
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(EagerRa { requests: params.get("requests")? })
    }

    fn init(&self, setup: &NodeSetup) -> RaNode {
        RaNode {
            me: setup.me.0,
            id: setup.ident,
            n: setup.n as u32,
            highest: 0,
            my_ts: 0,
            requesting: false,
            in_cs: false,
            replies: 0,
            deferred: Vec::new(),
            queued: 0,
            asked: 0,
            served: 0,
        }
    }

    /// Each node's requests at times 1, 2, …: after time 0, so the checker interleaves them.
    fn workload(&self, setup: &WorkloadSetup<'_>, _rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<()>> {
        (0..setup.n as u32)
            .flat_map(|i| {
                (0..self.requests).map(move |k| ScheduledInput { at: 1.0 + k as f64, node: NodeId(i), input: () })
            })
            .collect()
    }

    fn properties(&self) -> Properties<RaNode> {
        Properties {
            invariants: vec![Invariant::<RaNode>::count(MUTEX, |s| s.in_cs as u64, |_| 0, 0, 1)],
            terminal: vec![Terminal::<RaNode>::new("every request was served (broken RA)", ra_served)],
        }
    }
}

fn ra_served(w: &World<'_, RaNode>) -> Result<(), String> {
    match w.nodes.iter().find(|s| s.served != s.asked || s.requesting || !s.deferred.is_empty()) {
        None => Ok(()),
        Some(s) => Err(format!("node {} asked {} and was served {}", s.me, s.asked, s.served)),
    }
}

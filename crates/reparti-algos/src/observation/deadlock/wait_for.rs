//! # Wait-for: processes that wait for one another's resources (AND model)
//!
//! **What.** Each process holds a resource and needs the resources of some others: it
//! sends them a REQUEST and is *blocked* until every one has sent a GRANT (the AND
//! model). A process that is not blocked — it needs nothing, has not asked yet, or got
//! every grant — grants each request it holds, at once. The wait-for graph (WFG) has an
//! edge `i → j` while i waits for j's grant. If the graph has a cycle, the processes on
//! it wait for ever: a *deadlock*, and whoever waits on them is stuck too; if it has no
//! cycle, the run drains. The application Chandy–Misra–Haas's detector observes.
//!
//! **Source.** The AND model of K. M. Chandy, J. Misra and L. M. Haas, "Distributed
//! deadlock detection", *ACM TOCS* 1(2):144–156, 1983 (§2: a process is blocked until
//! it has all the resources it asked for; a deadlock is a cycle of the WFG, and it is
//! stable); the same model in A. D. Kshemkalyani and M. Singhal, *Distributed
//! Computing*, Cambridge University Press, 2008, ch. 10.
//!
//! ```text
//! ask():             for j ∈ wants: send REQUEST to j;  waiting := wants
//! on REQUEST from j: if waiting = ∅: send GRANT to j  else owes += j
//! on GRANT from k:   waiting −= k;  if waiting = ∅: for j ∈ owes: send GRANT to j;  owes := ∅
//! ```
//!
//! **How it runs here.** The graph is the parameter `wfg`: edges `FROM>TO` separated
//! by commas (`0>1,1>2,2>0,3>1`: a cycle of three and a tail), or drawn from `wfg_seed`
//! as `cycle` (a cycle of 2 to 4 processes, the others waiting on at most one process
//! each), `acyclic` (edges only forward in a random order) or `random` (each process
//! waits on zero, one or two others: a cycle or not). With `requests=at-start` (the
//! default) every process asks at its start, so the WFG is exactly the given graph; with
//! `requests=staggered` each one asks at a time drawn in [0, 4) (a workload input; the
//! console's `request`), granting at once until then, so the graph changes as the run
//! goes: a process that granted may block later — what makes a false deadlock possible
//! for a careless detector. The complete topology (any process may wait on any other).
//! Outputs: `blocked` (how many it waits for) when it asks, `unblocked` at its last
//! grant.
//!
//! **Pitfalls.**
//! * A process must not grant while it is blocked: it would lend a resource it needs.
//!   The invariant "a process that is not blocked owes no grant" is the other half: one
//!   that is free never sits on a request.
//! * A grant in transit ends the edge: the granter has let go. The true WFG counts
//!   `i → j` from i's REQUEST until j's GRANT is *sent*.
//! * A cyclic graph need not deadlock when requests are staggered: the last process of
//!   the cycle may grant its predecessor before it asks.
//!
//! **Properties.** After every event: "a process that is not blocked owes no grant". At
//! the end: every process asked; those still blocked wait only on blocked processes
//! (a cycle is reachable from each); with `requests=at-start`, the blocked ones are
//! exactly those from which a cycle of the WFG is reachable — an acyclic WFG drains.
//!
//! **Costs.** One REQUEST per edge: |E|. One GRANT per request granted: with
//! `requests=at-start`, |E| minus the edges into processes that reach a cycle (those
//! never grant); staggered, at most |E|.
//!
//! **State count.** `reparti check wait-for -n 3`: `wfg=0>1,1>2,2>0`, 8 states (94
//! staggered); `wfg=0>1,1>2,0>2`, 21 (46 staggered).

use super::{reaches_cycle, Edges, Waits};
use rand::seq::SliceRandom;
use rand::Rng as _;
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Command, Context, Expectation, Invariant, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Terminal, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The local invariant.
pub const FREE_OWES_NOTHING: &str = "a process that is not blocked owes no grant";
/// The terminal property.
pub const DRAINED: &str = "at the end only processes that reach a WFG cycle are blocked (an acyclic WFG drains)";
/// Output when a process asks; its value is how many it waits for.
pub const BLOCKED: &str = "blocked";
/// Output when the last grant arrives (value 1).
pub const UNBLOCKED: &str = "unblocked";

const PARAMS: &[ParamSpec] = &[
    ParamSpec::text(
        "wfg",
        "cycle",
        "the wait-for graph: cycle, acyclic or random (drawn from wfg_seed), or edges FROM>TO like 0>1,1>2,2>0,3>1",
    ),
    ParamSpec::int("wfg_seed", "1", 0, 1 << 40, "the seed a cycle, acyclic or random graph is drawn from"),
    ParamSpec::choice(
        "requests",
        "at-start",
        &["at-start", "staggered"],
        "at-start: every process asks at its start (the WFG is the graph); staggered: at a time drawn in [0, 4)",
    ),
];

const COMMANDS: &[Command] = &[Command {
    word: "request",
    variant: "Request",
    args: &[],
    help: "send this process's requests now (requests=staggered)",
}];

/// The messages.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// The sender waits for the receiver's resource.
    Request,
    /// The receiver may go on: the sender no longer holds it up.
    Grant,
}

/// Requests from outside: ask now (staggered requests, the console's `request`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Send this process's requests.
    Request,
}

/// One process.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// Its position.
    pub me: NodeId,
    /// Whom it will ask: its edges of the given graph.
    pub wants: BTreeSet<NodeId>,
    /// Whether it asks at its start (`requests=at-start`), else on its input.
    pub at_start: bool,
    /// Whether it asked.
    pub requested: bool,
    /// Asked and not yet granted: its outgoing WFG edges.
    pub waiting: BTreeSet<NodeId>,
    /// Requests received and not yet granted.
    pub owes: BTreeSet<NodeId>,
    /// Requests granted.
    pub granted: BTreeSet<NodeId>,
}

impl Node {
    fn ask(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.requested {
            ctx.log("already asked: a process asks once");
            return;
        }
        self.requested = true;
        for &j in &self.wants {
            ctx.send(j, Msg::Request);
        }
        self.waiting = self.wants.clone();
        if !self.waiting.is_empty() {
            let list: Vec<String> = self.wants.iter().map(ToString::to_string).collect();
            ctx.log(format!("asks {}: blocked until every one grants", list.join(", ")));
            ctx.output(BLOCKED, self.wants.len());
        }
    }

    fn grant(&mut self, j: NodeId, ctx: &mut Context<'_, Msg>) {
        self.granted.insert(j);
        ctx.send(j, Msg::Grant);
    }
}

impl Waits for Node {
    fn waits_for(&self) -> &BTreeSet<NodeId> {
        &self.waiting
    }
    fn owes(&self) -> &BTreeSet<NodeId> {
        &self.owes
    }
    fn granted(&self) -> &BTreeSet<NodeId> {
        &self.granted
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        // A process that needs nothing has nothing to ask, whatever the mode.
        if self.wants.is_empty() {
            self.requested = true;
        } else if self.at_start {
            self.ask(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Request if self.blocked() => {
                self.owes.insert(from);
                ctx.log(format!("{from} waits for me; blocked, I hold its request"));
            }
            Msg::Request => self.grant(from, ctx),
            Msg::Grant => {
                if !self.waiting.remove(&from) {
                    ctx.log(format!("GRANT from {from}, whom I do not wait for: ignored"));
                    return;
                }
                if self.waiting.is_empty() {
                    ctx.output(UNBLOCKED, 1);
                    for j in std::mem::take(&mut self.owes) {
                        self.grant(j, ctx);
                    }
                }
            }
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        let Input::Request = input;
        self.ask(ctx);
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        let r = |s: &mut BTreeSet<NodeId>| *s = std::mem::take(s).into_iter().map(|k| map[k.index()]).collect();
        self.me = map[self.me.index()];
        r(&mut self.wants);
        r(&mut self.waiting);
        r(&mut self.owes);
        r(&mut self.granted);
    }
}

/// How the graph is chosen (param `wfg`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Graph {
    /// A cycle of 2 to 4 processes, the others waiting on at most one each.
    Cycle,
    /// Edges only forward in a random order.
    Acyclic,
    /// Each process waits on zero, one or two others.
    Random,
    /// The edges given.
    Given(Vec<(u32, u32)>),
}

/// The application. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct WaitFor {
    /// The graph.
    pub graph: Graph,
    /// The seed a drawn graph comes from.
    pub seed: u64,
    /// Whether requests are staggered (else all at start).
    pub staggered: bool,
}

/// Parses `wfg`: a shape's name or an edge list; `Err` is one line.
pub fn parse_graph(text: &str) -> Result<Graph, String> {
    match text.trim() {
        "cycle" => return Ok(Graph::Cycle),
        "acyclic" => return Ok(Graph::Acyclic),
        "random" => return Ok(Graph::Random),
        _ => {}
    }
    let mut edges = Vec::new();
    for part in text.split(',').map(str::trim) {
        let parsed = part
            .split_once('>')
            .and_then(|(a, b)| Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?)));
        let Some((a, b)) = parsed else {
            return Err(format!(
                "'{part}' is not an edge: write FROM>TO separated by commas (0>1,1>2,2>0), or cycle, acyclic or random"
            ));
        };
        if a == b {
            return Err(format!("{a}>{b} is a self-loop: a process never waits for itself"));
        }
        if edges.contains(&(a, b)) {
            return Err(format!("{a}>{b} is given twice"));
        }
        edges.push((a, b));
    }
    Ok(Graph::Given(edges))
}

impl WaitFor {
    /// The graph of an instance of `n` processes.
    pub fn edges(&self, n: usize) -> Edges {
        let mut rng = reparti_core::rng(self.seed);
        let node = |i: usize| NodeId(i as u32);
        let mut e = Edges::new();
        if n < 2 {
            return e;
        }
        let other = |rng: &mut reparti_core::Rng, i: usize| (i + rng.gen_range(1..n.max(2))) % n.max(1);
        match &self.graph {
            Graph::Given(list) => e.extend(
                list.iter()
                    .filter(|&&(a, b)| (a as usize) < n && (b as usize) < n)
                    .map(|&(a, b)| (NodeId(a), NodeId(b))),
            ),
            Graph::Acyclic => {
                let mut order: Vec<usize> = (0..n).collect();
                order.shuffle(&mut rng);
                for p in 0..n.saturating_sub(1) {
                    for _ in 0..rng.gen_range(0..=2usize) {
                        let q = rng.gen_range(p + 1..n);
                        e.insert((node(order[p]), node(order[q])));
                    }
                }
                if e.is_empty() && n >= 2 {
                    e.insert((node(order[0]), node(order[1])));
                }
            }
            Graph::Cycle => {
                let mut order: Vec<usize> = (0..n).collect();
                order.shuffle(&mut rng);
                let len = rng.gen_range(2..=n.clamp(2, 4));
                for k in 0..len.min(n) {
                    e.insert((node(order[k]), node(order[(k + 1) % len])));
                }
                for &i in &order[len.min(n)..] {
                    if rng.gen_bool(0.5) {
                        let j = other(&mut rng, i);
                        e.insert((node(i), node(j)));
                    }
                }
            }
            Graph::Random => {
                for i in 0..n {
                    let k = [0, 0, 1, 1, 1, 2][rng.gen_range(0..6)];
                    for _ in 0..k {
                        let j = other(&mut rng, i);
                        e.insert((node(i), node(j)));
                    }
                }
            }
        }
        e
    }
}

/// The graph the processes ask along: every process's `wants`.
pub fn request_graph(nodes: &[Node]) -> Edges {
    nodes.iter().flat_map(|s| s.wants.iter().map(move |&j| (s.me, j))).collect()
}

fn free_owes_nothing(s: &Node) -> Result<(), String> {
    match !s.blocked() && !s.owes.is_empty() {
        true => Err(format!("process {} is not blocked yet holds the requests of {:?}", s.me, s.owes)),
        false => Ok(()),
    }
}

fn drained(w: &World<'_, Node>, staggered: bool) -> Result<(), String> {
    if let Some(s) = w.nodes.iter().find(|s| !s.requested) {
        return Err(format!("process {} never asked", s.me));
    }
    for s in w.nodes.iter().filter(|s| s.blocked()) {
        if let Some(k) = s.waiting.iter().find(|k| w.nodes.get(k.index()).is_some_and(|q| !q.blocked())) {
            return Err(format!("process {} still waits for {k}, which is not blocked: its grant never came", s.me));
        }
    }
    if !staggered {
        let graph = request_graph(w.nodes);
        for s in w.nodes {
            let stuck = reaches_cycle(&graph, s.me);
            if stuck != s.blocked() {
                let why = if stuck { "reaches a cycle yet is not blocked" } else { "reaches no cycle yet is blocked" };
                return Err(format!("process {} {why}", s.me));
            }
        }
    }
    Ok(())
}

impl Algorithm for WaitFor {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["complete"],
            commands: COMMANDS,
            ..AlgorithmSpec::new(
                "wait-for",
                Chapter::Observation,
                "processes wait for one another's grants (AND model): a cycle of the wait-for graph deadlocks",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let text = params.raw("wfg").unwrap_or("cycle");
        let graph =
            parse_graph(text).map_err(|why| ParamError::Invalid { name: "wfg".into(), value: text.into(), why })?;
        Ok(WaitFor {
            graph,
            seed: params.get("wfg_seed")?,
            staggered: params.get::<String>("requests")? == "staggered",
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        if n < 2 {
            return Err(format!(
                "wait-for needs processes that wait for one another: give --nodes 2 or more (not {n})"
            ));
        }
        if let Graph::Given(list) = &self.graph {
            if let Some(&(a, b)) = list.iter().find(|&&(a, b)| a as usize >= n || b as usize >= n) {
                return Err(format!(
                    "wfg edge {a}>{b} names node {}, but the nodes are numbered 0 to {}",
                    a.max(b),
                    n - 1
                ));
            }
        }
        Ok(())
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let wants = self.edges(setup.n).into_iter().filter(|(a, _)| *a == setup.me).map(|(_, b)| b).collect();
        Node {
            me: setup.me,
            wants,
            at_start: !self.staggered,
            requested: false,
            waiting: BTreeSet::new(),
            owes: BTreeSet::new(),
            granted: BTreeSet::new(),
        }
    }

    /// Staggered: every process with requests asks at a time drawn uniformly in
    /// [0, 4). At start: none (they ask in their start handler).
    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        if !self.staggered {
            return Vec::new();
        }
        let edges = self.edges(setup.n);
        let askers: BTreeSet<NodeId> = edges.iter().map(|&(a, _)| a).collect();
        askers
            .into_iter()
            .map(|node| ScheduledInput { at: rng.gen::<f64>() * 4.0, node, input: Input::Request })
            .collect()
    }

    fn properties(&self) -> Properties<Node> {
        let staggered = self.staggered;
        Properties {
            invariants: vec![Invariant::<Node>::local(FREE_OWES_NOTHING, free_owes_nothing)],
            terminal: vec![Terminal::<Node>::new(DRAINED, move |w: &World<'_, Node>| drained(w, staggered))],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let edges = self.edges(facts.n);
        let m = edges.len() as f64;
        let mut expected = vec![Expectation::exact("REQUEST", "|E| (one per wait-for edge)", m)];
        if self.staggered {
            expected.push(Expectation::at_most("GRANT", "|E|", m));
            expected.push(Expectation::at_most("total", "2|E|", 2.0 * m));
        } else {
            let stuck = edges.iter().filter(|(_, b)| reaches_cycle(&edges, *b)).count() as f64;
            expected.push(Expectation::exact("GRANT", "|E| − edges into processes that reach a cycle", m - stuck));
            expected.push(Expectation::exact("total", "REQUEST + GRANT", 2.0 * m - stuck));
        }
        expected
    }
}

#[cfg(test)]
#[path = "wait_for_tests.rs"]
mod tests;

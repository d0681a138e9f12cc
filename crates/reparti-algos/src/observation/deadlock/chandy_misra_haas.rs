//! # Chandy–Misra–Haas (1983): deadlock detection by edge chasing, AND model
//!
//! **What.** A blocked process that suspects a deadlock sends a PROBE along each of its
//! wait-for edges. A blocked process that receives a probe over an edge that still
//! exists passes it on along its own edges, once per initiator. If the probe comes back
//! to its initiator, the initiator lies on a cycle of the wait-for graph: it is
//! deadlocked, and it declares so. No process ever sees the whole graph.
//!
//! **Source.** K. M. Chandy, J. Misra and L. M. Haas, "Distributed deadlock detection",
//! *ACM TOCS* 1(2):144–156, 1983 (the resource model, probes `(i, j, k)` and the array
//! `dependent_k(i)`); as A. D. Kshemkalyani and M. Singhal state it, *Distributed
//! Computing*, Cambridge University Press, 2008, §10.6 (the edge-chasing algorithm for
//! the AND model).
//!
//! ```text
//! initiate (i blocked):   for j ∈ waits_i: send PROBE(i, i, j)
//! on PROBE(i, j, k) at k: if ¬blocked_k ∨ k has granted j's request (edge j→k gone): discard
//!                         elif k = i: declare deadlock
//!                         elif ¬engaged_k[i]: engaged_k[i] := true
//!                                             for m ∈ waits_k: send PROBE(i, k, m)
//! ```
//!
//! **How it runs here.** Named `wait-for+chandy-misra-haas`: the [`wait_for`]
//! application runs unchanged underneath, its handlers lifted through the layer
//! ([`reparti_core::layer`]); the layer reads it through [`Waits`] only. The nodes listed
//! in `probe_initiators` (default all) initiate `probe_after` time units after they
//! block, if they are still blocked (a timer, so the checker tries every moment). A
//! probe carries its initiator and the initiation's number; its `j` and `k` are the
//! message's sender and receiver. `engaged_k` is a sorted map: initiator → (the latest
//! initiation seen, the probes this node sent for it). A declaration outputs `deadlock`
//! (the declarer's position) and logs the path's last edge; `initiated` is output by
//! each initiation. `probe_fault=no-edge-check` forwards a probe without checking that
//! the edge it came over still exists — the classic mistake.
//!
//! **Pitfalls.**
//! * Forwarding a probe over an edge that is gone (`probe_fault=no-edge-check`): k had
//!   granted j, then blocked on someone else. The probe stitches together edges that
//!   never existed at the same time, and a process declares a deadlock that is not
//!   there — a *phantom* deadlock. With `requests=staggered` the checker finds one: on
//!   `0>1,1>2,2>0`, node 2 grants 1, then asks 0; 0's old probe, passed on by 1, comes
//!   back through 2 while 0 still waits for 1 — but 1→2 is gone and the run drains.
//! * The edge check is only sound on FIFO channels: a probe that overtakes the REQUEST
//!   of the same edge finds no edge and is discarded, and a real deadlock goes
//!   undetected (the layer declares FIFO; `--network unordered` shows it).
//! * Without `engaged`, a probe circles a cycle that does not contain its initiator for
//!   ever; with it, each process forwards once per initiation.
//!
//! **Properties** (judged by the engine from the true WFG, [`super::true_wfg`], never
//! from the probes): *safety*, after every event: a process that declared lies on a
//! cycle of the WFG; *cost*, after every event: the probes of an initiation number at
//! most the WFG edges reachable from its initiator; *liveness*, at the end: an initiator
//! on a cycle declared — with `requests=at-start` every such initiator (the WFG only
//! loses edges, so it was on the cycle when it initiated); staggered, every cycle whose
//! processes all initiate has a declarer (the last of them to block was on the cycle
//! when it initiated; the others may have probed too early, which the literature
//! allows); the application's own properties, lifted.
//!
//! **Costs.** Each process forwards at most once per initiation, along its edges, so the
//! probes of one initiation are at most the WFG edges reachable from the initiator
//! (asserted per initiation, and summed as `PROBE ≤ Σ reachable edges`). Detection
//! takes one probe delay per edge of the cycle.
//!
//! **State count.** `reparti check wait-for+chandy-misra-haas -n 3 -p wfg=0>1,1>2,2>0`:
//! 337 states, every property and liveness holding; 2 processes waiting for each other,
//! 36; with the tail `3>1`, 2,950; the acyclic `0>1,1>2,0>2`, 434; the cycle with
//! `requests=staggered`, 3,378 (275 with node 0 the only initiator). With
//! `probe_fault=no-edge-check`, staggered, node 0 initiating: a phantom deadlock in 10
//! steps. On `--network unordered`, a deadlock of two goes undetected in 4.
//!
//! **Departures.** Process level, not site level: each process is its own controller,
//! so the paper's intra-site dependency bookkeeping and the textbook's site-level
//! figure (at most m(n−1)/2 messages for a deadlock of m processes over n sites) do not
//! apply; the bound above is the process-level one. A process blocks once here, so it
//! initiates at most once; the initiation number is kept for fidelity.

use super::wait_for::WaitFor;
use super::{edges_reachable, judge, Waits};
use reparti_core::layer::{app_expected, control_kinds_with, kinds_with, layered_spec};
use reparti_core::{
    lift_properties, Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Layer, Message, NodeId, NodeSetup,
    OutputValue, ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Symmetry, Terminal,
    Timer, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The suffix that names the application observed by Chandy–Misra–Haas.
pub const SUFFIX: &str = "+chandy-misra-haas";

/// Safety: a declaration is true.
pub const SAFETY: &str = "deadlock declared only by a process on a cycle of the true WFG";
/// Cost, per initiation.
pub const COST: &str = "probes of an initiation ≤ WFG edges reachable from its initiator";
/// Liveness.
pub const LIVENESS: &str = "an initiator on a WFG cycle declares deadlock";

/// Output when a process declares deadlock; its value is its position.
pub const DEADLOCK: &str = "deadlock";
/// Output when a process initiates; its value is its position.
pub const INITIATED: &str = "initiated";

/// The layer's timer: an initiator's moment to probe.
const PROBE: Timer = "cmh:probe";

const OWN_PARAMS: &[ParamSpec] = &[
    ParamSpec::nodes("probe_initiators", "all", "Chandy–Misra–Haas: the processes that probe when blocked"),
    ParamSpec::real(
        "probe_after",
        "2",
        0.0,
        1e9,
        "Chandy–Misra–Haas: time after it blocks at which an initiator probes",
    ),
    ParamSpec::choice(
        "probe_fault",
        "none",
        &["none", "no-edge-check"],
        "Chandy–Misra–Haas: no-edge-check = the classic mistake, forward over an edge that is gone (for the tests)",
    ),
];

/// A message of the layer: the application's, or a probe.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Probed<M: Message> {
    /// The application's message, unchanged.
    App(M),
    /// PROBE(i, j, k): `j` is the sender, `k` the receiver.
    Probe {
        /// The initiator, i.
        initiator: NodeId,
        /// Its initiation's number, from 1.
        seq: u32,
    },
}

impl<M: Message> Message for Probed<M> {
    fn kinds() -> &'static [&'static str] {
        kinds_with::<Probed<M>, M>(&["PROBE"])
    }

    fn control_kinds() -> &'static [&'static str] {
        control_kinds_with::<Probed<M>, M>(&["PROBE"])
    }

    fn kind(&self) -> usize {
        match self {
            Probed::App(m) => m.kind(),
            Probed::Probe { .. } => M::kinds().len(),
        }
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        match self {
            Probed::App(m) => m.rename_nodes(map),
            Probed::Probe { initiator, .. } => *initiator = map[initiator.index()],
        }
    }
}

/// What a node keeps of one initiation it took part in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Engaged {
    /// The latest initiation of this initiator seen.
    pub seq: u32,
    /// The probes this node sent for it.
    pub sent: u32,
}

/// A node: the application's process and the detector's state.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CmhNode<P: Process> {
    /// The application's process.
    pub app: P,
    /// Its position.
    pub me: NodeId,
    /// Whether it probes when blocked.
    pub initiator: bool,
    /// When, after it blocks, in thousandths of a time unit.
    pub after_millis: u64,
    /// Whether probes are checked against the edge they came over (false: the mistake).
    pub edge_check: bool,
    /// Whether its probe timer was set.
    pub armed: bool,
    /// Its own initiation, once made: its number and the probes it sent.
    pub initiation: Option<Engaged>,
    /// `engaged_k[i]`, per initiator.
    pub engaged: BTreeMap<NodeId, Engaged>,
    /// Whether it declared deadlock.
    pub declared: bool,
}

type Ctx<'a, P> = Context<'a, Probed<<P as Process>::Msg>>;

impl<P: Process + Waits> CmhNode<P> {
    /// Runs one of the application's handlers; arms the probe timer once it blocks.
    fn run_app(&mut self, ctx: &mut Ctx<'_, P>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        ctx.lift(|c| handler(&mut self.app, c), |_, msg| Some(Probed::App(msg)));
        if self.initiator && !self.armed && self.app.blocked() {
            self.armed = true;
            ctx.set_timer(PROBE, self.after_millis as f64 / 1000.0);
        }
    }

    fn initiate(&mut self, ctx: &mut Ctx<'_, P>) {
        if !self.app.blocked() {
            ctx.log("no longer blocked: no probe");
            return;
        }
        let seq = self.initiation.map_or(1, |e| e.seq + 1);
        let waits: Vec<NodeId> = self.app.waits_for().iter().copied().collect();
        for &j in &waits {
            ctx.send(j, Probed::Probe { initiator: self.me, seq });
        }
        self.initiation = Some(Engaged { seq, sent: waits.len() as u32 });
        ctx.log(format!("blocked: probes {} (initiation {seq})", list(&waits)));
        ctx.output(INITIATED, self.me.0);
    }

    fn on_probe(&mut self, j: NodeId, i: NodeId, seq: u32, ctx: &mut Ctx<'_, P>) {
        if !self.app.blocked() {
            ctx.log(format!("PROBE of {i} from {j}: not blocked, discarded"));
            return;
        }
        if self.edge_check && !self.app.owes().contains(&j) {
            ctx.log(format!("PROBE of {i} from {j}: the edge {j}→{} is gone, discarded", self.me));
            return;
        }
        if i == self.me {
            if !self.declared && self.initiation.is_some_and(|e| e.seq == seq) {
                self.declared = true;
                ctx.log(format!("PROBE({i}, {j}, {i}) came back: deadlock, {i} is on a cycle"));
                ctx.output(DEADLOCK, self.me.0);
            }
            return;
        }
        if self.engaged.get(&i).is_some_and(|e| e.seq >= seq) {
            ctx.log(format!("PROBE of {i} from {j}: already engaged for {i}, dropped"));
            return;
        }
        let waits: Vec<NodeId> = self.app.waits_for().iter().copied().collect();
        for &m in &waits {
            ctx.send(m, Probed::Probe { initiator: i, seq });
        }
        self.engaged.insert(i, Engaged { seq, sent: waits.len() as u32 });
        ctx.log(format!("PROBE of {i} from {j}: engaged, passed on to {}", list(&waits)));
    }
}

fn list(v: &[NodeId]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl<P: Process + Waits> Process for CmhNode<P> {
    type Msg = Probed<P::Msg>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Ctx<'_, P>) {
        self.run_app(ctx, |app, c| app.on_start(c));
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, P>) {
        match msg {
            Probed::App(m) => self.run_app(ctx, |app, c| app.on_message(from, m, c)),
            Probed::Probe { initiator, seq } => self.on_probe(from, initiator, seq, ctx),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_, P>) {
        if timer == PROBE {
            self.initiate(ctx);
        } else {
            self.run_app(ctx, |app, c| app.on_timer(timer, c));
        }
    }

    fn on_input(&mut self, input: P::Input, ctx: &mut Ctx<'_, P>) {
        self.run_app(ctx, |app, c| app.on_input(input, c));
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        self.app.rename_nodes(map);
        self.me = map[self.me.index()];
        self.engaged = std::mem::take(&mut self.engaged).into_iter().map(|(k, v)| (map[k.index()], v)).collect();
    }
}

impl<P: Process + Waits> Layer for CmhNode<P> {
    type App = P;

    fn app(&self) -> &P {
        &self.app
    }

    fn carried(msg: &Self::Msg) -> Option<&P::Msg> {
        match msg {
            Probed::App(m) => Some(m),
            Probed::Probe { .. } => None,
        }
    }
}

/// The wait-for application observed by Chandy–Misra–Haas.
pub struct ChandyMisraHaas {
    app: WaitFor,
    initiators: Option<BTreeSet<u32>>,
    after: f64,
    edge_check: bool,
}

pub(super) type Node = CmhNode<super::wait_for::Node>;

fn initiators(value: &str) -> Result<Option<BTreeSet<u32>>, ParamError> {
    if value.trim().eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let bad = |p: &str| ParamError::Invalid {
        name: "probe_initiators".into(),
        value: value.into(),
        why: format!("'{p}' is not a position; expected `all` or positions like 0,3"),
    };
    value.split(',').map(|p| p.trim().parse::<u32>().map_err(|_| bad(p.trim()))).collect::<Result<_, _>>().map(Some)
}

impl Algorithm for ChandyMisraHaas {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        layered_spec::<Self, WaitFor>(
            SUFFIX,
            "observed by Chandy–Misra–Haas's probes (edge chasing, FIFO)",
            OWN_PARAMS,
            true,
        )
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(ChandyMisraHaas {
            app: WaitFor::from_params(params)?,
            initiators: initiators(params.raw("probe_initiators").unwrap_or("all"))?,
            after: params.get("probe_after")?,
            edge_check: params.get::<String>("probe_fault")? != "no-edge-check",
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        CmhNode {
            app: self.app.init(setup),
            me: setup.me,
            initiator: self.initiators.as_ref().is_none_or(|list| list.contains(&setup.me.0)),
            after_millis: (self.after * 1000.0).round() as u64,
            edge_check: self.edge_check,
            armed: false,
            initiation: None,
            engaged: BTreeMap::new(),
            declared: false,
        }
    }

    fn workload(
        &self,
        setup: &WorkloadSetup<'_>,
        rng: &mut reparti_core::Rng,
    ) -> Vec<ScheduledInput<super::wait_for::Input>> {
        self.app.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Node> {
        let staggered = self.app.staggered;
        let mut props = lift_properties::<Node>(self.app.properties());
        props.invariants.push(Invariant::<Node>::global(SAFETY, judge::safe));
        props.invariants.push(Invariant::<Node>::global(COST, judge::within_cost));
        props.terminal.push(Terminal::<Node>::new(LIVENESS, move |w: &World<'_, Node>| judge::live(w, staggered)));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<super::wait_for::Msg>(self.app.expected(facts));
        let graph = self.app.edges(facts.n);
        let bound: usize = facts
            .outputs
            .get(INITIATED)
            .map(|by| {
                by.iter()
                    .filter_map(|(v, count)| match v {
                        OutputValue::Int(i) => Some(edges_reachable(&graph, NodeId(*i as u32)) * *count as usize),
                        OutputValue::Text(_) => None,
                    })
                    .sum()
            })
            .unwrap_or(0);
        expected.push(Expectation::at_most(
            "PROBE",
            "Σ over initiations of the WFG edges reachable from the initiator",
            bound as f64,
        ));
        expected
    }

    fn symmetry(&self) -> Symmetry {
        Symmetry::None
    }
}

#[cfg(test)]
#[path = "chandy_misra_haas_tests.rs"]
mod tests;

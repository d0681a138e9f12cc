//! # Chandy–Lamport (1985): a consistent snapshot of any application, with markers
//!
//! **What.** A control layer that records a global state of the application it runs
//! over — each process's local state and the messages in transit on each channel —
//! while the application goes on. A process that records its state sends a MARKER on
//! every outgoing channel before any further message; a process that receives its first
//! MARKER records its state then; the state of a channel is the messages that arrive on
//! it after the receiver recorded and before the MARKER on it. On FIFO channels the
//! recorded state is one the run could have passed through: a *consistent* cut.
//!
//! **Source.** K. M. Chandy and L. Lamport, "Distributed snapshots: determining global
//! states of distributed systems", ACM TOCS 3(1):63–75, 1985 (the marker rules, §3);
//! C1/C2 as A. D. Kshemkalyani and M. Singhal state them, *Distributed Computing*,
//! Cambridge University Press, 2008, ch. 4, with the bank as the conserved example.
//!
//! ```text
//! record():  LS := local state; recorded := true
//!            for each out-channel: send MARKER (before any further basic message)
//! initiate:  record()
//! on MARKER via c:  if ¬recorded: record();  closed += c   (SC[c] stays as it is)
//! on basic m via c: if recorded ∧ c ∉ closed: SC[c].append(m);  then deliver m
//! done when a MARKER has arrived on every in-channel
//! ```
//!
//! **How it runs here.** Named `APP+chandy-lamport` (`bank+chandy-lamport`,
//! `token-ring+chandy-lamport`): the application runs unchanged underneath, its handlers
//! lifted through the layer ([`reparti_core::layer`]); it never knows it is observed.
//! The nodes listed in `snapshot_initiators` (default node 0) initiate `snapshot_at`
//! time units after they start (a timer, so the checker tries every moment). One
//! snapshot per run; several initiators join the same one. A node need not know its
//! in-channels: a channel records until its MARKER arrives, so a node with none never
//! records one. Basic messages carry their number on the channel, the layer's ground
//! truth of the run (not part of the algorithm): the consistency of the recorded state
//! is judged from those numbers by the engine's properties, not by the snapshot's own
//! bookkeeping. `snapshot_fault=no-channel-state` keeps the classic mistake of
//! recording local states only.
//!
//! **Pitfalls.**
//! * Forgetting channel states (`snapshot_fault=no-channel-state`): a message sent
//!   before the cut and received after it is nowhere — a bank's money vanishes from
//!   the snapshot. Caught by C1 (and by the conservation check on the bank).
//! * Sending a basic message between recording and the markers: the receiver would
//!   receive it before the marker yet count it as sent after the cut.
//! * Non-FIFO channels: a MARKER overtakes a message sent before it; the receiver
//!   records first and closes the channel, and the message belongs to no part of the
//!   snapshot. `reparti check bank+chandy-lamport --network unordered` finds it (C1);
//!   Lai–Yang's colours are the fix.
//!
//! **Properties** (at quiescence, when every marker has arrived, judged on the
//! channels' numbers): *every node recorded*; **C1** — a message sent before the
//! sender's cut was received before the receiver's, or is in the channel state, never
//! both; **C2** — a message sent after the cut is neither received before it nor in the
//! channel state; for an application that conserves a quantity (the bank's money),
//! *the recorded state conserves it* ([`super::conserved`]); the application's own
//! properties, lifted.
//!
//! **Costs.** Exactly one MARKER per directed channel per snapshot: |E| (n(n−1) on a
//! complete graph, n on a unidirectional ring), whatever the number of initiators.

use super::conserved;
use super::cut::{self, Cut, Part};
use reparti_core::layer::{app_expected, control_kinds_with, kinds_with, layered_spec};
use reparti_core::{
    lift_properties, Algorithm, AlgorithmSpec, Context, Expectation, Layer, Message, NodeId, NodeSetup, ParamError,
    ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Symmetry, Terminal, Timer, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The suffix that names an application observed by Chandy–Lamport.
pub const SUFFIX: &str = "+chandy-lamport";

/// The terminal property judging the recorded global state.
pub const CONSISTENT: &str = "snapshot: every node recorded, every marker arrived, C1 and C2 hold";

/// Output when a node records its local state (value 1).
pub const RECORDED: &str = "recorded";
/// Output when a channel's recorded state is final and not empty (value: its length).
pub const CHANNEL_STATE: &str = "channel_state";

/// The layer's timer: the initiators' moment to record.
const INITIATE: Timer = "chandy-lamport:initiate";

const OWN_PARAMS: &[ParamSpec] = &[
    ParamSpec::nodes(
        "snapshot_initiators",
        "0",
        "Chandy–Lamport: the nodes that initiate the snapshot (`all`, or positions)",
    ),
    ParamSpec::real("snapshot_at", "3", 0.0, 1e9, "Chandy–Lamport: time after its start at which an initiator records"),
    ParamSpec::choice(
        "snapshot_fault",
        "none",
        &["none", "no-channel-state"],
        "Chandy–Lamport: no-channel-state = the classic mistake, local states only (for the tests)",
    ),
];

/// A message of the layer: an application message with its number on its channel, or
/// a marker.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Marked<M: Message> {
    /// The application's message, the `seq`-th on its channel (from 1).
    App {
        /// Its number on the channel: the layer's ground truth, not the algorithm's.
        seq: u64,
        /// The application's message.
        msg: M,
    },
    /// The snapshot's marker.
    Marker,
}

impl<M: Message> Message for Marked<M> {
    fn kinds() -> &'static [&'static str] {
        kinds_with::<Marked<M>, M>(&["MARKER"])
    }

    fn control_kinds() -> &'static [&'static str] {
        control_kinds_with::<Marked<M>, M>(&["MARKER"])
    }

    fn kind(&self) -> usize {
        match self {
            Marked::App { msg, .. } => msg.kind(),
            Marked::Marker => M::kinds().len(),
        }
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        if let Marked::App { msg, .. } = self {
            msg.rename_nodes(map)
        }
    }
}

/// What one node recorded.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Recorded<P: Process> {
    /// The application's local state at the cut.
    pub state: P,
    /// Messages sent on each out-channel before the cut.
    pub sent: BTreeMap<NodeId, u64>,
    /// Messages received on each in-channel before the cut.
    pub received: BTreeMap<NodeId, u64>,
    /// Each in-channel's recorded state: its messages, by number, in arrival order.
    pub channels: BTreeMap<NodeId, Vec<(u64, P::Msg)>>,
    /// The in-channels whose marker has arrived (their state is final).
    pub closed: BTreeSet<NodeId>,
}

/// A node: the application's node, the channels' numbers, and what it recorded.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SnapshotNode<P: Process> {
    /// The application's node.
    pub app: P,
    /// This node's position.
    pub me: NodeId,
    /// Whether it initiates.
    pub initiator: bool,
    /// When it initiates after its start, in thousandths of a time unit (an integer, so
    /// that the state stays `Eq + Hash`).
    pub at_millis: u64,
    /// Whether it records channel states (false: the classic mistake).
    pub channel_states: bool,
    /// Application messages sent so far on each out-channel.
    pub sent: BTreeMap<NodeId, u64>,
    /// Application messages received so far on each in-channel.
    pub received: BTreeMap<NodeId, u64>,
    /// Its part of the snapshot, once recorded.
    pub recorded: Option<Recorded<P>>,
    /// Its out-neighbours (where markers go), learnt at start.
    pub out: BTreeSet<NodeId>,
}

type Ctx<'a, P> = Context<'a, Marked<<P as Process>::Msg>>;

impl<P: Process> SnapshotNode<P> {
    /// Runs one of the application's handlers, numbering what it sends.
    fn run_app(&mut self, ctx: &mut Ctx<'_, P>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        let SnapshotNode { app, sent, .. } = self;
        ctx.lift(
            |c| handler(app, c),
            |to, msg| {
                let seq = sent.entry(to).or_default();
                *seq += 1;
                Some(Marked::App { seq: *seq, msg })
            },
        );
    }

    /// Records the local state and sends a marker on every out-channel, before any
    /// further basic message (this handler sends nothing else after them).
    fn record(&mut self, ctx: &mut Ctx<'_, P>) {
        if self.recorded.is_some() {
            return;
        }
        self.recorded = Some(Recorded {
            state: self.app.clone(),
            sent: self.sent.clone(),
            received: self.received.clone(),
            channels: BTreeMap::new(),
            closed: BTreeSet::new(),
        });
        ctx.log(format!("snapshot: local state recorded: {:?}", self.app));
        ctx.output(RECORDED, 1);
        for &to in &self.out {
            ctx.send(to, Marked::Marker);
        }
    }
}

impl<P: Process> Process for SnapshotNode<P> {
    type Msg = Marked<P::Msg>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Ctx<'_, P>) {
        self.out = ctx.neighbours().into_iter().filter(|&j| j != self.me).collect();
        if self.initiator {
            ctx.set_timer(INITIATE, self.at_millis as f64 / 1000.0);
        }
        self.run_app(ctx, |app, c| app.on_start(c));
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, P>) {
        match msg {
            Marked::Marker => {
                self.record(ctx);
                if let Some(r) = &mut self.recorded {
                    r.closed.insert(from);
                    let state = r.channels.get(&from).map_or(&[][..], Vec::as_slice);
                    if !state.is_empty() {
                        let msgs: Vec<String> = state.iter().map(|(seq, m)| format!("#{seq} {m:?}")).collect();
                        ctx.log(format!("snapshot: channel {from} → {} holds {}", self.me, msgs.join(", ")));
                        ctx.output(CHANNEL_STATE, state.len() as u64);
                    }
                }
            }
            Marked::App { seq, msg } => {
                *self.received.entry(from).or_default() = seq;
                let channel_states = self.channel_states;
                if let Some(r) = self.recorded.as_mut().filter(|r| channel_states && !r.closed.contains(&from)) {
                    r.channels.entry(from).or_default().push((seq, msg.clone()));
                }
                self.run_app(ctx, |app, c| app.on_message(from, msg, c));
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_, P>) {
        if timer == INITIATE {
            self.record(ctx);
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
        let rename = |k: NodeId| map[k.index()];
        let keys =
            |m: &mut BTreeMap<NodeId, u64>| *m = std::mem::take(m).into_iter().map(|(k, v)| (rename(k), v)).collect();
        keys(&mut self.sent);
        keys(&mut self.received);
        self.out = std::mem::take(&mut self.out).into_iter().map(rename).collect();
        if let Some(r) = &mut self.recorded {
            r.state.rename_nodes(map);
            keys(&mut r.sent);
            keys(&mut r.received);
            r.closed = std::mem::take(&mut r.closed).into_iter().map(rename).collect();
            r.channels = std::mem::take(&mut r.channels)
                .into_iter()
                .map(|(k, mut v)| {
                    v.iter_mut().for_each(|(_, m)| m.rename_nodes(map));
                    (rename(k), v)
                })
                .collect();
        }
    }
}

impl<P: Process> Layer for SnapshotNode<P> {
    type App = P;

    fn app(&self) -> &P {
        &self.app
    }

    fn carried(msg: &Self::Msg) -> Option<&P::Msg> {
        match msg {
            Marked::App { msg, .. } => Some(msg),
            Marked::Marker => None,
        }
    }
}

/// The recorded global state as the judge sees it ([`super::cut`]): complete when
/// every node's markers arrived; on FIFO channels, the messages received before a cut
/// are the first ones, up to the last number received.
pub fn cut_of<P: Process>(nodes: &[SnapshotNode<P>]) -> Cut<'_, P> {
    let complete = || -> Result<(), String> {
        let cut = |i: usize| nodes[i].recorded.as_ref().ok_or_else(|| format!("node {i} never recorded its state"));
        for (i, node) in nodes.iter().enumerate() {
            let me = NodeId(i as u32);
            for &to in &node.out {
                if !cut(to.index())?.closed.contains(&me) {
                    return Err(format!("node {to} never received the marker from {me}"));
                }
            }
        }
        Ok(())
    };
    let channels = cut::carried(nodes.iter().map(|n| (&n.sent, &n.received)));
    let parts = nodes
        .iter()
        .map(|node| {
            node.recorded.as_ref().map(|r| Part {
                state: &r.state,
                sent: &r.sent,
                received: r.received.iter().map(|(&from, &last)| (from, (1..=last).collect())).collect(),
                channels: cut::by_number(&r.channels),
            })
        })
        .collect();
    Cut { parts, channels, complete: complete() }
}

/// C1 and C2 over every channel that carried a message, from the channels' numbers:
/// on channel i → j, with `s` messages sent before i's cut and `r` received before
/// j's, the channel state must be exactly the messages numbered `r+1 ..= s`.
pub fn consistent<P: Process>(nodes: &[SnapshotNode<P>]) -> Result<(), String> {
    cut_of(nodes).consistent()
}

/// The application `A` observed by Chandy–Lamport's snapshot.
pub struct ChandyLamport<A> {
    app: A,
    initiators: Option<BTreeSet<u32>>,
    at: f64,
    channel_states: bool,
}

pub(super) fn initiators(value: &str) -> Result<Option<BTreeSet<u32>>, ParamError> {
    if value.trim().eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let bad = |p: &str| ParamError::Invalid {
        name: "snapshot_initiators".into(),
        value: value.into(),
        why: format!("'{p}' is not a position; expected `all` or positions like 0,3"),
    };
    value.split(',').map(|p| p.trim().parse::<u32>().map_err(|_| bad(p.trim()))).collect::<Result<_, _>>().map(Some)
}

impl<A: Algorithm> Algorithm for ChandyLamport<A> {
    type Node = SnapshotNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        layered_spec::<Self, A>(SUFFIX, "observed by Chandy–Lamport's snapshot (markers, FIFO)", OWN_PARAMS, true)
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(ChandyLamport {
            app: A::from_params(params)?,
            initiators: initiators(params.raw("snapshot_initiators").unwrap_or("0"))?,
            at: params.get("snapshot_at")?,
            channel_states: params.get::<String>("snapshot_fault")? != "no-channel-state",
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        SnapshotNode {
            app: self.app.init(setup),
            me: setup.me,
            initiator: self.initiators.as_ref().is_none_or(|list| list.contains(&setup.me.0)),
            at_millis: (self.at * 1000.0).round() as u64,
            channel_states: self.channel_states,
            sent: BTreeMap::new(),
            received: BTreeMap::new(),
            recorded: None,
            out: BTreeSet::new(),
        }
    }

    fn workload(
        &self,
        setup: &WorkloadSetup<'_>,
        rng: &mut reparti_core::Rng,
    ) -> Vec<ScheduledInput<<A::Node as Process>::Input>> {
        self.app.workload(setup, rng)
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = lift_properties::<Self::Node>(self.app.properties());
        props.terminal.push(Terminal::<Self::Node>::new(CONSISTENT, |w: &World<'_, Self::Node>| consistent(w.nodes)));
        if let Some(quantity) = conserved::of::<A::Node>() {
            props.terminal.push(Terminal::<Self::Node>::new(quantity.name, move |w: &World<'_, Self::Node>| {
                cut_of(w.nodes).conserves(&quantity, w.nodes.iter().map(|n| &n.app))
            }));
        }
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.app.expected(facts));
        if let Some(topology) = facts.topology {
            expected.push(Expectation::exact(
                "MARKER",
                "|E| (one per directed channel)",
                topology.channel_count() as f64,
            ));
        }
        expected
    }

    fn symmetry(&self) -> Symmetry {
        // Initiators are chosen by position: relabelling nodes would move them.
        Symmetry::None
    }
}

#[cfg(test)]
#[path = "chandy_lamport_tests.rs"]
mod tests;

//! # Lai–Yang (1987): a consistent snapshot on channels that reorder, with colours
//!
//! **What.** A control layer that records a global state of the application it runs
//! over, like Chandy–Lamport's, but without markers and without FIFO channels. Every
//! process is white, then turns red when it records its local state; every application
//! message carries its sender's colour (one bit). A white process that receives a red
//! message records its state *before* the message, so that no message sent after a cut
//! is received before one. Each white process logs the white messages it sends and
//! receives on each channel; the state of channel i → j is the white messages i sent
//! that j had not received when it turned red.
//!
//! **Source.** T. H. Lai and T. H. Yang, "On distributed snapshots", *Information
//! Processing Letters* 25(3):153–158, 1987 (the colour rules and the logs); the
//! counters are F. Mattern's, "Efficient algorithms for distributed snapshots and global
//! virtual time approximation", *JPDC* 18(4):423–434, 1993. C1/C2 as A. D. Kshemkalyani
//! and M. Singhal state them, *Distributed Computing*, CUP 2008, ch. 4.
//!
//! ```text
//! snapshot(): LS := local state; colour := red
//!             send REPORT(LS, sent_log, rcvd_log) to the collector
//! initiate:   snapshot(); send TAKE to every other process        (forces completion)
//! send m on c:         attach colour; if white: sent_log[c] += m
//! on TAKE:             if white: snapshot()
//! on m via c, red:     if white: snapshot() first;  then deliver m
//! on m via c, white:   if white: rcvd_log[c] += m;   deliver m
//! collector, n reports: SC[i→j] := sent_log_i[j] \ rcvd_log_j[i]
//! Mattern (counters): sent_log, rcvd_log → white_sent[c], white_rcvd[c] (numbers);
//!   after turning red, each white m received via c is recorded: SC[c] += m
//!   SC[c] is final when white_rcvd[c] = white_sent of c's sender
//! ```
//!
//! **How it runs here.** Named `APP+lai-yang` (`bank+lai-yang`, `token-ring+lai-yang`)
//! with the parameters of Chandy–Lamport's layer (`snapshot_initiators`, `snapshot_at`,
//! `snapshot_fault`) and `snapshot_form=logs|counters`. The application runs unchanged
//! underneath. The initiators' moment is a timer, so the checker tries every one; an
//! initiator already red at its moment sends its TAKEs all the same (it cannot know
//! who is still white). REPORTs are real messages, as in Lai and Yang's rule that a
//! process sends its snapshot and logs to the initiator: a channel state needs both
//! ends' logs in one place, and the cost of getting them there is part of the
//! algorithm's (Chandy–Lamport's layer needs none: each receiver holds its channels'
//! states). The *collector* is the first initiator (node 0 under `all`); it keeps its
//! own report. With logs it computes every channel state when it holds all n reports
//! and outputs `channel_state` for each non-empty one. Every
//! application message carries its number on its channel, 1, 2, …: Lai–Yang's logs need
//! a message identity, and this is the one used. The engine's properties judge the
//! recorded state from the layer's *own* ground truth (what each node had sent and
//! received at its cut), through the judge shared with Chandy–Lamport
//! ([`super::cut`]), not from the logs. `snapshot_fault=no-red-first` keeps the classic
//! mistake.
//!
//! **Pitfalls.**
//! * Delivering a red message before recording (`snapshot_fault=no-red-first`): the
//!   recorded state has received a message sent after its sender's cut. C2 breaks, and
//!   a bank's money is counted twice. The checker finds it in the shortest run.
//! * Relying on application traffic to turn everyone red: a process that is never sent
//!   a red message never records. Hence the initiator's TAKE.
//! * Logging white messages received *after* turning red: they are in transit across
//!   the cut and belong in the channel state, not in the receive log.
//! * Logs grow with traffic, and every message would need an identity. Mattern's
//!   counters remove both.
//!
//! **Properties** (at quiescence, judged on the channels' numbers): *every node
//! recorded, every report collected* (counters: and every white message received);
//! **C1** and **C2**. On an application that conserves a quantity (the bank's money),
//! *the recorded state conserves it*. The application's own properties, lifted.
//!
//! **Costs.** No markers. One bit per application message. Exactly n − 1 TAKE per
//! initiator. Exactly n − 1 REPORT: the collector's own report is not a message, where
//! "n reports" counts it. With logs a REPORT carries every white message sent, with
//! counters 2n numbers. `reparti check bank+lai-yang -n 3 -p transfers=1 -p
//! max_amount=2 -p balance=2 --network unordered`: 1,711 states, either form (97,351
//! with `snapshot_initiators=all`); the classic mistake is caught in 7 steps on n = 2.
//!
//! **Departures.** With counters no process learns when its channel states are final.
//! That needs Mattern's second wave (or a termination detector) for white messages in
//! transit. Here the terminal property plays it: at quiescence it checks, per channel,
//! white received = white sent as reported. No `channel_state` is output in this form;
//! the collector logs the white messages in transit at the cut (Σ sent − Σ received).
//! A white process that receives a red message records in the handler of that
//! receive, before delivering it: in a trace the receive event comes first, and
//! `recorded` is the handler's first effect (with `no-red-first`, it follows the
//! application's effects). A picture of the cut must place it before such a receive.

use super::conserved;
use super::cut::Truth;
use reparti_core::layer::{app_expected, control_kinds_with, kinds_with, layered_spec};
use reparti_core::{
    lift_properties, Algorithm, AlgorithmSpec, Context, Expectation, Layer, Message, NodeId, NodeSetup, ParamError,
    ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Symmetry, Terminal, Timer, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub use super::chandy_lamport::{CHANNEL_STATE, RECORDED};

/// The suffix that names an application observed by Lai–Yang.
pub const SUFFIX: &str = "+lai-yang";

/// The terminal property judging the recorded global state.
pub const CONSISTENT: &str = "snapshot: every node recorded, every report collected, C1 and C2 hold";

/// The layer's timer: the initiators' moment to record.
const INITIATE: Timer = "lai-yang:initiate";

const OWN_PARAMS: &[ParamSpec] = &[
    ParamSpec::nodes(
        "snapshot_initiators",
        "0",
        "Lai–Yang: the nodes that initiate the snapshot (`all`, or positions); the first one collects",
    ),
    ParamSpec::real("snapshot_at", "3", 0.0, 1e9, "Lai–Yang: time after its start at which an initiator records"),
    ParamSpec::choice(
        "snapshot_form",
        "logs",
        &["logs", "counters"],
        "Lai–Yang: logs of white messages (Lai–Yang 1987) or counters of them (Mattern 1993)",
    ),
    ParamSpec::choice(
        "snapshot_fault",
        "none",
        &["none", "no-red-first"],
        "Lai–Yang: no-red-first = the classic mistake, a red message delivered before recording (for the tests)",
    ),
];

/// How the white messages are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Form {
    /// Lai–Yang's logs of the white messages sent and received on each channel.
    Logs,
    /// Mattern's counters of them; the receiver records the late white messages.
    Counters,
}

/// What a node reports to the collector when it turns red.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Report<P: Process> {
    /// The application's local state at the cut.
    pub state: P,
    /// Logs: the white messages sent on each out-channel, by number.
    pub sent_log: BTreeMap<NodeId, Vec<(u64, P::Msg)>>,
    /// Logs: the numbers of the white messages received on each in-channel.
    pub rcvd_log: BTreeMap<NodeId, BTreeSet<u64>>,
    /// Counters: white messages sent on each out-channel.
    pub white_sent: BTreeMap<NodeId, u64>,
    /// Counters: white messages received on each in-channel before turning red.
    pub white_rcvd: BTreeMap<NodeId, u64>,
}

/// A message of the layer: an application message with its colour, or a control one.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Coloured<P: Process> {
    /// The application's message, the `seq`-th on its channel (from 1).
    App {
        /// Its number on the channel: its identity in the logs, and the ground truth.
        seq: u64,
        /// Its sender's colour when sent: red once the sender recorded.
        red: bool,
        /// The application's message.
        msg: P::Msg,
    },
    /// The initiator's order to record (a red control message).
    Take,
    /// A node's part of the snapshot, to the collector.
    Report(Box<Report<P>>),
}

impl<P: Process> Message for Coloured<P> {
    fn kinds() -> &'static [&'static str] {
        kinds_with::<Coloured<P>, P::Msg>(&["TAKE", "REPORT"])
    }

    fn kind(&self) -> usize {
        let app = <P::Msg as Message>::kinds().len();
        match self {
            Coloured::App { msg, .. } => msg.kind(),
            Coloured::Take => app,
            Coloured::Report(_) => app + 1,
        }
    }

    fn control_kinds() -> &'static [&'static str] {
        control_kinds_with::<Coloured<P>, P::Msg>(&["TAKE", "REPORT"])
    }
}

/// A node: the application's node, its colour, its logs or counters, and at the
/// collector the reports. No [`Symmetry`]: nodes are never renamed.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ColourNode<P: Process> {
    /// The application's node.
    pub app: P,
    /// This node's position.
    pub me: NodeId,
    /// Whether it initiates.
    pub initiator: bool,
    /// Where reports go: the first initiator.
    pub collector: NodeId,
    /// When it initiates after its start, in thousandths of a time unit.
    pub at_millis: u64,
    /// Logs or counters.
    pub form: Form,
    /// The classic mistake: a red message delivered before recording.
    pub no_red_first: bool,
    /// Truth: application messages sent so far on each out-channel.
    pub sent: BTreeMap<NodeId, u64>,
    /// Truth: the numbers received so far on each in-channel.
    pub received: BTreeMap<NodeId, BTreeSet<u64>>,
    /// Truth at its cut, once recorded.
    pub cut: Option<Truth>,
    /// Red once recorded.
    pub red: bool,
    /// Logs: white messages sent, until reported.
    pub sent_log: BTreeMap<NodeId, Vec<(u64, P::Msg)>>,
    /// Logs: white messages received while white, until reported.
    pub rcvd_log: BTreeMap<NodeId, BTreeSet<u64>>,
    /// Counters: white messages sent on each out-channel.
    pub white_sent: BTreeMap<NodeId, u64>,
    /// Counters: white messages received on each in-channel, before and after the cut.
    pub white_rcvd: BTreeMap<NodeId, u64>,
    /// Counters: each in-channel's state, the white messages received after the cut,
    /// by number.
    pub late: BTreeMap<NodeId, Vec<(u64, P::Msg)>>,
    /// At the collector: the reports, its own included.
    pub collected: BTreeMap<NodeId, Report<P>>,
    /// Logs, at the collector once all reports are in: receiver → sender → state.
    pub states: BTreeMap<NodeId, Logged<P>>,
}

type Ctx<'a, P> = Context<'a, Coloured<P>>;

/// Messages by number on each channel, keyed by the channel's other end.
pub type Logged<P> = BTreeMap<NodeId, Vec<(u64, <P as Process>::Msg)>>;

impl<P: Process> ColourNode<P> {
    fn new(app: P, me: NodeId, initiator: bool, collector: NodeId, at_millis: u64, form: Form, fault: bool) -> Self {
        ColourNode {
            app,
            me,
            initiator,
            collector,
            at_millis,
            form,
            no_red_first: fault,
            sent: BTreeMap::new(),
            received: BTreeMap::new(),
            cut: None,
            red: false,
            sent_log: BTreeMap::new(),
            rcvd_log: BTreeMap::new(),
            white_sent: BTreeMap::new(),
            white_rcvd: BTreeMap::new(),
            late: BTreeMap::new(),
            collected: BTreeMap::new(),
            states: BTreeMap::new(),
        }
    }

    /// Runs one of the application's handlers, numbering and colouring what it sends.
    fn run_app(&mut self, ctx: &mut Ctx<'_, P>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        let ColourNode { app, sent, red, form, sent_log, white_sent, .. } = self;
        ctx.lift(
            |c| handler(app, c),
            |to, msg| {
                let seq = sent.entry(to).or_default();
                *seq += 1;
                if !*red {
                    match form {
                        Form::Logs => sent_log.entry(to).or_default().push((*seq, msg.clone())),
                        Form::Counters => *white_sent.entry(to).or_default() += 1,
                    }
                }
                Some(Coloured::App { seq: *seq, red: *red, msg })
            },
        );
    }

    /// Records the local state, turns red and reports to the collector.
    fn snapshot(&mut self, ctx: &mut Ctx<'_, P>) {
        if self.red {
            return;
        }
        self.red = true;
        self.cut = Some(Truth { sent: self.sent.clone(), received: self.received.clone() });
        // The handler's first effect: in a trace, the cut is before the red message's
        // delivery, at its receive event (see the module's departures).
        ctx.output(RECORDED, 1);
        ctx.log(format!("snapshot: local state recorded, now red: {:?}", self.app));
        let report = Report {
            state: self.app.clone(),
            sent_log: std::mem::take(&mut self.sent_log),
            rcvd_log: std::mem::take(&mut self.rcvd_log),
            white_sent: self.white_sent.clone(),
            white_rcvd: self.white_rcvd.clone(),
        };
        if self.me == self.collector {
            self.collect(self.me, report, ctx);
        } else {
            ctx.send(self.collector, Coloured::Report(Box::new(report)));
        }
    }

    /// The collector keeps a report; with all n, it computes the channel states (logs).
    fn collect(&mut self, from: NodeId, report: Report<P>, ctx: &mut Ctx<'_, P>) {
        self.collected.insert(from, report);
        if self.collected.len() < ctx.n() {
            return;
        }
        match self.form {
            Form::Logs => {
                self.states = channel_states(&self.collected);
                for (to, froms) in &self.states {
                    for (from, state) in froms {
                        let msgs: Vec<String> = state.iter().map(|(seq, m)| format!("#{seq} {m:?}")).collect();
                        ctx.log(format!("snapshot: channel {from} → {to} holds {}", msgs.join(", ")));
                        ctx.output(CHANNEL_STATE, state.len() as u64);
                    }
                }
                ctx.log(format!("snapshot: all {} reports collected, channel states computed", ctx.n()));
            }
            Form::Counters => {
                let sum = |f: fn(&Report<P>) -> &BTreeMap<NodeId, u64>| -> u64 {
                    self.collected.values().flat_map(|r| f(r).values()).sum()
                };
                let in_transit = sum(|r| &r.white_sent).saturating_sub(sum(|r| &r.white_rcvd));
                ctx.log(format!(
                    "snapshot: all {} reports collected, {in_transit} white message(s) in transit at the cut",
                    ctx.n()
                ));
            }
        }
    }
}

/// Lai–Yang's channel states from the reports: on i → j, the white messages i sent that
/// j had not received when it turned red (receiver → sender → messages, non-empty).
pub fn channel_states<P: Process>(reports: &BTreeMap<NodeId, Report<P>>) -> BTreeMap<NodeId, Logged<P>> {
    let mut states: BTreeMap<NodeId, Logged<P>> = BTreeMap::new();
    let none = BTreeSet::new();
    for (&from, report) in reports {
        for (&to, log) in &report.sent_log {
            let got = reports.get(&to).and_then(|r| r.rcvd_log.get(&from)).unwrap_or(&none);
            let state: Vec<(u64, P::Msg)> = log.iter().filter(|(seq, _)| !got.contains(seq)).cloned().collect();
            if !state.is_empty() {
                states.entry(to).or_default().insert(from, state);
            }
        }
    }
    states
}

impl<P: Process> Process for ColourNode<P> {
    type Msg = Coloured<P>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Ctx<'_, P>) {
        if self.initiator {
            ctx.set_timer(INITIATE, self.at_millis as f64 / 1000.0);
        }
        self.run_app(ctx, |app, c| app.on_start(c));
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, P>) {
        match msg {
            Coloured::Take => self.snapshot(ctx),
            Coloured::Report(report) if self.me == self.collector => self.collect(from, *report, ctx),
            Coloured::Report(_) => ctx.log(format!("snapshot: a report from {from}, not the collector: ignored")),
            Coloured::App { seq, red, msg } => {
                let record_first = red && !self.red && !self.no_red_first;
                if record_first {
                    self.snapshot(ctx);
                }
                let record_after = red && !self.red;
                self.received.entry(from).or_default().insert(seq);
                if !red {
                    match self.form {
                        Form::Logs if !self.red => {
                            self.rcvd_log.entry(from).or_default().insert(seq);
                        }
                        Form::Logs => {}
                        Form::Counters => {
                            *self.white_rcvd.entry(from).or_default() += 1;
                            if self.red {
                                // A set, kept by number (they arrive in any order).
                                let late = self.late.entry(from).or_default();
                                late.insert(late.partition_point(|(s, _)| *s < seq), (seq, msg.clone()));
                            }
                        }
                    }
                }
                self.run_app(ctx, |app, c| app.on_message(from, msg, c));
                if record_after {
                    self.snapshot(ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_, P>) {
        if timer == INITIATE {
            self.snapshot(ctx);
            for j in (0..ctx.n() as u32).map(NodeId).filter(|&j| j != self.me) {
                ctx.send(j, Coloured::Take);
            }
        } else {
            self.run_app(ctx, |app, c| app.on_timer(timer, c));
        }
    }

    fn on_input(&mut self, input: P::Input, ctx: &mut Ctx<'_, P>) {
        self.run_app(ctx, |app, c| app.on_input(input, c));
    }
}

impl<P: Process> Layer for ColourNode<P> {
    type App = P;

    fn app(&self) -> &P {
        &self.app
    }

    fn carried(msg: &Self::Msg) -> Option<&P::Msg> {
        match msg {
            Coloured::App { msg, .. } => Some(msg),
            _ => None,
        }
    }
}

/// The application `A` observed by Lai–Yang's snapshot.
pub struct LaiYang<A> {
    app: A,
    initiators: Option<BTreeSet<u32>>,
    at: f64,
    form: Form,
    no_red_first: bool,
}

impl<A: Algorithm> Algorithm for LaiYang<A> {
    type Node = ColourNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        layered_spec::<Self, A>(
            SUFFIX,
            "observed by Lai–Yang's snapshot (colours, logs or counters, non-FIFO)",
            OWN_PARAMS,
            // The snapshot needs no FIFO; the application may.
            A::spec().needs_fifo,
        )
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(LaiYang {
            app: A::from_params(params)?,
            initiators: super::chandy_lamport::initiators(params.raw("snapshot_initiators").unwrap_or("0"))?,
            at: params.get("snapshot_at")?,
            form: if params.get::<String>("snapshot_form")? == "counters" { Form::Counters } else { Form::Logs },
            no_red_first: params.get::<String>("snapshot_fault")? == "no-red-first",
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        let collector = self.initiators.as_ref().and_then(|l| l.first().copied()).unwrap_or(0);
        ColourNode::new(
            self.app.init(setup),
            setup.me,
            self.initiators.as_ref().is_none_or(|list| list.contains(&setup.me.0)),
            NodeId(collector),
            (self.at * 1000.0).round() as u64,
            self.form,
            self.no_red_first,
        )
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
        props
            .terminal
            .push(Terminal::<Self::Node>::new(CONSISTENT, |w: &World<'_, Self::Node>| cut_of(w.nodes).consistent()));
        if let Some(quantity) = conserved::of::<A::Node>() {
            props.terminal.push(Terminal::<Self::Node>::new(quantity.name, move |w: &World<'_, Self::Node>| {
                cut_of(w.nodes).conserves(&quantity, w.nodes.iter().map(|n| &n.app))
            }));
        }
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.app.expected(facts));
        let n = facts.n as u32;
        let initiators = (0..n).filter(|i| self.initiators.as_ref().is_none_or(|l| l.contains(i))).count();
        let others = f64::from(n.saturating_sub(1));
        expected.push(Expectation::exact("TAKE", "(n−1) per initiator", others * initiators as f64));
        expected.push(Expectation::exact("REPORT", "n−1 (the collector keeps its own)", others));
        expected
    }

    fn symmetry(&self) -> Symmetry {
        // Initiators are chosen by position: relabelling nodes would move them.
        Symmetry::None
    }
}

#[path = "lai_yang_judge.rs"]
mod judge;
pub use judge::cut_of;

#[cfg(test)]
#[path = "lai_yang_tests.rs"]
mod tests;

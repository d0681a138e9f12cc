//! # Asymmetric rendezvous: CSP with input guards only
//!
//! **What.** Synchronous communication over asynchronous messages: a send `!q(v)`
//! does not end until q has taken v, and a receive ends when a value has been taken, so
//! the two overlap in time. *Asymmetric*: only the receiver chooses — a select offers
//! several input guards `?p` (receive from whichever of them comes), while an output
//! guard stands alone (a plain blocking send).
//!
//! **Source.** C. A. R. Hoare, *Communicating Sequential Processes*, CACM 21(8), 1978, whose
//! CSP allows input guards only; over asynchronous messages a send becomes a request
//! and an acknowledgement that ends it (the textbook construction; A. J. Bernstein, *Output
//! guards and nondeterminism in CSP*, TOPLAS 2(2), 1980, starts from it):
//!
//! ```text
//! send(q, m):        send RDV(m) to q; block until RDV_ACK from q
//! receive(from S):   if a buffered RDV(m) from s ∈ S: remove it; send RDV_ACK to s; return m
//!                    else block until one arrives (then as above)
//! ```
//!
//! **How it runs here.** Topology `complete`. Each process's program is a list of
//! statements given as inputs (console: `send #2 42`, `recv #1`, `select ?1 ?3`; the
//! workload draws ⌈rendezvous·n/2⌉ random pairs and adds up to `choice − 1` extra input
//! guards, each kept only if the program stays deadlock-free in CSP's semantics, see
//! [`workload`]). RDV carries the sender's
//! statement number and RDV_ACK the receiver's, so each side records which statement of
//! the partner it met: the properties pair them. When several senders of a select have
//! a buffered RDV, the lowest position is taken (CSP leaves the choice free; a fixed
//! rule keeps runs reproducible). A select is drawn as a bar on its process's lane, from
//! `select` to `rdv`: a rendezvous is two bars that overlap.
//!
//! **Pitfalls.**
//! * Ending the send when RDV *leaves* (no RDV_ACK): that is asynchronous send with a
//!   buffer, and the overlap fails as soon as the receiver enters its select after the
//!   sender has moved on.
//! * Answering an RDV that arrives while the receiver is not in a select naming its
//!   sender (`early_ack=true` keeps this bug for the checker's tests): the sender's
//!   statement ends before the receive has begun — asynchronous send with a buffer —
//!   and the overlap property fails. The RDV is buffered instead, unanswered (one per
//!   sender at most: a sender blocks until its RDV is taken).
//! * An output guard inside a choice needs the symmetric algorithm (both sides would
//!   have to agree): `select` with `!` and another guard is refused here, logged.
//!
//! **Properties.** After every event: a completed statement took one of its own guards;
//! the partner of a completed statement is blocked in the matching one (offering the
//! matching guard) or has completed it, so the send and the receive overlap; two
//! completed statements point at each other, with the same value (matched exactly once,
//! value intact). At quiescence: every statement completed — a deadlock breaks it, and
//! the checker calls that state a deadlock.
//!
//! **Costs** (derived). 2 messages per rendezvous: RDV = RDV_ACK = rendezvous.

#[path = "rendezvous_guards.rs"]
pub mod guards;
#[path = "rendezvous_workload.rs"]
pub mod workload;

use guards::{Done, Guard, HasScript, Input, Script};
use reparti_core::{
    Algorithm, AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, Context, Expectation, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, SpanSpec, WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use workload::Shape;

/// The workload's size, a parameter both rendezvous algorithms take.
pub(super) const RENDEZVOUS_PARAM: ParamSpec = ParamSpec::int(
    "rendezvous",
    "2",
    0,
    100,
    "rendezvous each process takes part in, on average (the workload plans ceil(rendezvous*n/2)); 0 = none, type them",
);
/// The workload's choice, a parameter both take.
pub(super) const CHOICE_PARAM: ParamSpec =
    ParamSpec::int("choice", "2", 1, 4, "most guards per select statement (1 = no choice)");

/// The console's commands.
pub(super) const fn commands(select_help: &'static str) -> [Command; 3] {
    [
        Command {
            word: "send",
            variant: "Send",
            args: &[CommandArg { field: "to", kind: ArgKind::Node }, CommandArg { field: "value", kind: ArgKind::Int }],
            help: "send VALUE to a node and block until it has taken it",
        },
        Command {
            word: "recv",
            variant: "Recv",
            args: &[CommandArg { field: "from", kind: ArgKind::Node }],
            help: "block until the node sends this one a value",
        },
        Command {
            word: "select",
            variant: "Select",
            args: &[CommandArg { field: "guards", kind: ArgKind::Text }],
            help: select_help,
        },
    ]
}

const PARAMS: &[ParamSpec] = &[
    RENDEZVOUS_PARAM,
    CHOICE_PARAM,
    ParamSpec::boolean(
        "early_ack",
        "false",
        "true = the classic mistake: RDV_ACK as soon as RDV arrives, receive or not (for the checker's tests)",
    ),
];

const COMMANDS: &[Command] = &commands("a choice of guards by position, e.g. `select ?1 ?3` (input guards only here)");

/// A select statement, drawn as a bar from entry to completion.
pub(super) const SPANS: &[SpanSpec] =
    &[SpanSpec { label: "blocked in a select", opens: guards::SELECT, closes: guards::RDV }];

/// A message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// "Take this value": the sender is blocked until it is taken.
    Rdv {
        /// The sender's statement number.
        select: u32,
        /// The value.
        value: i64,
    },
    /// "Taken": the sender's statement ends.
    RdvAck {
        /// The receiver's statement number.
        select: u32,
    },
}

/// One process.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// Its position.
    pub me: NodeId,
    /// The number of processes.
    pub n: u32,
    /// Its statements and how each ended.
    pub script: Script,
    /// RDVs not yet taken, by sender: (the sender's statement, the value).
    pub inbox: BTreeMap<NodeId, (u32, i64)>,
    /// Param `early_ack` (the broken variant): senders acknowledged on arrival.
    pub early_ack: Option<BTreeSet<NodeId>>,
}

impl HasScript for Node {
    fn script(&self) -> &Script {
        &self.script
    }
}

impl Node {
    /// Enters statements as long as one can start (a send) or complete at once (a
    /// receive with a buffered RDV).
    fn run(&mut self, ctx: &mut Context<'_, Msg>) {
        while let Some(k) = self.script.enter_next(ctx) {
            let Some((_, guards)) = self.script.current() else { return };
            if let (1, Some(Guard::Send { to, value })) = (guards.len(), guards.iter().next().copied()) {
                ctx.send(to, Msg::Rdv { select: k, value });
                return;
            }
            if !self.take_buffered(ctx) {
                return;
            }
        }
    }

    /// In a receive: takes the lowest buffered RDV from a sender it names, if any.
    fn take_buffered(&mut self, ctx: &mut Context<'_, Msg>) -> bool {
        let Some((k, guards)) = self.script.current() else { return false };
        let Some(&from) = self.inbox.keys().find(|s| guards.toward(**s) == Some(Guard::Recv { from: **s })) else {
            return false;
        };
        let Some((partner_select, value)) = self.inbox.remove(&from) else { return false };
        let acked_already = self.early_ack.as_mut().is_some_and(|acked| acked.remove(&from));
        if !acked_already {
            ctx.send(from, Msg::RdvAck { select: k });
        }
        self.script.complete(Done { partner: from, partner_select, value, sent: false }, ctx);
        true
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Rdv { select, value } => {
                if self.inbox.insert(from, (select, value)).is_some() {
                    ctx.log(format!("a second RDV from {from} before the first was taken: the first is lost"));
                }
                if self.take_buffered(ctx) {
                    self.run(ctx);
                } else if let Some(acked) = self.early_ack.as_mut() {
                    // THE MISTAKE (early_ack=true): "received" before any receive asked for
                    // it; the sender goes on as if the receive had happened, naming the
                    // statement this process is at (or will be at) as its partner.
                    acked.insert(from);
                    ctx.send(from, Msg::RdvAck { select: self.script.done.len() as u32 });
                }
            }
            Msg::RdvAck { select } => {
                let sending = self.script.current().and_then(|(_, g)| g.toward(from)).and_then(|g| g.sends());
                let Some(value) = sending else {
                    ctx.log(format!("RDV_ACK from {from}, which this process is not sending to: ignored"));
                    return;
                };
                self.script.complete(Done { partner: from, partner_select: select, value, sent: true }, ctx);
                self.run(ctx);
            }
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        let guards = input.into_guards();
        if let Err(why) = guards.fit(self.me, self.n as usize) {
            ctx.log(format!("{guards}: {why}; statement dropped"));
            return;
        }
        if guards.len() > 1 && guards.iter().any(|g| g.sends().is_some()) {
            ctx.log(format!(
                "{guards}: an output guard stands alone in asymmetric rendezvous (send, or use rendezvous-symmetric); statement dropped"
            ));
            return;
        }
        self.script.selects.push(guards);
        self.run(ctx);
    }
}

/// The asymmetric rendezvous. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Rendezvous {
    shape: Shape,
    early_ack: bool,
}

/// The messages a finished run must have sent per rendezvous, for both algorithms: the
/// number of rendezvous is half the statements entered.
pub(super) fn rendezvous_count(facts: &RunFacts<'_>) -> f64 {
    facts.output_count(guards::SELECT) as f64 / 2.0
}

impl Algorithm for Rendezvous {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["complete"],
            default_nodes: 4,
            commands: COMMANDS,
            spans: SPANS,
            ..AlgorithmSpec::new(
                "rendezvous",
                Chapter::Communication,
                "CSP rendezvous with input guards only: RDV, then RDV_ACK ends the send",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Rendezvous {
            shape: Shape { rendezvous: params.get("rendezvous")?, choice: params.get("choice")?, output_choice: false },
            early_ack: params.get("early_ack")?,
        })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        let early_ack = self.early_ack.then(BTreeSet::new);
        Node { me: setup.me, n: setup.n as u32, script: Script::default(), inbox: BTreeMap::new(), early_ack }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        workload::inputs(workload::draw(setup.n, &self.shape, rng))
    }

    fn properties(&self) -> Properties<Node> {
        Properties { invariants: guards::invariants(), terminal: guards::terminal() }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let r = rendezvous_count(facts);
        vec![
            Expectation::exact("RDV", "rendezvous (statements / 2)", r),
            Expectation::exact("RDV_ACK", "rendezvous", r),
            Expectation::exact("total", "2 per rendezvous", 2.0 * r),
        ]
    }
}

/// A select typed at the console, for the tests.
#[cfg(test)]
fn select(text: &str) -> Input {
    match text.parse::<guards::Guards>() {
        Ok(guards) => Input::Select { guards },
        Err(e) => panic!("{text}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler_harness::sends;
    use reparti_core::{Effect, TopologyKind};

    fn node(me: u32, n: u32) -> Node {
        Rendezvous { shape: Shape { rendezvous: 2, choice: 1, output_choice: false }, early_ack: false }
            .init(&NodeSetup::new(NodeId(me), u64::from(me), n as usize))
    }

    fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
        let (me, n) = (node.me, node.n as usize);
        crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
    }

    #[test]
    fn a_send_ends_only_on_its_ack() {
        let mut p = node(0, 3);
        let eff = run(&mut p, |s, c| s.on_input(Input::Send { to: NodeId(2), value: 7 }, c));
        assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Rdv { select: 0, value: 7 })]);
        assert!(p.script.current().is_some(), "blocked until RDV_ACK");
        run(&mut p, |s, c| s.on_message(NodeId(2), Msg::RdvAck { select: 4 }, c));
        assert_eq!(p.script.done, vec![Done { partner: NodeId(2), partner_select: 4, value: 7, sent: true }]);
    }

    #[test]
    fn an_early_rdv_waits_for_a_receive_that_names_its_sender() {
        let mut q = node(2, 3);
        assert!(sends(&run(&mut q, |s, c| s.on_message(NodeId(0), Msg::Rdv { select: 0, value: 7 }, c))).is_empty());
        assert!(sends(&run(&mut q, |s, c| s.on_input(Input::Recv { from: NodeId(1) }, c))).is_empty());
        assert_eq!(q.inbox.len(), 1, "the RDV from 0 is not for ?1");
        let eff = run(&mut q, |s, c| s.on_message(NodeId(1), Msg::Rdv { select: 3, value: 9 }, c));
        assert_eq!(sends(&eff), vec![(NodeId(1), Msg::RdvAck { select: 0 })]);
        let eff = run(&mut q, |s, c| s.on_input(select("?0 ?1"), c));
        assert_eq!(sends(&eff), vec![(NodeId(0), Msg::RdvAck { select: 1 })], "the buffered one, at once");
        assert_eq!(q.script.done[1], Done { partner: NodeId(0), partner_select: 0, value: 7, sent: false });
    }

    #[test]
    fn an_output_guard_in_a_choice_is_refused() {
        let mut p = node(0, 3);
        run(&mut p, |s, c| s.on_input(select("!1(5) ?2"), c));
        run(&mut p, |s, c| s.on_input(select("?0"), c));
        assert!(p.script.selects.is_empty());
    }
}

//! # FIFO over non-FIFO channels: sequence numbers and a hold-back queue, under any algorithm
//!
//! **What.** A layer that runs *under* any algorithm of the library and gives it FIFO
//! channels on a network that reorders: the sender numbers its messages per
//! destination, the receiver holds back a message that arrives early and delivers it
//! once every earlier one from the same sender has been delivered. Named on the command
//! line by suffixing the algorithm: `lamport-mutex+fifo` (or `--fifo-layer`).
//!
//! **Source.** The sliding-window protocols of data links (A. S. Tanenbaum, *Computer
//! Networks*, ch. 3); in distributed algorithms as a channel property built from
//! sequence numbers: M. Raynal, *Distributed Algorithms for Message-Passing Systems*,
//! Springer 2013, §1.3; G. Tel, *Introduction to Distributed Algorithms*, 2nd ed., §3.1.
//!
//! ```text
//! send_fifo(j, m):       send DATA(seq_out[j], m) to j; seq_out[j] += 1
//! on DATA(s, m) from i:  hold[i][s] = m
//!                        while next_in[i] ∈ hold[i]: deliver(hold[i].remove(next_in[i])); next_in[i] += 1
//! bounded (window W):    at most W messages sent to j and not acknowledged; DATA carries s mod W;
//!                        the receiver recovers s = next_in + ((s_wire − next_in) mod W) and
//!                        acknowledges cumulatively, ACK(next_in[i]), once ⌈W/2⌉ deliveries are
//!                        unacknowledged; a message beyond the window waits at the sender
//! ```
//!
//! **How it runs here.** [`FifoLayer<A>`] is an algorithm whose node holds the
//! application's node and runs its handlers through `Context::lift`, numbering each
//! message the application sends; its messages are the application's, wrapped
//! ([`Sequenced`]), counted under the application's own kinds, plus `FIFO_ACK` for the
//! bounded variant. The application's properties are judged on the layered run
//! (`reparti_core::lift_properties`): a message held back is still in transit for the
//! application, so "exactly one token" counts a token in a hold-back queue. Every
//! engine runs it unchanged, and it declares no FIFO need: its default network is the
//! unordered one. Parameters: the application's, plus `fifo_window` (0 = unbounded
//! sequence numbers) and `fifo_window_kept` (false: the sender ignores the window — the
//! classic mistake, for the checker to catch).
//!
//! **Pitfalls.**
//! * Sequence numbers are per *channel* (per destination at the sender, per source at
//!   the receiver): one counter per node makes every receiver wait for numbers that
//!   went elsewhere.
//! * With numbers mod W, the window is what makes them unambiguous: a sender that has
//!   more than W messages unacknowledged lets `s` and `s + W` travel together, and the
//!   receiver delivers the later one in the earlier one's place.
//! * Acknowledgements reorder too: the sender keeps the largest cumulative count seen,
//!   never the last one received.
//! * The layer needs reliable channels (no loss, no duplication): on a lossy network
//!   run it over the reliable layer of `reparti run`; a duplicate would be delivered twice.
//!
//! **Properties.** The application's, lifted. The layer's own, after every event: no
//! channel has more than W unacknowledged messages (unless told to ignore it) and a
//! held-back message always waits for an earlier one; at quiescence, nothing is held
//! back nor waiting for the window (every message delivered).
//!
//! **Costs.** No extra message without a window (only the sequence number); with a
//! window W, at most ⌊DATA / ⌈W/2⌉⌋ `FIFO_ACK` — one per batch of at least ⌈W/2⌉
//! deliveries on a channel (a batch: what one arrival releases from the hold-back
//! queue) — and at least ⌈(d − W)/W⌉ on a channel carrying d messages, which the
//! sender needs to get them all through the window.

use reparti_core::layer::{app_expected, control_kinds_with, kinds_with, layered_spec};
use reparti_core::{
    lift_properties, Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Layer, Message, NodeId, NodeSetup,
    ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Symmetry, Terminal, Timer,
    WorkloadSetup,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// The suffix that names an algorithm run over the FIFO layer: `lamport-mutex+fifo`.
pub const SUFFIX: &str = "+fifo";

/// The layer's own parameters, appended to the application's.
const OWN_PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "fifo_window",
        "0",
        0,
        1 << 20,
        "FIFO layer: at most W unacknowledged messages per channel, numbered mod W (0: unbounded numbers, no ACK)",
    ),
    ParamSpec::boolean(
        "fifo_window_kept",
        "true",
        "FIFO layer: false lets the sender exceed the window (the classic mistake)",
    ),
];

/// A message of the layer: an application message with its sequence number, or an
/// acknowledgement of the bounded variant.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Sequenced<M: Message> {
    /// The application's message `msg`, the `seq`-th on its channel (mod W with a window).
    Data {
        /// Its number on the channel (mod W with a window).
        seq: u64,
        /// The application's message.
        msg: M,
    },
    /// "I have delivered your first `count` messages."
    Ack {
        /// How many messages of the channel were delivered.
        count: u64,
    },
}

impl<M: Message> Message for Sequenced<M> {
    fn kinds() -> &'static [&'static str] {
        kinds_with::<Sequenced<M>, M>(&["FIFO_ACK"])
    }

    fn control_kinds() -> &'static [&'static str] {
        control_kinds_with::<Sequenced<M>, M>(&["FIFO_ACK"])
    }

    fn kind(&self) -> usize {
        match self {
            Sequenced::Data { msg, .. } => msg.kind(),
            Sequenced::Ack { .. } => M::kinds().len(),
        }
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        if let Sequenced::Data { msg, .. } = self {
            msg.rename_nodes(map)
        }
    }
}

/// The sending side of one channel.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Outgoing<M: Message> {
    /// How many messages were sent on it (the next one's number).
    pub sent: u64,
    /// How many the receiver has acknowledged (the largest count seen).
    pub acked: u64,
    /// Messages the application sent that wait for room in the window, in order.
    pub waiting: VecDeque<M>,
}

/// The receiving side of one channel.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Incoming<M: Message> {
    /// The number of the next message to deliver (= how many were delivered).
    pub next: u64,
    /// The count last acknowledged to the sender.
    pub acked: u64,
    /// Messages that arrived before an earlier one, by number.
    pub held: BTreeMap<u64, M>,
}

// Written by hand: a derived `Default` would ask the application's messages for one.
impl<M: Message> Default for Outgoing<M> {
    fn default() -> Self {
        Outgoing { sent: 0, acked: 0, waiting: VecDeque::new() }
    }
}

impl<M: Message> Default for Incoming<M> {
    fn default() -> Self {
        Incoming { next: 0, acked: 0, held: BTreeMap::new() }
    }
}

/// A node: the application's node and the layer's channels, by peer.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct FifoNode<P: Process> {
    /// The application's node.
    pub app: P,
    /// This node's position.
    pub me: NodeId,
    /// The window W (0: unbounded numbers).
    pub window: u64,
    /// Whether the sender keeps to the window.
    pub window_kept: bool,
    /// Channels to each destination used so far.
    pub out: BTreeMap<NodeId, Outgoing<P::Msg>>,
    /// Channels from each source heard so far.
    pub incoming: BTreeMap<NodeId, Incoming<P::Msg>>,
}

type Ctx<'a, P> = Context<'a, Sequenced<<P as Process>::Msg>>;

impl<P: Process> FifoNode<P> {
    /// Numbers `msg` for `to`, or keeps it until the window has room.
    fn stamp(
        out: &mut BTreeMap<NodeId, Outgoing<P::Msg>>,
        window: u64,
        kept: bool,
        to: NodeId,
        msg: P::Msg,
    ) -> Option<Sequenced<P::Msg>> {
        let channel = out.entry(to).or_default();
        let full = window > 0 && kept && channel.sent - channel.acked >= window;
        if full || !channel.waiting.is_empty() {
            channel.waiting.push_back(msg);
            return None;
        }
        let seq = if window > 0 { channel.sent % window } else { channel.sent };
        channel.sent += 1;
        Some(Sequenced::Data { seq, msg })
    }

    /// Runs one of the application's handlers, numbering what it sends.
    fn run_app(&mut self, ctx: &mut Ctx<'_, P>, handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) {
        let FifoNode { app, out, window, window_kept, .. } = self;
        ctx.lift(|c| handler(app, c), |to, msg| Self::stamp(out, *window, *window_kept, to, msg));
    }

    /// Sends what waited for the window to `to`, as far as the window now allows.
    fn release(&mut self, to: NodeId, ctx: &mut Ctx<'_, P>) {
        let window = self.window;
        let Some(channel) = self.out.get_mut(&to) else { return };
        while channel.sent - channel.acked < window {
            let Some(msg) = channel.waiting.pop_front() else { break };
            let seq = channel.sent % window;
            channel.sent += 1;
            ctx.send(to, Sequenced::Data { seq, msg });
        }
    }

    /// Takes DATA number `wire` from `from`, and delivers every message now in order.
    fn arrive(&mut self, from: NodeId, wire: u64, msg: P::Msg, ctx: &mut Ctx<'_, P>) {
        let window = self.window;
        let channel = self.incoming.entry(from).or_default();
        let seq = if window > 0 { channel.next + (wire + window - channel.next % window) % window } else { wire };
        if seq != channel.next {
            ctx.log(format!("FIFO layer: holds back message #{seq} from {from}, waiting for #{}", channel.next));
        }
        channel.held.insert(seq, msg);
        loop {
            let channel = self.incoming.entry(from).or_default();
            let next = channel.next;
            let Some(msg) = channel.held.remove(&next) else { break };
            channel.next += 1;
            self.run_app(ctx, |app, c| app.on_message(from, msg, c));
        }
        let channel = self.incoming.entry(from).or_default();
        if window > 0 && channel.next - channel.acked >= window.div_ceil(2) {
            channel.acked = channel.next;
            ctx.send(from, Sequenced::Ack { count: channel.next });
        }
    }
}

impl<P: Process> Process for FifoNode<P> {
    type Msg = Sequenced<P::Msg>;
    type Input = P::Input;

    fn on_start(&mut self, ctx: &mut Ctx<'_, P>) {
        self.run_app(ctx, |app, c| app.on_start(c));
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, P>) {
        match msg {
            Sequenced::Data { seq, msg } => self.arrive(from, seq, msg, ctx),
            Sequenced::Ack { count } => {
                let channel = self.out.entry(from).or_default();
                channel.acked = channel.acked.max(count);
                self.release(from, ctx);
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_, P>) {
        self.run_app(ctx, |app, c| app.on_timer(timer, c));
    }

    fn on_input(&mut self, input: P::Input, ctx: &mut Ctx<'_, P>) {
        self.run_app(ctx, |app, c| app.on_input(input, c));
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        self.app.rename_nodes(map);
        self.me = map[self.me.index()];
        let rename = |k: NodeId| map[k.index()];
        self.out = std::mem::take(&mut self.out)
            .into_iter()
            .map(|(k, mut c)| {
                c.waiting.iter_mut().for_each(|m| m.rename_nodes(map));
                (rename(k), c)
            })
            .collect();
        self.incoming = std::mem::take(&mut self.incoming)
            .into_iter()
            .map(|(k, mut c)| {
                c.held.values_mut().for_each(|m| m.rename_nodes(map));
                (rename(k), c)
            })
            .collect();
    }
}

impl<P: Process> Layer for FifoNode<P> {
    type App = P;

    fn app(&self) -> &P {
        &self.app
    }

    fn carried(msg: &Self::Msg) -> Option<&P::Msg> {
        match msg {
            Sequenced::Data { msg, .. } => Some(msg),
            Sequenced::Ack { .. } => None,
        }
    }

    fn held(&self, visit: &mut dyn FnMut(NodeId, NodeId, &P::Msg)) {
        for (from, channel) in &self.incoming {
            channel.held.values().for_each(|m| visit(*from, self.me, m));
        }
        for (to, channel) in &self.out {
            channel.waiting.iter().for_each(|m| visit(self.me, *to, m));
        }
    }
}

/// The algorithm `A` run over the FIFO layer (see the [module documentation](self)).
pub struct FifoLayer<A> {
    app: A,
    window: u64,
    window_kept: bool,
}

/// The window is kept: no channel has more than W messages unacknowledged.
fn window_kept<P: Process>(s: &FifoNode<P>) -> Result<(), String> {
    match s.out.iter().find(|(_, c)| s.window > 0 && c.sent - c.acked > s.window) {
        Some((to, c)) => Err(format!(
            "node {} has {} messages unacknowledged by {to}, for a window of {}",
            s.me,
            c.sent - c.acked,
            s.window
        )),
        None => Ok(()),
    }
}

/// A held-back message waits for an earlier one: it never holds the next number.
fn held_waits<P: Process>(s: &FifoNode<P>) -> Result<(), String> {
    match s.incoming.iter().find(|(_, c)| c.held.keys().next().is_some_and(|&k| k <= c.next)) {
        Some((from, c)) => Err(format!(
            "node {} holds back message {} from {from} although it expects number {}",
            s.me,
            c.held.keys().next().copied().unwrap_or(0),
            c.next
        )),
        None => Ok(()),
    }
}

impl<A: Algorithm> Algorithm for FifoLayer<A> {
    type Node = FifoNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        layered_spec::<Self, A>(SUFFIX, "over the FIFO layer (sequence numbers, hold-back)", OWN_PARAMS, false)
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(FifoLayer {
            app: A::from_params(params)?,
            window: params.get("fifo_window")?,
            window_kept: params.get("fifo_window_kept")?,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        FifoNode {
            app: self.app.init(setup),
            me: setup.me,
            window: self.window,
            window_kept: self.window_kept,
            out: BTreeMap::new(),
            incoming: BTreeMap::new(),
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
        // Not for the variant that ignores the window on purpose: it is there to show
        // what the window is for, the application's order breaking.
        if self.window > 0 && self.window_kept {
            props.invariants.push(Invariant::<Self::Node>::local(
                "FIFO layer: at most W messages unacknowledged per channel",
                window_kept,
            ));
        }
        props.invariants.push(Invariant::<Self::Node>::local(
            "FIFO layer: a held-back message waits for an earlier one",
            held_waits,
        ));
        props.terminal.push(Terminal::<Self::Node>::new(
            "FIFO layer: every message delivered (nothing held back or waiting)",
            |w| {
                for s in w.nodes {
                    let mut held = 0;
                    s.held(&mut |_, _, _| held += 1);
                    if held > 0 {
                        return Err(format!(
                            "node {} still holds {held} message(s) back or waiting for the window",
                            s.me
                        ));
                    }
                }
                Ok(())
            },
        ));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let mut expected = app_expected::<<A::Node as Process>::Msg>(self.app.expected(facts));
        if self.window == 0 {
            expected.push(Expectation::exact("FIFO_ACK", "0 (sequence numbers only)", 0.0));
        } else {
            let data: u64 = facts.sent_by_type.iter().filter(|(k, _)| k.as_str() != "FIFO_ACK").map(|(_, v)| v).sum();
            let per = self.window.div_ceil(2);
            expected.push(Expectation::at_most(
                "FIFO_ACK",
                format!("⌊DATA / ⌈W/2⌉⌋ = ⌊DATA / {per}⌋"),
                (data / per) as f64,
            ));
        }
        expected
    }

    fn symmetry(&self) -> Symmetry {
        self.app.symmetry()
    }
}

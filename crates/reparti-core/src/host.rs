//! The node host: the one place where a handler runs and its effects are applied.
//!
//! Every engine — the simulator, the model checker, its counterexample writer, the
//! network runtime and the test kits — runs a node the same way, and this module is that
//! way, written once:
//!
//! 1. the clock rule of the event: [`NodeHost::merge`] for a delivery (the maximum, plus
//!    one); nothing for a start, a timer or an input, which are the framework's events,
//!    not the algorithm's (Lamport's clocks count sends, receives and the local events an
//!    algorithm declares with [`Context::local_event`]);
//! 2. the handler, through a [`Context`] only the host can build ([`NodeHost::run`]);
//! 3. the handler's effects, in the order it made them, reported to the engine through
//!    the small [`EffectSink`] trait ([`NodeHost::apply`]): the engine decides what a send
//!    *means* (a queue entry, a packet in a checker state, a datagram) but not the rules,
//!    which are the host's:
//!    * a send to a node outside the run (`to ≥ n`) is never delivered: it counts as
//!      sent and is reported through [`EffectSink::send_nowhere`], which every engine
//!      records as a drop with the reason [`NO_SUCH_NODE`];
//!    * an output or a log line carries the clock of the moment it was made — the stamp of
//!      the send just before it in the handler, or the clock the handler started with —
//!      not the clock the handler ended with;
//!    * a clock may be read only by an algorithm that declares
//!      [`AlgorithmSpec::reads_clocks`](crate::AlgorithmSpec::reads_clocks): the others
//!      get a clear error at their first read, in every engine alike.
//!
//! Running the handler and applying its effects are two calls, so that an engine can
//! lend the node's state and clocks to the first and itself (as the sink) to the second
//! without the borrows meeting.
//!
//! Timer delays are in **time units** everywhere: a simulated time unit in the
//! simulator, and [`TIME_UNIT_MS`] milliseconds on a real network.

use crate::clock;
use crate::context::{ClockChange, Context, Effect, OutputValue, PhysicalNow};
use crate::id::NodeId;
use crate::process::{Process, Timer};
use crate::topology::Neighbours;

/// The reason every engine gives when a message is sent to a node that does not exist.
pub const NO_SUCH_NODE: &str = "no such node";

/// How many milliseconds one time unit lasts on a real network: a timer set for `d`
/// units fires `d × TIME_UNIT_MS` ms later. The simulator's unit is the same number as
/// its default message delay, so a protocol's timeouts read alike in both.
pub const TIME_UNIT_MS: f64 = 1.0;

/// A node's clocks, wherever the engine keeps them.
pub struct ClockSlot<'a> {
    /// The Lamport clock.
    pub lamport: &'a mut u64,
    /// The vector clock, when the engine keeps vector clocks.
    pub vector: Option<&'a mut [u64]>,
    /// The physical clock and real time now, when the engine keeps physical clocks
    /// (for algorithms that declare `reads_physical_clock`).
    pub physical: Option<PhysicalNow<'a>>,
}

impl<'a> ClockSlot<'a> {
    /// The logical clocks only.
    pub fn logical(lamport: &'a mut u64, vector: Option<&'a mut [u64]>) -> Self {
        ClockSlot { lamport, vector, physical: None }
    }
}

/// A clock value at one moment of a handler: what an output or a log line is traced with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockAt<'a> {
    /// The Lamport clock.
    pub lamport: u64,
    /// The vector clock, when kept.
    pub vector: Option<&'a [u64]>,
}

/// One message a handler sent, stamped with its sender's clocks after the send's tick.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent<M> {
    /// The sender.
    pub from: NodeId,
    /// The destination.
    pub to: NodeId,
    /// The message.
    pub msg: M,
    /// The sender's Lamport clock after the send.
    pub lamport: u64,
    /// The sender's vector clock after the send, when kept.
    pub vector: Option<Box<[u64]>>,
}

/// What an engine does with a handler's effects. The host calls these in the order the
/// handler made the effects, after the handler has returned.
pub trait EffectSink<M> {
    /// A message to a node of the run (`to < n`).
    fn send(&mut self, sent: Sent<M>);
    /// A message to a node outside the run: it counts as sent, and is dropped with the
    /// reason [`NO_SUCH_NODE`] (traced so, where the engine traces). Never delivered.
    fn send_nowhere(&mut self, sent: Sent<M>);
    /// Set (or reset) `timer` at `node` to fire after `after` time units.
    fn set_timer(&mut self, node: NodeId, timer: Timer, after: f64);
    /// Cancel `timer` at `node` if it is pending.
    fn cancel_timer(&mut self, node: NodeId, timer: Timer);
    /// `node` made `value` observable under `key`, at the clock `at`.
    fn output(&mut self, node: NodeId, key: &'static str, value: OutputValue, at: ClockAt<'_>);
    /// `node` logged a line, at the clock `at`.
    fn log(&mut self, node: NodeId, text: String, at: ClockAt<'_>);
    /// `node` performed a local event ([`Context::local_event`]); its clocks are now `at`.
    fn local_event(&mut self, node: NodeId, at: ClockAt<'_>);
    /// `node` corrected its physical clock (the clock already shows it): engines that
    /// trace say so. Nothing by default.
    fn clock_changed(&mut self, _node: NodeId, _change: ClockChange, _at: ClockAt<'_>) {}
}

/// Where a node stands in the run: what its context lets it see.
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    /// Its position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: usize,
    /// Its out-neighbours.
    pub neighbours: Neighbours<'a>,
}

/// Runs handlers and applies their effects (see the module documentation). One host
/// serves every node of an engine; it keeps only reusable buffers between handlers.
#[derive(Debug)]
pub struct NodeHost<M> {
    reads_clocks: bool,
    effects: Vec<Effect<M>>,
    /// Who made the waiting effects, and the clocks they are traced with.
    moment: Moment,
}

/// The node whose effects wait to be applied, and the clock of each moment of its
/// handler: kept apart from the effects so that applying them can drain one and read
/// the other.
#[derive(Debug, Default)]
struct Moment {
    me: NodeId,
    n: usize,
    /// The clock the handler started with (after its delivery's merge).
    start_lamport: u64,
    start_vector: Vec<u64>,
    has_vector: bool,
    /// The last send's or local event's stamp, for outputs and logs after it.
    stamp_lamport: u64,
    stamp_vector: Vec<u64>,
}

impl Moment {
    fn stamp(&mut self, lamport: u64, vector: Option<&[u64]>) {
        self.stamp_lamport = lamport;
        self.stamp_vector.clear();
        if let Some(v) = vector {
            self.stamp_vector.extend_from_slice(v);
        }
    }

    fn at(&self, ticked_yet: bool) -> ClockAt<'_> {
        let (lamport, vector) = if ticked_yet {
            (self.stamp_lamport, &self.stamp_vector)
        } else {
            (self.start_lamport, &self.start_vector)
        };
        ClockAt { lamport, vector: self.has_vector.then_some(vector.as_slice()) }
    }
}

impl<M> Default for NodeHost<M> {
    fn default() -> Self {
        NodeHost::new(false)
    }
}

impl<M> NodeHost<M> {
    /// A host for an algorithm that does (`reads_clocks`) or does not read its clocks.
    pub fn new(reads_clocks: bool) -> Self {
        NodeHost { reads_clocks, effects: Vec::new(), moment: Moment::default() }
    }

    /// Whether the algorithm may read its clocks.
    pub fn reads_clocks(&self) -> bool {
        self.reads_clocks
    }

    /// The clock rule of a delivery at node `me` of a message stamped `lamport`/`vector`.
    #[inline]
    pub fn merge(me: NodeId, clocks: ClockSlot<'_>, lamport: u64, vector: Option<&[u64]>) {
        clock::merge(clocks.lamport, clocks.vector, me.index(), lamport, vector);
    }
}

impl<M: Clone> NodeHost<M> {
    /// Runs one handler of `node` (a delivery's merge already applied). Its effects
    /// wait in the host until [`NodeHost::apply`].
    #[inline(always)]
    pub fn run<P: Process<Msg = M>>(
        &mut self,
        place: Place<'_>,
        node: &mut P,
        clocks: ClockSlot<'_>,
        handler: impl FnOnce(&mut P, &mut Context<'_, M>),
    ) {
        debug_assert!(self.effects.is_empty(), "effects of an earlier handler were never applied");
        let moment = &mut self.moment;
        moment.me = place.me;
        moment.n = place.n;
        moment.start_lamport = *clocks.lamport;
        let ClockSlot { lamport, mut vector, physical } = clocks;
        {
            let vector = vector.as_deref_mut();
            let mut ctx = Context::new(
                place.me,
                place.n,
                place.neighbours,
                ClockSlot { lamport, vector, physical },
                &mut self.effects,
                self.reads_clocks,
            );
            handler(node, &mut ctx);
        }
        // Only sends and local events tick the clock inside a handler, each by one: the
        // clock the handler started with is the one it ended with, less one per tick.
        // Rebuilding it here, and only when an output or a log needs it, keeps the common
        // handler copy-free.
        moment.has_vector = vector.is_some();
        if let Some(v) = vector.as_deref() {
            let mut ticks = 0;
            let mut needed = false;
            for e in &self.effects {
                match e {
                    Effect::Send { .. } | Effect::Local { .. } => ticks += 1,
                    Effect::Output { .. } | Effect::Log(_) | Effect::Clock(_) if ticks == 0 => needed = true,
                    _ => {}
                }
            }
            if needed {
                moment.start_vector.clear();
                moment.start_vector.extend_from_slice(v);
                moment.start_vector[place.me.index()] -= ticks;
            }
        }
    }

    /// Applies the effects of the last handler run, in order, through `sink`.
    // Always inlined: in the checker and the simulator this is the per-event hot path,
    // and merged into its caller it costs what each engine's own copy cost before.
    #[inline(always)]
    pub fn apply<S: EffectSink<M> + ?Sized>(&mut self, sink: &mut S) {
        let moment = &mut self.moment;
        let me = moment.me;
        // An output or a log after a send is traced with that send's stamp, which moves
        // into the sink: keep a copy, but only when the handler made any output or log.
        let notes = self.effects.iter().any(|e| matches!(e, Effect::Output { .. } | Effect::Log(_) | Effect::Clock(_)));
        let mut ticked_yet = false;
        for effect in self.effects.drain(..) {
            match effect {
                Effect::Send { to, msg, lamport, vector } => {
                    if notes {
                        moment.stamp(lamport, vector.as_deref());
                    }
                    ticked_yet = true;
                    let sent = Sent { from: me, to, msg, lamport, vector };
                    if to.index() < moment.n {
                        sink.send(sent);
                    } else {
                        sink.send_nowhere(sent);
                    }
                }
                Effect::SetTimer { timer, after } => sink.set_timer(me, timer, after),
                Effect::CancelTimer { timer } => sink.cancel_timer(me, timer),
                Effect::Output { key, value } => sink.output(me, key, value, moment.at(ticked_yet)),
                Effect::Log(text) => sink.log(me, text, moment.at(ticked_yet)),
                Effect::Clock(change) => sink.clock_changed(me, change, moment.at(ticked_yet)),
                Effect::Local { lamport, vector } => {
                    if notes {
                        moment.stamp(lamport, vector.as_deref());
                    }
                    ticked_yet = true;
                    sink.local_event(me, ClockAt { lamport, vector: vector.as_deref() });
                }
            }
        }
    }

    /// Runs a handler and applies its effects at once, for engines whose sink is not the
    /// owner of the node.
    pub fn handle<P: Process<Msg = M>, S: EffectSink<M> + ?Sized>(
        &mut self,
        place: Place<'_>,
        node: &mut P,
        clocks: ClockSlot<'_>,
        handler: impl FnOnce(&mut P, &mut Context<'_, M>),
        sink: &mut S,
    ) {
        self.run(place, node, clocks, handler);
        self.apply(sink);
    }
}

/// A node's pending timers, by name, each with what its engine keeps for it (a
/// generation, a deadline, nothing). Sorted by name, so that timers due together fire
/// in a fixed order and the table prints and hashes the same on every run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timers<V> {
    pending: Vec<(Timer, V)>,
}

impl<V> Default for Timers<V> {
    fn default() -> Self {
        Timers { pending: Vec::new() }
    }
}

impl<V> Timers<V> {
    /// Sets `timer` to `value`, replacing (and returning) what it had.
    pub fn set(&mut self, timer: Timer, value: V) -> Option<V> {
        match self.pending.binary_search_by(|(t, _)| (*t).cmp(timer)) {
            Ok(at) => Some(std::mem::replace(&mut self.pending[at].1, value)),
            Err(at) => {
                self.pending.insert(at, (timer, value));
                None
            }
        }
    }

    /// Removes `timer`, returning what it had.
    pub fn cancel(&mut self, timer: Timer) -> Option<V> {
        let at = self.pending.binary_search_by(|(t, _)| (*t).cmp(timer)).ok()?;
        Some(self.pending.remove(at).1)
    }

    /// What `timer` has, if it is pending.
    pub fn get(&self, timer: Timer) -> Option<&V> {
        let at = self.pending.binary_search_by(|(t, _)| (*t).cmp(timer)).ok()?;
        Some(&self.pending[at].1)
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// How many timers are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// The pending timers, by name.
    pub fn iter(&self) -> impl Iterator<Item = (Timer, &V)> {
        self.pending.iter().map(|(t, v)| (*t, v))
    }
}

impl<V: Ord + Copy> Timers<V> {
    /// The timer with the least value (the next due, when values are deadlines); ties
    /// go to the first name.
    pub fn earliest(&self) -> Option<(Timer, V)> {
        self.pending.iter().min_by_key(|(_, v)| *v).map(|(t, v)| (*t, *v))
    }
}

/// A sink that keeps every effect as it is applied, in order: for test kits and tools
/// that drive handlers by hand and look at what they did. A send to a node outside the
/// run is kept as a send too (it is one, that the engines then drop).
#[derive(Clone, Debug, PartialEq)]
pub struct Recorder<M> {
    /// The effects, in the order the handlers made them.
    pub effects: Vec<Effect<M>>,
}

impl<M> Default for Recorder<M> {
    fn default() -> Self {
        Recorder { effects: Vec::new() }
    }
}

impl<M> EffectSink<M> for Recorder<M> {
    fn send(&mut self, sent: Sent<M>) {
        let Sent { to, msg, lamport, vector, .. } = sent;
        self.effects.push(Effect::Send { to, msg, lamport, vector });
    }

    fn send_nowhere(&mut self, sent: Sent<M>) {
        self.send(sent);
    }

    fn set_timer(&mut self, _node: NodeId, timer: Timer, after: f64) {
        self.effects.push(Effect::SetTimer { timer, after });
    }

    fn cancel_timer(&mut self, _node: NodeId, timer: Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }

    fn output(&mut self, _node: NodeId, key: &'static str, value: OutputValue, _at: ClockAt<'_>) {
        self.effects.push(Effect::Output { key, value });
    }

    fn log(&mut self, _node: NodeId, text: String, _at: ClockAt<'_>) {
        self.effects.push(Effect::Log(text));
    }

    fn local_event(&mut self, _node: NodeId, at: ClockAt<'_>) {
        self.effects.push(Effect::Local { lamport: at.lamport, vector: at.vector.map(Box::from) });
    }

    fn clock_changed(&mut self, _node: NodeId, change: ClockChange, _at: ClockAt<'_>) {
        self.effects.push(Effect::Clock(change));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Topology, TopologyKind};
    use serde::{Deserialize, Serialize};

    #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    struct Ping;
    impl crate::Message for Ping {
        fn kinds() -> &'static [&'static str] {
            &["PING"]
        }
        fn kind(&self) -> usize {
            0
        }
    }

    /// Outputs, sends a ping to its neighbour and to node 9 (outside a 3-node run),
    /// then outputs again.
    #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    struct Chatty;
    impl Process for Chatty {
        type Msg = Ping;
        type Input = ();
        fn on_start(&mut self, ctx: &mut Context<'_, Ping>) {
            ctx.output("before", 1);
            ctx.broadcast(Ping);
            ctx.send(NodeId(9), Ping);
            ctx.log("after");
        }
        fn on_message(&mut self, _: NodeId, _: Ping, _: &mut Context<'_, Ping>) {}
    }

    #[derive(Default)]
    struct Seen {
        sent: Vec<(u32, u64)>,
        nowhere: Vec<u32>,
        moments: Vec<(u64, Vec<u64>)>,
        locals: Vec<u64>,
    }
    impl EffectSink<Ping> for Seen {
        fn send(&mut self, s: Sent<Ping>) {
            self.sent.push((s.to.0, s.lamport));
        }
        fn send_nowhere(&mut self, s: Sent<Ping>) {
            self.nowhere.push(s.to.0);
        }
        fn set_timer(&mut self, _: NodeId, _: Timer, _: f64) {}
        fn cancel_timer(&mut self, _: NodeId, _: Timer) {}
        fn output(&mut self, _: NodeId, _: &'static str, _: OutputValue, at: ClockAt<'_>) {
            self.moments.push((at.lamport, at.vector.map(<[u64]>::to_vec).unwrap_or_default()));
        }
        fn log(&mut self, _: NodeId, _: String, at: ClockAt<'_>) {
            self.moments.push((at.lamport, at.vector.map(<[u64]>::to_vec).unwrap_or_default()));
        }
        fn local_event(&mut self, _: NodeId, at: ClockAt<'_>) {
            self.locals.push(at.lamport);
        }
    }

    #[test]
    fn sends_outside_the_run_go_nowhere_and_outputs_carry_the_clock_of_their_moment() {
        let topology = Topology::build(&TopologyKind::Ring, 3, &mut crate::rng(0)).expect("a ring");
        let me = NodeId(1);
        let (mut lamport, mut vector) = (1, vec![0, 1, 0]);
        let mut host = NodeHost::new(false);
        let place = Place { me, n: 3, neighbours: topology.neighbours(me) };
        let mut seen = Seen::default();
        let clocks = ClockSlot::logical(&mut lamport, Some(&mut vector));
        host.handle(place, &mut Chatty, clocks, |p, ctx| p.on_start(ctx), &mut seen);
        assert_eq!(seen.sent, vec![(2, 2)], "the neighbour's ping, stamped after its tick");
        assert_eq!(seen.nowhere, vec![9], "node 9 is outside the run");
        assert_eq!(seen.moments, vec![(1, vec![0, 1, 0]), (3, vec![0, 3, 0])], "start's clock, then the last send's");
        assert_eq!((lamport, vector), (3, vec![0, 3, 0]));
    }

    /// TP6's rules, as the host applies them: a start leaves the clocks at 0, a local
    /// event adds one, a send adds one then stamps, a receive takes the maximum plus one.
    #[test]
    fn clocks_follow_the_sheet_start_local_send_receive() {
        #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
        struct Dated;
        impl Process for Dated {
            type Msg = Ping;
            type Input = ();
            fn on_start(&mut self, ctx: &mut Context<'_, Ping>) {
                ctx.output("start", 0);
                ctx.local_event();
                ctx.output("after_local", 0);
                ctx.send(NodeId(0), Ping);
            }
            fn on_message(&mut self, _: NodeId, _: Ping, ctx: &mut Context<'_, Ping>) {
                ctx.output("received", 0);
            }
        }
        let topology = Topology::build(&TopologyKind::Ring, 2, &mut crate::rng(0)).expect("a ring");
        let me = NodeId(1);
        let place = Place { me, n: 2, neighbours: topology.neighbours(me) };
        let (mut lamport, mut vector) = (0, vec![0; 2]);
        let mut host = NodeHost::new(false);
        let mut seen = Seen::default();
        let clocks = ClockSlot::logical(&mut lamport, Some(&mut vector));
        host.handle(place, &mut Dated, clocks, |p, ctx| p.on_start(ctx), &mut seen);
        assert_eq!(seen.moments[0], (0, vec![0, 0]), "starting is not an event: the clock is still 0");
        assert_eq!(seen.locals, vec![1], "a local event adds one");
        assert_eq!(seen.moments[1], (1, vec![0, 1]), "an output after it carries its clock");
        assert_eq!(seen.sent, vec![(0, 2)], "a send adds one, then stamps");
        // A message stamped 7 (vector [7, 0]) arrives: max(2, 7) + 1.
        NodeHost::<Ping>::merge(me, ClockSlot::logical(&mut lamport, Some(&mut vector)), 7, Some(&[7, 0]));
        let clocks = ClockSlot::logical(&mut lamport, Some(&mut vector));
        host.handle(place, &mut Dated, clocks, |p, ctx| p.on_message(NodeId(0), Ping, ctx), &mut seen);
        assert_eq!(seen.moments[2], (8, vec![7, 3]), "a receive takes the maximum, plus one");
    }

    #[test]
    #[should_panic(expected = "reads_clocks")]
    fn an_algorithm_that_did_not_declare_reads_clocks_cannot_read_them() {
        let topology = Topology::build(&TopologyKind::Ring, 2, &mut crate::rng(0)).expect("a ring");
        let mut lamport = 0;
        let mut host = NodeHost::<Ping>::new(false);
        let place = Place { me: NodeId(0), n: 2, neighbours: topology.neighbours(NodeId(0)) };
        host.run(place, &mut Chatty, ClockSlot::logical(&mut lamport, None), |_, ctx| {
            let _ = ctx.lamport();
        });
    }

    #[test]
    fn timer_tables_keep_names_sorted_and_values_replaced() {
        let mut t = Timers::default();
        assert_eq!(t.set("b", 5), None);
        assert_eq!(t.set("a", 7), None);
        assert_eq!(t.set("b", 3), Some(5));
        assert_eq!(t.iter().map(|(n, v)| (n, *v)).collect::<Vec<_>>(), vec![("a", 7), ("b", 3)]);
        assert_eq!(t.earliest(), Some(("b", 3)));
        assert_eq!(t.cancel("a"), Some(7));
        assert_eq!(t.len(), 1);
    }
}

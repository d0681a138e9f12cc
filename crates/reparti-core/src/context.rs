//! The [`Context`] a handler acts through, and the [`Effect`]s it records.

use crate::clock;
use crate::id::NodeId;
use crate::physical_clock::{ClockTime, PhysicalClock};
use crate::process::Timer;
use crate::topology::Neighbours;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A value a node makes observable: "leader is 7", "entered the critical section".
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OutputValue {
    /// A number.
    Int(i64),
    /// A piece of text.
    Text(String),
}

impl fmt::Display for OutputValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputValue::Int(v) => write!(f, "{v}"),
            OutputValue::Text(s) => write!(f, "{s}"),
        }
    }
}

macro_rules! output_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for OutputValue {
            fn from(v: $t) -> Self { OutputValue::Int(v as i64) }
        }
    )*};
}
output_from_int!(i32, i64, u32);

/// Identities are `u64`; the few above `i64::MAX` are shown as text rather than wrapped
/// into negative numbers.
impl From<u64> for OutputValue {
    fn from(v: u64) -> Self {
        i64::try_from(v).map(OutputValue::Int).unwrap_or_else(|_| OutputValue::Text(v.to_string()))
    }
}

impl From<usize> for OutputValue {
    fn from(v: usize) -> Self {
        OutputValue::from(v as u64)
    }
}

impl From<&str> for OutputValue {
    fn from(v: &str) -> Self {
        OutputValue::Text(v.to_string())
    }
}

impl From<String> for OutputValue {
    fn from(v: String) -> Self {
        OutputValue::Text(v)
    }
}

/// Something a handler asked for. Engines apply effects after the handler returns.
#[derive(Clone, PartialEq, Debug)]
pub enum Effect<M> {
    /// Send `msg` to `to`, stamped with the sender's clocks at the send.
    Send {
        /// The destination.
        to: NodeId,
        /// The message.
        msg: M,
        /// The sender's Lamport clock after the send's increment.
        lamport: u64,
        /// The sender's vector clock after the send's increment, when vectors are kept.
        vector: Option<Box<[u64]>>,
    },
    /// Fire `timer` after `after` time units (see [`crate::host::TIME_UNIT_MS`]); replaces a pending one.
    SetTimer {
        /// The timer's name.
        timer: Timer,
        /// The delay.
        after: f64,
    },
    /// Cancel `timer` if it is pending.
    CancelTimer {
        /// The timer's name.
        timer: Timer,
    },
    /// Make a value observable under a key.
    Output {
        /// What the value is ("leader", "enter_cs").
        key: &'static str,
        /// The value.
        value: OutputValue,
    },
    /// A free-form log line, kept in traces.
    Log(String),
    /// A local event the algorithm declared: its clocks advanced by one.
    Local {
        /// The Lamport clock after the event's increment.
        lamport: u64,
        /// The vector clock after the event's increment, when vectors are kept.
        vector: Option<Box<[u64]>>,
    },
    /// The node corrected its physical clock (already applied to the clock: this
    /// records it, for the trace and the pictures).
    Clock(ClockChange),
}

/// How a handler corrected its physical clock.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct ClockChange {
    /// Stepped at once, or slewed (spread over `over` time units).
    pub how: ClockHow,
    /// The correction, in time units (positive: forward).
    pub delta: f64,
    /// The reading before the correction.
    pub before: f64,
}

/// Whether a clock correction jumps or is spread.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum ClockHow {
    /// At once ([`Context::set_clock`], [`Context::adjust_clock`]).
    Step,
    /// Spread over this many time units ([`Context::slew_clock`]).
    Slew {
        /// The real duration the slew takes.
        over: f64,
    },
}

impl ClockHow {
    /// `step` or `slew`, as traces write it.
    pub fn name(self) -> &'static str {
        match self {
            ClockHow::Step => "step",
            ClockHow::Slew { .. } => "slew",
        }
    }
}

/// A node's physical clock and the real time of the event being handled.
pub struct PhysicalNow<'a> {
    /// The clock.
    pub clock: &'a mut PhysicalClock,
    /// Real time now (it stands still during a handler).
    pub real: f64,
}

/// What a handler can see and do.
///
/// A handler reads its own id, the number of nodes, its neighbours and its clocks, and
/// records effects. The clocks move only by Lamport's rules: a delivery takes the
/// maximum plus one before the handler runs; inside it, each send and each
/// [`Context::local_event`] adds one, so a handler that reads [`Context::lamport`] after
/// sending sees the incremented value. Starting, a timer and an input are not events of
/// the algorithm by themselves and leave the clocks alone.
pub struct Context<'a, M> {
    me: NodeId,
    n: usize,
    neighbours: Neighbours<'a>,
    lamport: &'a mut u64,
    vector: Option<&'a mut [u64]>,
    effects: &'a mut Vec<Effect<M>>,
    /// Whether the algorithm declared `reads_clocks`: the others may not read them.
    clocks_declared: bool,
    /// The physical clock, for an algorithm that declared `reads_physical_clock`.
    physical: Option<PhysicalNow<'a>>,
}

impl<'a, M: Clone> Context<'a, M> {
    /// Builds a context. Only the [node host](crate::host) does: algorithms receive one.
    pub(crate) fn new(
        me: NodeId,
        n: usize,
        neighbours: Neighbours<'a>,
        clocks: crate::host::ClockSlot<'a>,
        effects: &'a mut Vec<Effect<M>>,
        clocks_declared: bool,
    ) -> Self {
        let crate::host::ClockSlot { lamport, vector, physical } = clocks;
        Context { me, n, neighbours, lamport, vector, effects, clocks_declared, physical }
    }

    #[track_caller]
    fn physical(&mut self) -> &mut PhysicalNow<'a> {
        // As for logical clocks: a programming error, said the same in every engine.
        // The checker refuses such algorithms before running any handler.
        match &mut self.physical {
            Some(p) => p,
            None => panic!(
                "this algorithm reads its physical clock but does not declare it: set `reads_physical_clock: true` in its AlgorithmSpec"
            ),
        }
    }

    /// This node's physical clock: its hardware clock, which drifts, plus the
    /// corrections this node made (see [`crate::physical_clock`]). Real time stands
    /// still during a handler, so every read in one handler agrees. Only for algorithms
    /// that declare [`reads_physical_clock`](crate::AlgorithmSpec::reads_physical_clock).
    #[track_caller]
    pub fn clock(&mut self) -> ClockTime {
        let p = self.physical();
        ClockTime(p.clock.read(p.real))
    }

    /// Steps the physical clock to `value` at once (Cristian's client). It may go back.
    #[track_caller]
    pub fn set_clock(&mut self, value: ClockTime) {
        let p = self.physical();
        let before = p.clock.read(p.real);
        p.clock.set(p.real, value.0);
        let delta = value.0 - before;
        self.effects.push(Effect::Clock(ClockChange { how: ClockHow::Step, delta, before }));
    }

    /// Steps the physical clock by `delta` at once.
    #[track_caller]
    pub fn adjust_clock(&mut self, delta: f64) {
        let p = self.physical();
        let before = p.clock.read(p.real);
        p.clock.step(p.real, delta);
        self.effects.push(Effect::Clock(ClockChange { how: ClockHow::Step, delta, before }));
    }

    /// Spreads a correction of `delta` over about `over` time units, as `adjtime(2)`
    /// does: the clock runs faster or slower meanwhile but never jumps and never runs
    /// backwards (a slew faster than [`MAX_SLEW_RATE`](crate::physical_clock::MAX_SLEW_RATE)
    /// is stretched). A new slew replaces what the last had left to do.
    #[track_caller]
    pub fn slew_clock(&mut self, delta: f64, over: f64) {
        let p = self.physical();
        let before = p.clock.read(p.real);
        let over = p.clock.slew(p.real, delta, over);
        self.effects.push(Effect::Clock(ClockChange { how: ClockHow::Slew { over }, delta, before }));
    }

    #[track_caller]
    fn clocks_readable(&self) {
        // A programming error, not a run-time condition: an engine that does not keep
        // clocks for such an algorithm would hand it a meaningless value otherwise.
        assert!(
            self.clocks_declared,
            "this algorithm reads its clocks but does not declare it: set `reads_clocks: true` in its AlgorithmSpec"
        );
    }

    /// This node's position.
    #[inline]
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// The number of nodes.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }

    /// This node's out-neighbours, in the topology's order (a ring: `[next]`; a
    /// bidirectional ring: `[left, right]`, left being the predecessor).
    #[inline]
    pub fn neighbours(&self) -> Neighbours<'a> {
        self.neighbours
    }

    /// This node's Lamport clock. Only for algorithms that declare
    /// [`reads_clocks`](crate::AlgorithmSpec::reads_clocks): any other panics here, in
    /// every engine, saying so.
    #[track_caller]
    pub fn lamport(&self) -> u64 {
        self.clocks_readable();
        *self.lamport
    }

    /// This node's vector clock, when the engine keeps vector clocks. Only for algorithms
    /// that declare [`reads_clocks`](crate::AlgorithmSpec::reads_clocks).
    #[track_caller]
    pub fn vector(&self) -> Option<&[u64]> {
        self.clocks_readable();
        self.vector.as_deref()
    }

    /// Sends `msg` to `to` (which need not be a neighbour: routing is the algorithm's business).
    pub fn send(&mut self, to: NodeId, msg: M) {
        clock::tick(self.lamport, self.vector.as_deref_mut(), self.me.index());
        let vector = self.vector.as_deref().map(Box::from);
        self.effects.push(Effect::Send { to, msg, lamport: *self.lamport, vector });
    }

    /// A local event (TP6's `lamport_local_event`): the clocks advance by one, and the
    /// event is traced with its new values. Only the algorithm knows which of its steps
    /// are events worth dating, so the engines tick for none on their own.
    pub fn local_event(&mut self) {
        clock::tick(self.lamport, self.vector.as_deref_mut(), self.me.index());
        let vector = self.vector.as_deref().map(Box::from);
        self.effects.push(Effect::Local { lamport: *self.lamport, vector });
    }

    /// Sends a copy of `msg` to every out-neighbour.
    pub fn broadcast(&mut self, msg: M) {
        let neighbours = self.neighbours;
        for to in neighbours {
            self.send(to, msg.clone());
        }
    }

    /// Sets (or resets) the named timer to fire after `after` time units (a simulated
    /// unit, or [`TIME_UNIT_MS`](crate::host::TIME_UNIT_MS) ms on a real network).
    pub fn set_timer(&mut self, timer: Timer, after: f64) {
        self.effects.push(Effect::SetTimer { timer, after });
    }

    /// Cancels the named timer.
    pub fn cancel_timer(&mut self, timer: Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }

    /// Makes a value observable ("leader" = 7, "enter_cs" = 1).
    pub fn output(&mut self, key: &'static str, value: impl Into<OutputValue>) {
        self.effects.push(Effect::Output { key, value: value.into() });
    }

    /// Logs a line into the trace.
    pub fn log(&mut self, line: impl Into<String>) {
        self.effects.push(Effect::Log(line.into()));
    }

    /// Runs `handler` — a handler of a process this one wraps, as a control layer wraps
    /// an application (see [`crate::layer`]) — with a context over the wrapped process's
    /// messages, then records its effects here, in the order it made them: each send as
    /// the message `wrap(to, msg)` returns, with the stamp the wrapped send got, and every
    /// other effect unchanged. The clocks are this node's: a wrapped send ticks them
    /// as any send does. When `wrap` returns `None` the layer has kept the message (to
    /// send it later, as a window does) and nothing is recorded for it.
    pub fn lift<N: Clone>(
        &mut self,
        handler: impl FnOnce(&mut Context<'_, N>),
        mut wrap: impl FnMut(NodeId, N) -> Option<M>,
    ) {
        let mut inner = Vec::new();
        {
            let mut ctx = Context::new(
                self.me,
                self.n,
                self.neighbours,
                crate::host::ClockSlot {
                    lamport: &mut *self.lamport,
                    vector: self.vector.as_deref_mut(),
                    physical: self.physical.as_mut().map(|p| PhysicalNow { clock: &mut *p.clock, real: p.real }),
                },
                &mut inner,
                self.clocks_declared,
            );
            handler(&mut ctx);
        }
        for effect in inner {
            let lifted = match effect {
                Effect::Send { to, msg, lamport, vector } => match wrap(to, msg) {
                    Some(msg) => Effect::Send { to, msg, lamport, vector },
                    None => continue,
                },
                Effect::SetTimer { timer, after } => Effect::SetTimer { timer, after },
                Effect::CancelTimer { timer } => Effect::CancelTimer { timer },
                Effect::Output { key, value } => Effect::Output { key, value },
                Effect::Log(line) => Effect::Log(line),
                Effect::Local { lamport, vector } => Effect::Local { lamport, vector },
                Effect::Clock(change) => Effect::Clock(change),
            };
            self.effects.push(lifted);
        }
    }
}

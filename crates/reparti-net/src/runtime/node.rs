//! One node's state in the runtime: its process, clocks, timers and counters, and how
//! each kind of event is handled and each effect applied.

use super::{Drops, Input, Msg, NodeConfig, NodeReport, VECTOR_LIMIT};
use crate::secure;
use crate::wire::{self, Envelope};
use reparti_core::clock;
use reparti_core::trace::{EventKind, TraceEvent};
use reparti_core::{Algorithm, Context, Effect, Message, NodeId, OutputValue, Process, Timer, Topology};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// A clock value to trace a local event with: Lamport and, when kept, vector.
type ClockNow = (u64, Option<Vec<u64>>);

/// Which counter a dropped datagram goes to.
#[derive(Clone, Copy)]
enum DropReason {
    Crypto,
    Wire,
    UnknownSender,
    WrongDestination,
}

impl DropReason {
    fn name(self) -> &'static str {
        match self {
            DropReason::Crypto => "crypto",
            DropReason::Wire => "wire",
            DropReason::UnknownSender => "unknown_sender",
            DropReason::WrongDestination => "wrong_destination",
        }
    }
}

pub(super) struct Runner<'a, A: Algorithm> {
    me: NodeId,
    n: usize,
    topology: &'a Topology,
    cfg: &'a NodeConfig,
    socket: &'a UdpSocket,
    node: A::Node,
    lamport: u64,
    vector: Option<Vec<u64>>,
    /// Pending timers and when they fire. A BTreeMap, so that timers due at the same
    /// instant fire in a fixed order (by name).
    timers: BTreeMap<Timer, Instant>,
    effects: Vec<Effect<Msg<A>>>,
    started: Instant,
    outputs: Vec<(&'static str, OutputValue)>,
    logs: Vec<String>,
    sent_by_type: Vec<u64>,
    received_by_type: Vec<u64>,
    dropped: Drops,
    send_errors: u64,
    trace: Option<Vec<TraceEvent>>,
}

impl<'a, A: Algorithm> Runner<'a, A> {
    pub(super) fn new(node: A::Node, topology: &'a Topology, cfg: &'a NodeConfig, socket: &'a UdpSocket) -> Self {
        let n = topology.len();
        let kinds = Msg::<A>::KINDS.len();
        Runner {
            me: cfg.me,
            n,
            topology,
            cfg,
            socket,
            node,
            lamport: 0,
            vector: (n <= VECTOR_LIMIT).then(|| vec![0; n]),
            timers: BTreeMap::new(),
            effects: Vec::new(),
            started: Instant::now(),
            outputs: Vec::new(),
            logs: Vec::new(),
            sent_by_type: vec![0; kinds],
            received_by_type: vec![0; kinds],
            dropped: Drops::default(),
            send_errors: 0,
            trace: cfg.trace.then(Vec::new),
        }
    }

    /// The earliest pending timer.
    pub(super) fn next_timer(&self) -> Option<(Timer, Instant)> {
        self.timers.iter().min_by_key(|(_, at)| **at).map(|(t, at)| (*t, *at))
    }

    pub(super) async fn start(&mut self) {
        self.tick();
        self.trace_local(EventKind::Start, |_| {});
        self.run_handler(|p, ctx| p.on_start(ctx)).await;
    }

    pub(super) async fn fire(&mut self, timer: Timer) {
        self.timers.remove(timer);
        self.tick();
        self.trace_local(EventKind::Timer, |e| e.timer = Some(timer.to_string()));
        self.run_handler(|p, ctx| p.on_timer(timer, ctx)).await;
    }

    pub(super) async fn input(&mut self, input: Input<A>) {
        self.tick();
        if self.trace.is_some() {
            let payload = serde_json::to_value(&input).ok();
            self.trace_local(EventKind::Input, |e| e.payload = payload);
        }
        self.run_handler(|p, ctx| p.on_input(input, ctx)).await;
    }

    /// Opens, decodes and checks one datagram, then delivers it or drops it.
    pub(super) async fn datagram(&mut self, bytes: &[u8], peer: SocketAddr) {
        let plain = match &self.cfg.key {
            Some(key) => match secure::open(key, bytes, self.cfg.ttl) {
                Ok(plain) => Cow::Owned(plain),
                Err(e) => return self.drop_datagram(DropReason::Crypto, peer, None, &e),
            },
            None => Cow::Borrowed(bytes),
        };
        let env: Envelope<Msg<A>> = match wire::decode(&plain) {
            Ok(env) => env,
            Err(e) => return self.drop_datagram(DropReason::Wire, peer, None, &e),
        };
        let from = env.from;
        if from.index() >= self.n {
            let why = format!("sender {from} is not a node of this run (0..{})", self.n);
            return self.drop_datagram(DropReason::UnknownSender, peer, Some(from), &why);
        }
        if env.to != self.me {
            let why = format!("addressed to node {}, not to this node: check the address list", env.to);
            return self.drop_datagram(DropReason::WrongDestination, peer, Some(from), &why);
        }
        // Only a vector we keep is merged; `clock::merge` zips, so a stamp of the wrong
        // length would be half merged: refuse it instead.
        if let (Some(_), Some(vc)) = (&self.vector, &env.vc) {
            if vc.len() != self.n {
                let why = format!("a vector clock of {} entries for {} nodes", vc.len(), self.n);
                return self.drop_datagram(DropReason::Wire, peer, Some(from), &why);
            }
        }
        clock::merge(&mut self.lamport, self.vector.as_deref_mut(), self.me.index(), env.lamport, env.vc.as_deref());
        let kind = env.body.kind();
        if let Some(c) = self.received_by_type.get_mut(kind) {
            *c += 1;
        }
        self.trace_local(EventKind::Receive, |e| {
            e.from = Some(from.0);
            e.msg_type = Some(env.body.kind_name().to_string());
        });
        let body = env.body;
        self.run_handler(move |p, ctx| p.on_message(from, body, ctx)).await;
    }

    fn drop_datagram(
        &mut self,
        reason: DropReason,
        peer: SocketAddr,
        from: Option<NodeId>,
        why: &dyn std::fmt::Display,
    ) {
        let counter = match reason {
            DropReason::Crypto => &mut self.dropped.crypto,
            DropReason::Wire => &mut self.dropped.wire,
            DropReason::UnknownSender => &mut self.dropped.unknown_sender,
            DropReason::WrongDestination => &mut self.dropped.wrong_destination,
        };
        *counter += 1;
        eprintln!("reparti node {}: dropped a datagram from {peer}: {why}", self.me);
        let (lamport, vc, me) = (self.lamport, self.vector.clone(), self.me.0);
        self.trace_with(EventKind::Drop, lamport, vc, |e| {
            e.from = from.map(|f| f.0);
            e.to = Some(me);
            e.reason = Some(reason.name().to_string());
        });
    }

    fn tick(&mut self) {
        clock::tick(&mut self.lamport, self.vector.as_deref_mut(), self.me.index());
    }

    /// Runs one handler to completion, then applies its effects in order.
    async fn run_handler(&mut self, f: impl FnOnce(&mut A::Node, &mut Context<'_, Msg<A>>)) {
        let mut effects = std::mem::take(&mut self.effects);
        // Outputs and logs do not tick the clocks: as in the simulator's traces they
        // carry the clock of the handler's last ticking step before them.
        let mut clock_now: ClockNow = (self.lamport, self.vector.clone());
        {
            let neighbours = self.topology.neighbours(self.me);
            let mut ctx =
                Context::new(self.me, self.n, neighbours, &mut self.lamport, self.vector.as_deref_mut(), &mut effects);
            f(&mut self.node, &mut ctx);
        }
        for effect in effects.drain(..) {
            if let Effect::Send { lamport, vector, .. } = &effect {
                clock_now = (*lamport, vector.as_deref().map(<[u64]>::to_vec));
            }
            self.apply(effect, &clock_now).await;
        }
        self.effects = effects;
    }

    async fn apply(&mut self, effect: Effect<Msg<A>>, clock_now: &ClockNow) {
        match effect {
            Effect::Send { to, msg, lamport, vector } => self.send(to, msg, lamport, vector).await,
            Effect::SetTimer { timer, after } => {
                // `after` is in milliseconds. NaN and negatives mean "now"; a delay too
                // large for a Duration means "never, in practice" (a year).
                let secs = after.max(0.0) / 1000.0;
                let delay = Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(365 * 86_400));
                self.timers.insert(timer, Instant::now() + delay);
            }
            Effect::CancelTimer { timer } => {
                self.timers.remove(timer);
            }
            Effect::Output { key, value } => {
                let v = value.clone();
                self.trace_with(EventKind::Output, clock_now.0, clock_now.1.clone(), |e| {
                    e.key = Some(key.to_string());
                    e.value = Some(v);
                });
                self.outputs.push((key, value));
            }
            Effect::Log(text) => {
                let t = text.clone();
                self.trace_with(EventKind::Log, clock_now.0, clock_now.1.clone(), |e| e.text = Some(t));
                self.logs.push(text);
            }
        }
    }

    /// Encodes, seals and sends one message. Failures are counted and reported, never
    /// fatal: UDP promises nothing, and algorithms that need delivery retransmit.
    async fn send(&mut self, to: NodeId, msg: Msg<A>, lamport: u64, vector: Option<Box<[u64]>>) {
        let Some(&addr) = self.cfg.addrs.get(to.index()) else {
            self.send_errors += 1;
            eprintln!("reparti node {}: cannot send to node {to}: the nodes are 0..{}", self.me, self.n);
            return;
        };
        let payload = self.trace.as_ref().and_then(|_| serde_json::to_value(&msg).ok());
        let kind = msg.kind();
        let vc = vector.map(Vec::from);
        let env = Envelope { from: self.me, to, lamport, vc: vc.clone(), seq: None, body: msg };
        let bytes = match wire::try_encode(&env, self.cfg.wire) {
            Ok(bytes) => bytes,
            Err((e, _)) => {
                self.send_errors += 1;
                eprintln!("reparti node {}: not sent to node {to}: {e}", self.me);
                return;
            }
        };
        let bytes = match &self.cfg.key {
            Some(key) => secure::seal(key, &bytes),
            None => bytes,
        };
        if let Err(e) = self.socket.send_to(&bytes, addr).await {
            self.send_errors += 1;
            eprintln!("reparti node {}: sending to node {to} at {addr} failed: {e}", self.me);
            return;
        }
        if let Some(c) = self.sent_by_type.get_mut(kind) {
            *c += 1;
        }
        self.trace_with(EventKind::Send, lamport, vc, |e| {
            e.to = Some(to.0);
            e.msg_type = Some(Msg::<A>::KINDS.get(kind).copied().unwrap_or("?").to_string());
            e.payload = payload;
        });
    }

    /// Traces an event with the node's current clocks.
    fn trace_local(&mut self, kind: EventKind, fill: impl FnOnce(&mut TraceEvent)) {
        if self.trace.is_some() {
            let (lamport, vc) = (self.lamport, self.vector.clone());
            self.trace_with(kind, lamport, vc, fill);
        }
    }

    fn trace_with(&mut self, kind: EventKind, lamport: u64, vc: Option<Vec<u64>>, fill: impl FnOnce(&mut TraceEvent)) {
        let t = self.started.elapsed().as_secs_f64() * 1000.0;
        let Some(trace) = &mut self.trace else { return };
        let mut e = TraceEvent::new(trace.len() as u64, t, self.me.0, kind, lamport);
        e.vc = vc;
        fill(&mut e);
        trace.push(e);
    }

    pub(super) fn finish(self) -> NodeReport<A> {
        NodeReport {
            me: self.me,
            node: self.node,
            outputs: self.outputs,
            logs: self.logs,
            sent_by_type: self.sent_by_type,
            received_by_type: self.received_by_type,
            dropped: self.dropped,
            send_errors: self.send_errors,
            lamport: self.lamport,
            vector: self.vector,
            trace: self.trace,
        }
    }
}

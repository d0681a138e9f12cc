//! One node's state in the runtime: its process, clocks, timers, channels and counters,
//! and how each kind of local event is handled and each effect applied. Receiving is in
//! [`super::receive`].

use super::peers::Peers;
use super::real_time::paired_clocks;
use super::refusals::Refusals;
use super::tracer::Tracer;
use super::{Input, Msg, NetError, NodeConfig, NodeReport, Show, VECTOR_LIMIT};
use crate::reliable::{Outgoing, Reliable};
use crate::secure;
use crate::transport::Transport;
use crate::wire::{self, Envelope};
use reparti_core::host::{NO_SUCH_NODE, TIME_UNIT_MS};
use reparti_core::trace::{EventKind, TraceEvent};
use reparti_core::{
    Algorithm, ClockAt, ClockChange, ClockHow, ClockSlot, Context, EffectSink, Message, NodeHost, NodeId, OutputValue,
    PhysicalClock, PhysicalNow, Place, Process, Sent, Timer, Timers, Topology,
};
use std::time::Duration;
use tokio::time::Instant;

/// What the reliable layer keeps: an encoded message waiting for its acknowledgement, or
/// a received one waiting for its turn (FIFO).
#[derive(Clone)]
pub(super) enum Carried<M> {
    Out(Vec<u8>),
    In(Envelope<M>),
}

pub(super) struct Runner<'a, A: Algorithm> {
    pub(super) me: NodeId,
    pub(super) n: usize,
    topology: &'a Topology,
    pub(super) cfg: &'a NodeConfig,
    pub(super) transport: Transport,
    pub(super) node: A::Node,
    pub(super) lamport: u64,
    pub(super) vector: Option<Vec<u64>>,
    /// Pending timers and when they fire; timers due at the same instant fire in a
    /// fixed order (by name).
    timers: Timers<Instant>,
    /// The next `seq` of each outgoing channel.
    next_seq: Vec<u64>,
    pub(super) reliable: Option<Reliable<Carried<Msg<A>>>>,
    /// What the reliable layer's polls hand out, one buffer kept across them (a poll
    /// follows every datagram).
    reliable_out: Vec<Outgoing<Carried<Msg<A>>>>,
    /// What the reliable layer hands over for delivery on a receipt, likewise kept.
    pub(super) reliable_ready: Vec<(u64, Carried<Msg<A>>)>,
    /// The instant the datagram being handled was taken in, if one is (renewed after a
    /// handler runs): the reliable layer, and the delivery's timestamp, read it instead
    /// of the clock (a ring hop read the clock six times for one datagram).
    pub(super) moment: Option<std::time::Instant>,
    /// Polls of the reliable layer so far: a caller that needs one after some work polls
    /// only if that work did not.
    pub(super) reliable_polls: u64,
    /// Runs every handler; lent out while its effects are applied to this runner.
    host: Option<Box<NodeHost<Msg<A>>>>,
    started: Instant,
    outputs: Vec<(&'static str, OutputValue)>,
    logs: Vec<String>,
    sent_by_type: Vec<u64>,
    pub(super) received_by_type: Vec<u64>,
    /// Refused datagrams: counted, and said on stderr within bounds.
    pub(super) refusals: Refusals,
    /// The registered addresses datagrams are checked against.
    pub(super) peers: Peers,
    send_errors: u64,
    pub(super) trace: Option<Tracer>,
    /// A mistake that makes running on pointless (a message the wire encoding cannot
    /// write): the run loop stops with it.
    pub(super) fatal: Option<String>,
    /// Message kinds already seen to read back from the binary encoding.
    binary_checked: Vec<bool>,
    last_delivery_ms: Option<f64>,
    /// This node's physical clock, for an algorithm that reads physical clocks.
    physical: Option<PhysicalClock>,
    /// Real time at this node's start, in ms since the run's epoch.
    real_base_ms: f64,
    /// Real time of the event being handled: sampled once, as it begins, so that the
    /// handler's every clock reading and the trace agree (and a replay reads the same).
    event_real: f64,
}

impl<'a, A: Algorithm> Runner<'a, A> {
    /// A runner for `node`; fails only if its trace file cannot be created.
    pub(super) fn new(
        node: A::Node,
        topology: &'a Topology,
        cfg: &'a NodeConfig,
        transport: Transport,
    ) -> Result<Self, NetError> {
        let n = topology.len();
        let kinds = Msg::<A>::kinds().len();
        let physical = A::spec()
            .reads_physical_clock
            .then(|| PhysicalClock::new(cfg.physical_clocks.get(cfg.me.index()).copied().unwrap_or_default()));
        // Real time is the monotonic clock from `started` on, placed against the wall
        // clock by one tight paired reading (see `real_time`): anything between the two
        // readings would shift this node's real time against the others' and make the
        // truth the properties judge clocks by wrong by as much.
        let paired = paired_clocks();
        let started = Instant::from_std(paired.at);
        let real_base_ms = cfg.clock_epoch_unix_ms.map_or(0.0, |epoch| paired.unix_ms - epoch);
        let trace = match &cfg.trace_file {
            Some(file) => Some(Tracer::to_file(file)?),
            None => cfg.trace.then(Tracer::in_memory),
        };
        Ok(Runner {
            me: cfg.me,
            n,
            topology,
            cfg,
            transport,
            node,
            lamport: 0,
            vector: (n <= VECTOR_LIMIT).then(|| vec![0; n]),
            timers: Timers::default(),
            next_seq: vec![1; n],
            reliable: cfg.reliable.clone().map(|r| Reliable::new(n, cfg.me.index(), r)),
            reliable_out: Vec::new(),
            reliable_ready: Vec::new(),
            moment: None,
            reliable_polls: 0,
            host: Some(Box::new(NodeHost::new(A::spec().reads_clocks))),
            started,
            outputs: Vec::new(),
            logs: Vec::new(),
            sent_by_type: vec![0; kinds],
            received_by_type: vec![0; kinds],
            refusals: Refusals::default(),
            peers: Peers::new(&cfg.addrs, cfg.key.is_some()),
            send_errors: 0,
            trace,
            fatal: None,
            binary_checked: vec![false; kinds],
            last_delivery_ms: None,
            physical,
            real_base_ms,
            event_real: real_base_ms,
        })
    }

    /// The earliest pending timer.
    pub(super) fn next_timer(&self) -> Option<(Timer, Instant)> {
        self.timers.earliest()
    }

    /// When the reliable layer next has something to send.
    pub(super) fn next_reliable_deadline(&self) -> Option<Instant> {
        self.reliable.as_ref().and_then(|r| r.next_deadline().map(Instant::from_std))
    }

    /// Whether the reliable layer would now take a message for lost (see
    /// [`Reliable::timer_expired`]).
    pub(super) fn retransmission_due(&self) -> bool {
        self.reliable.as_ref().is_some_and(|r| r.timer_expired(std::time::Instant::now()))
    }

    /// Nothing unacknowledged and no acknowledgement owed (always, without the layer).
    pub(super) fn reliable_idle(&self) -> bool {
        self.reliable.as_ref().is_none_or(Reliable::is_idle)
    }

    /// The instant of the datagram being handled, or the clock's between datagrams.
    pub(super) fn now(&self) -> std::time::Instant {
        self.moment.unwrap_or_else(std::time::Instant::now)
    }

    /// Real time now, in ms since the run's epoch: the OS monotonic clock since this
    /// node started, plus where the epoch put that start.
    fn real_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1e3 + self.real_base_ms
    }

    /// An event begins: real time is sampled for it (only physical clocks read it).
    fn begin_event(&mut self) {
        if self.physical.is_some() {
            self.event_real = self.real_ms();
        }
    }

    pub(super) fn start(&mut self) {
        self.begin_event();
        self.trace_local(EventKind::Start, |_| {});
        self.run_handler(|p, ctx| p.on_start(ctx));
    }

    pub(super) fn fire(&mut self, timer: Timer) {
        self.timers.cancel(timer);
        self.begin_event();
        self.trace_local(EventKind::Timer, |e| e.timer = Some(timer.to_string()));
        self.run_handler(|p, ctx| p.on_timer(timer, ctx));
    }

    pub(super) fn input(&mut self, input: Input<A>) {
        self.begin_event();
        if self.trace.is_some() {
            let payload = serde_json::to_value(&input).ok();
            self.trace_local(EventKind::Input, |e| e.payload = payload);
        }
        self.run_handler(|p, ctx| p.on_input(input, ctx));
    }

    /// Delivers one message to the algorithm: merges its clocks, traces it, runs the handler.
    pub(super) fn deliver(&mut self, env: Envelope<Msg<A>>) {
        self.begin_event();
        let from = env.from;
        let clocks = ClockSlot::logical(&mut self.lamport, self.vector.as_deref_mut());
        NodeHost::<Msg<A>>::merge(self.me, clocks, env.lamport, env.vc.as_deref());
        let kind = env.body.kind();
        if let Some(c) = self.received_by_type.get_mut(kind) {
            *c += 1;
        }
        let since_start = self.now().saturating_duration_since(self.started.into_std());
        self.last_delivery_ms = Some(since_start.as_secs_f64() * 1e3);
        if self.cfg.echo {
            let body = serde_json::to_string(&env.body).unwrap_or_default();
            let vc = self.vector.as_ref().map(|v| format!(" · vector {v:?}")).unwrap_or_default();
            let addr = self.cfg.addrs.get(from.index()).map(|a| format!(" ({a})")).unwrap_or_default();
            println!(
                "[node {}] {} from node {from}{addr}: {body} · sent at lamport {} · now lamport {}{vc}",
                self.me,
                env.body.kind_name(),
                env.lamport,
                self.lamport
            );
        }
        let seq = env.seq;
        self.trace_local(EventKind::Receive, |e| {
            e.from = Some(from.0);
            e.seq = seq;
            e.msg_type = Some(env.body.kind_name().to_string());
        });
        let body = env.body;
        self.run_handler(move |p, ctx| p.on_message(from, body, ctx));
    }

    /// Runs one handler to completion through the node host, which then applies its
    /// effects in order through this runner ([`EffectSink`]).
    fn run_handler(&mut self, f: impl FnOnce(&mut A::Node, &mut Context<'_, Msg<A>>)) {
        let Some(mut host) = self.host.take() else { return };
        let place = Place { me: self.me, n: self.n, neighbours: self.topology.neighbours(self.me) };
        let physical = self.physical.as_mut().map(|clock| PhysicalNow { clock, real: self.event_real });
        let clocks = ClockSlot { lamport: &mut self.lamport, vector: self.vector.as_deref_mut(), physical };
        host.run(place, &mut self.node, clocks, f);
        host.apply(self);
        self.host = Some(host);
        if self.moment.is_some() {
            // The poll times what it puts on the wire (retransmission timers, round-trip
            // samples): after a long handler, the datagram's instant would be stale.
            self.moment = Some(std::time::Instant::now());
        }
        self.poll_reliable();
    }

    /// Numbers and encodes one message, then sends it (through the reliable layer when
    /// on). Failures are counted and reported, never fatal.
    fn transmit(&mut self, to: NodeId, msg: Msg<A>, lamport: u64, vector: Option<Box<[u64]>>) {
        let Some(&addr) = self.cfg.addrs.get(to.index()) else {
            // The host only sends here to nodes of the run, and every node of the run
            // has an address: this is a cluster file shorter than the topology.
            self.send_errors += 1;
            tracing::warn!("reparti node {}: cannot send to node {to}: no address is known for it", self.me);
            return;
        };
        let payload = self.trace.as_ref().and_then(|_| serde_json::to_value(&msg).ok());
        let kind = msg.kind();
        let vc = vector.map(Vec::from);
        // The trace keeps its own copy of the stamp, only when there is a trace.
        let traced_vc = if self.trace.is_some() { vc.clone() } else { None };
        let seq = self.next_seq[to.index()];
        let env = Envelope { from: self.me, to, lamport, vc, seq: Some(seq), body: msg };
        let bytes = match wire::encode_with_run(&env, self.cfg.wire, self.cfg.run_id.as_ref()) {
            Ok(bytes) => bytes,
            Err((e, _)) => {
                self.send_errors += 1;
                if matches!(e, wire::WireError::Encode { .. }) {
                    // Every message of this kind would fail alike: stop rather than limp.
                    self.fatal.get_or_insert_with(|| e.to_string());
                }
                tracing::warn!("reparti node {}: not sent to node {to}: {e}", self.me);
                return;
            }
        };
        if self.cfg.wire == wire::Wire::Binary && !self.binary_checked[kind] {
            // postcard writes some serde forms it cannot read back (internally tagged
            // enums, as the TP7 lab messages): check each kind once, at its first send.
            match wire::decode::<Msg<A>>(&bytes) {
                Ok(_) => self.binary_checked[kind] = true,
                Err(e) => {
                    self.fatal.get_or_insert_with(|| {
                        format!(
                            "{} messages cannot travel in the binary encoding ({e}): use --wire json",
                            Msg::<A>::kinds()[kind]
                        )
                    });
                    return;
                }
            }
        }
        match &mut self.reliable {
            Some(reliable) => {
                // Transmitted by the next poll (at the end of this handler). The layer numbers
                // a channel's messages 1, 2, 3… as we do: the envelope already says `seq`.
                let now = self.moment.unwrap_or_else(std::time::Instant::now);
                match reliable.send(to.index(), Carried::Out(bytes), now) {
                    Ok(numbered) => debug_assert_eq!(numbered, seq, "the envelope's seq is the reliable layer's"),
                    Err(_) => {
                        self.send_errors += 1;
                        tracing::warn!("reparti node {}: not sent to node {to}: the channel to it has failed", self.me);
                        return;
                    }
                }
            }
            None => self.emit(addr, bytes),
        }
        self.next_seq[to.index()] += 1;
        if let Some(c) = self.sent_by_type.get_mut(kind) {
            *c += 1;
        }
        self.trace_with(EventKind::Send, lamport, traced_vc, |e| {
            e.to = Some(to.0);
            e.seq = Some(seq);
            e.msg_type = Some(Msg::<A>::kinds().get(kind).copied().unwrap_or("?").to_string());
            e.payload = payload;
        });
    }

    /// Seals (with a key) and hands one datagram to the transport.
    pub(super) fn emit(&self, addr: std::net::SocketAddr, bytes: Vec<u8>) {
        let bytes = match &self.cfg.key {
            Some(key) => secure::seal(key, &bytes),
            None => bytes,
        };
        self.transport.send_now(addr, bytes);
    }

    /// Sends whatever the reliable layer has due: first transmissions, retransmissions,
    /// acknowledgements.
    pub(super) fn poll_reliable(&mut self) {
        let Some(reliable) = &mut self.reliable else { return };
        self.reliable_polls += 1;
        let mut due = std::mem::take(&mut self.reliable_out);
        reliable.poll_into(self.moment.unwrap_or_else(std::time::Instant::now), &mut due);
        for out in due.drain(..) {
            match out {
                Outgoing::Transmit { to, payload: Carried::Out(bytes), .. }
                | Outgoing::Retransmit { to, payload: Carried::Out(bytes), .. } => {
                    if let Some(&addr) = self.cfg.addrs.get(to) {
                        self.emit(addr, bytes);
                    }
                }
                Outgoing::Ack { to, upto } => {
                    if let Some(&addr) = self.cfg.addrs.get(to) {
                        let ack = wire::Ack { from: self.me, to: NodeId(to as u32), upto };
                        self.emit(addr, wire::encode_ack_with_run(&ack, self.cfg.wire, self.cfg.run_id.as_ref()));
                    }
                }
                Outgoing::GaveUp { to, seq, .. } => {
                    self.send_errors += 1;
                    let addr = self.cfg.addrs.get(to).map(ToString::to_string).unwrap_or_default();
                    // With a key, the likeliest silent peer is one that cannot open what
                    // we send: say so beside the usual suspects.
                    let key = if self.cfg.key.is_some() { ", with the same key file as this node" } else { "" };
                    tracing::warn!(
                        "reparti node {}: gave up on message {seq} to node {to} at {addr}: never acknowledged; is that node running and reachable{key}?",
                        self.me
                    );
                }
                // Received messages are never transmitted.
                Outgoing::Transmit { .. } | Outgoing::Retransmit { .. } => {}
            }
        }
        self.reliable_out = due;
    }

    /// Answers a console's question.
    pub(super) fn show(&self, what: Show) -> String {
        match what {
            Show::Clock => match &self.vector {
                Some(v) => format!("lamport {} · vector {v:?}", self.lamport),
                None => format!("lamport {}", self.lamport),
            },
            Show::Peers => {
                let neighbours = self.topology.neighbours(self.me);
                let lines: Vec<String> = self
                    .cfg
                    .addrs
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let what = if i == self.me.index() {
                            " (this node)"
                        } else if neighbours.contains(NodeId(i as u32)) {
                            " (neighbour)"
                        } else {
                            ""
                        };
                        format!("#{i} {a}{what}")
                    })
                    .collect();
                lines.join("\n")
            }
            Show::State => serde_json::to_string(&self.node).unwrap_or_else(|e| format!("(unprintable: {e})")),
            Show::Status => {
                let idle = self.timers.is_empty() && self.reliable_idle();
                let sent: u64 = self.sent_by_type.iter().sum();
                let delivered: u64 = self.received_by_type.iter().sum();
                format!("{} {sent} {delivered}", u8::from(idle))
            }
        }
    }

    /// Traces an event with the node's current clocks.
    pub(super) fn trace_local(&mut self, kind: EventKind, fill: impl FnOnce(&mut TraceEvent)) {
        if self.trace.is_some() {
            let (lamport, vc) = (self.lamport, self.vector.clone());
            self.trace_with(kind, lamport, vc, fill);
        }
    }

    pub(super) fn trace_with(
        &mut self,
        kind: EventKind,
        lamport: u64,
        vc: Option<Vec<u64>>,
        fill: impl FnOnce(&mut TraceEvent),
    ) {
        let Some(trace) = &mut self.trace else { return };
        let t = self.started.elapsed().as_secs_f64() * 1000.0;
        let mut e = TraceEvent::new(trace.next_index(), t, self.me.0, kind, lamport);
        e.vc = vc;
        if let Some(clock) = &self.physical {
            e.real = Some(self.event_real);
            e.clock = Some(clock.read(self.event_real));
        }
        fill(&mut e);
        trace.record(e);
    }

    /// The report, once the node has stopped: what is pending on stderr is said, and
    /// the trace is closed (an error if it could not be written).
    pub(super) fn finish(mut self) -> Result<NodeReport<A>, NetError> {
        self.refusals.finish(self.me);
        if let Some(text) = self.trace.as_ref().and_then(Tracer::untraced_summary) {
            self.trace_local(EventKind::Log, |e| e.text = Some(text));
        }
        let trace = match self.trace.take() {
            Some(tracer) => tracer.finish()?,
            None => None,
        };
        Ok(NodeReport {
            me: self.me,
            node: self.node,
            outputs: self.outputs,
            logs: self.logs,
            sent_by_type: self.sent_by_type,
            received_by_type: self.received_by_type,
            dropped: self.refusals.counts,
            authentic: self.peers.authentic,
            unauthentic_peers: self.peers.unauthentic(),
            send_errors: self.send_errors,
            transport: self.transport.stats(),
            reliable: self.reliable.as_ref().map(Reliable::stats),
            last_delivery_ms: self.last_delivery_ms,
            lamport: self.lamport,
            vector: self.vector,
            trace,
        })
    }
}

/// The network's meaning of a handler's effects: a send is numbered, encoded, sealed and
/// handed to the transport (or the reliable layer); a timer is a deadline `after ×`
/// [`TIME_UNIT_MS`] ms from now; outputs and logs go to the report and the trace.
impl<A: Algorithm> EffectSink<Msg<A>> for Runner<'_, A> {
    fn send(&mut self, sent: Sent<Msg<A>>) {
        self.transmit(sent.to, sent.msg, sent.lamport, sent.vector);
    }

    fn send_nowhere(&mut self, sent: Sent<Msg<A>>) {
        let Sent { to, msg, lamport, vector, .. } = sent;
        let kind = msg.kind();
        if let Some(c) = self.sent_by_type.get_mut(kind) {
            *c += 1;
        }
        self.refusals.counts.no_such_node += 1;
        let vc = vector.map(Vec::from);
        let name = Msg::<A>::kinds().get(kind).copied().unwrap_or("?").to_string();
        let sender = self.me.0;
        // One trace line, not a send and a drop: a node's trace numbers its sends per
        // channel, and there is no channel to this node (the merge turns it into a log).
        self.trace_with(EventKind::Drop, lamport, vc, |e| {
            e.from = Some(sender);
            e.to = Some(to.0);
            e.msg_type = Some(name);
            e.reason = Some(NO_SUCH_NODE.to_string());
        });
    }

    fn set_timer(&mut self, _node: NodeId, timer: Timer, after: f64) {
        // NaN and negatives mean "now"; a delay too large for a Duration means "never,
        // in practice" (a year).
        let secs = after.max(0.0) * TIME_UNIT_MS / 1000.0;
        let delay = Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(365 * 86_400));
        self.timers.set(timer, Instant::now() + delay);
    }

    fn cancel_timer(&mut self, _node: NodeId, timer: Timer) {
        self.timers.cancel(timer);
    }

    fn output(&mut self, _node: NodeId, key: &'static str, value: OutputValue, at: ClockAt<'_>) {
        if self.cfg.echo {
            println!("[node {}] {key} = {value}", self.me);
        }
        // The trace gets its own copy, only when there is a trace.
        if self.trace.is_some() {
            let v = value.clone();
            self.trace_with(EventKind::Output, at.lamport, at.vector.map(<[u64]>::to_vec), |e| {
                e.key = Some(key.to_string());
                e.value = Some(v);
            });
        }
        self.outputs.push((key, value));
    }

    fn log(&mut self, _node: NodeId, text: String, at: ClockAt<'_>) {
        if self.trace.is_some() {
            let t = text.clone();
            self.trace_with(EventKind::Log, at.lamport, at.vector.map(<[u64]>::to_vec), |e| e.text = Some(t));
        }
        self.logs.push(text);
    }

    fn local_event(&mut self, _node: NodeId, at: ClockAt<'_>) {
        if self.trace.is_some() {
            self.trace_with(EventKind::Local, at.lamport, at.vector.map(<[u64]>::to_vec), |_| {});
        }
    }

    fn clock_changed(&mut self, _node: NodeId, change: ClockChange, at: ClockAt<'_>) {
        if self.cfg.echo {
            println!("[node {}] clock {} by {:+.3} ms", self.me, change.how.name(), change.delta);
        }
        self.trace_with(EventKind::Clock, at.lamport, at.vector.map(<[u64]>::to_vec), |e| {
            e.adjust = Some(change.delta);
            e.text = Some(change.how.name().to_string());
            if let ClockHow::Slew { over } = change.how {
                e.over = Some(over);
            }
        });
    }
}

//! Turning a path of actions into a readable counterexample and a trace file.
//!
//! The path is replayed from the initial state with every step's effects logged: the
//! printed steps say which action ran at which node, which fields of that node's state
//! changed, what was sent, and what is left in flight — states and messages in the
//! algorithm's own words ([`crate::words`]), not Rust debug dumps. The trace uses the simulator's format
//! (engine `check`, one time unit per step), with message ids assigned in send order
//! exactly as the simulator assigns them, so `reparti sim --replay` can follow it.

use crate::model::{Action, Model, Msg, StateOf, StepLog};
use crate::words;
use reparti_core::host::NO_SUCH_NODE;
use reparti_core::trace::{EventKind, RunDescription, TraceEvent, TraceHeader, TraceWriter};
use reparti_core::{
    Algorithm, ClockAt, ClockMode, ClockSlot, Context, EffectSink, Message, NodeHost, NodeId, NodeSetup, OutputValue,
    Place, Process, Sent, Timer,
};
use serde::Serialize;
use std::io::Write;

/// One step of a counterexample, ready to print.
#[derive(Clone, Debug, Serialize)]
pub struct StepView {
    /// 1-based step number.
    pub step: usize,
    /// What happened, in words.
    pub action: String,
    /// The node it happened at.
    pub node: u32,
    /// The fields of that node's state that changed, `field before → after`, when any did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// Messages sent by the step.
    pub sent: Vec<String>,
    /// Values output by the step.
    pub outputs: Vec<String>,
    /// Messages in flight after the step.
    pub in_flight: Vec<String>,
}

/// A run that violates a property.
#[derive(Clone, Debug, Serialize)]
pub struct Counterexample {
    /// The violated property.
    pub property: String,
    /// Why it is violated.
    pub detail: String,
    /// The nodes' states after their start handlers.
    pub initial: Vec<String>,
    /// Messages in flight after start.
    pub initial_in_flight: Vec<String>,
    /// The steps.
    pub steps: Vec<StepView>,
    /// The path, for writing the trace.
    #[serde(skip)]
    pub path: Vec<Action>,
}

fn flight<A: Algorithm>(s: &StateOf<A>) -> Vec<String> {
    s.net.iter().map(|p| format!("{} {}→{}", words::message(&p.msg), p.from, p.to)).collect()
}

fn describe<A: Algorithm>(m: &Model<A>, s: &StateOf<A>, a: Action) -> String {
    match a {
        Action::Deliver(i) => {
            let p = &s.net[i as usize];
            format!("deliver {} from {} to {}", words::message(&p.msg), p.from, p.to)
        }
        Action::Timer(node, t) => format!("timer '{}' fires at node {node}", m.timer_name(t)),
        Action::Input(node) => {
            let k = s.next_input[node as usize] as usize;
            match m.inputs[node as usize].get(k) {
                Some(input) => format!("input {} at node {node}", words::message(input)),
                None => format!("input at node {node}"),
            }
        }
        Action::Drop(i) => {
            let p = &s.net[i as usize];
            format!("the network loses {} from {} to {}", words::message(&p.msg), p.from, p.to)
        }
        Action::Duplicate(i) => {
            let p = &s.net[i as usize];
            format!("the network duplicates {} from {} to {}", words::message(&p.msg), p.from, p.to)
        }
        Action::Crash(node) => format!("node {node} crashes"),
    }
}

fn sends<M: Serialize + std::fmt::Debug>(log: &StepLog<M>) -> Vec<String> {
    log.sent.iter().map(|(to, msg)| format!("{} to {to}", words::message(msg))).collect()
}

fn outs<M>(log: &StepLog<M>) -> Vec<String> {
    log.outputs.iter().map(|(k, v, _)| format!("{k} = {v}")).collect()
}

/// Replays `path` and describes every step.
pub fn build<A: Algorithm>(m: &Model<A>, path: &[Action], property: String, detail: String) -> Counterexample {
    let s0 = m.initial();
    let initial = s0.nodes.iter().enumerate().map(|(i, n)| format!("node {i}: {}", words::state(n))).collect();
    let initial_in_flight = flight::<A>(&s0);
    let mut s = s0;
    let mut steps = Vec::new();
    for (k, &a) in path.iter().enumerate() {
        let node = m.actor(&s, a);
        let action = describe(m, &s, a);
        let mut log = StepLog::default();
        let t = m.step(&s, a, Some(&mut log)).state;
        let (before, after) = (&s.nodes[node as usize], &t.nodes[node as usize]);
        let change = if before == after { None } else { words::change(before, after) };
        steps.push(StepView {
            step: k + 1,
            action,
            node,
            change,
            sent: sends(&log),
            outputs: outs(&log),
            in_flight: flight::<A>(&t),
        });
        s = t;
    }
    Counterexample { property, detail, initial, initial_in_flight, steps, path: path.to_vec() }
}

/// A packet in flight with the id the trace gave it.
struct Pending<M> {
    id: u64,
    from: u32,
    to: u32,
    msg: M,
    lamport: u64,
    vector: Vec<u64>,
}

/// Replays a path as a small engine of its own: its own copy of the nodes, full Lamport
/// and vector clocks, and the node host writing each handler's effects as trace events
/// (the model's states may keep no clocks, and a trace always carries them).
struct Writer<'a, A: Algorithm, W: Write> {
    m: &'a Model<A>,
    out: TraceWriter<W>,
    nodes: Vec<A::Node>,
    next_event: u64,
    next_msg: u64,
    lamport: Vec<u64>,
    vectors: Vec<Vec<u64>>,
    pending: Vec<Pending<Msg<A>>>,
    t: f64,
    /// The first write error: the sink cannot return one, so it is kept for the end.
    failed: Option<std::io::Error>,
}

impl<A: Algorithm, W: Write> Writer<'_, A, W> {
    fn event_at(&mut self, node: u32, kind: EventKind, lamport: u64, vc: &[u64], fill: impl FnOnce(&mut TraceEvent)) {
        let mut e = TraceEvent::new(self.next_event, self.t, node, kind, lamport);
        e.vc = Some(vc.to_vec());
        fill(&mut e);
        self.next_event += 1;
        if let Err(err) = self.out.event(&e) {
            self.failed.get_or_insert(err);
        }
    }

    fn event(&mut self, node: u32, kind: EventKind, fill: impl FnOnce(&mut TraceEvent)) {
        let i = node as usize;
        let (lamport, vc) = (self.lamport[i], std::mem::take(&mut self.vectors[i]));
        self.event_at(node, kind, lamport, &vc, fill);
        self.vectors[i] = vc;
    }

    fn clocks(&mut self, node: u32) -> ClockSlot<'_> {
        let i = node as usize;
        ClockSlot::logical(&mut self.lamport[i], Some(&mut self.vectors[i]))
    }

    /// A start, a timer or an input: its trace line, its handler.
    fn local(
        &mut self,
        host: &mut NodeHost<Msg<A>>,
        node: u32,
        kind: EventKind,
        fill: impl FnOnce(&mut TraceEvent),
        handler: impl FnOnce(&mut A::Node, &mut Context<'_, Msg<A>>),
    ) {
        self.event(node, kind, fill);
        self.handler(host, node, handler);
    }

    fn handler(
        &mut self,
        host: &mut NodeHost<Msg<A>>,
        node: u32,
        handler: impl FnOnce(&mut A::Node, &mut Context<'_, Msg<A>>),
    ) {
        let i = node as usize;
        let m = self.m;
        let place = Place { me: NodeId(node), n: m.n(), neighbours: m.topology.neighbours(NodeId(node)) };
        let clocks = ClockSlot::logical(&mut self.lamport[i], Some(&mut self.vectors[i]));
        host.run(place, &mut self.nodes[i], clocks, handler);
        host.apply(self);
    }

    /// Numbers a sent message and writes its send line; the packet it becomes.
    fn trace_send(&mut self, sent: Sent<Msg<A>>) -> Pending<Msg<A>> {
        let Sent { from, to, msg, lamport, vector } = sent;
        let id = self.next_msg;
        self.next_msg += 1;
        let payload = serde_json::to_value(&msg).ok();
        let kind = msg.kind_name().to_string();
        let vector = vector.map(Vec::from).unwrap_or_default();
        self.event_at(from.0, EventKind::Send, lamport, &vector, |e| {
            e.msg = Some(id);
            e.to = Some(to.0);
            e.msg_type = Some(kind);
            e.payload = payload;
        });
        Pending { id, from: from.0, to: to.0, msg, lamport, vector }
    }

    /// Takes the oldest pending packet equal to the one at `net[i]`: same channel, same
    /// message and, when the model keeps clocks, the same stamp (two equal messages
    /// with different stamps are different packets there).
    fn take(&mut self, s: &StateOf<A>, i: u32) -> Option<Pending<Msg<A>>> {
        let at = self.find(s, i)?;
        Some(self.pending.remove(at))
    }

    fn find(&self, s: &StateOf<A>, i: u32) -> Option<usize> {
        let p = s.net.get(i as usize)?;
        let clocks = self.m.clocks;
        self.pending
            .iter()
            .position(|q| q.from == p.from && q.to == p.to && q.msg == p.msg && (!clocks || q.lamport == p.lamport))
    }

    fn lost(&mut self, p: &Pending<Msg<A>>, reason: &str) {
        let kind = p.msg.kind_name().to_string();
        let (id, from, to) = (p.id, p.from, p.to);
        let reason = reason.to_string();
        self.event(to, EventKind::Drop, |e| {
            e.msg = Some(id);
            e.from = Some(from);
            e.to = Some(to);
            e.msg_type = Some(kind);
            e.reason = Some(reason);
        });
    }
}

/// The trace's meaning of a handler's effects: each is a trace line.
impl<A: Algorithm, W: Write> EffectSink<Msg<A>> for Writer<'_, A, W> {
    fn send(&mut self, sent: Sent<Msg<A>>) {
        let p = self.trace_send(sent);
        self.pending.push(p);
    }

    fn send_nowhere(&mut self, sent: Sent<Msg<A>>) {
        // Sent, then dropped at once at its sender, with the send's stamp, as the
        // simulator traces it; never pending.
        let p = self.trace_send(sent);
        let kind = p.msg.kind_name().to_string();
        self.event_at(p.from, EventKind::Drop, p.lamport, &p.vector, |e| {
            e.msg = Some(p.id);
            e.from = Some(p.from);
            e.to = Some(p.to);
            e.msg_type = Some(kind);
            e.reason = Some(NO_SUCH_NODE.into());
        });
    }

    fn set_timer(&mut self, _node: NodeId, _timer: Timer, _after: f64) {}

    fn cancel_timer(&mut self, _node: NodeId, _timer: Timer) {}

    fn output(&mut self, node: NodeId, key: &'static str, value: OutputValue, at: ClockAt<'_>) {
        let vc = at.vector.map(<[u64]>::to_vec).unwrap_or_default();
        self.event_at(node.0, EventKind::Output, at.lamport, &vc, |e| {
            e.key = Some(key.to_string());
            e.value = Some(value);
        });
    }

    fn log(&mut self, node: NodeId, text: String, at: ClockAt<'_>) {
        let vc = at.vector.map(<[u64]>::to_vec).unwrap_or_default();
        self.event_at(node.0, EventKind::Log, at.lamport, &vc, |e| e.text = Some(text));
    }

    fn local_event(&mut self, node: NodeId, at: ClockAt<'_>) {
        let vc = at.vector.map(<[u64]>::to_vec).unwrap_or_default();
        self.event_at(node.0, EventKind::Local, at.lamport, &vc, |_| {});
    }
}

/// Writes a counterexample as a trace.
pub fn write_trace<A: Algorithm, W: Write>(
    m: &Model<A>,
    cx: &Counterexample,
    seed: u64,
    network: &str,
    out: W,
) -> std::io::Result<W> {
    let n = m.n();
    let header = TraceHeader::describe::<A>(RunDescription {
        engine: "check",
        params: &m.params,
        seed,
        topology: &m.topology,
        idents: &m.idents,
        network: serde_json::json!({ "checker": network, "fifo": m.fifo() }),
        clocks: ClockMode::LamportAndVector,
    });
    let nodes = (0..n).map(|i| m.algorithm.init(&NodeSetup::new(NodeId(i as u32), m.idents[i], n))).collect();
    let mut w = Writer {
        m,
        out: TraceWriter::new(out, &header)?,
        nodes,
        next_event: 0,
        next_msg: 0,
        lamport: vec![0; n],
        vectors: vec![vec![0; n]; n],
        pending: Vec::new(),
        t: 0.0,
        failed: None,
    };
    let mut host = NodeHost::<Msg<A>>::new(m.spec.reads_clocks);
    // The initial state, as the model builds it: every start, then the inputs at time 0.
    for i in 0..n as u32 {
        w.local(&mut host, i, EventKind::Start, |_| {}, |p, ctx| p.on_start(ctx));
    }
    for (node, input) in &m.initial_inputs {
        let payload = serde_json::to_value(input).ok();
        let input = input.clone();
        w.local(&mut host, *node, EventKind::Input, |e| e.payload = payload, move |p, ctx| p.on_input(input, ctx));
    }
    let mut s = m.initial();
    for (k, &a) in cx.path.iter().enumerate() {
        w.t = (k + 1) as f64;
        let node = m.actor(&s, a);
        match a {
            Action::Deliver(i) => {
                if let Some(p) = w.take(&s, i) {
                    let (from, to) = (p.from, p.to);
                    NodeHost::<Msg<A>>::merge(NodeId(to), w.clocks(to), p.lamport, Some(&p.vector));
                    let kind = p.msg.kind_name().to_string();
                    w.event(to, EventKind::Receive, |e| {
                        e.msg = Some(p.id);
                        e.from = Some(from);
                        e.msg_type = Some(kind);
                    });
                    let msg = p.msg;
                    w.handler(&mut host, to, move |q, ctx| q.on_message(NodeId(from), msg, ctx));
                }
            }
            Action::Timer(_, t) => {
                let name = m.timer_name(t);
                w.local(
                    &mut host,
                    node,
                    EventKind::Timer,
                    |e| e.timer = Some(name.to_string()),
                    move |p, ctx| p.on_timer(name, ctx),
                );
            }
            Action::Input(_) => {
                let k = s.next_input[node as usize] as usize;
                if let Some(input) = m.inputs[node as usize].get(k).cloned() {
                    let payload = serde_json::to_value(&input).ok();
                    w.local(
                        &mut host,
                        node,
                        EventKind::Input,
                        |e| e.payload = payload,
                        move |p, ctx| p.on_input(input, ctx),
                    );
                }
            }
            Action::Drop(i) => {
                if let Some(p) = w.take(&s, i) {
                    w.lost(&p, "loss");
                }
            }
            Action::Duplicate(i) => {
                if let Some(at) = w.find(&s, i) {
                    let q = &w.pending[at];
                    let copy = Pending {
                        id: q.id,
                        from: q.from,
                        to: q.to,
                        msg: q.msg.clone(),
                        lamport: q.lamport,
                        vector: q.vector.clone(),
                    };
                    let (id, from, to) = (copy.id, copy.from, copy.to);
                    let kind = copy.msg.kind_name().to_string();
                    w.pending.push(copy);
                    w.event(to, EventKind::Duplicate, |e| {
                        e.msg = Some(id);
                        e.from = Some(from);
                        e.to = Some(to);
                        e.msg_type = Some(kind);
                    });
                }
            }
            Action::Crash(_) => {
                w.pending.retain(|q| q.to != node);
                w.event(node, EventKind::Crash, |_| {});
            }
        }
        s = m.step(&s, a, None).state;
        if let Some(err) = w.failed.take() {
            return Err(err);
        }
    }
    if let Some(err) = w.failed.take() {
        return Err(err);
    }
    let violation = format!("{}: {}", cx.property, cx.detail);
    w.out.finish("violation", Some(violation))
}

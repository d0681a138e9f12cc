//! Turning a path of actions into a readable counterexample and a trace file.
//!
//! The path is replayed from the initial state with every step's effects logged: the
//! printed steps say which action ran at which node, how that node's state changed,
//! what was sent, and what is left in flight. The trace uses the simulator's format
//! (engine `check`, one time unit per step), with message ids assigned in send order
//! exactly as the simulator assigns them, so `reparti sim --replay` can follow it.

use crate::model::{Action, Model, Msg, StateOf, StepLog};
use reparti_core::trace::{EventKind, TraceEvent, TraceHeader, TraceWriter, TRACE_VERSION};
use reparti_core::{clock, Algorithm, ClockMode, Message};
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
    /// That node's state before and after, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<(String, String)>,
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
    s.net.iter().map(|p| format!("{:?} {}→{}", p.msg, p.from, p.to)).collect()
}

fn describe<A: Algorithm>(m: &Model<A>, s: &StateOf<A>, a: Action) -> String {
    match a {
        Action::Deliver(i) => {
            let p = &s.net[i as usize];
            format!("deliver {:?} from {} to {}", p.msg, p.from, p.to)
        }
        Action::Timer(node, t) => format!("timer '{}' fires at node {node}", m.timer_name(t)),
        Action::Input(node) => {
            let k = s.next_input[node as usize] as usize;
            match m.inputs[node as usize].get(k) {
                Some(input) => format!("input {input:?} at node {node}"),
                None => format!("input at node {node}"),
            }
        }
        Action::Drop(i) => {
            let p = &s.net[i as usize];
            format!("the network loses {:?} from {} to {}", p.msg, p.from, p.to)
        }
        Action::Duplicate(i) => {
            let p = &s.net[i as usize];
            format!("the network duplicates {:?} from {} to {}", p.msg, p.from, p.to)
        }
        Action::Crash(node) => format!("node {node} crashes"),
    }
}

fn sends<M: std::fmt::Debug>(log: &StepLog<M>) -> Vec<String> {
    log.sent.iter().map(|(to, msg, _, _)| format!("{msg:?} to {to}")).collect()
}

fn outs<M>(log: &StepLog<M>) -> Vec<String> {
    log.outputs.iter().map(|(k, v, _)| format!("{k} = {v}")).collect()
}

/// Replays `path` and describes every step.
pub fn build<A: Algorithm>(m: &Model<A>, path: &[Action], property: String, detail: String) -> Counterexample {
    let s0 = m.initial(None);
    let initial = s0.nodes.iter().enumerate().map(|(i, n)| format!("node {i}: {n:?}")).collect();
    let initial_in_flight = flight::<A>(&s0);
    let mut s = s0;
    let mut steps = Vec::new();
    for (k, &a) in path.iter().enumerate() {
        let node = m.actor(&s, a);
        let action = describe(m, &s, a);
        let mut log = StepLog::default();
        let t = m.step(&s, a, Some(&mut log)).state;
        let (before, after) = (&s.nodes[node as usize], &t.nodes[node as usize]);
        let change = (before != after).then(|| (format!("{before:?}"), format!("{after:?}")));
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

/// The packets in flight with the ids the trace gave them, in send order.
struct Pending<M> {
    id: u64,
    from: u32,
    to: u32,
    msg: M,
    lamport: u64,
    vector: Vec<u64>,
}

struct Writer<'a, A: Algorithm, W: Write> {
    m: &'a Model<A>,
    out: TraceWriter<W>,
    next_event: u64,
    next_msg: u64,
    lamport: Vec<u64>,
    vectors: Vec<Vec<u64>>,
    pending: Vec<Pending<Msg<A>>>,
    t: f64,
}

impl<A: Algorithm, W: Write> Writer<'_, A, W> {
    fn event(&mut self, node: u32, kind: EventKind, fill: impl FnOnce(&mut TraceEvent)) -> std::io::Result<()> {
        let i = node as usize;
        let mut e = TraceEvent::new(self.next_event, self.t, node, kind, self.lamport[i]);
        e.vc = Some(self.vectors[i].clone());
        fill(&mut e);
        self.next_event += 1;
        self.out.event(&e)
    }

    fn tick(&mut self, node: u32) {
        let i = node as usize;
        clock::tick(&mut self.lamport[i], Some(&mut self.vectors[i]), i);
    }

    /// Writes a handler's sends, outputs and logs in the order the handler made them,
    /// ticking the clocks on each send as the framework does (outputs and logs do not
    /// tick: they carry the clock of the moment they were made).
    fn effects(&mut self, node: u32, log: StepLog<Msg<A>>) -> std::io::Result<()> {
        let mut outputs = log.outputs.into_iter().peekable();
        let mut logs = log.logs.into_iter().peekable();
        let sent = log.sent.len();
        let mut sends = log.sent.into_iter();
        for k in 0..=sent {
            while let Some((key, value, _)) = outputs.next_if(|o| o.2 <= k) {
                self.event(node, EventKind::Output, |e| {
                    e.key = Some(key.to_string());
                    e.value = Some(value);
                })?;
            }
            while let Some((text, _)) = logs.next_if(|l| l.1 <= k) {
                self.event(node, EventKind::Log, |e| e.text = Some(text))?;
            }
            let Some((to, msg, _, _)) = sends.next() else { break };
            self.tick(node);
            let id = self.next_msg;
            self.next_msg += 1;
            let payload = serde_json::to_value(&msg).ok();
            let kind = msg.kind_name().to_string();
            self.event(node, EventKind::Send, |e| {
                e.msg = Some(id);
                e.to = Some(to);
                e.msg_type = Some(kind);
                e.payload = payload;
            })?;
            if (to as usize) < self.m.n() {
                let (lamport, vector) = (self.lamport[node as usize], self.vectors[node as usize].clone());
                self.pending.push(Pending { id, from: node, to, msg, lamport, vector });
            }
        }
        Ok(())
    }

    /// Takes the oldest pending packet equal to the one at `net[i]`: same channel, same
    /// message and, when the model keeps clocks, the same stamp (two equal messages
    /// with different stamps are different packets there).
    fn take(&mut self, s: &StateOf<A>, i: u32) -> Option<Pending<Msg<A>>> {
        let p = &s.net[i as usize];
        let clocks = self.m.clocks;
        let at = self
            .pending
            .iter()
            .position(|q| q.from == p.from && q.to == p.to && q.msg == p.msg && (!clocks || q.lamport == p.lamport))?;
        Some(self.pending.remove(at))
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
    let header = TraceHeader {
        trace: "reparti".into(),
        version: TRACE_VERSION,
        engine: "check".into(),
        algorithm: m.spec.name.into(),
        params: m.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        seed,
        topology: m.topology.kind().to_string(),
        nodes: n,
        idents: m.idents.clone(),
        network: serde_json::json!({ "checker": network, "fifo": m.fifo() }),
        clocks: ClockMode::LamportAndVector,
        message_types: <Msg<A> as Message>::KINDS.iter().map(|s| s.to_string()).collect(),
    };
    let mut w = Writer {
        m,
        out: TraceWriter::new(out, &header)?,
        next_event: 0,
        next_msg: 0,
        lamport: vec![0; n],
        vectors: vec![vec![0; n]; n],
        pending: Vec::new(),
        t: 0.0,
    };
    let mut logs = Vec::new();
    let mut s = m.initial(Some(&mut logs));
    for (node, input, log) in logs {
        w.tick(node);
        match input {
            None => w.event(node, EventKind::Start, |_| {})?,
            Some(input) => {
                let payload = serde_json::to_value(&input).ok();
                w.event(node, EventKind::Input, |e| e.payload = payload)?;
            }
        }
        w.effects(node, log)?;
    }
    for (k, &a) in cx.path.iter().enumerate() {
        w.t = (k + 1) as f64;
        let node = m.actor(&s, a);
        let mut log = StepLog::default();
        match a {
            Action::Deliver(i) => {
                if let Some(p) = w.take(&s, i) {
                    let to = p.to as usize;
                    clock::merge(&mut w.lamport[to], Some(&mut w.vectors[to]), to, p.lamport, Some(&p.vector));
                    let kind = p.msg.kind_name().to_string();
                    w.event(p.to, EventKind::Receive, |e| {
                        e.msg = Some(p.id);
                        e.from = Some(p.from);
                        e.msg_type = Some(kind);
                    })?;
                }
            }
            Action::Timer(_, t) => {
                w.tick(node);
                let name = m.timer_name(t).to_string();
                w.event(node, EventKind::Timer, |e| e.timer = Some(name))?;
            }
            Action::Input(_) => {
                w.tick(node);
                let k = s.next_input[node as usize] as usize;
                let payload = m.inputs[node as usize].get(k).and_then(|i| serde_json::to_value(i).ok());
                w.event(node, EventKind::Input, |e| e.payload = payload)?;
            }
            Action::Drop(i) => {
                if let Some(p) = w.take(&s, i) {
                    let kind = p.msg.kind_name().to_string();
                    w.event(p.to, EventKind::Drop, |e| {
                        e.msg = Some(p.id);
                        e.from = Some(p.from);
                        e.to = Some(p.to);
                        e.msg_type = Some(kind);
                        e.reason = Some("loss".into());
                    })?;
                }
            }
            Action::Duplicate(i) => {
                let p = &s.net[i as usize];
                let clocks = m.clocks;
                if let Some(q) = w
                    .pending
                    .iter()
                    .find(|q| q.from == p.from && q.to == p.to && q.msg == p.msg && (!clocks || q.lamport == p.lamport))
                {
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
                    })?;
                }
            }
            Action::Crash(_) => {
                w.pending.retain(|q| q.to != node);
                w.event(node, EventKind::Crash, |_| {})?;
            }
        }
        let t = m.step(&s, a, Some(&mut log)).state;
        w.effects(node, log)?;
        s = t;
    }
    let violation = format!("{}: {}", cx.property, cx.detail);
    w.out.finish("violation", Some(violation))
}

//! Traces the space-time and ShiViz tests share: small hand-written ones (so snapshots do
//! not move when an algorithm changes) and real simulator runs.
#![allow(dead_code)] // each test binary uses a different subset

pub mod shiviz_rules;

use reparti_core::trace::{read_trace, EventKind, Span, Trace, TraceEnd, TraceEvent, TraceHeader};
use reparti_core::{Algorithm, AlgorithmVisitor, ClockMode, IdAssignment, OutputValue};
use reparti_sim::{simulate_traced, Delay, Fault, NetworkModel, SimConfig};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Builds a trace event by event, keeping Lamport and vector clocks by TP6's rules (as
/// the engines do): local events, sends and receives tick; outputs, logs and crashes do
/// not; drops and duplicates are network events that carry the message's stamp.
pub struct Builder {
    n: usize,
    events: Vec<TraceEvent>,
    lamport: Vec<u64>,
    vc: Vec<Vec<u64>>,
    stamps: HashMap<u64, (u64, Vec<u64>, u32, u32, String)>,
    next_msg: u64,
}

impl Builder {
    pub fn new(n: usize) -> Self {
        Builder {
            n,
            events: Vec::new(),
            lamport: vec![0; n],
            vc: vec![vec![0; n]; n],
            stamps: HashMap::new(),
            next_msg: 0,
        }
    }

    fn push(&mut self, t: f64, node: u32, kind: EventKind, tick: bool) -> &mut TraceEvent {
        let k = node as usize;
        if tick {
            self.lamport[k] += 1;
            self.vc[k][k] += 1;
        }
        let mut e = TraceEvent::new(self.events.len() as u64, t, node, kind, self.lamport[k]);
        e.vc = Some(self.vc[k].clone());
        self.events.push(e);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    pub fn start(&mut self, t: f64, node: u32) {
        self.push(t, node, EventKind::Start, true);
    }

    pub fn send(&mut self, t: f64, node: u32, to: u32, ty: &str, payload: Value) -> u64 {
        let m = self.next_msg;
        self.next_msg += 1;
        let e = self.push(t, node, EventKind::Send, true);
        e.msg = Some(m);
        e.to = Some(to);
        e.msg_type = Some(ty.into());
        e.payload = Some(payload);
        let stamp = (e.lamport, e.vc.clone().unwrap_or_default(), node, to, ty.to_string());
        self.stamps.insert(m, stamp);
        m
    }

    pub fn receive(&mut self, t: f64, m: u64) {
        let Some((l, v, from, to, ty)) = self.stamps.get(&m).cloned() else { panic!("no send of message {m}") };
        let k = to as usize;
        self.lamport[k] = self.lamport[k].max(l);
        for (mine, theirs) in self.vc[k].iter_mut().zip(&v) {
            *mine = (*mine).max(*theirs);
        }
        let e = self.push(t, to, EventKind::Receive, true);
        e.msg = Some(m);
        e.from = Some(from);
        e.msg_type = Some(ty);
    }

    fn network(&mut self, t: f64, m: u64, kind: EventKind) -> &mut TraceEvent {
        let Some((l, _, from, to, ty)) = self.stamps.get(&m).cloned() else { panic!("no send of message {m}") };
        let mut e = TraceEvent::new(self.events.len() as u64, t, to, kind, l);
        e.msg = Some(m);
        e.from = Some(from);
        e.to = Some(to);
        e.msg_type = Some(ty);
        self.events.push(e);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    pub fn drop(&mut self, t: f64, m: u64, reason: &str) {
        self.network(t, m, EventKind::Drop).reason = Some(reason.into());
    }

    pub fn duplicate(&mut self, t: f64, m: u64) {
        self.network(t, m, EventKind::Duplicate);
    }

    pub fn output(&mut self, t: f64, node: u32, key: &str, value: OutputValue) {
        let e = self.push(t, node, EventKind::Output, false);
        e.key = Some(key.into());
        e.value = Some(value);
    }

    pub fn crash(&mut self, t: f64, node: u32) {
        self.push(t, node, EventKind::Crash, false);
    }

    pub fn timer(&mut self, t: f64, node: u32, name: &str) {
        self.push(t, node, EventKind::Timer, true).timer = Some(name.into());
    }

    pub fn input(&mut self, t: f64, node: u32, payload: Value) {
        self.push(t, node, EventKind::Input, true).payload = Some(payload);
    }

    pub fn log(&mut self, t: f64, node: u32, text: &str) {
        self.push(t, node, EventKind::Log, false).text = Some(text.into());
    }

    pub fn finish(self, algorithm: &str, idents: Vec<u64>, types: &[&str], stop: &str) -> Trace {
        let header = TraceHeader {
            trace: "reparti".into(),
            version: 1,
            engine: "sim".into(),
            algorithm: algorithm.into(),
            params: Default::default(),
            seed: 7,
            topology: "ring".into(),
            nodes: self.n,
            idents,
            network: json!({"faults": [], "model": {"delay": {"kind": "const", "value": 1.0}, "dup": 0.0, "fifo": true, "loss": 0.0, "sync": false}}),
            clocks: ClockMode::LamportAndVector,
            message_types: types.iter().map(|s| s.to_string()).collect(),
            control_types: Vec::new(),
            // As a mutual-exclusion algorithm declares its critical section.
            spans: if self.events.iter().any(|e| e.key.as_deref() == Some("enter_cs")) {
                vec![Span { label: "critical section".into(), opens: "enter_cs".into(), closes: "exit_cs".into() }]
            } else {
                Vec::new()
            },
            ports: Vec::new(),
            physical_clocks: Vec::new(),
        };
        let end = TraceEnd { stop: stop.into(), events: self.events.len() as u64, violation: None };
        Trace { header, events: self.events, end: Some(end) }
    }
}

/// Chang–Roberts on a 3-node ring with identities 2, 3, 1: identity 3 wins.
pub fn election3() -> Trace {
    let mut b = Builder::new(3);
    let mut elect = Vec::new();
    for (node, id) in [(0u32, 2u64), (1, 3), (2, 1)] {
        b.start(0.0, node);
        elect.push(b.send(0.0, node, (node + 1) % 3, "ELECT", json!({"ELECT": id})));
    }
    b.receive(1.0, elect[0]); // n1 gets 2 < 3: swallowed
    b.receive(1.0, elect[1]); // n2 gets 3 > 1: forwards
    let m = b.send(1.0, 2, 0, "ELECT", json!({"ELECT": 3}));
    b.receive(1.0, elect[2]); // n0 gets 1 < 2: swallowed
    b.receive(2.0, m); // n0 gets 3 > 2: forwards
    let m = b.send(2.0, 0, 1, "ELECT", json!({"ELECT": 3}));
    b.receive(3.0, m); // n1 gets its own identity: leader
    b.output(3.0, 1, "leader", OutputValue::Int(3));
    let mut m = b.send(3.0, 1, 2, "ELECTED", json!({"ELECTED": 3}));
    for (t, node) in [(4.0, 2u32), (5.0, 0)] {
        b.receive(t, m);
        b.output(t, node, "leader", OutputValue::Int(3));
        m = b.send(t, node, (node + 1) % 3, "ELECTED", json!({"ELECTED": 3}));
    }
    b.receive(6.0, m);
    b.finish("chang-roberts", vec![2, 3, 1], &["ELECT", "ELECTED"], "quiescence")
}

/// Four nodes and every kind of trouble: a lost message, a duplicated one (two
/// receives), a crash followed by a message dropped at the dead node, a message still in
/// flight when the run stops, and a timer, an input and a log line.
pub fn faulty4() -> Trace {
    let mut b = Builder::new(4);
    for node in 0..4 {
        b.start(0.0, node);
    }
    let lost = b.send(0.0, 0, 1, "PING", json!({"Ping": 1}));
    let twice = b.send(0.0, 1, 2, "PING", json!({"Ping": 2}));
    b.duplicate(0.0, twice);
    b.drop(1.0, lost, "loss");
    b.receive(1.0, twice);
    b.log(1.0, 2, "got a ping, \"twice\"?");
    b.receive(1.5, twice);
    b.timer(2.0, 3, "tick");
    b.crash(2.5, 3);
    let to_dead = b.send(3.0, 2, 3, "PONG", json!({"Pong": 2}));
    b.drop(4.0, to_dead, "crashed");
    b.input(4.0, 0, json!({"Send": {"to": 2, "text": "<hi & bye>"}}));
    b.send(4.0, 0, 2, "PONG", json!({"Pong": 0}));
    b.output(4.0, 0, "sent", OutputValue::Text("1".into()));
    b.finish("pings", vec![10, 20, 30, 40], &["PING", "PONG"], "time")
}

/// Three nodes taking turns in the critical section; node 2 is still inside at the end.
pub fn mutex3() -> Trace {
    let mut b = Builder::new(3);
    for node in 0..3 {
        b.start(0.0, node);
    }
    b.input(0.5, 0, json!("Request"));
    let r1 = b.send(0.5, 0, 1, "REQUEST", json!({"Request": [1, 0]}));
    let r2 = b.send(0.5, 0, 2, "REQUEST", json!({"Request": [1, 0]}));
    b.receive(1.5, r1);
    let a1 = b.send(1.5, 1, 0, "REPLY", json!("Reply"));
    b.receive(1.5, r2);
    let a2 = b.send(1.5, 2, 0, "REPLY", json!("Reply"));
    b.receive(2.5, a1);
    b.receive(2.5, a2);
    b.output(2.5, 0, "enter_cs", OutputValue::Text("0.1".into()));
    b.output(3.5, 0, "exit_cs", OutputValue::Text("0.1".into()));
    b.input(4.0, 2, json!("Request"));
    let r3 = b.send(4.0, 2, 0, "REQUEST", json!({"Request": [4, 2]}));
    let r4 = b.send(4.0, 2, 1, "REQUEST", json!({"Request": [4, 2]}));
    b.receive(5.0, r3);
    let a3 = b.send(5.0, 0, 2, "REPLY", json!("Reply"));
    b.receive(5.0, r4);
    let a4 = b.send(5.0, 1, 2, "REPLY", json!("Reply"));
    b.receive(6.0, a3);
    b.receive(6.0, a4);
    b.output(6.0, 2, "enter_cs", OutputValue::Text("2.1".into()));
    b.finish("ricart-agrawala", vec![1, 2, 3], &["REQUEST", "REPLY"], "time")
}

/// A snapshot of three nodes (a bank's TRANSFER, the snapshot's MARKER as a control
/// type) whose cut n0 @ 1, n1 @ 2, n2 @ 3 is crossed by a message in transit (#0, n0 → n1),
/// one still in flight at the end (#1, n2 → n0), and one sent after the cut but received
/// before it (#5, n1 → n2: the cut is inconsistent).
pub fn snapshot3() -> Trace {
    let mut b = Builder::new(3);
    for node in 0..3 {
        b.start(0.0, node);
    }
    let transfer = |k: u64| json!({"App": {"seq": k, "msg": {"Transfer": {"amount": 5}}}});
    let across = b.send(0.5, 0, 1, "TRANSFER", transfer(1));
    b.send(0.2, 2, 0, "TRANSFER", transfer(1)); // in flight at the end
    let before = b.send(0.5, 1, 2, "TRANSFER", transfer(1));
    b.receive(1.0, before);
    b.output(1.0, 0, "recorded", OutputValue::Int(1));
    let to1 = b.send(1.0, 0, 1, "MARKER", json!("Marker"));
    let to2 = b.send(1.0, 0, 2, "MARKER", json!("Marker"));
    b.receive(2.0, to1);
    b.output(2.0, 1, "recorded", OutputValue::Int(1));
    let orphan = b.send(2.2, 1, 2, "TRANSFER", transfer(2));
    b.receive(2.5, across);
    b.receive(2.6, orphan);
    b.receive(3.0, to2);
    b.output(3.0, 2, "recorded", OutputValue::Int(1));
    let after = b.send(3.5, 2, 0, "TRANSFER", transfer(2));
    b.receive(4.0, after);
    let mut trace = b.finish("bank+chandy-lamport", vec![1, 2, 3], &["TRANSFER", "MARKER"], "time");
    trace.header.control_types = vec!["MARKER".into()];
    trace
}

/// The same trace without vector clocks (as written for n > 256).
pub fn without_vectors(mut trace: Trace) -> Trace {
    trace.header.clocks = ClockMode::Lamport;
    for e in &mut trace.events {
        e.vc = None;
    }
    trace
}

/// A long run with many nodes, made up: every node pings the next one, round after round.
pub fn huge(nodes: usize, rounds: usize) -> Trace {
    let mut b = Builder::new(nodes);
    for node in 0..nodes as u32 {
        b.start(0.0, node);
    }
    for r in 0..rounds {
        let t = r as f64;
        let sent: Vec<u64> = (0..nodes as u32)
            .map(|node| b.send(t, node, (node + 1) % nodes as u32, "PING", json!({"Ping": r})))
            .collect();
        for m in sent {
            b.receive(t + 1.0, m);
        }
    }
    b.finish("pings", (1..=nodes as u64).collect(), &["PING"], "events")
}

struct Run(SimConfig);

impl AlgorithmVisitor for Run {
    type Output = Trace;
    fn visit<A: Algorithm>(self) -> Trace {
        let (_, bytes) = simulate_traced::<A, _>(&self.0, Vec::new()).expect("the simulation runs");
        read_trace(bytes.as_slice()).expect("the simulator writes a readable trace")
    }
}

/// Runs the named algorithm in the simulator and reads its trace back.
pub fn simulate(name: &str, cfg: SimConfig) -> Trace {
    reparti_algos::visit(name, Run(cfg)).expect("a catalogue algorithm")
}

/// A handful of real runs: every algorithm, lossy, duplicating, crashing and reordering
/// networks.
pub fn simulated() -> Vec<(String, Trace)> {
    let net = |f: &dyn Fn(&mut NetworkModel)| {
        let mut m = NetworkModel::default();
        f(&mut m);
        m
    };
    let cfg = |n: usize, network: NetworkModel, faults: Vec<Fault>| SimConfig {
        nodes: Some(n),
        network,
        faults,
        ids: IdAssignment::Random,
        ..SimConfig::default()
    };
    let uniform = Delay::Uniform { min: 1.0, max: 5.0 };
    vec![
        ("chang-roberts".into(), simulate("chang-roberts", cfg(6, NetworkModel::default(), vec![]))),
        ("chang-roberts loss".into(), simulate("chang-roberts", cfg(6, net(&|m| m.loss = 0.2), vec![]))),
        ("chang-roberts dup".into(), simulate("chang-roberts", cfg(6, net(&|m| m.dup = 0.3), vec![]))),
        (
            "chang-roberts crash".into(),
            simulate("chang-roberts", cfg(6, NetworkModel::default(), vec![Fault::parse_crash("2@3").expect("ok")])),
        ),
        (
            "franklin non-fifo".into(),
            simulate(
                "franklin",
                cfg(
                    6,
                    net(&|m| {
                        m.fifo = false;
                        m.delay = uniform;
                    }),
                    vec![],
                ),
            ),
        ),
        ("ricart-agrawala".into(), simulate("ricart-agrawala", cfg(4, NetworkModel::default(), vec![]))),
        ("token-ring".into(), simulate("token-ring", cfg(5, NetworkModel::default(), vec![]))),
        ("logical-clocks".into(), simulate("logical-clocks", cfg(4, net(&|m| m.dup = 0.2), vec![]))),
    ]
}

/// A random but well-formed run of `n` nodes, driven by `ops` (what to do, and two
/// numbers to pick nodes and messages with): sends, receives, losses, duplicates,
/// crashes, outputs, timers and logs, in non-decreasing time.
pub fn random_trace(n: usize, ops: &[(u8, u32, u32)]) -> Trace {
    let mut b = Builder::new(n);
    for node in 0..n as u32 {
        b.start(0.0, node);
    }
    let mut alive: Vec<bool> = vec![true; n];
    // (message, receiver, copies still to deliver)
    let mut pending: Vec<(u64, u32, u32)> = Vec::new();
    let mut t = 0.0;
    for &(op, a, c) in ops {
        t += f64::from(c % 2);
        let node = a % n as u32;
        if !alive[node as usize] && op % 8 < 6 {
            continue;
        }
        match op % 8 {
            0 | 1 => {
                let to = (node + 1 + c % (n as u32 - 1).max(1)) % n as u32;
                let m = b.send(t, node, to, if c % 3 == 0 { "B" } else { "A" }, json!({"n": c % 100}));
                pending.push((m, to, 1));
            }
            2 | 3 if !pending.is_empty() => {
                let k = (c as usize) % pending.len();
                let (m, to, copies) = pending[k];
                if alive[to as usize] {
                    b.receive(t, m);
                } else {
                    b.drop(t, m, "crashed");
                }
                if copies > 1 {
                    pending[k].2 -= 1;
                } else {
                    pending.remove(k);
                }
            }
            4 if !pending.is_empty() => {
                let k = (c as usize) % pending.len();
                let (m, _, _) = pending.remove(k);
                b.drop(t, m, "loss");
            }
            5 if !pending.is_empty() => {
                let k = (c as usize) % pending.len();
                b.duplicate(t, pending[k].0);
                pending[k].2 += 1;
            }
            6 => match c % 3 {
                0 => b.output(t, node, "leader", OutputValue::Int(i64::from(c % 10))),
                1 => b.timer(t, node, "tick"),
                _ => b.log(t, node, "step"),
            },
            7 if alive[node as usize] && c % 4 == 0 && alive.iter().filter(|x| **x).count() > 1 => {
                b.crash(t, node);
                alive[node as usize] = false;
            }
            _ => {}
        }
    }
    b.finish("random", (1..=n as u64).collect(), &["A", "B"], "events")
}

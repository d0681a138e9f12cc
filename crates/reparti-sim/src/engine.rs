//! The discrete-event engine: one [`Simulation`] runs one algorithm on one network.

use crate::checks::Checks;
use crate::config::{SimConfig, VectorClocks, AUTO_VECTOR_LIMIT, GLOBAL_CHECK_LIMIT};
use crate::fifo::FifoTable;
use crate::network::{Delay, Fault};
use crate::queue::{EventQueue, Queued};
use crate::report::Stop;
use crate::tracer::Tracer;
use crate::SimError;
use reparti_core::property::Delivery;
use reparti_core::trace::{EventKind, RunDescription, TraceHeader};
use reparti_core::{
    Algorithm, AlgorithmSpec, ClockMode, ClockSlot, Context, Instance, Message, NodeHost, NodeId, NodeSetup,
    OutputValue, Params, PhysicalClock, PhysicalNow, Place, Process, Rng, Timer, Timers, Topology, TrueTime, World,
};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

#[path = "effects.rs"]
mod effects;

pub(crate) type Msg<A> = <<A as Algorithm>::Node as Process>::Msg;
pub(crate) type Input<A> = <<A as Algorithm>::Node as Process>::Input;

/// A message on its way, with the stamps the framework keeps outside the algorithm.
#[derive(Clone)]
pub(crate) struct Envelope<M> {
    pub from: u32,
    pub to: u32,
    pub id: u64,
    pub lamport: u64,
    /// Length of the longest causal chain of messages ending with this one.
    pub chain: u32,
    pub msg: M,
    pub vector: Option<Box<[u64]>>,
}

/// The engine's own records of one node.
#[derive(Clone, Copy, Default)]
pub(crate) struct NodeBook {
    /// The node's Lamport clock.
    pub lamport: u64,
    /// Length of the longest causal chain of messages ending at the node.
    pub chain: u32,
    /// Messages the node has sent.
    pub sent: u32,
}

pub(crate) enum Event<M, I> {
    Start { node: u32 },
    Deliver(Envelope<M>),
    Timer { node: u32, timer: Timer, generation: u64 },
    Input { node: u32, input: I },
    Crash { node: u32 },
}

/// A simulation in progress. [`crate::simulate`] runs one to the end; drive one by hand
/// with [`Simulation::run_for`] to show progress or inspect the nodes between steps.
pub struct Simulation<A: Algorithm, W: Write = io::Sink> {
    pub(crate) algorithm: A,
    pub(crate) spec: AlgorithmSpec,
    pub(crate) params: Params,
    pub(crate) cfg: SimConfig,
    pub(crate) topology: Topology,
    pub(crate) idents: Vec<u64>,
    pub(crate) nodes: Vec<A::Node>,
    /// What the engine keeps of each node beside its state, side by side so that a
    /// delivery to a random node among a million costs one cache miss, not three.
    pub(crate) books: Vec<NodeBook>,
    vectors: Option<Vec<u64>>,
    pub(crate) crashed: Vec<bool>,
    pub(crate) queue: EventQueue<Event<Msg<A>, Input<A>>>,
    pub(crate) rng: Rng,
    pub(crate) fifo: Option<FifoTable>,
    /// Each node's pending timers, with the generation that a queued firing must match
    /// (a reset or cancelled timer's earlier firings are stale).
    pub(crate) timers: Vec<Timers<u64>>,
    /// The next timer generation (one counter for all, so a reset never reuses one).
    next_generation: u64,
    pub(crate) now: f64,
    pub(crate) events: u64,
    pub(crate) next_msg: u64,
    pub(crate) sent_by_type: Vec<u64>,
    pub(crate) delivered: u64,
    pub(crate) dropped: u64,
    pub(crate) duplicated: u64,
    pub(crate) outputs: BTreeMap<&'static str, BTreeMap<OutputValue, u64>>,
    /// Each output key's first and last moment: the time, and the messages sent by type
    /// so far (what `after:` counts read).
    pub(crate) moments: BTreeMap<&'static str, [(f64, Vec<u64>); 2]>,
    pub(crate) max_chain: u32,
    pub(crate) checks: Checks<A::Node>,
    /// The clients' history, for algorithms with history properties.
    pub(crate) histories: Option<crate::histories::Histories>,
    /// Runs every handler; lent out while its effects are applied to this simulation.
    host: Option<Box<NodeHost<Msg<A>>>>,
    pub(crate) tracer: Option<Tracer<W>>,
    pub(crate) stop: Option<Stop>,
    pub(crate) busy: Duration,
    pub(crate) clock_mode: ClockMode,
    pub(crate) global_note: String,
    /// Which `DelayMessage` faults have been applied (each applies once).
    pub(crate) delays_used: Vec<usize>,
    /// Whether some channel has its own delay (`Fault::LinkDelay`).
    pub(crate) link_delays: bool,
    /// Every node's physical clock, for an algorithm that reads them.
    pub(crate) physical: Option<Vec<PhysicalClock>>,
    /// Real time, when it is not simulated time: a replay of a real run sets it to the
    /// time each node read its clock at.
    pub(crate) real_override: Option<f64>,
}

impl<A: Algorithm> Simulation<A, io::Sink> {
    /// Prepares a run without a trace.
    pub fn new(cfg: &SimConfig) -> Result<Self, SimError> {
        Self::build(cfg, None)
    }
}

impl<A: Algorithm, W: Write> Simulation<A, W> {
    /// Prepares a run that writes its trace to `out`.
    pub fn with_trace(cfg: &SimConfig, out: W) -> Result<Self, SimError> {
        Self::build(cfg, Some(out))
    }

    fn build(cfg: &SimConfig, trace: Option<W>) -> Result<Self, SimError> {
        let default_nodes = A::spec().default_nodes;
        let instance = Instance::<A>::new(
            &cfg.params,
            cfg.topology.as_ref(),
            cfg.nodes.unwrap_or(default_nodes),
            &cfg.ids,
            cfg.seed,
        )?;
        let Instance { algorithm, spec, params, topology, idents, workload, rng } = instance;
        let n = topology.len();
        for f in &cfg.faults {
            if let Some(bad) = f.nodes().into_iter().find(|v| v.index() >= n) {
                return Err(SimError::Fault(format!("a fault names node {bad}, but the nodes are 0..{}", n - 1)));
            }
        }
        let mut network = cfg.network.clone();
        if network.sync {
            network.delay = Delay::Const { value: 1.0 };
            network.fifo = true;
        }
        let vectors_on = match cfg.vector_clocks {
            VectorClocks::On => true,
            VectorClocks::Off => false,
            VectorClocks::Auto => (spec.reads_clocks || trace.is_some()) && n <= AUTO_VECTOR_LIMIT,
        };
        if vectors_on && n > 4096 {
            return Err(SimError::Fault(format!(
                "vector clocks for {n} nodes would need {} MB; use at most 4096 nodes or --vector-clocks off",
                n * n * 8 / 1_000_000
            )));
        }
        let clock_mode = if vectors_on { ClockMode::LamportAndVector } else { ClockMode::Lamport };
        let spec_reads_clocks = spec.reads_clocks;
        let nodes: Vec<A::Node> = (0..n)
            .map(|i| {
                let setup = NodeSetup::new(NodeId(i as u32), idents[i], n);
                algorithm.init(&match cfg.ports.get(i) {
                    Some(&port) => setup.on_port(port),
                    None => setup,
                })
            })
            .collect();
        let global_every = if n <= GLOBAL_CHECK_LIMIT { 1 } else { n as u64 };
        let global_note = if global_every == 1 {
            "every event".to_string()
        } else {
            format!("every {global_every} events (n > {GLOBAL_CHECK_LIMIT}: each check costs O(n))")
        };
        let checks = Checks::new(algorithm.properties(), &nodes, global_every);
        let histories = crate::histories::Histories::new(algorithm.history_properties());
        // Constant delays keep each channel in order by themselves, unless a scenario
        // holds one message back.
        let delayed = cfg.faults.iter().any(|f| matches!(f, Fault::DelayMessage { .. } | Fault::LinkDelay { .. }));
        let link_delays = cfg.faults.iter().any(|f| matches!(f, Fault::LinkDelay { .. }));
        let physical = crate::clocks::physical_clocks(&spec, cfg, n)?;
        let fifo_needed = network.fifo && (delayed || !matches!(network.delay, Delay::Const { .. }));
        let mut cfg = cfg.clone();
        cfg.network = network;

        let mut queue = EventQueue::new(!matches!(cfg.network.delay, Delay::Const { .. }));
        for i in 0..n as u32 {
            queue.push(0.0, Event::Start { node: i });
        }
        if !cfg.no_workload {
            for w in workload {
                queue.push(w.at.max(0.0), Event::Input { node: w.node.0, input: w.input });
            }
        }
        let mut given = cfg.inputs.clone();
        given.sort_by(|a, b| a.at.total_cmp(&b.at));
        for g in given {
            if g.node as usize >= n {
                return Err(SimError::Fault(format!("an input names node {}, but the nodes are 0..{}", g.node, n - 1)));
            }
            let input: Input<A> = serde_json::from_value(g.input.clone()).map_err(|e| {
                SimError::Fault(format!("input {} at node {} is not an input of {}: {e}", g.input, g.node, spec.name))
            })?;
            queue.push(g.at.max(0.0), Event::Input { node: g.node, input });
        }
        for f in &cfg.faults {
            if let Fault::Crash { node, at } = f {
                queue.push(*at, Event::Crash { node: node.0 });
            }
        }

        let tracer = match trace {
            Some(out) => {
                let mut header = TraceHeader::describe::<A>(RunDescription {
                    engine: "sim",
                    params: &params,
                    seed: cfg.seed,
                    topology: &topology,
                    idents: &idents,
                    network: serde_json::json!({ "model": &cfg.network, "faults": &cfg.faults }),
                    clocks: clock_mode,
                });
                header.physical_clocks = physical.iter().flatten().map(PhysicalClock::setting).collect();
                Some(Tracer::new(out, &header).map_err(SimError::Trace)?)
            }
            None => None,
        };

        Ok(Simulation {
            fifo: fifo_needed.then(|| FifoTable::new(&topology)),
            books: vec![NodeBook::default(); n],
            vectors: vectors_on.then(|| vec![0; n * n]),
            crashed: vec![false; n],
            sent_by_type: vec![0; Msg::<A>::kinds().len()],
            algorithm,
            spec,
            params,
            cfg,
            topology,
            idents,
            nodes,
            queue,
            rng,
            timers: (0..n).map(|_| Timers::default()).collect(),
            next_generation: 0,
            now: 0.0,
            events: 0,
            next_msg: 0,
            delivered: 0,
            dropped: 0,
            duplicated: 0,
            outputs: BTreeMap::new(),
            moments: BTreeMap::new(),
            max_chain: 0,
            checks,
            histories,
            host: Some(Box::new(NodeHost::new(spec_reads_clocks))),
            tracer,
            stop: None,
            busy: Duration::ZERO,
            clock_mode,
            global_note,
            delays_used: Vec::new(),
            link_delays,
            physical,
            real_override: None,
        })
    }

    /// Every node's state, by position.
    pub fn nodes(&self) -> &[A::Node] {
        &self.nodes
    }

    /// Events handled so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The current simulated time.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Why the run stopped, once it has.
    pub fn stopped(&self) -> Option<Stop> {
        self.stop
    }

    /// Handles up to `budget` events; returns `true` while the run goes on.
    pub fn run_for(&mut self, budget: u64) -> bool {
        let started = Instant::now();
        for _ in 0..budget {
            if !self.step() {
                break;
            }
        }
        self.busy += started.elapsed();
        self.stop.is_none()
    }

    /// Stops the run where it stands (Ctrl-C), unless it has already stopped: what
    /// [`Simulation::finish`] then reports and traces is the run so far, stopped for
    /// [`Stop::Interrupted`].
    pub fn interrupt(&mut self) {
        if self.stop.is_none() {
            self.stop = Some(Stop::Interrupted);
        }
    }

    /// Handles the next event; returns `false` once the run has stopped.
    fn step(&mut self) -> bool {
        if self.stop.is_some() {
            return false;
        }
        let Some(next_time) = self.queue.peek_time() else {
            self.finish_quiescent();
            return false;
        };
        if self.cfg.max_events.is_some_and(|m| self.events >= m) {
            self.stop = Some(Stop::Events);
            return false;
        }
        if let Some(limit) = self.cfg.max_time {
            if next_time > limit {
                self.now = limit;
                self.stop = Some(Stop::Time);
                return false;
            }
        }
        let Some(Queued { time, event, .. }) = self.queue.pop() else { return false };
        self.prefetch_ahead();
        self.now = time;
        if self.handle(event) {
            return self.after_event();
        }
        true
    }

    /// Counts a handled event and runs the checks due after it; `false` if the run stops.
    pub(crate) fn after_event(&mut self) -> bool {
        self.events += 1;
        self.checks.check_counts(self.events);
        if self.checks.global_due(self.events) {
            self.check_globals();
        }
        if self.checks.fresh_violation {
            self.checks.fresh_violation = false;
            if self.cfg.stop_at_violation {
                self.stop = Some(Stop::Violation);
                return false;
            }
        }
        true
    }

    fn world_check(&mut self, terminal: bool) {
        let queue = &self.queue;
        let in_flight = |visit: &mut dyn FnMut(NodeId, NodeId, &Msg<A>)| {
            for q in queue.iter() {
                if let Event::Deliver(e) = q {
                    visit(NodeId(e.from), NodeId(e.to), &e.msg);
                }
            }
        };
        let cfg = &self.cfg;
        let min_delay = |a: NodeId, b: NodeId| crate::clocks::min_delay(cfg, a, b);
        let now = self.real_now();
        let time = self.physical.as_deref().map(|clocks| TrueTime { now, clocks, min_delay: &min_delay });
        let world = World {
            nodes: &self.nodes,
            idents: &self.idents,
            crashed: &self.crashed,
            in_flight: &in_flight,
            time: time.as_ref(),
        };
        if terminal {
            self.checks.terminal(&world);
        } else {
            self.checks.global(&world, self.events, now);
        }
    }

    fn check_globals(&mut self) {
        self.world_check(false);
    }

    pub(crate) fn finish_quiescent(&mut self) {
        self.stop = Some(Stop::Quiescence);
        // A final global check, so sampled checks still see the end state.
        self.world_check(false);
        self.world_check(true);
    }

    /// Handles one event; returns whether it counted (stale timers do not).
    pub(crate) fn handle(&mut self, event: Event<Msg<A>, Input<A>>) -> bool {
        match event {
            Event::Start { node } => {
                if self.crashed[node as usize] {
                    return false;
                }
                self.trace_simple(node, EventKind::Start, |_| {});
                self.run_handler(node, |p, ctx| p.on_start(ctx));
            }
            Event::Deliver(env) => self.deliver(env),
            Event::Timer { node, timer, generation } => {
                let timers = &mut self.timers[node as usize];
                if self.crashed[node as usize] || timers.get(timer) != Some(&generation) {
                    return false;
                }
                timers.cancel(timer);
                self.trace_simple(node, EventKind::Timer, |e| e.timer = Some(timer.to_string()));
                self.run_handler(node, |p, ctx| p.on_timer(timer, ctx));
            }
            Event::Input { node, input } => {
                if self.crashed[node as usize] {
                    return false;
                }
                if self.tracer.is_some() {
                    let payload = serde_json::to_value(&input).ok();
                    self.trace_simple(node, EventKind::Input, |e| e.payload = payload);
                }
                self.run_handler(node, |p, ctx| p.on_input(input, ctx));
            }
            Event::Crash { node } => {
                if self.crashed[node as usize] {
                    return false;
                }
                self.crashed[node as usize] = true;
                self.trace_simple(node, EventKind::Crash, |_| {});
            }
        }
        true
    }

    fn deliver(&mut self, env: Envelope<Msg<A>>) {
        self.checks.message_removed(&env.msg);
        let to = env.to as usize;
        let reason = if self.crashed[to] {
            Some("crashed")
        } else if self.partitioned(env.from, env.to, self.now) {
            Some("partition")
        } else {
            None
        };
        if let Some(reason) = reason {
            self.dropped += 1;
            self.trace_drop(&env, reason);
            return;
        }
        self.delivered += 1;
        let n = self.nodes.len();
        let vector = self.vectors.as_mut().map(|v| &mut v[to * n..(to + 1) * n]);
        NodeHost::<Msg<A>>::merge(
            NodeId(env.to),
            ClockSlot::logical(&mut self.books[to].lamport, vector),
            env.lamport,
            env.vector.as_deref(),
        );
        self.books[to].chain = self.books[to].chain.max(env.chain);
        self.max_chain = self.max_chain.max(env.chain);
        let recv_vector = self.vectors.as_ref().map(|v| &v[to * n..(to + 1) * n]);
        let d = Delivery {
            from: NodeId(env.from),
            to: NodeId(env.to),
            send_lamport: env.lamport,
            recv_lamport: self.books[to].lamport,
            send_vector: env.vector.as_deref(),
            recv_vector,
        };
        self.checks.delivery(&d, self.events + 1);
        let clock = self.clock_reading(env.to);
        if let Some(t) = &mut self.tracer {
            let mut e = Tracer::<W>::event(self.now, env.to, EventKind::Receive, self.books[to].lamport, recv_vector);
            e.clock = clock;
            e.msg = Some(env.id);
            e.from = Some(env.from);
            e.msg_type = Some(env.msg.kind_name().to_string());
            t.emit(e);
        }
        let from = NodeId(env.from);
        self.run_handler(env.to, move |p, ctx| p.on_message(from, env.msg, ctx));
    }

    pub(crate) fn partitioned(&self, a: u32, b: u32, t: f64) -> bool {
        self.cfg.faults.iter().any(|f| match f {
            Fault::Partition { nodes, from, until } => {
                t >= *from && t < *until && (nodes.contains(&NodeId(a)) != nodes.contains(&NodeId(b)))
            }
            Fault::Crash { .. } | Fault::DelayMessage { .. } | Fault::LinkDelay { .. } => false,
        })
    }

    fn vector_of(&self, node: u32) -> Option<&[u64]> {
        let (i, n) = (node as usize, self.nodes.len());
        self.vectors.as_ref().map(|v| &v[i * n..(i + 1) * n])
    }

    /// Runs one handler at `node` through the node host, keeping the property counts in
    /// step; the host then applies its effects through this simulation ([`EffectSink`]).
    #[inline]
    fn run_handler(&mut self, node: u32, f: impl FnOnce(&mut A::Node, &mut Context<'_, Msg<A>>)) {
        let i = node as usize;
        let n = self.nodes.len();
        self.checks.node_before(&self.nodes[i]);
        let Some(mut host) = self.host.take() else { return };
        {
            let vector = self.vectors.as_mut().map(|v| &mut v[i * n..(i + 1) * n]);
            let place = Place { me: NodeId(node), n, neighbours: self.topology.neighbours(NodeId(node)) };
            let real = self.real_override.unwrap_or(self.now);
            let physical = self.physical.as_mut().map(|c| PhysicalNow { clock: &mut c[i], real });
            let clocks = ClockSlot { lamport: &mut self.books[i].lamport, vector, physical };
            host.run(place, &mut self.nodes[i], clocks, f);
        }
        self.checks.node_after(&self.nodes[i], self.events + 1);
        host.apply(self);
        self.host = Some(host);
    }

    pub(crate) fn take_tracer(&mut self) -> Option<Tracer<W>> {
        self.tracer.take()
    }
}

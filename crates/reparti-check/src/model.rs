//! The transition system: an algorithm, a topology and a network model, seen as
//! states and actions.
//!
//! The initial state is every node's initial state after its start handler, run in
//! position order (as the simulator does at time 0). An action is one atomic step:
//! deliver a message, fire a timer, apply a node's next external input, and, where the
//! network model allows, lose or duplicate a message or crash a node.

use crate::config::{CheckConfig, NetworkKind};
use crate::histories::{Mark, Recorded};
use crate::state::{deliverable, insert_packet, Packet, State};
use crate::CheckError;
use reparti_core::history::HistoryProperty;
use reparti_core::property::Delivery;
use reparti_core::{
    Algorithm, AlgorithmSpec, ClockAt, ClockSlot, Context, EffectSink, Instance, Invariant, NodeHost, NodeId,
    NodeSetup, OutputValue, Params, Place, Process, Properties, Sent, Timer, Topology, World,
};
use std::any::Any;
use std::cell::RefCell;
use std::sync::RwLock;

pub(crate) type Msg<A> = <<A as Algorithm>::Node as Process>::Msg;
pub(crate) type Input<A> = <<A as Algorithm>::Node as Process>::Input;

/// The checker's state for algorithm `A`.
pub type StateOf<A> = State<<A as Algorithm>::Node, Msg<A>>;

thread_local! {
    /// One node host per thread, reused by every handler run: a handler's effects are
    /// applied as soon as it returns, so one host suffices and no step allocates one.
    static HOST: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

pub(crate) fn take_host<M: 'static>(reads_clocks: bool) -> Box<NodeHost<M>> {
    HOST.with(|slot| slot.borrow_mut().take())
        .and_then(|b| b.downcast::<NodeHost<M>>().ok())
        .filter(|h| h.reads_clocks() == reads_clocks)
        .unwrap_or_else(|| Box::new(NodeHost::new(reads_clocks)))
}

pub(crate) fn give_back_host<M: 'static>(host: Box<NodeHost<M>>) {
    HOST.with(|slot| *slot.borrow_mut() = Some(host));
}

/// One atomic step.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Action {
    /// Deliver the packet at this index of the network.
    Deliver(u32),
    /// Fire a pending timer of a node.
    Timer(u32, u16),
    /// Apply a node's next external input.
    Input(u32),
    /// Lose the packet at this index.
    Drop(u32),
    /// Duplicate the packet at this index.
    Duplicate(u32),
    /// Crash a node.
    Crash(u32),
}

impl Action {
    /// Whether the step belongs to the algorithm (not to the faults the network injects).
    pub fn is_progress(self) -> bool {
        matches!(self, Action::Deliver(_) | Action::Timer(..) | Action::Input(_))
    }
}

/// What a step did, for counterexamples.
#[derive(Clone, Debug)]
pub struct StepLog<M> {
    /// Messages sent, as (to, message); one to a node outside the run is listed too
    /// (it was sent, then dropped: no such node).
    pub sent: Vec<(u32, M)>,
    /// Values made observable, each with how many sends preceded it in the handler
    /// (traces place it there, with the clock of that moment).
    pub outputs: Vec<(&'static str, OutputValue, usize)>,
    /// Lines logged, each with how many sends preceded it.
    pub logs: Vec<(String, usize)>,
}

impl<M> Default for StepLog<M> {
    fn default() -> Self {
        StepLog { sent: Vec::new(), outputs: Vec::new(), logs: Vec::new() }
    }
}

/// A step's result.
pub struct Step<N, M> {
    /// The successor state.
    pub state: State<N, M>,
    /// A delivery invariant this step violated: (invariant index, why).
    pub violation: Option<(usize, String)>,
    /// The step sent a message along no channel of the topology (partial-order
    /// reduction assumes it never happens, and is switched off if it does).
    pub off_topology: bool,
}

/// An algorithm instance ready to be explored.
pub struct Model<A: Algorithm> {
    pub(crate) algorithm: A,
    pub(crate) spec: AlgorithmSpec,
    pub(crate) params: Params,
    pub(crate) topology: Topology,
    pub(crate) idents: Vec<u64>,
    pub(crate) inputs: Vec<Vec<Input<A>>>,
    /// Inputs scheduled at time 0: applied in the initial state, after every start,
    /// in workload order (as the simulator applies them before any delivery).
    pub(crate) initial_inputs: Vec<(u32, Input<A>)>,
    pub(crate) props: Properties<A::Node>,
    pub(crate) network: NetworkKind,
    pub(crate) max_drops: u32,
    pub(crate) max_dups: u32,
    pub(crate) max_crashes: u32,
    /// Whether clock stamps are part of the state.
    pub(crate) clocks: bool,
    /// Whether vector clocks are (clocks must be on).
    pub(crate) vectors: bool,
    pub(crate) in_neighbours: Vec<Vec<u32>>,
    timers: RwLock<Vec<Timer>>,
    /// The renamings of symmetry reduction, when it is on.
    pub(crate) symmetry: Option<Vec<Vec<u32>>>,
    /// Properties of the clients' history (what the state records of it:
    /// [`Recorded::start`]).
    pub(crate) history_props: Vec<HistoryProperty>,
}

/// The most nodes a model may have: no exhaustive search of more would ever end, and
/// refusing early spares building a huge instance just to refuse it.
const MAX_NODES: usize = 64;

impl<A: Algorithm> Model<A> {
    /// Builds the model a configuration describes.
    pub fn new(cfg: &CheckConfig) -> Result<Self, CheckError> {
        let spec = A::spec();
        if spec.reads_physical_clock {
            return Err(CheckError::Usage(format!(
                "{} reads physical clocks, which drift in continuous time: the checker cannot enumerate every clock value; simulate it (`reparti sim {}`, many seeds with --runs) or run it (`reparti run {}`), where every bound is judged",
                spec.name, spec.name, spec.name
            )));
        }
        let too_many = |n: usize| {
            CheckError::Usage(format!(
                "{n} nodes is far too many to explore every interleaving; the checker takes at most {MAX_NODES} (try 3 to 6)"
            ))
        };
        // Before the instance is built: building 10^8 nodes' workload is itself too big.
        let asked = cfg.nodes.unwrap_or(4);
        if asked > MAX_NODES {
            return Err(too_many(asked));
        }
        let instance = Instance::<A>::new(&cfg.params, cfg.topology.as_ref(), asked, &cfg.ids, cfg.seed)?;
        let Instance { algorithm, spec, params, topology, idents, workload, .. } = instance;
        let n = topology.len();
        // An edge-list file says its own number of nodes.
        if n > MAX_NODES {
            return Err(too_many(n));
        }
        let mut inputs: Vec<Vec<Input<A>>> = vec![Vec::new(); n];
        let mut initial_inputs = Vec::new();
        for w in workload {
            if w.at <= 0.0 {
                initial_inputs.push((w.node.0, w.input));
            } else {
                inputs[w.node.index()].push(w.input);
            }
        }
        if inputs.iter().any(|l| l.len() > u16::MAX as usize) {
            return Err(CheckError::Usage("a node has more than 65535 external inputs; shrink the workload".into()));
        }
        let mut in_neighbours = vec![Vec::new(); n];
        for (a, b) in topology.channels() {
            in_neighbours[b.index()].push(a.0);
        }
        let props = algorithm.properties();
        let history_props = algorithm.history_properties();
        let needs_delivery_clocks = props.invariants.iter().any(|i| matches!(i, Invariant::Delivery { .. }));
        let clocks = spec.reads_clocks || needs_delivery_clocks;
        Ok(Model {
            algorithm,
            spec,
            params,
            topology,
            idents,
            inputs,
            initial_inputs,
            props,
            network: cfg.network,
            max_drops: if cfg.network == NetworkKind::Lossy { cfg.max_drops } else { 0 },
            max_dups: if cfg.network == NetworkKind::Duplicating { cfg.max_dups } else { 0 },
            max_crashes: cfg.max_crashes.min(n as u32),
            clocks,
            vectors: clocks,
            in_neighbours,
            timers: RwLock::new(Vec::new()),
            symmetry: None,
            history_props,
        })
    }

    /// The fingerprint the visited set stores for `s`: its own, or under symmetry
    /// reduction the least over its renamings.
    pub fn fingerprint(&self, s: &StateOf<A>, wide: bool) -> crate::state::Fingerprint {
        match &self.symmetry {
            Some(perms) => crate::symmetry::canonical(self, s, perms, wide),
            None => crate::state::fingerprint(s, wide, self.fifo()),
        }
    }

    /// The number of nodes.
    pub fn n(&self) -> usize {
        self.idents.len()
    }

    /// Whether channels are FIFO.
    pub fn fifo(&self) -> bool {
        self.network == NetworkKind::Fifo
    }

    pub(crate) fn intern(&self, timer: Timer) -> u16 {
        if let Ok(names) = self.timers.read() {
            if let Some(i) = names.iter().position(|t| *t == timer) {
                return i as u16;
            }
        }
        match self.timers.write() {
            Ok(mut names) => {
                if let Some(i) = names.iter().position(|t| *t == timer) {
                    return i as u16;
                }
                names.push(timer);
                (names.len() - 1) as u16
            }
            Err(_) => 0,
        }
    }

    /// The name of an interned timer.
    pub fn timer_name(&self, idx: u16) -> Timer {
        self.timers.read().ok().and_then(|t| t.get(idx as usize).copied()).unwrap_or("?")
    }

    /// The initial state: every start handler run, then every input scheduled at time 0.
    pub fn initial(&self) -> StateOf<A> {
        let n = self.n();
        let nodes = (0..n).map(|i| self.algorithm.init(&NodeSetup::new(NodeId(i as u32), self.idents[i], n))).collect();
        let mut s = State {
            nodes,
            net: Vec::new(),
            timers: Vec::new(),
            // No workload, no counters: one allocation less per state copy.
            next_input: if self.inputs.iter().all(Vec::is_empty) { Vec::new() } else { vec![0; n] },
            crashed: 0,
            drops: 0,
            dups: 0,
            crashes: 0,
            lamport: if self.clocks { vec![0; n] } else { Vec::new() },
            vectors: if self.vectors { vec![0; n * n] } else { Vec::new() },
            history: Recorded::start(&self.history_props),
        };
        for i in 0..n as u32 {
            self.run(&mut s, i, |p, ctx| p.on_start(ctx), None);
        }
        for (node, input) in &self.initial_inputs {
            let given = input.clone();
            self.run(&mut s, *node, move |p, ctx| p.on_input(given, ctx), None);
        }
        s
    }

    /// Every enabled action, in a fixed order.
    pub fn actions(&self, s: &StateOf<A>, out: &mut Vec<Action>) {
        out.clear();
        let fifo = self.fifo();
        for i in 0..s.net.len() {
            if deliverable(&s.net, i, fifo) {
                out.push(Action::Deliver(i as u32));
            }
        }
        for &(node, t) in &s.timers {
            out.push(Action::Timer(node, t));
        }
        for (node, list) in self.inputs.iter().enumerate() {
            if !list.is_empty() && !s.is_crashed(node) && (s.next_input[node] as usize) < list.len() {
                out.push(Action::Input(node as u32));
            }
        }
        if (s.drops as u32) < self.max_drops {
            for i in 0..s.net.len() {
                if deliverable(&s.net, i, false) {
                    out.push(Action::Drop(i as u32));
                }
            }
        }
        if (s.dups as u32) < self.max_dups {
            for i in 0..s.net.len() {
                if deliverable(&s.net, i, false) {
                    out.push(Action::Duplicate(i as u32));
                }
            }
        }
        if (s.crashes as u32) < self.max_crashes {
            for node in 0..self.n() {
                if !s.is_crashed(node) {
                    out.push(Action::Crash(node as u32));
                }
            }
        }
    }

    /// The node an action happens at.
    pub fn actor(&self, s: &StateOf<A>, a: Action) -> u32 {
        match a {
            Action::Deliver(i) | Action::Drop(i) | Action::Duplicate(i) => s.net[i as usize].to,
            Action::Timer(node, _) | Action::Input(node) | Action::Crash(node) => node,
        }
    }

    /// Runs one handler through the node host and applies its effects to `s`; returns
    /// whether it sent off-topology.
    #[inline]
    fn run(
        &self,
        s: &mut StateOf<A>,
        node: u32,
        f: impl FnOnce(&mut A::Node, &mut Context<'_, Msg<A>>),
        log: Option<&mut StepLog<Msg<A>>>,
    ) -> bool {
        let (i, n) = (node as usize, self.n());
        let mut host = take_host::<Msg<A>>(self.spec.reads_clocks);
        // Without clocks in the state, a scratch clock takes the sends' ticks; the
        // algorithm cannot read it (it did not declare `reads_clocks`).
        let mut scratch = 0u64;
        {
            let lamport = if self.clocks { &mut s.lamport[i] } else { &mut scratch };
            let vector = if self.vectors { Some(&mut s.vectors[i * n..(i + 1) * n]) } else { None };
            let place = Place { me: NodeId(node), n, neighbours: self.topology.neighbours(NodeId(node)) };
            host.run(place, &mut s.nodes[i], ClockSlot::logical(lamport, vector), f);
        }
        let mut sink = StateSink { model: self, s, log, off_topology: false };
        host.apply(&mut sink);
        let off_topology = sink.off_topology;
        give_back_host(host);
        off_topology
    }

    /// The successor of `s` by `a`.
    pub fn step(&self, s: &StateOf<A>, a: Action, log: Option<&mut StepLog<Msg<A>>>) -> Step<A::Node, Msg<A>> {
        self.step_into(s, a, log, State::empty())
    }

    /// The successor of `s` by `a`, built in `buffer` (whose allocations are reused).
    pub fn step_into(
        &self,
        s: &StateOf<A>,
        a: Action,
        log: Option<&mut StepLog<Msg<A>>>,
        buffer: StateOf<A>,
    ) -> Step<A::Node, Msg<A>> {
        let mut t = buffer;
        t.copy_from(s);
        let mut violation = None;
        let mut off_topology = false;
        let n = self.n();
        match a {
            Action::Deliver(i) => {
                let p = t.net.remove(i as usize);
                let to = p.to as usize;
                if self.clocks {
                    let v = if self.vectors { Some(&mut t.vectors[to * n..(to + 1) * n]) } else { None };
                    let stamp_v = if self.vectors { Some(p.vector.as_slice()) } else { None };
                    NodeHost::<Msg<A>>::merge(
                        NodeId(p.to),
                        ClockSlot::logical(&mut t.lamport[to], v),
                        p.lamport,
                        stamp_v,
                    );
                    let recv_vector = if self.vectors { Some(&t.vectors[to * n..(to + 1) * n]) } else { None };
                    let d = Delivery {
                        from: NodeId(p.from),
                        to: NodeId(p.to),
                        send_lamport: p.lamport,
                        recv_lamport: t.lamport[to],
                        send_vector: if self.vectors { Some(p.vector.as_slice()) } else { None },
                        recv_vector,
                    };
                    for (k, inv) in self.props.invariants.iter().enumerate() {
                        if let Invariant::Delivery { check, .. } = inv {
                            if let Err(why) = check(&d) {
                                violation.get_or_insert((k, why));
                            }
                        }
                    }
                }
                let from = NodeId(p.from);
                off_topology = self.run(&mut t, p.to, move |node, ctx| node.on_message(from, p.msg, ctx), log);
            }
            Action::Timer(node, idx) => {
                if let Ok(at) = t.timers.binary_search(&(node, idx)) {
                    t.timers.remove(at);
                }
                let name = self.timer_name(idx);
                off_topology = self.run(&mut t, node, move |p, ctx| p.on_timer(name, ctx), log);
            }
            Action::Input(node) => {
                let k = t.next_input[node as usize] as usize;
                t.next_input[node as usize] += 1;
                if let Some(input) = self.inputs[node as usize].get(k).cloned() {
                    off_topology = self.run(&mut t, node, move |p, ctx| p.on_input(input, ctx), log);
                }
            }
            Action::Drop(i) => {
                t.net.remove(i as usize);
                t.drops += 1;
            }
            Action::Duplicate(i) => {
                let copy = t.net[i as usize].clone();
                insert_packet(&mut t.net, copy, self.fifo());
                t.dups += 1;
            }
            Action::Crash(node) => {
                t.crashed |= 1 << node;
                t.crashes += 1;
                t.net.retain(|p| p.to != node);
                t.timers.retain(|&(who, _)| who != node);
            }
        }
        Step { state: t, violation, off_topology }
    }

    /// Whether no algorithm step is enabled (faults aside): the run is over.
    pub fn quiescent(&self, s: &StateOf<A>) -> bool {
        s.net.is_empty() && s.timers.is_empty() && !self.input_pending(s)
    }

    /// Whether a live node still has an external input to apply.
    pub fn input_pending(&self, s: &StateOf<A>) -> bool {
        self.inputs
            .iter()
            .enumerate()
            .any(|(i, l)| !l.is_empty() && !s.is_crashed(i) && (s.next_input[i] as usize) < l.len())
    }

    /// The first invariant `s` violates (Count, Local and Global; Delivery ones are
    /// checked on steps).
    pub fn violated_invariant(&self, s: &StateOf<A>) -> Option<(usize, String)> {
        for (k, inv) in self.props.invariants.iter().enumerate() {
            let verdict = match inv {
                Invariant::Count { node, msg, min, max, .. } => {
                    let total: u64 =
                        s.nodes.iter().map(|x| node(x)).sum::<u64>() + s.net.iter().map(|p| msg(&p.msg)).sum::<u64>();
                    if total < *min || total > *max {
                        let range =
                            if min == max { format!("exactly {min}") } else { format!("between {min} and {max}") };
                        Err(format!("the count is {total}, expected {range}"))
                    } else {
                        Ok(())
                    }
                }
                Invariant::Local { check, .. } => s.nodes.iter().try_for_each(|x| check(x)),
                // L is held as closure: from a legitimate start, every reachable state
                // is legitimate. (A workload that corrupts memory breaks it, as it
                // should: the counterexample shows the fault; convergence is measured
                // by the simulator.)
                Invariant::Global { check, .. } | Invariant::Stabilizing { check, .. } => {
                    self.with_world(s, |w| check(w))
                }
                Invariant::Delivery { .. } => Ok(()),
            };
            if let Err(why) = verdict {
                return Some((k, why));
            }
        }
        // Decided call by call: the linearizability properties come after the
        // invariants (index `invariants.len()`).
        s.history.broken().map(|why| (self.props.invariants.len(), why.to_string()))
    }

    /// The first terminal property `s` (a quiescent state) violates; history
    /// properties judged on whole histories come after the terminal ones (index
    /// `terminal.len() + k`).
    pub fn violated_terminal(&self, s: &StateOf<A>) -> Option<(usize, String)> {
        self.props
            .terminal
            .iter()
            .enumerate()
            .find_map(|(k, t)| self.with_world(s, |w| (t.check)(w)).err().map(|e| (k, e)))
            .or_else(|| s.history.violated(&self.history_props).map(|(k, why)| (self.props.terminal.len() + k, why)))
    }

    /// Runs `f` on the [`World`] view of `s`.
    pub fn with_world<R>(&self, s: &StateOf<A>, f: impl FnOnce(&World<'_, A::Node>) -> R) -> R {
        let crashed: Vec<bool> = (0..self.n()).map(|i| s.is_crashed(i)).collect();
        let in_flight = |visit: &mut dyn FnMut(NodeId, NodeId, &Msg<A>)| {
            for p in &s.net {
                visit(NodeId(p.from), NodeId(p.to), &p.msg);
            }
        };
        f(&World { nodes: &s.nodes, idents: &self.idents, crashed: &crashed, in_flight: &in_flight, time: None })
    }
}

/// The checker's meaning of a handler's effects: a send becomes a packet in the state's
/// network (none to a crashed node: it could only be dropped there), a timer an entry in
/// the state's timer set, a client's call or return a mark in the state's history;
/// other outputs and logs only matter to the step's log.
struct StateSink<'m, 's, 'l, A: Algorithm> {
    model: &'m Model<A>,
    s: &'s mut StateOf<A>,
    log: Option<&'l mut StepLog<Msg<A>>>,
    off_topology: bool,
}

impl<A: Algorithm> EffectSink<Msg<A>> for StateSink<'_, '_, '_, A> {
    #[inline]
    fn send(&mut self, sent: Sent<Msg<A>>) {
        let Sent { from, to, msg, lamport, vector } = sent;
        if let Some(l) = self.log.as_deref_mut() {
            l.sent.push((to.0, msg.clone()));
        }
        if self.s.is_crashed(to.index()) {
            return;
        }
        let m = self.model;
        if !m.topology.neighbours(from).contains(to) {
            self.off_topology = true;
        }
        let (lamport, vector) =
            if m.clocks { (lamport, vector.map(|v| v.into_vec()).unwrap_or_default()) } else { (0, Vec::new()) };
        insert_packet(&mut self.s.net, Packet::new(from.0, to.0, msg, lamport, vector), m.fifo());
    }

    #[inline]
    fn send_nowhere(&mut self, sent: Sent<Msg<A>>) {
        // Sent, then dropped: nothing enters the state; the step log keeps the send.
        if let Some(l) = self.log.as_deref_mut() {
            l.sent.push((sent.to.0, sent.msg));
        }
    }

    #[inline]
    fn set_timer(&mut self, node: NodeId, timer: Timer, _after: f64) {
        // Time is abstracted away: a pending timer may fire at any later step.
        let key = (node.0, self.model.intern(timer));
        if let Err(at) = self.s.timers.binary_search(&key) {
            self.s.timers.insert(at, key);
        }
    }

    #[inline]
    fn cancel_timer(&mut self, node: NodeId, timer: Timer) {
        let key = (node.0, self.model.intern(timer));
        if let Ok(at) = self.s.timers.binary_search(&key) {
            self.s.timers.remove(at);
        }
    }

    #[inline]
    fn output(&mut self, node: NodeId, key: &'static str, value: OutputValue, _at: ClockAt<'_>) {
        if !matches!(self.s.history, Recorded::Nothing) {
            if let Some(mark) = Mark::of_output(node, key, &value) {
                self.s.history.record(mark);
            }
        }
        if let Some(l) = self.log.as_deref_mut() {
            let before = l.sent.len();
            l.outputs.push((key, value, before));
        }
    }

    #[inline]
    fn log(&mut self, _node: NodeId, text: String, _at: ClockAt<'_>) {
        if let Some(l) = self.log.as_deref_mut() {
            let before = l.sent.len();
            l.logs.push((text, before));
        }
    }

    // The context has already advanced the clocks in the state; nothing is traced here.
    fn local_event(&mut self, _node: NodeId, _at: ClockAt<'_>) {}
}

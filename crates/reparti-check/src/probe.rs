//! A successor's fingerprint before the successor exists.
//!
//! Most successors a search generates were seen before (Chang–Roberts, n = 9, unordered:
//! 49 M generated for 6.9 M unique). Building each one in full — a copy of every node
//! and every message in transit of its parent — only to find its fingerprint already in
//! the table was most of the search's time. A probe runs the handler on a copy of the
//! one node that moves, keeps what it sent and the timers it touched, and computes the
//! successor's fingerprint from the parent's shares ([`NodeShares::probed`]); only a
//! successor found new is built ([`Probe::build`]), and it is the very state the full
//! step ([`Model::step_into`]) would have built.
//!
//! Probes take the algorithm's steps (a delivery, a timer, an input) in models without
//! clocks or a client history in the state, on 64-bit fingerprints without symmetry
//! reduction; faults (loss, duplication, crashes) and everything else take the full step.

use crate::histories::Recorded;
use crate::model::{give_back_host, take_host, Action, Model, Msg, StateOf};
use crate::state::{insert_packet, Fingerprint, NodeShares, Packet};
use reparti_core::{
    Algorithm, ClockAt, ClockSlot, Context, EffectSink, NodeId, OutputValue, Place, Process, Sent, Timer,
};

/// One probed step: the moved node's new state, what it sent, the timers and input
/// counter it changed, and the successor's fingerprint. Kept and reused as a buffer.
pub(crate) struct Probe<A: Algorithm> {
    pub(crate) action: Action,
    actor: u32,
    node: Option<A::Node>,
    added: Vec<Packet<Msg<A>>>,
    /// The successor's timers, when the step changed them.
    timers: Option<Vec<(u32, u16)>>,
    /// Whether the step applied the actor's next input.
    input: bool,
    /// The step sent along no channel of the topology.
    pub(crate) off_topology: bool,
    pub(crate) fp: Fingerprint,
}

impl<A: Algorithm> Probe<A> {
    /// An empty probe, a buffer for [`Probe::run`].
    pub(crate) fn empty() -> Self {
        Probe {
            action: Action::Deliver(0),
            actor: 0,
            node: None,
            added: Vec::new(),
            timers: None,
            input: false,
            off_topology: false,
            fp: Fingerprint { hi: 0, lo: 0 },
        }
    }

    /// Whether steps of `s` can be probed in model `m` with fingerprints this wide.
    pub(crate) fn applies(m: &Model<A>, s: &StateOf<A>, wide: bool) -> bool {
        !wide && !m.clocks && m.symmetry.is_none() && matches!(s.history, Recorded::Nothing)
    }

    /// Probes action `a` of `s` (whose shares are `shares`): false when the action is
    /// not one a probe takes (a fault), and the full step must be taken instead.
    pub(crate) fn run(&mut self, m: &Model<A>, s: &StateOf<A>, shares: &NodeShares, a: Action) -> bool {
        self.action = a;
        self.added.clear();
        self.timers = None;
        self.input = false;
        self.off_topology = false;
        let removed = match a {
            Action::Deliver(i) => {
                let p = &s.net[i as usize];
                let (from, msg) = (NodeId(p.from), p.msg.clone());
                self.handle(m, s, p.to, move |node, ctx| node.on_message(from, msg, ctx));
                Some(i as usize)
            }
            Action::Timer(node, idx) => {
                let mut timers = s.timers.clone();
                if let Ok(at) = timers.binary_search(&(node, idx)) {
                    timers.remove(at);
                }
                self.timers = Some(timers);
                let name = m.timer_name(idx);
                self.handle(m, s, node, move |p, ctx| p.on_timer(name, ctx));
                None
            }
            Action::Input(node) => {
                self.input = true;
                let k = usize::from(s.next_input[node as usize]);
                match m.inputs[node as usize].get(k).cloned() {
                    Some(input) => self.handle(m, s, node, move |p, ctx| p.on_input(input, ctx)),
                    None => {
                        self.actor = node;
                        self.node = Some(s.nodes[node as usize].clone());
                    }
                }
                None
            }
            Action::Drop(_) | Action::Duplicate(_) | Action::Crash(_) => return false,
        };
        let mut next_input = None;
        let counters;
        if self.input {
            let mut c = s.next_input.clone();
            c[self.actor as usize] += 1;
            counters = c;
            next_input = Some(counters.as_slice());
        }
        let Some(node) = self.node.as_ref() else { return false };
        self.fp = shares.probed(
            s,
            self.actor as usize,
            node,
            removed,
            &self.added,
            self.timers.as_deref(),
            next_input,
            m.fifo(),
        );
        true
    }

    /// Runs one handler on a copy of node `actor`, keeping its effects in the probe.
    fn handle(
        &mut self,
        m: &Model<A>,
        s: &StateOf<A>,
        actor: u32,
        f: impl FnOnce(&mut A::Node, &mut Context<'_, Msg<A>>),
    ) {
        self.actor = actor;
        let mut node = match self.node.take() {
            Some(mut buffer) => {
                buffer.clone_from(&s.nodes[actor as usize]);
                buffer
            }
            None => s.nodes[actor as usize].clone(),
        };
        let mut host = take_host::<Msg<A>>(m.spec.reads_clocks);
        // No clocks in the state: a scratch clock takes the sends' ticks.
        let mut scratch = 0u64;
        let place = Place { me: NodeId(actor), n: m.n(), neighbours: m.topology.neighbours(NodeId(actor)) };
        host.run(place, &mut node, ClockSlot::logical(&mut scratch, None), f);
        let mut sink = ProbeSink { model: m, parent: s, probe: self };
        host.apply(&mut sink);
        give_back_host(host);
        self.node = Some(node);
    }

    /// Builds the probed successor of `s` in `buffer`: the state the full step builds.
    pub(crate) fn build(&self, m: &Model<A>, s: &StateOf<A>, buffer: StateOf<A>) -> StateOf<A> {
        let mut t = buffer;
        t.copy_from(s);
        if let Some(node) = &self.node {
            t.nodes[self.actor as usize].clone_from(node);
        }
        if let Action::Deliver(i) = self.action {
            t.net.remove(i as usize);
        }
        if self.input {
            t.next_input[self.actor as usize] += 1;
        }
        if let Some(timers) = &self.timers {
            t.timers.clone_from(timers);
        }
        for p in &self.added {
            insert_packet(&mut t.net, p.clone(), m.fifo());
        }
        t
    }
}

/// Collects a probed handler's effects: what the full step's sink would put in the
/// state, kept aside.
struct ProbeSink<'a, A: Algorithm> {
    model: &'a Model<A>,
    parent: &'a StateOf<A>,
    probe: &'a mut Probe<A>,
}

impl<A: Algorithm> ProbeSink<'_, A> {
    fn timers(&mut self) -> &mut Vec<(u32, u16)> {
        let parent = &self.parent.timers;
        self.probe.timers.get_or_insert_with(|| parent.clone())
    }
}

impl<A: Algorithm> EffectSink<Msg<A>> for ProbeSink<'_, A> {
    #[inline]
    fn send(&mut self, sent: Sent<Msg<A>>) {
        let Sent { from, to, msg, .. } = sent;
        // As the full step: nothing is sent to a crashed node.
        if self.parent.is_crashed(to.index()) {
            return;
        }
        if !self.model.topology.neighbours(from).contains(to) {
            self.probe.off_topology = true;
        }
        self.probe.added.push(Packet::new(from.0, to.0, msg, 0, Vec::new()));
    }

    fn send_nowhere(&mut self, _sent: Sent<Msg<A>>) {}

    fn set_timer(&mut self, node: NodeId, timer: Timer, _after: f64) {
        let key = (node.0, self.model.intern(timer));
        let timers = self.timers();
        if let Err(at) = timers.binary_search(&key) {
            timers.insert(at, key);
        }
    }

    fn cancel_timer(&mut self, node: NodeId, timer: Timer) {
        let key = (node.0, self.model.intern(timer));
        let timers = self.timers();
        if let Ok(at) = timers.binary_search(&key) {
            timers.remove(at);
        }
    }

    // Without a history in the state, outputs and logs change nothing a state holds.
    fn output(&mut self, _node: NodeId, _key: &'static str, _value: OutputValue, _at: ClockAt<'_>) {}

    fn log(&mut self, _node: NodeId, _text: String, _at: ClockAt<'_>) {}

    fn local_event(&mut self, _node: NodeId, _at: ClockAt<'_>) {}
}

#[cfg(test)]
mod tests {
    //! A probe must give, for every step of every state a search meets, the fingerprint
    //! of the state the full step builds, and build that very state: checked on every
    //! algorithm of the library, on unordered and FIFO networks.

    use super::*;
    use crate::config::{CheckConfig, NetworkKind};
    use crate::state::fingerprint;
    use reparti_core::AlgorithmVisitor;
    use std::collections::{BTreeSet, VecDeque};

    /// Walks up to `limit` states breadth-first with full steps, probing every action.
    struct Audit {
        network: NetworkKind,
        limit: usize,
    }

    impl AlgorithmVisitor for Audit {
        /// Deliveries, timers and inputs probed, or `None` when the algorithm cannot be
        /// checked at all.
        type Output = Option<[usize; 3]>;

        fn visit<A: Algorithm>(self) -> Option<[usize; 3]> {
            let cfg = CheckConfig { nodes: Some(3), network: self.network, ..CheckConfig::default() };
            let m = Model::<A>::new(&cfg).ok()?;
            let fifo = m.fifo();
            let init = m.initial();
            let mut seen = BTreeSet::from([fingerprint(&init, false, fifo)]);
            let mut queue = VecDeque::from([init]);
            let (mut actions, mut probe, mut probed) = (Vec::new(), Probe::<A>::empty(), [0; 3]);
            while let Some(s) = queue.pop_front() {
                m.actions(&s, &mut actions);
                let shares = NodeShares::of(&s, false, fifo);
                for &a in &actions {
                    let full = m.step(&s, a, None);
                    let fp = fingerprint(&full.state, false, fifo);
                    if Probe::applies(&m, &s, false) && probe.run(&m, &s, &shares, a) {
                        let name = A::spec().name;
                        assert_eq!(probe.fp, fp, "{name} {:?}: {a:?} of {s:?}", self.network);
                        assert!(probe.build(&m, &s, StateOf::<A>::empty()) == full.state, "{name}: {a:?} of {s:?}");
                        assert_eq!(probe.off_topology, full.off_topology, "{name}: {a:?}");
                        probed[match a {
                            Action::Deliver(_) => 0,
                            Action::Timer(..) => 1,
                            _ => 2,
                        }] += 1;
                    }
                    if seen.len() < self.limit && seen.insert(fp) {
                        queue.push_back(full.state);
                    }
                }
            }
            Some(probed)
        }
    }

    #[test]
    fn probes_agree_with_full_steps_on_the_whole_library() {
        let mut total = [0; 3];
        let mut checked = Vec::new();
        for name in reparti_algos::names() {
            for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
                let audit = Audit { network, limit: 400 };
                if let Some(Some(probed)) = reparti_algos::visit(name, audit) {
                    (0..3).for_each(|k| total[k] += probed[k]);
                    checked.push(name);
                }
            }
        }
        checked.dedup();
        assert!(checked.contains(&"chang-roberts") && checked.contains(&"ricart-agrawala"), "{checked:?}");
        let [deliveries, timers, inputs] = total;
        assert!(deliveries > 10_000 && timers > 100 && inputs > 100, "{total:?} probed over {checked:?}");
        eprintln!("{deliveries} deliveries, {timers} timers, {inputs} inputs probed over {} algorithms", checked.len());
    }
}

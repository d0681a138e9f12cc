//! A small scheduler for the unit tests: it drives an algorithm's handlers directly,
//! checks its invariants after every step and its terminal properties and expected
//! counts at the end. It is deliberately independent of `reparti-sim`, so that the
//! election modules test themselves with no engine in between.

use rand::Rng as _;
use reparti_core::{
    Algorithm, ClockSlot, Context, Effect, IdAssignment, Invariant, Message, NodeHost, NodeId, NodeSetup, OutputValue,
    Params, Place, Process, Recorder, RunFacts, Topology, TopologyKind, World,
};
use std::collections::{BTreeMap, HashMap, VecDeque};

type Msg<N> = <N as Process>::Msg;
/// Messages in transit by channel, each with its global send number.
type Channels<N> = BTreeMap<(u32, u32), VecDeque<(u64, Msg<N>)>>;
/// How `World::in_flight` visits the messages in transit.
type Visit<'a, N> = dyn FnMut(NodeId, NodeId, &Msg<N>) + 'a;
/// One handler call on one node.
type Handler<'a, N> = dyn FnMut(&mut N, &mut Context<'_, Msg<N>>) + 'a;

/// How the scheduler picks the next delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// A random non-empty channel, delivering its oldest message (FIFO channels).
    Fifo,
    /// Any message in transit, at random (non-FIFO channels).
    Random,
    /// Messages in the order they were sent: what constant delays give.
    Global,
}

/// What a run did.
pub(crate) struct Run<N: Process> {
    pub nodes: Vec<N>,
    pub sent: BTreeMap<&'static str, u64>,
    pub outputs: Vec<(usize, &'static str, OutputValue)>,
    pub quiescent: bool,
    pub invariant_failures: Vec<String>,
    pub terminal_failures: Vec<String>,
    pub expectation_failures: Vec<String>,
}

impl<N: Process> Run<N> {
    /// Messages of type `kind` sent.
    pub fn sent(&self, kind: &str) -> u64 {
        self.sent.get(kind).copied().unwrap_or(0)
    }

    /// Every `(node, value)` output under `key`, in order.
    pub fn outputs_of(&self, key: &str) -> Vec<(usize, OutputValue)> {
        self.outputs.iter().filter(|(_, k, _)| *k == key).map(|(i, _, v)| (*i, v.clone())).collect()
    }

    /// Panics with everything that went wrong, if anything did.
    pub fn assert_good(&self) {
        assert!(self.quiescent, "the run did not reach quiescence");
        assert!(self.invariant_failures.is_empty(), "invariants: {:?}", self.invariant_failures);
        assert!(self.terminal_failures.is_empty(), "terminal: {:?}", self.terminal_failures);
        assert!(self.expectation_failures.is_empty(), "expected counts: {:?}", self.expectation_failures);
    }
}

/// A seeded permutation of `1..=n`, as `--ids random` gives.
pub(crate) fn shuffled_idents(n: usize, seed: u64) -> Vec<u64> {
    IdAssignment::Random.assign(n, &mut reparti_core::rng(seed)).unwrap_or_default()
}

/// Runs `alg` on `kind` with the given identities until quiescence or `max_steps` deliveries.
pub(crate) fn run<A: Algorithm>(
    alg: &A,
    kind: TopologyKind,
    idents: &[u64],
    order: Order,
    seed: u64,
    max_steps: usize,
) -> Run<A::Node> {
    let n = idents.len();
    let mut rng = reparti_core::rng(seed);
    let topo = match Topology::build(&kind, n, &mut rng) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let mut nodes: Vec<A::Node> = (0..n).map(|i| alg.init(&NodeSetup::new(NodeId(i as u32), idents[i], n))).collect();
    let mut lamports = vec![0u64; n];
    // Channels keyed by (from, to); the global sequence number gives the `Global` order.
    let mut channels: Channels<A::Node> = BTreeMap::new();
    let mut seq = 0u64;
    let mut sent: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut outputs = Vec::new();
    let properties = alg.properties();
    let mut invariant_failures = Vec::new();

    let mut handle =
        |i: usize, nodes: &mut Vec<A::Node>, channels: &mut Channels<A::Node>, f: &mut Handler<'_, A::Node>| {
            let me = NodeId(i as u32);
            let effects = through_host::<A::Node>(&mut nodes[i], me, n, &topo, &mut lamports[i], f);
            for e in effects {
                match e {
                    Effect::Send { to, msg, .. } => {
                        *sent.entry(msg.kind_name()).or_default() += 1;
                        channels.entry((me.0, to.0)).or_default().push_back((seq, msg));
                        seq += 1;
                    }
                    Effect::Output { key, value } => outputs.push((i, key, value)),
                    _ => {}
                }
            }
        };

    for i in 0..n {
        handle(i, &mut nodes, &mut channels, &mut |s, c| s.on_start(c));
    }
    let mut steps = 0;
    let quiescent = loop {
        let busy: Vec<(u32, u32)> = channels.iter().filter(|(_, q)| !q.is_empty()).map(|(k, _)| *k).collect();
        if busy.is_empty() {
            break true;
        }
        if steps >= max_steps {
            break false;
        }
        steps += 1;
        let picked = match order {
            Order::Fifo => {
                let key = busy[rng.gen_range(0..busy.len())];
                channels.get_mut(&key).and_then(|q| q.pop_front()).map(|(_, m)| (key, m))
            }
            Order::Random => {
                let key = busy[rng.gen_range(0..busy.len())];
                channels
                    .get_mut(&key)
                    .and_then(|q| {
                        let k = rng.gen_range(0..q.len());
                        q.remove(k)
                    })
                    .map(|(_, m)| (key, m))
            }
            Order::Global => {
                let key = busy.iter().copied().min_by_key(|k| channels[k].front().map(|(s, _)| *s));
                key.and_then(|k| channels.get_mut(&k).and_then(|q| q.pop_front()).map(|(_, m)| (k, m)))
            }
        };
        let Some(((from, to), msg)) = picked else { break true };
        let mut msg = Some(msg);
        handle(to as usize, &mut nodes, &mut channels, &mut |s, c| {
            if let Some(m) = msg.take() {
                s.on_message(NodeId(from), m, c)
            }
        });
        check_invariants::<A>(&properties.invariants, &nodes, idents, &channels, &mut invariant_failures);
    };

    let crashed = vec![false; n];
    let in_flight = |visit: &mut Visit<'_, A::Node>| {
        for ((f, t), q) in &channels {
            for (_, m) in q {
                visit(NodeId(*f), NodeId(*t), m);
            }
        }
    };
    let world = World { nodes: &nodes, idents, crashed: &crashed, in_flight: &in_flight, time: None };
    let terminal_failures = if quiescent {
        properties
            .terminal
            .iter()
            .filter_map(|t| (t.check)(&world).err().map(|why| format!("{}: {why}", t.name)))
            .collect()
    } else {
        Vec::new()
    };

    let mut output_map: BTreeMap<String, BTreeMap<OutputValue, u64>> = BTreeMap::new();
    for (_, k, v) in &outputs {
        *output_map.entry(k.to_string()).or_default().entry(v.clone()).or_default() += 1;
    }
    let by_type: BTreeMap<String, u64> = sent.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let params = Params::default();
    let facts = RunFacts { n, idents, params: &params, outputs: &output_map, sent_by_type: &by_type, topology: None };
    let expectation_failures = alg
        .expected(&facts)
        .into_iter()
        .filter_map(|e| {
            let measured = facts.measured(&e.counts);
            (e.holds(measured as f64) == Some(false))
                .then(|| format!("{} {} {}: measured {measured}", e.counts, e.formula, e.value_text()))
        })
        .collect();

    Run { nodes, sent, outputs, quiescent, invariant_failures, terminal_failures, expectation_failures }
}

fn check_invariants<A: Algorithm>(
    invariants: &[Invariant<A::Node>],
    nodes: &[A::Node],
    idents: &[u64],
    channels: &Channels<A::Node>,
    failures: &mut Vec<String>,
) {
    for inv in invariants {
        match inv {
            Invariant::Count { name, node, msg, min, max } => {
                let total: u64 = nodes.iter().map(|s| node(s)).sum::<u64>()
                    + channels.values().flat_map(|q| q.iter()).map(|(_, m)| msg(m)).sum::<u64>();
                if total < *min || total > *max {
                    failures.push(format!("{name}: count {total} outside [{min}, {max}]"));
                }
            }
            Invariant::Local { name, check } => {
                for (i, s) in nodes.iter().enumerate() {
                    if let Err(why) = check(s) {
                        failures.push(format!("{name}: node {i}: {why}"));
                    }
                }
            }
            // Fault-free schedules: a self-stabilizing L is closed, an invariant here.
            Invariant::Global { name, check } | Invariant::Stabilizing { name, check, .. } => {
                let crashed = vec![false; nodes.len()];
                let in_flight = |visit: &mut Visit<'_, A::Node>| {
                    for ((f, t), q) in channels {
                        for (_, m) in q {
                            visit(NodeId(*f), NodeId(*t), m);
                        }
                    }
                };
                if let Err(why) = check(&World { nodes, idents, crashed: &crashed, in_flight: &in_flight, time: None })
                {
                    failures.push(format!("{name}: {why}"));
                }
            }
            // Clock checks need stamps this runner does not keep; no election declares one.
            Invariant::Delivery { name, .. } => panic!("the test runner does not check delivery invariants ({name})"),
        }
    }
}

/// What an exhaustive exploration found.
pub(crate) struct Exploration {
    /// Over every complete schedule, the least and greatest number of messages of each
    /// kind (indexed like `Message::kinds()`) sent from the start to quiescence.
    pub min: Vec<u64>,
    pub max: Vec<u64>,
    /// Invariant violations (in any reachable state) and terminal failures (in any
    /// reachable quiescent state), without repeats.
    pub failures: Vec<String>,
}

type State<N> = (Vec<N>, Vec<(u32, u32, Msg<N>)>);
/// For each explored state, the least and greatest sends of each kind to quiescence.
type Memo<N> = HashMap<State<N>, (Vec<u64>, Vec<u64>)>;

/// Explores every schedule of a non-FIFO network (so every FIFO schedule too): after
/// every node has started, any message in transit may be delivered next. States are
/// memoized, so this is a small model checker; keep it to a handful of nodes.
pub(crate) fn explore<A: Algorithm>(alg: &A, kind: TopologyKind, idents: &[u64]) -> Exploration {
    let n = idents.len();
    let topo = match Topology::build(&kind, n, &mut reparti_core::rng(0)) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let kinds = <Msg<A::Node> as Message>::kinds().len();
    let properties = alg.properties();
    let mut nodes: Vec<A::Node> = (0..n).map(|i| alg.init(&NodeSetup::new(NodeId(i as u32), idents[i], n))).collect();
    let mut flight = Vec::new();
    let mut initial = vec![0u64; kinds];
    for (i, node) in nodes.iter_mut().enumerate() {
        let sent = act(node, i, n, &topo, &mut flight, |s, c| s.on_start(c));
        add(&mut initial, &sent);
    }
    canonical(&mut flight);
    let mut memo = HashMap::new();
    let mut failures = Vec::new();
    let (mut min, mut max) = dfs::<A>(&(nodes, flight), idents, &topo, &properties, &mut memo, &mut failures);
    add(&mut min, &initial);
    add(&mut max, &initial);
    Exploration { min, max, failures }
}

fn add(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Messages in transit as a multiset: sorted, so equal multisets are equal states.
fn canonical<M: std::fmt::Debug>(flight: &mut [(u32, u32, M)]) {
    flight.sort_by_cached_key(|(f, t, m)| (*t, *f, format!("{m:?}")));
}

/// Runs one handler through the node host every engine uses, and returns its effects.
fn through_host<N: Process>(
    node: &mut N,
    me: NodeId,
    n: usize,
    topo: &Topology,
    lamport: &mut u64,
    f: impl FnOnce(&mut N, &mut Context<'_, N::Msg>),
) -> Vec<Effect<N::Msg>> {
    let mut recorder = Recorder::default();
    let place = Place { me, n, neighbours: topo.neighbours(me) };
    NodeHost::new(false).handle(place, node, ClockSlot::logical(lamport, None), f, &mut recorder);
    recorder.effects
}

/// Runs one handler, queueing its sends; returns how many of each kind it sent.
fn act<N: Process>(
    node: &mut N,
    i: usize,
    n: usize,
    topo: &Topology,
    flight: &mut Vec<(u32, u32, N::Msg)>,
    f: impl FnOnce(&mut N, &mut Context<'_, N::Msg>),
) -> Vec<u64> {
    let mut sent = vec![0u64; <N::Msg as Message>::kinds().len()];
    let mut lamport = 0;
    let me = NodeId(i as u32);
    for e in through_host(node, me, n, topo, &mut lamport, f) {
        if let Effect::Send { to, msg, .. } = e {
            sent[msg.kind()] += 1;
            flight.push((me.0, to.0, msg));
        }
    }
    sent
}

/// The least and greatest sends of each kind from `state` to quiescence.
fn dfs<A: Algorithm>(
    state: &State<A::Node>,
    idents: &[u64],
    topo: &Topology,
    properties: &reparti_core::Properties<A::Node>,
    memo: &mut Memo<A::Node>,
    failures: &mut Vec<String>,
) -> (Vec<u64>, Vec<u64>) {
    if let Some(v) = memo.get(state) {
        return v.clone();
    }
    let (nodes, flight) = state;
    let kinds = <Msg<A::Node> as Message>::kinds().len();
    let mut note = |f: String| {
        if !failures.contains(&f) && failures.len() < 20 {
            failures.push(f);
        }
    };
    let mut channels: Channels<A::Node> = BTreeMap::new();
    for (f, t, m) in flight {
        channels.entry((*f, *t)).or_default().push_back((0, m.clone()));
    }
    let mut found = Vec::new();
    check_invariants::<A>(&properties.invariants, nodes, idents, &channels, &mut found);
    found.into_iter().for_each(&mut note);
    let result = if flight.is_empty() {
        let crashed = vec![false; nodes.len()];
        let none = |_: &mut Visit<'_, A::Node>| {};
        let world = World { nodes, idents, crashed: &crashed, in_flight: &none, time: None };
        for t in &properties.terminal {
            if let Err(why) = (t.check)(&world) {
                note(format!("{}: {why}", t.name));
            }
        }
        (vec![0; kinds], vec![0; kinds])
    } else {
        let (mut lo, mut hi) = (vec![u64::MAX; kinds], vec![0; kinds]);
        for k in 0..flight.len() {
            if k > 0 && flight[k] == flight[k - 1] {
                continue; // the same message again: the same successor
            }
            let (mut next_nodes, mut next_flight) = (nodes.clone(), flight.clone());
            let (from, to, msg) = next_flight.remove(k);
            let sent = act(&mut next_nodes[to as usize], to as usize, nodes.len(), topo, &mut next_flight, |s, c| {
                s.on_message(NodeId(from), msg, c)
            });
            canonical(&mut next_flight);
            let (cl, ch) = dfs::<A>(&(next_nodes, next_flight), idents, topo, properties, memo, failures);
            for j in 0..kinds {
                lo[j] = lo[j].min(cl[j] + sent[j]);
                hi[j] = hi[j].max(ch[j] + sent[j]);
            }
        }
        (lo, hi)
    };
    memo.insert(state.clone(), result.clone());
    result
}

/// Every permutation of `1..=n` with `n` at position 0 (rotations give the same runs
/// on a ring, up to renaming positions).
pub(crate) fn placements_up_to_rotation(n: usize) -> Vec<Vec<u64>> {
    fn perms(v: Vec<u64>) -> Vec<Vec<u64>> {
        if v.len() <= 1 {
            return vec![v];
        }
        let mut out = Vec::new();
        for i in 0..v.len() {
            let mut rest = v.clone();
            let x = rest.remove(i);
            for mut p in perms(rest) {
                p.insert(0, x);
                out.push(p);
            }
        }
        out
    }
    perms((1..n as u64).collect())
        .into_iter()
        .map(|mut p| {
            p.insert(0, n as u64);
            p
        })
        .collect()
}

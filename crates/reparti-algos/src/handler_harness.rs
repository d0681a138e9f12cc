//! Test-only: run one handler of a node outside any engine and look at its effects.
//!
//! Every algorithm's unit tests drive handlers directly; this is the one place that
//! builds the topology and the `Context` they need.

use reparti_core::{ClockSlot, Context, Effect, NodeHost, NodeId, Place, Process, Recorder, Topology, TopologyKind};

/// Runs `f` (one handler) on `node` at position `me` of a `kind` topology of `n`
/// nodes, through the node host every engine uses, with a fresh Lamport clock and no
/// vector clock, and returns its effects.
pub(crate) fn run<P: Process>(
    node: &mut P,
    kind: TopologyKind,
    me: NodeId,
    n: usize,
    f: impl FnOnce(&mut P, &mut Context<'_, P::Msg>),
) -> Vec<Effect<P::Msg>> {
    let topo = match Topology::build(&kind, n, &mut reparti_core::rng(0)) {
        Ok(t) => t,
        Err(e) => panic!("{kind} of {n} nodes: {e}"),
    };
    let mut lamport = 0;
    let mut recorder = Recorder::default();
    let place = Place { me, n, neighbours: topo.neighbours(me) };
    // Unit tests may look at clocks whatever the algorithm declares.
    NodeHost::new(true).handle(place, node, ClockSlot::logical(&mut lamport, None), f, &mut recorder);
    recorder.effects
}

/// The messages among `effects`, as (destination, message).
pub(crate) fn sends<M: Clone>(effects: &[Effect<M>]) -> Vec<(NodeId, M)> {
    effects
        .iter()
        .filter_map(|e| if let Effect::Send { to, msg, .. } = e { Some((*to, msg.clone())) } else { None })
        .collect()
}

/// The values output under `key` among `effects`.
pub(crate) fn outputs<M: Clone>(effects: &[Effect<M>], key: &str) -> Vec<reparti_core::OutputValue> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Output { key: k, value } if *k == key => Some(value.clone()),
            _ => None,
        })
        .collect()
}

/// A tiny synchronous driver for the mutual-exclusion algorithms on the complete graph:
/// `requests` request inputs per node, then messages delivered in the order given by
/// `pick`, the CS timer of the node inside fired when `pick` says 0 or nothing else is
/// left. `check` sees the nodes and the messages in flight before every step (and
/// asserts mutual exclusion itself); `seen` sees every effect with the node that made it.
pub(crate) fn drive_mutex<N: crate::mutex::critical_section::CsProcess>(
    ns: &mut [N],
    requests: usize,
    pick: impl Fn(usize) -> usize,
    mut check: impl FnMut(&[N], &[(NodeId, NodeId, N::Msg)]),
    mut seen: impl FnMut(NodeId, &Effect<N::Msg>),
) {
    use crate::mutex::critical_section::{Input, CS_TIMER};
    let n = ns.len();
    let mut in_flight: Vec<(NodeId, NodeId, N::Msg)> = Vec::new();
    let mut push = |from: NodeId, eff: Vec<Effect<N::Msg>>, fl: &mut Vec<(NodeId, NodeId, N::Msg)>| {
        for e in eff {
            seen(from, &e);
            if let Effect::Send { to, msg, .. } = e {
                fl.push((from, to, msg));
            }
        }
    };
    for (i, node) in ns.iter_mut().enumerate() {
        let me = NodeId(i as u32);
        for _ in 0..requests {
            let eff = run(node, TopologyKind::Complete, me, n, |s, c| s.on_cs_input(Input::Request, c));
            push(me, eff, &mut in_flight);
        }
    }
    loop {
        assert!(ns.iter().filter(|s| s.in_cs()).count() <= 1, "mutual exclusion");
        check(ns, &in_flight);
        if let Some(i) = ns.iter().position(|s| s.in_cs()) {
            if in_flight.is_empty() || pick(in_flight.len()) == 0 {
                let me = NodeId(i as u32);
                let eff = run(&mut ns[i], TopologyKind::Complete, me, n, |s, c| s.on_cs_timer(CS_TIMER, c));
                push(me, eff, &mut in_flight);
                continue;
            }
        }
        if in_flight.is_empty() {
            break;
        }
        let k = pick(in_flight.len()) % in_flight.len();
        let (from, to, msg) = in_flight.remove(k);
        let eff = run(&mut ns[to.index()], TopologyKind::Complete, to, n, |s, c| s.on_message(from, msg, c));
        push(to, eff, &mut in_flight);
    }
}

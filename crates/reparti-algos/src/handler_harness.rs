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
    NodeHost::new(true).handle(place, node, ClockSlot { lamport: &mut lamport, vector: None }, f, &mut recorder);
    recorder.effects
}

/// The messages among `effects`, as (destination, message).
pub(crate) fn sends<M: Clone>(effects: &[Effect<M>]) -> Vec<(NodeId, M)> {
    effects
        .iter()
        .filter_map(|e| if let Effect::Send { to, msg, .. } = e { Some((*to, msg.clone())) } else { None })
        .collect()
}

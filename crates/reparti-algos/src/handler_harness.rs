//! Test-only: run one handler of a node outside any engine and look at its effects.
//!
//! Every algorithm's unit tests drive handlers directly; this is the one place that
//! builds the topology and the `Context` they need.

use reparti_core::{Context, Effect, NodeId, Process, Topology, TopologyKind};

/// Runs `f` (one handler) on `node` at position `me` of a `kind` topology of `n`
/// nodes, with a fresh Lamport clock and no vector clock, and returns its effects.
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
    let (mut lamport, mut effects) = (0, Vec::new());
    let mut ctx = Context::new(me, n, topo.neighbours(me), &mut lamport, None, &mut effects);
    f(node, &mut ctx);
    effects
}

/// The messages among `effects`, as (destination, message).
pub(crate) fn sends<M: Clone>(effects: &[Effect<M>]) -> Vec<(NodeId, M)> {
    effects
        .iter()
        .filter_map(|e| if let Effect::Send { to, msg, .. } = e { Some((*to, msg.clone())) } else { None })
        .collect()
}

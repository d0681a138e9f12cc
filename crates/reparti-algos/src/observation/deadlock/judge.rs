//! The judge of Chandy–Misra–Haas: its properties, computed by the engine from the
//! true wait-for graph of the global state ([`super::true_wfg`]), never from the probes.

use super::chandy_misra_haas::Node;
use super::wait_for::request_graph;
use super::{edges_reachable, on_cycle, reachable, show, true_wfg};
use reparti_core::{NodeId, World};
use std::collections::BTreeMap;

/// Safety: every declarer is on a cycle of the true WFG now.
pub(super) fn safe(w: &World<'_, Node>) -> Result<(), String> {
    let declared: Vec<&Node> = w.nodes.iter().filter(|s| s.declared).collect();
    if declared.is_empty() {
        return Ok(());
    }
    let wfg = true_wfg(w.nodes.iter().map(|s| &s.app));
    match declared.iter().find(|s| !on_cycle(&wfg, s.me)) {
        Some(s) => {
            Err(format!("process {} declared deadlock, but the WFG {{{}}} has no cycle through it", s.me, show(&wfg)))
        }
        None => Ok(()),
    }
}

/// Cost: the probes of each initiation so far, against the edges reachable from its
/// initiator in the graph the processes ask along (the WFG only ever holds those).
pub(super) fn within_cost(w: &World<'_, Node>) -> Result<(), String> {
    let mut probes: BTreeMap<(NodeId, u32), u32> = BTreeMap::new();
    for s in w.nodes {
        if let Some(e) = s.initiation {
            *probes.entry((s.me, e.seq)).or_default() += e.sent;
        }
        for (&i, e) in &s.engaged {
            *probes.entry((i, e.seq)).or_default() += e.sent;
        }
    }
    let apps: Vec<_> = w.nodes.iter().map(|s| s.app.clone()).collect();
    let graph = request_graph(&apps);
    for ((i, seq), sent) in probes {
        let bound = edges_reachable(&graph, i);
        if sent as usize > bound {
            return Err(format!(
                "initiation {seq} of {i} sent {sent} probes, more than the {bound} edges reachable from it"
            ));
        }
    }
    Ok(())
}

/// Liveness, at the end (see the module's *Properties*).
pub(super) fn live(w: &World<'_, Node>, staggered: bool) -> Result<(), String> {
    let wfg = true_wfg(w.nodes.iter().map(|s| &s.app));
    for s in w.nodes.iter().filter(|s| s.initiator && on_cycle(&wfg, s.me)) {
        if !staggered {
            if !s.declared {
                return Err(format!("process {} is on a cycle of {{{}}} and never declared", s.me, show(&wfg)));
            }
            continue;
        }
        let from = reachable(&wfg, s.me);
        let scc: Vec<&Node> = w.nodes.iter().filter(|q| from.contains(&q.me) && on_path(&wfg, q.me, s.me)).collect();
        if scc.iter().all(|q| q.initiator) && !scc.iter().any(|q| q.declared) {
            return Err(format!("no process of the cycles through {} in {{{}}} declared", s.me, show(&wfg)));
        }
    }
    Ok(())
}

fn on_path(wfg: &super::Edges, from: NodeId, to: NodeId) -> bool {
    from == to || reachable(wfg, from).contains(&to)
}

//! Symmetry reduction: one state per class of states that differ only by a renaming
//! of interchangeable nodes.
//!
//! When an algorithm declares a [`Symmetry`] (rotations of a ring, or every
//! permutation of an anonymous complete graph), a state and its renamed copies behave
//! alike, so the visited set stores one fingerprint per class: the smallest fingerprint
//! over the renamings. The representative stored in the frontier is whichever copy was
//! reached first, which is sound because successors of renamed states are renamed
//! successors. Verdicts are unchanged for properties invariant under the renaming,
//! which the declaration promises.

use crate::model::{Model, StateOf};
use crate::state::{fingerprint, insert_packet, Fingerprint};
use reparti_core::{Algorithm, Message, NodeId, Process, Symmetry, TopologyKind};

/// At most this many permutations are tried per state (6! = 720).
const MAX_PERMUTATIONS: usize = 720;

/// The renamings to try, or why the declared symmetry cannot be used on this model.
pub fn group<A: Algorithm>(m: &Model<A>) -> Result<Vec<Vec<u32>>, String> {
    let n = m.n();
    let declared = m.algorithm.symmetry();
    if declared == Symmetry::None {
        return Err(format!("{} does not declare interchangeable nodes (identities break the symmetry)", m.spec.name));
    }
    if m.clocks {
        return Err("not when clock stamps are part of the state".into());
    }
    if m.inputs.iter().any(|l| *l != m.inputs[0]) {
        return Err("the nodes' workloads differ, so the nodes are not interchangeable".into());
    }
    let kind = m.topology.kind();
    match declared {
        Symmetry::Rotations => {
            if !matches!(kind, TopologyKind::Ring | TopologyKind::BidirRing) {
                return Err(format!("rotations need a ring, not a {kind}"));
            }
            Ok((0..n as u32).map(|k| (0..n as u32).map(|i| (i + k) % n as u32).collect()).collect())
        }
        Symmetry::Full => {
            if *kind != TopologyKind::Complete {
                return Err(format!("full symmetry needs a complete graph, not a {kind}"));
            }
            if (1..=n).product::<usize>() > MAX_PERMUTATIONS {
                return Err(format!("{n}! permutations are too many to try per state (at most 6 nodes)"));
            }
            let mut all = Vec::new();
            permutations(&mut (0..n as u32).collect(), 0, &mut all);
            Ok(all)
        }
        Symmetry::None => Err("no symmetry declared".into()),
    }
}

fn permutations(p: &mut Vec<u32>, k: usize, out: &mut Vec<Vec<u32>>) {
    if k == p.len() {
        out.push(p.clone());
        return;
    }
    for i in k..p.len() {
        p.swap(k, i);
        permutations(p, k + 1, out);
        p.swap(k, i);
    }
}

/// `s` with node i renamed `perm[i]` everywhere.
pub fn rename<A: Algorithm>(m: &Model<A>, s: &StateOf<A>, perm: &[u32]) -> StateOf<A> {
    let map: Vec<NodeId> = perm.iter().map(|&p| NodeId(p)).collect();
    let mut t = s.clone();
    for (i, node) in s.nodes.iter().enumerate() {
        let mut renamed = node.clone();
        renamed.rename_nodes(&map);
        t.nodes[perm[i] as usize] = renamed;
        if let Some(&k) = s.next_input.get(i) {
            t.next_input[perm[i] as usize] = k;
        }
    }
    t.net.clear();
    for p in &s.net {
        let mut msg = p.msg.clone();
        msg.rename_nodes(&map);
        let packet =
            crate::state::Packet::new(perm[p.from as usize], perm[p.to as usize], msg, p.lamport, p.vector.clone());
        insert_packet(&mut t.net, packet, m.fifo());
    }
    t.timers = s.timers.iter().map(|&(node, timer)| (perm[node as usize], timer)).collect();
    t.timers.sort_unstable();
    t.crashed = (0..m.n()).filter(|&i| s.is_crashed(i)).fold(0, |acc, i| acc | (1 << perm[i]));
    t.history = s.history.renamed(perm);
    t
}

/// The class fingerprint: the least fingerprint over every renaming of `s`.
pub fn canonical<A: Algorithm>(m: &Model<A>, s: &StateOf<A>, perms: &[Vec<u32>], wide: bool) -> Fingerprint {
    perms
        .iter()
        .map(|p| fingerprint(&rename(m, s, p), wide, m.fifo()))
        .min()
        .unwrap_or_else(|| fingerprint(s, wide, m.fifo()))
}

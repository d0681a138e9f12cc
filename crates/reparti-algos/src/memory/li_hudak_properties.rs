//! Li & Hudak's properties: one owner, single writer / multiple readers and agreeing
//! copies after every event; at quiescence, short acyclic `prob_owner` chains, nothing
//! in progress, every operation answered.

use super::{Access, Msg, Node, Page, CHAINS, COPIES_AGREE, ONE_OWNER, SETTLED, SWMR};
use crate::memory::every_operation_answered;
use reparti_core::{Invariant, Properties, Terminal, World};
use std::collections::BTreeSet;

/// Every property of the protocol.
pub(super) fn all() -> Properties<Node> {
    Properties {
        invariants: vec![
            Invariant::global(ONE_OWNER, one_owner),
            Invariant::global(SWMR, swmr),
            Invariant::global(COPIES_AGREE, copies_agree),
        ],
        terminal: vec![Terminal::new(CHAINS, chains), Terminal::new(SETTLED, settled), every_operation_answered()],
    }
}

/// Every page some node or message in `w` mentions (the others are untouched: node 0
/// owns them with write access, every `prob_owner` is 0).
fn keys(w: &World<'_, Node>) -> BTreeSet<u32> {
    let mut keys: BTreeSet<u32> = w.nodes.iter().flat_map(|node| node.pages.keys().copied()).collect();
    (w.in_flight)(&mut |_, _, m| {
        keys.insert(m.key());
    });
    keys
}

/// Per page, the nodes whose `prob_owner` is themselves plus the `WDATA` in transit
/// number exactly one: ownership is at a node from the `WDATA` that brings the page
/// until the one that sends it away, and in that message in between.
pub(super) fn one_owner(w: &World<'_, Node>) -> Result<(), String> {
    for key in keys(w) {
        let owners: Vec<usize> = w.live().filter(|&i| w.nodes[i].owns(key)).collect();
        let mut moving = 0;
        (w.in_flight)(&mut |_, _, m| moving += usize::from(matches!(m, Msg::Wdata { key: k, .. } if *k == key)));
        if owners.len() + moving != 1 {
            return Err(format!("page {key}: owners {owners:?} and {moving} WDATA in transit"));
        }
    }
    Ok(())
}

/// The live nodes holding page `key` with some access, and their views.
fn holders(w: &World<'_, Node>, key: u32) -> Vec<(usize, Page)> {
    w.live().map(|i| (i, w.nodes[i].page(key))).filter(|(_, p)| p.access != Access::Nil).collect()
}

/// At most one node may write a page, and then no other holds it.
pub(super) fn swmr(w: &World<'_, Node>) -> Result<(), String> {
    for key in keys(w) {
        let held = holders(w, key);
        let writers: Vec<usize> = held.iter().filter(|(_, p)| p.access == Access::Write).map(|(i, _)| *i).collect();
        if !writers.is_empty() && held.len() > 1 {
            let all: Vec<usize> = held.iter().map(|(i, _)| *i).collect();
            return Err(format!("page {key}: nodes {writers:?} write while nodes {all:?} hold it"));
        }
    }
    Ok(())
}

/// Every node with access to a page holds the same value.
pub(super) fn copies_agree(w: &World<'_, Node>) -> Result<(), String> {
    for key in keys(w) {
        let held = holders(w, key);
        if held.windows(2).any(|p| p[0].1.value != p[1].1.value) {
            let values: Vec<String> = held.iter().map(|(i, p)| format!("node {i}: {:?}", p.value)).collect();
            return Err(format!("page {key}: copies differ ({})", values.join(", ")));
        }
    }
    Ok(())
}

/// From every node, `prob_owner` reaches the owner, visiting no node twice, in at most
/// n−1 hops.
pub(super) fn chains(w: &World<'_, Node>) -> Result<(), String> {
    let n = w.nodes.len();
    for key in keys(w) {
        for start in w.live() {
            let (mut at, mut path) = (start, vec![start]);
            while !w.nodes[at].owns(key) {
                at = w.nodes[at].page(key).prob_owner.index();
                if at >= n || path.contains(&at) || path.len() > n - 1 {
                    path.push(at);
                    return Err(format!(
                        "page {key}: prob_owner from node {start} goes {path:?}, no owner in n−1 hops"
                    ));
                }
                path.push(at);
            }
        }
    }
    Ok(())
}

/// No fault in progress, nothing queued.
pub(super) fn settled(w: &World<'_, Node>) -> Result<(), String> {
    for i in w.live() {
        for (key, p) in &w.nodes[i].pages {
            if p.fault.is_some() || !p.queued.is_empty() {
                return Err(format!("node {i}, page {key}: fault {:?}, {} request(s) queued", p.fault, p.queued.len()));
            }
        }
    }
    Ok(())
}

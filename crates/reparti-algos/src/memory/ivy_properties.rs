//! Ivy's accounting (the cases of a fault by the roles that coincide) and its
//! properties over the nodes' states: single writer / multiple readers, coherent
//! copies, and the manager's directory agreeing with the access rights.

use super::{Access, Node};
use reparti_core::NodeId;
use std::collections::BTreeSet;

/// The pages any node's state mentions (the others are as at the start).
fn pages_of(nodes: &[Node]) -> BTreeSet<u32> {
    nodes.iter().flat_map(|s| s.pages.keys().chain(s.directory.keys()).copied()).collect()
}

/// Single writer / multiple readers on every page.
pub fn single_writer(nodes: &[Node]) -> Result<(), String> {
    for key in pages_of(nodes) {
        let with = |a: Access| -> Vec<usize> { (0..nodes.len()).filter(|&i| nodes[i].page(key).access == a).collect() };
        let (writers, readers) = (with(Access::Write), with(Access::Read));
        if writers.len() > 1 || (writers.len() == 1 && !readers.is_empty()) {
            return Err(format!("page {key}: write access at {writers:?}, read access at {readers:?}"));
        }
    }
    Ok(())
}

/// Every readable copy of a page holds the same value.
pub fn coherent(nodes: &[Node]) -> Result<(), String> {
    for key in pages_of(nodes) {
        let values: BTreeSet<Option<i64>> =
            nodes.iter().map(|s| s.page(key)).filter(|p| p.access != Access::Nil).map(|p| p.value).collect();
        if values.len() > 1 {
            return Err(format!("page {key}: readable copies hold {values:?}"));
        }
    }
    Ok(())
}

/// The manager's directory matches the access rights, and no fault is in progress.
pub fn directory_matches(nodes: &[Node]) -> Result<(), String> {
    let Some(manager) = nodes.first().map(|s| s.manager.index()).and_then(|m| nodes.get(m)) else { return Ok(()) };
    for key in pages_of(nodes) {
        let entry = manager.entry(key);
        if entry.fault.is_some() || !entry.queue.is_empty() {
            return Err(format!("page {key}: a fault is still in progress at the manager ({entry:?})"));
        }
        for (i, node) in nodes.iter().enumerate() {
            let access = node.page(key).access;
            let id = NodeId(i as u32);
            let fine = if id == entry.owner {
                access == Access::Read || (access == Access::Write && entry.copy_set.is_empty())
            } else if entry.copy_set.contains(&id) {
                access == Access::Read
            } else {
                access == Access::Nil
            };
            if !fine {
                return Err(format!(
                    "page {key}: node {i} has {access:?} access, but the manager says owner {}, copy_set {:?}",
                    entry.owner, entry.copy_set
                ));
            }
        }
    }
    Ok(())
}

/// A fault by the roles that coincide in it, with the hops that are messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Case {
    /// How [`super::ROLES`] names it.
    pub name: &'static str,
    /// A read (`Read`) or a write (`Write`) fault.
    pub kind: Access,
    /// The query and the confirmation are messages: requester ≠ manager.
    pub query: bool,
    /// The forward is a message: owner ≠ manager.
    pub forward: bool,
    /// The data is a message: owner ≠ requester.
    pub data: bool,
}

/// Every case of a fault (the owner of a page never has a read fault on it).
pub const CASES: &[Case] = &[
    Case { name: "read: distinct", kind: Access::Read, query: true, forward: true, data: true },
    Case { name: "read: owner = manager", kind: Access::Read, query: true, forward: false, data: true },
    Case { name: "read: requester = manager", kind: Access::Read, query: false, forward: true, data: true },
    Case { name: "write: distinct", kind: Access::Write, query: true, forward: true, data: true },
    Case { name: "write: owner = manager", kind: Access::Write, query: true, forward: false, data: true },
    Case { name: "write: requester = manager", kind: Access::Write, query: false, forward: true, data: true },
    Case { name: "write: requester = owner", kind: Access::Write, query: true, forward: true, data: false },
    Case { name: "write: requester = owner = manager", kind: Access::Write, query: false, forward: false, data: false },
];

impl Case {
    /// The messages of a fault of this case that invalidates `k` copies by message.
    pub fn messages(&self, k: u64) -> u64 {
        2 * u64::from(self.query) + 2 * k + u64::from(self.forward) + u64::from(self.data)
    }
}

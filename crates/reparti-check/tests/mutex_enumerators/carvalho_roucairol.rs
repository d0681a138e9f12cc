//! Carvalho & Roucairol (CACM 26(2), 1983): Ricart–Agrawala keeping the permissions it
//! received, from the pseudo-code (permissions start at the smaller position):
//!
//! ```text
//! init:      auth[j] = (i < j)
//! request:   requesting = true; my_ts = highest + 1; highest = my_ts
//!            for j with ¬auth[j]: send REQUEST(my_ts, i) to j
//!            if ∀j auth[j]: in_cs = true               # zero messages
//! on REQUEST(t, j): highest = max(highest, t)
//!            if in_cs ∨ (requesting ∧ (my_ts, i) < (t, j)): deferred += j
//!            else: had = auth[j]; auth[j] = false; send REPLY to j
//!                  if requesting ∧ had: send REQUEST(my_ts, i) to j   # I need it back
//! on REPLY from j: auth[j] = true; if requesting ∧ ∀k auth[k]: in_cs = true
//! release:   in_cs = requesting = false
//!            for j ∈ deferred: auth[j] = false; send REPLY to j
//!            deferred = ∅
//! ```

use super::Textbook;
use crate::common::enumerate::Net;
use std::collections::BTreeSet;

/// The paper's variables; `auth` by position (the node's own entry unused, false).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Node {
    pub highest: u64,
    pub my_ts: u64,
    pub requesting: bool,
    pub in_cs: bool,
    pub auth: Vec<bool>,
    pub deferred: BTreeSet<usize>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Msg {
    Request { ts: u64, id: u64 },
    Reply,
}

/// The algorithm on nodes with these identities, by position.
pub struct CarvalhoRoucairol {
    pub idents: Vec<u64>,
}

impl CarvalhoRoucairol {
    fn holds_all(&self, i: usize, s: &Node) -> bool {
        (0..self.idents.len()).all(|j| j == i || s.auth[j])
    }
}

impl Textbook for CarvalhoRoucairol {
    type Node = Node;
    type Msg = Msg;

    fn init(&self, i: usize) -> Node {
        let auth = (0..self.idents.len()).map(|j| i < j).collect();
        Node { highest: 0, my_ts: 0, requesting: false, in_cs: false, auth, deferred: BTreeSet::new() }
    }

    fn request(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.requesting = true;
        s.my_ts = s.highest + 1;
        s.highest = s.my_ts;
        for j in (0..self.idents.len()).filter(|&j| j != i && !s.auth[j]) {
            net.send(i, j, Msg::Request { ts: s.my_ts, id: self.idents[i] });
        }
        if self.holds_all(i, s) {
            s.in_cs = true;
        }
    }

    fn receive(&self, i: usize, from: usize, m: Msg, s: &mut Node, net: &mut Net<Msg>) {
        match m {
            Msg::Request { ts, id } => {
                s.highest = s.highest.max(ts);
                if s.in_cs || (s.requesting && (s.my_ts, self.idents[i]) < (ts, id)) {
                    s.deferred.insert(from);
                } else {
                    let had = std::mem::replace(&mut s.auth[from], false);
                    net.send(i, from, Msg::Reply);
                    if s.requesting && had {
                        net.send(i, from, Msg::Request { ts: s.my_ts, id: self.idents[i] });
                    }
                }
            }
            Msg::Reply => {
                s.auth[from] = true;
                if s.requesting && self.holds_all(i, s) {
                    s.in_cs = true;
                }
            }
        }
    }

    fn in_cs(&self, s: &Node) -> bool {
        s.in_cs
    }

    fn release(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.in_cs = false;
        s.requesting = false;
        for j in std::mem::take(&mut s.deferred) {
            s.auth[j] = false;
            net.send(i, j, Msg::Reply);
        }
    }

    fn at_rest(&self, s: &Node) -> Result<(), String> {
        if s.my_ts == 0 || s.requesting || !s.deferred.is_empty() {
            return Err(format!("{s:?}"));
        }
        Ok(())
    }

    /// Each pair's permission is at exactly one end or in exactly one REPLY between them.
    fn invariant(&self, nodes: &[Node], net: &Net<Msg>) -> Result<(), String> {
        let n = self.idents.len();
        for a in 0..n {
            for b in a + 1..n {
                let between = net
                    .in_flight()
                    .iter()
                    .filter(|(from, to, m)| *m == Msg::Reply && ((*from).min(*to), (*from).max(*to)) == (a, b))
                    .count();
                let total = nodes[a].auth[b] as usize + nodes[b].auth[a] as usize + between;
                if total != 1 {
                    return Err(format!("pair ({a}, {b}): the permission is {total} times there"));
                }
            }
        }
        Ok(())
    }
}

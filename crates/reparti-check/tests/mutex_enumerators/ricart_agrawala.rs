//! Ricart & Agrawala (CACM 24(1), 1981), as the pseudo-code of the library's module
//! writes it (with its one change to the paper: `highest = my_ts` on requesting):
//!
//! ```text
//! request:   requesting = true; my_ts = highest + 1; highest = my_ts; replies = 0
//!            send REQUEST(my_ts, i) to all j ≠ i
//! on REQUEST(t, j): highest = max(highest, t)
//!            if in_cs ∨ (requesting ∧ (my_ts, i) < (t, j)): deferred += j
//!            else send REPLY to j
//! on REPLY:  replies += 1; if replies = n−1: in_cs = true
//! release:   in_cs = requesting = false; send REPLY to every j ∈ deferred; deferred = ∅
//! ```
//!
//! `deferred ⊆ P` is a set, as in the paper: the order in which requests were deferred
//! is not part of the state (the replies go out together, on different channels). With
//! `deferral_order` the node also remembers that order, as the library's node once did
//! in a list: the count grows, though nothing the algorithm does depends on it.

use super::Textbook;
use crate::common::enumerate::Net;
use std::collections::BTreeSet;

/// The paper's variables.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Node {
    pub highest: u64,
    pub my_ts: u64,
    pub requesting: bool,
    pub in_cs: bool,
    pub replies: u32,
    pub deferred: BTreeSet<usize>,
    /// The order of deferral, kept only with `deferral_order` (else always empty).
    pub deferral_order: Vec<usize>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Msg {
    Request { ts: u64, id: u64 },
    Reply,
}

/// The algorithm on nodes with these identities, by position.
pub struct RicartAgrawala {
    pub idents: Vec<u64>,
    /// Remember the order in which requests were deferred (not the paper's state).
    pub deferral_order: bool,
}

impl Textbook for RicartAgrawala {
    type Node = Node;
    type Msg = Msg;

    fn init(&self, _: usize) -> Node {
        Node {
            highest: 0,
            my_ts: 0,
            requesting: false,
            in_cs: false,
            replies: 0,
            deferred: BTreeSet::new(),
            deferral_order: Vec::new(),
        }
    }

    fn request(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        let n = self.idents.len();
        s.requesting = true;
        s.my_ts = s.highest + 1;
        s.highest = s.my_ts;
        s.replies = 0;
        for j in (0..n).filter(|&j| j != i) {
            net.send(i, j, Msg::Request { ts: s.my_ts, id: self.idents[i] });
        }
    }

    fn receive(&self, i: usize, from: usize, m: Msg, s: &mut Node, net: &mut Net<Msg>) {
        match m {
            Msg::Request { ts, id } => {
                s.highest = s.highest.max(ts);
                if s.in_cs || (s.requesting && (s.my_ts, self.idents[i]) < (ts, id)) {
                    s.deferred.insert(from);
                    if self.deferral_order {
                        s.deferral_order.push(from);
                    }
                } else {
                    net.send(i, from, Msg::Reply);
                }
            }
            Msg::Reply => {
                s.replies += 1;
                if s.replies as usize == self.idents.len() - 1 {
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
        s.deferral_order.clear();
        for j in std::mem::take(&mut s.deferred) {
            net.send(i, j, Msg::Reply);
        }
    }

    fn at_rest(&self, s: &Node) -> Result<(), String> {
        if s.my_ts == 0 || s.requesting || !s.deferred.is_empty() {
            return Err(format!("{s:?}"));
        }
        Ok(())
    }
}

//! Lamport (CACM 21(7), 1978, §3): a replicated request queue, from the pseudo-code:
//!
//! ```text
//! request:        C += 1; my = (C, i); Q.insert(my); send REQUEST(C) to all j ≠ i
//! on REQUEST(t) from j: C = max(C,t)+1; Q.insert((t,j)); last[j] = t; send REPLY(C) to j
//! on REPLY(t) from j:   C = max(C,t)+1; last[j] = t
//! enter when:     head(Q) = my  ∧  ∀ j ≠ i: (last[j], j) > my
//! release:        Q.remove(my); C += 1; send RELEASE(C) to all j ≠ i
//! on RELEASE(t) from j: C = max(C,t)+1; Q.remove(j's entry); last[j] = t
//! ```
//!
//! Pairs `(ts, j)` are ordered by the identity of j. "Enter when" is a guard on the
//! node's own variables, which change only in its own steps: it is tested at the end of
//! each of them (the request and every reception), not taken as a step of its own.

use super::Textbook;
use crate::common::enumerate::Net;
use std::collections::BTreeSet;

/// The paper's variables, with the request under way and the CS flag.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Node {
    /// The clock `C`.
    pub clock: u64,
    /// `Q`: `(ts, identity)`.
    pub q: BTreeSet<(u64, u64)>,
    /// `last[j]`: the timestamp of the last message from j (0: none yet).
    pub last: Vec<u64>,
    /// `my`'s timestamp while a request is under way.
    pub my: Option<u64>,
    pub in_cs: bool,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Msg {
    Request(u64),
    Reply(u64),
    Release(u64),
}

/// The algorithm on nodes with these identities, by position.
pub struct Lamport {
    pub idents: Vec<u64>,
}

impl Lamport {
    fn others(&self, i: usize) -> impl Iterator<Item = usize> {
        (0..self.idents.len()).filter(move |&j| j != i)
    }

    fn maybe_enter(&self, i: usize, s: &mut Node) {
        let Some(ts) = s.my else { return };
        let my = (ts, self.idents[i]);
        let heads = s.q.first() == Some(&my);
        if heads && !s.in_cs && self.others(i).all(|j| (s.last[j], self.idents[j]) > my) {
            s.in_cs = true;
        }
    }
}

impl Textbook for Lamport {
    type Node = Node;
    type Msg = Msg;

    fn init(&self, _: usize) -> Node {
        Node { clock: 0, q: BTreeSet::new(), last: vec![0; self.idents.len()], my: None, in_cs: false }
    }

    fn request(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.clock += 1;
        s.my = Some(s.clock);
        s.q.insert((s.clock, self.idents[i]));
        for j in self.others(i) {
            net.send(i, j, Msg::Request(s.clock));
        }
        self.maybe_enter(i, s);
    }

    fn receive(&self, i: usize, from: usize, m: Msg, s: &mut Node, net: &mut Net<Msg>) {
        let (Msg::Request(t) | Msg::Reply(t) | Msg::Release(t)) = m;
        s.clock = s.clock.max(t) + 1;
        s.last[from] = t;
        match m {
            Msg::Request(_) => {
                s.q.insert((t, self.idents[from]));
                net.send(i, from, Msg::Reply(s.clock));
            }
            Msg::Release(_) => s.q.retain(|&(_, j)| j != self.idents[from]),
            Msg::Reply(_) => {}
        }
        self.maybe_enter(i, s);
    }

    fn in_cs(&self, s: &Node) -> bool {
        s.in_cs
    }

    fn release(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        let ts = s.my.take().expect("in the CS with a request");
        s.in_cs = false;
        s.q.remove(&(ts, self.idents[i]));
        s.clock += 1;
        for j in self.others(i) {
            net.send(i, j, Msg::Release(s.clock));
        }
    }

    fn at_rest(&self, s: &Node) -> Result<(), String> {
        if s.my.is_some() || !s.q.is_empty() || s.clock == 0 {
            return Err(format!("{s:?}"));
        }
        Ok(())
    }
}

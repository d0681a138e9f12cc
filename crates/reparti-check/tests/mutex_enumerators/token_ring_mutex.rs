//! The token ring (Le Lann 1977), from the pseudo-code, with the library's rule that
//! lets a finite experiment end (each node plans one request; the token counts the
//! nodes done and rests where the count reaches n):
//!
//! ```text
//! initially: node 0 holds TOKEN(done = 0)
//! request:   requesting = true; if holding the token: enter
//! on TOKEN:  hold it; if requesting: enter; else DONE_OR_PASS
//! release:   requesting = false; served = true; DONE_OR_PASS
//! DONE_OR_PASS (holding the token, not in the CS):
//!            if done = n: keep it (resting)
//!            if served ∧ ¬counted: counted = true; done += 1; if done = n: keep it
//!            else send TOKEN(done) to i+1 mod n
//! ```
//!
//! `served` and `counted` are the rule's, not the ring's: without them a real token
//! ring never stops. At start the holder runs DONE_OR_PASS, so the token is already
//! on its way to node 1 in the initial state.

use super::Textbook;
use crate::common::enumerate::Net;

/// The ring's variables and the rule's.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Node {
    /// `Some(done)` while holding the token.
    pub token: Option<u32>,
    pub requesting: bool,
    pub in_cs: bool,
    pub served: bool,
    pub counted: bool,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Msg {
    Token { done: u32 },
}

/// The ring of `n` nodes, one planned request each.
pub struct TokenRingMutex {
    pub n: usize,
}

impl TokenRingMutex {
    fn done_or_pass(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        let Some(mut done) = s.token else { return };
        if done as usize >= self.n {
            return;
        }
        if s.served && !s.counted {
            s.counted = true;
            done += 1;
            s.token = Some(done);
            if done as usize >= self.n {
                return;
            }
        }
        s.token = None;
        net.send(i, (i + 1) % self.n, Msg::Token { done });
    }
}

impl Textbook for TokenRingMutex {
    type Node = Node;
    type Msg = Msg;

    fn init(&self, i: usize) -> Node {
        Node { token: (i == 0).then_some(0), requesting: false, in_cs: false, served: false, counted: false }
    }

    fn start(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        self.done_or_pass(i, s, net);
    }

    fn request(&self, _: usize, s: &mut Node, _: &mut Net<Msg>) {
        s.requesting = true;
        if s.token.is_some() {
            s.in_cs = true;
        }
    }

    fn receive(&self, i: usize, _: usize, m: Msg, s: &mut Node, net: &mut Net<Msg>) {
        let Msg::Token { done } = m;
        s.token = Some(done);
        if s.requesting {
            s.in_cs = true;
        } else {
            self.done_or_pass(i, s, net);
        }
    }

    fn in_cs(&self, s: &Node) -> bool {
        s.in_cs
    }

    fn release(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.in_cs = false;
        s.requesting = false;
        s.served = true;
        self.done_or_pass(i, s, net);
    }

    fn at_rest(&self, s: &Node) -> Result<(), String> {
        if !s.served || s.requesting || s.token.is_some_and(|done| (done as usize) < self.n) {
            return Err(format!("{s:?}"));
        }
        Ok(())
    }

    /// Exactly one token.
    fn invariant(&self, nodes: &[Node], net: &Net<Msg>) -> Result<(), String> {
        let held = nodes.iter().filter(|s| s.token.is_some()).count();
        let moving = net.messages().len();
        if held + moving != 1 {
            return Err(format!("{held} held and {moving} travelling tokens"));
        }
        Ok(())
    }
}

//! Suzuki & Kasami (ACM TOCS 3(4), 1985): a token brought by broadcast requests, from
//! the pseudo-code (node 0 holds the token first):
//!
//! ```text
//! request:   requesting = true
//!            if holding the token: enter
//!            else RN[i] += 1; send REQUEST(RN[i]) to all j ≠ i
//! on REQUEST(sn) from j: RN[j] = max(RN[j], sn)
//!            if holding the token ∧ ¬requesting ∧ RN[j] = LN[j] + 1: send TOKEN(LN, Q) to j
//! on TOKEN(LN, Q): hold it; enter
//! release:   requesting = false; LN[i] = RN[i]
//!            for j = 1..n, j ∉ Q, RN[j] = LN[j] + 1: append j to Q
//!            if Q ≠ ⟨⟩: send TOKEN(LN, tail Q) to head Q
//! ```
//!
//! The release loop runs over every j, i included, as in the paper: `LN[i] = RN[i]`
//! keeps i out of its own queue.

use super::Textbook;
use crate::common::enumerate::Net;
use std::collections::VecDeque;

/// The token: `LN` and the queue `Q`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Token {
    pub ln: Vec<u64>,
    pub q: VecDeque<usize>,
}

/// The paper's variables: `RN`, the token when held, requesting, in the CS.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Node {
    pub rn: Vec<u64>,
    pub token: Option<Token>,
    pub requesting: bool,
    pub in_cs: bool,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Msg {
    Request { sn: u64 },
    Token(Token),
}

/// The algorithm on `n` nodes.
pub struct SuzukiKasami {
    pub n: usize,
}

fn waiting(s: &Node, t: &Token, j: usize) -> bool {
    s.rn[j] == t.ln[j] + 1
}

impl Textbook for SuzukiKasami {
    type Node = Node;
    type Msg = Msg;

    fn init(&self, i: usize) -> Node {
        let token = (i == 0).then(|| Token { ln: vec![0; self.n], q: VecDeque::new() });
        Node { rn: vec![0; self.n], token, requesting: false, in_cs: false }
    }

    fn request(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.requesting = true;
        if s.token.is_some() {
            s.in_cs = true;
            return;
        }
        s.rn[i] += 1;
        for j in (0..self.n).filter(|&j| j != i) {
            net.send(i, j, Msg::Request { sn: s.rn[i] });
        }
    }

    fn receive(&self, i: usize, from: usize, m: Msg, s: &mut Node, net: &mut Net<Msg>) {
        match m {
            Msg::Request { sn } => {
                s.rn[from] = s.rn[from].max(sn);
                let idle = !s.requesting && s.token.as_ref().is_some_and(|t| waiting(s, t, from));
                if idle {
                    let t = s.token.take().expect("held");
                    net.send(i, from, Msg::Token(t));
                }
            }
            Msg::Token(t) => {
                assert!(s.requesting && s.token.is_none(), "a token nobody asked for: {s:?}");
                s.token = Some(t);
                s.in_cs = true;
            }
        }
    }

    fn in_cs(&self, s: &Node) -> bool {
        s.in_cs
    }

    fn release(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.in_cs = false;
        s.requesting = false;
        let mut t = s.token.take().expect("in the CS with the token");
        t.ln[i] = s.rn[i];
        for j in 0..self.n {
            if !t.q.contains(&j) && waiting(s, &t, j) {
                t.q.push_back(j);
            }
        }
        match t.q.pop_front() {
            Some(head) => net.send(i, head, Msg::Token(t)),
            None => s.token = Some(t),
        }
    }

    fn at_rest(&self, s: &Node) -> Result<(), String> {
        if s.requesting || s.token.as_ref().is_some_and(|t| !t.q.is_empty()) {
            return Err(format!("{s:?}"));
        }
        Ok(())
    }

    /// Exactly one token: held by one node or travelling in one TOKEN.
    fn invariant(&self, nodes: &[Node], net: &Net<Msg>) -> Result<(), String> {
        let held = nodes.iter().filter(|s| s.token.is_some()).count();
        let moving = net.messages().iter().filter(|m| matches!(m, Msg::Token(_))).count();
        if held + moving != 1 {
            return Err(format!("{held} held and {moving} travelling tokens"));
        }
        Ok(())
    }
}

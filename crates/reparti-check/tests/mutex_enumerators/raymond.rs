//! Raymond (ACM TOCS 7(1), 1989): a privilege on a tree, from the paper's procedures:
//!
//! ```text
//! ASSIGN_PRIVILEGE:
//!   if HOLDER = self ∧ ¬USING ∧ REQUEST_Q ≠ ⟨⟩:
//!       HOLDER ← dequeue(REQUEST_Q); ASKED ← false
//!       if HOLDER = self: USING ← true
//!       else send PRIVILEGE to HOLDER
//! MAKE_REQUEST:
//!   if HOLDER ≠ self ∧ REQUEST_Q ≠ ⟨⟩ ∧ ¬ASKED: send REQUEST to HOLDER; ASKED ← true
//!
//! wish to enter the CS:     enqueue(self, REQUEST_Q); ASSIGN_PRIVILEGE; MAKE_REQUEST
//! on REQUEST from X:        enqueue(X, REQUEST_Q);    ASSIGN_PRIVILEGE; MAKE_REQUEST
//! on PRIVILEGE:             HOLDER ← self;            ASSIGN_PRIVILEGE; MAKE_REQUEST
//! exit the CS:              USING ← false;            ASSIGN_PRIVILEGE; MAKE_REQUEST
//! ```
//!
//! The tree is given by each node's first `HOLDER` (its parent towards node 0, which
//! holds the privilege).

use super::Textbook;
use crate::common::enumerate::Net;
use std::collections::VecDeque;

/// The paper's variables.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Node {
    pub holder: usize,
    pub using: bool,
    pub asked: bool,
    pub request_q: VecDeque<usize>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Msg {
    Request,
    Privilege,
}

/// The algorithm on the tree whose node i's parent is `parent[i]` (node 0: itself).
pub struct Raymond {
    pub parent: Vec<usize>,
}

fn assign_then_request(i: usize, s: &mut Node, net: &mut Net<Msg>) {
    if s.holder == i && !s.using {
        if let Some(head) = s.request_q.pop_front() {
            s.holder = head;
            s.asked = false;
            if head == i {
                s.using = true;
            } else {
                net.send(i, head, Msg::Privilege);
            }
        }
    }
    if s.holder != i && !s.request_q.is_empty() && !s.asked {
        net.send(i, s.holder, Msg::Request);
        s.asked = true;
    }
}

impl Textbook for Raymond {
    type Node = Node;
    type Msg = Msg;

    fn init(&self, i: usize) -> Node {
        Node { holder: self.parent[i], using: false, asked: false, request_q: VecDeque::new() }
    }

    fn request(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.request_q.push_back(i);
        assign_then_request(i, s, net);
    }

    fn receive(&self, i: usize, from: usize, m: Msg, s: &mut Node, net: &mut Net<Msg>) {
        match m {
            Msg::Request => s.request_q.push_back(from),
            Msg::Privilege => s.holder = i,
        }
        assign_then_request(i, s, net);
    }

    fn in_cs(&self, s: &Node) -> bool {
        s.using
    }

    fn release(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.using = false;
        assign_then_request(i, s, net);
    }

    fn at_rest(&self, s: &Node) -> Result<(), String> {
        if s.using || !s.request_q.is_empty() {
            return Err(format!("{s:?}"));
        }
        Ok(())
    }

    /// Exactly one privilege: at its holder or in one PRIVILEGE.
    fn invariant(&self, nodes: &[Node], net: &Net<Msg>) -> Result<(), String> {
        let held = nodes.iter().enumerate().filter(|(i, s)| s.holder == *i).count();
        let moving = net.messages().iter().filter(|m| **m == Msg::Privilege).count();
        if held + moving != 1 {
            return Err(format!("{held} held and {moving} travelling privileges"));
        }
        Ok(())
    }
}

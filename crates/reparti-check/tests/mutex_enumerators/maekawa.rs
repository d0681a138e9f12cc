//! Maekawa (ACM TOCS 3(2), 1985) with INQUIRE, RELINQUISH and FAILED, from the library
//! module's pseudo-code and its stated departures (every message but REQUEST names the
//! request it concerns, so stale ones are recognised; a process's messages to its own
//! arbiter are handled within the same step, after the step's own handler, in the order
//! posted):
//!
//! ```text
//! request:   ts = highest + 1; highest = ts; send REQUEST(ts, id) to every a ∈ Q(i)
//! arbiter, on REQUEST r:  highest = max(highest, r.ts)
//!            if unlocked: lock = r; send LOCKED to r
//!            else: waiting += r
//!                  if lock or some waiting request is older than r: send FAILED to r
//!                  else: send INQUIRE to lock's holder (once per loan);
//!                        send FAILED to each waiting request r overtook, not yet told
//! requester, on LOCKED from a:  locked += a; if locked = Q(i): enter
//!            elif a inquired ∧ knows it fails: RELINQUISH a
//! on FAILED from a:   failed += a; RELINQUISH every inquired arbiter whose lock it holds
//! on INQUIRE from a:  if in CS: ignore
//!            elif knows it fails (failed ≠ ∅ or relinquished ≠ ∅): RELINQUISH a
//!            else: remember it
//! RELINQUISH a:       locked −= a; relinquished += a; send RELINQUISH to a
//! arbiter, on RELINQUISH:  waiting += lock (knowing); lock = oldest waiting; LOCKED to it
//! release:   send RELEASE to every a ∈ Q(i)
//! arbiter, on RELEASE:     lock = oldest waiting (if any); send LOCKED to it
//! ```
//!
//! Quorums are the rows and columns of a ⌈√n⌉-wide grid, computed here again.

use super::Textbook;
use crate::common::enumerate::Net;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A request as arbiters order it: (ts, identity, position).
type Ask = (u64, u64, usize);

/// A process: its requester's half and its arbiter's half.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Node {
    pub highest: u64,
    /// The request under way.
    pub ts: Option<u64>,
    pub in_cs: bool,
    pub locked: BTreeSet<usize>,
    pub failed: BTreeSet<usize>,
    pub relinquished: BTreeSet<usize>,
    pub inquired: BTreeSet<usize>,
    /// The arbiter's lock, and whether it sent INQUIRE for this loan.
    pub lock: Option<Ask>,
    pub lock_inquired: bool,
    /// Waiting requests, oldest first, each with "it was told it must wait here".
    pub waiting: BTreeMap<Ask, bool>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Msg {
    Request { ts: u64, id: u64 },
    Locked { ts: u64 },
    Failed { ts: u64 },
    Inquire { ts: u64 },
    Relinquish { ts: u64 },
    Release { ts: u64 },
}

/// The algorithm on nodes with these identities, by position.
pub struct Maekawa {
    pub idents: Vec<u64>,
}

/// One step's sending: remote messages into the network, those to itself kept in order.
struct Out<'a> {
    me: usize,
    net: &'a mut Net<Msg>,
    local: VecDeque<Msg>,
}

impl Out<'_> {
    fn send(&mut self, to: usize, m: Msg) {
        if to == self.me {
            self.local.push_back(m);
        } else {
            self.net.send(self.me, to, m);
        }
    }
}

impl Maekawa {
    /// Row and column of node i in the grid of width ⌈√n⌉.
    pub fn quorum(&self, i: usize) -> BTreeSet<usize> {
        let n = self.idents.len();
        let w = (1..=n).find(|w| w * w >= n).unwrap_or(1);
        (0..n).filter(|&j| j / w == i / w || j % w == i % w).collect()
    }

    fn handle(&self, s: &mut Node, from: usize, m: Msg, out: &mut Out<'_>) {
        let quorum = self.quorum(out.me);
        let current = |s: &Node, ts: u64| s.ts == Some(ts) && quorum.contains(&from);
        match m {
            Msg::Request { ts, id } => {
                s.highest = s.highest.max(ts);
                self.on_request(s, (ts, id, from), out);
            }
            Msg::Relinquish { ts } => {
                if let Some(lock) = s.lock.filter(|l| (l.2, l.0) == (from, ts)) {
                    s.waiting.insert(lock, true);
                    s.lock = None;
                    lend_to_oldest(s, out);
                }
            }
            Msg::Release { ts } => {
                if s.lock.is_some_and(|l| (l.2, l.0) == (from, ts)) {
                    s.lock = None;
                    lend_to_oldest(s, out);
                }
            }
            Msg::Locked { ts } if current(s, ts) && !s.in_cs => {
                s.locked.insert(from);
                s.failed.remove(&from);
                s.relinquished.remove(&from);
                if s.locked == quorum {
                    s.in_cs = true;
                    s.failed.clear();
                    s.inquired.clear();
                } else if s.inquired.contains(&from) && knows_it_fails(s) {
                    relinquish(s, from, out);
                }
            }
            Msg::Failed { ts } if current(s, ts) && !s.in_cs && !s.locked.contains(&from) => {
                s.failed.insert(from);
                let asked_back: Vec<usize> = s.inquired.intersection(&s.locked).copied().collect();
                for b in asked_back {
                    relinquish(s, b, out);
                }
            }
            Msg::Inquire { ts } if current(s, ts) && !s.in_cs => {
                s.inquired.insert(from);
                if s.locked.contains(&from) && knows_it_fails(s) {
                    relinquish(s, from, out);
                }
            }
            Msg::Locked { .. } | Msg::Failed { .. } | Msg::Inquire { .. } => {}
        }
    }

    fn on_request(&self, s: &mut Node, ask: Ask, out: &mut Out<'_>) {
        let Some(lock) = s.lock else {
            lend(s, ask, out);
            return;
        };
        let oldest = ask < lock && s.waiting.keys().next().is_none_or(|&first| ask < first);
        s.waiting.insert(ask, false);
        if !oldest {
            tell_failed(s, ask, out);
            return;
        }
        if !s.lock_inquired {
            s.lock_inquired = true;
            out.send(lock.2, Msg::Inquire { ts: lock.0 });
        }
        let overtaken: Vec<Ask> = s.waiting.iter().filter(|&(w, told)| *w > ask && !told).map(|(w, _)| *w).collect();
        for w in overtaken {
            tell_failed(s, w, out);
        }
    }

    /// Runs `first`, then the messages to itself it caused, until none is left.
    fn step(&self, i: usize, s: &mut Node, net: &mut Net<Msg>, first: impl FnOnce(&mut Node, &mut Out<'_>)) {
        let mut out = Out { me: i, net, local: VecDeque::new() };
        first(s, &mut out);
        while let Some(m) = out.local.pop_front() {
            self.handle(s, i, m, &mut out);
        }
    }
}

fn knows_it_fails(s: &Node) -> bool {
    !s.failed.is_empty() || !s.relinquished.is_empty()
}

fn relinquish(s: &mut Node, a: usize, out: &mut Out<'_>) {
    let Some(ts) = s.ts else { return };
    s.locked.remove(&a);
    s.inquired.remove(&a);
    s.relinquished.insert(a);
    out.send(a, Msg::Relinquish { ts });
}

fn lend(s: &mut Node, ask: Ask, out: &mut Out<'_>) {
    s.lock = Some(ask);
    s.lock_inquired = false;
    out.send(ask.2, Msg::Locked { ts: ask.0 });
}

fn lend_to_oldest(s: &mut Node, out: &mut Out<'_>) {
    if let Some((ask, _)) = s.waiting.pop_first() {
        lend(s, ask, out);
    }
}

fn tell_failed(s: &mut Node, ask: Ask, out: &mut Out<'_>) {
    if let Some(told) = s.waiting.get_mut(&ask) {
        if !*told {
            *told = true;
            out.send(ask.2, Msg::Failed { ts: ask.0 });
        }
    }
}

impl Textbook for Maekawa {
    type Node = Node;
    type Msg = Msg;

    fn init(&self, _: usize) -> Node {
        Node {
            highest: 0,
            ts: None,
            in_cs: false,
            locked: BTreeSet::new(),
            failed: BTreeSet::new(),
            relinquished: BTreeSet::new(),
            inquired: BTreeSet::new(),
            lock: None,
            lock_inquired: false,
            waiting: BTreeMap::new(),
        }
    }

    fn request(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        s.highest += 1;
        let ts = s.highest;
        s.ts = Some(ts);
        let id = self.idents[i];
        self.step(i, s, net, |_, out| {
            for a in self.quorum(i) {
                out.send(a, Msg::Request { ts, id });
            }
        });
    }

    fn receive(&self, i: usize, from: usize, m: Msg, s: &mut Node, net: &mut Net<Msg>) {
        self.step(i, s, net, |s, out| self.handle(s, from, m, out));
    }

    fn in_cs(&self, s: &Node) -> bool {
        s.in_cs
    }

    fn release(&self, i: usize, s: &mut Node, net: &mut Net<Msg>) {
        let ts = s.ts.take().expect("in the CS with a request");
        s.in_cs = false;
        s.locked.clear();
        s.failed.clear();
        s.relinquished.clear();
        s.inquired.clear();
        self.step(i, s, net, |_, out| {
            for a in self.quorum(i) {
                out.send(a, Msg::Release { ts });
            }
        });
    }

    fn at_rest(&self, s: &Node) -> Result<(), String> {
        if s.ts.is_some() || s.highest == 0 || s.lock.is_some() || !s.waiting.is_empty() {
            return Err(format!("{s:?}"));
        }
        Ok(())
    }
}

//! The arbiter's half of a Maekawa process: one lock, lent to one request at a time, and
//! the requests waiting for it in priority order.
//!
//! Every process is the arbiter of the quorums it belongs to. The arbiter only answers
//! messages; what it sends is returned to the process, which routes it (to itself
//! without a message, when the requester is the process itself).

use super::{Form, Msg};
use reparti_core::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A request as arbiters order it: by timestamp, then identity (then position, which
/// only matters if two processes were given the same identity).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Ask {
    /// The requester's timestamp.
    pub ts: u64,
    /// The requester's identity.
    pub id: u64,
    /// The requester's position.
    pub node: NodeId,
}

/// What the arbiter sends, in order: `(to, message)`.
pub type Sends = Vec<(NodeId, Msg)>;

/// One arbiter: its lock and its queue.
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Arbiter {
    /// The request the lock is lent to (its LOCKED may still be on its way).
    pub lock: Option<Ask>,
    /// An INQUIRE went to the lock's holder for this loan (at most one per loan).
    pub inquired: bool,
    /// The waiting requests, highest priority first, each with whether its requester
    /// knows it must wait here (it was sent FAILED, or it relinquished this lock).
    pub waiting: BTreeMap<Ask, bool>,
}

impl Arbiter {
    /// A REQUEST: lock for it if free; else queue it and, in the forms with INQUIRE,
    /// tell it FAILED if an older request is ahead of it here, or ask the holder to
    /// give the lock back if it is the oldest here.
    pub fn on_request(&mut self, ask: Ask, form: Form, sends: &mut Sends) {
        let Some(lock) = self.lock else {
            self.lend(ask, sends);
            return;
        };
        if lock == ask || self.waiting.contains_key(&ask) {
            return; // a duplicate: already here
        }
        let oldest = ask < lock && self.waiting.keys().next().is_none_or(|&first| ask < first);
        self.waiting.insert(ask, false);
        if form == Form::Basic {
            return;
        }
        if !oldest {
            self.tell_failed(ask, sends);
            return;
        }
        if !self.inquired {
            self.inquired = true;
            sends.push((lock.node, Msg::Inquire { ts: lock.ts }));
        }
        if form == Form::Inquire {
            // A request this one overtook was told nothing when it came (it was the
            // oldest then): now it waits behind an older one and must know it, or it
            // keeps the locks it holds elsewhere against an INQUIRE (the deadlock of
            // `form=arrival-failed`).
            let overtaken: Vec<Ask> =
                self.waiting.iter().filter(|&(w, told)| *w > ask && !told).map(|(w, _)| *w).collect();
            for w in overtaken {
                self.tell_failed(w, sends);
            }
        }
    }

    /// A RELINQUISH from the holder of `ts`: its request waits again (knowing it), and
    /// the lock goes to the oldest waiting request. False if it does not match the lock.
    pub fn on_relinquish(&mut self, from: NodeId, ts: u64, sends: &mut Sends) -> bool {
        match self.lock {
            Some(lock) if lock.node == from && lock.ts == ts => {
                self.lock = None;
                self.waiting.insert(lock, true);
                self.lend_to_oldest(sends);
                true
            }
            _ => false,
        }
    }

    /// A RELEASE from the holder of `ts`: the lock goes to the oldest waiting request.
    /// False if it does not match the lock.
    pub fn on_release(&mut self, from: NodeId, ts: u64, sends: &mut Sends) -> bool {
        match self.lock {
            Some(lock) if lock.node == from && lock.ts == ts => {
                self.lock = None;
                self.lend_to_oldest(sends);
                true
            }
            _ => false,
        }
    }

    /// Locked, or requests waiting: not at rest.
    pub fn busy(&self) -> bool {
        self.lock.is_some() || !self.waiting.is_empty()
    }

    fn lend(&mut self, ask: Ask, sends: &mut Sends) {
        self.lock = Some(ask);
        self.inquired = false;
        sends.push((ask.node, Msg::Locked { ts: ask.ts }));
    }

    fn lend_to_oldest(&mut self, sends: &mut Sends) {
        if let Some((ask, _)) = self.waiting.pop_first() {
            self.lend(ask, sends);
        }
    }

    fn tell_failed(&mut self, ask: Ask, sends: &mut Sends) {
        if let Some(told) = self.waiting.get_mut(&ask) {
            if !*told {
                *told = true;
                sends.push((ask.node, Msg::Failed { ts: ask.ts }));
            }
        }
    }
}

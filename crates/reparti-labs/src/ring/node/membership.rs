//! The registry ring's membership (TP4 exercise 3): a node's neighbours come from the
//! registry file, and a node leaves without losing the token.
//!
//! **What.** The driver reads the registry ([`crate::ring::from_registry::watch`]) and
//! hands every new reading to [`RingNode::handle`] as [`super::Event::Members`]; the
//! node takes its predecessor and successor from it (by port, round the ring). A holder
//! whose successor changes sends the token to the new one; a node that joins is spliced
//! in by its neighbours' next reading, without a token of its own.
//!
//! **Leaving** (`quit`, Ctrl-C): the node asks its driver to remove its line
//! ([`super::Effect::Deregister`]), passes the token on if it holds it, and says `LEAVE`
//! to every member left in the registry, repeated until each answers `LEAVE_OK` (or is
//! no longer listed). Not only to its predecessor: a member that has not read the file
//! since a join still takes the leaving node for its successor. A member that hears
//! `LEAVE` forgets the node at once (and keeps forgetting it in readings made before the
//! line was removed), so after its `LEAVE_OK` nothing more comes from it; whatever it
//! sent before (a token already on its way) arrives first — one socket to one socket
//! on the same host keeps its order — and is passed on. Then the node stops.
//!
//! **Pitfalls.** A node that is killed cannot pass the token on: see
//! [`crate::ring::from_registry`] for its line (dropped by the next reading, as nobody
//! holds its port); a token it held, or that was on its way to it, is lost with it, and
//! the ring goes on without one. Two neighbours leaving at the same instant may lose a
//! token in flight between them: leave one at a time.

use super::{Effect, Level, RingNode};
use crate::ring::from_registry::{neighbours, render, ring_order};
use crate::ring::wire::{Port, RingMessage};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

/// The first wait before `LEAVE` is said again; doubled up to [`LEAVE_MAX`].
const LEAVE_FIRST: Duration = Duration::from_millis(100);
const LEAVE_MAX: Duration = Duration::from_secs(1);

/// How long a leaving node waits for its predecessor's `LEAVE_OK` before it stops
/// anyway (the predecessor was killed): generous, a loaded machine is slow.
const LEAVE_PATIENCE: Duration = Duration::from_secs(10);

/// A node on its way out.
#[derive(Debug)]
pub(super) struct Leaving {
    /// The members told `LEAVE` that have not answered yet (nor left the registry).
    pub(super) awaiting: BTreeSet<SocketAddr>,
    /// Every member answered: the node may stop.
    pub(super) done: bool,
    next_try: Duration,
    wait: Duration,
    give_up_at: Duration,
}

impl RingNode {
    /// A reading of the registry: the members, in ring order.
    pub(super) fn members_read(&mut self, members: &[SocketAddr]) {
        if self.setup.predecessor.is_some() {
            return; // TP3's ring is told its predecessor.
        }
        // A departed node stays hidden while readings made before its line went still
        // list it; once one does not, a later line of that address is a new node.
        self.departed.retain(|d| members.contains(d));
        let me = self.setup.addr;
        let mut ring: Vec<SocketAddr> = members.iter().copied().filter(|m| !self.departed.contains(m)).collect();
        if self.leaving.is_some() {
            ring.retain(|m| *m != me);
        } else if !ring.contains(&me) {
            // Our line went (the file was edited): we still are in the ring we know.
            ring.push(me);
        }
        let ring = ring_order(ring);
        if let Some(leaving) = &mut self.leaving {
            // Gone from the file: left (and told by us before it went), or killed.
            leaving.awaiting.retain(|a| members.contains(a));
        }
        if ring != self.members {
            self.members = ring;
            self.rewire();
        }
        self.maybe_done();
    }

    /// Our line is removed: pass the token on, tell our predecessor, then stop.
    pub(super) fn deregistered(&mut self, members: &[SocketAddr]) {
        self.say(Level::Info, "left the registry: the token, if here, goes on; telling the others".into());
        let now = self.now;
        let me = self.setup.addr;
        let ring: Vec<SocketAddr> =
            members.iter().copied().filter(|m| *m != me && !self.departed.contains(m)).collect();
        let awaiting: BTreeSet<SocketAddr> = ring.iter().copied().collect();
        let leaving =
            Leaving { awaiting, done: false, next_try: now, wait: LEAVE_FIRST, give_up_at: now + LEAVE_PATIENCE };
        self.leaving = Some(leaving);
        // The last node keeps the token: the ring ends with it.
        self.release_pending = self.has_token && !ring.is_empty();
        self.release_at = None;
        self.members = ring_order(ring);
        self.rewire();
        self.leave_tick(now);
        self.maybe_done();
    }

    /// `LEAVE` from `from` at `src`: forget it, answer (every time: a repeat means our
    /// answer was lost).
    pub(super) fn leave_heard(&mut self, from: Port, src: SocketAddr) {
        self.departed.insert(src);
        self.send_now(src, from, RingMessage::LeaveOk);
        if self.members.contains(&src) {
            self.members.retain(|m| *m != src);
            self.say(Level::Info, format!("{from} leaves the ring"));
            self.rewire();
        }
    }

    /// `LEAVE_OK` from `src`: one member fewer to wait for.
    pub(super) fn leave_answered(&mut self, src: SocketAddr) {
        let Some(leaving) = &mut self.leaving else { return };
        if leaving.awaiting.remove(&src) {
            self.maybe_done();
        }
    }

    /// Every member told has answered (or gone): stop.
    fn maybe_done(&mut self) {
        let Some(leaving) = &mut self.leaving else { return };
        if leaving.done || !leaving.awaiting.is_empty() {
            return;
        }
        leaving.done = true;
        self.say(Level::Info, "nothing more comes to this node: stopping".into());
        self.out.push(Effect::Quit);
    }

    /// Says (again) `LEAVE` to those that have not answered, or gives up on them.
    pub(super) fn leave_tick(&mut self, now: Duration) {
        let Some(leaving) = &mut self.leaving else { return };
        if leaving.done || now < leaving.next_try.min(leaving.give_up_at) {
            return;
        }
        if now >= leaving.give_up_at {
            // Unanswered: the report says what that may have cost.
            leaving.done = true;
            self.out.push(Effect::Quit);
            return;
        }
        leaving.next_try = now + leaving.wait;
        leaving.wait = (leaving.wait * 2).min(LEAVE_MAX);
        let awaiting: Vec<SocketAddr> = leaving.awaiting.iter().copied().collect();
        for addr in awaiting {
            self.send_now(addr, addr.port(), RingMessage::Leave);
        }
    }

    /// When [`RingNode::leave_tick`] has something to do.
    pub(super) fn leave_wakeup(&self) -> Option<Duration> {
        let leaving = self.leaving.as_ref().filter(|l| !l.done)?;
        Some(leaving.next_try.min(leaving.give_up_at))
    }

    /// The members changed: takes the neighbours from them, says the ring as it is now
    /// (also when only a far part of it changed), sends what waits.
    fn rewire(&mut self) {
        let me = self.setup.addr;
        let found = neighbours(&self.members, me);
        self.predecessor = found.map(|n| (n.predecessor.port(), n.predecessor));
        self.successor = found.map(|n| (n.successor.port(), n.successor));
        // Alone, the line below says that the token waits: once is enough.
        self.told_waiting = found.is_none();
        let line = match (found, self.leaving.is_some()) {
            (Some(n), false) => format!(
                "ring {}: predecessor {}, successor {}",
                render(&self.members),
                n.predecessor.port(),
                n.successor.port()
            ),
            (Some(n), true) => {
                format!("ring without this node {}: passing on to {}", render(&self.members), n.successor.port())
            }
            (None, false) => {
                "alone in the ring: the token, if here, and what we send wait until another node registers".to_string()
            }
            (None, true) => "the last node of the ring leaves".to_string(),
        };
        self.say(Level::Info, line);
        self.flush();
    }
}

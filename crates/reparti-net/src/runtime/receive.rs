//! Receiving: every datagram or frame is opened (with a key), decoded and checked before
//! anything reaches the algorithm; acknowledgements go to the reliable layer, messages
//! through it (acknowledged, deduplicated, reordered when FIFO) or straight to delivery.
//!
//! The checks, in order: the seal (with a key), the encoding, the sender (a node of the
//! run), the destination (this node), the run (with a run identity), and the source
//! address (the sender's registered one, [`super::peers`]). The first that fails names
//! the drop's reason.

use super::node::{Carried, Runner};
use super::report::DropReason;
use super::Msg;
use crate::secure;
use crate::transport::Origin;
use crate::wire::{self, Datagram, Envelope, RunId};
use reparti_core::trace::EventKind;
use reparti_core::{Algorithm, NodeId};
use std::borrow::Cow;

impl<A: Algorithm> Runner<'_, A> {
    /// Opens, decodes and checks one datagram, then delivers it or drops it; true if it
    /// was of this run (delivered, a duplicate, or an acknowledgement), false if refused.
    pub(super) fn datagram(&mut self, bytes: &[u8], origin: Origin) -> bool {
        self.datagram_at(bytes, origin, std::time::Instant::now())
    }

    /// [`datagram`](Self::datagram), taken in at `at` (a driver that has just read the
    /// clock need not read it again).
    pub(super) fn datagram_at(&mut self, bytes: &[u8], origin: Origin, at: std::time::Instant) -> bool {
        self.moment = Some(at);
        let kept = self.datagram_at_moment(bytes, origin);
        self.moment = None;
        kept
    }

    fn datagram_at_moment(&mut self, bytes: &[u8], origin: Origin) -> bool {
        let plain = match &self.cfg.key {
            Some(key) => match secure::open(key, bytes, self.cfg.ttl) {
                Ok(plain) => {
                    self.peers.opened(origin);
                    Cow::Owned(plain)
                }
                Err(e) => {
                    self.peers.failed(origin);
                    return self.drop_datagram(DropReason::Crypto, origin, None, &e);
                }
            },
            None => Cow::Borrowed(bytes),
        };
        let (datagram, run): (Datagram<Msg<A>>, Option<RunId>) = match wire::decode_with_run(&plain) {
            Ok(d) => d,
            Err(e) => return self.drop_datagram(DropReason::Wire, origin, None, &e),
        };
        match datagram {
            Datagram::Ack(ack) => {
                let (from, to) = self.relabel(ack.from, ack.to);
                if !self.check_ends(from, to, run.as_ref(), origin) {
                    return false;
                }
                if let Some(reliable) = &mut self.reliable {
                    let now = self.moment.unwrap_or_else(std::time::Instant::now);
                    reliable.ack(from.index(), ack.upto, now);
                    self.poll_reliable();
                }
            }
            Datagram::Message(mut env) => {
                (env.from, env.to) = self.relabel(env.from, env.to);
                if !self.check_ends(env.from, env.to, run.as_ref(), origin) {
                    return false;
                }
                // Only a vector we keep is merged; `clock::merge` zips, so a stamp of the
                // wrong length would be half merged: refuse it instead.
                if let (Some(_), Some(vc)) = (&self.vector, &env.vc) {
                    if vc.len() != self.n {
                        let why = format!("a vector clock of {} entries for {} nodes", vc.len(), self.n);
                        return self.drop_datagram(DropReason::Wire, origin, Some(env.from), &why);
                    }
                }
                self.accept(env);
            }
        }
        true
    }

    /// A checked message: through the reliable layer when it is on and the sender
    /// numbered it, else delivered at once.
    fn accept(&mut self, env: Envelope<Msg<A>>) {
        let (Some(reliable), Some(seq)) = (&mut self.reliable, env.seq) else {
            return self.deliver(env);
        };
        let from = env.from.index();
        let now = self.moment.unwrap_or_else(std::time::Instant::now);
        let mut ready = std::mem::take(&mut self.reliable_ready);
        reliable.receive_into(from, seq, Carried::In(env), now, &mut ready);
        let polls = self.reliable_polls;
        for (_, carried) in ready.drain(..) {
            if let Carried::In(env) = carried {
                self.deliver(env);
            }
        }
        self.reliable_ready = ready;
        // The acknowledgement is owed even when nothing was delivered (a duplicate); a
        // handler that ran has polled already, after the receipt.
        if self.reliable_polls == polls {
            self.poll_reliable();
        }
    }

    /// In a lab ring, every message is taken as coming from the one predecessor.
    fn relabel(&self, from: NodeId, to: NodeId) -> (NodeId, NodeId) {
        match self.cfg.incoming_from {
            Some(pred) => (pred, self.me),
            None => (from, to),
        }
    }

    /// Refuses (and counts) a datagram from outside the run, meant for another node, of
    /// another run, or from an address its sender does not send from.
    fn check_ends(&mut self, from: NodeId, to: NodeId, run: Option<&RunId>, origin: Origin) -> bool {
        if from.index() >= self.n {
            let why = format!("sender {from} is not a node of this run (0..{})", self.n);
            return self.drop_datagram(DropReason::UnknownSender, origin, Some(from), &why);
        }
        if to != self.me {
            let why = format!("addressed to node {to}, not to this node: check the address list");
            return self.drop_datagram(DropReason::WrongDestination, origin, Some(from), &why);
        }
        if let Some(ours) = &self.cfg.run_id {
            if run != Some(ours) {
                let why = match run {
                    Some(theirs) => format!("it belongs to run {theirs}, not to this run ({ours}): a replay, or a node of an earlier run still sending"),
                    None => format!("it names no run, and this node only accepts run {ours}: start every node with the same --run-id"),
                };
                return self.drop_datagram(DropReason::AnotherRun, origin, Some(from), &why);
            }
        }
        // A lab ring knows only its predecessor's port, and relabels whatever comes.
        if self.cfg.incoming_from.is_none() {
            if let Some(why) = self.peers.misfit(from, origin) {
                let why = format!("{why}: forged, or that node is registered under another address");
                return self.drop_datagram(DropReason::WrongSource, origin, Some(from), &why);
            }
        }
        true
    }

    /// Counts, says (within bounds) and traces (the first few in full) a refused datagram;
    /// false, for the caller to return.
    fn drop_datagram(
        &mut self,
        reason: DropReason,
        origin: Origin,
        from: Option<NodeId>,
        why: &dyn std::fmt::Display,
    ) -> bool {
        self.refusals.refuse(self.me, reason, origin.addr, why);
        if self.trace.as_mut().is_some_and(|t| t.refusal_in_full(reason)) {
            let (lamport, vc, me) = (self.lamport, self.vector.clone(), self.me.0);
            self.trace_with(EventKind::Drop, lamport, vc, |e| {
                e.from = from.map(|f| f.0);
                e.to = Some(me);
                e.reason = Some(reason.name().to_string());
            });
        }
        false
    }
}

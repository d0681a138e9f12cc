//! Receiving: every datagram or frame is opened (with a key), decoded and checked before
//! anything reaches the algorithm; acknowledgements go to the reliable layer, messages
//! through it (acknowledged, deduplicated, reordered when FIFO) or straight to delivery.

use super::node::{Carried, Runner};
use super::report::DropReason;
use super::Msg;
use crate::secure;
use crate::wire::{self, Datagram, Envelope};
use reparti_core::trace::EventKind;
use reparti_core::{Algorithm, NodeId};
use std::borrow::Cow;
use std::net::SocketAddr;

impl<A: Algorithm> Runner<'_, A> {
    /// Opens, decodes and checks one datagram, then delivers it or drops it.
    pub(super) fn datagram(&mut self, bytes: &[u8], peer: SocketAddr) {
        let plain = match &self.cfg.key {
            Some(key) => match secure::open(key, bytes, self.cfg.ttl) {
                Ok(plain) => Cow::Owned(plain),
                Err(e) => return self.drop_datagram(DropReason::Crypto, peer, None, &e),
            },
            None => Cow::Borrowed(bytes),
        };
        let datagram: Datagram<Msg<A>> = match wire::decode_datagram(&plain) {
            Ok(d) => d,
            Err(e) => return self.drop_datagram(DropReason::Wire, peer, None, &e),
        };
        match datagram {
            Datagram::Ack(ack) => {
                let (from, to) = self.relabel(ack.from, ack.to);
                if !self.check_ends(from, to, peer) {
                    return;
                }
                if let Some(reliable) = &mut self.reliable {
                    reliable.ack(from.index(), ack.upto, std::time::Instant::now());
                    self.poll_reliable();
                }
            }
            Datagram::Message(mut env) => {
                (env.from, env.to) = self.relabel(env.from, env.to);
                if !self.check_ends(env.from, env.to, peer) {
                    return;
                }
                // Only a vector we keep is merged; `clock::merge` zips, so a stamp of the
                // wrong length would be half merged: refuse it instead.
                if let (Some(_), Some(vc)) = (&self.vector, &env.vc) {
                    if vc.len() != self.n {
                        let why = format!("a vector clock of {} entries for {} nodes", vc.len(), self.n);
                        return self.drop_datagram(DropReason::Wire, peer, Some(env.from), &why);
                    }
                }
                self.accept(env);
            }
        }
    }

    /// A checked message: through the reliable layer when it is on and the sender
    /// numbered it, else delivered at once.
    fn accept(&mut self, env: Envelope<Msg<A>>) {
        let (Some(reliable), Some(seq)) = (&mut self.reliable, env.seq) else {
            return self.deliver(env);
        };
        let from = env.from.index();
        let ready = reliable.receive(from, seq, Carried::In(env), std::time::Instant::now());
        for (_, carried) in ready {
            if let Carried::In(env) = carried {
                self.deliver(env);
            }
        }
        // The acknowledgement is owed even when nothing was delivered (a duplicate).
        self.poll_reliable();
    }

    /// In a lab ring, every message is taken as coming from the one predecessor.
    fn relabel(&self, from: NodeId, to: NodeId) -> (NodeId, NodeId) {
        match self.cfg.incoming_from {
            Some(pred) => (pred, self.me),
            None => (from, to),
        }
    }

    /// Refuses (and counts) a datagram from outside the run or meant for another node.
    fn check_ends(&mut self, from: NodeId, to: NodeId, peer: SocketAddr) -> bool {
        if from.index() >= self.n {
            let why = format!("sender {from} is not a node of this run (0..{})", self.n);
            self.drop_datagram(DropReason::UnknownSender, peer, Some(from), &why);
            return false;
        }
        if to != self.me {
            let why = format!("addressed to node {to}, not to this node: check the address list");
            self.drop_datagram(DropReason::WrongDestination, peer, Some(from), &why);
            return false;
        }
        true
    }

    fn drop_datagram(
        &mut self,
        reason: DropReason,
        peer: SocketAddr,
        from: Option<NodeId>,
        why: &dyn std::fmt::Display,
    ) {
        reason.count(&mut self.dropped);
        tracing::warn!("reparti node {}: dropped a datagram from {peer}: {why}", self.me);
        let (lamport, vc, me) = (self.lamport, self.vector.clone(), self.me.0);
        self.trace_with(EventKind::Drop, lamport, vc, |e| {
            e.from = from.map(|f| f.0);
            e.to = Some(me);
            e.reason = Some(reason.name().to_string());
        });
    }
}

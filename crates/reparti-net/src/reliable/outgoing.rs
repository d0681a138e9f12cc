//! The sending half of one channel me → peer: numbering, the window of messages in
//! flight, retransmission timeouts with exponential backoff, and giving up.
//!
//! Every call costs O(1) amortized while nothing is lost, however full the window: a
//! stream keeps thousands of messages in flight, and a poll or an acknowledgement that
//! walked all of them made the sender slower the further ahead it got (a plaintext
//! stream ran slower than an encrypted one, whose sender never got that far ahead).
//! Without a retransmission, the messages on the wire are due in `seq` order (each
//! `initial_rto` after its only transmission), so the front one is the earliest; once
//! one is retransmitted, its backoff breaks that order, and the channel walks its window
//! until every message then in flight is acknowledged.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Outgoing, ReliableConfig, ReliableStats};

/// A message admitted into the window and not yet acknowledged.
#[derive(Debug)]
struct InFlight<P> {
    seq: u64,
    payload: P,
    /// When `poll` must transmit it (first time or again).
    due: Instant,
    /// The wait after its latest transmission: `initial_rto` after the first, doubled
    /// (up to `max_rto`) at each retransmission.
    rto: Duration,
    /// Retransmissions since the channel last made progress.
    retransmissions: u32,
}

/// One outgoing channel.
#[derive(Debug)]
pub(super) struct OutChannel<P> {
    /// The `seq` the next message gets.
    next_seq: u64,
    /// Every `seq` up to this is acknowledged.
    acked_upto: u64,
    /// The highest `seq` put on the wire: an acknowledgement beyond it is bogus.
    highest_transmitted: u64,
    /// Admitted messages, in `seq` order, at most `max_in_flight`: the first
    /// `transmitted` have been on the wire, the others are owed their first transmission.
    in_flight: VecDeque<InFlight<P>>,
    /// How many of `in_flight`, from the front, have been on the wire.
    transmitted: usize,
    /// Whether every message of `in_flight` is due no earlier than the one before it
    /// (see the module's notes): the front of each part is then its earliest.
    ordered: bool,
    /// Numbered messages held back by a full window, in `seq` order, after `in_flight`.
    held_back: VecDeque<(u64, P)>,
    /// The earliest `due` in `in_flight`, so that polls and deadlines need not scan it.
    earliest_due: Option<Instant>,
    failed: bool,
}

impl<P: Clone> OutChannel<P> {
    pub(super) fn new() -> Self {
        OutChannel {
            next_seq: 1,
            acked_upto: 0,
            highest_transmitted: 0,
            in_flight: VecDeque::new(),
            transmitted: 0,
            ordered: true,
            held_back: VecDeque::new(),
            earliest_due: None,
            failed: false,
        }
    }

    /// Numbers and keeps a message; `Err` hands it back if the channel has failed.
    pub(super) fn send(&mut self, payload: P, now: Instant, cfg: &ReliableConfig) -> Result<u64, P> {
        if self.failed {
            return Err(payload);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        // Behind messages already held back, even if the window has room, to keep seq order.
        if self.held_back.is_empty() && self.in_flight.len() < cfg.max_in_flight {
            self.admit(seq, payload, now, cfg);
        } else {
            self.held_back.push_back((seq, payload));
        }
        Ok(seq)
    }

    fn admit(&mut self, seq: u64, payload: P, now: Instant, cfg: &ReliableConfig) {
        self.in_flight.push_back(InFlight { seq, payload, due: now, rto: cfg.initial_rto, retransmissions: 0 });
        // Owed its first transmission: the earliest of those is the first of them.
        let first = self.in_flight.get(self.transmitted).map_or(now, |message| message.due);
        self.earliest_due = Some(self.earliest_due.map_or(first, |due| due.min(first)));
    }

    pub(super) fn ack(&mut self, upto: u64, now: Instant, cfg: &ReliableConfig, stats: &mut ReliableStats) {
        if upto > self.highest_transmitted {
            stats.bad_acks += 1;
            return;
        }
        stats.acks_received += 1;
        if upto <= self.acked_upto {
            return;
        }
        self.acked_upto = upto;
        // Up to `highest_transmitted`, every message has been on the wire.
        while self.in_flight.front().is_some_and(|message| message.seq <= upto) {
            self.in_flight.pop_front();
            self.transmitted = self.transmitted.saturating_sub(1);
        }
        // Progress shows the peer alive and the path working: what is still unacknowledged
        // was more likely lost than the peer gone, so its backoff starts over. (Ordered,
        // nothing was retransmitted: each message is due `initial_rto` after its only
        // transmission, no later than that already.)
        if !self.ordered {
            let soon = now + cfg.initial_rto;
            for message in self.in_flight.iter_mut().take(self.transmitted) {
                message.rto = cfg.initial_rto;
                message.retransmissions = 0;
                message.due = message.due.min(soon);
            }
        }
        if self.transmitted == 0 {
            self.ordered = true;
        }
        while self.in_flight.len() < cfg.max_in_flight {
            let Some((seq, payload)) = self.held_back.pop_front() else { break };
            self.admit(seq, payload, now, cfg);
        }
        self.recompute_earliest();
    }

    /// Appends to `out` everything due at `now` on the channel to `peer`.
    pub(super) fn poll(
        &mut self,
        peer: usize,
        now: Instant,
        cfg: &ReliableConfig,
        stats: &mut ReliableStats,
        out: &mut Vec<Outgoing<P>>,
    ) {
        match self.earliest_due {
            Some(due) if due <= now => {}
            _ => return,
        }
        // The messages on the wire that may be due: ordered, a run from the front.
        let on_wire = if self.ordered {
            self.in_flight.iter().take(self.transmitted).take_while(|message| message.due <= now).count()
        } else {
            self.transmitted
        };
        // Checked before retransmitting anything, so that a failing channel does not hand
        // out retransmissions and then give the same messages up.
        let exhausted = |message: &InFlight<P>| {
            message.due <= now && cfg.give_up_after.is_some_and(|limit| message.retransmissions >= limit)
        };
        if self.in_flight.iter().take(on_wire).any(exhausted) {
            self.fail(peer, stats, out);
            return;
        }
        for message in self.in_flight.iter_mut().take(on_wire).filter(|message| message.due <= now) {
            message.retransmissions += 1;
            message.rto = message.rto.saturating_mul(2).min(cfg.max_rto);
            message.due = now + message.rto;
            stats.retransmitted += 1;
            out.push(Outgoing::Retransmit { to: peer, seq: message.seq, payload: message.payload.clone() });
            // Backed off, it is now due out of `seq` order.
            self.ordered = false;
        }
        // First transmissions, in `seq` order (each is due from its admission).
        let due = now + cfg.initial_rto;
        while let Some(message) = self.in_flight.get_mut(self.transmitted) {
            if message.due > now {
                break;
            }
            message.due = due;
            let (seq, payload) = (message.seq, message.payload.clone());
            let before = self.transmitted.checked_sub(1).and_then(|i| self.in_flight.get(i));
            if before.is_some_and(|before| before.due > due) {
                self.ordered = false;
            }
            self.transmitted += 1;
            self.highest_transmitted = self.highest_transmitted.max(seq);
            stats.sent += 1;
            out.push(Outgoing::Transmit { to: peer, seq, payload });
        }
        self.recompute_earliest();
    }

    /// The earliest `due` in `in_flight`: of the messages on the wire, the first when
    /// ordered, else found by walking them; of the others, the first.
    fn recompute_earliest(&mut self) {
        let on_wire = self.in_flight.iter().take(self.transmitted);
        let on_wire = if self.ordered { on_wire.map(|m| m.due).next() } else { on_wire.map(|m| m.due).min() };
        let first = self.in_flight.get(self.transmitted).map(|m| m.due);
        self.earliest_due = on_wire.into_iter().chain(first).min();
    }

    /// Gives up every message of the channel and refuses later ones.
    fn fail(&mut self, peer: usize, stats: &mut ReliableStats, out: &mut Vec<Outgoing<P>>) {
        self.failed = true;
        self.earliest_due = None;
        self.transmitted = 0;
        self.ordered = true;
        let in_flight = self.in_flight.drain(..).map(|message| (message.seq, message.payload));
        for (seq, payload) in in_flight.chain(self.held_back.drain(..)) {
            stats.given_up += 1;
            out.push(Outgoing::GaveUp { to: peer, seq, payload });
        }
    }
}

impl<P> OutChannel<P> {
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.earliest_due
    }

    pub(super) fn is_empty(&self) -> bool {
        self.in_flight.is_empty() && self.held_back.is_empty()
    }

    pub(super) fn pending(&self) -> usize {
        self.in_flight.len() + self.held_back.len()
    }

    pub(super) fn has_failed(&self) -> bool {
        self.failed
    }
}

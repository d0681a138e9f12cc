//! The sending half of one channel me → peer: numbering, the window of messages in
//! flight, retransmission timeouts with exponential backoff, and giving up.

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
    /// Not yet on the wire: `poll` owes its first transmission.
    fresh: bool,
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
    /// Admitted messages, in `seq` order, at most `max_in_flight`.
    in_flight: VecDeque<InFlight<P>>,
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
        self.in_flight.push_back(InFlight {
            seq,
            payload,
            due: now,
            rto: cfg.initial_rto,
            retransmissions: 0,
            fresh: true,
        });
        self.earliest_due = Some(self.earliest_due.map_or(now, |due| due.min(now)));
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
        while self.in_flight.front().is_some_and(|message| message.seq <= upto) {
            self.in_flight.pop_front();
        }
        // Progress shows the peer alive and the path working: what is still unacknowledged
        // was more likely lost than the peer gone, so its backoff starts over.
        let soon = now + cfg.initial_rto;
        for message in self.in_flight.iter_mut().filter(|message| !message.fresh) {
            message.rto = cfg.initial_rto;
            message.retransmissions = 0;
            message.due = message.due.min(soon);
        }
        while self.in_flight.len() < cfg.max_in_flight {
            let Some((seq, payload)) = self.held_back.pop_front() else { break };
            self.admit(seq, payload, now, cfg);
        }
        self.earliest_due = self.in_flight.iter().map(|message| message.due).min();
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
        // Checked before retransmitting anything, so that a failing channel does not hand
        // out retransmissions and then give the same messages up.
        let exhausted = |message: &InFlight<P>| {
            !message.fresh
                && message.due <= now
                && cfg.give_up_after.is_some_and(|limit| message.retransmissions >= limit)
        };
        if self.in_flight.iter().any(exhausted) {
            self.fail(peer, stats, out);
            return;
        }
        for message in self.in_flight.iter_mut().filter(|message| message.due <= now) {
            let payload = message.payload.clone();
            if message.fresh {
                message.fresh = false;
                self.highest_transmitted = self.highest_transmitted.max(message.seq);
                stats.sent += 1;
                out.push(Outgoing::Transmit { to: peer, seq: message.seq, payload });
            } else {
                message.retransmissions += 1;
                message.rto = message.rto.saturating_mul(2).min(cfg.max_rto);
                stats.retransmitted += 1;
                out.push(Outgoing::Retransmit { to: peer, seq: message.seq, payload });
            }
            message.due = now + message.rto;
        }
        self.earliest_due = self.in_flight.iter().map(|message| message.due).min();
    }

    /// Gives up every message of the channel and refuses later ones.
    fn fail(&mut self, peer: usize, stats: &mut ReliableStats, out: &mut Vec<Outgoing<P>>) {
        self.failed = true;
        self.earliest_due = None;
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

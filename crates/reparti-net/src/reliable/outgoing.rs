//! The sending half of one channel me → peer: numbering, a congestion window, one
//! retransmission timer whose timeout follows the measured round trip, fast
//! retransmission, and giving up.
//!
//! It is TCP's NewReno counted in messages (RFC 5681, RFC 6582, RFC 6298), over the
//! cumulative acknowledgements of `docs/PROTOCOL.md`:
//! - **The window** is the smaller of `max_in_flight` (what the receiver accepts) and a
//!   congestion window that starts at [`INITIAL_WINDOW`], grows by one per message
//!   acknowledged (slow start) up to a threshold, then by one per window's worth, and is
//!   halved on a loss. A sender that put its whole `max_in_flight` on the wire at once
//!   overflowed the receiver's socket buffer on one machine, lost most of the burst, and
//!   after the timeout sent it all again into the same overflow: a plaintext stream ran
//!   slower than an encrypted one, whose sealing paced the sender.
//! - **Three duplicate acknowledgements** (the receiver saw later messages but not the
//!   next one) retransmit the first unacknowledged message at once and halve the window;
//!   until every message sent before that is acknowledged, each acknowledgement that
//!   makes progress without covering them retransmits the next hole (NewReno's partial
//!   acknowledgements).
//! - **One timer**, for the oldest message on the wire. When it expires, that message is
//!   sent again, the window falls to one and the sender goes back over the messages after
//!   it as the window reopens (the receiver keeps what arrived out of order, so its
//!   acknowledgement then jumps over them). The timeout doubles at each expiry without
//!   progress, up to `max_rto`.
//! - **The timeout** is `initial_rto` until a round trip is measured, then the smoothed
//!   round trip plus four times its variation (RFC 6298), never below `min_rto`; an
//!   acknowledgement covering a message sent more than once gives no sample (Karn's
//!   rule, Karn and Partridge 1987: it could answer either copy, and the messages after
//!   it waited at the receiver for it).
//!
//! Every call costs O(1) amortized, however full the window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Outgoing, ReliableConfig, ReliableStats};

/// The congestion window of a new channel, in messages (RFC 6928's ten segments, a
/// little more for datagrams this small).
pub const INITIAL_WINDOW: usize = 16;

/// Duplicate acknowledgements that signal a loss (RFC 5681).
const DUPLICATE_ACKS: u32 = 3;

/// The clock granularity term of RFC 6298's timeout.
const GRANULARITY: Duration = Duration::from_millis(1);

/// A numbered message not yet acknowledged.
#[derive(Debug)]
struct Unacked<P> {
    seq: u64,
    payload: P,
    /// When it was last put on the wire.
    sent_at: Option<Instant>,
    /// How many times it was put on the wire.
    transmissions: u32,
}

/// The loss being recovered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recovery {
    /// Fast retransmission: until `upto` is acknowledged, a partial acknowledgement
    /// retransmits the next hole.
    Fast { upto: u64 },
    /// After a timeout: going back over the window in slow start until `upto` is
    /// acknowledged (duplicate acknowledgements then start no fast retransmission).
    Timeout { upto: u64 },
}

/// One outgoing channel.
#[derive(Debug)]
pub(super) struct OutChannel<P> {
    /// The `seq` the next message gets.
    next_seq: u64,
    /// Every `seq` up to this is acknowledged.
    acked_upto: u64,
    /// The highest `seq` put on the wire: an acknowledgement beyond it is bogus, and a
    /// message up to it sent again is a retransmission.
    highest_transmitted: u64,
    /// Every numbered message not acknowledged, in `seq` order.
    queue: VecDeque<Unacked<P>>,
    /// How many of `queue`, from the front, are on the wire in this round: the next to
    /// send is `queue[outstanding]` (after a timeout the round starts over).
    outstanding: usize,
    /// The congestion window, in messages.
    cwnd: usize,
    /// Messages acknowledged towards the next step of `cwnd` in congestion avoidance.
    growth: usize,
    /// The slow-start threshold.
    ssthresh: usize,
    duplicate_acks: u32,
    recovery: Option<Recovery>,
    /// The first unacknowledged message is to be retransmitted at the next poll.
    resend_front: bool,
    /// When the oldest message on the wire is due again.
    timer: Option<Instant>,
    /// The smoothed round trip and its variation, once measured.
    srtt: Option<Duration>,
    rttvar: Duration,
    /// The timeout in force, backoff included.
    rto: Duration,
    /// Timeouts since the channel last made progress.
    backoffs: u32,
    /// Since when the window has allowed something to be sent.
    ready_since: Option<Instant>,
    failed: bool,
}

impl<P: Clone> OutChannel<P> {
    pub(super) fn new(cfg: &ReliableConfig) -> Self {
        OutChannel {
            next_seq: 1,
            acked_upto: 0,
            highest_transmitted: 0,
            queue: VecDeque::new(),
            outstanding: 0,
            cwnd: INITIAL_WINDOW,
            growth: 0,
            ssthresh: usize::MAX,
            duplicate_acks: 0,
            recovery: None,
            resend_front: false,
            timer: None,
            srtt: None,
            rttvar: Duration::ZERO,
            rto: cfg.initial_rto,
            backoffs: 0,
            ready_since: None,
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
        self.queue.push_back(Unacked { seq, payload, sent_at: None, transmissions: 0 });
        self.note_ready(now, cfg);
        Ok(seq)
    }

    fn window(&self, cfg: &ReliableConfig) -> usize {
        self.cwnd.min(cfg.max_in_flight)
    }

    fn can_send(&self, cfg: &ReliableConfig) -> bool {
        self.resend_front || (self.outstanding < self.queue.len() && self.outstanding < self.window(cfg))
    }

    fn note_ready(&mut self, now: Instant, cfg: &ReliableConfig) {
        if self.can_send(cfg) {
            self.ready_since.get_or_insert(now);
        }
    }

    pub(super) fn ack(&mut self, upto: u64, now: Instant, cfg: &ReliableConfig, stats: &mut ReliableStats) {
        if upto > self.highest_transmitted {
            stats.bad_acks += 1;
            return;
        }
        stats.acks_received += 1;
        if upto < self.acked_upto {
            return;
        }
        if upto == self.acked_upto {
            self.duplicate_ack(now, cfg, stats);
            return;
        }
        let mut acked = 0;
        let mut newest = None;
        let mut resent = false;
        while self.queue.front().is_some_and(|message| message.seq <= upto) {
            newest = self.queue.pop_front();
            resent |= newest.as_ref().is_some_and(|message| message.transmissions > 1);
            acked += 1;
        }
        self.outstanding = self.outstanding.saturating_sub(acked);
        self.acked_upto = upto;
        self.duplicate_acks = 0;
        self.backoffs = 0;
        // Karn's rule, as BSD applies it: no sample from an acknowledgement that also
        // covers a message sent more than once. Acknowledgements are cumulative, so the
        // newest message's, though it went once, waited at the receiver for the lost one
        // before it: its round trip would include that wait. On a sparse channel (a
        // state a period) that wait was a whole backoff, seconds; the timeout learnt it,
        // and each later loss stalled the channel for as long.
        if let Some(sent_at) = newest.filter(|m| !resent && m.transmissions == 1).and_then(|m| m.sent_at) {
            self.sample(now.saturating_duration_since(sent_at), cfg);
        }
        self.rto = self.computed_rto(cfg);
        match self.recovery {
            Some(Recovery::Fast { upto: until }) if upto < until => {
                // NewReno's partial acknowledgement: the next hole is lost too.
                self.resend_front = true;
            }
            Some(Recovery::Fast { .. }) => {
                self.recovery = None;
                self.cwnd = self.ssthresh;
            }
            Some(Recovery::Timeout { upto: until }) => {
                if upto >= until {
                    self.recovery = None;
                }
                self.grow(acked, cfg);
            }
            None => self.grow(acked, cfg),
        }
        self.timer = (self.outstanding > 0).then(|| now + self.rto);
        self.note_ready(now, cfg);
    }

    /// An acknowledgement of nothing new while messages are on the wire: the receiver
    /// got something after a hole.
    fn duplicate_ack(&mut self, now: Instant, cfg: &ReliableConfig, stats: &mut ReliableStats) {
        if self.outstanding == 0 || self.recovery.is_some() {
            return;
        }
        self.duplicate_acks += 1;
        if self.duplicate_acks == DUPLICATE_ACKS {
            stats.fast_retransmits += 1;
            self.ssthresh = (self.outstanding / 2).max(2);
            self.cwnd = self.ssthresh;
            self.growth = 0;
            self.recovery = Some(Recovery::Fast { upto: self.highest_transmitted });
            self.resend_front = true;
            self.note_ready(now, cfg);
        }
    }

    /// Opens the congestion window for `acked` messages acknowledged.
    fn grow(&mut self, acked: usize, cfg: &ReliableConfig) {
        if self.cwnd < self.ssthresh {
            self.cwnd = self.cwnd.saturating_add(acked);
        } else {
            self.growth += acked;
            if self.growth >= self.cwnd {
                self.growth -= self.cwnd;
                self.cwnd += 1;
            }
        }
        // Past what the receiver accepts, growing means nothing: keep it from drifting.
        self.cwnd = self.cwnd.min(cfg.max_in_flight.max(INITIAL_WINDOW));
    }

    /// One round-trip measurement (RFC 6298, 2.2 and 2.3).
    fn sample(&mut self, rtt: Duration, cfg: &ReliableConfig) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let error = srtt.abs_diff(rtt);
                self.rttvar = self.rttvar * 3 / 4 + error / 4;
                self.srtt = Some(srtt * 7 / 8 + rtt / 8);
            }
        }
        self.rto = self.computed_rto(cfg);
    }

    /// The timeout without backoff: `initial_rto` before any measurement.
    fn computed_rto(&self, cfg: &ReliableConfig) -> Duration {
        match self.srtt {
            None => cfg.initial_rto,
            Some(srtt) => (srtt + (self.rttvar * 4).max(GRANULARITY)).clamp(cfg.min_rto, cfg.max_rto),
        }
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
        if self.timer.is_some_and(|due| due <= now) {
            if cfg.give_up_after.is_some_and(|limit| self.backoffs >= limit) {
                self.fail(peer, stats, out);
                return;
            }
            self.backoffs += 1;
            stats.timeouts += 1;
            self.rto = self.rto.saturating_mul(2).min(cfg.max_rto);
            self.ssthresh = (self.outstanding / 2).max(2);
            self.cwnd = 1;
            self.growth = 0;
            self.duplicate_acks = 0;
            self.recovery = Some(Recovery::Timeout { upto: self.highest_transmitted });
            // Go back: the round starts over from the oldest, a retransmission.
            self.outstanding = 0;
            self.resend_front = false;
            self.timer = None;
        }
        if std::mem::take(&mut self.resend_front) {
            if let Some(front) = self.queue.front_mut() {
                front.transmissions += 1;
                front.sent_at = Some(now);
                stats.retransmitted += 1;
                out.push(Outgoing::Retransmit { to: peer, seq: front.seq, payload: front.payload.clone() });
                self.outstanding = self.outstanding.max(1);
                self.timer = Some(now + self.rto);
            }
        }
        let window = self.window(cfg);
        while self.outstanding < window {
            let Some(message) = self.queue.get_mut(self.outstanding) else { break };
            message.transmissions += 1;
            message.sent_at = Some(now);
            let (seq, payload) = (message.seq, message.payload.clone());
            if seq <= self.highest_transmitted {
                stats.retransmitted += 1;
                out.push(Outgoing::Retransmit { to: peer, seq, payload });
            } else {
                self.highest_transmitted = seq;
                stats.sent += 1;
                out.push(Outgoing::Transmit { to: peer, seq, payload });
            }
            self.outstanding += 1;
            self.timer.get_or_insert(now + self.rto);
        }
        self.ready_since = None;
    }

    /// Gives up every message of the channel and refuses later ones.
    fn fail(&mut self, peer: usize, stats: &mut ReliableStats, out: &mut Vec<Outgoing<P>>) {
        self.failed = true;
        self.timer = None;
        self.ready_since = None;
        self.resend_front = false;
        self.outstanding = 0;
        for message in self.queue.drain(..) {
            stats.given_up += 1;
            out.push(Outgoing::GaveUp { to: peer, seq: message.seq, payload: message.payload });
        }
    }
}

impl<P> OutChannel<P> {
    pub(super) fn next_due(&self) -> Option<Instant> {
        match (self.timer, self.ready_since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the retransmission timer has expired by `now`.
    pub(super) fn timer_expired(&self, now: Instant) -> bool {
        self.timer.is_some_and(|due| due <= now)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Nothing kept, nothing timed, nothing to send: no poll can have anything to do
    /// until the channel is given a message or an acknowledgement.
    pub(super) fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.timer.is_none() && self.ready_since.is_none() && !self.resend_front
    }

    pub(super) fn pending(&self) -> usize {
        self.queue.len()
    }

    pub(super) fn has_failed(&self) -> bool {
        self.failed
    }

    /// The congestion window (for the counters and the tests).
    pub(super) fn congestion_window(&self) -> usize {
        self.cwnd
    }

    /// The retransmission timeout in force.
    pub(super) fn timeout(&self) -> Duration {
        self.rto
    }
}

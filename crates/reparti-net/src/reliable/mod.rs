//! # The reliable channel layer
//!
//! The algorithms assume reliable channels: every message sent is delivered exactly once,
//! and in send order when they ask for FIFO. UDP and the transport's fault injection (drop,
//! duplicate, delay, reorder) give neither. This layer sits between the runtime, which
//! encodes envelopes, and the transport, and restores both with sequence numbers,
//! cumulative acknowledgements and retransmission (the `seq` and `ack` of
//! `docs/PROTOCOL.md`).
//!
//! It is a sans-IO state machine: no sockets, no tasks, no clock reads. The caller passes
//! the current [`Instant`] into every call, puts on the wire what [`Reliable::poll`] hands
//! out, and wakes up again at [`Reliable::next_deadline`]. That makes it testable
//! deterministically with a virtual clock (see `tests/reliable.rs`).
//!
//! One [`Reliable`] per node tracks, for every peer, the outgoing channel me → peer
//! (numbering from 1, keeping each message until acknowledged, pacing the sender with a
//! congestion window, retransmitting on duplicate acknowledgements or on a timeout that
//! follows the measured round trip: TCP's NewReno, see `outgoing.rs`) and the incoming channel peer → me (suppressing duplicates,
//! restoring order with [`ReliableConfig::fifo`], owing acknowledgements).
//!
//! Every message goes on the wire through [`Reliable::poll`], its first transmission
//! included: [`Reliable::send`] only numbers and stores it. That gives the caller one path
//! for everything to transmit, lets a full window hold messages back, and spares it
//! keeping a copy of the payload.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use reparti_net::reliable::{Outgoing, Reliable, ReliableConfig};
//!
//! let start = Instant::now();
//! let mut a = Reliable::new(2, 0, ReliableConfig::default());
//! let mut b = Reliable::new(2, 1, ReliableConfig::default());
//!
//! // Node 0 sends to node 1: the message gets seq 1 and comes out of the next poll.
//! assert_eq!(a.send(1, "hello", start).expect("node 1 exists"), 1);
//! assert_eq!(a.poll(start), vec![Outgoing::Transmit { to: 1, seq: 1, payload: "hello" }]);
//!
//! // Say the network loses it: 50 ms later (the initial timeout) node 0 retransmits it.
//! let later = start + Duration::from_millis(50);
//! assert_eq!(a.next_deadline(), Some(later));
//! assert_eq!(a.poll(later), vec![Outgoing::Retransmit { to: 1, seq: 1, payload: "hello" }]);
//!
//! // Node 1 delivers it and owes an acknowledgement, which its next poll hands out.
//! assert_eq!(b.receive(0, 1, "hello", later), vec![(1, "hello")]);
//! assert!(!b.is_idle());
//! assert_eq!(b.poll(later), vec![Outgoing::Ack { to: 0, upto: 1 }]);
//!
//! // A duplicate is not delivered again, but acknowledged again (the ack may have been lost).
//! assert_eq!(b.receive(0, 1, "hello", later), vec![]);
//! assert_eq!(b.poll(later), vec![Outgoing::Ack { to: 0, upto: 1 }]);
//!
//! // The acknowledgement reaches node 0: nothing is left to do on either side.
//! a.ack(1, 1, later);
//! assert!(a.is_idle() && b.is_idle());
//! assert_eq!(a.next_deadline(), None);
//! assert_eq!(b.stats().duplicates_suppressed, 1);
//! ```

mod busy;
mod incoming;
mod outgoing;

use std::time::{Duration, Instant};

use busy::Busy;
use incoming::InChannel;
use outgoing::OutChannel;

/// The longest timeout a configuration may ask for.
const MAX_RTO: Duration = Duration::from_secs(24 * 3600);

/// The default [`ReliableConfig::ack_every`]: every 8th message in order. Measured on a
/// one-way stream between two processes (docs/PERFORMANCE.md): every 2nd message costs the
/// receiver a datagram per two, every 32nd leaves small windows waiting, and without it
/// one run in four stalled for seconds after a timeout.
pub const ACK_EVERY: usize = 8;

/// How the channels behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReliableConfig {
    /// Deliver each channel's messages in send order (later ones wait for a gap to fill).
    /// Without it, each message is delivered as soon as it first arrives.
    pub fifo: bool,
    /// The retransmission timeout until a round trip has been measured (at least 1 ms: a
    /// zero timeout would never back off; at most a day).
    pub initial_rto: Duration,
    /// Once round trips are measured, the timeout is the smoothed round trip plus four
    /// times its variation (RFC 6298), but never less than this (at least 1 ms, at most
    /// `max_rto`): a process that is not scheduled for a few milliseconds on a busy
    /// machine must not be taken for a lost message.
    pub min_rto: Duration,
    /// The timeout doubles at each expiry without progress, up to this (at least
    /// `initial_rto`, at most a day: deadlines must stay within what an [`Instant`] holds).
    pub max_rto: Duration,
    /// At most this many unacknowledged messages per channel (at least 1); a sender holds
    /// further ones back until acknowledgements come (and keeps fewer in flight while its
    /// congestion window is smaller), and a receiver refuses a `seq` further
    /// than this ahead of what it has received in order, so hostile input cannot make it
    /// buffer without bound.
    pub max_in_flight: usize,
    /// How long an acknowledgement may wait before it is sent, so that one covers every
    /// message of a burst (zero: at the next poll). Keep it well under `min_rto`. A
    /// message out of order (after a gap, filling one, or a duplicate) is acknowledged
    /// at once: that is how the sender learns of a loss without waiting for its timeout.
    pub ack_delay: Duration,
    /// A receiver acknowledges at once when this many messages in order are owed, however
    /// short the wait so far (at least 1; TCP acknowledges every second segment, RFC 5681
    /// 4.2). Without it, a sender whose congestion window is small — after a timeout it
    /// restarts from one message — sends one window per `ack_delay` and takes seconds to
    /// reopen it.
    pub ack_every: usize,
    /// After this many retransmissions of one message without the channel making progress,
    /// declare the channel failed (see [`Outgoing::GaveUp`]); `None`: retransmit forever.
    pub give_up_after: Option<u32>,
}

impl Default for ReliableConfig {
    /// FIFO, a first timeout of 50 ms, then measured but at least 10 ms, doubling up to
    /// 2 s (as `docs/PROTOCOL.md` says), 4096 messages in flight per channel at most,
    /// never give up.
    fn default() -> Self {
        ReliableConfig {
            fifo: true,
            initial_rto: Duration::from_millis(50),
            min_rto: Duration::from_millis(10),
            max_rto: Duration::from_secs(2),
            max_in_flight: 4096,
            ack_delay: Duration::ZERO,
            ack_every: ACK_EVERY,
            give_up_after: None,
        }
    }
}

impl ReliableConfig {
    /// The same, with its bounds enforced (see the fields).
    fn normalized(mut self) -> Self {
        self.initial_rto = self.initial_rto.clamp(Duration::from_millis(1), MAX_RTO);
        self.max_rto = self.max_rto.clamp(self.initial_rto, MAX_RTO);
        self.min_rto = self.min_rto.clamp(Duration::from_millis(1), self.max_rto);
        self.max_in_flight = self.max_in_flight.max(1);
        self.ack_every = self.ack_every.max(1);
        self
    }
}

/// Something [`Reliable::poll`] hands out to put on the wire or to report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing<P> {
    /// Send the acknowledgement "every message of the channel `to` → me numbered up to
    /// `upto` has arrived" (`upto` may be 0 when only later ones did).
    Ack {
        /// Where the acknowledgement goes: the node that sent the messages.
        to: usize,
        /// Every message numbered up to this one has arrived.
        upto: u64,
    },
    /// Send a message for the first time.
    Transmit {
        /// The destination.
        to: usize,
        /// The message's number on the channel me → `to`.
        seq: u64,
        /// The message.
        payload: P,
    },
    /// Send a message again: it has not been acknowledged in time.
    Retransmit {
        /// The destination.
        to: usize,
        /// The message's number on the channel me → `to`.
        seq: u64,
        /// The message.
        payload: P,
    },
    /// The channel me → `to` failed (a message went unacknowledged through
    /// `give_up_after` retransmissions): this message will never be delivered. Every
    /// message still pending on the channel is given up at once, and later sends on it are
    /// refused, because cumulative acknowledgements could never pass the hole it leaves.
    GaveUp {
        /// The destination.
        to: usize,
        /// The message's number on the channel me → `to`.
        seq: u64,
        /// The message, never delivered.
        payload: P,
    },
}

/// Why [`Reliable::send`] refused a message (its payload is handed back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError<P> {
    /// The destination is not a node of the run.
    UnknownPeer(P),
    /// The channel to the destination has failed (see [`Outgoing::GaveUp`]).
    ChannelFailed(P),
}

/// Counters over the node's lifetime, all channels together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReliableStats {
    /// Messages transmitted for the first time.
    pub sent: u64,
    /// Retransmissions.
    pub retransmitted: u64,
    /// Retransmission timeouts that expired (each sends the oldest message again and
    /// shrinks the congestion window to one).
    pub timeouts: u64,
    /// Fast retransmissions: a loss seen from three duplicate acknowledgements.
    pub fast_retransmits: u64,
    /// Acknowledgements handed out by `poll`.
    pub acks_sent: u64,
    /// Acknowledgements received and accepted (including stale ones that acknowledge
    /// nothing new).
    pub acks_received: u64,
    /// Acknowledgements refused: from an unknown node, or for a `seq` never transmitted.
    pub bad_acks: u64,
    /// Messages received again and not delivered again.
    pub duplicates_suppressed: u64,
    /// Messages that arrived ahead of a gap (buffered with FIFO, delivered at once without).
    pub out_of_order: u64,
    /// Messages handed to the algorithm.
    pub delivered: u64,
    /// Messages refused on receipt: `seq` 0, a `seq` more than `max_in_flight` ahead, or
    /// an unknown sender.
    pub refused: u64,
    /// Messages abandoned when their channel failed.
    pub given_up: u64,
    /// Sends refused (unknown destination or failed channel).
    pub send_refused: u64,
}

/// One node's reliable channels to and from every node (itself included), generic in the
/// payload kept for retransmission (for instance the encoded body, or the message).
#[derive(Debug)]
pub struct Reliable<P> {
    me: usize,
    cfg: ReliableConfig,
    outgoing: Vec<OutChannel<P>>,
    incoming: Vec<InChannel<P>>,
    /// The channels that may have something due (see `busy.rs`).
    busy_out: Busy,
    busy_in: Busy,
    stats: ReliableStats,
}

impl<P: Clone> Reliable<P> {
    /// The channels of node `me` in a run of `n` nodes, all empty.
    pub fn new(n: usize, me: usize, cfg: ReliableConfig) -> Self {
        let cfg = cfg.normalized();
        Reliable {
            me,
            outgoing: (0..n).map(|_| OutChannel::new(&cfg)).collect(),
            incoming: (0..n).map(|_| InChannel::new()).collect(),
            busy_out: Busy::new(n),
            busy_in: Busy::new(n),
            stats: ReliableStats::default(),
            cfg,
        }
    }

    /// This node's position.
    pub fn me(&self) -> usize {
        self.me
    }

    /// The configuration in force (bounds enforced).
    pub fn config(&self) -> &ReliableConfig {
        &self.cfg
    }

    /// Numbers a message to `to` with the next `seq` of the channel and keeps it until it
    /// is acknowledged. The next [`poll`](Self::poll) transmits it, unless the channel
    /// already has `max_in_flight` messages unacknowledged: it then waits for
    /// acknowledgements.
    pub fn send(&mut self, to: usize, payload: P, now: Instant) -> Result<u64, SendError<P>> {
        let Some(channel) = self.outgoing.get_mut(to) else {
            self.stats.send_refused += 1;
            return Err(SendError::UnknownPeer(payload));
        };
        let sent = channel.send(payload, now, &self.cfg);
        if sent.is_err() {
            self.stats.send_refused += 1;
        }
        self.busy_out.mark(to);
        sent.map_err(SendError::ChannelFailed)
    }

    /// A message numbered `seq` arrived from `from`. Returns what to deliver to the
    /// algorithm now, in order, as `(seq, payload)`: with FIFO, the run of messages it
    /// completes (later ones wait); without, this message if it is new. Either way an
    /// acknowledgement to `from` is now owed, a duplicate included (the previous one may
    /// have been lost). A message from an unknown node, with `seq` 0 or too far ahead is
    /// refused: not delivered, not acknowledged, counted.
    pub fn receive(&mut self, from: usize, seq: u64, payload: P, now: Instant) -> Vec<(u64, P)> {
        let mut delivered = Vec::new();
        self.receive_into(from, seq, payload, now, &mut delivered);
        delivered
    }

    /// [`receive`](Self::receive), appending to `delivered` (a caller receiving datagram
    /// after datagram keeps one buffer instead of allocating one each time).
    pub fn receive_into(&mut self, from: usize, seq: u64, payload: P, now: Instant, delivered: &mut Vec<(u64, P)>) {
        let Some(channel) = self.incoming.get_mut(from) else {
            self.stats.refused += 1;
            return;
        };
        channel.receive(seq, payload, now, &self.cfg, &mut self.stats, delivered);
        self.busy_in.mark(from);
    }

    /// An acknowledgement arrived from `from`: every message of the channel me → `from`
    /// numbered up to `upto` has arrived. Acknowledgements that are stale, duplicated or
    /// reordered are harmless; one for a `seq` never transmitted is refused and counted.
    pub fn ack(&mut self, from: usize, upto: u64, now: Instant) {
        match self.outgoing.get_mut(from) {
            Some(channel) => {
                channel.ack(upto, now, &self.cfg, &mut self.stats);
                self.busy_out.mark(from);
            }
            None => self.stats.bad_acks += 1,
        }
    }

    /// Everything due at `now`: first transmissions as far as the window allows,
    /// retransmissions (after duplicate acknowledgements, or of the oldest message when
    /// the timer expires: the timeout then doubles up to `max_rto`, until an
    /// acknowledgement makes progress), messages given up, and then the acknowledgements
    /// owed (one per peer however many messages arrived since the last poll, carrying
    /// the highest `seq` received in order).
    pub fn poll(&mut self, now: Instant) -> Vec<Outgoing<P>> {
        let mut out = Vec::new();
        self.poll_into(now, &mut out);
        out
    }

    /// [`poll`](Self::poll), appending to `out` (a caller polling after every datagram
    /// keeps one buffer instead of allocating one each time).
    pub fn poll_into(&mut self, now: Instant, out: &mut Vec<Outgoing<P>>) {
        // Messages before acknowledgements: a message is someone's next step (in a ring,
        // the token), an acknowledgement only frees a sender's window, so it may leave
        // a system call later.
        let Reliable { outgoing, incoming, busy_out, busy_in, stats, cfg, .. } = self;
        busy_out.retain(|peer| {
            let channel = &mut outgoing[peer];
            channel.poll(peer, now, cfg, stats, out);
            !channel.is_idle()
        });
        busy_in.retain(|peer| {
            let channel = &mut incoming[peer];
            if let Some(upto) = channel.take_ack(now) {
                stats.acks_sent += 1;
                out.push(Outgoing::Ack { to: peer, upto });
            }
            channel.ack_due().is_some()
        });
    }

    /// When [`poll`](Self::poll) next has something to do (possibly already past);
    /// `None`: nothing until the next send or receipt.
    pub fn next_deadline(&self) -> Option<Instant> {
        let acks = self.busy_in.iter().filter_map(|peer| self.incoming[peer].ack_due());
        let messages = self.busy_out.iter().filter_map(|peer| self.outgoing[peer].next_due());
        acks.chain(messages).min()
    }

    /// Whether a retransmission timer has expired by `now`, so that the next
    /// [`poll`](Self::poll) would take a message for lost. A caller that was busy (a long
    /// handler) reads the acknowledgements that arrived meanwhile first: the layer only
    /// knows of those it has been given.
    pub fn timer_expired(&self, now: Instant) -> bool {
        self.busy_out.iter().any(|peer| self.outgoing[peer].timer_expired(now))
    }

    /// Nothing unacknowledged, nothing held back and no acknowledgement owed: as far as
    /// the channels go, the node may consider itself idle.
    pub fn is_idle(&self) -> bool {
        self.busy_in.iter().all(|peer| self.incoming[peer].ack_due().is_none())
            && self.busy_out.iter().all(|peer| self.outgoing[peer].is_empty())
    }

    /// Whether the channel me → `to` has failed (see [`Outgoing::GaveUp`]); `false` for
    /// an unknown node.
    pub fn channel_failed(&self, to: usize) -> bool {
        self.outgoing.get(to).is_some_and(OutChannel::has_failed)
    }

    /// Messages to `to` not yet acknowledged, transmitted or held back.
    pub fn pending(&self, to: usize) -> usize {
        self.outgoing.get(to).map_or(0, OutChannel::pending)
    }

    /// The congestion window of the channel me → `to`, in messages (0 for an unknown
    /// node).
    pub fn congestion_window(&self, to: usize) -> usize {
        self.outgoing.get(to).map_or(0, OutChannel::congestion_window)
    }

    /// The retransmission timeout in force on the channel me → `to`.
    pub fn timeout(&self, to: usize) -> Option<Duration> {
        self.outgoing.get(to).map(OutChannel::timeout)
    }

    /// The counters so far.
    pub fn stats(&self) -> ReliableStats {
        self.stats
    }
}

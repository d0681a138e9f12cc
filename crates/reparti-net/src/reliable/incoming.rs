//! The receiving half of one channel peer → me: duplicate suppression, FIFO order, the
//! bound on what hostile input can make us keep, and the acknowledgement owed.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{ReliableConfig, ReliableStats};

/// One incoming channel.
#[derive(Debug)]
pub(super) struct InChannel<P> {
    /// Every `seq` up to this has arrived (and, with FIFO, been delivered).
    contiguous: u64,
    /// The `seq`s that arrived above `contiguous`: with FIFO, with their payloads waiting
    /// for the gap to fill; without, delivered already and kept (payload `None`) only to
    /// recognise duplicates. Merged into `contiguous` as the gap fills, so it never holds
    /// more than `max_in_flight` entries.
    above: BTreeMap<u64, Option<P>>,
    /// When the acknowledgement owed is due: `ack_delay` after the first message it
    /// covers, or at once after a message out of order, a duplicate or one that fills a
    /// gap (RFC 5681, 4.2: the sender learns of a hole from the duplicate
    /// acknowledgements, and must not wait for them).
    ack_due_at: Option<Instant>,
    /// Messages received in order since the last acknowledgement: at `ack_every`, the
    /// acknowledgement is due at once.
    owed: usize,
}

impl<P> InChannel<P> {
    pub(super) fn new() -> Self {
        InChannel { contiguous: 0, above: BTreeMap::new(), ack_due_at: None, owed: 0 }
    }

    /// Appends to `delivered` what to deliver now, in order.
    pub(super) fn receive(
        &mut self,
        seq: u64,
        payload: P,
        now: Instant,
        cfg: &ReliableConfig,
        stats: &mut ReliableStats,
        delivered: &mut Vec<(u64, P)>,
    ) {
        let before = delivered.len();
        let horizon = self.contiguous.saturating_add(u64::try_from(cfg.max_in_flight).unwrap_or(u64::MAX));
        if seq == 0 || seq > horizon {
            stats.refused += 1;
            return;
        }
        // In order and with no gap behind: the acknowledgement may wait to cover more.
        let in_order = seq == self.contiguous + 1 && self.above.is_empty();
        if in_order {
            self.owed += 1;
        }
        // Every `ack_every`-th message in order is acknowledged at once, as TCP acknowledges
        // every second segment: a sender whose window is small (after a loss) would
        // otherwise send one window per `ack_delay`.
        let due = if in_order && self.owed < cfg.ack_every { now + cfg.ack_delay } else { now };
        self.ack_due_at = Some(self.ack_due_at.map_or(due, |at| at.min(due)));
        // A duplicate is acknowledged too: its sender has not seen our previous ack.
        if seq <= self.contiguous || self.above.contains_key(&seq) {
            stats.duplicates_suppressed += 1;
            return;
        }
        if seq != self.contiguous + 1 {
            stats.out_of_order += 1;
            if cfg.fifo {
                self.above.insert(seq, Some(payload));
            } else {
                self.above.insert(seq, None);
                delivered.push((seq, payload));
            }
        } else {
            self.contiguous = seq;
            delivered.push((seq, payload));
            while let Some(waiting) = self.above.remove(&(self.contiguous + 1)) {
                self.contiguous += 1;
                if let Some(payload) = waiting {
                    delivered.push((self.contiguous, payload));
                }
            }
        }
        stats.delivered += (delivered.len() - before) as u64;
    }

    /// The acknowledgement owed, if it is due at `now`: the highest `seq` received in
    /// order, now no longer owed.
    pub(super) fn take_ack(&mut self, now: Instant) -> Option<u64> {
        if self.ack_due_at? > now {
            return None;
        }
        self.ack_due_at = None;
        self.owed = 0;
        Some(self.contiguous)
    }

    /// When the owed acknowledgement is due, if one is owed.
    pub(super) fn ack_due(&self) -> Option<Instant> {
        self.ack_due_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive_all(fifo: bool, seqs: &[u64]) -> (Vec<u64>, InChannel<u64>, ReliableStats) {
        let cfg = ReliableConfig { fifo, max_in_flight: 8, ..ReliableConfig::default() };
        let mut channel = InChannel::new();
        let mut stats = ReliableStats::default();
        let now = Instant::now();
        let mut out = Vec::new();
        for &seq in seqs {
            channel.receive(seq, seq * 10, now, &cfg, &mut stats, &mut out);
        }
        let delivered =
            out.into_iter().inspect(|(seq, payload)| assert_eq!(*payload, seq * 10)).map(|(seq, _)| seq).collect();
        (delivered, channel, stats)
    }

    #[test]
    fn fifo_waits_for_the_gap_then_delivers_the_run() {
        let (delivered, channel, stats) = receive_all(true, &[3, 2, 5, 1, 4]);
        assert_eq!(delivered, [1, 2, 3, 4, 5]);
        assert_eq!(channel.contiguous, 5);
        assert!(channel.above.is_empty());
        assert_eq!(stats.out_of_order, 3);
    }

    #[test]
    fn without_fifo_delivers_at_once_and_forgets_seqs_as_the_gap_fills() {
        let (delivered, channel, stats) = receive_all(false, &[3, 2, 3, 5, 1, 2, 4, 5]);
        assert_eq!(delivered, [3, 2, 5, 1, 4]);
        assert_eq!(stats.duplicates_suppressed, 3);
        assert_eq!(channel.contiguous, 5);
        assert!(channel.above.is_empty(), "the set shrinks back as the gap fills");
    }

    #[test]
    fn the_horizon_moves_with_the_contiguous_point() {
        let (delivered, _, stats) = receive_all(true, &[9, 1, 9]);
        assert_eq!(delivered, [1], "9 is refused at first (8 ahead of 0 at most), then buffered");
        assert_eq!(stats.refused, 1);
        assert_eq!(stats.out_of_order, 1);
    }
}

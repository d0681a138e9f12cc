//! The receiving half of one channel peer → me: duplicate suppression, FIFO order, the
//! bound on what hostile input can make us keep, and the acknowledgement owed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
    /// When an acknowledgement became owed (it is due at once).
    ack_owed_since: Option<Instant>,
}

impl<P> InChannel<P> {
    pub(super) fn new() -> Self {
        InChannel { contiguous: 0, above: BTreeMap::new(), ack_owed_since: None }
    }

    /// Returns what to deliver now, in order.
    pub(super) fn receive(
        &mut self,
        seq: u64,
        payload: P,
        now: Instant,
        cfg: &ReliableConfig,
        stats: &mut ReliableStats,
    ) -> Vec<(u64, P)> {
        let horizon = self.contiguous.saturating_add(u64::try_from(cfg.max_in_flight).unwrap_or(u64::MAX));
        if seq == 0 || seq > horizon {
            stats.refused += 1;
            return Vec::new();
        }
        // A duplicate is acknowledged too: its sender has not seen our previous ack.
        self.ack_owed_since.get_or_insert(now);
        if seq <= self.contiguous || self.above.contains_key(&seq) {
            stats.duplicates_suppressed += 1;
            return Vec::new();
        }
        let mut delivered = Vec::new();
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
        stats.delivered += delivered.len() as u64;
        delivered
    }

    /// The acknowledgement owed, if it is due at `now` (owed for `delay`): the highest
    /// `seq` received in order, now no longer owed.
    pub(super) fn take_ack(&mut self, now: Instant, delay: Duration) -> Option<u64> {
        let due = self.ack_due(delay)?;
        if due > now {
            return None;
        }
        self.ack_owed_since = None;
        Some(self.contiguous)
    }

    /// When the owed acknowledgement is due, if one is owed.
    pub(super) fn ack_due(&self, delay: Duration) -> Option<Instant> {
        self.ack_owed_since.map(|since| since + delay)
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
        let delivered = seqs
            .iter()
            .flat_map(|&seq| channel.receive(seq, seq * 10, now, &cfg, &mut stats))
            .inspect(|(seq, payload)| assert_eq!(*payload, seq * 10))
            .map(|(seq, _)| seq)
            .collect();
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

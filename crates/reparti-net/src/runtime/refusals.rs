//! Refused datagrams: counted by reason, and said on stderr (as `tracing` warnings)
//! without letting a flood turn into a flood of lines.
//!
//! The first [`SAID_IN_FULL`] refusals are said one by one, each with its sender and its
//! cause (the cause is what a person fixing a misconfigured cluster needs). After them,
//! one line at most every [`SUMMARY_EVERY`] says how many more were refused, by reason,
//! and a last one when the node stops: a million junk datagrams make about a dozen
//! lines plus one a second, not a million.

use super::report::{DropReason, Drops};
use reparti_core::NodeId;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Refusals said one by one.
pub const SAID_IN_FULL: u32 = 10;

/// The least time between two summing-up lines.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(super) struct Refusals {
    /// Every refusal, by reason.
    pub(super) counts: Drops,
    said: u32,
    /// Refusals not said yet, and since when they gather.
    pending: Drops,
    since: Option<Instant>,
}

impl Refusals {
    /// Counts one refusal, and says it, or sums it up later.
    pub(super) fn refuse(&mut self, me: NodeId, reason: DropReason, peer: SocketAddr, why: &dyn std::fmt::Display) {
        reason.count(&mut self.counts);
        if self.said < SAID_IN_FULL {
            self.said += 1;
            tracing::warn!("reparti node {me}: dropped a datagram from {peer}: {why}");
            if self.said == SAID_IN_FULL {
                tracing::warn!(
                    "reparti node {me}: {SAID_IN_FULL} datagrams dropped; further ones are counted, and summed up here at most once a second"
                );
            }
            return;
        }
        reason.count(&mut self.pending);
        let now = Instant::now();
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since) >= SUMMARY_EVERY {
            self.say_pending(me, now);
        }
    }

    /// Says what is still pending: when the node stops.
    pub(super) fn finish(&mut self, me: NodeId) {
        self.say_pending(me, Instant::now());
    }

    fn say_pending(&mut self, me: NodeId, now: Instant) {
        let n = self.pending.total();
        if n > 0 {
            let secs = self.since.map_or(0.0, |t| now.duration_since(t).as_secs_f64());
            tracing::warn!(
                "reparti node {me}: dropped {n} more datagram(s) in the last {secs:.1} s ({})",
                self.pending.describe()
            );
        }
        self.pending = Drops::default();
        self.since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_counted_however_few_are_said() {
        let mut r = Refusals::default();
        let peer = SocketAddr::from(([127, 0, 0, 1], 9));
        for _ in 0..1000 {
            r.refuse(NodeId(0), DropReason::Wire, peer, &"junk");
        }
        assert_eq!(r.counts.wire, 1000);
        assert_eq!(r.said, SAID_IN_FULL);
        assert_eq!(r.pending.wire, 1000 - u64::from(SAID_IN_FULL), "within a second: pending, not said");
        r.finish(NodeId(0));
        assert_eq!(r.pending.total(), 0);
    }
}

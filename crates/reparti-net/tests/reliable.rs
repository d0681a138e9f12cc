//! The reliable channel layer by hand: backoff, the timeout, fast retransmission, the
//! window, coalesced and immediate acknowledgements, hostile input, giving up. Over a
//! simulated faulty network: `tests/reliable_lossy.rs`.

use std::time::{Duration, Instant};

use reparti_net::reliable::{Outgoing, Reliable, ReliableConfig, SendError};

const MS: Duration = Duration::from_millis(1);

fn config(fifo: bool) -> ReliableConfig {
    ReliableConfig { fifo, ..ReliableConfig::default() }
}

/// The retransmissions `poll` hands out, as `(to, seq)`.
fn retransmitted<P>(out: &[Outgoing<P>]) -> Vec<(usize, u64)> {
    out.iter()
        .filter_map(|o| match o {
            Outgoing::Retransmit { to, seq, .. } => Some((*to, *seq)),
            _ => None,
        })
        .collect()
}

fn transmitted<P>(out: &[Outgoing<P>]) -> Vec<u64> {
    out.iter()
        .filter_map(|o| match o {
            Outgoing::Transmit { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let cfg = ReliableConfig { initial_rto: 50 * MS, max_rto: 400 * MS, ..config(true) };
    let start = Instant::now();
    let mut a = Reliable::new(2, 0, cfg);
    a.send(1, "m", start).unwrap();
    assert_eq!(a.next_deadline(), Some(start), "the first transmission is due at once");
    assert_eq!(transmitted(&a.poll(start)), [1]);
    let mut now = start;
    // Waits after each transmission: 50, then doubling, capped at 400.
    for wait in [50, 100, 200, 400, 400, 400] {
        assert_eq!(a.next_deadline(), Some(now + wait * MS));
        assert!(a.poll(now + wait * MS - MS).is_empty(), "nothing before the deadline");
        now += wait * MS;
        assert_eq!(retransmitted(&a.poll(now)), [(1, 1)]);
    }
    assert_eq!(a.stats().retransmitted, 6);
    assert_eq!(a.stats().sent, 1);
}

#[test]
fn a_timeout_resends_the_oldest_then_goes_back_as_the_window_reopens() {
    let start = Instant::now();
    let mut a = Reliable::new(2, 0, config(true));
    for m in ["one", "two", "three"] {
        a.send(1, m, start).unwrap();
    }
    assert_eq!(transmitted(&a.poll(start)), [1, 2, 3]);
    assert_eq!(a.next_deadline(), Some(start + 50 * MS), "one timer, for the oldest");
    let mut now = start + 50 * MS;
    assert_eq!(retransmitted(&a.poll(now)), [(1, 1)], "only the oldest: the window falls to one");
    assert_eq!((a.congestion_window(1), a.stats().timeouts), (1, 1));
    assert_eq!(a.next_deadline(), Some(now + 100 * MS), "the timeout doubled");
    // Say 2 and 3 had arrived: the acknowledgement jumps over them, nothing is resent.
    now += 5 * MS;
    a.ack(1, 3, now);
    assert!(a.is_idle() && a.poll(now).is_empty());
    // Progress ends the backoff. No sample: seq 3 went once, 55 ms ago, but its
    // acknowledgement also covers seq 1, which went twice — the receiver held 3 back
    // waiting for 1, so those 55 ms are not a round trip (Karn's rule as BSD applies
    // it). The timeout is back to the initial 50 ms.
    assert_eq!(a.timeout(1), Some(50 * MS));

    // Now 5 and 6 are lost too: after the timeout, 4 is resent; its acknowledgement
    // reopens the window to two, and the sender goes back over 5 and 6.
    for m in ["four", "five", "six"] {
        a.send(1, m, now).unwrap();
    }
    assert_eq!(transmitted(&a.poll(now)), [4, 5, 6]);
    now += 50 * MS;
    assert_eq!(retransmitted(&a.poll(now)), [(1, 4)]);
    a.ack(1, 4, now + MS);
    assert_eq!(retransmitted(&a.poll(now + MS)), [(1, 5), (1, 6)]);
    a.ack(1, 6, now + 2 * MS);
    assert!(a.is_idle());
    assert_eq!(a.stats().retransmitted, 4);
}

#[test]
fn the_timeout_follows_the_measured_round_trip() {
    // RFC 6298: the first sample R gives SRTT = R and RTTVAR = R/2, so RTO = R + 4 R/2.
    let start = Instant::now();
    let mut a = Reliable::new(2, 0, config(true));
    a.send(1, 1, start).unwrap();
    a.poll(start);
    a.ack(1, 1, start + 20 * MS);
    assert_eq!(a.timeout(1), Some(60 * MS));
    let mut now = start + 30 * MS;
    a.send(1, 2, now).unwrap();
    a.poll(now);
    assert_eq!(a.next_deadline(), Some(now + 60 * MS));
    // Quick round trips bring it down, never below min_rto (10 ms).
    for seq in 2..40u64 {
        now += MS / 10;
        a.ack(1, seq, now);
        a.send(1, seq + 1, now).unwrap();
        a.poll(now);
    }
    assert_eq!(a.timeout(1), Some(10 * MS));
    // Karn's rule: a message sent twice gives no sample, however long it took.
    now += 10 * MS;
    assert_eq!(retransmitted(&a.poll(now)), [(1, 40)]);
    a.ack(1, 40, now + 500 * MS);
    assert_eq!(a.timeout(1), Some(10 * MS), "the backoff ends, and no sample of 510 ms was taken");
    // Nor a message that went once but waited at the receiver behind one that went
    // twice: 41 is lost, 42 arrives and is held back, 41 goes again at its timeout, and
    // the acknowledgement of both comes 300 ms after 42 went. Sampled, those 300 ms made
    // a sparse lossy channel stall for seconds at each later loss.
    now += 600 * MS;
    a.send(1, 41, now).unwrap();
    assert_eq!(transmitted(&a.poll(now)), [41]);
    a.send(1, 42, now + 5 * MS).unwrap();
    assert_eq!(transmitted(&a.poll(now + 5 * MS)), [42]);
    assert_eq!(retransmitted(&a.poll(now + 10 * MS)), [(1, 41)]);
    a.ack(1, 42, now + 305 * MS);
    assert_eq!(a.timeout(1), Some(10 * MS), "no sample of the 300 ms 42 waited behind 41");
}

#[test]
fn three_duplicate_acknowledgements_resend_the_hole_at_once() {
    let start = Instant::now();
    let mut a = Reliable::new(2, 0, config(true));
    for k in 1..=10 {
        a.send(1, k, start).unwrap();
    }
    assert_eq!(transmitted(&a.poll(start)), (1..=10).collect::<Vec<_>>());
    let now = start + MS;
    // The receiver got 2, 3 and 4 but not 1: three acknowledgements of nothing.
    for _ in 0..2 {
        a.ack(1, 0, now);
    }
    assert!(a.poll(now).is_empty(), "two duplicates are not yet a loss");
    a.ack(1, 0, now);
    assert_eq!(a.next_deadline(), Some(now), "the third is: due at once, long before the timeout");
    assert_eq!(retransmitted(&a.poll(now)), [(1, 1)]);
    assert_eq!((a.stats().fast_retransmits, a.congestion_window(1)), (1, 5), "the window halved");
    // A partial acknowledgement (6 was lost too) resends the next hole (NewReno).
    a.ack(1, 5, now + MS);
    assert_eq!(retransmitted(&a.poll(now + MS)), [(1, 6)]);
    a.ack(1, 10, now + 2 * MS);
    assert!(a.is_idle());
    assert_eq!((a.stats().retransmitted, a.stats().timeouts), (2, 0));
}

#[test]
fn a_stream_starts_slow_then_slides_through_a_full_window_one_message_per_acknowledgement() {
    // The congestion window starts at 16 and doubles each round trip (slow start) up to
    // the 4096 the receiver accepts; from then on each acknowledgement frees one slot
    // for one new message, transmitted at the next poll, with nothing retransmitted.
    // (Every call is O(1) amortized: see the sending half's notes.)
    let start = Instant::now();
    let mut a = Reliable::new(2, 0, config(true));
    let window = a.config().max_in_flight as u64;
    let total = window + 20_000;
    for seq in 1..=total {
        a.send(1, seq, start).unwrap();
    }
    let mut now = start;
    let mut rounds = Vec::new();
    let mut acked = 0;
    while a.congestion_window(1) as u64 > acked.min(1) && rounds.len() < 9 {
        let sent = transmitted(&a.poll(now));
        rounds.push(sent.len());
        now += MS;
        acked = *sent.last().unwrap();
        a.ack(1, acked, now);
    }
    assert_eq!(rounds, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
    assert_eq!(a.congestion_window(1) as u64, window, "never past what the receiver accepts");
    assert_eq!(transmitted(&a.poll(now)), (acked + 1..=acked + window).collect::<Vec<_>>());
    for seq in acked + 1..=total - window {
        now += Duration::from_nanos(100);
        a.ack(1, seq, now);
        assert_eq!(transmitted(&a.poll(now)), [seq + window]);
    }
    assert_eq!((a.stats().sent, a.stats().retransmitted), (total, 0));
    assert_eq!(a.pending(1) as u64, window);
}

#[test]
fn acks_are_coalesced_and_carry_the_highest_seq_in_order() {
    let now = Instant::now();
    let mut b: Reliable<&str> = Reliable::new(3, 1, config(true));
    assert_eq!(b.receive(0, 1, "a", now), [(1, "a")]);
    assert_eq!(b.receive(0, 2, "b", now), [(2, "b")]);
    assert_eq!(b.receive(0, 4, "d", now), []);
    assert_eq!(b.receive(0, 2, "b", now), []);
    assert_eq!(b.receive(2, 1, "x", now), [(1, "x")]);
    assert_eq!(b.next_deadline(), Some(now));
    assert_eq!(b.poll(now), [Outgoing::Ack { to: 0, upto: 2 }, Outgoing::Ack { to: 2, upto: 1 }]);
    assert!(b.poll(now).is_empty(), "an ack is owed once");
    assert!(b.is_idle());
    assert_eq!(b.receive(0, 3, "c", now), [(3, "c"), (4, "d")]);
    assert_eq!(b.poll(now), [Outgoing::Ack { to: 0, upto: 4 }]);
    let stats = b.stats();
    assert_eq!((stats.acks_sent, stats.delivered, stats.duplicates_suppressed, stats.out_of_order), (3, 5, 1, 1));
}

#[test]
fn a_delayed_ack_waits_and_covers_the_whole_burst() {
    let cfg = ReliableConfig { ack_delay: 5 * MS, ..config(true) };
    let start = Instant::now();
    let mut b: Reliable<u32> = Reliable::new(2, 1, cfg);
    b.receive(0, 1, 10, start);
    assert_eq!(b.next_deadline(), Some(start + 5 * MS), "due once the delay has passed");
    assert!(b.poll(start + 2 * MS).is_empty(), "not before");
    assert!(!b.is_idle(), "an acknowledgement is still owed");
    b.receive(0, 2, 11, start + 3 * MS);
    b.receive(0, 3, 12, start + 4 * MS);
    // One acknowledgement for the three, due 5 ms after the first made it owed.
    assert_eq!(b.poll(start + 5 * MS), vec![Outgoing::Ack { to: 0, upto: 3 }]);
    assert!(b.is_idle());
    assert_eq!(b.stats().acks_sent, 1);
}

#[test]
fn every_eighth_message_in_order_is_acknowledged_at_once() {
    let cfg = ReliableConfig { ack_delay: 5 * MS, ..config(true) };
    assert_eq!(cfg.ack_every, 8);
    let start = Instant::now();
    let mut b: Reliable<u64> = Reliable::new(2, 1, cfg);
    for seq in 1..=7 {
        b.receive(0, seq, seq, start);
    }
    assert_eq!(b.next_deadline(), Some(start + 5 * MS), "seven may wait for the delay");
    assert!(b.poll(start).is_empty());
    b.receive(0, 8, 8, start);
    assert_eq!(b.poll(start), [Outgoing::Ack { to: 0, upto: 8 }], "the eighth: at once");
    b.receive(0, 9, 9, start);
    assert!(b.poll(start).is_empty(), "the count starts over");
}

/// Virtual milliseconds for a sender and a receiver joined by a perfect, instant link to
/// deliver `total` messages when the first burst is lost: the sender times out, restarts
/// from one message, and must reopen its window through the receiver's acknowledgements.
fn time_to_recover(ack_every: usize, total: u64) -> f64 {
    let cfg = ReliableConfig { ack_delay: 2 * MS, ack_every, ..config(true) };
    let start = Instant::now();
    let (mut a, mut b) = (Reliable::new(2, 0, cfg.clone()), Reliable::new(2, 1, cfg));
    for seq in 1..=total {
        a.send(1, seq, start).unwrap();
    }
    assert_eq!(transmitted(&a.poll(start)).len(), 16, "the first window, lost");
    let (mut now, mut delivered) = (start, 0);
    for _ in 0..10_000_000 {
        if delivered == total {
            return (now - start).as_secs_f64() * 1e3;
        }
        let mut moved = false;
        for out in a.poll(now) {
            if let Outgoing::Transmit { seq, payload, .. } | Outgoing::Retransmit { seq, payload, .. } = out {
                delivered += b.receive(0, seq, payload, now).len() as u64;
                moved = true;
            }
        }
        for out in b.poll(now) {
            if let Outgoing::Ack { upto, .. } = out {
                a.ack(1, upto, now);
                moved = true;
            }
        }
        // A microsecond per exchange; otherwise straight to the next deadline.
        now = if moved {
            now + Duration::from_micros(1)
        } else {
            [a.next_deadline(), b.next_deadline()].into_iter().flatten().min().unwrap_or(now + MS)
        };
    }
    panic!("{delivered} of {total} delivered: the stream stalled");
}

#[test]
fn after_a_timeout_the_window_reopens_at_the_pace_of_the_link_not_of_the_delayed_ack() {
    // After the timeout the window restarts from one message with a threshold of 8; were
    // every acknowledgement delayed (2 ms), the sender would send one window per 2 ms
    // and grow it by one each time (a deliberately broken receiver, acknowledging only
    // after the delay, shows it).
    let recovered = time_to_recover(ReliableConfig::default().ack_every, 20_000);
    let delayed_only = time_to_recover(usize::MAX, 20_000);
    assert!(recovered < 100.0, "{recovered:.1} ms to deliver 20,000 messages, the first timeout (50 ms) included");
    assert!(delayed_only > 5.0 * recovered, "acks only after the delay: {delayed_only:.1} ms against {recovered:.1}");
}

#[test]
fn a_message_out_of_order_is_acknowledged_at_once() {
    // The delayed acknowledgement is for bursts in order; after a gap the sender must
    // hear at once, three times, to resend the hole before its timeout (RFC 5681, 4.2).
    let cfg = ReliableConfig { ack_delay: 5 * MS, ..config(true) };
    let start = Instant::now();
    let mut b: Reliable<u32> = Reliable::new(2, 1, cfg);
    b.receive(0, 1, 10, start);
    assert_eq!(b.next_deadline(), Some(start + 5 * MS));
    b.receive(0, 3, 30, start + MS);
    assert_eq!(b.next_deadline(), Some(start + MS), "after a gap: due at once");
    assert_eq!(b.poll(start + MS), [Outgoing::Ack { to: 0, upto: 1 }]);
    b.receive(0, 4, 40, start + 2 * MS);
    assert_eq!(b.poll(start + 2 * MS), [Outgoing::Ack { to: 0, upto: 1 }], "a duplicate acknowledgement");
    assert_eq!(b.receive(0, 2, 20, start + 3 * MS), [(2, 20), (3, 30), (4, 40)]);
    assert_eq!(b.poll(start + 3 * MS), [Outgoing::Ack { to: 0, upto: 4 }], "the gap filled: at once too");
    b.receive(0, 5, 50, start + 4 * MS);
    assert!(b.poll(start + 4 * MS).is_empty(), "in order again: the delay is back");
}

#[test]
fn a_duplicate_is_acknowledged_again_but_not_delivered() {
    let now = Instant::now();
    for fifo in [true, false] {
        let mut b = Reliable::new(2, 1, config(fifo));
        assert_eq!(b.receive(0, 1, 'a', now), [(1, 'a')]);
        assert_eq!(b.poll(now), [Outgoing::Ack { to: 0, upto: 1 }]);
        assert!(b.is_idle());
        assert_eq!(b.receive(0, 1, 'a', now), []);
        assert!(!b.is_idle(), "the previous ack may have been lost");
        assert_eq!(b.poll(now), [Outgoing::Ack { to: 0, upto: 1 }]);
        assert_eq!(b.stats().duplicates_suppressed, 1);
    }
}

#[test]
fn without_fifo_messages_are_delivered_as_they_come_once_each() {
    let now = Instant::now();
    let mut b = Reliable::new(2, 1, config(false));
    let delivered: Vec<u64> =
        [3, 1, 3, 4, 2, 1, 4].into_iter().flat_map(|seq| b.receive(0, seq, seq, now)).map(|(seq, _)| seq).collect();
    assert_eq!(delivered, [3, 1, 4, 2]);
    assert_eq!(b.poll(now), [Outgoing::Ack { to: 0, upto: 4 }]);
    assert_eq!(b.stats().duplicates_suppressed, 3);
}

#[test]
fn hostile_seqs_and_senders_are_refused_and_counted() {
    let now = Instant::now();
    let cfg = ReliableConfig { max_in_flight: 16, ..config(true) };
    let mut b = Reliable::new(2, 1, cfg);
    assert_eq!(b.receive(0, 0, "zero", now), []);
    assert_eq!(b.receive(0, 17, "too far", now), []);
    assert_eq!(b.receive(0, u64::MAX, "far too far", now), []);
    assert_eq!(b.receive(7, 1, "unknown sender", now), []);
    assert_eq!(b.stats().refused, 4);
    assert!(b.is_idle(), "a refused message is not acknowledged");
    assert_eq!(b.receive(0, 16, "at the edge", now), [], "buffered");
    assert_eq!(b.stats().out_of_order, 1);
    assert_eq!(b.poll(now), [Outgoing::Ack { to: 0, upto: 0 }]);
}

#[test]
fn bogus_acks_are_refused_and_stale_ones_harmless() {
    let now = Instant::now();
    let mut a = Reliable::new(2, 0, config(true));
    a.send(1, (), now).unwrap();
    a.ack(1, 1, now);
    assert_eq!(a.stats().bad_acks, 1, "seq 1 is not on the wire before the poll");
    a.poll(now);
    a.ack(1, 2, now);
    a.ack(5, 1, now);
    assert_eq!(a.stats().bad_acks, 3);
    a.ack(1, 0, now);
    assert_eq!(a.pending(1), 1);
    a.ack(1, 1, now);
    a.ack(1, 1, now);
    assert!(a.is_idle());
    assert_eq!(a.stats().acks_received, 3);
}

#[test]
fn a_full_window_holds_messages_back_until_acks_come() {
    let now = Instant::now();
    let mut a = Reliable::new(2, 0, ReliableConfig { max_in_flight: 2, ..config(true) });
    for k in 1..=5 {
        assert_eq!(a.send(1, k, now), Ok(k));
    }
    assert_eq!(transmitted(&a.poll(now)), [1, 2]);
    assert_eq!(a.pending(1), 5);
    a.ack(1, 1, now);
    assert_eq!(a.next_deadline(), Some(now));
    assert_eq!(transmitted(&a.poll(now)), [3]);
    a.ack(1, 3, now);
    assert_eq!(transmitted(&a.poll(now)), [4, 5]);
    a.ack(1, 5, now);
    assert!(a.is_idle());
    assert_eq!(a.stats().sent, 5);
}

#[test]
fn give_up_fails_the_channel() {
    let start = Instant::now();
    let cfg = ReliableConfig { give_up_after: Some(2), max_in_flight: 1, ..config(true) };
    let mut a = Reliable::new(3, 0, cfg);
    a.send(1, "lost", start).unwrap();
    a.send(1, "held back", start).unwrap();
    a.send(2, "fine", start).unwrap();
    assert_eq!(transmitted(&a.poll(start)), [1, 1]);
    a.ack(2, 1, start);
    let mut now = start;
    for wait in [50, 100] {
        now += wait * MS;
        assert_eq!(retransmitted(&a.poll(now)), [(1, 1)]);
    }
    now += 200 * MS;
    assert_eq!(
        a.poll(now),
        [Outgoing::GaveUp { to: 1, seq: 1, payload: "lost" }, Outgoing::GaveUp { to: 1, seq: 2, payload: "held back" }]
    );
    assert!(a.channel_failed(1) && !a.channel_failed(2));
    assert_eq!(a.stats().given_up, 2);
    assert!(a.is_idle());
    assert_eq!(a.next_deadline(), None);
    assert_eq!(a.send(1, "later", now), Err(SendError::ChannelFailed("later")));
    assert_eq!(a.send(9, "nowhere", now), Err(SendError::UnknownPeer("nowhere")));
    assert_eq!(a.send(2, "still fine", now), Ok(2));
    assert_eq!(a.stats().send_refused, 2);
}

#[test]
fn give_up_counts_retransmissions_since_the_last_progress() {
    let start = Instant::now();
    let mut a = Reliable::new(2, 0, ReliableConfig { give_up_after: Some(1), ..config(true) });
    a.send(1, 'a', start).unwrap();
    a.send(1, 'b', start).unwrap();
    a.poll(start);
    let mut now = start + 50 * MS;
    assert_eq!(retransmitted(&a.poll(now)), [(1, 1)]);
    a.ack(1, 1, now);
    assert_eq!(retransmitted(&a.poll(now)), [(1, 2)], "going back over the window");
    now += 50 * MS;
    assert_eq!(retransmitted(&a.poll(now)), [(1, 2)], "progress gave seq 2 a fresh allowance");
    now += 100 * MS;
    assert_eq!(a.poll(now), [Outgoing::GaveUp { to: 1, seq: 2, payload: 'b' }]);
}

#[test]
fn timeouts_are_kept_within_bounds() {
    let now = Instant::now();
    let cfg = ReliableConfig { initial_rto: Duration::ZERO, max_rto: Duration::ZERO, max_in_flight: 0, ..config(true) };
    let mut a = Reliable::new(2, 0, cfg);
    assert_eq!(a.config().initial_rto, MS);
    assert_eq!(a.config().max_in_flight, 1);
    a.send(1, (), now).unwrap();
    a.poll(now);
    assert_eq!(a.next_deadline(), Some(now + MS));
    let huge = ReliableConfig { initial_rto: Duration::MAX, max_rto: Duration::MAX, ..config(true) };
    let mut b = Reliable::new(2, 0, huge);
    assert_eq!(b.config().max_rto, Duration::from_secs(24 * 3600), "deadlines must not overflow");
    b.send(1, (), now).unwrap();
    b.poll(now);
    assert_eq!(b.next_deadline(), Some(now + b.config().max_rto));
}

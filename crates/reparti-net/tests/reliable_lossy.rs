//! The reliable channel layer over a simulated network that loses, duplicates, delays
//! and reorders both messages and acknowledgements, driven by a virtual clock: every
//! message must arrive exactly once (in order with FIFO) and every node must end idle.
//! The layer by hand (backoff, acknowledgements, hostile input, the window, giving up)
//! is `tests/reliable.rs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use reparti_net::reliable::{Outgoing, Reliable, ReliableConfig, ReliableStats};

/// The project's seeded generator, with the draws fault decisions need.
struct SimRng(reparti_core::Rng);

impl SimRng {
    fn new(seed: u64) -> SimRng {
        SimRng(reparti_core::rng(seed))
    }
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && rand::Rng::gen::<f64>(&mut self.0) <= p
    }
    fn below(&mut self, n: u64) -> u64 {
        rand::Rng::gen_range(&mut self.0, 0..n)
    }
}

#[derive(Clone, Copy, Debug)]
struct Faults {
    loss: f64,
    duplication: f64,
    /// Chance that a datagram is held back long enough to overtake later ones many times.
    reordering: f64,
}

#[derive(Clone, Debug)]
enum Datagram {
    Data { from: usize, to: usize, seq: u64, payload: u32 },
    Ack { from: usize, to: usize, upto: u64 },
}

/// Nodes joined by a faulty network, driven by a virtual clock.
struct Sim {
    start: Instant,
    now: Duration,
    rng: SimRng,
    faults: Faults,
    nodes: Vec<Reliable<u32>>,
    /// Datagrams on the way, by arrival time (then a counter, to keep them distinct).
    wire: BTreeMap<(Duration, u64), Datagram>,
    posted: u64,
    /// `delivered[to][from]`: the payloads delivered, in delivery order.
    delivered: Vec<Vec<Vec<u32>>>,
}

impl Sim {
    fn put_on_wire(&mut self, datagram: Datagram) {
        if self.rng.chance(self.faults.loss) {
            return;
        }
        let copies = if self.rng.chance(self.faults.duplication) { 2 } else { 1 };
        for _ in 0..copies {
            let mut delay = Duration::from_millis(1 + self.rng.below(20));
            if self.rng.chance(self.faults.reordering) {
                delay += Duration::from_millis(self.rng.below(300));
            }
            self.posted += 1;
            self.wire.insert((self.now + delay, self.posted), datagram.clone());
        }
    }

    fn arrive(&mut self, datagram: Datagram) {
        let now = self.start + self.now;
        match datagram {
            Datagram::Data { from, to, seq, payload } => {
                for (_, payload) in self.nodes[to].receive(from, seq, payload, now) {
                    self.delivered[to][from].push(payload);
                }
            }
            Datagram::Ack { from, to, upto } => self.nodes[to].ack(from, upto, now),
        }
    }

    fn poll_due(&mut self) {
        let now = self.start + self.now;
        for node in 0..self.nodes.len() {
            if self.nodes[node].next_deadline().is_some_and(|due| due <= now) {
                for out in self.nodes[node].poll(now) {
                    let datagram = match out {
                        Outgoing::Ack { to, upto } => Datagram::Ack { from: node, to, upto },
                        Outgoing::Transmit { to, seq, payload } | Outgoing::Retransmit { to, seq, payload } => {
                            Datagram::Data { from: node, to, seq, payload }
                        }
                        Outgoing::GaveUp { .. } => panic!("nothing is given up without give_up_after"),
                    };
                    self.put_on_wire(datagram);
                }
            }
        }
    }

    fn next_event(&self, sends: &[(Duration, usize, usize, u32)]) -> Option<Duration> {
        let deadlines = self.nodes.iter().filter_map(|node| node.next_deadline()).map(|due| due - self.start);
        let arrivals = self.wire.keys().next().map(|(at, _)| *at);
        deadlines.chain(arrivals).chain(sends.first().map(|send| send.0)).min()
    }
}

/// Runs `per_node` random sends from every node over the faulty network until nothing is
/// left to do; checks exactly-once (and FIFO) delivery and idleness. Returns the nodes'
/// counters added up.
fn run(seed: u64, n: usize, per_node: usize, fifo: bool, max_in_flight: usize, faults: Faults) -> ReliableStats {
    let mut rng = SimRng::new(seed);
    // (time, from, to, payload): payloads count up per channel, so delivery order shows.
    let mut next_payload = vec![vec![0u32; n]; n];
    let mut sends: Vec<(Duration, usize, usize, u32)> = (0..n)
        .flat_map(|from| (0..per_node).map(move |_| from))
        .map(|from| {
            let to = rng.below(n as u64) as usize;
            (Duration::from_millis(rng.below(400)), from, to, 0)
        })
        .collect();
    sends.sort_by_key(|send| (send.0, send.1));
    for send in &mut sends {
        send.3 = next_payload[send.1][send.2];
        next_payload[send.1][send.2] += 1;
    }
    // Delayed acknowledgements (0 to 3 ms, by seed) must change nothing but their number.
    let ack_delay = Duration::from_millis(seed % 4);
    let cfg = ReliableConfig { fifo, max_in_flight, ack_delay, ..ReliableConfig::default() };
    let mut sim = Sim {
        start: Instant::now(),
        now: Duration::ZERO,
        rng,
        faults,
        nodes: (0..n).map(|me| Reliable::new(n, me, cfg.clone())).collect(),
        wire: BTreeMap::new(),
        posted: 0,
        delivered: vec![vec![Vec::new(); n]; n],
    };
    let mut steps = 0;
    while let Some(at) = sim.next_event(&sends) {
        steps += 1;
        assert!(steps < 1_000_000 && at < Duration::from_secs(3600), "no end in sight at {at:?}");
        sim.now = sim.now.max(at);
        let now = sim.start + sim.now;
        while sends.first().is_some_and(|send| send.0 <= sim.now) {
            let (_, from, to, payload) = sends.remove(0);
            sim.nodes[from].send(to, payload, now).unwrap();
        }
        while let Some(entry) = sim.wire.first_entry().filter(|entry| entry.key().0 <= sim.now) {
            let datagram = entry.remove();
            sim.arrive(datagram);
        }
        sim.poll_due();
    }
    for (to, by_sender) in sim.delivered.iter().enumerate() {
        for (from, delivered) in by_sender.iter().enumerate() {
            let expected: Vec<u32> = (0..next_payload[from][to]).collect();
            let mut got = delivered.clone();
            if !fifo {
                got.sort_unstable();
            }
            assert_eq!(got, expected, "channel {from} → {to} (seed {seed})");
        }
    }
    let mut sum = ReliableStats::default();
    for stats in sim.nodes.iter().map(Reliable::stats) {
        sum.sent += stats.sent;
        sum.retransmitted += stats.retransmitted;
        sum.delivered += stats.delivered;
        sum.duplicates_suppressed += stats.duplicates_suppressed;
        sum.out_of_order += stats.out_of_order;
        sum.given_up += stats.given_up;
        sum.refused += stats.refused;
        sum.bad_acks += stats.bad_acks;
    }
    let total = (n * per_node) as u64;
    assert_eq!((sum.sent, sum.delivered), (total, total));
    assert_eq!(sum.given_up + sum.refused + sum.bad_acks, 0);
    assert!(sim.nodes.iter().all(Reliable::is_idle));
    sum
}

#[test]
fn a_lossy_network_delivers_everything_once_in_order() {
    let faults = Faults { loss: 0.4, duplication: 0.2, reordering: 0.3 };
    for stats in [run(1, 4, 40, true, 4096, faults), run(2, 3, 40, false, 4096, faults), run(3, 5, 30, true, 3, faults)]
    {
        // The faults did happen, and were repaired.
        assert!(stats.retransmitted > 0 && stats.duplicates_suppressed > 0 && stats.out_of_order > 0, "{stats:?}");
    }
}

#[test]
fn a_perfect_network_needs_no_retransmission() {
    // Round trips stay under 40 ms, below the 50 ms initial timeout.
    let stats = run(4, 3, 20, true, 4096, Faults { loss: 0.0, duplication: 0.0, reordering: 0.0 });
    assert_eq!((stats.retransmitted, stats.duplicates_suppressed), (0, 0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn exactly_once_whatever_the_faults(
        seed in any::<u64>(),
        n in 2usize..=5,
        per_node in 1usize..=25,
        fifo in any::<bool>(),
        max_in_flight in prop_oneof![1usize..=4, Just(4096)],
        loss in 0.0f64..=0.4,
        duplication in 0.0f64..=0.3,
        reordering in 0.0f64..=0.5,
    ) {
        run(seed, n, per_node, fifo, max_in_flight, Faults { loss, duplication, reordering });
    }
}

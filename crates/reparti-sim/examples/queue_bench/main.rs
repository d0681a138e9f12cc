//! The event queue for random delays, alone: the radix heap it replaced against the
//! calendar queue, on the simulator's pattern with random delays.
//!
//! ```text
//! cargo run --release -p reparti-sim --example queue_bench -- [IN_FLIGHT] [STEPS]
//! ```
//!
//! Keeps `IN_FLIGHT` (10^6) events in flight, each with a 72-byte payload (the size of
//! the simulator's event for Chang–Roberts, whose type is private to the crate): each
//! step peeks at the time, pops the earliest event and pushes one at its time plus a
//! delay drawn uniformly in [1, 10], `STEPS` (2 × 10^7) times. Both queues must pop the
//! same sequence, which the checksum printed beside each rate shows.

#[path = "../../src/bucket_sort.rs"]
mod bucket_sort;
#[allow(dead_code)]
#[path = "../../src/calendar.rs"]
mod calendar;
#[path = "../../src/prefetch.rs"]
mod prefetch;
/// The queue the simulator used for random delays before the calendar queue.
mod radix;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// What the simulator's `Event` weighs for Chang–Roberts.
type Payload = [u64; 9];

/// The calls the simulator makes, for both queues.
trait Queue {
    fn push(&mut self, time: f64, seq: u64, event: Payload);
    fn peek_time(&mut self) -> Option<f64>;
    fn pop(&mut self) -> Option<(f64, u64, Payload)>;
}

impl Queue for radix::RadixHeap<Payload> {
    fn push(&mut self, time: f64, seq: u64, event: Payload) {
        radix::RadixHeap::push(self, (u128::from((time + 0.0).to_bits()) << 64) | u128::from(seq), event)
    }
    fn peek_time(&mut self) -> Option<f64> {
        self.peek_key().map(|k| f64::from_bits((k >> 64) as u64))
    }
    fn pop(&mut self) -> Option<(f64, u64, Payload)> {
        radix::RadixHeap::pop(self).map(|(k, e)| (f64::from_bits((k >> 64) as u64), k as u64, e))
    }
}

impl Queue for calendar::CalendarQueue<Payload> {
    fn push(&mut self, time: f64, seq: u64, event: Payload) {
        calendar::CalendarQueue::push(self, time, seq, event)
    }
    fn peek_time(&mut self) -> Option<f64> {
        calendar::CalendarQueue::peek_time(self)
    }
    fn pop(&mut self) -> Option<(f64, u64, Payload)> {
        calendar::CalendarQueue::pop(self)
    }
}

/// Runs the pattern; returns events per second of wall-clock and of CPU time, and a
/// checksum of the pop order.
fn run(q: &mut impl Queue, in_flight: u64, steps: u64) -> (f64, f64, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut seq = 0;
    for _ in 0..in_flight {
        q.push(rng.gen_range(1.0..=10.0), seq, [seq; 9]);
        seq += 1;
    }
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let mut sum = 0u64;
    for _ in 0..steps {
        let t = q.peek_time().expect("events in flight");
        let (time, s, e) = q.pop().expect("events in flight");
        debug_assert_eq!(t, time);
        sum = sum.wrapping_mul(31).wrapping_add(time.to_bits() ^ s ^ e[0]);
        q.push(time + rng.gen_range(1.0..=10.0), seq, [seq; 9]);
        seq += 1;
    }
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    (steps as f64 / wall, steps as f64 / cpu, sum)
}

/// The CPU time this thread has run, from the scheduler's statistics (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace().next().and_then(|ns| ns.parse::<f64>().ok()).unwrap_or(f64::NAN) / 1e9
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("a number"));
    let in_flight = args.next().unwrap_or(1_000_000);
    let steps = args.next().unwrap_or(20_000_000);
    let which = std::env::var("QUEUE").unwrap_or_default();
    println!("{in_flight} events in flight, {steps} pops and pushes, delays uniform in [1, 10]:");
    if which != "calendar" {
        let (rate, cpu, sum) = run(&mut radix::RadixHeap::default(), in_flight, steps);
        println!(
            "  radix heap     {:6.2} M events/s (CPU time: {:6.2} M/s; order checksum {sum:016x})",
            rate / 1e6,
            cpu / 1e6
        );
    }
    if which != "radix" {
        let (rate, cpu, sum) = run(&mut calendar::CalendarQueue::default(), in_flight, steps);
        println!(
            "  calendar queue {:6.2} M events/s (CPU time: {:6.2} M/s; order checksum {sum:016x})",
            rate / 1e6,
            cpu / 1e6
        );
    }
}

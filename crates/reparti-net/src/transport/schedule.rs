//! The delay scheduler: one task per transport with faults, sending delayed copies when
//! they fall due and releasing datagrams held back for reordering that no later send
//! released. One task with a heap rather than one task per delayed datagram, so a burst
//! of thousands costs thousands of heap entries, not thousands of tasks.

use super::faults::Injector;
use super::outbound::Outbound;
use super::shared::{lock, Shared};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Something to do later.
pub enum Job {
    /// Send these bytes.
    Emit { to: SocketAddr, bytes: Vec<u8> },
    /// Send the datagram held for `to` under `id`, if it is still held.
    Release { to: SocketAddr, id: u64 },
}

/// A job and its time; `seq` keeps jobs due at the same instant in submission order.
struct Entry {
    at: Instant,
    seq: u64,
    job: Job,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap and the earliest job comes first.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

/// Runs jobs as they fall due, until the sending side is dropped.
pub async fn run(
    mut jobs: mpsc::UnboundedReceiver<(Instant, Job)>,
    outbound: Outbound,
    injector: Arc<Mutex<Injector>>,
    shared: Arc<Shared>,
) {
    let mut pending = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let next_due = pending.peek().map(|entry: &Entry| entry.at);
        tokio::select! {
            job = jobs.recv() => match job {
                Some((at, job)) => {
                    seq += 1;
                    pending.push(Entry { at, seq, job });
                }
                None => return,
            },
            _ = tokio::time::sleep_until(next_due.unwrap_or_else(Instant::now)), if next_due.is_some() => {
                let now = Instant::now();
                while pending.peek().is_some_and(|entry| entry.at <= now) {
                    let Some(entry) = pending.pop() else { break };
                    let (to, bytes) = match entry.job {
                        Job::Emit { to, bytes } => (to, bytes),
                        Job::Release { to, id } => match lock(&injector).release(to, id) {
                            Some(bytes) => (to, bytes),
                            None => continue,
                        },
                    };
                    outbound.emit(&shared, to, bytes);
                }
            }
        }
    }
}

//! What a transport's background tasks share with it: counters, one-time error reports,
//! the registry of tasks to stop when the transport is dropped, and the way out to the
//! socket ([`Outbound`]).

use serde::Serialize;
use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::task::AbortHandle;

/// A transport's counters, as returned by [`Transport::stats`](super::Transport::stats).
/// Datagrams (UDP) and frames (TCP) are counted alike.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TransportStats {
    /// Handed to the socket successfully (each copy of a duplicate counts).
    pub sent: u64,
    /// Delivered by `recv`.
    pub received: u64,
    /// Not sent, on purpose (fault injection).
    pub injected_drops: u64,
    /// Extra copies sent on purpose.
    pub injected_dups: u64,
    /// Copies sent late on purpose.
    pub delayed: u64,
    /// Held back to be overtaken on purpose.
    pub reordered: u64,
    /// Lost to a socket error: a failed send, connect or write.
    pub send_errors: u64,
    /// Refused by `send` for being larger than [`MAX_FRAME`](super::MAX_FRAME).
    pub oversize: u64,
    /// Lost because the destination's TCP queue was full (a slow or dead peer).
    pub backlog_drops: u64,
    /// Incoming TCP connections accepted.
    pub connections: u64,
    /// Incoming TCP frames announcing more than [`MAX_FRAME`](super::MAX_FRAME) bytes
    /// (their connection is closed).
    pub oversize_received: u64,
    /// Incoming TCP connections closed in the middle of a frame (the part is dropped).
    pub truncated: u64,
    /// Incoming TCP connections closed for silence, or for a frame too slow to arrive.
    pub idle_closed: u64,
    /// Incoming TCP connections closed to make room (over the cap on connections, or
    /// out of file descriptors): the one idle longest goes.
    pub evicted: u64,
    /// Incoming TCP connections closed because their frame would have overdrawn the
    /// budget of bytes held for incomplete frames.
    pub over_budget: u64,
    /// Failed attempts to accept a TCP connection (each followed by a backoff).
    pub accept_errors: u64,
    /// Writes to TCP connections that succeeded: the frames queued when a write begins
    /// go out together, so `sent / tcp_writes` is the frames per system call.
    pub tcp_writes: u64,
}

/// The live counters behind [`TransportStats`].
#[derive(Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub injected_drops: AtomicU64,
    pub injected_dups: AtomicU64,
    pub delayed: AtomicU64,
    pub reordered: AtomicU64,
    pub send_errors: AtomicU64,
    pub oversize: AtomicU64,
    pub backlog_drops: AtomicU64,
    pub connections: AtomicU64,
    pub oversize_received: AtomicU64,
    pub truncated: AtomicU64,
    pub idle_closed: AtomicU64,
    pub evicted: AtomicU64,
    pub over_budget: AtomicU64,
    pub accept_errors: AtomicU64,
    pub tcp_writes: AtomicU64,
}

/// Adds one to a counter. Counters are statistics, not synchronisation: relaxed is enough.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub fn snapshot(&self) -> TransportStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TransportStats {
            sent: get(&self.sent),
            received: get(&self.received),
            injected_drops: get(&self.injected_drops),
            injected_dups: get(&self.injected_dups),
            delayed: get(&self.delayed),
            reordered: get(&self.reordered),
            send_errors: get(&self.send_errors),
            oversize: get(&self.oversize),
            backlog_drops: get(&self.backlog_drops),
            connections: get(&self.connections),
            oversize_received: get(&self.oversize_received),
            truncated: get(&self.truncated),
            idle_closed: get(&self.idle_closed),
            evicted: get(&self.evicted),
            over_budget: get(&self.over_budget),
            accept_errors: get(&self.accept_errors),
            tcp_writes: get(&self.tcp_writes),
        }
    }
}

/// Locks a mutex even if a panicking thread poisoned it: every structure guarded here
/// stays consistent between statements, so the data is still good.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The background tasks of one transport, aborted together when it is dropped.
#[derive(Default)]
pub struct Tasks {
    inner: Mutex<TaskList>,
}

#[derive(Default)]
struct TaskList {
    handles: Vec<AbortHandle>,
    stopped: bool,
}

impl Tasks {
    /// Spawns `task` on the current runtime, to be aborted with the others.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
        let mut list = lock(&self.inner);
        let handle = tokio::spawn(task).abort_handle();
        if list.stopped {
            // Spawned by a task that was running while the transport was dropped.
            handle.abort();
            return;
        }
        // Reader tasks come and go with connections: forget the finished ones.
        list.handles.retain(|h| !h.is_finished());
        list.handles.push(handle);
    }

    /// Aborts every task, and any spawned from now on.
    pub fn stop(&self) {
        let mut list = lock(&self.inner);
        list.stopped = true;
        for handle in list.handles.drain(..) {
            handle.abort();
        }
    }
}

/// How many (peer, problem) pairs are reported one by one: a flood of connections from
/// ever new ports must not turn into as many lines on stderr (nor a set that grows).
pub const MAX_REPORTED: usize = 16;

/// What the transport and its tasks share.
pub struct Shared {
    /// The transport's own address, for messages.
    pub local: SocketAddr,
    pub counters: Counters,
    pub tasks: Tasks,
    /// (peer, problem) pairs already reported: one warning each, the rest counted.
    reported: Mutex<HashSet<(SocketAddr, &'static str)>>,
}

impl Shared {
    pub fn new(local: SocketAddr) -> Arc<Self> {
        Arc::new(Shared { local, counters: Counters::default(), tasks: Tasks::default(), reported: Mutex::default() })
    }

    /// Counts a send lost to a socket error, and reports the first one to each peer.
    pub fn send_failed(&self, to: SocketAddr, detail: &str) {
        self.send_failed_many(to, 1, detail);
    }

    /// `count` frames to `to` lost at once (a batch whose write failed): each is counted.
    pub fn send_failed_many(&self, to: SocketAddr, count: u64, detail: &str) {
        self.counters.send_errors.fetch_add(count, Ordering::Relaxed);
        self.report_once(to, "send", detail);
    }

    /// Reports `detail` as a warning event (on stderr in the CLI) the first time a
    /// problem with strangers' connections happens, whoever the peer: incoming
    /// connections come from ever new ports, and a flood of them must make one line per
    /// kind of problem, not one per connection.
    pub fn report_once_for_all(&self, problem: &'static str, detail: &str) {
        if lock(&self.reported).insert((self.local, problem)) {
            tracing::warn!(
                "reparti transport {}: {detail} (said once; further such problems are only counted)",
                self.local
            );
        }
    }

    /// Reports `detail` as a warning event (on stderr in the CLI) the first time `problem`
    /// happens with `peer`, for the first [`MAX_REPORTED`] such pairs; after them, says
    /// once that the rest are only counted.
    pub fn report_once(&self, peer: SocketAddr, problem: &'static str, detail: &str) {
        let mut reported = lock(&self.reported);
        if reported.len() > MAX_REPORTED || reported.contains(&(peer, problem)) {
            return;
        }
        if reported.len() == MAX_REPORTED {
            // The marker fills the last place: nothing is reported or added from now on.
            reported.insert((self.local, "too many"));
            tracing::warn!(
                "reparti transport {}: {MAX_REPORTED} problems with peers reported; further ones are only counted (the node's summary has the counts)",
                self.local
            );
            return;
        }
        reported.insert((peer, problem));
        tracing::warn!(
            "reparti transport {}: {detail} (peer {peer}; further such problems with it are only counted)",
            self.local
        );
    }
}

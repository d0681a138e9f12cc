//! What a node reports when it stops, and how it counts what it refused.

use super::Msg;
use crate::reliable::ReliableStats;
use crate::transport::TransportStats;
use reparti_core::trace::TraceEvent;
use reparti_core::{Algorithm, Message, NodeId, OutputValue};

/// Datagrams dropped on receipt, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Not a Fernet token, failing authentication (wrong key, tampering), or expired.
    pub crypto: u64,
    /// Not a valid envelope for this algorithm (`crate::wire::WireError`), or a vector
    /// clock of the wrong length.
    pub wire: u64,
    /// `from` is not a node of the run.
    pub unknown_sender: u64,
    /// `to` is another node.
    pub wrong_destination: u64,
    /// Sent from an address other than the one registered for its `from` (over TCP: from
    /// another host, or on a connection that first spoke for another node): forged, or a
    /// node registered under the wrong address.
    pub wrong_source: u64,
    /// Stamped with another run's identity, or with none, at a node given one: a replay
    /// of an old run's traffic, or a node left over from one.
    pub another_run: u64,
    /// Sent by this node to a node outside the run (never transmitted: no such node).
    pub no_such_node: u64,
}

impl Drops {
    /// All drops.
    pub fn total(&self) -> u64 {
        self.by_reason().iter().map(|(_, n)| n).sum()
    }

    /// Every counter with its name, as the summaries print them, in a fixed order.
    pub fn by_reason(&self) -> [(&'static str, u64); 7] {
        [
            ("crypto", self.crypto),
            ("wire", self.wire),
            ("unknown_sender", self.unknown_sender),
            ("wrong_destination", self.wrong_destination),
            ("wrong_source", self.wrong_source),
            ("another_run", self.another_run),
            ("no_such_node", self.no_such_node),
        ]
    }

    /// The counters that are not zero, as `crypto 12, wire 3` (`none` when all are).
    pub fn describe(&self) -> String {
        let parts: Vec<String> =
            self.by_reason().iter().filter(|(_, n)| *n > 0).map(|(name, n)| format!("{name} {n}")).collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Which counter of [`Drops`] a refused datagram goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DropReason {
    Crypto,
    Wire,
    UnknownSender,
    WrongDestination,
    WrongSource,
    AnotherRun,
}

impl DropReason {
    pub(super) fn name(self) -> &'static str {
        match self {
            DropReason::Crypto => "crypto",
            DropReason::Wire => "wire",
            DropReason::UnknownSender => "unknown_sender",
            DropReason::WrongDestination => "wrong_destination",
            DropReason::WrongSource => "wrong_source",
            DropReason::AnotherRun => "another_run",
        }
    }

    pub(super) fn count(self, drops: &mut Drops) {
        let counter = match self {
            DropReason::Crypto => &mut drops.crypto,
            DropReason::Wire => &mut drops.wire,
            DropReason::UnknownSender => &mut drops.unknown_sender,
            DropReason::WrongDestination => &mut drops.wrong_destination,
            DropReason::WrongSource => &mut drops.wrong_source,
            DropReason::AnotherRun => &mut drops.another_run,
        };
        *counter += 1;
    }
}

/// What a node did, returned when it stops.
pub struct NodeReport<A: Algorithm> {
    /// Its position.
    pub me: NodeId,
    /// Its final state.
    pub node: A::Node,
    /// Its outputs, in order.
    pub outputs: Vec<(&'static str, OutputValue)>,
    /// Its log lines, in order.
    pub logs: Vec<String>,
    /// Messages sent, by message type (indexed like `Message::kinds()`); retransmissions
    /// are not counted here but in `reliable`.
    pub sent_by_type: Vec<u64>,
    /// Messages delivered to the algorithm, by message type.
    pub received_by_type: Vec<u64>,
    /// Datagrams dropped on receipt.
    pub dropped: Drops,
    /// With a key: datagrams that opened under it (authentic, of any run).
    pub authentic: u64,
    /// With a key: the nodes whose registered address sent datagrams that all failed
    /// authentication (and none that opened), with how many: they, or this node, have
    /// another key. Over UDP only, where a datagram's address names its node.
    pub unauthentic_peers: Vec<(NodeId, u64)>,
    /// Sends that failed before reaching the transport (unencodable message, unknown
    /// destination, a failed channel).
    pub send_errors: u64,
    /// The transport's counters (datagrams or frames, injected faults).
    pub transport: TransportStats,
    /// The reliable layer's counters, when it was on.
    pub reliable: Option<ReliableStats>,
    /// When the last message was delivered, in ms since the node started (`None`: none
    /// was): with the start time, how long the node was busy, for throughput figures.
    pub last_delivery_ms: Option<f64>,
    /// The final Lamport clock.
    pub lamport: u64,
    /// The final vector clock, when kept.
    pub vector: Option<Vec<u64>>,
    /// The trace events, when kept in memory ([`NodeConfig::trace`](super::NodeConfig),
    /// `t` in ms since the node started); `None` when not asked for, or streamed to a
    /// file ([`NodeConfig::trace_file`](super::NodeConfig)).
    pub trace: Option<Vec<TraceEvent>>,
}

impl<A: Algorithm> NodeReport<A> {
    /// Messages sent of the named type (`"ELECT"`).
    pub fn sent_of(&self, kind: &str) -> u64 {
        kind_count::<A>(&self.sent_by_type, kind)
    }

    /// Messages received of the named type.
    pub fn received_of(&self, kind: &str) -> u64 {
        kind_count::<A>(&self.received_by_type, kind)
    }

    /// Every value output under `key`, in order.
    pub fn outputs_of<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a OutputValue> + 'a {
        self.outputs.iter().filter(move |(k, _)| *k == key).map(|(_, v)| v)
    }
}

fn kind_count<A: Algorithm>(counts: &[u64], kind: &str) -> u64 {
    Msg::<A>::kinds().iter().position(|k| *k == kind).and_then(|i| counts.get(i)).copied().unwrap_or(0)
}

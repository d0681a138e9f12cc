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
    /// Sent by this node to a node outside the run (never transmitted: no such node).
    pub no_such_node: u64,
}

impl Drops {
    /// All drops.
    pub fn total(&self) -> u64 {
        self.crypto + self.wire + self.unknown_sender + self.wrong_destination + self.no_such_node
    }
}

/// Which counter of [`Drops`] a refused datagram goes to.
#[derive(Clone, Copy, Debug)]
pub(super) enum DropReason {
    Crypto,
    Wire,
    UnknownSender,
    WrongDestination,
}

impl DropReason {
    pub(super) fn name(self) -> &'static str {
        match self {
            DropReason::Crypto => "crypto",
            DropReason::Wire => "wire",
            DropReason::UnknownSender => "unknown_sender",
            DropReason::WrongDestination => "wrong_destination",
        }
    }

    pub(super) fn count(self, drops: &mut Drops) {
        let counter = match self {
            DropReason::Crypto => &mut drops.crypto,
            DropReason::Wire => &mut drops.wire,
            DropReason::UnknownSender => &mut drops.unknown_sender,
            DropReason::WrongDestination => &mut drops.wrong_destination,
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
    /// Messages sent, by message type (indexed like `Message::KINDS`); retransmissions
    /// are not counted here but in `reliable`.
    pub sent_by_type: Vec<u64>,
    /// Messages delivered to the algorithm, by message type.
    pub received_by_type: Vec<u64>,
    /// Datagrams dropped on receipt.
    pub dropped: Drops,
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
    /// The trace events, when asked for (`t` in ms since the node started).
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
    Msg::<A>::KINDS.iter().position(|k| *k == kind).and_then(|i| counts.get(i)).copied().unwrap_or(0)
}

//! Why a datagram was refused: [`WireError`], one variant per cause, each message naming
//! the cause and the fix on one line.

use super::Wire;
use thiserror::Error;

/// Why a datagram was refused. Each message names the cause and the fix on one line.
#[derive(Clone, PartialEq, Eq, Debug, Error)]
pub enum WireError {
    /// Over [`MAX_DATAGRAM`](super::MAX_DATAGRAM).
    #[error("datagram of {len} bytes is over the 65536-byte (64 KiB) limit: send smaller messages")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// Zero bytes.
    #[error("empty datagram: a sender must put one whole envelope in each datagram or frame")]
    Empty,
    /// The data ends before the envelope does.
    #[error(
        "truncated {encoding} envelope: the data ends early; send whole envelopes (over TCP, read the whole frame)"
    )]
    Truncated {
        /// Which encoding was being read.
        encoding: Wire,
    },
    /// Not JSON text at all.
    #[error("not JSON ({detail}): send one JSON object per datagram as in docs/PROTOCOL.md")]
    NotJson {
        /// serde_json's description, with line and column.
        detail: String,
    },
    /// Well-formed, but a field is missing, of the wrong type, or extra bytes follow.
    #[error("bad envelope ({detail}): an envelope has v, from, to, lamport, type and body (docs/PROTOCOL.md)")]
    BadEnvelope {
        /// What is wrong.
        detail: String,
    },
    /// A version other than [`VERSION`](super::VERSION).
    #[error("wire format version {found}, but this node speaks version 1: run the same reparti version everywhere")]
    Version {
        /// The version found, as written.
        found: String,
    },
    /// A `type` the algorithm does not have.
    #[error(
        "unknown message type {found:?} (this algorithm has {expected:?}): check both ends run the same algorithm"
    )]
    UnknownType {
        /// The type found (`#3` for a binary type index).
        found: String,
        /// The algorithm's message types.
        expected: &'static [&'static str],
    },
    /// The body does not deserialize into the algorithm's message.
    #[error("body of a {kind} message does not fit the algorithm's message ({detail}): see the body forms in docs/PROTOCOL.md")]
    BadBody {
        /// The declared type.
        kind: &'static str,
        /// The deserializer's description.
        detail: String,
    },
    /// `type` names a different message than the body is.
    #[error("the type field says {declared} but the body is a {actual} message: make `type` name the body's message")]
    TypeMismatch {
        /// What `type` says.
        declared: &'static str,
        /// What the body is.
        actual: &'static str,
    },
    /// The datagram is a Fernet token: the sender encrypts, we do not.
    #[error("this datagram is encrypted (a Fernet token): start this node with --key-file and the sender's key")]
    Encrypted,
    /// The message cannot be written in this encoding (sender side only).
    #[error("cannot encode the message in {encoding} ({detail}): its serde form is not supported there, use the other encoding")]
    Encode {
        /// The encoding asked for.
        encoding: Wire,
        /// The serializer's description.
        detail: String,
    },
}

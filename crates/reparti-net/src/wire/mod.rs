//! The wire format: the envelope every datagram or frame carries (`docs/PROTOCOL.md`).
//!
//! An [`Envelope`] wraps one algorithm message with its sender, destination and clock
//! stamps. Two encodings exist ([`Wire`]):
//!
//! * **JSON** (the default), one object per datagram, readable and writable by a short
//!   Python script: `{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}`;
//! * **binary**: the byte [`BINARY_MAGIC`] followed by the same fields in postcard.
//!
//! [`decode`] tells the two apart by the first byte, so a node accepts both whatever it
//! sends. Decoding treats its input as hostile: any byte string gives either a valid
//! envelope or a [`WireError`] naming the cause and the fix, never a panic.
//!
//! A datagram may also carry its run's identity ([`RunId`], the optional `run` field):
//! [`encode_with_run`] and [`encode_ack_with_run`] write it, [`decode_with_run`] reads it
//! back beside the datagram. It is kept out of [`Envelope`] since only the runtime, which
//! drops the datagrams of other runs, has any use for it.

mod append;
mod error;
mod json_fast;
mod json_read;
mod json_write;
mod run;

pub use error::WireError;
pub use run::{RunId, MAX_RUN_ID};

use reparti_core::{Message, NodeId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The wire format version this crate speaks (the envelope's `v`).
pub const VERSION: u64 = 1;

/// The largest datagram or frame accepted, 64 KiB. UDP cannot carry much more (65 507
/// bytes over IPv4), and a bound keeps a hostile sender from making us parse megabytes.
pub const MAX_DATAGRAM: usize = 64 * 1024;

/// Bytes reserved for a JSON envelope before writing it: most fit.
const JSON_ENVELOPE_GUESS: usize = 192;
/// The same for the binary encoding (a header of a few varints, a vector clock of up to
/// a few dozen entries, a small body, the run).
const BINARY_ENVELOPE_GUESS: usize = 128;

/// The first byte of a binary envelope. It is a UTF-8 continuation byte, so no JSON
/// text (and no Fernet token, which is ASCII) can start with it.
pub const BINARY_MAGIC: u8 = 0xB5;

/// The first byte of a binary acknowledgement (the reliable layer's [`Ack`]), another
/// UTF-8 continuation byte.
pub const BINARY_ACK_MAGIC: u8 = 0xB6;

/// Which encoding [`encode`] writes. [`decode`] reads both.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Wire {
    /// One JSON object per datagram: what the labs' Python scripts speak.
    #[default]
    Json,
    /// [`BINARY_MAGIC`] then postcard: compact, Rust to Rust.
    Binary,
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wire::Json => "json",
            Wire::Binary => "binary",
        })
    }
}

impl FromStr for Wire {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Wire::Json),
            "binary" => Ok(Wire::Binary),
            other => Err(format!("unknown wire encoding {other:?}: use `json` or `binary`")),
        }
    }
}

/// One message in transit, with what the runtime needs to deliver and stamp it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Envelope<M> {
    /// The sender's position.
    pub from: NodeId,
    /// The destination's position.
    pub to: NodeId,
    /// The sender's Lamport clock stamped on the message.
    pub lamport: u64,
    /// The sender's vector clock, when the run keeps vector clocks.
    pub vc: Option<Vec<u64>>,
    /// The message's number on its channel `from → to`, from 1: how traces of separate
    /// nodes are matched, and what the reliable layer acknowledges. Senders that do not
    /// number their messages (a minimal Python script) leave it out.
    pub seq: Option<u64>,
    /// The algorithm's message.
    pub body: M,
}

/// The reliable layer's acknowledgement: `from` tells `to` that it has received every message of the channel `to → from` numbered up to `upto`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Ack {
    /// The acknowledging node (the data's receiver).
    pub from: NodeId,
    /// The node being acknowledged (the data's sender).
    pub to: NodeId,
    /// Every `seq` up to this one has arrived (cumulative).
    pub upto: u64,
}

/// Anything a node can receive: a message, or an acknowledgement.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Datagram<M> {
    /// An algorithm message.
    Message(Envelope<M>),
    /// An acknowledgement of the reliable layer.
    Ack(Ack),
}

/// The JSON envelope as written: borrows everything, so encoding copies nothing twice.
#[derive(Serialize)]
struct JsonOut<'a, M> {
    v: u64,
    from: u32,
    to: u32,
    lamport: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    vc: Option<&'a [u64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    body: &'a M,
}

/// The JSON acknowledgement: no `type`, no `body`, an `ack`.
#[derive(Serialize)]
struct JsonAck<'a> {
    v: u64,
    from: u32,
    to: u32,
    ack: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a str>,
}

/// The binary header after the version: the type is the index in `M::kinds()`.
#[derive(Deserialize)]
struct BinHeader {
    from: u32,
    to: u32,
    lamport: u64,
    vc: Option<Vec<u64>>,
    seq: Option<u64>,
    kind: u32,
}

/// [`BinHeader`] as it is written: the vector clock borrowed, not copied (postcard
/// writes a slice and a `Vec` alike, as a length and the items).
#[derive(Serialize)]
struct BinHeaderOut<'a> {
    from: u32,
    to: u32,
    lamport: u64,
    vc: Option<&'a [u64]>,
    seq: Option<u64>,
    kind: u32,
}

/// Encodes an envelope.
///
/// # Panics
/// Only if `M`'s `Serialize` implementation is not supported by the encoding (a bug in
/// the algorithm's types, never something a peer can cause). Use [`try_encode`] to get
/// that, and the 64 KiB limit, as an error instead.
pub fn encode<M: Message>(env: &Envelope<M>, wire: Wire) -> Vec<u8> {
    match try_encode(env, wire) {
        Ok(bytes) | Err((_, Some(bytes))) => bytes,
        Err((e, None)) => panic!("{e}"),
    }
}

/// Encodes an envelope, refusing messages the encoding cannot write and envelopes over
/// [`MAX_DATAGRAM`] (the bytes come back with the error, for a caller that would rather
/// log and send anyway).
#[allow(clippy::type_complexity)]
pub fn try_encode<M: Message>(env: &Envelope<M>, wire: Wire) -> Result<Vec<u8>, (WireError, Option<Vec<u8>>)> {
    encode_with_run(env, wire, None)
}

/// [`try_encode`], stamping the envelope with its run's identity: the `run` field in
/// JSON, a postcard string after the body in binary (`docs/PROTOCOL.md`).
#[allow(clippy::type_complexity)]
pub fn encode_with_run<M: Message>(
    env: &Envelope<M>,
    wire: Wire,
    run: Option<&RunId>,
) -> Result<Vec<u8>, (WireError, Option<Vec<u8>>)> {
    let kind = env.body.kind_name();
    let encoded = match wire {
        Wire::Json => {
            // Room for a typical envelope at once: grown from nothing, it was copied
            // three times on the way.
            let mut bytes = Vec::with_capacity(JSON_ENVELOPE_GUESS);
            let out = JsonOut {
                v: VERSION,
                from: env.from.0,
                to: env.to.0,
                lamport: env.lamport,
                vc: env.vc.as_deref(),
                seq: env.seq,
                run: run.map(RunId::as_str),
                kind,
                body: &env.body,
            };
            json_write::envelope(&mut bytes, &out).map(|()| bytes)
        }
        Wire::Binary => {
            let header = BinHeaderOut {
                from: env.from.0,
                to: env.to.0,
                lamport: env.lamport,
                vc: env.vc.as_deref(),
                seq: env.seq,
                kind: env.body.kind() as u32,
            };
            // Room for a typical envelope at once: grown from one byte, it was moved
            // five times on the way (a fifth of a ring hop's instructions).
            let mut bytes = Vec::with_capacity(BINARY_ENVELOPE_GUESS);
            bytes.push(BINARY_MAGIC);
            append::binary_header(&mut bytes, &header);
            append::append(&env.body, bytes).and_then(|bytes| with_binary_run(bytes, run)).map_err(|e| e.to_string())
        }
    };
    match encoded {
        Err(detail) => Err((WireError::Encode { encoding: wire, detail }, None)),
        Ok(bytes) if bytes.len() > MAX_DATAGRAM => Err((WireError::TooLarge { len: bytes.len() }, Some(bytes))),
        Ok(bytes) => Ok(bytes),
    }
}

/// A binary envelope or acknowledgement's optional last field: the run, as a postcard
/// string. Left out without a run, so that older readers still read what we send then.
fn with_binary_run(bytes: Vec<u8>, run: Option<&RunId>) -> postcard::Result<Vec<u8>> {
    match run {
        Some(run) => append::append(run.as_str(), bytes),
        None => Ok(bytes),
    }
}

/// Encodes an acknowledgement: `{"v":1,"from":3,"to":2,"ack":12}` in JSON, or
/// [`BINARY_ACK_MAGIC`] then postcard.
pub fn encode_ack(ack: &Ack, wire: Wire) -> Vec<u8> {
    encode_ack_with_run(ack, wire, None)
}

/// [`encode_ack`], stamped with the run's identity as [`encode_with_run`] does.
pub fn encode_ack_with_run(ack: &Ack, wire: Wire, run: Option<&RunId>) -> Vec<u8> {
    match wire {
        Wire::Json => {
            let json =
                JsonAck { v: VERSION, from: ack.from.0, to: ack.to.0, ack: ack.upto, run: run.map(RunId::as_str) };
            // Four integers and a checked string: serde_json cannot fail on them.
            let mut bytes = Vec::with_capacity(JSON_ENVELOPE_GUESS);
            serde_json::to_writer(&mut bytes, &json).map(|()| bytes).unwrap_or_default()
        }
        Wire::Binary => {
            let mut bytes = Vec::with_capacity(BINARY_ENVELOPE_GUESS);
            bytes.push(BINARY_ACK_MAGIC);
            append::append(&(VERSION, ack.from.0, ack.to.0, ack.upto), bytes)
                .and_then(|bytes| with_binary_run(bytes, run))
                .unwrap_or_else(|_| vec![BINARY_ACK_MAGIC])
        }
    }
}

/// Decodes one datagram or frame that must be a message; see [`decode_datagram`].
pub fn decode<M: Message + DeserializeOwned>(bytes: &[u8]) -> Result<Envelope<M>, WireError> {
    match decode_datagram(bytes)? {
        Datagram::Message(env) => Ok(env),
        Datagram::Ack(_) => {
            Err(WireError::BadEnvelope { detail: "an acknowledgement where a message was expected".into() })
        }
    }
}

/// Decodes one datagram or frame, JSON or binary, message or acknowledgement, checking
/// everything a peer could get wrong: size, syntax, completeness, version, message type,
/// body, and that the type and the body agree. A run identity it carries is checked and
/// ignored: see [`decode_with_run`].
pub fn decode_datagram<M: Message + DeserializeOwned>(bytes: &[u8]) -> Result<Datagram<M>, WireError> {
    decode_with_run(bytes).map(|(datagram, _)| datagram)
}

/// [`decode_datagram`], with the run identity the datagram carries (`None`: it names no
/// run, as a Python lab script's do not).
pub fn decode_with_run<M: Message + DeserializeOwned>(bytes: &[u8]) -> Result<(Datagram<M>, Option<RunId>), WireError> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(WireError::TooLarge { len: bytes.len() });
    }
    match bytes.first() {
        None => Err(WireError::Empty),
        Some(&BINARY_MAGIC) => decode_binary(&bytes[1..]).map(|(env, run)| (Datagram::Message(env), run)),
        Some(&BINARY_ACK_MAGIC) => decode_binary_ack(&bytes[1..]).map(|(ack, run)| (Datagram::Ack(ack), run)),
        // A Fernet token is base64 of 0x80 then a 64-bit timestamp whose top bytes are
        // zero until the year 10^12: it always starts with "gAAAAA". JSON cannot.
        Some(b'g') if bytes.starts_with(b"gAAAAA") => Err(WireError::Encrypted),
        Some(_) => json_read::decode_json(bytes),
    }
}

/// What follows a binary envelope or acknowledgement: nothing, or its run.
fn binary_run(rest: &[u8], what: &str) -> Result<Option<RunId>, WireError> {
    if rest.is_empty() {
        return Ok(None);
    }
    let bad = || WireError::BadEnvelope {
        detail: format!("{} bytes after the {what} that are not a run identity", rest.len()),
    };
    let (text, after) = postcard::take_from_bytes::<&str>(rest).map_err(|_| bad())?;
    if !after.is_empty() {
        return Err(bad());
    }
    RunId::new(text).map(Some).map_err(|detail| WireError::BadEnvelope { detail: format!("`run`: {detail}") })
}

fn decode_binary_ack(bytes: &[u8]) -> Result<(Ack, Option<RunId>), WireError> {
    let (v, rest) = postcard::take_from_bytes::<u64>(bytes).map_err(binary_error)?;
    if v != VERSION {
        return Err(WireError::Version { found: v.to_string() });
    }
    let ((from, to, upto), rest) = postcard::take_from_bytes::<(u32, u32, u64)>(rest).map_err(binary_error)?;
    let run = binary_run(rest, "acknowledgement")?;
    Ok((Ack { from: NodeId(from), to: NodeId(to), upto }, run))
}

fn decode_binary<M: Message + DeserializeOwned>(bytes: &[u8]) -> Result<(Envelope<M>, Option<RunId>), WireError> {
    // The version comes alone first, so that a future header layout is reported as a
    // version mismatch rather than as garbage.
    let (v, rest) = postcard::take_from_bytes::<u64>(bytes).map_err(binary_error)?;
    if v != VERSION {
        return Err(WireError::Version { found: v.to_string() });
    }
    let (header, rest) = postcard::take_from_bytes::<BinHeader>(rest).map_err(binary_error)?;
    let declared = usize::try_from(header.kind)
        .ok()
        .filter(|&k| k < M::kinds().len())
        .ok_or_else(|| WireError::UnknownType { found: format!("#{}", header.kind), expected: M::kinds() })?;
    let (body, rest) = postcard::take_from_bytes::<M>(rest).map_err(|e| match e {
        postcard::Error::DeserializeUnexpectedEnd => WireError::Truncated { encoding: Wire::Binary },
        e => WireError::BadBody { kind: M::kinds()[declared], detail: e.to_string() },
    })?;
    let run = binary_run(rest, "body")?;
    check_kind(&body, declared)?;
    let env = Envelope {
        from: NodeId(header.from),
        to: NodeId(header.to),
        lamport: header.lamport,
        vc: header.vc,
        seq: header.seq,
        body,
    };
    Ok((env, run))
}

fn binary_error(e: postcard::Error) -> WireError {
    match e {
        postcard::Error::DeserializeUnexpectedEnd => WireError::Truncated { encoding: Wire::Binary },
        e => WireError::BadEnvelope { detail: e.to_string() },
    }
}

fn kind_index<M: Message>(name: &str) -> Option<usize> {
    M::kinds().iter().position(|k| *k == name)
}

fn check_kind<M: Message>(body: &M, declared: usize) -> Result<(), WireError> {
    // `kind()` is the algorithm's own code: guard the index rather than trust it.
    let actual = body.kind();
    if actual == declared {
        return Ok(());
    }
    Err(WireError::TypeMismatch {
        declared: M::kinds()[declared],
        actual: M::kinds().get(actual).copied().unwrap_or("?"),
    })
}

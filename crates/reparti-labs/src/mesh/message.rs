//! The mesh's datagrams: one JSON object each, as written in the module doc of
//! [`crate::mesh`]. Decoding treats its input as hostile: any byte string gives either a
//! message or a one-line reason, never a panic.
//!
//! A `MSG` comes in two forms, both `"type":"MSG"`: with a vector clock (`vclock`, what
//! reparti members send: [`MeshMessage::Stamped`]) or without one (a member that keeps
//! only TP6's Lamport clock, exercise 1: [`MeshMessage::Msg`]). Its text is the sheet's
//! `content`; `text`, the field's name before, is still read.

use super::vclock::VectorClock;
use reparti_net::wire::{MAX_DATAGRAM, VERSION};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::SocketAddr;

/// What one member tells another.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MeshMessage {
    /// `HELLO`: "I am a member, record me" (TP4's `introduce_self`). With `ask_peers`,
    /// also "you are my seed: send me the members you know and introduce me to them".
    Hello {
        /// Whether the receiver should answer with `PEERS` and introduce the sender.
        ask_peers: bool,
    },
    /// `PEERS`: "these are members": a seed's answer, or its news of a newcomer.
    Peers(Vec<SocketAddr>),
    /// `BYE`: "I am leaving, forget me".
    Bye,
    /// `MSG`: an application message stamped with the sender's Lamport clock only (TP6's
    /// message object with `content` and `clock`, exercise 1).
    Msg {
        /// The content (`content` on the wire).
        text: String,
        /// The sender's Lamport clock, incremented for this send.
        clock: u64,
    },
    /// `MSG` with the sender's vector clock as well (TP6, exercise 2): what reparti's
    /// members send.
    Stamped {
        /// The content (`content` on the wire).
        text: String,
        /// The sender's Lamport clock, incremented for this send.
        clock: u64,
        /// The sender's vector clock, its own entry incremented for this send (`vclock`
        /// on the wire).
        vclock: VectorClock,
    },
}

impl MeshMessage {
    /// The `type` field of this message.
    pub fn kind(&self) -> &'static str {
        match self {
            MeshMessage::Hello { .. } => "HELLO",
            MeshMessage::Peers(_) => "PEERS",
            MeshMessage::Bye => "BYE",
            MeshMessage::Msg { .. } | MeshMessage::Stamped { .. } => "MSG",
        }
    }
}

/// The envelope as it arrives. `body` is kept as a raw JSON value so that a missing
/// or odd body yields a message naming the field instead of serde's generic error.
#[derive(Deserialize)]
struct Incoming {
    v: u64,
    from: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    body: Value,
}

/// The envelope as it leaves: typed bodies, so the fields come out in the documented
/// order whatever `serde_json` features the build enables.
#[derive(Serialize)]
struct Outgoing<'a> {
    v: u64,
    from: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<OutgoingBody<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum OutgoingBody<'a> {
    Hello { ask_peers: bool },
    Peers(Vec<String>),
    Msg { content: &'a str, clock: u64 },
    Stamped { content: &'a str, clock: u64, vclock: &'a VectorClock },
}

#[derive(Deserialize)]
struct HelloBody {
    #[serde(default)]
    ask_peers: bool,
}

#[derive(Deserialize)]
struct MsgBody {
    /// `text` is the name reparti gave the field before following the sheet's.
    #[serde(alias = "text")]
    content: String,
    clock: u64,
    #[serde(default)]
    vclock: Value,
}

/// Encodes `msg` from the member at `from` as one JSON datagram.
pub fn encode(from: SocketAddr, msg: &MeshMessage) -> Vec<u8> {
    let body = match msg {
        MeshMessage::Hello { ask_peers: false } | MeshMessage::Bye => None,
        MeshMessage::Hello { ask_peers: true } => Some(OutgoingBody::Hello { ask_peers: true }),
        MeshMessage::Peers(addrs) => Some(OutgoingBody::Peers(addrs.iter().map(ToString::to_string).collect())),
        MeshMessage::Msg { text, clock } => Some(OutgoingBody::Msg { content: text, clock: *clock }),
        MeshMessage::Stamped { text, clock, vclock } => {
            Some(OutgoingBody::Stamped { content: text, clock: *clock, vclock })
        }
    };
    let out = Outgoing { v: VERSION, from: from.to_string(), kind: msg.kind(), body };
    // Strings, integers, lists of strings and maps of integers always serialise.
    serde_json::to_vec(&out).unwrap_or_default()
}

/// Decodes one datagram into the sender's address and its message, or says why not.
pub fn decode(bytes: &[u8]) -> Result<(SocketAddr, MeshMessage), String> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(format!("{} bytes, over the 64 KiB limit", bytes.len()));
    }
    let raw: Incoming = serde_json::from_slice(bytes).map_err(|e| {
        format!("not a mesh envelope ({e}): expected {{\"v\":1,\"from\":\"HOST:PORT\",\"type\":...,\"body\":...}}")
    })?;
    if raw.v != VERSION {
        return Err(format!("wire format version {}, expected {VERSION}", raw.v));
    }
    let from = parse_addr(&raw.from).map_err(|e| format!("field `from`: {e}"))?;
    let msg = match raw.kind.as_str() {
        "HELLO" => {
            let body: HelloBody = match raw.body {
                Value::Null => HelloBody { ask_peers: false },
                other => body_of("HELLO", other, "{\"ask_peers\":true} or no body")?,
            };
            MeshMessage::Hello { ask_peers: body.ask_peers }
        }
        "PEERS" => {
            let texts: Vec<String> = body_of("PEERS", raw.body, "a list of \"HOST:PORT\" strings")?;
            let addrs = texts.iter().map(|t| parse_addr(t)).collect::<Result<Vec<_>, _>>();
            MeshMessage::Peers(addrs.map_err(|e| format!("PEERS body: {e}"))?)
        }
        "BYE" => MeshMessage::Bye,
        "MSG" => {
            let body: MsgBody = body_of("MSG", raw.body, "{\"content\":\"...\",\"clock\":N,\"vclock\":{...}}")?;
            match body.vclock {
                Value::Null => MeshMessage::Msg { text: body.content, clock: body.clock },
                v => {
                    let vclock = VectorClock::from_json(&v).map_err(|e| format!("MSG body, field `vclock`: {e}"))?;
                    MeshMessage::Stamped { text: body.content, clock: body.clock, vclock }
                }
            }
        }
        other => return Err(format!("unknown message type {other:?}: the mesh speaks HELLO, PEERS, BYE and MSG")),
    };
    Ok((from, msg))
}

fn body_of<T: serde::de::DeserializeOwned>(kind: &str, body: Value, expected: &str) -> Result<T, String> {
    serde_json::from_value(body).map_err(|e| format!("{kind} body is not {expected} ({e})"))
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| format!("{text:?} is not an IP:PORT address such as \"127.0.0.1:5001\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn vclock(entries: &[(u16, u64)]) -> VectorClock {
        entries.iter().map(|(port, count)| (addr(*port), *count)).collect()
    }

    #[test]
    fn every_message_round_trips() {
        let messages = [
            MeshMessage::Hello { ask_peers: false },
            MeshMessage::Hello { ask_peers: true },
            MeshMessage::Peers(vec![addr(5001), "[::1]:5002".parse().unwrap()]),
            MeshMessage::Peers(vec![]),
            MeshMessage::Bye,
            MeshMessage::Msg { text: "bonjour \"à\" tous".into(), clock: 7 },
            MeshMessage::Stamped { text: "v".into(), clock: 2, vclock: vclock(&[(5001, 2), (5002, 1)]) },
            MeshMessage::Stamped { text: String::new(), clock: 1, vclock: VectorClock::new() },
        ];
        for msg in messages {
            assert_eq!(decode(&encode(addr(5001), &msg)), Ok((addr(5001), msg)));
        }
    }

    #[test]
    fn the_documented_forms_are_the_encoded_ones() {
        let msg = MeshMessage::Stamped { text: "hello".into(), clock: 3, vclock: vclock(&[(5002, 1), (5001, 2)]) };
        assert_eq!(
            encode(addr(5001), &msg),
            br#"{"v":1,"from":"127.0.0.1:5001","type":"MSG","body":{"content":"hello","clock":3,"vclock":{"127.0.0.1:5001":2,"127.0.0.1:5002":1}}}"#
        );
        let lamport_only = MeshMessage::Msg { text: "hello".into(), clock: 3 };
        assert_eq!(
            encode(addr(5001), &lamport_only),
            br#"{"v":1,"from":"127.0.0.1:5001","type":"MSG","body":{"content":"hello","clock":3}}"#
        );
        assert_eq!(encode(addr(5001), &MeshMessage::Bye), br#"{"v":1,"from":"127.0.0.1:5001","type":"BYE"}"#);
        let peers = MeshMessage::Peers(vec![addr(5002)]);
        assert_eq!(
            encode(addr(5001), &peers),
            br#"{"v":1,"from":"127.0.0.1:5001","type":"PEERS","body":["127.0.0.1:5002"]}"#
        );
    }

    #[test]
    fn what_python_writes_is_read() {
        // Field order, spacing and an explicit null body are Python's business.
        let text = br#"{"type": "HELLO", "body": null, "from": "127.0.0.1:5003", "v": 1, "extra": 0}"#;
        assert_eq!(decode(text), Ok((addr(5003), MeshMessage::Hello { ask_peers: false })));
        // TP6 exercise 1's message, without a vector clock (or with a null one).
        let lamport_only = br#"{"v": 1, "from": "127.0.0.1:5003", "type": "MSG", "body": {"content": "hi", "clock": 4, "vclock": null}}"#;
        assert_eq!(decode(lamport_only), Ok((addr(5003), MeshMessage::Msg { text: "hi".into(), clock: 4 })));
    }

    #[test]
    fn the_old_text_field_is_still_read() {
        let old = br#"{"v":1,"from":"127.0.0.1:5003","type":"MSG","body":{"text":"hello","clock":3}}"#;
        assert_eq!(decode(old), Ok((addr(5003), MeshMessage::Msg { text: "hello".into(), clock: 3 })));
        let both = br#"{"v":1,"from":"127.0.0.1:5003","type":"MSG","body":{"text":"a","content":"b","clock":3}}"#;
        assert!(decode(both).is_err_and(|e| e.contains("duplicate field")), "one content, under one name");
    }

    #[test]
    fn hostile_input_is_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not a mesh envelope"),
            (b"\xff\xfe", "not a mesh envelope"),
            (b"hello", "not a mesh envelope"),
            (br#"{"v":2,"from":"127.0.0.1:1","type":"BYE"}"#, "version 2"),
            (br#"{"v":1,"from":"localhost","type":"BYE"}"#, "field `from`"),
            (br#"{"v":1,"from":5001,"type":"BYE"}"#, "not a mesh envelope"),
            (br#"{"v":1,"from":"127.0.0.1:1","type":"ELECT"}"#, "unknown message type"),
            (br#"{"v":1,"from":"127.0.0.1:1","type":"MSG","body":{"text":"x"}}"#, "MSG body"),
            (br#"{"v":1,"from":"127.0.0.1:1","type":"MSG","body":{"clock":1}}"#, "MSG body"),
            (
                br#"{"v":1,"from":"127.0.0.1:1","type":"MSG","body":{"content":"x","clock":1,"vclock":[1]}}"#,
                "field `vclock`",
            ),
            (
                br#"{"v":1,"from":"127.0.0.1:1","type":"MSG","body":{"content":"x","clock":1,"vclock":{"me":1}}}"#,
                "field `vclock`",
            ),
            (br#"{"v":1,"from":"127.0.0.1:1","type":"MSG","body":{"text":"x","clock":-1}}"#, "MSG body"),
            (br#"{"v":1,"from":"127.0.0.1:1","type":"PEERS","body":["nowhere"]}"#, "PEERS body"),
            (br#"{"v":1,"from":"127.0.0.1:1","type":"PEERS"}"#, "PEERS body"),
            (br#"{"v":1,"from":"127.0.0.1:1","type":"HELLO","body":[1]}"#, "HELLO body"),
        ];
        for (bytes, expected) in cases {
            let err = decode(bytes).expect_err("refused");
            assert!(err.contains(expected), "{:?}: {err}", String::from_utf8_lossy(bytes));
        }
        assert!(decode(&vec![b' '; MAX_DATAGRAM + 1]).is_err_and(|e| e.contains("64 KiB")));
    }
}

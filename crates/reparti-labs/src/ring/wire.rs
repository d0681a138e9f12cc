//! The lab ring's datagrams: one JSON object each, as the table in [`crate::ring`]
//! describes. Decoding treats its input as hostile: any byte string gives either an
//! envelope or a one-line reason, never a panic.

use reparti_net::wire::{MAX_DATAGRAM, VERSION};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A node's name in the lab ring: the UDP port it listens on (1..65535), as the lab
/// sheet names nodes.
pub type Port = u16;

/// What one lab node tells another.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RingMessage {
    /// `SUCCESSOR`: "I am your successor: send the token and the messages to me".
    Successor,
    /// `SUCCESSOR_OK`: the predecessor's answer, "noted: you are my successor".
    SuccessorOk,
    /// `TOKEN`: the right to originate messages, passed to the successor. The registry
    /// ring numbers its passes (`"body":{"pass":N}`, the token's Nth pass since it was
    /// made), so that one token can be told from two; TP3's ring sends no body.
    Token(Option<u64>),
    /// `LEAVE`: a node leaving the registry ring, to every member left: "stop sending
    /// to me".
    Leave,
    /// `LEAVE_OK`: a member's answer: "noted; nothing more comes to you from me".
    LeaveOk,
    /// `DATA`: a text travelling hop by hop towards the node whose port is `dest`.
    Data(Data),
}

/// The body of a `DATA` datagram. Fields in this order on the wire.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Data {
    /// The port of the node that wrote the text (and held the token to send it).
    pub origin: Port,
    /// The port of the node it is for: any port, a node of the ring or not.
    pub dest: Port,
    /// Links crossed so far, this one included: 1 on leaving the origin.
    pub hops: u32,
    /// The text.
    pub text: String,
}

/// One datagram: who sends, to whom, the sender's Lamport clock, the message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Envelope {
    /// The sender's port.
    pub from: Port,
    /// The receiver's port.
    pub to: Port,
    /// The sender's Lamport clock: stamped after the send's tick for `TOKEN` and `DATA`,
    /// its current value for the two plumbing messages.
    pub lamport: u64,
    /// The message.
    pub msg: RingMessage,
}

impl RingMessage {
    /// The `type` field of this message.
    pub fn kind(&self) -> &'static str {
        match self {
            RingMessage::Successor => "SUCCESSOR",
            RingMessage::SuccessorOk => "SUCCESSOR_OK",
            RingMessage::Token(_) => "TOKEN",
            RingMessage::Leave => "LEAVE",
            RingMessage::LeaveOk => "LEAVE_OK",
            RingMessage::Data(_) => "DATA",
        }
    }
}

/// The envelope as it leaves: typed fields in the documented order.
#[derive(Serialize)]
struct Outgoing<'a> {
    v: u64,
    from: Port,
    to: Port,
    lamport: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Body<'a>>,
}

/// What follows `type`, for the two messages that carry something.
#[derive(Serialize)]
#[serde(untagged)]
enum Body<'a> {
    Data(&'a Data),
    Pass { pass: u64 },
}

/// The envelope as it arrives. Ports are read as wide integers so that `70000` is
/// refused with a message naming the field rather than serde's generic overflow.
#[derive(Deserialize)]
struct Incoming {
    v: u64,
    from: u64,
    to: u64,
    lamport: u64,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    body: Value,
}

/// Encodes one envelope as a JSON datagram.
pub fn encode(env: &Envelope) -> Vec<u8> {
    let body = match &env.msg {
        RingMessage::Data(data) => Some(Body::Data(data)),
        RingMessage::Token(Some(pass)) => Some(Body::Pass { pass: *pass }),
        _ => None,
    };
    let out = Outgoing { v: VERSION, from: env.from, to: env.to, lamport: env.lamport, kind: env.msg.kind(), body };
    // Integers and strings always serialise.
    serde_json::to_vec(&out).unwrap_or_default()
}

/// Decodes one (already opened) datagram, or says why it is not a lab ring envelope.
pub fn decode(bytes: &[u8]) -> Result<Envelope, String> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(format!("{} bytes, over the 64 KiB limit", bytes.len()));
    }
    let raw: Incoming = serde_json::from_slice(bytes).map_err(|e| {
        // A sealed datagram reaching a node without a key is the usual cause.
        let hint = if bytes.starts_with(b"gAAAAA") {
            ": it is a Fernet token, so the sender encrypts: give every node the same --key-file"
        } else {
            ""
        };
        format!(
            "not a lab ring envelope ({e}): expected {{\"v\":1,\"from\":PORT,\"to\":PORT,\"lamport\":N,\"type\":...}}{hint}"
        )
    })?;
    if raw.v != VERSION {
        return Err(format!("wire format version {}, expected {VERSION}", raw.v));
    }
    let from = port_field("from", raw.from)?;
    let to = port_field("to", raw.to)?;
    let msg = match raw.kind.as_str() {
        "SUCCESSOR" => RingMessage::Successor,
        "SUCCESSOR_OK" => RingMessage::SuccessorOk,
        // A body that is not {"pass":N} (Python's catalogue node writes "Token") is no
        // count: TP3's token.
        "TOKEN" => RingMessage::Token(raw.body.get("pass").and_then(Value::as_u64)),
        "LEAVE" => RingMessage::Leave,
        "LEAVE_OK" => RingMessage::LeaveOk,
        "DATA" => {
            let data: Data = serde_json::from_value(raw.body).map_err(|e| {
                format!("DATA body is not {{\"origin\":PORT,\"dest\":PORT,\"hops\":N,\"text\":\"...\"}} ({e})")
            })?;
            if data.origin == 0 || data.dest == 0 {
                return Err("DATA body: port 0 names no node (ports are 1..65535)".into());
            }
            RingMessage::Data(data)
        }
        other => {
            return Err(format!(
                "unknown message type {other:?}: the lab ring speaks SUCCESSOR, SUCCESSOR_OK, TOKEN, DATA, LEAVE and LEAVE_OK"
            ))
        }
    };
    Ok(Envelope { from, to, lamport: raw.lamport, msg })
}

fn port_field(field: &str, value: u64) -> Result<Port, String> {
    match Port::try_from(value) {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(format!("field `{field}`: {value} is not a port (1..65535), and the lab ring names nodes by port")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(msg: RingMessage) -> Envelope {
        Envelope { from: 5001, to: 5002, lamport: 7, msg }
    }

    #[test]
    fn every_message_round_trips() {
        let data = Data { origin: 5003, dest: 5001, hops: 2, text: "bonjour \"à\" tous".into() };
        let all = [
            RingMessage::Successor,
            RingMessage::SuccessorOk,
            RingMessage::Token(None),
            RingMessage::Token(Some(12)),
            RingMessage::Leave,
            RingMessage::LeaveOk,
            RingMessage::Data(data),
        ];
        for msg in all {
            let e = env(msg);
            assert_eq!(decode(&encode(&e)), Ok(e));
        }
    }

    #[test]
    fn the_documented_forms_are_the_encoded_ones() {
        assert_eq!(
            encode(&env(RingMessage::Token(None))),
            br#"{"v":1,"from":5001,"to":5002,"lamport":7,"type":"TOKEN"}"#
        );
        assert_eq!(
            encode(&env(RingMessage::Token(Some(3)))),
            br#"{"v":1,"from":5001,"to":5002,"lamport":7,"type":"TOKEN","body":{"pass":3}}"#
        );
        let data = Data { origin: 5001, dest: 5003, hops: 1, text: "hi".into() };
        assert_eq!(
            encode(&env(RingMessage::Data(data))),
            br#"{"v":1,"from":5001,"to":5002,"lamport":7,"type":"DATA","body":{"origin":5001,"dest":5003,"hops":1,"text":"hi"}}"#
        );
    }

    #[test]
    fn what_python_writes_is_read() {
        // Field order, spacing, a null body and extra fields are the sender's business.
        let text = br#"{"type": "SUCCESSOR", "body": null, "lamport": 0, "to": 5001, "from": 5003, "v": 1, "x": 2}"#;
        assert_eq!(decode(text), Ok(Envelope { from: 5003, to: 5001, lamport: 0, msg: RingMessage::Successor }));
    }

    #[test]
    fn hostile_input_is_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not a lab ring envelope"),
            (b"\xff\xfe", "not a lab ring envelope"),
            (b"gAAAAABk", "give every node the same --key-file"),
            (br#"{"v":2,"from":1,"to":2,"lamport":0,"type":"TOKEN"}"#, "version 2"),
            (br#"{"v":1,"from":70000,"to":2,"lamport":0,"type":"TOKEN"}"#, "field `from`"),
            (br#"{"v":1,"from":1,"to":0,"lamport":0,"type":"TOKEN"}"#, "field `to`"),
            (br#"{"v":1,"from":"127.0.0.1:1","to":2,"lamport":0,"type":"TOKEN"}"#, "not a lab ring envelope"),
            (br#"{"v":1,"from":1,"to":2,"lamport":-1,"type":"TOKEN"}"#, "not a lab ring envelope"),
            (br#"{"v":1,"from":1,"to":2,"lamport":0,"type":"ELECT"}"#, "unknown message type"),
            (br#"{"v":1,"from":1,"to":2,"lamport":0,"type":"DATA"}"#, "DATA body"),
            (br#"{"v":1,"from":1,"to":2,"lamport":0,"type":"DATA","body":{"Data":{}}}"#, "DATA body"),
            (br#"{"v":1,"from":1,"to":2,"lamport":0,"type":"DATA","body":{"origin":0,"dest":2,"hops":1,"text":""}}"#, "port 0"),
            (br#"{"v":1,"from":1,"to":2,"lamport":0,"type":"DATA","body":{"origin":1,"dest":2,"hops":-1,"text":""}}"#, "DATA body"),
        ];
        for (bytes, expected) in cases {
            let err = decode(bytes).expect_err("refused");
            assert!(err.contains(expected), "{:?}: {err}", String::from_utf8_lossy(bytes));
        }
        assert!(decode(&vec![b' '; MAX_DATAGRAM + 1]).is_err_and(|e| e.contains("64 KiB")));
    }
}

//! Reading a JSON envelope or acknowledgement: our own form on the fast path
//! (`json_fast.rs`), anything else through `serde_json`, and either checked the same way
//! ([`assemble`]) before it reaches a node.

use super::json_fast;
use super::{check_kind, kind_index, Ack, Datagram, Envelope, RunId, Wire, WireError, VERSION};
use reparti_core::{Message, NodeId};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The JSON envelope or acknowledgement as read, its body read as `B`: the message
/// itself (read by `json_fast`, or by `serde_json` in one pass), or left raw (`&RawValue`) when
/// that failed, to name the fault — an unknown type is then reported as such rather than
/// as a body that does not parse. An object with `ack` and no `type` is an
/// acknowledgement.
#[derive(Deserialize)]
#[serde(bound(deserialize = "B: Deserialize<'de>"))]
pub(super) struct JsonIn<'a, B> {
    pub(super) v: u64,
    pub(super) from: u32,
    pub(super) to: u32,
    #[serde(default)]
    pub(super) lamport: Option<u64>,
    #[serde(default)]
    pub(super) vc: Option<Vec<u64>>,
    #[serde(default)]
    pub(super) seq: Option<u64>,
    #[serde(default)]
    pub(super) ack: Option<u64>,
    // A string or an integer, read by `run_of` (raw, so that either form is accepted).
    #[serde(default, borrow)]
    pub(super) run: Option<&'a RawValue>,
    #[serde(default, rename = "type", borrow)]
    pub(super) kind: Option<Cow<'a, str>>,
    // `null` is a body (a unit message), not a missing one: only absence is `None`.
    #[serde(default = "no_body", deserialize_with = "present_body")]
    pub(super) body: Option<B>,
}

fn no_body<B>() -> Option<B> {
    None
}

fn present_body<'de, D: serde::Deserializer<'de>, B: Deserialize<'de>>(d: D) -> Result<Option<B>, D::Error> {
    B::deserialize(d).map(Some)
}

pub(super) fn decode_json<M: Message + DeserializeOwned>(
    bytes: &[u8],
) -> Result<(Datagram<M>, Option<RunId>), WireError> {
    // What our own nodes write, read in the form they write it (see `json_fast.rs`).
    if let Some(typed) = std::str::from_utf8(bytes).ok().and_then(json_fast::read::<M>) {
        return assemble(typed, |body, _| Ok(body));
    }
    decode_json_general(bytes)
}

/// Any JSON datagram, read by `serde_json`.
pub(super) fn decode_json_general<M: Message + DeserializeOwned>(
    bytes: &[u8],
) -> Result<(Datagram<M>, Option<RunId>), WireError> {
    // Almost every datagram is well formed: read it in one pass, body and all, its
    // UTF-8 checked once for the whole (a few words at a time) rather than string by
    // string.
    let text = std::str::from_utf8(bytes).ok();
    if let Some(typed) = text.and_then(|text| serde_json::from_str::<JsonIn<'_, M>>(text).ok()) {
        return assemble(typed, |body, _| Ok(body));
    }
    // Something is wrong: read it again with the body raw, to say what.
    let raw: JsonIn<'_, &RawValue> = serde_json::from_slice(bytes).map_err(|e| json_error(bytes, e))?;
    assemble(raw, |raw_body, declared| {
        serde_json::from_str(raw_body.get())
            .map_err(|e| WireError::BadBody { kind: M::kinds()[declared], detail: e.to_string() })
    })
}

/// An envelope or acknowledgement from what was read, checked in the order a reader
/// needs: version, run, type (or acknowledgement), clock, body, and that they agree.
fn assemble<M: Message, B>(
    raw: JsonIn<'_, B>,
    body_of: impl FnOnce(B, usize) -> Result<M, WireError>,
) -> Result<(Datagram<M>, Option<RunId>), WireError> {
    if raw.v != VERSION {
        return Err(WireError::Version { found: raw.v.to_string() });
    }
    let run = raw.run.map(json_run).transpose()?;
    let missing = |field: &str| WireError::BadEnvelope { detail: format!("missing field `{field}`") };
    let kind = match (raw.kind, raw.ack) {
        (Some(kind), _) => kind,
        (None, Some(upto)) => {
            return Ok((Datagram::Ack(Ack { from: NodeId(raw.from), to: NodeId(raw.to), upto }), run));
        }
        (None, None) => return Err(missing("type")),
    };
    let lamport = raw.lamport.ok_or_else(|| missing("lamport"))?;
    let raw_body = raw.body.ok_or_else(|| missing("body"))?;
    let declared = kind_index::<M>(&kind)
        .ok_or_else(|| WireError::UnknownType { found: kind.clone().into_owned(), expected: M::kinds() })?;
    let body = body_of(raw_body, declared)?;
    check_kind(&body, declared)?;
    let env = Envelope { from: NodeId(raw.from), to: NodeId(raw.to), lamport, vc: raw.vc, seq: raw.seq, body };
    Ok((Datagram::Message(env), run))
}

/// The JSON `run`: a string, or an integer taken as its decimal text.
fn json_run(raw: &RawValue) -> Result<RunId, WireError> {
    let bad = |detail: String| WireError::BadEnvelope { detail: format!("`run`: {detail}") };
    let text = raw.get();
    let run =
        if let Some(plain) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).filter(|t| !t.contains('\\')) {
            // What we send: a string without escapes, taken as it stands.
            RunId::new(plain)
        } else if text.starts_with('"') {
            let s: Cow<'_, str> = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
            RunId::new(&s)
        } else {
            let n: u64 =
                serde_json::from_str(text).map_err(|_| bad(format!("{text} is neither a string nor an integer")))?;
            RunId::new(&n.to_string())
        };
    run.map_err(bad)
}

/// Classifies a failed envelope parse. Only on this error path do we parse a second time,
/// to report a future version as such even when its fields differ from ours.
fn json_error(bytes: &[u8], e: serde_json::Error) -> WireError {
    if e.is_eof() {
        return WireError::Truncated { encoding: Wire::Json };
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(bytes) {
        if let Some(v) = map.get("v").filter(|v| v.as_u64() != Some(VERSION)) {
            return WireError::Version { found: v.to_string() };
        }
    }
    if e.is_syntax() {
        WireError::NotJson { detail: e.to_string() }
    } else {
        WireError::BadEnvelope { detail: e.to_string() }
    }
}

//! The JSON envelopes and acknowledgements we write, read without serde's walk over keys.
//!
//! A JSON ring hop spent half of its instructions in `serde_json` reading the envelope's
//! header: each key read as a string and matched against the field names, each number
//! through the generic visitor, the vector clock grown item by item. Our own nodes write
//! one exact form ([`super::encode_with_run`]: compact, keys in a fixed order, strings
//! without escapes), and this reads that form with plain loops, handing only the body to
//! `serde_json`. Anything else — spaces, another key order, an escape, a number
//! `serde_json` would refuse or read otherwise — is not recognised here, and the general
//! reader takes the datagram: what is accepted, and every error, stays `serde_json`'s.

use super::json_read::JsonIn;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A position in the text being read.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        &self.text.as_bytes()[self.at..]
    }

    /// Steps over `expected` if the text goes on with it.
    #[inline(always)]
    fn eat(&mut self, expected: &str) -> bool {
        let found = self.rest().starts_with(expected.as_bytes());
        if found {
            self.at += expected.len();
        }
        found
    }

    /// A non-negative integer as JSON writes it (no leading zero, no fraction or
    /// exponent, none of which we write), if it fits in 64 bits.
    #[inline(always)]
    fn number(&mut self) -> Option<u64> {
        let rest = self.rest();
        let first = *rest.first()?;
        if !first.is_ascii_digit() {
            return None;
        }
        let mut n = u64::from(first - b'0');
        let mut len = 1;
        while let Some(&c) = rest.get(len) {
            if !c.is_ascii_digit() {
                break;
            }
            if first == b'0' {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            len += 1;
        }
        if matches!(rest.get(len), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at += len;
        Some(n)
    }

    /// The rest of a string whose opening quote was read, if it has no escape and no
    /// control character; steps over the closing quote.
    fn plain_string(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let len = rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        let s = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(s)
    }

    /// An optional `,"run":"…"`, kept raw as the general reader keeps it.
    fn run(&mut self) -> Option<Option<&'a RawValue>> {
        if !self.eat(",\"run\":\"") {
            return Some(None);
        }
        let opening = self.at - 1;
        self.plain_string()?;
        let quoted = self.text.get(opening..self.at)?;
        serde_json::from_str::<&RawValue>(quoted).ok().map(Some)
    }
}

/// `text` read as an envelope or acknowledgement in exactly the form we write, or
/// `None` if it is not in that form (it may still be a valid datagram: see the module).
pub(super) fn read<M: DeserializeOwned>(text: &str) -> Option<JsonIn<'_, M>> {
    let mut c = Cursor { text, at: 0 };
    if !c.eat("{\"v\":") {
        return None;
    }
    let v = c.number()?;
    if !c.eat(",\"from\":") {
        return None;
    }
    let from = u32::try_from(c.number()?).ok()?;
    if !c.eat(",\"to\":") {
        return None;
    }
    let to = u32::try_from(c.number()?).ok()?;
    if c.eat(",\"ack\":") {
        let ack = c.number()?;
        let run = c.run()?;
        return (c.eat("}") && c.at == text.len()).then_some(JsonIn {
            v,
            from,
            to,
            lamport: None,
            vc: None,
            seq: None,
            ack: Some(ack),
            run,
            kind: None,
            body: None,
        });
    }
    if !c.eat(",\"lamport\":") {
        return None;
    }
    let lamport = c.number()?;
    let vc = if c.eat(",\"vc\":[") {
        // Sized once: as many entries as commas before the bracket, plus one.
        let items = c.rest().iter().take_while(|&&b| b != b']').filter(|&&b| b == b',').count() + 1;
        let mut vc = Vec::with_capacity(items);
        if !c.eat("]") {
            loop {
                vc.push(c.number()?);
                if c.eat("]") {
                    break;
                }
                if !c.eat(",") {
                    return None;
                }
            }
        }
        Some(vc)
    } else {
        None
    };
    let seq = if c.eat(",\"seq\":") { Some(c.number()?) } else { None };
    let run = c.run()?;
    if !c.eat(",\"type\":\"") {
        return None;
    }
    let kind = c.plain_string()?;
    if !c.eat(",\"body\":") || !text.ends_with('}') {
        return None;
    }
    // The body is the rest, up to the envelope's closing brace: anything after the body
    // (another key) makes it fail to parse, and the general reader takes over.
    let body: M = serde_json::from_str(text.get(c.at..text.len() - 1)?).ok()?;
    Some(JsonIn {
        v,
        from,
        to,
        lamport: Some(lamport),
        vc,
        seq,
        ack: None,
        run,
        kind: Some(Cow::Borrowed(kind)),
        body: Some(body),
    })
}

#[cfg(test)]
mod tests {
    use super::super::json_read::{decode_json, decode_json_general};
    use super::super::{encode_ack_with_run, encode_with_run, Ack, Envelope};
    use super::super::{RunId, Wire};
    use reparti_algos::election::chang_roberts;
    use reparti_algos::mutex::ricart_agrawala;
    use reparti_core::{Message, NodeId};
    use serde::de::DeserializeOwned;

    /// What the general reader says of `bytes`, and what the reader with the fast path
    /// says: they must agree on every input.
    fn agree<M: Message + DeserializeOwned>(bytes: &[u8]) {
        let general = format!("{:?}", decode_json_general::<M>(bytes));
        let fast = format!("{:?}", decode_json::<M>(bytes));
        assert_eq!(fast, general, "{}", String::from_utf8_lossy(bytes));
    }

    fn envelopes() -> Vec<Vec<u8>> {
        let run = RunId::new("run-7").expect("a run id");
        let mut all = Vec::new();
        for (vc, seq, run) in [(None, None, None), (Some(vec![1, 0, 12_345_678_901]), Some(3), Some(&run))] {
            let e =
                Envelope { from: NodeId(2), to: NodeId(3), lamport: 7, vc, seq, body: chang_roberts::Msg::Elect(5) };
            all.push(encode_with_run(&e, Wire::Json, run).expect("encodes"));
            let ack = Ack { from: NodeId(3), to: NodeId(2), upto: 41 };
            all.push(encode_ack_with_run(&ack, Wire::Json, run));
        }
        all
    }

    #[test]
    fn what_we_write_is_read_on_the_fast_path_as_the_general_reader_reads_it() {
        for bytes in envelopes() {
            let text = std::str::from_utf8(&bytes).expect("UTF-8");
            if text.contains("\"ack\"") {
                assert!(super::read::<chang_roberts::Msg>(text).is_some(), "{text}");
            } else {
                let typed = super::read::<chang_roberts::Msg>(text).expect("our own form");
                assert_eq!(typed.body, Some(chang_roberts::Msg::Elect(5)));
            }
            agree::<chang_roberts::Msg>(&bytes);
        }
        // A body with fields, a unit body.
        for body in [ricart_agrawala::Msg::Request { ts: 4, id: 1 }, ricart_agrawala::Msg::Reply] {
            let e = Envelope { from: NodeId(0), to: NodeId(1), lamport: 1, vc: None, seq: Some(1), body };
            agree::<ricart_agrawala::Msg>(&encode_with_run(&e, Wire::Json, None).expect("encodes"));
        }
    }

    #[test]
    fn anything_else_is_read_as_the_general_reader_reads_it() {
        let forms: [&[u8]; 12] = [
            br#"{"v":1,"from":2,"to":3,"lamport":07,"type":"ELECT","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":2,"to":3,"lamport":7.0,"type":"ELECT","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":2,"to":3,"lamport":-7,"type":"ELECT","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":4294967296,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":2,"to":3,"lamport":18446744073709551616,"type":"ELECT","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"EL\u0045CT","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5},"seq":4}"#,
            br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5} }"#,
            br#"{"v":1,"from":2,"to":3,"lamport":7,"vc":[1,,2],"type":"ELECT","body":{"ELECT":5}}"#,
            br#"{"v":2,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECTED","body":{"ELECT":5}}"#,
            br#"{"v":1,"from":2,"to":3,"ack":4,"run":"a\"b"}"#,
        ];
        for bytes in forms {
            agree::<chang_roberts::Msg>(bytes);
        }
        // Every cut and every one-byte change of what we write.
        for bytes in envelopes() {
            for end in 0..bytes.len() {
                agree::<chang_roberts::Msg>(&bytes[..end]);
            }
            for at in 0..bytes.len() {
                for by in [b'0', b'9', b'"', b'}', b' ', b',', 0xC3] {
                    let mut changed = bytes.clone();
                    changed[at] = by;
                    agree::<chang_roberts::Msg>(&changed);
                }
            }
        }
    }
}

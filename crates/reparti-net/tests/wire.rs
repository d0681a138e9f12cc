//! The wire format against the real algorithms' messages, and against hostile bytes.

use proptest::prelude::*;
use reparti_algos::communication::token_ring;
use reparti_algos::election::{chang_roberts, chang_roberts_lab, franklin};
use reparti_algos::mutex::ricart_agrawala;
use reparti_algos::time::logical_clocks;
use reparti_core::{Message, NodeId};
use reparti_net::wire::{
    decode, decode_with_run, encode, try_encode, Envelope, RunId, Wire, WireError, BINARY_MAGIC, MAX_DATAGRAM,
};
use serde::de::DeserializeOwned;

fn env<M>(body: M, vc: Option<Vec<u64>>) -> Envelope<M> {
    Envelope { from: NodeId(2), to: NodeId(3), lamport: 7, vc, seq: None, body }
}

/// Encodes in both encodings and checks each decodes to the same envelope.
fn round_trip<M: Message + DeserializeOwned>(e: &Envelope<M>) {
    for wire in [Wire::Json, Wire::Binary] {
        let bytes = encode(e, wire);
        assert_eq!(bytes[0] == BINARY_MAGIC, wire == Wire::Binary);
        assert_eq!(decode::<M>(&bytes).as_ref(), Ok(e), "{wire}: {}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn the_documented_chang_roberts_datagram_is_exact() {
    // docs/PROTOCOL.md and examples/python/wire_example.py show these bytes.
    let e = env(chang_roberts::Msg::Elect(5), None);
    let json = br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#;
    assert_eq!(encode(&e, Wire::Json), json);
    assert_eq!(decode::<chang_roberts::Msg>(json), Ok(e.clone()));
    // Field order, spacing and a trailing newline are free, as a Python json.dumps writes.
    let python = b"{\"body\": {\"ELECT\": 5}, \"type\": \"ELECT\", \"lamport\": 7, \"to\": 3, \"from\": 2, \"v\": 1}\n";
    assert_eq!(decode::<chang_roberts::Msg>(python), Ok(e));
    let with_vc = env(chang_roberts::Msg::Elected(9), Some(vec![1, 0, 4]));
    assert_eq!(
        encode(&with_vc, Wire::Json),
        br#"{"v":1,"from":2,"to":3,"lamport":7,"vc":[1,0,4],"type":"ELECTED","body":{"ELECTED":9}}"#
    );
    // Binary: magic, then postcard varints: v=1, from, to, lamport, Some(vc), type index, body.
    assert_eq!(encode(&with_vc, Wire::Binary), [BINARY_MAGIC, 1, 2, 3, 7, 1, 3, 1, 0, 4, 0, 1, 1, 9]);
}

#[test]
fn every_algorithms_messages_round_trip_in_both_encodings() {
    for vc in [None, Some(vec![3, 1, 4, 1, 5])] {
        round_trip(&env(chang_roberts::Msg::Elect(u64::MAX), vc.clone()));
        round_trip(&env(chang_roberts::Msg::Elected(0), vc.clone()));
        round_trip(&env(franklin::Msg::Id { round: 3, id: 42, dir: franklin::Dir::Left }, vc.clone()));
        round_trip(&env(franklin::Msg::Elected { id: 42 }, vc.clone()));
        round_trip(&env(token_ring::Msg::Token, vc.clone()));
        round_trip(&env(
            token_ring::Msg::Data {
                origin: NodeId(1),
                seq: 4,
                dest: NodeId(0),
                hops: 2,
                text: "héllo \"ring\"\n".into(),
            },
            vc.clone(),
        ));
        round_trip(&env(ricart_agrawala::Msg::Request { ts: 9, id: 17 }, vc.clone()));
        round_trip(&env(ricart_agrawala::Msg::Reply, vc.clone()));
        round_trip(&env(logical_clocks::Msg { content: "bonjour".into() }, vc.clone()));
    }
}

#[test]
fn internally_tagged_messages_speak_json_but_not_binary() {
    // The lab's Chang–Roberts message is `#[serde(tag = "type")]`: postcard, which is not
    // self-describing, can write it but never read it back. That is a clean error.
    let e = env(chang_roberts_lab::Msg::Elect { id_elect: 5, port_elect: 5001 }, None);
    let json = encode(&e, Wire::Json);
    assert_eq!(decode::<chang_roberts_lab::Msg>(&json), Ok(e.clone()));
    let binary = encode(&e, Wire::Binary);
    assert!(matches!(decode::<chang_roberts_lab::Msg>(&binary), Err(WireError::BadBody { kind: "ELECT", .. })));
}

fn err<M: Message + DeserializeOwned>(bytes: &[u8]) -> WireError {
    match decode::<M>(bytes) {
        Err(e) => e,
        Ok(env) => panic!("{} decoded to {env:?}", String::from_utf8_lossy(bytes)),
    }
}

type Cr = chang_roberts::Msg;

#[test]
fn each_kind_of_bad_datagram_has_its_own_error() {
    assert_eq!(err::<Cr>(b""), WireError::Empty);
    assert!(matches!(err::<Cr>(b"hello"), WireError::NotJson { .. }));
    assert!(matches!(err::<Cr>(b"{\"v\":1,}"), WireError::NotJson { .. }));
    assert_eq!(err::<Cr>(br#"{"v":1,"from":2,"to":3,"lamp"#), WireError::Truncated { encoding: Wire::Json });
    assert!(matches!(err::<Cr>(br#"{"v":1,"from":2,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#),
        WireError::BadEnvelope { detail } if detail.contains("`to`")));
    assert!(matches!(
        err::<Cr>(br#"{"v":1,"from":-2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#),
        WireError::BadEnvelope { .. }
    ));
    assert!(matches!(err::<Cr>(b"[1,2,3]"), WireError::BadEnvelope { .. }));
    assert_eq!(
        err::<Cr>(br#"{"v":2,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#),
        WireError::Version { found: "2".into() }
    );
    // A future version whose fields differ is still reported as a version mismatch.
    assert_eq!(err::<Cr>(br#"{"v":"2.0","src":"a"}"#), WireError::Version { found: "\"2.0\"".into() });
    assert_eq!(
        err::<Cr>(br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"TOKEN","body":"Token"}"#),
        WireError::UnknownType { found: "TOKEN".into(), expected: &["ELECT", "ELECTED"] }
    );
    assert!(matches!(
        err::<Cr>(br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":"five"}}"#),
        WireError::BadBody { kind: "ELECT", .. }
    ));
    assert_eq!(
        err::<Cr>(br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECTED":5}}"#),
        WireError::TypeMismatch { declared: "ELECT", actual: "ELECTED" }
    );
    assert_eq!(err::<Cr>(b"gAAAAABl8xyz"), WireError::Encrypted);
    let big = vec![b' '; MAX_DATAGRAM + 1];
    assert_eq!(err::<Cr>(&big), WireError::TooLarge { len: MAX_DATAGRAM + 1 });
}

#[test]
fn bad_binary_datagrams_have_the_same_errors() {
    let good = encode(&env(chang_roberts::Msg::Elect(300), Some(vec![1, 2])), Wire::Binary);
    for cut in 1..good.len() {
        assert_eq!(err::<Cr>(&good[..cut]), WireError::Truncated { encoding: Wire::Binary }, "cut at {cut}");
    }
    let mut v2 = good.clone();
    v2[1] = 2;
    assert_eq!(err::<Cr>(&v2), WireError::Version { found: "2".into() });
    // Header: from=2, to=3, lamport=7, no vc, no seq, type index 5 (of 2).
    assert_eq!(
        err::<Cr>(&[BINARY_MAGIC, 1, 2, 3, 7, 0, 0, 5, 0, 5]),
        WireError::UnknownType { found: "#5".into(), expected: &["ELECT", "ELECTED"] }
    );
    assert_eq!(
        err::<Cr>(&[BINARY_MAGIC, 1, 2, 3, 7, 0, 0, 0, 1, 5]),
        WireError::TypeMismatch { declared: "ELECT", actual: "ELECTED" }
    );
    assert!(matches!(err::<Cr>(&[BINARY_MAGIC, 1, 2, 3, 7, 0, 0, 0, 9, 5]), WireError::BadBody { .. }));
    assert!(matches!(err::<Cr>(&[BINARY_MAGIC, 1, 2, 3, 7, 0, 0, 0, 0, 5, 0]), WireError::BadEnvelope { .. }));
    assert!(matches!(err::<Cr>(&[BINARY_MAGIC, 1, 2, 3, 7, 7, 0, 0, 5]), WireError::BadEnvelope { .. }));
}

#[test]
fn oversized_messages_are_refused_at_the_sender_too() {
    let text = "x".repeat(MAX_DATAGRAM);
    let e = env(logical_clocks::Msg { content: text }, None);
    match try_encode(&e, Wire::Json) {
        Err((WireError::TooLarge { len }, Some(bytes))) => assert_eq!(len, bytes.len()),
        other => panic!("expected TooLarge, got {:?}", other.map(|b| b.len())),
    }
    assert!(try_encode(&env(chang_roberts::Msg::Elect(1), None), Wire::Binary).is_ok());
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut deep = br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":"#.to_vec();
    deep.extend_from_slice(&[b'['; 60_000]);
    assert!(decode::<Cr>(&deep).is_err());
    let mut deep_body = br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":"#.to_vec();
    deep_body.extend_from_slice(&[b'['; 30_000]);
    deep_body.extend_from_slice(&[b']'; 30_000]);
    deep_body.push(b'}');
    assert!(decode::<Cr>(&deep_body).is_err());
}

#[test]
fn error_messages_are_one_line() {
    let errors = [
        err::<Cr>(b""),
        err::<Cr>(b"hello\nworld"),
        err::<Cr>(b"{\"v\":1"),
        err::<Cr>(br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"X","body":1}"#),
        err::<Cr>(b"gAAAAAB"),
    ];
    for e in errors {
        let text = e.to_string();
        assert!(!text.contains('\n') && text.contains(": "), "{text}");
    }
}

/// Which envelopes the property tests build: any algorithm message, any stamps.
fn any_envelope() -> impl Strategy<Value = Envelope<token_ring::Msg>> {
    let body = prop_oneof![
        Just(token_ring::Msg::Token),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>(), ".{0,40}").prop_map(
            |(origin, seq, dest, hops, text)| token_ring::Msg::Data {
                origin: NodeId(origin),
                seq,
                dest: NodeId(dest),
                hops,
                text
            }
        ),
    ];
    (
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        proptest::option::of(proptest::collection::vec(any::<u64>(), 0..8)),
        body,
    )
        .prop_map(|(from, to, lamport, vc, body)| Envelope {
            from: NodeId(from),
            to: NodeId(to),
            lamport,
            seq: lamport.checked_sub(1),
            vc,
            body,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes never panic the decoder, with or without a binary or JSON start.
    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..300), start in 0u8..3) {
        match start {
            1 => bytes.insert(0, BINARY_MAGIC),
            2 => bytes.splice(0..0, br#"{"v":1,"#.iter().copied()).for_each(drop),
            _ => {}
        }
        let _ = decode::<token_ring::Msg>(&bytes);
        let _ = decode::<franklin::Msg>(&bytes);
        let _ = decode::<chang_roberts_lab::Msg>(&bytes);
    }

    /// Valid envelopes round trip; corrupting one byte gives an error or a valid
    /// envelope (which then re-encodes to something that decodes to itself).
    #[test]
    fn corrupted_envelopes_decode_or_fail_cleanly(
        e in any_envelope(), binary in any::<bool>(), at in any::<prop::sample::Index>(), byte in any::<u8>()
    ) {
        let wire = if binary { Wire::Binary } else { Wire::Json };
        let mut bytes = encode(&e, wire);
        prop_assert_eq!(decode::<token_ring::Msg>(&bytes), Ok(e));
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(other) = decode::<token_ring::Msg>(&bytes) {
            prop_assert_eq!(decode::<token_ring::Msg>(&encode(&other, wire)), Ok(other));
        }
    }
}

/// The body of an envelope's JSON encoding, as text.
fn json_body<M: Message>(body: M) -> (String, serde_json::Value) {
    let bytes = encode(&env(body, None), Wire::Json);
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("our own JSON");
    (value["type"].as_str().unwrap_or("?").to_string(), value["body"].clone())
}

/// `TYPE BODY` as written in docs/PROTOCOL.md (key order is free in JSON).
fn doc(text: &str) -> (String, serde_json::Value) {
    let (kind, body) = text.split_once(' ').expect("TYPE BODY");
    (kind.to_string(), serde_json::from_str(body).expect("the doc's body is JSON"))
}

#[test]
fn the_body_table_of_protocol_md_is_exact() {
    assert_eq!(json_body(chang_roberts::Msg::Elected(5)), doc(r#"ELECTED {"ELECTED":5}"#));
    assert_eq!(
        json_body(franklin::Msg::Id { round: 1, id: 42, dir: franklin::Dir::Left }),
        doc(r#"ID {"ID":{"round":1,"id":42,"dir":"left"}}"#)
    );
    assert_eq!(json_body(franklin::Msg::Elected { id: 42 }), doc(r#"ELECTED {"ELECTED":{"id":42}}"#));
    assert_eq!(json_body(token_ring::Msg::Token), doc(r#"TOKEN "Token""#));
    let data = token_ring::Msg::Data { origin: NodeId(1), seq: 0, dest: NodeId(3), hops: 1, text: "hi".into() };
    assert_eq!(json_body(data), doc(r#"DATA {"Data":{"origin":1,"seq":0,"dest":3,"hops":1,"text":"hi"}}"#));
    assert_eq!(
        json_body(ricart_agrawala::Msg::Request { ts: 3, id: 17 }),
        doc(r#"REQUEST {"Request":{"ts":3,"id":17}}"#)
    );
    assert_eq!(json_body(ricart_agrawala::Msg::Reply), doc(r#"REPLY "Reply""#));
    assert_eq!(json_body(logical_clocks::Msg { content: "hello".into() }), doc(r#"MSG {"content":"hello"}"#));
    assert_eq!(
        json_body(chang_roberts_lab::Msg::Elect { id_elect: 5, port_elect: 5001 }),
        doc(r#"ELECT {"type":"ELECT","id_elect":5,"port_elect":5001}"#)
    );
}

#[test]
fn messages_carry_their_channel_sequence_number() {
    let mut e = env(chang_roberts::Msg::Elect(5), None);
    e.seq = Some(12);
    let json = encode(&e, Wire::Json);
    assert_eq!(json, br#"{"v":1,"from":2,"to":3,"lamport":7,"seq":12,"type":"ELECT","body":{"ELECT":5}}"#);
    assert_eq!(decode::<Cr>(&json), Ok(e.clone()));
    assert_eq!(decode::<Cr>(&encode(&e, Wire::Binary)), Ok(e));
}

#[test]
fn acknowledgements_round_trip_in_both_encodings_and_are_not_messages() {
    use reparti_net::wire::{decode_datagram, encode_ack, Ack, Datagram, BINARY_ACK_MAGIC};
    let ack = Ack { from: NodeId(3), to: NodeId(2), upto: 12 };
    let json = encode_ack(&ack, Wire::Json);
    assert_eq!(json, br#"{"v":1,"from":3,"to":2,"ack":12}"#);
    assert_eq!(decode_datagram::<Cr>(&json), Ok(Datagram::Ack(ack)));
    let binary = encode_ack(&ack, Wire::Binary);
    assert_eq!(binary, [BINARY_ACK_MAGIC, 1, 3, 2, 12]);
    assert_eq!(decode_datagram::<Cr>(&binary), Ok(Datagram::Ack(ack)));
    assert!(matches!(decode::<Cr>(&json), Err(WireError::BadEnvelope { .. })));
    // An object with neither `type` nor `ack` is neither.
    assert!(matches!(
        decode_datagram::<Cr>(br#"{"v":1,"from":3,"to":2,"lamport":1}"#),
        Err(WireError::BadEnvelope { detail }) if detail.contains("`type`")
    ));
    assert!(matches!(decode_datagram::<Cr>(&[BINARY_ACK_MAGIC, 1, 3]), Err(WireError::Truncated { .. })));
    assert!(matches!(decode_datagram::<Cr>(&[BINARY_ACK_MAGIC, 1, 3, 2, 12, 0]), Err(WireError::BadEnvelope { .. })));
}

#[test]
fn a_run_with_escapes_is_the_same_run_and_invalid_utf8_is_not_json() {
    let run_of = |bytes: &[u8]| decode_with_run::<Cr>(bytes).map(|(_, run)| run);
    let plain = br#"{"v":1,"from":2,"to":3,"lamport":7,"run":"r1","type":"ELECT","body":{"ELECT":5}}"#;
    let escaped = br#"{"v":1,"from":2,"to":3,"lamport":7,"run":"r\u0031","type":"ELECT","body":{"ELECT":5}}"#;
    let numeric = br#"{"v":1,"from":2,"to":3,"lamport":7,"run":71,"type":"ELECT","body":{"ELECT":5}}"#;
    assert_eq!(run_of(plain), Ok(RunId::new("r1").ok()));
    assert_eq!(run_of(escaped), Ok(RunId::new("r1").ok()));
    assert_eq!(run_of(numeric), Ok(RunId::new("71").ok()));
    // A byte that is not UTF-8 in a string that is read (the type), where the fast
    // path's one check of the whole datagram fails: the careful path names it. (An
    // unknown field is skipped unread, its bytes unchecked, as before.)
    let mut broken = br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#.to_vec();
    let at = broken.windows(5).position(|w| w == b"ELECT").expect("the type") + 2;
    broken[at] = 0xff;
    assert!(matches!(err::<Cr>(&broken), WireError::NotJson { .. }), "{:?}", err::<Cr>(&broken));
    let mut skipped = br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5},"x":"ab"}"#.to_vec();
    let at = skipped.len() - 3;
    skipped[at] = 0xff;
    assert!(decode::<Cr>(&skipped).is_ok());
}

//! A run's identity on the wire (the optional `run` field, docs/PROTOCOL.md): written
//! inside the envelope and the acknowledgement in both encodings, read back, optional
//! for readers that do not care, and refused when malformed.

use reparti_algos::election::chang_roberts::Msg;
use reparti_core::NodeId;
use reparti_net::wire::{
    decode_datagram, decode_with_run, encode, encode_ack, encode_ack_with_run, encode_with_run, Ack, Datagram,
    Envelope, RunId, Wire, WireError, BINARY_ACK_MAGIC, BINARY_MAGIC,
};

fn run(text: &str) -> RunId {
    RunId::new(text).expect("a valid run identity")
}

fn elected() -> Envelope<Msg> {
    Envelope { from: NodeId(2), to: NodeId(3), lamport: 7, vc: Some(vec![1, 0, 4]), seq: None, body: Msg::Elected(9) }
}

#[test]
fn the_documented_datagrams_with_a_run_are_exact() {
    let e = elected();
    let r = run("r1");
    assert_eq!(
        encode_with_run(&e, Wire::Json, Some(&r)).expect("encodes"),
        br#"{"v":1,"from":2,"to":3,"lamport":7,"vc":[1,0,4],"run":"r1","type":"ELECTED","body":{"ELECTED":9}}"#
    );
    // Binary: the 14 bytes without a run, then the run as a postcard string.
    let binary = encode_with_run(&e, Wire::Binary, Some(&r)).expect("encodes");
    assert_eq!(binary, [BINARY_MAGIC, 1, 2, 3, 7, 1, 3, 1, 0, 4, 0, 1, 1, 9, 2, b'r', b'1']);
    let ack = Ack { from: NodeId(3), to: NodeId(2), upto: 12 };
    assert_eq!(encode_ack_with_run(&ack, Wire::Json, Some(&r)), br#"{"v":1,"from":3,"to":2,"ack":12,"run":"r1"}"#);
    assert_eq!(encode_ack_with_run(&ack, Wire::Binary, Some(&r)), [BINARY_ACK_MAGIC, 1, 3, 2, 12, 2, b'r', b'1']);
    // Without a run, nothing changes: older readers read what a node without one sends.
    for wire in [Wire::Json, Wire::Binary] {
        assert_eq!(encode_with_run(&e, wire, None).expect("encodes"), encode(&e, wire));
        assert_eq!(encode_ack_with_run(&ack, wire, None), encode_ack(&ack, wire));
    }
}

#[test]
fn the_run_reads_back_beside_the_datagram_and_is_optional() {
    let e = elected();
    let ack = Ack { from: NodeId(3), to: NodeId(2), upto: 12 };
    for wire in [Wire::Json, Wire::Binary] {
        for r in [None, Some(run("2024-05-lab.3")), Some(run(&"x".repeat(64)))] {
            let bytes = encode_with_run(&e, wire, r.as_ref()).expect("encodes");
            assert_eq!(decode_with_run::<Msg>(&bytes), Ok((Datagram::Message(e.clone()), r.clone())), "{wire}");
            // A reader that ignores runs still reads the envelope.
            assert_eq!(decode_datagram::<Msg>(&bytes), Ok(Datagram::Message(e.clone())));
            let bytes = encode_ack_with_run(&ack, wire, r.as_ref());
            assert_eq!(decode_with_run::<Msg>(&bytes), Ok((Datagram::Ack(ack), r.clone())), "{wire}");
        }
    }
}

#[test]
fn a_python_script_may_write_the_run_as_an_integer() {
    let json = br#"{"v":1,"from":2,"to":3,"lamport":7,"run":42,"type":"ELECT","body":{"ELECT":5}}"#;
    let (_, r) = decode_with_run::<Msg>(json).expect("decodes");
    assert_eq!(r, Some(run("42")));
}

#[test]
fn malformed_runs_are_refused_with_the_field_named() {
    let bad_json: [&[u8]; 4] = [
        br#"{"v":1,"from":2,"to":3,"lamport":7,"run":"","type":"ELECT","body":{"ELECT":5}}"#,
        br#"{"v":1,"from":2,"to":3,"lamport":7,"run":"two words","type":"ELECT","body":{"ELECT":5}}"#,
        br#"{"v":1,"from":2,"to":3,"lamport":7,"run":{"id":1},"type":"ELECT","body":{"ELECT":5}}"#,
        br#"{"v":1,"from":3,"to":2,"ack":1,"run":-1}"#,
    ];
    for bytes in bad_json {
        let e = decode_with_run::<Msg>(bytes).expect_err("refused");
        assert!(matches!(&e, WireError::BadEnvelope { detail } if detail.contains("`run`")), "{e}");
    }
    let long = format!(r#"{{"v":1,"from":3,"to":2,"ack":1,"run":"{}"}}"#, "x".repeat(65));
    assert!(decode_with_run::<Msg>(long.as_bytes()).is_err());
    // Binary: bytes after the body that are not one string are refused, as before.
    let e = decode_with_run::<Msg>(&[BINARY_MAGIC, 1, 2, 3, 7, 0, 0, 0, 0, 5, 9]).expect_err("refused");
    assert!(matches!(&e, WireError::BadEnvelope { .. }), "{e}");
    let e = decode_with_run::<Msg>(&[BINARY_MAGIC, 1, 2, 3, 7, 0, 0, 0, 0, 5, 1, b'a', 0]).expect_err("refused");
    assert!(matches!(&e, WireError::BadEnvelope { .. }), "{e}");
}

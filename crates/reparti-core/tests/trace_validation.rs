//! A trace is untrusted input: a header that disagrees with itself, or an event that does
//! not fit the header, is refused on its line before anything is sized by it.

use reparti_core::trace::{read_trace, TraceHeader};

mod common;
use common::trace_header as header;

#[test]
fn headers_and_events_that_do_not_fit_are_refused_on_their_line() {
    let header_line = |h: &TraceHeader| serde_json::to_string(h).expect("a header serializes");
    let huge = TraceHeader { nodes: usize::MAX, ..header() };
    let err = read_trace(header_line(&huge).as_bytes()).expect_err("refused").to_string();
    assert!(err.contains("line 1") && err.contains("identities"), "{err}");

    let event = |json: &str| format!("{}\n{json}\n", header_line(&header()));
    let outside = event(r#"{"i":0,"t":0.0,"node":4294967295,"kind":"start","lamport":1}"#);
    let err = read_trace(outside.as_bytes()).expect_err("refused").to_string();
    assert!(err.contains("line 2") && err.contains("node 4294967295") && err.contains("0..3"), "{err}");

    let short_clock = event(r#"{"i":0,"t":0.0,"node":1,"kind":"start","lamport":1,"vc":[0,1]}"#);
    let err = read_trace(short_clock.as_bytes()).expect_err("refused").to_string();
    assert!(err.contains("line 2") && err.contains("2 entries"), "{err}");

    let stranger = event(r#"{"i":0,"t":1.0,"node":1,"kind":"receive","lamport":2,"msg":0,"from":7}"#);
    let err = read_trace(stranger.as_bytes()).expect_err("refused").to_string();
    assert!(err.contains("from node 7"), "{err}");

    // A send to no node, and its drop at the sender, fit: that is the one rule's trace.
    let nowhere = event(concat!(
        r#"{"i":0,"t":0.0,"node":1,"kind":"send","lamport":1,"msg":0,"to":9,"type":"ELECT"}"#,
        "\n",
        r#"{"i":1,"t":0.0,"node":1,"kind":"drop","lamport":1,"msg":0,"from":1,"to":9,"type":"ELECT","reason":"no such node"}"#
    ));
    assert_eq!(read_trace(nowhere.as_bytes()).expect("fits").events.len(), 2);
}

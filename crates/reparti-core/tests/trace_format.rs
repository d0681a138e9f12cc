//! The trace format (write, read back, refuse what is not a trace) and the clock rules.

use proptest::prelude::*;
use reparti_core::clock::{merge, tick, vector_order};
use reparti_core::trace::{
    read_trace, EventKind, Trace, TraceEnd, TraceError, TraceEvent, TraceHeader, TraceWriter, TRACE_VERSION,
};
use reparti_core::{ClockMode, OutputValue, VectorOrder};
use serde_json::{json, Value};
use std::collections::BTreeSet;

mod common;
use common::trace_header as header;

const ALL_KINDS: [EventKind; 12] = [
    EventKind::Start,
    EventKind::Send,
    EventKind::Receive,
    EventKind::Drop,
    EventKind::Duplicate,
    EventKind::Timer,
    EventKind::Input,
    EventKind::Output,
    EventKind::Crash,
    EventKind::Log,
    EventKind::Local,
    EventKind::Clock,
];

/// The events of docs/TRACE.md's table, one per kind, with that kind's fields.
fn one_event_of_each_kind() -> Vec<TraceEvent> {
    let mut out = Vec::new();
    for (i, kind) in ALL_KINDS.into_iter().enumerate() {
        let mut e = TraceEvent::new(i as u64, i as f64 * 0.5, (i % 3) as u32, kind, i as u64 + 1);
        e.vc = Some(vec![i as u64, 1, 2]);
        match kind {
            EventKind::Send => {
                e.msg = Some(7);
                e.to = Some(1);
                e.msg_type = Some("ELECT".into());
                e.payload = Some(json!({"Elect": 2}));
            }
            EventKind::Receive => {
                e.msg = Some(7);
                e.from = Some(0);
                e.msg_type = Some("ELECT".into());
            }
            EventKind::Drop => {
                e.msg = Some(8);
                e.from = Some(0);
                e.to = Some(2);
                e.msg_type = Some("ELECTED".into());
                e.reason = Some("loss".into());
            }
            EventKind::Duplicate => {
                e.msg = Some(9);
                e.from = Some(2);
                e.to = Some(0);
            }
            EventKind::Timer => e.timer = Some("retry".into()),
            EventKind::Input => e.payload = Some(json!({"Request": {"size": 3}})),
            EventKind::Output => {
                e.key = Some("leader".into());
                e.value = Some(OutputValue::Int(3));
            }
            EventKind::Log => e.text = Some("hello \"world\"\n".into()),
            EventKind::Start | EventKind::Crash => e.vc = None,
            EventKind::Local => {}
            EventKind::Clock => {
                e.clock = Some(1002.5);
                e.adjust = Some(-2.5);
                e.text = Some("slew".into());
                e.over = Some(5.0);
            }
        }
        out.push(e);
    }
    out
}

fn write(h: &TraceHeader, events: &[TraceEvent], end: Option<(&str, Option<String>)>) -> String {
    let mut buf = Vec::new();
    {
        let mut w = TraceWriter::new(&mut buf, h).unwrap();
        for e in events {
            w.event(e).unwrap();
        }
        if let Some((stop, violation)) = end {
            w.finish(stop, violation).unwrap();
        }
    }
    String::from_utf8(buf).unwrap()
}

fn read(text: &str) -> Result<Trace, TraceError> {
    read_trace(text.as_bytes())
}

fn format_error_line(text: &str) -> usize {
    match read(text) {
        Err(TraceError::Format { line, why }) => {
            assert!(!why.is_empty());
            line
        }
        Err(other) => panic!("expected a format error, got {other:?}"),
        Ok(t) => panic!("accepted: {} events, end {:?}", t.events.len(), t.end),
    }
}

/// The JSON keys an event line must have: the common ones, and exactly the optional
/// fields that are set.
fn expected_keys(e: &TraceEvent) -> BTreeSet<&'static str> {
    let mut k: BTreeSet<&'static str> = ["i", "t", "node", "kind", "lamport"].into();
    let optional = [
        ("msg", e.msg.is_some()),
        ("seq", e.seq.is_some()),
        ("from", e.from.is_some()),
        ("to", e.to.is_some()),
        ("type", e.msg_type.is_some()),
        ("payload", e.payload.is_some()),
        ("timer", e.timer.is_some()),
        ("key", e.key.is_some()),
        ("value", e.value.is_some()),
        ("reason", e.reason.is_some()),
        ("text", e.text.is_some()),
        ("vc", e.vc.is_some()),
        ("clock", e.clock.is_some()),
        ("adjust", e.adjust.is_some()),
        ("over", e.over.is_some()),
        ("real", e.real.is_some()),
    ];
    k.extend(optional.into_iter().filter(|(_, set)| *set).map(|(name, _)| name));
    k
}

fn check_raw_lines(text: &str, events: &[TraceEvent], violation: Option<&Option<String>>) {
    let lines: Vec<&str> = text.lines().collect();
    for (line, e) in lines[1..].iter().zip(events) {
        let v: Value = serde_json::from_str(line).unwrap();
        let obj = v.as_object().expect("an event line is a JSON object");
        let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys, expected_keys(e), "line {line}");
        assert_eq!(obj["kind"], serde_json::to_value(e.kind).unwrap());
    }
    if let Some(violation) = violation {
        let end: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        let keys: BTreeSet<&str> = end.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected: BTreeSet<&str> = ["stop", "events"].into();
        if violation.is_some() {
            expected.insert("violation");
        }
        assert_eq!(keys, expected);
        assert_eq!(end["events"], json!(events.len()));
    }
}

/// Proptest settings: `cases` cases, and no regression files written into the source tree.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------

/// Floats with a short exact decimal form (k/8), which any JSON parser reads back
/// exactly. Arbitrary floats have their own tests (`*_bit_for_bit`) below.
fn exact_float() -> impl Strategy<Value = f64> {
    (-80_000_000i64..80_000_000).prop_map(|k| k as f64 / 8.0)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        exact_float().prop_map(Value::from),
        "[ -~]{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,5}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    prop::sample::select(ALL_KINDS.to_vec())
}

fn output_value() -> impl Strategy<Value = OutputValue> {
    prop_oneof![any::<i64>().prop_map(OutputValue::Int), text().prop_map(OutputValue::Text)]
}

/// How many nodes the generated traces have: events must fit their header (a node and
/// a received message's sender among them, a vector clock of one entry per node).
const NODES: usize = 3;

/// Any event of a run of [`NODES`] nodes: every optional field set or not, whatever the kind.
fn event() -> impl Strategy<Value = TraceEvent> {
    let time = exact_float().prop_map(f64::abs);
    let common = (any::<u64>(), time, 0..NODES as u32, event_kind(), any::<u64>());
    let ids = (any::<Option<u64>>(), any::<Option<u64>>(), prop::option::of(0..NODES as u32), any::<Option<u32>>());
    let strings = (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
    );
    // A top-level null payload has its own test below.
    let payload = prop::option::of(json_value().prop_filter("top-level null", |v| !v.is_null()));
    let rest =
        (payload, prop::option::of(output_value()), prop::option::of(prop::collection::vec(any::<u64>(), NODES)));
    (common, ids, strings, rest).prop_map(
        |(
            (i, t, node, kind, lamport),
            (msg, seq, from, to),
            (msg_type, timer, key, reason, text),
            (payload, value, vc),
        )| {
            TraceEvent {
                i,
                t,
                node,
                kind,
                msg,
                seq,
                from,
                to,
                msg_type,
                payload,
                timer,
                key,
                value,
                reason,
                text,
                lamport,
                vc,
                clock: None,
                adjust: None,
                over: None,
                real: None,
            }
        },
    )
}

fn trace_header() -> impl Strategy<Value = TraceHeader> {
    (
        prop::sample::select(vec!["sim", "check", "net"]),
        "[a-z-]{1,16}",
        prop::collection::btree_map("[a-z]{1,6}", "[ -~]{0,6}", 0..4),
        any::<u64>(),
        "[a-z:0-9-]{1,12}",
        prop::collection::vec(any::<u64>(), NODES),
        json_value(),
        prop::sample::select(vec![ClockMode::Lamport, ClockMode::LamportAndVector]),
        prop::collection::vec("[A-Z_]{1,8}", 0..4),
    )
        .prop_map(|(engine, algorithm, params, seed, topology, idents, network, clocks, message_types)| {
            TraceHeader {
                trace: "reparti".into(),
                version: TRACE_VERSION,
                engine: engine.into(),
                algorithm,
                params,
                seed,
                topology,
                nodes: idents.len(),
                idents,
                network,
                clocks,
                message_types,
                control_types: Vec::new(),
                spans: Vec::new(),
                ports: Vec::new(),
                physical_clocks: Vec::new(),
            }
        })
}

fn garbage_line() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "garbage".to_string(),
        "{".to_string(),
        "[1, 2, 3]".to_string(),
        "42".to_string(),
        r#"{"i":0,"t":0.0,"node":0,"lamport":1}"#.to_string(),
        r#"{"i":0,"t":0.0,"node":0,"kind":"teleport","lamport":1}"#.to_string(),
        r#"{"i":"zero","t":0.0,"node":0,"kind":"start","lamport":1}"#.to_string(),
        r#"{"stop":5,"events":1}"#.to_string(),
        r#"{"stop":"time"}"#.to_string(),
    ])
}

// ---------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn written_traces_read_back_equal(
        h in trace_header(),
        events in prop::collection::vec(event(), 0..20),
        stop in prop::sample::select(vec!["quiescence", "time", "events", "violation"]),
        violation in prop::option::of(text()),
    ) {
        let text = write(&h, &events, Some((stop, violation.clone())));
        prop_assert_eq!(text.lines().count(), events.len() + 2);
        check_raw_lines(&text, &events, Some(&violation));
        let t = read(&text).unwrap();
        prop_assert_eq!(&t.header, &h);
        prop_assert_eq!(&t.events, &events);
        prop_assert_eq!(t.end, Some(TraceEnd { stop: stop.to_string(), events: events.len() as u64, violation }));
    }

    #[test]
    fn a_trace_without_its_end_line_reads_as_cut_short(
        events in prop::collection::vec(event(), 0..20),
    ) {
        let text = write(&header(), &events, None);
        prop_assert_eq!(text.lines().count(), events.len() + 1);
        check_raw_lines(&text, &events, None);
        let t = read(&text).unwrap();
        prop_assert_eq!(&t.events, &events);
        prop_assert_eq!(t.end, None);
    }

    #[test]
    fn times_read_back_bit_for_bit(t in 0.0f64..1e6) {
        // Simulated times are sums of random delays: any f64 in the run's range.
        let e = TraceEvent::new(0, t, 0, EventKind::Start, 1);
        let back = read(&write(&header(), std::slice::from_ref(&e), Some(("time", None)))).unwrap();
        let got = back.events[0].t;
        prop_assert_eq!(got.to_bits(), t.to_bits(), "t = {:?} read back as {:?}", t, got);
    }

    #[test]
    fn payload_floats_read_back_bit_for_bit(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let mut e = TraceEvent::new(0, 0.0, 0, EventKind::Input, 1);
        e.payload = Some(json!({ "x": x }));
        let back = read(&write(&header(), std::slice::from_ref(&e), Some(("time", None)))).unwrap();
        let got = back.events[0].payload.as_ref().and_then(|p| p["x"].as_f64());
        prop_assert_eq!(got.map(f64::to_bits), Some(x.to_bits()), "x = {:?} read back as {:?}", x, got);
    }

    #[test]
    fn a_garbage_line_is_reported_at_its_line(
        events in prop::collection::vec(event(), 1..12),
        at in any::<prop::sample::Index>(),
        blanks in 0usize..3,
        garbage in garbage_line(),
        finished in any::<bool>(),
    ) {
        let text = write(&header(), &events, if finished { Some(("quiescence", None)) } else { None });
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Blank lines are skipped but still counted.
        for _ in 0..blanks {
            lines.insert(1, String::new());
        }
        // Somewhere after the header and before the end line (if any).
        let last = if finished { lines.len() - 1 } else { lines.len() };
        let pos = 1 + at.index(last);
        lines.insert(pos, garbage);
        prop_assert_eq!(format_error_line(&lines.join("\n")), pos + 1);
    }

    #[test]
    fn an_event_after_the_end_line_is_refused(
        events in prop::collection::vec(event(), 0..12),
        extra in event(),
        blanks in 0usize..3,
    ) {
        let mut text = write(&header(), &events, Some(("quiescence", None)));
        text.push_str(&"\n".repeat(blanks));
        text.push_str(&serde_json::to_string(&extra).unwrap());
        text.push('\n');
        prop_assert_eq!(format_error_line(&text), events.len() + 3 + blanks);
    }
}

#[test]
fn every_event_kind_round_trips() {
    let events = one_event_of_each_kind();
    let text = write(&header(), &events, Some(("violation", Some("agreement: two leaders".into()))));
    check_raw_lines(&text, &events, Some(&Some("agreement: two leaders".into())));
    let t = read(&text).unwrap();
    assert_eq!(t.header, header());
    assert_eq!(t.events, events);
    assert_eq!(
        t.end,
        Some(TraceEnd {
            stop: "violation".into(),
            events: ALL_KINDS.len() as u64,
            violation: Some("agreement: two leaders".into())
        })
    );
    let kinds: Vec<EventKind> = t.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ALL_KINDS.to_vec());
}

#[test]
fn kinds_and_fields_are_spelled_as_documented() {
    // docs/TRACE.md's example lines parse into the expected values.
    let send = r#"{"i":1,"t":0.0,"node":0,"kind":"send","msg":0,"to":1,"type":"ELECT","payload":{"ELECT":3},"lamport":1,"vc":[1,0,0]}"#;
    assert!(include_str!("../../../docs/TRACE.md").contains(send), "docs/TRACE.md's example send");
    let e: TraceEvent = serde_json::from_str(send).unwrap();
    let mut expected = TraceEvent::new(1, 0.0, 0, EventKind::Send, 1);
    expected.msg = Some(0);
    expected.to = Some(1);
    expected.msg_type = Some("ELECT".into());
    expected.payload = Some(json!({"ELECT": 3}));
    expected.vc = Some(vec![1, 0, 0]);
    assert_eq!(e, expected);
    let names: Vec<String> =
        ALL_KINDS.iter().map(|k| serde_json::to_value(k).unwrap().as_str().unwrap().into()).collect();
    assert_eq!(
        names,
        ["start", "send", "receive", "drop", "duplicate", "timer", "input", "output", "crash", "log", "local", "clock"]
    );
    // A bare event has only the common fields.
    let bare = serde_json::to_value(TraceEvent::new(0, 0.0, 0, EventKind::Start, 1)).unwrap();
    assert_eq!(bare, json!({"i": 0, "t": 0.0, "node": 0, "kind": "start", "lamport": 1}));
}

#[test]
fn a_time_of_ten_delays_of_a_tenth_reads_back_exactly() {
    // Ten delays of 0.1 add up to 0.9999999999999999, not 1.0: a simulated time like this
    // must not become another one when the trace is read back.
    let t = (0..10).fold(0.0f64, |acc, _| acc + 0.1);
    assert_ne!(t, 1.0);
    let e = TraceEvent::new(0, t, 0, EventKind::Start, 1);
    let text = write(&header(), std::slice::from_ref(&e), Some(("time", None)));
    let back = read(&text).unwrap().events[0].t;
    assert_eq!(
        back.to_bits(),
        t.to_bits(),
        "{t:?} was written as {} and read back as {back:?}",
        text.lines().nth(1).unwrap()
    );
}

#[test]
fn a_null_payload_reads_back_as_set() {
    // Engines fill `payload` with `serde_json::to_value(&msg).ok()`; a unit message or a
    // `()` input serialises to JSON null, so `Some(Value::Null)` is a payload that was set.
    let mut e = TraceEvent::new(0, 0.0, 0, EventKind::Input, 1);
    e.payload = Some(Value::Null);
    let text = write(&header(), std::slice::from_ref(&e), Some(("quiescence", None)));
    let t = read(&text).unwrap();
    assert_eq!(t.events[0].payload, Some(Value::Null), "the line was {}", text.lines().nth(1).unwrap());
}

#[test]
fn not_a_trace_is_refused_at_line_1() {
    let h = serde_json::to_value(header()).unwrap();
    let with = |field: &str, value: Value| {
        let mut h = h.clone();
        h[field] = value;
        format!("{h}\n")
    };
    assert_eq!(format_error_line(""), 1);
    assert_eq!(format_error_line("hello\n"), 1);
    assert_eq!(format_error_line("\n"), 1);
    assert_eq!(format_error_line("{\"foo\":1}\n"), 1);
    assert_eq!(format_error_line(&with("trace", json!("other"))), 1);
    assert_eq!(format_error_line(&with("version", json!(TRACE_VERSION + 1))), 1);
    assert_eq!(format_error_line(&with("version", json!(u32::MAX))), 1);
    assert_eq!(format_error_line(&with("clocks", json!("sundial"))), 1);
    // An event line first is not a header either.
    let first_event = serde_json::to_string(&one_event_of_each_kind()[0]).unwrap();
    assert_eq!(format_error_line(&format!("{first_event}\n")), 1);
    // The current version, and a header alone, are fine.
    let t = read(&with("version", json!(TRACE_VERSION))).unwrap();
    assert!(t.events.is_empty());
    assert_eq!(t.end, None);
}

#[test]
fn blank_lines_and_a_missing_final_newline_are_tolerated() {
    let events = one_event_of_each_kind();
    let text = write(&header(), &events, Some(("quiescence", None)));
    let spaced: String = text.lines().map(|l| format!("{l}\n\n  \n")).collect();
    let t = read(&spaced).unwrap();
    assert_eq!(t.events, events);
    assert!(t.end.is_some());
    let t = read(text.trim_end()).unwrap();
    assert_eq!(t.events, events);
    assert!(t.end.is_some());
}

#[test]
fn a_second_end_line_is_refused() {
    let text = write(&header(), &one_event_of_each_kind(), Some(("quiescence", None)));
    let end = text.lines().last().unwrap().to_string();
    assert_eq!(format_error_line(&format!("{text}{end}\n")), 15);
}

// ---------------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------------

/// Happens-before on vector timestamps, straight from its definition.
fn brute_force_order(a: &[u64], b: &[u64]) -> VectorOrder {
    let le = a.iter().zip(b).all(|(x, y)| x <= y);
    let ge = a.iter().zip(b).all(|(x, y)| x >= y);
    match (le, ge) {
        (true, true) => VectorOrder::Equal,
        (true, false) => VectorOrder::Before,
        (false, true) => VectorOrder::After,
        (false, false) => VectorOrder::Concurrent,
    }
}

fn two_vectors(max: u64) -> impl Strategy<Value = (Vec<u64>, Vec<u64>)> {
    (0usize..8).prop_flat_map(move |n| (prop::collection::vec(0..=max, n), prop::collection::vec(0..=max, n)))
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn vector_order_matches_its_definition((a, b) in two_vectors(3)) {
        let o = vector_order(&a, &b);
        prop_assert_eq!(o, brute_force_order(&a, &b));
        prop_assert_eq!(o == VectorOrder::Equal, a == b);
        prop_assert_eq!(vector_order(&a, &a), VectorOrder::Equal);
    }

    #[test]
    fn vector_order_is_antisymmetric((a, b) in two_vectors(u64::MAX)) {
        let swapped = match vector_order(&a, &b) {
            VectorOrder::Before => VectorOrder::After,
            VectorOrder::After => VectorOrder::Before,
            other => other,
        };
        prop_assert_eq!(vector_order(&b, &a), swapped);
    }

    #[test]
    fn merge_follows_the_receive_rule(
        (mine, stamp_v, me) in (1usize..8).prop_flat_map(|n| (
            prop::collection::vec(0u64..1000, n),
            prop::collection::vec(0u64..1000, n),
            0..n,
        )),
        lamport in 0u64..1_000_000,
        stamp in 0u64..1_000_000,
    ) {
        let mut l = lamport;
        let mut v = mine.clone();
        merge(&mut l, Some(&mut v), me, stamp, Some(&stamp_v));
        prop_assert_eq!(l, lamport.max(stamp) + 1);
        for j in 0..v.len() {
            let max = mine[j].max(stamp_v[j]);
            prop_assert_eq!(v[j], if j == me { max + 1 } else { max }, "component {}", j);
        }
        // The receive happens after both the send and the receiver's previous event.
        prop_assert_eq!(vector_order(&stamp_v, &v), VectorOrder::Before);
        prop_assert_eq!(vector_order(&mine, &v), VectorOrder::Before);
        prop_assert!(l > lamport && l > stamp);

        // Without vectors only the Lamport clock moves.
        let mut l2 = lamport;
        merge(&mut l2, None, me, stamp, Some(&stamp_v));
        prop_assert_eq!(l2, lamport.max(stamp) + 1);

        // The local-event rule: one tick of each.
        let (mut l3, mut v3) = (lamport, mine.clone());
        tick(&mut l3, Some(&mut v3), me);
        prop_assert_eq!(l3, lamport + 1);
        for j in 0..v3.len() {
            prop_assert_eq!(v3[j], mine[j] + u64::from(j == me));
        }
    }
}

//! The space-time diagram's structure: every event and message is drawn once, faults and
//! outputs are marked, huge traces are summarised, and the HTML needs no network.

mod common;

use reparti_core::trace::{EventKind, Trace};
use reparti_viz::spacetime::{layout, ArrowEnd, Axis, Mark, Options};
use reparti_viz::{render, render_with, Format};
use std::collections::HashSet;
use std::path::Path;

/// The arrows a trace should get: one per receive and drop, one per send that has neither.
fn expected_arrows(trace: &Trace) -> usize {
    let ended: HashSet<u64> = trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Receive | EventKind::Drop))
        .filter_map(|e| e.msg)
        .collect();
    let ends = trace.events.iter().filter(|e| matches!(e.kind, EventKind::Receive | EventKind::Drop)).count();
    let in_flight =
        trace.events.iter().filter(|e| e.kind == EventKind::Send && e.msg.is_some_and(|m| !ended.contains(&m))).count();
    ends + in_flight
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

fn all_traces() -> Vec<(String, Trace)> {
    let mut v = vec![
        ("election3".to_string(), common::election3()),
        ("faulty4".to_string(), common::faulty4()),
        ("mutex3".to_string(), common::mutex3()),
    ];
    v.extend(common::simulated());
    v
}

#[test]
fn every_event_and_every_message_is_drawn_once() {
    for (name, trace) in all_traces() {
        let l = layout(&trace, &Options::default());
        assert_eq!(l.dots.len(), trace.events.len(), "{name}: dots");
        assert_eq!(l.arrows.len(), expected_arrows(&trace), "{name}: arrows");
        for text in [render(&trace, Format::Svg), render(&trace, Format::Html)] {
            let text = text.expect("small traces render");
            assert_eq!(count(&text, "class=\"event "), trace.events.len(), "{name}: event elements");
            assert_eq!(count(&text, "class=\"message "), l.arrows.len(), "{name}: message elements");
        }
        assert!(l.elision.is_none(), "{name}: nothing elided");
    }
}

#[test]
fn losses_duplicates_crashes_and_stragglers_are_marked() {
    let trace = common::faulty4();
    let l = layout(&trace, &Options::default());
    let marks = |m: Mark| l.dots.iter().filter(|d| d.mark == m).count();
    assert_eq!((marks(Mark::Drop), marks(Mark::Duplicate), marks(Mark::Crash)), (2, 1, 1));
    let ends = |k: ArrowEnd| l.arrows.iter().filter(|a| a.kind == k).count();
    assert_eq!((ends(ArrowEnd::Received), ends(ArrowEnd::Dropped), ends(ArrowEnd::InFlight)), (2, 2, 1));
    let copies: Vec<_> = l.arrows.iter().filter(|a| a.msg == 1).collect();
    assert_eq!(copies.len(), 2, "the duplicated message has two arrows");
    assert!(copies.iter().all(|a| a.send_event == copies[0].send_event && a.kind == ArrowEnd::Received));
    let crash = l.lanes[3].crash.expect("n3 crashed");
    assert_eq!(crash.at, 2.5);
    assert!(l.lanes[..3].iter().all(|ln| ln.crash.is_none()));
    let svg = render(&trace, Format::Svg).expect("small");
    assert_eq!(count(&svg, "class=\"event drop\""), 2);
    assert_eq!(count(&svg, "class=\"event crash\""), 1);
    assert_eq!(count(&svg, "class=\"message dropped\""), 2);
    assert_eq!(count(&svg, "class=\"message inflight\""), 1);
    assert!(svg.contains("drop PONG #2 from n2 to n3 (crashed)"), "drop tooltips say why");
    // n3's lane stops at the crash: its line is shorter than the others.
    let lane_ends: Vec<f64> = svg
        .lines()
        .filter(|l| l.starts_with("<line class=\"lane\""))
        .filter_map(|l| l.split("x2=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    assert_eq!(lane_ends.len(), 4);
    assert!(lane_ends[3] < lane_ends[0] && lane_ends[0] == lane_ends[1] && lane_ends[1] == lane_ends[2]);
    // Text from the trace is escaped, never markup.
    assert!(svg.contains("got a ping, &quot;twice&quot;?") && !svg.contains("<hi & bye>"));
}

#[test]
fn outputs_and_critical_sections_are_highlighted() {
    let l = layout(&common::election3(), &Options::default());
    let labels: Vec<_> = l.dots.iter().filter(|d| d.mark == Mark::Output).filter_map(|d| d.label.clone()).collect();
    assert_eq!(labels, vec!["leader = 3"; 3]);
    assert!(l.lanes.iter().all(|ln| ln.outputs == vec![("leader".to_string(), "3".to_string())]));
    assert_eq!(l.lanes[1].label(), "n1 · id 3");

    let l = layout(&common::mutex3(), &Options::default());
    assert_eq!(l.bars.len(), 2);
    assert_eq!((l.bars[0].node, l.bars[0].from.at, l.bars[0].to.map(|p| p.at)), (0, 2.5, Some(3.5)));
    assert_eq!((l.bars[1].node, l.bars[1].to), (2, None), "n2 is still inside at the end");
    assert!(l.lanes.iter().all(|ln| ln.outputs.is_empty()), "CS markers are bars, not final outputs");
    let svg = render(&common::mutex3(), Format::Svg).expect("small");
    assert_eq!(count(&svg, "<rect class=\"cs\""), 2);
}

#[test]
fn message_types_get_stable_colours_and_a_legend() {
    let a = layout(&common::election3(), &Options::default());
    let b = layout(&common::simulated().remove(0).1, &Options::default());
    let names =
        |l: &reparti_viz::spacetime::Layout| l.types.iter().map(|t| (t.name.clone(), t.colour)).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same algorithm, the same colours");
    assert_ne!(a.types[0].colour, a.types[1].colour);
    assert_eq!((a.types[0].sent, a.types[1].sent), (5, 3));
    let svg = render(&common::election3(), Format::Svg).expect("small");
    assert!(svg.contains("ELECT (5 sent)") && svg.contains("ELECTED (3 sent)"));
    for glyph in ["lost message", "crash", "duplicated", "output"] {
        assert!(svg.contains(glyph), "legend lacks {glyph}");
    }
    // Bars come from the algorithm's declared spans: an election declares none.
    assert!(!svg.contains("critical section"), "no bar in the legend of an election");
    let mutex = render(&common::mutex3(), Format::Svg).expect("small");
    assert!(mutex.contains("critical section"), "the mutex trace's header declares its bar");
}

#[test]
fn bars_follow_the_spans_the_trace_header_declares() {
    use reparti_core::trace::Span;
    // The same outputs, under another declaration: other keys, another label.
    let mut trace = common::mutex3();
    trace.header.spans = vec![Span { label: "write lock".into(), opens: "exit_cs".into(), closes: "never".into() }];
    let l = layout(&trace, &Options::default());
    assert!(l.bars.iter().all(|b| b.label == "write lock"), "{:?}", l.bars);
    assert_eq!(l.bars.len(), l.lanes.iter().filter(|ln| l.bars.iter().any(|b| b.node == ln.node)).count());
    assert!(l.lanes.iter().any(|ln| ln.outputs.iter().any(|(k, _)| k == "enter_cs")), "enter_cs is a plain output now");
    let svg = render(&trace, Format::Svg).expect("small");
    assert!(svg.contains("in its write lock") && !svg.contains("critical section"));
    // No declaration, no bar: the outputs are just outputs.
    trace.header.spans.clear();
    assert!(layout(&trace, &Options::default()).bars.is_empty());
}

#[test]
fn huge_traces_are_summarised_not_smeared() {
    // Many events on few nodes: the first 2,000 are drawn.
    let trace = common::huge(4, 400);
    assert_eq!(trace.events.len(), 3_204);
    let l = layout(&trace, &Options::default());
    let e = l.elision.as_ref().expect("elided");
    assert_eq!((e.shown_events, e.total_events, e.shown_nodes), (2_000, 3_204, 4));
    assert!(e.lines()[0].starts_with("showing 2,000 of 3,204 events"), "{:?}", e.lines());
    assert!(e.lines().iter().any(|line| line.contains("PING 1,600")), "{:?}", e.lines());
    let svg = render(&trace, Format::Svg).expect("renders");
    assert_eq!(count(&svg, "class=\"event "), 2_000);
    assert!(svg.contains("showing 2,000 of 3,204 events"));
    let html = render(&trace, Format::Html).expect("renders");
    assert!(html.contains("showing 2,000 of 3,204 events"));
    assert_eq!(count(&html, "class=\"event "), 2_000);

    // Many nodes: the first 64 lanes, and the messages that cross to hidden ones counted.
    let trace = common::huge(100, 3);
    let l = layout(&trace, &Options::default());
    let e = l.elision.as_ref().expect("elided");
    assert_eq!((e.shown_nodes, e.total_nodes, l.lanes.len()), (64, 100, 64));
    assert!(l.dots.iter().all(|d| d.node < 64));
    assert!(e.lines()[0].contains("and 64 of 100 nodes"), "{:?}", e.lines());
    assert!(e.lines().iter().any(|line| line.contains("messages to or from hidden nodes")), "{:?}", e.lines());
    assert!(l.arrows.iter().all(|a| a.from < 64 && a.to < 64));
}

#[test]
fn html_is_one_self_contained_file() {
    for (name, trace) in all_traces() {
        let html = render(&trace, Format::Html).expect("small");
        for banned in ["http://", "https://", " src=", " href=", "@import", "url(http"] {
            assert!(!html.contains(banned), "{name}: the page refers to '{banned}'");
        }
        let start = html.find("<script type=\"application/json\" id=\"trace-data\">").expect("the data") + 48;
        let end = start + html[start..].find("</script>").expect("closed");
        let data: serde_json::Value = serde_json::from_str(&html[start..end]).expect("the data is JSON");
        assert_eq!(data["events"].as_array().map(Vec::len), Some(trace.events.len()), "{name}");
        assert_eq!(data["events"][0]["lamport"], trace.events[0].lamport, "{name}");
        assert!(
            html.contains("id=\"selftest\"") && html.contains("function selftest()"),
            "{name}: the viewer is inlined"
        );
    }
    // The standalone SVG needs its namespace; the inline one must not carry it.
    let svg = render(&common::election3(), Format::Svg).expect("small");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn vertical_and_lamport_layouts() {
    let trace = common::election3();
    let attr = |svg: &str, class: &str, name: &str| -> Vec<String> {
        svg.lines()
            .filter(|l| l.starts_with(&format!("<text class=\"{class}\"")))
            .filter_map(|l| Some(l.split(&format!("{name}=\"")).nth(1)?.split('"').next()?.to_string()))
            .collect()
    };
    let horizontal = render(&trace, Format::Svg).expect("small");
    let vertical = render_with(&trace, Format::Svg, &Options { vertical: true, ..Options::default() }).expect("small");
    let same = |v: Vec<String>| v.windows(2).all(|w| w[0] == w[1]) && v.len() == 3;
    assert!(same(attr(&horizontal, "lanelabel", "x")), "horizontal lanes are labelled in one column");
    assert!(same(attr(&vertical, "lanelabel", "y")), "vertical lanes are labelled in one row");

    let l = layout(&trace, &Options { axis: Axis::Lamport, ..Options::default() });
    for d in &l.dots {
        assert_eq!(d.pos.at, trace.events[d.event].lamport as f64);
    }
    assert!(l.arrows.iter().all(|a| a.end.at > a.start.at), "Lamport time always moves forward along a message");
}

#[test]
fn formats_follow_the_extension() {
    assert_eq!(Format::from_path(Path::new("a/run.html")).ok(), Some(Format::Html));
    assert_eq!(Format::from_path(Path::new("run.HTM")).ok(), Some(Format::Html));
    assert_eq!(Format::from_path(Path::new("run.svg")).ok(), Some(Format::Svg));
    assert_eq!(Format::from_path(Path::new("run.log")).ok(), Some(Format::ShiViz));
    assert_eq!(Format::from_path(Path::new("run.shiviz")).ok(), Some(Format::ShiViz));
    for bad in ["run.png", "run", "run.jsonl"] {
        let err = Format::from_path(Path::new(bad)).expect_err(bad).to_string();
        assert!(err.contains(".html") && err.contains(".svg") && err.contains(".log"), "{err}");
        assert!(!err.contains('\n'));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any well-formed run: one dot per event, the right arrows, arrows never run
    /// backwards in time, and the counts hold in the SVG.
    #[test]
    fn random_runs_draw_every_event_and_message(
        n in 2usize..6,
        ops in proptest::collection::vec((0u8..8, 0u32..1000, 0u32..1000), 0..80),
        vertical in proptest::bool::ANY,
    ) {
        let trace = common::random_trace(n, &ops);
        let opts = Options { vertical, ..Options::default() };
        let l = layout(&trace, &opts);
        proptest::prop_assert_eq!(l.dots.len(), trace.events.len());
        proptest::prop_assert_eq!(l.arrows.len(), expected_arrows(&trace));
        proptest::prop_assert!(l.arrows.iter().all(|a| a.end.at >= a.start.at));
        let svg = render_with(&trace, Format::Svg, &opts).expect("small");
        proptest::prop_assert_eq!(count(&svg, "class=\"event "), trace.events.len());
        proptest::prop_assert_eq!(count(&svg, "class=\"message "), l.arrows.len());
    }
}

//! A snapshot's recorded cut on the space-time diagram: which messages cross it, and
//! that the picture agrees with what Chandy–Lamport itself recorded on real runs.

mod common;

use reparti_core::trace::{EventKind, Trace};
use reparti_core::{IdAssignment, OutputValue};
use reparti_sim::{Delay, NetworkModel, SimConfig};
use reparti_viz::spacetime::{layout, Options};
use reparti_viz::{render, Format};

/// The message ids of the arrows at `arrows` (indices into the layout's arrows).
fn msgs(trace: &Trace, arrows: &[usize]) -> Vec<u64> {
    let l = layout(trace, &Options::default());
    arrows.iter().map(|&k| l.arrows[k].msg).collect()
}

#[test]
fn the_cut_joins_the_recording_events_and_finds_what_crosses_it() {
    let trace = common::snapshot3();
    let l = layout(&trace, &Options::default());
    let cut = l.cut.as_ref().expect("the trace records a cut");
    let at: Vec<f64> = cut.points.iter().map(|p| p.pos.expect("every node recorded").at).collect();
    assert_eq!(at, vec![1.0, 2.0, 3.0]);
    // #0 is sent before n0's cut and received after n1's; #1 never arrives; #5 is sent
    // after n1's cut and received before n2's. Markers (#3, #4) are control: never counted.
    assert_eq!(msgs(&trace, &cut.in_transit), vec![0, 1]);
    assert_eq!(msgs(&trace, &cut.orphans), vec![5]);
    assert!(cut.summary().contains("3 of 3 nodes recorded; 2 messages in transit"), "{}", cut.summary());
    assert!(cut.summary().contains("NOT consistent"), "{}", cut.summary());
    assert!(l.types.iter().any(|t| t.name == "MARKER" && t.control));
    assert!(l.types.iter().any(|t| t.name == "TRANSFER" && !t.control));
}

#[test]
fn the_svg_draws_the_cut_its_crossings_and_a_legend() {
    let svg = render(&common::snapshot3(), Format::Svg).expect("renders");
    assert_eq!(svg.matches("class=\"cut-line\"").count(), 1, "one line through the lanes");
    assert_eq!(svg.matches("class=\"channel-state\"").count(), 2, "a halo on each message in transit");
    assert_eq!(svg.matches("class=\"orphan\"").count(), 1, "a red halo on the inconsistent one");
    assert_eq!(svg.matches("class=\"crossing\"").count(), 3, "a ring where each crossing message meets the cut");
    assert_eq!(svg.matches("class=\"message received control\"").count(), 2, "markers drawn as control");
    for text in ["recorded cut (snapshot)", "a channel state", "inconsistent", "MARKER (control, 2 sent)"] {
        assert!(svg.contains(text), "the legend lacks {text:?}");
    }
    let html = render(&common::snapshot3(), Format::Html).expect("renders");
    assert!(html.contains("<p class=\"cut\">snapshot: 3 of 3 nodes recorded"), "the viewer's heading");
    assert!(html.contains("id=\"cut-crossings\""), "the viewer inlines the cut");
}

#[test]
fn a_trace_without_a_recording_has_no_cut_and_a_lane_that_never_records_is_cut_at_the_end() {
    assert!(layout(&common::election3(), &Options::default()).cut.is_none());
    let mut trace = common::snapshot3();
    // n1 never records: its lane is cut after everything, so #0 is received before its
    // cut and #5 is sent before it; only #1, never delivered, is still in transit.
    trace.events.retain(|e| !(e.node == 1 && e.kind == EventKind::Output));
    let l = layout(&trace, &Options::default());
    let cut = l.cut.as_ref().expect("two nodes recorded");
    assert_eq!(cut.recorded(), 2);
    assert!(cut.points[1].pos.is_none());
    assert!(cut.orphans.is_empty());
    assert_eq!(msgs(&trace, &cut.in_transit), vec![1]);
    assert!(reparti_viz::svg::render(&l).contains("stroke-dasharray=\"7 4\""), "an incomplete cut is dashed");
}

/// The sum of the channel states Chandy–Lamport itself recorded (its `channel_state`
/// outputs).
fn recorded_channel_states(trace: &Trace) -> u64 {
    trace
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Output && e.key.as_deref() == Some("channel_state"))
        .map(|e| match e.value {
            Some(OutputValue::Int(v)) => v as u64,
            ref other => panic!("channel_state is a count, got {other:?}"),
        })
        .sum()
}

#[test]
fn on_real_runs_the_picture_crosses_exactly_the_messages_chandy_lamport_recorded() {
    let mut crossed_some = 0;
    for seed in 0..20 {
        let network = NetworkModel { delay: Delay::Uniform { min: 1.0, max: 4.0 }, ..NetworkModel::default() };
        let params = vec![("transfers".to_string(), "3".to_string())];
        let cfg =
            SimConfig { nodes: Some(4), seed, network, params, ids: IdAssignment::Random, ..SimConfig::default() };
        let trace = common::simulate("bank+chandy-lamport", cfg);
        let l = layout(&trace, &Options::default());
        let cut = l.cut.as_ref().expect("the snapshot records");
        assert_eq!(cut.recorded(), 4, "seed {seed}");
        assert!(cut.orphans.is_empty(), "seed {seed}: a FIFO snapshot is consistent");
        assert_eq!(cut.in_transit.len() as u64, recorded_channel_states(&trace), "seed {seed}");
        crossed_some += usize::from(!cut.in_transit.is_empty());
    }
    assert!(crossed_some >= 10, "most seeds leave money in transit: {crossed_some} of 20");
}

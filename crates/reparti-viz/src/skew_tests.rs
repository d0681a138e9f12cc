//! The skew plot on hand-built traces of a small clock-reading "algorithm": three nodes
//! whose clocks start apart and drift; n0 steps its clock, n1 slews it, n2 (a server)
//! never corrects. Every event carries the reading the engine would have traced, computed
//! with the same [`PhysicalClock`].

use super::*;
use reparti_core::physical_clock::ClockSetting;
use reparti_core::trace::{TraceEnd, TraceHeader};
use reparti_core::{ClockMode, OutputValue};

const SETTINGS: [(f64, f64); 3] = [(10.0, 100.0), (-5.0, -200.0), (0.0, 0.0)];

/// Builds a trace event by event, keeping each node's clock as the engine does.
struct Run {
    clocks: Vec<PhysicalClock>,
    events: Vec<TraceEvent>,
}

impl Run {
    fn new() -> Self {
        let clocks = SETTINGS.iter().map(|&(offset, drift_ppm)| PhysicalClock::new(ClockSetting { offset, drift_ppm }));
        let mut run = Run { clocks: clocks.collect(), events: Vec::new() };
        for node in 0..3 {
            run.event(0.0, node, EventKind::Start);
        }
        run
    }

    fn event(&mut self, t: f64, node: u32, kind: EventKind) -> &mut TraceEvent {
        let mut e = TraceEvent::new(self.events.len() as u64, t, node, kind, 0);
        e.clock = Some(self.clocks[node as usize].read(t));
        self.events.push(e);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    fn step(&mut self, t: f64, node: u32, delta: f64) {
        self.clocks[node as usize].step(t, delta);
        let e = self.event(t, node, EventKind::Clock);
        e.adjust = Some(delta);
        e.text = Some("step".into());
    }

    /// `set_clock`: traced as a step of the difference.
    fn set(&mut self, t: f64, node: u32, value: f64) {
        let delta = value - self.clocks[node as usize].read(t);
        self.clocks[node as usize].set(t, value);
        let e = self.event(t, node, EventKind::Clock);
        e.adjust = Some(delta);
        e.text = Some("step".into());
    }

    fn slew(&mut self, t: f64, node: u32, delta: f64, over: f64) {
        let over = self.clocks[node as usize].slew(t, delta, over);
        let e = self.event(t, node, EventKind::Clock);
        e.adjust = Some(delta);
        e.text = Some("slew".into());
        e.over = Some(over);
    }

    fn bound(&mut self, t: f64, node: u32, b: f64) {
        let e = self.event(t, node, EventKind::Output);
        e.key = Some("clock_bound".into());
        e.value = Some(OutputValue::Text(format!("{b:.3}")));
    }

    fn trace(self, with_clocks: bool) -> Trace {
        let header = TraceHeader {
            trace: "reparti".into(),
            version: 1,
            engine: "sim".into(),
            algorithm: "clock-toy".into(),
            params: Default::default(),
            seed: 1,
            topology: "complete".into(),
            nodes: 3,
            idents: vec![0, 1, 2],
            network: serde_json::json!({}),
            clocks: ClockMode::Lamport,
            message_types: Vec::new(),
            control_types: Vec::new(),
            spans: Vec::new(),
            ports: Vec::new(),
            physical_clocks: if with_clocks {
                self.clocks.iter().map(PhysicalClock::setting).collect()
            } else {
                Vec::new()
            },
        };
        let end = TraceEnd { stop: "quiescent".into(), events: self.events.len() as u64, violation: None };
        Trace { header, events: self.events, end: Some(end) }
    }
}

/// n0 steps by −10 at t=10 (bound 0.5), n1 slews +5 over 10 from t=20, all read at t=50.
fn toy() -> Run {
    let mut run = Run::new();
    run.step(10.0, 0, -10.0);
    run.bound(10.0, 0, 0.5);
    run.slew(20.0, 1, 5.0, 10.0);
    for node in 0..3 {
        run.event(50.0, node, EventKind::Local);
    }
    run
}

fn attrs<'a>(svg: &'a str, class: &str, name: &str) -> Vec<&'a str> {
    svg.lines()
        .filter(|l| l.contains(&format!("class=\"{class}\"")))
        .filter_map(|l| {
            let pat = format!(" {name}=\"");
            let rest = &l[l.find(&pat)? + pat.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn one_line_per_node_replayed_exactly() {
    let c = curves(&toy().trace(true)).expect("clocks");
    assert!(c.exact);
    assert_eq!(c.lines.len(), 3);
    // n0: drifts 100 ppm from 10, jumps by −10 at t=10, drifts on.
    let n0 = &c.lines[0];
    assert!(close(n0[0].1, 10.0) && close(offset_at(n0, 10.0 - 1e-9).unwrap_or(0.0), 10.001));
    assert!(close(offset_at(n0, 10.0).unwrap_or(0.0), 0.001), "after the step: {n0:?}");
    assert!(close(offset_at(n0, 50.0).unwrap_or(0.0), 0.005));
    // n1: a vertex where its slew ends (t=30), the whole +5 applied by then.
    let n1 = &c.lines[1];
    assert!(n1.iter().any(|p| close(p.0, 30.0)), "{n1:?}");
    assert!(close(offset_at(n1, 30.0).unwrap_or(0.0), -5.0 - 30.0 * 200e-6 + 5.0));
    assert!(close(offset_at(n1, 25.0).unwrap_or(0.0), -5.0 - 25.0 * 200e-6 + 2.5));
    // Every traced reading lies on its node's line.
    for e in &toy().trace(true).events {
        let on_line = offset_at(&c.lines[e.node as usize], e.t).unwrap_or(f64::NAN);
        assert!(close(on_line, e.clock.unwrap_or(0.0) - e.t), "{e:?}");
    }
    // The spread at the end: n0 at +0.005, n1 at −0.01, n2 at 0.
    let last = c.spread.last().copied().unwrap_or_default();
    assert!(close(last.0, 50.0) && close(last.1, 0.015), "{last:?}");
}

#[test]
fn the_svg_has_a_line_per_node_and_marks_at_the_corrections() {
    let svg = to_svg(&toy().trace(true)).expect("clocks");
    assert!(svg.starts_with("<svg") && svg.contains("width=\"1300\" height=\"900\""));
    // From ±10 apart to 0.015: a second panel zooms from t=30 (n1's slew done).
    assert_eq!(svg.matches("class=\"panel\"").count(), 2);
    assert!(svg.contains("zoom: from t=30, when every correcting node has corrected once; spread since ≤ 0.015"));
    assert_eq!(svg.matches("class=\"node-line\"").count(), 2 * 3);
    // The marks, at x = 90 + t/50 · 960 in the first panel; none in the zoom (t < 30).
    assert_eq!(attrs(&svg, "mark step", "data-t"), ["10"]);
    assert_eq!(attrs(&svg, "mark step", "cx"), ["282"]);
    assert_eq!(attrs(&svg, "mark slew", "data-t"), ["20"]);
    assert!(attrs(&svg, "mark slew", "d")[0].starts_with("M474,"));
    // One whisker, for n0's clock_bound, 2 × 0.5 tall in the panel's units.
    assert_eq!(svg.matches("class=\"bound\"").count(), 1);
    assert!(svg.contains("clock_bound ±0.5"));
    assert_eq!(svg.matches("class=\"spread\"").count(), 2);
    // Legend: a line per node, then the five glyphs.
    assert_eq!(svg.matches("class=\"entry node\"").count(), 3);
    assert_eq!(svg.matches("class=\"entry glyph\"").count(), 5);
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
}

#[test]
fn a_trace_without_readings_is_refused_in_one_line() {
    let mut trace = toy().trace(true);
    for e in &mut trace.events {
        e.clock = None;
    }
    let err = to_svg(&trace).map(|_| ()).expect_err("no readings");
    let text = err.to_string();
    assert!(text.starts_with("this trace has no physical clock readings: its algorithm does not read physical clocks"));
    assert!(!text.contains('\n'));
}

#[test]
fn without_hardware_clocks_the_lines_join_the_readings() {
    let c = curves(&toy().trace(false)).expect("readings");
    assert!(!c.exact);
    // n0 read at 0, 10 (twice: the correction and the output) and 50.
    let n0: Vec<f64> = c.lines[0].iter().map(|p| p.0).collect();
    assert_eq!(n0, [0.0, 10.0, 10.0, 50.0]);
    assert!(close(offset_at(&c.lines[0], 50.0).unwrap_or(0.0), 0.005));
    let svg = to_svg(&toy().trace(false)).expect("readings");
    assert!(svg.contains("lines join the readings at events"));
}

#[test]
fn a_set_during_a_slew_ends_the_slew() {
    // n1 slews +5 over 10 from t=20, then sets its clock at t=25: the slew stops there.
    let mut run = Run::new();
    run.slew(20.0, 1, 5.0, 10.0);
    run.set(25.0, 1, 100.0);
    run.event(40.0, 1, EventKind::Local);
    let c = curves(&run.trace(true)).expect("clocks");
    let expected = 100.0 - 25.0 + 15.0 * (1.0 - 200e-6) - 15.0;
    assert!(close(offset_at(&c.lines[1], 40.0).unwrap_or(0.0), expected), "{:?}", c.lines[1]);
    // An adjust during a slew lets it go on: the replay's first guess, kept.
    let mut run = Run::new();
    run.slew(20.0, 1, 5.0, 10.0);
    run.step(25.0, 1, 1.0);
    run.event(40.0, 1, EventKind::Local);
    let trace = run.trace(true);
    let c = curves(&trace).expect("clocks");
    let last = trace.events.last().and_then(|e| e.clock).unwrap_or(0.0) - 40.0;
    assert!(close(offset_at(&c.lines[1], 40.0).unwrap_or(0.0), last));
}

#[test]
fn a_crashed_node_line_ends_at_its_crash() {
    let mut run = toy();
    run.event(60.0, 2, EventKind::Crash);
    run.event(80.0, 0, EventKind::Local);
    let c = curves(&run.trace(true)).expect("clocks");
    assert_eq!(c.lines[2].last().map(|p| p.0), Some(60.0));
    assert_eq!(c.lines[0].last().map(|p| p.0), Some(80.0));
    // After the crash the spread is over n0 and n1 only.
    let end = c.spread.last().copied().unwrap_or_default();
    let n0_minus_n1 = offset_at(&c.lines[0], 80.0).unwrap_or(0.0) - offset_at(&c.lines[1], 80.0).unwrap_or(0.0);
    assert!(close(end.0, 80.0) && close(end.1, n0_minus_n1), "{end:?}");
}

#[test]
fn a_node_still_slewing_at_the_end_is_left_out_of_the_zoom() {
    // n0 and n1 correct early and agree; n2 is wildly off and starts a slew of −5000
    // that takes 10000 units, far past the run's end (Berkeley's outlier).
    let mut run = Run::new();
    run.step(10.0, 0, -10.0);
    run.slew(10.0, 1, 5.0, 10.0);
    run.slew(12.0, 2, -5000.0, 10.0);
    for node in 0..3 {
        run.event(100.0, node, EventKind::Local);
    }
    let trace = run.trace(true);
    let c = curves(&trace).expect("clocks");
    let (from, shown) = settled(&c).expect("the others settle");
    assert!(close(from, 20.0), "n1's slew ends at 20: {from}");
    assert_eq!(shown, vec![true, true, false]);
    let zoom = y_range(&c, from, false, &shown);
    assert!(zoom.1 - zoom.0 < 100.0, "the zoom is the agreeing nodes' scale: {zoom:?}");
    let svg = draw(&trace, &c);
    assert!(svg.contains("n2 still slewing its first correction"), "the caption says who is off the scale");
}

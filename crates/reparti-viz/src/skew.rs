//! # The skew plot: every node's clock against real time
//!
//! **What.** For a trace of an algorithm that reads physical clocks: every node's offset
//! from real time (`clock − t`) over the run, one coloured line per node; each clock
//! correction marked at the offset right after it (a filled dot for a step, a hollow
//! diamond for a slew); the algorithm's own error bound drawn where a node outputs
//! `clock_bound` `b`, as a whisker `±b` around that node's offset (the clock it
//! synchronised with should pass through it); and the spread, max − min of the offsets
//! of the live nodes, as a thin grey line. When the clocks end far closer together than
//! they started, a second panel zooms on the run after every correcting node's first
//! correction, where the bound and the residual drift can be read.
//!
//! **Source.** The picture every textbook draws for clock synchronisation (Coulouris et
//! al., *Distributed Systems*, ch. 14; Cristian 1989; Gusella & Zatti 1989; Mills 1991).
//!
//! **How it runs here.** The lines are replayed exactly, not sampled: the header's
//! `physical_clocks` give each hardware clock `H(t) = t·(1+ρ) + θ₀`, the `clock` events
//! each correction (a step of `adjust`, or a slew of `adjust` over `over` time units),
//! and they are applied to a [`PhysicalClock`] as the engine did. Between two corrections
//! the offset moves linearly (the drift, plus the slew's rate while one runs), so a
//! polyline with a vertex at every correction and at every slew's end *is* the curve. A
//! trace without the header's clocks (hand-written, older) falls back to sampling: a
//! vertex at every event that carries a reading, joined by straight lines.
//!
//! **Pitfalls.** The trace writes `step` for both `set_clock` and `adjust_clock`, which
//! differ only while a slew runs (`set` ends it, `adjust` lets it go on): the replay lets
//! the slew go on and, if the node's next reading disagrees, replays the step as a `set`.
//! A real run's events carry real time in `real` (their `t` is shifted by merging).

use crate::plot::{nice_step, PALETTE};
use crate::svg::{esc, num, open_standalone};
use crate::{describe, number, VizError};
use reparti_core::physical_clock::PhysicalClock;
use reparti_core::trace::{EventKind, Trace, TraceEvent};
use std::fmt::Write;

/// Writing into a `String` cannot fail, so the `fmt::Result` is dropped here.
macro_rules! w {
    ($s:expr, $($arg:tt)*) => {{
        let _ = write!($s, $($arg)*);
    }};
}

const WIDTH: f64 = 1300.0;
const HEIGHT: f64 = 900.0;
const LEFT: f64 = 90.0;
const AREA_W: f64 = 960.0;
const TOP: f64 = 84.0;
const PANEL_GAP: f64 = 64.0;
const BOTTOM: f64 = 50.0;
/// Legend entries for nodes, at most (a hundred nodes would not fit).
const LEGEND_NODES: usize = 24;

/// A clock correction, where the plot marks it.
#[derive(Clone, Debug, PartialEq)]
struct Mark {
    node: u32,
    t: f64,
    slew: bool,
    /// How long a slew takes (0 for a step).
    over: f64,
    title: String,
}

/// A `clock_bound` output: the node's own bound on its error, at real time `t`.
#[derive(Clone, Debug, PartialEq)]
struct Bound {
    node: u32,
    t: f64,
    bound: f64,
}

/// What is drawn, in data units (real time, offset).
struct Curves {
    /// Per node, its vertices in time order (two at one instant: a step).
    lines: Vec<Vec<(f64, f64)>>,
    marks: Vec<Mark>,
    bounds: Vec<Bound>,
    spread: Vec<(f64, f64)>,
    span: (f64, f64),
    /// Replayed from the hardware clocks (true) or sampled at events (false).
    exact: bool,
}

/// The skew plot of `trace` as a standalone SVG of 1300×900 pixels; an error when no
/// event carries a clock reading.
pub fn to_svg(trace: &Trace) -> Result<String, VizError> {
    Ok(draw(trace, &curves(trace)?))
}

/// Real time at an event: `real` when the trace has it (real runs), else `t`.
fn real(e: &TraceEvent) -> f64 {
    e.real.unwrap_or(e.t)
}

fn curves(trace: &Trace) -> Result<Curves, VizError> {
    if !trace.events.iter().any(|e| e.clock.is_some()) {
        return Err(VizError::NoPhysicalClocks);
    }
    let n = trace.events.iter().map(|e| e.node as usize + 1).fold(trace.header.nodes, usize::max);
    let start = trace.events.iter().map(real).fold(0.0, f64::min);
    let end = trace.events.iter().map(real).fold(start, f64::max);
    let exact = trace.header.physical_clocks.len() >= n;
    let lines = if exact { replayed(trace, n, start, end) } else { sampled(trace, n) };
    let mut marks = Vec::new();
    let mut bounds = Vec::new();
    for e in &trace.events {
        let t = real(e);
        match e.kind {
            EventKind::Clock => marks.push(Mark {
                node: e.node,
                t,
                slew: e.text.as_deref() == Some("slew"),
                over: e.over.unwrap_or(0.0),
                title: format!("n{} at t={}: {}", e.node, number(t), describe(e, None, 80)),
            }),
            EventKind::Output if e.key.as_deref() == Some("clock_bound") => {
                let bound = e.value.as_ref().and_then(|v| v.to_string().trim().parse::<f64>().ok());
                if let Some(bound) = bound.filter(|b| b.is_finite() && *b >= 0.0) {
                    bounds.push(Bound { node: e.node, t, bound });
                }
            }
            _ => {}
        }
    }
    let spread = spread(&lines, start, end);
    Ok(Curves { lines, marks, bounds, spread, span: (start, end), exact })
}

/// One stretch of a node's clock between two corrections.
struct Segment {
    from: f64,
    clock: PhysicalClock,
    slew_until: Option<f64>,
}

/// A step made while a slew ran: set or adjust? (segment index, time, clock before, target)
type Doubt = (usize, f64, PhysicalClock, f64);

/// Every node's offset, replayed from its hardware clock and its corrections.
fn replayed(trace: &Trace, n: usize, start: f64, end: f64) -> Vec<Vec<(f64, f64)>> {
    let mut hist: Vec<Vec<Segment>> = trace.header.physical_clocks[..n]
        .iter()
        .map(|s| vec![Segment { from: start, clock: PhysicalClock::new(*s), slew_until: None }])
        .collect();
    let mut ends = vec![end; n];
    let mut doubts: Vec<Option<Doubt>> = (0..n).map(|_| None).collect();
    for e in &trace.events {
        let (i, t) = (e.node as usize, real(e));
        let h = &mut hist[i];
        // The node's next reading after a doubtful step says whether the slew went on.
        let reading = e.clock.filter(|_| doubts[i].as_ref().is_some_and(|d| t > d.1));
        if let (Some(reading), Some((k, at, before, target))) = (reading, doubts[i].take()) {
            if k + 1 == h.len() && (h[k].clock.read(t) - reading).abs() > 1e-6 * reading.abs().max(1.0) {
                let mut set = before;
                set.set(at, target);
                h[k] = Segment { from: at, clock: set, slew_until: None };
            }
        }
        match e.kind {
            EventKind::Crash => ends[i] = ends[i].min(t),
            EventKind::Clock => {
                let adjust = e.adjust.unwrap_or(0.0);
                let prev = &h[h.len() - 1];
                let mut clock = prev.clock.clone();
                let slew_until = if e.text.as_deref() == Some("slew") {
                    Some(t + clock.slew(t, adjust, e.over.unwrap_or(0.0)))
                } else {
                    if clock.slewing(t) {
                        doubts[i] = Some((h.len(), t, clock.clone(), clock.read(t) + adjust));
                    }
                    clock.step(t, adjust);
                    prev.slew_until
                };
                h.push(Segment { from: t, clock, slew_until });
            }
            _ => {}
        }
    }
    hist.iter()
        .zip(ends)
        .map(|(segs, end)| {
            let mut pts = Vec::new();
            for (k, s) in segs.iter().enumerate().filter(|(_, s)| s.from <= end) {
                let next = segs.get(k + 1).map_or(end, |x| x.from).min(end);
                pts.push((s.from, s.clock.offset(s.from)));
                if let Some(u) = s.slew_until.filter(|&u| u > s.from && u < next) {
                    pts.push((u, s.clock.offset(u)));
                }
                if next > s.from {
                    pts.push((next, s.clock.offset(next)));
                }
            }
            pts
        })
        .collect()
}

/// Every node's offset at every event that carries its reading.
fn sampled(trace: &Trace, n: usize) -> Vec<Vec<(f64, f64)>> {
    let mut lines = vec![Vec::new(); n];
    for e in &trace.events {
        if let Some(c) = e.clock {
            lines[e.node as usize].push((real(e), c - real(e)));
        }
    }
    lines
}

/// A line's offset at `t` (after a step made at `t`); `None` outside the line.
fn offset_at(line: &[(f64, f64)], t: f64) -> Option<f64> {
    let (first, last) = (line.first()?, line.last()?);
    if t < first.0 || t > last.0 {
        return None;
    }
    let k = line.partition_point(|p| p.0 <= t) - 1;
    match line.get(k + 1) {
        Some(&(x1, y1)) if x1 > line[k].0 => Some(line[k].1 + (y1 - line[k].1) * (t - line[k].0) / (x1 - line[k].0)),
        _ => Some(line[k].1),
    }
}

/// Max − min of the live nodes' offsets, at every vertex and on a grid of 400 instants.
fn spread(lines: &[Vec<(f64, f64)>], start: f64, end: f64) -> Vec<(f64, f64)> {
    let mut times: Vec<f64> = lines.iter().flatten().map(|p| p.0).collect();
    times.extend((0..=400).map(|k| start + (end - start) * f64::from(k) / 400.0));
    times.sort_by(f64::total_cmp);
    times.dedup();
    times
        .into_iter()
        .filter_map(|t| {
            let offs: Vec<f64> = lines.iter().filter_map(|l| offset_at(l, t)).collect();
            let lo = offs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = offs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (offs.len() >= 2).then_some((t, hi - lo))
        })
        .collect()
}

/// The range of the offsets and the bounds' whiskers over `t ≥ from`; for the `whole`
/// run also of the spread and of 0 (real time). A zoom leaves those out: clocks agreeing
/// far from real time (Cristian follows its server's clock) would squash it flat.
/// Only the nodes `shown` says (all when it is empty) count.
fn y_range(c: &Curves, from: f64, whole: bool, shown: &[bool]) -> (f64, f64) {
    let counts = |node: usize| shown.get(node).copied().unwrap_or(true);
    let lines = || c.lines.iter().enumerate().filter(|(i, _)| counts(*i)).map(|(_, l)| l);
    let mut ys: Vec<f64> = lines().flatten().filter(|p| p.0 > from).map(|p| p.1).collect();
    // At `from` itself, after any step made then.
    ys.extend(lines().filter_map(|l| offset_at(l, from)));
    if whole {
        ys.extend(c.spread.iter().map(|p| p.1).chain([0.0]));
    }
    for b in c.bounds.iter().filter(|b| b.t >= from && counts(b.node as usize)) {
        if let Some(o) = offset_at(&c.lines[b.node as usize], b.t) {
            ys.extend([o - b.bound, o + b.bound]);
        }
    }
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo > hi {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// The first instant by which every node that corrects its clock has done so once (a
/// slew is done when it has all been applied), with the nodes that count: a node whose
/// first correction is still being slewed when the run ends (Berkeley's wildly wrong
/// clock, slewing at half speed) is left out, else the zoom would start after the run.
fn settled(c: &Curves) -> Option<(f64, Vec<bool>)> {
    let mut first: Vec<Option<f64>> = vec![None; c.lines.len()];
    for m in &c.marks {
        first[m.node as usize].get_or_insert(m.t + m.over);
    }
    let shown: Vec<bool> = first.iter().map(|f| f.is_none_or(|end| end < c.span.1)).collect();
    let from = first.into_iter().flatten().filter(|&end| end < c.span.1).reduce(f64::max)?;
    Some((from, shown))
}

/// Maps data to pixels in one panel.
struct Frame {
    top: f64,
    height: f64,
    span: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn x(&self, t: f64) -> f64 {
        LEFT + (t - self.span.0) / (self.span.1 - self.span.0).max(1e-12) * AREA_W
    }
    fn y(&self, v: f64) -> f64 {
        self.top + self.height - (v - self.y.0) / (self.y.1 - self.y.0) * self.height
    }
}

/// Tick values of a nice step over `lo..hi`, and how many decimals their labels need.
fn ticks(lo: f64, hi: f64, about: f64) -> (Vec<f64>, usize) {
    let step = nice_step((hi - lo) / about);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    ((first..=last).map(|k| k as f64 * step).collect(), decimals)
}

/// A small figure readably: `0.013`, `4.2e-5`.
fn figure(x: f64) -> String {
    if x == 0.0 || x.abs() >= 0.01 {
        number(x)
    } else {
        format!("{x:.1e}")
    }
}

fn colour(node: u32) -> &'static str {
    PALETTE[node as usize % PALETTE.len()]
}

fn draw(trace: &Trace, c: &Curves) -> String {
    let mut o = open_standalone(WIDTH, HEIGHT);
    o.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let h = &trace.header;
    w!(
        o,
        "<text class=\"title\" x=\"{LEFT}\" y=\"26\" font-size=\"16\" font-weight=\"bold\">Clock offsets from real time · {} · {} nodes</text>\n",
        esc(&h.algorithm),
        c.lines.len()
    );
    w!(o, "<text class=\"sub\" x=\"{LEFT}\" y=\"46\" fill=\"#555\">{}</text>\n", esc(&crate::subtitle(trace)));
    let how = if c.exact {
        "lines replayed exactly from each hardware clock (offset, drift) and its corrections"
    } else {
        "the trace has no hardware clocks: lines join the readings at events"
    };
    w!(o, "<text class=\"how\" x=\"{LEFT}\" y=\"64\" fill=\"#555\">{how}</text>\n");
    let full = y_range(c, c.span.0, true, &[]);
    let zoom = settled(c)
        .map(|(from, shown)| (from, y_range(c, from, false, &shown), shown))
        .filter(|(_, z, _)| z.1 - z.0 < 0.25 * (full.1 - full.0));
    let room = HEIGHT - TOP - BOTTOM;
    match zoom {
        Some((from, z, shown)) => {
            let each = (room - PANEL_GAP) / 2.0;
            panel(&mut o, c, 0, Frame { top: TOP, height: each, span: c.span, y: full }, "the whole run");
            let caption = if shown.iter().all(|&s| s) {
                let spread = c.spread.iter().filter(|p| p.0 >= from).map(|p| p.1).fold(0.0, f64::max);
                format!(
                    "zoom: from t={}, when every correcting node has corrected once; spread since ≤ {}",
                    number(from),
                    figure(spread)
                )
            } else {
                let out: Vec<String> =
                    shown.iter().enumerate().filter(|(_, s)| !**s).map(|(i, _)| format!("n{i}")).collect();
                format!(
                    "zoom: from t={}, when the others have corrected once ({} still slewing its first correction, off the scale)",
                    number(from),
                    out.join(", ")
                )
            };
            panel(
                &mut o,
                c,
                1,
                Frame { top: TOP + each + PANEL_GAP, height: each, span: (from, c.span.1), y: z },
                &caption,
            );
        }
        None => panel(&mut o, c, 0, Frame { top: TOP, height: room, span: c.span, y: full }, "the whole run"),
    }
    legend(&mut o, trace, c);
    o.push_str("</svg>\n");
    o
}

fn panel(o: &mut String, c: &Curves, k: usize, f: Frame, caption: &str) {
    let (top, bottom, right) = (f.top, f.top + f.height, LEFT + AREA_W);
    w!(o, "<g class=\"panel\" data-panel=\"{k}\">\n<clipPath id=\"area{k}\"><rect x=\"{LEFT}\" y=\"{}\" width=\"{AREA_W}\" height=\"{}\"/></clipPath>\n", num(top), num(f.height));
    let (xt, xd) = ticks(f.span.0, f.span.1, 10.0);
    for t in xt {
        let x = num(f.x(t));
        w!(o, "<g class=\"tick x\"><line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#e4e4e4\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444\">{t:.xd$}</text></g>\n", num(top), num(bottom), num(bottom + 15.0));
    }
    let (yt, yd) = ticks(f.y.0, f.y.1, 6.0);
    for v in yt {
        let y = num(f.y(v));
        let stroke = if v == 0.0 { "#999" } else { "#e4e4e4" };
        w!(o, "<g class=\"tick y\"><line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{stroke}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#444\">{v:+.yd$}</text></g>\n", num(right), num(LEFT - 6.0), num(f.y(v) + 4.0));
    }
    w!(
        o,
        "<rect x=\"{LEFT}\" y=\"{}\" width=\"{AREA_W}\" height=\"{}\" fill=\"none\" stroke=\"#222\"/>\n",
        num(top),
        num(f.height)
    );
    w!(
        o,
        "<text class=\"caption\" x=\"{}\" y=\"{}\" fill=\"#333\" font-style=\"italic\">{}</text>\n",
        num(LEFT + 8.0),
        num(top + 16.0),
        esc(caption)
    );
    w!(
        o,
        "<text class=\"label x\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">real time t</text>\n",
        num(LEFT + AREA_W / 2.0),
        num(bottom + 34.0)
    );
    let (lx, ly) = (LEFT - 58.0, top + f.height / 2.0);
    w!(o, "<text class=\"label y\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 {} {})\">offset: clock − real time</text>\n", num(lx), num(ly), num(lx), num(ly));

    w!(o, "<g clip-path=\"url(#area{k})\">\n");
    let inside = |t: f64| t >= f.span.0 && t <= f.span.1;
    let points = |pts: &[(f64, f64)]| -> String {
        let shown: Vec<String> =
            pts.iter().map(|&(t, v)| format!("{},{}", num(f.x(t.max(f.span.0))), num(f.y(v)))).collect();
        shown.join(" ")
    };
    // The first panel shows where the run starts; the zoom starts mid-line.
    let from = |line: &[(f64, f64)]| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = offset_at(line, f.span.0).map(|o| (f.span.0, o)).into_iter().collect();
        v.extend(line.iter().copied().filter(|p| p.0 > f.span.0));
        v
    };
    w!(o, "<polyline class=\"spread\" points=\"{}\" fill=\"none\" stroke=\"#666\" stroke-width=\"0.8\" stroke-dasharray=\"4 2\"><title>spread: max − min of the offsets</title></polyline>\n", points(&from(&c.spread)));
    for (i, line) in c.lines.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
        w!(o, "<polyline class=\"node-line\" data-node=\"{i}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"><title>n{i}</title></polyline>\n", points(&from(line)), colour(i as u32));
    }
    for b in c.bounds.iter().filter(|b| inside(b.t)) {
        let Some(off) = offset_at(&c.lines[b.node as usize], b.t) else { continue };
        let (x, y0, y1) = (f.x(b.t), f.y(off - b.bound), f.y(off + b.bound));
        w!(o, "<path class=\"bound\" data-node=\"{}\" d=\"M{x},{y0}L{x},{y1}M{a},{y0}L{z},{y0}M{a},{y1}L{z},{y1}\" stroke=\"{}\" stroke-width=\"1.2\" opacity=\"0.8\"><title>n{} at t={}: clock_bound ±{}</title></path>\n", b.node, colour(b.node), b.node, number(b.t), number(b.bound), x = num(x), y0 = num(y0), y1 = num(y1), a = num(x - 4.0), z = num(x + 4.0));
    }
    for m in c.marks.iter().filter(|m| inside(m.t)) {
        let Some(off) = offset_at(&c.lines[m.node as usize], m.t) else { continue };
        let (x, y) = (f.x(m.t), f.y(off));
        let head = format!("data-node=\"{}\" data-t=\"{}\"", m.node, m.t);
        if m.slew {
            w!(o, "<path class=\"mark slew\" {head} d=\"M{},{}L{},{}L{},{}L{},{}Z\" fill=\"white\" stroke=\"{}\" stroke-width=\"1.6\"><title>{}</title></path>\n", num(x), num(y - 5.0), num(x + 5.0), num(y), num(x), num(y + 5.0), num(x - 5.0), num(y), colour(m.node), esc(&m.title));
        } else {
            w!(o, "<circle class=\"mark step\" {head} cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\" stroke=\"#222\" stroke-width=\"0.8\"><title>{}</title></circle>\n", num(x), num(y), colour(m.node), esc(&m.title));
        }
    }
    o.push_str("</g>\n</g>\n");
}

fn legend(o: &mut String, trace: &Trace, c: &Curves) {
    let x = LEFT + AREA_W + 28.0;
    let mut y = TOP + 10.0;
    o.push_str("<g class=\"legend\">\n");
    let shown = c.lines.len().min(LEGEND_NODES);
    for i in 0..shown {
        let id = trace
            .header
            .idents
            .get(i)
            .filter(|id| **id != i as u64)
            .map(|id| format!(" (id {id})"))
            .unwrap_or_default();
        w!(o, "<g class=\"entry node\"><line x1=\"{x}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">n{i}{id}</text></g>\n", num(x + 26.0), colour(i as u32), num(x + 34.0), num(y + 4.0));
        y += 18.0;
    }
    if c.lines.len() > shown {
        w!(o, "<text x=\"{x}\" y=\"{}\" fill=\"#555\">… and {} more</text>\n", num(y + 4.0), c.lines.len() - shown);
        y += 18.0;
    }
    y += 10.0;
    let (a, m, z) = (num(x), num(x + 13.0), num(x + 26.0));
    let glyphs = [
        format!("<circle cx=\"{m}\" cy=\"0\" r=\"4\" fill=\"#888\" stroke=\"#222\" stroke-width=\"0.8\"/>"),
        format!("<path d=\"M{m},-5L{},0L{m},5L{},0Z\" fill=\"white\" stroke=\"#444\" stroke-width=\"1.6\"/>", num(x + 18.0), num(x + 8.0)),
        format!("<path d=\"M{m},-8L{m},8M{},-8L{},-8M{},8L{},8\" stroke=\"#444\" stroke-width=\"1.2\"/>", num(x + 9.0), num(x + 17.0), num(x + 9.0), num(x + 17.0)),
        format!("<line x1=\"{a}\" y1=\"0\" x2=\"{z}\" y2=\"0\" stroke=\"#666\" stroke-width=\"0.8\" stroke-dasharray=\"4 2\"/>"),
        format!("<line x1=\"{a}\" y1=\"0\" x2=\"{z}\" y2=\"0\" stroke=\"#999\"/>"),
    ];
    let texts =
        ["step (set or adjust)", "slew (spread, never back)", "clock_bound ±b", "spread (max − min)", "0: real time"];
    for (g, t) in glyphs.iter().zip(texts) {
        w!(
            o,
            "<g class=\"entry glyph\" transform=\"translate(0,{})\">{g}<text x=\"{}\" y=\"4\">{t}</text></g>\n",
            num(y),
            num(x + 34.0)
        );
        y += 22.0;
    }
    o.push_str("</g>\n");
}

#[cfg(test)]
#[path = "skew_tests.rs"]
mod tests;

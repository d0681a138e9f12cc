//! A snapshot's recorded cut, drawn on the space-time diagram.
//!
//! A snapshot algorithm (Chandy–Lamport, Lai–Yang) outputs `recorded` at the event where
//! a node records its local state. Joined lane by lane, those events are the *cut* the
//! snapshot took; every basic message sent before the sender's cut event and received
//! after the receiver's is *in transit across the cut*, which is exactly what a
//! consistent snapshot must have recorded as channel states (C1). A message received
//! before the receiver's cut but sent after the sender's crosses the cut backwards: the
//! cut is not consistent (C2), and the picture shows it in red.
//!
//! Everything is read from the trace alone, so the cut is drawn for simulations, model
//! checker counterexamples and merged real runs alike. Control messages (the header's
//! `control_types`, such as MARKER) never count as crossing: they are the snapshot's own
//! machinery. A lane that never recorded among the drawn events is cut at the end of
//! the drawing, dashed. Only the first `recorded` output of each node is used: one
//! snapshot per run.

use crate::spacetime::{Arrow, ArrowEnd, Dot, Layout, Mark, MsgType, Pos};
use crate::svg::{esc, Geo};
use reparti_core::trace::{EventKind, Trace};
use reparti_core::OutputValue;
use std::fmt::Write;

/// The cut's colour (not one of the message palette's).
pub(crate) const CUT_COLOUR: &str = "#6A3D9A";
/// A message that makes the cut inconsistent.
pub(crate) const ORPHAN_COLOUR: &str = "#C00000";

/// The output key a snapshot writes when a node records its local state.
pub const RECORDED_KEY: &str = "recorded";
/// The output key a snapshot writes when a channel's recorded state is final and not
/// empty, with its length.
pub const CHANNEL_STATE_KEY: &str = "channel_state";

/// Where the cut crosses one lane.
#[derive(Clone, Debug, PartialEq)]
pub struct CutPoint {
    /// The lane.
    pub node: u32,
    /// The recording event's place; `None` when the node did not record among the drawn
    /// events (the cut is drawn at the end of the lane).
    pub pos: Option<Pos>,
}

/// The recorded cut and the messages that cross it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cut {
    /// One point per drawn lane, in lane order.
    pub points: Vec<CutPoint>,
    /// Indices into the layout's arrows of the basic messages in transit across the cut
    /// (sent before it, received after it or never): the channel states.
    pub in_transit: Vec<usize>,
    /// Indices of the basic messages sent after the cut but received before it: each
    /// one makes the cut inconsistent.
    pub orphans: Vec<usize>,
    /// How many messages the snapshot itself says its channel states hold (the sum of
    /// its `channel_state` outputs; `None` when it outputs none, as Mattern's counters
    /// do): when it differs from the messages that cross the cut, the snapshot recorded
    /// the wrong ones.
    pub recorded_in_channels: Option<u64>,
}

impl Cut {
    /// The nodes that recorded, of the lanes drawn.
    pub fn recorded(&self) -> usize {
        self.points.iter().filter(|p| p.pos.is_some()).count()
    }

    /// One line for the picture's heading and the terminal.
    pub fn summary(&self) -> String {
        let plural = |k: usize, one: &str, many: &str| if k == 1 { format!("1 {one}") } else { format!("{k} {many}") };
        let mut s = format!(
            "snapshot: {} of {} nodes recorded; {} in transit across the cut (the channel states)",
            self.recorded(),
            self.points.len(),
            plural(self.in_transit.len(), "message", "messages")
        );
        let complete = self.recorded() == self.points.len();
        if let Some(held) = self.recorded_in_channels.filter(|&h| complete && h != self.in_transit.len() as u64) {
            s.push_str(&format!("; but the snapshot's channel states hold {held}: it recorded the wrong messages"));
        }
        if !self.orphans.is_empty() {
            s.push_str(&format!(
                "; {} sent after the cut but received before it: the cut is NOT consistent",
                plural(self.orphans.len(), "message", "messages")
            ));
        }
        s
    }
}

/// The cut of the first `recorded` output on each drawn lane, or `None` when no drawn
/// event records.
pub fn find(trace: &Trace, lanes: usize, dots: &[Dot], arrows: &[Arrow], types: &[MsgType]) -> Option<Cut> {
    let mut at: Vec<Option<(usize, Pos)>> = vec![None; lanes];
    let mut recorded_in_channels: Option<u64> = None;
    for d in dots.iter().filter(|d| d.mark == Mark::Output) {
        let event = &trace.events[d.event];
        if let (Some(CHANNEL_STATE_KEY), Some(OutputValue::Int(k))) = (event.key.as_deref(), &event.value) {
            *recorded_in_channels.get_or_insert(0) += u64::try_from(*k).unwrap_or(0);
        }
        let recorded = event.key.as_deref() == Some(RECORDED_KEY);
        if let Some(slot @ None) = at.get_mut(d.node as usize).filter(|_| recorded) {
            *slot = Some((recording_receive(trace, d.event).unwrap_or(d.event), d.pos));
        }
    }
    if at.iter().all(Option::is_none) {
        return None;
    }
    // A lane that never recorded is cut after everything drawn on it.
    let cut_event = |node: u32| at.get(node as usize).copied().flatten().map_or(usize::MAX, |(k, _)| k);
    let (mut in_transit, mut orphans) = (Vec::new(), Vec::new());
    for (k, a) in arrows.iter().enumerate() {
        if types.get(a.ty).is_some_and(|t| t.control) || a.kind == ArrowEnd::Dropped {
            continue;
        }
        let sent_before = a.send_event < cut_event(a.from);
        let received_before = a.kind == ArrowEnd::Received && a.end_event.is_some_and(|e| e < cut_event(a.to));
        match (sent_before, received_before) {
            (true, false) => in_transit.push(k),
            (false, true) => orphans.push(k),
            _ => {}
        }
    }
    let points = at.iter().enumerate().map(|(node, p)| CutPoint { node: node as u32, pos: p.map(|(_, pos)| pos) });
    Some(Cut { points: points.collect(), in_transit, orphans, recorded_in_channels })
}

/// The cut's line through the lanes, in pixels: down each lane's recording event, then
/// on to the next lane's.
fn cut_path(cut: &Cut, g: &Geo) -> Vec<Xy> {
    let half = g.gap * 0.4;
    let mut path = Vec::with_capacity(2 * cut.points.len());
    for p in &cut.points {
        let along = p.pos.map_or(g.along_end, |pos| g.along(pos));
        let across = g.lane(p.node);
        path.push(g.xy(along, across - half));
        path.push(g.xy(along, across + half));
    }
    path
}

/// The crossing messages' halos and the cut's line, drawn under the messages.
pub(crate) fn draw_under(cut: &Cut, l: &Layout, g: &Geo) -> String {
    let mut s = String::from("<g id=\"cut\">\n");
    for (arrows, colour, class, what) in [
        (&cut.in_transit, CUT_COLOUR, "channel-state", "in transit across the cut: in the channel state"),
        (&cut.orphans, ORPHAN_COLOUR, "orphan", "sent after the cut but received before it: the cut is not consistent"),
    ] {
        for &k in arrows {
            let ((x1, y1), (x2, y2)) = ends(&l.arrows[k], g);
            let _ = writeln!(
                s,
                "<line class=\"{class}\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{colour}\" \
                 stroke-width=\"8\" stroke-opacity=\".25\" stroke-linecap=\"round\"><title>{}: {}</title></line>",
                esc(what),
                esc(&l.arrows[k].title)
            );
        }
    }
    let d: String = cut_path(cut, g)
        .iter()
        .enumerate()
        .map(|(k, (x, y))| format!("{}{x:.1},{y:.1}", if k == 0 { 'M' } else { 'L' }))
        .collect();
    // A lane that never recorded is cut at the end of the drawing: the line is dashed.
    let dash = if cut.recorded() < cut.points.len() { " stroke-dasharray=\"7 4\"" } else { "" };
    let _ = writeln!(
        s,
        "<path class=\"cut-line\" d=\"{d}\" fill=\"none\" stroke=\"{CUT_COLOUR}\" stroke-width=\"2.5\" \
         stroke-opacity=\".85\" stroke-linejoin=\"round\"{dash}><title>{}</title></path>",
        esc(&cut.summary())
    );
    s.push_str("</g>\n");
    s
}

/// A ring where each crossing message meets the cut, drawn over the messages.
pub(crate) fn draw_over(cut: &Cut, l: &Layout, g: &Geo) -> String {
    let path = cut_path(cut, g);
    let mut s = String::from("<g id=\"cut-crossings\">\n");
    for (arrows, colour) in [(&cut.in_transit, CUT_COLOUR), (&cut.orphans, ORPHAN_COLOUR)] {
        for &k in arrows {
            let a = &l.arrows[k];
            let (from, to) = ends(a, g);
            if let Some((x, y)) = crossing_path(&path, from, to) {
                let _ = writeln!(
                    s,
                    "<circle class=\"crossing\" data-msg=\"{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"#fff\" \
                     stroke=\"{colour}\" stroke-width=\"2.5\"><title>n{} → n{}: {}</title></circle>",
                    a.msg,
                    a.from,
                    a.to,
                    esc(&a.title)
                );
            }
        }
    }
    s.push_str("</g>\n");
    s
}

/// Where an arrow starts and ends on the picture.
fn ends(a: &Arrow, g: &Geo) -> (Xy, Xy) {
    let end = match a.kind {
        ArrowEnd::InFlight => g.xy(g.along_end, g.lane(a.to)),
        _ => g.at(a.to, a.end),
    };
    (g.at(a.from, a.start), end)
}

/// The receive whose handler recorded first thing (Lai–Yang records on a red message
/// before delivering it; Chandy–Lamport on its first marker): the cut falls just before
/// that receive, so the message it delivers is received after the cut. `None` when the
/// recording at `k` follows anything else of the node than log lines.
fn recording_receive(trace: &Trace, k: usize) -> Option<usize> {
    let node = trace.events[k].node;
    // A handler's events are written together: a short look back is enough.
    let earlier = trace.events[..k].iter().enumerate().rev().take(64);
    let (j, e) = earlier.into_iter().find(|(_, e)| e.node == node && e.kind != EventKind::Log)?;
    (e.kind == EventKind::Receive).then_some(j)
}

/// A point on the picture, in pixels.
pub(crate) type Xy = (f64, f64);

/// Where the segment `a`–`b` meets the segment `c`–`d`, if it does.
pub(crate) fn crossing(a: Xy, b: Xy, c: Xy, d: Xy) -> Option<Xy> {
    let r = (b.0 - a.0, b.1 - a.1);
    let s = (d.0 - c.0, d.1 - c.1);
    let denom = r.0 * s.1 - r.1 * s.0;
    if denom.abs() < 1e-12 {
        return None;
    }
    let q = (c.0 - a.0, c.1 - a.1);
    let t = (q.0 * s.1 - q.1 * s.0) / denom;
    let u = (q.0 * r.1 - q.1 * r.0) / denom;
    ((0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)).then_some((a.0 + t * r.0, a.1 + t * r.1))
}

/// Where the polyline `path` first meets the segment `a`–`b`.
pub(crate) fn crossing_path(path: &[Xy], a: Xy, b: Xy) -> Option<Xy> {
    path.windows(2).find_map(|w| crossing(a, b, w[0], w[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_that_cross_meet_where_they_cross_and_parallel_ones_never() {
        assert_eq!(crossing((0.0, 0.0), (2.0, 2.0), (0.0, 2.0), (2.0, 0.0)), Some((1.0, 1.0)));
        assert_eq!(crossing((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)), None);
        assert_eq!(crossing((0.0, 0.0), (1.0, 1.0), (3.0, 0.0), (3.0, 5.0)), None, "beyond the segment's end");
        let path = [(5.0, 0.0), (5.0, 10.0), (8.0, 20.0)];
        assert_eq!(crossing_path(&path, (0.0, 5.0), (10.0, 5.0)), Some((5.0, 5.0)));
    }
}

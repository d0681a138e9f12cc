//! The wait-for graph at the moment of a deadlock declaration, as an SVG in the style
//! of `reparti topo`.
//!
//! Everything is read from the trace: a REQUEST sent by i to j adds the edge `i → j`
//! (i waits for j), a GRANT sent by j to i removes it (j let go as soon as it sent it);
//! the graph is the one at the first `deadlock` output, and the node that made it is
//! the declarer. A shortest cycle through the declarer is drawn in the highlight
//! colour. A declaration with no cycle through the declarer (a detector without its
//! edge check) is a *phantom* deadlock, and the caption says so. Without any
//! declaration, the graph at the end of the trace is drawn. Nodes sit on a circle,
//! node 0 at the top, as `reparti topo` draws a complete graph.

use crate::number;
use crate::svg::{esc, num, open_standalone};
use reparti_core::trace::{EventKind, Trace};
use reparti_core::{Topology, TopologyKind};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

/// The output key a deadlock detector writes when a process declares.
pub const DEADLOCK_KEY: &str = "deadlock";
/// The colour of the cycle and of the declarer.
pub const CYCLE_COLOUR: &str = "#D62728";

/// A trace without REQUEST and GRANT messages.
#[derive(Debug, thiserror::Error)]
#[error("this trace has no wait-for graph: its algorithm sends no REQUEST and GRANT messages; record one with `reparti sim wait-for+chandy-misra-haas --trace FILE`")]
pub struct NoWaitForGraph;

/// The wait-for graph at a moment of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitForGraph {
    /// The number of nodes.
    pub n: usize,
    /// The edges `(i, j)`: i waits for j.
    pub edges: BTreeSet<(u32, u32)>,
    /// The declaring node and the time of its declaration, if one declared.
    pub declarer: Option<(u32, f64)>,
    /// A shortest cycle through the declarer, as its edges in order (empty if none).
    pub cycle: Vec<(u32, u32)>,
}

/// The wait-for graph at the first declaration (or at the end of the trace).
pub fn at_declaration(trace: &Trace) -> Result<WaitForGraph, NoWaitForGraph> {
    let types = &trace.header.message_types;
    if !types.iter().any(|t| t == "REQUEST") || !types.iter().any(|t| t == "GRANT") {
        return Err(NoWaitForGraph);
    }
    let mut edges = BTreeSet::new();
    let mut declarer = None;
    for e in &trace.events {
        match (e.kind, e.msg_type.as_deref(), e.to) {
            (EventKind::Send, Some("REQUEST"), Some(to)) => {
                edges.insert((e.node, to));
            }
            (EventKind::Send, Some("GRANT"), Some(to)) => {
                edges.remove(&(to, e.node));
            }
            (EventKind::Output, ..) if e.key.as_deref() == Some(DEADLOCK_KEY) => {
                declarer = Some((e.node, e.t));
                break;
            }
            _ => {}
        }
    }
    let cycle = declarer.map(|(d, _)| shortest_cycle(&edges, d)).unwrap_or_default();
    Ok(WaitForGraph { n: trace.header.nodes, edges, declarer, cycle })
}

/// A shortest cycle through `d` (breadth-first from `d` back to itself).
fn shortest_cycle(edges: &BTreeSet<(u32, u32)>, d: u32) -> Vec<(u32, u32)> {
    let mut parent: BTreeMap<u32, u32> = BTreeMap::new();
    let mut todo = VecDeque::from([d]);
    while let Some(a) = todo.pop_front() {
        for &(_, b) in edges.range((a, 0)..=(a, u32::MAX)) {
            if b == d {
                let mut path = vec![(a, d)];
                let mut x = a;
                while x != d {
                    let p = parent[&x];
                    path.push((p, x));
                    x = p;
                }
                path.reverse();
                return path;
            }
            if let std::collections::btree_map::Entry::Vacant(v) = parent.entry(b) {
                v.insert(a);
                todo.push_back(b);
            }
        }
    }
    Vec::new()
}

impl WaitForGraph {
    /// One line: what the picture shows.
    pub fn caption(&self) -> String {
        let path = |c: &[(u32, u32)]| {
            let mut s: Vec<String> = c.iter().map(|(a, _)| a.to_string()).collect();
            s.extend(c.first().map(|(a, _)| a.to_string()));
            s.join("→")
        };
        match self.declarer {
            Some((d, t)) if !self.cycle.is_empty() => {
                format!(
                    "wait-for graph at t={} when node {d} declared deadlock · cycle {}",
                    number(t),
                    path(&self.cycle)
                )
            }
            Some((d, t)) => format!(
                "wait-for graph at t={} when node {d} declared deadlock · no cycle through {d}: a phantom deadlock",
                number(t)
            ),
            None => "wait-for graph at the end of the run · no deadlock declared".to_string(),
        }
    }
}

const SCALE: f64 = 60.0;
const RADIUS: f64 = 15.0;
const MARGIN: f64 = 50.0;

/// The picture: `<path class="edge" data-from data-to>` per wait-for edge, `edge cycle`
/// for those of the highlighted cycle, `<g class="node">` per node, `node declarer` for
/// the declarer.
pub fn to_svg(trace: &Trace) -> Result<String, NoWaitForGraph> {
    let g = at_declaration(trace)?;
    let units = match Topology::build(&TopologyKind::Complete, g.n.max(1), &mut reparti_core::rng(0)) {
        Ok(t) => crate::topology::layout(&t),
        Err(_) => vec![(0.0, 0.0); g.n],
    };
    let (min_x, max_x) = bounds(units.iter().map(|p| p.0));
    let (min_y, max_y) = bounds(units.iter().map(|p| p.1));
    let cap = g.caption();
    let sub =
        format!("{} · {} edge{}", trace.header.algorithm, g.edges.len(), if g.edges.len() == 1 { "" } else { "s" });
    let width = ((max_x - min_x) * SCALE + 2.0 * MARGIN).max(cap.chars().count() as f64 * 7.0 + 20.0);
    let height = (max_y - min_y) * SCALE + 2.0 * MARGIN + 40.0;
    let x_off = (width - (max_x - min_x) * SCALE) / 2.0;
    let pos: Vec<(f64, f64)> =
        units.iter().map(|&(x, y)| ((x - min_x) * SCALE + x_off, (y - min_y) * SCALE + MARGIN + 40.0)).collect();
    let at = |i: u32| pos.get(i as usize).copied().unwrap_or((0.0, 0.0));
    let cycle: BTreeSet<(u32, u32)> = g.cycle.iter().copied().collect();

    let mut o = String::new();
    o.push_str(&open_standalone(width, height));
    let _ = writeln!(o, "<title>{}</title>", esc(&cap));
    let _ = writeln!(o, "<defs>{}{}</defs>", marker("arrow", "#444", 7.0), marker("arrow-cycle", CYCLE_COLOUR, 3.5));
    o.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let centre = width / 2.0;
    let _ = writeln!(
        o,
        "<text class=\"caption\" x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{}</text>",
        num(centre),
        esc(&cap)
    );
    let _ = writeln!(
        o,
        "<text class=\"subtitle\" x=\"{}\" y=\"38\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">{}</text>",
        num(centre),
        esc(&sub)
    );
    o.push_str("<g class=\"edges\" fill=\"none\">\n");
    // The cycle last, so that it is drawn over the other edges.
    let ordered = g.edges.iter().filter(|e| !cycle.contains(e)).chain(g.edges.iter().filter(|e| cycle.contains(e)));
    for &(a, b) in ordered {
        let (p, q) = (at(a), at(b));
        let d = if g.edges.contains(&(b, a)) { bent(p, q, 0.2) } else { straight(p, q) };
        let (class, colour, w, mark) = match cycle.contains(&(a, b)) {
            true => ("edge cycle", CYCLE_COLOUR, "3", "arrow-cycle"),
            false => ("edge", "#444", "1.4", "arrow"),
        };
        let _ = writeln!(
            o,
            "<path class=\"{class}\" data-from=\"{a}\" data-to=\"{b}\" d=\"{d}\" stroke=\"{colour}\" stroke-width=\"{w}\" marker-end=\"url(#{mark})\"/>"
        );
    }
    o.push_str("</g>\n<g class=\"nodes\">\n");
    let blocked: BTreeSet<u32> = g.edges.iter().map(|e| e.0).collect();
    for (i, &(x, y)) in pos.iter().enumerate() {
        let i = i as u32;
        let declarer = g.declarer.is_some_and(|(d, _)| d == i);
        let fill = if blocked.contains(&i) { "#fde9d9" } else { "#e8f0fe" };
        let (stroke, w) = if declarer { (CYCLE_COLOUR, 3.0) } else { ("#1a4d8f", 1.5) };
        let _ = write!(
            o,
            "<g class=\"node{}\" data-node=\"{i}\"><circle cx=\"{x}\" cy=\"{y}\" r=\"{RADIUS}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{w}\"/><text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\">{i}</text>",
            if declarer { " declarer" } else { "" },
            x = num(x),
            y = num(y),
            ty = num(y + 4.0)
        );
        if declarer {
            let _ = write!(
                o,
                "<text class=\"declared\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{CYCLE_COLOUR}\">declared</text>",
                num(x),
                num(y - RADIUS - 6.0)
            );
        }
        o.push_str("</g>\n");
    }
    o.push_str("</g>\n");
    let legend_y = height - 12.0;
    let _ = writeln!(
        o,
        "<text class=\"legend\" x=\"10\" y=\"{}\" font-size=\"10\" fill=\"#555\">i → j: i waits for j's grant · shaded: waiting · red: the cycle and the declarer</text>",
        num(legend_y)
    );
    o.push_str("</svg>\n");
    Ok(o)
}

/// An arrowhead; its size is in stroke widths, so a thick edge takes a smaller one.
fn marker(id: &str, colour: &str, size: f64) -> String {
    format!(
        "<marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"{s}\" markerHeight=\"{s}\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{colour}\"/></marker>",
        s = num(size)
    )
}

fn bounds(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
    if lo.is_finite() {
        (lo, hi)
    } else {
        (0.0, 0.0)
    }
}

fn towards(from: (f64, f64), to: (f64, f64), by: f64) -> (f64, f64) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-9 {
        return from;
    }
    (from.0 + dx / len * by, from.1 + dy / len * by)
}

fn straight(a: (f64, f64), b: (f64, f64)) -> String {
    let (p, q) = (towards(a, b, RADIUS), towards(b, a, RADIUS + 1.0));
    format!("M{},{} L{},{}", num(p.0), num(p.1), num(q.0), num(q.1))
}

/// A curve bowing to the right of the direction of travel (two opposite edges).
fn bent(a: (f64, f64), b: (f64, f64), bow: f64) -> String {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let c = ((a.0 + b.0) / 2.0 - dy * bow, (a.1 + b.1) / 2.0 + dx * bow);
    let (p, q) = (towards(a, c, RADIUS), towards(b, c, RADIUS + 1.0));
    format!("M{},{} Q{},{} {},{}", num(p.0), num(p.1), num(c.0), num(c.1), num(q.0), num(q.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_cycle_through_the_declarer_is_found() {
        let e: BTreeSet<(u32, u32)> = [(0, 1), (1, 2), (2, 0), (1, 0), (3, 1)].into();
        assert_eq!(shortest_cycle(&e, 0), vec![(0, 1), (1, 0)]);
        assert_eq!(shortest_cycle(&e, 2), vec![(2, 0), (0, 1), (1, 2)]);
        assert!(shortest_cycle(&e, 3).is_empty());
    }
}

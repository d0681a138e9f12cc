//! Topology pictures: Graphviz DOT and an SVG drawn here, with no Graphviz at run time.
//!
//! Both pictures share one layout (in abstract units where neighbours sit about one
//! unit apart) and one edge list:
//! - rings, complete and random graphs, edge-list files: a circle, node 0 at the top and
//!   positions increasing clockwise, so on a `ring` messages travel clockwise;
//! - a star: node 0 in the centre, the leaves on a circle;
//! - a grid or torus: rows and columns (torus wrap-around links drawn as outer arcs);
//! - a tree: one layer per depth; a line: one row;
//! - a hypercube: an oblique projection, one direction per dimension.
//!
//! A unidirectional `ring` shows every channel as an arrow `i → i+1`. Elsewhere the two
//! channels of a pair `a ↔ b` are drawn as one undirected line (on a `bidir-ring`, with
//! arrowheads at both ends, because algorithms there talk about left and right), and a
//! one-way channel (only possible in an edge-list file) as an arrow.

use crate::svg::{esc, num, open_standalone};
use reparti_core::{Topology, TopologyKind};
use std::collections::BTreeSet;
use std::fmt::Write;

/// One line of the picture: a one-way channel, or the two channels of a pair drawn once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Edge {
    /// The sender (for a pair, the smaller position).
    pub from: u32,
    /// The receiver (for a pair, the larger position).
    pub to: u32,
    /// Whether the channel `to → from` exists too and is drawn by this same line.
    pub both_ways: bool,
}

/// The lines to draw, in channel order: one per channel on a `ring`, one per pair elsewhere.
pub fn edges(topology: &Topology) -> Vec<Edge> {
    // A bidir-ring of 2 lists its one neighbour twice: the set makes each channel count once.
    let channels: BTreeSet<(u32, u32)> = topology.channels().map(|(a, b)| (a.0, b.0)).collect();
    if *topology.kind() == TopologyKind::Ring {
        // Every channel is its own arrow, even with 2 nodes where 0 → 1 and 1 → 0 both
        // exist: the direction of travel is the point of the picture.
        return channels.into_iter().map(|(from, to)| Edge { from, to, both_ways: false }).collect();
    }
    let mut out = Vec::new();
    for &(a, b) in &channels {
        let mutual = channels.contains(&(b, a));
        if !mutual {
            out.push(Edge { from: a, to: b, both_ways: false });
        } else if a < b {
            out.push(Edge { from: a, to: b, both_ways: true });
        }
    }
    out
}

/// Where each node goes, in abstract units (y grows downwards, as in SVG).
pub fn layout(topology: &Topology) -> Vec<(f64, f64)> {
    let n = topology.len();
    match topology.kind() {
        TopologyKind::Star => {
            // One leaf alone would sit on the centre: put it beside it instead.
            let leaves = if n == 2 { vec![(SPACING, 0.0)] } else { circle(n.saturating_sub(1)) };
            let mut pos = vec![(0.0, 0.0)];
            pos.extend(leaves);
            pos.truncate(n);
            pos
        }
        TopologyKind::Grid => grid(n, (n as f64).sqrt().ceil().max(1.0) as usize),
        TopologyKind::Torus => grid(n, torus_width(n)),
        TopologyKind::Tree => tree(n),
        TopologyKind::Line => (0..n).map(|i| (i as f64 * SPACING, 0.0)).collect(),
        TopologyKind::Hypercube => hypercube(n),
        _ => circle(n),
    }
}

/// Distance between neighbours in grids, lines and trees.
const SPACING: f64 = 1.2;

/// `n` points on a circle, starting at the top and going clockwise.
fn circle(n: usize) -> Vec<(f64, f64)> {
    if n <= 1 {
        return vec![(0.0, 0.0); n];
    }
    // Radius such that consecutive nodes are SPACING apart (chord = 2r·sin(π/n)).
    let r = (SPACING / (2.0 * (std::f64::consts::PI / n as f64).sin())).max(1.0);
    (0..n)
        .map(|i| {
            let a = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
            (r * a.cos(), r * a.sin())
        })
        .collect()
}

fn grid(n: usize, w: usize) -> Vec<(f64, f64)> {
    let w = w.max(1);
    (0..n).map(|i| ((i % w) as f64 * SPACING, (i / w) as f64 * SPACING)).collect()
}

/// The torus width, chosen exactly as `Topology::build` chooses it.
fn torus_width(n: usize) -> usize {
    (3..=((n as f64).sqrt() as usize))
        .rev()
        .find(|w| n.is_multiple_of(*w) && n / w >= 3)
        .unwrap_or_else(|| (n as f64).sqrt().ceil().max(1.0) as usize)
}

/// Node i at depth ⌊log₂(i+1)⌋; each node centred above the slots of its subtree.
fn tree(n: usize) -> Vec<(f64, f64)> {
    let depth = |i: usize| (i + 1).ilog2();
    let deepest = if n == 0 { 0 } else { depth(n - 1) };
    (0..n)
        .map(|i| {
            let d = depth(i);
            let k = (i + 1 - (1 << d)) as f64;
            let slot = (1u64 << (deepest - d)) as f64;
            ((k + 0.5) * slot * SPACING, d as f64 * SPACING * 1.2)
        })
        .collect()
}

/// Node i at the sum of one vector per set bit: pairs of dimensions at right angles,
/// each pair longer and turned a little, so that sub-cubes stay apart and edges of
/// different dimensions are never collinear (checked by the tests up to 1024 nodes).
fn hypercube(n: usize) -> Vec<(f64, f64)> {
    let d = if n <= 1 { 0 } else { n.ilog2() };
    let v: Vec<(f64, f64)> = (0..d)
        .map(|b| {
            let (g, j) = (b / 2, b % 2);
            let a = j as f64 * std::f64::consts::FRAC_PI_2 + g as f64 * 0.45;
            let len = SPACING * 2.2f64.powi(g as i32);
            (len * a.cos(), len * a.sin())
        })
        .collect();
    (0..n)
        .map(|i| {
            v.iter().enumerate().filter(|(b, _)| (i >> b) & 1 == 1).fold((0.0, 0.0), |p, (_, q)| (p.0 + q.0, p.1 + q.1))
        })
        .collect()
}

/// A node's label: its position, and its identity when known.
fn label(i: usize, idents: Option<&[u64]>) -> String {
    match idents.and_then(|ids| ids.get(i)) {
        Some(id) => format!("{i} (id {id})"),
        None => i.to_string(),
    }
}

/// What the picture shows, e.g. `ring of 8 nodes`.
pub fn caption(topology: &Topology) -> String {
    let n = topology.len();
    let what = match topology.kind() {
        TopologyKind::File { path } if path.is_empty() => "edge list".to_string(),
        TopologyKind::Complete => "complete graph".to_string(),
        TopologyKind::Tree => "binary tree".to_string(),
        TopologyKind::Random { degree } => format!("random graph (degree {degree})"),
        k => k.to_string(),
    };
    let way = match topology.kind() {
        TopologyKind::Ring => " · messages travel clockwise",
        _ => "",
    };
    format!("{what} of {n} node{}{way}", if n == 1 { "" } else { "s" })
}

/// The topology as a Graphviz `digraph`, one edge per line. Nodes are pinned to the same
/// layout as the SVG (`neato` honours `pos="x,y!"`; other engines lay out afresh).
pub fn dot(topology: &Topology, idents: Option<&[u64]>) -> String {
    // Graphviz y grows upwards and `pos` is in inches.
    const INCH: f64 = 1.1;
    let mut o = String::new();
    let cap = caption(topology);
    let _ = writeln!(o, "digraph \"{}\" {{", escape_dot(&topology.kind().to_string()));
    let _ = writeln!(o, "  graph [layout=neato, label=\"{}\", labelloc=t];", escape_dot(&cap));
    let _ = writeln!(o, "  node [shape=circle, fontname=\"sans-serif\", fontsize=10];");
    for (i, (x, y)) in layout(topology).into_iter().enumerate() {
        let _ = writeln!(
            o,
            "  {i} [label=\"{}\", pos=\"{},{}!\"];",
            escape_dot(&label(i, idents)),
            inches(x * INCH),
            inches(-y * INCH)
        );
    }
    let bidir_ring = *topology.kind() == TopologyKind::BidirRing;
    for e in edges(topology) {
        let attr = match (e.both_ways, bidir_ring) {
            (false, _) => "",
            (true, true) => " [dir=both]",
            (true, false) => " [dir=none]",
        };
        let _ = writeln!(o, "  {} -> {}{attr};", e.from, e.to);
    }
    o.push_str("}\n");
    o
}

/// Two decimals, and never `-0.00` (a rounding artefact that would churn snapshots).
fn inches(v: f64) -> String {
    let s = format!("{v:.2}");
    if s == "-0.00" {
        "0.00".into()
    } else {
        s
    }
}

fn escape_dot(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Pixels per layout unit, node radius, margin.
const SCALE: f64 = 60.0;
const RADIUS: f64 = 15.0;
const MARGIN: f64 = 50.0;

/// The topology as a standalone SVG: `<g class="node">` per node (its position inside,
/// its identity beside it), `<path class="edge" data-from data-to>` per edge.
pub fn svg(topology: &Topology, idents: Option<&[u64]>) -> String {
    let units = layout(topology);
    let (min_x, max_x) = bounds(units.iter().map(|p| p.0));
    let (min_y, max_y) = bounds(units.iter().map(|p| p.1));
    // The caption needs room even when the drawing is narrow.
    let cap = caption(topology);
    let width = ((max_x - min_x) * SCALE + 2.0 * MARGIN).max(cap.chars().count() as f64 * 7.5 + 20.0);
    let height = (max_y - min_y) * SCALE + 2.0 * MARGIN + 24.0;
    let x_off = (width - (max_x - min_x) * SCALE) / 2.0;
    let pos: Vec<(f64, f64)> =
        units.iter().map(|&(x, y)| ((x - min_x) * SCALE + x_off, (y - min_y) * SCALE + MARGIN + 24.0)).collect();
    let centre = (
        pos.iter().map(|p| p.0).sum::<f64>() / pos.len().max(1) as f64,
        pos.iter().map(|p| p.1).sum::<f64>() / pos.len().max(1) as f64,
    );

    let mut o = String::new();
    o.push_str(&open_standalone(width, height));
    let _ = writeln!(o, "<title>{}</title>", esc(&cap));
    o.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444\"/></marker></defs>\n",
    );
    o.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let _ = writeln!(
        o,
        "<text class=\"caption\" x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{}</text>",
        num(width / 2.0),
        esc(&cap)
    );

    let all = edges(topology);
    let drawn: BTreeSet<(u32, u32)> = all.iter().map(|e| (e.from, e.to)).collect();
    let bidir_ring = *topology.kind() == TopologyKind::BidirRing;
    o.push_str("<g class=\"edges\" stroke=\"#444\" stroke-width=\"1.4\" fill=\"none\">\n");
    for e in &all {
        let (a, b) = (pos[e.from as usize], pos[e.to as usize]);
        let d = if !e.both_ways && drawn.contains(&(e.to, e.from)) {
            // Two opposite arrows (a ring of 2, a file): bend each to its right so both show.
            bent(a, b, 0.25)
        } else if *topology.kind() == TopologyKind::Torus && wraps(&units, e) {
            wrap_arc(a, b, centre)
        } else {
            let (p, q) = (towards(a, b, RADIUS), towards(b, a, RADIUS + 1.0));
            format!("M{},{} L{},{}", num(p.0), num(p.1), num(q.0), num(q.1))
        };
        let marks = match (e.both_ways, bidir_ring) {
            (false, _) => " marker-end=\"url(#arrow)\"",
            (true, true) => " marker-start=\"url(#arrow)\" marker-end=\"url(#arrow)\"",
            (true, false) => "",
        };
        let _ = writeln!(o, "<path class=\"edge\" data-from=\"{}\" data-to=\"{}\" d=\"{d}\"{marks}/>", e.from, e.to);
    }
    o.push_str("</g>\n<g class=\"nodes\">\n");
    for (i, &(x, y)) in pos.iter().enumerate() {
        let _ = write!(
            o,
            "<g class=\"node\" data-node=\"{i}\"><circle cx=\"{x}\" cy=\"{y}\" r=\"{RADIUS}\" fill=\"#e8f0fe\" \
             stroke=\"#1a4d8f\" stroke-width=\"1.5\"/><text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\">{i}</text>",
            x = num(x),
            y = num(y),
            ty = num(y + 4.0)
        );
        if let Some(id) = idents.and_then(|ids| ids.get(i)) {
            // Beside the node, away from the drawing's centre, where no edge usually runs.
            let (dx, dy) = unit((x - centre.0, y - centre.1)).unwrap_or((0.0, 1.0));
            let (lx, ly) = (x + dx * (RADIUS + 14.0), y + dy * (RADIUS + 10.0) + 4.0);
            let _ = write!(
                o,
                "<text class=\"ident\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#a33\">id {id}</text>",
                num(lx),
                num(ly)
            );
        }
        o.push_str("</g>\n");
    }
    o.push_str("</g>\n</svg>\n");
    o
}

/// Least and greatest of some coordinates (0, 0 when there are none).
fn bounds(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
    if lo.is_finite() {
        (lo, hi)
    } else {
        (0.0, 0.0)
    }
}

fn unit((x, y): (f64, f64)) -> Option<(f64, f64)> {
    let len = (x * x + y * y).sqrt();
    (len > 1e-9).then(|| (x / len, y / len))
}

/// The point `by` pixels from `from` in the direction of `to`.
fn towards(from: (f64, f64), to: (f64, f64), by: f64) -> (f64, f64) {
    let (dx, dy) = unit((to.0 - from.0, to.1 - from.1)).unwrap_or((0.0, 0.0));
    (from.0 + dx * by, from.1 + dy * by)
}

/// A quadratic curve from `a` to `b` bowing to the right of the direction of travel.
fn bent(a: (f64, f64), b: (f64, f64), bow: f64) -> String {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let c = ((a.0 + b.0) / 2.0 - dy * bow, (a.1 + b.1) / 2.0 + dx * bow);
    let (p, q) = (towards(a, c, RADIUS), towards(b, c, RADIUS + 1.0));
    format!("M{},{} Q{},{} {},{}", num(p.0), num(p.1), num(c.0), num(c.1), num(q.0), num(q.1))
}

/// Whether a torus edge joins the ends of a row or a column (in layout units).
fn wraps(units: &[(f64, f64)], e: &Edge) -> bool {
    let (a, b) = (units[e.from as usize], units[e.to as usize]);
    ((a.0 - b.0).abs() + (a.1 - b.1).abs()) > SPACING * 1.5
}

/// A torus wrap-around link: leaves both ends perpendicular to the row (or column) and
/// bows outwards, away from the centre, instead of running through the nodes between.
fn wrap_arc(a: (f64, f64), b: (f64, f64), centre: (f64, f64)) -> String {
    let lift = SCALE * 0.7;
    let (ox, oy) = if (a.1 - b.1).abs() < 1e-9 {
        (0.0, if a.1 <= centre.1 { -lift } else { lift })
    } else {
        (if a.0 <= centre.0 { -lift } else { lift }, 0.0)
    };
    let (c1, c2) = ((a.0 + ox, a.1 + oy), (b.0 + ox, b.1 + oy));
    let (p, q) = (towards(a, c1, RADIUS), towards(b, c2, RADIUS));
    format!(
        "M{},{} C{},{} {},{} {},{}",
        num(p.0),
        num(p.1),
        num(c1.0),
        num(c1.1),
        num(c2.0),
        num(c2.1),
        num(q.0),
        num(q.1)
    )
}

//! Topology pictures: snapshots of small DOT and SVG drawings, and structural checks
//! on every kind (one element per node and per edge, arrows the right way, finite
//! coordinates inside the picture).

use reparti_core::{Topology, TopologyKind};
use reparti_viz::topology::{dot, edges, layout, svg};
use std::collections::BTreeSet;

fn build(kind: &str, n: usize) -> Topology {
    let kind: TopologyKind = kind.parse().expect("a known topology kind");
    Topology::build(&kind, n, &mut reparti_core::rng(7)).expect("a size the kind accepts")
}

/// The value of every `name="…"` attribute in `text`, in order.
fn attrs<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let pat = format!(" {name}=\"");
    text.match_indices(&pat)
        .filter_map(|(i, _)| {
            let rest = &text[i + pat.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// Every number in a path's `d` (commands and separators dropped).
fn path_numbers(d: &str) -> Vec<f64> {
    d.split(|c: char| c.is_ascii_alphabetic() || c == ',' || c == ' ')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<f64>().unwrap_or(f64::NAN))
        .collect()
}

/// The lines between `<g class="KIND"…` and its end: one element per node or edge.
fn count(text: &str, class: &str) -> usize {
    text.matches(&format!("class=\"{class}\"")).count()
}

/// Unordered pairs {a, b} joined by at least one channel, computed from the topology itself.
fn pairs(t: &Topology) -> usize {
    t.channels().map(|(a, b)| (a.0.min(b.0), a.0.max(b.0))).collect::<BTreeSet<_>>().len()
}

const KINDS: &[(&str, &[usize])] = &[
    ("ring", &[2, 3, 8, 17]),
    ("bidir-ring", &[2, 3, 8]),
    ("complete", &[1, 2, 5]),
    ("line", &[1, 2, 6]),
    ("star", &[1, 2, 7]),
    ("tree", &[1, 2, 7, 12]),
    ("grid", &[1, 4, 7, 16]),
    ("torus", &[9, 12, 16]),
    ("hypercube", &[2, 4, 8, 16]),
    ("random:3", &[5, 12]),
];

#[test]
fn dot_snapshots() {
    let ring = build("ring", 4);
    insta::assert_snapshot!("ring4_ids", dot(&ring, Some(&[3, 1, 4, 2])));
    insta::assert_snapshot!("bidir_ring3", dot(&build("bidir-ring", 3), None));
    insta::assert_snapshot!("star4", dot(&build("star", 4), None));
    insta::assert_snapshot!("hypercube4", dot(&build("hypercube", 4), None));
}

#[test]
fn svg_snapshots() {
    insta::assert_snapshot!("ring4_ids_svg", svg(&build("ring", 4), Some(&[3, 1, 4, 2])));
    insta::assert_snapshot!("ring2_svg", svg(&build("ring", 2), None));
    insta::assert_snapshot!("torus9_svg", svg(&build("torus", 9), None));
    insta::assert_snapshot!("tree5_svg", svg(&build("tree", 5), None));
}

#[test]
fn svg_has_one_element_per_node_and_per_edge() {
    for &(kind, sizes) in KINDS {
        for &n in sizes {
            let t = build(kind, n);
            let s = svg(&t, None);
            assert_eq!(count(&s, "node"), n, "{kind} {n}: node elements");
            let expected = if kind == "ring" { t.channels().collect::<BTreeSet<_>>().len() } else { pairs(&t) };
            assert_eq!(count(&s, "edge"), expected, "{kind} {n}: edge elements");
            assert_eq!(edges(&t).len(), expected, "{kind} {n}: edge list");
            assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"), "{kind} {n}: one SVG document");
        }
    }
}

#[test]
fn ring_arrows_point_from_i_to_i_plus_one() {
    for n in [2, 3, 5, 12] {
        let s = svg(&build("ring", n), None);
        let from = attrs(&s, "data-from");
        let to = attrs(&s, "data-to");
        let ds = attrs(&s, "d");
        let (cx, cy) = (attrs(&s, "cx"), attrs(&s, "cy"));
        let centre = |i: usize| (cx[i].parse::<f64>().unwrap_or(f64::NAN), cy[i].parse::<f64>().unwrap_or(f64::NAN));
        let paths: Vec<&str> = ds.iter().copied().filter(|d| d.starts_with('M') && !d.contains("z")).collect();
        assert_eq!(from.len(), n);
        assert_eq!(paths.len(), n, "one path per channel");
        for (k, d) in paths.iter().enumerate() {
            let (a, b): (usize, usize) = (from[k].parse().expect("a number"), to[k].parse().expect("a number"));
            assert_eq!(b, (a + 1) % n, "ring {n}: edge {a} → {b}");
            // The path starts at the sender and ends, with the arrowhead, at the receiver.
            let v = path_numbers(d);
            let (start, end) = ((v[0], v[1]), (v[v.len() - 2], v[v.len() - 1]));
            let dist = |p: (f64, f64), q: (f64, f64)| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt();
            assert!(dist(start, centre(a)) < dist(start, centre(b)), "ring {n}: {d} starts at {a}");
            assert!(dist(end, centre(b)) < dist(end, centre(a)), "ring {n}: {d} ends at {b}");
        }
        assert_eq!(s.matches("marker-end=\"url(#arrow)\"").count(), n, "every ring edge has an arrowhead");
    }
}

#[test]
fn undirected_edges_have_no_arrow_but_bidir_rings_have_two() {
    let s = svg(&build("grid", 9), None);
    assert!(!s.contains("marker-end"), "a grid is undirected");
    let s = svg(&build("bidir-ring", 5), None);
    assert_eq!(s.matches("marker-start=\"url(#arrow)\" marker-end=\"url(#arrow)\"").count(), 5);
}

#[test]
fn coordinates_are_finite_and_inside_the_picture() {
    for &(kind, sizes) in KINDS {
        for &n in sizes {
            let s = svg(&build(kind, n), Some(&(1..=n as u64).rev().collect::<Vec<_>>()));
            assert!(!s.contains("NaN") && !s.contains("inf"), "{kind} {n}: {s}");
            let w: f64 = attrs(&s, "width")[0].parse().expect("a width");
            let h: f64 = attrs(&s, "height")[0].parse().expect("a height");
            let mut numbers: Vec<f64> = ["cx", "cy", "x", "y"]
                .iter()
                .flat_map(|a| attrs(&s, a))
                .map(|v| v.parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            numbers.extend(attrs(&s, "d").iter().flat_map(|d| path_numbers(d)));
            for v in numbers {
                assert!(
                    v.is_finite() && v >= -1.0 && v <= w.max(h) + 1.0,
                    "{kind} {n}: coordinate {v} outside {w}×{h}"
                );
            }
            for (x, y) in attrs(&s, "cx").iter().zip(attrs(&s, "cy")) {
                let (x, y): (f64, f64) = (x.parse().unwrap_or(-1.0), y.parse().unwrap_or(-1.0));
                assert!((0.0..=w).contains(&x) && (0.0..=h).contains(&y), "{kind} {n}: node at {x},{y}");
            }
        }
    }
}

#[test]
fn nodes_never_overlap() {
    for &(kind, sizes) in KINDS {
        for &n in sizes {
            let pos = layout(&build(kind, n));
            for i in 0..n {
                for j in i + 1..n {
                    let d = ((pos[i].0 - pos[j].0).powi(2) + (pos[i].1 - pos[j].1).powi(2)).sqrt();
                    assert!(d > 0.9, "{kind} {n}: nodes {i} and {j} are {d} apart");
                }
            }
        }
    }
}

#[test]
fn hypercube_projection_keeps_every_node_apart_up_to_1024() {
    for d in 1..=10 {
        let n = 1usize << d;
        let pos = layout(&build("hypercube", n));
        let least = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| ((pos[i].0 - pos[j].0).powi(2) + (pos[i].1 - pos[j].1).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min);
        assert!(least > 0.9, "hypercube of {n}: two nodes {least} apart");
    }
}

#[test]
fn dot_is_a_digraph_with_one_line_per_edge() {
    for &(kind, sizes) in KINDS {
        for &n in sizes {
            let t = build(kind, n);
            let d = dot(&t, None);
            assert!(d.starts_with("digraph \"") && d.trim_end().ends_with('}'), "{kind} {n}: {d}");
            assert_eq!(d.matches('{').count(), 1, "{kind} {n}: one graph, no subgraph");
            let edge_lines: Vec<&str> = d.lines().filter(|l| l.contains(" -> ")).collect();
            assert_eq!(edge_lines.len(), edges(&t).len(), "{kind} {n}: edge lines");
            let node_lines = d.lines().filter(|l| l.contains("[label=") && l.contains("pos=")).count();
            assert_eq!(node_lines, n, "{kind} {n}: node lines");
            for l in &edge_lines {
                assert!(l.trim_end().ends_with(';'), "{kind} {n}: {l}");
                match kind {
                    "ring" => assert!(!l.contains("dir="), "{l}"),
                    "bidir-ring" => assert!(l.contains("[dir=both]"), "{l}"),
                    _ => assert!(l.contains("[dir=none]"), "{kind}: {l}"),
                }
            }
        }
    }
    let d = dot(&build("ring", 5), None);
    for i in 0..5 {
        assert!(d.contains(&format!("  {i} -> {};\n", (i + 1) % 5)), "{d}");
    }
}

#[test]
fn labels_show_positions_and_identities() {
    let t = build("ring", 3);
    let d = dot(&t, Some(&[30, 10, 20]));
    assert!(d.contains("0 [label=\"0 (id 30)\"") && d.contains("2 [label=\"2 (id 20)\""), "{d}");
    let s = svg(&t, Some(&[30, 10, 20]));
    assert_eq!(count(&s, "ident"), 3);
    assert!(s.contains(">id 10</text>"));
    assert_eq!(count(&svg(&t, None), "ident"), 0, "no identities, no identity labels");
}

#[test]
fn edge_list_files_keep_one_way_channels_as_arrows() {
    let t = Topology::from_edge_list("0 -> 1\n1 2\n2 -> 0\n", 0).expect("a valid edge list");
    let e = edges(&t);
    assert_eq!(e.len(), 3);
    assert!(e.iter().any(|e| (e.from, e.to, e.both_ways) == (0, 1, false)));
    assert!(e.iter().any(|e| (e.from, e.to, e.both_ways) == (1, 2, true)));
    let s = svg(&t, None);
    assert_eq!(s.matches("marker-end").count(), 2, "two one-way channels, two arrows");
}

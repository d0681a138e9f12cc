//! Topology names (parsing, aliases, round trips) and edge-list files.

use reparti_core::topology::TOPOLOGY_NAMES;
use reparti_core::{rng, Topology, TopologyError, TopologyKind};

mod common;
use common::{lists, my_strongly_connected};

fn build(kind: &TopologyKind, n: usize, seed: u64) -> Topology {
    Topology::build(kind, n, &mut rng(seed)).unwrap_or_else(|e| panic!("{kind} with {n} nodes: {e}"))
}

fn unique_temp_path(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("reparti-core-topology-{tag}-{}-{nanos}.txt", std::process::id()))
}

#[test]
fn kind_aliases_and_bad_names() {
    assert_eq!("bidirectional-ring".parse(), Ok(TopologyKind::BidirRing));
    assert_eq!("mesh".parse(), Ok(TopologyKind::Complete));
    assert_eq!("random".parse(), Ok(TopologyKind::Random { degree: 3 }));
    assert_eq!("random:7".parse(), Ok(TopologyKind::Random { degree: 7 }));
    assert_eq!("file:a:b.txt".parse(), Ok(TopologyKind::File { path: "a:b.txt".into() }));
    for bad in ["", "rings", "Ring", "ring:3", "random:", "random:x", "random:-1", "file", "file:", "torus:3"] {
        assert!(
            matches!(bad.parse::<TopologyKind>(), Err(TopologyError::Unknown(_))),
            "'{bad}' should be an unknown topology"
        );
    }
    // Every documented name parses (with its argument filled in).
    for name in TOPOLOGY_NAMES {
        let concrete = name.replace("[:DEGREE]", "").replace("PATH", "edges.txt");
        assert!(concrete.parse::<TopologyKind>().is_ok(), "{name} as '{concrete}'");
    }
}

#[test]
fn built_topologies_remember_their_kind() {
    for kind in [
        TopologyKind::Ring,
        TopologyKind::BidirRing,
        TopologyKind::Complete,
        TopologyKind::Line,
        TopologyKind::Star,
        TopologyKind::Tree,
        TopologyKind::Grid,
        TopologyKind::Torus,
        TopologyKind::Hypercube,
        TopologyKind::Random { degree: 4 },
    ] {
        assert_eq!(build(&kind, 16, 1).kind(), &kind);
    }
}

#[test]
fn a_topology_built_from_a_file_remembers_its_path() {
    // `kind()` is documented as "the kind this topology was built from", and the
    // engines write `kind().to_string()` as the trace header's `topology`
    // (`file:edges.txt` in docs/TRACE.md).
    let path = unique_temp_path("kind");
    std::fs::write(&path, "0 1\n1 2\n2 0\n").unwrap();
    let kind = TopologyKind::File { path: path.to_string_lossy().into_owned() };
    let built = Topology::build(&kind, 3, &mut rng(0));
    let _ = std::fs::remove_file(&path);
    let t = built.unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(t.kind(), &kind);
    assert_eq!(t.kind().to_string().parse::<TopologyKind>(), Ok(kind));
}

#[test]
fn a_missing_edge_list_file_is_a_file_error() {
    let path = unique_temp_path("missing");
    let kind = TopologyKind::File { path: path.to_string_lossy().into_owned() };
    match Topology::build(&kind, 3, &mut rng(0)) {
        Err(TopologyError::File { path: p, .. }) => assert_eq!(p, path.to_string_lossy()),
        other => panic!("expected a File error, got {other:?}"),
    }
}

#[test]
fn edge_list_comments_blank_lines_and_directions() {
    let text = "# a triangle, one side one way\n\n0 1   # both ways\n1->2\n  2 -> 0\n\n";
    let t = Topology::from_edge_list(text, 0).unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(lists(&t), vec![vec![1], vec![0, 2], vec![0]]);
    assert!(t.is_strongly_connected());
    // Repeated edges collapse into one channel.
    let t = Topology::from_edge_list("0 1\n1 0\n0 -> 1\n", 2).unwrap();
    assert_eq!(lists(&t), vec![vec![1], vec![0]]);
    assert_eq!(t.channel_count(), 2);
    // One-way only: not strongly connected, and both searches say so.
    let t = Topology::from_edge_list("0 -> 1\n1 -> 2\n", 0).unwrap();
    assert!(!t.is_strongly_connected());
    assert!(!my_strongly_connected(&lists(&t)));
}

#[test]
fn edge_list_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("0 1\nfoo\n", 0, "line 2"),
        ("# comment\n\n0 1\n1 two\n", 0, "line 4"),
        ("0 1\n1 2 3\n", 0, "line 2"),
        ("0 -> 1 -> 2\n", 0, "line 1"),
        ("0 1\n\n\n-1 2\n", 0, "line 4"),
        ("0 1\n2 2\n", 0, "line 2"),
        ("0 1\n1 -> 1\n", 0, "line 2"),
        ("5\n", 0, "line 1"),
    ];
    for &(text, n, needle) in cases {
        match Topology::from_edge_list(text, n) {
            Err(why) => assert!(why.contains(needle), "{text:?}: '{why}' does not mention {needle}"),
            Ok(t) => panic!("{text:?} was accepted with {} nodes", t.len()),
        }
    }
    let self_loop = Topology::from_edge_list("0 1\n3 3\n", 0).unwrap_err();
    assert!(self_loop.contains("self-loop"), "{self_loop}");
}

#[test]
fn edge_list_node_count_must_match() {
    let text = "0 1\n1 2\n";
    assert_eq!(Topology::from_edge_list(text, 0).unwrap().len(), 3);
    assert_eq!(Topology::from_edge_list(text, 3).unwrap().len(), 3);
    for n in [1, 2, 4, 10] {
        let why = Topology::from_edge_list(text, n).unwrap_err();
        assert!(why.contains(&n.to_string()) && why.contains('3'), "n = {n}: {why}");
    }
    assert!(Topology::from_edge_list("", 0).is_err());
    assert!(Topology::from_edge_list("# only a comment\n\n", 0).is_err());
}

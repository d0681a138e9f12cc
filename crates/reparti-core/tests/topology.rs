//! Property tests of the topology generators and of edge-list parsing.
//!
//! Every expected structure (neighbour sets, channel counts, connectivity) is computed
//! here from the definitions in `topology.rs`'s documentation, never by asking the
//! code under test.

use proptest::prelude::*;
use reparti_core::{rng, NodeId, Topology, TopologyError, TopologyKind};
use std::collections::BTreeSet;

mod common;
use common::{lists, my_strongly_connected};

// ---------------------------------------------------------------------------------
// Independent helpers
// ---------------------------------------------------------------------------------

/// The smallest w with w² ≥ n, in integers.
fn ceil_sqrt(n: usize) -> usize {
    let mut w = 0;
    while w * w < n {
        w += 1;
    }
    w
}

/// Every factorisation n = w × h with w, h ≥ 3.
fn torus_shapes(n: usize) -> Vec<(usize, usize)> {
    (3..=n).filter(|w| n.is_multiple_of(*w) && n / w >= 3).map(|w| (w, n / w)).collect()
}

/// The invariants every topology must satisfy, whatever its kind.
fn check_common(t: &Topology, n: usize, symmetric: bool) {
    assert_eq!(t.len(), n, "node count");
    assert!(!t.is_empty());
    let adj = lists(t);

    // No self-loops, no duplicate neighbours, every target a node.
    for (a, l) in adj.iter().enumerate() {
        assert!(!l.contains(&(a as u32)), "node {a} lists itself: {l:?}");
        let set: BTreeSet<u32> = l.iter().copied().collect();
        assert_eq!(set.len(), l.len(), "node {a} lists a neighbour twice: {l:?}");
        assert!(l.iter().all(|&b| (b as usize) < n), "node {a} has a neighbour out of range: {l:?}");
    }

    // The channel count is the number of listed (a, b) pairs, and `channels()` lists them in order.
    let total: usize = adj.iter().map(Vec::len).sum();
    assert_eq!(t.channel_count(), total);
    let from_lists: Vec<(NodeId, NodeId)> =
        adj.iter().enumerate().flat_map(|(a, l)| l.iter().map(move |&b| (NodeId(a as u32), NodeId(b)))).collect();
    assert_eq!(t.channels().collect::<Vec<_>>(), from_lists);

    // Symmetry.
    if symmetric {
        for (a, l) in adj.iter().enumerate() {
            for &b in l {
                assert!(adj[b as usize].contains(&(a as u32)), "channel {a}→{b} without {b}→{a}");
            }
        }
    }

    // Strong connectivity, by my own search, and agreement with the library's.
    let mine = my_strongly_connected(&adj);
    assert!(mine, "not strongly connected: {adj:?}");
    assert_eq!(t.is_strongly_connected(), mine);

    check_channel_index(t, &adj);
    check_neighbours_api(t, &adj);
}

/// `channel_index` is a bijection from the channels onto `0..channel_count()`, and
/// `None` for every pair that is not a channel.
fn check_channel_index(t: &Topology, adj: &[Vec<u32>]) {
    let n = adj.len();
    let count = t.channel_count();
    let mut hit = vec![false; count];
    for (a, l) in adj.iter().enumerate() {
        let mut is_nb = vec![false; n];
        for &b in l {
            is_nb[b as usize] = true;
        }
        for (b, &linked) in is_nb.iter().enumerate() {
            let idx = t.channel_index(NodeId(a as u32), NodeId(b as u32));
            if linked {
                let idx = idx.unwrap_or_else(|| panic!("channel {a}→{b} has no index"));
                assert!(idx < count, "index {idx} of {a}→{b} is not below {count}");
                assert!(!hit[idx], "index {idx} given to two channels ({a}→{b} among them)");
                hit[idx] = true;
            } else {
                assert_eq!(idx, None, "{a}→{b} is not a channel");
            }
        }
    }
    assert!(hit.iter().all(|&h| h), "some index in 0..{count} is given to no channel");
}

/// `Neighbours::{len, is_empty, get, position, contains}` and the iterator's size hint
/// agree with what iteration lists.
fn check_neighbours_api(t: &Topology, adj: &[Vec<u32>]) {
    let n = adj.len();
    for (a, l) in adj.iter().enumerate() {
        let nb = t.neighbours(NodeId(a as u32));
        assert_eq!(nb.len(), l.len());
        assert_eq!(nb.is_empty(), l.is_empty());
        let mut it = nb.into_iter();
        for left in (0..=l.len()).rev() {
            assert_eq!(it.size_hint(), (left, Some(left)));
            it.next();
        }
        for (k, &b) in l.iter().enumerate() {
            assert_eq!(nb.get(k), Some(NodeId(b)), "get({k}) at node {a}");
        }
        assert_eq!(nb.get(l.len()), None);
        assert_eq!(nb.get(l.len() + 1), None);
        // Positions, including for nodes past the end.
        let mut pos = vec![None; n + 3];
        for (k, &b) in l.iter().enumerate() {
            pos[b as usize].get_or_insert(k);
        }
        for (b, &expected) in pos.iter().enumerate() {
            assert_eq!(nb.position(NodeId(b as u32)), expected, "position of {b} at node {a}");
            assert_eq!(nb.contains(NodeId(b as u32)), expected.is_some());
        }
        assert_eq!(nb.position(NodeId(u32::MAX)), None);
    }
}

fn build(kind: &TopologyKind, n: usize, seed: u64) -> Topology {
    Topology::build(kind, n, &mut rng(seed)).unwrap_or_else(|e| panic!("{kind} with {n} nodes: {e}"))
}

fn assert_bad_size(kind: &TopologyKind, n: usize) {
    match Topology::build(kind, n, &mut rng(0)) {
        Err(TopologyError::BadSize { kind: k, n: m, why }) => {
            assert_eq!(k, kind.name());
            assert_eq!(m, n);
            assert!(!why.is_empty());
        }
        Err(other) => panic!("{kind} with {n} nodes: expected BadSize, got {other:?}"),
        Ok(_) => panic!("{kind} with {n} nodes was accepted"),
    }
}

/// Proptest settings: `cases` cases, and no regression files written into the source tree.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn ring_is_a_directed_cycle(n in 2usize..=300, seed in any::<u64>()) {
        let t = build(&TopologyKind::Ring, n, seed);
        check_common(&t, n, n == 2);
        prop_assert_eq!(t.channel_count(), n);
        for (i, l) in lists(&t).iter().enumerate() {
            prop_assert_eq!(l, &vec![((i + 1) % n) as u32]);
        }
        if n > 2 {
            // One way only: i+1 does not send back to i.
            prop_assert!(t.channel_index(NodeId(1), NodeId(0)).is_none());
        }
    }

    #[test]
    fn bidir_ring_lists_left_then_right(n in 3usize..=300, seed in any::<u64>()) {
        let t = build(&TopologyKind::BidirRing, n, seed);
        check_common(&t, n, true);
        prop_assert_eq!(t.channel_count(), 2 * n);
        for (i, l) in lists(&t).iter().enumerate() {
            prop_assert_eq!(l, &vec![((i + n - 1) % n) as u32, ((i + 1) % n) as u32]);
        }
    }

    #[test]
    fn complete_links_every_pair_in_increasing_order(n in 1usize..=150, seed in any::<u64>()) {
        let t = build(&TopologyKind::Complete, n, seed);
        check_common(&t, n, true);
        prop_assert_eq!(t.channel_count(), n * (n - 1));
        for (i, l) in lists(&t).iter().enumerate() {
            let expected: Vec<u32> = (0..n as u32).filter(|&j| j as usize != i).collect();
            prop_assert_eq!(l, &expected);
        }
    }

    #[test]
    fn line_lists_predecessor_then_successor(n in 1usize..=300, seed in any::<u64>()) {
        let t = build(&TopologyKind::Line, n, seed);
        check_common(&t, n, true);
        prop_assert_eq!(t.channel_count(), 2 * (n - 1));
        for (i, l) in lists(&t).iter().enumerate() {
            let mut expected = Vec::new();
            if i > 0 {
                expected.push(i as u32 - 1);
            }
            if i + 1 < n {
                expected.push(i as u32 + 1);
            }
            prop_assert_eq!(l, &expected);
        }
    }

    #[test]
    fn star_is_centred_on_zero(n in 1usize..=300, seed in any::<u64>()) {
        let t = build(&TopologyKind::Star, n, seed);
        check_common(&t, n, true);
        prop_assert_eq!(t.channel_count(), 2 * (n - 1));
        let adj = lists(&t);
        prop_assert_eq!(&adj[0], &(1..n as u32).collect::<Vec<_>>());
        for l in &adj[1..] {
            prop_assert_eq!(l, &vec![0u32]);
        }
    }

    #[test]
    fn tree_links_parents_and_children(n in 1usize..=300, seed in any::<u64>()) {
        let t = build(&TopologyKind::Tree, n, seed);
        check_common(&t, n, true);
        prop_assert_eq!(t.channel_count(), 2 * (n - 1));
        for (i, l) in lists(&t).iter().enumerate() {
            let mut expected = Vec::new();
            if i > 0 {
                expected.push(((i - 1) / 2) as u32);
            }
            for c in [2 * i + 1, 2 * i + 2] {
                if c < n {
                    expected.push(c as u32);
                }
            }
            prop_assert_eq!(l, &expected, "node {}", i);
        }
    }

    #[test]
    fn grid_is_a_nearly_square_grid(n in 1usize..=300, seed in any::<u64>()) {
        let t = build(&TopologyKind::Grid, n, seed);
        check_common(&t, n, true);
        let w = ceil_sqrt(n);
        // Rows of w nodes; the last one may be partial.
        let (full_rows, rem) = (n / w, n % w);
        let horizontal = full_rows * (w - 1) + rem.saturating_sub(1);
        let vertical = n.saturating_sub(w);
        prop_assert_eq!(t.channel_count(), 2 * (horizontal + vertical));
        let h = n.div_ceil(w);
        prop_assert!(w >= h && w - h <= 1, "a {}×{} grid for {} nodes is not as square as possible", w, h, n);
        for (i, l) in lists(&t).iter().enumerate() {
            let (r, c) = (i / w, i % w);
            let mut expected = Vec::new();
            if r > 0 {
                expected.push(i - w);
            }
            if c > 0 {
                expected.push(i - 1);
            }
            if c + 1 < w && i + 1 < n {
                expected.push(i + 1);
            }
            if i + w < n {
                expected.push(i + w);
            }
            let expected: Vec<u32> = expected.into_iter().map(|x| x as u32).collect();
            prop_assert_eq!(l, &expected, "node {} at row {} column {}", i, r, c);
        }
    }

    #[test]
    fn torus_is_a_wrapped_grid(w in 3usize..=17, h in 3usize..=17, seed in any::<u64>()) {
        let n = w * h;
        let t = build(&TopologyKind::Torus, n, seed);
        check_common(&t, n, true);
        prop_assert_eq!(t.channel_count(), 4 * n);
        let adj = lists(&t);
        for l in &adj {
            prop_assert_eq!(l.len(), 4);
            prop_assert!(l.windows(2).all(|p| p[0] < p[1]), "not in increasing order: {:?}", l);
        }
        // The graph is the torus of one of n's factorisations (the code may pick any).
        let matches = |(w, h): (usize, usize)| {
            adj.iter().enumerate().all(|(i, l)| {
                let (r, c) = (i / w, i % w);
                let expected: BTreeSet<u32> = [
                    r * w + (c + 1) % w,
                    r * w + (c + w - 1) % w,
                    ((r + 1) % h) * w + c,
                    ((r + h - 1) % h) * w + c,
                ]
                .into_iter()
                .map(|x| x as u32)
                .collect();
                l.iter().copied().collect::<BTreeSet<u32>>() == expected
            })
        };
        prop_assert!(torus_shapes(n).into_iter().any(matches), "no w×h torus of {} nodes matches", n);
    }

    #[test]
    fn hypercube_flips_one_bit(d in 1u32..=8, seed in any::<u64>()) {
        let n = 1usize << d;
        let t = build(&TopologyKind::Hypercube, n, seed);
        check_common(&t, n, true);
        prop_assert_eq!(t.channel_count(), n * d as usize);
        for (i, l) in lists(&t).iter().enumerate() {
            prop_assert_eq!(l.len(), d as usize);
            let mut expected: Vec<u32> = (0..d).map(|b| (i as u32) ^ (1 << b)).collect();
            expected.sort_unstable();
            prop_assert_eq!(l, &expected);
        }
    }

    #[test]
    fn random_is_connected_and_seeded(n in 2usize..=300, degree in 0u32..=8, seed in any::<u64>()) {
        let kind = TopologyKind::Random { degree };
        let t = build(&kind, n, seed);
        check_common(&t, n, true);
        let adj = lists(&t);
        for l in &adj {
            prop_assert!(!l.is_empty());
            prop_assert!(l.windows(2).all(|p| p[0] < p[1]), "not in increasing order: {:?}", l);
        }
        // A spanning tree plus extra edges up to n·degree/2 (never more).
        let edges = t.channel_count() / 2;
        let wanted = (n * degree as usize / 2).min(n * (n - 1) / 2);
        prop_assert!(edges >= n - 1);
        prop_assert!(edges <= wanted.max(n - 1), "{} edges for degree {}", edges, degree);
        if (degree as usize) * 4 <= n {
            // Sparse enough that the extra edges are always found.
            prop_assert_eq!(edges, wanted.max(n - 1));
        }
        // Same seed, same graph.
        prop_assert_eq!(lists(&build(&kind, n, seed)), adj);
    }

    #[test]
    fn edge_lists_give_exactly_the_listed_channels(
        raw in prop::collection::vec((0u32..40, 0u32..40, any::<bool>()), 1..120),
        comment in any::<bool>(),
    ) {
        let edges: Vec<(u32, u32, bool)> = raw.into_iter().filter(|(a, b, _)| a != b).collect();
        prop_assume!(!edges.is_empty());
        let mut text = String::new();
        if comment {
            text.push_str("# a comment line\n\n");
        }
        let mut expected: BTreeSet<(u32, u32)> = BTreeSet::new();
        for &(a, b, directed) in &edges {
            if directed {
                text.push_str(&format!("{a} -> {b}\n"));
            } else {
                text.push_str(&format!("  {a}\t{b}   # both ways\n"));
                expected.insert((b, a));
            }
            expected.insert((a, b));
        }
        let n = edges.iter().map(|&(a, b, _)| a.max(b)).max().unwrap() as usize + 1;
        let t = Topology::from_edge_list(&text, 0).unwrap();
        prop_assert_eq!(t.len(), n);
        prop_assert_eq!(t.channel_count(), expected.len());
        let got: BTreeSet<(u32, u32)> = t.channels().map(|(a, b)| (a.0, b.0)).collect();
        prop_assert_eq!(&got, &expected);
        let adj = lists(&t);
        for l in &adj {
            prop_assert!(l.windows(2).all(|p| p[0] < p[1]), "not in increasing order: {:?}", l);
        }
        // Connectivity may or may not hold here: the library must agree with my search.
        prop_assert_eq!(t.is_strongly_connected(), my_strongly_connected(&adj));
        check_channel_index(&t, &adj);
        check_neighbours_api(&t, &adj);
        // Asking for exactly n nodes is the same; any other n is refused.
        prop_assert_eq!(lists(&Topology::from_edge_list(&text, n).unwrap()), adj);
        prop_assert!(Topology::from_edge_list(&text, n + 1).is_err());
        prop_assert!(Topology::from_edge_list(&text, n - 1).is_err());
    }

    #[test]
    fn kinds_round_trip_through_display_and_from_str(
        pick in 0usize..11,
        degree in any::<u32>(),
        path in "[A-Za-z0-9_./:-]{1,24}",
    ) {
        let kind = match pick {
            0 => TopologyKind::Ring,
            1 => TopologyKind::BidirRing,
            2 => TopologyKind::Complete,
            3 => TopologyKind::Line,
            4 => TopologyKind::Star,
            5 => TopologyKind::Tree,
            6 => TopologyKind::Grid,
            7 => TopologyKind::Torus,
            8 => TopologyKind::Hypercube,
            9 => TopologyKind::Random { degree },
            _ => TopologyKind::File { path },
        };
        let text = kind.to_string();
        prop_assert_eq!(text.parse::<TopologyKind>(), Ok(kind.clone()));
        prop_assert!(text.starts_with(kind.name()));
    }
}

// ---------------------------------------------------------------------------------
// Deterministic cases
// ---------------------------------------------------------------------------------

#[test]
fn complete_graphs_of_all_small_sizes() {
    for n in 1..=12 {
        let t = build(&TopologyKind::Complete, n, 0);
        check_common(&t, n, true);
        assert_eq!(t.channel_count(), n * (n - 1));
    }
}

#[test]
fn a_two_node_bidir_ring_lists_its_one_neighbour_as_left_and_right() {
    // Documented in topology.rs: with two nodes, left and right are the same node, two
    // links sharing one channel; algorithms that care about the side tag their messages.
    let t = build(&TopologyKind::BidirRing, 2, 0);
    let ns = |i: u32| t.neighbours(NodeId(i)).into_iter().map(|x| x.0).collect::<Vec<_>>();
    assert_eq!(ns(0), vec![1, 1]);
    assert_eq!(ns(1), vec![0, 0]);
    let a = t.channel_index(NodeId(0), NodeId(1)).expect("0 → 1 is a channel");
    let b = t.channel_index(NodeId(1), NodeId(0)).expect("1 → 0 is a channel");
    assert_ne!(a, b);
    assert!(a < t.channel_count() && b < t.channel_count());
    assert_eq!(t.channel_index(NodeId(0), NodeId(0)), None);
    assert!(t.is_strongly_connected());
}

#[test]
fn random_graphs_usually_differ_between_seeds() {
    let kind = TopologyKind::Random { degree: 3 };
    let differing = (0..50u64).filter(|&s| lists(&build(&kind, 40, s)) != lists(&build(&kind, 40, s + 1000))).count();
    assert!(differing >= 45, "only {differing} of 50 seed pairs gave different graphs");
}

#[test]
fn bad_sizes_are_refused_without_panicking() {
    let all = [
        TopologyKind::Ring,
        TopologyKind::BidirRing,
        TopologyKind::Complete,
        TopologyKind::Line,
        TopologyKind::Star,
        TopologyKind::Tree,
        TopologyKind::Grid,
        TopologyKind::Torus,
        TopologyKind::Hypercube,
        TopologyKind::Random { degree: 3 },
    ];
    for kind in &all {
        assert_bad_size(kind, 0);
    }
    assert_bad_size(&TopologyKind::Ring, 1);
    assert_bad_size(&TopologyKind::BidirRing, 1);
    assert_bad_size(&TopologyKind::Torus, 7);
    assert_bad_size(&TopologyKind::Hypercube, 6);
    // A torus exactly when n = w×h with w, h ≥ 3; a hypercube exactly for 2, 4, 8, …
    for n in 1..=300 {
        if torus_shapes(n).is_empty() {
            assert_bad_size(&TopologyKind::Torus, n);
        } else {
            assert!(Topology::build(&TopologyKind::Torus, n, &mut rng(0)).is_ok(), "torus {n}");
        }
        if n >= 2 && n.is_power_of_two() {
            assert!(Topology::build(&TopologyKind::Hypercube, n, &mut rng(0)).is_ok(), "hypercube {n}");
        } else {
            assert_bad_size(&TopologyKind::Hypercube, n);
        }
    }
}

#[test]
fn neighbours_get_far_past_the_end_is_none() {
    // `get` takes any usize; past the last neighbour it must answer None, for the
    // stored form and for the complete graph's implicit form alike.
    let far = [u32::MAX as usize - 1, u32::MAX as usize, 1usize << 32, (1usize << 32) + 1, usize::MAX];
    let mut wrong = Vec::new();
    for kind in [TopologyKind::Ring, TopologyKind::Complete] {
        let t = build(&kind, 5, 0);
        for node in 0..5 {
            let nb = t.neighbours(NodeId(node));
            for &k in &far {
                match std::panic::catch_unwind(|| nb.get(k)) {
                    Ok(None) => {}
                    Ok(Some(b)) => wrong.push(format!("{kind}: neighbours({node}).get({k}) = Some({b})")),
                    Err(_) => wrong.push(format!("{kind}: neighbours({node}).get({k}) panicked")),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong answers:\n{}", wrong.len(), wrong.join("\n"));
}

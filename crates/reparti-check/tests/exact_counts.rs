//! Exact state counts: the checker's `unique_states`, `states` (transitions generated)
//! and `max_depth` against numbers computed here, by a formula or by a brute-force
//! enumerator with its own state representation that never calls the checker's model
//! nor the algorithms' handlers (it implements their semantics directly).

mod common;

use common::enumerate::{enumerate, space_of, Net, Space};
use common::toys::{PingPong, ToyRing};
use common::{assert_all_hold, cfg, ids, run, with_params};
use reparti_algos::election::ChangRoberts;
use reparti_check::NetworkKind;
use reparti_core::IdAssignment;
use std::collections::HashSet;

// ---------------------------------------------------------------------------------------
// (a) Ping-pong: one message in flight at a time, so a line of 2k + 1 states.

#[test]
fn ping_pong_with_k_round_trips_has_2k_plus_1_states() {
    for network in [NetworkKind::Fifo, NetworkKind::Unordered] {
        for k in 0..=6u64 {
            let c = with_params(cfg(2, IdAssignment::Asc, network), &[("trips", &k.to_string())]);
            let r = run::<PingPong>(&c);
            let what = format!("ping-pong k={k} {network}");
            assert_all_hold(&r, &what);
            assert_eq!(space_of(&r), Space { unique: 2 * k + 1, transitions: 2 * k, depth: 2 * k }, "{what}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// (b) The test token ring: the token and one DATA per hop, k laps (see `common::toys`).

type RingState = (Vec<(bool, u32, u32)>, Net<u8>);
const TOKEN: u8 = 0;
const DATA: u8 = 1;

fn ring_space(n: usize, rounds: u32, network: NetworkKind) -> Space {
    let pass = |nodes: &mut Vec<(bool, u32, u32)>, net: &mut Net<u8>, i: usize| {
        net.send(i, (i + 1) % n, DATA);
        net.send(i, (i + 1) % n, TOKEN);
        nodes[i].0 = false;
    };
    // Node i: (has the token, laps counted at node 0, DATA received).
    let mut nodes: Vec<(bool, u32, u32)> = (0..n).map(|i| (i == 0, 0, 0)).collect();
    let mut net = Net::new(network);
    if rounds > 0 {
        pass(&mut nodes, &mut net, 0);
    }
    let succ = |(nodes, net): &RingState| -> Vec<RingState> {
        net.receptions()
            .into_iter()
            .map(|(_, to, m, rest)| {
                let (mut nodes, mut net) = (nodes.clone(), rest);
                if m == DATA {
                    nodes[to].2 += 1;
                } else {
                    nodes[to].0 = true;
                    let rests = to == 0 && {
                        nodes[0].1 += 1;
                        nodes[0].1 >= rounds
                    };
                    if !rests {
                        pass(&mut nodes, &mut net, to);
                    }
                }
                (nodes, net)
            })
            .collect()
    };
    let check = |(nodes, net): &RingState| {
        let tokens = nodes.iter().filter(|s| s.0).count() + net.messages().iter().filter(|&&m| m == TOKEN).count();
        assert_eq!(tokens, 1, "the enumerator's ring lost or doubled the token");
        if net.is_empty() {
            assert!(nodes[0].0 && nodes.iter().all(|s| s.2 == rounds), "bad final state {nodes:?}");
        }
    };
    enumerate((nodes, net), succ, check)
}

#[test]
fn test_token_ring_counts_match_the_enumerator() {
    for (n, rounds) in [(2, 1), (2, 3), (3, 0), (3, 1), (3, 2), (3, 3), (4, 1), (4, 2), (5, 1)] {
        let mut unique = Vec::new();
        for network in [NetworkKind::Fifo, NetworkKind::Unordered] {
            let expected = ring_space(n, rounds, network);
            let c = with_params(cfg(n, IdAssignment::Asc, network), &[("rounds", &rounds.to_string())]);
            let r = run::<ToyRing>(&c);
            let what = format!("test token ring n={n} rounds={rounds} {network}");
            assert_all_hold(&r, &what);
            assert_eq!(space_of(&r), expected, "{what}");
            unique.push(expected.unique);
        }
        // On FIFO channels the DATA sent just before the TOKEN is received just before it,
        // so one channel is busy at a time: a line of 2 receptions per hop, n·k hops.
        assert_eq!(unique[0], 2 * (n as u64) * rounds as u64 + 1, "n={n} rounds={rounds} FIFO");
        // The TOKEN may overtake a DATA only on unordered channels.
        if rounds == 0 {
            assert_eq!(unique, [1, 1]);
        } else {
            assert!(unique[0] < unique[1], "n={n} rounds={rounds}: FIFO {} vs unordered {}", unique[0], unique[1]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// (c) Chang–Roberts, straight from the paper (Chang & Roberts, CACM 22(5), 1979):
//
//   initiate:       participant = true; send ELECT(id)
//   on ELECT(x):    if x > id: participant = true; state = lost; send ELECT(x)
//                   elif x < id: if ¬participant: participant = true; send ELECT(id)
//                   else: state = leader; send ELECTED(id)
//   on ELECTED(x):  if x ≠ id: leader_id = x; state = lost; send ELECTED(x)

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum St {
    Cand,
    Lost,
    Leader,
}

/// A node of the paper's algorithm: participant, state, leader_id.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct CrN {
    participant: bool,
    state: St,
    leader_id: Option<u64>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
enum CrM {
    Elect(u64),
    Elected(u64),
}

type CrState = (Vec<CrN>, Net<CrM>);

/// The reachable space of the paper's algorithm on a unidirectional ring `i → i+1`, with the given
/// identities by position and initiators; the initial state is every start handler run.
fn cr_space(idents: &[u64], initiators: &[usize], network: NetworkKind) -> Space {
    let n = idents.len();
    let next = |i: usize| (i + 1) % n;
    let mut nodes = vec![CrN { participant: false, state: St::Cand, leader_id: None }; n];
    let mut net = Net::new(network);
    for i in 0..n {
        if initiators.contains(&i) {
            nodes[i].participant = true;
            net.send(i, next(i), CrM::Elect(idents[i]));
        }
    }
    let succ = |(nodes, net): &CrState| -> Vec<CrState> {
        let mut out = Vec::new();
        for (_, i, m, rest) in net.receptions() {
            let (mut nodes, mut net) = (nodes.clone(), rest);
            let id = idents[i];
            let p = &mut nodes[i];
            match m {
                CrM::Elect(x) if x > id => {
                    p.participant = true;
                    p.state = St::Lost;
                    net.send(i, next(i), CrM::Elect(x));
                }
                CrM::Elect(x) if x < id => {
                    if !p.participant {
                        p.participant = true;
                        net.send(i, next(i), CrM::Elect(id));
                    }
                }
                CrM::Elect(_) => {
                    p.state = St::Leader;
                    net.send(i, next(i), CrM::Elected(id));
                }
                CrM::Elected(x) if x != id => {
                    p.leader_id = Some(x);
                    p.state = St::Lost;
                    net.send(i, next(i), CrM::Elected(x));
                }
                CrM::Elected(_) => {}
            }
            out.push((nodes, net));
        }
        out
    };
    let max = *idents.iter().max().expect("nodes");
    let check = |(nodes, net): &CrState| {
        let leaders: Vec<usize> = (0..n).filter(|&i| nodes[i].state == St::Leader).collect();
        assert!(leaders.len() <= 1, "the paper's algorithm itself elected two leaders: {nodes:?}");
        if net.is_empty() && !initiators.is_empty() {
            assert_eq!(leaders.iter().map(|&i| idents[i]).collect::<Vec<_>>(), vec![max], "{nodes:?}");
            for (i, s) in nodes.iter().enumerate() {
                assert!(idents[i] == max || (s.state == St::Lost && s.leader_id == Some(max)), "{nodes:?}");
            }
        }
    };
    enumerate((nodes, net), succ, check)
}

fn check_cr(idents: &[u64], initiators: Option<&str>, network: NetworkKind) -> Space {
    let n = idents.len();
    let mut c = cfg(n, ids(idents), network);
    let who: Vec<usize> = match initiators {
        None => (0..n).collect(),
        Some(list) => {
            c = with_params(c, &[("initiators", list)]);
            list.split(',').map(|p| p.parse().expect("a position")).collect()
        }
    };
    let expected = cr_space(idents, &who, network);
    let r = run::<ChangRoberts>(&c);
    let what = format!("chang-roberts ids {idents:?} initiators {initiators:?} {network}");
    assert_all_hold(&r, &what);
    assert_eq!(space_of(&r), expected, "{what}");
    expected
}

/// All permutations of `v`, in lexicographic order of positions.
fn permutations(v: &[u64]) -> Vec<Vec<u64>> {
    if v.len() <= 1 {
        return vec![v.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..v.len() {
        let mut rest = v.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first);
            out.push(p);
        }
    }
    out
}

#[test]
fn chang_roberts_n4_desc_gives_the_reference_counts() {
    // The enumerator agrees with the figures the checker is known to report...
    assert_eq!(cr_space(&[4, 3, 2, 1], &[0, 1, 2, 3], NetworkKind::Unordered).unique, 216);
    assert_eq!(cr_space(&[4, 3, 2, 1], &[0, 1, 2, 3], NetworkKind::Fifo).unique, 46);
    // ...and the checker agrees with the enumerator, transitions and depth included.
    check_cr(&[4, 3, 2, 1], None, NetworkKind::Unordered);
    check_cr(&[4, 3, 2, 1], None, NetworkKind::Fifo);
}

#[test]
fn chang_roberts_n4_every_placement_unordered_and_fifo() {
    let mut sizes = HashSet::new();
    for p in permutations(&[1, 2, 3, 4]) {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            sizes.insert(check_cr(&p, None, network).unique);
        }
    }
    // Placements really differ (ascending rings are the cheapest): the test is not
    // comparing one number 48 times.
    assert!(sizes.len() >= 4, "suspiciously few distinct sizes: {sizes:?}");
    assert!(check_cr(&[1, 2, 3, 4], None, NetworkKind::Unordered).unique < 216);
}

#[test]
fn chang_roberts_other_sizes_and_placements() {
    for idents in [&[2, 1][..], &[1, 2], &[3, 1, 2], &[2, 3, 1], &[5, 4, 3, 2, 1], &[1, 2, 3, 4, 5], &[3, 5, 1, 4, 2]] {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            check_cr(idents, None, network);
        }
    }
}

#[test]
fn chang_roberts_with_some_initiators_sleeping() {
    // Sleeping nodes join (with their own identity) when a smaller one reaches them.
    for (idents, initiators) in [
        (&[4, 3, 2, 1][..], "0"),
        (&[4, 3, 2, 1], "3"),
        (&[4, 3, 2, 1], "1,3"),
        (&[2, 4, 1, 3], "0,2"),
        (&[1, 2, 3, 4], "2"),
        (&[3, 5, 1, 4, 2], "2,4"),
    ] {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            check_cr(idents, Some(initiators), network);
        }
    }
}

//! The checker applied to the algorithm library: on small instances every property
//! holds, liveness included, and the whole reachable space is explored.

mod common;

use common::{assert_all_hold, cfg, ids, run, with_params};
use reparti_algos::communication::TokenRing;
use reparti_algos::election::{ChangRoberts, ChangRobertsLab, Franklin};
use reparti_algos::mutex::{LamportMutex, RicartAgrawala};
use reparti_algos::time::LogicalClocks;
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::{IdAssignment, TopologyKind};

fn permutations(v: &[u64]) -> Vec<Vec<u64>> {
    if v.len() <= 1 {
        return vec![v.to_vec()];
    }
    (0..v.len())
        .flat_map(|i| {
            let mut rest = v.to_vec();
            let first = rest.remove(i);
            permutations(&rest).into_iter().map(move |mut p| {
                p.insert(0, first);
                p
            })
        })
        .collect()
}

#[test]
fn chang_roberts_up_to_five_nodes() {
    for n in 2..=5 {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            for (placement, seed) in
                [(IdAssignment::Desc, 1), (IdAssignment::Asc, 1), (IdAssignment::Random, 1), (IdAssignment::Random, 7)]
            {
                let c = CheckConfig { seed, ..cfg(n, placement.clone(), network) };
                let r = run::<ChangRoberts>(&c);
                let what = format!("chang-roberts n={n} {placement} seed {seed} {network}");
                assert_all_hold(&r, &what);
                assert_eq!(r.nodes, n);
                assert!(r.clocks.starts_with("left out"), "{what}: {}", r.clocks);
            }
        }
    }
    // A single initiator, and sleepers woken by smaller identities.
    for initiators in ["0", "4", "1,3", "0,1,2,3,4"] {
        let c = with_params(cfg(5, ids(&[3, 5, 1, 4, 2]), NetworkKind::Unordered), &[("initiators", initiators)]);
        assert_all_hold(&run::<ChangRoberts>(&c), &format!("chang-roberts initiators={initiators}"));
    }
}

#[test]
fn chang_roberts_survives_one_duplicated_message() {
    for n in [3, 4] {
        let c = CheckConfig { max_dups: 1, ..cfg(n, IdAssignment::Desc, NetworkKind::Duplicating) };
        let r = run::<ChangRoberts>(&c);
        assert_all_hold(&r, &format!("chang-roberts n={n} duplicating"));
        assert_eq!(r.faults.get("max_dups"), Some(&1));
        let plain = run::<ChangRoberts>(&cfg(n, IdAssignment::Desc, NetworkKind::Unordered));
        assert!(r.unique_states > plain.unique_states, "duplications add states");
    }
}

#[test]
fn franklin_up_to_four_nodes_every_placement() {
    for n in 2..=4u64 {
        let base: Vec<u64> = (1..=n).collect();
        for p in permutations(&base) {
            let r = run::<Franklin>(&cfg(n as usize, ids(&p), NetworkKind::Unordered));
            assert_all_hold(&r, &format!("franklin {p:?} unordered"));
            assert_eq!(r.params.get("fixed").map(String::as_str), Some("true"));
        }
    }
    for p in [vec![3, 1, 2], vec![2, 4, 1, 3], vec![4, 3, 2, 1]] {
        let r = run::<Franklin>(&cfg(p.len(), ids(&p), NetworkKind::Fifo));
        assert_all_hold(&r, &format!("franklin {p:?} fifo"));
    }
}

#[test]
fn token_ring_three_nodes() {
    // The library's defaults (two laps, three sends per node, all queued at time 0).
    let c = cfg(3, IdAssignment::Asc, NetworkKind::Unordered);
    let r = run::<TokenRing>(&c);
    assert_all_hold(&r, "token ring n=3 defaults");
    assert_eq!(r.params.get("laps").map(String::as_str), Some("2"));
    assert!(r.unique_states > 10_000, "{}", r.unique_states);
    for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
        for (laps, sends) in [("1", "1"), ("2", "1"), ("3", "1"), ("1", "2")] {
            let c = with_params(cfg(3, IdAssignment::Asc, network), &[("laps", laps), ("sends", sends)]);
            assert_all_hold(&run::<TokenRing>(&c), &format!("token ring n=3 laps={laps} sends={sends} {network}"));
        }
    }
}

#[test]
fn logical_clocks_small_workloads() {
    for (n, events, seed) in [(3, 2, 1), (3, 2, 2), (3, 2, 3), (4, 1, 1), (2, 3, 1)] {
        let c = CheckConfig {
            seed,
            ..with_params(cfg(n, IdAssignment::Asc, NetworkKind::Unordered), &[("events", &events.to_string())])
        };
        let r = run::<LogicalClocks>(&c);
        let what = format!("logical clocks n={n} events={events} seed {seed}");
        assert_all_hold(&r, &what);
        assert!(r.clocks.contains("part of the state"), "{what}: {}", r.clocks);
    }
    let ring = CheckConfig {
        topology: Some(TopologyKind::Ring),
        ..with_params(cfg(3, IdAssignment::Asc, NetworkKind::Fifo), &[("events", "2"), ("send_prob", "1")])
    };
    let r = run::<LogicalClocks>(&ring);
    assert_all_hold(&r, "logical clocks on a FIFO ring, sends only");
    assert_eq!(r.topology, "ring");
}

#[test]
fn ricart_agrawala_three_nodes_two_requests_each() {
    let c = with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("requests", "2")]);
    let r = run::<RicartAgrawala>(&c);
    assert_all_hold(&r, "ricart-agrawala n=3 requests=2");
    assert!(r.unique_states > 10_000, "{}", r.unique_states);
    let one = with_params(cfg(3, IdAssignment::Desc, NetworkKind::Fifo), &[("requests", "1")]);
    assert_all_hold(&run::<RicartAgrawala>(&one), "ricart-agrawala n=3 requests=1 fifo");
}

#[test]
fn lamport_mutex_on_fifo_channels() {
    // n = 3 (one request each: 949,199 states, about a minute in a debug build) is left to
    // `reparti check lamport-mutex --nodes 3 -p requests=1 --network fifo` in release.
    for (ids, requests) in [(IdAssignment::Asc, "1"), (IdAssignment::Desc, "2")] {
        let c = with_params(cfg(2, ids, NetworkKind::Fifo), &[("requests", requests)]);
        let r = run::<LamportMutex>(&c);
        assert_all_hold(&r, &format!("lamport-mutex n=2 requests={requests} fifo"));
        println!("lamport-mutex n=2 requests={requests} fifo: {} unique states", r.unique_states);
    }
}

#[test]
fn the_labs_chang_roberts_variant_up_to_four_nodes() {
    for n in 2..=4 {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            let r = run::<ChangRobertsLab>(&cfg(n, IdAssignment::Desc, network));
            assert_all_hold(&r, &format!("chang-roberts-lab n={n} {network}"));
        }
    }
}

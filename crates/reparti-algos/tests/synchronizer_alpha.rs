//! Synchronizer α through the simulator, with the synchronous BFS as its algorithm:
//! the tree built over α, on every asynchronous network (three delay models, FIFO or
//! not, many seeds), equals node by node the tree built in lock step under `--sync`;
//! the basic messages are the lock-step run's, message for message; α's overhead is
//! exactly one ACK per basic message and Σ deg(v)·(R_v+1) SAFE (2|E| per round all
//! take part in), recomputed here from the topology independently of the declarations.
//! The lock-step runner on a network that is not synchronous stops at a violation
//! that says what to do instead.

use reparti_algos::time::bfs_rounds::{BfsNode, ALL_REACHED, DEPTH_IS_DISTANCE, PARENT_ONE_UP};
use reparti_algos::time::rounds::{RoundHost, IN_THEIR_ROUND};
use reparti_algos::time::synchronizer_alpha::NEIGHBOURS_SAFE;
use reparti_algos::time::{BfsAlpha, BfsRounds};
use reparti_core::{Algorithm, IdAssignment, NodeId, Topology, TopologyKind};
use reparti_sim::{Delay, NetworkModel, Report, SimConfig, Simulation, Stop};
use std::collections::BTreeSet;

mod common;
use common::networks;

const BFS: [&str; 3] = [DEPTH_IS_DISTANCE, PARENT_ONE_UP, ALL_REACHED];

/// What a node computed: (parent, depth, children).
type Tree = Vec<(Option<NodeId>, Option<u32>, BTreeSet<NodeId>)>;

/// Runs `A` to the end; returns its report and every node's (parent, depth, children).
fn run<A: Algorithm>(cfg: &SimConfig) -> (Report, Tree)
where
    A::Node: RoundHost<App = BfsNode>,
{
    let mut sim = match Simulation::<A>::new(cfg) {
        Ok(s) => s,
        Err(e) => panic!("the run does not start: {e}"),
    };
    while sim.run_for(1 << 16) {}
    let tree = sim.nodes().iter().map(|s| (s.app().parent, s.app().depth, s.app().children.clone())).collect();
    match sim.finish() {
        Ok((report, _)) => (report, tree),
        Err(e) => panic!("the run does not finish: {e}"),
    }
}

fn config(kind: &TopologyKind, n: usize, seed: u64, network: NetworkModel, root: u32) -> SimConfig {
    let mut cfg = common::config(n, seed, IdAssignment::Random, &network, &[("root", &root.to_string())]);
    cfg.topology = Some(kind.clone());
    cfg
}

fn synchronous() -> NetworkModel {
    NetworkModel { sync: true, ..NetworkModel::default() }
}

fn assert_holds(r: &Report, properties: &[&str], ctx: &str) {
    assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
    for p in properties {
        assert!(r.holds(p), "{ctx}: {p}: {:?}", r.property(p));
    }
    assert!(r.all_good(), "{ctx}: {:?}", r.expected);
}

/// The SAFE count recomputed from the topology: node v at hop distance d runs d+2
/// rounds and sends one SAFE per neighbour in each, plus its final one.
fn safe_count(kind: &TopologyKind, n: usize, seed: u64, root: u32) -> (u64, u64) {
    let topology = match Topology::build(kind, n, &mut reparti_core::rng(seed)) {
        Ok(t) => t,
        Err(e) => panic!("{kind} of {n}: {e}"),
    };
    let hops = topology.hops_from(NodeId(root));
    let mut safe = 0;
    let mut edges = BTreeSet::new();
    for (v, hop) in hops.iter().enumerate() {
        let me = NodeId(v as u32);
        let neighbours: BTreeSet<NodeId> = topology.neighbours(me).into_iter().filter(|&j| j != me).collect();
        for &j in &neighbours {
            edges.insert((me.min(j), me.max(j)));
        }
        let rounds = u64::from(hop.expect("connected") + 2);
        safe += neighbours.len() as u64 * (rounds + 1);
    }
    (safe, edges.len() as u64)
}

const TOPOLOGIES: [(TopologyKind, usize); 7] = [
    (TopologyKind::Grid, 9),
    (TopologyKind::Grid, 7),
    (TopologyKind::Line, 6),
    (TopologyKind::Tree, 10),
    (TopologyKind::Star, 5),
    (TopologyKind::Complete, 5),
    (TopologyKind::BidirRing, 7),
];

#[test]
fn alpha_builds_the_lock_step_tree_on_every_network_with_exactly_one_ack_per_message_and_the_safe_exchange() {
    let mut runs = 0;
    for (kind, n) in TOPOLOGIES {
        for root in [0, n as u32 - 1] {
            let (sync, tree) = run::<BfsRounds>(&config(&kind, n, 1, synchronous(), root));
            let ctx = format!("{kind} n={n} root={root} --sync");
            assert_holds(&sync, &[&BFS[..], &[IN_THEIR_ROUND]].concat(), &ctx);
            assert!(tree.iter().all(|(p, d, _)| p.is_some() && d.is_some()), "{ctx}: {tree:?}");
            let basic = sync.sent("JOIN") + sync.sent("CHILD");
            assert_eq!(sync.messages.total, basic, "{ctx}: lock step adds no message");
            assert_eq!(sync.sent("CHILD"), n as u64 - 1, "{ctx}");
            for network in networks() {
                for seed in 1..=8u64 {
                    let ctx = format!("{kind} n={n} root={root} seed={seed} {network:?}");
                    let (alpha, alpha_tree) = run::<BfsAlpha>(&config(&kind, n, seed, network.clone(), root));
                    assert_holds(&alpha, &[&BFS[..], &[IN_THEIR_ROUND, NEIGHBOURS_SAFE]].concat(), &ctx);
                    assert_eq!(alpha_tree, tree, "{ctx}: the tree under α is the lock-step tree");
                    for kind in ["JOIN", "CHILD"] {
                        assert_eq!(alpha.sent(kind), sync.sent(kind), "{ctx}: {kind} as in lock step");
                    }
                    assert_eq!(alpha.sent("ACK"), basic, "{ctx}: one ACK per basic message");
                    let (safe, _) = safe_count(&kind, n, seed, root);
                    assert_eq!(alpha.sent("SAFE"), safe, "{ctx}: Σ deg(v)·(R_v+1)");
                    assert_eq!(alpha.messages.total, 2 * basic + safe, "{ctx}");
                    for key in ["ACK", "SAFE", "JOIN", "CHILD"] {
                        assert_eq!(alpha.expected[key].holds, Some(true), "{ctx}: {key}");
                    }
                    runs += 1;
                }
            }
        }
    }
    assert_eq!(runs, 7 * 2 * 6 * 8);
}

/// When every node runs the same number of rounds R, the SAFE count is 2|E|·(R+1):
/// on a complete graph every non-root node is at depth 1, and on a star rooted at its
/// centre likewise; the root runs 2 rounds, the others 3.
#[test]
fn two_safe_per_edge_and_round() {
    for n in [3usize, 4, 6, 8] {
        let (safe, edges) = safe_count(&TopologyKind::Complete, n, 1, 0);
        let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 2.0 }, ..NetworkModel::default() };
        let (r, _) = run::<BfsAlpha>(&config(&TopologyKind::Complete, n, 3, network, 0));
        assert_eq!(r.sent("SAFE"), safe);
        // Rounds 1–3 of the root and of the others (the root halts after 2 and sends its
        // final SAFE in round 3): 2|E| in each, plus the others' final one in round 4.
        let others_final = (n as u64 - 1) * (n as u64 - 1);
        assert_eq!(r.sent("SAFE"), 3 * 2 * edges + others_final, "n={n}");
    }
}

#[test]
fn lock_step_on_an_asynchronous_network_is_a_violation_that_says_what_to_do() {
    let network = NetworkModel { delay: Delay::Uniform { min: 0.1, max: 5.0 }, ..NetworkModel::default() };
    let (r, _) = run::<BfsRounds>(&config(&TopologyKind::Grid, 9, 1, network, 0));
    assert_eq!(r.stop, Stop::Violation);
    let why = format!("{:?}", r.property(IN_THEIR_ROUND));
    assert!(why.contains("add --sync") && why.contains("bfs-alpha"), "{why}");
    // The default network (constant delay 1, FIFO) is synchronous enough.
    let (r, _) = run::<BfsRounds>(&config(&TopologyKind::Grid, 9, 1, NetworkModel::default(), 0));
    assert_holds(&r, &[IN_THEIR_ROUND], "const:1");
}

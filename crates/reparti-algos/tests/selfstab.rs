//! Chapter 8 through the simulators: the state-reading run (daemons, arbitrary starts,
//! transient faults, closure on long runs in L) and the message-passing form (state
//! exchange) in the ordinary simulator, re-stabilizing after its memory is corrupted.

use reparti_algos::selfstab::{BfsTree, FourState, KState, ThreeState};
use reparti_core::guarded::exchange::Exchange;
use reparti_core::guarded::Guarded;
use reparti_core::{Daemon, IdAssignment, NodeId, Params, Topology};
use reparti_sim::stabilization::{simulate_stabilization, Choice, Corruption, StabSimConfig, StabSimReport, Start};
use reparti_sim::{Delay, NetworkModel, Stop};

mod common;
use common::{config, networks_over, run};

fn build<G: Guarded>(topology: &str, n: usize, given: &[(&str, &str)], seed: u64) -> G {
    let spec = G::spec();
    let given: Vec<(String, String)> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let params = Params::resolve(spec.name, spec.params, &given).expect("parameters");
    let kind = topology.parse().expect("topology kind");
    let topology = Topology::build(&kind, n, &mut reparti_core::rng(seed)).expect("topology");
    G::build(&params, &topology).expect("instance")
}

fn settings<S>(seed: u64, daemon: Daemon, choice: Choice) -> StabSimConfig<S> {
    StabSimConfig {
        seed,
        daemon,
        choice,
        start: Start::Random,
        corruptions: Vec::new(),
        max_steps: None,
        patience: 1_000_000,
        record_values: false,
    }
}

/// From random starts, L is reached, then `steps` more steps never leave it.
fn closure_after_convergence<G: Guarded>(g: &G, steps: u64) {
    for (daemon, choice) in [
        (Daemon::Central, Choice::Random),
        (Daemon::Central, Choice::Fair),
        (Daemon::Central, Choice::Unfair),
        (Daemon::Distributed, Choice::Random),
        (Daemon::Synchronous, Choice::Random),
    ] {
        for seed in 0..12 {
            let first = simulate_stabilization(g, &settings(seed, daemon, choice));
            let reached = first.episodes[0].to_legitimate.expect("converges").steps;
            let cfg = StabSimConfig { max_steps: Some(reached + steps), ..settings(seed, daemon, choice) };
            let r = simulate_stabilization(g, &cfg);
            assert!(
                r.closure_violation.is_none(),
                "{} {daemon:?} seed {seed}: {:?}",
                G::spec().name,
                r.closure_violation
            );
            assert!(r.steps_in_l >= steps, "{} steps in L", r.steps_in_l);
        }
    }
}

#[test]
fn closure_holds_for_ten_thousand_steps_after_convergence() {
    closure_after_convergence(&build::<KState>("ring", 7, &[], 1), 10_000);
    closure_after_convergence(&build::<ThreeState>("bidir-ring", 7, &[], 1), 10_000);
    closure_after_convergence(&build::<FourState>("line", 7, &[], 1), 10_000);
}

#[test]
fn random_starts_never_take_longer_than_the_checkers_worst_case() {
    // §7.1–7.3, central daemon: 24 (K-state, n = 5), 22 (3-state), 13 (4-state).
    fn bounded<G: Guarded>(g: &G, worst: u64) -> u64 {
        let mut seen = 0;
        for seed in 0..300 {
            for choice in [Choice::Random, Choice::Fair, Choice::Unfair] {
                let r = simulate_stabilization(g, &settings(seed, Daemon::Central, choice));
                let moves = r.episodes[0].to_legitimate.expect("converges").moves;
                assert!(moves <= worst, "{} seed {seed}: {moves} moves, worse than the worst case", G::spec().name);
                seen = seen.max(moves);
            }
        }
        seen
    }
    let seen = [
        bounded(&build::<KState>("ring", 5, &[], 1), 24),
        bounded(&build::<ThreeState>("bidir-ring", 5, &[], 1), 22),
        bounded(&build::<FourState>("line", 5, &[], 1), 13),
    ];
    println!("longest runs to L over 900 random starts each: {seen:?}");
    assert!(seen.iter().all(|&s| s > 0), "some start was not legitimate");
}

/// The root's eccentricity, by breadth-first search over the instance's topology.
fn eccentricity(topology: &Topology, root: usize) -> u64 {
    let n = topology.len();
    let mut dist = vec![u64::MAX; n];
    dist[root] = 0;
    let mut queue = std::collections::VecDeque::from([root]);
    while let Some(v) = queue.pop_front() {
        for w in topology.neighbours(NodeId(v as u32)) {
            if dist[w.index()] == u64::MAX {
                dist[w.index()] = dist[v] + 1;
                queue.push_back(w.index());
            }
        }
    }
    dist.into_iter().filter(|&d| d != u64::MAX).max().unwrap_or(0)
}

#[test]
fn bfs_tree_converges_within_d_plus_one_synchronous_rounds_on_random_graphs() {
    let mut tight = 0;
    for seed in 0..30 {
        let n = 20 + seed as usize;
        let kind = "random:3".parse().expect("kind");
        let topology = Topology::build(&kind, n, &mut reparti_core::rng(seed)).expect("topology");
        let g: BfsTree = build("random:3", n, &[], seed);
        let d = eccentricity(&topology, 0);
        let r = simulate_stabilization(&g, &settings(seed, Daemon::Synchronous, Choice::Random));
        let rounds = r.episodes[0].to_legitimate.expect("converges").rounds;
        assert!(rounds <= d + 1, "seed {seed}: {rounds} rounds, D + 1 = {}", d + 1);
        tight += u64::from(rounds == d + 1);
        assert!(r.silent, "a BFS tree is silent once built");
    }
    println!("{tight} of 30 random graphs took exactly D + 1 rounds");
}

#[test]
fn a_transient_fault_is_recovered_from_and_the_run_repeats_byte_for_byte() {
    let g: KState = build("ring", 10, &[], 1);
    let cfg = StabSimConfig {
        corruptions: vec![Corruption { nodes: 4, at_step: 300 }],
        record_values: true,
        ..settings(5, Daemon::Distributed, Choice::Random)
    };
    let r: StabSimReport<u32> = simulate_stabilization(&g, &cfg);
    assert_eq!(r.episodes.len(), 2);
    assert_eq!(r.episodes[1].cause, "corrupt 4");
    assert!(r.episodes.iter().all(|e| e.to_legitimate.is_some()), "{:?}", r.episodes);
    assert!(r.closure_violation.is_none());
    assert!(r.records.iter().all(|rec| rec.values.len() == 10));
    let again = simulate_stabilization(&g, &cfg);
    assert_eq!(serde_json::to_string(&r).ok(), serde_json::to_string(&again).ok(), "same seed, same run");
}

#[test]
fn a_given_start_is_used_as_given() {
    let g: KState = build("ring", 4, &[], 1);
    // Everyone equal: only machine 0 privileged, already legitimate.
    let cfg = StabSimConfig { start: Start::Given(vec![2, 2, 2, 2]), ..settings(1, Daemon::Central, Choice::Random) };
    let r = simulate_stabilization(&g, &cfg);
    assert_eq!(r.initial, vec![2, 2, 2, 2]);
    assert_eq!(r.episodes[0].to_legitimate.map(|t| t.moves), Some(0));
}

#[test]
fn the_message_passing_form_re_stabilizes_after_every_node_is_corrupted() {
    let networks =
        networks_over([Delay::Uniform { min: 1.0, max: 10.0 }, Delay::Const { value: 1.0 }, Delay::Exp { mean: 4.0 }]);
    for network in &networks {
        for n in [3usize, 5, 8] {
            for seed in 0..6 {
                let corrupt = n.to_string();
                let params = [("corrupt", corrupt.as_str()), ("corrupt_at", "400"), ("periods", "80")];
                let cfg = config(n, seed, IdAssignment::Asc, network, &params);
                let r = run::<Exchange<KState>>(&cfg);
                assert_eq!(r.stop, Stop::Quiescence, "n {n} seed {seed}");
                assert!(r.all_good(), "n {n} seed {seed} {network:?}: {:?}", r.properties);
                assert_eq!(r.outputs.get("corrupted").map(|m| m.values().sum::<u64>()), Some(n as u64));
                // Every node sends its state once at the start and once per period.
                assert_eq!(r.messages.total, n as u64 * 81, "n {n}");
            }
        }
    }
}

#[test]
fn the_message_passing_bfs_tree_rebuilds_itself_on_a_grid() {
    let network = NetworkModel { delay: Delay::Uniform { min: 1.0, max: 5.0 }, ..NetworkModel::default() };
    for seed in 0..5 {
        let mut cfg = config(16, seed, IdAssignment::Asc, &network, &[("corrupt", "6"), ("corrupt_at", "100")]);
        cfg.topology = Some("grid".parse().expect("grid"));
        let r = run::<Exchange<BfsTree>>(&cfg);
        assert!(r.all_good(), "seed {seed}: {:?}", r.properties);
    }
}

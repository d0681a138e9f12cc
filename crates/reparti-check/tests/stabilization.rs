//! The checker on chapter 8: the requirements on K and the worst-case tables of
//! Dijkstra's three solutions, reproduced from every configuration; a too-small K
//! caught with a cycle that never converges, replayed step by step; weak fairness told
//! apart from an unfair daemon on an algorithm made for it.

use reparti_algos::selfstab::{BfsTree, FourState, KState, ThreeState};
use reparti_check::stabilization::{check_stabilization, Convergence, Fairness, StabCheckConfig, StabCheckReport};
use reparti_core::guarded::{privileged, step, Guarded, RuleSet};
use reparti_core::{AlgorithmSpec, Chapter, Daemon, NodeId, Params, Topology};
use serde::{Deserialize, Serialize};

fn build<G: Guarded>(topology: &str, n: usize, given: &[(&str, &str)]) -> G {
    let spec = G::spec();
    let given: Vec<(String, String)> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let params = Params::resolve(spec.name, spec.params, &given).expect("parameters");
    let kind = topology.parse().expect("topology kind");
    let topology = Topology::build(&kind, n, &mut reparti_core::rng(1)).expect("topology");
    G::build(&params, &topology).expect("instance")
}

fn check<G: Guarded>(g: &G, daemon: Daemon, fairness: Fairness) -> StabCheckReport<G::State> {
    let cfg = StabCheckConfig { daemon, fairness, max_configurations: 10_000_000 };
    let report = check_stabilization(g, &cfg).expect("within the limits");
    println!(
        "{} n={} {daemon:?} {fairness:?}: {} configurations, {} legitimate, {} transitions",
        G::spec().name,
        g.n(),
        report.configurations,
        report.legitimate,
        report.transitions
    );
    report
}

/// (worst moves, worst steps), asserting closure and convergence.
fn worst<G: Guarded>(g: &G, daemon: Daemon) -> (u64, u64) {
    let r = check(g, daemon, Fairness::Unfair);
    assert!(r.closure.is_none() && r.deadlock.is_none() && r.unfair_in_l.is_none(), "{:?}", r.closure);
    match r.convergence {
        Convergence::Holds { worst_moves, worst_steps, worst_run } => {
            assert_valid_run(g, &worst_run.configs, &worst_run.steps, daemon);
            assert_eq!(worst_run.steps.iter().map(Vec::len).sum::<usize>() as u64, worst_moves);
            assert!(g.legitimate(worst_run.configs.last().expect("a run")), "the worst run ends in L");
            (worst_moves, worst_steps)
        }
        other => panic!("{} n={} does not converge: {other:?}", G::spec().name, g.n()),
    }
}

/// Replays a run: each step is one the daemon may take, and gives the next configuration.
fn assert_valid_run<G: Guarded>(g: &G, configs: &[Vec<G::State>], steps: &[Vec<reparti_core::Move>], daemon: Daemon) {
    assert_eq!(configs.len(), steps.len() + 1);
    for (k, moves) in steps.iter().enumerate() {
        let allowed = daemon.steps(&privileged(g, &configs[k]));
        assert!(allowed.contains(moves), "step {k}: {moves:?} is not a {daemon:?} step from {:?}", configs[k]);
        assert_eq!(step(g, &configs[k], moves), configs[k + 1], "step {k} replays");
    }
}

#[test]
fn k_state_worst_cases_match_the_table_under_the_central_daemon() {
    // §7.1: 2 (1 when K = 2), 13, 24, 38 for n = 3..6, K ∈ {n−1, n, n+1}.
    for (n, expected) in [(3, 2), (4, 13), (5, 24), (6, 38)] {
        for k in ["n-1", "n", "n+1"] {
            let g: KState = build("ring", n, &[("k", k)]);
            let want = if n == 3 && k == "n-1" { 1 } else { expected };
            assert_eq!(worst(&g, Daemon::Central), (want, want), "n = {n}, k = {k}");
        }
    }
}

#[test]
fn k_state_worst_cases_under_the_distributed_daemon_are_counted_in_steps() {
    // §7.1's distributed row (3, 13, 24, 38) counts steps; several machines may move
    // in one step, so the moves are more.
    for (n, steps, moves) in [(3, 3, 8), (4, 13, 17), (5, 24, 29), (6, 38, 44)] {
        let g: KState = build("ring", n, &[("k", "n")]);
        assert_eq!(worst(&g, Daemon::Distributed), (moves, steps), "n = {n}");
    }
}

/// Asserts that convergence fails with a cycle outside L, and replays it.
fn assert_cycle<G: Guarded>(g: &G, daemon: Daemon, fairness: Fairness) -> usize {
    match check(g, daemon, fairness).convergence {
        Convergence::Fails { cycle, .. } => {
            assert_valid_run(g, &cycle.configs, &cycle.steps, daemon);
            assert_eq!(cycle.configs.first(), cycle.configs.last(), "a cycle");
            assert!(cycle.configs.iter().all(|c| !g.legitimate(c)), "outside L");
            cycle.steps.len()
        }
        other => panic!("{} n={} should not converge: {other:?}", G::spec().name, g.n()),
    }
}

#[test]
fn too_small_k_is_caught_with_a_cycle_that_never_converges() {
    // Central daemon: K = n−2 fails for n = 4, 5.
    for n in [4, 5] {
        let g: KState = build("ring", n, &[("k", "n-2")]);
        let len = assert_cycle(&g, Daemon::Central, Fairness::Unfair);
        println!("n = {n}, K = n-2: a cycle of {len} steps");
        // Every machine moves on it, so weak fairness does not save it.
        assert_cycle(&g, Daemon::Central, Fairness::Weak);
    }
    // Distributed daemon: K = n−1 fails for n = 3..6, though it suffices centrally.
    for n in 3..=6 {
        let g: KState = build("ring", n, &[("k", "n-1")]);
        assert_cycle(&g, Daemon::Distributed, Fairness::Unfair);
        assert!(matches!(check(&g, Daemon::Central, Fairness::Unfair).convergence, Convergence::Holds { .. }));
    }
}

#[test]
fn three_state_table_and_legitimate_count() {
    // §7.2: 2, 10, 22, 39, 57, 79, 109 moves for n = 3..9; 12n − 15 legitimate states.
    for (n, want) in [(3, 2), (4, 10), (5, 22), (6, 39), (7, 57), (8, 79), (9, 109)] {
        let g: ThreeState = build("bidir-ring", n, &[]);
        assert_eq!(worst(&g, Daemon::Central).0, want, "n = {n}");
        assert_eq!(check(&g, Daemon::Central, Fairness::Unfair).legitimate, 12 * n as u64 - 15);
    }
}

#[test]
fn four_state_table_and_legitimate_count() {
    // §7.3: 2, 7, 13, 21, 31, 43, 57 moves for n = 3..9; 4(n − 1) legitimate states.
    for (n, want) in [(3, 2), (4, 7), (5, 13), (6, 21), (7, 31), (8, 43), (9, 57)] {
        let g: FourState = build("line", n, &[]);
        assert_eq!(worst(&g, Daemon::Central).0, want, "n = {n}");
        assert_eq!(check(&g, Daemon::Central, Fairness::Unfair).legitimate, 4 * (n as u64 - 1));
    }
}

#[test]
fn bfs_tree_converges_from_every_configuration_within_d_plus_one_synchronous_rounds() {
    // A line of 4 rooted at an end: eccentricity D = 3, so at most 4 synchronous steps.
    let g: BfsTree = build("line", 4, &[]);
    let (_, steps) = worst(&g, Daemon::Synchronous);
    assert!(steps <= 4, "{steps} synchronous rounds, more than D + 1 = 4");
    worst(&g, Daemon::Central);
    // Too small a cap makes far nodes legitimately capped, still converging.
    let capped: BfsTree = build("line", 4, &[("d_max", "2")]);
    worst(&capped, Daemon::Central);
}

/// Two nodes: node 1 fixes the system in one move, node 0 toggles for ever while node 1
/// has not moved. An unfair daemon can starve node 1; a weakly fair one cannot.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Starvable;

impl Guarded for Starvable {
    type State = bool;
    fn spec() -> AlgorithmSpec {
        AlgorithmSpec::new("starvable", Chapter::Selfstab, "a node that can be starved")
    }
    fn rule_names() -> &'static [&'static str] {
        &["toggle"]
    }
    fn build(_: &Params, _: &Topology) -> Result<Self, String> {
        Ok(Starvable)
    }
    fn n(&self) -> usize {
        2
    }
    fn reads(&self, node: NodeId) -> Vec<NodeId> {
        vec![NodeId(1 - node.0)]
    }
    fn domain(&self, _: NodeId) -> Vec<bool> {
        vec![false, true]
    }
    fn legitimate_start(&self) -> Vec<bool> {
        vec![false, true]
    }
    fn enabled(&self, _: NodeId, config: &[bool]) -> RuleSet {
        RuleSet::from(!config[1])
    }
    fn apply(&self, node: NodeId, _: usize, config: &[bool]) -> bool {
        !config[node.index()]
    }
    fn legitimate(&self, config: &[bool]) -> bool {
        config[1]
    }
}

#[test]
fn weak_fairness_rules_out_only_the_cycles_that_starve_a_node() {
    let unfair = check(&Starvable, Daemon::Central, Fairness::Unfair);
    assert!(matches!(unfair.convergence, Convergence::Fails { .. }), "node 0 may toggle for ever");
    assert!(!unfair.holds());
    let fair = check(&Starvable, Daemon::Central, Fairness::Weak);
    match &fair.convergence {
        Convergence::HoldsFairly { unfair_cycle } => {
            assert!(unfair_cycle.steps.iter().flatten().all(|m| m.node == NodeId(0)), "the cycle starves node 1");
        }
        other => panic!("weak fairness makes node 1 move: {other:?}"),
    }
    assert!(fair.holds());
}

#[test]
fn an_instance_too_large_is_refused_in_one_line() {
    let g: KState = build("ring", 12, &[]);
    let cfg = StabCheckConfig { daemon: Daemon::Central, fairness: Fairness::Unfair, max_configurations: 1_000_000 };
    let err = check_stabilization(&g, &cfg).expect_err("12^12 configurations");
    assert!(err.contains("configurations") && err.contains("reparti sim") && !err.contains('\n'), "{err}");
}

#[test]
fn k_state_with_the_unique_token_predicate_matches_the_stricter_table() {
    // §7.1: with TLA+'s UniqueToken as L (central daemon, K = n) the worst cases are
    // 4, 14, 25, 39 and L holds n·K configurations.
    for (n, expected) in [(3, 4), (4, 14), (5, 25), (6, 39)] {
        let g: KState = build("ring", n, &[("k", "n"), ("legitimacy", "unique-token")]);
        let report = check(&g, Daemon::Central, Fairness::Unfair);
        assert_eq!(report.legitimate, (n * n) as u64, "n·K at n = {n}");
        assert!(report.closure.is_none(), "the staircase is closed");
        assert_eq!(worst(&g, Daemon::Central), (expected, expected), "n = {n}");
    }
}

//! Lamport's physical clocks through the simulator, judged from the true clocks: no
//! clock runs backwards, μ never exceeds the true least delay, the precision after
//! warm-up stays within d(2κτ+ξ) + 2κd(μ+ξ), and no message reaches a clock behind its
//! timestamp once ε < μ(1−κ) — across seeds, sizes, strongly connected topologies (the
//! directed ring too), the three delay models, FIFO or not, and drifts of 100 and 1000
//! ppm; exactly E·periods TIME messages. The bound is not vacuous: a fast clock at the
//! far end of a directed ring brings the spread to a fifth of it at the end. The broken rules
//! are caught in every seed: `assign` sets clocks back, `no-mu` lags by the transit
//! time and receives messages "from the future". A μ above the least delay (μ = 1 with
//! exponential delays) is caught too. A run's trace replays to the same verdicts.

use reparti_algos::time::physical_clocks::{
    LamportPhysical, ALL_PERIODS, MU_AT_MOST_MIN_DELAY, NEVER_BACKWARDS, NO_ANOMALY, PRECISION,
};
use reparti_core::trace::read_trace;
use reparti_core::{ClockSetting, IdAssignment, TopologyKind};
use reparti_sim::{simulate_traced, ClockConfig, Delay, NetworkModel, Report, SimConfig, Spread};

mod common;
use common::{assert_good, config, run};

const ALL: [&str; 5] = [NEVER_BACKWARDS, MU_AT_MOST_MIN_DELAY, PRECISION, NO_ANOMALY, ALL_PERIODS];

/// A delay model with the μ and ξ that describe it: exp has no upper bound, so its ξ
/// (25 mean delays: e^-25 per message) is a bound that holds with high probability.
fn delays() -> [(Delay, &'static str, &'static str); 3] {
    [
        (Delay::Const { value: 1.0 }, "1", "0"),
        (Delay::Uniform { min: 0.5, max: 3.0 }, "0.5", "2.5"),
        (Delay::Exp { mean: 1.0 }, "0", "25"),
    ]
}

fn drifting(cfg: SimConfig, ppm: f64) -> SimConfig {
    let clocks = ClockConfig { drift: Spread::Uniform { min: -ppm, max: ppm }, ..ClockConfig::default() };
    SimConfig { clocks, ..cfg }
}

fn on(kind: TopologyKind, cfg: SimConfig) -> SimConfig {
    SimConfig { topology: Some(kind), ..cfg }
}

fn directed_edges(kind: &TopologyKind, n: u64) -> u64 {
    match kind {
        TopologyKind::Ring => n,
        TopologyKind::BidirRing | TopologyKind::Line => 2 * (n - 1) + u64::from(*kind == TopologyKind::BidirRing) * 2,
        TopologyKind::Complete => n * (n - 1),
        other => panic!("no edge count for {other}"),
    }
}

#[test]
fn every_property_and_the_exact_count_across_seeds_sizes_topologies_delays_and_drifts() {
    let kinds = [TopologyKind::BidirRing, TopologyKind::Ring, TopologyKind::Complete, TopologyKind::Line];
    let mut runs = 0;
    for (delay, mu, xi) in delays() {
        for fifo in [true, false] {
            let network = NetworkModel { fifo, delay, ..NetworkModel::default() };
            for kind in &kinds {
                for n in [3u64, 6] {
                    for ppm in [100.0, 1000.0] {
                        for seed in 1..=4 {
                            let params = [("mu", mu), ("xi", xi), ("periods", "12")];
                            let cfg = config(n as usize, seed, IdAssignment::Random, &network, &params);
                            let cfg = drifting(on(kind.clone(), cfg), ppm);
                            let ctx = format!("{kind} n={n} {delay} fifo={fifo} ±{ppm}ppm seed {seed}");
                            let r = run::<LamportPhysical>(&cfg);
                            assert_good(&r, &ALL, &ctx);
                            assert_eq!(r.sent("TIME"), directed_edges(kind, n) * 12, "{ctx}: one per edge per period");
                            runs += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(runs, 3 * 2 * 4 * 2 * 2 * 4);
}

/// Node 0 runs 1000 ppm fast, the others 1000 ppm slow, on a directed ring: the node
/// just behind node 0 hears from it only after n−1 hops.
fn fast_clock_far_away(n: usize, seed: u64) -> SimConfig {
    let network = NetworkModel { delay: Delay::Uniform { min: 1.0, max: 2.0 }, ..NetworkModel::default() };
    let params = [("mu", "1"), ("xi", "1"), ("tau", "50")];
    let cfg = on(TopologyKind::Ring, config(n, seed, IdAssignment::Random, &network, &params));
    let given = vec![(0, ClockSetting { offset: 0.0, drift_ppm: 1000.0 })];
    let clocks = ClockConfig { drift: Spread::Const { value: -1000.0 }, given, ..ClockConfig::default() };
    SimConfig { clocks, ..cfg }
}

#[test]
fn the_bound_holds_and_is_not_vacuous_a_fast_clock_far_away_spends_a_good_part_of_it() {
    let n = 6;
    let (d, kappa, tau, mu, xi) = (5.0, 1e-3, 50.0, 1.0, 1.0);
    let epsilon = d * (2.0 * kappa * tau + xi) + 2.0 * kappa * d * (mu + xi);
    let mut widest: f64 = 0.0;
    for seed in 1..=5 {
        let r = run::<LamportPhysical>(&fast_clock_far_away(n, seed));
        assert_good(&r, &ALL, &format!("seed {seed}"));
        let spread = r.physical_clocks.as_ref().expect("clocks at the end").spread;
        assert!(spread <= epsilon, "seed {seed}: {spread} ≤ ε = {epsilon}");
        widest = widest.max(spread);
    }
    // Measured at the end of each run (right after a round, not the worst moment).
    assert!(widest >= 0.2 * epsilon, "{widest} is a good part of ε = {epsilon}");
}

fn failed(r: &Report, property: &str) -> bool {
    r.property(property).is_some_and(|p| p.holds == Some(false))
}

#[test]
fn the_broken_rules_are_caught_in_every_seed() {
    let network = NetworkModel::default();
    for seed in 1..=20 {
        let assign = run::<LamportPhysical>(&config(6, seed, IdAssignment::Random, &network, &[("receive", "assign")]));
        assert!(failed(&assign, NEVER_BACKWARDS), "seed {seed}: C := T_m + μ sets a clock ahead back");
        let no_mu = config(6, seed, IdAssignment::Random, &network, &[("receive", "no-mu")]);
        let no_mu = run::<LamportPhysical>(&SimConfig { stop_at_violation: false, ..no_mu });
        assert!(failed(&no_mu, PRECISION), "seed {seed}: the transit time lost on every hop");
        assert!(failed(&no_mu, NO_ANOMALY), "seed {seed}: messages arrive at clocks behind their stamp");
        assert!(no_mu.holds(NEVER_BACKWARDS), "seed {seed}: it only ever moves forward");
    }
}

#[test]
fn a_mu_above_the_true_least_delay_is_caught() {
    let network = NetworkModel { delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
    for seed in 1..=5 {
        let r = run::<LamportPhysical>(&config(6, seed, IdAssignment::Random, &network, &[("xi", "25")]));
        assert!(failed(&r, MU_AT_MOST_MIN_DELAY), "seed {seed}: exp delays can be near 0, μ = 1 is too much");
    }
}

#[test]
fn a_run_replays_from_its_trace_to_the_same_verdicts() {
    let network = NetworkModel { delay: Delay::Uniform { min: 1.0, max: 3.0 }, fifo: false, ..NetworkModel::default() };
    let cfg = drifting(config(5, 7, IdAssignment::Random, &network, &[("xi", "2")]), 1000.0);
    let (report, bytes) = simulate_traced::<LamportPhysical, _>(&cfg, Vec::new()).expect("runs");
    assert_good(&report, &ALL, "traced");
    let trace = read_trace(&bytes[..]).expect("a trace");
    let replayed = reparti_sim::replay::<LamportPhysical>(&trace).expect("replays");
    for p in ALL {
        assert_eq!(replayed.report.holds(p), report.holds(p), "{p}");
    }
    assert!(replayed.report.all_good());
}

//! Berkeley through the simulator: clocks never run backwards, the average ignores
//! outliers, and after each round the averaged clocks agree within the estimation
//! errors — across seeds, sizes, both topologies, the three delay models, several
//! offsets and drifts; exactly 3(n−1) messages per round; a wildly wrong clock left out
//! while the others agree; the two classic mistakes (stepping clocks back, averaging
//! outliers) caught by those properties on every seed.

use reparti_algos::time::berkeley::{Berkeley, AGREE, ALL_ROUNDS, IGNORES_OUTLIERS, NEVER_BACKWARDS};
use reparti_core::physical_clock::ClockSetting;
use reparti_core::{IdAssignment, TopologyKind};
use reparti_sim::{ClockConfig, Report, SimConfig, Spread, Stop};

mod common;
use common::{assert_good, config, networks, run};

const ALL: [&str; 4] = [NEVER_BACKWARDS, IGNORES_OUTLIERS, AGREE, ALL_ROUNDS];

fn with_clocks(mut cfg: SimConfig, offset: Spread, drift: Spread, given: Vec<(u32, ClockSetting)>) -> SimConfig {
    cfg.clocks = ClockConfig { offset, drift, given };
    cfg
}

/// Every round cost 3(n−1) messages, one of each kind per slave.
fn assert_costs(r: &Report, n: u64, rounds: u64, ctx: &str) {
    for kind in ["POLL", "REPLY", "ADJUST"] {
        assert_eq!(r.sent(kind), (n - 1) * rounds, "{ctx}: {kind}");
    }
    assert_eq!(r.messages.total, 3 * (n - 1) * rounds, "{ctx}");
    let decided: u64 = r.outputs.get("clock_bound").map_or(0, |m| m.values().sum());
    assert_eq!(decided, rounds, "{ctx}: one clock_bound per round");
}

#[test]
fn properties_and_costs_across_seeds_sizes_topologies_networks_offsets_and_drifts() {
    let clocks = [
        (Spread::Uniform { min: -50.0, max: 50.0 }, Spread::Uniform { min: -100.0, max: 100.0 }),
        (Spread::Uniform { min: -5.0, max: 5.0 }, Spread::Const { value: 0.0 }),
        (Spread::Normal { mean: 0.0, sd: 30.0 }, Spread::Uniform { min: -1000.0, max: 1000.0 }),
    ];
    let mut runs = 0;
    for network in networks() {
        for (offset, drift) in &clocks {
            for n in [2u64, 3, 6, 9] {
                for topology in [TopologyKind::Star, TopologyKind::Complete] {
                    for seed in 1..=4 {
                        let cfg = config(n as usize, seed, IdAssignment::Random, &network, &[]);
                        let cfg = SimConfig { topology: Some(topology.clone()), ..cfg };
                        let cfg = with_clocks(cfg, *offset, *drift, vec![]);
                        let ctx = format!("n={n} {topology} seed={seed} {network:?} {offset:?} {drift:?}");
                        let r = run::<Berkeley>(&cfg);
                        assert_good(&r, &ALL, &ctx);
                        assert_costs(&r, n, 4, &ctx);
                        runs += 1;
                    }
                }
            }
        }
    }
    assert_eq!(runs, 6 * 3 * 4 * 2 * 4);
}

#[test]
fn another_master_on_the_complete_graph() {
    for seed in 1..=10 {
        let cfg = config(5, seed, IdAssignment::Random, &networks()[2], &[("master", "3"), ("rounds", "6")]);
        let cfg = SimConfig { topology: Some(TopologyKind::Complete), ..cfg };
        let r = run::<Berkeley>(&cfg);
        assert_good(&r, &ALL, &format!("seed={seed}"));
        assert_costs(&r, 5, 6, &format!("seed={seed}"));
    }
}

/// Node 3's clock is 5000 units ahead: the others agree, and the average is theirs.
#[test]
fn a_faulty_clock_is_left_out_and_the_others_agree() {
    for network in networks() {
        for seed in 1..=6 {
            let faulty = ClockSetting { offset: 5000.0, drift_ppm: 0.0 };
            let cfg = config(6, seed, IdAssignment::Random, &network, &[]);
            let cfg = with_clocks(
                cfg,
                Spread::Uniform { min: -50.0, max: 50.0 },
                Spread::Const { value: 0.0 },
                vec![(3, faulty)],
            );
            let ctx = format!("seed={seed} {network:?}");
            let r = run::<Berkeley>(&cfg);
            assert_good(&r, &ALL, &ctx);
            let offsets = &r.physical_clocks.as_ref().expect("physical clocks reported").offsets;
            let good: Vec<f64> = [0, 1, 2, 4, 5].iter().map(|&i| offsets[i]).collect();
            let spread = good.iter().cloned().fold(f64::MIN, f64::max) - good.iter().cloned().fold(f64::MAX, f64::min);
            // Delays are at most a few units (exp: rarely more): well within 2·max rtt/2.
            let bound = r.outputs["clock_bound"]
                .keys()
                .filter_map(|v| v.to_string().trim_matches('"').parse::<f64>().ok())
                .fold(0.0, f64::max);
            assert!(spread <= bound + 1e-3, "{ctx}: the good clocks are {spread} apart, bound {bound}");
            // Not dragged: the good clocks stay near where they started (±50), not 5000/6.
            assert!(good.iter().all(|o| o.abs() < 100.0), "{ctx}: dragged to {good:?}");
        }
    }
}

/// `fault=step` sets clocks back: caught on every seed (some adjustment is negative).
#[test]
fn stepping_clocks_back_is_caught() {
    for network in networks() {
        for seed in 1..=10 {
            let cfg = config(4, seed, IdAssignment::Random, &network, &[("fault", "step")]);
            let r = run::<Berkeley>(&cfg);
            assert_eq!(r.stop, Stop::Violation, "seed={seed}");
            assert_eq!(r.property(NEVER_BACKWARDS).and_then(|p| p.holds), Some(false), "seed={seed}");
        }
    }
}

/// `fault=mean` averages the faulty clock too and drags everyone: caught on every seed.
#[test]
fn averaging_outliers_is_caught() {
    for network in networks() {
        for seed in 1..=10 {
            let faulty = ClockSetting { offset: 5000.0, drift_ppm: 0.0 };
            let cfg = config(6, seed, IdAssignment::Random, &network, &[("fault", "mean")]);
            let cfg = with_clocks(
                cfg,
                Spread::Uniform { min: -50.0, max: 50.0 },
                Spread::Const { value: 0.0 },
                vec![(3, faulty)],
            );
            let r = run::<Berkeley>(&cfg);
            assert_eq!(r.stop, Stop::Violation, "seed={seed}");
            assert_eq!(r.property(IGNORES_OUTLIERS).and_then(|p| p.holds), Some(false), "seed={seed}");
        }
    }
}

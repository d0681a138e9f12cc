//! NTP-style estimation through the simulator: `|θ − θ_true| ≤ δ/2` on every sample
//! and every client synchronized at the end, across seeds, sizes, the three delay
//! models (FIFO or not), offsets, drifts, holding times, slewing or stepping; 2 messages
//! per sample exactly. Every sample's error is also recomputed here from the true
//! clocks; an asymmetric path shows the error (forward − backward)/2 exactly; and the
//! clock filter is seen choosing the least-delay sample.

mod common;

use common::{assert_good, config, networks, run};
use reparti_algos::time::ntp::{sample_error, Measured, Ntp, NTP_BOUND, SYNCHRONIZED};
use reparti_core::{ClockSetting, IdAssignment, NodeId, TrueTime};
use reparti_sim::{ClockConfig, Delay, Fault, NetworkModel, SimConfig, Simulation, Spread, Stop};

fn clocks() -> Vec<ClockConfig> {
    let spread = |min: f64, max: f64| Spread::Uniform { min, max };
    vec![
        ClockConfig::default(),
        ClockConfig { offset: spread(-500.0, 500.0), drift: spread(-1000.0, 1000.0), given: Vec::new() },
        ClockConfig {
            offset: Spread::Normal { mean: 0.0, sd: 20.0 },
            drift: Spread::Const { value: 0.0 },
            given: Vec::new(),
        },
        ClockConfig { given: vec![(0, ClockSetting { offset: -1000.0, drift_ppm: -500.0 })], ..ClockConfig::default() },
    ]
}

#[test]
fn the_bound_holds_on_every_sample_across_seeds_sizes_networks_and_clocks() {
    let mut runs = 0;
    for network in networks() {
        for (k, clock) in clocks().into_iter().enumerate() {
            for (correction, hold) in [("slew", "1"), ("step", "0"), ("slew", "3.5")] {
                for n in [2usize, 5] {
                    for seed in 1..=4u64 {
                        let params = [("correction", correction), ("hold", hold), ("samples", "10")];
                        let cfg = SimConfig {
                            clocks: clock.clone(),
                            ..config(n, seed, IdAssignment::Random, &network, &params)
                        };
                        let ctx = format!("{network:?} clocks#{k} {correction} hold={hold} n={n} seed={seed}");
                        let r = run::<Ntp>(&cfg);
                        assert_good(&r, &[NTP_BOUND, SYNCHRONIZED], &ctx);
                        let samples = 10 * (n as u64 - 1);
                        assert_eq!((r.sent("REQUEST"), r.sent("REPLY")), (samples, samples), "{ctx}");
                        assert_eq!(r.messages.total, 2 * samples, "{ctx}: 2 messages per sample");
                        runs += 1;
                    }
                }
            }
        }
    }
    assert_eq!(runs, 6 * 4 * 3 * 2 * 4);
}

/// Steps a run event by event and calls `each` at every new sample (read from the
/// clients' states) with the client, the sample and the true clocks at that instant.
fn samples(cfg: &SimConfig, mut each: impl FnMut(usize, &Measured, &TrueTime<'_>)) {
    let mut sim = Simulation::<Ntp>::new(cfg).expect("the run starts");
    let mut seen = vec![None; sim.nodes().len()];
    let no_min = |_: NodeId, _: NodeId| 0.0;
    while sim.run_for(1) {
        let time = TrueTime { now: sim.now(), clocks: sim.physical_clocks().expect("kept"), min_delay: &no_min };
        for (i, node) in sim.nodes().iter().enumerate().skip(1) {
            if node.last != seen[i] {
                seen[i] = node.last;
                each(i, &node.last.expect("a sample"), &time);
            }
        }
    }
    assert_eq!(sim.stopped(), Some(Stop::Quiescence));
}

#[test]
fn recomputed_from_outside_every_sample_is_within_half_its_delay() {
    for network in networks() {
        for seed in 1..=5u64 {
            let mut cfg = config(4, seed, IdAssignment::Random, &network, &[]);
            cfg.clocks.drift = Spread::Const { value: 0.0 };
            let mut count = 0;
            samples(&cfg, |i, m, time| {
                let error = sample_error(time, m);
                assert!(
                    error.abs() <= m.delay.value() / 2.0 + 1e-9,
                    "{network:?} seed={seed} client {i}: {error} vs {m:?}"
                );
                count += 1;
            });
            assert_eq!(count, 3 * 8, "{network:?} seed={seed}: every sample judged");
        }
    }
}

#[test]
fn an_asymmetric_path_errs_by_half_the_difference_of_the_one_way_delays() {
    // `--link-delay 1>0=const:9` over a network of const:1, no drift: every sample's θ
    // is off by (9 − 1)/2 = 4, which the client cannot see (δ = 10 on every sample).
    for hold in ["0", "1", "2.5"] {
        let mut cfg = config(2, 7, IdAssignment::Random, &NetworkModel::default(), &[("hold", hold)]);
        cfg.clocks.drift = Spread::Const { value: 0.0 };
        cfg.faults = vec![Fault::LinkDelay { from: NodeId(1), to: NodeId(0), delay: Delay::Const { value: 9.0 } }];
        let mut errors = Vec::new();
        samples(&cfg, |_, m, time| {
            assert!((m.delay.value() - 10.0).abs() < 1e-9, "hold={hold}: δ = {:?}, the hold removed", m.delay);
            errors.push(sample_error(time, m));
        });
        assert_eq!(errors.len(), 8);
        for e in &errors {
            assert!((e - (9.0 - 1.0) / 2.0).abs() < 1e-9, "hold={hold}: measured error {e}, expected 4");
        }
        let r = run::<Ntp>(&cfg);
        assert_good(&r, &[NTP_BOUND, SYNCHRONIZED], hold);
        let offsets = &r.physical_clocks.as_ref().expect("clocks at the end").offsets;
        assert!((offsets[1] - offsets[0] - 4.0).abs() < 1e-9, "hold={hold}: the client ends 4 ahead: {offsets:?}");
    }
}

#[test]
fn the_filter_trusts_the_least_delay_sample_of_the_last_eight() {
    for seed in 1..=10u64 {
        let network = NetworkModel { delay: Delay::Exp { mean: 3.0 }, ..NetworkModel::default() };
        let cfg = config(3, seed, IdAssignment::Random, &network, &[("samples", "20"), ("correction", "step")]);
        let mut sim = Simulation::<Ntp>::new(&cfg).expect("the run starts");
        while sim.run_for(1) {
            for node in sim.nodes().iter().skip(1) {
                assert!(node.filter.len() <= 8, "seed={seed}: a bounded ring");
                if let (Some(used), Some(least)) = (node.used, node.filter.iter().map(|s| s.delay).min()) {
                    // The used sample is the least of the window, or has left it and
                    // nothing newer has beaten what remains.
                    if node.filter.iter().any(|s| s.seq == used.seq) {
                        assert_eq!(used.delay, least, "seed={seed}");
                    }
                }
            }
        }
        let r = sim.finish().expect("finishes").0;
        assert_good(&r, &[NTP_BOUND, SYNCHRONIZED], &format!("seed={seed}"));
        // Corrections are fewer than samples: a sample that does not beat the window's
        // best is never used.
        let corrections: u64 = r.outputs["clock_bound"].values().sum();
        assert!(corrections < 2 * 20, "seed={seed}: {corrections} corrections for 40 samples");
    }
}

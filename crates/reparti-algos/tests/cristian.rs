//! Cristian through the simulator: the bound `|C_P − C_S| ≤ RTT/2 − min` judged at
//! every adjustment, and every client synchronized at the end, across seeds, sizes, the
//! three delay models (FIFO or not), offsets and drifts, stepping or slewing; the
//! message counts asserted exactly (2 per attempt). The bound is also recomputed here,
//! from outside, at each adjustment; an asymmetric path shows that it is tight with the
//! *one-way* minimum; and the broken client (`C := T`) is caught.

mod common;

use common::{assert_good, config, networks, run};
use reparti_algos::time::cristian::{Cristian, CRISTIAN_BOUND, SYNCHRONIZED};
use reparti_core::{ClockSetting, IdAssignment, NodeId};
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
        // A server clock far off and fast: the clients follow the server, not real time.
        ClockConfig { given: vec![(0, ClockSetting { offset: 1000.0, drift_ppm: 500.0 })], ..ClockConfig::default() },
    ]
}

#[test]
fn the_bound_holds_at_every_adjustment_across_seeds_sizes_networks_and_clocks() {
    let mut runs = 0;
    for network in networks() {
        for (k, clock) in clocks().into_iter().enumerate() {
            for correction in ["step", "slew"] {
                for n in [2usize, 4, 7] {
                    for seed in 1..=4u64 {
                        let params = [("correction", correction), ("samples", "5")];
                        let cfg = SimConfig {
                            clocks: clock.clone(),
                            ..config(n, seed, IdAssignment::Random, &network, &params)
                        };
                        let ctx = format!("{network:?} clocks#{k} {correction} n={n} seed={seed}");
                        let r = run::<Cristian>(&cfg);
                        assert_good(&r, &[CRISTIAN_BOUND, SYNCHRONIZED], &ctx);
                        let attempts = 5 * (n as u64 - 1);
                        assert_eq!((r.sent("REQUEST"), r.sent("REPLY")), (attempts, attempts), "{ctx}");
                        assert_eq!(r.messages.total, 2 * attempts, "{ctx}: 2 messages per attempt");
                        assert_eq!(r.outputs["synchronized"].values().sum::<u64>(), n as u64 - 1, "{ctx}");
                        runs += 1;
                    }
                }
            }
        }
    }
    assert_eq!(runs, 6 * 4 * 2 * 3 * 4);
}

/// Steps a run event by event and, at each adjustment (a new best sample, read from the
/// clients' states), recomputes from the true clocks the error `|C_P − C_S|` and the
/// bound `RTT/2 − min` with the one-way minimum `min_oneway`; returns them.
fn adjustments(cfg: &SimConfig, min_oneway: f64) -> Vec<(f64, f64)> {
    let mut sim = Simulation::<Cristian>::new(cfg).expect("the run starts");
    let n = sim.nodes().len();
    let mut seen = vec![None; n];
    let mut found = Vec::new();
    while sim.run_for(1) {
        let clocks = sim.physical_clocks().expect("physical clocks are kept");
        let now = sim.now();
        for (i, node) in sim.nodes().iter().enumerate().skip(1) {
            if node.best != seen[i] {
                seen[i] = node.best;
                let a = node.best.expect("an adjustment");
                let corrected = clocks[i].read(now) + (a.estimate - a.at);
                found.push(((corrected - clocks[0].read(now)).abs(), a.rtt.value() / 2.0 - min_oneway));
            }
        }
    }
    assert_eq!(sim.stopped(), Some(Stop::Quiescence));
    found
}

#[test]
fn recomputed_from_outside_every_adjustment_is_within_rtt_over_2_minus_min() {
    for (delay, min) in [
        (Delay::Const { value: 2.0 }, 2.0),
        (Delay::Uniform { min: 0.5, max: 4.0 }, 0.5),
        (Delay::Exp { mean: 1.5 }, 0.0),
    ] {
        for seed in 1..=5u64 {
            let network = NetworkModel { delay, ..NetworkModel::default() };
            let mut cfg = config(4, seed, IdAssignment::Random, &network, &[]);
            cfg.clocks.drift = Spread::Const { value: 0.0 };
            let found = adjustments(&cfg, min);
            assert!(found.len() >= 3, "{delay:?} seed={seed}: each client adjusts at least once");
            for (error, bound) in found {
                assert!(error <= bound + 1e-9, "{delay:?} seed={seed}: {error} > {bound}");
            }
        }
    }
}

#[test]
fn on_an_asymmetric_path_the_bound_is_tight_with_the_one_way_minimum() {
    // Requests take 5, replies 1: the estimate T + RTT/2 = T + 3 is 2 ahead of the
    // server's T + 1, and RTT/2 − min(5, 1) = 2: met with equality. The round trip's minimum (6) or the larger one-way one (5)
    // would claim a negative bound.
    let mut cfg = config(2, 1, IdAssignment::Random, &NetworkModel::default(), &[("samples", "3")]);
    cfg.clocks.drift = Spread::Const { value: 0.0 };
    cfg.faults = vec![
        Fault::LinkDelay { from: NodeId(1), to: NodeId(0), delay: Delay::Const { value: 5.0 } },
        Fault::LinkDelay { from: NodeId(0), to: NodeId(1), delay: Delay::Const { value: 1.0 } },
    ];
    let found = adjustments(&cfg, 1.0);
    assert_eq!(found.len(), 1, "equal round trips: only the first sample adjusts");
    let (error, bound) = found[0];
    assert!((error - 2.0).abs() < 1e-9 && (bound - 2.0).abs() < 1e-9, "{error} {bound}");
    let r = run::<Cristian>(&cfg);
    assert_good(&r, &[CRISTIAN_BOUND, SYNCHRONIZED], "asymmetric");
    let offsets = &r.physical_clocks.as_ref().expect("clocks at the end").offsets;
    assert!((offsets[1] - offsets[0] - 2.0).abs() < 1e-9, "{offsets:?}");
}

#[test]
fn the_client_that_forgets_half_the_round_trip_is_caught() {
    let mut caught = Vec::new();
    for network in networks() {
        let mut count = 0;
        for seed in 1..=20u64 {
            let cfg = config(4, seed, IdAssignment::Random, &network, &[("broken", "no-half-rtt")]);
            let r = run::<Cristian>(&cfg);
            if r.stop == Stop::Violation {
                assert_eq!(r.property(CRISTIAN_BOUND).and_then(|p| p.holds), Some(false), "{network:?} {seed}");
                count += 1;
            }
        }
        caught.push((network.delay, count));
    }
    // Constant delays: the bound is 0 and every adjustment misses it by the delay. The
    // others: caught as soon as one reply takes longer than its request.
    for (delay, count) in caught {
        assert_eq!(count, 20, "{delay:?}: caught on every seed");
    }
    // The correct client on the very same runs: never.
    for seed in 1..=20u64 {
        let r = run::<Cristian>(&config(4, seed, IdAssignment::Random, &NetworkModel::default(), &[]));
        assert!(r.holds(CRISTIAN_BOUND), "seed={seed}");
    }
}

#[test]
fn a_slewing_client_never_runs_its_clock_backwards() {
    use reparti_core::trace::{read_trace, EventKind};
    for seed in 1..=5u64 {
        let network = NetworkModel { delay: Delay::Exp { mean: 2.0 }, ..NetworkModel::default() };
        let cfg = config(4, seed, IdAssignment::Random, &network, &[("correction", "slew")]);
        let (r, bytes) = reparti_sim::simulate_traced::<Cristian, _>(&cfg, Vec::new()).expect("the run starts");
        assert_good(&r, &[CRISTIAN_BOUND, SYNCHRONIZED], &format!("seed={seed}"));
        let trace = read_trace(bytes.as_slice()).expect("the trace reads back");
        let mut last = [f64::NEG_INFINITY; 4];
        let mut slews = 0;
        for e in &trace.events {
            if let Some(c) = e.clock {
                // A slew folded into the correction may round the last bit away.
                assert!(c >= last[e.node as usize] - 1e-9, "seed={seed}: node {} went back at event {}", e.node, e.i);
                last[e.node as usize] = c;
            }
            if e.kind == EventKind::Clock {
                assert_eq!(e.text.as_deref(), Some("slew"), "seed={seed}");
                slews += 1;
            }
        }
        assert!(slews >= 3, "seed={seed}: every client slewed");
    }
}

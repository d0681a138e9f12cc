//! End to end: Chang–Roberts on huge rings, as `reparti bench` runs it, without
//! building the CLI (which takes long in release).
//!
//! ```text
//! cargo run --release -p reparti-sim --example chang_roberts_bench -- [N ...] [--delay D] [--seed S]
//! ```
//!
//! Defaults: rings of 10^5 and 10^6 nodes, random identities, seed 1, `uniform:1,10`
//! delays, FIFO channels, every property checked. Each line prints deliveries per
//! second of wall-clock time (the report's, as `reparti bench` prints) and per second
//! of the thread's CPU time (steadier on a busy machine), and a fingerprint of the
//! report (timings left out), which must not change when only the speed does.

use reparti_algos::election::ChangRoberts;
use reparti_core::{IdAssignment, TopologyKind};
use reparti_sim::{NetworkModel, SimConfig, Simulation};
use std::hash::{Hash, Hasher};

fn main() {
    let mut sizes = Vec::new();
    let mut delay = "uniform:1,10".to_string();
    let mut seed = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--delay" => delay = args.next().expect("--delay D"),
            "--seed" => seed = args.next().expect("--seed S").parse().expect("a seed"),
            n => sizes.push(n.parse::<usize>().expect("a ring size")),
        }
    }
    if sizes.is_empty() {
        sizes = vec![100_000, 1_000_000];
    }
    for n in sizes {
        let cfg = SimConfig {
            nodes: Some(n),
            topology: Some(TopologyKind::Ring),
            ids: IdAssignment::Random,
            seed,
            network: NetworkModel { delay: delay.parse().expect("a delay"), fifo: true, ..NetworkModel::default() },
            ..SimConfig::default()
        };
        let sim = Simulation::<ChangRoberts>::new(&cfg).expect("the run starts");
        let cpu = cpu_seconds();
        let (r, _) = sim.run_to_end().expect("the run ends");
        let cpu = cpu_seconds() - cpu;
        let mut json = serde_json::to_value(&r).expect("a report serializes");
        for timing in ["wall_seconds", "events_per_sec"] {
            json.as_object_mut().map(|o| o.remove(timing));
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        json.to_string().hash(&mut h);
        println!(
            "chang-roberts n={n} delay {delay} seed {seed}: {} deliveries in {:.3} s = {:.2} M deliveries/s \
             (CPU {:.3} s = {:.2} M/s); peak RSS {} MB; properties {}; report {:016x}",
            r.messages.delivered,
            r.wall_seconds,
            r.messages.delivered as f64 / r.wall_seconds / 1e6,
            cpu,
            r.messages.delivered as f64 / cpu / 1e6,
            peak_rss_kb() / 1024,
            if r.all_good() { "hold" } else { "VIOLATED" },
            h.finish()
        );
    }
}

/// The CPU time this thread has run, from the scheduler's statistics (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace().next().and_then(|ns| ns.parse::<f64>().ok()).unwrap_or(f64::NAN) / 1e9
}

/// The peak resident memory of the process so far, in kB (Linux).
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()).unwrap_or(0)
}

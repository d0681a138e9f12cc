//! What the simulator tests of every algorithm share.

#[allow(dead_code)] // only the shared-memory tests use it
pub mod memory;
#[allow(dead_code)] // only the mutual-exclusion tests use it
pub mod mutex;

use reparti_core::{Algorithm, IdAssignment};
use reparti_sim::{simulate, Delay, NetworkModel, Report, SimConfig, Stop};

/// Constant, uniform and exponential delays, each with FIFO and non-FIFO channels.
#[allow(dead_code)] // not every test binary uses both helpers
pub fn networks() -> Vec<NetworkModel> {
    networks_over([Delay::Const { value: 1.0 }, Delay::Uniform { min: 0.1, max: 5.0 }, Delay::Exp { mean: 2.0 }])
}

/// The given delays, each with FIFO and non-FIFO channels.
#[allow(dead_code)] // not every test binary uses both helpers
pub fn networks_over(delays: [Delay; 3]) -> Vec<NetworkModel> {
    let mut v = Vec::new();
    for delay in delays {
        for fifo in [true, false] {
            v.push(NetworkModel { fifo, delay, ..NetworkModel::default() });
        }
    }
    v
}

/// A run of `n` nodes with the given identities, seed, network and `--param` pairs.
#[allow(dead_code)] // not every test binary uses every helper
pub fn config(n: usize, seed: u64, ids: IdAssignment, network: &NetworkModel, params: &[(&str, &str)]) -> SimConfig {
    SimConfig {
        nodes: Some(n),
        ids,
        seed,
        network: network.clone(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..SimConfig::default()
    }
}

/// Simulates `A` to the end; a run that cannot start fails the test, saying why.
#[allow(dead_code)] // not every test binary uses every helper
pub fn run<A: Algorithm>(cfg: &SimConfig) -> Report {
    match simulate::<A>(cfg) {
        Ok(r) => r,
        Err(e) => panic!("the run does not start: {e}"),
    }
}

/// Quiescence, every named property held, every asserted expectation met.
#[allow(dead_code)]
pub fn assert_good(r: &Report, properties: &[&str], ctx: &str) {
    assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
    for p in properties {
        assert!(r.holds(p), "{ctx}: {p}: {:?}", r.property(p));
    }
    assert!(r.all_good(), "{ctx}: {:?}", r.expected);
}

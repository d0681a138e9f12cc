//! What the simulator tests of every algorithm share.

use reparti_core::IdAssignment;
use reparti_sim::{Delay, NetworkModel, SimConfig};

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

//! What the simulator tests of every algorithm share.

use reparti_sim::{Delay, NetworkModel};

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

//! Independent graph helpers shared by the topology tests, and the trace header the
//! trace tests write and read.
#![allow(dead_code)] // each test binary uses a different subset

use reparti_core::{NodeId, Topology};

/// Every node's out-neighbours, as listed by iteration.
pub fn lists(t: &Topology) -> Vec<Vec<u32>> {
    (0..t.len() as u32).map(|a| t.neighbours(NodeId(a)).into_iter().map(|b| b.0).collect()).collect()
}

/// Whether every node is reached from node 0 by a breadth-first search over `adj`.
pub fn bfs_reaches_all(adj: &[Vec<u32>]) -> bool {
    let n = adj.len();
    if n == 0 {
        return true;
    }
    let mut seen = vec![false; n];
    let mut queue = std::collections::VecDeque::from([0usize]);
    seen[0] = true;
    while let Some(a) = queue.pop_front() {
        for &b in &adj[a] {
            if !seen[b as usize] {
                seen[b as usize] = true;
                queue.push_back(b as usize);
            }
        }
    }
    seen.into_iter().all(|s| s)
}

/// Strong connectivity: node 0 reaches everyone, and everyone reaches node 0.
pub fn my_strongly_connected(adj: &[Vec<u32>]) -> bool {
    let mut rev = vec![Vec::new(); adj.len()];
    for (a, l) in adj.iter().enumerate() {
        for &b in l {
            rev[b as usize].push(a as u32);
        }
    }
    bfs_reaches_all(adj) && bfs_reaches_all(&rev)
}

/// A trace header of a 3-node Chang–Roberts simulation.
pub fn trace_header() -> reparti_core::trace::TraceHeader {
    use reparti_core::trace::{TraceHeader, TRACE_VERSION};
    TraceHeader {
        trace: "reparti".into(),
        version: TRACE_VERSION,
        engine: "sim".into(),
        algorithm: "chang-roberts".into(),
        params: std::collections::BTreeMap::from([("initiators".to_string(), "all".to_string())]),
        seed: 1,
        topology: "ring".into(),
        nodes: 3,
        idents: vec![2, 3, 1],
        network: serde_json::json!({"model": {"fifo": true, "delay": {"kind": "const", "value": 1.0}, "loss": 0.0}, "faults": []}),
        clocks: reparti_core::ClockMode::LamportAndVector,
        message_types: vec!["ELECT".into(), "ELECTED".into()],
        control_types: Vec::new(),
        spans: Vec::new(),
        ports: Vec::new(),
        physical_clocks: Vec::new(),
    }
}

//! `reparti eval … --per ret --since call`: the shared-memory protocols compared per
//! client operation, each against what its own formula predicts for the workload.

mod common;

use common::reparti;
use serde_json::Value;

const PROTOCOLS: [&str; 3] = ["single-copy", "tob-sequencer", "tob-lamport"];

#[test]
fn the_protocols_cost_per_operation_what_their_formulas_say() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let json = dir.path().join("memory.json");
    let out = reparti()
        .arg("eval")
        .args(PROTOCOLS)
        .args(["--nodes", "3,4", "--runs", "2", "--per", "ret", "--since", "call", "-o"])
        .arg(&json)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("written")).expect("JSON");
    for algorithm in PROTOCOLS {
        let curves = c["curves"].as_array().expect("curves");
        let curve = curves.iter().find(|k| k["algorithm"] == algorithm).expect("a curve per protocol");
        for (m, n) in curve["sizes"].as_array().expect("sizes").iter().zip([3.0f64, 4.0]) {
            let what = format!("{algorithm} n={n}");
            // Every node is a client, three operations each (the default workload).
            assert_eq!(m["units"].as_f64(), Some(3.0 * n), "{what}");
            assert!(m["wait"]["mean"].as_f64().expect("a wait") > 0.0, "{what}");
            let per_op = m["per_unit"]["mean"].as_f64().expect("per operation");
            let expected = match algorithm {
                // One register, at node 0: the other clients' operations are remote, 2 each.
                "single-copy" => 2.0 * (n - 1.0) / n,
                // n per broadcast, n − 1 for the sequencer's own; every operation is one.
                "tob-sequencer" => (n * n - 1.0) / n,
                // n(n − 1) per broadcast: the update to the n − 1 others, each of whom
                // acknowledges it to the n − 1 others.
                _ => n * (n - 1.0),
            };
            assert!((per_op - expected).abs() < 1e-9, "{what}: {per_op} messages per operation, expected {expected}");
        }
    }
}

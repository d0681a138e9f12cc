//! `reparti run producer-consumer` (TP5) on real processes: UDP and TCP, plaintext and
//! encrypted, and with loss under the reliable layer; the merged run is judged like a
//! simulation (every property, every exact count), and no process is left behind.
//! Bad parameters and topologies are one line with exit 2.

mod common;

use common::{assert_ran_on, free_peers, key_file, links, reparti, run_report, usage_error, Console};
use serde_json::Value;

/// Every property and every judged count holds, at quiescence.
fn assert_all_hold(report: &Value, what: &str) {
    assert_eq!(report["stop"], "quiescence", "{what}");
    let properties = report["properties"].as_array().expect("properties");
    assert_eq!(properties.len(), 7, "{what}: six invariants and the terminal property");
    for p in properties {
        assert_eq!(p["holds"], true, "{what}: {} does not hold: {}", p["name"], p["detail"]);
    }
    let expected = report["expected"].as_object().expect("expected counts");
    for key in ["DATA", "ACK", "FULL", "RESUME", "TOKEN", "total"] {
        assert_eq!(expected[key]["holds"], true, "{what}: the expected count {key} is {}", expected[key]);
    }
}

/// The counts of the default workload (n nodes, N = 3, Q = 2, 4 items per producer):
/// revolutions ⌈4/2⌉ + 1 = 3; each busy revolution writes 2m items, FULL ⌊2m/3⌋ times.
fn assert_default_counts(report: &Value, n: u64, what: &str) {
    let m = n - 1;
    let fulls = 2 * (2 * m / 3);
    let sent = |kind: &str| report["messages"]["by_type"][kind].as_u64();
    assert_eq!(sent("DATA"), Some(4 * m), "{what}: {}", report["messages"]);
    assert_eq!(sent("FULL"), Some(fulls), "{what}");
    assert_eq!(sent("ACK"), Some(4 * m - fulls), "{what}");
    assert_eq!(sent("RESUME"), Some(fulls), "{what}");
    assert_eq!(sent("TOKEN"), Some(3 * n), "{what}");
    let consumed = report["outputs"]["consumed"].as_object().expect("consumed outputs");
    assert_eq!(consumed.len() as u64, 4 * m, "{what}: every item consumed");
    assert!(consumed.values().all(|c| c.as_u64() == Some(1)), "{what}: each exactly once");
}

#[test]
fn four_processes_over_udp_and_tcp_plain_and_encrypted() {
    let (_dir, key) = key_file();
    for link in links(&key).into_iter().filter(|link| !link.lossy) {
        let what = format!("producer-consumer {:?}", link.args);
        let report = run_report("producer-consumer", 4, &[], &link.args);
        assert_all_hold(&report, &what);
        assert_default_counts(&report, 4, &what);
        assert_ran_on(&report, &link, &what);
    }
}

#[test]
fn eight_processes_with_loss_under_the_reliable_layer() {
    for transport in ["udp", "tcp"] {
        let mut extra = vec!["--transport", transport, "--loss", "0.2", "--dup", "0.1"];
        if transport == "udp" {
            extra.push("--reorder");
        }
        let what = format!("producer-consumer n=8 {extra:?}");
        let report = run_report("producer-consumer", 8, &[], &extra);
        assert_all_hold(&report, &what);
        assert_default_counts(&report, 8, &what);
        let nodes = report["real"]["nodes"].as_array().expect("per-node summaries");
        let injected: u64 = nodes.iter().filter_map(|n| n["transport"]["injected_drops"].as_u64()).sum();
        assert!(injected > 0, "{what}: loss was injected");
    }
}

#[test]
fn bad_parameters_and_topologies_are_one_line_with_exit_2() {
    for (args, names) in [
        (&["-p", "buffer=0"][..], "buffer"),
        (&["-p", "quota=0"][..], "quota"),
        (&["-p", "items=-1"][..], "items"),
        (&["-p", "idle_laps=0"][..], "idle_laps"),
        (&["-p", "suspend=maybe"][..], "suspend"),
        (&["--topology", "ring"][..], "complete"),
    ] {
        for command in ["sim", "check"] {
            let mut full = vec![command, "producer-consumer", "--nodes", "3"];
            full.extend_from_slice(args);
            let stderr = usage_error(&full);
            assert_eq!(stderr.trim_end().lines().count(), 1, "{full:?}: {stderr}");
            assert!(stderr.contains(names), "{full:?}: {stderr}");
        }
    }
}

#[test]
fn eval_measures_the_costs_against_their_formulas() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let file = dir.path().join("pc.json");
    let out = reparti()
        .args(["eval", "producer-consumer", "--nodes", "2..16", "--runs", "3", "-o"])
        .arg(&file)
        .output()
        .expect("reparti runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).expect("the table is written");
    let table: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(table["all_good"], true, "{text}");
    let sizes = table["sizes"].as_array().expect("sizes");
    assert_eq!(sizes.len(), 4, "2, 4, 8, 16");
    for size in sizes {
        let n = size["n"].as_u64().expect("n");
        let mean = |kind: &str| size["counts"][kind]["random"]["mean"].as_f64();
        // Defaults: 4 items per producer, N = 3, Q = 2: 3 revolutions, ⌊2m/3⌋ FULL in each busy one.
        let fulls = 2 * (2 * (n - 1) / 3);
        assert_eq!(mean("DATA"), Some((4 * (n - 1)) as f64), "n={n}");
        assert_eq!(mean("FULL"), Some(fulls as f64), "n={n}");
        assert_eq!(mean("TOKEN"), Some((3 * n) as f64), "n={n}");
        for e in size["expected"].as_array().expect("claims") {
            assert_eq!(e["failed"], 0, "n={n}: {e}");
        }
    }
}

#[test]
fn the_console_produces_an_item_and_wakes_the_resting_token() {
    let peers = free_peers(2);
    let mut consumer = Console::start("producer-consumer", 0, &peers, &["items=0"]);
    let mut producer = Console::start("producer-consumer", 1, &peers, &["items=0"]);
    // No item at the start: after one idle revolution the token rests at the consumer.
    consumer.wait_for("lap = 1");
    producer.type_line("produce 42");
    producer.wait_for("produced = 42");
    consumer.type_line("wake");
    consumer.wait_for("consumed = 1#0");
    // The revolution after the item's is idle again: the token rests once more.
    consumer.wait_for("lap = 1");
    consumer.type_line("state");
    consumer.wait_for("\"consumed\":[0,1]");
    for c in [&mut consumer, &mut producer] {
        c.type_line("quit");
        c.stdin = None;
        let status = c.child.wait().expect("the node stops");
        assert!(status.success(), "{status}: {}", c.seen.join("\n"));
    }
}

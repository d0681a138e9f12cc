//! The model checker judges histories: linearizability decided at every return (so a
//! broken protocol's counterexample is the shortest history that shows it), other
//! history properties in every final state, and the counterexample's history agreeing
//! with `reparti lin` and with the simulator's replay.

mod common;

use common::{caught_and_replayed, json_of, reparti};
use serde_json::Value;

fn verdict<'a>(report: &'a Value, name: &str) -> &'a Value {
    let props = report["properties"].as_array().expect("properties");
    props.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no verdict for {name}: {report}"))
}

const LINEARIZABLE: &str = "the history is linearizable";

#[test]
fn an_early_ack_gives_the_shortest_non_linearizable_history() {
    // Client 1 writes (answered at once), client 2 reads from the home before the
    // write arrives: four steps, the fewest that can show it over FIFO channels.
    let args = ["check", "single-copy", "-n", "3", "-p", "fault=early-ack", "--network", "fifo", "--json"];
    let out = reparti().args(args).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(1), "a violation exits 1");
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let lin = verdict(&report, LINEARIZABLE);
    assert_eq!((lin["kind"].as_str(), lin["holds"].as_bool()), (Some("history"), Some(false)), "{lin}");
    let why = lin["note"].as_str().unwrap_or_default();
    assert!(why.contains("read 0 returned ok nil") && why.contains("no order"), "{why}");
    assert_eq!(report["counterexample"]["property"], LINEARIZABLE);
    assert_eq!(report["counterexample"]["steps"].as_array().map(Vec::len), Some(4), "{}", report["counterexample"]);
}

#[test]
fn the_counterexample_history_is_refused_by_reparti_lin_and_replayed_by_the_simulator() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let history = dir.path().join("history.jsonl");
    let out = reparti()
        .args(["check", "single-copy", "-n", "3", "-p", "fault=early-ack", "--network", "fifo", "--history"])
        .arg(&history)
        .output()
        .expect("reparti runs");
    assert_eq!(out.status.code(), Some(1));
    // Two independent deciders, Lowe's call-by-call one in the checker and Wing–Gong–
    // Lowe's search in `reparti lin`, agree.
    let lin = reparti().arg("lin").arg(&history).output().expect("reparti runs");
    let said = String::from_utf8_lossy(&lin.stdout);
    assert_eq!(lin.status.code(), Some(1), "{said}");
    assert!(said.contains("NOT linearizable"), "{said}");
    caught_and_replayed(
        &["single-copy", "-n", "3", "-p", "fault=early-ack", "--network", "fifo"],
        &["counterexample: the history is linearizable", "returned ok nil"],
        LINEARIZABLE,
    );
}

#[test]
fn a_correct_protocol_is_linearizable_in_every_reachable_state() {
    let report = json_of(&["check", "single-copy", "-n", "3", "-p", "ops=2", "--network", "fifo", "--json"]);
    assert_eq!(report["complete"], true, "{report}");
    let lin = verdict(&report, LINEARIZABLE);
    assert_eq!(lin["holds"], true, "{lin}");
    assert!(lin["note"].as_str().is_some_and(|n| n.contains("reachable states")), "{lin}");
    // Ivy's central manager too, with its coherence invariants beside the history.
    let ivy = json_of(&["check", "ivy", "-n", "3", "-p", "ops=2", "--json"]);
    assert!(ivy["properties"].as_array().is_some_and(|ps| ps.iter().all(|p| p["holds"] == true)), "{ivy}");
}

#[test]
fn sequential_consistency_is_judged_on_every_final_history() {
    // Local reads are only sequentially consistent: judged on whole histories at the
    // end of every path, since it is not decided call by call.
    let args = ["check", "tob-sequencer", "-n", "3", "-p", "ops=1", "-p", "read=local", "--json"];
    let report = json_of(&args);
    let sc = verdict(&report, "the history is sequentially consistent");
    assert_eq!(sc["holds"], true, "{sc}");
    assert_eq!(sc["note"], "in every final state reachable");
    assert_eq!(report["partial_order_reduction"]["applied"], false, "{report}");
}

#[test]
fn memory_by_mutual_exclusion_is_linearizable_and_its_local_reads_are_caught() {
    // Each operation in Ricart–Agrawala's critical section: every property, the
    // algorithm's mutual exclusion included, in every reachable state.
    let base = ["check", "ricart-agrawala+memory", "-n", "3", "-p", "ops=1", "--seed", "2"];
    let report = json_of(&[&base[..], &["--json"]].concat());
    assert_eq!(report["complete"], true, "{report}");
    assert!(report["properties"].as_array().is_some_and(|ps| ps.iter().all(|p| p["holds"] == true)), "{report}");
    assert!(verdict(&report, "mutual exclusion: at most one node in the critical section")["holds"] == true);
    // Local reads: a write's UPDATE has reached one reader and not the other, who reads
    // after the first was answered. Eight steps: two REQUESTs and their REPLYs, the
    // UPDATE to the first reader, the two reads.
    let out = reparti().args([&base[..], &["-p", "read=local", "--json"]].concat()).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(1), "a violation exits 1");
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let lin = verdict(&report, LINEARIZABLE);
    assert_eq!(lin["holds"], false, "{lin}");
    assert!(lin["note"].as_str().is_some_and(|n| n.contains("returned ok nil")), "{lin}");
    assert_eq!(report["counterexample"]["steps"].as_array().map(Vec::len), Some(8), "{}", report["counterexample"]);
}

#[test]
fn memory_is_offered_over_the_listed_mutual_exclusion_algorithms_only() {
    let err = common::usage_error(&["sim", "token-ring-mutex+memory"]);
    assert!(err.contains("offered over lamport-mutex, ricart-agrawala"), "{err}");
    assert!(err.contains("not over 'token-ring-mutex'"), "{err}");
    let err = common::usage_error(&["sim", "memory"]);
    assert!(err.contains("APP+memory"), "{err}");
}

#[test]
fn a_scenario_writes_its_history_too() {
    let dir = tempfile::tempdir().expect("scratch folder");
    for (command, scenario) in [("sim", "memory-stale-read.toml"), ("check", "check-memory-local-reads.toml")] {
        let history = dir.path().join(format!("{command}.jsonl"));
        let path = format!("{}/../../scenarios/{scenario}", env!("CARGO_MANIFEST_DIR"));
        let out = reparti().args([command, &path, "--history"]).arg(&history).output().expect("reparti runs");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        let lin = reparti().arg("lin").arg(&history).output().expect("reparti runs");
        assert_eq!(lin.status.code(), Some(1), "{command}: {}", String::from_utf8_lossy(&lin.stdout));
        let sc = reparti().arg("lin").arg(&history).args(["--consistency", "sequential"]).output().expect("runs");
        assert_eq!(sc.status.code(), Some(0), "{command}: {}", String::from_utf8_lossy(&sc.stdout));
    }
}

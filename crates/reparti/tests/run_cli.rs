//! `reparti run`: whole clusters of real processes, their merged runs checked like
//! simulations, and no process left behind — on success, timeout, a node's crash or
//! Ctrl-C.
//!
//! Each run keeps its nodes' files in a fresh folder (`--keep`); the folder's path is on
//! every node's command line, so scanning `/proc/*/cmdline` for it finds any node
//! process still alive, whatever other tests run at the same time.

mod common;

use common::{
    assert_all_hold, assert_none_left, assert_ran_on, key_file, links, nodes_of, reparti, run_kept, usage_error,
};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `reparti run ALGO --nodes 8 --json` with `extra`, checks the process count and
/// that nothing is left behind, and returns the report.
fn run_json(algorithm: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("scratch folder");
    // A `--keep` among `extra` is used as the folder; otherwise a fresh one.
    let given = extra.iter().position(|a| *a == "--keep").and_then(|i| extra.get(i + 1));
    let keep = given.map_or_else(|| dir.path().join("nodes"), std::path::PathBuf::from);
    let keep_text = keep.display().to_string();
    let mut args = vec!["run", algorithm, "--nodes", "8", "--json", "--timeout", "60"];
    if given.is_none() {
        args.extend(["--keep", &keep_text]);
    }
    args.extend_from_slice(extra);
    let report = run_kept(&args, &keep, 8);
    assert_eq!(report["real"]["addresses"].as_array().map(Vec::len), Some(8));
    report
}

/// The matrix for one algorithm: UDP and TCP, plain and encrypted, with and
/// without 20 % loss plus duplication and reordering; the same verdicts as simulation.
fn matrix(algorithm: &str) {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{algorithm} {:?}", link.args);
        let report = run_json(algorithm, &link.args);
        assert_all_hold(&report, &what);
        assert_ran_on(&report, &link, &what);
        let nodes = report["real"]["nodes"].as_array().expect("per-node summaries");
        let injected: u64 = nodes.iter().filter_map(|n| n["transport"]["injected_drops"].as_u64()).sum();
        let refused: u64 = nodes
            .iter()
            .flat_map(|n| n["dropped"].as_object().into_iter().flat_map(|m| m.values()))
            .filter_map(Value::as_u64)
            .sum();
        assert_eq!(refused, 0, "{what}: no datagram refused between honest nodes");
        if link.lossy {
            assert!(injected > 0, "{what}: loss was injected");
        } else {
            assert_eq!(injected, 0, "{what}");
        }
    }
}

#[test]
fn chang_roberts_on_eight_processes() {
    matrix("chang-roberts");
}

#[test]
fn franklin_on_eight_processes() {
    matrix("franklin");
}

#[test]
fn the_token_ring_on_eight_processes() {
    matrix("token-ring");
}

#[test]
fn the_clocks_workload_on_eight_processes() {
    matrix("logical-clocks");
}

#[test]
fn ricart_agrawala_on_eight_processes() {
    matrix("ricart-agrawala");
}

/// Lamport needs FIFO channels: under loss, duplication and reordering the reliable
/// layer restores their order, and every property and count still holds.
#[test]
fn lamport_mutex_on_eight_processes() {
    matrix("lamport-mutex");
}

#[test]
fn the_merged_trace_replays_and_draws() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let trace = dir.path().join("run.jsonl");
    let picture = dir.path().join("run.html");
    reparti()
        .args(["run", "chang-roberts", "--nodes", "5", "--ids", "desc", "--trace"])
        .arg(&trace)
        .arg("--viz")
        .arg(&picture)
        .assert()
        .success();
    let text = std::fs::read_to_string(&trace).expect("merged trace written");
    assert!(text.lines().next().is_some_and(|h| h.contains("\"engine\":\"run\"")));
    // n(n+1)/2 ELECT sends for descending identities, each with its receive.
    let sends = text.lines().filter(|l| l.contains("\"kind\":\"send\"") && l.contains("\"type\":\"ELECT\"")).count();
    assert_eq!(sends, 15);
    assert!(std::fs::metadata(&picture).is_ok_and(|m| m.len() > 1000), "the space-time diagram is drawn");
    let out = reparti().args(["sim", "--replay"]).arg(&trace).args(["--json"]).output().expect("replay runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let replayed: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(replayed["report"]["messages"]["by_type"]["ELECT"], 15);
}

/// TP7's `Port_elect` is the leader's real port, in the nodes and in the run's report
/// (whose replay tells each node the port it had), not `port_base + position`.
#[test]
fn the_lab_election_reports_the_leaders_real_port() {
    let report = run_json("chang-roberts-lab", &["--ids", "asc"]);
    let ports: Vec<String> = report["real"]["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter_map(|a| a.as_str()?.rsplit(':').next().map(String::from))
        .collect();
    // Ascending identities: the leader is the last node.
    let reported: Vec<&String> = report["outputs"]["leader_port"].as_object().expect("leader_port").keys().collect();
    assert_eq!(reported, vec![&ports[7]], "every node names the leader's real port");
    assert_eq!(report["outputs"]["leader_port"][&ports[7]], 8);
}

/// TP6's rules on real processes: every event of the merged trace of a real run carries
/// the clocks the sheet's rules give, a node's first send is stamped 1 plus its local
/// events (never 3, as when starting and the workload's requests ticked too).
#[test]
fn real_processes_date_every_event_by_the_sheets_rules() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let trace = dir.path().join("run.jsonl");
    reparti()
        .args(["run", "logical-clocks", "--nodes", "4", "--param", "events=5", "--trace"])
        .arg(&trace)
        .assert()
        .success();
    let text = std::fs::read_to_string(&trace).expect("merged trace written");
    let t = reparti_core::trace::read_trace(text.as_bytes()).expect("the merged trace reads back");
    reparti_core::audit_clocks(&t).unwrap_or_else(|e| panic!("the runtime's clocks break the rules: {e}"));
    use reparti_core::trace::EventKind;
    assert!(t.events.iter().any(|e| e.kind == EventKind::Local), "the workload's local events are traced");
    assert!(t.events.iter().all(|e| e.kind != EventKind::Start || e.lamport == 0), "starting leaves the clock at 0");
    for node in 0..4 {
        let mine: Vec<_> = t.events.iter().filter(|e| e.node == node).collect();
        if let Some(k) = mine.iter().position(|e| e.kind == EventKind::Send) {
            if mine[..k].iter().all(|e| e.kind != EventKind::Receive) {
                let locals = mine[..k].iter().filter(|e| e.kind == EventKind::Local).count() as u64;
                assert_eq!(mine[k].lamport, locals + 1, "node {node}'s first send");
            }
        }
    }
}

#[test]
fn without_the_reliable_layer_loss_shows() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let out = reparti()
        .args(["run", "chang-roberts", "--nodes", "8", "--json", "--reliable", "off", "--drop", "0.3", "--seed", "3"])
        .args(["--idle-ms", "300", "--keep"])
        .arg(&keep)
        .output()
        .expect("reparti runs");
    assert_none_left(&keep, "a lossy run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints one document");
    // Loss breaks Chang–Roberts: the run says so (exit 1) instead of failing to end.
    let broken = report["properties"].as_array().expect("properties").iter().any(|p| p["holds"] == false);
    assert_eq!(out.status.code(), Some(if broken { 1 } else { 0 }));
    let dropped = report["messages"]["dropped"].as_u64().expect("dropped count");
    assert!(dropped > 0, "lost messages appear as drops in the merged run");
    // Counts are not judged when messages were lost.
    assert!(report["expected"].as_object().expect("expected").values().all(|e| e["holds"].is_null()));
}

/// Starts a run that would last long, waits until its nodes are up, and returns it.
fn long_run(keep: &Path, extra: &[&str]) -> std::process::Child {
    let child = Command::new(assert_cmd::cargo::cargo_bin("reparti"))
        .args(["run", "token-ring", "--nodes", "4", "--param", "laps=100000000", "--keep"])
        .arg(keep)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn reparti run");
    let deadline = Instant::now() + Duration::from_secs(20);
    while nodes_of(keep).len() < 4 {
        assert!(Instant::now() < deadline, "the nodes did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn a_timeout_stops_every_node_and_says_so() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let out = reparti()
        .args(["run", "token-ring", "--nodes", "4", "--param", "laps=100000000", "--timeout", "1", "--keep"])
        .arg(&keep)
        .output()
        .expect("reparti runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("timed out") && stderr.lines().count() == 1, "{stderr}");
    assert_none_left(&keep, "after a timeout");
}

#[test]
fn a_crashed_node_stops_the_run_and_the_others() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let mut run = long_run(&keep, &[]);
    let victim = nodes_of(&keep)[0];
    Command::new("kill").args(["-9", &victim.to_string()]).status().expect("kill");
    let status = run.wait().expect("reparti run ends");
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut run.stderr.take().expect("stderr"), &mut stderr).expect("read");
    assert!(stderr.contains("failed"), "{stderr}");
    assert_none_left(&keep, "after a node crashed");
}

#[test]
fn ctrl_c_leaves_no_node_behind() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let mut run = long_run(&keep, &[]);
    // SIGINT to the supervisor alone (as from `kill -INT`, the harder case: a terminal's
    // Ctrl-C reaches the whole process group).
    Command::new("kill").args(["-INT", &run.id().to_string()]).status().expect("kill");
    let _ = run.wait();
    assert_none_left(&keep, "after Ctrl-C");
}

#[test]
fn bad_flags_are_one_line_errors() {
    let e = usage_error(&["run", "chang-robert"]);
    assert!(e.contains("did you mean 'chang-roberts'"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--transport", "sctp"]);
    assert!(e.contains("udp") && e.contains("tcp"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--loss", "1.5"]);
    assert!(e.contains("loss probability 1.5"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--loss", "-0.1"]);
    assert!(e.contains("loss probability -0.1"), "a negative value is the flag's to refuse: {e}");
    // The spelling `run` used to have is still read.
    let e = usage_error(&["run", "chang-roberts", "--drop", "1.5"]);
    assert!(e.contains("loss probability 1.5"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--delay", "9..3"]);
    assert!(e.contains("delay"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--delay", "uniform:9ms,3ms"]);
    assert!(e.contains("swap them"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--key-file", "/nonexistent/key"]);
    assert!(e.contains("/nonexistent/key"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--reliable", "maybe"]);
    assert!(e.contains("on or off"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--param", "nope=1"]);
    assert!(e.contains("nope"), "{e}");
    let e = usage_error(&["run", "chang-roberts", "--nodes", "0"]);
    assert!(e.contains("at least 1"), "{e}");
}

#[test]
fn node_traces_merge_by_hand_into_the_same_run() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let report = run_json("ricart-agrawala", &["--keep", &keep.display().to_string()]);
    let traces: Vec<String> = (0..8).map(|i| keep.join(format!("node-{i}.jsonl")).display().to_string()).collect();
    let mut args = vec!["merge", "--json"];
    args.extend(traces.iter().rev().map(String::as_str));
    let merged = common::json_of(&args);
    assert_eq!(merged["messages"], report["messages"], "merging by hand gives the run `reparti run` reported");
    assert_eq!(merged["outputs"], report["outputs"]);
    // A node's trace missing, or one from another run, is a one-line error.
    let e = usage_error(&["merge", &traces[0], &traces[1]]);
    assert!(e.contains("no trace for node"), "{e}");
}

#[test]
fn binary_wire_refuses_messages_it_cannot_read_back() {
    let out = reparti().args(["run", "chang-roberts-lab", "--nodes", "3", "--wire", "binary"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--wire json") && stderr.lines().count() == 1, "{stderr}");
    let report = run_json("chang-roberts", &["--wire", "binary"]);
    assert_all_hold(&report, "binary wire");
}

fn scenario(name: &str) -> String {
    format!("{}/../../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn scenario_files_run_on_real_processes_and_meet_their_expectations() {
    for name in ["election-chang-roberts-worst.toml", "communication-token-loss.toml", "tp6-logical-clocks.toml"] {
        let out = reparti().args(["run", &scenario(name), "--json"]).output().expect("runs");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(report["expectations_met"], true, "{name}: {}", report["expectations"]);
        assert_eq!(report["run"]["real"]["processes"].as_u64().map(|n| n > 1), Some(true));
    }
    // What only a simulator can do is refused in one line.
    let e = usage_error(&["run", &scenario("election-chang-roberts-crash.toml")]);
    assert!(e.contains("can only be simulated") && e.contains("reparti sim"), "{e}");
}

//! `reparti check` end to end: the JSON and human reports, a counterexample written as a
//! trace and replayed by `reparti sim --replay`, and every usage error on one line.
//! A check cut short (state or time limit, memory budget, Ctrl-C, depth bound, random
//! walks) proves nothing: it says why, marks no property ✓ and exits 3, unless it found
//! a violation (exit 1).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{json_of, reparti, usage_error};

fn one_line(stderr: &str, args: &[&str]) {
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: not one line:\n{stderr}");
}

#[test]
fn json_report_has_every_documented_field() {
    let r = json_of(&["check", "chang-roberts", "--nodes", "4", "--json", "--no-progress"]);
    for field in ["unique_states", "states", "max_depth", "seconds", "states_per_sec", "bytes_per_state"] {
        assert!(r[field].is_number(), "{field} is not a number: {}", r[field]);
    }
    assert_eq!(r["complete"], true);
    assert_eq!(r["stop"], "exhausted");
    assert!(r["cut_short"].is_null(), "a complete search is not cut short: {}", r["cut_short"]);
    assert!(r["memory_budget_bytes"].as_u64() > Some(0) && r["memory_peak_bytes"].as_u64() > Some(0), "{r}");
    assert_eq!(r["algorithm"], "chang-roberts");
    assert_eq!(r["idents"], serde_json::json!([4, 3, 2, 1]), "descending identities by default");
    assert_eq!(r["network"], "unordered");
    // Counted independently in reparti-check's exact_counts tests.
    assert_eq!(r["unique_states"], 216);
    assert!(r["states"].as_u64() >= r["unique_states"].as_u64());
    assert_eq!(r["max_depth"], 14, "ELECT hops (4+3+2+1) and 4 ELECTED");
    assert!(r["counterexample"].is_null());
    let props = r["properties"].as_array().expect("a list of properties");
    assert!(props.len() >= 5, "{props:?}");
    for p in props {
        assert!(p["name"].is_string(), "{p}");
        assert_eq!(p["holds"], true, "{p}");
    }
    let names: Vec<&str> = props.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"at most one leader") && names.contains(&"no deadlock"), "{names:?}");
}

#[test]
fn human_report_shows_ticks() {
    let out = reparti().args(["check", "chang-roberts", "--nodes", "4"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✓ at most one leader"), "{text}");
    assert!(!text.contains('✗'), "{text}");
    assert!(text.contains("explored 216 unique states") && text.contains("the whole reachable space"), "{text}");
    assert!(text.contains("verdict: all properties hold"), "{text}");
}

#[test]
fn strategies_limits_and_reductions_from_the_command_line() {
    let dfs = json_of(&["check", "chang-roberts", "--nodes", "4", "--strategy", "dfs", "--json"]);
    assert_eq!((dfs["strategy"].as_str(), dfs["unique_states"].as_u64()), (Some("dfs"), Some(216)));
    let two = json_of(&["check", "chang-roberts", "--nodes", "4", "--threads", "2", "--wide", "--json"]);
    assert_eq!((two["threads"].as_u64(), two["fingerprint_bits"].as_u64()), (Some(2), Some(128)));
    assert_eq!(two["unique_states"], 216);
    let cut = json_of_status(&["check", "chang-roberts", "--nodes", "5", "--max-states", "50", "--json"], 3);
    assert_eq!((cut["complete"].as_bool(), cut["stop"].as_str()), (Some(false), Some("max_states")));
    let por = json_of(&[
        "check",
        "chang-roberts",
        "--nodes",
        "6",
        "--network",
        "fifo",
        "--por",
        "--compare-reductions",
        "--json",
    ]);
    let reduced = por["unique_states"].as_u64().expect("a count");
    let unreduced = por["partial_order_reduction"]["unreduced_states"].as_u64().expect("measured");
    assert_eq!(por["partial_order_reduction"]["applied"], true);
    assert!(unreduced >= 10 * reduced, "{unreduced} vs {reduced}");
}

#[test]
fn a_counterexample_is_printed_written_and_replayed() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let f = dir.path().join("franklin.jsonl");
    let fs = f.to_str().expect("utf-8 path");
    let out = reparti()
        .args(["check", "franklin", "--nodes", "3", "--ids", "3,1,2", "--param", "fixed=false", "--trace", fs])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a violation exits 1: {text}");
    assert!(text.contains("✗ exactly one leader, the maximum identity"), "{text}");
    assert!(text.contains("counterexample: exactly one leader, the maximum identity — no leader"), "{text}");
    assert!(text.contains("  1. deliver "), "numbered steps: {text}");
    // In the algorithm's words, as a teacher writes them: fields, not Rust debug dumps,
    // and a step shows only the fields that changed.
    assert!(text.contains("node 0: ident=3 leader=0 ") && text.contains("round=1 role=active"), "{text}");
    assert!(text.contains("deliver ID(round=1, id=1, dir=left) from 1 to 0"), "{text}");
    assert!(text.contains("node 0: got.ids [0, 0] → [0, 1], got.present [false, false] → [false, true]"), "{text}");
    assert!(!text.contains("Node {") && !text.contains("Sides {") && !text.contains("Some("), "{text}");
    assert!(text.contains("on a bidirectional ring of 3 nodes") && text.contains("1 thread\n"), "{text}");
    assert!(text.contains(&format!("counterexample trace written to {fs}")), "{text}");
    assert!(text.contains("SOMETHING FAILED"), "{text}");
    assert!(Path::new(&f).is_file(), "the trace file was not written");
    let first = std::fs::read_to_string(&f).expect("readable");
    let header: Value = serde_json::from_str(first.lines().next().expect("a header")).expect("JSON header");
    assert_eq!((header["engine"].as_str(), header["algorithm"].as_str()), (Some("check"), Some("franklin")));

    let out = reparti().args(["sim", "--replay", fs]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("reached the same violation"), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    // The replay describes the network the counterexample was found on, not its own.
    assert!(text.contains("network: unordered channels") && !text.contains("network: FIFO"), "{text}");
    assert_eq!(out.status.code(), Some(1), "the replayed run violates a property: {text}");
    let r = json_of_status(&["sim", "--replay", fs, "--json"], 1);
    assert_eq!(r["same_violation"], true);
    assert!(r["expected_violation"].as_str().is_some_and(|v| v.starts_with("exactly one leader")), "{r}");
}

fn json_of_status(args: &[&str], code: i32) -> Value {
    let out = reparti().args(args).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document")
}

#[test]
fn usage_errors_exit_2_on_one_line() {
    let args = ["check", "chang-robert"];
    let err = usage_error(&args);
    assert!(err.contains("unknown algorithm 'chang-robert'") && err.contains("chang-roberts"), "{err}");
    one_line(&err, &args);

    let args = ["check", "chang-roberts", "--nodes", "100"];
    let err = usage_error(&args);
    assert!(err.contains("far too many"), "{err}");
    one_line(&err, &args);

    for (args, says) in [
        (&["check", "chang-roberts", "--param", "nonsense=1"][..], "no parameter 'nonsense'"),
        (&["check", "chang-roberts", "--param", "noequals"], "NAME=VALUE"),
        (&["check", "franklin", "--nodes", "3", "--param", "fixed=maybe"], "fixed"),
        (&["check", "chang-roberts", "--ids", "1,1,2", "--nodes", "3"], "repeats identity 1"),
        (&["check", "chang-roberts", "--topology", "complete"], "does not run on the topology 'complete'"),
        (&["check", "chang-roberts", "--nodes", "0"], "at least 1"),
    ] {
        let err = usage_error(args);
        assert!(err.contains(says), "{args:?}: {err}");
        one_line(&err, args);
    }

    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("missing.jsonl");
    let garbage = dir.path().join("garbage.jsonl");
    std::fs::write(&garbage, "this is not a trace\n").expect("writable");
    for (path, says) in [(&missing, "cannot open the trace"), (&garbage, "not a reparti trace")] {
        let args = ["sim", "--replay", path.to_str().expect("utf-8")];
        let err = usage_error(&args);
        assert!(err.contains(says), "{err}");
        one_line(&err, &args);
    }
}

#[test]
fn an_unknown_network_is_refused_on_one_line() {
    // The README: "2 when the command line was wrong (with a one-line message saying how
    // to fix it)".
    let args = ["check", "chang-roberts", "--network", "bogus"];
    let err = usage_error(&args);
    assert!(err.contains("bogus") && err.contains("fifo"), "{err}");
    one_line(&err, &args);
}

/// The exit status of a search cut short with no violation found.
const INCOMPLETE: i32 = 3;

/// Runs a check that must be cut short: exit 3, the reason in the status and verdict
/// lines, no property ✓, no "all properties hold". Returns stdout and stderr.
fn cut_short(args: &[&str], reason: &str) -> (String, String) {
    let out = reparti().args(args).output().expect("reparti runs");
    let (text, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(INCOMPLETE), "{args:?}: {text}\n{err}");
    assert!(text.contains(&format!("cut short ({reason}")), "{args:?}: {text}");
    assert!(text.contains("verdict: no violation found in "), "{args:?}: {text}");
    assert!(text.contains(&format!("the search was cut short (reason: {reason}")), "{args:?}: {text}");
    assert!(!text.contains('✓') && !text.contains('✗'), "{args:?}: a partial search marked a verdict: {text}");
    assert!(!text.contains("all properties hold") && text.contains("not established"), "{args:?}: {text}");
    (text.to_string(), err.to_string())
}

#[test]
fn a_state_or_time_limit_proves_nothing_and_exits_3() {
    cut_short(&["check", "token-ring", "--max-states", "0"], "state limit of 0 states");
    cut_short(&["check", "token-ring", "--max-seconds", "0"], "time limit of 0 s");
    cut_short(&["check", "chang-roberts", "--nodes", "5", "--max-depth", "3"], "depth limit of 3");
    cut_short(&["check", "chang-roberts", "--strategy", "random", "--walks", "5"], "random walks");
    let r = json_of_status(&["check", "token-ring", "--max-states", "0", "--json"], INCOMPLETE);
    assert_eq!((r["complete"].as_bool(), r["stop"].as_str()), (Some(false), Some("max_states")));
    assert_eq!(r["cut_short"], "state limit of 0 states");
    assert!(r["properties"].as_array().is_some_and(|ps| ps.iter().all(|p| p["holds"].is_null())), "{r}");
}

#[test]
fn a_memory_budget_stops_the_check_with_a_partial_report() {
    // 8 nodes of Chang–Roberts: 1.3 million states in full; 2 MiB holds a few thousand.
    let args = ["check", "chang-roberts", "--nodes", "8", "--max-memory", "2M"];
    let (text, err) = cut_short(&args, "memory budget of 2.0 MiB reached");
    assert!(text.contains("of a budget of 2.0 MiB"), "{text}");
    assert!(text.contains("raise --max-memory"), "the verdict says how to go further: {text}");
    // A large instance says its budget before it starts, in one line.
    let said: Vec<&str> = err.lines().filter(|l| l.contains("memory budget")).collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(said[0].contains("8 nodes is a large instance") && said[0].contains("2.0 MiB (set with --max-memory)"));

    let r = json_of_status(&["check", "chang-roberts", "--nodes", "8", "--max-memory", "2M", "--json"], INCOMPLETE);
    assert_eq!((r["complete"].as_bool(), r["stop"].as_str()), (Some(false), Some("memory")));
    assert_eq!(r["memory_budget_bytes"], 2 << 20);
    assert!(r["memory_peak_bytes"].as_u64().is_some_and(|p| p > 0 && p <= 2 << 20), "{r}");
    // A small instance with the default budget says nothing about it.
    let out = reparti().args(["check", "chang-roberts", "--nodes", "4"]).output().expect("runs");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("memory budget"));
}

#[test]
fn a_bad_memory_size_is_refused_on_one_line() {
    for (size, says) in [("12Q", "512M or 4G"), ("0", "no room"), ("lots", "512M or 4G")] {
        let args = ["check", "chang-roberts", "--max-memory", size];
        let err = usage_error(&args);
        assert!(err.contains("--max-memory") && err.contains(says), "{args:?}: {err}");
        one_line(&err, &args);
    }
}

#[test]
fn a_violation_found_by_a_partial_search_still_exits_1() {
    let args = ["check", "franklin", "--nodes", "3", "--ids", "3,1,2", "--param", "fixed=false"];
    let r = json_of_status(&[&args[..], &["--strategy", "random", "--walks", "3000", "--json"]].concat(), 1);
    assert_eq!((r["complete"].as_bool(), r["stop"].as_str()), (Some(false), Some("violation")));
    assert!(r["cut_short"].is_null() && !r["counterexample"].is_null(), "{r}");
}

#[test]
fn a_scenario_cut_by_the_memory_budget_exits_3_even_with_its_expectations_met() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let f = dir.path().join("big.toml");
    std::fs::write(&f, "algorithm = \"chang-roberts\"\n[topology]\nnodes = 8\nids = \"desc\"\n[check]\n")
        .expect("writable");
    let out = reparti().args(["check", f.to_str().expect("utf-8"), "--max-memory", "1M"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(INCOMPLETE), "{text}");
    assert!(text.contains("memory budget of 1.0 MiB reached"), "{text}");
}

/// Kills and reaps the child if the test fails before it exits.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_prints_the_partial_report_and_exits_3() {
    // Chang–Roberts on 12 nodes runs for minutes: only the interrupt ends it here (the
    // budget is a guard should the signal be lost, not the expected ending).
    let child = Command::new(env!("CARGO_BIN_EXE_reparti"))
        .args(["check", "chang-roberts", "--nodes", "12", "--max-memory", "512M", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reparti starts");
    let mut child = Reaped(child);
    let mut stderr = BufReader::new(child.0.stderr.take().expect("piped stderr"));
    // The first line (the large instance's budget) comes after the handler is installed.
    let mut first = String::new();
    stderr.read_line(&mut first).expect("reads stderr");
    assert!(first.contains("large instance"), "{first}");
    let pid = child.0.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    assert!(sent.success());
    // Bounded: a lost signal fails the test instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("waits") {
            break status;
        }
        assert!(Instant::now() < deadline, "reparti check did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().expect("piped stdout"), &mut text).expect("reads");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("reads");
    assert_eq!(status.code(), Some(INCOMPLETE), "{text}\n{rest}");
    assert!(rest.contains("interrupted: finishing the partial report"), "{rest}");
    assert!(text.contains("cut short (interrupted)"), "{text}");
    assert!(text.contains("the search was cut short (reason: interrupted)"), "{text}");
    assert!(!text.contains('✓') && text.contains("not established"), "{text}");
}

//! `reparti check` end to end: the JSON and human reports, a counterexample written as a
//! trace and replayed by `reparti sim --replay`, and every usage error on one line.

use serde_json::Value;
use std::path::Path;

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
    let cut = json_of(&["check", "chang-roberts", "--nodes", "5", "--max-states", "50", "--json"]);
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
        .args(["check", "franklin", "--nodes", "3", "--ids", "3,1,2", "--param", "fixed=false", "--trace-out", fs])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a violation exits 1: {text}");
    assert!(text.contains("✗ exactly one leader, the maximum identity"), "{text}");
    assert!(text.contains("counterexample: exactly one leader, the maximum identity — no leader"), "{text}");
    assert!(text.contains("  1. deliver "), "numbered steps: {text}");
    assert!(text.contains(&format!("counterexample trace written to {fs}")), "{text}");
    assert!(text.contains("SOMETHING FAILED"), "{text}");
    assert!(Path::new(&f).is_file(), "the trace file was not written");
    let first = std::fs::read_to_string(&f).expect("readable");
    let header: Value = serde_json::from_str(first.lines().next().expect("a header")).expect("JSON header");
    assert_eq!((header["engine"].as_str(), header["algorithm"].as_str()), (Some("check"), Some("franklin")));

    let out = reparti().args(["sim", "--replay", fs]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("reached the same violation"), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
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
        (&["check", "chang-roberts", "--topology", "complete"], "does not run on a complete"),
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

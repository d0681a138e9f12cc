//! `credit-flow` and `credit-ring` on real processes: `reparti run` over UDP and TCP,
//! plaintext and encrypted, with and without injected loss, duplication and reordering
//! under the reliable layer; every property and expected count judged on the merged
//! run, and no process left behind. Then their bad inputs: one line, exit 2.

mod common;

use common::{key_file, links, reparti, run_report, usage_error};
use serde_json::Value;

/// Every property and every judged count holds, at quiescence; returns the count of
/// messages of `kind` sent.
fn assert_all_hold(report: &Value, what: &str) {
    assert_eq!(report["stop"], "quiescence", "{what}");
    let properties = report["properties"].as_array().expect("properties");
    assert!(properties.len() >= 4, "{what}: {properties:?}");
    for p in properties {
        assert_eq!(p["holds"], true, "{what}: {} does not hold: {}", p["name"], p["detail"]);
    }
    let expected = report["expected"].as_object().expect("expected counts");
    for (count, e) in expected {
        if e["kind"] != "reference" {
            assert_eq!(e["holds"], true, "{what}: the expected count {count} is {e}");
        }
    }
}

fn sent(report: &Value, kind: &str) -> u64 {
    report["messages"]["by_type"][kind].as_u64().unwrap_or_else(|| panic!("no count of {kind}: {}", report["messages"]))
}

/// UDP and TCP, plain and encrypted, clean and lossy: the same verdicts as simulation.
fn matrix(algorithm: &str, params: &[&str], check_counts: impl Fn(&Value, &str)) {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{algorithm} {params:?} {:?}", link.args);
        let report = run_report(algorithm, 8, params, &link.args);
        assert_all_hold(&report, &what);
        assert_eq!(report["real"]["transport"], link.transport, "{what}");
        assert_eq!(report["real"]["encrypted"], link.encrypted, "{what}");
        check_counts(&report, &what);
    }
}

#[test]
fn credit_flow_on_eight_processes() {
    // 7 producers share N = 14 slots (2 each), 5 items each, credits in batches of 2:
    // 35 DATA, 7·⌊5/2⌋ = 14 CREDIT.
    matrix("credit-flow", &["buffer=14", "batch=2", "items=5"], |r, what| {
        assert_eq!(sent(r, "DATA"), 35, "{what}");
        assert_eq!(sent(r, "CREDIT"), 14, "{what}");
    });
}

#[test]
fn credit_ring_on_eight_processes() {
    // 7 producers, N = 14 (cap 2), 4 items each: 28 DATA, 8 TOKEN hops per lap.
    matrix("credit-ring", &["buffer=14", "items=4"], |r, what| {
        assert_eq!(sent(r, "DATA"), 28, "{what}");
        let token = sent(r, "TOKEN");
        assert!(token > 0 && token.is_multiple_of(8) && token <= 8 * 29, "{what}: {token} TOKEN");
    });
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    for (algorithm, args) in [
        ("credit-flow", vec!["-p", "buffer=0"]),
        ("credit-flow", vec!["-p", "batch=0"]),
        ("credit-flow", vec!["-p", "items=-1"]),
        ("credit-flow", vec!["-p", "fixed=maybe"]),
        ("credit-flow", vec!["--topology", "ring"]),
        ("credit-ring", vec!["-p", "buffer=0"]),
        ("credit-ring", vec!["-p", "cap=-2"]),
        ("credit-ring", vec!["-p", "items=100001"]),
        ("credit-ring", vec!["--topology", "ring"]),
    ] {
        for command in ["sim", "check"] {
            let mut full = vec![command, algorithm];
            full.extend(args.iter().copied());
            let stderr = usage_error(&full);
            assert_eq!(stderr.trim().lines().count(), 1, "{full:?}: {stderr}");
        }
    }
    // Fewer slots than producers: refused before anything starts, in every engine,
    // rather than a run in which some producer can never send.
    for algorithm in ["credit-flow", "credit-ring"] {
        for command in ["sim", "check", "run"] {
            let e = usage_error(&[command, algorithm, "--nodes", "8", "-p", "buffer=4"]);
            assert!(e.contains("buffer=4 gives 7 producers fewer slots than one each: give -p buffer=7"), "{e}");
        }
    }
}

#[test]
fn eval_measures_both_against_their_formulas() {
    let dir = tempfile::tempdir().expect("scratch folder");
    for (algorithm, params) in
        [("credit-flow", ["-p", "buffer=32", "-p", "batch=3"]), ("credit-ring", ["-p", "buffer=32", "-p", "cap=0"])]
    {
        let svg = dir.path().join(format!("{algorithm}.svg"));
        let out = reparti()
            .args(["eval", algorithm, "--nodes", "2..16", "--runs", "3"])
            .args(params)
            .arg("-o")
            .arg(&svg)
            .output()
            .expect("reparti runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{algorithm}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("every property and every asserted count held in all runs"), "{algorithm}: {stdout}");
        let picture = std::fs::read_to_string(&svg).expect("the plot is written");
        assert!(picture.starts_with("<svg") || picture.contains("<svg"), "{algorithm}: not an SVG");
    }
}

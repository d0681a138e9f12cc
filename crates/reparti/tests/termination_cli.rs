//! Termination detection from the command line: the four detectors over the diffusing
//! computation in the simulator (every property, SIGNAL = ACK = WORK = work − 1), every
//! interleaving of small instances in the checker, the classic mistakes caught as false
//! announcements and replayed (Safra without the counter test, EWD840 without
//! blackening, Misra on channels that reorder), the four on real processes over lossy
//! UDP under the reliable layer, bad input refused in one line.

mod common;

use common::{
    assert_all_hold, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, json_of, reparti, run_report,
    scenario_meets, sent, usage_error,
};

const SAFE: &str = "announce ⇒ terminated (all passive, no basic message in transit)";

#[test]
fn sim_runs_the_four_detectors_with_their_counts() {
    for (name, topology, control) in [
        ("diffusing+dijkstra-scholten", "complete", Some("SIGNAL")),
        ("diffusing+ewd840", "complete", Some("ACK")),
        ("diffusing+safra", "complete", None),
        ("diffusing+misra", "ring", None),
    ] {
        let args = ["sim", name, "--nodes", "5", "-t", topology, "-p", "work=12", "--delay", "uniform:0.5,3", "--json"];
        let r = json_of(&args);
        assert_all_hold(&r, name);
        assert_eq!(sent(&r, "WORK"), 11, "{name}: work − 1");
        if let Some(kind) = control {
            assert_eq!(sent(&r, kind), 11, "{name}: one {kind} per basic message");
        }
        assert_eq!(r["outputs"]["announce"]["1"], 1, "{name}: one announcement");
    }
}

#[test]
fn the_checker_proves_the_detectors_on_small_instances() {
    for (args, states) in [
        (&["diffusing+dijkstra-scholten", "--nodes", "3", "-p", "work=4"][..], 82),
        (&["diffusing+ewd840", "--nodes", "3", "-p", "work=4"], 186),
        (&["diffusing+misra", "--nodes", "3", "-p", "work=4"], 37),
    ] {
        let r = json_of(&[&["check"][..], args, &["--ids", "asc", "--json"]].concat());
        assert_eq!(r["complete"], true, "{args:?}");
        assert!(r["counterexample"].is_null(), "{args:?}: {}", r["counterexample"]);
        for p in r["properties"].as_array().expect("properties") {
            assert_eq!(p["holds"], true, "{args:?}: {p}");
        }
        assert_eq!(r["unique_states"], states, "{args:?}");
        eprintln!("{args:?}: {} unique states", r["unique_states"]);
    }
    assert_eq!(json_of(&["check", "diffusing+misra", "--nodes", "3", "--json"])["network"], "fifo");
}

/// Safra's token may lap the ring while a WORK message is on its way; the checker's
/// liveness assumes fair channels, so that lap is not a failure: every verdict holds.
#[test]
fn the_checker_proves_safra_live_under_fair_channels() {
    let out = reparti()
        .args(["check", "diffusing+safra", "--nodes", "3", "--ids", "asc", "-p", "work=3"])
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for line in
        [SAFE, "Inv: P0", "termination announced", "eventually a correct end (AG EF done)", "every run terminates"]
    {
        let found = stdout.lines().find(|l| l.contains(line)).unwrap_or_else(|| panic!("{line}: {stdout}"));
        assert!(found.trim_start().starts_with('✓'), "{found}");
    }
}

#[test]
fn safra_without_the_counter_test_is_caught_and_replayed() {
    let args = ["diffusing+safra", "--nodes", "3", "--ids", "asc", "-p", "work=3", "-p", "fault=no-counter-test"];
    caught_and_replayed(&args, &["node 0 announced termination, but"], SAFE);
}

#[test]
fn ewd840_without_blackening_is_caught_and_replayed() {
    let p = ["-p", "work=3", "-p", "fanout=1", "-p", "seed=12", "-p", "fault=no-blacken"];
    let args = [&["diffusing+ewd840", "--nodes", "3", "--ids", "asc"][..], &p].concat();
    caught_and_replayed(&args, &["Inv: "], "Inv: ");
}

#[test]
fn misra_on_channels_that_reorder_is_caught_and_replayed() {
    let args = ["diffusing+misra", "--nodes", "3", "--ids", "asc", "-p", "work=3", "--network", "unordered"];
    caught_and_replayed(&args, &["announced termination, but"], SAFE);
}

#[test]
fn the_four_detectors_run_on_real_processes_over_lossy_udp() {
    for (name, topology) in [
        ("diffusing+dijkstra-scholten", "complete"),
        ("diffusing+safra", "complete"),
        ("diffusing+ewd840", "complete"),
        ("diffusing+misra", "ring"),
    ] {
        let r = run_report(
            name,
            4,
            &["work=10", "period=0.2"],
            &["-t", topology, "--transport", "udp", "--loss", "0.2", "--dup", "0.1", "--reorder"],
        );
        assert_all_hold(&r, &format!("{name} on 4 processes, lossy UDP"));
        assert_eq!(sent(&r, "WORK"), 9, "{name}");
        assert_eq!(r["outputs"]["announce"]["1"], 1, "{name}: one announcement");
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "diffusing+safra",
        &[&["-p", "work=0"], &["-p", "fanout=x"], &["-p", "fault=nope"], &["--nodes", "1"], &["-t", "star"]],
    );
    bad_inputs_are_one_line_and_exit_2("diffusing+misra", &[&["-t", "complete"], &["-p", "period=-1"]]);
    bad_inputs_are_one_line_and_exit_2("diffusing+dijkstra-scholten", &[&["-t", "ring"]]);
    let stderr = usage_error(&["sim", "bank+safra"]);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn its_scenarios_meet_their_expectations() {
    scenario_meets("sim", "observation-termination-safra.toml", 10);
    scenario_meets("sim", "observation-termination-dijkstra-scholten.toml", 10);
}

#[test]
fn eval_measures_the_detectors_against_the_computation_s_count() {
    for name in ["diffusing+safra", "diffusing+dijkstra-scholten"] {
        let plot = common::eval_plot(&[name, "--nodes", "4,8", "--runs", "2", "-p", "work=16"], &["WORK", "total"]);
        assert!(plot.contains("WORK"), "{name}");
    }
}

/// A detector, its topology, its control messages counted after true termination, and
/// the bound: its formula and its value at n.
type DelayCase = (&'static str, &'static str, &'static str, &'static str, fn(u64) -> u64);

const DELAYS: [DelayCase; 4] = [
    ("diffusing+dijkstra-scholten", "complete", "SIGNAL", "n − 1 (depth of the tree)", |n| n - 1),
    ("diffusing+ewd840", "complete", "TOKEN", "3n", |n| 3 * n),
    ("diffusing+safra", "complete", "TOKEN", "3n", |n| 3 * n),
    ("diffusing+misra", "ring", "MARKER", "2|C| = 2n", |n| 2 * n),
];

/// From a `--trace` file: the `kind` messages sent after the last `passive` output and
/// before the first `announce`, and the time between them — read independently of the
/// simulator's own count.
fn delay_in_trace(trace: &str, kind: &str) -> (u64, f64) {
    let events: Vec<serde_json::Value> =
        trace.lines().skip(1).map(|l| serde_json::from_str(l).expect("one JSON event a line")).collect();
    let output = |e: &&serde_json::Value, key: &str| e["kind"] == "output" && e["key"] == key;
    let done = events.iter().rev().find(|e| output(e, "passive")).expect("a last passive");
    let announce = events.iter().find(|e| output(e, "announce")).expect("an announcement");
    let index = |e: &serde_json::Value| e["i"].as_u64().expect("an event index");
    let sent = events
        .iter()
        .filter(|e| e["kind"] == "send" && e["type"] == kind)
        .filter(|e| index(e) > index(done) && index(e) < index(announce))
        .count() as u64;
    let time = |e: &serde_json::Value| e["t"].as_f64().expect("a time");
    (sent, time(announce) - time(done))
}

#[test]
fn sim_reports_the_detection_delay_after_true_termination_against_its_bound() {
    let dir = tempfile::tempdir().expect("scratch folder");
    for (name, topology, kind, formula, bound) in DELAYS {
        let key = format!("after:passive→announce:{kind}");
        for seed in 1..=4u64 {
            let n = 3 + seed;
            let trace = dir.path().join(format!("{name}-{seed}.jsonl"));
            let (nodes, s) = (n.to_string(), seed.to_string());
            let args = [
                "sim",
                name,
                "--nodes",
                &nodes,
                "-t",
                topology,
                "-p",
                "work=20",
                "--delay",
                "uniform:0.5,3",
                "--seed",
                &s,
            ];
            let what = format!("{name} n={n} seed {seed}");
            let r = json_of(&[&args[..], &["--json", "--trace"], &[trace.to_str().expect("a UTF-8 path")]].concat());
            assert_all_hold(&r, &what);
            let e = &r["expected"][&key];
            assert_eq!(e["kind"], "at_most", "{what}: {e}");
            assert_eq!(e["formula"], formula, "{what}");
            assert_eq!(e["value"].as_f64(), Some(bound(n) as f64), "{what}");
            let (measured, elapsed) = (e["measured"].as_u64(), e["elapsed"].as_f64().expect("the time elapsed"));
            let (in_trace, time) = delay_in_trace(&std::fs::read_to_string(&trace).expect("the trace"), kind);
            assert_eq!(measured, Some(in_trace), "{what}: the simulator's count is the trace's");
            assert!((elapsed - time).abs() < 1e-9 && elapsed >= 0.0, "{what}: {elapsed} vs {time}");
            // The human summary says it on one line, judged.
            let out = reparti().args(args).output().expect("reparti runs");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = stdout.lines().find(|l| l.contains(&key)).unwrap_or_else(|| panic!("{what}: {stdout}"));
            assert!(line.contains(&format!("✓ {formula} ≤ {}", bound(n))) && line.contains("time units"), "{line}");
        }
    }
}

#[test]
fn eval_shows_the_detection_delay_of_the_four_against_their_bounds() {
    for (name, _, kind, formula, bound) in DELAYS {
        let key = format!("after:passive→announce:{kind}");
        let args = [name, "--nodes", "3,5", "--runs", "3", "--delay", "uniform:0.5,3", "-p", "work=12"];
        let claims = [format!("✓ {formula} ≤ {}", bound(3)), format!("✓ {formula} ≤ {}", bound(5))];
        let plot = common::eval_plot(&args, &[&key, "after:passive→announce:time", &claims[0], &claims[1]]);
        assert!(plot.contains("up to the first"), "{name}: the delay plotted");
        assert!(plot.contains(&format!("{key} ≤ {formula}")), "{name}: the bound drawn");
    }
}

//! `ntp` from the command line: `reparti sim` with every property held, an asymmetric
//! path (`--link-delay`) leaving the client (forward − backward)/2 off, the checker's
//! one-line refusal, bad inputs (one line, exit 2), its scenario, `reparti eval`
//! against its message formula, and real processes on loopback.

mod common;

use common::{
    bad_inputs_are_one_line_and_exit_2, eval_plot, eval_precision, json_of, reparti, scenario_meets, sent, usage_error,
};
use serde_json::Value;

fn assert_holds(r: &Value, what: &str) {
    assert_eq!(r["stop"], "quiescence", "{what}");
    for p in r["properties"].as_array().expect("properties") {
        assert_eq!(p["holds"], true, "{what}: {p}");
    }
    for (count, e) in r["expected"].as_object().expect("expected counts") {
        assert_eq!(e["holds"], true, "{what}: {count}");
    }
}

#[test]
fn sim_holds_every_property_and_sends_two_messages_per_sample() {
    for args in [
        &[][..],
        &["--nodes", "6", "--delay", "exp:2", "-p", "correction=step"],
        &["--topology", "complete", "--delay", "uniform:0.5,4", "-p", "hold=3"],
    ] {
        let mut full = vec!["sim", "ntp", "--json"];
        full.extend_from_slice(args);
        let r = json_of(&full);
        assert_holds(&r, &format!("{args:?}"));
        let n = r["nodes"].as_u64().expect("nodes");
        assert_eq!((sent(&r, "REQUEST"), sent(&r, "REPLY")), (8 * (n - 1), 8 * (n - 1)), "{args:?}");
    }
}

#[test]
fn an_asymmetric_path_leaves_the_client_half_the_difference_ahead() {
    let r = json_of(&["sim", "ntp", "--nodes", "2", "--clock-drift", "0", "--link-delay", "1>0=const:9", "--json"]);
    assert_holds(&r, "asymmetric");
    let offsets = r["physical_clocks"]["offsets"].as_array().expect("offsets");
    let (server, client) = (offsets[0].as_f64().expect("a number"), offsets[1].as_f64().expect("a number"));
    assert!((client - server - (9.0 - 1.0) / 2.0).abs() < 1e-6, "{offsets:?}");
}

#[test]
fn the_checker_refuses_it_in_one_line_naming_sim_and_run() {
    let stderr = usage_error(&["check", "ntp"]);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    for word in ["physical clock", "reparti sim ntp", "reparti run ntp"] {
        assert!(stderr.contains(word), "«{word}» not in: {stderr}");
    }
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "ntp",
        &[
            &["-p", "samples=0"],
            &["-p", "period=x"],
            &["-p", "hold=-1"],
            &["-p", "correction=jump"],
            &["-p", "filter=4"],
            &["--topology", "ring"],
            &["--topology", "grid"],
            &["--link-delay", "1>9=const:1"],
        ],
    );
}

#[test]
fn the_scenario_meets_its_expectations() {
    scenario_meets("sim", "time-ntp.toml", 10);
}

#[test]
fn eval_measures_it_against_its_formulas() {
    eval_plot(&["ntp", "--nodes", "2..10", "--runs", "3"], &["REQUEST", "REPLY", "total", "2·samples·(n−1)"]);
}

#[test]
fn on_real_processes_every_client_takes_its_samples() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let trace = dir.path().join("run.jsonl");
    let trace_text = trace.display().to_string();
    let out = reparti()
        .args([
            "run",
            "ntp",
            "--nodes",
            "3",
            "--clock-offset",
            "uniform:-200,200",
            "--timeout",
            "60",
            "--trace",
            &trace_text,
        ])
        .output()
        .expect("reparti runs");
    // NTP's bound uses no minimum delay: the replay judges it as it is.
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&trace).expect("the merged trace is written");
    assert_eq!(text.matches("\"kind\":\"send\"").count(), 2 * 8 * 2, "8 samples per client, 2 messages each");
    assert_eq!(text.matches("\"key\":\"synchronized\"").count(), 2, "every client finished");
}

#[test]
fn eval_measures_the_precision_reached_as_jitter_grows_within_the_bound_it_claims() {
    let rows = eval_precision("ntp", "jitter=0.5,8", "3");
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let reached = row["precision_max"].as_f64().expect("a figure");
        let claimed = row["bound_max"].as_f64().expect("the clients claim δ/2");
        // Two clients each within δ/2 of the server: within twice that of each other.
        assert!(reached <= 2.0 * claimed, "{row}");
    }
    let worst: Vec<f64> = rows.iter().map(|r| r["precision_max"].as_f64().expect("a figure")).collect();
    assert!(worst[0] < worst[1], "more jitter, looser precision: {worst:?}");
}

//! `carvalho-roucairol` from the command line: on real processes (`reparti run`, UDP and
//! TCP, plaintext and encrypted, clean and with 20 % loss under the reliable layer),
//! every property and bound judged on the merged run and no process left behind; its
//! bad inputs (one line, exit 2); the broken variant caught by the checker and replayed;
//! `reparti eval` against the bound; the scenario drawn by `reparti viz`.

mod common;

use common::{
    assert_all_hold, assert_judged, assert_ran_on, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, eval_plot,
    key_file, links, reparti, run_report, sent,
};
use serde_json::Value;

const NODES: u64 = 5;

#[test]
fn on_five_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        let r = run_report("carvalho-roucairol", NODES as usize, &[], &link.args);
        assert_all_hold(&r, &what);
        assert_judged(&r, &what, 5, 3);
        assert_ran_on(&r, &link, &what);
        assert_eq!(r["real"]["reliable"], true, "{what}: the loss is under the reliable layer");
        // Whatever the real timing: 2 entries per node, one REPLY per REQUEST,
        // at most 2(n−1) messages per entry.
        let cs: u64 =
            r["outputs"]["enter_cs"].as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0);
        assert_eq!(cs, 2 * NODES, "{what}");
        assert_eq!(sent(&r, "REPLY"), sent(&r, "REQUEST"), "{what}");
        assert!(sent(&r, "REQUEST") <= (NODES - 1) * cs, "{what}");
        if link.lossy {
            let nodes = r["real"]["nodes"].as_array().expect("per-node summaries");
            let injected: u64 = nodes.iter().filter_map(|n| n["transport"]["injected_drops"].as_u64()).sum();
            assert!(injected > 0, "{what}: loss was injected");
        }
    }
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "carvalho-roucairol",
        &[
            &["-p", "requests=-1"],
            &["-p", "requests=100001"],
            &["-p", "cs_time=1000001"],
            &["-p", "cs_time=x"],
            &["-p", "fixed=maybe"],
            &["-p", "permissions=all"],
            &["--topology", "ring"],
        ],
    );
}

/// The broken variant from the command line: the checker's shortest run, replayed.
#[test]
fn the_broken_variant_is_caught_and_replayed_from_the_command_line() {
    caught_and_replayed(
        &["carvalho-roucairol", "--nodes", "3", "--ids", "asc", "-p", "requests=1", "-p", "fixed=false"],
        // A 13-step counterexample.
        &["counterexample: every request was served", "\n  13. "],
        "every request was served",
    );
}

#[test]
fn eval_measures_it_against_its_bound() {
    let picture = eval_plot(&["carvalho-roucairol", "--nodes", "2..16", "--runs", "3"], &["2(n−1)·#CS"]);
    assert!(picture.contains("REQUEST ≤ (n−1)·#CS"), "not the bound's plot");
}

#[test]
fn the_scenario_runs_and_draws() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scenario = root.join("scenarios/mutex-carvalho-roucairol.toml");
    let dir = tempfile::tempdir().expect("scratch folder");
    let (trace, svg) = (dir.path().join("cr.jsonl"), dir.path().join("cr.svg"));
    let out = reparti().arg("sim").arg(&scenario).arg("--trace").arg(&trace).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("scenario: all 13 expectations met"), "{stdout}");
    reparti().arg("viz").arg(&trace).arg("-o").arg(&svg).assert().success();
    let picture = std::fs::read_to_string(&svg).expect("the picture is written");
    assert!(picture.contains("<svg") && picture.contains("REQUEST"), "not the run's picture");
}

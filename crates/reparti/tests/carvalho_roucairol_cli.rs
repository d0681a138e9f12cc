//! `carvalho-roucairol` from the command line: on real processes (`reparti run`, UDP and
//! TCP, plaintext and encrypted, clean and with 20 % loss under the reliable layer),
//! every property and bound judged on the merged run and no process left behind; its
//! bad inputs (one line, exit 2); the broken variant caught by the checker and replayed;
//! `reparti eval` against the bound; the scenario drawn by `reparti viz`.

mod common;

use common::{assert_none_left, reparti, usage_error};
use serde_json::Value;

const NODES: u64 = 5;

/// `reparti run carvalho-roucairol --nodes 5 --json` with `extra`: succeeded with 5
/// processes, none left behind.
fn run_json(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let keep_text = keep.display().to_string();
    let nodes = NODES.to_string();
    let mut args =
        vec!["run", "carvalho-roucairol", "--nodes", &nodes, "--json", "--timeout", "60", "--keep", &keep_text];
    args.extend_from_slice(extra);
    let out = reparti().args(&args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    assert_none_left(&keep, &format!("{args:?}"));
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints one document");
    assert_eq!(report["real"]["processes"], NODES);
    report
}

fn sent(report: &Value, kind: &str) -> u64 {
    report["messages"]["by_type"][kind].as_u64().unwrap_or(0)
}

#[test]
fn on_five_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let key = dir.path().join("key");
    reparti().args(["keygen", "-o"]).arg(&key).assert().success();
    let key = key.display().to_string();
    for transport in ["udp", "tcp"] {
        for encrypted in [false, true] {
            for lossy in [false, true] {
                let mut extra = vec!["--transport", transport];
                if encrypted {
                    extra.extend(["--key-file", &key]);
                }
                if lossy {
                    extra.extend(["--loss", "0.2"]);
                }
                let what = format!("{extra:?}");
                let r = run_json(&extra);
                assert_eq!(r["stop"], "quiescence", "{what}");
                let properties = r["properties"].as_array().expect("properties");
                assert_eq!(properties.len(), 5, "{what}: {properties:?}");
                for p in properties {
                    assert_eq!(p["holds"], true, "{what}: {} does not hold: {}", p["name"], p["detail"]);
                }
                let expected = r["expected"].as_object().expect("expected counts");
                assert_eq!(expected.len(), 3, "{what}");
                for (count, e) in expected {
                    assert_eq!(e["holds"], true, "{what}: the bound on {count} is {e}");
                }
                assert_eq!(r["real"]["transport"], transport, "{what}");
                assert_eq!(r["real"]["encrypted"], encrypted, "{what}");
                assert_eq!(r["real"]["reliable"], true, "{what}: the loss is under the reliable layer");
                // Whatever the real timing: 2 entries per node, one REPLY per REQUEST,
                // at most 2(n−1) messages per entry.
                let cs: u64 = r["outputs"]["enter_cs"]
                    .as_object()
                    .map(|m| m.values().filter_map(Value::as_u64).sum())
                    .unwrap_or(0);
                assert_eq!(cs, 2 * NODES, "{what}");
                assert_eq!(sent(&r, "REPLY"), sent(&r, "REQUEST"), "{what}");
                assert!(sent(&r, "REQUEST") <= (NODES - 1) * cs, "{what}");
                if lossy {
                    let nodes = r["real"]["nodes"].as_array().expect("per-node summaries");
                    let injected: u64 = nodes.iter().filter_map(|n| n["transport"]["injected_drops"].as_u64()).sum();
                    assert!(injected > 0, "{what}: loss was injected");
                }
            }
        }
    }
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    for args in [
        vec!["-p", "requests=-1"],
        vec!["-p", "requests=100001"],
        vec!["-p", "cs_time=1000001"],
        vec!["-p", "cs_time=x"],
        vec!["-p", "fixed=maybe"],
        vec!["-p", "permissions=all"],
        vec!["--topology", "ring"],
    ] {
        for command in ["sim", "check", "run"] {
            let mut full = vec![command, "carvalho-roucairol"];
            full.extend(args.iter().copied());
            let stderr = usage_error(&full);
            assert_eq!(stderr.trim().lines().count(), 1, "{full:?}: {stderr}");
        }
    }
}

/// The broken variant from the command line: the checker's shortest run, replayed.
#[test]
fn the_broken_variant_is_caught_and_replayed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let cx = dir.path().join("cx.jsonl");
    let out = reparti()
        .args(["check", "carvalho-roucairol", "--nodes", "3", "--ids", "asc", "-p", "requests=1", "-p", "fixed=false"])
        .arg("--trace")
        .arg(&cx)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("counterexample: every request was served"), "{stdout}");
    assert!(stdout.contains("\n  13. "), "a 13-step counterexample: {stdout}");
    let replay = reparti().args(["sim", "--replay"]).arg(&cx).output().expect("reparti runs");
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{text}");
    assert!(text.contains("every request was served"), "{text}");
}

#[test]
fn eval_measures_it_against_its_bound() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let svg = dir.path().join("cr.svg");
    let out = reparti()
        .args(["eval", "carvalho-roucairol", "--nodes", "2..16", "--runs", "3"])
        .arg("-o")
        .arg(&svg)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
    assert!(stdout.contains("2(n−1)·#CS"), "{stdout}");
    let picture = std::fs::read_to_string(&svg).expect("the plot is written");
    assert!(picture.contains("<svg") && picture.contains("REQUEST ≤ (n−1)·#CS"), "not the bound's plot");
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

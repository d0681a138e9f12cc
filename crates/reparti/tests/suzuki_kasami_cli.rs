//! `suzuki-kasami` on real processes: `reparti run` over UDP and TCP, plaintext and
//! encrypted, with and without injected loss, duplication and reordering under the
//! reliable layer; every property and expected count judged on the merged run, and no
//! process left behind. Then its scenario, its bad inputs (one line, exit 2), its broken
//! release from the command line, and `reparti eval suzuki-kasami`.

mod common;

use common::{assert_none_left, reparti, usage_error};
use serde_json::Value;

/// Runs `reparti run suzuki-kasami --nodes 5 --json` with `extra`; checks that the run
/// succeeded with 5 processes and left none behind.
fn run_json(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let keep_text = keep.display().to_string();
    let mut args = vec!["run", "suzuki-kasami", "--nodes", "5", "--json", "--timeout", "60", "--keep", &keep_text];
    args.extend_from_slice(extra);
    let out = reparti().args(&args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    assert_none_left(&keep, &format!("{args:?}"));
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints one document");
    assert_eq!(report["real"]["processes"], 5);
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
                let mut extra = vec!["--transport", transport, "-p", "requests=3"];
                if encrypted {
                    extra.extend(["--key-file", &key]);
                }
                if lossy {
                    extra.extend(["--loss", "0.2", "--dup", "0.1"]);
                    extra.extend(if transport == "udp" { vec!["--reorder"] } else { vec!["--delay", "exp:1ms"] });
                }
                let what = format!("{extra:?}");
                let r = run_json(&extra);
                assert_eq!(r["stop"], "quiescence", "{what}");
                let properties = r["properties"].as_array().expect("properties");
                assert_eq!(properties.len(), 3, "{what}: {properties:?}");
                for p in properties {
                    assert_eq!(p["holds"], true, "{what}: {} does not hold: {}", p["name"], p["detail"]);
                }
                let expected = r["expected"].as_object().expect("expected counts");
                assert_eq!(expected.len(), 3, "{what}");
                for (count, e) in expected {
                    assert_eq!(e["holds"], true, "{what}: the expected count {count} is {e}");
                }
                assert_eq!(r["real"]["transport"], transport, "{what}");
                assert_eq!(r["real"]["encrypted"], encrypted, "{what}");
                // The derived counts, whatever the real timing was: 15 entries, each
                // moving the token (4 REQUEST + 1 TOKEN) or not at all.
                let tokens = sent(&r, "TOKEN");
                assert!(tokens <= 15, "{what}: TOKEN = {tokens}");
                assert_eq!(sent(&r, "REQUEST"), 4 * tokens, "{what}");
                assert_eq!(r["messages"]["total"], 5 * tokens, "{what}");
            }
        }
    }
}

#[test]
fn the_scenario_meets_its_expectations() {
    let out = reparti()
        .args(["sim", concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/mutex-suzuki-kasami.toml")])
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("scenario: all 11 expectations met"), "{stdout}");
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    for args in [
        vec!["-p", "requests=-1"],
        vec!["-p", "requests=100001"],
        vec!["-p", "cs_time=-1"],
        vec!["-p", "cs_time=x"],
        vec!["-p", "fixed=maybe"],
        vec!["-p", "token_holder=1"],
        vec!["--topology", "ring"],
    ] {
        for command in ["sim", "check", "run"] {
            let mut full = vec![command, "suzuki-kasami"];
            full.extend(args.iter().copied());
            let stderr = usage_error(&full);
            assert_eq!(stderr.trim().lines().count(), 1, "{full:?}: {stderr}");
        }
    }
}

/// The broken release from the command line: the checker's shortest run, replayed.
#[test]
fn the_broken_release_is_caught_and_replayed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let cx = dir.path().join("cx.jsonl");
    let out = reparti()
        .args(["check", "suzuki-kasami", "--nodes", "3", "-p", "requests=1", "-p", "fixed=false"])
        .arg("--trace")
        .arg(&cx)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("counterexample: every request was served — node 2 asked 1 time(s)"), "{stdout}");
    assert!(stdout.contains("14. deliver Token"), "{stdout}");
    let replay = reparti().args(["sim", "--replay"]).arg(&cx).output().expect("reparti runs");
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{text}");
    assert!(text.contains("every request was served"), "{text}");
}

#[test]
fn eval_measures_it_against_its_formulas() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let svg = dir.path().join("suzuki-kasami.svg");
    let out = reparti()
        .args(["eval", "suzuki-kasami", "--nodes", "2..12", "--runs", "3"])
        .arg("-o")
        .arg(&svg)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
    for figure in ["REQUEST", "TOKEN", "total"] {
        assert!(stdout.contains(figure), "{figure}: {stdout}");
    }
    let picture = std::fs::read_to_string(&svg).expect("the plot is written");
    assert!(picture.contains("<svg"), "not an SVG");
}

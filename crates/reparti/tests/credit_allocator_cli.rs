//! `credit-allocator` on real processes: `reparti run` over UDP and TCP, plaintext and
//! encrypted, with and without injected loss, duplication and reordering under the
//! reliable layer; every property and expected count judged on the merged run, and no
//! process left behind. Then its bad inputs (one line, exit 2), its broken variant from
//! the command line, and `reparti eval credit-allocator`.

mod common;

use common::{key_file, links, reparti, run_report, usage_error};
use serde_json::Value;

fn sent(report: &Value, kind: &str) -> u64 {
    report["messages"]["by_type"][kind].as_u64().unwrap_or(0)
}

#[test]
fn on_eight_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let (_dir, key) = key_file();
    // 7 producers, 5 items each, N = 6 slots asked for 3 at a time.
    let params = ["buffer=6", "ask=3", "items=5"];
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        let r = run_report("credit-allocator", 8, &params, &link.args);
        assert_eq!(r["stop"], "quiescence", "{what}");
        let properties = r["properties"].as_array().expect("properties");
        assert_eq!(properties.len(), 4, "{what}: {properties:?}");
        for p in properties {
            assert_eq!(p["holds"], true, "{what}: {} does not hold: {}", p["name"], p["detail"]);
        }
        for (count, e) in r["expected"].as_object().expect("expected counts") {
            if e["kind"] != "reference" {
                assert_eq!(e["holds"], true, "{what}: the expected count {count} is {e}");
            }
        }
        assert_eq!(r["real"]["transport"], link.transport, "{what}");
        assert_eq!(r["real"]["encrypted"], link.encrypted, "{what}");
        // The derived counts, whatever the real timing was.
        assert_eq!(sent(&r, "DATA"), 35, "{what}");
        assert_eq!(sent(&r, "GRANT"), sent(&r, "ASK"), "{what}");
        assert!((14..=35).contains(&sent(&r, "ASK")), "{what}: 7·⌈5/3⌉ ≤ ASK ≤ 35: {}", sent(&r, "ASK"));
    }
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    for args in [
        vec!["-p", "buffer=0"],
        vec!["-p", "ask=0"],
        vec!["-p", "ask=100001"],
        vec!["-p", "items=-1"],
        vec!["-p", "fixed=maybe"],
        vec!["-p", "batch=2"],
        vec!["--topology", "ring"],
    ] {
        for command in ["sim", "check", "run"] {
            let mut full = vec![command, "credit-allocator"];
            full.extend(args.iter().copied());
            let stderr = usage_error(&full);
            assert_eq!(stderr.trim().lines().count(), 1, "{full:?}: {stderr}");
        }
    }
}

/// The broken allocator from the command line: the checker's shortest run, replayed.
#[test]
fn the_broken_allocator_is_caught_and_replayed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let cx = dir.path().join("cx.jsonl");
    let out = reparti()
        .args(["check", "credit-allocator", "--nodes", "3", "-p", "buffer=1", "-p", "items=1", "-p", "fixed=false"])
        .arg("--trace")
        .arg(&cx)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("allocation: |buf| + reserved <= N"), "{stdout}");
    let replay = reparti().args(["sim", "--replay"]).arg(&cx).output().expect("reparti runs");
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{text}");
    assert!(text.contains("allocation"), "{text}");
}

#[test]
fn eval_measures_it_against_its_formulas() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let svg = dir.path().join("allocator.svg");
    let out = reparti()
        .args(["eval", "credit-allocator", "--nodes", "2..16", "--runs", "3", "-p", "buffer=8", "-p", "ask=3"])
        .arg("-o")
        .arg(&svg)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
    for figure in ["ASK", "GRANT", "DATA"] {
        assert!(stdout.contains(figure), "{figure}: {stdout}");
    }
    let picture = std::fs::read_to_string(&svg).expect("the plot is written");
    assert!(picture.contains("<svg"), "not an SVG");
}

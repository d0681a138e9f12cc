//! The FIFO layer from the command line: `NAME+fifo` and `--fifo-layer` name any
//! algorithm run over it, in the simulator, the checker and real processes alike; the
//! checker explores unordered channels for it by default and proves Lamport's mutex
//! correct there, while the bare algorithm is caught; a counterexample of the layered
//! run replays; bad input is one line and exit 2.

use serde_json::Value;
use std::process::Output;

mod common;
use common::{json_of, reparti, usage_error};

fn sent(report: &Value, kind: &str) -> u64 {
    report["messages"]["by_type"][kind].as_u64().unwrap_or(0)
}

fn all_hold(report: &Value) -> bool {
    report["properties"].as_array().is_some_and(|ps| ps.iter().all(|p| p["holds"] == true))
}

fn output_of(args: &[&str]) -> Output {
    reparti().args(args).output().expect("reparti runs")
}

#[test]
fn the_flag_and_the_suffix_name_the_same_layered_run_in_the_simulator() {
    let by_flag =
        json_of(&["sim", "lamport-mutex", "--fifo-layer", "--no-fifo", "--delay", "uniform:1,5", "-n", "5", "--json"]);
    let by_name = json_of(&["sim", "lamport-mutex+fifo", "--no-fifo", "--delay", "uniform:1,5", "-n", "5", "--json"]);
    assert_eq!(by_flag["algorithm"], "lamport-mutex+fifo");
    assert_eq!(by_flag["messages"], by_name["messages"], "one run, two spellings");
    assert!(all_hold(&by_flag), "{:#}", by_flag["properties"]);
    // 5 nodes × 2 requests = 10 entries, each 3(n−1) = 12 messages; the layer adds none.
    for kind in ["REQUEST", "REPLY", "RELEASE"] {
        assert_eq!(sent(&by_flag, kind), 40, "{kind}");
    }
    assert_eq!(sent(&by_flag, "FIFO_ACK"), 0);
    assert_eq!(by_flag["expected"]["REQUEST+REPLY+RELEASE"]["holds"], true, "the application's total, ACKs aside");
    let out = output_of(&["sim", "lamport-mutex+fifo", "--no-fifo", "--delay", "uniform:1,5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !stderr.contains("assumes FIFO"), "no FIFO note under the layer: {stderr}");
}

#[test]
fn the_checker_proves_the_layered_mutex_on_unordered_channels_and_catches_the_bare_one() {
    let layered = json_of(&["check", "lamport-mutex+fifo", "-n", "2", "-p", "requests=1", "--json", "--no-progress"]);
    assert_eq!(layered["network"], "unordered", "the layer needs no FIFO network");
    assert_eq!(layered["complete"], true);
    assert!(all_hold(&layered), "{:#}", layered["properties"]);
    println!("lamport-mutex+fifo n=2: {} states", layered["states"]);

    let bare = output_of(&[
        "check",
        "lamport-mutex",
        "-n",
        "2",
        "--network",
        "unordered",
        "-p",
        "requests=1",
        "--json",
        "--no-progress",
    ]);
    assert_eq!(bare.status.code(), Some(1), "the bare algorithm breaks on unordered channels");
}

#[test]
fn a_window_the_sender_ignores_is_caught_and_its_counterexample_replays() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let cx = dir.path().join("cx.jsonl");
    let cx_arg = cx.to_str().expect("a UTF-8 path");
    let broken = [
        "check",
        "fifo-stream+fifo",
        "-n",
        "2",
        "-p",
        "fifo_window=2",
        "-p",
        "fifo_window_kept=false",
        "--trace",
        cx_arg,
        "--no-progress",
    ];
    let out = output_of(&broken);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("each channel delivers in the order sent"), "{stdout}");
    let replay = output_of(&["sim", "--replay", cx_arg]);
    let replayed = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "the replay shows the same violation: {replayed}");
    assert!(replayed.contains("fifo-stream+fifo"), "{replayed}");

    let kept = json_of(&["check", "fifo-stream+fifo", "-n", "2", "-p", "fifo_window=2", "--json", "--no-progress"]);
    assert!(all_hold(&kept), "{:#}", kept["properties"]);
}

#[test]
fn real_processes_run_the_layer_over_udp_and_tcp_encrypted_or_on_lossy_reordering_links() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let key = dir.path().join("lab.key");
    reparti().args(["keygen", "-o"]).arg(&key).assert().success();
    let key = key.to_str().expect("a UTF-8 path").to_string();
    for (transport, extra) in [
        ("udp", vec!["--reorder", "--loss", "0.2"]),
        ("udp", vec!["--key-file", key.as_str()]),
        ("tcp", vec!["--key-file", key.as_str()]),
    ] {
        let mut args = vec!["run", "lamport-mutex", "--fifo-layer", "--nodes", "4", "--transport", transport, "--json"];
        args.extend(extra);
        let report = json_of(&args);
        assert_eq!(report["algorithm"], "lamport-mutex+fifo", "{transport}");
        assert!(all_hold(&report), "{transport}: {:#}", report["properties"]);
        assert_eq!(sent(&report, "REQUEST"), 24, "{transport}: 4 × 2 entries × 3 requests each");
    }
}

#[test]
fn the_catalogue_lists_the_layer_and_bad_input_is_one_line() {
    let out = output_of(&["list"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("NAME+fifo"), "{listing}");
    assert!(listing.contains("needs FIFO channels (or lamport-mutex+fifo)"), "{listing}");

    let e = usage_error(&["sim", "no-such+fifo"]);
    assert!(e.contains("unknown algorithm 'no-such+fifo'"), "{e}");
    let e = usage_error(&["sim", "lamport-mutex+fifo", "-p", "fifo_window=-1"]);
    assert!(e.contains("fifo_window"), "{e}");
    let e = usage_error(&["check", "scenarios/mutex-lamport.toml", "--fifo-layer"]);
    assert!(e.contains("--fifo-layer applies to an algorithm"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
}

//! Lai–Yang from the command line: `APP+lai-yang` over the bank, the token ring and
//! Chang–Roberts in the simulator on channels that reorder, with logs and with
//! Mattern's counters; every interleaving of small instances in the checker on
//! unordered channels; the red message delivered before recording caught and the
//! counterexample replayed; bad input refused in one line; TAKE and REPORT measured
//! by `eval` over n = 2..8; its scenario; and a bank on real processes over lossy UDP
//! under the reliable layer whose merged run passes the same checks.

mod common;

use common::{
    assert_all_hold, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, eval_plot, json_of, reparti, run_report,
    scenario_meets, sent, usage_error,
};

const CONSISTENT: &str = "snapshot: every node recorded, every report collected, C1 and C2 hold";
const MONEY: &str = "snapshot: the bank's money over recorded local and channel states equals the total";

#[test]
fn sim_snapshots_three_applications_on_reordering_channels() {
    for form in ["logs", "counters"] {
        for (app, n) in [("bank", 6u64), ("token-ring", 5), ("chang-roberts", 7)] {
            let name = format!("{app}+lai-yang");
            let nodes = n.to_string();
            let args = [
                "sim",
                &name,
                "--nodes",
                &nodes,
                "--no-fifo",
                "--delay",
                "exp:2",
                "-p",
                &format!("snapshot_form={form}"),
            ];
            let r = json_of(&[&args[..], &["--json"]].concat());
            let what = format!("{name} {form}");
            assert_all_hold(&r, &what);
            assert_eq!(sent(&r, "TAKE"), n - 1, "{what}: n − 1 from the one initiator");
            assert_eq!(sent(&r, "REPORT"), n - 1, "{what}");
            let names: Vec<&str> =
                r["properties"].as_array().expect("properties").iter().filter_map(|p| p["name"].as_str()).collect();
            assert!(names.contains(&CONSISTENT), "{what}: {names:?}");
            assert_eq!(names.contains(&MONEY), app == "bank", "{what}: the money is checked on the bank only");
        }
    }
}

#[test]
fn the_checker_finds_the_snapshot_consistent_on_unordered_channels() {
    for args in [
        &["bank+lai-yang", "--nodes", "3", "-p", "transfers=1", "-p", "max_amount=2", "-p", "balance=2"][..],
        &["bank+lai-yang", "--nodes", "3", "-p", "transfers=1", "-p", "max_amount=2", "-p", "snapshot_form=counters"],
        &["token-ring+lai-yang", "--nodes", "3", "-p", "laps=1", "-p", "sends=1"],
        &["chang-roberts+lai-yang", "--nodes", "3"],
    ] {
        let mut full = vec!["check"];
        full.extend_from_slice(args);
        full.extend(["--network", "unordered", "--json"]);
        let r = json_of(&full);
        assert_eq!(r["network"], "unordered", "{args:?}");
        assert_eq!(r["complete"], true, "{args:?}: the whole reachable space");
        assert!(r["counterexample"].is_null(), "{args:?}: {}", r["counterexample"]);
        for p in r["properties"].as_array().expect("properties") {
            assert_eq!(p["holds"], true, "{args:?}: {p}");
        }
        eprintln!("{args:?}: {} unique states", r["unique_states"]);
    }
}

#[test]
fn a_red_transfer_delivered_before_recording_is_caught_and_replays() {
    let args = [
        "bank+lai-yang",
        "--nodes",
        "2",
        "-p",
        "transfers=1",
        "-p",
        "max_amount=2",
        "-p",
        "balance=2",
        "-p",
        "snapshot_fault=no-red-first",
        "--network",
        "unordered",
    ];
    caught_and_replayed(&args, &["C2: on 0 → 1, message #1 is received before 1's cut"], "C1 and C2 hold");
}

#[test]
fn bad_input_is_one_line_and_other_applications_are_refused() {
    bad_inputs_are_one_line_and_exit_2(
        "bank+lai-yang",
        &[
            &["-p", "snapshot_form=vectors"],
            &["-p", "snapshot_fault=late"],
            &["-p", "snapshot_initiators=x"],
            &["-p", "snapshot_initiators=9", "--nodes", "3"],
            &["-p", "snapshot_at=-1"],
        ],
    );
    let stderr = usage_error(&["sim", "franklin+lai-yang"]);
    assert!(stderr.contains("Lai–Yang's snapshot is offered over bank, token-ring, chang-roberts"), "{stderr}");
}

#[test]
fn eval_measures_take_and_report_against_n_minus_1() {
    eval_plot(
        &["bank+lai-yang", "--nodes", "2..8", "--delay", "exp:2"],
        &["✓ (n−1) per initiator = 7", "✓ n−1 (the collector keeps its own) = 7"],
    );
}

#[test]
fn its_scenario_meets_its_expectations() {
    scenario_meets("sim", "observation-lai-yang-bank.toml", 12);
}

#[test]
fn a_bank_on_real_processes_over_lossy_udp_is_snapshotted_consistently() {
    let r = run_report(
        "bank+lai-yang",
        4,
        &["snapshot_at=5"],
        &["--transport", "udp", "--loss", "0.2", "--dup", "0.1", "--reorder"],
    );
    assert_all_hold(&r, "bank+lai-yang on 4 processes, lossy UDP");
    assert_eq!(sent(&r, "TAKE"), 3, "n − 1");
    assert_eq!(sent(&r, "REPORT"), 3, "n − 1");
}

/// The space-time diagram draws Lai–Yang's cut too: a white node that records on a red
/// message records before delivering it, so the cut falls before that receive and the
/// scenario's snapshot is drawn consistent; the broken variant, which delivers first,
/// is drawn with the message crossing the cut backwards.
#[test]
fn the_diagram_draws_the_cut_consistent_and_the_broken_variant_not() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let svg = dir.path().join("ly.svg");
    let scenario = format!("{}/../../scenarios/observation-lai-yang-bank.toml", env!("CARGO_MANIFEST_DIR"));
    let out = reparti().args(["sim", &scenario, "--viz"]).arg(&svg).output().expect("reparti runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let picture = std::fs::read_to_string(&svg).expect("the picture");
    assert!(picture.contains("3 of 3 nodes recorded; 2 messages in transit across the cut"), "{picture}");
    assert!(!picture.contains("NOT consistent"), "the layer's snapshot is consistent");
    assert!(picture.contains("TAKE (control,"), "TAKE is a control message");

    let cx = dir.path().join("cx.jsonl");
    let out = reparti()
        .args(["check", "bank+lai-yang", "--nodes", "2", "-p", "transfers=1", "-p", "balance=2", "-p", "max_amount=2"])
        .args(["-p", "snapshot_fault=no-red-first", "--trace"])
        .arg(&cx)
        .output()
        .expect("reparti runs");
    assert_eq!(out.status.code(), Some(1));
    let cx_svg = dir.path().join("cx.svg");
    let out = reparti().arg("viz").arg(&cx).arg("-o").arg(&cx_svg).output().expect("reparti runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let picture = std::fs::read_to_string(&cx_svg).expect("the picture");
    assert!(
        picture.contains("1 message sent after the cut but received before it: the cut is NOT consistent"),
        "{picture}"
    );
    assert_eq!(picture.matches("class=\"orphan\"").count(), 1);
}

//! Chandy–Lamport from the command line: `APP+chandy-lamport` over the bank, the token
//! ring and Chang–Roberts in the simulator, every interleaving of small instances in the
//! checker (the snapshot consistent in every terminal state), channels that reorder
//! caught breaking C1 and the counterexample replayed, the mistake of recording no
//! channel state caught, `reparti list` naming the applications, an application it is
//! not offered over refused in one line, and a bank on real processes over lossy UDP
//! under the reliable layer whose merged run passes the same checks.

mod common;

use common::{assert_all_hold, caught_and_replayed, json_of, reparti, run_report, scenario_meets, sent, usage_error};

const CONSISTENT: &str = "snapshot: every node recorded, every marker arrived, C1 and C2 hold";
const MONEY: &str = "snapshot: the bank's money over recorded local and channel states equals the total";

#[test]
fn sim_snapshots_three_applications_with_one_marker_per_channel() {
    for (app, n, markers) in [("bank", 6u64, 30u64), ("token-ring", 5, 5), ("chang-roberts", 7, 7)] {
        let name = format!("{app}+chandy-lamport");
        let r = json_of(&["sim", &name, "--nodes", &n.to_string(), "--delay", "uniform:0.5,3", "--json"]);
        assert_all_hold(&r, &name);
        assert_eq!(sent(&r, "MARKER"), markers, "{name}: |E|");
        let names: Vec<&str> =
            r["properties"].as_array().expect("properties").iter().filter_map(|p| p["name"].as_str()).collect();
        assert!(names.contains(&CONSISTENT), "{name}: {names:?}");
        assert_eq!(names.contains(&MONEY), app == "bank", "{name}: the money is checked on the bank only");
    }
}

#[test]
fn the_checker_finds_the_snapshot_consistent_in_every_interleaving() {
    for args in [
        &["bank+chandy-lamport", "--nodes", "3", "-p", "transfers=1", "-p", "max_amount=2", "-p", "balance=2"][..],
        &["token-ring+chandy-lamport", "--nodes", "3", "-p", "laps=1", "-p", "sends=1"],
        &["chang-roberts+chandy-lamport", "--nodes", "3"],
    ] {
        let mut full = vec!["check"];
        full.extend_from_slice(args);
        full.push("--json");
        let r = json_of(&full);
        assert_eq!(r["network"], "fifo", "{args:?}: the layer declares FIFO");
        assert_eq!(r["complete"], true, "{args:?}: the whole reachable space");
        assert!(r["counterexample"].is_null(), "{args:?}: {}", r["counterexample"]);
        for p in r["properties"].as_array().expect("properties") {
            assert_eq!(p["holds"], true, "{args:?}: {p}");
        }
        eprintln!("{args:?}: {} unique states", r["unique_states"]);
    }
}

/// Two branches of 2, one transfer each: the smallest bank where money is in transit.
const TWO_BRANCHES: [&str; 9] =
    ["bank+chandy-lamport", "--nodes", "2", "-p", "transfers=1", "-p", "max_amount=2", "-p", "balance=2"];

/// On channels that reorder, a transfer sent after its sender's cut overtakes the
/// sender's marker and lands in the channel state: C2 breaks, in the shortest run.
#[test]
fn reordering_channels_break_the_snapshot_and_the_counterexample_replays() {
    let args = [&TWO_BRANCHES[..], &["--network", "unordered"]].concat();
    caught_and_replayed(&args, &["C2: on 1 → 0"], "C1 and C2 hold");
}

#[test]
fn a_snapshot_without_channel_states_is_caught() {
    let args = [&TWO_BRANCHES[..], &["-p", "snapshot_fault=no-channel-state"]].concat();
    caught_and_replayed(&args, &["C1: on 1 → 0"], "C1 and C2 hold");
}

#[test]
fn list_names_the_applications_and_others_are_refused_in_one_line() {
    let out = reparti().arg("list").output().expect("reparti runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.trim_start().starts_with("NAME+chandy-lamport")).expect("the layer is listed");
    for app in ["bank", "token-ring", "chang-roberts"] {
        assert!(line.contains(app), "{line}");
    }
    let stderr = usage_error(&["sim", "franklin+chandy-lamport"]);
    assert!(stderr.contains("offered over bank, token-ring, chang-roberts"), "{stderr}");
    let stderr = usage_error(&["sim", "bank+chandy-lamport", "-p", "snapshot_initiators=x"]);
    assert!(stderr.contains("snapshot_initiators"), "{stderr}");
    // A newcomer names the snapshot alone: told how to name it over an application.
    let stderr = usage_error(&["sim", "chandy-lamport", "--nodes", "8"]);
    assert!(stderr.contains("'chandy-lamport' is a layer") && stderr.contains("`APP+chandy-lamport`"), "{stderr}");
}

#[test]
fn its_scenario_meets_its_expectations() {
    scenario_meets("sim", "observation-chandy-lamport-bank.toml", 11);
}

#[test]
fn a_bank_on_real_processes_over_lossy_udp_is_snapshotted_consistently() {
    let r = run_report(
        "bank+chandy-lamport",
        4,
        &["snapshot_at=5"],
        &["--transport", "udp", "--loss", "0.2", "--dup", "0.1", "--reorder"],
    );
    assert_all_hold(&r, "bank+chandy-lamport on 4 processes, lossy UDP");
    assert_eq!(sent(&r, "MARKER"), 12, "n(n−1) on the complete graph");
}

/// The space-time diagram draws the recorded cut. On a FIFO bank the messages that cross
/// it are exactly the channel states Chandy–Lamport recorded; on the reordering
/// counterexample the picture says the snapshot recorded the wrong messages.
#[test]
fn the_diagram_draws_the_cut_and_what_the_counterexample_recorded_wrong() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let (trace, svg) = (dir.path().join("bank.jsonl"), dir.path().join("bank.svg"));
    let out = reparti()
        .args(["sim", "bank+chandy-lamport", "--nodes", "4", "--seed", "8", "-p", "transfers=3"])
        .args(["--delay", "uniform:1,4", "--trace"])
        .arg(&trace)
        .arg("--viz")
        .arg(&svg)
        .output()
        .expect("reparti runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let recorded: u64 = std::fs::read_to_string(&trace)
        .expect("the trace")
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|e| e["key"] == "channel_state")
        .filter_map(|e| e["value"].as_u64())
        .sum();
    assert!(recorded > 0, "seed 8 leaves money in transit");
    let picture = std::fs::read_to_string(&svg).expect("the picture");
    assert_eq!(picture.matches("class=\"cut-line\"").count(), 1);
    assert_eq!(picture.matches("class=\"crossing\"").count() as u64, recorded, "one ring per recorded message");
    assert!(picture.contains(&format!("4 of 4 nodes recorded; {recorded} messages in transit")), "{picture}");
    assert!(picture.contains("MARKER (control, 12 sent)"), "markers are told from transfers");

    let cx = dir.path().join("cx.jsonl");
    let args = [&TWO_BRANCHES[..], &["--network", "unordered", "--trace"]].concat();
    let out = reparti().arg("check").args(&args).arg(&cx).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let cx_svg = dir.path().join("cx.svg");
    let out = reparti().arg("viz").arg(&cx).arg("-o").arg(&cx_svg).output().expect("reparti runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let picture = std::fs::read_to_string(&cx_svg).expect("the picture");
    assert!(
        picture.contains("0 messages in transit across the cut (the channel states); but the snapshot&#39;s channel states hold 1: it recorded the wrong messages"),
        "{picture}"
    );
}

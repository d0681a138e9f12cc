//! `berkeley` from the command line: on real processes with injected offsets of
//! ±500 ms (1 time unit = 1 ms), converging to within a few milliseconds on loopback —
//! the figure measured and printed; the checker's one-line refusal; its bad inputs
//! (one line, exit 2); its scenario; and `reparti eval berkeley` against 3(n−1) per
//! round.

mod common;

use common::{
    assert_all_hold, assert_judged, bad_inputs_are_one_line_and_exit_2, eval_plot, eval_precision, reparti, run_report,
    scenario_meets, sent,
};

#[test]
fn four_processes_with_offsets_of_500_ms_converge_within_a_few_ms() {
    // Rounds 2.5 s apart: a first adjustment of up to ~1000 ms takes 2 s to slew.
    let r = run_report("berkeley", 4, &["period=2500", "rounds=3"], &["--clock-offset", "uniform:-500,500"]);
    assert_all_hold(&r, "berkeley on 4 processes");
    assert_judged(&r, "berkeley on 4 processes", 4, 4);
    for kind in ["POLL", "REPLY", "ADJUST"] {
        assert_eq!(sent(&r, kind), 9, "{kind}: (n−1) per round, 3 rounds");
    }
    let spread = r["physical_clocks"]["spread"].as_f64().expect("the clocks' spread at the end is reported");
    eprintln!(
        "berkeley, 4 processes, offsets uniform:-500,500 ms: clocks within {spread:.3} ms of each other at the end"
    );
    // Loopback round trips are well under a millisecond, a few on a loaded machine.
    assert!(spread < 10.0, "clocks still {spread} ms apart");
}

#[test]
fn the_checker_refuses_it_in_one_line_pointing_to_sim_and_run() {
    let out = reparti().args(["check", "berkeley"]).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("physical clocks") && stderr.contains("reparti sim") && stderr.contains("reparti run"),
        "{stderr}"
    );
}

#[test]
fn bad_inputs_are_one_line() {
    bad_inputs_are_one_line_and_exit_2(
        "berkeley",
        &[
            &["--topology", "ring"],
            &["--nodes", "1"],
            &["-p", "rounds=0"],
            &["-p", "period=0"],
            &["-p", "tolerance=-1"],
            &["-p", "master=9"],
            &["-p", "fault=sometimes"],
            &["--clock-offset", "uniform:5"],
        ],
    );
}

#[test]
fn its_scenario_meets_its_expectations() {
    scenario_meets("sim", "time-berkeley.toml", 11);
}

#[test]
fn eval_measures_three_n_minus_one_per_round() {
    eval_plot(&["berkeley", "-n", "2,4,8,16", "--runs", "3"], &["3(n−1)·rounds = 12", "3(n−1)·rounds = 180"]);
}

#[test]
fn eval_measures_the_precision_reached_as_drift_grows_within_the_bound_it_claims() {
    let rows = eval_precision("berkeley", "drift=10,100,1000", "3");
    assert_eq!(rows.len(), 3);
    for row in &rows {
        let (reached, claimed) = (row["precision_max"].as_f64().expect("a figure"), row["bound_max"].as_f64());
        let claimed = claimed.expect("the master claims a bound");
        assert!(reached <= claimed, "{row}: reached beyond the claimed bound");
    }
    let worst: Vec<f64> = rows.iter().map(|r| r["precision_max"].as_f64().expect("a figure")).collect();
    assert!(worst[0] < worst[2], "faster drift, looser precision: {worst:?}");
}

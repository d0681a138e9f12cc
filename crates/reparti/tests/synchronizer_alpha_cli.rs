//! Synchronizer α from the command line, with the synchronous BFS as its algorithm:
//! `reparti run bfs-alpha` on six real processes over UDP and TCP, plaintext and
//! encrypted, clean and lossy under the reliable layer, every property and count
//! judged; `reparti check` over every interleaving of small instances, state counts
//! asserted; the two classic mistakes caught with their shortest counterexamples and
//! replayed; the lock-step version refused by the checker with the advice to use α;
//! the scenarios, the bad inputs, and `reparti eval bfs-alpha`.

mod common;

use common::{
    assert_all_hold, assert_judged, assert_ran_on, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, eval_plot,
    key_file, links, reparti, run_report, scenario_meets, sent,
};

/// Five properties: the BFS's three, "in their round", and α's neighbours-safe.
const PROPERTIES: usize = 5;
/// Four counts: JOIN, CHILD, ACK, SAFE.
const COUNTS: usize = 4;

#[test]
fn on_six_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        let r = run_report("bfs-alpha", 6, &[], &link.args);
        assert_all_hold(&r, &what);
        assert_judged(&r, &what, PROPERTIES, COUNTS);
        assert_ran_on(&r, &link, &what);
        // The grid of 6 (3 + 3, 7 edges), rooted at 0: depths 0, 1, 2 / 1, 2, 3.
        assert_eq!((sent(&r, "JOIN"), sent(&r, "CHILD")), (7, 5), "{what}");
        assert_eq!(sent(&r, "ACK"), 12, "{what}: one per basic message");
        assert_eq!(sent(&r, "SAFE"), 63, "{what}: Σ deg(v)·(R_v+1)");
    }
}

/// `reparti check ARGS`: every property holds, after exploring exactly `states`.
fn checked(args: &[&str], states: &str) {
    let out = reparti().arg("check").args(args).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{args:?}: {stdout}");
    assert!(stdout.contains(&format!("explored {states} unique states")), "{args:?}: {stdout}");
    assert!(stdout.contains("verdict: all properties hold"), "{args:?}: {stdout}");
    assert!(stdout.contains("✓ no node starts round r+1 before every neighbour is safe for r"), "{stdout}");
}

#[test]
fn the_checker_explores_every_interleaving_of_small_instances() {
    checked(&["bfs-alpha", "--nodes", "3"], "306");
    checked(&["bfs-alpha", "--nodes", "4"], "17,932");
    checked(&["bfs-alpha", "--nodes", "3", "--topology", "line"], "302");
    checked(&["bfs-alpha", "--nodes", "4", "--topology", "line"], "3,284");
}

#[test]
fn safe_before_the_acks_is_caught_and_replayed() {
    caught_and_replayed(
        &["bfs-alpha", "--topology", "line", "--nodes", "3", "-p", "alpha_fault=early-safe"],
        &[
            "counterexample: no node starts round r+1 before every neighbour is safe for r — node 1 closed round 1 \
             while a round-1 message from its neighbour 0 to 1 is in transit",
            "1. deliver Safe(round=1, last=false) from 0 to 1",
            "2. deliver Safe(round=1, last=false) from 2 to 1",
        ],
        "no node starts round r+1 before every neighbour is safe for r",
    );
}

#[test]
fn the_next_round_after_some_neighbours_only_is_caught_and_replayed() {
    caught_and_replayed(
        &["bfs-alpha", "--topology", "line", "--nodes", "3", "-p", "alpha_fault=some-neighbours"],
        &[
            "node 1 closed round 1 while a round-1 message from its neighbour 0 to 1 is in transit",
            "1. deliver Safe(round=1, last=false) from 2 to 1",
        ],
        "no node starts round r+1 before every neighbour is safe for r",
    );
}

#[test]
fn lock_step_under_the_checker_or_on_an_asynchronous_network_says_what_to_do() {
    for args in [
        vec!["check", "bfs-rounds", "--topology", "line", "--nodes", "3"],
        vec!["sim", "bfs-rounds", "--delay", "uniform:0.1,5"],
    ] {
        let out = reparti().args(&args).output().expect("reparti runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}");
        assert!(stdout.contains("the network is not synchronous — add --sync"), "{args:?}: {stdout}");
        assert!(stdout.contains("or run bfs-alpha"), "{stdout}");
    }
    let out = reparti().args(["sim", "bfs-rounds", "--sync"]).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("6 rounds"), "{stdout}");
}

#[test]
fn the_scenarios_meet_their_expectations() {
    scenario_meets("sim", "time-bfs-alpha.toml", 15);
    scenario_meets("check", "check-alpha-early-safe.toml", 4);
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    for algorithm in ["bfs-alpha", "bfs-rounds"] {
        bad_inputs_are_one_line_and_exit_2(
            algorithm,
            &[
                &["-p", "root=9"],
                &["-p", "root=-1"],
                &["-p", "root=x"],
                &["--topology", "ring"],
                &["--topology", "bidir-ring", "--nodes", "1"],
            ],
        );
    }
    bad_inputs_are_one_line_and_exit_2("bfs-alpha", &[&["-p", "alpha_fault=sometimes"]]);
}

#[test]
fn eval_measures_it_against_its_formulas() {
    eval_plot(&["bfs-alpha", "--nodes", "4..32", "--runs", "2"], &["ACK", "SAFE", "JOIN", "CHILD"]);
}

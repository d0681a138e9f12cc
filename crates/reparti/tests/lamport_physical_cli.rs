//! `lamport-physical` from the command line: `reparti sim` with every property held and
//! E·periods messages, the two broken receive rules and a μ above the true least delay
//! caught, the checker's one-line refusal, bad inputs (one line, exit 2), its scenario,
//! `reparti eval` against its formula, and real processes — UDP and TCP, plain and
//! encrypted, clean and lossy under the reliable layer — pulling clocks drawn ±500 ms
//! apart together, the precision reached measured from the merged run.

mod common;

use common::{
    assert_ran_on, bad_inputs_are_one_line_and_exit_2, eval_plot, json_of, key_file, links, reparti, run_report,
    scenario_meets, sent, usage_error,
};
use serde_json::Value;

/// Directed edges of each topology the sim test uses, by its flags.
fn edges(topology: &str, n: u64) -> u64 {
    match topology {
        "ring" => n,
        "bidir-ring" => 2 * n,
        "complete" => n * (n - 1),
        other => panic!("no edge count for {other}"),
    }
}

fn assert_every_property_holds(r: &Value, what: &str) {
    assert_eq!(r["stop"], "quiescence", "{what}");
    for p in r["properties"].as_array().expect("properties") {
        assert_eq!(p["holds"], true, "{what}: {p}");
    }
}

#[test]
fn sim_holds_every_property_and_sends_one_time_per_edge_and_period() {
    for (topology, args) in [
        ("bidir-ring", &["--nodes", "5"][..]),
        ("ring", &["--nodes", "6", "--delay", "uniform:1,3", "-p", "xi=2", "--clock-drift", "uniform:-1000,1000"]),
        ("complete", &["--nodes", "4", "--delay", "uniform:1,2", "-p", "xi=1", "--clock-offset", "normal:0,50"]),
    ] {
        let mut full = vec!["sim", "lamport-physical", "--json", "--topology", topology, "-p", "periods=10"];
        full.extend_from_slice(args);
        let r = json_of(&full);
        assert_every_property_holds(&r, &format!("{full:?}"));
        let n = r["nodes"].as_u64().expect("nodes");
        assert_eq!(sent(&r, "TIME"), edges(topology, n) * 10, "{full:?}");
        assert_eq!(r["messages"]["total"], edges(topology, n) * 10, "{full:?}");
    }
}

/// `reparti sim lamport-physical ARGS`: exit 1, with `property` printed as violated.
fn caught(args: &[&str], property: &str) {
    let out = reparti().args(["sim", "lamport-physical"]).args(args).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}");
    assert!(stdout.contains(&format!("✗ {property}")), "{args:?}: {stdout}");
}

#[test]
fn the_broken_rules_and_a_mu_too_large_are_caught() {
    // C := T_m + μ without the max: a fast receiver is set back.
    caught(
        &["--nodes", "6", "-p", "receive=assign", "--clock-offset", "uniform:-50,50"],
        "clocks never move backwards",
    );
    // max(C, T_m): every hop loses a transit time of 5, which the bound does not allow.
    caught(
        &["--topology", "ring", "--nodes", "6", "--delay", "const:5", "-p", "mu=5", "-p", "receive=no-mu"],
        "after warm-up d(τ+μ+ξ)",
    );
    // μ = 2 on a network whose messages take 1: the assumption is false, and said so.
    caught(&["--nodes", "4", "-p", "mu=2"], "μ ≤ the least delay of every channel");
}

#[test]
fn the_checker_refuses_it_in_one_line_naming_sim_and_run() {
    let stderr = usage_error(&["check", "lamport-physical"]);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    for word in ["physical clock", "reparti sim lamport-physical", "reparti run lamport-physical"] {
        assert!(stderr.contains(word), "«{word}» not in: {stderr}");
    }
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "lamport-physical",
        &[
            &["-p", "tau=0"],
            &["-p", "tau=x"],
            &["-p", "mu=-1"],
            &["-p", "xi=-1"],
            &["-p", "periods=0"],
            &["-p", "receive=min"],
            &["--topology", "random"],
            &["--clock-offset", "uniform:5,-5"],
            &["--clock-drift", "nonsense"],
            &["--clock", "9=500"],
        ],
    );
}

#[test]
fn its_scenario_meets_its_expectations() {
    scenario_meets("sim", "time-lamport-physical.toml", 7);
}

#[test]
fn eval_measures_it_against_its_formula() {
    eval_plot(&["lamport-physical", "--nodes", "2..8", "--runs", "2"], &["TIME", "E·periods"]);
}

#[test]
fn on_real_processes_every_link_pulls_clocks_500_ms_apart_together() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        // μ = 0: a real network promises no least delay. ξ = 1 s: a generous bound on
        // what a loaded machine, retransmissions included, can add to a delay — the
        // property is judged against it; the precision reached is measured below.
        let r = run_report(
            "lamport-physical",
            4,
            &["mu=0", "xi=1000", "tau=20", "periods=10"],
            &[&["--clock-offset", "uniform:-500,500", "--clock-drift", "uniform:-200,200"][..], &link.args].concat(),
        );
        assert_ran_on(&r, &link, &what);
        assert_every_property_holds(&r, &what);
        assert_eq!(sent(&r, "TIME"), 8 * 10, "{what}: two neighbours each, 10 periods");
        let spread = r["physical_clocks"]["spread"].as_f64().expect("the precision reached");
        eprintln!("lamport-physical on 4 processes {what}: clocks within {spread:.3} ms at the end");
        // Drawn up to 1000 ms apart, pulled up to the fastest within a few hops' delays.
        assert!(spread < 250.0, "{what}: clocks still {spread:.3} ms apart");
    }
}

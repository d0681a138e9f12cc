//! `raymond` on real processes: `reparti run` over UDP and TCP, plaintext and
//! encrypted, with and without injected loss, duplication and reordering under the
//! reliable layer, on its default tree and on a line and a star; every property and
//! expected count judged on the merged run, and no process left behind. Then its
//! scenario, its bad inputs (one line, exit 2), its broken PRIVILEGE handler from the
//! command line, and `reparti eval raymond`.

mod common;

use common::{
    assert_all_hold, assert_judged, assert_ran_on, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, eval_plot,
    key_file, links, run_report, scenario_meets, sent,
};

/// The derived counts, whatever the real timing was: 15 entries (5 nodes, 3 requests
/// each), one PRIVILEGE per REQUEST, at most D hops of the privilege per entry.
fn assert_costs(r: &serde_json::Value, diameter: u64, what: &str) {
    let privileges = sent(r, "PRIVILEGE");
    assert_eq!(sent(r, "REQUEST"), privileges, "{what}");
    assert!(privileges <= diameter * 15, "{what}: PRIVILEGE = {privileges} > D·#CS");
    assert_eq!(r["messages"]["total"], 2 * privileges, "{what}");
}

#[test]
fn on_five_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        let r = run_report("raymond", 5, &["requests=3"], &link.args);
        assert_all_hold(&r, &what);
        assert_judged(&r, &what, 4, 3);
        assert_ran_on(&r, &link, &what);
        assert_eq!(r["topology"], "tree", "{what}");
        // The tree of 5: 3 – 1 – 0 – 2 is its longest path.
        assert_costs(&r, 3, &what);
    }
}

#[test]
fn on_a_line_and_a_star_of_five_processes() {
    for (topology, diameter) in [("line", 4), ("star", 2)] {
        let r = run_report("raymond", 5, &["requests=3"], &["--topology", topology, "--transport", "udp"]);
        assert_all_hold(&r, topology);
        assert_eq!(r["topology"], topology);
        assert_costs(&r, diameter, topology);
    }
}

#[test]
fn the_scenario_meets_its_expectations() {
    scenario_meets("sim", "mutex-raymond.toml", 12);
}

#[test]
fn the_broken_scenario_is_caught_as_it_says() {
    scenario_meets("check", "check-raymond-broken.toml", 5);
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "raymond",
        &[
            &["-p", "requests=-1"],
            &["-p", "requests=100001"],
            &["-p", "cs_time=-1"],
            &["-p", "cs_time=x"],
            &["-p", "load=-1"],
            &["-p", "fixed=maybe"],
            &["-p", "holder=1"],
            &["--topology", "ring"],
            &["--topology", "complete"],
            &["--topology", "grid"],
        ],
    );
}

/// The broken PRIVILEGE handler from the command line: the checker's shortest run,
/// replayed.
#[test]
fn the_broken_privilege_handler_is_caught_and_replayed_from_the_command_line() {
    caught_and_replayed(
        &["raymond", "--topology", "line", "--nodes", "3", "-p", "requests=1", "-p", "fixed=false"],
        &[
            "counterexample: every request was served — node 2 asked 1 time(s)",
            "6. deliver Privilege from 0 to 1",
            "8. timer 'cs' fires at node 1",
        ],
        "every request was served",
    );
}

#[test]
fn eval_measures_it_against_its_formulas() {
    eval_plot(&["raymond", "--nodes", "2..12", "--runs", "3"], &["REQUEST", "PRIVILEGE", "total"]);
}

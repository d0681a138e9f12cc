//! `suzuki-kasami` on real processes: `reparti run` over UDP and TCP, plaintext and
//! encrypted, with and without injected loss, duplication and reordering under the
//! reliable layer; every property and expected count judged on the merged run, and no
//! process left behind. Then its scenario, its bad inputs (one line, exit 2), its broken
//! release from the command line, and `reparti eval suzuki-kasami`.

mod common;

use common::{
    assert_all_hold, assert_judged, assert_ran_on, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, eval_plot,
    key_file, links, run_report, scenario_meets, sent,
};

#[test]
fn on_five_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        let r = run_report("suzuki-kasami", 5, &["requests=3"], &link.args);
        assert_all_hold(&r, &what);
        assert_judged(&r, &what, 3, 3);
        assert_ran_on(&r, &link, &what);
        // The derived counts, whatever the real timing was: 15 entries, each
        // moving the token (4 REQUEST + 1 TOKEN) or not at all.
        let tokens = sent(&r, "TOKEN");
        assert!(tokens <= 15, "{what}: TOKEN = {tokens}");
        assert_eq!(sent(&r, "REQUEST"), 4 * tokens, "{what}");
        assert_eq!(r["messages"]["total"], 5 * tokens, "{what}");
    }
}

#[test]
fn the_scenario_meets_its_expectations() {
    scenario_meets("sim", "mutex-suzuki-kasami.toml", 11);
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "suzuki-kasami",
        &[
            &["-p", "requests=-1"],
            &["-p", "requests=100001"],
            &["-p", "cs_time=-1"],
            &["-p", "cs_time=x"],
            &["-p", "fixed=maybe"],
            &["-p", "token_holder=1"],
            &["--topology", "ring"],
        ],
    );
}

/// The broken release from the command line: the checker's shortest run, replayed.
#[test]
fn the_broken_release_is_caught_and_replayed_from_the_command_line() {
    caught_and_replayed(
        &["suzuki-kasami", "--nodes", "3", "-p", "requests=1", "-p", "fixed=false"],
        &["counterexample: every request was served — node 2 asked 1 time(s)", "14. deliver Token"],
        "every request was served",
    );
}

#[test]
fn eval_measures_it_against_its_formulas() {
    eval_plot(&["suzuki-kasami", "--nodes", "2..12", "--runs", "3"], &["REQUEST", "TOKEN", "total"]);
}

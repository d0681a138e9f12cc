//! `maekawa` on real processes: `reparti run` over UDP and TCP, plaintext and
//! encrypted, with and without injected loss, duplication and reordering under the
//! reliable layer; every property and expected count judged on the merged run, and no
//! process left behind. Then its scenarios, its bad inputs (one line, exit 2), the basic
//! form's deadlock from the command line, and `reparti eval maekawa`.

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
        let r = run_report("maekawa", 5, &["requests=3"], &link.args);
        assert_all_hold(&r, &what);
        assert_judged(&r, &what, 4, 7);
        assert_ran_on(&r, &link, &what);
        // Quorums of 5: K = 4, 4, 3, 3, 3. Three entries each: Σ(K−1) = 3·(3+3+2+2+2) =
        // 36, whatever the real timing was.
        let relinquish = sent(&r, "RELINQUISH");
        assert_eq!(sent(&r, "REQUEST"), 36, "{what}");
        assert_eq!(sent(&r, "RELEASE"), 36, "{what}");
        assert_eq!(sent(&r, "LOCKED"), 36 + relinquish, "{what}");
        assert!(relinquish <= sent(&r, "INQUIRE") && sent(&r, "FAILED") <= 36, "{what}");
    }
}

#[test]
fn the_scenarios_meet_their_expectations() {
    scenario_meets("sim", "mutex-maekawa.toml", 16);
    scenario_meets("check", "check-maekawa-deadlock.toml", 5);
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "maekawa",
        &[
            &["-p", "requests=-1"],
            &["-p", "requests=100001"],
            &["-p", "cs_time=x"],
            &["-p", "load=-1"],
            &["-p", "form=inquiry"],
            &["-p", "form="],
            &["-p", "quorum=grid"],
            &["--topology", "ring"],
        ],
    );
}

/// The basic form from the command line: the checker's shortest deadlock, replayed.
#[test]
fn the_basic_form_deadlocks_and_is_replayed_from_the_command_line() {
    caught_and_replayed(
        &["maekawa", "--nodes", "3", "-p", "requests=1", "-p", "form=basic"],
        &["counterexample: every request was served — node 0 asked 1 time(s)", "7. deliver Request"],
        "every request was served",
    );
}

#[test]
fn eval_measures_it_against_its_formulas() {
    let plot = eval_plot(
        &["maekawa", "--nodes", "2..16", "--runs", "3"],
        &["REQUEST", "RELEASE", "LOCKED", "INQUIRE", "RELINQUISH", "FAILED", "total"],
    );
    assert!(plot.contains("maekawa"), "the plot names the algorithm");
}

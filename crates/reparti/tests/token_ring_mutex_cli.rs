//! `token-ring-mutex` on real processes: `reparti run` over UDP and TCP, plaintext and
//! encrypted, with and without injected loss, duplication and reordering under the
//! reliable layer; every property and expected count judged on the merged run, and no
//! process left behind. Then its scenario, its bad inputs (one line, exit 2), the slip
//! that passes the token on entering from the command line, and `reparti eval`.

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
        let r = run_report("token-ring-mutex", 5, &["requests=3"], &link.args);
        assert_all_hold(&r, &what);
        assert_judged(&r, &what, 4, 2);
        assert_ran_on(&r, &link, &what);
        // Whatever the real timing was: 15 entries, each after its own hop, and the
        // token resting where the last one was made, n·laps + r hops from node 0.
        let tokens = sent(&r, "TOKEN");
        assert!(tokens >= 15, "{what}: TOKEN = {tokens}");
        assert_eq!(r["messages"]["total"], tokens, "{what}: the token is the only message");
        let laps = r["outputs"]["lap"]["1"].as_u64().unwrap_or(0);
        let rest = r["outputs"]["rest"].as_object().and_then(|m| m.keys().next().cloned()).expect("it rests");
        assert_eq!(tokens, 5 * laps + rest.parse::<u64>().unwrap_or(99), "{what}");
    }
}

#[test]
fn the_scenario_meets_its_expectations() {
    scenario_meets("sim", "mutex-token-ring.toml", 12);
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "token-ring-mutex",
        &[
            &["-p", "requests=-1"],
            &["-p", "requests=100001"],
            &["-p", "cs_time=-1"],
            &["-p", "cs_time=x"],
            &["-p", "fixed=maybe"],
            &["-p", "at_start=2"],
            &["-p", "holder=1"],
            &["--topology", "complete"],
            &["--topology", "star"],
            &["--nodes", "1"],
        ],
    );
}

/// The slip from the command line: the checker's shortest run, replayed.
#[test]
fn passing_the_token_on_entering_is_caught_and_replayed_from_the_command_line() {
    caught_and_replayed(
        &["token-ring-mutex", "--nodes", "3", "-p", "requests=1", "-p", "fixed=false"],
        &[
            "counterexample: mutual exclusion: at most one node in the critical section — the count is 2",
            "4. deliver Token",
        ],
        "mutual exclusion",
    );
}

#[test]
fn eval_measures_it_against_its_formulas() {
    eval_plot(&["token-ring-mutex", "--nodes", "2..12", "--runs", "3"], &["TOKEN"]);
}

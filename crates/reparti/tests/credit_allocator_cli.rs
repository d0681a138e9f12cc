//! `credit-allocator` on real processes: `reparti run` over UDP and TCP, plaintext and
//! encrypted, with and without injected loss, duplication and reordering under the
//! reliable layer; every property and expected count judged on the merged run, and no
//! process left behind. Then its bad inputs (one line, exit 2), its broken variant from
//! the command line, and `reparti eval credit-allocator`.

mod common;

use common::{
    assert_all_hold, assert_ran_on, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, eval_plot, key_file,
    links, run_report, sent,
};

#[test]
fn on_eight_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let (_dir, key) = key_file();
    // 7 producers, 5 items each, N = 6 slots asked for 3 at a time.
    let params = ["buffer=6", "ask=3", "items=5"];
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        let r = run_report("credit-allocator", 8, &params, &link.args);
        assert_all_hold(&r, &what);
        let properties = r["properties"].as_array().expect("properties");
        assert_eq!(properties.len(), 4, "{what}: {properties:?}");
        assert_ran_on(&r, &link, &what);
        // The derived counts, whatever the real timing was.
        assert_eq!(sent(&r, "DATA"), 35, "{what}");
        assert_eq!(sent(&r, "GRANT"), sent(&r, "ASK"), "{what}");
        assert!((14..=35).contains(&sent(&r, "ASK")), "{what}: 7·⌈5/3⌉ ≤ ASK ≤ 35: {}", sent(&r, "ASK"));
    }
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "credit-allocator",
        &[
            &["-p", "buffer=0"],
            &["-p", "ask=0"],
            &["-p", "ask=100001"],
            &["-p", "items=-1"],
            &["-p", "fixed=maybe"],
            &["-p", "batch=2"],
            &["--topology", "ring"],
        ],
    );
}

/// The broken allocator from the command line: the checker's shortest run, replayed.
#[test]
fn the_broken_allocator_is_caught_and_replayed_from_the_command_line() {
    caught_and_replayed(
        &["credit-allocator", "--nodes", "3", "-p", "buffer=1", "-p", "items=1", "-p", "fixed=false"],
        &["allocation: |buf| + reserved <= N"],
        "allocation",
    );
}

#[test]
fn eval_measures_it_against_its_formulas() {
    eval_plot(
        &["credit-allocator", "--nodes", "2..16", "--runs", "3", "-p", "buffer=8", "-p", "ask=3"],
        &["ASK", "GRANT", "DATA"],
    );
}

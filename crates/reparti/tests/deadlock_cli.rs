//! Chandy–Misra–Haas from the command line: `wait-for+chandy-misra-haas` in the
//! simulator (a cycle with a tail: the cycle declares, the tail does not; an acyclic
//! graph drains), every interleaving of a small cycle in the checker with its state
//! count, the detector without its edge check caught declaring a phantom deadlock and
//! the counterexample replayed, `viz --wait-for` drawing the graph at the declaration
//! with the cycle highlighted, the scenario, bad input refused in one line, and a real
//! run over lossy UDP judged the same way.

mod common;

use common::{
    assert_all_hold, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, json_of, reparti, run_report,
    scenario_meets, sent, usage_error,
};

const NAME: &str = "wait-for+chandy-misra-haas";
const SAFETY: &str = "deadlock declared only by a process on a cycle of the true WFG";
const TAIL: &str = "wfg=0>1,1>2,2>0,3>1";

fn declared(r: &serde_json::Value) -> u64 {
    r["outputs"]["deadlock"].as_object().map_or(0, |m| m.values().filter_map(|v| v.as_u64()).sum())
}

#[test]
fn sim_the_cycle_declares_the_tail_does_not_and_an_acyclic_graph_drains() {
    let r = json_of(&["sim", NAME, "--nodes", "4", "-p", TAIL, "--delay", "uniform:0.5,3", "--json"]);
    assert_all_hold(&r, "cycle with a tail");
    assert_eq!(declared(&r), 3, "0, 1 and 2");
    assert!(r["outputs"]["deadlock"]["3"].is_null(), "3 waits on the cycle, it is not on it");
    assert!(sent(&r, "PROBE") <= 3 * 3 + 4, "each initiation within its reachable edges");
    let r = json_of(&["sim", NAME, "--nodes", "6", "-p", "wfg=acyclic", "-p", "wfg_seed=7", "--json"]);
    assert_all_hold(&r, "acyclic");
    assert_eq!(declared(&r), 0);
    assert_eq!(sent(&r, "GRANT"), sent(&r, "REQUEST"), "every request granted: it drains");
}

#[test]
fn the_checker_finds_every_property_in_every_interleaving() {
    let r = json_of(&["check", NAME, "--nodes", "3", "-p", "wfg=0>1,1>2,2>0", "--json"]);
    assert_eq!(r["network"], "fifo", "the layer declares FIFO");
    assert_eq!(r["complete"], true);
    for p in r["properties"].as_array().expect("properties") {
        assert_eq!(p["holds"], true, "{p}");
    }
    assert_eq!(r["unique_states"], 337);
    eprintln!("{NAME} n=3 cycle: {} unique states", r["unique_states"]);
}

#[test]
fn without_the_edge_check_a_phantom_deadlock_is_caught_and_replayed() {
    let args = [
        NAME,
        "--nodes",
        "3",
        "-p",
        "wfg=0>1,1>2,2>0",
        "-p",
        "requests=staggered",
        "-p",
        "probe_initiators=0",
        "-p",
        "probe_fault=no-edge-check",
    ];
    caught_and_replayed(&args, &["process 0 declared deadlock, but the WFG"], SAFETY);
}

#[test]
fn viz_draws_the_wait_for_graph_with_the_cycle_highlighted() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let trace = dir.path().join("t.jsonl");
    let svg = dir.path().join("wfg.svg");
    reparti().args(["sim", NAME, "--nodes", "4", "-p", TAIL, "--trace"]).arg(&trace).assert().success();
    let out = reparti().arg("viz").arg(&trace).args(["--wait-for", "-o"]).arg(&svg).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&svg).expect("written");
    assert!(text.contains("class=\"node declarer\""), "the declarer is marked");
    let cycle: Vec<&str> = text.lines().filter(|l| l.contains("class=\"edge cycle\"")).collect();
    assert_eq!(cycle.len(), 3, "{cycle:?}");
    for (a, b) in [(0, 1), (1, 2), (2, 0)] {
        assert!(cycle.iter().any(|l| l.contains(&format!("data-from=\"{a}\" data-to=\"{b}\""))), "{a}→{b}");
    }
    let tail = text.lines().find(|l| l.contains("data-from=\"3\" data-to=\"1\"")).expect("the tail is drawn");
    assert!(tail.contains("class=\"edge\""), "the tail is not highlighted: {tail}");
    assert!(text.contains("cycle 0→1→2→0") || text.contains("cycle 1→2→0→1") || text.contains("cycle 2→0→1→2"));
    // A trace with no wait-for graph, and a picture that is not an SVG: one line, exit 2.
    let bank = dir.path().join("bank.jsonl");
    reparti().args(["sim", "bank", "--nodes", "3", "--trace"]).arg(&bank).assert().success();
    for (t, o) in [(&bank, "x.svg"), (&trace, "x.html")] {
        let stderr = usage_error(&["viz", &t.display().to_string(), "--wait-for", "-o", o]);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        NAME,
        &[
            &["-p", "wfg=0-1"],
            &["-p", "wfg=2>2"],
            &["-p", "wfg=0>1,0>1"],
            &["-p", "wfg=0>9"],
            &["-p", "requests=later"],
            &["-p", "probe_initiators=x"],
            &["-p", "probe_fault=bogus"],
            &["--nodes", "1"],
            &["--topology", "ring"],
        ],
    );
    let stderr = usage_error(&["sim", "bank+chandy-misra-haas"]);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn its_scenario_meets_its_expectations() {
    scenario_meets("sim", "observation-deadlock.toml", 13);
}

#[test]
fn a_deadlock_on_real_processes_over_lossy_udp_is_detected() {
    let r = run_report(NAME, 4, &[TAIL], &["--transport", "udp", "--loss", "0.2"]);
    assert_all_hold(&r, "wait-for+chandy-misra-haas on 4 processes, lossy UDP");
    assert_eq!(declared(&r), 3);
    assert_eq!(sent(&r, "REQUEST"), 4);
}

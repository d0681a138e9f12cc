//! The bank from the command line: `reparti sim` on eight branches, `reparti check`
//! over every interleaving of small instances (state counts asserted, refusals
//! included), the late debit caught by the checker and replayed by the simulator, the
//! scenario, the bad inputs (one line, exit 2), the console's `transfer NODE AMOUNT`,
//! `reparti run` on four real processes over UDP and TCP, plaintext and encrypted,
//! clean and lossy under the reliable layer, and `reparti eval bank`.

mod common;

use common::{
    assert_all_hold, assert_judged, assert_ran_on, bad_inputs_are_one_line_and_exit_2, caught_and_replayed, eval_plot,
    free_peers, json_of, key_file, links, reparti, run_report, scenario_meets, sent, Console,
};

const CONSERVED: &str = "money conserved: Σ balances + Σ TRANSFER in transit = n·balance";

/// How many times `key` was output, whatever the value.
fn outputs(r: &serde_json::Value, key: &str) -> u64 {
    r["outputs"][key].as_object().map(|m| m.values().filter_map(|c| c.as_u64()).sum()).unwrap_or(0)
}

#[test]
fn eight_branches_keep_their_money_and_make_every_transfer() {
    let r = json_of(&["sim", "bank", "--nodes", "8", "--json"]);
    assert_all_hold(&r, "sim bank -n 8");
    assert_judged(&r, "sim bank -n 8", 4, 4);
    assert_eq!(r["topology"], "complete");
    // 100 ≥ 5·20: no refusal, 5 transfers per branch, one TRANSFER each.
    assert_eq!(sent(&r, "TRANSFER"), 40);
    assert_eq!(outputs(&r, "transfer"), 40);
    assert_eq!(outputs(&r, "refused"), 0);
    // Every transfer changes two balances: the sender's, then the receiver's.
    assert_eq!(outputs(&r, "balance"), 80);
}

/// `reparti check ARGS`: every property holds, after exploring exactly `states`.
fn checked(args: &[&str], states: &str) {
    let out = reparti().arg("check").args(args).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{args:?}: {stdout}");
    assert!(stdout.contains(&format!("explored {states} unique states")), "{args:?}: {stdout}");
    assert!(stdout.contains("the whole reachable space"), "{args:?}: {stdout}");
    assert!(stdout.contains(&format!("✓ {CONSERVED}")), "{args:?}: {stdout}");
    assert!(stdout.contains("verdict: all properties hold"), "{args:?}: {stdout}");
}

#[test]
fn the_checker_explores_every_interleaving_of_small_instances() {
    // 3³: each branch's one transfer not yet asked, in transit, or credited.
    checked(&["bank", "--nodes", "3", "-p", "transfers=1"], "27");
    checked(&["bank", "--nodes", "3", "-p", "transfers=2"], "343");
    // Short balances: whether a transfer is refused depends on what arrived first.
    let short = ["bank", "--nodes", "3", "-p", "transfers=2", "-p", "balance=3", "-p", "max_amount=3"];
    checked(&short, "329");
    checked(&[&short[..], &["--network", "fifo"]].concat(), "282");
    checked(&["bank", "--nodes", "4", "--topology", "ring", "-p", "transfers=1"], "81");
}

#[test]
fn the_late_debit_is_caught_and_replayed() {
    caught_and_replayed(
        &["bank", "--nodes", "3", "-p", "transfers=1", "-p", "fault=debit-late"],
        &[
            &format!("counterexample: {CONSERVED} — balances 300 + in transit 5 = 305 ≠ 300"),
            "1. input Transfer(to=1, amount=5) at node 0",
            "pending 0 → 5",
        ],
        CONSERVED,
    );
}

#[test]
fn the_scenario_meets_its_expectations() {
    scenario_meets("sim", "observation-bank.toml", 11);
}

#[test]
fn bad_parameters_and_sizes_are_one_line_and_exit_2() {
    bad_inputs_are_one_line_and_exit_2(
        "bank",
        &[
            &["-p", "balance=-1"],
            &["-p", "balance=x"],
            &["-p", "transfers=x"],
            &["-p", "transfers=-1"],
            &["-p", "max_amount=0"],
            &["-p", "fault=sometimes"],
            &["--nodes", "1"],
            &["--topology", "torus", "--nodes", "5"],
        ],
    );
}

#[test]
fn the_console_transfers_and_refuses() {
    let peers = free_peers(2);
    let mut a = Console::start("bank", 0, &peers, &["transfers=0"]);
    let mut b = Console::start("bank", 1, &peers, &["transfers=0"]);
    a.type_line("transfer #1 30");
    a.wait_for("transfer = 30");
    a.wait_for("balance = 70");
    b.wait_for("balance = 130");
    a.type_line("transfer #1 71");
    a.wait_for("refused = 71");
    b.type_line("transfer #0 130");
    b.wait_for("balance = 0");
    a.wait_for("balance = 200");
    for c in [&mut a, &mut b] {
        c.type_line("quit");
        c.stdin = None;
        let status = c.child.wait().expect("the node stops");
        assert!(status.success(), "{status}: {}", c.seen.join("\n"));
    }
}

#[test]
fn on_four_processes_udp_and_tcp_plain_and_encrypted_clean_and_lossy() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{:?}", link.args);
        let r = run_report("bank", 4, &[], &link.args);
        assert_all_hold(&r, &what);
        assert_judged(&r, &what, 4, 4);
        assert_ran_on(&r, &link, &what);
        assert_eq!(sent(&r, "TRANSFER"), 20, "{what}: 4 branches, 5 transfers each");
        assert_eq!(outputs(&r, "balance"), 40, "{what}");
    }
}

#[test]
fn short_balances_on_real_processes_still_conserve_the_money() {
    let r = run_report("bank", 4, &["balance=10", "transfers=6", "max_amount=8"], &["--topology", "ring"]);
    assert_all_hold(&r, "short balances");
    assert_judged(&r, "short balances", 4, 3);
    assert_eq!(outputs(&r, "transfer") + outputs(&r, "refused"), 24);
    assert_eq!(sent(&r, "TRANSFER"), outputs(&r, "transfer"));
}

#[test]
fn eval_measures_it_against_its_formulas() {
    eval_plot(&["bank", "--nodes", "2..12", "--runs", "3"], &["TRANSFER", "total"]);
}

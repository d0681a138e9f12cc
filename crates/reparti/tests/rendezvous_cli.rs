//! `rendezvous` and `rendezvous-symmetric` on real processes: `reparti run` over UDP
//! and TCP, plaintext and encrypted, with and without injected loss, duplication and
//! reordering under the reliable layer; every property (overlap, matched once, values,
//! every select completed) and every count judged on the merged run, and no process
//! left behind. Three nodes driven through their consoles (`select`, `send`, `recv`).
//! Then bad inputs (one line, exit 2) and the eval plots.

mod common;

use common::{free_peers, key_file, links, reparti, run_report, usage_error, Console};
use serde_json::Value;

/// Every property and every judged count holds, at quiescence.
fn assert_all_hold(report: &Value, what: &str) {
    assert_eq!(report["stop"], "quiescence", "{what}");
    let properties = report["properties"].as_array().expect("properties");
    assert_eq!(properties.len(), 4, "{what}: three invariants and the terminal property");
    for p in properties {
        assert_eq!(p["holds"], true, "{what}: {} does not hold: {}", p["name"], p["detail"]);
    }
    let expected = report["expected"].as_object().expect("expected counts");
    assert!(expected.len() >= 3, "{what}: {expected:?}");
    for (count, e) in expected {
        assert_eq!(e["holds"], true, "{what}: the expected count {count} is {e}");
    }
}

fn sent(report: &Value, kind: &str) -> u64 {
    report["messages"]["by_type"][kind].as_u64().unwrap_or(0)
}

/// UDP and TCP, plain and encrypted, clean and lossy: the same verdicts as simulation.
fn matrix(algorithm: &str, check_counts: impl Fn(&Value, &str)) {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("{algorithm} {:?}", link.args);
        let report = run_report(algorithm, 8, &["choice=3"], &link.args);
        assert_all_hold(&report, &what);
        assert_eq!(report["real"]["transport"], link.transport, "{what}");
        assert_eq!(report["real"]["encrypted"], link.encrypted, "{what}");
        let outputs = &report["outputs"];
        let total = |key: &str| outputs[key].as_object().map(|m| m.values().filter_map(Value::as_u64).sum::<u64>());
        // 8 processes, 2 rendezvous each on average: 8 planned, 16 selects, all completed.
        assert_eq!((total("select"), total("rdv")), (Some(16), Some(16)), "{what}: {outputs}");
        check_counts(&report, &what);
    }
}

#[test]
fn asymmetric_on_eight_processes() {
    matrix("rendezvous", |r, what| {
        assert_eq!((sent(r, "RDV"), sent(r, "RDV_ACK")), (8, 8), "{what}");
    });
}

#[test]
fn symmetric_on_eight_processes() {
    matrix("rendezvous-symmetric", |r, what| {
        assert_eq!(sent(r, "ACCEPT"), 8, "{what}");
        assert_eq!(sent(r, "PROPOSE"), 8 + sent(r, "REFUSE"), "{what}");
        assert!(sent(r, "READY") <= sent(r, "REFUSE"), "{what}");
    });
}

#[test]
fn bad_parameters_and_topologies_are_one_line_and_exit_2() {
    for (algorithm, args) in [
        ("rendezvous", vec!["-p", "rendezvous=-1"]),
        ("rendezvous", vec!["-p", "rendezvous=101"]),
        ("rendezvous", vec!["-p", "choice=0"]),
        ("rendezvous", vec!["-p", "choice=5"]),
        ("rendezvous", vec!["-p", "priority=false"]),
        ("rendezvous", vec!["-p", "early_ack=maybe"]),
        ("rendezvous-symmetric", vec!["-p", "early_ack=true"]),
        ("rendezvous", vec!["--topology", "ring"]),
        ("rendezvous-symmetric", vec!["-p", "choice=x"]),
        ("rendezvous-symmetric", vec!["-p", "priority=maybe"]),
        ("rendezvous-symmetric", vec!["--topology", "star"]),
    ] {
        for command in ["sim", "check", "run"] {
            let mut full = vec![command, algorithm];
            full.extend(args.iter().copied());
            let stderr = usage_error(&full);
            assert_eq!(stderr.trim().lines().count(), 1, "{full:?}: {stderr}");
        }
    }
}

#[test]
fn eval_measures_both_against_their_formulas() {
    let dir = tempfile::tempdir().expect("scratch folder");
    for algorithm in ["rendezvous", "rendezvous-symmetric"] {
        let table = dir.path().join(format!("{algorithm}.json"));
        let out = reparti()
            .args(["eval", algorithm, "--nodes", "2..16", "--runs", "3", "-p", "choice=3", "-o"])
            .arg(&table)
            .output()
            .expect("reparti runs");
        assert!(out.status.success(), "{algorithm}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&table).expect("the table is written");
        let table: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(table["all_good"], true, "{algorithm}: {text}");
        let sizes = table["sizes"].as_array().expect("sizes");
        assert_eq!(sizes.len(), 4, "2, 4, 8, 16");
        for size in sizes {
            let n = size["n"].as_f64().expect("n");
            let mean = |kind: &str| size["counts"][kind]["random"]["mean"].as_f64();
            // 2 rendezvous per process on average: n planned.
            let (first, answers) = if algorithm == "rendezvous" { ("RDV", "RDV_ACK") } else { ("ACCEPT", "ACCEPT") };
            assert_eq!(mean(first), Some(n), "{algorithm} n={n}");
            assert_eq!(mean(answers), Some(n), "{algorithm} n={n}");
        }
        let svg = dir.path().join(format!("{algorithm}.svg"));
        let out = reparti()
            .args(["eval", algorithm, "--nodes", "2..8", "--runs", "2", "-o"])
            .arg(&svg)
            .output()
            .expect("reparti runs");
        assert!(out.status.success(), "{algorithm}: {}", String::from_utf8_lossy(&out.stderr));
        let picture = std::fs::read_to_string(&svg).expect("the plot is written");
        assert!(picture.contains("<svg"), "{algorithm}: not an SVG");
    }
}

/// Node 1 offers a choice, `!2(5) ?0`: node 2 is not at a select, so node 1's proposal
/// is refused; node 0's `send #1 42` meets the `?0` guard. Then node 2 receives from 1.
#[test]
fn three_consoles_select_send_and_receive() {
    let peers = free_peers(3);
    let mut nodes: Vec<Console> =
        (0..3).map(|me| Console::start("rendezvous-symmetric", me, &peers, &["rendezvous=0"])).collect();
    nodes[1].type_line("select !2(5) ?0");
    nodes[1].wait_for("select = ?0 !2(5)"); // guards are kept in partner order
    nodes[0].type_line("send #1 42");
    nodes[1].wait_for("rdv = received 42 from 0");
    nodes[0].wait_for("rdv = sent 42 to 1");
    nodes[2].type_line("recv #1");
    nodes[1].type_line("send #2 5");
    nodes[2].wait_for("rdv = received 5 from 1");
    nodes[1].wait_for("rdv = sent 5 to 2");
    for c in &mut nodes {
        c.type_line("quit");
        c.stdin = None;
        let status = c.child.wait().expect("the node stops");
        assert!(status.success(), "{status}: {}", c.seen.join("\n"));
    }
}

/// A known command whose arguments the algorithm refuses says why, in one line (not
/// "no such command"); an unknown word is still named as such.
#[test]
fn a_console_says_why_it_refuses_a_select() {
    let peers = free_peers(3);
    let mut node = Console::start("rendezvous-symmetric", 0, &peers, &["rendezvous=0"]);
    node.type_line("select ?2 !2(1)");
    node.wait_for("two guards name process 2: a select offers at most one guard per partner");
    node.type_line("selekt ?2");
    node.wait_for("unknown command `selekt`");
    assert!(!node.seen.iter().any(|l| l.contains("no such command")), "{}", node.seen.join("\n"));
}

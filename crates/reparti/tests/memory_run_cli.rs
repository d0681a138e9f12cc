//! The shared-memory protocols on real processes: `reparti run` records the clients'
//! history over UDP or TCP, judges it as the simulator does, and writes it with
//! `--history` in the form `reparti lin` reads.

mod common;

use common::reparti;

/// Runs `algorithm` on three real processes and returns `reparti lin`'s verdict on the
/// history it wrote.
fn run_and_judge(algorithm: &str, transport: &str) -> String {
    let dir = tempfile::tempdir().expect("scratch folder");
    let history = dir.path().join("history.jsonl");
    let out = reparti()
        .args(["run", algorithm, "-n", "3", "--transport", transport, "--timeout", "60", "--history"])
        .arg(&history)
        .output()
        .expect("reparti runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{algorithm}: {said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("✓ the history is linearizable"), "{algorithm}: {said}");
    let text = std::fs::read_to_string(&history).expect("the history is written");
    assert_eq!(text.lines().filter(|l| l.contains("\"invoke\"")).count(), 9, "three clients, three operations each");
    let lin = reparti().arg("lin").arg(&history).output().expect("reparti runs");
    assert_eq!(lin.status.code(), Some(0), "{}", String::from_utf8_lossy(&lin.stdout));
    String::from_utf8_lossy(&lin.stdout).to_string()
}

#[test]
fn real_processes_record_a_history_that_reparti_lin_accepts() {
    for (algorithm, transport) in [("ricart-agrawala+memory", "udp"), ("ivy", "tcp"), ("li-hudak", "udp")] {
        let verdict = run_and_judge(algorithm, transport);
        assert!(verdict.contains("9 operations") && verdict.contains(": linearizable"), "{algorithm}: {verdict}");
    }
}

/// Every message lost and no reliable layer to resend it: the clients whose register
/// lives elsewhere wait for ever, the run ends when the nodes have been idle a while,
/// and their operations stay in the history as pending — invoked, never answered —
/// which `reparti lin` then places anywhere after their call, or nowhere.
#[test]
fn operations_cut_off_by_loss_stay_pending_in_a_real_run() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let history = dir.path().join("history.jsonl");
    let out = reparti()
        .args(["run", "single-copy", "-n", "3", "--reliable", "off", "--loss", "1", "--timeout", "60"])
        .args(["-p", "keys=1", "--history"])
        .arg(&history)
        .output()
        .expect("reparti runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "unanswered operations fail the run: {said}");
    assert!(said.contains("every operation was answered"), "{said}");
    let text = std::fs::read_to_string(&history).expect("the history is written even so");
    let count = |kind: &str| text.lines().filter(|l| l.contains(&format!("\"type\":\"{kind}\""))).count();
    // Register 0 lives at node 0: its client's three operations complete; the first
    // operation of clients 1 and 2 never does, and they ask nothing more.
    assert_eq!((count("invoke"), count("ok")), (5, 3), "{text}");
    let lin = reparti().arg("lin").arg(&history).output().expect("reparti runs");
    let verdict = String::from_utf8_lossy(&lin.stdout);
    assert_eq!(lin.status.code(), Some(0), "{verdict}");
    assert!(verdict.contains("2 pending"), "{verdict}");
}

//! `reparti run` at its limits: a cluster the machine cannot hold is refused before any
//! process starts, a node paused by SIGSTOP is named as the reason a run times out, and
//! a supervisor stopped by SIGTERM or SIGINT stops its nodes and removes its scratch
//! folder.
//!
//! Each test gives the supervisor a private `TMPDIR`: its scratch folder is made there
//! and the nodes' command lines name it, so `/proc` finds exactly this test's nodes and
//! the folder can be checked for leftovers.

mod common;

use common::{assert_none_left, nodes_of, usage_error};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A token ring that would run for hours, its scratch folder under `tmp`.
fn endless_ring(tmp: &Path, extra: &[&str]) -> Child {
    let child = Command::new(assert_cmd::cargo::cargo_bin("reparti"))
        .args(["run", "token-ring", "--nodes", "4", "--param", "laps=100000000"])
        .args(extra)
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn reparti run");
    // The supervisor catches signals before it starts its first node: once the four
    // nodes exist, a signal is handled.
    let deadline = Instant::now() + Duration::from_secs(60);
    while nodes_of(tmp).len() < 4 {
        assert!(Instant::now() < deadline, "the nodes did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut text).expect("read stderr");
    text
}

#[test]
fn a_cluster_the_machine_cannot_hold_is_refused_before_it_starts() {
    let e = usage_error(&["run", "chang-roberts", "--nodes", "100000000"]);
    assert!(e.contains("100000000 node processes would need about"), "{e}");
    assert!(e.contains("--nodes") && e.contains("or fewer"), "{e}");
}

#[test]
fn sigterm_and_sigint_stop_the_nodes_and_remove_the_scratch_folder() {
    for signal in ["-TERM", "-INT"] {
        let tmp = tempfile::tempdir().expect("private TMPDIR");
        let mut run = endless_ring(tmp.path(), &[]);
        Command::new("kill").args([signal, &run.id().to_string()]).status().expect("kill");
        let status = run.wait().expect("reparti run ends");
        let stderr = stderr_of(&mut run);
        assert_eq!(status.code(), Some(130), "{signal}: {stderr}");
        assert!(stderr.contains("interrupted"), "{signal}: {stderr}");
        assert_none_left(tmp.path(), signal);
        let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("read TMPDIR").flatten().map(|e| e.path()).collect();
        assert!(left.is_empty(), "{signal}: left behind in the temporary folder: {left:?}");
    }
}

#[test]
fn a_node_paused_by_sigstop_is_named_as_why_the_run_timed_out() {
    let tmp = tempfile::tempdir().expect("private TMPDIR");
    let mut run = endless_ring(tmp.path(), &["--timeout", "4"]);
    let victim = nodes_of(tmp.path())
        .into_iter()
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains("--me 2 "))
        })
        .expect("node 2's process");
    // The node may be stopped before or after it reported ready (a loaded machine
    // decides): both phases watch for paused processes and name it the same way.
    Command::new("kill").args(["-STOP", &victim.to_string()]).status().expect("kill -STOP");
    let status = run.wait().expect("reparti run ends");
    let stderr = stderr_of(&mut run);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("node 2 stopped (SIGSTOP or a debugger)"), "{stderr}");
    assert!(!last.contains("nodes 0") && !last.contains("perpetual"), "the others are not to blame: {stderr}");
    assert!(stderr.contains(&format!("note: node 2 (pid {victim}) is stopped")), "{stderr}");
    // The stopped node was killed with the others; nothing is left behind.
    assert_none_left(tmp.path(), "after the timeout");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("read TMPDIR").flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "left behind in the temporary folder: {left:?}");
}

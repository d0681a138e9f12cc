//! Ctrl-C during `reparti sim`: a run that never quiesces (the token ring's open-ended
//! mode, whose token circulates for ever) ends with the report of the run so far, its
//! trace closed with the stop `interrupted` and replayable, and exit status 130 — not
//! with nothing.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills and reaps the child if the test fails before it exits.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    // Bounded: a lost signal or a stalled run fails the test instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_reports_the_run_so_far_and_closes_its_trace() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let trace = dir.path().join("ring.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_reparti"))
        .args(["sim", "token-ring-mutex", "--nodes", "4", "-p", "requests=0", "--no-progress", "--trace"])
        .arg(&trace)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reparti starts");
    let mut child = Reaped(child);
    // The trace file is created after the handler is installed; events in it mean the
    // run is under way.
    wait_until("the run never wrote its trace", || std::fs::metadata(&trace).is_ok_and(|m| m.len() > 4096));
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().expect("kill runs").success());
    let mut status = None;
    wait_until("reparti sim did not stop on SIGINT", || {
        status = child.0.try_wait().expect("waits");
        status.is_some()
    });
    let mut out = String::new();
    child.0.stdout.take().expect("piped stdout").read_to_string(&mut out).expect("reads stdout");
    let mut err = String::new();
    child.0.stderr.take().expect("piped stderr").read_to_string(&mut err).expect("reads stderr");
    assert_eq!(status.and_then(|s| s.code()), Some(130), "{out}\n{err}");
    assert!(err.contains("interrupted: finishing the report of the run so far"), "{err}");
    assert!(out.contains("stopped at an interrupt (Ctrl-C)"), "{out}");
    assert!(out.contains("exactly one token"), "the properties are judged on the run so far: {out}");
    let text = std::fs::read_to_string(&trace).expect("reads the trace");
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains(r#""stop":"interrupted""#), "{last}");
    // The partial trace is a whole trace: the simulator follows it again.
    let replay = Command::new(env!("CARGO_BIN_EXE_reparti"))
        .args(["sim", "--replay"])
        .arg(&trace)
        .output()
        .expect("reparti runs");
    let replayed = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.code().is_some(), "{replayed}");
    assert!(replayed.contains("exactly one token"), "{replayed}\n{}", String::from_utf8_lossy(&replay.stderr));
}

//! Ctrl-C during `reparti sim`: a run that never quiesces (the token ring's open-ended
//! mode, whose token circulates for ever) ends with the report of the run so far, its
//! trace closed with the stop `interrupted` and replayable, and exit status 130 — not
//! with nothing. Many runs (`--runs`) end with the figures of the runs that finished.

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
    assert!(err.contains("interrupted: finishing the report of what ran so far"), "{err}");
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

/// Whether process `pid` has a handler for SIGINT installed, from its SigCgt mask.
#[cfg(target_os = "linux")]
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}

/// CPU seconds process `pid` has used (user + system), from /proc/PID/stat.
#[cfg(target_os = "linux")]
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks: u64 = fields.get(11..13).map(|f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum()).unwrap_or(0);
    ticks as f64 / 100.0
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_during_many_runs_reports_the_runs_that_finished() {
    // Each run stops at its event limit within milliseconds; a billion of them never end.
    let child = Command::new(env!("CARGO_BIN_EXE_reparti"))
        .args(["sim", "token-ring-mutex", "--nodes", "4", "-p", "requests=0", "--max-events", "2000"])
        .args(["--runs", "1000000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reparti starts");
    let mut child = Reaped(child);
    let pid = child.0.id();
    // Ready: the handler is installed, and the process has worked long enough for its
    // first run (a few milliseconds) to be done.
    wait_until("the handler was never installed", || catches_sigint(pid) && cpu_seconds(pid) >= 0.3);
    assert!(Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("kill runs").success());
    let mut status = None;
    wait_until("reparti sim --runs did not stop on SIGINT", || {
        status = child.0.try_wait().expect("waits");
        status.is_some()
    });
    let mut out = String::new();
    child.0.stdout.take().expect("piped stdout").read_to_string(&mut out).expect("reads stdout");
    let mut err = String::new();
    child.0.stderr.take().expect("piped stderr").read_to_string(&mut err).expect("reads stderr");
    assert_eq!(status.and_then(|s| s.code()), Some(130), "{out}\n{err}");
    let line = out.lines().find(|l| l.starts_with("interrupted: ")).unwrap_or_else(|| panic!("{out}\n{err}"));
    let finished: u64 =
        line.trim_start_matches("interrupted: ").split(' ').next().and_then(|k| k.parse().ok()).unwrap_or(0);
    assert!(finished >= 1 && line.contains("of the 1000000000 runs asked for finished"), "{line}");
    assert!(out.contains(&format!("· {finished} runs, seeds")), "the figures are the finished runs': {out}");
    assert!(out.contains("exactly one token"), "{out}");
}

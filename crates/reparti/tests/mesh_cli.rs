//! `reparti node mesh PORT`: TP4's mesh members as real OS processes on loopback, joining
//! through a registry file or a seed, broadcasting, taking console commands, and their
//! usage errors.
//!
//! A long-lived member is a child held in a guard that kills and reaps it when dropped,
//! on success, failure or panic; every wait is bounded by [`LIMIT`].

mod common;

use common::{reparti, usage_error};
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Bound on any wait: members join in milliseconds; this is for a loaded machine.
const LIMIT: Duration = Duration::from_secs(20);

/// How long the background member stays: long enough for the others to come and go.
const STAY_MS: &str = "4000";

/// A member killed and reaped on drop.
struct Member(Child);

impl Drop for Member {
    fn drop(&mut self) {
        // Already exited: kill fails harmlessly; wait reaps either way.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Member {
    /// Starts `reparti node mesh ARGS...` in `dir`, its output captured.
    fn start(dir: &Path, args: &[&str]) -> Member {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        cmd.current_dir(dir).args(["node", "mesh"]).args(args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        Member(cmd.spawn().expect("spawn reparti node mesh"))
    }

    /// Waits for the member to leave by itself (its --for-ms) and returns its stdout.
    fn finish(mut self) -> String {
        let deadline = Instant::now() + LIMIT;
        let status = loop {
            if let Some(status) = self.0.try_wait().expect("poll the member") {
                break status;
            }
            assert!(Instant::now() < deadline, "the member did not stop within {LIMIT:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let (mut out, mut err) = (String::new(), String::new());
        if let Some(mut s) = self.0.stdout.take() {
            s.read_to_string(&mut out).expect("read stdout");
        }
        if let Some(mut s) = self.0.stderr.take() {
            s.read_to_string(&mut err).expect("read stderr");
        }
        assert!(status.success(), "the member failed: {err}");
        out
    }
}

/// A loopback port that was free a moment ago (bound on port 0, then released).
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("a free port").port()
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Waits until `port` is registered in the file: the member has joined.
fn wait_registered(registry: &Path, port: u16) {
    let line = loopback(port).to_string();
    let deadline = Instant::now() + LIMIT;
    while !std::fs::read_to_string(registry).is_ok_and(|t| t.lines().any(|l| l.trim() == line)) {
        assert!(Instant::now() < deadline, "{line} never appeared in {}", registry.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_members_meet_through_bdd_txt_and_broadcast() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let a = Member::start(dir.path(), &[&pa.to_string(), "--for-ms", STAY_MS]);
    let registry = dir.path().join("BDD.txt");
    wait_registered(&registry, pa);

    let out = reparti()
        .current_dir(dir.path())
        .args(["node", "mesh", &pb.to_string(), "--broadcast", "bonjour", "--for-ms", "300"])
        .output()
        .expect("reparti runs");
    let b_out = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (a_addr, b_addr) = (loopback(pa), loopback(pb));
    assert!(b_out.contains(&format!("member {b_addr} (registry BDD.txt), 1 peer: #0 {a_addr}")), "{b_out}");
    assert!(b_out.contains("broadcast to 1 member (clock 1): bonjour"), "{b_out}");
    assert!(b_out.contains(&format!("{b_addr} left the mesh")), "{b_out}");

    let a_out = a.finish();
    for line in [format!("joined {b_addr}"), format!("from {b_addr} (clock 1): bonjour"), format!("left {b_addr}")] {
        assert!(a_out.contains(&line), "no `{line}` in:\n{a_out}");
    }
    assert_eq!(std::fs::read_to_string(&registry).unwrap().trim(), "", "both members removed their line");
}

#[test]
fn console_commands_drive_a_member() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("members.txt");
    let reg = registry.to_str().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let a = Member::start(dir.path(), &[&pa.to_string(), "--registry", reg, "--for-ms", STAY_MS]);
    wait_registered(&registry, pa);

    let script = format!("peers\nclock\nlocal\nsend {pa} salut\n\nbogus\nelect\nquit\nbroadcast never sent\n");
    let out = reparti()
        .args(["node", "mesh", &pb.to_string(), "--registry", reg, "--interactive"])
        .write_stdin(script)
        .output()
        .expect("reparti runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let a_addr = loopback(pa);
    for line in [
        format!("1 peer: #0 {a_addr}"),
        "clock 0".to_string(),
        "local event (clock 1)".to_string(),
        format!("sent to {a_addr} (clock 2): salut"),
    ] {
        assert!(stdout.contains(&line), "no `{line}` in:\n{stdout}");
    }
    assert!(!stdout.contains("never sent"), "quit stops reading: {stdout}");
    assert!(stderr.contains("unknown command `bogus`"), "{stderr}");
    // A mesh member's commands are its own: an algorithm's `elect` is unknown here.
    assert!(stderr.contains("unknown command `elect`: the commands are send, broadcast, local"), "{stderr}");

    let a_out = a.finish();
    assert!(a_out.contains(&format!("from {} (clock 2): salut", loopback(pb))), "{a_out}");
}

#[test]
fn members_meet_through_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (ps, pb) = (free_port(), free_port());
    // The seed is given its own address: it starts the mesh.
    let seed = Member::start(dir.path(), &[&ps.to_string(), "--seed", &ps.to_string(), "--for-ms", STAY_MS]);
    let deadline = Instant::now() + LIMIT;
    let out = loop {
        // Until the seed has bound its port, joining fails with a silent seed: try again.
        let out = reparti()
            .current_dir(dir.path())
            .args(["node", "mesh", &pb.to_string(), "--seed", &loopback(ps).to_string()])
            .args(["--broadcast", "via the seed", "--for-ms", "300"])
            .output()
            .expect("reparti runs");
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
    };
    let b_out = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(b_out.contains(&format!("(seed {}), 1 peer: #0 {}", loopback(ps), loopback(ps))), "{b_out}");
    let seed_out = seed.finish();
    let b_addr = loopback(pb);
    assert!(seed_out.contains(&format!("member {} (seed {}), no peers yet", loopback(ps), loopback(ps))), "{seed_out}");
    assert!(seed_out.contains(&format!("joined {b_addr}")), "{seed_out}");
    assert!(seed_out.contains(&format!("from {b_addr} (clock 1): via the seed")), "{seed_out}");
    assert!(!dir.path().join("BDD.txt").exists(), "a seed mesh has no registry file");
}

#[test]
fn a_registered_port_in_use_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("BDD.txt");
    let pa = free_port();
    let _a =
        Member::start(dir.path(), &[&pa.to_string(), "--registry", registry.to_str().unwrap(), "--for-ms", STAY_MS]);
    wait_registered(&registry, pa);
    let err = usage_error(&["node", "mesh", &pa.to_string(), "--registry", registry.to_str().unwrap()]);
    assert!(err.contains("already in the registry") && err.contains(&loopback(pa).to_string()), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn usage_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let silent = free_port().to_string();
    let missing_key = dir.path().join("no.key");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["node", "mesh", "5001", "--seed", "nowhere"], "--seed 'nowhere'"),
        (vec!["node", "mesh", "5001", "--seed", "5000", "--registry", "BDD.txt"], "cannot be used with"),
        (vec!["node", "mesh", "0", "--seed", &silent], "did not answer"),
        (vec!["node", "mesh", "0", "--key-file", missing_key.to_str().unwrap()], "key file"),
        (vec!["node", "mesh", "70000"], "70000"),
    ];
    for (args, expected) in cases {
        let err = usage_error(&args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

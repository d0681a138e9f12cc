//! `reparti node mesh PORT`: TP4's mesh members as real OS processes on loopback, joining
//! through a registry file or a seed, broadcasting, taking console commands, TP6's
//! Lamport and vector clock rules, and their usage errors.
//!
//! A long-lived member is a child held in a guard that kills and reaps it when dropped,
//! on success, failure or panic; every wait is bounded by [`LIMIT`]. A member driven
//! line by line ([`Live`]) is waited for by the lines it prints, never by sleeping.

mod common;

use common::{free_port, reparti, usage_error};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
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

/// A member whose console is typed into line by line, and whose output is read as it
/// comes: each command's answer is awaited before the next.
struct Live {
    /// Kills the member when dropped.
    _member: Member,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

impl Live {
    /// Starts `reparti node mesh ARGS... --interactive` in `dir` and waits for its
    /// `member ...` line, which it returns.
    fn start(dir: &Path, args: &[&str]) -> (Live, String) {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        cmd.current_dir(dir).args(["node", "mesh"]).args(args).arg("--interactive");
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn reparti node mesh");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        // Ends when the member's stdout closes (it exited or was killed).
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut live = Live { _member: Member(child), stdin, lines, seen: Vec::new() };
        let joined = live.expect("member ");
        (live, joined)
    }

    /// Types one console line.
    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").and_then(|()| self.stdin.flush()).expect("write to the member's console");
    }

    /// Waits for a line containing `wanted`, skipping others; returns it.
    fn expect(&mut self, wanted: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(wanted) {
                        return line;
                    }
                }
                Err(e) => panic!("no line with `{wanted}` ({e:?}); the member printed:\n{}", self.seen.join("\n")),
            }
        }
    }
}

/// A vector clock as the members print it: on one host, its entries by port.
fn vc(entries: &[(u16, u64)]) -> String {
    let mut entries = entries.to_vec();
    entries.sort();
    let listed: Vec<String> = entries.iter().map(|(port, n)| format!("\"{}\":{n}", loopback(*port))).collect();
    format!("{{{}}}", listed.join(","))
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
    let b_vc = vc(&[(pb, 1)]);
    assert!(b_out.contains(&format!("broadcast to 1 member (clock 1, vclock {b_vc}): bonjour")), "{b_out}");
    assert!(b_out.contains(&format!("{b_addr} left the mesh")), "{b_out}");

    let a_out = a.finish();
    let received =
        format!("from {b_addr} (clock 1, vclock {b_vc}; now clock 2, vclock {}): bonjour", vc(&[(pa, 1), (pb, 1)]));
    for line in [format!("joined {b_addr}"), received, format!("left {b_addr}")] {
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
        "clock 0, vclock {}".to_string(),
        format!("local event (clock 1, vclock {})", vc(&[(pb, 1)])),
        format!("sent to {a_addr} (clock 2, vclock {}): salut", vc(&[(pb, 2)])),
    ] {
        assert!(stdout.contains(&line), "no `{line}` in:\n{stdout}");
    }
    assert!(!stdout.contains("never sent"), "quit stops reading: {stdout}");
    assert!(stderr.contains("unknown command `bogus`"), "{stderr}");
    // A mesh member's commands are its own: an algorithm's `elect` is unknown here.
    assert!(stderr.contains("unknown command `elect`: the commands are send, broadcast, local"), "{stderr}");

    let a_out = a.finish();
    let received = format!("from {} (clock 2, vclock {}; now clock 3,", loopback(pb), vc(&[(pb, 2)]));
    assert!(a_out.contains(&received) && a_out.contains("): salut"), "{a_out}");
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
            .args(["node", "mesh", &pb.to_string(), "--join", &loopback(ps).to_string()])
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
    assert!(seed_out.contains(&format!("from {b_addr} (clock 1, vclock {}; now", vc(&[(pb, 1)]))), "{seed_out}");
    assert!(seed_out.contains("): via the seed"), "{seed_out}");
    assert!(!dir.path().join("BDD.txt").exists(), "a seed mesh has no registry file");
}

/// TP6's rules on two real members, step by step, each value on the member's console:
/// both clocks start at 0; a local event adds 1; a send adds 1 then stamps; a receive
/// takes the maximum then adds 1 — with the stamp ahead, with our clock ahead, and for a
/// message in the old form (`text`, no vector clock), which is still read.
#[test]
fn both_clocks_follow_tp6_rules_on_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("BDD.txt");
    let reg = registry.to_str().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let (a_addr, b_addr) = (loopback(pa), loopback(pb));
    let (mut a, _) = Live::start(dir.path(), &[&pa.to_string(), "--registry", reg]);

    // Initial 0, then a local event: +1 on each clock.
    a.say("clock");
    a.expect("clock 0, vclock {}");
    a.say("local");
    a.expect(&format!("local event (clock 1, vclock {})", vc(&[(pa, 1)])));

    let (mut b, joined) = Live::start(dir.path(), &[&pb.to_string(), "--registry", reg]);
    assert!(joined.contains(&format!("1 peer: #0 {a_addr}")), "{joined}");
    a.expect(&format!("joined {b_addr}"));
    for _ in 0..3 {
        b.say("local");
    }
    b.expect(&format!("local event (clock 3, vclock {})", vc(&[(pb, 3)])));

    // A send: +1, then the message carries the new values.
    b.say(&format!("send {pa} ping"));
    b.expect(&format!("sent to {a_addr} (clock 4, vclock {}): ping", vc(&[(pb, 4)])));
    // A receive with the stamp ahead: max(1, 4) + 1; max({a:1}, {b:4}), then a + 1.
    a.expect(&format!(
        "from {b_addr} (clock 4, vclock {}; now clock 5, vclock {}): ping",
        vc(&[(pb, 4)]),
        vc(&[(pa, 2), (pb, 4)])
    ));

    // A receive with our clock ahead: max(9, 5) + 1.
    for _ in 0..4 {
        a.say("local");
    }
    a.expect(&format!("local event (clock 9, vclock {})", vc(&[(pa, 6), (pb, 4)])));
    b.say(&format!("send {pa} pong"));
    b.expect(&format!("sent to {a_addr} (clock 5, vclock {}): pong", vc(&[(pb, 5)])));
    a.expect(&format!(
        "from {b_addr} (clock 5, vclock {}; now clock 10, vclock {}): pong",
        vc(&[(pb, 5)]),
        vc(&[(pa, 7), (pb, 5)])
    ));

    // And back: b merges a's entries it had never seen.
    a.say(&format!("send {pb} back"));
    let a_vc = vc(&[(pa, 8), (pb, 5)]);
    a.expect(&format!("sent to {b_addr} (clock 11, vclock {a_vc}): back"));
    b.expect(&format!(
        "from {a_addr} (clock 11, vclock {a_vc}; now clock 12, vclock {}): back",
        vc(&[(pa, 8), (pb, 6)])
    ));
    a.say("clock");
    a.expect(&format!("clock 11, vclock {a_vc}"));

    // The old form of MSG (`text`, no `vclock`), as an earlier script sends it.
    let script = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let old = format!(
        r#"{{"v":1,"from":"{}","type":"MSG","body":{{"text":"old","clock":7}}}}"#,
        script.local_addr().unwrap()
    );
    script.send_to(old.as_bytes(), a_addr).expect("send");
    a.expect(&format!(
        "from {} (clock 7, no vclock; now clock 12, vclock {}): old",
        script.local_addr().unwrap(),
        vc(&[(pa, 9), (pb, 5)])
    ));
    a.say("quit");
    a.expect(&format!("{a_addr} left the mesh"));
    b.say("quit");
    b.expect(&format!("{b_addr} left the mesh"));
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
        (vec!["node", "mesh", "5001", "--join", "nowhere"], "--join 'nowhere'"),
        (vec!["node", "mesh", "5001", "--seed", "5000", "--registry", "BDD.txt"], "cannot be used with"),
        (vec!["node", "mesh", "0", "--join", &silent], "did not answer"),
        (vec!["node", "mesh", "0", "--key-file", missing_key.to_str().unwrap()], "key file"),
        (vec!["node", "mesh", "70000"], "70000"),
    ];
    for (args, expected) in cases {
        let err = usage_error(&args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

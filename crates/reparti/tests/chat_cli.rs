//! `reparti chat` end to end: a real server process and real client processes on
//! loopback, and the one-line errors. Every server child is killed by a guard, even when
//! an assertion fails, and every client has a timeout.

use assert_cmd::Command;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn reparti() -> Command {
    let mut cmd = Command::cargo_bin("reparti").expect("the reparti binary is built for tests");
    cmd.timeout(WAIT);
    cmd
}

/// Kills and reaps the server when dropped: no process outlives its test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free for both TCP and UDP a moment ago.
fn free_port() -> u16 {
    let tcp = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let port = tcp.local_addr().expect("bound").port();
    match UdpSocket::bind(("127.0.0.1", port)) {
        Ok(_) => port,
        Err(_) => free_port(),
    }
}

/// Starts `reparti chat serve` on loopback and waits (bounded) for its "listening" line.
fn serve(port: u16, extra: &[&str]) -> KillOnDrop {
    let port = port.to_string();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("reparti"))
        .args(["chat", "serve", "--port", &port, "--bind", "127.0.0.1"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("reparti starts");
    let mut guard = KillOnDrop(child);
    let stdout = guard.0.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next());
        // Keep reading so the server never blocks on a full pipe.
        for _ in lines {}
    });
    let first = rx.recv_timeout(WAIT).expect("server printed in time");
    let first = first.and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with(&format!("listening on 127.0.0.1:{port}")), "server said: {first:?}");
    guard
}

/// Runs a client with `input` on stdin; returns (exit code, stdout, stderr).
fn connect(args: &[&str], input: &str) -> (Option<i32>, String, String) {
    let out = reparti().args(["chat", "connect"]).args(args).write_stdin(input).output().expect("reparti runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// One line on stderr, no panic.
fn assert_one_line(stderr: &str) {
    assert_eq!(stderr.trim_end().lines().count(), 1, "not one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn tcp_server_acknowledges_then_takes_the_next_client() {
    let port = free_port();
    let mut server = serve(port, &[]);
    let addr = format!("127.0.0.1:{port}");
    let (code, out, err) = connect(&[&addr], "bonjour\nFIN\n");
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.contains("ack: bonjour\nack: FIN\n"), "{out}");
    // The server loops: a second client is served too, and the server is still running.
    let (code, out, err) = connect(&[&addr], "encore\n\n");
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.contains("ack: encore\n"), "{out}");
    assert!(server.0.try_wait().expect("server status").is_none(), "server stopped after two clients");
}

#[test]
fn udp_server_acknowledges() {
    let port = free_port();
    let _server = serve(port, &["--udp"]);
    let (code, out, err) = connect(&[&format!("127.0.0.1:{port}"), "--udp"], "bonjour\nfin\n");
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.contains("ack: bonjour\nack: fin\n"), "{out}");
}

#[test]
fn port_in_use_is_one_line_and_exit_1() {
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("bound").port().to_string();
    let out = reparti().args(["chat", "serve", "--port", &port, "--bind", "127.0.0.1"]).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_one_line(&stderr);
    assert!(stderr.contains(&format!("port {port} is already in use")) && stderr.contains("--port"), "{stderr}");
}

#[test]
fn refused_and_bad_addresses_are_one_line() {
    let port = free_port();
    let (code, _, err) = connect(&[&format!("127.0.0.1:{port}")], "hello\n");
    assert_eq!(code, Some(1), "{err}");
    assert_one_line(&err);
    assert!(err.contains("refused") && err.contains(&format!("reparti chat serve --port {port}")), "{err}");

    // Bad input: exit 2.
    for args in [&["nowhere"][..], &["127.0.0.1:99999"], &["127.0.0.1:5000", "--bind-port", "x"]] {
        let (code, _, err) = connect(args, "");
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_one_line(&err);
    }
}

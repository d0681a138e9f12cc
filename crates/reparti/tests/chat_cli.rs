//! `reparti chat` end to end: a real server process and real client processes on
//! loopback, the lab sheet's own Python scripts (tests/lab_scripts/) on either side, the
//! typed dialogue, IPv6 alone, and the one-line errors. Every long-lived child is killed
//! by a guard, even when an assertion fails; every wait is bounded, and readiness is a
//! printed line, never a fixed sleep. Without python3 (or an IPv6 loopback) the tests
//! that need it say so and pass.

mod common;

use assert_cmd::Command;
use common::free_port;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn reparti() -> Command {
    let mut cmd = Command::cargo_bin("reparti").expect("the reparti binary is built for tests");
    cmd.timeout(WAIT);
    cmd
}

/// Kills and reaps the child when dropped: no process outlives its test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A long-lived child (a server) whose stdout lines are read as they come.
struct Running {
    child: KillOnDrop,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, for the assertions and the failure messages.
    seen: Vec<String>,
}

impl Running {
    /// Starts `cmd` with `input` on its stdin (closed after it: `None` gives none at all).
    fn start(mut cmd: std::process::Command, input: Option<&str>) -> Running {
        cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
        let child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the server starts");
        let mut child = KillOnDrop(child);
        if let (Some(input), Some(mut stdin)) = (input, child.0.stdin.take()) {
            // Small enough for the pipe's buffer: written at once, then closed.
            stdin.write_all(input.as_bytes()).expect("server's stdin");
        }
        let stdout = child.0.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // Reading to the end also keeps the server from blocking on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines, seen: Vec::new() }
    }

    /// Waits (bounded) for a line containing `needle`; returns it.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?} in time; the server said:\n{}", self.transcript()),
            }
        }
    }

    fn transcript(&self) -> String {
        self.seen.join("\n")
    }

    /// Waits (bounded) for the child to exit by itself; its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.0.try_wait().expect("poll the server") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not stop; it said:\n{}", self.transcript());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts `reparti chat serve ARGS` with `input` on its stdin and waits (bounded) for its
/// "listening" line; returns the server and the port it printed.
fn serve_with(args: &[&str], input: Option<&str>) -> (Running, u16) {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("reparti"));
    cmd.args(["chat", "serve"]).args(args);
    let mut server = Running::start(cmd, input);
    let first = server.wait_for("listening on ");
    let port = first
        .split_whitespace()
        .nth(2)
        .and_then(|addr| addr.rsplit(':').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    (server, port)
}

/// Starts `reparti chat serve` on loopback at `port`.
fn serve(port: u16, extra: &[&str]) -> Running {
    let port_arg = port.to_string();
    let (server, printed) = serve_with(&[&["--port", &port_arg, "--bind", "127.0.0.1"], extra].concat(), None);
    assert_eq!(printed, port, "{}", server.transcript());
    assert!(server.seen[0].starts_with(&format!("listening on 127.0.0.1:{port}")), "{}", server.transcript());
    server
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

/// The lab sheet's script `name`, and whether python3 runs here to run it (says why not).
fn sheet_script(name: &str) -> Option<PathBuf> {
    match std::process::Command::new("python3").arg("--version").output() {
        Ok(out) if out.status.success() => {
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lab_scripts").join(name))
        }
        Ok(out) => {
            eprintln!("skipped: python3 --version failed ({})", String::from_utf8_lossy(&out.stderr).trim());
            None
        }
        Err(e) => {
            eprintln!("skipped: cannot run python3 ({e})");
            None
        }
    }
}

/// python3 running `script` unbuffered (a student's terminal shows each print at once;
/// a pipe would hold them), in UTF-8 whatever the locale.
fn python(script: &PathBuf) -> std::process::Command {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-u").arg(script).env("PYTHONIOENCODING", "utf-8");
    cmd
}

/// Runs the sheet's client against `port` with `input` typed; returns its stdout.
fn sheet_client(script: &PathBuf, port: u16, input: &str) -> String {
    let out = Command::from_std(python(script))
        .arg(port.to_string())
        .timeout(WAIT)
        .write_stdin(input)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "client.py failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Whether this machine has an IPv6 loopback (says so when not).
fn ipv6_loopback() -> bool {
    match TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipped: [::1] is not bindable here ({e})");
            false
        }
    }
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
    assert!(server.child.0.try_wait().expect("server status").is_none(), "server stopped after two clients");
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
fn the_sheets_client_is_answered_without_a_newline() {
    let Some(client) = sheet_script("client.py") else { return };
    let (mut server, port) = serve_with(&["--port", "0", "--bind", "127.0.0.1"], None);
    let out = sheet_client(&client, port, "bonjour\nça va\nFin\n");
    // Each `send(msg.encode())` is one message, answered bare: `print` shows it as is.
    assert!(out.contains("Réponse : ack: bonjour\n"), "{out}");
    assert!(out.contains("Réponse : ack: ça va\n") && !out.contains("ack: ça va\n\n"), "{out}");
    server.wait_for("ended the dialogue");
    let log = server.transcript();
    for said in ["says: bonjour", "says: ça va", "says: Fin"] {
        assert!(log.contains(said), "{said:?} missing:\n{log}");
    }
}

#[test]
fn the_sheets_client_talks_with_an_interactive_server() {
    let Some(client) = sheet_script("client.py") else { return };
    let (mut server, port) =
        serve_with(&["--port", "0", "--bind", "127.0.0.1", "--interactive"], Some("salut\nbien\n"));
    let out = sheet_client(&client, port, "bonjour\nça va ?\nfin\n");
    assert!(out.contains("Réponse : salut\n") && out.contains("Réponse : bien\n"), "{out}");
    server.wait_for("ended the dialogue");
    // Both screens show the dialogue (exercise 3): the server's has what was typed.
    let log = server.transcript();
    assert!(log.contains("says: bonjour\n") && log.contains(": salut\n") && log.contains("says: ça va ?\n"), "{log}");
}

#[test]
fn the_sheets_server_hears_fin_from_reparti() {
    let Some(script) = sheet_script("serveur.py") else { return };
    let mut sheet_server = Running::start(
        {
            let mut cmd = python(&script);
            cmd.arg("0");
            cmd
        },
        Some("salut\nbien\n"),
    );
    let ready = sheet_server.wait_for("serveur en écoute sur le port");
    let port = ready.rsplit(' ').next().unwrap_or_default();
    let (code, out, err) = connect(&[&format!("127.0.0.1:{port}"), "--timeout", "5"], "bonjour\nça va ?\nfin\n");
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.contains("salut\nbien\n"), "{out}");
    // The server answered bare, so reparti sent `fin` bare too: the sheet's `msg.lower()
    // == 'fin'` saw it and closed at once — no wait for the timeout, no note.
    assert!(!out.contains("did not close"), "{out}");
    sheet_server.wait_for("fin du dialogue");
    let log = sheet_server.transcript();
    assert!(log.contains("reçu : fin") && !log.lines().any(|l| l == "reçu : "), "{log}");
}

#[test]
fn reparti_does_not_wait_for_ever_for_a_server_that_keeps_the_connection() {
    let Some(script) = sheet_script("serveur.py") else { return };
    let mut sheet_server = Running::start(
        {
            let mut cmd = python(&script);
            cmd.arg("0");
            cmd
        },
        Some("d'accord\n"),
    );
    let ready = sheet_server.wait_for("serveur en écoute sur le port");
    let port = ready.rsplit(' ').next().unwrap_or_default();
    // A first message `fin\n` is not the sheet's 'fin': its server answers and goes on
    // waiting. reparti waits --timeout for the close, says so in one line, and leaves.
    let (code, out, err) = connect(&[&format!("127.0.0.1:{port}"), "--timeout", "2"], "fin\n");
    assert_eq!((code, err.as_str()), (Some(0), ""), "{out}");
    assert!(out.contains("d'accord\n"), "{out}");
    let note: Vec<&str> = out.lines().filter(|l| l.contains("did not close the connection within 2 s")).collect();
    assert_eq!(note.len(), 1, "{out}");
    // Our close is the sheet server's empty message: its dialogue ends too.
    sheet_server.wait_for("fin du dialogue");
}

#[test]
fn interactive_server_sends_the_typed_replies_then_stops_when_they_run_out() {
    let (mut server, port) =
        serve_with(&["--port", "0", "--bind", "127.0.0.1", "-i"], Some("salut\n\nbien, et toi ?\n"));
    let addr = format!("127.0.0.1:{port}");
    let (code, out, err) = connect(&[&addr], "bonjour\nça va ?\nfin\n");
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.contains("salut\nbien, et toi ?\nack: fin\n"), "{out}");
    server.wait_for("ended the dialogue");
    let log = server.transcript();
    assert!(log.contains("(TCP; you type each reply)"), "{log}");
    assert!(log.contains("your reply to 127.0.0.1:") && log.contains("an empty reply cannot be sent"), "{log}");
    // No replies left: the next client's first message ends the server, cleanly.
    let (code, _, err) = connect(&[&addr], "encore ?\n");
    assert_eq!(code, Some(1), "{err}");
    assert_one_line(&err);
    assert_eq!(server.wait_exit(), Some(0), "{}", server.transcript());
    server.wait_for("no more replies to type");
}

#[test]
fn ipv6_server_refuses_ipv4_clients() {
    if !ipv6_loopback() {
        return;
    }
    for udp in [false, true] {
        // Free on IPv4 too, so that an IPv4 client finds nobody there but our server.
        let port = free_port().to_string();
        let udp_flag: &[&str] = if udp { &["--udp"] } else { &[] };
        let (_server, _) = serve_with(&[&["--port", &port, "--ipv6"], udp_flag].concat(), None);
        let (v4, v6) = (format!("127.0.0.1:{port}"), format!("[::1]:{port}"));
        let (code, out, err) = connect(&[&[v4.as_str()][..], udp_flag].concat(), "v4\nfin\n");
        assert_eq!(code, Some(1), "udp {udp}: {out}");
        assert_one_line(&err);
        assert!(err.contains("refused"), "udp {udp}: {err}");
        let (code, out, err) = connect(&[&[v6.as_str()][..], udp_flag].concat(), "v6\nfin\n");
        assert_eq!(code, Some(0), "udp {udp}: {err}");
        assert!(out.contains("ack: v6\n"), "udp {udp}: {out}");
    }
}

#[test]
fn port_in_use_is_one_line_and_exit_2() {
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("bound").port().to_string();
    let out = reparti().args(["chat", "serve", "--port", &port, "--bind", "127.0.0.1"]).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_one_line(&stderr);
    assert!(stderr.contains(&format!("port {port} is already in use")) && stderr.contains("--port"), "{stderr}");
    // The client's fixed port taken is the command line's to change too.
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (code, _, err) = connect(&[&server.local_addr().expect("bound").to_string(), "--bind-port", &port], "x\n");
    assert_eq!(code, Some(2), "{err}");
    assert_one_line(&err);
    assert!(err.contains("already in use") && err.contains("--bind-port"), "{err}");
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
    // A typed dialogue over UDP would outlast the client's wait for each answer.
    let out = reparti().args(["chat", "serve", "--port", "0", "--udp", "--interactive"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

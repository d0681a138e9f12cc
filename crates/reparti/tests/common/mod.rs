//! What the command-line tests share: running the binary, reading its JSON, and
//! asserting a usage error (exit 2, one line on stderr, nothing on stdout, no panic).
#![allow(dead_code)] // each test binary uses a different subset

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The `reparti` binary under test.
pub fn reparti() -> Command {
    Command::cargo_bin("reparti").expect("the reparti binary is built for tests")
}

/// Runs a command that must succeed and print one JSON document.
pub fn json_of(args: &[&str]) -> Value {
    let out = reparti().args(args).output().expect("reparti runs");
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document")
}

/// Runs reparti expecting a usage error: exit status 2, one line on stderr, nothing on
/// stdout, no panic; returns stderr.
pub fn usage_error(args: &[&str]) -> String {
    let out = reparti().args(args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?} should exit 2, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a report anyway");
    stderr
}

/// Child processes killed and reaped when dropped — on success, failure or panic — so no
/// process outlives a test.
pub struct Cluster(pub Vec<std::process::Child>);

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // Already exited: kill fails harmlessly; wait reaps either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether `python3` (with `cryptography` when `crypto`) runs here; says why not.
pub fn python_ready(crypto: bool) -> bool {
    let check = if crypto { "import cryptography" } else { "pass" };
    match std::process::Command::new("python3").args(["-c", check]).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            eprintln!("skipped: python3 cannot `{check}` ({})", String::from_utf8_lossy(&out.stderr).trim());
            false
        }
        Err(e) => {
            eprintln!("skipped: cannot run python3 ({e})");
            false
        }
    }
}

/// The node processes (not their supervisor) whose command line mentions `dir`.
pub fn nodes_of(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|raw| {
                    let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
                    cmdline.contains(&needle) && cmdline.contains("--supervised")
                })
                .unwrap_or(false)
        })
        .filter(|pid| {
            // A zombie already exited; only its parent's reaping is missing.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
                .unwrap_or(false)
        })
        .collect()
}

/// Waits (bounded) until no node process of `dir` is alive.
pub fn assert_none_left(dir: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = nodes_of(dir);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: node processes left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `n` addresses on 127.0.0.1 with ports free a moment ago, joined for `--peers`.
pub fn free_peers(n: usize) -> String {
    let addrs: Vec<String> = (0..n)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("a free port"))
        .map(|a| a.to_string())
        .collect();
    addrs.join(",")
}

/// A `reparti node ALGO --interactive` whose stdout and stderr lines are read as they
/// come, and which is killed and reaped when dropped.
pub struct Console {
    pub child: std::process::Child,
    pub stdin: Option<std::process::ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    pub seen: Vec<String>,
}

impl Console {
    /// Node `me` of `peers` running `algorithm` with `params` (`-p` values), a console
    /// on its stdin, and idle long enough that only `quit` ends it.
    pub fn start(algorithm: &str, me: u32, peers: &str, params: &[&str]) -> Console {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reparti"));
        command.args(["node", algorithm, "--me", &me.to_string(), "--peers", peers]);
        for param in params {
            command.args(["-p", param]);
        }
        let mut child = command
            .args(["--interactive", "--idle-ms", "20000"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the node starts");
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let out_tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stdin = child.stdin.take();
        Console { child, stdin, lines, seen: Vec::new() }
    }

    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("the node reads its console");
    }

    /// Reads lines until one contains `text` (bounded: a stuck node fails the test).
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("never printed «{text}»; printed:\n{}", self.seen.join("\n"));
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `reparti run ALGO --nodes N --json` with `-p P` for each of `params`, then
/// `extra`, keeping the nodes' files in a fresh folder; checks that the run succeeded
/// with N processes and left none behind, and returns its report.
pub fn run_report(algorithm: &str, nodes: usize, params: &[&str], extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let keep_text = keep.display().to_string();
    let n = nodes.to_string();
    let mut args = vec!["run", algorithm, "--nodes", &n, "--json", "--timeout", "60", "--keep", &keep_text];
    for p in params {
        args.extend(["-p", p]);
    }
    args.extend_from_slice(extra);
    let out = reparti().args(&args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    assert_none_left(&keep, &format!("{args:?}"));
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints one document");
    assert_eq!(report["real"]["processes"], nodes);
    report
}

/// A fresh key file for the encrypted runs, with the folder that holds it (keep it
/// alive while the runs use the key).
pub fn key_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("scratch folder");
    let key = dir.path().join("key");
    reparti().args(["keygen", "-o"]).arg(&key).assert().success();
    let key = key.display().to_string();
    (dir, key)
}

/// One link of the real-process matrix: its flags, and what the report must say of it.
pub struct Link<'a> {
    pub transport: &'static str,
    pub encrypted: bool,
    pub args: Vec<&'a str>,
}

/// The matrix every algorithm runs on real processes: UDP and TCP, plain and encrypted
/// with `key`, clean and with 20 % loss and 10 % duplication plus reordering (datagrams
/// held back on UDP, random delays on TCP) under the reliable layer.
pub fn links(key: &str) -> Vec<Link<'_>> {
    let mut links = Vec::new();
    for transport in ["udp", "tcp"] {
        for encrypted in [false, true] {
            for lossy in [false, true] {
                let mut args = vec!["--transport", transport];
                if encrypted {
                    args.extend(["--key-file", key]);
                }
                if lossy {
                    args.extend(["--loss", "0.2", "--dup", "0.1"]);
                    args.extend(if transport == "udp" { vec!["--reorder"] } else { vec!["--delay", "exp:1ms"] });
                }
                links.push(Link { transport, encrypted, args });
            }
        }
    }
    links
}

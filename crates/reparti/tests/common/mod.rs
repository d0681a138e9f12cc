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

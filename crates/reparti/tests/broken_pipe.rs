//! A reader that goes away (`reparti list | head -1`) ends a command quietly: status 0,
//! nothing on stderr, no panic.
//!
//! The pipe's reader is gone before reparti starts, so every command meets the closed
//! pipe on its first line, whatever the timing: the pipe is the standard input of a
//! `true` that has already exited, and reparti gets its write end as standard output.
#![cfg(unix)]

use std::process::{Command, Stdio};

/// Runs `reparti ARGS` with its standard output on a pipe nobody reads any more;
/// returns its exit code and what it wrote on stderr.
fn run_into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().expect("`true` runs");
    let pipe = reader.stdin.take().expect("the pipe's write end");
    reader.wait().expect("`true` ends");
    let out = Command::new(env!("CARGO_BIN_EXE_reparti"))
        .args(args)
        .stdout(Stdio::from(pipe))
        .stderr(Stdio::piped())
        .output()
        .expect("reparti runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn every_printing_command_exits_quietly_when_its_reader_is_gone() {
    let commands: &[&[&str]] = &[
        &["list"],
        &["list", "--json"],
        &["sim", "chang-roberts", "--nodes", "20"],
        &["sim", "chang-roberts", "--nodes", "20", "--json"],
        &["check", "chang-roberts", "--nodes", "3"],
        &["check", "chang-roberts", "--nodes", "3", "--json"],
        &["--help"],
    ];
    for args in commands {
        let (code, stderr) = run_into_closed_pipe(args);
        assert_eq!(code, Some(0), "{args:?} should exit 0 on a closed pipe; stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert!(stderr.trim().is_empty(), "{args:?} should say nothing: {stderr}");
    }
}

#[test]
fn errors_are_still_errors_when_stdout_is_closed() {
    // A usage mistake is reported on stderr, which is still open, with its usual status.
    let (code, stderr) = run_into_closed_pipe(&["sim", "no-such-algorithm"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

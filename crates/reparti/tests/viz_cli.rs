//! `reparti viz` end to end: pictures and ShiViz logs from real traces, and every error
//! path exits 2 with one line.

use std::path::{Path, PathBuf};

mod common;
use common::reparti;

/// Runs reparti, expecting success; returns standard output and error.
fn ok(args: &[&str]) -> (String, String) {
    let out = reparti().args(args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).to_string(), stderr)
}

/// Runs reparti expecting a usage error: exit status 2, one line on stderr, no panic.
fn usage_error(args: &[&str]) -> String {
    let out = reparti().args(args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?} should exit 2, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?} should print one line: {stderr}");
    stderr
}

/// A Chang–Roberts trace with a loss and a crash, written into `dir`. The election fails
/// (exit status 1: properties violated), which is the point: the trace is still written.
fn trace(dir: &Path) -> PathBuf {
    let path = dir.join("cr.jsonl");
    let p = path.to_str().expect("a UTF-8 path");
    let out = reparti()
        .args(["sim", "chang-roberts", "--nodes", "6", "--loss", "0.1", "--crash", "2@3", "--trace", p])
        .output()
        .expect("reparti runs");
    assert!(path.exists(), "the trace was written: {}", String::from_utf8_lossy(&out.stderr));
    path
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn viz_without_output_writes_the_page_next_to_the_trace() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let t = trace(dir.path());
    let (stdout, _) = ok(&["viz", s(&t)]);
    let page = dir.path().join("cr.html");
    assert_eq!(stdout.trim(), format!("written to {}", page.display()), "says the path it wrote");
    let html = std::fs::read_to_string(&page).expect("the page exists");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("class=\"event ") && html.contains("class=\"message "));
    assert!(!html.contains("http://") && !html.contains("https://"), "self-contained");
}

#[test]
fn viz_writes_svg_html_and_shiviz() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let t = trace(dir.path());
    let svg = dir.path().join("cr.svg");
    let log = dir.path().join("cr.log");
    let (stdout, _) = ok(&["viz", s(&t), "-o", s(&svg), "--shiviz", s(&log), "--vertical"]);
    let written = [format!("written to {}", s(&svg)), format!("written to {}", s(&log))];
    assert_eq!(stdout.lines().collect::<Vec<_>>(), written);
    let picture = std::fs::read_to_string(&svg).expect("the SVG exists");
    assert!(picture.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(picture.contains("class=\"event crash\""), "the crash is drawn");
    let shiviz = std::fs::read_to_string(&log).expect("the log exists");
    let mut lines = shiviz.lines();
    assert_eq!(lines.next(), Some(reparti_viz_regex()));
    assert_eq!(lines.next(), Some(""));
    assert!(lines.next().is_some_and(|l| l.starts_with("n0 {\"n0\":1}")));

    // --shiviz alone writes only the log.
    let only = tempfile::tempdir().expect("a temp dir");
    let t = trace(only.path());
    let log = only.path().join("only.log");
    let (stdout, _) = ok(&["viz", s(&t), "--shiviz", s(&log)]);
    assert_eq!(stdout.trim(), format!("written to {}", s(&log)));
    assert!(!only.path().join("cr.html").exists(), "no page unless asked for");

    // An HTML page by name.
    let page = dir.path().join("page.html");
    ok(&["viz", s(&t), "-o", s(&page)]);
    assert!(std::fs::read_to_string(&page).expect("written").contains("id=\"trace-data\""));
}

fn reparti_viz_regex() -> &'static str {
    r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)"
}

#[test]
fn viz_draws_a_checker_counterexample() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let cx = dir.path().join("cx.jsonl");
    let out = reparti()
        .args(["check", "franklin", "--nodes", "3", "--ids", "3,1,2", "--param", "fixed=false", "--trace-out", s(&cx)])
        .output()
        .expect("reparti runs");
    assert!(cx.exists(), "the checker wrote a counterexample: {}", String::from_utf8_lossy(&out.stdout));
    let svg = dir.path().join("cx.svg");
    ok(&["viz", s(&cx), "-o", s(&svg), "--shiviz", s(&dir.path().join("cx.log"))]);
    assert!(std::fs::read_to_string(&svg).expect("written").contains("violation"), "the subtitle says why it stopped");
}

#[test]
fn viz_summarises_a_huge_trace() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let t = dir.path().join("big.jsonl");
    ok(&["sim", "chang-roberts", "--nodes", "300", "--trace", s(&t)]);
    let (_, stderr) = ok(&["viz", s(&t), "-o", s(&dir.path().join("big.html"))]);
    assert!(stderr.contains("note: showing ") && stderr.contains(" events (up to t = "), "{stderr}");
    assert!(stderr.contains("and 64 of 300 nodes"), "{stderr}");
}

#[test]
fn viz_errors_are_one_line_with_exit_status_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let t = trace(dir.path());
    let e = usage_error(&["viz", s(&dir.path().join("missing.jsonl"))]);
    assert!(e.contains("cannot read the trace") && e.contains("reparti sim --trace"), "{e}");
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, "hello\n").expect("written");
    assert!(usage_error(&["viz", s(&junk)]).contains("is not a reparti trace"));
    assert!(usage_error(&["viz", s(dir.path())]).contains("is a directory"));
    let e = usage_error(&["viz", s(&t), "-o", s(&dir.path().join("out.png"))]);
    assert!(e.contains(".html") && e.contains(".svg"), "{e}");
    let e = usage_error(&["viz", s(&t), "-o", s(&dir.path().join("no/such/dir/out.svg"))]);
    assert!(e.contains("cannot write"), "{e}");
    let e = usage_error(&["viz", s(&t), "--shiviz", s(&dir.path().join("no/such/dir/out.log"))]);
    assert!(e.contains("cannot write"), "{e}");
    usage_error(&["viz"]);
}

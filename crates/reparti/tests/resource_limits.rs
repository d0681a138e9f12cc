//! What cannot fit is refused before it is allocated, and files are read within bounds:
//! each refusal exits 2 with one line that names the cause and the fix, at once — a
//! refused run never starts allocating the gigabytes it would need (each command here
//! runs under a time limit, so a refusal that came too late, or a read that never
//! ends, fails the test instead of hanging it).

mod common;

use common::reparti;
use std::path::Path;
use std::time::Duration;

/// Far longer than any refusal takes (milliseconds), far shorter than the runs refused.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs reparti expecting a refusal: exit status 2, nothing on stdout, no panic, and
/// stderr one line; returns that line.
fn refused(args: &[&str]) -> String {
    let err = refused_lines(args);
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: not one line:\n{err}");
    err
}

/// Like [`refused`], for the refusals drawn at their place in a scenario (several lines).
fn refused_lines(args: &[&str]) -> String {
    let out = reparti().args(args).timeout(LIMIT).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?} should exit 2, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a report anyway");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

/// A sparse file of `len` bytes: it claims the size without taking the disk.
fn sparse(path: &Path, len: u64) {
    let f = std::fs::File::create(path).expect("the temporary folder is writable");
    f.set_len(len).expect("a sparse file");
}

#[test]
fn a_ring_too_large_for_the_memory_allowed_is_refused_with_its_size() {
    let e = refused(&["sim", "chang-roberts", "--nodes", "100000000", "--max-memory", "1G"]);
    assert!(e.starts_with("error: 100,000,000 nodes of chang-roberts would need about "), "{e}");
    assert!(e.contains(" GiB (mostly the event queue), but --max-memory allows 1.0 GiB"), "{e}");
    assert!(e.contains("use fewer nodes (about ") && e.contains(" fit)"), "{e}");
}

#[test]
fn a_ring_too_large_for_the_machine_is_refused_with_what_is_available() {
    if reparti_core::machine_memory::available_bytes().is_none() {
        eprintln!("skipped: this machine does not say how much memory it has available");
        return;
    }
    // Two billion nodes need hundreds of GiB: no machine this runs on has them free.
    let e = refused(&["sim", "chang-roberts", "--nodes", "2000000000"]);
    assert!(e.contains("2,000,000,000 nodes of chang-roberts would need about "), "{e}");
    assert!(e.contains(" is available; use fewer nodes (about "), "{e}");
}

#[test]
fn a_workload_too_large_is_named_as_the_cause() {
    let e = refused(&["sim", "logical-clocks", "--nodes", "100000000", "--max-memory", "4G"]);
    assert!(e.contains("100,000,000 nodes of logical-clocks would need about "), "{e}");
    assert!(e.contains("mostly the workload: 1,000,000,000 inputs"), "{e}");
    assert!(e.contains("or a smaller workload (its parameters: `reparti list`)"), "{e}");
    // The parameter alone, on the default node count.
    let e = refused(&["sim", "ricart-agrawala", "--param", "requests=100000", "--max-memory", "40M"]);
    assert!(e.contains("mostly the workload: 500,000 inputs"), "{e}");
}

#[test]
fn vector_clocks_too_large_are_named_with_their_switch() {
    let e = refused(&["sim", "chang-roberts", "--nodes", "4000", "--vector-clocks", "on", "--max-memory", "100M"]);
    assert!(e.contains("mostly vector clocks") && e.contains("or --vector-clocks off"), "{e}");
}

#[test]
fn a_run_that_fits_runs() {
    let out = reparti()
        .args(["sim", "chang-roberts", "--nodes", "1000", "--max-memory", "512M"])
        .timeout(LIMIT)
        .output()
        .expect("reparti runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_run_that_outgrows_its_estimate_is_stopped_by_its_watch() {
    // Ricart–Agrawala broadcasts each request on a complete graph: up to n² messages in
    // flight, which the estimate (two per node) does not foresee. The estimate (about
    // 33 MiB) fits in 48 MiB; the run, about 88 MiB at its peak, is stopped on the way.
    let args = ["sim", "ricart-agrawala", "--nodes", "1000", "--param", "requests=2", "--max-memory", "48M"];
    let e = refused(&args);
    assert!(e.starts_with("error: ricart-agrawala outgrew its memory after "), "{e}");
    assert!(e.contains("more than --max-memory allows (48.0 MiB); use fewer nodes"), "{e}");
}

#[test]
fn too_many_reports_for_json_are_refused_before_the_runs() {
    let e = refused(&["sim", "chang-roberts", "--runs", "100000000", "--json", "--max-memory", "1G"]);
    assert!(e.contains("--runs 100,000,000 --json would keep 100,000,000 reports of about "), "{e}");
    assert!(e.contains("but --max-memory allows 1.0 GiB; use fewer runs (about "), "{e}");
    assert!(e.contains("or drop --json"), "{e}");
}

#[test]
fn many_runs_without_json_keep_no_reports() {
    // A thousand runs summarised as they finish: the figures, not a thousand reports.
    let out = reparti()
        .args(["sim", "chang-roberts", "--nodes", "5", "--runs", "1000", "--max-memory", "256M"])
        .timeout(LIMIT)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1000 runs, seeds 1..=1000"), "{stdout}");
    assert!(stdout.contains("all properties hold in every run"), "{stdout}");
}

#[test]
fn a_bad_memory_size_is_one_line() {
    let e = refused(&["sim", "chang-roberts", "--max-memory", "lots"]);
    assert!(e.contains("512M or 4G"), "{e}");
}

#[test]
fn a_scenario_naming_a_device_as_its_topology_is_refused_unread() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let scenario = dir.path().join("zero.toml");
    std::fs::write(&scenario, "algorithm = \"chang-roberts\"\n[topology]\nkind = \"file:/dev/zero\"\n")
        .expect("written");
    // Scenario mistakes are drawn at their line; the cause and the fix are one line of it.
    let e = refused_lines(&["sim", s(&scenario)]);
    assert!(e.contains("edge list /dev/zero: it is a character device, not a regular file"), "{e}");
    assert!(e.contains("give the path of a file"), "{e}");
}

#[test]
fn a_scenario_too_large_for_the_machine_is_refused_before_its_instance_is_made() {
    if reparti_core::machine_memory::available_bytes().is_none() {
        eprintln!("skipped: this machine does not say how much memory it has available");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let scenario = dir.path().join("huge.toml");
    // Checking a scenario makes its instance, workload included: judged before that.
    std::fs::write(&scenario, "algorithm = \"logical-clocks\"\n[topology]\nnodes = 100000000\n").expect("written");
    let e = refused_lines(&["sim", s(&scenario)]);
    assert!(e.contains("100,000,000 nodes of logical-clocks would need about"), "{e}");
    assert!(e.contains("too many"), "the refusal points at `nodes`: {e}");
}

#[test]
fn a_topology_file_too_large_is_refused_unread() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let big = dir.path().join("edges.txt");
    sparse(&big, 8 << 30);
    let topology = format!("file:{}", s(&big));
    for args in [
        vec!["sim", "chang-roberts", "--topology", &topology],
        vec!["check", "chang-roberts", "--topology", &topology],
        vec!["topo", "--topology", &topology],
    ] {
        let e = refused(&args);
        assert!(e.contains("it is larger than 64.0 MiB, the most a topology file may hold"), "{args:?}: {e}");
        assert!(e.contains("check the path, or split the file"), "{args:?}: {e}");
    }
}

#[test]
fn a_scenario_file_too_large_is_refused_unread() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let big = dir.path().join("big.toml");
    sparse(&big, 1 << 30);
    let e = refused(&["sim", s(&big)]);
    assert!(e.contains("scenario file") && e.contains("larger than 4.0 MiB"), "{e}");
}

#[test]
fn a_pipe_is_not_opened_so_nothing_hangs() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    // Nobody writes to the pipe: opening it would block for ever.
    let topology = format!("file:{}", s(&fifo));
    let e = refused(&["sim", "chang-roberts", "--topology", &topology]);
    assert!(e.contains("it is a pipe (FIFO), not a regular file"), "{e}");
    for args in [vec!["viz", s(&fifo)], vec!["sim", "--replay", s(&fifo)]] {
        let e = refused(&args);
        assert!(e.contains("pipe (FIFO)"), "{args:?}: {e}");
    }
}

#[test]
fn a_trace_whose_header_line_is_huge_is_refused_at_the_cap() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let trace = dir.path().join("huge-header.jsonl");
    // A header that names 35 million identities on one 70 MB line.
    let mut header = b"{\"trace\":\"reparti\",\"version\":1,\"idents\":[".to_vec();
    header.extend(b"1,".repeat(35 << 20));
    std::fs::write(&trace, header).expect("written");
    for args in [vec!["viz", s(&trace)], vec!["sim", "--replay", s(&trace)]] {
        let e = refused(&args);
        assert!(e.contains("trace line 1: the line is longer than 64.0 MiB"), "{args:?}: {e}");
    }
}

#[test]
fn a_trace_too_large_for_the_memory_is_refused_unread() {
    if reparti_core::machine_memory::available_bytes().is_none() {
        eprintln!("skipped: this machine does not say how much memory it has available");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let trace = dir.path().join("run.jsonl");
    sparse(&trace, 1 << 40);
    for args in [vec!["viz", s(&trace)], vec!["sim", "--replay", s(&trace)]] {
        let e = refused(&args);
        assert!(e.contains("holds 1.0 TiB; reading it would take about 6.0 TiB"), "{args:?}: {e}");
        assert!(e.contains("record a shorter run"), "{args:?}: {e}");
    }
    let e = refused(&["viz", "/dev/zero"]);
    assert!(e.contains("character device"), "{e}");
}

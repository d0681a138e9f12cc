//! `reparti lin` from the command line: verdicts and exit statuses on reparti's and
//! Jepsen's formats, the failing key and operation named, JSON output, a budget that
//! runs out saying unknown, and bad input refused in one line.

mod common;

use common::reparti;
use std::path::Path;

fn lin(file: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = reparti().arg("lin").arg(file).args(extra).output().expect("reparti runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const TWO_KEYS: &str = "\
{\"client\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x\",\"value\":1,\"t\":0}
{\"client\":2,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"y\",\"value\":5,\"t\":0}
{\"client\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"x\",\"value\":1,\"t\":1}
{\"client\":2,\"type\":\"ok\",\"f\":\"write\",\"key\":\"y\",\"value\":5,\"t\":1}
{\"client\":3,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"y\",\"t\":2}
{\"client\":3,\"type\":\"ok\",\"f\":\"read\",\"key\":\"y\",\"value\":1,\"t\":3}
";

#[test]
fn a_stale_read_on_one_key_is_named_with_its_line_and_exit_1() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("h.jsonl");
    std::fs::write(&file, TWO_KEYS).expect("written");
    let (code, stdout, _) = lin(&file, &["--model", "kv"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("3 operations over 2 key(s), model kv: NOT linearizable"), "{stdout}");
    assert!(stdout.contains("key y: 2 operations; the longest prefix that can be ordered places 1"), "{stdout}");
    assert!(stdout.contains("✗ #2 client 3: read y → 1 [2, 3] (line 5)"), "{stdout}");
    assert!(!stdout.contains("key x:"), "key x is linearizable: {stdout}");
    let (_, json, _) = lin(&file, &["--model", "kv", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["verdict"], "not-linearizable");
    assert_eq!(v["keys"][0]["verdict"], "linearizable", "x");
    assert_eq!(v["keys"][1]["blocked_line"], 5, "y");
    // Read 5 instead: every key linearizable, exit 0.
    std::fs::write(&file, TWO_KEYS.replace("\"value\":1,\"t\":3", "\"value\":5,\"t\":3")).expect("written");
    let (code, stdout, _) = lin(&file, &["--model", "kv"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains(": linearizable"), "{stdout}");
    // A read of the initial value after the write: stale, yet sequentially consistent.
    let stale = "{\"client\":1,\"type\":\"invoke\",\"f\":\"write\",\"value\":1,\"t\":0}\n\
                 {\"client\":1,\"type\":\"ok\",\"f\":\"write\",\"value\":1,\"t\":1}\n\
                 {\"client\":2,\"type\":\"invoke\",\"f\":\"read\",\"t\":2}\n\
                 {\"client\":2,\"type\":\"ok\",\"f\":\"read\",\"value\":null,\"t\":3}\n";
    std::fs::write(&file, stale).expect("written");
    assert_eq!(lin(&file, &["--model", "register"]).0, Some(1));
    let (code, stdout, _) = lin(&file, &["--model", "register", "--consistency", "sequential"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("model register: sequentially consistent"), "{stdout}");
}

#[test]
fn a_jepsen_log_with_an_unknown_outcome_is_judged_with_it_pending() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("jepsen.log");
    let log = "INFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 1\t:invoke\t:cas\t[3 4]\n\
               INFO  jepsen.util - 0\t:ok\t:write\t3\nINFO  jepsen.util - 1\t:info\t:cas\t[3 4]\n\
               INFO  jepsen.util - 2\t:invoke\t:read\tnil\nINFO  jepsen.util - 2\t:ok\t:read\t4\n";
    std::fs::write(&file, log).expect("written");
    let (code, stdout, _) = lin(&file, &["--model", "cas-register"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("witness order for the object:"), "{stdout}");
    assert!(stdout.contains("cas 3 4 → pending [2, ∞]"), "{stdout}");
}

#[test]
fn a_budget_that_runs_out_is_unknown_exit_3() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("h.jsonl");
    let mut text = String::new();
    for c in 0..8 {
        text.push_str(&format!("{{\"client\":{c},\"type\":\"invoke\",\"f\":\"write\",\"value\":{c},\"t\":0}}\n"));
    }
    for c in 0..8 {
        text.push_str(&format!("{{\"client\":{c},\"type\":\"ok\",\"f\":\"write\",\"value\":{c},\"t\":1}}\n"));
    }
    text.push_str("{\"client\":9,\"type\":\"invoke\",\"f\":\"read\",\"t\":2}\n{\"client\":9,\"type\":\"ok\",\"f\":\"read\",\"value\":42,\"t\":3}\n");
    std::fs::write(&file, text).expect("written");
    let (code, stdout, _) = lin(&file, &["--model", "register", "--max-configurations", "3"]);
    assert_eq!(code, Some(3), "{stdout}");
    assert!(stdout.contains("unknown (the budget ran out"), "{stdout}");
    let (code, _, _) = lin(&file, &["--model", "register"]);
    assert_eq!(code, Some(1), "with room, the read of 42 is found impossible");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("scratch");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"client\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{oops\n").expect("written");
    let queue = dir.path().join("queue.jsonl");
    std::fs::write(&queue, "{\"client\":1,\"type\":\"invoke\",\"f\":\"dequeue\"}\n").expect("written");
    for (args, says) in [
        (vec![bad.to_str().expect("utf-8")], "line 2: not JSON"),
        (vec![queue.to_str().expect("utf-8"), "--model", "register"], "line 1: the register model has no 'dequeue'"),
        (vec![queue.to_str().expect("utf-8"), "--model", "stack"], "unknown model 'stack'"),
        (vec![queue.to_str().expect("utf-8"), "--time-limit", "0"], "--time-limit"),
        (vec!["/nonexistent/h.jsonl"], "cannot read"),
        (vec![queue.to_str().expect("utf-8"), "--consistency", "causal"], "--consistency causal"),
    ] {
        let out = reparti().arg("lin").args(&args).output().expect("reparti runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn jepsen_edn_maps_are_judged_and_their_errors_name_the_line() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("history.edn");
    let edn = "{:process 0, :type :invoke, :f :write, :key \"a\", :value 1, :time 10}\n\
               {:process 0, :type :ok, :f :write, :key \"a\", :value 1, :time 20}\n\
               {:process 1, :type :invoke, :f :read, :key \"a\", :value nil, :time 30}\n\
               {:process 1, :type :ok, :f :read, :key \"a\", :value 1, :time 40}\n";
    std::fs::write(&file, edn).expect("written");
    let (code, stdout, _) = lin(&file, &["--model", "kv"]);
    assert_eq!(code, Some(0), "{stdout}");
    std::fs::write(&file, edn.replace(":value 1, :time 40", ":value 2, :time 40")).expect("written");
    let (code, stdout, _) = lin(&file, &["--model", "kv"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("read a → 2"), "{stdout}");
    std::fs::write(&file, edn.replace(":time 30}", ":time 30")).expect("written");
    let (code, _, stderr) = lin(&file, &["--model", "kv"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
}

#[test]
fn the_picture_shows_the_failing_key_with_its_prefix_numbered_and_the_blocked_operation() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = dir.path().join("h.jsonl");
    std::fs::write(&file, TWO_KEYS).expect("written");
    let svg = dir.path().join("h.svg");
    let (code, stdout, _) = lin(&file, &["--model", "kv", "-o", svg.to_str().expect("utf-8")]);
    assert_eq!(code, Some(1), "{stdout}");
    let picture = std::fs::read_to_string(&svg).expect("the picture is written");
    assert!(picture.contains("key y: NOT linearizable: 1 of 2 operations can be ordered, then #2 cannot"), "{picture}");
    assert!(picture.contains("1. write 5 → ok"), "the placed write, numbered: {picture}");
    assert!(picture.contains("✗ read → 1"), "the stale read, marked: {picture}");
    assert!(picture.contains("client 3") && !picture.contains("client 1<"), "only key y's clients: {picture}");
    // A linearizable history: every bar numbered in the witness order.
    std::fs::write(&file, TWO_KEYS.replace("\"value\":1,\"t\":3", "\"value\":5,\"t\":3")).expect("written");
    let (code, _, _) = lin(&file, &["--model", "kv", "-o", svg.to_str().expect("utf-8")]);
    assert_eq!(code, Some(0));
    let picture = std::fs::read_to_string(&svg).expect("written");
    assert!(picture.contains("linearizable: 1 operations, numbered in a witness order"), "key x first: {picture}");
    // Not an SVG name: refused before any work, in one line.
    let (code, _, stderr) = lin(&file, &["--model", "kv", "-o", "h.png"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("name it FILE.svg"), "{stderr}");
}

/// A simulated run writes its clients' history (`--history`), which `reparti lin` judges,
/// as it judges the run's trace directly; replicas that read locally leave a history
/// that is sequentially consistent but, on this seed, not linearizable.
#[test]
fn a_simulated_runs_history_is_written_and_judged_from_the_file_or_the_trace() {
    let dir = tempfile::tempdir().expect("scratch");
    let (history, trace) = (dir.path().join("h.jsonl"), dir.path().join("t.jsonl"));
    let out = reparti()
        .args(["sim", "single-copy", "-n", "3", "-p", "ops=4", "-p", "keys=2", "-p", "cas=0.3", "--history"])
        .arg(&history)
        .arg("--trace")
        .arg(&trace)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("history written to") && stdout.contains("(12 operations, 0 pending)"), "{stdout}");
    assert!(stdout.contains("✓ the history is linearizable"), "{stdout}");
    let text = std::fs::read_to_string(&history).expect("history");
    assert_eq!(text.lines().filter(|l| l.contains("\"invoke\"")).count(), 12, "{text}");
    for file in [&history, &trace] {
        let (code, stdout, stderr) = lin(file, &["--model", "kv"]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(stdout.contains("12 operations over 2 key(s), model kv: linearizable"), "{stdout}");
    }
}

#[test]
fn local_reads_leave_a_sequentially_consistent_history_that_is_not_linearizable() {
    let dir = tempfile::tempdir().expect("scratch");
    let history = dir.path().join("h.jsonl");
    let out = reparti()
        .args(["sim", "tob-sequencer", "-n", "4", "-p", "ops=5", "-p", "read=local", "--history"])
        .arg(&history)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("✓ the history is sequentially consistent"), "{stdout}");
    let (code, stdout, _) = lin(&history, &["--model", "kv"]);
    assert_eq!(code, Some(1), "local reads are stale here: {stdout}");
    let (code, stdout, _) = lin(&history, &["--model", "kv", "--consistency", "sequential"]);
    assert_eq!(code, Some(0), "{stdout}");
}

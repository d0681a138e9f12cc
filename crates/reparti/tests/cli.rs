//! The command line, end to end: each command, each error path.

use serde_json::Value;

mod common;
use common::{json_of, reparti, usage_error};

#[test]
fn list_shows_every_algorithm_by_chapter() {
    let out = reparti().arg("list").output().expect("reparti runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // Whatever the catalogue holds, the list shows all of it, each under its chapter.
    for spec in reparti_algos::specs() {
        assert!(text.contains(spec.name), "list misses {}:\n{text}", spec.name);
        assert!(text.contains(spec.chapter.title()), "list misses chapter {}", spec.chapter);
    }
    let json = json_of(&["list", "--json"]);
    let specs = json.as_array().expect("an array of algorithms");
    let mut listed: Vec<&str> = specs.iter().filter_map(|s| s["name"].as_str()).collect();
    let mut catalogue = reparti_algos::names();
    listed.sort_unstable();
    catalogue.sort_unstable();
    assert_eq!(listed, catalogue, "the JSON list is the whole catalogue");
    assert!(specs.iter().all(|s| s["topologies"].as_array().is_some_and(|t| !t.is_empty())));
}

#[test]
fn sim_json_has_every_documented_field() {
    let r = json_of(&["sim", "chang-roberts", "--nodes", "50", "--json"]);
    for field in [
        "algorithm",
        "nodes",
        "seed",
        "stop",
        "outputs",
        "properties",
        "messages",
        "expected",
        "time",
        "rounds",
        "events",
        "events_per_sec",
    ] {
        assert!(r.get(field).is_some(), "missing field {field}");
    }
    assert_eq!(r["algorithm"], "chang-roberts");
    assert_eq!(r["nodes"], 50);
    assert_eq!(r["stop"], "quiescence");
    assert_eq!(r["outputs"]["leader"]["50"], 50, "every node learns that identity 50 leads");
    let props = r["properties"].as_array().expect("a list");
    assert!(!props.is_empty());
    assert!(props.iter().all(|p| p["holds"] == true && p["name"].is_string()));
    assert_eq!(r["messages"]["by_type"]["ELECTED"], 50);
    let expected_elect = &r["expected"]["ELECT"];
    assert!(expected_elect["formula"].is_string() && expected_elect["value"].is_number());
    assert_eq!(expected_elect["measured"], r["messages"]["by_type"]["ELECT"]);
    assert!(r["events_per_sec"].as_f64().is_some_and(|v| v > 0.0));
}

#[test]
fn sim_summary_is_readable() {
    let out = reparti().args(["sim", "chang-roberts", "--nodes", "20", "--ids", "desc"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✓"), "{text}");
    assert!(text.contains("n(n+1)/2"), "the worst case formula is shown beside the count:\n{text}");
    assert!(text.contains("210"), "20·21/2 = 210 ELECT messages:\n{text}");
    assert!(text.contains("verdict: all properties hold"), "{text}");
}

#[test]
fn same_seed_same_trace_bytes_different_seed_different_trace() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    for (file, seed) in [("a.jsonl", "7"), ("b.jsonl", "7"), ("c.jsonl", "8")] {
        reparti()
            .args([
                "sim",
                "chang-roberts",
                "--nodes",
                "12",
                "--no-fifo",
                "--delay",
                "uniform:1,5",
                "--seed",
                seed,
                "--trace",
                &path(file),
            ])
            .assert()
            .success();
    }
    let read = |f: &str| std::fs::read(path(f)).expect("trace written");
    assert_eq!(read("a.jsonl"), read("b.jsonl"));
    assert_ne!(read("a.jsonl"), read("c.jsonl"));
    let trace =
        reparti_core::trace::read_trace(std::io::BufReader::new(std::fs::File::open(path("a.jsonl")).expect("open")))
            .expect("the trace reads back");
    assert_eq!(trace.header.algorithm, "chang-roberts");
    assert_eq!(trace.end.as_ref().map(|e| e.stop.as_str()), Some("quiescence"));
}

#[test]
fn runs_summarise_many_seeds() {
    let out = reparti().args(["sim", "franklin", "--nodes", "16", "--runs", "6"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("min") && text.contains("mean") && text.contains("max"), "{text}");
    let j = json_of(&["sim", "franklin", "--nodes", "16", "--runs", "6", "--json"]);
    assert_eq!(j["runs"], 6);
    assert_eq!(j["reports"].as_array().map(Vec::len), Some(6));
    assert!(j["figures"]["messages"]["min"].as_f64() <= j["figures"]["messages"]["max"].as_f64());
}

#[test]
fn sync_mode_counts_rounds() {
    let r = json_of(&["sim", "chang-roberts", "--nodes", "10", "--ids", "asc", "--sync", "--json"]);
    assert!(r["rounds"].as_u64().is_some_and(|x| x > 0), "{}", r["rounds"]);
}

#[test]
fn faults_are_reported_not_fatal() {
    let out =
        reparti().args(["sim", "chang-roberts", "--nodes", "10", "--crash", "3@0.5", "--json"]).output().expect("runs");
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(r["messages"]["dropped"].as_u64().is_some_and(|d| d > 0), "messages to the crashed node are dropped");
    assert_eq!(out.status.code(), Some(1), "a run whose properties fail exits 1");
}

#[test]
fn unknown_algorithm_suggests_the_nearest_name() {
    let err = usage_error(&["sim", "chang-robert"]);
    assert!(err.contains("unknown algorithm 'chang-robert'") && err.contains("did you mean 'chang-roberts'"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn topology_the_algorithm_does_not_accept_is_refused() {
    let err = usage_error(&["sim", "chang-roberts", "--topology", "complete"]);
    assert!(err.contains("does not run on the topology 'complete'") && err.contains("ring"), "{err}");
}

#[test]
fn malformed_flags_are_refused_with_the_fix() {
    assert!(usage_error(&["sim", "chang-roberts", "--delay", "gauss:1"]).contains("const:D"));
    assert!(usage_error(&["sim", "chang-roberts", "--loss", "2"]).contains("probability"));
    assert!(usage_error(&["sim", "chang-roberts", "--topology", "moebius"]).contains("unknown topology"));
    assert!(usage_error(&["sim", "chang-roberts", "--ids", "1,1,2", "--nodes", "3"]).contains("repeats identity 1"));
    assert!(usage_error(&["sim", "chang-roberts", "--ids", "1,2", "--nodes", "3"]).contains("exactly one per node"));
    assert!(usage_error(&["sim", "chang-roberts", "--param", "nonsense=1"]).contains("no parameter 'nonsense'"));
    assert!(usage_error(&["sim", "chang-roberts", "--param", "noequals"]).contains("NAME=VALUE"));
    assert!(usage_error(&["sim", "chang-roberts", "--crash", "99@1", "--nodes", "5"]).contains("node 99"));
    assert!(usage_error(&["sim", "chang-roberts", "--crash", "three"]).contains("NODE@TIME"));
    assert!(usage_error(&["sim", "chang-roberts", "--partition", "1,2@9..3"]).contains("start before it ends"));
    assert!(usage_error(&["sim", "franklin", "--topology", "torus", "--nodes", "7"]).contains("does not run"));
    assert!(usage_error(&["sim", "logical-clocks", "--topology", "torus", "--nodes", "7"]).contains("torus"));
    assert!(usage_error(&["sim", "chang-roberts", "--nodes", "0"]).contains("at least 1"));
}

/// Every parameter of every algorithm declares what it takes: out of it is one line,
/// exit 2, in every command that builds a run — not a 343 GB allocation or a failed run.
#[test]
fn parameters_out_of_their_range_are_usage_errors_in_every_command() {
    for command in ["sim", "check", "run", "eval"] {
        let err = usage_error(&[command, "ricart-agrawala", "--param", "requests=4294967295"]);
        assert!(
            err.contains("parameter requests=4294967295: must be a whole number from 0 to 100000"),
            "{command}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{command}: one line: {err}");
    }
    assert!(usage_error(&["sim", "logical-clocks", "--param", "send_prob=2"]).contains("from 0 to 1"));
    assert!(usage_error(&["check", "franklin", "--param", "fixed=maybe"]).contains("true or false"));
    assert!(usage_error(&["sim", "chang-roberts-lab", "--param", "stop=never"]).contains("one of leader, all"));
}

#[test]
fn unwritable_trace_is_a_clear_runtime_error() {
    let out = reparti()
        .args(["sim", "chang-roberts", "--nodes", "5", "--trace", "/nonexistent-folder/run.jsonl"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("cannot create the trace file") && !err.contains("panicked"), "{err}");
}

#[test]
fn help_teaches_the_flags() {
    let out = reparti().args(["sim", "--help"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--nodes",
        "--topology",
        "--ids",
        "--seed",
        "--no-fifo",
        "--delay",
        "--loss",
        "--dup",
        "--sync",
        "--crash",
        "--param",
        "--trace",
        "--max-events",
        "--runs",
        "--json",
    ] {
        assert!(text.contains(flag), "--help misses {flag}");
    }
}

#[test]
fn bench_measures_each_size_in_its_own_process() {
    let j = json_of(&["bench", "--nodes", "1000,3000", "--json"]);
    let rows = j.as_array().expect("one row per size");
    assert_eq!(rows.len(), 2);
    for (row, n) in rows.iter().zip([1000, 3000]) {
        assert_eq!(row["nodes"], n);
        assert!(row["deliveries"].as_u64().is_some_and(|d| d >= 2 * n - 1), "at least the best case: {row}");
        assert!(row["peak_rss_bytes"].as_u64().is_some_and(|b| b > 0));
        assert_eq!(row["all_properties_hold"], true);
    }
}

#[test]
fn checker_bench_case_reports_its_figures() {
    let j = json_of(&["bench", "--one-check", "chang-roberts:4:1"]);
    assert_eq!(j["unique_states"], 216, "Chang–Roberts, 4 nodes, worst-case ids, unordered channels");
    assert_eq!(j["complete"], true);
    assert!(j["bytes_per_state"].as_f64().is_some_and(|b| b > 0.0));
}

/// A simulation's own trace replays to the same run: workloads (drawn after random
/// identities) and faults included.
#[test]
fn simulation_traces_replay_to_the_same_run() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let cases: &[&[&str]] = &[
        &["token-ring", "--nodes", "5"],
        &["token-ring", "--nodes", "5", "--no-fifo", "--delay", "uniform:1,5", "--loss", "0.1", "--dup", "0.1"],
        &["chang-roberts", "--nodes", "7", "--crash", "2@1.5"],
        &["ricart-agrawala", "--nodes", "4", "--no-fifo", "--delay", "exp:2"],
    ];
    for (k, case) in cases.iter().enumerate() {
        let trace = dir.path().join(format!("t{k}.jsonl")).to_string_lossy().to_string();
        let mut args = vec!["sim"];
        args.extend_from_slice(case);
        args.extend_from_slice(&["--keep-going", "--trace", &trace, "--json"]);
        let out = reparti().args(&args).output().expect("runs");
        let original: Value = serde_json::from_slice(&out.stdout).expect("json");
        let replayed = reparti().args(["sim", "--replay", &trace, "--json"]).output().expect("runs");
        let r: Value = serde_json::from_slice(&replayed.stdout)
            .unwrap_or_else(|_| panic!("{case:?}: {}", String::from_utf8_lossy(&replayed.stderr)));
        assert_eq!(r["same_violation"], true, "{case:?}: {r}");
        let report = &r["report"];
        assert_eq!(report["messages"]["total"], original["messages"]["total"], "{case:?}");
        assert_eq!(report["messages"]["by_type"], original["messages"]["by_type"], "{case:?}");
        let verdicts =
            |v: &Value| v["properties"].as_array().map(|ps| ps.iter().map(|p| p["holds"].clone()).collect::<Vec<_>>());
        assert_eq!(verdicts(report), verdicts(&original), "{case:?}");
    }
}

#[test]
fn keygen_prints_a_fernet_key_and_never_overwrites_one() {
    let out = reparti().arg("keygen").output().expect("runs");
    assert!(out.status.success());
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(key.len(), 44, "a Fernet key is 32 bytes in url-safe base64: {key}");
    assert!(reparti_net::secure::Key::from_text(&key).is_ok());
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("k.key").to_string_lossy().to_string();
    reparti().args(["keygen", "-o", &path]).assert().success();
    let written = std::fs::read_to_string(&path).expect("written");
    assert!(reparti_net::secure::Key::from_file(&path).is_ok(), "{written}");
    let again = reparti().args(["keygen", "-o", &path]).output().expect("runs");
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&path).expect("still there"), written, "the old key is kept");
}

#[test]
fn a_replay_gives_advice_that_fits_a_replay() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let trace = dir.path().join("t.jsonl");
    let t = trace.to_str().expect("utf-8 path");
    let out = reparti()
        .args(["sim", "chang-roberts", "--nodes", "4", "--no-fifo", "--vector-clocks", "off", "--trace", t])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let out = reparti().args(["sim", "--replay", t]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // Not `pass --vector-clocks on`, which a replay cannot use: the trace has none to give.
    assert!(text.contains("the trace has no vector clocks: record it again with --vector-clocks on"), "{text}");
    assert!(text.contains("network: non-FIFO channels, as recorded"), "{text}");
    assert!(!text.contains("speed:"), "a replay's speed says nothing of the run: {text}");
}

#[test]
fn summaries_count_in_english() {
    let out = reparti().args(["sim", "token-ring", "--nodes", "2", "--param", "laps=1"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("token-ring on a ring of 2 nodes"), "{text}");
    assert!(!text.contains("0 events/s"), "a rate over a few microseconds measures nothing: {text}");
    let out = reparti().args(["check", "ricart-agrawala", "--nodes", "2"]).output();
    let text = String::from_utf8_lossy(&out.expect("runs").stdout).to_string();
    assert!(text.contains("on a complete graph of 2 nodes") && text.contains(", 1 thread\n"), "{text}");
}

#[test]
fn a_parameter_naming_a_node_that_does_not_exist_is_a_usage_error_in_every_engine() {
    for engine in ["sim", "check", "run"] {
        let e = usage_error(&[engine, "chang-roberts", "--nodes", "4", "--param", "initiators=42"]);
        assert!(e.contains("initiators=42: names node 42, but the nodes are numbered 0 to 3"), "{engine}: {e}");
        let e = usage_error(&[engine, "token-ring", "--nodes", "3", "--param", "holder=3"]);
        assert!(e.contains("holder=3: names node 3"), "{engine}: {e}");
    }
    let e = usage_error(&["sim", "chang-roberts", "--param", "initiators=0,x"]);
    assert!(e.contains("'x' is not a node's position"), "{e}");
}

#[test]
fn negative_numbers_are_read_and_refused_by_their_flag() {
    let e = usage_error(&["sim", "chang-roberts", "--loss", "-0.1"]);
    assert!(e.contains("-0.1 is not a probability") && !e.contains("unexpected argument"), "{e}");
    for (flag, value) in [("--nodes", "-3"), ("--seed", "-1")] {
        let e = usage_error(&["sim", "chang-roberts", flag, value]);
        assert!(e.contains(&format!("{flag} {value}: a negative number")), "{e}");
        let e = usage_error(&["check", "chang-roberts", flag, value]);
        assert!(e.contains(&format!("{flag} {value}: a negative number")), "{e}");
    }
    let e = usage_error(&["sim", "chang-roberts", "--runs", "0"]);
    assert!(e.contains("0 runs would simulate nothing"), "{e}");
}

#[test]
fn one_name_per_idea_old_spellings_still_read() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let cx = dir.path().join("cx.jsonl");
    // `check --trace` like `sim --trace`; the old `--trace-out` is still read.
    for flag in ["--trace", "--trace-out"] {
        let out = reparti()
            .args(["check", "franklin", "--nodes", "3", "--ids", "3,1,2", "--param", "fixed=false", flag])
            .arg(&cx)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{flag}");
        assert!(cx.is_file(), "{flag} wrote no trace");
        std::fs::remove_file(&cx).expect("remove");
    }
    let help = String::from_utf8_lossy(&reparti().args(["check", "--help"]).output().expect("runs").stdout).to_string();
    assert!(help.contains("--trace <FILE>") && !help.contains("--trace-out <"), "{help}");
    let help = String::from_utf8_lossy(&reparti().args(["run", "--help"]).output().expect("runs").stdout).to_string();
    assert!(help.contains("--loss <P>") && !help.contains("--drop <"), "{help}");
    let help = String::from_utf8_lossy(&reparti().args(["sim", "--help"]).output().expect("runs").stdout).to_string();
    assert!(help.contains("or a scenario file"), "sim's help says it takes a scenario: {help}");
    let top = String::from_utf8_lossy(&reparti().arg("--help").output().expect("runs").stdout).to_string();
    // The one-line summary names every kind of command, not only list/sim/check/bench.
    let summary = top.lines().next().unwrap_or_default();
    for words in ["(sim)", "(check)", "(run, node)", "(viz, topo, eval)"] {
        assert!(summary.contains(words), "{summary}");
    }
}

#[test]
fn a_violation_counts_every_node_it_concerns() {
    // Every message lost: no node learns the leader. The detail names the first and
    // counts the others, instead of "(5 such node(s) shown)" with one shown.
    let out = reparti().args(["sim", "chang-roberts", "--nodes", "8", "--loss", "1"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("node 0 knows no leader, expected 8 (and 7 other nodes are wrong too)"), "{text}");
}

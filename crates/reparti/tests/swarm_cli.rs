//! `reparti swarm` and `check --bitstate` from the command line: a swarm plan is a job
//! directory of diversified `reparti check` searches (shuffled depth-first and random
//! walks, each with its own search and hash seeds); run line by line, its members catch
//! Suzuki–Kasami's classic broken release, and the merge names the first and the
//! shortest counterexample; on the fixed algorithm it finds nothing and says that proves
//! nothing; a missing member is named; bad input is one line, exit 2.

mod common;

use common::{json_of, reparti, usage_error};
use serde_json::Value;
use std::path::Path;

const BROKEN: &[&str] = &["-n", "3", "--ids", "asc", "-p", "requests=1", "-p", "fixed=false"];
const FIXED: &[&str] = &["-n", "3", "--ids", "asc", "-p", "requests=1"];

/// `swarm plan` of `k` members over `instance` into `dir`; the jobs' lines.
fn plan(dir: &Path, k: &str, instance: &[&str]) -> Vec<String> {
    let d = dir.to_string_lossy().to_string();
    // Walks bounded in number, so that a walker on the fixed algorithm ends by itself.
    let mut args = vec![
        "swarm",
        "plan",
        "suzuki-kasami",
        "-k",
        k,
        "--bitstate",
        "1M",
        "--max-seconds",
        "120",
        "--walks",
        "300",
        "--depth",
        "200",
        "-o",
        &d,
        "--",
    ];
    args.extend_from_slice(instance);
    let out = reparti().args(&args).output().expect("reparti runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("{k} searches of suzuki-kasami")) && said.contains("run-parallel.sh"), "{said}");
    std::fs::read_to_string(dir.join("jobs.txt")).expect("jobs.txt").lines().map(str::to_string).collect()
}

/// Runs one job line as sh would (GNU parallel, a Slurm task): it writes its result.
fn run_line(line: &str) {
    let status = std::process::Command::new("sh").arg("-c").arg(line).status().expect("sh runs");
    // A member that finds a counterexample exits 1, as `reparti check` does.
    assert!(matches!(status.code(), Some(0 | 1 | 3)), "{line}: {status:?}");
}

fn merge(dir: &Path, status: i32) -> Value {
    let out = reparti().args(["swarm", "merge", &dir.to_string_lossy(), "--json"]).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(status), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("merge --json prints one JSON document")
}

#[test]
fn a_swarm_of_diversified_searches_catches_the_broken_release_and_names_the_first_and_shortest() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path().join("swarm");
    let lines = plan(&dir, "4", BROKEN);
    assert_eq!(lines.len(), 4);
    // Odd members search depth-first, even ones walk; every member its own seeds.
    for (i, line) in lines.iter().enumerate() {
        let strategy = if i % 2 == 0 { "--strategy dfs" } else { "--strategy random" };
        assert!(line.contains(strategy), "member {}: {line}", i + 1);
        let seed = format!("--search-seed {} --bitstate 1048576 --hash-seed {}", i + 1, i + 1);
        assert!(line.contains(&seed) && line.contains("fixed=false") && line.contains("--json"), "{line}");
        assert!(line.contains(&format!("results/{:05}.json", i + 1)), "{line}");
    }
    let slurm = std::fs::read_to_string(dir.join("slurm.sbatch")).expect("slurm.sbatch");
    assert!(slurm.contains("--array=1-4"), "{slurm}");
    for line in &lines {
        run_line(line);
    }
    let s = merge(&dir, 1);
    assert_eq!((s["members"].as_u64(), s["done"].as_u64()), (Some(4), Some(4)), "{s}");
    // The exact breadth-first search's shortest run, for comparison.
    let mut exact_args = vec!["check", "suzuki-kasami", "--json", "--no-progress"];
    exact_args.extend_from_slice(BROKEN);
    let out = reparti().args(&exact_args).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(1));
    let exact: Value = serde_json::from_slice(&out.stdout).expect("json");
    let shortest_exact = exact["counterexample"]["steps"].as_array().expect("steps").len();
    let results = s["results"].as_array().expect("results");
    for m in results {
        // A bitstate array of 8 Mi bits for a few thousand states: every member stores
        // what it reaches, and every one of them, walks included, finds the lost token.
        assert!(m["estimated_coverage"].as_f64().is_some_and(|c| c > 0.999), "{m}");
        let steps = m["steps"].as_array().unwrap_or_else(|| panic!("member found nothing: {m}"));
        assert!(steps.len() >= shortest_exact, "{m}: shorter than the shortest run");
        assert_eq!(m["stop"], "violation");
    }
    let first = s["first"].as_u64().expect("a first counterexample");
    let shortest = s["shortest"].as_u64().expect("a shortest counterexample");
    let len = |k: u64| results.iter().find(|m| m["member"] == k).and_then(|m| m["steps"].as_array()).map(Vec::len);
    assert!(results.iter().all(|m| m["steps"].as_array().map(Vec::len) >= len(shortest)), "{s}");
    let secs = |k: u64| results.iter().find(|m| m["member"] == k).and_then(|m| m["seconds"].as_f64());
    assert!(results.iter().all(|m| m["seconds"].as_f64() >= secs(first)), "{s}");
    // The summary in words names both and prints the shortest run's steps.
    let out = reparti().args(["swarm", "merge", &dir.to_string_lossy()]).output().expect("reparti runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("first counterexample: member") && text.contains("shortest: member"), "{text}");
    assert!(text.contains("  1. "), "{text}");
}

#[test]
fn on_the_fixed_algorithm_a_swarm_finds_nothing_covers_the_space_and_claims_no_proof() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path().join("swarm");
    let lines = plan(&dir, "2", FIXED);
    for line in &lines {
        run_line(line);
    }
    let s = merge(&dir, 0);
    assert!(s["first"].is_null() && s["shortest"].is_null(), "{s}");
    let mut exact_args = vec!["check", "suzuki-kasami", "--json", "--no-progress", "--no-liveness"];
    exact_args.extend_from_slice(FIXED);
    let exact = json_of(&exact_args)["unique_states"].as_u64().expect("unique_states");
    // The depth-first member explores what the exact search does (bits to spare); the
    // walker stores a part of it; the union lies between the largest and the sum.
    let max = s["states_max"].as_u64().expect("states_max");
    let sum = s["states_sum"].as_u64().expect("states_sum");
    assert_eq!(max, exact, "{s}");
    assert!(sum >= max, "{s}");
    let out = reparti().args(["swarm", "merge", &dir.to_string_lossy()]).output().expect("reparti runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("no counterexample found") && text.contains("establishes nothing"), "{text}");
    // A member's result lost: named, the others still merged, exit 3.
    std::fs::remove_file(dir.join("results/00002.json")).expect("remove one result");
    let out = reparti().args(["swarm", "merge", &dir.to_string_lossy(), "--json"]).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(3));
    let s: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["missing"], serde_json::json!([2]));
    assert_eq!(s["done"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("member 2 has no readable result"));
}

#[test]
fn check_bitstate_from_the_command_line_reports_its_coverage_and_establishes_nothing() {
    let mut args = vec!["check", "suzuki-kasami", "--json", "--no-progress", "--bitstate", "4M", "--hash-seed", "5"];
    args.extend_from_slice(FIXED);
    let out = reparti().args(&args).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(3), "a partial search exits 3, as any search cut short");
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["stop"], "bitstate");
    assert_eq!(r["complete"], false);
    assert_eq!(r["bitstate"]["bytes"], 4 * 1024 * 1024);
    assert_eq!(r["bitstate"]["hash_seed"], 5);
    assert!(r["bitstate"]["estimated_coverage"].as_f64().is_some_and(|c| c > 0.9999), "{r}");
    assert!(r["properties"].as_array().expect("properties").iter().all(|p| p["holds"].is_null()), "{r}");
    let mut text_args = vec!["check", "suzuki-kasami", "--no-progress", "--bitstate", "4M"];
    text_args.extend_from_slice(FIXED);
    let out = reparti().args(&text_args).output().expect("reparti runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bitstate: 4.0 MiB of bits, 3 per state") && text.contains("hash factor"), "{text}");
}

#[test]
fn bad_swarm_and_bitstate_input_is_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let d = tmp.path().join("sw").to_string_lossy().to_string();
    for (args, says) in [
        (vec!["swarm", "plan", "suzuki-kasam", "-o", &d], "unknown algorithm 'suzuki-kasam'"),
        (vec!["swarm", "plan", "suzuki-kasami", "-o", &d, "--", "--strategy", "bfs"], "--strategy is the swarm's"),
        (vec!["swarm", "plan", "suzuki-kasami", "-o", &d, "--", "--nodez", "3"], "not `reparti check`'s"),
        (vec!["swarm", "plan", "suzuki-kasami", "-k", "0", "-o", &d], "-k 0 makes no swarm"),
        (vec!["swarm", "merge", &d], "cannot read"),
        (vec!["check", "suzuki-kasami", "--hash-seed", "3"], "add --bitstate SIZE"),
        (vec!["check", "suzuki-kasami", "--bitstate", "4M", "--hash-functions", "0"], "--hash-functions 0"),
        (vec!["check", "suzuki-kasami", "--bitstate", "lots"], "lots"),
    ] {
        let stderr = usage_error(&args);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(!Path::new(&d).join("jobs.txt").exists(), "a refused plan wrote jobs");
}

#[test]
fn a_scenario_asks_for_bitstate_and_the_command_line_overrides_its_seeds() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("sk-bitstate.toml");
    std::fs::write(
        &file,
        r#"description = "Suzuki–Kasami's broken release under bitstate, depth-first, shuffled"
algorithm = "suzuki-kasami"
seed = 1

[params]
requests = 1
fixed = false

[topology]
nodes = 3
ids = "asc"

[check]
strategy = "dfs"
bitstate = "2M"
hash_functions = 2
hash_seed = 7
search_seed = 3

[check.expect]
counterexample = true
others = "any"
"#,
    )
    .expect("write the scenario");
    let f = file.to_string_lossy().to_string();
    // The scenario expects the counterexample: found, it exits 0.
    let r = json_of_status(&["check", &f, "--json", "--no-progress"], 0);
    assert_eq!(r["bitstate"]["bytes"], 2 * 1024 * 1024, "{r}");
    assert_eq!((r["bitstate"]["hash_functions"].as_u64(), r["bitstate"]["hash_seed"].as_u64()), (Some(2), Some(7)));
    assert!(r["counterexample"].is_object(), "{r}");
    let r = json_of_status(&["check", &f, "--json", "--no-progress", "--hash-seed", "11", "--bitstate", "1M"], 0);
    assert_eq!((r["bitstate"]["bytes"].as_u64(), r["bitstate"]["hash_seed"].as_u64()), (Some(1 << 20), Some(11)));
    assert_eq!(r["bitstate"]["hash_functions"], 2, "the file's, not overridden");
    // A bad size in the file is named where it stands.
    std::fs::write(&file, std::fs::read_to_string(&file).expect("read").replace("\"2M\"", "\"lots\"")).expect("write");
    let out = reparti().args(["check", &f]).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lots"), "{}", String::from_utf8_lossy(&out.stderr));
}

fn json_of_status(args: &[&str], status: i32) -> Value {
    let out = reparti().args(args).output().expect("reparti runs");
    assert_eq!(out.status.code(), Some(status), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document")
}

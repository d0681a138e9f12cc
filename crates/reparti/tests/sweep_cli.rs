//! `reparti sweep plan` and `reparti sweep merge`: a grid written as a job directory
//! (jobs.txt, grid.json, the GNU parallel, Slurm and Kubernetes scripts), its jobs run by
//! GNU parallel and by plain `sh -c`, and the results merged into one CSV whose figures
//! are the runs' own (Chang–Roberts with identities in descending order sends exactly
//! n(n+1)/2 ELECT and n ELECTED messages). Tiny grids: each job takes milliseconds.

mod common;

use common::{reparti, usage_error};
use std::collections::BTreeMap;
use std::path::Path;

/// Plans a sweep into `dir` with `args` (after `sweep plan`), expecting success.
fn plan(dir: &Path, args: &[&str]) -> String {
    let out = reparti().args(["sweep", "plan", "-o"]).arg(dir).args(args).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "plan {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Runs every line of DIR/jobs.txt by `sh -c`, one after the other (no GNU parallel);
/// returns their exit statuses (1: a property failed, its result written all the same;
/// 2: the job's command line was refused).
fn run_each_by_sh(dir: &Path) -> Vec<i32> {
    let jobs = std::fs::read_to_string(dir.join("jobs.txt")).expect("jobs.txt");
    let mut codes = Vec::new();
    for line in jobs.lines() {
        let status = std::process::Command::new("sh").args(["-c", line]).status().expect("sh runs");
        codes.push(status.code().unwrap_or_else(|| panic!("{line}: killed, {status}")));
    }
    codes
}

/// Merges DIR into DIR/merged.csv; returns (stdout, stderr, rows as column → value).
fn merge(dir: &Path) -> (String, String, Vec<BTreeMap<String, String>>) {
    let csv_path = dir.join("merged.csv");
    let out = reparti().args(["sweep", "merge"]).arg(dir).arg("-o").arg(&csv_path).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "merge: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let mut reader = csv::Reader::from_path(&csv_path).expect("the CSV is written");
    let header: Vec<String> = reader.headers().expect("a header").iter().map(str::to_string).collect();
    let rows = reader
        .records()
        .map(|r| header.iter().cloned().zip(r.expect("a CSV record").iter().map(str::to_string)).collect())
        .collect();
    (String::from_utf8_lossy(&out.stdout).to_string(), stderr, rows)
}

fn parallel_installed() -> bool {
    let found = std::process::Command::new("parallel").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: GNU parallel is not installed (apt-get install parallel)");
    }
    found
}

#[test]
fn plan_writes_jobs_grid_and_the_three_runners() {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let dir = scratch.path().join("sw");
    let said = plan(&dir, &["sim", "chang-roberts,franklin", "-n", "4,8", "--seeds", "1..3", "--reparti", "reparti"]);
    assert!(said.contains("12 jobs"), "{said}");
    for runner in ["run-parallel.sh", "slurm.sbatch", "k8s-job.yaml", "sweep merge"] {
        assert!(said.contains(runner), "the plan says how to run: {runner}\n{said}");
    }
    let jobs = std::fs::read_to_string(dir.join("jobs.txt")).expect("jobs.txt");
    let lines: Vec<&str> = jobs.lines().collect();
    assert_eq!(lines.len(), 12);
    // Algorithm, then size, then seed, the seed fastest; each job writes its own JSON.
    assert!(lines[0].starts_with("reparti sim chang-roberts --nodes 4 --seed 1 "), "{}", lines[0]);
    assert!(lines[2].contains("--nodes 4 --seed 3"), "{}", lines[2]);
    assert!(lines[11].starts_with("reparti sim franklin --nodes 8 --seed 3 "), "{}", lines[11]);
    for (i, line) in lines.iter().enumerate() {
        assert!(line.contains("--json > "), "{line}");
        assert!(line.contains(&format!("results/{:05}.json 2> ", i + 1)), "{line}");
    }
    let grid: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("grid.json")).expect("grid.json")).expect("JSON");
    assert_eq!(grid["jobs"], 12);
    assert_eq!(grid["columns"], serde_json::json!(["engine", "algorithm", "n", "seed", "net", "extra"]));
    assert_eq!(grid["grid"][11]["index"], 12);
    assert_eq!(grid["grid"][11]["params"]["algorithm"], "franklin");
    assert_eq!(grid["grid"][11]["params"]["n"], 8);
    assert_eq!(grid["grid"][11]["params"]["seed"], 3);
    let slurm = std::fs::read_to_string(dir.join("slurm.sbatch")).expect("slurm.sbatch");
    assert!(slurm.contains("#SBATCH --array=1-12\n"), "{slurm}");
    assert!(slurm.contains("${SLURM_ARRAY_TASK_ID}p"), "{slurm}");
    let k8s = std::fs::read_to_string(dir.join("k8s-job.yaml")).expect("k8s-job.yaml");
    for needle in ["completionMode: Indexed", "completions: 12", "$((JOB_COMPLETION_INDEX + 1))p", "mountPath:"] {
        assert!(k8s.contains(needle), "{needle} in\n{k8s}");
    }
    let parallel = std::fs::read_to_string(dir.join("run-parallel.sh")).expect("run-parallel.sh");
    assert!(parallel.contains("parallel --jobs") && parallel.contains("--joblog"), "{parallel}");

    // The directory now holds a sweep: not overwritten, unless --force.
    let again = ["sweep", "plan", "sim", "chang-roberts", "-o", dir.to_str().expect("a UTF-8 path")];
    let refused = usage_error(&again);
    assert!(refused.contains("not empty") && refused.contains("--force"), "{refused}");
    let forced = plan(&dir, &["sim", "chang-roberts", "-n", "4", "--force"]);
    assert!(forced.contains("1 job written"), "{forced}");
    assert_eq!(std::fs::read_to_string(dir.join("jobs.txt")).expect("jobs.txt").lines().count(), 1);
}

#[test]
fn gnu_parallel_runs_the_jobs_and_merge_gathers_sim_and_check_figures() {
    if !parallel_installed() {
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let sim = scratch.path().join("sim");
    // A network label with a space and a comma: quoted for sh in jobs.txt and the CSV.
    plan(
        &sim,
        &[
            "sim",
            "chang-roberts",
            "-n",
            "4,8",
            "--seeds",
            "1..3",
            "--net",
            "uniform:1,10 --no-fifo",
            "--",
            "--ids",
            "desc",
        ],
    );
    let check = scratch.path().join("check");
    plan(&check, &["check", "chang-roberts", "-n", "3,4"]);
    for dir in [&sim, &check] {
        let status = std::process::Command::new("sh")
            .arg(dir.join("run-parallel.sh"))
            .env("JOBS", "2")
            .status()
            .expect("sh runs the GNU parallel script");
        assert!(status.success(), "{}: {status}", dir.display());
    }

    let (said, warnings, rows) = merge(&sim);
    assert!(said.contains("6 of 6 jobs merged, 0 missing"), "{said}");
    assert!(!warnings.contains("warning"), "{warnings}");
    assert_eq!(rows.len(), 6);
    for (i, row) in rows.iter().enumerate() {
        let n: u64 = row["n"].parse().expect("n");
        assert_eq!(row["job"], (i + 1).to_string());
        assert_eq!(row["algorithm"], "chang-roberts");
        assert_eq!(row["net"], "uniform:1,10 --no-fifo");
        assert_eq!(row["extra"], "--ids desc");
        assert_eq!(row["seed"], ((i % 3) + 1).to_string());
        assert_eq!(row["stop"], "quiescence");
        // Descending identities: every ELECT travels as far as it can, n(n+1)/2 of them.
        assert_eq!(row["messages_ELECT"], (n * (n + 1) / 2).to_string(), "{row:?}");
        assert_eq!(row["messages_ELECTED"], n.to_string(), "{row:?}");
        assert_eq!(row["messages"], (n * (n + 1) / 2 + n).to_string(), "{row:?}");
        assert_eq!(row["prop_at_most_one_leader"], "pass");
        assert_eq!(row["prop_exactly_one_leader_the_maximum_identity"], "pass");
    }

    let (said, _, rows) = merge(&check);
    assert!(said.contains("2 of 2 jobs merged") && said.contains("0 with a failed property"), "{said}");
    assert!(!said.contains("counterexample"), "{said}");
    assert_eq!(rows.len(), 2);
    let states: Vec<u64> = rows.iter().map(|r| r["unique_states"].parse().expect("a number of states")).collect();
    assert!(0 < states[0] && states[0] < states[1], "4 nodes have more states than 3: {states:?}");
    for row in &rows {
        assert_eq!(row["complete"], "true");
        assert_eq!(row["stop"], "exhausted");
        assert_eq!(row["counterexample"], "no");
        assert_eq!(row["prop_at_most_one_leader"], "pass");
        assert!(row.contains_key("states_per_sec") && row.contains_key("seconds"));
    }
}

#[test]
fn a_missing_or_broken_result_is_warned_about_and_the_rest_merged() {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let dir = scratch.path().join("sw");
    plan(&dir, &["sim", "chang-roberts", "-n", "4", "--seeds", "1..4", "--", "--ids", "desc"]);
    assert_eq!(run_each_by_sh(&dir), [0, 0, 0, 0]);
    std::fs::remove_file(dir.join("results/00002.json")).expect("a result to lose");
    std::fs::write(dir.join("results/00003.json"), "{\"cut sh").expect("a result cut short");
    let (said, warnings, rows) = merge(&dir);
    assert!(warnings.contains("warning: job 2:") && warnings.contains("00002.json is missing"), "{warnings}");
    assert!(warnings.contains("warning: job 3:") && warnings.contains("not a result"), "{warnings}");
    assert_eq!(warnings.lines().count(), 2, "one line per job: {warnings}");
    assert!(said.contains("2 of 4 jobs merged, 1 missing, 1 unreadable"), "{said}");
    let jobs: Vec<&str> = rows.iter().map(|r| r["job"].as_str()).collect();
    assert_eq!(jobs, ["1", "4"]);
    assert!(rows.iter().all(|r| r["messages"] == "14"), "{rows:?}");
}

#[test]
fn merge_names_the_first_and_the_shortest_counterexample() {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let dir = scratch.path().join("cx");
    // The broken Franklin stalls on 3,1,2; the correct Chang–Roberts finds nothing.
    plan(&dir, &["check", "chang-roberts,franklin", "-n", "3", "--", "--ids", "3,1,2", "-p", "fixed=false"]);
    // chang-roberts has no `fixed` parameter: its job fails, and the merge says why.
    assert_eq!(run_each_by_sh(&dir), [2, 1]);
    let (said, warnings, rows) = merge(&dir);
    assert!(warnings.contains("warning: job 1:") && warnings.contains("fixed"), "{warnings}");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["counterexample"], "yes");
    let property = &rows[0]["counterexample_property"];
    assert!(said.contains(&format!("the first: job 2 ({property} violated)")), "{said}");
    let steps = &rows[0]["counterexample_steps"];
    assert!(said.contains(&format!("the shortest: job 2 ({property} violated in {steps} steps)")), "{said}");
    assert!(said.contains("1 with a failed property (jobs 2)"), "{said}");
}

#[test]
fn mistakes_are_one_line_with_their_fix() {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let out = scratch.path().join("x");
    let out = out.to_str().expect("a UTF-8 path");
    let unknown = usage_error(&["sweep", "plan", "sim", "chang-robert", "-o", out]);
    assert!(unknown.contains("chang-robert") && unknown.contains("did you mean"), "{unknown}");
    let range = usage_error(&["sweep", "plan", "sim", "chang-roberts", "--seeds", "5..1", "-o", out]);
    assert!(range.contains("--seeds '5..1'") && range.contains("e.g."), "{range}");
    let empty = usage_error(&["sweep", "plan", "sim", ",", "-o", out]);
    assert!(empty.contains("grid is empty"), "{empty}");
    let delay = usage_error(&["sweep", "plan", "sim", "chang-roberts", "--net", "uniform:1", "-o", out]);
    assert!(delay.contains("uniform:1"), "{delay}");
    let flag = usage_error(&["sweep", "plan", "check", "chang-roberts", "-o", out, "--", "--frob"]);
    assert!(flag.contains("--frob") && flag.contains("reparti check --help"), "{flag}");
    assert!(!Path::new(out).exists(), "nothing written for a refused plan");
    let nowhere = scratch.path().join("nowhere");
    let missing = usage_error(&["sweep", "merge", nowhere.to_str().expect("a UTF-8 path")]);
    assert!(missing.contains("no such directory") && missing.contains("sweep plan"), "{missing}");
    for stderr in [unknown, range, empty, delay, flag, missing] {
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
}

/// Plans and runs (by `sh -c`) a tiny sim sweep in `dir`: two algorithms, n = 4 and 8,
/// seeds 1 and 2, so 8 jobs, 4 points, 2 runs behind each point.
fn two_algorithms_run(dir: &Path) {
    plan(dir, &["sim", "chang-roberts,franklin", "-n", "4,8", "--seeds", "1..2"]);
    assert_eq!(run_each_by_sh(dir), [0; 8]);
}

/// How many times `needle` occurs in `text`.
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn merge_plots_one_series_per_algorithm_with_a_point_per_size() {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let dir = scratch.path().join("sw");
    two_algorithms_run(&dir);
    let svg_path = scratch.path().join("sw.svg");
    let csv_path = scratch.path().join("sw.csv");
    let out = reparti()
        .args(["sweep", "merge"])
        .arg(&dir)
        .arg("-o")
        .arg(&csv_path)
        .arg("--plot")
        .arg(&svg_path)
        .output()
        .expect("reparti runs");
    let (said, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "merge --plot: {stderr}");
    assert!(!stderr.contains("warning"), "every row has a size and a message count: {stderr}");
    assert!(said.contains("8 of 8 jobs merged") && said.contains("CSV written to"), "{said}");
    assert!(said.contains("(messages by n: 2 series, 4 points)"), "the default y is messages: {said}");
    assert!(csv_path.exists(), "the CSV is written as well");

    let svg = std::fs::read_to_string(&svg_path).expect("the SVG is written");
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    // One series, and one legend entry, per algorithm, in sorted order; the legend names
    // only what varies (not engine, net, extra, which are the same in every job).
    assert_eq!(count(&svg, "class=\"series measured\""), 2, "{svg}");
    assert_eq!(count(&svg, "<g class=\"entry\">"), 2, "{svg}");
    let cr = svg.find("data-name=\"chang-roberts\"").expect("a chang-roberts series");
    let franklin = svg.find("data-name=\"franklin\"").expect("a franklin series");
    assert!(cr < franklin, "series sorted by name");
    // A point per algorithm × size, each the mean of two seeds, so each with a range.
    assert_eq!(count(&svg, "class=\"point\""), 4, "{svg}");
    assert_eq!(count(&svg, "class=\"errorbar\""), 4, "{svg}");
    assert!(svg.contains("nodes n (log₂ scale)") && svg.contains(">messages"), "axis labels");

    // Another figure on y, with the CSV on stdout: the summary stays on stderr.
    let events_svg = scratch.path().join("events.svg");
    let out = reparti()
        .args(["sweep", "merge"])
        .arg(&dir)
        .args(["--y", "events", "--plot"])
        .arg(&events_svg)
        .output()
        .expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("job,engine,algorithm,n,seed"), "the CSV on stdout");
    assert!(stderr.contains("(events by n: 2 series, 4 points)"), "{stderr}");
    let svg = std::fs::read_to_string(&events_svg).expect("the SVG is written");
    assert_eq!(count(&svg, "class=\"point\""), 4);
    assert!(svg.contains(">events"), "the y label names the field");
}

#[test]
fn plot_mistakes_name_the_cause_and_the_fix() {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let dir = scratch.path().join("sw");
    two_algorithms_run(&dir);
    let d = dir.to_str().expect("a UTF-8 path");
    let svg_path = scratch.path().join("p.svg");
    let svg = svg_path.to_str().expect("a UTF-8 path");

    let unknown = usage_error(&["sweep", "merge", d, "--plot", svg, "--y", "mesages"]);
    assert!(unknown.contains("--y 'mesages'") && unknown.contains("no such column"), "{unknown}");
    for field in ["messages", "delivered", "events", "messages_ELECT"] {
        assert!(unknown.contains(field), "the numeric fields are listed ({field}): {unknown}");
    }
    assert!(!unknown.contains("stop,") && !unknown.contains("prop_"), "only numeric fields: {unknown}");
    let text = usage_error(&["sweep", "merge", d, "--plot", svg, "--y", "stop"]);
    assert!(text.contains("--y 'stop'") && text.contains("not a number") && text.contains("quiescence"), "{text}");
    assert!(text.contains("messages"), "{text}");
    let grid_x = usage_error(&["sweep", "merge", d, "--plot", svg, "--x", "algorithm"]);
    assert!(grid_x.contains("--x 'algorithm'") && grid_x.contains("numeric columns: n, seed"), "{grid_x}");
    let nowhere = scratch.path().join("no/such/folder/p.svg");
    let unwritable = usage_error(&["sweep", "merge", d, "--plot", nowhere.to_str().expect("a UTF-8 path")]);
    assert!(unwritable.contains("cannot write") && unwritable.contains("writable path"), "{unwritable}");
    for stderr in [&unknown, &text, &grid_x, &unwritable] {
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
    assert!(!svg_path.exists(), "nothing drawn for a refused plot");

    // --y without --plot: clap refuses it (exit 2) and names --plot.
    let alone = usage_error(&["sweep", "merge", d, "--y", "messages"]);
    assert!(alone.contains("--plot"), "{alone}");

    // A sweep none of whose jobs has run: nothing to plot, after a warning per job.
    let idle = scratch.path().join("idle");
    plan(&idle, &["sim", "chang-roberts", "-n", "4"]);
    let empty = usage_error(&["sweep", "merge", idle.to_str().expect("a UTF-8 path"), "--plot", svg]);
    let last = empty.trim_end().lines().last().unwrap_or("");
    assert!(last.contains("nothing to plot") && last.contains("run the jobs"), "{empty}");
}

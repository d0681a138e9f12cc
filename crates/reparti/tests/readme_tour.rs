//! The README's tour, run as written, so the README cannot drift from the tool.
//!
//! The test reads the first `sh` block under "A two-minute tour" in README.md and runs
//! its lines with bash, one after another as a reader pasting them would, from the
//! repository's root. Two things differ, both recognised by their text: the install
//! line (`cargo install`, or `cargo build`) is skipped, the binary this test was built
//! with being first on `PATH` instead; and the scratch folder the tour names
//! (`/tmp/reparti-tour`) is a fresh temporary folder, so runs never share one.
//!
//! Every line must exit 0, except those whose comment says `(exit N)`, which must exit N
//! (a comment on an indented line of its own belongs to the command above it). A line
//! run by `python3` or `chromium` is skipped, saying so, where that tool is missing.
//! Afterwards the scratch folder must hold every file the tour names as an output
//! (`-o`, `--trace`, `--trace-out`, `--viz`, `--shiviz`), and the repository must have
//! gained none of them, nor anything at its top level.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The scratch folder as the README spells it; replaced by a temporary one here.
const README_SCRATCH: &str = "/tmp/reparti-tour";

/// The whole tour takes about 15 s in a debug build; a hung line must fail the test,
/// not hang it.
const DEADLINE: Duration = Duration::from_secs(300);

/// The flags whose value is a file the command writes.
const OUTPUT_FLAGS: [&str; 7] = ["-o", "--out", "--output", "--trace", "--trace-out", "--viz", "--shiviz"];

/// One command of the tour.
#[derive(Debug)]
struct TourLine {
    /// Its line number in README.md, for messages.
    number: usize,
    command: String,
    /// Its comment, with the indented comment lines that follow it.
    comment: String,
}

impl TourLine {
    /// The status the README says this line exits with: `(exit N)` in its comment, else 0.
    fn expected_status(&self) -> i32 {
        let Some(at) = self.comment.find("(exit ") else { return 0 };
        let rest = &self.comment[at + "(exit ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        match (digits.parse(), rest[digits.len()..].starts_with(')')) {
            (Ok(n), true) => n,
            _ => panic!("README.md line {}: cannot read the exit status in `{}`", self.number, self.comment),
        }
    }

    fn installs(&self) -> bool {
        self.command.starts_with("cargo install") || self.command.starts_with("cargo build")
    }

    /// The tool this line cannot run without, if the test machine may lack it.
    fn optional_tool(&self) -> Option<&'static str> {
        let first = self.command.split_whitespace().next()?;
        ["python3", "chromium"].into_iter().find(|tool| *tool == first)
    }

    /// The files this line writes, as the README names them.
    fn outputs(&self) -> Vec<String> {
        let words: Vec<&str> = self.command.split_whitespace().collect();
        words.windows(2).filter(|w| OUTPUT_FLAGS.contains(&w[0])).map(|w| w[1].to_string()).collect()
    }
}

fn repository_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The tour's commands: the first `sh` block after the tour's heading.
fn tour(readme: &str) -> Vec<TourLine> {
    let lines: Vec<&str> = readme.lines().collect();
    let heading = lines.iter().position(|l| l.starts_with("## A two-minute tour")).expect("README.md has its tour");
    let open = heading + lines[heading..].iter().position(|l| l.trim() == "```sh").expect("the tour has an sh block");
    let mut out: Vec<TourLine> = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(open + 1) {
        let trimmed = line.trim();
        if trimmed == "```" {
            return out;
        }
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('#') {
            // An indented comment line goes on explaining the command above it.
            if let (true, Some(last)) = (line.starts_with(char::is_whitespace), out.last_mut()) {
                last.comment.push(' ');
                last.comment.push_str(trimmed);
            }
            continue;
        }
        // The comment starts at the first `#` that follows a space (a `#` inside a word
        // is part of the command).
        let cut = trimmed.match_indices(" #").next().map_or(trimmed.len(), |(at, _)| at);
        out.push(TourLine {
            number: i + 1,
            command: trimmed[..cut].trim_end().to_string(),
            comment: trimmed[cut..].trim().to_string(),
        });
    }
    panic!("README.md: the tour's sh block is not closed");
}

/// `text` quoted for bash, as one word.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The bash script that runs the tour from `root`, its scratch folder being `scratch`,
/// and stops at the first line whose status is not the README's.
fn script(lines: &[TourLine], root: &Path, scratch: &Path, binary: &Path) -> String {
    let mut s = format!("cd {}\n", quoted(&root.display().to_string()));
    s += &format!(
        "if [ \"$(command -v reparti)\" != {bin} ]; then echo \"reparti on PATH is $(command -v reparti), not the binary under test\" >&2; exit 101; fi\n",
        bin = quoted(&binary.display().to_string())
    );
    for line in lines {
        let what = quoted(&format!("README.md line {}: {}", line.number, line.command));
        if line.installs() {
            s += &format!("echo {what}' (skipped: the binary under test is on PATH)' >&2\n");
            continue;
        }
        let command = line.command.replace(README_SCRATCH, &scratch.display().to_string());
        let expected = line.expected_status();
        let run = format!(
            "echo {what} >&2\n{command}\nstatus=$?\n\
             if [ \"$status\" -ne {expected} ]; then echo {what}\" exited $status, the README says {expected}\" >&2; exit 100; fi\n"
        );
        s += &match line.optional_tool() {
            Some(tool) => format!(
                "if command -v {tool} >/dev/null 2>&1; then\n{run}else echo {what}' (skipped: {tool} is not installed)' >&2\nfi\n"
            ),
            None => run,
        };
    }
    s + "echo 'the tour ran to its end' >&2\n"
}

/// What `git status` lists in the repository, ignored files included; None without git.
fn git_status(root: &Path) -> Option<BTreeSet<String>> {
    let out = Command::new("git")
        .args(["status", "--porcelain=v1", "--ignored", "--untracked-files=normal"])
        .current_dir(root)
        // Only reads: no index refresh, so no lock taken on a checkout others may use.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().filter_map(|l| l.get(3..)).filter(|p| !p.starts_with("target/")).map(str::to_string).collect())
}

fn top_level(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root)
        .expect("the repository's root can be listed")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs the script with bash, the binary's folder first on PATH, killing the whole
/// process group (the tour's `reparti run` starts node processes) past the deadline.
fn run_bash(script_path: &Path, binary: &Path, log: &Path) -> (Option<i32>, Duration) {
    let bin_dir = binary.parent().expect("the binary has a folder");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    let stdout = std::fs::File::create(log.with_extension("out")).expect("the tour's stdout file");
    let stderr = std::fs::File::create(log).expect("the tour's stderr file");
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(script_path)
        .env("PATH", std::env::join_paths(dirs).expect("a PATH"))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .expect("bash starts");
    loop {
        match child.try_wait().expect("bash can be waited for") {
            Some(status) => return (status.code(), started.elapsed()),
            None if started.elapsed() > DEADLINE => {
                let group = format!("-{}", child.id());
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
                let _ = child.wait();
                return (None, started.elapsed());
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn the_readme_tour_runs_as_written() {
    let root = repository_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md is readable");
    let lines = tour(&readme);
    assert!(lines.iter().any(TourLine::installs), "the tour should start by installing reparti: {lines:#?}");
    assert!(
        lines.iter().any(|l| l.command.contains(&format!("cd {README_SCRATCH}"))),
        "the tour should work in {README_SCRATCH}, out of the repository: {lines:#?}"
    );
    let outputs: BTreeSet<String> = lines.iter().flat_map(TourLine::outputs).collect();
    assert!(outputs.len() >= 5, "the tour names too few outputs to check: {outputs:?}");
    for line in &lines {
        line.expected_status();
    }

    let scratch = tempfile::tempdir().expect("a scratch folder");
    let meta = tempfile::tempdir().expect("a folder for the script and its logs");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_reparti"));
    let script_path = meta.path().join("tour.sh");
    std::fs::write(&script_path, script(&lines, &root, scratch.path(), &binary)).expect("the script is written");
    let log = meta.path().join("tour.err");

    let git_before = git_status(&root);
    let top_before = top_level(&root);
    let (status, took) = run_bash(&script_path, &binary, &log);
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = stderr.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
    let tail = tail.join("\n");
    assert!(status.is_some(), "the tour did not finish within {DEADLINE:?}; its last lines:\n{tail}");
    assert_eq!(status, Some(0), "the tour failed; its last lines:\n{tail}");
    assert!(stderr.contains("the tour ran to its end"), "the tour stopped early:\n{tail}");
    println!("the tour's {} lines ran in {:.1} s", lines.len(), took.as_secs_f64());

    for name in &outputs {
        let meta = std::fs::metadata(scratch.path().join(name));
        assert!(
            meta.as_ref().is_ok_and(|m| m.is_file() && m.len() > 0),
            "the tour should have written {name} in its scratch folder: {meta:?}"
        );
    }

    // Only what the tour could have written counts: a shared checkout may gain other
    // files meanwhile (an editor's, another test's) below the top level.
    let new_top: Vec<String> = top_level(&root).difference(&top_before).cloned().collect();
    assert!(new_top.is_empty(), "the tour wrote into the repository's root: {new_top:?}");
    if let (Some(before), Some(after)) = (git_before, git_status(&root)) {
        let named = |p: &&String| {
            let file = p.trim_end_matches('/').rsplit('/').next().unwrap_or(p);
            !p.contains('/') || outputs.contains(file) || file == "BDD.txt"
        };
        let new: Vec<&String> = after.difference(&before).filter(named).collect();
        assert!(new.is_empty(), "the tour left files in the repository: {new:?}");
    } else {
        println!("git status could not be read: only the repository's top level was compared");
    }
}

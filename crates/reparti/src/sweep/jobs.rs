//! A job directory: a list of shell commands that GNU parallel, a Slurm job array and a
//! Kubernetes indexed Job all run unchanged, and the grid parameters of each job, so that
//! `reparti sweep merge` can put the results side by side without parsing commands.
//!
//! The layout (the contract between whoever writes jobs and `sweep merge`):
//!
//! ```text
//! DIR/jobs.txt          line K = job K (1-based, like SLURM_ARRAY_TASK_ID):
//!                       `PROGRAM ARGS… > DIR/results/0000K.json 2> DIR/results/0000K.err`
//! DIR/grid.json         {"format", "jobs", "columns", "grid": [{"index", "params", "command"}]}
//! DIR/results/          where the jobs write; empty at first
//! DIR/run-parallel.sh   GNU parallel over jobs.txt, with a joblog
//! DIR/slurm.sbatch      a Slurm array 1-N, task K runs line K
//! DIR/k8s-job.yaml      a Kubernetes indexed Job, pod K runs line K+1
//! ```
//!
//! Written by `reparti sweep plan`; meant to be reused by any command that produces job
//! lists (`reparti swarm`): build [`Job`]s, call [`write_job_dir`].

use crate::error::usage;
use anyhow::Context;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The format tag of grid.json, so that a later layout can be told apart.
pub const GRID_FORMAT: &str = "reparti-jobs/1";

/// One job: the command it runs and the grid point it stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The program and its arguments, unquoted: `["/usr/bin/reparti", "sim", "chang-roberts",
    /// "--nodes", "4", "--json"]`. The writer quotes them for sh and adds the redirections;
    /// the command must print its result as JSON on stdout.
    pub command: Vec<String>,
    /// The job's parameters as an ordered map (column name, value), in the order the CSV
    /// of `sweep merge` shows them. Every job of a list should name the same columns; a
    /// column a job lacks is left empty in its row.
    pub params: Vec<(String, Value)>,
}

/// What [`write_job_dir`] wrote.
#[derive(Debug)]
pub struct JobDir {
    /// The directory, absolute (the path the commands write to).
    pub dir: PathBuf,
    /// How many jobs (lines of jobs.txt).
    pub jobs: usize,
}

/// Job K's result file name: `0000K.json`, zero-padded so that `ls` sorts them.
pub fn result_name(index: usize) -> String {
    format!("{index:05}.json")
}

/// Writes the job directory `dir` for `jobs` (see the module doc for the layout).
///
/// Refuses (a usage error) an empty job list, and a `dir` that exists and is not empty
/// unless `force` — then jobs.txt, grid.json, the scripts are replaced and results/ is
/// emptied of `*.json` and `*.err`, so that a merge never mixes two sweeps' results.
pub fn write_job_dir(dir: &Path, jobs: &[Job], force: bool) -> anyhow::Result<JobDir> {
    if jobs.is_empty() {
        return Err(usage("the grid is empty: no job to write (give at least one algorithm, size and seed)"));
    }
    if dir.exists() {
        if !dir.is_dir() {
            return Err(usage(format!("{} is a file, not a directory: choose another -o DIR", dir.display())));
        }
        let occupied = std::fs::read_dir(dir)?.next().is_some();
        if occupied && !force {
            return Err(usage(format!(
                "{} is not empty: choose another -o DIR, or add --force to replace its jobs and results",
                dir.display()
            )));
        }
    }
    let results = dir.join("results");
    std::fs::create_dir_all(&results).with_context(|| format!("cannot create {}", results.display()))?;
    // Absolute, so that a job runs the same from any working directory (a Slurm node's,
    // a pod's): the directory must then be reachable at this path everywhere.
    let dir = std::fs::canonicalize(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let results = dir.join("results");
    if force {
        for entry in std::fs::read_dir(&results)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json" || e == "err") {
                std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        let _ = std::fs::remove_file(dir.join("joblog"));
    }

    let mut lines = String::new();
    let mut grid = Vec::with_capacity(jobs.len());
    let mut columns: Vec<String> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let index = i + 1;
        let stem = format!("{index:05}");
        let command = job.command.iter().map(|a| sh_quote(a)).collect::<Vec<_>>().join(" ");
        let out = sh_quote(&results.join(format!("{stem}.json")).to_string_lossy());
        let err = sh_quote(&results.join(format!("{stem}.err")).to_string_lossy());
        writeln!(lines, "{command} > {out} 2> {err}")?;
        for (k, _) in &job.params {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        let params: serde_json::Map<String, Value> = job.params.iter().cloned().collect();
        grid.push(json!({ "index": index, "params": params, "command": command }));
    }
    // serde_json's maps sort their keys: the column order is kept apart, in `columns`.
    let grid = json!({ "format": GRID_FORMAT, "jobs": jobs.len(), "columns": columns, "grid": grid });
    write(&dir.join("jobs.txt"), &lines)?;
    write(&dir.join("grid.json"), &(serde_json::to_string_pretty(&grid)? + "\n"))?;
    write_executable(&dir.join("run-parallel.sh"), &parallel_script(&dir))?;
    write(&dir.join("slurm.sbatch"), &slurm_script(&dir, jobs.len()))?;
    write(&dir.join("k8s-job.yaml"), &k8s_job(&dir, jobs.len()))?;
    Ok(JobDir { dir, jobs: jobs.len() })
}

/// `s` as one word for sh: as is when it holds only characters sh leaves alone, else in
/// single quotes (a `'` inside written `'\''`).
pub fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn write_executable(path: &Path, text: &str) -> anyhow::Result<()> {
    write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

fn parallel_script(dir: &Path) -> String {
    let d = sh_quote(&dir.to_string_lossy());
    format!(
        "#!/bin/sh\n\
         # Runs every job of this sweep with GNU parallel, JOBS at a time (default: one per core):\n\
         #   sh {d}/run-parallel.sh            or   JOBS=2 sh {d}/run-parallel.sh\n\
         # The joblog records each job's exit status (1 = a property failed; its result is\n\
         # still written). Then: reparti sweep merge {d}\n\
         # The lines are sh commands, whatever the login shell (PARALLEL_SHELL).\n\
         PARALLEL_SHELL=/bin/sh exec parallel --jobs \"${{JOBS:-100%}}\" --joblog {d}/joblog --halt never < {d}/jobs.txt\n"
    )
}

fn slurm_script(dir: &Path, n: usize) -> String {
    let d = sh_quote(&dir.to_string_lossy());
    format!(
        "#!/bin/sh\n\
         # The sweep as a Slurm job array: task K runs line K of jobs.txt.\n\
         # Submit with `sbatch {d}/slurm.sbatch` from a node that sees {d} at the same path\n\
         # (a shared file system); `--array=1-{n}%8` would run at most 8 at once.\n\
         #SBATCH --job-name=reparti-sweep\n\
         #SBATCH --array=1-{n}\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --output={d}/results/slurm-%a.out\n\
         line=$(sed -n \"${{SLURM_ARRAY_TASK_ID}}p\" {d}/jobs.txt)\n\
         exec sh -c \"$line\"\n"
    )
}

fn k8s_job(dir: &Path, n: usize) -> String {
    let d = dir.to_string_lossy();
    let quoted = sh_quote(&d);
    // A JSON string is a valid YAML double-quoted scalar, whatever the path holds.
    let yaml_dir = serde_json::to_string(&d).unwrap_or_else(|_| format!("\"{d}\""));
    format!(
        "# The sweep as a Kubernetes indexed Job: pod K (JOB_COMPLETION_INDEX, from 0) runs\n\
         # line K+1 of jobs.txt.\n\
         # Before `kubectl apply -f k8s-job.yaml`:\n\
         #  - set `image` to an image with reparti at the path jobs.txt names (or plan the\n\
         #    sweep with `--reparti reparti` to take it from the image's PATH);\n\
         #  - mount this sweep directory at {d}, the path the jobs read and write: a\n\
         #    ReadWriteMany volume (NFS, CephFS…) holding jobs.txt, claim name below.\n\
         # A job whose property fails exits 1 after writing its result: the pod still ends\n\
         # successfully, since a retry would repeat the same seeded run.\n\
         apiVersion: batch/v1\n\
         kind: Job\n\
         metadata:\n\
         \x20 name: reparti-sweep\n\
         spec:\n\
         \x20 completionMode: Indexed\n\
         \x20 completions: {n}\n\
         \x20 parallelism: {parallelism}\n\
         \x20 template:\n\
         \x20   spec:\n\
         \x20     restartPolicy: Never\n\
         \x20     containers:\n\
         \x20       - name: job\n\
         \x20         image: REPLACE-WITH-YOUR-IMAGE/reparti:latest\n\
         \x20         command: [\"sh\", \"-c\"]\n\
         \x20         args:\n\
         \x20           - |\n\
         \x20             line=$(sed -n \"$((JOB_COMPLETION_INDEX + 1))p\" {quoted}/jobs.txt)\n\
         \x20             sh -c \"$line\" || echo \"job $((JOB_COMPLETION_INDEX + 1)) exited $?\"\n\
         \x20         volumeMounts:\n\
         \x20           - name: sweep\n\
         \x20             mountPath: {yaml_dir}\n\
         \x20     volumes:\n\
         \x20       - name: sweep\n\
         \x20         persistentVolumeClaim:\n\
         \x20           claimName: REPLACE-WITH-YOUR-CLAIM\n",
        parallelism = n.min(16)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_for_sh() {
        assert_eq!(sh_quote("chang-roberts"), "chang-roberts");
        assert_eq!(sh_quote("uniform:1,10"), "uniform:1,10");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }
}

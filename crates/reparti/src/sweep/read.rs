//! Reading a job directory back ([`super::jobs`] writes it): its grid and each job's
//! result, as found. One reader for every merge (`sweep merge`, `swarm merge`), so the
//! directory's contract is checked in one place; each merge words its own warnings.

use super::jobs::{result_name, GRID_FORMAT};
use crate::error::usage;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a job left in `results/`.
pub enum Loaded {
    /// Its JSON result (an object).
    Result(Value),
    /// No result file: not run yet, or lost.
    Missing(PathBuf),
    /// A file that is not a JSON object: the job failed or is still writing.
    Unreadable(PathBuf),
}

/// One job, read back.
pub struct JobRead {
    /// Its 1-based index (line of jobs.txt).
    pub index: u64,
    /// Its grid parameters, by column.
    pub params: Value,
    /// Its result.
    pub result: Loaded,
}

/// The job directory `dir`: its columns (in the grid's order) and every job, read back.
/// A usage error when `dir` is not a job directory this reparti wrote.
pub fn read_job_dir(dir: &Path) -> anyhow::Result<(Vec<String>, Vec<JobRead>)> {
    if !dir.is_dir() {
        return Err(usage(format!(
            "cannot read {}: no such directory; give the DIR that `reparti sweep plan` or `reparti swarm plan … -o DIR` wrote",
            dir.display()
        )));
    }
    let grid_path = dir.join("grid.json");
    let text = std::fs::read_to_string(&grid_path).map_err(|e| {
        usage(format!(
            "{}: {e}; DIR must be a job directory (`reparti sweep plan … -o DIR` writes grid.json there)",
            grid_path.display()
        ))
    })?;
    let grid: Value = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{}: not JSON ({e}); plan the jobs again", grid_path.display())))?;
    if grid["format"] != GRID_FORMAT {
        return Err(usage(format!(
            "{}: not a job list this reparti reads (format {}, expected {GRID_FORMAT}); plan the jobs again",
            grid_path.display(),
            grid["format"]
        )));
    }
    let columns =
        grid["columns"].as_array().into_iter().flatten().filter_map(|c| c.as_str().map(str::to_string)).collect();
    let jobs = grid["grid"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let index = entry["index"].as_u64()?;
            let path = dir.join("results").join(result_name(index as usize));
            let result = match std::fs::read_to_string(&path) {
                Err(_) => Loaded::Missing(path),
                Ok(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(v) if v.is_object() => Loaded::Result(v),
                    _ => Loaded::Unreadable(path),
                },
            };
            Some(JobRead { index, params: entry["params"].clone(), result })
        })
        .collect();
    Ok((columns, jobs))
}

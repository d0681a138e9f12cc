//! Scenario files: one TOML file names an experiment and its expected outcome.
//!
//! `reparti sim FILE.toml` and `reparti check FILE.toml` read the algorithm and its
//! parameters, the topology and identities, the network, a fault schedule, a workload
//! of external inputs, the seed, limits, and what must be observed (properties, outputs,
//! message counts, the stop reason, the checker's verdicts). The run prints its usual
//! summary, then an "expectations" section, and exits 0 only when every expectation was
//! met — so a scenario that demonstrates a violation passes when the violation shows.
//!
//! A malformed file is a usage error (exit status 2) drawn at its line and column. The
//! format is documented in docs/SCENARIOS.md; the course pack lives in `scenarios/`.
//!
//! * [`file`]: the TOML tables as serde structs;
//! * [`plan`], [`plan_check`]: check them against the algorithm, build `SimConfig` /
//!   `CheckConfig`;
//! * [`probe`]: what the loader asks the algorithm (instance, inputs, property names);
//! * [`expect`]: judges a report against the expectations;
//! * [`load`]: reading a file into a [`Scenario`];
//! * [`diag`]: errors at their line and column (miette).

mod cli;
pub mod diag;
pub mod expect;
pub mod file;
mod load;
pub mod plan;
pub mod plan_check;
pub mod probe;
#[cfg(test)]
mod reader_props;
#[cfg(test)]
mod tests;

pub use cli::{for_check, run_sim};
pub use load::Scenario;

use std::path::{Path, PathBuf};

/// One line of `reparti list`'s "Scenarios" section.
#[derive(Debug, PartialEq)]
pub struct Listed {
    /// The file's name.
    pub name: String,
    /// `sim`, `check` or `sim, check`.
    pub commands: String,
    /// Its description (or why it has none).
    pub description: String,
}

/// Which commands a scenario is meant for: `check` when it has a `[check]` table, `sim`
/// when it has none or when it also has an `[expect]` table.
pub fn commands_of(table: &toml::Table) -> Vec<&'static str> {
    let check = table.contains_key("check");
    let mut v = Vec::new();
    if !check || table.contains_key("expect") {
        v.push("sim");
    }
    if check {
        v.push("check");
    }
    v
}

/// The scenarios in `dir`, sorted by file name (empty when there is no such folder).
pub fn list_dir(dir: &Path) -> Vec<Listed> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let text = reparti_core::user_file::read_text(p, reparti_core::user_file::SCENARIO).ok();
            let table = text.and_then(|t| t.parse::<toml::Table>().ok());
            match table {
                Some(t) => Listed {
                    name,
                    commands: commands_of(&t).join(", "),
                    description: t
                        .get("description")
                        .and_then(|d| d.as_str())
                        .unwrap_or("(no description)")
                        .to_string(),
                },
                None => {
                    Listed { name, commands: "?".into(), description: "(does not parse: run it to see where)".into() }
                }
            }
        })
        .collect()
}

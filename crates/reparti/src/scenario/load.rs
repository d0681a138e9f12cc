//! A scenario file read and parsed, its text kept to draw errors at their place.

use super::diag::{self, Located};
use super::file::ScenarioFile;
use crate::error::usage;
use reparti_core::user_file::{read_text, Problem, SCENARIO};
use std::path::Path;

/// A scenario file, read and parsed, with its text kept to draw errors.
#[derive(Debug)]
pub struct Scenario {
    /// The path as given (shown in errors and in the expectations header).
    pub path: String,
    /// The file's text.
    pub text: String,
    /// Its tables.
    pub file: ScenarioFile,
}

impl Scenario {
    /// Parses `text`; a syntax or type error comes back at its place.
    pub fn parse(path: &str, text: String) -> Result<Scenario, Located> {
        let file: ScenarioFile = toml::from_str(&text).map_err(|e| diag::from_toml(&e))?;
        Ok(Scenario { path: path.to_string(), text, file })
    }

    /// Reads and parses the file at `path` (a regular file of at most
    /// [`SCENARIO`]'s size); errors are usage errors (exit status 2).
    pub fn load(path: &Path) -> anyhow::Result<Scenario> {
        let shown = path.display().to_string();
        let text = read_text(path, SCENARIO).map_err(|e| match e.problem {
            Problem::Io(io) => usage(format!("cannot read the scenario file {shown}: {io}")),
            _ => usage(e.to_string()),
        })?;
        Scenario::parse(&shown, text.clone()).map_err(|e| diag::render(&shown, &text, &e))
    }

    /// Draws a mistake found in this file as a usage error.
    pub fn error(&self, e: &Located) -> anyhow::Error {
        diag::render(&self.path, &self.text, e)
    }
}

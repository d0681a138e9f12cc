//! `reparti viz` (being built).

use crate::cli::VizArgs;
use std::process::ExitCode;

pub fn run(_args: &VizArgs) -> anyhow::Result<ExitCode> {
    Err(crate::usage("`reparti viz` is being built"))
}

//! `reparti eval` (being built).

use crate::cli::EvalArgs;
use std::process::ExitCode;

pub fn run(_args: &EvalArgs) -> anyhow::Result<ExitCode> {
    Err(crate::usage("`reparti eval` is being built"))
}

//! `reparti topo` (being built).

use crate::cli::TopoArgs;
use std::process::ExitCode;

pub fn run(_args: &TopoArgs) -> anyhow::Result<ExitCode> {
    Err(crate::usage("`reparti topo` is being built"))
}

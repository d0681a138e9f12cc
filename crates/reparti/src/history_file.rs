//! `--history FILE`: the history of client operations a run recorded, read from its
//! trace (`reparti_core::history`) and written one JSON object a line — the same for a
//! simulation, a model checker's counterexample and a real run, since every engine's
//! trace carries the calls and returns.

use crate::error::usage;
use reparti_core::history::{self, HistoryLine};
use reparti_core::trace::Trace;
use std::path::{Path, PathBuf};

/// The history `trace` records, as JSON Lines text.
pub fn jsonl(trace: &Trace) -> anyhow::Result<(String, Vec<HistoryLine>)> {
    let lines = history::from_trace(trace).map_err(|e| usage(format!("the trace's history: {e}")))?;
    let mut out = Vec::new();
    history::write_jsonl(&lines, &mut out)?;
    Ok((String::from_utf8_lossy(&out).into_owned(), lines))
}

/// Writes the history `trace` records to `path`, and says how much it holds.
pub fn write(trace: &Trace, path: &Path) -> anyhow::Result<()> {
    let (text, lines) = jsonl(trace)?;
    if lines.is_empty() {
        eprintln!(
            "note: the run called no operation, so the history {} is empty (--history records the shared-memory algorithms' clients)",
            path.display()
        );
    }
    std::fs::write(path, text)
        .map_err(|e| usage(format!("cannot write the history {}: {e}; choose a writable path", path.display())))?;
    let calls = lines.iter().filter(|l| l.kind == "invoke").count();
    let done = lines.len() - calls;
    println!("history written to {} ({calls} operations, {} pending)", path.display(), calls - done);
    Ok(())
}

/// Writes the history the trace file at `trace` records to `path`.
pub fn write_from_file(trace: &Path, path: &Path) -> anyhow::Result<()> {
    write(&crate::viz::load(trace)?, path)
}

/// Runs `run` with a trace — the one asked for, else a scratch file — and then writes the
/// history it recorded to `history`, if given.
pub fn with_history<T>(
    trace: Option<PathBuf>,
    history: Option<&Path>,
    run: impl FnOnce(Option<PathBuf>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let Some(history) = history else { return run(trace) };
    crate::viz::through_trace(trace, run, |path| write_from_file(path, history))
}

//! Writing a merged run's trace, for `reparti run --trace` and `reparti merge --out`.

use crate::error::usage;
use reparti_core::trace::{Trace, TraceWriter};
use std::path::Path;

/// Writes `trace` to `path`, closing it as it was closed (quiescent when it says nothing).
pub fn write_trace(trace: &Trace, path: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).map_err(|e| {
        usage(format!("cannot create the trace file {} ({e}): check the folder exists and is writable", path.display()))
    })?;
    let mut w = TraceWriter::new(std::io::BufWriter::new(file), &trace.header)?;
    for e in &trace.events {
        w.event(e)?;
    }
    let (stop, violation) = match &trace.end {
        Some(end) => (end.stop.as_str(), end.violation.clone()),
        None => ("quiescent", None),
    };
    w.finish(stop, violation)?;
    Ok(())
}

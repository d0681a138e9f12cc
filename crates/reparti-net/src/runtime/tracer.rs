//! A node's trace, as it runs: streamed to its file line by line (`reparti node
//! --trace`), or kept in memory for a caller that reads it from the report (tests).
//!
//! Either way what it holds is bounded by what the algorithm does, not by what strangers
//! send: a refused datagram is traced in full (a `drop` event with its reason) only for
//! the first [`REFUSALS_IN_FULL`]; the rest are counted by reason, and one `log` event
//! at the end sums them up. A million junk datagrams thus add sixteen lines and one, not
//! a million; every refusal is still counted in the node's report.
//!
//! The file is the format of `docs/TRACE.md`: the header first (written when the node
//! starts, so it is known before the first event), one event per line through a buffer,
//! and the closing line when the node stops. A node that dies midway leaves a trace
//! without its closing line, which readers accept as cut short.

use super::report::{DropReason, Drops};
use crate::error::NetError;
use reparti_core::trace::{TraceEvent, TraceHeader, TraceWriter};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

/// Refused datagrams traced one by one; beyond, they are only counted.
pub const REFUSALS_IN_FULL: u32 = 16;

/// Where and under which header a node streams its trace.
#[derive(Clone, Debug)]
pub struct TraceFile {
    /// The file, created (or emptied) when the node starts.
    pub path: PathBuf,
    /// Its first line.
    pub header: TraceHeader,
}

enum Out {
    Memory(Vec<TraceEvent>),
    File(TraceWriter<BufWriter<File>>),
    /// Writing failed: what follows is lost, and the node says so when it stops.
    Broken,
}

pub(super) struct Tracer {
    out: Out,
    path: Option<PathBuf>,
    /// Events written so far: the next event's `i`.
    events: u64,
    refusals_traced: u32,
    untraced: Drops,
    error: Option<String>,
}

impl Tracer {
    /// A trace kept in memory.
    pub(super) fn in_memory() -> Tracer {
        Tracer::with(Out::Memory(Vec::new()), None)
    }

    /// A trace streamed to `file`, whose header is written now.
    pub(super) fn to_file(file: &TraceFile) -> Result<Tracer, NetError> {
        let fail = |e: std::io::Error| NetError::Trace {
            path: file.path.clone(),
            detail: format!("{e}: check the folder exists and is writable"),
        };
        let created = File::create(&file.path).map_err(fail)?;
        let writer = TraceWriter::new(BufWriter::new(created), &file.header).map_err(fail)?;
        Ok(Tracer::with(Out::File(writer), Some(file.path.clone())))
    }

    fn with(out: Out, path: Option<PathBuf>) -> Tracer {
        Tracer { out, path, events: 0, refusals_traced: 0, untraced: Drops::default(), error: None }
    }

    /// The index the next event gets.
    pub(super) fn next_index(&self) -> u64 {
        self.events
    }

    /// Adds one event (its `i` must be [`next_index`](Self::next_index)).
    pub(super) fn record(&mut self, e: TraceEvent) {
        self.events += 1;
        match &mut self.out {
            Out::Memory(events) => events.push(e),
            Out::File(writer) => {
                if let Err(e) = writer.event(&e) {
                    self.broken(e.to_string());
                }
            }
            Out::Broken => {}
        }
    }

    /// Whether a refused datagram is traced in full; if not, it is counted for the
    /// summing-up line.
    pub(super) fn refusal_in_full(&mut self, reason: DropReason) -> bool {
        if self.refusals_traced < REFUSALS_IN_FULL {
            self.refusals_traced += 1;
            return true;
        }
        reason.count(&mut self.untraced);
        false
    }

    /// The text of the line that sums up the refusals not traced one by one, if any.
    pub(super) fn untraced_summary(&self) -> Option<String> {
        let n = self.untraced.total();
        (n > 0).then(|| {
            format!(
                "refused {n} more datagram(s), counted but not traced one by one ({}); the first {REFUSALS_IN_FULL} are traced above",
                self.untraced.describe()
            )
        })
    }

    fn broken(&mut self, detail: String) {
        let path = self.path.as_ref().map_or_else(String::new, |p| p.display().to_string());
        tracing::warn!("reparti node: writing the trace {path} failed ({detail}); the rest of the trace is lost");
        self.error.get_or_insert(detail);
        self.out = Out::Broken;
    }

    /// Closes the trace: the events kept in memory, or `None` once the file's closing
    /// line is written; an error if any write failed.
    pub(super) fn finish(self) -> Result<Option<Vec<TraceEvent>>, NetError> {
        let path = self.path.unwrap_or_default();
        let failed = |detail: String| NetError::Trace { path: path.clone(), detail };
        if let Some(detail) = self.error {
            return Err(failed(detail));
        }
        match self.out {
            Out::Memory(events) => Ok(Some(events)),
            Out::File(writer) => {
                writer.finish("quiescence", None).map_err(|e| failed(e.to_string()))?;
                Ok(None)
            }
            Out::Broken => Err(failed("writing failed".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_core::trace::EventKind;

    #[test]
    fn refusals_beyond_the_first_few_are_only_counted() {
        let mut t = Tracer::in_memory();
        let traced = (0..40)
            .filter(|k| t.refusal_in_full(if k % 2 == 0 { DropReason::Crypto } else { DropReason::Wire }))
            .count();
        assert_eq!(traced, REFUSALS_IN_FULL as usize);
        let summary = t.untraced_summary().expect("some were not traced");
        assert!(summary.contains("refused 24 more") && summary.contains("crypto 12, wire 12"), "{summary}");
        t.record(TraceEvent::new(t.next_index(), 0.0, 0, EventKind::Start, 0));
        assert_eq!(t.finish().expect("in memory").map(|e| e.len()), Some(1));
    }

    #[test]
    fn a_trace_file_in_a_missing_folder_is_an_error_naming_it() {
        let header = reparti_core::trace::TraceHeader {
            trace: "reparti".into(),
            version: 1,
            engine: "node".into(),
            algorithm: "x".into(),
            params: Default::default(),
            seed: 0,
            topology: "ring".into(),
            nodes: 1,
            idents: vec![1],
            network: serde_json::Value::Null,
            clocks: reparti_core::ClockMode::Lamport,
            message_types: Vec::new(),
            control_types: Vec::new(),
            spans: Vec::new(),
            ports: Vec::new(),
            physical_clocks: Vec::new(),
        };
        let file = TraceFile { path: "/nonexistent/folder/t.jsonl".into(), header };
        let e = Tracer::to_file(&file).err().expect("refused");
        assert!(e.to_string().contains("/nonexistent/folder/t.jsonl"), "{e}");
    }
}

//! Writes trace lines as the simulation runs, remembering the first I/O error instead
//! of aborting the run (the report then says the trace is incomplete).

use reparti_core::trace::{EventKind, TraceEvent, TraceHeader, TraceWriter};
use std::io::{self, Write};

pub(crate) struct Tracer<W: Write> {
    writer: TraceWriter<W>,
    next: u64,
    pub error: Option<io::Error>,
}

impl<W: Write> Tracer<W> {
    pub fn new(out: W, header: &TraceHeader) -> io::Result<Self> {
        Ok(Tracer { writer: TraceWriter::new(out, header)?, next: 0, error: None })
    }

    /// A fresh event line with the common fields set (its index is assigned on emit).
    pub fn event(t: f64, node: u32, kind: EventKind, lamport: u64, vc: Option<&[u64]>) -> TraceEvent {
        let mut e = TraceEvent::new(0, t, node, kind, lamport);
        e.vc = vc.map(<[u64]>::to_vec);
        e
    }

    pub fn emit(&mut self, mut e: TraceEvent) {
        if self.error.is_some() {
            return;
        }
        e.i = self.next;
        self.next += 1;
        if let Err(err) = self.writer.event(&e) {
            self.error = Some(err);
        }
    }

    pub fn finish(self, stop: &str, violation: Option<String>) -> io::Result<W> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.writer.finish(stop, violation)
    }
}

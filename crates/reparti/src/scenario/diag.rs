//! Errors in a scenario file, shown at their line and column.
//!
//! Every mistake the loader finds (a TOML syntax or type error, or a semantic one it
//! detects itself) becomes a [`Located`]: a byte range of the file, a message and a
//! hint. [`render`] turns it into miette's picture of the offending line with a caret,
//! headed by `[FILE:LINE:COL]`, and wraps it as a usage error: exit status 2.

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report};
use std::io::IsTerminal;
use std::ops::Range;

/// A mistake at a place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// Bytes of the file the mistake is in.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// The word under the caret.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Located {
    /// A mistake at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>, label: impl Into<String>) -> Self {
        Located { span, message: message.into(), label: label.into(), help: None }
    }

    /// Adds a hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A TOML syntax or type error, at the place toml gives (the file's start if none).
pub fn from_toml(e: &toml::de::Error) -> Located {
    let span = e.span().unwrap_or(0..0);
    // toml's message is sometimes several lines; the first says what is wrong. At the
    // very end of the file it is empty: say what that means.
    let message = match e.message().trim() {
        "" => "the file ends in the middle of an entry: a value, a closing quote or a bracket is missing".to_string(),
        m => m.to_string(),
    };
    let help = if let Some(table) = misplaced_top_level_key(&message) {
        Some(table)
    } else if message.contains("unknown field") {
        Some("see docs/SCENARIOS.md for every table and field".to_string())
    } else if message.contains("missing field `algorithm`") {
        Some("name the algorithm at the top of the file, e.g. algorithm = \"chang-roberts\"".to_string())
    } else {
        None
    };
    Located { span, message, label: "here".into(), help }
}

/// A key written at the top of the file that belongs in a table (`nodes = 8` instead of
/// under `[topology]`): the table to put it in, in words.
fn misplaced_top_level_key(message: &str) -> Option<String> {
    // The top level's own list of fields names `algorithm`: the key was written there.
    if !message.contains("unknown field") || !message.contains("`algorithm`") {
        return None;
    }
    let key = message.split('`').nth(1)?;
    let table = match key {
        "nodes" | "kind" | "ids" => "topology",
        "fifo" | "delay" | "loss" | "dup" | "sync" => "network",
        "max_events" | "max_time" => "limits",
        "crash" | "partition" => "faults",
        "inputs" | "replace_workload" => "workload",
        _ => return None,
    };
    Some(format!("`{key}` belongs in the [{table}] table: write it under a line `[{table}]` (see docs/SCENARIOS.md)"))
}

/// The picture of the mistake: `[FILE:LINE:COL]`, the line, a caret and the hint.
pub fn picture(path: &str, text: &str, err: &Located) -> String {
    // A span past the end (an error at end of file) is pulled back so miette can show it.
    let end = text.len();
    let start = err.span.start.min(end);
    let len = err.span.end.min(end).saturating_sub(start);
    let mut diag =
        MietteDiagnostic::new(err.message.clone()).with_label(LabeledSpan::at(start..start + len, err.label.clone()));
    if let Some(h) = &err.help {
        diag = diag.with_help(h.clone());
    }
    let report = Report::new(diag).with_source_code(NamedSource::new(path, text.to_string()));
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    if handler.render_report(&mut out, &*report).is_err() {
        // Rendering only fails on a span miette cannot read: fall back to plain text.
        let (line, col) = line_col(text, start);
        out = format!("{path}:{line}:{col}: {}", err.message);
    }
    out
}

/// The 1-based line and column of byte `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, at)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The mistake as a usage error (exit status 2), its picture as the message.
pub fn render(path: &str, text: &str, err: &Located) -> anyhow::Error {
    // The first line names the place the way compilers do, for editors and grep.
    let (line, col) = line_col(text, err.span.start);
    crate::error::usage(format!("bad scenario {path}:{line}:{col}\n{}", picture(path, text, err)))
}

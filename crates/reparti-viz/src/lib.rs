//! # reparti-viz: pictures of runs
//!
//! Everything here reads traces (`reparti_core::trace`) or topologies and writes text:
//! SVG, self-contained HTML, Graphviz DOT, ShiViz logs. It never runs an algorithm, so
//! it draws simulations, model-checker counterexamples and merged real runs alike.
//!
//! [`render`] is the one call most users need: a trace and a [`Format`] in, text out.

#![warn(missing_docs)]

pub mod html;
pub mod plot;
pub mod shiviz;
pub mod skew;
pub mod snapshot_cut;
pub mod spacetime;
pub mod stabilization;
pub mod svg;
pub mod topology;
pub mod wait_for;

pub use spacetime::{Axis, Options};
pub use stabilization::{
    heat_strip, stabilization_page, stabilization_plot, StabMark, StabMarkKind, StabRun, StabStep,
};

use reparti_core::trace::{EventKind, Trace, TraceEvent};
use serde_json::Value;
use std::path::Path;

/// Why a picture could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    /// The output file's extension names no format this crate writes.
    #[error("'{path}': cannot tell the format from the extension; name the file .html (interactive viewer), .svg (static picture) or .log (ShiViz log)")]
    UnknownFormat {
        /// The path as given.
        path: String,
    },
    /// The output would be too large to be of use.
    #[error("{0}")]
    TooLarge(String),
    /// A skew plot of a trace whose events carry no physical clock reading.
    #[error("this trace has no physical clock readings: its algorithm does not read physical clocks; draw its space-time diagram with `reparti viz TRACE -o FILE.svg`")]
    NoPhysicalClocks,
}

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One self-contained HTML file: inline SVG, the trace as JSON, a small viewer.
    Html,
    /// A static SVG.
    Svg,
    /// A ShiViz log.
    ShiViz,
}

impl Format {
    /// The format a file name asks for: `.html`/`.htm`, `.svg`, `.log`/`.shiviz`
    /// (case-insensitive).
    pub fn from_path(path: &Path) -> Result<Format, VizError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("html" | "htm") => Ok(Format::Html),
            Some("svg") => Ok(Format::Svg),
            Some("log" | "shiviz") => Ok(Format::ShiViz),
            _ => Err(VizError::UnknownFormat { path: path.display().to_string() }),
        }
    }
}

/// Renders a trace with the default options (time axis, horizontal lanes).
pub fn render(trace: &Trace, format: Format) -> Result<String, VizError> {
    render_with(trace, format, &Options::default())
}

/// Renders a trace with the given layout options (ignored by ShiViz, which lays out
/// the log itself).
pub fn render_with(trace: &Trace, format: Format, opts: &Options) -> Result<String, VizError> {
    match format {
        Format::Html => Ok(html::to_html(trace, opts)),
        Format::Svg => Ok(svg::to_svg(trace, opts)),
        Format::ShiViz => shiviz::export(trace),
    }
}

// ---- wording shared by the pictures and the ShiViz log

/// The kind as the trace spells it.
pub fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Start => "start",
        EventKind::Send => "send",
        EventKind::Receive => "receive",
        EventKind::Drop => "drop",
        EventKind::Duplicate => "duplicate",
        EventKind::Timer => "timer",
        EventKind::Input => "input",
        EventKind::Output => "output",
        EventKind::Crash => "crash",
        EventKind::Log => "log",
        EventKind::Local => "local",
        EventKind::Clock => "clock",
    }
}

/// A one-line description of an event; `payload` is the message's (joined on `msg`).
pub fn describe(e: &TraceEvent, payload: Option<&Value>, max_payload: usize) -> String {
    let ty = e.msg_type.as_deref().unwrap_or("?");
    let msg = e.msg.map(|m| format!(" #{m}")).unwrap_or_default();
    let node = |n: Option<u32>| n.map(|n| format!("n{n}")).unwrap_or_else(|| "?".into());
    let body = |p: Option<&Value>| p.map(|p| format!(": {}", clip(&p.to_string(), max_payload))).unwrap_or_default();
    let text = match e.kind {
        EventKind::Start => "start".to_string(),
        EventKind::Send => format!("send {ty}{msg} to {}{}", node(e.to), body(payload)),
        EventKind::Receive => format!("receive {ty}{msg} from {}{}", node(e.from), body(payload)),
        EventKind::Drop => format!(
            "drop {ty}{msg} from {} to {} ({})",
            node(e.from),
            node(e.to),
            e.reason.as_deref().unwrap_or("lost")
        ),
        EventKind::Duplicate => format!("duplicate {ty}{msg} from {} to {}", node(e.from), node(e.to)),
        EventKind::Timer => format!("timer {}", e.timer.as_deref().unwrap_or("?")),
        EventKind::Input => format!("input{}", body(e.payload.as_ref())),
        EventKind::Output => format!(
            "output {} = {}",
            e.key.as_deref().unwrap_or("?"),
            e.value.as_ref().map(|v| v.to_string()).unwrap_or_default()
        ),
        EventKind::Crash => "crash".to_string(),
        EventKind::Log => format!("log: {}", clip(e.text.as_deref().unwrap_or(""), max_payload)),
        EventKind::Local => "local event".to_string(),
        EventKind::Clock => format!(
            "clock {} by {:+.3}{}",
            e.text.as_deref().unwrap_or("step"),
            e.adjust.unwrap_or(0.0),
            e.over.map(|o| format!(" over {o:.3}")).unwrap_or_default()
        ),
    };
    // Descriptions are single lines everywhere (tooltips, ShiViz's one-line events).
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).chain("…".chars()).collect()
    }
}

/// A number without a useless `.0` and without float noise: `3`, `2.5`, `0.135`.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `153001` as `153,001`.
pub fn thousands(x: u64) -> String {
    let digits = x.to_string();
    let groups: Vec<String> =
        digits.as_bytes().rchunks(3).rev().map(|g| String::from_utf8_lossy(g).into_owned()).collect();
    groups.join(",")
}

/// Parameters, network model, faults and how the run ended, on one line.
pub(crate) fn subtitle(trace: &Trace) -> String {
    let h = &trace.header;
    let mut parts: Vec<String> = h.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let net = h.network.get("model").unwrap_or(&h.network);
    if let Some(fifo) = net.get("fifo").and_then(Value::as_bool) {
        parts.push(if fifo { "FIFO".into() } else { "non-FIFO".into() });
    }
    if let Some(d) = net.get("delay") {
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or("?");
        let vals: Vec<String> = ["value", "min", "max", "mean"]
            .iter()
            .filter_map(|k| d.get(*k).and_then(Value::as_f64).map(number))
            .collect();
        parts.push(format!("delay {kind}:{}", vals.join(",")));
    }
    for key in ["loss", "dup"] {
        if let Some(p) = net.get(key).and_then(Value::as_f64).filter(|p| *p > 0.0) {
            parts.push(format!("{key} {}", number(p)));
        }
    }
    if let Some(c) = h.network.get("checker").and_then(Value::as_str) {
        parts.push(format!("checker network: {c}"));
    }
    if let Some(faults) = h.network.get("faults").and_then(Value::as_array).filter(|f| !f.is_empty()) {
        parts.push(format!("{} fault(s)", faults.len()));
    }
    parts.push(match &trace.end {
        Some(end) => match &end.violation {
            Some(v) => format!("stopped: {} ({v})", end.stop),
            None => format!("stopped: {}", end.stop),
        },
        None => "cut short (no closing line)".into(),
    });
    parts.join(" · ")
}

//! One self-contained HTML file: the space-time diagram as inline SVG, the drawn events
//! as JSON in a `<script type="application/json">`, and a small vanilla-JS viewer
//! (`assets/viewer.js`, `assets/viewer.css`, compiled in with `include_str!`).
//!
//! Nothing is fetched: no fonts, no scripts, no network, so the file opens from a USB
//! stick in an exam room and can be mailed as is. The viewer shows an event's payload,
//! clocks and the node's outputs on hover or click, filters by message type, zooms and
//! pans, steps through the run, and highlights an event's causal past and future. With
//! `#selftest` in the URL it clicks the first event itself and writes what it saw into
//! `<pre id="selftest">`, so a test can drive it with a headless browser.

use crate::spacetime::{self, Layout, Options};
use crate::svg::{esc, render_svg};
use reparti_core::trace::Trace;
use serde_json::{json, Value};

const VIEWER_JS: &str = include_str!("../assets/viewer.js");
const VIEWER_CSS: &str = include_str!("../assets/viewer.css");

/// The HTML page of a trace laid out with `opts`.
pub fn to_html(trace: &Trace, opts: &Options) -> String {
    render(trace, &spacetime::layout(trace, opts))
}

/// The HTML page of a trace and its layout.
pub fn render(trace: &Trace, layout: &Layout) -> String {
    let svg = render_svg(layout, false);
    let data = script_json(&data(trace, layout));
    let notes: String = layout
        .elision
        .iter()
        .flat_map(|e| e.lines())
        .map(|line| format!("<p class=\"elided\">{}</p>\n", esc(&line)))
        .chain(layout.cut.iter().map(|cut| format!("<p class=\"cut\">{}</p>\n", esc(&cut.summary()))))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{VIEWER_CSS}</style>\n</head>\n<body>\n\
         <header>\n<h1>{title}</h1>\n<p class=\"sub\">{sub}</p>\n{notes}</header>\n\
         <nav id=\"toolbar\">\n\
         <button type=\"button\" id=\"prev\" title=\"previous event (←)\">◀ prev</button>\n\
         <button type=\"button\" id=\"next\" title=\"next event (→)\">next ▶</button>\n\
         <label title=\"hide what happens after the selected event\"><input type=\"checkbox\" id=\"replay\"> replay</label>\n\
         <span class=\"sep\"></span>\n\
         <button type=\"button\" id=\"zoom-in\" title=\"zoom in (+, or the mouse wheel)\">+</button>\n\
         <button type=\"button\" id=\"zoom-out\" title=\"zoom out (-)\">−</button>\n\
         <button type=\"button\" id=\"fit\" title=\"show everything (0)\">fit</button>\n\
         <span class=\"sep\"></span>\n<span id=\"filters\"></span>\n</nav>\n\
         <main>\n<div id=\"canvas\">\n{svg}</div>\n\
         <aside id=\"details\"><p class=\"hint\">Hover over or click an event. Drag to pan, wheel to zoom, \
         ← and → to step.</p></aside>\n</main>\n\
         <pre id=\"selftest\"></pre>\n\
         <script type=\"application/json\" id=\"trace-data\">{data}</script>\n\
         <script>\n{VIEWER_JS}</script>\n</body>\n</html>\n",
        title = esc(&layout.title),
        sub = esc(&layout.subtitle),
    )
}

/// What the viewer needs: the drawn events (each with `k`, its index in the trace),
/// the message types and whether vector clocks are there to use.
fn data(trace: &Trace, layout: &Layout) -> Value {
    let events: Vec<Value> = layout
        .dots
        .iter()
        .map(|d| {
            let mut v = serde_json::to_value(&trace.events[d.event]).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut v {
                map.insert("k".into(), json!(d.event));
            }
            v
        })
        .collect();
    let types: Vec<Value> =
        layout.types.iter().map(|t| json!({"name": t.name, "colour": t.colour, "sent": t.sent})).collect();
    json!({
        "title": layout.title,
        "idents": trace.header.idents,
        "nodes": trace.header.nodes,
        "lanes": layout.lanes.len(),
        "vector": trace.header.clocks.vectors(),
        "types": types,
        "events": events,
        "elided": layout.elision.as_ref().map(|e| e.lines()),
        "cut": layout.cut.as_ref().map(|c| c.summary()),
    })
}

/// JSON that is safe inside `<script>`: no `<`, `>` or `&` can end the element, and `/`
/// is escaped too, so payload text never spells a URL scheme in the page.
fn script_json(v: &Value) -> String {
    let raw = v.to_string();
    let mut out = String::with_capacity(raw.len() + raw.len() / 16);
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '/' => out.push_str("\\/"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script_or_spell_a_url() {
        let v = json!({"text": "</script><b>& http://x"});
        let s = script_json(&v);
        assert!(!s.contains("</") && !s.contains('<') && !s.contains("http://"));
        let back: Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back, v);
    }
}

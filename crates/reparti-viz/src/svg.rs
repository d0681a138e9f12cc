//! A static, self-contained SVG of a space-time diagram, for slides and papers.
//!
//! One lane per node (left to right, or top to bottom with `vertical`), labelled with
//! the node's position and identity; dots for events, arrows for messages coloured by
//! type, red crosses for losses, a black cross where a crashed node's lane ends,
//! highlighted outputs and critical-section bars, a time axis and a legend. Every event
//! element has class `event` and every message arrow class `message`, with `data-`
//! attributes the HTML viewer (which inlines this same drawing) hooks onto.

use crate::snapshot_cut;
use crate::spacetime::{self, ArrowEnd, Axis, Layout, Mark, Options, Pos};
use reparti_core::trace::Trace;
use std::fmt::Write;

/// Writing into a `String` cannot fail, so the `fmt::Result` is dropped here.
macro_rules! w {
    ($s:expr, $($arg:tt)*) => {{
        let _ = write!($s, $($arg)*);
    }};
}

const LANE_GAP: f64 = 40.0;
const SLOT_PX: f64 = 11.0;
const CHAR_W: f64 = 6.8;
const OUTPUT_FILL: &str = "#F2B701";
const DROP_COLOUR: &str = "#C00000";
const CLOCK_FILL: &str = "#0B7285";

const STYLE: &str = "text{font-family:Helvetica,Arial,sans-serif;font-size:12px;fill:#222}\
.title{font-size:15px;font-weight:bold}.sub{fill:#555}.elided{fill:#9A3412}.cutnote{fill:#6A3D9A}\
.lane{stroke:#888;stroke-width:1.5}.grid{stroke:#eee}.tick{fill:#777;font-size:10px}\
.lanelabel{font-weight:bold}.out{fill:#7A5C00;font-size:11px}.olabel{font-size:10px;fill:#5A4300}\
.cs{fill:#F2B701;fill-opacity:.35;stroke:#C99700}.message{stroke-width:1.4;fill:none}\
.control{stroke-width:1;stroke-opacity:.7}";

/// The SVG of a trace laid out with `opts`.
pub fn to_svg(trace: &Trace, opts: &Options) -> String {
    render(&spacetime::layout(trace, opts))
}

/// A standalone SVG document (with its XML namespace).
pub fn render(layout: &Layout) -> String {
    render_svg(layout, true)
}

/// Pixel placement of a layout.
pub(crate) struct Geo {
    vertical: bool,
    span0: f64,
    unit: f64,
    slot_px: f64,
    along0: f64,
    pub(crate) along_end: f64,
    across0: f64,
    pub(crate) gap: f64,
}

impl Geo {
    pub(crate) fn along(&self, p: Pos) -> f64 {
        self.along0 + (p.at - self.span0) * self.unit + f64::from(p.slot) * self.slot_px
    }
    pub(crate) fn lane(&self, node: u32) -> f64 {
        self.across0 + f64::from(node) * self.gap
    }
    /// (along, across) to (x, y).
    pub(crate) fn xy(&self, along: f64, across: f64) -> (f64, f64) {
        if self.vertical {
            (across, along)
        } else {
            (along, across)
        }
    }
    pub(crate) fn at(&self, node: u32, p: Pos) -> (f64, f64) {
        self.xy(self.along(p), self.lane(node))
    }
}

/// The SVG; `standalone` adds the XML namespace, which inline SVG in HTML does without
/// (and which would be the only `http://` string in the viewer).
pub(crate) fn render_svg(l: &Layout, standalone: bool) -> String {
    let label_w = l.lanes.iter().map(|ln| ln.label().chars().count()).max().unwrap_or(2) as f64 * CHAR_W + 16.0;
    // Vertical lanes list their outputs one per line under the lane, so only the
    // longest single output widens a column.
    let out_chars = |ln: &spacetime::Lane| {
        if l.vertical {
            ln.outputs.iter().map(|(k, v)| k.chars().count() + v.chars().count() + 3).max().unwrap_or(0)
        } else {
            outputs_text(&ln.outputs).chars().count()
        }
    };
    let out_w = l.lanes.iter().map(out_chars).max().unwrap_or(0).max(4) as f64 * CHAR_W + 16.0;
    let len = (l.span.1 - l.span.0).max(1e-9);
    let distinct = {
        let mut v: Vec<u64> = l.dots.iter().map(|d| d.pos.at.to_bits()).collect();
        v.sort_unstable();
        v.dedup();
        v.len().max(2) as f64
    };
    let slots = f64::from(l.max_slot + 1);
    // About 32 px per distinct instant, at least room for every slot within one time unit,
    // and never wider than 14,000 px.
    let unit = ((distinct * 32.0).clamp(640.0, 14_000.0) / len).max(slots * SLOT_PX + 12.0).min(14_000.0 / len);
    let slot_px = SLOT_PX.min(unit * 0.8 / slots).max(1.0);
    let body = len * unit + slots * slot_px + 24.0;
    // Notes under the title, each with its class: what a huge trace leaves out, then
    // what a snapshot's cut holds.
    let mut notes: Vec<(&str, String)> =
        l.elision.iter().flat_map(|e| e.lines()).map(|line| ("elided", line)).collect();
    notes.extend(l.cut.as_ref().map(|c| ("cutnote", c.summary())));
    let head_h = 52.0 + 16.0 * notes.len() as f64;
    let lanes_n = l.lanes.len().max(1) as f64;
    let (gap, along0, across0) = if l.vertical {
        let gap = label_w.max(out_w).max(56.0) + 8.0;
        (gap, head_h + 56.0, 56.0 + gap / 2.0)
    } else {
        (LANE_GAP, label_w + 28.0, head_h + 40.0)
    };
    let g =
        Geo { vertical: l.vertical, span0: l.span.0, unit, slot_px, along0, along_end: along0 + body, across0, gap };
    let across_end = across0 + (lanes_n - 1.0) * gap;
    let text_w = [l.title.chars().count(), l.subtitle.chars().count()]
        .into_iter()
        .chain(notes.iter().map(|(_, n)| n.chars().count()))
        .max()
        .unwrap_or(0) as f64
        * CHAR_W
        + 40.0;
    let outputs_h = 14.0 * l.lanes.iter().map(|ln| ln.outputs.len()).max().unwrap_or(0) as f64;
    let (content_w, content_h) = if l.vertical {
        (across_end + gap / 2.0 + 10.0, g.along_end + 30.0 + outputs_h)
    } else {
        (g.along_end + out_w + 10.0, across_end + 30.0)
    };
    let width = content_w.max(text_w).max(420.0);
    let (legend, legend_h) = legend(l, width, content_h + 10.0);
    let height = content_h + 10.0 + legend_h;

    let mut s = String::new();
    let ns = if standalone { " xmlns=\"http://www.w3.org/2000/svg\"" } else { "" };
    w!(
        s,
        "<svg{ns} id=\"diagram\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" \
         role=\"img\" aria-label=\"{}\">\n<style>{STYLE}</style>\n",
        esc(&l.title)
    );
    w!(s, "<defs>");
    for (k, t) in l.types.iter().enumerate() {
        w!(
            s,
            "<marker id=\"ah{k}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" \
             orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"{}\"/></marker>",
            t.colour
        );
    }
    w!(s, "</defs>\n<rect class=\"bg\" width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
    w!(s, "<text class=\"title\" x=\"12\" y=\"22\">{}</text>\n", esc(&l.title));
    w!(s, "<text class=\"sub\" x=\"12\" y=\"40\">{}</text>\n", esc(&l.subtitle));
    for (k, (class, line)) in notes.iter().enumerate() {
        w!(s, "<text class=\"{class}\" x=\"12\" y=\"{:.0}\">{}</text>\n", 58.0 + 16.0 * k as f64, esc(line));
    }
    axis(&mut s, l, &g, across0 - gap / 2.0 - if l.vertical { 0.0 } else { 4.0 }, across_end + gap / 2.0);
    lanes(&mut s, l, &g);
    if let Some(cut) = &l.cut {
        s.push_str(&snapshot_cut::draw_under(cut, l, &g));
    }
    w!(s, "<g id=\"messages\">\n");
    for a in &l.arrows {
        let colour = l.types.get(a.ty).map_or("#444", |t| t.colour);
        let (x1, y1) = g.at(a.from, a.start);
        let (mut x2, mut y2) = match a.kind {
            ArrowEnd::InFlight => g.xy(g.along_end, g.lane(a.to)),
            _ => g.at(a.to, a.end),
        };
        // Stop the line at the receive dot's rim so the arrowhead stays visible.
        if a.kind == ArrowEnd::Received {
            let (dx, dy) = (x2 - x1, y2 - y1);
            let d = (dx * dx + dy * dy).sqrt();
            if d > 12.0 {
                x2 -= dx / d * 5.5;
                y2 -= dy / d * 5.5;
            }
        }
        let (end, extra) = match a.kind {
            ArrowEnd::Received => ("received", format!(" marker-end=\"url(#ah{})\"", a.ty)),
            ArrowEnd::Dropped => ("dropped", " stroke-dasharray=\"5 3\"".to_string()),
            ArrowEnd::InFlight => ("inflight", format!(" stroke-dasharray=\"2 4\" marker-end=\"url(#ah{})\"", a.ty)),
        };
        let to_i = a.end_event.map(|k| k.to_string()).unwrap_or_default();
        // A control layer's messages (a snapshot's markers) are drawn lighter.
        let control = if l.types.get(a.ty).is_some_and(|t| t.control) { " control" } else { "" };
        w!(
            s,
            "<line class=\"message {end}{control}\" data-msg=\"{}\" data-t=\"{}\" data-from=\"{}\" data-to=\"{to_i}\" \
             x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{colour}\"{extra}><title>{}</title></line>\n",
            a.msg,
            a.ty,
            a.send_event,
            esc(&a.title)
        );
    }
    w!(s, "</g>\n");
    if let Some(cut) = &l.cut {
        s.push_str(&snapshot_cut::draw_over(cut, l, &g));
    }
    w!(s, "<g id=\"events\">\n");
    for d in &l.dots {
        let (x, y) = g.at(d.node, d.pos);
        let colour = d.ty.and_then(|t| l.types.get(t)).map_or("#444", |t| t.colour);
        let t_attr = d.ty.map(|t| format!(" data-t=\"{t}\"")).unwrap_or_default();
        let head = format!("class=\"event {}\" data-i=\"{}\" data-k=\"{}\"{t_attr}", mark_class(d.mark), d.i, d.event);
        let title = esc(&d.title);
        match d.mark {
            Mark::Local => {
                w!(s, "<circle {head} cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"#777\"><title>{title}</title></circle>\n")
            }
            Mark::Send => {
                w!(s, "<circle {head} cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4.5\" fill=\"{colour}\"><title>{title}</title></circle>\n")
            }
            Mark::Receive => w!(
                s,
                "<circle {head} cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4.5\" fill=\"#fff\" stroke=\"{colour}\" \
                 stroke-width=\"2\"><title>{title}</title></circle>\n"
            ),
            Mark::Duplicate => w!(
                s,
                "<circle {head} cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"none\" stroke=\"{colour}\" \
                 stroke-dasharray=\"2 2\"><title>{title}</title></circle>\n"
            ),
            Mark::Output => w!(
                s,
                "<rect {head} x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{OUTPUT_FILL}\" \
                 stroke=\"#333\"><title>{title}</title></rect>\n",
                x - 5.0,
                y - 5.0
            ),
            Mark::Drop => w!(
                s,
                "<path {head} d=\"{}\" stroke=\"{DROP_COLOUR}\" stroke-width=\"2.5\"><title>{title}</title></path>\n",
                cross(x, y, 5.0)
            ),
            Mark::Crash => w!(
                s,
                "<path {head} d=\"{}\" stroke=\"#000\" stroke-width=\"3\"><title>{title}</title></path>\n",
                cross(x, y, 8.0)
            ),
            Mark::Clock => w!(
                s,
                "<path {head} d=\"M{x:.1},{:.1}L{:.1},{y:.1}L{x:.1},{:.1}L{:.1},{y:.1}Z\" fill=\"{CLOCK_FILL}\" \
                 stroke=\"#333\"><title>{title}</title></path>\n",
                y - 5.5,
                x + 5.5,
                y + 5.5,
                x - 5.5
            ),
        }
        if let Some(label) = &d.label {
            let (lx, ly) = if l.vertical { (x + 8.0, y + 4.0) } else { (x - 4.0, y - 9.0) };
            w!(s, "<text class=\"olabel\" x=\"{lx:.1}\" y=\"{ly:.1}\">{}</text>\n", esc(label));
        }
    }
    w!(s, "</g>\n{legend}</svg>\n");
    s
}

fn mark_class(m: Mark) -> &'static str {
    match m {
        Mark::Local => "local",
        Mark::Send => "send",
        Mark::Receive => "receive",
        Mark::Output => "output",
        Mark::Drop => "drop",
        Mark::Duplicate => "duplicate",
        Mark::Crash => "crash",
        Mark::Clock => "clock",
    }
}

fn cross(x: f64, y: f64, r: f64) -> String {
    format!("M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}", x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r)
}

fn outputs_text(outputs: &[(String, String)]) -> String {
    outputs.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}

/// Lane lines (stopping at a crash), their labels, final outputs and CS bars.
fn lanes(s: &mut String, l: &Layout, g: &Geo) {
    w!(s, "<g id=\"lanes\">\n");
    for b in &l.bars {
        let a0 = g.along(b.from);
        let a1 = b.to.map_or(g.along_end, |p| g.along(p));
        let c = g.lane(b.node);
        let (x, y, wd, ht) = if g.vertical { (c - 5.0, a0, 10.0, a1 - a0) } else { (a0, c - 5.0, a1 - a0, 10.0) };
        w!(
            s,
            "<rect class=\"cs\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>n{} in its {}</title></rect>\n",
            wd.max(1.0),
            ht.max(1.0),
            b.node,
            esc(&b.label)
        );
    }
    for ln in &l.lanes {
        let c = g.lane(ln.node);
        let end = ln.crash.map_or(g.along_end, |p| g.along(p));
        let (x1, y1) = g.xy(g.along0 - 8.0, c);
        let (x2, y2) = g.xy(end, c);
        w!(s, "<line class=\"lane\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\"/>\n");
        let (tx, ty, anchor) =
            if g.vertical { (c, g.along0 - 16.0, "middle") } else { (g.along0 - 14.0, c + 4.0, "end") };
        w!(
            s,
            "<text class=\"lanelabel\" x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"{anchor}\">{}</text>\n",
            esc(&ln.label())
        );
        if g.vertical {
            for (k, (key, value)) in ln.outputs.iter().enumerate() {
                let oy = end + 22.0 + 14.0 * k as f64;
                w!(
                    s,
                    "<text class=\"out\" x=\"{c:.1}\" y=\"{oy:.1}\" text-anchor=\"middle\">{}</text>\n",
                    esc(&format!("{key} = {value}"))
                );
            }
        } else if !ln.outputs.is_empty() {
            let ox = end + 10.0;
            w!(
                s,
                "<text class=\"out\" x=\"{ox:.1}\" y=\"{:.1}\">{}</text>\n",
                c + 4.0,
                esc(&outputs_text(&ln.outputs))
            );
        }
    }
    w!(s, "</g>\n");
}

/// Grid lines and tick labels at a round step.
fn axis(s: &mut String, l: &Layout, g: &Geo, across_from: f64, across_to: f64) {
    let len = (l.span.1 - l.span.0).max(1e-9);
    let raw = (len / 10.0).max(40.0 / g.unit);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|v| *v >= raw).unwrap_or(10.0 * mag);
    let name = match l.axis {
        Axis::Time => "time",
        Axis::Lamport => "Lamport clock",
    };
    w!(s, "<g id=\"axis\">\n");
    let mut v = (l.span.0 / step).ceil() * step;
    while v <= l.span.1 + 1e-9 {
        let a = g.along(Pos { at: v, slot: 0 });
        let (x1, y1) = g.xy(a, across_from);
        let (x2, y2) = g.xy(a, across_to);
        w!(s, "<line class=\"grid\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\"/>\n");
        let (tx, ty, anchor) = if g.vertical { (x1 - 6.0, y1 + 3.0, "end") } else { (x1, y1 - 4.0, "middle") };
        w!(
            s,
            "<text class=\"tick\" x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"{anchor}\">{}</text>\n",
            crate::number(v)
        );
        v += step;
    }
    let (nx, ny, anchor) = if g.vertical {
        (across_from - 6.0, g.along0 - 34.0, "end")
    } else {
        (g.along0 - 14.0, across_from - 4.0, "end")
    };
    w!(s, "<text class=\"tick\" x=\"{nx:.1}\" y=\"{ny:.1}\" text-anchor=\"{anchor}\">{name} →</text>\n</g>\n");
}

/// The legend: one entry per message type (with how many were sent), then the glyphs.
fn legend(l: &Layout, width: f64, top: f64) -> (String, f64) {
    let mut items: Vec<(String, String)> = l
        .types
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let glyph = format!(
                "<line x1=\"0\" y1=\"0\" x2=\"22\" y2=\"0\" stroke=\"{}\" stroke-width=\"1.6\" marker-end=\"url(#ah{k})\"/>",
                t.colour
            );
            let role = if t.control { "control, " } else { "" };
            (glyph, format!("{} ({role}{} sent)", t.name, crate::thousands(t.sent)))
        })
        .collect();
    let glyphs = [
        ("<circle cx=\"11\" cy=\"0\" r=\"4.5\" fill=\"#444\"/>", "send"),
        ("<circle cx=\"11\" cy=\"0\" r=\"4.5\" fill=\"#fff\" stroke=\"#444\" stroke-width=\"2\"/>", "receive"),
        ("<circle cx=\"11\" cy=\"0\" r=\"3.5\" fill=\"#777\"/>", "local event"),
        ("<rect x=\"6\" y=\"-5\" width=\"10\" height=\"10\" fill=\"#F2B701\" stroke=\"#333\"/>", "output"),
        ("<path d=\"M6,-5L16,5M6,5L16,-5\" stroke=\"#C00000\" stroke-width=\"2.5\"/>", "lost message"),
        ("<circle cx=\"11\" cy=\"0\" r=\"6\" fill=\"none\" stroke=\"#444\" stroke-dasharray=\"2 2\"/>", "duplicated"),
        ("<path d=\"M3,-8L19,8M3,8L19,-8\" stroke=\"#000\" stroke-width=\"3\"/>", "crash"),
        (
            "<line x1=\"0\" y1=\"0\" x2=\"22\" y2=\"0\" stroke=\"#444\" stroke-dasharray=\"2 4\"/>",
            "in flight at the end",
        ),
    ];
    items.extend(glyphs.iter().take(4).map(|(g, t)| (g.to_string(), t.to_string())));
    if l.dots.iter().any(|d| d.mark == Mark::Clock) {
        let diamond = format!("<path d=\"M11,-5.5L16.5,0L11,5.5L5.5,0Z\" fill=\"{CLOCK_FILL}\" stroke=\"#333\"/>");
        items.push((diamond, "clock correction".to_string()));
    }
    // One entry per interval the algorithm declares (none for most algorithms).
    let mut labels: Vec<&str> = l.bars.iter().map(|b| b.label.as_str()).collect();
    labels.extend(l.spans.iter().map(String::as_str));
    labels.sort_unstable();
    labels.dedup();
    items.extend(
        labels
            .into_iter()
            .map(|t| ("<rect x=\"0\" y=\"-5\" width=\"22\" height=\"10\" class=\"cs\"/>".to_string(), t.to_string())),
    );
    items.extend(glyphs.iter().skip(4).map(|(g, t)| (g.to_string(), t.to_string())));
    if let Some(cut) = &l.cut {
        items.extend(cut_legend(cut));
    }
    let mut s = format!("<g id=\"legend\" transform=\"translate(0,{top:.0})\">\n");
    let (mut x, mut y) = (12.0, 12.0);
    for (glyph, text) in items {
        let w = 30.0 + text.chars().count() as f64 * CHAR_W + 18.0;
        if x + w > width && x > 12.0 {
            x = 12.0;
            y += 22.0;
        }
        w!(
            s,
            "<g class=\"glyph\" transform=\"translate({x:.0},{y:.0})\">{glyph}<text x=\"30\" y=\"4\">{}</text></g>\n",
            esc(&text)
        );
        x += w;
    }
    s.push_str("</g>\n");
    (s, y + 16.0)
}

/// The legend's entries for a snapshot's cut.
fn cut_legend(cut: &snapshot_cut::Cut) -> Vec<(String, String)> {
    use snapshot_cut::{CUT_COLOUR, ORPHAN_COLOUR};
    let halo = |colour: &str| {
        format!(
            "<line x1=\"0\" y1=\"0\" x2=\"22\" y2=\"0\" stroke=\"{colour}\" stroke-width=\"8\" stroke-opacity=\".25\"/>\
             <circle cx=\"11\" cy=\"0\" r=\"5\" fill=\"#fff\" stroke=\"{colour}\" stroke-width=\"2.5\"/>"
        )
    };
    let mut items = vec![
        (
            format!("<path d=\"M4,-8L4,0L18,0L18,8\" fill=\"none\" stroke=\"{CUT_COLOUR}\" stroke-width=\"2.5\"/>"),
            "recorded cut (snapshot)".to_string(),
        ),
        (halo(CUT_COLOUR), "in transit across the cut: a channel state".to_string()),
    ];
    if !cut.orphans.is_empty() {
        items.push((halo(ORPHAN_COLOUR), "sent after the cut, received before it: inconsistent".to_string()));
    }
    items
}

/// A coordinate for SVG: one decimal at most, none when whole (`12`, `12.5`, never `-0`).
pub(crate) fn num(v: f64) -> String {
    debug_assert!(v.is_finite(), "a non-finite coordinate reached the SVG");
    let s = format!("{v:.1}");
    match s.strip_suffix(".0") {
        Some("-0") => "0".to_string(),
        Some(whole) => whole.to_string(),
        None => s,
    }
}

/// The opening tag of a standalone picture of `width × height` pixels, with a line end.
pub(crate) fn open_standalone(width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n",
        w = num(width),
        h = num(height)
    )
}

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

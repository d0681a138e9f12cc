//! # Self-stabilization: privileges over moves, node values over steps
//!
//! **What.** Two pictures of one self-stabilizing run ([`StabRun`]). [`stabilization_plot`]
//! draws the number of privileges (enabled guards) after each daemon step as a step line
//! over the total number of moves. The stretches where the configuration is legitimate
//! (in L) are shaded light green. Each corruption (a transient fault) is a dashed red
//! vertical line and each arrival in L a solid green one, both labelled above the plot.
//! [`heat_strip`] draws one row per node (n0 at the top) and one column per step, each cell
//! coloured by the node's value: distinct colours when the value range holds at most 12
//! values, a continuous viridis-like scale otherwise, with the legend underneath. A green
//! bar above the columns marks the legitimate configurations and red ticks above it mark
//! the corruptions. [`stabilization_page`] puts the plot above the strip in one SVG.
//!
//! **How to read it.** Convergence is the curve falling to the level L keeps (one privilege
//! for Dijkstra's K-state ring) and the green band starting there. Closure is the band
//! lasting until the next red line. On the strip, a legitimate token ring shows as a single
//! boundary between two colours, walking row by row down the ring.
//!
//! **Pitfalls.** The plot's x axis counts moves, not steps: a distributed daemon moves
//! several nodes in one step. The strip's x axis counts steps. Over 1500 columns (or over
//! 24,000 cells) the strip samples the steps evenly, and each column then shows the first
//! configuration of its bucket. The green bar and the red ticks are still drawn from every
//! step, so short stretches are not lost. Values outside `value_range` take the colour of
//! the nearer end of the scale.

use crate::plot::{nice_step, PALETTE};
use crate::svg::{esc, num, open_standalone};
use crate::thousands;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Writing into a `String` cannot fail, so the `fmt::Result` is dropped here.
macro_rules! w {
    ($s:expr, $($arg:tt)*) => {{
        let _ = write!($s, $($arg)*);
    }};
}

/// One step of a stabilization run, as drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StabStep {
    /// 0 is the initial configuration, then one per daemon step.
    pub step: u64,
    /// Total moves so far (a distributed daemon moves several nodes per step).
    pub moves: u64,
    /// The number of enabled guards in the configuration after this step.
    pub privileges: u32,
    /// Whether that configuration is in L.
    pub legitimate: bool,
    /// Each node's value (for the heat strip), by node position.
    pub values: Vec<i64>,
}

/// A marked moment on the run: a corruption (fault injected) or L reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StabMark {
    /// The step it happened at.
    pub step: u64,
    /// The text drawn next to it ("corrupt 3", "L after 17 moves").
    pub label: String,
    /// What happened.
    pub kind: StabMarkKind,
}

/// What a [`StabMark`] marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StabMarkKind {
    /// A transient fault corrupted the configuration (a dashed red line, a red tick).
    Corruption,
    /// The run reached L (a solid green line).
    Legitimate,
}

/// A self-stabilizing run, as the simulator hands it to the pictures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StabRun {
    /// Above the pictures, e.g. "dijkstra-k-state, n = 8, K = 8, central daemon, seed 3".
    pub title: String,
    /// The configurations, the initial one first.
    pub steps: Vec<StabStep>,
    /// Corruptions and arrivals in L.
    pub marks: Vec<StabMark>,
    /// The lowest and highest value a node can take (the colour scale).
    pub value_range: (i64, i64),
}

const LEFT: f64 = 78.0; // as in plot.rs
const AREA_W: f64 = 720.0;
const AREA_H: f64 = 260.0;
const LABELS_Y: f64 = 54.0; // where the marks' label rows start
const LABEL_ROWS: usize = 4;
const STRIP_W: f64 = 960.0;
const MAX_COLS: usize = 1500;
const MAX_CELLS: usize = 24_000; // about 65 bytes each: the strip stays under 2 MB
const BLUE: &str = "#1f77b4";
const RED: &str = "#d62728";
const GREEN: &str = "#2ca02c";
const EXTRA: [&str; 2] = ["#aec7e8", "#ffbb78"]; // after plot.rs's ten, for 11 and 12 values
const VIRIDIS: [u32; 9] = [0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30, 0xfde725];
const MID: &str = " text-anchor=\"middle\"";
const NOTE: &str = " text-anchor=\"end\" font-size=\"11\" fill=\"#555\"";
const TICK_MID: &str = " text-anchor=\"middle\" stroke=\"none\" fill=\"#222\"";
const TICK_END: &str = " text-anchor=\"end\" stroke=\"none\" fill=\"#222\"";

/// The privileges over moves, legitimate stretches shaded, corruptions and arrivals in L
/// as vertical lines, as a standalone SVG document.
pub fn stabilization_plot(run: &StabRun) -> String {
    standalone(&[plot_part(run)])
}

/// Every node's value over the steps, legitimate configurations and corruptions marked
/// above, as a standalone SVG document.
pub fn heat_strip(run: &StabRun) -> String {
    standalone(&[strip_part(run)])
}

/// The plot above the heat strip, in one SVG document (for `--plot FILE.svg`); a run
/// without steps gives the plot's "no steps" alone.
pub fn stabilization_page(run: &StabRun) -> String {
    if run.steps.is_empty() {
        return stabilization_plot(run);
    }
    standalone(&[plot_part(run), strip_part(run)])
}

/// A picture drawn at the origin, to be placed in a document.
struct Part {
    class: &'static str,
    body: String,
    width: f64,
    height: f64,
}

fn standalone(parts: &[Part]) -> String {
    let width = parts.iter().map(|p| p.width).fold(200.0, f64::max);
    let height = parts.iter().map(|p| p.height).sum::<f64>().max(100.0);
    let mut o = open_standalone(width, height);
    o.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let mut dy = 0.0;
    for p in parts {
        w!(o, "<g class=\"{}\" transform=\"translate(0,{})\">\n{}</g>\n", p.class, num(dy), p.body);
        dy += p.height;
    }
    o.push_str("</svg>\n");
    o
}

fn text(o: &mut String, (x, y): (f64, f64), attrs: &str, content: &str) {
    w!(o, "<text x=\"{}\" y=\"{}\"{attrs}>{}</text>\n", num(x), num(y), esc(content));
}

fn rect(o: &mut String, (x, y, wd, ht): (f64, f64, f64, f64), attrs: &str) {
    w!(o, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{attrs}/>\n", num(x), num(y), num(wd), num(ht));
}

/// A line; `title` (escaped) is its tooltip when not empty.
fn line(o: &mut String, (x1, y1, x2, y2): (f64, f64, f64, f64), attrs: &str, title: &str) {
    w!(o, "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{attrs}", num(x1), num(y1), num(x2), num(y2));
    if title.is_empty() {
        o.push_str("/>\n");
    } else {
        w!(o, "><title>{}</title></line>\n", esc(title));
    }
}

/// The steps in order of their number (a stable sort: ties keep the simulator's order).
fn ordered(run: &StabRun) -> Vec<&StabStep> {
    let mut steps: Vec<&StabStep> = run.steps.iter().collect();
    steps.sort_by_key(|s| s.step);
    steps
}

/// The index of the configuration a mark at `step` belongs to: the last one at or before it.
fn at_step(steps: &[&StabStep], step: u64) -> usize {
    steps.partition_point(|s| s.step <= step).saturating_sub(1)
}

/// The marks in order of step (corruptions before arrivals in L at the same step).
fn ordered_marks(run: &StabRun, kind: Option<StabMarkKind>) -> Vec<&StabMark> {
    let mut marks: Vec<&StabMark> = run.marks.iter().filter(|m| kind.is_none_or(|k| m.kind == k)).collect();
    marks.sort_by_key(|m| (m.step, m.kind));
    marks
}

/// A mark where it is drawn: its x, the mark, its tooltip.
type Drawn<'a> = (f64, &'a StabMark, String);
/// Where a label went: its row and its start (`None`: no room).
type Slot = Option<(usize, f64)>;

/// Places labels (left to right, each starting near its `x`) in the first row where it
/// does not overlap: the row and the start of each (`None`: no room), and the rows used.
fn label_rows(labels: &[(f64, &str)], right: f64) -> (Vec<Slot>, usize) {
    let mut ends = [f64::NEG_INFINITY; LABEL_ROWS];
    let mut place = |&(x, label): &(f64, &str)| {
        let width = label.chars().count() as f64 * 6.0 + 6.0;
        let start = (x + 3.0).min(right - width).max(0.0);
        let row = ends.iter().position(|&e| e <= start)?;
        ends[row] = start + width;
        Some((row, start))
    };
    let placed: Vec<Slot> = labels.iter().map(&mut place).collect();
    let rows = placed.iter().flatten().map(|p| p.0 + 1).max().unwrap_or(0);
    (placed, rows)
}

fn label_y(row: usize) -> f64 {
    LABELS_Y + 11.0 + 14.0 * row as f64
}

/// The marks' labels placed in rows ([`label_rows`]), and a note when some found no room.
fn place_marks(marks: &[Drawn], right: f64) -> (Vec<Slot>, usize, String) {
    let labels: Vec<(f64, &str)> = marks.iter().map(|(x, m, _)| (*x, m.label.as_str())).collect();
    let (placed, rows) = label_rows(&labels, right);
    let hidden = placed.iter().filter(|p| p.is_none()).count();
    let note =
        if hidden > 0 { format!(" · {hidden} mark label(s) not shown: hover the marks") } else { String::new() };
    (placed, rows, note)
}

/// Draws the marks' lines (x, title) from `bottom` up to their label (or `top`), and the labels.
fn draw_marks(o: &mut String, marks: &[Drawn], placed: &[Slot], top: f64, bottom: f64) {
    for ((x, m, title), place) in marks.iter().zip(placed) {
        let (colour, dash, class) = match m.kind {
            StabMarkKind::Corruption => (RED, " stroke-dasharray=\"5 3\"", "corruption"),
            StabMarkKind::Legitimate => (GREEN, "", "legitimate"),
        };
        let y1 = place.map_or(top, |(row, _)| label_y(row) + 3.0);
        let attrs =
            format!(" class=\"mark {class}\" data-step=\"{}\" stroke=\"{colour}\" stroke-width=\"1.4\"{dash}", m.step);
        line(o, (*x, y1, *x, bottom), &attrs, title);
        if let Some((row, start)) = place {
            text(
                o,
                (*start, label_y(*row)),
                &format!(" class=\"mark-label\" font-size=\"11\" fill=\"{colour}\""),
                &m.label,
            );
        }
    }
}

fn heading(o: &mut String, cx: f64, title: &str, sub: &str) {
    text(o, (cx, 24.0), " class=\"title\" text-anchor=\"middle\" font-size=\"15\"", title);
    text(o, (cx, 42.0), " class=\"sub\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\"", sub);
}

fn no_steps(class: &'static str, title: &str, width: f64) -> Part {
    let mut body = String::new();
    heading(&mut body, width / 2.0, title, "");
    text(&mut body, (width / 2.0, 80.0), " class=\"empty\" text-anchor=\"middle\" fill=\"#555\"", "no steps");
    Part { class, body, width, height: 120.0 }
}

/// Merges stretches `(a, b)` less than half a pixel apart.
fn merge(stretches: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in stretches {
        match out.last_mut() {
            Some(last) if a - last.1 < 0.5 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn plot_part(run: &StabRun) -> Part {
    let legend_x = LEFT + AREA_W + 24.0;
    let width = legend_x + 40.0 + 27.0 * 6.6 + 12.0;
    let steps = ordered(run);
    let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
        return no_steps("stabilization-plot", &run.title, width);
    };
    let max_moves = steps.iter().map(|s| s.moves).max().unwrap_or(0) as f64;
    let x_hi = max_moves + (max_moves * 0.03).ceil().max(1.0);
    let max_priv = f64::from(steps.iter().map(|s| s.privileges).max().unwrap_or(0));
    let y_step = nice_step(max_priv.max(1.0) / 5.0).max(1.0);
    let y_hi = (max_priv / y_step).floor() * y_step + y_step;
    let x = |m: f64| LEFT + m / x_hi * AREA_W;

    let marks: Vec<Drawn> = ordered_marks(run, None)
        .into_iter()
        .map(|m| {
            let moves = steps[at_step(&steps, m.step)].moves;
            (x(moves as f64), m, format!("{}: step {}, {} moves", m.label, m.step, thousands(moves)))
        })
        .collect();
    let (placed, rows, note) = place_marks(&marks, width);
    let top = LABELS_Y + 14.0 * rows as f64 + 8.0;
    let bottom = top + AREA_H;
    let y = |p: f64| bottom - p / y_hi * AREA_H;

    let mut o = String::new();
    let corruptions = marks.iter().filter(|m| m.1.kind == StabMarkKind::Corruption).count();
    let end = if last.legitimate { "legitimate" } else { "not legitimate" };
    let (steps_n, moves_n) = (thousands(last.step), thousands(max_moves as u64));
    let sub = format!("{steps_n} steps, {moves_n} moves · {corruptions} corruption(s) · {end} at the end{note}");
    heading(&mut o, LEFT + AREA_W / 2.0, &run.title, &sub);

    // Legitimate stretches first, under everything: a configuration lasts until the next step.
    let next = |i: usize| steps.get(i + 1).map_or(x(x_hi), |n| x(n.moves as f64));
    let legit = steps.iter().enumerate().filter(|(_, s)| s.legitimate).map(|(i, s)| (x(s.moves as f64), next(i)));
    o.push_str("<g class=\"legitimate\" fill=\"#2ca02c\" fill-opacity=\"0.13\">\n");
    for (a, b) in merge(legit) {
        rect(&mut o, (a, top, (b - a).max(1.5), AREA_H), "");
    }
    o.push_str("</g>\n<g class=\"axes\" stroke=\"#ccc\" stroke-width=\"0.8\">\n");
    let x_step = nice_step(x_hi / 8.0).max(1.0);
    for t in (0..=(x_hi / x_step).floor() as u64).map(|k| k as f64 * x_step) {
        line(&mut o, (x(t), top, x(t), bottom), "", "");
        text(&mut o, (x(t), bottom + 16.0), TICK_MID, &thousands(t as u64));
    }
    for t in (0..=(y_hi / y_step).round() as u64).map(|k| k as f64 * y_step) {
        line(&mut o, (LEFT, y(t), LEFT + AREA_W, y(t)), "", "");
        text(&mut o, (LEFT - 6.0, y(t) + 4.0), TICK_END, &thousands(t as u64));
    }
    rect(&mut o, (LEFT, top, AREA_W, AREA_H), " fill=\"none\" stroke=\"#222\"");
    o.push_str("</g>\n");
    text(&mut o, (LEFT + AREA_W / 2.0, bottom + 40.0), MID, "moves (total so far)");
    let (lx, ly) = (num(18.0), num(top + AREA_H / 2.0));
    w!(o, "<text x=\"{lx}\" y=\"{ly}\"{MID} transform=\"rotate(-90 {lx} {ly})\">privileges (enabled guards)</text>\n");

    // The step line: a configuration's privileges hold until the next step's moves.
    let mut pts = vec![(x(first.moves as f64), y(f64::from(first.privileges)))];
    for pair in steps.windows(2) {
        let at = x(pair[1].moves as f64);
        pts.extend([(at, y(f64::from(pair[0].privileges))), (at, y(f64::from(pair[1].privileges)))]);
    }
    pts.push((x(x_hi), y(f64::from(last.privileges))));
    let points: Vec<String> = compress(&pts).iter().map(|&(a, b)| format!("{},{}", num(a), num(b))).collect();
    let points = points.join(" ");
    w!(
        o,
        "<polyline class=\"privileges\" points=\"{points}\" fill=\"none\" stroke=\"{BLUE}\" stroke-width=\"1.6\"/>\n"
    );

    o.push_str("<g class=\"marks\">\n");
    draw_marks(&mut o, &marks, &placed, top, bottom);
    o.push_str("</g>\n");

    // The legend, right of the plot area, as in plot.rs.
    let (a, m, z) = (num(legend_x), num(legend_x + 14.0), num(legend_x + 28.0));
    let entries = [
        format!("<line x1=\"{a}\" y1=\"0\" x2=\"{z}\" y2=\"0\" stroke=\"{BLUE}\" stroke-width=\"1.6\"/>"),
        format!("<rect x=\"{a}\" y=\"-6\" width=\"28\" height=\"12\" fill=\"{GREEN}\" fill-opacity=\"0.13\"/>"),
        format!("<line x1=\"{m}\" y1=\"-7\" x2=\"{m}\" y2=\"7\" stroke=\"{RED}\" stroke-width=\"1.4\" stroke-dasharray=\"5 3\"/>"),
        format!("<line x1=\"{m}\" y1=\"-7\" x2=\"{m}\" y2=\"7\" stroke=\"{GREEN}\" stroke-width=\"1.4\"/>"),
    ];
    let texts = ["privileges (enabled guards)", "legitimate (in L)", "corruption", "L reached"];
    o.push_str("<g class=\"legend\">\n");
    for (i, (glyph, label)) in entries.iter().zip(texts).enumerate() {
        let (gy, tx) = (num(top + 10.0 + 20.0 * i as f64), num(legend_x + 36.0));
        w!(
            o,
            "<g class=\"entry\" transform=\"translate(0,{gy})\">{glyph}<text x=\"{tx}\" y=\"4\">{label}</text></g>\n"
        );
    }
    o.push_str("</g>\n");
    Part { class: "stabilization-plot", body: o, width, height: bottom + 56.0 }
}

/// Keeps, of the points falling in one half-pixel column, the first, the lowest, the
/// highest and the last: the line looks the same with a few vertices per column.
fn compress(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut i = 0;
    while i < pts.len() {
        let col = (pts[i].0 * 2.0).round();
        let group = &pts[i..i + pts[i..].iter().take_while(|p| (p.0 * 2.0).round() == col).count()];
        let lo = group.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = group.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        for p in [group[0], (group[0].0, lo), (group[0].0, hi), group[group.len() - 1]] {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        i += group.len();
    }
    out
}

/// Whether the (ordered) value range is small enough for distinct colours.
fn categorical((lo, hi): (i64, i64)) -> bool {
    i128::from(hi) - i128::from(lo) < 12
}

/// The colour of `v`: distinct colours for up to 12 values, else viridis; values outside
/// the range take the colour of the nearer end.
fn colour((lo, hi): (i64, i64), v: i64) -> String {
    let off = i128::from(v.clamp(lo, hi)) - i128::from(lo);
    if categorical((lo, hi)) {
        let k = off as usize;
        PALETTE.get(k).copied().unwrap_or_else(|| EXTRA[(k - PALETTE.len()).min(1)]).to_string()
    } else {
        viridis(off as f64 / (i128::from(hi) - i128::from(lo)) as f64)
    }
}

fn viridis(t: f64) -> String {
    let f = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let k = (f.floor() as usize).min(VIRIDIS.len() - 2);
    let r = f - k as f64;
    let channel = |c: u32, shift: u32| f64::from((c >> shift) & 0xff);
    let mix = |s: u32| (channel(VIRIDIS[k], s) + (channel(VIRIDIS[k + 1], s) - channel(VIRIDIS[k], s)) * r).round();
    format!("#{:02x}{:02x}{:02x}", mix(16) as u8, mix(8) as u8, mix(0) as u8)
}

fn strip_part(run: &StabRun) -> Part {
    let title = format!("Node values over steps · {}", run.title);
    let steps = ordered(run);
    if steps.is_empty() {
        return no_steps("heat-strip", &title, LEFT + STRIP_W + 24.0);
    }
    let (len, n) = (steps.len(), steps.iter().map(|s| s.values.len()).max().unwrap_or(0));
    let cols = len.min(MAX_COLS).min((MAX_CELLS / n.max(1)).max(1));
    let cw = (STRIP_W / cols as f64).clamp(0.5, 16.0);
    let strip_w = cw * cols as f64;
    let xi = |i: f64| LEFT + i * strip_w / len as f64;
    let rh = if n <= 24 { 14.0 } else { (336.0 / n as f64).max(2.0) };
    let range @ (lo, hi) = (run.value_range.0.min(run.value_range.1), run.value_range.0.max(run.value_range.1));
    let values: Vec<i64> = if categorical(range) { (lo..=hi).collect() } else { vec![lo, hi] };
    let swatch_w = |v: i64| 28.0 + v.to_string().len() as f64 * 7.0;
    let legend_w = values.iter().map(|&v| swatch_w(v)).sum::<f64>().max(300.0);
    let width = LEFT + strip_w.max(legend_w) + 24.0;

    let marks: Vec<Drawn> = ordered_marks(run, Some(StabMarkKind::Corruption))
        .into_iter()
        .map(|m| (xi(at_step(&steps, m.step) as f64), m, format!("{}: step {}", m.label, m.step)))
        .collect();
    let (placed, rows, note) = place_marks(&marks, width);
    let tick_top = LABELS_Y + 14.0 * rows as f64 + 4.0;
    let (bar_y, top) = (tick_top + 10.0, tick_top + 20.0);
    let bottom = top + rh * n as f64;

    let mut o = String::new();
    let shown = if cols < len {
        format!("{} columns for {} configurations, sampled evenly", thousands(cols as u64), thousands(len as u64))
    } else {
        "one column per configuration".to_string()
    };
    heading(&mut o, LEFT + strip_w / 2.0, &title, &format!("{n} nodes, one row each · {shown}{note}"));

    // Legitimate configurations, from every step whether sampled or not.
    text(&mut o, (LEFT - 6.0, bar_y + 6.0), NOTE, "in L");
    rect(&mut o, (LEFT, bar_y, strip_w, 6.0), " class=\"l-track\" fill=\"#eee\"");
    w!(o, "<g class=\"legitimate\" fill=\"{GREEN}\">\n");
    let legit = steps.iter().enumerate().filter(|(_, s)| s.legitimate).map(|(i, _)| (xi(i as f64), xi(i as f64 + 1.0)));
    for (a, b) in merge(legit) {
        rect(&mut o, (a, bar_y, (b - a).max(1.0), 6.0), "");
    }
    o.push_str("</g>\n<g class=\"corruptions\">\n");
    draw_marks(&mut o, &marks, &placed, tick_top, top);
    o.push_str("</g>\n");

    // The cells: column j shows the first configuration of its bucket of steps.
    let edge = |j: usize| ((LEFT + j as f64 * cw) * 10.0).round() / 10.0;
    o.push_str("<g class=\"cells\" shape-rendering=\"crispEdges\">\n");
    for node in 0..n {
        let y = top + rh * node as f64;
        w!(o, "<g class=\"row\" data-node=\"{node}\"><title>n{node}</title>\n");
        for j in 0..cols {
            let Some(&v) = steps[j * len / cols].values.get(node) else { continue };
            rect(&mut o, (edge(j), y, edge(j + 1) - edge(j), rh), &format!(" fill=\"{}\"", colour(range, v)));
        }
        o.push_str("</g>\n");
    }
    o.push_str("</g>\n");
    rect(&mut o, (LEFT, top, strip_w, bottom - top), " class=\"strip-frame\" fill=\"none\" stroke=\"#222\"");
    let every = ((1.0 + 12.0 / rh).floor() as usize).max(1);
    for node in (0..n).step_by(every) {
        text(&mut o, (LEFT - 6.0, top + rh * (node as f64 + 0.5) + 4.0), NOTE, &format!("n{node}"));
    }

    // The step axis under the strip, and the legend under it.
    let (s0, s1) = (steps[0].step, steps[len - 1].step);
    let t_step = nice_step((s1 - s0).max(1) as f64 / 8.0).max(1.0) as u64;
    o.push_str("<g class=\"tick x\" stroke=\"#222\">\n");
    for t in (s0.div_ceil(t_step) * t_step..=s1).step_by(t_step as usize) {
        let px = xi(at_step(&steps, t) as f64 + 0.5);
        line(&mut o, (px, bottom, px, bottom + 4.0), "", "");
        text(&mut o, (px, bottom + 16.0), TICK_MID, &thousands(t));
    }
    o.push_str("</g>\n");
    text(&mut o, (LEFT + strip_w / 2.0, bottom + 34.0), MID, "step");
    let ly = bottom + 48.0;
    o.push_str("<g class=\"scale\">\n");
    text(&mut o, (LEFT - 6.0, ly + 10.0), " text-anchor=\"end\"", "value");
    if categorical(range) {
        let mut x = LEFT;
        for &v in &values {
            rect(
                &mut o,
                (x, ly, 12.0, 12.0),
                &format!(" fill=\"{}\" stroke=\"#222\" stroke-width=\"0.5\"", colour(range, v)),
            );
            text(&mut o, (x + 16.0, ly + 10.0), "", &v.to_string());
            x += swatch_w(v);
        }
    } else {
        for k in 0..48 {
            rect(
                &mut o,
                (LEFT + 5.0 * f64::from(k), ly, 5.5, 12.0),
                &format!(" fill=\"{}\"", viridis(f64::from(k) / 47.0)),
            );
        }
        text(&mut o, (LEFT, ly + 26.0), "", &lo.to_string());
        text(&mut o, (LEFT + 240.0, ly + 26.0), " text-anchor=\"end\"", &hi.to_string());
    }
    o.push_str("</g>\n");
    let height = ly + if categorical(range) { 28.0 } else { 40.0 };
    Part { class: "heat-strip", body: o, width, height }
}

#[cfg(test)]
#[path = "stabilization_tests.rs"]
mod tests;

//! Small SVG line plots for the evaluation chapter: sizes on a log₂ x axis, counts on a
//! linear or log₁₀ y axis, measured series (markers with min–max error bars) drawn over
//! expected curves (dashed lines; references dotted), a legend on the right.
//!
//! Written by hand rather than with a plotting crate: the output is a few hundred lines
//! of plain SVG whose elements carry classes (`point`, `errorbar`, `curve`, `tick`…), so
//! tests can count them and snapshots stay readable.

use crate::svg::{esc, num, open_standalone};
use std::fmt::Write;

/// How an axis maps values to pixels.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scale {
    /// Evenly spaced values; the axis starts at 0 when every value is positive.
    Linear,
    /// Evenly spaced powers of ten; values ≤ 0 cannot be shown and are skipped.
    Log,
}

/// How a series is drawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Style {
    /// Markers joined by a thin line, with error bars where a point has a range.
    Measured,
    /// A dashed line: a count the theory predicts (exactly, or as a bound).
    Expected,
    /// A dotted line: a value shown for comparison only (a mean over placements, say).
    Reference,
}

/// One point; `low..high` is drawn as an error bar when both are given.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Point {
    /// The size.
    pub x: f64,
    /// The value (a mean, for a measured series with a range).
    pub y: f64,
    /// The least value measured.
    pub low: Option<f64>,
    /// The greatest value measured.
    pub high: Option<f64>,
}

impl Point {
    /// A point without a range.
    pub fn at(x: f64, y: f64) -> Self {
        Point { x, y, low: None, high: None }
    }

    /// A point with a min–max range.
    pub fn with_range(x: f64, y: f64, low: f64, high: f64) -> Self {
        Point { x, y, low: Some(low), high: Some(high) }
    }
}

/// A named series.
#[derive(Clone, PartialEq, Debug)]
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// How to draw it.
    pub style: Style,
    /// An SVG colour; `None` takes the next one of the palette.
    pub color: Option<String>,
    /// The points, in any order (they are joined in increasing x).
    pub points: Vec<Point>,
}

impl Series {
    /// A series of `style`, coloured from the palette.
    pub fn new(name: impl Into<String>, style: Style, points: Vec<Point>) -> Self {
        Series { name: name.into(), style, color: None, points }
    }

    /// The same series in `color`.
    pub fn color(mut self, color: impl Into<String>) -> Self {
        self.color = Some(color.into());
        self
    }
}

/// A plot: a title, axis labels, a y scale and its series.
#[derive(Clone, PartialEq, Debug)]
pub struct Plot {
    /// Above the plot.
    pub title: String,
    /// Under the x axis (the sizes).
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// The y axis's scale (x is always log₂: sizes double).
    pub y_scale: Scale,
    /// What to draw, bottom to top in the legend's order.
    pub series: Vec<Series>,
}

/// Colours that stay apart for the colour-blind and in greyscale print.
pub const PALETTE: &[&str] =
    &["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

// The plot area and its surroundings, in pixels.
const LEFT: f64 = 78.0;
const TOP: f64 = 44.0;
const AREA_W: f64 = 480.0;
const AREA_H: f64 = 300.0;
const BOTTOM: f64 = 56.0;

impl Plot {
    /// An empty plot with a linear y axis.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Plot {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            y_scale: Scale::Linear,
            series: Vec::new(),
        }
    }

    /// The plot as a standalone SVG document.
    pub fn svg(&self) -> String {
        stack(std::slice::from_ref(self))
    }

    /// Width and height in pixels: the legend's width depends on the longest name.
    fn size(&self) -> (f64, f64) {
        let longest = self.series.iter().map(|s| s.name.chars().count()).max().unwrap_or(0) as f64;
        (LEFT + AREA_W + 24.0 + 40.0 + longest * 6.6 + 12.0, TOP + AREA_H + BOTTOM)
    }

    /// Draws into `o`, as a group translated down by `dy`.
    fn draw(&self, o: &mut String, dy: f64) {
        let drawable = |v: f64, scale: Scale| v.is_finite() && (scale == Scale::Linear || v > 0.0);
        let xs: Vec<f64> =
            self.series.iter().flat_map(|s| &s.points).map(|p| p.x).filter(|&x| drawable(x, Scale::Log)).collect();
        let ys: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| &s.points)
            .flat_map(|p| [Some(p.y), p.low, p.high])
            .flatten()
            .filter(|&y| drawable(y, self.y_scale))
            .collect();
        let x = Axis::new(Scale::Log, 2.0, &xs, LEFT, LEFT + AREA_W);
        let y = Axis::new(self.y_scale, 10.0, &ys, TOP + AREA_H, TOP);

        let _ = writeln!(o, "<g class=\"plot\" transform=\"translate(0,{})\">", num(dy));
        let _ = writeln!(
            o,
            "<text class=\"title\" x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
            num(LEFT + AREA_W / 2.0),
            esc(&self.title)
        );
        // Grid and ticks first, so that everything else is drawn over them.
        o.push_str("<g class=\"axes\" stroke=\"#ccc\" stroke-width=\"0.8\">\n");
        for t in x.ticks() {
            let px = num(x.map(t));
            let _ = writeln!(
                o,
                "<g class=\"tick x\"><line x1=\"{px}\" y1=\"{}\" x2=\"{px}\" y2=\"{}\"/><text x=\"{px}\" y=\"{}\" \
                 text-anchor=\"middle\" stroke=\"none\" fill=\"#222\">{}</text></g>",
                num(TOP),
                num(TOP + AREA_H),
                num(TOP + AREA_H + 16.0),
                tick_text(t)
            );
        }
        for t in y.ticks() {
            let py = num(y.map(t));
            let _ = writeln!(
                o,
                "<g class=\"tick y\"><line x1=\"{}\" y1=\"{py}\" x2=\"{}\" y2=\"{py}\"/><text x=\"{}\" y=\"{}\" \
                 text-anchor=\"end\" stroke=\"none\" fill=\"#222\">{}</text></g>",
                num(LEFT),
                num(LEFT + AREA_W),
                num(LEFT - 6.0),
                num(y.map(t) + 4.0),
                tick_text(t)
            );
        }
        let _ = writeln!(
            o,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#222\"/>",
            num(LEFT),
            num(TOP),
            num(AREA_W),
            num(AREA_H)
        );
        o.push_str("</g>\n");
        let _ = writeln!(
            o,
            "<text class=\"label x\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            num(LEFT + AREA_W / 2.0),
            num(TOP + AREA_H + 40.0),
            esc(&self.x_label)
        );
        let (lx, ly) = (18.0, TOP + AREA_H / 2.0);
        let _ = writeln!(
            o,
            "<text class=\"label y\" x=\"{lx}\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 {lx} {})\">{}</text>",
            num(ly),
            num(ly),
            esc(&self.y_label)
        );

        // Curves under the measurements, so markers and error bars stay visible.
        let mut order: Vec<usize> = (0..self.series.len()).collect();
        order.sort_by_key(|&i| self.series[i].style == Style::Measured);
        for i in order {
            let s = &self.series[i];
            let color = s.color.clone().unwrap_or_else(|| PALETTE[i % PALETTE.len()].to_string());
            let mut pts: Vec<&Point> =
                s.points.iter().filter(|p| drawable(p.x, Scale::Log) && drawable(p.y, self.y_scale)).collect();
            pts.sort_by(|a, b| a.x.total_cmp(&b.x));
            let line: Vec<String> = pts.iter().map(|p| format!("{},{}", num(x.map(p.x)), num(y.map(p.y)))).collect();
            let (class, dash, width) = match s.style {
                Style::Measured => ("measured", "", 1.0),
                Style::Expected => ("expected", " stroke-dasharray=\"7 4\"", 1.8),
                Style::Reference => ("reference", " stroke-dasharray=\"2 3\"", 1.8),
            };
            let _ = writeln!(
                o,
                "<g class=\"series {class}\" data-name=\"{}\" stroke=\"{color}\" fill=\"{color}\">",
                esc(&s.name)
            );
            if !line.is_empty() {
                let _ = writeln!(
                    o,
                    "<polyline class=\"curve\" points=\"{}\" fill=\"none\" stroke-width=\"{width}\"{dash}/>",
                    line.join(" ")
                );
            }
            for p in pts {
                let (px, py) = (num(x.map(p.x)), num(y.map(p.y)));
                if s.style != Style::Measured {
                    // A dot per computed value: it also shows a curve that has one point only.
                    let _ = writeln!(o, "<circle class=\"curve-point\" cx=\"{px}\" cy=\"{py}\" r=\"2\"/>");
                    continue;
                }
                if let (Some(lo), Some(hi)) = (p.low, p.high) {
                    // On a log axis a low end ≤ 0 is clamped to the bottom of the plot.
                    let ylo = if drawable(lo, self.y_scale) { y.map(lo) } else { TOP + AREA_H };
                    let yhi = if drawable(hi, self.y_scale) { y.map(hi) } else { y.map(p.y) };
                    let (xa, xb) = (num(x.map(p.x) - 4.0), num(x.map(p.x) + 4.0));
                    let (ylo, yhi) = (num(ylo), num(yhi));
                    let _ = writeln!(
                        o,
                        "<path class=\"errorbar\" d=\"M{px},{ylo} L{px},{yhi} M{xa},{ylo} L{xb},{ylo} M{xa},{yhi} L{xb},{yhi}\" \
                         stroke-width=\"1.2\"/>"
                    );
                }
                let _ = writeln!(o, "<circle class=\"point\" cx=\"{px}\" cy=\"{py}\" r=\"3.5\"/>");
            }
            o.push_str("</g>\n");
        }

        // The legend, right of the plot area.
        let lx = LEFT + AREA_W + 24.0;
        o.push_str("<g class=\"legend\">\n");
        for (i, s) in self.series.iter().enumerate() {
            let color = s.color.clone().unwrap_or_else(|| PALETTE[i % PALETTE.len()].to_string());
            let ly = TOP + 10.0 + 20.0 * i as f64;
            let sample = match s.style {
                Style::Measured => format!(
                    "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\"/><circle cx=\"{}\" cy=\"{ly}\" r=\"3.5\" fill=\"{color}\"/>",
                    num(lx),
                    num(lx + 28.0),
                    num(lx + 14.0)
                ),
                Style::Expected | Style::Reference => format!(
                    "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"1.8\" stroke-dasharray=\"{}\"/>",
                    num(lx),
                    num(lx + 28.0),
                    if s.style == Style::Expected { "7 4" } else { "2 3" }
                ),
            };
            let _ = writeln!(
                o,
                "<g class=\"entry\">{sample}<text x=\"{}\" y=\"{}\">{}</text></g>",
                num(lx + 36.0),
                num(ly + 4.0),
                esc(&s.name)
            );
        }
        o.push_str("</g>\n</g>\n");
    }
}

/// Several plots one above the other, in one SVG document (messages, then rounds).
pub fn stack(plots: &[Plot]) -> String {
    let sizes: Vec<(f64, f64)> = plots.iter().map(Plot::size).collect();
    let width = sizes.iter().map(|s| s.0).fold(200.0, f64::max);
    let height = sizes.iter().map(|s| s.1).sum::<f64>().max(100.0);
    let mut o = String::new();
    o.push_str(&open_standalone(width, height));
    o.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let mut dy = 0.0;
    for (p, (_, h)) in plots.iter().zip(&sizes) {
        p.draw(&mut o, dy);
        dy += h;
    }
    o.push_str("</svg>\n");
    o
}

/// An axis: its scale, its value range, and the pixels it spans.
struct Axis {
    scale: Scale,
    base: f64,
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl Axis {
    /// An axis that shows every value in `values` with a little room around them.
    fn new(scale: Scale, base: f64, values: &[f64], from: f64, to: f64) -> Axis {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = match scale {
            _ if !min.is_finite() => (1.0, base),
            Scale::Log if base == 2.0 => {
                // Sizes: a quarter of a doubling of room on each side.
                let (lo, hi) = (min / 2f64.powf(0.25), max * 2f64.powf(0.25));
                if min == max {
                    (min / 2.0, max * 2.0)
                } else {
                    (lo, hi)
                }
            }
            Scale::Log => {
                let lo = base.powf((min.log(base) + 1e-9).floor());
                let hi = base.powf((max.log(base) - 1e-9).ceil());
                (lo, if hi <= lo { lo * base } else { hi })
            }
            Scale::Linear => {
                let lo = min.min(0.0);
                let hi = if max - lo < 1e-9 { lo + 1.0 } else { max };
                let step = nice_step((hi - lo) / 5.0);
                ((lo / step).floor() * step, (hi / step).ceil() * step)
            }
        };
        Axis { scale, base, lo, hi, from, to }
    }

    /// The pixel for `v`.
    fn map(&self, v: f64) -> f64 {
        let t = match self.scale {
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
            Scale::Log => (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln()),
        };
        self.from + t * (self.to - self.from)
    }

    /// Tick values: nice steps (linear), powers of the base (log), thinned to about a dozen.
    fn ticks(&self) -> Vec<f64> {
        match self.scale {
            Scale::Linear => {
                let step = nice_step((self.hi - self.lo) / 5.0);
                let count = ((self.hi - self.lo) / step).round() as i64;
                (0..=count).map(|k| self.lo + k as f64 * step).collect()
            }
            Scale::Log => {
                // log10(1000) is 2.9999…: a little slack keeps the end ticks.
                let (a, b) =
                    ((self.lo.log(self.base) - 1e-9).ceil() as i32, (self.hi.log(self.base) + 1e-9).floor() as i32);
                let every = (((b - a + 1) as f64 / 12.0).ceil() as i32).max(1);
                let mut t: Vec<f64> = (a..=b).filter(|k| (k - a) % every == 0).map(|k| self.base.powi(k)).collect();
                // Within two decades, 2× and 5× marks make the log axis readable.
                if self.base == 10.0 && b - a <= 1 {
                    let extra = (a - 1..=b).flat_map(|k| [2.0, 5.0].map(|m| m * 10f64.powi(k)));
                    t.extend(extra.filter(|&v| v >= self.lo && v <= self.hi));
                    t.sort_by(f64::total_cmp);
                }
                t
            }
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `rough`.
pub(crate) fn nice_step(rough: f64) -> f64 {
    if rough <= 0.0 || !rough.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|&s| s >= rough * (1.0 - 1e-9)).unwrap_or(10.0 * p)
}

/// `1500` → `1500`, `20000` → `20k`, `3000000` → `3M`, `0.5` → `0.5`.
fn tick_text(v: f64) -> String {
    let (x, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{suffix}")
}

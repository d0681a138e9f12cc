//! Plots: snapshots of two small plots, and structural checks (one marker per measured
//! point, one error bar per range, one legend entry per series, power-of-two x ticks,
//! values placed in order, finite coordinates whatever the input).

use reparti_viz::plot::{stack, Plot, Point, Scale, Series, Style};

/// The value of every `name="…"` attribute in `text`, in order.
fn attrs<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let pat = format!(" {name}=\"");
    text.match_indices(&pat)
        .filter_map(|(i, _)| {
            let rest = &text[i + pat.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

fn count(text: &str, class: &str) -> usize {
    text.matches(&format!("class=\"{class}\"")).count()
}

/// Chang–Roberts-like data on 4..32: a measured mean with ranges, two formulas, a reference.
fn election_plot(y_scale: Scale) -> Plot {
    let sizes = [4.0, 8.0, 16.0, 32.0];
    let harmonic = |n: f64| (1..=n as u64).map(|k| 1.0 / k as f64).sum::<f64>();
    let mut p = Plot::new("chang-roberts on a ring", "nodes n", "ELECT messages");
    p.y_scale = y_scale;
    p.series = vec![
        Series::new(
            "ELECT · random ids (mean, min–max)",
            Style::Measured,
            sizes
                .iter()
                .map(|&n| Point::with_range(n, n * harmonic(n), 2.0 * n - 1.0 + 1.0, n * harmonic(n) * 1.3))
                .collect(),
        ),
        Series::new(
            "ELECT · desc ids",
            Style::Measured,
            sizes.iter().map(|&n| Point::at(n, n * (n + 1.0) / 2.0)).collect(),
        ),
        Series::new(
            "ELECT = n(n+1)/2",
            Style::Expected,
            sizes.iter().map(|&n| Point::at(n, n * (n + 1.0) / 2.0)).collect(),
        ),
        Series::new("ELECT ≈ n·H_n", Style::Reference, sizes.iter().map(|&n| Point::at(n, n * harmonic(n))).collect())
            .color("#555"),
    ];
    p
}

fn assert_finite(svg: &str) {
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "non-finite value in {svg}");
    for a in ["x", "y", "cx", "cy", "x1", "x2", "y1", "y2", "width", "height"] {
        for v in attrs(svg, a) {
            if v.ends_with('%') {
                continue;
            }
            assert!(v.parse::<f64>().is_ok_and(f64::is_finite), "{a}=\"{v}\"");
        }
    }
    for pts in attrs(svg, "points") {
        for v in pts.split([' ', ',']) {
            assert!(v.parse::<f64>().is_ok_and(f64::is_finite), "points \"{pts}\"");
        }
    }
}

#[test]
fn snapshots() {
    insta::assert_snapshot!("election_linear", election_plot(Scale::Linear).svg());
    insta::assert_snapshot!("election_log", election_plot(Scale::Log).svg());
}

#[test]
fn one_marker_per_point_one_bar_per_range_one_entry_per_series() {
    let p = election_plot(Scale::Linear);
    let s = p.svg();
    assert_eq!(count(&s, "point"), 8, "two measured series of four points");
    assert_eq!(count(&s, "errorbar"), 4, "only the random series has ranges");
    assert_eq!(count(&s, "curve-point"), 8, "two curves of four points");
    assert_eq!(count(&s, "entry"), 4, "one legend entry per series");
    assert_eq!(s.matches("<polyline class=\"curve\"").count(), 4, "one line per series");
    assert_eq!(s.matches("stroke-dasharray=\"7 4\"").count(), 2, "expected curve and its legend sample are dashed");
    assert_eq!(s.matches("stroke-dasharray=\"2 3\"").count(), 2, "reference curve and its legend sample are dotted");
    for name in ["ELECT = n(n+1)/2", "ELECT ≈ n·H_n", "nodes n", "ELECT messages", "chang-roberts on a ring"] {
        assert!(s.contains(name), "missing {name}");
    }
    assert_finite(&s);
}

#[test]
fn x_axis_is_log2_with_power_of_two_ticks() {
    let s = election_plot(Scale::Linear).svg();
    let x_ticks: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("class=\"tick x\""))
        .filter_map(|l| l.rsplit_once("\">").and_then(|(_, t)| t.strip_suffix("</text></g>")))
        .collect();
    assert_eq!(x_ticks, ["4", "8", "16", "32"]);
    // Doubling the size moves the same distance right: the axis is logarithmic.
    let xs: Vec<f64> = s
        .lines()
        .filter(|l| l.contains("class=\"point\""))
        .take(4)
        .filter_map(|l| attrs(l, "cx").first().and_then(|v| v.parse().ok()))
        .collect();
    assert_eq!(xs.len(), 4);
    let steps: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(steps.iter().all(|d| *d > 0.0 && (d - steps[0]).abs() < 0.2), "{xs:?}");
}

#[test]
fn larger_values_are_drawn_higher_on_both_scales() {
    for scale in [Scale::Linear, Scale::Log] {
        let s = election_plot(scale).svg();
        // The desc series is the second group of points: its values grow with n.
        let ys: Vec<f64> = s
            .lines()
            .filter(|l| l.contains("class=\"point\""))
            .skip(4)
            .filter_map(|l| attrs(l, "cy").first().and_then(|v| v.parse().ok()))
            .collect();
        assert_eq!(ys.len(), 4);
        assert!(ys.windows(2).all(|w| w[1] < w[0]), "{scale:?}: {ys:?}");
        let y_ticks = s.lines().filter(|l| l.contains("class=\"tick y\"")).count();
        assert!((2..=13).contains(&y_ticks), "{scale:?}: {y_ticks} y ticks");
    }
}

#[test]
fn log_scale_skips_what_it_cannot_show() {
    let mut p = Plot::new("zeros", "n", "count");
    p.y_scale = Scale::Log;
    p.series = vec![Series::new(
        "with a zero",
        Style::Measured,
        vec![Point::with_range(4.0, 0.0, 0.0, 1.0), Point::with_range(8.0, 10.0, 0.0, 20.0), Point::at(16.0, f64::NAN)],
    )];
    let s = p.svg();
    assert_eq!(count(&s, "point"), 1, "only the positive, finite point is drawn");
    assert_eq!(count(&s, "errorbar"), 1, "its bar is clamped at the bottom");
    assert_finite(&s);
}

#[test]
fn degenerate_inputs_give_finite_pictures() {
    let empty = Plot::new("nothing", "n", "count");
    assert_finite(&empty.svg());
    let mut one = Plot::new("one point", "n", "count");
    one.series = vec![Series::new("flat", Style::Expected, vec![Point::at(8.0, 5.0)])];
    let s = one.svg();
    assert_finite(&s);
    assert_eq!(count(&s, "curve-point"), 1, "a one-point curve still shows its point");
    let mut huge = Plot::new("big", "n", "count");
    huge.y_scale = Scale::Log;
    huge.series = vec![Series::new(
        "n²",
        Style::Expected,
        (2..=20).map(|k| Point::at((1u64 << k) as f64, 4f64.powi(k))).collect(),
    )];
    let s = huge.svg();
    assert_finite(&s);
    let x_ticks = s.lines().filter(|l| l.contains("class=\"tick x\"")).count();
    assert!(x_ticks <= 13, "{x_ticks} x ticks: thinned to about a dozen");
}

#[test]
fn stacked_plots_share_one_document() {
    let mut rounds = Plot::new("rounds", "n", "rounds");
    rounds.series = vec![Series::new("rounds", Style::Measured, vec![Point::at(4.0, 2.0), Point::at(8.0, 3.0)])];
    let s = stack(&[election_plot(Scale::Log), rounds]);
    assert_eq!(s.matches("<svg").count(), 1);
    assert_eq!(count(&s, "plot"), 2);
    assert!(s.contains("transform=\"translate(0,0)\"") && s.contains("transform=\"translate(0,400)\""), "{s}");
    assert_finite(&s);
}

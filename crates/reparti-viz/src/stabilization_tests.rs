//! Tests of the stabilization pictures.

use super::*;

/// n = 4, steps 0..=30, L reached at step 10, corrupted at 18, L again at 25.
fn small() -> StabRun {
    let steps = (0..=30u64)
        .map(|s| StabStep {
            step: s,
            moves: s + s / 20,
            privileges: match s {
                0..=9 => 4 - (s / 4) as u32,
                18..=24 => 3,
                _ => 1,
            },
            legitimate: !matches!(s, 0..=9 | 18..=24),
            values: (0..4).map(|i| ((s + i) % 5) as i64).collect(),
        })
        .collect();
    let mark = |step, label: &str, kind| StabMark { step, label: label.into(), kind };
    StabRun {
        title: "dijkstra-k-state, n = 4, K = 5 <&>".into(),
        steps,
        marks: vec![
            mark(25, "L after 25 moves", StabMarkKind::Legitimate),
            mark(10, "L after 10 moves", StabMarkKind::Legitimate),
            mark(18, "corrupt 2", StabMarkKind::Corruption),
        ],
        value_range: (0, 4),
    }
}

/// Starts with `<svg`, and every tag is closed in order (text is escaped, so `<` opens tags only).
fn well_formed(svg: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
    let mut open: Vec<&str> = Vec::new();
    for tag in svg.split('<').skip(1).map(|t| &t[..t.find('>').expect("an unclosed tag")]) {
        let name = tag.trim_start_matches('/').split([' ', '\n']).next().unwrap_or("");
        if tag.starts_with('/') {
            assert_eq!(open.pop(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

/// The `<rect>`s in the strip's cells group (its rows' groups, then its own, end it).
fn cells(svg: &str) -> usize {
    let from = svg.find("class=\"cells\"").expect("the cells");
    let to = from + svg[from..].find("</g>\n</g>\n").expect("the cells' end");
    svg[from..to].matches("<rect").count()
}

#[test]
fn small_run_draws_everything() {
    let run = small();
    let (plot, strip, page) = (stabilization_plot(&run), heat_strip(&run), stabilization_page(&run));
    for svg in [&plot, &strip, &page] {
        well_formed(svg);
        assert!(svg.contains("corrupt 2"));
        assert!(svg.contains("n = 4, K = 5 &lt;&amp;&gt;") && !svg.contains("<&>"));
    }
    for label in ["L after 10 moves", "L after 25 moves"] {
        assert!(plot.contains(label) && page.contains(label));
    }
    assert_eq!(plot.matches("class=\"mark legitimate\"").count(), 2);
    assert_eq!(plot.matches("class=\"mark corruption\"").count(), 1);
    let bands = &plot[plot.find("class=\"legitimate\"").unwrap()..plot.find("class=\"axes\"").unwrap()];
    assert_eq!(bands.matches("<rect").count(), 2, "two legitimate stretches");
    assert_eq!(cells(&strip), 4 * 31);
    assert!(strip.contains("one column per configuration") && strip.contains(">n3</text>"));
    assert_eq!(strip.matches("class=\"mark corruption\"").count(), 1);
    assert_eq!(page.matches("<svg").count(), 1);
    assert_eq!(plot, stabilization_plot(&run.clone()), "deterministic");
}

#[test]
fn empty_run_says_no_steps() {
    let run = StabRun { title: "empty".into(), steps: vec![], marks: vec![], value_range: (0, 1) };
    for svg in [stabilization_plot(&run), heat_strip(&run), stabilization_page(&run)] {
        well_formed(&svg);
        assert!(svg.contains("no steps"));
    }
}

#[test]
fn long_run_is_sampled() {
    let steps: Vec<StabStep> = (0..10_000u64)
        .map(|s| StabStep {
            step: s,
            moves: 3 * s,
            privileges: (s % 7) as u32,
            legitimate: s % 1000 > 500,
            values: (0..8).map(|i| ((s * 31 + i * 17) % 100) as i64).collect(),
        })
        .collect();
    // 99 corruptions under 10 px apart: too close for every label to find room.
    let marks =
        (1..100).map(|k| StabMark { step: k * 100, label: format!("corrupt {k}"), kind: StabMarkKind::Corruption });
    let run = StabRun { title: "long".into(), steps, marks: marks.collect(), value_range: (0, 99) };
    let (plot, strip, page) = (stabilization_plot(&run), heat_strip(&run), stabilization_page(&run));
    for svg in [&plot, &strip, &page] {
        well_formed(svg);
    }
    assert_eq!(cells(&strip), 8 * MAX_COLS);
    assert!(strip.contains("sampled evenly"));
    assert!(strip.len() < 2_000_000 && page.len() < 2_000_000, "{} {}", strip.len(), page.len());
    assert_eq!(strip.matches("class=\"legitimate\"").count(), 1);
    assert_eq!(strip.matches("class=\"mark corruption\"").count(), 99);
    assert!(plot.contains("mark label(s) not shown") && strip.contains("mark label(s) not shown"));
    let labels = strip.matches("class=\"mark-label\"").count();
    assert!(labels > 0 && labels < 99, "{labels} labels");
}

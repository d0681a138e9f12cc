//! A scenario's expected outcome, judged against a report.
//!
//! Each expectation becomes one [`Outcome`] line, ✓ or ✗, so a student sees exactly
//! which claim of the scenario the run confirmed or refuted. A scenario may expect a
//! property to *fail*: it then passes when the run shows the violation.

use super::file::Count;
use crate::summary::thousands;
use reparti_check::CheckReport;
use reparti_sim::Report;
use serde::Serialize;
use std::fmt::Write as _;

/// What the properties must do.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PropExpect {
    /// Must be violated.
    pub fail: Vec<String>,
    /// Must be checked and hold.
    pub hold: Vec<String>,
    /// Whether every property outside `fail` must not be violated.
    pub others_hold: bool,
}

/// What a simulation must show.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SimExpect {
    /// The stop reason's name.
    pub stop: Option<String>,
    /// The properties.
    pub props: PropExpect,
    /// Whether every count the algorithm asserts must hold.
    pub declared_counts: bool,
    /// (key, value, how many times).
    pub outputs: Vec<(String, String, Count)>,
    /// (message type, `total`, `delivered`, `dropped` or `duplicated`; count).
    pub messages: Vec<(String, Count)>,
}

/// What a check must find.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CheckExpect {
    /// The properties.
    pub props: PropExpect,
    /// Whether a counterexample must be found (or must not).
    pub counterexample: Option<bool>,
    /// Its length.
    pub counterexample_steps: Option<Count>,
    /// Whether the search must be exhaustive.
    pub complete: Option<bool>,
    /// Distinct states.
    pub unique_states: Option<Count>,
}

/// One judged expectation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// Whether the run met it.
    pub met: bool,
    /// What was expected.
    pub expected: String,
    /// What was observed.
    pub observed: String,
}

fn outcome(met: bool, expected: impl Into<String>, observed: impl Into<String>) -> Outcome {
    Outcome { met, expected: expected.into(), observed: observed.into() }
}

fn verdict_word(h: Option<bool>) -> &'static str {
    match h {
        Some(true) => "holds",
        Some(false) => "violated",
        None => "not checked",
    }
}

/// Judges the property expectations; `verdicts` lists every (name, holds) of the report.
fn judge_props(e: &PropExpect, verdicts: &[(String, Option<bool>)]) -> Vec<Outcome> {
    let find = |name: &str| verdicts.iter().find(|(n, _)| n == name).map(|(_, h)| *h);
    let mut out = Vec::new();
    for name in &e.fail {
        let seen = find(name);
        let observed = seen.map_or("not in the report", |h| verdict_word(h));
        out.push(outcome(seen == Some(Some(false)), format!("\"{name}\" is violated"), observed));
    }
    for name in &e.hold {
        let seen = find(name);
        let observed = seen.map_or("not in the report", |h| verdict_word(h));
        out.push(outcome(seen == Some(Some(true)), format!("\"{name}\" holds"), observed));
    }
    if e.others_hold {
        let broken: Vec<&str> = verdicts
            .iter()
            .filter(|(n, h)| *h == Some(false) && !e.fail.contains(n))
            .map(|(n, _)| n.as_str())
            .collect();
        let what = if e.fail.is_empty() { "no property is violated" } else { "no other property is violated" };
        let observed =
            if broken.is_empty() { "none violated".to_string() } else { format!("violated: {}", broken.join("; ")) };
        out.push(outcome(broken.is_empty(), what, observed));
    }
    out
}

fn count_outcome(what: &str, c: Count, measured: u64) -> Outcome {
    outcome(c.admits(measured), format!("{what} {c}"), thousands(measured))
}

/// Judges a simulation.
pub fn judge_sim(e: &SimExpect, r: &Report) -> Vec<Outcome> {
    let mut out = Vec::new();
    if let Some(stop) = &e.stop {
        out.push(outcome(r.stop.name() == stop, format!("stops at {stop}"), r.stop.name()));
    }
    let verdicts: Vec<(String, Option<bool>)> = r.properties.iter().map(|p| (p.name.clone(), p.holds)).collect();
    out.extend(judge_props(&e.props, &verdicts));
    if e.declared_counts {
        let asserted: Vec<_> = r.expected.iter().filter(|(_, x)| x.holds.is_some()).collect();
        let wrong: Vec<String> = asserted
            .iter()
            .filter(|(_, x)| x.holds == Some(false))
            .map(|(k, x)| {
                format!("{k}: {} {}, measured {}", x.expectation.formula, x.expectation.value_text(), x.measured)
            })
            .collect();
        let observed = if !wrong.is_empty() {
            wrong.join("; ")
        } else if asserted.is_empty() {
            "none asserted in this run".to_string()
        } else {
            format!("{} held", asserted.len())
        };
        out.push(outcome(wrong.is_empty(), "the algorithm's declared counts hold", observed));
    }
    for (key, value, c) in &e.outputs {
        out.push(count_outcome(&format!("output {key} = {value}, count"), *c, r.output(key, value)));
    }
    for (what, c) in &e.messages {
        let m = &r.messages;
        let measured = match what.as_str() {
            "total" => m.total,
            "delivered" => m.delivered,
            "dropped" => m.dropped,
            "duplicated" => m.duplicated,
            kind => r.sent(kind),
        };
        let label = match what.as_str() {
            "total" => "messages sent".to_string(),
            "delivered" | "dropped" | "duplicated" => format!("messages {what}"),
            kind => format!("{kind} messages sent"),
        };
        out.push(count_outcome(&label, *c, measured));
    }
    out
}

/// Judges a model-checking run.
pub fn judge_check(e: &CheckExpect, r: &CheckReport) -> Vec<Outcome> {
    let verdicts: Vec<(String, Option<bool>)> = r.properties.iter().map(|p| (p.name.clone(), p.holds)).collect();
    let mut out = judge_props(&e.props, &verdicts);
    let steps = r.counterexample.as_ref().map(|c| c.steps.len() as u64);
    let found = match steps {
        Some(s) => format!("found ({s} steps)"),
        None => "none".to_string(),
    };
    if let Some(want) = e.counterexample {
        let what = if want { "a counterexample is found" } else { "no counterexample is found" };
        out.push(outcome(steps.is_some() == want, what, found.clone()));
    }
    if let Some(c) = e.counterexample_steps {
        let met = steps.is_some_and(|s| c.admits(s));
        out.push(outcome(met, format!("counterexample steps {c}"), found));
    }
    if let Some(want) = e.complete {
        let what = if want { "the whole reachable space is explored" } else { "the search stops early" };
        let seen = if r.complete { "complete".to_string() } else { format!("stopped: {:?}", r.stop).to_lowercase() };
        out.push(outcome(r.complete == want, what, seen));
    }
    if let Some(c) = e.unique_states {
        out.push(count_outcome("unique states", c, r.unique_states));
    }
    out
}

/// Whether every expectation was met.
pub fn all_met(outcomes: &[Outcome]) -> bool {
    outcomes.iter().all(|o| o.met)
}

/// The "expectations" section printed after the usual summary.
pub fn render(path: &str, description: Option<&str>, outcomes: &[Outcome], notes: &[String]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\nexpectations ({path})");
    if let Some(d) = description {
        let _ = writeln!(o, "  {d}");
    }
    for x in outcomes {
        let mark = if x.met { "✓" } else { "✗" };
        let _ = writeln!(o, "  {mark} {} (observed: {})", x.expected, x.observed);
    }
    for n in notes {
        let _ = writeln!(o, "  note: {n}");
    }
    let failed: Vec<&str> = outcomes.iter().filter(|x| !x.met).map(|x| x.expected.as_str()).collect();
    if failed.is_empty() {
        let _ = writeln!(o, "scenario: all {} expectations met", outcomes.len());
    } else {
        let _ =
            writeln!(o, "scenario: {} of {} expectations NOT met: {}", failed.len(), outcomes.len(), failed.join("; "));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts(v: &[(&str, Option<bool>)]) -> Vec<(String, Option<bool>)> {
        v.iter().map(|(n, h)| (n.to_string(), *h)).collect()
    }

    #[test]
    fn a_property_expected_to_fail_passes_when_it_fails() {
        let e = PropExpect { fail: vec!["one token".into()], hold: vec![], others_hold: true };
        let out = judge_props(&e, &verdicts(&[("one token", Some(false)), ("delivered", None)]));
        assert!(all_met(&out), "{out:?}");
        let out = judge_props(&e, &verdicts(&[("one token", Some(true)), ("delivered", Some(true))]));
        assert!(!out[0].met && out[1].met, "{out:?}");
    }

    #[test]
    fn others_hold_names_the_unexpected_violations() {
        let e = PropExpect { others_hold: true, ..PropExpect::default() };
        let out = judge_props(&e, &verdicts(&[("a", Some(true)), ("b", Some(false)), ("c", None)]));
        assert_eq!(out.len(), 1);
        assert!(!out[0].met);
        assert_eq!(out[0].observed, "violated: b");
        let any = PropExpect::default();
        assert!(judge_props(&any, &verdicts(&[("b", Some(false))])).is_empty());
    }

    #[test]
    fn hold_needs_a_checked_verdict() {
        let e = PropExpect { hold: vec!["t".into(), "missing".into()], ..PropExpect::default() };
        let out = judge_props(&e, &verdicts(&[("t", None)]));
        assert_eq!((out[0].met, out[0].observed.as_str()), (false, "not checked"));
        assert_eq!((out[1].met, out[1].observed.as_str()), (false, "not in the report"));
    }

    #[test]
    fn the_section_names_what_failed() {
        let out =
            vec![outcome(true, "stops at quiescence", "quiescence"), outcome(false, "ELECT messages sent = 3", "36")];
        let text = render("x.toml", Some("what it shows"), &out, &[]);
        assert!(text.contains("✓ stops at quiescence"), "{text}");
        assert!(text.contains("✗ ELECT messages sent = 3 (observed: 36)"), "{text}");
        assert!(text.contains("1 of 2 expectations NOT met: ELECT messages sent = 3"), "{text}");
    }
}

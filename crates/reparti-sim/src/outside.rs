//! The stretches a message-passing run spends outside the legitimate configurations L
//! of a self-stabilizing algorithm ([`reparti_core::Invariant::Stabilizing`]): each one
//! from the first event after which L is false to the first after which it is true
//! again, in simulated time.
//!
//! What is held against the algorithm's bound is the *span*: from the first time the
//! run left L to the last time it entered it, legitimate for good. One fault may open
//! several stretches, because L reads the nodes' states and not the messages in
//! transit: a configuration can be legitimate while a stale message on its way will
//! break it again. (With faults at several moments the span covers them all: to measure
//! each, give each its own run.)

use reparti_core::property::Bound;
use serde::Serialize;

/// What a run measured of one stabilizing property.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct OutsideL {
    /// How many stretches outside L the run had (the last may still be open).
    pub stretches: u64,
    /// When the run first left L.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_left: Option<f64>,
    /// When the run last entered L after a stretch outside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_entered: Option<f64>,
    /// From the first time the run left L to the last time it entered it (0 without a
    /// stretch): what the bound is held against.
    pub span: f64,
    /// The longest single stretch, in time units (0 without one).
    pub longest: f64,
    /// When the stretch still open at the end began (the run ended outside L).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_since: Option<f64>,
    /// The algorithm's bound on a stretch, in time units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<f64>,
    /// How the bound is computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_formula: Option<String>,
}

/// The running measure of one stabilizing property.
#[derive(Clone, Debug)]
pub(crate) struct Stretches {
    within: Option<Bound>,
    /// The stretch under way: when it began, after which event, and why L was false.
    open: Option<(f64, u64, String)>,
    count: u64,
    longest: f64,
    last_entered: Option<f64>,
    /// The first event after which L was false, when, and why.
    first_exit: Option<(u64, f64, String)>,
}

impl Stretches {
    pub fn new(within: Option<Bound>) -> Self {
        Stretches { within, open: None, count: 0, longest: 0.0, last_entered: None, first_exit: None }
    }

    /// L's verdict after event number `event`, at time `now`.
    pub fn observe(&mut self, verdict: Result<(), String>, now: f64, event: u64) {
        match (verdict, self.open.take()) {
            (Err(why), None) => {
                self.count += 1;
                if self.first_exit.is_none() {
                    self.first_exit = Some((event, now, why.clone()));
                }
                self.open = Some((now, event, why));
            }
            // The latest reason: at the end, what is still wrong.
            (Err(why), Some((from, first, _))) => self.open = Some((from, first, why)),
            (Ok(()), Some((from, _, _))) => {
                self.longest = self.longest.max(now - from);
                self.last_entered = Some(now);
            }
            (Ok(()), None) => {}
        }
    }

    /// The verdict: `Some(Ok)` when every stretch closed within the bound; `None` when
    /// the run stopped early outside L (it might still have come back).
    pub fn verdict(&self, complete: bool) -> Option<Result<(), String>> {
        let span = self.span();
        if let (Some(b), Some((_, from, _))) = (&self.within, &self.first_exit) {
            if span > b.time {
                return Some(Err(format!(
                    "the run left L at t = {from:.1} and was back for good {span:.1} time units later, \
                     over the bound of {}",
                    b.time
                )));
            }
        }
        match &self.open {
            Some((from, _, why)) if complete => {
                Some(Err(format!("the run ended outside L, where it had been since t = {from:.1}: {why}")))
            }
            Some(_) => None,
            None => Some(Ok(())),
        }
    }

    /// The first event after which L was false.
    pub fn first_exit(&self) -> Option<u64> {
        self.first_exit.as_ref().map(|(e, _, _)| *e)
    }

    /// From the first exit from L to the last entry into it (0 if none).
    fn span(&self) -> f64 {
        match (&self.first_exit, self.last_entered) {
            (Some((_, from, _)), Some(to)) => to - from,
            _ => 0.0,
        }
    }

    /// What was measured, for the report.
    pub fn measured(&self) -> OutsideL {
        OutsideL {
            stretches: self.count,
            first_left: self.first_exit.as_ref().map(|(_, t, _)| *t),
            last_entered: self.last_entered,
            span: self.span(),
            longest: self.longest,
            open_since: self.open.as_ref().map(|(f, _, _)| *f),
            bound: self.within.as_ref().map(|b| b.time),
            bound_formula: self.within.as_ref().map(|b| b.formula.clone()),
        }
    }

    /// One line on how it was checked and what was measured.
    pub fn summary(&self, how: &str) -> String {
        let m = self.measured();
        let mut s = match m.stretches {
            0 => format!("{how}: never outside L"),
            1 => format!("{how}: 1 stretch outside L"),
            k => format!("{how}: {k} stretches outside L"),
        };
        if let (Some(from), Some(to)) = (m.first_left, m.last_entered) {
            s.push_str(&format!(", left at t = {from:.1}, back for good at t = {to:.1}: {:.1} time units", m.span));
        }
        if let Some(b) = &self.within {
            s.push_str(&format!("; bound {} = {}", b.time, b.formula));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(time: f64) -> Option<Bound> {
        Some(Bound { time, formula: "test".into() })
    }

    #[test]
    fn a_stretch_runs_from_the_first_event_outside_l_to_the_first_back_inside() {
        let mut s = Stretches::new(bound(16.0));
        s.observe(Ok(()), 1.0, 1);
        s.observe(Err("two writers".into()), 5.0, 2);
        s.observe(Err("still two".into()), 7.0, 3);
        s.observe(Ok(()), 12.5, 4);
        s.observe(Err("stale copy".into()), 20.0, 5);
        s.observe(Ok(()), 21.0, 6);
        let m = s.measured();
        assert_eq!((m.stretches, m.longest, m.first_left, m.last_entered), (2, 7.5, Some(5.0), Some(21.0)));
        assert_eq!(m.span, 16.0, "from the first exit to the last entry");
        assert_eq!(s.first_exit(), Some(2));
        assert_eq!(s.verdict(true), Some(Ok(())));
        let summary = s.summary("every event");
        assert!(
            summary.contains("2 stretches outside L, left at t = 5.0, back for good at t = 21.0: 16.0"),
            "{summary}"
        );
    }

    #[test]
    fn a_span_over_the_bound_or_a_stretch_still_open_at_the_end_fails() {
        let mut s = Stretches::new(bound(3.0));
        s.observe(Err("x".into()), 1.0, 1);
        s.observe(Ok(()), 2.0, 2);
        s.observe(Err("x".into()), 3.0, 3);
        s.observe(Ok(()), 5.0, 4);
        assert_eq!(s.measured().longest, 2.0, "no stretch over the bound, but the span is");
        assert!(s.verdict(true).is_some_and(|v| v.is_err_and(|why| why.contains("4.0 time units later"))));
        let mut s = Stretches::new(None);
        s.observe(Err("no token".into()), 2.0, 1);
        assert_eq!(s.verdict(false), None, "stopped early: it may still come back");
        s.observe(Err("two tokens".into()), 3.0, 2);
        assert!(s.verdict(true).is_some_and(|v| v.is_err_and(|why| why.contains("since t = 2.0: two tokens"))));
        assert_eq!(s.measured().open_since, Some(2.0));
    }
}

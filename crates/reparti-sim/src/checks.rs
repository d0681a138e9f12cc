//! Property bookkeeping: incremental counts, per-node and per-delivery checks, sampled
//! global checks, terminal checks, and the first violation of each.

use crate::outside::Stretches;
use crate::report::PropertyResult;
use reparti_core::property::Delivery;
use reparti_core::{Invariant, Process, Properties, World};

/// The first time a property failed.
#[derive(Clone, Debug)]
struct Violation {
    event: u64,
    detail: String,
}

pub(crate) struct Checks<N: Process> {
    props: Properties<N>,
    /// For each invariant: the running total (Count only).
    totals: Vec<i64>,
    invariant_violations: Vec<Option<Violation>>,
    /// For each invariant: its stretches outside L (Stabilizing only).
    stretches: Vec<Option<Stretches>>,
    terminal_results: Vec<Option<Result<(), String>>>,
    /// Check global invariants every this many events (1 = every event).
    pub global_every: u64,
    has_counts: bool,
    has_locals: bool,
    has_deliveries: bool,
    has_globals: bool,
    /// Set when a violation was first recorded and not yet reported to the engine.
    pub fresh_violation: bool,
}

impl<N: Process> Checks<N> {
    pub fn new(props: Properties<N>, nodes: &[N], global_every: u64) -> Self {
        let totals = props
            .invariants
            .iter()
            .map(|inv| match inv {
                Invariant::Count { node, .. } => nodes.iter().map(|n| node(n) as i64).sum(),
                _ => 0,
            })
            .collect();
        let has = |f: fn(&Invariant<N>) -> bool| props.invariants.iter().any(f);
        Checks {
            has_counts: has(|i| matches!(i, Invariant::Count { .. })),
            has_locals: has(|i| matches!(i, Invariant::Local { .. })),
            has_deliveries: has(|i| matches!(i, Invariant::Delivery { .. })),
            has_globals: has(|i| matches!(i, Invariant::Global { .. } | Invariant::Stabilizing { .. })),
            invariant_violations: vec![None; props.invariants.len()],
            stretches: props
                .invariants
                .iter()
                .map(|inv| match inv {
                    Invariant::Stabilizing { within, .. } => {
                        Some(Stretches::new(within.as_ref().and_then(|bound| bound(nodes.len()))))
                    }
                    _ => None,
                })
                .collect(),
            terminal_results: vec![None; props.terminal.len()],
            totals,
            props,
            global_every: global_every.max(1),
            fresh_violation: false,
        }
    }

    fn violate(&mut self, k: usize, event: u64, detail: String) {
        if self.invariant_violations[k].is_none() {
            self.invariant_violations[k] = Some(Violation { event, detail });
            self.fresh_violation = true;
        }
    }

    /// Takes a node's weights out of the counts, before its handler runs.
    #[inline]
    pub fn node_before(&mut self, node: &N) {
        if !self.has_counts {
            return;
        }
        for (k, inv) in self.props.invariants.iter().enumerate() {
            if let Invariant::Count { node: w, .. } = inv {
                self.totals[k] -= w(node) as i64;
            }
        }
    }

    /// Puts a node's weights back after its handler ran, and checks local invariants.
    #[inline]
    pub fn node_after(&mut self, node: &N, event: u64) {
        if self.has_counts {
            for (k, inv) in self.props.invariants.iter().enumerate() {
                if let Invariant::Count { node: w, .. } = inv {
                    self.totals[k] += w(node) as i64;
                }
            }
        }
        if self.has_locals {
            for k in 0..self.props.invariants.len() {
                if let Invariant::Local { check, .. } = &self.props.invariants[k] {
                    if let Err(why) = check(node) {
                        self.violate(k, event, why);
                    }
                }
            }
        }
    }

    /// A message entered the network.
    #[inline]
    pub fn message_added(&mut self, msg: &N::Msg) {
        if self.has_counts {
            for (k, inv) in self.props.invariants.iter().enumerate() {
                if let Invariant::Count { msg: w, .. } = inv {
                    self.totals[k] += w(msg) as i64;
                }
            }
        }
    }

    /// A message left the network (delivered or dropped).
    #[inline]
    pub fn message_removed(&mut self, msg: &N::Msg) {
        if self.has_counts {
            for (k, inv) in self.props.invariants.iter().enumerate() {
                if let Invariant::Count { msg: w, .. } = inv {
                    self.totals[k] -= w(msg) as i64;
                }
            }
        }
    }

    /// Checks every count against its bounds; call once per event, after all updates.
    #[inline]
    pub fn check_counts(&mut self, event: u64) {
        if !self.has_counts {
            return;
        }
        for k in 0..self.props.invariants.len() {
            if let Invariant::Count { min, max, .. } = self.props.invariants[k] {
                let total = self.totals[k];
                if total < min as i64 || total > max as i64 {
                    let range = if min == max { format!("exactly {min}") } else { format!("between {min} and {max}") };
                    self.violate(k, event, format!("the count is {total}, expected {range}"));
                }
            }
        }
    }

    /// Checks per-delivery invariants.
    #[inline]
    pub fn delivery(&mut self, d: &Delivery<'_>, event: u64) {
        if !self.has_deliveries {
            return;
        }
        for k in 0..self.props.invariants.len() {
            if let Invariant::Delivery { check, .. } = &self.props.invariants[k] {
                if let Err(why) = check(d) {
                    self.violate(k, event, why);
                }
            }
        }
    }

    /// Whether global invariants are due after event number `event`.
    #[inline]
    pub fn global_due(&self, event: u64) -> bool {
        self.has_globals && event.is_multiple_of(self.global_every)
    }

    /// Checks global invariants, and measures the stretches outside L of stabilizing
    /// ones (which a transient fault may open: not a violation by itself).
    pub fn global(&mut self, world: &World<'_, N>, event: u64, now: f64) {
        for k in 0..self.props.invariants.len() {
            match &self.props.invariants[k] {
                Invariant::Global { check, .. } => {
                    if let Err(why) = check(world) {
                        self.violate(k, event, why);
                    }
                }
                Invariant::Stabilizing { check, .. } => {
                    let verdict = check(world);
                    if let Some(s) = &mut self.stretches[k] {
                        s.observe(verdict, now, event);
                    }
                }
                _ => {}
            }
        }
    }

    /// Checks terminal properties (at quiescence).
    pub fn terminal(&mut self, world: &World<'_, N>) {
        for (k, t) in self.props.terminal.iter().enumerate() {
            self.terminal_results[k] = Some((t.check)(world));
        }
    }

    /// The first violation message, for the trace's closing line.
    pub fn first_violation(&self) -> Option<String> {
        self.props
            .invariants
            .iter()
            .zip(&self.invariant_violations)
            .filter_map(|(inv, v)| v.as_ref().map(|v| (v.event, format!("{}: {}", inv.name(), v.detail))))
            .min_by_key(|(e, _)| *e)
            .map(|(_, s)| s)
    }

    /// The first failure for the trace's closing line: the first violated invariant,
    /// else the first terminal property that failed.
    pub fn first_failure(&self) -> Option<String> {
        self.first_violation().or_else(|| {
            self.props.terminal.iter().zip(&self.terminal_results).find_map(|(t, r)| match r {
                Some(Err(why)) => Some(format!("{}: {why}", t.name)),
                _ => None,
            })
        })
    }

    /// The verdicts, in declaration order.
    pub fn results(&self, stop_note: Option<&str>, global_note: &str) -> Vec<PropertyResult> {
        let mut out = Vec::new();
        for ((inv, v), stretches) in self.props.invariants.iter().zip(&self.invariant_violations).zip(&self.stretches) {
            if let Some(s) = stretches {
                let verdict = s.verdict(stop_note.is_none());
                out.push(PropertyResult {
                    name: inv.name().to_string(),
                    kind: "stabilizing",
                    holds: verdict.as_ref().map(Result::is_ok),
                    checked: s.summary(global_note),
                    first_violation: s.first_exit(),
                    detail: match verdict {
                        Some(Err(why)) => Some(why),
                        None => Some(format!("{}, outside L", stop_note.unwrap_or("the run stopped early"))),
                        Some(Ok(())) => None,
                    },
                    outside: Some(s.measured()),
                });
                continue;
            }
            let checked = match inv {
                Invariant::Count { .. } => "every event (incremental count)".to_string(),
                Invariant::Local { .. } => "every event at the node".to_string(),
                Invariant::Delivery { .. } => "every delivery".to_string(),
                Invariant::Global { .. } | Invariant::Stabilizing { .. } => global_note.to_string(),
            };
            out.push(PropertyResult {
                name: inv.name().to_string(),
                kind: "invariant",
                holds: Some(v.is_none()),
                checked,
                first_violation: v.as_ref().map(|v| v.event),
                detail: v.as_ref().map(|v| v.detail.clone()),
                outside: None,
            });
        }
        for (t, r) in self.props.terminal.iter().zip(&self.terminal_results) {
            let (holds, checked, detail) = match r {
                Some(Ok(())) => (Some(true), "at quiescence".to_string(), None),
                Some(Err(why)) => (Some(false), "at quiescence".to_string(), Some(why.clone())),
                None => {
                    (None, format!("not checked: {}", stop_note.unwrap_or("the run did not reach quiescence")), None)
                }
            };
            out.push(PropertyResult {
                name: t.name.to_string(),
                kind: "terminal",
                holds,
                checked,
                first_violation: None,
                detail,
                outside: None,
            });
        }
        out
    }
}

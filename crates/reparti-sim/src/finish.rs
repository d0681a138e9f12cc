//! Turns a stopped simulation into its [`Report`].

use crate::engine::Simulation;
use crate::report::{ExpectedResult, Messages, PerNode, PhysicalClocksAtEnd, Report, Stop};
use crate::SimError;
use reparti_core::expect::{after_count, after_elapsed};
use reparti_core::{Algorithm, Message, Moment, OutputMoments, RunFacts};
use std::collections::BTreeMap;
use std::io::Write;

impl<A: Algorithm, W: Write> Simulation<A, W> {
    /// Runs to the end and reports, returning the trace writer too.
    pub fn run_to_end(mut self) -> Result<(Report, Option<W>), SimError> {
        while self.run_for(1 << 16) {}
        self.finish()
    }

    /// Reports on a stopped run (or on the run so far), closing the trace.
    pub fn finish(mut self) -> Result<(Report, Option<W>), SimError> {
        let stop = self.stop.unwrap_or(Stop::Events);
        if let Some(h) = &mut self.histories {
            h.judge();
        }
        let failure = self.checks.first_failure().or_else(|| self.histories.as_ref()?.first_failure());
        let trace = match self.take_tracer() {
            Some(t) => Some(t.finish(stop.name(), failure).map_err(SimError::Trace)?),
            None => None,
        };
        Ok((self.report(stop), trace))
    }

    fn report(&self, stop: Stop) -> Report {
        let kinds = <<A::Node as reparti_core::Process>::Msg as Message>::kinds();
        let by_type: BTreeMap<String, u64> =
            kinds.iter().zip(&self.sent_by_type).map(|(k, c)| (k.to_string(), *c)).collect();
        let total: u64 = self.sent_by_type.iter().sum();
        let outputs_by_value: BTreeMap<String, BTreeMap<reparti_core::OutputValue, u64>> =
            self.outputs.iter().map(|(k, m)| (k.to_string(), m.clone())).collect();
        let moment = |(t, sent): &(f64, Vec<u64>)| Moment {
            t: *t,
            sent_by_type: kinds.iter().zip(sent).map(|(k, c)| (k.to_string(), *c)).collect(),
        };
        let moments: BTreeMap<String, OutputMoments> = self
            .moments
            .iter()
            .map(|(k, [first, last])| (k.to_string(), OutputMoments { first: moment(first), last: moment(last) }))
            .collect();
        let facts = RunFacts {
            n: self.nodes.len(),
            idents: &self.idents,
            params: &self.params,
            outputs: &outputs_by_value,
            sent_by_type: &by_type,
            topology: Some(&self.topology),
        };
        let net = &self.cfg.network;
        // A replayed trace (a real run, a counterexample) says its faults by its drops and
        // duplicates, not by its configuration.
        // A channel's own delay (an asymmetric path) changes when messages arrive, not
        // which: counts are still judged.
        let injected = self.cfg.faults.iter().any(|f| !matches!(f, crate::network::Fault::LinkDelay { .. }));
        let faulty = net.loss > 0.0 || net.dup > 0.0 || injected || self.dropped > 0 || self.duplicated > 0;
        let complete = stop == Stop::Quiescence;
        let mut expected = BTreeMap::new();
        for e in self.algorithm.expected(&facts) {
            let measured = after_count(&e.counts, &moments, &by_type).unwrap_or_else(|| facts.measured(&e.counts));
            let holds = if faulty || !complete { None } else { e.holds(measured as f64) };
            let mut key = e.counts.clone();
            if expected.contains_key(&key) {
                key = format!("{} [{}]", e.counts, e.formula);
            }
            let elapsed = after_elapsed(&e.counts, &moments);
            expected.insert(key, ExpectedResult { expectation: e, measured, holds, elapsed });
        }
        let n = self.nodes.len();
        let sent_min = self.books.iter().map(|b| b.sent).min().unwrap_or(0) as u64;
        let sent_max = self.books.iter().map(|b| b.sent).max().unwrap_or(0) as u64;
        let messages = Messages {
            total,
            by_type,
            control_types: <<A::Node as reparti_core::Process>::Msg as Message>::control_kinds()
                .iter()
                .map(|k| k.to_string())
                .collect(),
            delivered: self.delivered,
            dropped: self.dropped,
            duplicated: self.duplicated,
            per_node: PerNode { min: sent_min, mean: total as f64 / n.max(1) as f64, max: sent_max },
            sent_by_node: (n <= 100).then(|| self.books.iter().map(|b| b.sent as u64).collect()),
        };
        let stop_note = match stop {
            Stop::Quiescence => None,
            Stop::Time => Some("the run reached its time limit before quiescence"),
            Stop::Events => Some("the run reached its event limit before quiescence"),
            Stop::Violation => Some("the run stopped at the first violated invariant"),
            Stop::Interrupted => Some("the run was interrupted before quiescence"),
        };
        let wall = self.busy.as_secs_f64();
        Report {
            algorithm: self.spec.name.to_string(),
            nodes: n,
            seed: self.cfg.seed,
            topology: self.topology.kind().to_string(),
            ids: self.cfg.ids.to_string(),
            params: self.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            network: self.cfg.network.clone(),
            faults: self.cfg.faults.clone(),
            stop,
            outputs: self
                .outputs
                .iter()
                .map(|(k, m)| (k.to_string(), m.iter().map(|(v, c)| (v.to_string(), *c)).collect()))
                .collect(),
            properties: {
                let mut p = self.checks.results(stop_note, &self.global_note);
                p.extend(self.histories.iter().flat_map(|h| h.results()));
                p
            },
            messages,
            expected,
            time: self.now,
            rounds: self.cfg.network.sync.then_some(self.now.round() as u64),
            events: self.events,
            longest_causal_chain: self.max_chain as u64,
            clocks: self.clock_mode,
            physical_clocks: self.physical.as_ref().map(|clocks| {
                let now = self.real_now();
                let offsets: Vec<f64> = clocks.iter().map(|c| c.offset(now)).collect();
                let live = || offsets.iter().zip(&self.crashed).filter(|(_, &down)| !down).map(|(o, _)| *o);
                let (lo, hi) = live().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), o| (l.min(o), h.max(o)));
                PhysicalClocksAtEnd {
                    spread: if hi >= lo { hi - lo } else { 0.0 },
                    worst_offset: live().map(f64::abs).fold(0.0, f64::max),
                    offsets,
                }
            }),
            wall_seconds: wall,
            events_per_sec: if wall > 0.0 { self.events as f64 / wall } else { 0.0 },
        }
    }
}

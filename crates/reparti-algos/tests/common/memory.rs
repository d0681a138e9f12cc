//! What the shared-memory tests share: a run whose history is read back from its trace
//! alone, operations given at set times, and the reads' answers.

use reparti_core::history::{self, HistoryLine, Operation};
use reparti_core::trace::read_trace;
use reparti_core::Algorithm;
use reparti_sim::config::GivenInput;
use reparti_sim::{simulate_traced, Report, SimConfig};

/// Runs `A` with a trace, and reads the history back from the trace alone.
pub fn run<A: Algorithm>(cfg: &SimConfig) -> (Report, Vec<HistoryLine>) {
    let (report, bytes) = match simulate_traced::<A, _>(cfg, Vec::new()) {
        Ok(done) => done,
        Err(e) => panic!("the run does not start: {e}"),
    };
    let trace = read_trace(&bytes[..]).expect("the trace reads back");
    let lines = history::from_trace(&trace).expect("the trace holds a history");
    (report, lines)
}

/// Operation `op` asked of node `node` at time `at`.
pub fn given(at: f64, node: u32, op: Operation) -> GivenInput {
    GivenInput { at, node, input: serde_json::to_value(op).expect("an operation is JSON") }
}

/// The reads' answers, by node.
pub fn read_answers(lines: &[HistoryLine]) -> Vec<(u32, serde_json::Value)> {
    lines.iter().filter(|l| l.f == "read" && l.kind == "ok").map(|l| (l.client, l.value.clone())).collect()
}

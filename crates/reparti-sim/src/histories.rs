//! The run's history of client operations, for algorithms that declare history
//! properties (shared memory): recorded from the `call` and `ret` outputs as they are
//! made, judged once the run is over — whatever stopped it, since a history with
//! operations still open is judged with them pending.

use crate::report::PropertyResult;
use reparti_core::history::{HistoryProperty, HistoryRecorder};
use reparti_core::OutputValue;

pub(crate) struct Histories {
    props: Vec<HistoryProperty>,
    recorder: HistoryRecorder,
    /// The first call or return that broke the convention (it fails every property).
    broken: Option<String>,
    verdicts: Option<Vec<Result<(), String>>>,
}

impl Histories {
    /// Recording, if the algorithm has history properties.
    pub fn new(props: Vec<HistoryProperty>) -> Option<Self> {
        (!props.is_empty()).then(|| Histories { props, recorder: HistoryRecorder::new(), broken: None, verdicts: None })
    }

    pub fn output(&mut self, t: f64, node: u32, key: &str, value: &OutputValue) {
        if let Err(why) = self.recorder.output(t, node, key, value) {
            self.broken.get_or_insert(why);
        }
    }

    /// Judges the history recorded so far (once).
    pub fn judge(&mut self) {
        if self.verdicts.is_some() {
            return;
        }
        let lines = self.recorder.lines();
        self.verdicts = Some(
            self.props
                .iter()
                .map(|p| match &self.broken {
                    Some(why) => Err(format!("the history is malformed: {why}")),
                    None => (p.check)(lines),
                })
                .collect(),
        );
    }

    pub fn first_failure(&self) -> Option<String> {
        let verdicts = self.verdicts.as_ref()?;
        self.props.iter().zip(verdicts).find_map(|(p, v)| v.as_ref().err().map(|why| format!("{}: {why}", p.name)))
    }

    pub fn results(&self) -> Vec<PropertyResult> {
        let calls = self.recorder.lines().iter().filter(|l| l.kind == "invoke").count();
        let pending = self.recorder.pending().count();
        let checked = format!("on the whole history ({calls} operations, {pending} pending)");
        let verdicts = self.verdicts.as_deref().unwrap_or_default();
        self.props
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let verdict = verdicts.get(k);
                PropertyResult {
                    name: p.name.to_string(),
                    kind: "history",
                    holds: verdict.map(Result::is_ok),
                    checked: if verdict.is_some() { checked.clone() } else { "not checked".into() },
                    first_violation: None,
                    detail: verdict.and_then(|v| v.as_ref().err().cloned()),
                    outside: None,
                }
            })
            .collect()
    }
}

//! What `reparti eval` measures: the runs' figures gathered by size, and the counts the
//! algorithm declares gathered beside them.

use reparti_core::{after_key, parse_after, ExpectationKind};
use reparti_sim::Report;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Which identities a run had.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    Random,
    Desc,
    Asc,
}

impl Case {
    pub fn name(self) -> &'static str {
        ["random", "desc", "asc"][self as usize]
    }
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spread {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

/// One measured figure at one size.
#[derive(Debug, Serialize)]
pub struct Count {
    /// Over the random-identity runs.
    pub random: Option<Spread>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asc: Option<f64>,
}

/// One declared expectation at one size, gathered over the runs that declared it.
#[derive(Debug, Serialize)]
pub struct Claim {
    /// The figure it is about (`rounds` for `output:rounds`).
    pub figure: String,
    pub formula: String,
    /// `exact`, `at_most`, `between` or `reference`.
    pub kind: &'static str,
    /// Which runs declared it.
    pub cases: BTreeSet<Case>,
    /// The least and greatest value claimed (for `between`: lowest low, highest high).
    pub value_min: f64,
    pub value_max: f64,
    pub held: u64,
    pub failed: u64,
    pub unchecked: u64,
}

#[derive(Debug, Serialize)]
pub struct Size {
    pub n: usize,
    pub counts: BTreeMap<String, Count>,
    pub expected: Vec<Claim>,
}

#[derive(Debug, Serialize)]
pub struct Evaluation {
    pub algorithm: String,
    pub topology: String,
    pub params: BTreeMap<String, String>,
    pub runs: u64,
    pub seeds: [u64; 2],
    pub cases: Vec<Case>,
    pub sizes: Vec<Size>,
    /// Runs where a property or an asserted count failed, as `n=…, ids …, seed …: what`.
    pub failures: Vec<String>,
    pub all_good: bool,
}

/// `output:rounds` is about the rounds figure; other counts name their figure.
pub fn figure_of(counts: &str) -> String {
    if counts == "output:rounds" {
        "rounds".into()
    } else {
        counts.into()
    }
}

/// The figure of the time an `after:FROM→TO:…` count was measured over:
/// `after:FROM→TO:time`. `None` for other counts.
pub fn time_figure(counts: &str) -> Option<String> {
    let (from, to, _) = parse_after(counts)?;
    Some(after_key(from, to, TIME))
}

/// What a time figure counts, in place of message types.
pub const TIME: &str = "time";

/// Every figure of one run: messages per type, `total`, `rounds`, other declared outputs,
/// messages sent between two moments (`after:`) and the time between them.
pub fn figures(r: &Report) -> BTreeMap<String, f64> {
    let mut f: BTreeMap<String, f64> = r.messages.by_type.iter().map(|(k, v)| (k.clone(), *v as f64)).collect();
    f.insert("total".into(), r.messages.total as f64);
    // The algorithm's own count of rounds (Franklin's phases) says more than the clock.
    let declared = r.outputs.get("rounds").and_then(|m| m.keys().filter_map(|v| v.parse::<i64>().ok()).max());
    if let Some(rounds) = declared.map(|v| v as f64).or(r.rounds.map(|v| v as f64)) {
        f.insert("rounds".into(), rounds);
    }
    for e in r.expected.values() {
        if e.expectation.counts.starts_with("output:") || parse_after(&e.expectation.counts).is_some() {
            f.entry(figure_of(&e.expectation.counts)).or_insert(e.measured as f64);
        }
        if let (Some(time), Some(elapsed)) = (time_figure(&e.expectation.counts), e.elapsed) {
            f.entry(time).or_insert(elapsed);
        }
    }
    f
}

/// One figure's values at one size: the random runs', the desc run's, the asc run's.
pub type Values = (Vec<f64>, Option<f64>, Option<f64>);

pub fn summarise<'a>(n: usize, runs: impl Iterator<Item = (Case, &'a Report)>) -> Size {
    let mut values: BTreeMap<String, Values> = BTreeMap::new();
    let mut claims: BTreeMap<(String, String, &'static str), Claim> = BTreeMap::new();
    for (case, r) in runs {
        for (k, v) in figures(r) {
            let slot = values.entry(k).or_default();
            match case {
                Case::Random => slot.0.push(v),
                Case::Desc => slot.1 = Some(v),
                Case::Asc => slot.2 = Some(v),
            }
        }
        for e in r.expected.values() {
            let x = &e.expectation;
            let (kind, lo, hi) = match x.kind {
                ExpectationKind::Exact { value } => ("exact", value, value),
                ExpectationKind::AtMost { value } => ("at_most", value, value),
                ExpectationKind::Between { min, max } => ("between", min, max),
                ExpectationKind::Reference { value } => ("reference", value, value),
            };
            let c = claims.entry((figure_of(&x.counts), x.formula.clone(), kind)).or_insert_with(|| Claim {
                figure: figure_of(&x.counts),
                formula: x.formula.clone(),
                kind,
                cases: BTreeSet::new(),
                value_min: lo,
                value_max: hi,
                held: 0,
                failed: 0,
                unchecked: 0,
            });
            c.cases.insert(case);
            c.value_min = c.value_min.min(lo);
            c.value_max = c.value_max.max(hi);
            match e.holds {
                Some(true) => c.held += 1,
                Some(false) => c.failed += 1,
                None => c.unchecked += 1,
            }
        }
    }
    let has_claim: BTreeSet<String> = claims.keys().map(|k| k.0.clone()).collect();
    let counts = values
        .into_iter()
        // A message type never sent and never claimed is noise; a delay of 0 is not.
        .filter(|(k, (v, d, a))| {
            has_claim.contains(k) || parse_after(k).is_some() || v.iter().chain(d).chain(a).any(|&x| x != 0.0)
        })
        .map(|(k, (v, desc, asc))| {
            let random = (!v.is_empty()).then(|| Spread {
                min: v.iter().copied().fold(f64::INFINITY, f64::min),
                mean: v.iter().sum::<f64>() / v.len() as f64,
                max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            });
            (k, Count { random, desc, asc })
        })
        .collect();
    // Per-run claims first, then the desc and asc ones, references last: the order in
    // which the table reads best.
    let mut expected: Vec<Claim> = claims.into_values().collect();
    expected.sort_by_key(|c| (c.kind == "reference", c.cases.last().copied()));
    Size { n, counts, expected }
}

/// What went wrong in one run, one line each.
pub fn failures(n: usize, r: &Report) -> Vec<String> {
    let at = format!("n={n}, ids {}, seed {}", r.ids, r.seed);
    let props =
        r.properties.iter().filter(|p| p.holds == Some(false)).map(|p| format!("{at}: property '{}' failed", p.name));
    let counts = r.expected.values().filter(|e| e.holds == Some(false)).map(|e| {
        format!(
            "{at}: {} = {} but {} {}",
            e.expectation.counts,
            e.measured,
            e.expectation.formula,
            e.expectation.value_text()
        )
    });
    props.chain(counts).collect()
}

pub fn case_names(cases: &BTreeSet<Case>) -> String {
    cases.iter().map(|c| c.name()).collect::<Vec<_>>().join("+")
}

/// How a claim relates the count to its value.
pub fn symbol(kind: &str) -> &'static str {
    match kind {
        "exact" => "=",
        "at_most" => "≤",
        "between" => "∈",
        _ => "≈",
    }
}

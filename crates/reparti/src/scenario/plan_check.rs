//! From a parsed scenario to what the model checker runs: the `[check]` table as a
//! [`CheckConfig`], and `[check.expect]` as the expectations to judge its report by.
//!
//! The algorithm, parameters, topology and seed are shared with the simulation and
//! checked the same way (`plan.rs`); the identities may be the check's own, since a
//! check usually wants fewer nodes than a simulation.

use super::diag::Located;
use super::expect::{CheckExpect, PropExpect};
use super::file::ScenarioFile;
use super::plan::{at, common, ids_of, one_of, probe, props};
use reparti_check::{CheckConfig, NetworkKind, Strategy};
use toml::Spanned;

/// What `reparti check` runs.
#[derive(Debug)]
pub struct CheckPlan {
    /// The algorithm's catalogue name.
    pub algorithm: String,
    /// The check.
    pub config: CheckConfig,
    /// What it must find.
    pub expect: CheckExpect,
    /// Tables the checker does not use, said aloud so nobody expects them to apply.
    pub notes: Vec<String>,
}

/// The names the checker adds to the algorithm's own properties (see reparti-check).
const CHECKER_PROPERTIES: &[&str] =
    &["no deadlock", "eventually a correct end (AG EF done)", "every run terminates (no cycle avoids done)"];

/// The check the scenario's `[check]` table describes; `nodes` overrides its node count.
pub fn check_plan(f: &ScenarioFile, nodes: Option<Spanned<usize>>) -> Result<CheckPlan, Located> {
    let ch = f.check.as_ref().ok_or_else(|| {
        at(&f.algorithm, "this scenario has no [check] table, so `reparti check` has nothing to do", "here")
            .help("add a [check] table (see docs/SCENARIOS.md), or run it with `reparti sim`")
    })?;
    let mut c = common(f)?;
    if let Some(ids) = &ch.ids {
        c.ids = ids_of(ids)?;
    }
    let nodes = nodes.as_ref().or(ch.nodes.as_ref()).or(f.topology.nodes.as_ref());
    let facts = probe(f, &c, nodes, &[], &[], true)?;
    let network = match &ch.network {
        Some(s) => one_of(s, &["fifo", "unordered", "lossy", "duplicating"], "checker network")?
            .parse::<NetworkKind>()
            .map_err(|e| at(s, e, "here"))?,
        // As on the command line: FIFO for an algorithm that assumes it.
        None => crate::resolve::check_network(&c.spec, None),
    };
    let strategy = match ch.strategy.as_ref().map(|s| one_of(s, &["bfs", "dfs", "random"], "strategy")).transpose()? {
        Some(s) if s == "dfs" => Strategy::Dfs,
        Some(s) if s == "random" => {
            Strategy::Random { walks: ch.walks.unwrap_or(1000), depth: ch.depth.unwrap_or(1000) }
        }
        _ => Strategy::Bfs,
    };
    let bitstate = match &ch.bitstate {
        Some(size) => {
            let bytes = reparti_check::memory::parse_size(size.get_ref()).map_err(|e| at(size, e, "here"))?;
            let mut b = reparti_check::BitstateConfig::new(bytes);
            if let Some(k) = &ch.hash_functions {
                if !(1..=16).contains(k.get_ref()) {
                    return Err(at(k, "hash_functions must be 1 to 16 bits per state (3 is SPIN's default)", "here"));
                }
                b.hash_functions = *k.get_ref();
            }
            b.hash_seed = ch.hash_seed.unwrap_or(0);
            Some(b)
        }
        None => {
            if let Some(k) = &ch.hash_functions {
                return Err(at(k, "hash_functions shapes a bitstate search", "here")
                    .help("add `bitstate = \"64M\"` to [check], or remove it"));
            }
            None
        }
    };
    if let Some(t) = ch.threads.as_ref().filter(|t| *t.get_ref() == 0) {
        return Err(at(t, "threads must be at least 1", "here"));
    }
    let defaults = CheckConfig::default();
    let mut known: Vec<&str> = facts.properties.clone();
    known.extend(CHECKER_PROPERTIES);
    let expect = match &ch.expect {
        Some(e) => CheckExpect {
            props: props(&e.fail, &e.hold, e.others.as_ref(), &known)?,
            counterexample: e.counterexample,
            counterexample_steps: e.counterexample_steps,
            complete: e.complete,
            unique_states: e.unique_states,
        },
        None => {
            CheckExpect { props: PropExpect { others_hold: true, ..PropExpect::default() }, ..CheckExpect::default() }
        }
    };
    let mut notes = Vec::new();
    let sim_only = [
        (
            "[network]",
            f.network.fifo.is_some()
                || f.network.delay.is_some()
                || f.network.loss.is_some()
                || f.network.dup.is_some()
                || f.network.sync.is_some(),
        ),
        ("[faults]", !(f.faults.crash.is_empty() && f.faults.partition.is_empty() && f.faults.delay.is_empty())),
        ("[workload]", f.workload.replace_workload || !f.workload.inputs.is_empty()),
        (
            "[limits]",
            f.limits.max_events.is_some()
                || f.limits.max_time.is_some()
                || f.limits.vector_clocks.is_some()
                || f.limits.keep_going,
        ),
    ];
    let ignored: Vec<&str> = sim_only.iter().filter(|(_, used)| *used).map(|(t, _)| *t).collect();
    if !ignored.is_empty() {
        notes.push(format!(
            "{} apply to `reparti sim` only: the checker explores every schedule of the algorithm's own workload on the [check] network",
            ignored.join(", ")
        ));
    }
    let config = CheckConfig {
        nodes: Some(facts.n),
        topology: c.topology,
        ids: c.ids,
        seed: c.seed,
        network,
        max_drops: ch.max_drops.unwrap_or(defaults.max_drops),
        max_dups: ch.max_dups.unwrap_or(defaults.max_dups),
        max_crashes: ch.max_crashes.unwrap_or(defaults.max_crashes),
        strategy,
        threads: ch.threads.as_ref().map_or(defaults.threads, |t| *t.get_ref()),
        max_depth: ch.max_depth,
        max_states: ch.max_states,
        max_seconds: ch.max_seconds,
        // The scenario format has no memory key: the machine's default budget, or
        // --max-memory on the command line.
        max_memory: None,
        interrupt: None,
        wide_fingerprints: ch.wide,
        por: ch.por,
        symmetry: ch.symmetry,
        liveness: ch.liveness.unwrap_or(defaults.liveness),
        liveness_limit: ch.liveness_limit.unwrap_or(defaults.liveness_limit),
        params: c.params,
        bitstate,
        search_seed: ch.search_seed,
    };
    Ok(CheckPlan { algorithm: c.spec.name.to_string(), config, expect, notes })
}

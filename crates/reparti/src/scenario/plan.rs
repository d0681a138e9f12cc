//! From a parsed scenario to what the simulator runs: a [`SimConfig`] and the
//! expectations to judge its report by, plus the helpers `plan_check` shares.
//!
//! Every value is checked here, against the algorithm where it matters (its name, its
//! parameters, its node count, its `Input` type, its message types, its property
//! names), and a mistake comes back as a [`Located`] pointing into the file.

use super::diag::Located;
use super::expect::{PropExpect, SimExpect};
use super::file::{ScenarioFile, TopologySection};
use super::probe::{Facts, Probe, ProbeError};
use reparti_core::{AlgorithmSpec, IdAssignment, NodeId, ParamError, SetupError, TopologyKind};
use reparti_sim::config::GivenInput;
use reparti_sim::{Delay, Fault, NetworkModel, SimConfig, VectorClocks};
use toml::Spanned;

/// What `reparti sim` runs.
#[derive(Debug)]
pub struct SimPlan {
    /// The algorithm's catalogue name.
    pub algorithm: String,
    /// The run.
    pub config: SimConfig,
    /// What it must show.
    pub expect: SimExpect,
}

const STOPS: &[&str] = &["quiescence", "time", "events", "violation"];
const COUNTERS: &[&str] = &["total", "delivered", "dropped", "duplicated"];

pub(super) fn at<T>(s: &Spanned<T>, message: impl Into<String>, label: &str) -> Located {
    Located::new(s.span(), message, label)
}

/// Everything both engines share: algorithm, parameters, topology, identities, seed.
pub(super) struct Common {
    pub(super) spec: AlgorithmSpec,
    pub(super) params: Vec<(String, String)>,
    pub(super) topology: Option<TopologyKind>,
    pub(super) ids: IdAssignment,
    pub(super) seed: u64,
}

pub(super) fn common(f: &ScenarioFile) -> Result<Common, Located> {
    let name = f.algorithm.get_ref();
    let spec = reparti_algos::find(name).ok_or_else(|| {
        let e = at(&f.algorithm, format!("unknown algorithm '{name}'"), "not in the catalogue");
        match reparti_algos::suggest(name) {
            Some(s) => e.help(format!("did you mean '{s}'? (`reparti list` shows them all)")),
            None => e.help(format!("the algorithms are: {}", reparti_algos::names().join(", "))),
        }
    })?;
    let mut params = Vec::new();
    for (k, v) in &f.params {
        params.push((k.get_ref().clone(), param_text(v)?));
    }
    let topology = match &f.topology.kind {
        Some(k) => Some(k.get_ref().parse::<TopologyKind>().map_err(|e| at(k, e.to_string(), "this topology"))?),
        None => None,
    };
    let ids = match &f.topology.ids {
        Some(v) => ids_of(v)?,
        None => IdAssignment::Random,
    };
    Ok(Common { spec, params, topology, ids, seed: f.seed.unwrap_or(1) })
}

/// A parameter's text, as `--param` would give it; lists become `a,b,c`.
fn param_text(v: &Spanned<toml::Value>) -> Result<String, Located> {
    scalar_text(v.get_ref())
        .or_else(|| match v.get_ref() {
            toml::Value::Array(items) => items.iter().map(scalar_text).collect::<Option<Vec<_>>>().map(|l| l.join(",")),
            _ => None,
        })
        .ok_or_else(|| at(v, "a parameter is a string, a number, a boolean or a list of them", "not a parameter value"))
}

/// A string, number or boolean as text (`8`, `"8"` and `8.0`… as written).
pub fn scalar_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn ids_of(v: &Spanned<toml::Value>) -> Result<IdAssignment, Located> {
    let bad = |why: String| {
        at(v, why, "these identities").help("ids = \"random\", \"asc\", \"desc\", \"3,1,2\" or a list [3, 1, 2]")
    };
    match v.get_ref() {
        toml::Value::String(s) => s.parse::<IdAssignment>().map_err(|e| bad(e.to_string())),
        toml::Value::Array(items) => items
            .iter()
            .map(|x| x.as_integer().and_then(|i| u64::try_from(i).ok()))
            .collect::<Option<Vec<u64>>>()
            .map(IdAssignment::List)
            .ok_or_else(|| bad("identities are whole numbers ≥ 0".into())),
        _ => Err(bad("identities are a name or a list".into())),
    }
}

/// Builds the instance; a setup error points at the value that caused it.
pub(super) fn probe(
    f: &ScenarioFile,
    c: &Common,
    nodes: Option<&Spanned<usize>>,
    inputs: &[serde_json::Value],
    channels: &[(u32, u32)],
    check: bool,
) -> Result<Facts, Located> {
    if let Some(n) = nodes.filter(|n| *n.get_ref() == 0) {
        return Err(at(n, "there must be at least one node", "zero nodes"));
    }
    let probe = Probe {
        params: &c.params,
        topology: c.topology.as_ref(),
        nodes: nodes.map(|n| *n.get_ref()),
        ids: &c.ids,
        seed: c.seed,
        inputs,
        channels,
    };
    let result = reparti_algos::visit(c.spec.name, probe)
        .ok_or_else(|| at(&f.algorithm, format!("unknown algorithm '{}'", c.spec.name), "here"))?;
    result.map_err(|e| match e {
        ProbeError::Setup(e) => setup_error(f, nodes, check, e),
        ProbeError::TooLarge(why) => match nodes {
            Some(n) => at(n, why, "too many"),
            None => at(&f.algorithm, why, "here"),
        },
    })
}

fn setup_error(f: &ScenarioFile, nodes: Option<&Spanned<usize>>, check: bool, e: SetupError) -> Located {
    let message = e.to_string().replace(" (use --topology)", "").replace("--ids", "ids");
    let param = |name: &str, value: bool| {
        f.params.iter().find(|(k, _)| k.get_ref() == name).map(|(k, v)| if value { v.span() } else { k.span() })
    };
    let TopologySection { kind, ids, .. } = &f.topology;
    let fallback = f.algorithm.span();
    let span = match &e {
        SetupError::Param(ParamError::Unknown { name, .. }) => param(name, false),
        SetupError::Param(ParamError::Invalid { name, .. }) => param(name, true),
        SetupError::Param(ParamError::Syntax(_)) => None,
        SetupError::Topology(_) => kind.as_ref().map(|k| k.span()).or(nodes.map(|n| n.span())),
        SetupError::Unsupported { .. } => kind.as_ref().map(|k| k.span()),
        // The parameters against the size: point at the node count, where the size is set.
        SetupError::Size(_) => nodes.map(|n| n.span()),
        SetupError::Ids(_) => f
            .check
            .as_ref()
            .and_then(|c| c.ids.as_ref())
            .filter(|_| check)
            .or(ids.as_ref())
            .map(|i| i.span())
            .or(nodes.map(|n| n.span())),
    };
    let located = Located::new(span.unwrap_or(fallback), message, "here");
    match e {
        SetupError::Ids(_) => located.help("give one identity per node (mind a --nodes override), or ids = \"random\""),
        SetupError::Unsupported { accepted, .. } => located.help(format!("set [topology] kind to one of: {accepted}")),
        _ => located,
    }
}

fn node_in_range(node: &Spanned<u32>, n: usize) -> Result<NodeId, Located> {
    if (*node.get_ref() as usize) < n {
        Ok(NodeId(*node.get_ref()))
    } else {
        Err(at(
            node,
            format!("node {} does not exist: the nodes are 0..{}", node.get_ref(), n.saturating_sub(1)),
            "no such node",
        )
        .help("nodes are positions 0..n-1 (identities are separate: see [topology] ids)"))
    }
}

fn time(t: &Spanned<f64>, what: &str) -> Result<f64, Located> {
    let v = *t.get_ref();
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(at(t, format!("{what} must be a finite number ≥ 0"), "here"))
    }
}

pub(super) fn one_of(s: &Spanned<String>, allowed: &[&str], what: &str) -> Result<String, Located> {
    if allowed.contains(&s.get_ref().as_str()) {
        Ok(s.get_ref().clone())
    } else {
        Err(at(s, format!("unknown {what} '{}'", s.get_ref()), "here")
            .help(format!("expected one of: {}", allowed.join(", "))))
    }
}

/// The property expectations, every name checked against `known`.
pub(super) fn props(
    fail: &[Spanned<String>],
    hold: &[Spanned<String>],
    others: Option<&Spanned<String>>,
    known: &[&str],
) -> Result<PropExpect, Located> {
    let check = |s: &Spanned<String>| -> Result<String, Located> {
        if known.contains(&s.get_ref().as_str()) {
            Ok(s.get_ref().clone())
        } else {
            Err(at(s, format!("unknown property '{}'", s.get_ref()), "no such property").help(format!(
                "the properties are: {}",
                known.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
            )))
        }
    };
    let fail = fail.iter().map(check).collect::<Result<Vec<_>, _>>()?;
    let hold_names = hold.iter().map(check).collect::<Result<Vec<_>, _>>()?;
    if let Some(both) = hold.iter().find(|h| fail.contains(h.get_ref())) {
        return Err(at(both, "a property cannot be expected both to hold and to fail", "also in `fail`"));
    }
    let others_hold = match others {
        Some(o) => one_of(o, &["hold", "any"], "value for `others`")? == "hold",
        None => true,
    };
    Ok(PropExpect { fail, hold: hold_names, others_hold })
}

/// The simulation the scenario describes; `nodes` overrides `[topology] nodes`.
pub fn sim_plan(f: &ScenarioFile, nodes: Option<Spanned<usize>>) -> Result<SimPlan, Located> {
    let c = common(f)?;
    let nodes = nodes.as_ref().or(f.topology.nodes.as_ref());
    let mut inputs = Vec::new();
    for i in &f.workload.inputs {
        let json = serde_json::to_value(i.input.get_ref()).map_err(|e| at(&i.input, e.to_string(), "this input"))?;
        inputs.push(json);
    }
    let channels: Vec<(u32, u32)> = f.faults.delay.iter().map(|d| (*d.from.get_ref(), *d.to.get_ref())).collect();
    let facts = probe(f, &c, nodes, &inputs, &channels, false)?;
    let n = facts.n;

    let mut given = Vec::new();
    for (k, (i, input)) in f.workload.inputs.iter().zip(inputs).enumerate() {
        let node = node_in_range(&i.node, n)?;
        if let Some((_, why)) = facts.bad_input.as_ref().filter(|(b, _)| *b == k) {
            let e = at(
                &i.input,
                format!("{} cannot read this input: {why}", c.spec.name),
                "not an input of this algorithm",
            );
            return Err(if facts.no_inputs {
                e.help(format!("{} takes no external inputs: remove [workload] inputs", c.spec.name))
            } else {
                e.help("an input is the algorithm's Input enum: a variant without fields as a string (input = \"Request\"), one with fields as a table (input = { Send = { to = 3, text = \"hi\" } })")
            });
        }
        given.push(GivenInput { at: time(&i.at, "an input's time")?, node: node.0, input });
    }

    let mut faults = Vec::new();
    for cr in &f.faults.crash {
        faults.push(Fault::Crash { node: node_in_range(&cr.node, n)?, at: time(&cr.at, "a crash's time")? });
    }
    for p in &f.faults.partition {
        let nodes = p.nodes.get_ref().iter().map(|x| node_in_range(x, n)).collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(at(&p.nodes, "a partition cuts at least one node from the others", "no nodes"));
        }
        let (from, until) = (time(&p.from, "a partition's start")?, time(&p.until, "a partition's end")?);
        if from >= until {
            return Err(at(&p.until, format!("the partition must end after it starts (from = {from})"), "too early"));
        }
        faults.push(Fault::Partition { nodes, from, until });
    }
    for (k, d) in f.faults.delay.iter().enumerate() {
        let (from, to) = (node_in_range(&d.from, n)?, node_in_range(&d.to, n)?);
        if facts.bad_channel == Some(k) {
            return Err(at(
                &d.to,
                format!("there is no channel from node {from} to node {to}"),
                "not a neighbour of `from`",
            )
            .help("a held-back message travels on a channel of the topology"));
        }
        let message = facts.kinds.iter().find(|m| m.eq_ignore_ascii_case(d.message.get_ref())).ok_or_else(|| {
            at(&d.message, format!("{} has no message type '{}'", c.spec.name, d.message.get_ref()), "no such type")
                .help(format!("its message types are: {}", facts.kinds.join(", ")))
        })?;
        let after = match &d.after {
            Some(a) => time(a, "`after`")?,
            None => 0.0,
        };
        let by = time(&d.by, "the extra delay `by`")?;
        faults.push(Fault::DelayMessage {
            from,
            to,
            message: message.to_string(),
            payload: d.payload.clone(),
            after,
            by,
        });
    }

    let net = &f.network;
    for l in &net.link {
        let (from, to) = (node_in_range(&l.from, n)?, node_in_range(&l.to, n)?);
        let delay = l
            .delay
            .get_ref()
            .parse::<Delay>()
            .map_err(|e| at(&l.delay, e.0.replace("--delay", "delay"), "this delay"))?;
        faults.push(Fault::LinkDelay { from, to, delay });
    }
    let clocks = clocks(&f.clocks, n, &c.spec)?;
    let delay = match &net.delay {
        Some(d) => d.get_ref().parse::<Delay>().map_err(|e| at(d, e.0.replace("--delay", "delay"), "this delay"))?,
        None => Delay::default(),
    };
    let probability = |p: &Option<Spanned<f64>>| -> Result<f64, Located> {
        match p {
            Some(p) if (0.0..=1.0).contains(p.get_ref()) => Ok(*p.get_ref()),
            Some(p) => Err(at(p, "a probability lies between 0 and 1", "here")),
            None => Ok(0.0),
        }
    };
    let network = NetworkModel {
        fifo: net.fifo.unwrap_or(true),
        delay,
        loss: probability(&net.loss)?,
        dup: probability(&net.dup)?,
        sync: net.sync.unwrap_or(false),
    };
    let lim = &f.limits;
    let vector_clocks = match &lim.vector_clocks {
        Some(v) => match one_of(v, &["auto", "on", "off"], "vector_clocks setting")?.as_str() {
            "on" => VectorClocks::On,
            "off" => VectorClocks::Off,
            _ => VectorClocks::Auto,
        },
        None => VectorClocks::Auto,
    };
    let max_time = match &lim.max_time {
        Some(t) => Some(time(t, "max_time")?),
        None => None,
    };

    let expect = match &f.expect {
        Some(e) => sim_expect(e, &facts)?,
        None => SimExpect {
            props: PropExpect { others_hold: true, ..PropExpect::default() },
            declared_counts: true,
            ..SimExpect::default()
        },
    };
    let config = SimConfig {
        nodes: Some(n),
        topology: c.topology,
        ids: c.ids,
        seed: c.seed,
        network,
        faults,
        params: c.params,
        max_events: lim.max_events,
        max_time,
        vector_clocks,
        stop_at_violation: !lim.keep_going,
        inputs: given,
        no_workload: f.workload.replace_workload,
        ports: Vec::new(),
        clocks,
    };
    Ok(SimPlan { algorithm: c.spec.name.to_string(), config, expect })
}

fn sim_expect(e: &super::file::ExpectSection, facts: &Facts) -> Result<SimExpect, Located> {
    let stop = match &e.stop {
        Some(s) => Some(one_of(s, STOPS, "stop reason")?),
        None => None,
    };
    let props = props(&e.fail, &e.hold, e.others.as_ref(), &facts.properties)?;
    let declared_counts = match &e.declared_counts {
        Some(d) => one_of(d, &["hold", "any"], "value for `declared_counts`")? == "hold",
        None => true,
    };
    let mut outputs = Vec::new();
    for (key, o) in &e.outputs {
        let value = scalar_text(&o.value)
            .ok_or_else(|| at(key, "an output's value is a string, a number or a boolean", "this output"))?;
        let count = o.count.unwrap_or(super::file::Count::Range { min: Some(1), max: None });
        outputs.push((key.get_ref().clone(), value, count));
    }
    let mut messages = Vec::new();
    for (key, count) in &e.messages {
        let name = key.get_ref();
        let known = COUNTERS.iter().chain(facts.kinds).find(|k| k.eq_ignore_ascii_case(name)).ok_or_else(|| {
            at(key, format!("no message type or counter '{name}'"), "unknown").help(format!(
                "expected a message type ({}) or one of: {}",
                facts.kinds.join(", "),
                COUNTERS.join(", ")
            ))
        })?;
        messages.push((known.to_string(), *count));
    }
    Ok(SimExpect { stop, props, declared_counts, outputs, messages })
}

/// `[clocks]`: the spreads, then the clocks given node by node.
fn clocks(
    c: &super::file::ClocksSection,
    n: usize,
    spec: &reparti_core::AlgorithmSpec,
) -> Result<reparti_sim::ClockConfig, Located> {
    use reparti_sim::Spread;
    let mut config = reparti_sim::ClockConfig::default();
    if !spec.reads_physical_clock {
        let why = format!("{} does not read physical clocks: this setting would do nothing", spec.name);
        let unread = match (&c.offset, &c.drift, c.node.first()) {
            (Some(s), _, _) | (None, Some(s), _) => Some(at(s, why, "not read")),
            (None, None, Some(g)) => Some(at(&g.node, why, "not read")),
            (None, None, None) => None,
        };
        if let Some(e) = unread {
            return Err(e.help("remove the [clocks] section: the algorithms that read physical clocks are listed under Time in `reparti list`"));
        }
    }
    let spread = |s: &Spanned<String>| s.get_ref().parse::<Spread>().map_err(|e| at(s, e.0, "this spread"));
    if let Some(s) = &c.offset {
        config.offset = spread(s)?;
    }
    if let Some(s) = &c.drift {
        config.drift = spread(s)?;
    }
    for g in &c.node {
        let node = node_in_range(&g.node, n)?;
        config.given.push((node.0, reparti_core::ClockSetting { offset: g.offset, drift_ppm: g.drift }));
    }
    Ok(config)
}

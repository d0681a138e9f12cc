//! `reparti sim` and `reparti check` for self-stabilizing algorithms (chapter 8).
//!
//! A guarded algorithm runs in the state-reading model: the simulator drives it with a
//! daemon from an arbitrary start, with transient faults ([`reparti_sim::stabilization`]);
//! the checker proves closure and convergence from every configuration
//! ([`reparti_check::stabilization`]). `reparti run` needs nothing here: the catalogue
//! hands it the algorithm's message-passing form (state exchange).

use crate::cli::{CheckArgs, SimArgs};
use crate::error::usage;
use crate::resolve;
use crate::stab_flags::{corruption, DaemonFlags};
use reparti_check::stabilization::{check_stabilization, Convergence, Fairness, StabCheckConfig, StabRun};
use reparti_core::guarded::{privileges, Guarded, GuardedVisitor, Move};
use reparti_core::{Daemon, Params, Topology};
use reparti_sim::stabilization::{simulate_stabilization_with, Change, Choice, StabSimConfig, StabSimReport, Start};
use std::fmt::Write as _;
use std::process::ExitCode;

/// The algorithm instance the flags describe, and a line saying what it is.
fn build<G: Guarded>(
    topology: Option<&str>,
    nodes: Option<usize>,
    param: &[String],
    seed: u64,
) -> anyhow::Result<(G, String)> {
    build_on(topology, nodes, param, seed).map(|b| (b.instance, b.what))
}

/// An instance with what it was built from, for the partitions that rebuild it.
pub(crate) struct Built<G> {
    pub instance: G,
    pub what: String,
    pub params: Params,
    pub topology: Topology,
}

pub(crate) fn build_on<G: Guarded>(
    topology: Option<&str>,
    nodes: Option<usize>,
    param: &[String],
    seed: u64,
) -> anyhow::Result<Built<G>> {
    let spec = G::spec();
    let given = resolve::params(param)?;
    let params = Params::resolve(spec.name, spec.params, &given).map_err(|e| usage(e.to_string()))?;
    let kind = match resolve::topology(topology)? {
        Some(k) => k,
        None => spec.topologies[0].parse().map_err(|e: reparti_core::TopologyError| usage(e.to_string()))?,
    };
    if !spec.topologies.contains(&kind.name()) && kind.name() != "file" {
        return Err(usage(format!(
            "{} does not run on the topology '{kind}'; it accepts: {} (use --topology)",
            spec.name,
            spec.topologies.join(", ")
        )));
    }
    let n = resolve::nodes(nodes)?.unwrap_or(spec.default_nodes);
    let topology = Topology::build(&kind, n, &mut reparti_core::rng(seed)).map_err(|e| usage(e.to_string()))?;
    let g = G::build(&params, &topology).map_err(usage)?;
    let shown: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let what = format!("{}: {} nodes, {kind}, {}", spec.name, g.n(), shown.join(" "));
    Ok(Built { instance: g, what: what.trim_end().to_string(), params, topology })
}

/// The instance changes `--partition NODES@FROM..UNTIL` makes (in steps): the nodes
/// cut off read nothing across the cut from FROM on, and the graph heals at UNTIL.
fn partitions<G: Guarded>(built: &Built<G>, given: &[String]) -> anyhow::Result<Vec<Change<G>>> {
    let mut changes = Vec::new();
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for text in given {
        let fault = reparti_sim::Fault::parse_partition(text).map_err(|e| usage(e.to_string()))?;
        let reparti_sim::Fault::Partition { nodes, from, until } = fault else { continue };
        let whole = |t: f64| (t >= 0.0 && t.fract() == 0.0).then_some(t as u64);
        let (Some(from), Some(until)) = (whole(from), whole(until)) else {
            return Err(usage(format!("--partition '{text}': give whole step numbers, e.g. 1,2@20..80")));
        };
        if spans.iter().any(|&(a, b)| from < b && a < until) {
            return Err(usage(format!("--partition '{text}' overlaps another: give one partition at a time")));
        }
        spans.push((from, until));
        let n = built.topology.len();
        if let Some(bad) = nodes.iter().find(|v| v.index() >= n) {
            return Err(usage(format!("--partition '{text}': there is no node {bad} among {n}")));
        }
        let cut: std::collections::BTreeSet<usize> = nodes.iter().map(|v| v.index()).collect();
        let edges: Vec<String> = built
            .topology
            .channels()
            .filter(|(a, b)| cut.contains(&a.index()) == cut.contains(&b.index()))
            .map(|(a, b)| format!("{} -> {}", a.index(), b.index()))
            .collect();
        let topology = Topology::from_edge_list(&edges.join("\n"), n).map_err(usage)?;
        let instance = G::build(&built.params, &topology).map_err(|e| {
            usage(format!(
                "--partition '{text}': {} cannot run on the cut graph ({e}); partitions apply to graph algorithms \
                 such as ss-bfs-tree",
                G::spec().name
            ))
        })?;
        if instance == built.instance {
            return Err(usage(format!(
                "--partition: {} reads fixed neighbours, not the topology's edges, so a cut changes nothing; \
                 partitions apply to graph algorithms such as ss-bfs-tree",
                G::spec().name
            )));
        }
        let names: Vec<String> = nodes.iter().map(|v| v.to_string()).collect();
        changes.push(Change { at_step: from, instance, label: format!("partition {}", names.join(",")) });
        changes.push(Change { at_step: until, instance: built.instance.clone(), label: "heal".into() });
    }
    Ok(changes)
}

pub(crate) fn daemon(flags: &DaemonFlags) -> anyhow::Result<Daemon> {
    flags
        .daemon
        .as_deref()
        .map_or(Ok(Daemon::Central), |d| Daemon::parse(d).map_err(|e| usage(format!("--daemon: {e}"))))
}

/// A configuration, one state per node.
fn shown<S: serde::Serialize>(config: &[S]) -> String {
    let parts: Vec<String> = config.iter().map(|s| serde_json::to_string(s).unwrap_or_else(|_| "?".into())).collect();
    format!("[{}]", parts.join(" "))
}

fn moves_text<G: Guarded>(moves: &[Move]) -> String {
    let names = G::rule_names();
    let parts: Vec<String> =
        moves.iter().map(|m| format!("{} ({})", m.node, names.get(m.rule as usize).copied().unwrap_or("?"))).collect();
    format!(
        "node{} {} move{}",
        if moves.len() > 1 { "s" } else { "" },
        parts.join(", "),
        if moves.len() > 1 { "" } else { "s" }
    )
}

/// A run of configurations, one line each, with the moves between them.
fn run_text<G: Guarded>(g: &G, run: &StabRun<G::State>) -> String {
    let mut out = String::new();
    for (k, config) in run.configs.iter().enumerate() {
        let legit = if g.legitimate(config) { "  in L" } else { "" };
        let _ = writeln!(out, "  {:>3}  {}  ({} privileges){legit}", k, shown(config), privileges(g, config));
        if let Some(moves) = run.steps.get(k) {
            let _ = writeln!(out, "       ↓ {}", moves_text::<G>(moves));
        }
    }
    out
}

/// `reparti sim` of a guarded algorithm.
pub fn sim(name: &str, args: &SimArgs) -> anyhow::Result<ExitCode> {
    refuse_network_flags(args)?;
    reparti_algos::visit_guarded(name, Sim { args })
        .unwrap_or_else(|| Err(usage(format!("unknown self-stabilizing algorithm '{name}'"))))
}

fn refuse_network_flags(args: &SimArgs) -> anyhow::Result<()> {
    let given = [
        ("--loss", args.loss > 0.0),
        ("--dup", args.dup > 0.0),
        ("--no-fifo", args.no_fifo),
        ("--fifo-layer", args.fifo_layer),
        ("--delay", args.delay != "const:1"),
        ("--sync", args.sync),
        ("--crash", !args.crash.is_empty()),
        ("--link-delay", !args.link_delay.is_empty()),
        ("--history", args.history.is_some()),
        ("--replay", args.replay.is_some()),
        ("--runs", args.runs > 1),
        ("--max-time", args.max_time.is_some()),
    ];
    match given.iter().find(|(_, on)| *on) {
        Some((flag, _)) => Err(usage(format!(
            "{flag} is for message-passing runs; a self-stabilizing algorithm is simulated in the state-reading \
             model (--daemon, --start, --corrupt K@T, --max-events STEPS); its message-passing form runs with `reparti run`"
        ))),
        None => Ok(()),
    }
}

struct Sim<'a> {
    args: &'a SimArgs,
}

impl GuardedVisitor for Sim<'_> {
    type Output = anyhow::Result<ExitCode>;
    fn visit<G: Guarded>(self) -> anyhow::Result<ExitCode> {
        let args = self.args;
        let built = build_on::<G>(args.topology.as_deref(), args.nodes, &args.param, args.seed)?;
        let changes = partitions(&built, &args.partition)?;
        let (g, what) = (built.instance, built.what);
        let flags = &args.stab;
        let choice = flags
            .daemon
            .choice
            .as_deref()
            .map_or(Ok(Choice::Random), |c| Choice::parse(c).map_err(|e| usage(format!("--choice: {e}"))))?;
        let start = match flags.start.as_deref().unwrap_or("random") {
            "random" => Start::Random,
            "legitimate" => Start::Legitimate,
            given => {
                // A file holding the configuration, or the configuration itself.
                let json = if std::path::Path::new(given).is_file() {
                    std::fs::read_to_string(given)
                        .map_err(|e| usage(format!("--start: cannot read {given} ({e}); give a readable file")))?
                } else {
                    given.to_string()
                };
                let json = json.trim();
                let config: Vec<G::State> = serde_json::from_str(json).map_err(|e| {
                    usage(format!("--start: '{json}' is not a configuration ({e}); give random, legitimate or a JSON list of {} states", g.n()))
                })?;
                if config.len() != g.n() {
                    return Err(usage(format!("--start: {} states given for {} nodes", config.len(), g.n())));
                }
                for (i, s) in config.iter().enumerate() {
                    if !g.domain(reparti_core::NodeId(i as u32)).contains(s) {
                        return Err(usage(format!(
                            "--start: node {i}'s state {} is not one it can hold",
                            shown(std::slice::from_ref(s))
                        )));
                    }
                }
                Start::Given(config)
            }
        };
        let corruptions = flags.corrupt.iter().map(|c| corruption(c)).collect::<Result<Vec<_>, _>>().map_err(usage)?;
        let cfg = StabSimConfig {
            seed: args.seed,
            daemon: daemon(&flags.daemon)?,
            choice,
            start,
            corruptions,
            max_steps: args.max_events,
            patience: 10_000_000,
            record_values: args.viz.is_some() || args.plot.is_some() || args.trace.is_some(),
        };
        let report = simulate_stabilization_with(&g, &cfg, changes);
        crate::stab_output::pictures(&g, &what, &cfg, &report, args)?;
        let ok = report.closure_violation.is_none() && report.episodes.iter().all(|e| e.to_legitimate.is_some());
        if args.json {
            let mut value = serde_json::to_value(&report)?;
            if let Some(obj) = value.as_object_mut() {
                obj.remove("records");
                obj.insert("algorithm".into(), G::spec().name.into());
                obj.insert("daemon".into(), cfg.daemon.to_string().into());
                obj.insert("choice".into(), serde_json::to_value(cfg.choice)?);
                obj.insert("holds".into(), ok.into());
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            print!("{}", sim_text(&g, &what, &cfg, &report));
        }
        Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
    }
}

fn sim_text<G: Guarded>(g: &G, what: &str, cfg: &StabSimConfig<G::State>, r: &StabSimReport<G::State>) -> String {
    let mut out = String::new();
    let choice = serde_json::to_value(cfg.choice).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let _ = writeln!(out, "{what}; {} daemon, {choice} choice, seed {}", cfg.daemon, cfg.seed);
    let small = g.n() <= 24;
    for e in &r.episodes {
        let _ = write!(out, "{} at step {}: {} privileges", e.cause, e.step, e.privileges);
        match &e.to_legitimate {
            Some(t) if t.moves == 0 => out.push_str(", already legitimate\n"),
            Some(t) => {
                let _ = writeln!(out, "\n  L reached after {} moves, {} steps, {} rounds", t.moves, t.steps, t.rounds);
            }
            None => out.push_str("\n  L NOT reached\n"),
        }
    }
    if small {
        let _ = writeln!(out, "start   {}", shown(&r.initial));
        let _ = writeln!(out, "last    {}", shown(&r.last));
    }
    match &r.closure_violation {
        None if r.steps_in_l == 0 && r.silent => {
            out.push_str("closure: nothing moves once in L (a silent algorithm)\n");
        }
        None => {
            let _ = writeln!(out, "closure held on all {} steps taken from legitimate configurations", r.steps_in_l);
        }
        Some(v) => {
            let _ = writeln!(
                out,
                "CLOSURE VIOLATED at step {}: {} → out of L\n  from {}\n  to   {}",
                v.step,
                moves_text::<G>(&v.moves),
                shown(&v.before),
                shown(&v.after)
            );
        }
    }
    let rest = if r.silent { " (silent: nothing privileged)" } else { "" };
    let _ = writeln!(out, "ran {} steps, {} moves{rest}", r.steps, r.moves);
    out
}

/// `reparti check` of a guarded algorithm.
pub fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let given = [
        ("--network", args.network.is_some()),
        ("--max-crashes", args.max_crashes > 0),
        ("--por", args.por),
        ("--symmetry", args.symmetry),
        ("--history", args.history.is_some()),
        ("--trace-out", args.trace_out.is_some()),
        ("--viz", args.viz.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, on)| *on) {
        return Err(usage(format!(
            "{flag} is for message-passing algorithms; a self-stabilizing one is checked from every configuration \
             of the state-reading model (--daemon, --choice unfair|fair, --max-states)"
        )));
    }
    reparti_algos::visit_guarded(&args.algorithm, Check { args })
        .unwrap_or_else(|| Err(usage(format!("unknown self-stabilizing algorithm '{}'", args.algorithm))))
}

struct Check<'a> {
    args: &'a CheckArgs,
}

impl GuardedVisitor for Check<'_> {
    type Output = anyhow::Result<ExitCode>;
    fn visit<G: Guarded>(self) -> anyhow::Result<ExitCode> {
        let args = self.args;
        let (g, what) = build::<G>(args.topology.as_deref(), Some(args.nodes), &args.param, args.seed)?;
        let fairness = match args.daemon.choice.as_deref() {
            None | Some("unfair") => Fairness::Unfair,
            Some("fair") | Some("weak") => Fairness::Weak,
            Some(other) => {
                return Err(usage(format!(
                    "--choice {other}: the checker takes unfair (every choice) or fair (weak fairness); \
                     random choices are the simulator's"
                )))
            }
        };
        let cfg = StabCheckConfig {
            daemon: daemon(&args.daemon)?,
            fairness,
            max_configurations: args.max_states.unwrap_or(50_000_000),
        };
        let report = check_stabilization(&g, &cfg).map_err(usage)?;
        if args.json {
            let mut value = serde_json::to_value(&report)?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert("algorithm".into(), G::spec().name.into());
                obj.insert("daemon".into(), cfg.daemon.to_string().into());
                obj.insert("fairness".into(), serde_json::to_value(cfg.fairness)?);
                obj.insert("holds".into(), report.holds().into());
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            print!("{}", check_text(&g, &what, &cfg, &report));
        }
        Ok(if report.holds() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    }
}

fn check_text<G: Guarded>(
    g: &G,
    what: &str,
    cfg: &StabCheckConfig,
    r: &reparti_check::stabilization::StabCheckReport<G::State>,
) -> String {
    let mut out = String::new();
    let fair = if cfg.fairness == Fairness::Weak { "weakly fair" } else { "unfair" };
    let _ = writeln!(out, "{what}; {} daemon, {fair}", cfg.daemon);
    let _ = writeln!(
        out,
        "every configuration explored: {} ({} legitimate), {} transitions, {:.2} s",
        crate::summary::thousands(r.configurations),
        crate::summary::thousands(r.legitimate),
        crate::summary::thousands(r.transitions),
        r.seconds
    );
    match &r.closure {
        None => out.push_str("closure: holds (no step leaves L)\n"),
        Some(run) => {
            let _ = write!(out, "closure: VIOLATED — a step out of L:\n{}", run_text(g, run));
        }
    }
    match &r.deadlock {
        None => out.push_str("deadlock: none (outside L some node is always privileged)\n"),
        Some(c) => {
            let _ = writeln!(out, "deadlock: VIOLATED — nothing can move in {}, which is not in L", shown(c));
        }
    }
    match &r.convergence {
        Convergence::Holds { worst_moves, worst_steps, worst_run } => {
            let _ = writeln!(
                out,
                "convergence: holds from every configuration; worst case {worst_moves} moves ({worst_steps} steps) to L"
            );
            if worst_run.steps.len() <= 60 && *worst_moves > 0 {
                let _ = write!(out, "a worst run:\n{}", run_text(g, worst_run));
            }
        }
        Convergence::HoldsFairly { unfair_cycle } => {
            let _ = write!(
                out,
                "convergence: holds under weak fairness; an unfair daemon can loop outside L forever, e.g.:\n{}",
                run_text(g, unfair_cycle)
            );
        }
        Convergence::Fails { cycle, shortest } => {
            let which = if *shortest { "the shortest" } else { "a" };
            let _ = write!(
                out,
                "convergence: VIOLATED — {which} run that never reaches L, a cycle of {} steps outside L:\n{}",
                cycle.steps.len(),
                run_text(g, cycle)
            );
        }
    }
    match &r.unfair_in_l {
        None => out.push_str("fairness in L: every node is privileged on every cycle of L\n"),
        Some((node, c)) => {
            let _ = writeln!(
                out,
                "fairness in L: VIOLATED — node {node} is never privileged once in L, e.g. from {}",
                shown(c)
            );
        }
    }
    out
}

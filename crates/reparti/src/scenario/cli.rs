//! The command-line side of scenarios: which flags may override a scenario, running
//! `reparti sim FILE`, and preparing `reparti check FILE` for `check::run`.
//!
//! A scenario is the experiment, so flags that would change the experiment itself
//! (topology, identities, network, faults, parameters) are refused with a message
//! saying where to set them; flags that only change how it is run or shown (seed,
//! nodes, limits, output) override it. `run` only sees the flags' values, so which
//! flags were typed is read again from the process's arguments (clap's value source);
//! failing that, a flag that differs from its default counts as typed.

use super::expect::{self, CheckExpect, Outcome};
use super::load::Scenario;
use super::{plan, plan_check};
use crate::cli::{CheckArgs, Cli, Command, SimArgs, VectorChoice};
use crate::error::usage;
use crate::resolve;
use clap::parser::ValueSource;
use clap::{CommandFactory, Parser};
use reparti_check::{CheckConfig, CheckReport};
use reparti_sim::{Report, VectorClocks};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use toml::Spanned;

/// The defaults clap gives `sim`/`check` flags, to tell which ones were changed.
fn defaults(command: &str) -> anyhow::Result<Command> {
    Cli::try_parse_from(["reparti", command, "x.toml"])
        .map(|c| c.command)
        .map_err(|e| anyhow::anyhow!("cannot read the default flags: {e}"))
}

/// Which flags of `command` were typed on the command line.
struct Typed(Option<Vec<String>>);

impl Typed {
    fn read(command: &str) -> Typed {
        let typed = Cli::command().try_get_matches_from(std::env::args_os()).ok().and_then(|m| {
            let sub = m.subcommand_matches(command)?;
            let ids = sub.ids().map(|id| id.as_str().to_string());
            Some(ids.filter(|id| sub.value_source(id) == Some(ValueSource::CommandLine)).collect())
        });
        Typed(typed)
    }

    /// Whether flag `id` (clap's name: the field's) was typed; `differs` says whether
    /// its value differs from the default, used when the arguments cannot be read again.
    fn has(&self, id: &str, differs: bool) -> bool {
        match &self.0 {
            Some(ids) => ids.iter().any(|x| x == id),
            None => differs,
        }
    }
}

fn refuse(changed: &[(&str, bool)], may: &str) -> anyhow::Result<()> {
    let given: Vec<&str> = changed.iter().filter(|(_, c)| *c).map(|(f, _)| *f).collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(usage(format!(
        "{} cannot be combined with a scenario file: set it in the scenario instead (docs/SCENARIOS.md); flags that may override a scenario: {may}",
        given.join(", ")
    )))
}

/// Says so on stderr, in one line, when a scenario chose channels that may reorder for
/// an algorithm that assumes FIFO ones (as `--no-fifo` and `--network` do).
fn fifo_note(algorithm: &str, fifo: bool, choice: &str) {
    let note = reparti_algos::find(algorithm).and_then(|spec| resolve::fifo_note(&spec, fifo, choice));
    if let Some(note) = note {
        eprintln!("{note}");
    }
}

fn nodes_override(f: &Scenario, n: Option<usize>) -> anyhow::Result<Option<Spanned<usize>>> {
    match n {
        Some(0) => Err(usage("--nodes must be at least 1")),
        // An overriding count has no place in the file: errors it causes point at the algorithm.
        Some(n) => Ok(Some(Spanned::new(f.file.algorithm.span(), n))),
        None => Ok(None),
    }
}

/// What `--json` prints for a scenario: the usual report, plus the expectations.
#[derive(Serialize)]
struct WithExpectations<'a, R: Serialize> {
    #[serde(flatten)]
    report: &'a R,
    scenario: &'a str,
    expectations: &'a [Outcome],
    expectations_met: bool,
}

fn print_json<R: Serialize>(report: &R, path: &str, outcomes: &[Outcome]) -> anyhow::Result<()> {
    let out = WithExpectations {
        report,
        scenario: path,
        expectations: outcomes,
        expectations_met: expect::all_met(outcomes),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn exit(outcomes: &[Outcome]) -> ExitCode {
    if expect::all_met(outcomes) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `reparti sim FILE.toml`.
pub fn run_sim(path: &Path, args: &SimArgs) -> anyhow::Result<ExitCode> {
    let Command::Sim(d) = defaults("sim")? else { return Err(anyhow::anyhow!("clap parsed `sim` as another command")) };
    let t = Typed::read("sim");
    refuse(
        &[
            ("--replay", args.replay.is_some()),
            ("--topology", t.has("topology", args.topology != d.topology)),
            ("--ids", t.has("ids", args.ids != d.ids)),
            ("--fifo/--no-fifo", t.has("fifo", args.fifo != d.fifo) || t.has("no_fifo", args.no_fifo != d.no_fifo)),
            ("--delay", t.has("delay", args.delay != d.delay)),
            ("--loss", t.has("loss", args.loss != d.loss)),
            ("--dup", t.has("dup", args.dup != d.dup)),
            ("--sync", t.has("sync", args.sync != d.sync)),
            ("--crash", !args.crash.is_empty()),
            ("--partition", !args.partition.is_empty()),
            ("--link-delay", !args.link_delay.is_empty()),
            ("--clock-offset/--clock-drift/--clock", args.clocks.any()),
            ("--param", !args.param.is_empty()),
            ("--runs", t.has("runs", args.runs != d.runs)),
        ],
        "--seed, --nodes, --max-events, --max-time, --vector-clocks, --keep-going, --trace, --history, --viz, --plot, --json, --no-progress, --max-memory",
    )?;
    let s = Scenario::load(path)?;
    let plan = plan::sim_plan(&s.file, nodes_override(&s, args.nodes)?).map_err(|e| s.error(&e))?;
    let mut cfg = plan.config;
    if s.file.network.fifo == Some(false) {
        fifo_note(&plan.algorithm, false, "`fifo = false`");
    }
    if t.has("seed", args.seed != d.seed) {
        cfg.seed = args.seed;
    }
    cfg.max_events = args.max_events.or(cfg.max_events);
    cfg.max_time = args.max_time.or(cfg.max_time);
    cfg.vector_clocks = match args.vector_clocks {
        VectorChoice::Auto => cfg.vector_clocks,
        VectorChoice::On => VectorClocks::On,
        VectorChoice::Off => VectorClocks::Off,
    };
    cfg.stop_at_violation &= !args.keep_going;
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let room = crate::simulate::memory::Room::resolve(args.max_memory);
    let reads_physical_clock = reparti_algos::find(&plan.algorithm).is_some_and(|spec| spec.reads_physical_clock);
    crate::viz::check_skew_plot(args.plot.as_deref(), reads_physical_clock, &plan.algorithm, 1)?;
    let report: Report = crate::history_file::with_history(args.trace.clone(), args.history.as_deref(), |trace| {
        crate::viz::with_skew_plot(trace, args.plot.as_deref(), |trace| {
            crate::simulate::simulate_and_draw(&plan.algorithm, cfg, trace, args.viz.as_deref(), progress, room)
        })
    })?;
    let outcomes = expect::judge_sim(&plan.expect, &report);
    if args.json {
        print_json(&report, &s.path, &outcomes)?;
    } else {
        print!("{}", crate::summary::render(&report));
        if let Some(p) = &args.trace {
            println!("trace written to {}", p.display());
        }
        print!("{}", expect::render(&s.path, s.file.description.as_deref(), &outcomes, &[]));
    }
    Ok(exit(&outcomes))
}

/// A scenario prepared for `reparti check`.
pub struct CheckScenario {
    /// The file, as given.
    pub path: String,
    /// The algorithm's catalogue name.
    pub algorithm: String,
    /// The check to run (command-line overrides applied).
    pub config: CheckConfig,
    description: Option<String>,
    expect: CheckExpect,
    notes: Vec<String>,
}

impl CheckScenario {
    /// The "expectations" section for the human summary.
    pub fn render(&self, report: &CheckReport) -> String {
        let outcomes = expect::judge_check(&self.expect, report);
        expect::render(&self.path, self.description.as_deref(), &outcomes, &self.notes)
    }

    /// The JSON report with the expectations added.
    pub fn print_json(&self, report: &CheckReport) -> anyhow::Result<()> {
        print_json(report, &self.path, &expect::judge_check(&self.expect, report))
    }

    /// 0 when every expectation was met, else 1.
    pub fn exit_code(&self, report: &CheckReport) -> ExitCode {
        exit(&expect::judge_check(&self.expect, report))
    }
}

/// `reparti check FILE.toml`: the scenario's check, or `None` when `args` names an
/// algorithm rather than a scenario file.
pub fn for_check(args: &CheckArgs) -> anyhow::Result<Option<CheckScenario>> {
    let Some(path) = resolve::scenario_path(&args.algorithm) else { return Ok(None) };
    let Command::Check(d) = defaults("check")? else {
        return Err(anyhow::anyhow!("clap parsed `check` as another command"));
    };
    let t = Typed::read("check");
    refuse(
        &[
            ("--topology", t.has("topology", args.topology != d.topology)),
            ("--ids", t.has("ids", args.ids != d.ids)),
            ("--network", t.has("network", args.network != d.network)),
            ("--max-drops", t.has("max_drops", args.max_drops != d.max_drops)),
            ("--max-dups", t.has("max_dups", args.max_dups != d.max_dups)),
            ("--max-crashes", t.has("max_crashes", args.max_crashes != d.max_crashes)),
            ("--strategy", t.has("strategy", args.strategy != d.strategy)),
            ("--walks", t.has("walks", args.walks != d.walks)),
            ("--depth", t.has("depth", args.depth != d.depth)),
            ("--param", !args.param.is_empty()),
        ],
        "--nodes, --seed, --threads, --max-depth, --max-states, --max-seconds, --por, --symmetry, --wide, --bitstate, --hash-functions, --hash-seed, --search-seed, --no-liveness, --liveness-limit, --compare-reductions, --trace, --history, --viz, --json, --no-progress",
    )?;
    let s = Scenario::load(&path)?;
    let nodes = t.has("nodes", args.nodes != d.nodes).then_some(args.nodes);
    let plan = plan_check::check_plan(&s.file, nodes_override(&s, nodes)?).map_err(|e| s.error(&e))?;
    let mut cfg = plan.config;
    if let Some(network) = s.file.check.as_ref().and_then(|c| c.network.as_ref()) {
        let choice = format!("`network = \"{}\"`", network.get_ref());
        fifo_note(&plan.algorithm, cfg.network == reparti_check::NetworkKind::Fifo, &choice);
    }
    if t.has("seed", args.seed != d.seed) {
        cfg.seed = args.seed;
    }
    if t.has("threads", args.threads != d.threads) {
        cfg.threads = args.threads.max(1);
    }
    cfg.max_depth = args.max_depth.or(cfg.max_depth);
    cfg.max_states = args.max_states.or(cfg.max_states);
    cfg.max_seconds = args.max_seconds.or(cfg.max_seconds);
    cfg.por |= args.por;
    cfg.symmetry |= args.symmetry;
    cfg.wide_fingerprints |= args.wide;
    cfg.bitstate = crate::check::bitstate_of(args, cfg.bitstate)?;
    cfg.search_seed = args.search_seed.or(cfg.search_seed);
    cfg.liveness &= !args.no_liveness;
    if t.has("liveness_limit", args.liveness_limit != d.liveness_limit) {
        cfg.liveness_limit = args.liveness_limit;
    }
    Ok(Some(CheckScenario {
        path: s.path,
        algorithm: plan.algorithm,
        config: cfg,
        description: s.file.description,
        expect: plan.expect,
        notes: plan.notes,
    }))
}

//! `reparti swarm`: swarm verification, SPIN's answer to a state space too large for one
//! exhaustive search. Instead of one search that cannot finish, K small and different
//! ones: depth-first searches each trying successors in its own shuffled order, random
//! walks each with its own seed, all over bitstate arrays with different hash seeds and
//! bit counts, so that each misses different states. Each is one `reparti check` job in
//! the job-directory format of `reparti sweep` ([`crate::sweep::jobs`]), so GNU parallel,
//! a Slurm array or a Kubernetes indexed Job runs them unchanged; `swarm merge` reports
//! the first counterexample found, the shortest, and what the members covered together.

pub mod merge;

use crate::error::usage;
use crate::sweep::jobs::{write_job_dir, Job};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SwarmArgs {
    #[command(subcommand)]
    pub command: SwarmCommand,
}

#[derive(Subcommand, Debug)]
pub enum SwarmCommand {
    /// Write K diversified searches of one instance as a job directory (the format of
    /// `reparti sweep plan`): shuffled depth-first searches and random walks over
    /// bitstate arrays with different hash seeds.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(SwarmPlanArgs),
    /// Read a swarm's results: each member's figures, the first counterexample found,
    /// the shortest, and the states covered together.
    Merge(SwarmMergeArgs),
}

const PLAN_EXAMPLES: &str = "\
Examples:
  reparti swarm plan suzuki-kasami -k 8 --bitstate 256M --max-seconds 60 -o sw -- -n 6 -p fixed=false
      8 searches of one instance (the words after -- are `reparti check` flags: the
      instance, the network, its faults); odd members search depth-first in a shuffled
      order, even members take random walks, each with its own search and hash seed
  sh sw/run-parallel.sh            (or sbatch sw/slurm.sbatch, kubectl apply -f sw/k8s-job.yaml)
  reparti swarm merge sw           the first counterexample, the shortest, the coverage
The exit status of merge: 1 when a member found a counterexample, 3 when none did but a
member's result is missing, 0 otherwise. No verdict of a swarm is a proof: a bitstate
search is partial; run `reparti check` without --bitstate for that.";

#[derive(Args, Debug)]
pub struct SwarmPlanArgs {
    /// The algorithm every member checks (see `reparti list`).
    pub algorithm: String,

    /// The job directory to write (refused if it exists and is not empty, unless --force).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// How many searches.
    #[arg(short = 'k', long, default_value_t = 8)]
    pub members: u32,

    /// Each member's bit array, e.g. 64M or 1G (a member needs little else: its DFS
    /// stack or its one walk).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = reparti_check::memory::parse_size)]
    pub bitstate: u64,

    /// Each member's time limit, in seconds (a member that finds nothing stops there).
    #[arg(long, default_value_t = 60.0)]
    pub max_seconds: f64,

    /// Random walks a walking member takes at most.
    #[arg(long, default_value_t = 1_000_000_000)]
    pub walks: u64,

    /// Steps per random walk at most.
    #[arg(long, default_value_t = 10_000)]
    pub depth: u64,

    /// The first member's seeds; member i uses first + i − 1 (another range of seeds
    /// gives another swarm).
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,

    /// The reparti the jobs run [default: this one], e.g. where a cluster installed it.
    #[arg(long, value_name = "PATH")]
    pub reparti: Option<PathBuf>,

    /// Replace the jobs and results of a non-empty DIR.
    #[arg(long)]
    pub force: bool,

    /// `reparti check` flags for every member, after `--`: the instance (-n, -p, --ids,
    /// --network, faults), never the search's (--strategy, --bitstate, seeds: the swarm sets those).
    #[arg(last = true, value_name = "CHECK FLAGS")]
    pub check: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SwarmMergeArgs {
    /// The job directory `swarm plan` wrote.
    pub dir: PathBuf,

    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// The flags each member sets itself, refused among the pass-through ones.
const SET_BY_THE_SWARM: &[&str] = &[
    "--strategy",
    "--bitstate",
    "--hash-seed",
    "--hash-functions",
    "--search-seed",
    "--walks",
    "--depth",
    "--json",
    "--max-seconds",
    "--threads",
];

pub fn run(args: &SwarmArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        SwarmCommand::Plan(a) => plan(a),
        SwarmCommand::Merge(a) => merge::run(a),
    }
}

/// The members' jobs: member i (1-based) searches depth-first when i is odd and walks
/// when it is even, with search seed and hash seed `first_seed + i − 1`, and 3, 2 or 4
/// bits per state in turn (two members with the same bits and seeds would miss the same
/// states).
pub fn members(a: &SwarmPlanArgs, program: &str) -> Vec<Job> {
    (1..=u64::from(a.members))
        .map(|i| {
            let seed = a.first_seed + i - 1;
            let hash_functions = [3u32, 2, 4][((i - 1) % 3) as usize];
            let walking = i % 2 == 0;
            let mut command = vec![program.to_string(), "check".into(), a.algorithm.clone()];
            command.extend(a.check.iter().cloned());
            command.extend(["--strategy".into(), if walking { "random" } else { "dfs" }.into()]);
            if walking {
                command.extend(["--walks".into(), a.walks.to_string(), "--depth".into(), a.depth.to_string()]);
            }
            command.extend([
                "--search-seed".into(),
                seed.to_string(),
                "--bitstate".into(),
                a.bitstate.to_string(),
                "--hash-seed".into(),
                seed.to_string(),
                "--hash-functions".into(),
                hash_functions.to_string(),
                "--max-seconds".into(),
                a.max_seconds.to_string(),
                "--no-liveness".into(),
                "--no-progress".into(),
                "--json".into(),
            ]);
            let params = vec![
                ("member".to_string(), Value::from(i)),
                ("strategy".to_string(), Value::from(if walking { "random" } else { "dfs" })),
                ("search_seed".to_string(), Value::from(seed)),
                ("hash_seed".to_string(), Value::from(seed)),
                ("hash_functions".to_string(), Value::from(hash_functions)),
                ("bitstate_bytes".to_string(), Value::from(a.bitstate)),
            ];
            Job { command, params }
        })
        .collect()
}

fn plan(a: &SwarmPlanArgs) -> anyhow::Result<ExitCode> {
    if a.members == 0 {
        return Err(usage("-k 0 makes no swarm: give at least one member (8 is a good start)"));
    }
    if a.max_seconds.is_nan() || a.max_seconds <= 0.0 {
        return Err(usage("--max-seconds must be above 0: every member needs a time limit"));
    }
    if let Some(flag) = a.check.iter().find(|w| SET_BY_THE_SWARM.iter().any(|s| w.split('=').next() == Some(*s))) {
        return Err(usage(format!(
            "{flag} is the swarm's to set, member by member; drop it from the flags after -- (see reparti swarm plan --help)"
        )));
    }
    // The instance is checked here, once, by the parser every member will use: a typo
    // after -- is refused now, not K times on a cluster.
    let mut words = vec!["reparti".to_string(), "check".into(), a.algorithm.clone()];
    words.extend(a.check.iter().cloned());
    crate::resolve::algorithm(&a.algorithm)?;
    if let Err(e) = <crate::cli::Cli as clap::Parser>::try_parse_from(&words) {
        let first = e.to_string().lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
        return Err(usage(format!("the flags after -- are not `reparti check`'s: {first}")));
    }
    let program = match &a.reparti {
        Some(p) => p.to_string_lossy().into_owned(),
        None => {
            std::env::current_exe().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "reparti".to_string())
        }
    };
    let jobs = members(a, &program);
    let written = write_job_dir(&a.output, &jobs, a.force)?;
    println!(
        "{} searches of {} written to {} ({} each, at most {} s each)",
        written.jobs,
        a.algorithm,
        written.dir.display(),
        reparti_check::memory::human_bytes(a.bitstate),
        a.max_seconds
    );
    let d = written.dir.display();
    println!("run them:  sh {d}/run-parallel.sh   |   sbatch {d}/slurm.sbatch   |   kubectl apply -f {d}/k8s-job.yaml");
    println!("then:      reparti swarm merge {d}");
    Ok(ExitCode::SUCCESS)
}

//! `reparti sweep`: a parameter grid of `reparti sim` or `reparti check` runs written as a
//! job directory that GNU parallel, a Slurm job array or a Kubernetes indexed Job run
//! unchanged (`sweep plan`), and the results put back into one CSV (`sweep merge`).
//!
//! The grid is expanded here ([`plan`]); the directory is written by [`jobs`], which
//! other job producers reuse; [`merge`] reads it back, and [`plot`] draws the merged rows.

pub mod grid;
pub mod jobs;
pub mod merge;
pub mod plot;
pub mod read;

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub command: SweepCommand,
}

#[derive(Subcommand, Debug)]
pub enum SweepCommand {
    /// Write a grid of runs as a job directory: jobs.txt (one sh command a line), grid.json
    /// (each job's parameters), and ready scripts for GNU parallel, Slurm and Kubernetes.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Gather a job directory's results (DIR/grid.json and DIR/results/NNNNN.json) into one
    /// CSV: one row per job, its grid columns then its result's figures.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
}

const PLAN_EXAMPLES: &str = "\
Examples:
  reparti sweep plan sim chang-roberts,franklin -n 4,8,16 --seeds 1..10 -o sw
      60 simulations: every algorithm × size × seed (seed varies fastest)
  reparti sweep plan sim chang-roberts -n 8 --net const:1 --net 'uniform:1,10 --no-fifo' -o sw
      a network axis: each --net is --delay's value, then any sim flags, as one label
  reparti sweep plan check chang-roberts -n 3..5 --net fifo --net unordered -o sw -- --por
      for check, a --net value is --network's (fifo, unordered, lossy, duplicating);
      the words after -- go to every job (here --por)
Ranges: 1..10 is every whole number from 1 to 10; 4..64:x2 doubles (4,8,16,32,64);
  0..100:25 steps by 25; lists mix them: 3,4,8..16:x2.
Then run the jobs one of three ways, and merge:
  sh sw/run-parallel.sh          (GNU parallel, one job per core; JOBS=2 for two at once)
  sbatch sw/slurm.sbatch         (a Slurm job array, task K runs line K of jobs.txt)
  kubectl apply -f sw/k8s-job.yaml   (an indexed Job: set its image and volume first)
  reparti sweep merge sw -o sw.csv";

const MERGE_EXAMPLES: &str = "\
Examples:
  reparti sweep merge sw                 the CSV on stdout, the summary on stderr
  reparti sweep merge sw -o sw.csv       the CSV in sw.csv, the summary on stdout
  reparti sweep merge sw -o sw.csv --plot sw.svg
      also a plot: messages (sim) or unique_states (check) by n, one series per
      algorithm × network, each point the mean over seeds with a min–max bar
  reparti sweep merge sw -o sw.csv --plot time.svg --y time
      another figure on y: any numeric column of the CSV
A job that has not run yet, or failed before writing its JSON, is named in a warning and
left out; merge again once it has run.";

/// The engine each job runs.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Engine {
    /// `reparti sim`: one seeded simulated run per job.
    Sim,
    /// `reparti check`: one model check per job.
    Check,
}

impl Engine {
    pub fn word(self) -> &'static str {
        match self {
            Engine::Sim => "sim",
            Engine::Check => "check",
        }
    }
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The engine every job runs: sim or check.
    #[arg(value_enum)]
    pub engine: Engine,

    /// The algorithms, comma-separated (see `reparti list`): chang-roberts,franklin.
    #[arg(value_name = "ALGORITHMS")]
    pub algorithms: String,

    /// Node counts: a list and/or ranges, 4,8,16 or 3..6 or 4..64:x2 [default: each
    /// algorithm's default size for sim, 4 for check].
    #[arg(short, long)]
    pub nodes: Option<String>,

    /// Seeds: 1..10, or a list 1,7,42.
    #[arg(long, default_value = "1", value_name = "SEEDS")]
    pub seeds: String,

    /// A network, one per value of the axis: for sim, a delay (const:1, uniform:1,10,
    /// exp:2) then any sim flags ("uniform:1,10 --no-fifo --loss 0.1"); for check, a
    /// channel model (fifo, unordered, lossy, duplicating) then any check flags ("lossy
    /// --max-drops 2"). Repeatable [default: the engine's own default network].
    #[arg(long = "net", value_name = "NETWORK")]
    pub nets: Vec<String>,

    /// Where to write the job directory (must be new or empty).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// Replace the jobs and results of a non-empty DIR.
    #[arg(long)]
    pub force: bool,

    /// The reparti the jobs run [default: this one, by absolute path]; on a cluster, the
    /// path there, or `reparti` to find it on PATH.
    #[arg(long, value_name = "PATH")]
    pub reparti: Option<String>,

    /// Extra arguments for every job, after `--`: `-- --ids desc -p requests=2`.
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<String>,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The job directory `sweep plan` wrote (with grid.json and results/).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Write the CSV to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also draw the results as an SVG plot in FILE: --y by --x, one series per
    /// combination of the other grid columns, each point the mean over seeds (min–max bar).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// The plot's y axis: a numeric column of the CSV [default: messages for sim results,
    /// unique_states for check results].
    #[arg(long, value_name = "FIELD", requires = "plot")]
    pub y: Option<String>,

    /// The plot's x axis (log₂ scale): a numeric column with positive values [default: n].
    #[arg(long, value_name = "COLUMN", requires = "plot")]
    pub x: Option<String>,
}

pub fn run(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        SweepCommand::Plan(plan) => run_plan(plan),
        SweepCommand::Merge(m) => merge::run(m),
    }
}

fn run_plan(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let reparti = match &args.reparti {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.to_string_lossy().into_owned(),
    };
    let jobs = grid::expand(args, &reparti)?;
    let written = jobs::write_job_dir(&args.output, &jobs, args.force)?;
    let d = jobs::sh_quote(&written.dir.to_string_lossy());
    let plural = if written.jobs == 1 { "" } else { "s" };
    println!("{} job{plural} written to {}", written.jobs, written.dir.display());
    println!("run them with one of:");
    println!("  sh {d}/run-parallel.sh             # GNU parallel on this machine, one job per core");
    println!("  sbatch {d}/slurm.sbatch            # a Slurm job array 1-{}", written.jobs);
    println!("  kubectl apply -f {d}/k8s-job.yaml  # a Kubernetes indexed Job (set its image and volume first)");
    println!("then: reparti sweep merge {d} -o results.csv");
    Ok(ExitCode::SUCCESS)
}

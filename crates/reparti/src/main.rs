//! `reparti`: the command line, the only place that ties an algorithm to an engine.

mod bench;
mod bench_check;
mod bench_net;
mod chat;
mod check;
mod cli;
mod eval;
mod keygen;
mod list;
mod node;
mod replay;
mod run;
mod runs;
mod scenario;
mod sim;
mod summary;
mod topo;
mod viz;

use clap::Parser;
use std::process::ExitCode;

/// A mistake in how reparti was called: printed on one line, exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for a usage error.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// A command-line mistake caught by clap, on one line: the error, then what to do.
fn one_line(e: &clap::Error) -> String {
    e.render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ")
        + " (see --help)"
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            eprintln!("{}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        cli::Command::List(args) => list::run(&args),
        cli::Command::Sim(args) => sim::run(&args),
        cli::Command::Check(args) => check::run(&args),
        cli::Command::Viz(args) => viz::run(&args),
        cli::Command::Topo(args) => topo::run(&args),
        cli::Command::Eval(args) => eval::run(&args),
        cli::Command::Keygen(args) => keygen::run(&args),
        cli::Command::Bench(args) => bench::run(&args),
        cli::Command::Chat(args) => chat::run(&args),
        cli::Command::Node(args) => node::run(&args),
        cli::Command::Run(args) => run::run(&args),
        cli::Command::Merge(args) => run::merge_traces::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

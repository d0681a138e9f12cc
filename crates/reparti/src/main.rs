//! `reparti`: the command line, the only place that ties an algorithm to an engine.

mod bench;
mod bench_args;
mod bench_check;
mod bench_lin;
mod bench_net;
mod bench_python;
mod chat;
mod check;
mod cli;
mod clock_flags;
mod error;
mod eval;
mod history_file;
mod interrupt;
mod keygen;
mod lin;
mod list;
mod measure;
mod node;
mod progress;
mod replay;
mod resolve;
mod run;
mod runs;
mod scenario;
mod sim;
mod simulate;
mod stab_flags;
mod stab_output;
mod stabilize;
mod summary;
mod swarm;
mod sweep;
mod topo;
mod viz;
mod vocabulary;

use std::process::ExitCode;

use error::UsageError;

/// A command-line mistake caught by clap, on one line: the error, then what to do.
fn one_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() == ErrorKind::ValueValidation {
        // `--nodes -3`: clap says "invalid digit found in string"; say what is wrong.
        if let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) =
            (e.get(ContextKind::InvalidArg), e.get(ContextKind::InvalidValue))
        {
            let flag = arg.split_whitespace().next().unwrap_or(arg);
            // Only where the flag wants a whole number: a flag with its own parser (a
            // probability, say) has already said what is wrong.
            if value.starts_with('-') && value[1..].parse::<f64>().is_ok() && e.to_string().contains("invalid digit") {
                return format!(
                    "error: {flag} {value}: a negative number; {flag} takes a whole number from 0 up (see --help)"
                );
            }
        }
    }
    e.render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ")
        + " (see --help)"
}

/// Prints the network runtime's diagnostics (`tracing` events of warning level and above)
/// on stderr as they always were: the message alone, one line each, without time, level
/// or target.
fn print_diagnostics_on_stderr() {
    // Fails only if a subscriber is already installed, which then does the printing.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .without_time()
        .with_target(false)
        .with_level(false)
        .with_ansi(false)
        .compact()
        .try_init();
}

/// Whether an I/O error means that the reader of our output has gone (`reparti list |
/// head -1`): the pipe is closed, nothing more can be said to anyone.
fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

/// Whether a command's error is, at bottom, a write to a reader that has gone.
fn error_is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(is_broken_pipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            || matches!(cause.downcast_ref::<reparti_labs::chat::ChatError>(),
                Some(reparti_labs::chat::ChatError::Output(io)) if is_broken_pipe(io))
    })
}

/// Makes every command exit quietly, with status 0, when the reader of its output goes
/// away. `print!`/`println!` (and their `e` forms) panic on a closed pipe, since Rust
/// ignores SIGPIPE; the standard library gives the hook no error value, only the panic's
/// message (`failed printing to stdout: Broken pipe (os error 32)`), so the hook reads
/// that. Any other panic is reported as usual.
fn exit_quietly_on_broken_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload.downcast_ref::<String>().map(String::as_str).or(payload.downcast_ref::<&str>().copied());
        let closed = message.is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.starts_with("failed printing to std") && (m.contains("broken pipe") || m.contains("pipe is being closed"))
        });
        if closed {
            std::process::exit(0);
        }
        report(info);
    }));
}

fn main() -> ExitCode {
    exit_quietly_on_broken_pipe();
    print_diagnostics_on_stderr();
    let cli = match cli::parse() {
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
        cli::Command::Sim(mut args) => {
            args.algorithm.take().map(|a| resolve::over_layers(a, args.fifo_layer)).transpose().and_then(|name| {
                args.algorithm = name;
                sim::run(&args)
            })
        }
        cli::Command::Check(mut args) => resolve::over_layers(std::mem::take(&mut args.algorithm), args.fifo_layer)
            .and_then(|name| {
                args.algorithm = name;
                check::run(&args)
            }),
        cli::Command::Viz(args) => viz::run(&args),
        cli::Command::Topo(args) => topo::run(&args),
        cli::Command::Eval(args) => eval::run(&args),
        cli::Command::Keygen(args) => keygen::run(&args),
        cli::Command::Bench(args) => bench::run(&args),
        cli::Command::Chat(args) => chat::run(&args),
        cli::Command::Node(args) => node::run(&args),
        cli::Command::Run(mut args) => resolve::over_layers(std::mem::take(&mut args.algorithm), args.fifo_layer)
            .and_then(|name| {
                args.algorithm = name;
                run::run(&args)
            }),
        cli::Command::Merge(args) => run::merge_traces::run(&args),
        cli::Command::Lin(args) => lin::run(&args),
        cli::Command::Sweep(args) => sweep::run(&args),
        cli::Command::Swarm(args) => swarm::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) if error_is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else if e.downcast_ref::<error::Interrupted>().is_some() {
                ExitCode::from(interrupt::INTERRUPTED_STATUS)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

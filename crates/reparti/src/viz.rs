//! `reparti viz TRACE [-o out.html|out.svg] [--shiviz out.log] [--skew out.svg]
//! [--vertical]`: draws a trace as a space-time diagram (an interactive HTML page or a
//! static SVG), and/or exports it as a ShiViz log, and/or draws its skew plot (every
//! node's physical clock against real time, `reparti_viz::skew`; also `sim --plot`).
//! `reparti viz TRACE --wait-for -o FILE.svg` draws instead the wait-for graph at the
//! first deadlock declaration, its cycle highlighted (`reparti_viz::wait_for`).
//!
//! Without `-o` and without `--shiviz`, the page goes next to the trace (`run.jsonl` →
//! `run.html`). The paths written are printed on standard output, one per line, so that
//! `xdg-open "$(reparti viz run.jsonl)"` works; notes (an elided huge trace, a trace cut
//! short) go to standard error.

use crate::cli::VizArgs;
use reparti_core::machine_memory::{available_bytes, human_bytes};
use reparti_core::trace::{read_trace, Trace};
use reparti_core::user_file::{open_regular, Problem};
use reparti_viz::{render_with, spacetime, Axis, Format, Options};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(args: &VizArgs) -> anyhow::Result<ExitCode> {
    if args.wait_for {
        return write_wait_for(args);
    }
    // Check what is asked before reading a possibly large trace.
    let picture = match &args.output {
        Some(path) => {
            let format = Format::from_path(path).map_err(|e| crate::error::usage(format!("-o {e}")))?;
            Some((path.clone(), format))
        }
        None if args.shiviz.is_none() && args.skew.is_none() => Some((default_output(&args.trace), Format::Html)),
        None => None,
    };
    if let Some(plot) = &args.skew {
        skew_format(plot, "--skew")?;
    }
    let trace = load(&args.trace)?;
    if trace.end.is_none() {
        eprintln!(
            "note: {} has no closing line (the run was cut short); drawing the {} events it holds",
            args.trace.display(),
            trace.events.len()
        );
    }
    let axis = if args.lamport { Axis::Lamport } else { Axis::Time };
    let opts = Options { vertical: args.vertical, axis, ..Options::default() };
    if let Some((path, format)) = picture {
        if format != Format::ShiViz {
            if let Some(elision) = spacetime::layout(&trace, &opts).elision {
                for line in elision.lines() {
                    eprintln!("note: {line}");
                }
            }
        }
        write(&trace, format, &opts, &path)?;
    }
    if let Some(path) = &args.shiviz {
        write(&trace, Format::ShiViz, &opts, path)?;
    }
    if let Some(path) = &args.skew {
        write_skew(&trace, path)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// For `sim --plot FILE`, before the run: refuses a plot that cannot be drawn.
pub fn check_skew_plot(
    plot: Option<&Path>,
    reads_physical_clock: bool,
    algorithm: &str,
    runs: u64,
) -> anyhow::Result<()> {
    let Some(plot) = plot else { return Ok(()) };
    skew_format(plot, "--plot")?;
    if !reads_physical_clock {
        return Err(crate::error::usage(format!(
            "--plot draws physical clocks, but {algorithm} does not read them; drop --plot, or choose an algorithm of the time chapter that does (see `reparti list`)"
        )));
    }
    if runs > 1 {
        return Err(crate::error::usage("--plot draws one run; drop --runs or --plot"));
    }
    Ok(())
}

/// For `sim --plot FILE`: runs `simulate` with a trace (the one asked for, or a scratch
/// one, removed after) and draws that trace's skew plot into `plot`.
pub fn with_skew_plot<T>(
    trace: Option<PathBuf>,
    plot: Option<&Path>,
    simulate: impl FnOnce(Option<PathBuf>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let Some(plot) = plot else { return simulate(trace) };
    through_trace(trace, simulate, |path| load(path).and_then(|t| write_skew(&t, plot)))
}

/// Runs `run` with a trace — the one asked for, else a scratch file removed afterwards —
/// then, if it succeeded, hands the trace to `after` (a picture, a history).
pub fn through_trace<T>(
    trace: Option<PathBuf>,
    run: impl FnOnce(Option<PathBuf>) -> anyhow::Result<T>,
    after: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<T> {
    let (path, scratch) = match trace {
        Some(p) => (p, false),
        None => (scratch_trace(), true),
    };
    let ran = run(Some(path.clone()));
    let done = ran.as_ref().ok().map(|_| after(&path));
    if scratch {
        let _ = std::fs::remove_file(&path);
    }
    let ran = ran?;
    done.transpose()?;
    Ok(ran)
}

/// `viz TRACE --wait-for -o FILE.svg`: the wait-for graph at the first deadlock
/// declaration (`reparti_viz::wait_for`).
fn write_wait_for(args: &VizArgs) -> anyhow::Result<ExitCode> {
    let path = match &args.output {
        Some(path) if Format::from_path(path).ok() == Some(Format::Svg) => path,
        _ => return Err(crate::error::usage("--wait-for draws a static picture: give -o FILE.svg")),
    };
    let trace = load(&args.trace)?;
    let text = reparti_viz::wait_for::to_svg(&trace).map_err(|e| crate::error::usage(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| {
        crate::error::usage(format!(
            "cannot write {}: {e}; choose a writable path for the wait-for graph",
            path.display()
        ))
    })?;
    println!("wait-for graph written to {}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn skew_format(plot: &Path, flag: &str) -> anyhow::Result<()> {
    match Format::from_path(plot) {
        Ok(Format::Svg) => Ok(()),
        _ => Err(crate::error::usage(format!(
            "{flag} {}: the skew plot is a static picture; name the file .svg",
            plot.display()
        ))),
    }
}

fn write_skew(trace: &Trace, path: &Path) -> anyhow::Result<()> {
    let text = reparti_viz::skew::to_svg(trace).map_err(|e| crate::error::usage(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| {
        crate::error::usage(format!("cannot write {}: {e}; choose a writable path for the skew plot", path.display()))
    })?;
    println!("skew plot written to {}", path.display());
    Ok(())
}

/// Draws the trace at `trace` into `picture` (format by extension), for `--viz`.
pub fn draw(trace: &Path, picture: &Path) -> anyhow::Result<()> {
    let format = Format::from_path(picture).map_err(|e| crate::error::usage(format!("--viz {e}")))?;
    let trace = load(trace)?;
    write(&trace, format, &Options::default(), picture)
}

/// A fresh path in the temporary folder, for a trace that only feeds a picture.
pub fn scratch_trace() -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("reparti-{}-{nanos}.jsonl", std::process::id()))
}

/// `run.jsonl` → `run.html`, next to it (`run.html.html` if the trace is itself `.html`).
fn default_output(trace: &Path) -> PathBuf {
    let page = trace.with_extension("html");
    if page == trace {
        let mut name = trace.as_os_str().to_owned();
        name.push(".html");
        PathBuf::from(name)
    } else {
        page
    }
}

pub fn load(path: &Path) -> anyhow::Result<Trace> {
    const HINT: &str = "give a trace written by `reparti sim --trace FILE` or `reparti check --trace FILE`";
    if path.is_dir() {
        return Err(crate::error::usage(format!("{} is a directory, not a trace; {HINT}", path.display())));
    }
    let file = open_regular(path, "trace").map_err(|e| match e.problem {
        Problem::Io(io) => crate::error::usage(format!("cannot read the trace {}: {io}; {HINT}", path.display())),
        _ => crate::error::usage(e.to_string()),
    })?;
    refuse_if_trace_too_large(path, &file)?;
    read_trace(BufReader::new(file)).map_err(|e| {
        // The reader's own message may already say where traces come from.
        let e = e.to_string();
        let hint = if e.contains("reparti sim --trace") { String::new() } else { format!("; {HINT}") };
        crate::error::usage(format!("{} is not a reparti trace: {e}{hint}", path.display()))
    })
}

fn write(trace: &Trace, format: Format, opts: &Options, path: &Path) -> anyhow::Result<()> {
    let text = render_with(trace, format, opts).map_err(|e| crate::error::usage(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| {
        crate::error::usage(format!(
            "cannot write {}: {e}; choose a writable path (with -o or --shiviz)",
            path.display()
        ))
    })?;
    println!("written to {}", path.display());
    Ok(())
}

/// A trace in memory takes about this many times its size on disk (measured: a 58 MB
/// trace of 512,000 events took 315 MB more to read, 5.4 times).
const TRACE_IN_MEMORY: u64 = 6;

/// Refuses to read a trace whose events would not fit in the memory available: every
/// event is held (pictures and replays look at all of them), and a trace of many
/// gigabytes would take several times that.
pub fn refuse_if_trace_too_large(path: &Path, file: &std::fs::File) -> anyhow::Result<()> {
    let (Ok(meta), Some(available)) = (file.metadata(), available_bytes()) else { return Ok(()) };
    let need = meta.len().saturating_mul(TRACE_IN_MEMORY);
    if need <= available {
        return Ok(());
    }
    Err(crate::error::usage(format!(
        "the trace {} holds {}; reading it would take about {}, but {} is available; record a shorter run (`reparti sim --max-events N`, fewer nodes)",
        path.display(),
        human_bytes(meta.len()),
        human_bytes(need),
        human_bytes(available)
    )))
}

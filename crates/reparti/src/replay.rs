//! `reparti sim --replay TRACE`: follow a recorded schedule and check it again.

use crate::error::usage;
use crate::resolve::algorithm;
use crate::simulate::sim_error;
use crate::summary;
use reparti_core::trace::{read_trace, Trace};
use reparti_core::user_file::{open_regular, Problem};
use reparti_core::{Algorithm, AlgorithmVisitor};
use reparti_sim::Replayed;
use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;

struct Replay<'a>(&'a Trace);

impl AlgorithmVisitor for Replay<'_> {
    type Output = anyhow::Result<Replayed>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<Replayed> {
        reparti_sim::replay::<A>(self.0).map_err(sim_error)
    }
}

pub fn run(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let file = open_regular(path, "trace").map_err(|e| match e.problem {
        Problem::Io(io) => usage(format!(
            "cannot open the trace {}: {io} (give a file written by `sim --trace` or `check --trace`)",
            path.display()
        )),
        _ => usage(e.to_string()),
    })?;
    crate::viz::refuse_if_trace_too_large(path, &file)?;
    let trace = read_trace(BufReader::new(file)).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    algorithm(&trace.header.algorithm)?;
    let replayed = reparti_algos::visit(&trace.header.algorithm, Replay(&trace))
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{}'", trace.header.algorithm))))?;
    if json {
        let out = serde_json::json!({
            "replayed_steps": replayed.steps,
            "expected_violation": replayed.expected,
            "reached_violation": replayed.reached,
            "same_violation": replayed.same_violation(),
            "report": replayed.report,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "replaying {} ({} engine): {} scheduling steps\n",
            path.display(),
            trace.header.engine,
            replayed.steps
        );
        print!("{}", summary::render_replay(&replayed.report, &summary::recorded_network(&trace.header)));
        match (&replayed.expected, &replayed.reached) {
            (Some(e), Some(r)) if replayed.same_violation() => {
                println!("replay: reached the same violation as the trace\n  trace:  {e}\n  replay: {r}")
            }
            (Some(e), r) => println!(
                "replay: the trace ends with «{e}» but the replay reached {}",
                r.as_deref().map(|r| format!("«{r}»")).unwrap_or_else(|| "no violation".into())
            ),
            (None, Some(r)) => println!("replay: reached a violation the trace does not record: {r}"),
            (None, None) => println!("replay: no violation, as in the trace"),
        }
    }
    Ok(if replayed.report.all_good() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

//! The grid of `reparti sweep plan`: algorithms × networks × sizes × seeds, expanded into
//! [`Job`]s, every one checked by the same parser `reparti sim`/`check` use, so that a
//! mistake shows up now, once, rather than in each of a thousand jobs on a cluster.

use super::jobs::{sh_quote, Job};
use super::{Engine, PlanArgs};
use crate::error::usage;
use serde_json::Value;

/// The jobs of the grid `args` describes, running `reparti` (the program's path).
pub fn expand(args: &PlanArgs, reparti: &str) -> anyhow::Result<Vec<Job>> {
    let engine = args.engine;
    let algorithms: Vec<&str> = args.algorithms.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
    if algorithms.is_empty() {
        return Err(usage("the grid is empty: name at least one algorithm, e.g. chang-roberts,franklin"));
    }
    let mut specs = Vec::with_capacity(algorithms.len());
    for name in &algorithms {
        specs.push(crate::resolve::algorithm(name)?);
    }
    let sizes = match &args.nodes {
        Some(text) => Some(numbers(text, "-n/--nodes")?),
        None => None,
    };
    if let Some(0) = sizes.as_ref().and_then(|s| s.iter().min().copied()) {
        return Err(usage("-n/--nodes: 0 nodes; a size is a whole number from 1 up, e.g. -n 4,8"));
    }
    let seeds = numbers(&args.seeds, "--seeds")?;
    // No --net: one network, the engine's default, labelled so in the CSV.
    let nets: Vec<Option<&str>> =
        if args.nets.is_empty() { vec![None] } else { args.nets.iter().map(|n| Some(n.as_str())).collect() };
    let extra_label = args.extra.iter().map(|a| sh_quote(a)).collect::<Vec<_>>().join(" ");
    let mut jobs = Vec::new();
    for (name, spec) in algorithms.iter().zip(&specs) {
        // Without -n: the size `sim` would take (the algorithm's) or `check`'s default.
        let default_size = match engine {
            Engine::Sim => spec.default_nodes,
            Engine::Check => 4,
        };
        let sizes = sizes.clone().unwrap_or_else(|| vec![default_size as u64]);
        for net in &nets {
            let net_args = network_args(engine, net.unwrap_or(""));
            for (i, &n) in sizes.iter().enumerate() {
                for (j, &seed) in seeds.iter().enumerate() {
                    let mut command = vec![reparti.to_string(), engine.word().to_string(), name.to_string()];
                    command.extend(["--nodes".to_string(), n.to_string(), "--seed".to_string(), seed.to_string()]);
                    command.extend(net_args.iter().cloned());
                    command.extend(args.extra.iter().cloned());
                    // The merge reads JSON; a progress bar would only clutter the .err file.
                    if !args.extra.iter().any(|a| a == "--json") {
                        command.push("--json".to_string());
                    }
                    // Only sizes and seeds vary below a network: one parse per network
                    // says whether all its jobs' flags are right (parsing costs ~1 ms).
                    if i == 0 && j == 0 {
                        validate(&command)?;
                    }
                    let params = vec![
                        ("engine".to_string(), Value::from(engine.word())),
                        ("algorithm".to_string(), Value::from(*name)),
                        ("n".to_string(), Value::from(n)),
                        ("seed".to_string(), Value::from(seed)),
                        ("net".to_string(), Value::from(net.unwrap_or("default"))),
                        ("extra".to_string(), Value::from(extra_label.clone())),
                    ];
                    jobs.push(Job { command, params });
                }
            }
        }
    }
    Ok(jobs)
}

/// A --net value as flags: its first word, unless it is a flag, is the delay (sim) or the
/// channel model (check); the other words are passed as they are.
fn network_args(engine: Engine, net: &str) -> Vec<String> {
    let mut words: Vec<String> = net.split_whitespace().map(str::to_string).collect();
    if words.first().is_some_and(|w| !w.starts_with('-')) {
        let flag = match engine {
            Engine::Sim => "--delay",
            Engine::Check => "--network",
        };
        words.insert(0, flag.to_string());
    }
    words
}

/// Parses a job's command as `reparti` itself would, so that a bad flag, value or delay
/// is refused at planning time with the engine's own words.
fn validate(command: &[String]) -> anyhow::Result<()> {
    let cli = match crate::cli::parse_from(command.iter().map(String::as_str)) {
        Ok(cli) => cli,
        Err(e) => {
            let rendered = e.render().to_string();
            let first = rendered.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string();
            let first = first.strip_prefix("error: ").unwrap_or(&first).to_string();
            return Err(usage(format!(
                "a job would fail: `{}`: {first} (fix --net or the arguments after --; see `reparti {} --help`)",
                command[1..].join(" "),
                command[1]
            )));
        }
    };
    if let crate::cli::Command::Sim(sim) = cli.command {
        if let Err(e) = sim.delay.parse::<reparti_sim::Delay>() {
            return Err(usage(format!("--net: {e}")));
        }
    }
    Ok(())
}

/// A list of whole numbers: items separated by commas, each `K`, `A..B` (every number
/// from A to B), `A..B:S` (steps of S) or `A..B:xF` (multiplied by F each time).
pub fn numbers(text: &str, flag: &str) -> anyhow::Result<Vec<u64>> {
    let bad = |item: &str, why: &str| {
        usage(format!(
            "{flag} '{item}': {why}; write a list and/or ranges, e.g. 4,8,16 or 1..10 or 4..64:x2 or 0..100:25"
        ))
    };
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(bad(text, "an empty item"));
        }
        let Some((from, rest)) = item.split_once("..") else {
            out.push(item.parse::<u64>().map_err(|_| bad(item, "not a whole number"))?);
            continue;
        };
        let (to, step) = match rest.split_once(':') {
            Some((to, step)) => (to, Some(step)),
            None => (rest, None),
        };
        let from: u64 = from.parse().map_err(|_| bad(item, "the start is not a whole number"))?;
        let to: u64 = to.parse().map_err(|_| bad(item, "the end is not a whole number"))?;
        if from > to {
            return Err(bad(item, "the start is above the end"));
        }
        let (factor, step) = match step {
            None => (None, 1),
            Some(s) => match s.strip_prefix('x') {
                Some(f) => (Some(f.parse::<u64>().map_err(|_| bad(item, "the factor is not a whole number"))?), 0),
                None => (None, s.parse::<u64>().map_err(|_| bad(item, "the step is not a whole number"))?),
            },
        };
        match factor {
            Some(f) if f < 2 || from == 0 => {
                return Err(bad(item, "a factor needs a start from 1 and a factor from 2"))
            }
            Some(f) => {
                let mut k = from;
                while k <= to {
                    out.push(k);
                    k = k.saturating_mul(f);
                }
            }
            None if step == 0 => return Err(bad(item, "a step of 0")),
            None => {
                if (to - from) / step > 1_000_000 {
                    return Err(bad(item, "more than a million values"));
                }
                out.extend((from..=to).step_by(step as usize));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::numbers;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(numbers("4,8,16", "-n").unwrap(), vec![4, 8, 16]);
        assert_eq!(numbers("1..4", "-n").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(numbers("4..64:x2", "-n").unwrap(), vec![4, 8, 16, 32, 64]);
        assert_eq!(numbers("0..100:25", "-n").unwrap(), vec![0, 25, 50, 75, 100]);
        assert_eq!(numbers("3, 8..16:x2", "-n").unwrap(), vec![3, 8, 16]);
        for bad in ["", "4,", "a", "5..3", "1..x", "1..4:0", "1..4:x1", "1..4:y"] {
            assert!(numbers(bad, "-n").is_err(), "{bad}");
        }
    }
}

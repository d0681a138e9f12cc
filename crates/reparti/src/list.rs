//! `reparti list`: the catalogue by chapter.

use crate::cli::ListArgs;
use reparti_core::topology::TOPOLOGY_NAMES;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let mut specs = reparti_algos::specs();
    specs.sort_by_key(|s| s.chapter);
    if args.json {
        // Each spec with the model its `sim` and `check` run, so that a script (or a test
        // going over the catalogue) knows which flags apply to it.
        let mut described = Vec::with_capacity(specs.len());
        for s in &specs {
            let mut value = serde_json::to_value(s)?;
            if let Some(fields) = value.as_object_mut() {
                fields.insert("model".into(), model_of(s.name).into());
            }
            described.push(value);
        }
        println!("{}", serde_json::to_string_pretty(&described)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut chapter = None;
    for s in &specs {
        if chapter != Some(s.chapter) {
            chapter = Some(s.chapter);
            println!("\n{}", s.chapter.title());
        }
        println!("  {:<20} {}", s.name, s.summary);
        let mut facts =
            vec![format!("topologies: {}", s.topologies.join(", ")), format!("default n = {}", s.default_nodes)];
        if reparti_algos::is_guarded(s.name) {
            facts.push("state-reading model (sim, check: --daemon); run: its state exchange".to_string());
        }
        if s.needs_fifo {
            facts.push(format!("needs FIFO channels (or {}{})", s.name, reparti_algos::FIFO_SUFFIX));
        }
        if !s.commands.is_empty() {
            let words: Vec<&str> = s.commands.iter().map(|c| c.word).collect();
            facts.push(format!("console: {}", words.join(", ")));
        }
        println!("  {:<20} {}", "", facts.join(" · "));
        for p in s.params {
            let pair = format!("{}={}", p.name, p.default);
            println!("  {:<20}   --param {pair:<18} {} ({})", "", p.help, p.kind);
        }
    }
    println!("\nLayers (by suffixing an algorithm's name: lamport-mutex+fifo, bank+chandy-lamport)");
    for (suffix, what) in reparti_algos::LAYERS {
        println!("  NAME{suffix:<17} {what}");
    }
    println!("\nTopologies: {}", TOPOLOGY_NAMES.join(", "));
    print_scenarios();
    println!("Try: reparti sim chang-roberts --nodes 1000");
    Ok(ExitCode::SUCCESS)
}

/// The model `reparti sim` and `reparti check` run the algorithm in.
fn model_of(name: &str) -> &'static str {
    if reparti_algos::is_guarded(name) {
        "state-reading"
    } else {
        "message-passing"
    }
}

/// Where the course pack may be: `scenarios/` here, and beside the repository the
/// binary was built in (`REPO/target/PROFILE/reparti`), without repeats.
fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("scenarios")];
    let built_in =
        std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("scenarios")));
    dirs.extend(built_in);
    let mut seen = Vec::new();
    dirs.retain(|d| match d.canonicalize() {
        Ok(c) if d.is_dir() && !seen.contains(&c) => {
            seen.push(c);
            true
        }
        _ => false,
    });
    dirs
}

/// The "Scenarios" section: every scenario file with its one-line description; nothing
/// when no `scenarios/` folder is found.
fn print_scenarios() {
    for dir in scenario_dirs() {
        let listed = crate::scenario::list_dir(&dir);
        if listed.is_empty() {
            continue;
        }
        println!("\nScenarios ({}/, run with `reparti sim FILE` or `reparti check FILE` as marked)", dir.display());
        let width = listed.iter().map(|l| l.name.chars().count()).max().unwrap_or(0);
        for l in &listed {
            let pad = " ".repeat(width - l.name.chars().count());
            println!("  {}{pad}  [{}] {}", l.name, l.commands, l.description);
        }
    }
}

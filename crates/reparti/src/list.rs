//! `reparti list`: the catalogue by chapter.

use crate::cli::ListArgs;
use reparti_core::topology::TOPOLOGY_NAMES;
use std::process::ExitCode;

pub fn run(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let mut specs = reparti_algos::specs();
    specs.sort_by_key(|s| s.chapter);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&specs)?);
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
        if s.needs_fifo {
            facts.push("needs FIFO channels".into());
        }
        println!("  {:<20} {}", "", facts.join(" · "));
        for p in s.params {
            println!("  {:<20}   --param {}={:<8} {}", "", p.name, p.default, p.help);
        }
    }
    println!("\nTopologies: {}", TOPOLOGY_NAMES.join(", "));
    println!("Try: reparti sim chang-roberts --nodes 1000");
    Ok(ExitCode::SUCCESS)
}

//! `reparti topo`: draw a topology as Graphviz DOT (standard output, or FILE.dot) or as
//! an SVG drawn by reparti itself (FILE.svg).
//!
//! Given an algorithm, the topology is the one `reparti sim ALGO` would build (its first
//! accepted kind unless `--topology` says otherwise), and the nodes are labelled with the
//! identities that `reparti sim ALGO --seed S` assigns, so the picture matches the run.

use crate::cli::TopoArgs;
use crate::error::usage;
use crate::resolve::{self, Setup, SetupFlags};
use anyhow::Context as _;
use reparti_core::{Topology, TopologyKind};
use std::path::Path;
use std::process::ExitCode;

/// Beyond these, a drawing is a blot: refuse rather than write megabytes nobody can read.
const MAX_NODES: usize = 2_000;
const MAX_LINES: usize = 20_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Dot,
    Svg,
}

pub fn run(args: &TopoArgs) -> anyhow::Result<ExitCode> {
    let format = match &args.output {
        None => Format::Dot,
        Some(path) => format_of(path)?,
    };
    resolve::nodes(Some(args.nodes))?;
    if args.nodes > MAX_NODES {
        return Err(usage(format!(
            "a picture of {} nodes would be unreadable; draw at most {MAX_NODES} (lower --nodes)",
            args.nodes
        )));
    }
    // Given an algorithm, the setup `reparti sim ALGO` would resolve (its topology and
    // identities); without one, a bare topology.
    let setup = match &args.algorithm {
        Some(name) => Some(Setup::resolve(
            name,
            SetupFlags {
                topology: args.topology.as_deref(),
                ids: "random",
                params: &[],
                file_params: Vec::new(),
                nodes: Some(args.nodes),
                seed: args.seed,
            },
        )?),
        None => None,
    };
    let kind = match &setup {
        Some(s) => s.topology.clone(),
        None => resolve::topology(args.topology.as_deref())?,
    };
    // An edge-list file says how many nodes it has; `--nodes` (which defaults to 8) must
    // not contradict it.
    let nodes = if matches!(kind, Some(TopologyKind::File { .. })) { 0 } else { args.nodes };
    let (topology, idents) = match &setup {
        Some(setup) => {
            let built = setup.build(nodes)?;
            (built.topology, Some(built.idents))
        }
        None => {
            let kind = kind.ok_or_else(|| {
                usage("name an algorithm or give --topology, e.g. `reparti topo chang-roberts` or `reparti topo --topology torus --nodes 16`")
            })?;
            let t =
                Topology::build(&kind, nodes, &mut reparti_core::rng(args.seed)).map_err(|e| usage(e.to_string()))?;
            (t, None)
        }
    };
    // Count lines the cheap way first: a complete graph's channels are implicit.
    let lines =
        if *topology.kind() == TopologyKind::Ring { topology.channel_count() } else { topology.channel_count() / 2 };
    if topology.len() > MAX_NODES || lines > MAX_LINES {
        return Err(usage(format!(
            "{} has about {lines} links: too many to draw (at most {MAX_LINES}); lower --nodes",
            reparti_viz::topology::caption(&topology)
        )));
    }
    let text = match format {
        Format::Dot => reparti_viz::topology::dot(&topology, idents.as_deref()),
        Format::Svg => reparti_viz::topology::svg(&topology, idents.as_deref()),
    };
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            std::fs::write(path, text).with_context(|| {
                format!("cannot write {} (check the folder exists and is writable)", path.display())
            })?;
            println!("{} drawn to {}", reparti_viz::topology::caption(&topology), path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The picture's format, from the file's extension.
fn format_of(path: &Path) -> anyhow::Result<Format> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("dot" | "gv") => Ok(Format::Dot),
        _ => Err(usage(format!(
            "cannot tell what to write to {}: name it FILE.svg (a picture) or FILE.dot (Graphviz)",
            path.display()
        ))),
    }
}

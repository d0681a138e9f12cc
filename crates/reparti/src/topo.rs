//! `reparti topo`: draw a topology as Graphviz DOT (standard output, or FILE.dot) or as
//! an SVG drawn by reparti itself (FILE.svg).
//!
//! Given an algorithm, the topology is the one `reparti sim ALGO` would build (its first
//! accepted kind unless `--topology` says otherwise), and the nodes are labelled with the
//! identities that `reparti sim ALGO --seed S` assigns, so the picture matches the run.

use crate::cli::TopoArgs;
use crate::usage;
use anyhow::Context as _;
use reparti_core::{Algorithm, AlgorithmVisitor, IdAssignment, Instance, Topology, TopologyKind};
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
    if args.nodes == 0 {
        return Err(usage("--nodes must be at least 1"));
    }
    if args.nodes > MAX_NODES {
        return Err(usage(format!(
            "a picture of {} nodes would be unreadable; draw at most {MAX_NODES} (lower --nodes)",
            args.nodes
        )));
    }
    let kind = match &args.topology {
        Some(t) => Some(t.parse::<TopologyKind>().map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    // An edge-list file says how many nodes it has; `--nodes` (which defaults to 8) must
    // not contradict it.
    let nodes = if matches!(kind, Some(TopologyKind::File { .. })) { 0 } else { args.nodes };
    let (topology, idents) = match &args.algorithm {
        Some(name) => {
            crate::sim::find_algorithm(name)?;
            reparti_algos::visit(name, Build { kind, nodes, seed: args.seed })
                .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))?
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

/// Builds the instance the simulator would build, for its topology and identities.
struct Build {
    kind: Option<TopologyKind>,
    nodes: usize,
    seed: u64,
}

impl AlgorithmVisitor for Build {
    type Output = anyhow::Result<(Topology, Option<Vec<u64>>)>;
    fn visit<A: Algorithm>(self) -> Self::Output {
        let instance = Instance::<A>::new(&[], self.kind.as_ref(), self.nodes, &IdAssignment::Random, self.seed)
            .map_err(|e| usage(e.to_string()))?;
        Ok((instance.topology, Some(instance.idents)))
    }
}

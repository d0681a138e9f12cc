//! Topologies: who can send to whom.
//!
//! Every topology but the rings and the complete graph is stored as a compressed
//! adjacency list (8 bytes per directed edge plus 4 per node). Rings and the complete
//! graph are implicit: a node's neighbours are computed from its position, so a ring of
//! a million nodes costs nothing, and a simulator delivering to a random node among a
//! million does not miss the cache twice to find where that node sends.
//!
//! Neighbour order is part of the contract, because algorithms rely on it:
//! a `ring` gives `[next]`; a `bidir-ring` gives `[left, right]` where left is the
//! predecessor `i-1` and right the successor `i+1` (with 2 nodes, left and right are the
//! same node, listed twice: two links that share one channel, so algorithms that care
//! which side a message came from must say so in the message); a `line` gives `[i-1, i+1]` (those
//! that exist); a `star` gives the centre `0` to every leaf; the other kinds list
//! neighbours in increasing order.

use crate::id::NodeId;
pub use crate::neighbours::{NeighbourIter, Neighbours};
use crate::Rng;
use rand::seq::SliceRandom;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The shape of a topology, as named on the command line.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopologyKind {
    /// Unidirectional ring: `i → i+1 mod n`.
    Ring,
    /// Bidirectional ring: `i ↔ i±1 mod n`.
    BidirRing,
    /// Complete graph (the labs' mesh).
    Complete,
    /// A line `0 – 1 – … – n-1`.
    Line,
    /// A star centred on node 0.
    Star,
    /// A binary tree: node i's children are 2i+1 and 2i+2.
    Tree,
    /// A grid as square as n allows (the last row may be partial).
    Grid,
    /// A torus `w × h` with w, h ≥ 3 and w·h = n.
    Torus,
    /// A hypercube; n must be a power of two.
    Hypercube,
    /// A random connected graph with about `degree` neighbours per node (seeded).
    Random {
        /// Average degree wanted (at least the spanning tree's).
        degree: u32,
    },
    /// An edge list read from a file: `a b` (both ways) or `a -> b` (one way) per line.
    File {
        /// Where the edge list is.
        path: String,
    },
}

/// The topology kinds' names, as accepted on the command line.
pub const TOPOLOGY_NAMES: &[&str] = &[
    "ring",
    "bidir-ring",
    "complete",
    "line",
    "star",
    "tree",
    "grid",
    "torus",
    "hypercube",
    "random[:DEGREE]",
    "file:PATH",
];

impl TopologyKind {
    /// The kind's name without its arguments.
    pub fn name(&self) -> &'static str {
        match self {
            TopologyKind::Ring => "ring",
            TopologyKind::BidirRing => "bidir-ring",
            TopologyKind::Complete => "complete",
            TopologyKind::Line => "line",
            TopologyKind::Star => "star",
            TopologyKind::Tree => "tree",
            TopologyKind::Grid => "grid",
            TopologyKind::Torus => "torus",
            TopologyKind::Hypercube => "hypercube",
            TopologyKind::Random { .. } => "random",
            TopologyKind::File { .. } => "file",
        }
    }
}

impl fmt::Display for TopologyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopologyKind::Random { degree } => write!(f, "random:{degree}"),
            TopologyKind::File { path } => write!(f, "file:{path}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for TopologyKind {
    type Err = TopologyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (head, arg) = match s.split_once(':') {
            Some((h, a)) => (h, Some(a)),
            None => (s, None),
        };
        Ok(match (head, arg) {
            ("ring", None) => TopologyKind::Ring,
            ("bidir-ring" | "bidirectional-ring", None) => TopologyKind::BidirRing,
            ("complete" | "mesh", None) => TopologyKind::Complete,
            ("line", None) => TopologyKind::Line,
            ("star", None) => TopologyKind::Star,
            ("tree", None) => TopologyKind::Tree,
            ("grid", None) => TopologyKind::Grid,
            ("torus", None) => TopologyKind::Torus,
            ("hypercube", None) => TopologyKind::Hypercube,
            ("random", None) => TopologyKind::Random { degree: 3 },
            ("random", Some(d)) => TopologyKind::Random {
                degree: d
                    .parse()
                    .map_err(|_| TopologyError::Unknown(format!("{s} (random:DEGREE wants a whole number)")))?,
            },
            ("file", Some(p)) if !p.is_empty() => TopologyKind::File { path: p.to_string() },
            _ => return Err(TopologyError::Unknown(s.to_string())),
        })
    }
}

/// Why a topology could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TopologyError {
    /// The name is not a topology.
    #[error("unknown topology '{0}'; expected one of: ring, bidir-ring, complete, line, star, tree, grid, torus, hypercube, random[:DEGREE], file:PATH")]
    Unknown(String),
    /// The node count does not fit the shape.
    #[error("a {kind} cannot have {n} {}: {why}", if *.n == 1 { "node" } else { "nodes" })]
    BadSize {
        /// The topology.
        kind: String,
        /// The node count asked for.
        n: usize,
        /// What would fit.
        why: String,
    },
    /// The edge-list file could not be read or parsed.
    #[error("edge list {path}: {why}")]
    File {
        /// The file.
        path: String,
        /// What went wrong, with the line number.
        why: String,
    },
}

#[derive(Clone, Debug)]
enum Adjacency {
    Complete,
    /// A ring, one way (`[next]`) or both (`[previous, next]`).
    Ring {
        both_ways: bool,
    },
    Csr {
        offsets: Vec<u32>,
        targets: Vec<u32>,
    },
}

/// A built topology: n nodes and, for each, its out-neighbours.
#[derive(Clone, Debug)]
pub struct Topology {
    kind: TopologyKind,
    n: usize,
    adjacency: Adjacency,
}

fn bad(kind: &str, n: usize, why: impl Into<String>) -> TopologyError {
    TopologyError::BadSize { kind: kind.into(), n, why: why.into() }
}

/// Builds the compressed form from per-node lists.
fn csr(lists: Vec<Vec<u32>>) -> Adjacency {
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    let mut targets = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    offsets.push(0);
    for l in lists {
        targets.extend(l);
        offsets.push(targets.len() as u32);
    }
    Adjacency::Csr { offsets, targets }
}

/// Builds the compressed form for an undirected edge set.
fn undirected(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> Adjacency {
    let mut lists = vec![Vec::new(); n];
    for (a, b) in edges {
        lists[a as usize].push(b);
        lists[b as usize].push(a);
    }
    for l in &mut lists {
        l.sort_unstable();
        l.dedup();
    }
    csr(lists)
}

/// An edge list may number its nodes up to this many even when most lie on no edge.
const MAX_GAPPED_NODES: usize = 1 << 20;

impl Topology {
    /// Builds `kind` with `n` nodes. `rng` is used only by random graphs.
    pub fn build(kind: &TopologyKind, n: usize, rng: &mut Rng) -> Result<Topology, TopologyError> {
        let name = kind.name();
        if n == 0 && !matches!(kind, TopologyKind::File { .. }) {
            return Err(bad(name, n, "at least one node is needed"));
        }
        if n > u32::MAX as usize / 2 {
            return Err(bad(name, n, "at most 2^31 nodes"));
        }
        let nn = n as u32;
        let adjacency = match kind {
            TopologyKind::Ring => {
                if n < 2 {
                    return Err(bad(name, n, "a ring needs at least 2 nodes"));
                }
                Adjacency::Ring { both_ways: false }
            }
            TopologyKind::BidirRing => {
                if n < 2 {
                    return Err(bad(name, n, "a ring needs at least 2 nodes"));
                }
                Adjacency::Ring { both_ways: true }
            }
            TopologyKind::Complete => Adjacency::Complete,
            TopologyKind::Line => {
                let lists = (0..nn)
                    .map(|i| {
                        let mut l = Vec::with_capacity(2);
                        if i > 0 {
                            l.push(i - 1);
                        }
                        if i + 1 < nn {
                            l.push(i + 1);
                        }
                        l
                    })
                    .collect();
                csr(lists)
            }
            TopologyKind::Star => undirected(n, (1..nn).map(|i| (0, i))),
            TopologyKind::Tree => undirected(n, (1..nn).map(|i| ((i - 1) / 2, i))),
            TopologyKind::Grid => {
                let w = (n as f64).sqrt().ceil() as u32;
                let mut edges = Vec::new();
                for i in 0..nn {
                    if (i % w) + 1 < w && i + 1 < nn {
                        edges.push((i, i + 1));
                    }
                    if i + w < nn {
                        edges.push((i, i + w));
                    }
                }
                undirected(n, edges)
            }
            TopologyKind::Torus => {
                let w = (3..=((n as f64).sqrt() as usize)).rev().find(|w| n.is_multiple_of(*w) && n / w >= 3);
                let Some(w) = w else {
                    return Err(bad(name, n, "a torus needs n = w×h with w, h ≥ 3 (try 9, 12, 16, 20, 25…)"));
                };
                let (w, h) = (w as u32, nn / w as u32);
                let mut edges = Vec::new();
                for r in 0..h {
                    for c in 0..w {
                        let i = r * w + c;
                        edges.push((i, r * w + (c + 1) % w));
                        edges.push((i, ((r + 1) % h) * w + c));
                    }
                }
                undirected(n, edges)
            }
            TopologyKind::Hypercube => {
                if !n.is_power_of_two() || n < 2 {
                    return Err(bad(name, n, "a hypercube needs a power of two (2, 4, 8, 16…)"));
                }
                let d = n.trailing_zeros();
                undirected(n, (0..nn).flat_map(|i| (0..d).map(move |b| (i, i ^ (1 << b)))).filter(|(a, b)| a < b))
            }
            TopologyKind::Random { degree } => random_connected(n, *degree, rng),
            TopologyKind::File { path } => {
                return Self::from_edge_list_file(path, n).map(|t| Topology { kind: kind.clone(), ..t });
            }
        };
        Ok(Topology { kind: kind.clone(), n, adjacency })
    }

    /// Builds a topology from an edge-list file. `n` = 0 means "as many as the file names".
    /// The file must be a regular file of at most [`crate::user_file::TOPOLOGY`]'s size.
    pub fn from_edge_list_file(path: &str, n: usize) -> Result<Topology, TopologyError> {
        let text =
            crate::user_file::read_text(std::path::Path::new(path), crate::user_file::TOPOLOGY).map_err(|e| {
                let why = match e.problem {
                    crate::user_file::Problem::Io(io) => {
                        format!("{io} (give an existing file: one edge `a b` or `a -> b` per line)")
                    }
                    other => other.to_string(),
                };
                TopologyError::File { path: path.into(), why }
            })?;
        Self::from_edge_list(&text, n).map_err(|why| TopologyError::File { path: path.into(), why })
    }

    /// Parses an edge list: `a b` (both ways) or `a -> b` (one way) per line, `#` comments.
    pub fn from_edge_list(text: &str, n: usize) -> Result<Topology, String> {
        let mut edges = Vec::new();
        let mut max = 0u32;
        for (lineno, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (directed, parts): (bool, Vec<&str>) = if line.contains("->") {
                (true, line.split("->").map(str::trim).collect())
            } else {
                (false, line.split_whitespace().collect())
            };
            let parse =
                |s: &str| s.parse::<u32>().map_err(|_| format!("line {}: '{s}' is not a node number", lineno + 1));
            if parts.len() != 2 {
                return Err(format!("line {}: expected `a b` or `a -> b`, found '{line}'", lineno + 1));
            }
            let (a, b) = (parse(parts[0])?, parse(parts[1])?);
            if a == b {
                return Err(format!("line {}: a self-loop {a} -> {a} is not a channel", lineno + 1));
            }
            max = max.max(a).max(b);
            edges.push((a, b, directed));
        }
        if edges.is_empty() {
            return Err("no edges found".into());
        }
        let count = max as usize + 1;
        if count > u32::MAX as usize / 2 {
            return Err(format!("node {max} is out of range: at most 2^31 nodes"));
        }
        // Nodes above twice the edge count lie on no edge; a few such gaps are harmless,
        // but a file of one edge `0 2000000000` must not make two billion nodes.
        let most = (2 * edges.len()).max(MAX_GAPPED_NODES);
        if count > most {
            let edges = match edges.len() {
                1 => "1 edge names".to_string(),
                e => format!("{e} edges name"),
            };
            return Err(format!(
                "node {max} is out of range: {edges} at most {most} nodes, and the others would lie on no edge; number the nodes from 0 without gaps"
            ));
        }
        if n != 0 && n != count {
            return Err(format!(
                "the file names {count} nodes (0..{max}) but {n} were asked for; drop --nodes or fix the file"
            ));
        }
        let mut lists = vec![Vec::new(); count];
        for (a, b, directed) in edges {
            lists[a as usize].push(b);
            if !directed {
                lists[b as usize].push(a);
            }
        }
        for l in &mut lists {
            l.sort_unstable();
            l.dedup();
        }
        Ok(Topology { kind: TopologyKind::File { path: String::new() }, n: count, adjacency: csr(lists) })
    }

    /// The kind this topology was built from.
    pub fn kind(&self) -> &TopologyKind {
        &self.kind
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no nodes (never true for a built topology).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Where `node`'s row of stored neighbours is recorded (`None` for the rings and the
    /// complete graph, which store none): what an engine prefetches well before it calls
    /// [`Topology::neighbours`], whose lookup reads it first.
    #[inline]
    pub fn row_entry(&self, node: NodeId) -> Option<&u32> {
        match &self.adjacency {
            Adjacency::Complete | Adjacency::Ring { .. } => None,
            Adjacency::Csr { offsets, .. } => offsets.get(node.index()),
        }
    }

    /// The out-neighbours of `node`.
    #[inline]
    pub fn neighbours(&self, node: NodeId) -> Neighbours<'_> {
        match &self.adjacency {
            Adjacency::Complete => Neighbours::AllBut { me: node.0, n: self.n as u32 },
            Adjacency::Ring { both_ways } => Neighbours::Around { me: node.0, n: self.n as u32, both_ways: *both_ways },
            Adjacency::Csr { offsets, targets } => {
                let i = node.index();
                Neighbours::Slice(&targets[offsets[i] as usize..offsets[i + 1] as usize])
            }
        }
    }

    /// The number of directed channels.
    pub fn channel_count(&self) -> usize {
        match &self.adjacency {
            Adjacency::Complete => self.n * (self.n - 1),
            Adjacency::Ring { both_ways } => self.n * (1 + usize::from(*both_ways)),
            Adjacency::Csr { targets, .. } => targets.len(),
        }
    }

    /// A dense index for the channel `from → to`, in `0..channel_count()`, if it exists.
    pub fn channel_index(&self, from: NodeId, to: NodeId) -> Option<usize> {
        match &self.adjacency {
            Adjacency::Complete => {
                let p = self.neighbours(from).position(to)?;
                Some(from.index() * (self.n - 1) + p)
            }
            Adjacency::Ring { both_ways } => {
                let p = self.neighbours(from).position(to)?;
                Some(from.index() * (1 + usize::from(*both_ways)) + p)
            }
            Adjacency::Csr { offsets, .. } => {
                let p = self.neighbours(from).position(to)?;
                Some(offsets[from.index()] as usize + p)
            }
        }
    }

    /// Whether every node can reach every other (following channel directions).
    pub fn is_strongly_connected(&self) -> bool {
        let reach = |rev: bool| {
            let mut preds: Vec<Vec<u32>> = Vec::new();
            if rev {
                preds = vec![Vec::new(); self.n];
                for a in 0..self.n {
                    for b in self.neighbours(NodeId(a as u32)) {
                        preds[b.index()].push(a as u32);
                    }
                }
            }
            let mut seen = vec![false; self.n];
            let mut stack = vec![0usize];
            seen[0] = true;
            while let Some(a) = stack.pop() {
                let next: Vec<usize> = if rev {
                    preds[a].iter().map(|&b| b as usize).collect()
                } else {
                    self.neighbours(NodeId(a as u32)).into_iter().map(NodeId::index).collect()
                };
                for b in next {
                    if !seen[b] {
                        seen[b] = true;
                        stack.push(b);
                    }
                }
            }
            seen.iter().all(|&s| s)
        };
        reach(false) && reach(true)
    }

    /// Every directed channel, in order.
    pub fn channels(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        (0..self.n as u32).flat_map(move |a| self.neighbours(NodeId(a)).into_iter().map(move |b| (NodeId(a), b)))
    }
}

/// A random spanning tree (each node joins a random earlier one, in a shuffled order),
/// plus random extra edges until the average degree reaches `degree`.
fn random_connected(n: usize, degree: u32, rng: &mut Rng) -> Adjacency {
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.shuffle(rng);
    let mut edges = std::collections::BTreeSet::new();
    for k in 1..n {
        let parent = order[rng.gen_range(0..k)];
        let child = order[k];
        edges.insert((parent.min(child), parent.max(child)));
    }
    let max_edges = n * (n - 1) / 2;
    let wanted = ((n * degree as usize) / 2).min(max_edges);
    let mut attempts = 0usize;
    while edges.len() < wanted && attempts < wanted * 20 {
        attempts += 1;
        let a = rng.gen_range(0..n as u32);
        let b = rng.gen_range(0..n as u32);
        if a != b {
            edges.insert((a.min(b), a.max(b)));
        }
    }
    undirected(n, edges)
}

//! `--cluster FILE`: one TOML file that names every node of a cluster, so that the
//! same file can be copied to every machine and each node started with only its
//! position (or its own address).
//!
//! ```toml
//! # cluster.toml
//! nodes = ["10.0.0.1:5000", "10.0.0.2:5000", "10.0.0.3:5000"]   # by position
//! topology = "ring"        # optional, as --topology
//! transport = "udp"        # optional, as --transport
//! ids = "asc"              # optional, as --ids
//! seed = 7                 # optional, as --seed
//! run_id = "lab-2024-05"   # optional, as --run-id
//! [params]                 # optional, as --param K=V
//! initiators = "0"
//! ```
//!
//! A flag given on the command line wins over the file.

use crate::error::usage;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A cluster file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Every node's address, by position.
    pub nodes: Vec<String>,
    /// The topology.
    pub topology: Option<String>,
    /// `udp` or `tcp`.
    pub transport: Option<String>,
    /// The identity assignment.
    pub ids: Option<String>,
    /// The seed.
    pub seed: Option<u64>,
    /// The run's identity (checked when the node starts).
    pub run_id: Option<String>,
    /// Algorithm parameters.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
}

impl ClusterFile {
    /// Reads and checks a cluster file; every error is one line naming the file.
    pub fn load(path: &Path) -> anyhow::Result<ClusterFile> {
        use reparti_core::user_file::{read_text, Problem, CLUSTER};
        // Bounded: `--cluster /dev/zero` or a huge file is refused, not read until memory runs out.
        let text = read_text(path, CLUSTER).map_err(|e| match e.problem {
            Problem::Io(io) => usage(format!("--cluster {}: cannot read it ({io}); check the path", path.display())),
            other => usage(format!("--cluster {}: {other}", path.display())),
        })?;
        Self::parse(&text).map_err(|e| usage(format!("--cluster {}: {e}", path.display())))
    }

    /// Parses the text of a cluster file.
    pub fn parse(text: &str) -> Result<ClusterFile, String> {
        let file: ClusterFile = toml::from_str(text).map_err(|e| {
            // toml's messages may span lines; an error here is one line.
            let msg = e.message().trim().replace('\n', ": ");
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(l) => format!("line {l}: {msg} (see docs/PROTOCOL.md, cluster files)"),
                None => format!("{msg} (see docs/PROTOCOL.md, cluster files)"),
            }
        })?;
        if file.nodes.is_empty() {
            return Err("`nodes` is empty: list every node's HOST:PORT, by position".into());
        }
        let mut seen = BTreeMap::new();
        for (i, addr) in file.nodes.iter().enumerate() {
            if let Some(j) = seen.insert(addr.as_str(), i) {
                return Err(format!("nodes {j} and {i} have the same address {addr}: give each node its own"));
            }
        }
        Ok(file)
    }

    /// The parameters as `--param` pairs.
    pub fn param_pairs(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let f = ClusterFile::parse(
            "nodes = [\"10.0.0.1:5000\", \"10.0.0.2:5000\"]\ntopology = \"ring\"\nseed = 7\nrun_id = \"r1\"\n[params]\nlaps = 3\nholder = \"1\"\n",
        )
        .expect("valid");
        assert_eq!(f.nodes.len(), 2);
        assert_eq!(f.seed, Some(7));
        assert_eq!(f.run_id.as_deref(), Some("r1"));
        assert_eq!(f.param_pairs(), vec![("holder".into(), "1".into()), ("laps".into(), "3".into())]);
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let e = ClusterFile::parse("nodes = [\"a:1\"]\nbogus = 3\n").expect_err("unknown key");
        assert!(e.contains("line 2") && e.contains("bogus"), "{e}");
        let e = ClusterFile::parse("nodes = []\n").expect_err("empty");
        assert!(e.contains("empty"), "{e}");
        let e = ClusterFile::parse("nodes = [\"a:1\", \"a:1\"]\n").expect_err("duplicate");
        assert!(e.contains("same address"), "{e}");
        let e = ClusterFile::parse("nodes = \"a:1\"\n").expect_err("not a list");
        assert!(e.contains("line 1"), "{e}");
    }
}

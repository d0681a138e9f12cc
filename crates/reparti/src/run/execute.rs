//! One cluster run, start to end: the flags checked ([`Job`]), one `reparti node`
//! process per node started and supervised ([`Cluster`]), and what they did gathered.

use super::args::RunArgs;
use super::cluster::Cluster;
use super::gather::{self, Job, Outcome};
use crate::error::usage;
use std::time::{Duration, Instant};

/// Starts the cluster, lets it run to its end, and merges and replays what it did.
pub fn execute(args: &RunArgs) -> anyhow::Result<Outcome> {
    // Every flag is checked before the first process starts.
    let job = Job::from_args(args)?;
    let n = job.n;
    let scratch;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| usage(format!("--keep {}: cannot create the folder: {e}", dir.display())))?;
            dir.clone()
        }
        None => {
            scratch = tempfile::tempdir().map_err(|e| anyhow::anyhow!("cannot create a scratch folder: {e}"))?;
            scratch.path().to_path_buf()
        }
    };
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout);
    let mut cluster = Cluster::spawn(n, &dir, |i| job.node_args(i, &dir))?;
    let addrs = cluster.wait_ready(deadline)?;
    cluster.start(&addrs)?;
    let finished = cluster.wait_all(deadline, Duration::from_millis(args.idle_ms))?;
    gather::gather(&job, &dir, &addrs, finished)
}

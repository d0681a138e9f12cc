//! One cluster run, start to end: the flags checked ([`Job`], which also asks whether the
//! machine can hold the cluster), one `reparti node` process per node started and
//! supervised ([`Cluster`]), and what they did gathered.
//!
//! Every way out that can run code removes the scratch folder: an error, a timeout, a
//! node that failed, and Ctrl-C or SIGTERM (caught, so that the nodes are stopped and the
//! folder is removed by the drops below rather than left behind by a killed process).

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
    let interrupt = crate::interrupt::catch(
        "interrupted: stopping the nodes (press Ctrl-C again to quit at once)",
        "Ctrl-C will stop the run without cleaning up its scratch folder",
    );
    let scratch;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| usage(format!("--keep {}: cannot create the folder: {e}", dir.display())))?;
            dir.clone()
        }
        None => {
            scratch = tempfile::Builder::new()
                .prefix("reparti-run-")
                .tempdir()
                .map_err(|e| anyhow::anyhow!("cannot create a scratch folder: {e}"))?;
            scratch.path().to_path_buf()
        }
    };
    let timeout = Duration::from_secs_f64(args.timeout);
    let deadline = Instant::now() + timeout;
    let mut cluster = Cluster::spawn(n, &dir, interrupt, |i| job.node_args(i, &dir))?;
    let addrs = cluster.wait_ready(deadline, timeout)?;
    cluster.start(&addrs)?;
    let finished = cluster.wait_all(deadline, Duration::from_millis(args.idle_ms), timeout)?;
    gather::gather(&job, &dir, &addrs, finished)
}

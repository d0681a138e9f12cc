//! Whether this machine can hold a cluster of `n` node processes, asked before the
//! first one starts.
//!
//! Without this, `reparti run --nodes 100000000` started processes one after another
//! until it was killed or the machine gave way. Three limits bind, each read from the
//! kernel: memory (a node process starts at a few MiB of its own), the number of tasks
//! (each node runs a few threads, and the supervisor one reader thread per node) and the
//! supervisor's open files (two pipes per node). The figures are deliberately rough and
//! on the safe side: the point is to refuse in one line what cannot work, not to fill
//! the machine to the last byte.

use crate::error::usage;

/// Memory a node process takes of its own once started: measured at about 7 MiB
/// (private dirty pages of a debug or release build, `/proc/PID/smaps_rollup`), plus
/// room for its trace buffer and sockets.
pub const BYTES_PER_NODE: u64 = 8 << 20;

/// Tasks (threads) per node: the node's own (about 4, measured) and the supervisor's
/// reader thread for its stdout.
const TASKS_PER_NODE: u64 = 5;

/// Open files the supervisor keeps per node: the node's stdin and stdout pipes.
const FILES_PER_NODE: u64 = 2;

/// Files and tasks the supervisor needs besides its nodes.
const HEADROOM: u64 = 64;

/// Refuses, in one line naming the limit and the largest cluster that fits, a cluster
/// this machine cannot hold. Limits that cannot be read are not judged.
pub fn check_cluster_fits(n: usize) -> anyhow::Result<()> {
    let n64 = n as u64;
    if let Some(available) = reparti_check::memory::available_bytes() {
        let fit = available / BYTES_PER_NODE;
        if n64 > fit {
            return Err(usage(format!(
                "{n} node processes would need about {} of memory (about {} each), but {} is available: \
                 use --nodes {fit} or fewer, or `reparti sim` for large instances",
                reparti_check::memory::human_bytes(n64.saturating_mul(BYTES_PER_NODE)),
                reparti_check::memory::human_bytes(BYTES_PER_NODE),
                reparti_check::memory::human_bytes(available)
            )));
        }
    }
    if let Some(left) = tasks_left() {
        let fit = left.saturating_sub(HEADROOM) / TASKS_PER_NODE;
        if n64 > fit {
            return Err(usage(format!(
                "{n} node processes would need about {} threads, but this user may start only {left} more \
                 (the process limit, `ulimit -u`, and the kernel's threads-max): use --nodes {fit} or fewer",
                n64.saturating_mul(TASKS_PER_NODE)
            )));
        }
    }
    if let Some(files) = soft_limit("Max open files") {
        let fit = files.saturating_sub(HEADROOM) / FILES_PER_NODE;
        if n64 > fit {
            return Err(usage(format!(
                "{n} node processes would need {} open files in the supervisor, but its limit is {files} \
                 (`ulimit -n`): raise it, or use --nodes {fit} or fewer",
                n64.saturating_mul(FILES_PER_NODE) + HEADROOM
            )));
        }
    }
    Ok(())
}

/// A soft limit of this process from `/proc/self/limits`, `None` when unlimited or unreadable.
fn soft_limit(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_soft_limit(&text, name)
}

fn parse_soft_limit(limits: &str, name: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// How many more tasks may start: the smaller of the user's process limit and the
/// kernel's threads-max, less every task running now (all users': `/proc/loadavg`
/// counts them, an upper bound on this user's).
fn tasks_left() -> Option<u64> {
    let running = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().nth(3)?.split('/').nth(1)?.parse::<u64>().ok())?;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/threads-max").ok().and_then(|t| t.trim().parse().ok());
    let limit = match (soft_limit("Max processes"), kernel) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(limit.saturating_sub(running))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "Limit                     Soft Limit           Hard Limit           Units     \n\
        Max processes             96362                96362                processes \n\
        Max open files            1024                 524288               files     \n\
        Max locked memory         unlimited            unlimited            bytes     \n";

    #[test]
    fn soft_limits_are_read_and_unlimited_is_none() {
        assert_eq!(parse_soft_limit(LIMITS, "Max processes"), Some(96362));
        assert_eq!(parse_soft_limit(LIMITS, "Max open files"), Some(1024));
        assert_eq!(parse_soft_limit(LIMITS, "Max locked memory"), None);
        assert_eq!(parse_soft_limit(LIMITS, "Max nothing"), None);
    }

    #[test]
    fn a_small_cluster_fits_and_a_huge_one_is_refused_in_one_line() {
        assert!(check_cluster_fits(4).is_ok());
        let e = check_cluster_fits(100_000_000).expect_err("refused").to_string();
        assert!(e.contains("100000000 node processes") && e.contains("--nodes"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

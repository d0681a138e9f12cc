//! [`TcpLimits`]: what a TCP listener lets strangers' connections hold, with defaults
//! sized to the process's file descriptors.

use std::time::Duration;

/// What a TCP listener lets connections hold: see the [transport module](super)'s TCP
/// details, and docs/PROTOCOL.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpLimits {
    /// Incoming connections open at once.
    pub max_connections: usize,
    /// A connection silent this long between two frames is closed.
    pub idle_timeout: Duration,
    /// A frame must arrive whole within this long of its first byte.
    pub frame_timeout: Duration,
    /// Bytes held at once, over all connections, for frames still arriving.
    pub max_buffered: usize,
}

impl Default for TcpLimits {
    /// 256 connections (or a quarter of the process's file descriptors, if fewer: the
    /// rest stay for its own connections and files), 60 s of silence, 10 s per frame,
    /// 8 MiB of incomplete frames (64 frames of the largest size at once).
    fn default() -> Self {
        let by_descriptors = descriptor_limit().map_or(usize::MAX, |n| (n / 4).max(1));
        TcpLimits {
            max_connections: by_descriptors.min(256),
            idle_timeout: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(10),
            max_buffered: 8 * 1024 * 1024,
        }
    }
}

/// The process's soft limit on open files, where the system says it (Linux's
/// `/proc/self/limits`); `None` elsewhere.
fn descriptor_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_descriptors_to_spare() {
        let limits = TcpLimits::default();
        assert!((1..=256).contains(&limits.max_connections));
        if let Some(n) = descriptor_limit() {
            assert!(limits.max_connections <= (n / 4).max(1), "{n} descriptors");
        }
    }
}

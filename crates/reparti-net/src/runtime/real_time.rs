//! Where a node's real time starts: the wall clock read against the monotonic one.
//!
//! Every node of a run measures real time from one epoch, so that the truth the
//! properties judge physical clocks by (a server's reading against a client's, at one
//! instant) is the same in every process. A node reads the wall clock once, at start,
//! and counts on from there with the monotonic clock. Whatever delays the wall-clock
//! read against the monotonic one shifts that node's real time against the others' by
//! as much: in a process just started, the first read may fault in a page or be
//! preempted, and on a loaded machine one read in some 10^4 takes over 20 µs — enough
//! to put a Cristian server's reply before the request it answers and break a bound
//! that holds. So the read is bracketed by two monotonic ones and repeated until the
//! bracket is tight, as Cristian himself repeats an exchange until its round trip is
//! short.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A bracket this tight is taken at once (a warm read takes some 50 ns).
const TIGHT: Duration = Duration::from_micros(1);
/// Tries before the tightest bracket seen is taken.
const TRIES: usize = 32;

/// One reading of both clocks.
#[derive(Clone, Copy, Debug)]
pub(super) struct Paired {
    /// The monotonic instant the wall-clock reading belongs to (the bracket's midpoint).
    pub(super) at: Instant,
    /// The wall clock then, in ms since the Unix epoch.
    pub(super) unix_ms: f64,
    /// The bracket's width: how far apart the two readings may be.
    pub(super) uncertainty: Duration,
}

/// Reads the wall clock between two monotonic readings, keeping the tightest of a few
/// tries.
pub(super) fn paired_clocks() -> Paired {
    let mut best: Option<Paired> = None;
    for _ in 0..TRIES {
        let before = Instant::now();
        let wall = SystemTime::now();
        let after = Instant::now();
        let width = after - before;
        // Before 1970 is a misset clock; 0 keeps the run going, as it did before.
        let unix_ms = wall.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3);
        let paired = Paired { at: before + width / 2, unix_ms, uncertainty: width };
        if best.is_none_or(|b| width < b.uncertainty) {
            best = Some(paired);
        }
        if width <= TIGHT {
            break;
        }
    }
    // TRIES > 0, so `best` is set; the fallback only keeps the types honest.
    best.unwrap_or_else(|| Paired { at: Instant::now(), unix_ms: 0.0, uncertainty: Duration::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wall_clock_reading_sits_inside_its_bracket() {
        let p = paired_clocks();
        let now = Instant::now();
        let wall_now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs_f64() * 1e3;
        // Wall time elapsed since the pairing matches monotonic time elapsed, to within
        // the bracket plus the second pair's own gap (a generous 5 ms on a loaded machine).
        let monotonic = (now - p.at).as_secs_f64() * 1e3;
        let wall = wall_now - p.unix_ms;
        assert!((wall - monotonic).abs() < 5.0 + p.uncertainty.as_secs_f64() * 1e3, "{wall} vs {monotonic}");
    }
}

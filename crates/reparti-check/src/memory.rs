//! The memory budget: how many bytes the visited set and the frontier may take before
//! the search stops with a partial report instead of exhausting the machine.
//!
//! The checker counts what it stores itself (the fingerprint table, including the new
//! table while it grows, and the packed frontier or the DFS stack); it does not hook
//! the allocator. The default budget is a share of the memory the machine has
//! available when the check starts, so that a check that cannot fit stops cleanly and
//! says so, rather than being killed by the kernel or swapping for hours.

use std::fmt;

// Reading the machine's memory and sizes lives in reparti-core, shared with the
// simulator's refusals; re-exported so that `reparti_check::memory::…` keeps working.
pub use reparti_core::machine_memory::{available_bytes, human_bytes, parse_size};

/// The share of the available memory the default budget takes. The rest is for the
/// states in flight, the counterexample search, the liveness graph's bookkeeping
/// and everything else running on the machine.
const SHARE: f64 = 0.5;

/// The budget when the available memory cannot be read (not Linux, no `/proc`).
const FALLBACK: u64 = 2 << 30;

/// How many bytes the search may use, and where that number comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// The budget in bytes.
    pub bytes: u64,
    /// Where it comes from, for the report: `"--max-memory"`, or the default's reason.
    pub source: String,
}

impl MemoryBudget {
    /// The explicit budget if there is one, else the machine's default.
    pub fn resolve(explicit: Option<u64>) -> Self {
        match explicit {
            Some(bytes) => MemoryBudget { bytes, source: "set with --max-memory".into() },
            None => Self::default_for_machine(),
        }
    }

    /// Half of the memory available now, or a fixed 2 GiB where that cannot be read.
    pub fn default_for_machine() -> Self {
        match available_bytes() {
            Some(avail) => MemoryBudget {
                bytes: (avail as f64 * SHARE) as u64,
                source: format!("half of the {} available; change it with --max-memory", human_bytes(avail)),
            },
            None => MemoryBudget {
                bytes: FALLBACK,
                source: "a fixed default: the available memory could not be read; change it with --max-memory".into(),
            },
        }
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", human_bytes(self.bytes), self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("800K"), Ok(800 << 10));
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        for bad in ["", "M", "12Q", "-3G", "1..2M", "0", "0.1"] {
            let err = parse_size(bad).expect_err(bad);
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn sizes_print_as_people_read_them() {
        assert_eq!(human_bytes(800), "800 B");
        assert_eq!(human_bytes(512 << 20), "512.0 MiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn the_default_budget_is_a_share_of_what_is_available() {
        let b = MemoryBudget::default_for_machine();
        assert!(b.bytes > 0);
        if let Some(avail) = available_bytes() {
            assert!(b.bytes <= avail, "{b}");
        }
        assert_eq!(MemoryBudget::resolve(Some(1 << 20)).bytes, 1 << 20);
    }
}
